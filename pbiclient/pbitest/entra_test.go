package pbitest

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func clientCredentials(s *Server) url.Values {
	return url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {s.ClientID()},
		"client_secret": {s.ClientSecret()},
		// What MSAL Go sends: the OIDC scopes appended to the resource's.
		"scope": {"https://analysis.windows.net/powerbi/api/.default openid offline_access profile"},
	}
}

func TestDiscoveryDocument(t *testing.T) {
	s := newTestServer(t, Options{})
	r := do(t, s, "GET", "/"+s.TenantID()+"/v2.0/.well-known/openid-configuration", "", nil)
	wantStatus(t, r, http.StatusOK)
	doc := r.json(t)
	authority := s.AuthorityHost() + "/" + s.TenantID()
	for key, want := range map[string]string{
		"issuer":                        authority + "/v2.0",
		"token_endpoint":                authority + "/oauth2/v2.0/token",
		"authorization_endpoint":        authority + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint": authority + "/oauth2/v2.0/devicecode",
	} {
		if doc[key] != want {
			t.Errorf("%s = %v, want %s", key, doc[key], want)
		}
	}
	if !strings.HasPrefix(string(r.body), `{"token_endpoint":`) {
		t.Errorf("document fields not in Entra's order: %.40s", r.body)
	}

	r = do(t, s, "GET", "/no-such-tenant/v2.0/.well-known/openid-configuration", "", nil)
	wantStatus(t, r, http.StatusBadRequest)
	e := r.json(t)
	if e["error"] != "invalid_tenant" || !strings.HasPrefix(e["error_description"].(string), "AADSTS90002: Tenant 'no-such-tenant' not found.") {
		t.Errorf("unknown tenant answered %s", r.body)
	}
}

func TestClientCredentialsSuccess(t *testing.T) {
	s := newTestServer(t, Options{TokenLifetime: 90 * time.Minute})
	r := postForm(t, s, s.TenantID(), clientCredentials(s))
	wantStatus(t, r, http.StatusOK)
	if !strings.HasPrefix(string(r.body), `{"token_type":"Bearer","expires_in":5400,"ext_expires_in":5400,"access_token":"`) {
		t.Fatalf("token response %s", r.body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(r.body, &tok); err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok.AccessToken, ".")
	if len(parts) != 3 {
		t.Fatalf("access token is not a JWT: %q", tok.AccessToken)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]any{
		"aud":   "https://analysis.windows.net/powerbi/api",
		"iss":   "https://sts.windows.net/" + s.TenantID() + "/",
		"tid":   s.TenantID(),
		"appid": s.ClientID(),
		"idtyp": "app",
		"ver":   "1.0",
	} {
		if claims[key] != want {
			t.Errorf("claim %s = %v, want %v", key, claims[key], want)
		}
	}
	exp, iat := claims["exp"].(float64), claims["iat"].(float64)
	if exp <= iat || claims["oid"] == "" || claims["nbf"] == nil {
		t.Errorf("bad time or identity claims: %v", claims)
	}
	// The token works against the API.
	wantStatus(t, do(t, s, "GET", apiPrefix+"/groups", tok.AccessToken, nil), http.StatusOK)

	// A secret in HTTP Basic authentication is accepted too.
	form := clientCredentials(s)
	form.Del("client_id")
	form.Del("client_secret")
	req, _ := http.NewRequest("POST", s.URL()+"/"+s.TenantID()+"/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(s.ClientID()), url.QueryEscape(s.ClientSecret()))
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("basic auth: status %d", resp.StatusCode)
	}
	if got := s.TokenRequests(); got != 2 {
		t.Errorf("TokenRequests = %d, want 2", got)
	}
}

func TestTokenEndpointErrors(t *testing.T) {
	s := newTestServer(t, Options{})
	tests := []struct {
		name    string
		tenant  string
		edit    func(url.Values)
		status  int
		code    string
		aadsts  float64
		message string
	}{
		{"wrong secret", "", func(f url.Values) { f.Set("client_secret", "wrong") }, 401, "invalid_client", 7000215,
			"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '" + s.ClientID() + "'."},
		{"unknown client", "", func(f url.Values) { f.Set("client_id", "00000000-1111-2222-3333-444444444444") }, 400, "unauthorized_client", 700016,
			"AADSTS700016: Application with identifier '00000000-1111-2222-3333-444444444444' was not found in the directory"},
		{"unknown tenant", "contoso.example", nil, 400, "invalid_request", 90002,
			"AADSTS90002: Tenant 'contoso.example' not found."},
		{"missing scope", "", func(f url.Values) { f.Del("scope") }, 400, "invalid_request", 900144,
			"AADSTS900144: The request body must contain the following parameter: 'scope'."},
		{"missing grant", "", func(f url.Values) { f.Del("grant_type") }, 400, "invalid_request", 900144,
			"AADSTS900144: The request body must contain the following parameter: 'grant_type'."},
		{"missing secret", "", func(f url.Values) { f.Del("client_secret") }, 400, "invalid_client", 7000218,
			"AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'."},
		{"unsupported grant", "", func(f url.Values) { f.Set("grant_type", "magic") }, 400, "unsupported_grant_type", 70003,
			"AADSTS70003: The app requested an unsupported grant type 'magic'."},
		{"delegated scope", "", func(f url.Values) { f.Set("scope", "https://analysis.windows.net/powerbi/api/Dataset.Read.All") }, 400, "invalid_scope", 1002012,
			"AADSTS1002012: The provided value for scope https://analysis.windows.net/powerbi/api/Dataset.Read.All is not valid. Client credential flows must have a scope value with /.default suffixed"},
		{"other resource", "", func(f url.Values) { f.Set("scope", "https://graph.microsoft.com/.default") }, 400, "invalid_resource", 500011,
			"AADSTS500011: The resource principal named https://graph.microsoft.com was not found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			form := clientCredentials(s)
			if tc.edit != nil {
				tc.edit(form)
			}
			tenant := tc.tenant
			if tenant == "" {
				tenant = s.TenantID()
			}
			r := postForm(t, s, tenant, form)
			wantStatus(t, r, tc.status)
			e := r.json(t)
			if e["error"] != tc.code {
				t.Errorf("error = %v, want %s", e["error"], tc.code)
			}
			desc, _ := e["error_description"].(string)
			if !strings.HasPrefix(desc, tc.message) {
				t.Errorf("description %q\nwant prefix %q", desc, tc.message)
			}
			for _, line := range []string{"\r\nTrace ID: ", "\r\nCorrelation ID: ", "\r\nTimestamp: "} {
				if !strings.Contains(desc, line) {
					t.Errorf("description lacks %q", line)
				}
			}
			codes, _ := e["error_codes"].([]any)
			if len(codes) != 1 || codes[0] != tc.aadsts {
				t.Errorf("error_codes = %v", e["error_codes"])
			}
			for _, key := range []string{"timestamp", "trace_id", "correlation_id"} {
				if s, _ := e[key].(string); s == "" {
					t.Errorf("%s missing", key)
				}
			}
			if e["error_uri"] != "https://login.microsoftonline.com/error?code="+strings.TrimPrefix(strings.SplitN(desc, ":", 2)[0], "AADSTS") {
				t.Errorf("error_uri = %v", e["error_uri"])
			}
		})
	}
}

