package pbitest

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	mi "github.com/AzureAD/microsoft-authentication-library-for-go/apps/managedidentity"
)

// miGet calls the managed identity endpoint as App Service's clients do.
func miGet(t *testing.T, s *Server, header string, query url.Values) response {
	t.Helper()
	req, err := http.NewRequest("GET", s.ManagedIdentityEndpoint()+"?"+query.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if header != "" {
		req.Header.Set("X-IDENTITY-HEADER", header)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: body}
}

func TestManagedIdentityEndpoint(t *testing.T) {
	s := newTestServer(t, Options{})
	user := s.AddUserAssignedIdentity("powerbi-mcp")
	system := s.SystemAssignedIdentity()
	q := func(kv ...string) url.Values {
		v := url.Values{"api-version": {"2019-08-01"}, "resource": {"https://analysis.windows.net/powerbi/api"}}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}

	r := miGet(t, s, s.ManagedIdentityHeader(), q())
	wantStatus(t, r, http.StatusOK)
	if !strings.HasPrefix(string(r.body), `{"access_token":"`) ||
		!strings.HasSuffix(string(r.body), `","resource":"https://analysis.windows.net/powerbi/api","token_type":"Bearer","client_id":"`+system.ClientID+`"}`) {
		t.Errorf("answer fields: %s", r.body)
	}
	body := r.json(t)
	exp, err := strconv.ParseInt(body["expires_on"].(string), 10, 64)
	if err != nil || time.Until(time.Unix(exp, 0)) < 50*time.Minute {
		t.Errorf("expires_on %v, want Unix seconds an hour ahead as a string", body["expires_on"])
	}
	tok := body["access_token"].(string)
	wantStatus(t, do(t, s, "GET", apiPrefix+"/groups", tok, nil), http.StatusOK)
	if c := tokenClaims(t, tok); c["appid"] != system.ClientID || c["oid"] != system.ObjectID || c["idtyp"] != "app" {
		t.Errorf("system-assigned token claims %v", c)
	}

	for _, sel := range [][2]string{{"client_id", user.ClientID}, {"object_id", user.ObjectID}, {"principal_id", user.ObjectID}, {"mi_res_id", user.ResourceID}} {
		r := miGet(t, s, s.ManagedIdentityHeader(), q(sel[0], sel[1]))
		wantStatus(t, r, http.StatusOK)
		if c := tokenClaims(t, r.json(t)["access_token"].(string)); c["appid"] != user.ClientID || c["oid"] != user.ObjectID || c["xms_mirid"] != user.ResourceID {
			t.Errorf("%s: token claims %v", sel[0], c)
		}
	}

	for _, c := range []struct {
		name   string
		header string
		query  url.Values
		status int
		msg    string
	}{
		{"no header", "", q(), 401, "Unauthorized"},
		{"wrong header", "guess", q(), 401, "Unauthorized"},
		{"unknown identity", s.ManagedIdentityHeader(), q("client_id", newGUID()), 400, "Unable to load the proper Managed Identity."},
		{"old api-version", s.ManagedIdentityHeader(), func() url.Values { v := q(); v.Set("api-version", "2017-09-01"); return v }(), 400, "The api-version"},
		{"other resource", s.ManagedIdentityHeader(), func() url.Values { v := q(); v.Set("resource", "https://management.azure.com"); return v }(), 400, "AADSTS500011"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := miGet(t, s, c.header, c.query)
			wantStatus(t, r, c.status)
			e := r.json(t)
			if e["statusCode"] != float64(c.status) || !strings.HasPrefix(e["message"].(string), c.msg) {
				t.Errorf("answer %s", r.body)
			}
		})
	}
	if n := s.ManagedIdentityRequests(); n != 10 {
		t.Errorf("ManagedIdentityRequests = %d, want 10", n)
	}
	for _, req := range s.Requests() {
		if req.Route == managedIdentityRoute && (req.ResponseBody != nil || req.Body != nil) {
			t.Errorf("managed identity exchange recorded with a body: %+v", req)
		}
	}
}

// TestMSALManagedIdentity: MSAL's App Service source talks to the endpoint.
// MSAL reads IDENTITY_ENDPOINT and IDENTITY_HEADER from the process
// environment, so this test cannot run in parallel.
func TestMSALManagedIdentity(t *testing.T) {
	s := newTestServer(t, Options{})
	t.Setenv("IDENTITY_ENDPOINT", s.ManagedIdentityEndpoint())
	t.Setenv("IDENTITY_HEADER", s.ManagedIdentityHeader())
	user := s.AddUserAssignedIdentity("powerbi-mcp")
	c, err := mi.New(mi.UserAssignedClientID(user.ClientID), mi.WithHTTPClient(s.Client()))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		res, err := c.AcquireToken(context.Background(), "https://analysis.windows.net/powerbi/api/.default")
		if err != nil {
			t.Fatalf("AcquireToken: %v", err)
		}
		wantStatus(t, do(t, s, "GET", apiPrefix+"/groups", res.AccessToken, nil), http.StatusOK)
	}
	if n := s.ManagedIdentityRequests(); n != 1 {
		t.Errorf("endpoint saw %d requests for 2 acquisitions, want 1 (MSAL caches)", n)
	}
}
