package pbitest

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestExpiredClientSecret(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SetClientSecretExpired(true)

	r := postForm(t, s, s.TenantID(), clientCredentials(s))
	wantStatus(t, r, http.StatusUnauthorized)
	e := r.json(t)
	if e["error"] != "invalid_client" ||
		!strings.HasPrefix(e["error_description"].(string), "AADSTS7000222: The provided client secret keys for app '"+s.ClientID()+"' are expired.") {
		t.Fatalf("expired secret answered %s", r.body)
	}
	// A wrong secret is still a wrong secret: Entra checks the value first.
	form := clientCredentials(s)
	form.Set("client_secret", "not-the-secret")
	r = postForm(t, s, s.TenantID(), form)
	if e := r.json(t); !strings.HasPrefix(e["error_description"].(string), "AADSTS7000215:") {
		t.Fatalf("wrong secret answered %s", r.body)
	}

	s.SetClientSecretExpired(false)
	wantStatus(t, postForm(t, s, s.TenantID(), clientCredentials(s)), http.StatusOK)
}

func TestServicePrincipalsNotAllowed(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	s.SetServicePrincipalsAllowed(false)

	r := api(t, s, "GET", "/groups", nil)
	wantStatus(t, r, http.StatusUnauthorized)
	if code := errorCode(t, r); code != "PowerBINotAuthorizedException" {
		t.Fatalf("code %q: %s", code, r.body)
	}
	if !strings.Contains(string(r.body), `"pbi.error":{"code":"PowerBINotAuthorizedException"`) {
		t.Fatalf("not the pbi.error shape: %s", r.body)
	}
	// The setting is about service principals: a user is still served.
	wantStatus(t, do(t, s, "GET", apiPrefix+"/groups", s.IssueUserToken("", time.Hour), nil), http.StatusOK)

	s.SetServicePrincipalsAllowed(true)
	wantStatus(t, api(t, s, "GET", "/groups", nil), http.StatusOK)
}

func TestExecuteQueriesAPIDisabled(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	query := map[string]any{"queries": []map[string]string{{"query": `EVALUATE ROW("x", 1)`}}}
	path := "/groups/" + DemoSalesWorkspaceID + "/datasets/" + DemoSalesDatasetID + "/executeQueries"
	wantStatus(t, api(t, s, "POST", path, query), http.StatusOK)

	s.SetExecuteQueriesAPI(false)
	for _, token := range []string{s.IssueToken(time.Hour), s.IssueUserToken("", time.Hour)} {
		r := do(t, s, "POST", apiPrefix+path, token, query)
		wantStatus(t, r, http.StatusUnauthorized)
		if code := errorCode(t, r); code != "PowerBINotAuthorizedException" {
			t.Fatalf("code %q: %s", code, r.body)
		}
	}
	// Other operations are unaffected.
	wantStatus(t, api(t, s, "GET", "/groups", nil), http.StatusOK)
}