func TestTokenRequestsNeverRecordSecrets(t *testing.T) {
	s := newTestServer(t, Options{})
	postForm(t, s, s.TenantID(), clientCredentials(s))
	reqs := s.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests recorded", len(reqs))
	}
	if reqs[0].Route != "POST /{tenant}/oauth2/v2.0/token" || reqs[0].Body != nil || reqs[0].Status != 200 {
		t.Errorf("recorded %+v", reqs[0])
	}
}

func TestTokenValidation(t *testing.T) {
	s := newTestServer(t, Options{})
	path := apiPrefix + "/groups"

	t.Run("missing", func(t *testing.T) {
		r := do(t, s, "GET", path, "", nil)
		wantStatus(t, r, http.StatusForbidden)
		if r.header.Get("RequestId") == "" {
			t.Error("no RequestId on the 403")
		}
	})
	t.Run("garbage", func(t *testing.T) {
		wantStatus(t, do(t, s, "GET", path, "not-a-jwt", nil), http.StatusForbidden)
	})
	t.Run("expired", func(t *testing.T) {
		r := do(t, s, "GET", path, s.IssueToken(0), nil)
		wantStatus(t, r, http.StatusForbidden)
		if string(r.body) != `{"error":{"code":"TokenExpired","message":"Access token has expired, resubmit with a new access token"}}` {
			t.Errorf("body %s", r.body)
		}
	})
	t.Run("bad signature", func(t *testing.T) {
		tok := s.IssueToken(time.Hour)
		other := newTestServer(t, Options{}).IssueToken(time.Hour) // same claims, other key
		forged := tok[:strings.LastIndex(tok, ".")] + other[strings.LastIndex(other, "."):]
		r := do(t, s, "GET", path, forged, nil)
		wantStatus(t, r, http.StatusUnauthorized)
		if string(r.body) != `{"error":{"code":"PowerBINotAuthorizedException","pbi.error":{"code":"PowerBINotAuthorizedException","parameters":{},"details":[],"exceptionCulprit":1}}}` {
			t.Errorf("body %s", r.body)
		}
	})
	t.Run("ExpireTokens", func(t *testing.T) {
		before := s.IssueToken(time.Hour)
		wantStatus(t, do(t, s, "GET", path, before, nil), http.StatusOK)
		s.ExpireTokens()
		r := do(t, s, "GET", path, before, nil)
		wantStatus(t, r, http.StatusForbidden)
		if !strings.Contains(string(r.body), `"TokenExpired"`) {
			t.Errorf("body %s", r.body)
		}
		wantStatus(t, do(t, s, "GET", path, s.IssueToken(time.Hour), nil), http.StatusOK)
	})
}
