package pbitest

import (
	"context"
	"crypto/x509"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
)

// oboForm is an on-behalf-of request with the app's secret, as MSAL Go sends
// it.
func oboForm(s *Server, assertion string) url.Values {
	return url.Values{
		"grant_type":          {jwtBearerGrant},
		"client_id":           {s.ClientID()},
		"client_secret":       {s.ClientSecret()},
		"assertion":           {assertion},
		"requested_token_use": {"on_behalf_of"},
		"client_info":         {"1"},
		"scope":               {"https://analysis.windows.net/powerbi/api/.default openid offline_access profile"},
	}
}

// TestMSALOnBehalfOf: MSAL's exchange of a user's token for the server's API
// gives a Power BI token of that user, which Power BI accepts as the user's.
func TestMSALOnBehalfOf(t *testing.T) {
	s := newTestServer(t, Options{})
	cred, err := confidential.NewCredFromSecret(s.ClientSecret())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		opts CallerTokenOptions
	}{
		{"v1", CallerTokenOptions{User: "adele@contoso.com"}},
		{"v2", CallerTokenOptions{User: "alex@contoso.com", Version: 2}},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := msalClient(t, s, cred).AcquireTokenOnBehalfOf(context.Background(), s.IssueCallerToken(c.opts), pbiScopes)
			if err != nil {
				t.Fatalf("AcquireTokenOnBehalfOf: %v", err)
			}
			claims := tokenClaims(t, res.AccessToken)
			if claims["upn"] != c.opts.User || claims["oid"] != userOID(c.opts.User) || claims["tid"] != s.TenantID() ||
				claims["aud"] != powerBIResource || claims["scp"] == nil {
				t.Errorf("Power BI token claims %v, want a delegated token of %s", claims, c.opts.User)
			}
			r := do(t, s, "GET", apiPrefix+"/groups", res.AccessToken, nil)
			wantStatus(t, r, http.StatusOK)
		})
	}
	if n := s.OBORequests(); n != 2 {
		t.Errorf("OBORequests() = %d, want 2", n)
	}
	s.ResetRequests()
	if n := s.OBORequests(); n != 0 {
		t.Errorf("OBORequests() after ResetRequests = %d, want 0", n)
	}
}

// TestOnBehalfOfResponse: Entra's answer shape, a refresh token only with
// offline_access.
func TestOnBehalfOfResponse(t *testing.T) {
	s := newTestServer(t, Options{})
	form := oboForm(s, s.IssueCallerToken(CallerTokenOptions{}))
	r := postForm(t, s, s.TenantID(), form)
	wantStatus(t, r, http.StatusOK)
	body := r.json(t)
	for _, k := range []string{"token_type", "scope", "expires_in", "ext_expires_in", "access_token", "refresh_token", "id_token", "client_info"} {
		if body[k] == nil {
			t.Errorf("answer lacks %s: %s", k, r.body)
		}
	}
	if sc, _ := body["scope"].(string); !strings.HasPrefix(sc, powerBIResource+"/.default") {
		t.Errorf("scope %q, want the requested scopes", sc)
	}
	form.Set("scope", "https://analysis.windows.net/powerbi/api/.default")
	r = postForm(t, s, s.TenantID(), form)
	wantStatus(t, r, http.StatusOK)
	if body := r.json(t); body["refresh_token"] != nil || body["id_token"] != nil {
		t.Errorf("without offline_access and openid the answer has %s", r.body)
	}
}

// TestOnBehalfOfCertificateCredential: the app may prove itself with a
// certificate in the exchange too.
func TestOnBehalfOfCertificateCredential(t *testing.T) {
	s := newTestServer(t, Options{})
	cert := newCert(t, "powerbi-mcp", testKeys[0], nil, nil, false)
	s.AddClientCertificate(cert)
	cred, err := confidential.NewCredFromCert([]*x509.Certificate{cert}, testKeys[0])
	if err != nil {
		t.Fatal(err)
	}
	res, err := msalClient(t, s, cred).AcquireTokenOnBehalfOf(context.Background(), s.IssueCallerToken(CallerTokenOptions{}), pbiScopes)
	if err != nil {
		t.Fatalf("AcquireTokenOnBehalfOf: %v", err)
	}
	if c := tokenClaims(t, res.AccessToken); c["upn"] != DefaultUserPrincipalName {
		t.Errorf("token claims %v", c)
	}
	if len(s.ClientAssertions()) != 1 {
		t.Errorf("the certificate assertion was not checked: %+v", s.ClientAssertions())
	}
}

// TestOnBehalfOfErrors: each way an exchange fails answers with Entra's code
// and body.
func TestOnBehalfOfErrors(t *testing.T) {
	s := newTestServer(t, Options{})
	const subject = "system:serviceaccount:default:powerbi-mcp"
	s.AddFederatedCredential(FederatedCredential{Subject: subject})
	good := s.IssueCallerToken(CallerTokenOptions{})
	federated := func(lifetime time.Duration) func(url.Values) {
		return func(f url.Values) {
			f.Del("client_secret")
			f.Set("client_assertion_type", clientAssertionType)
			f.Set("client_assertion", s.IssueFederatedToken(subject, lifetime))
		}
	}
	for _, c := range []struct {
		name     string
		change   func(url.Values)
		status   int
		code     string
		aadsts   string
		suberror string
	}{
		{"bad signature", func(f url.Values) { f.Set("assertion", s.IssueCallerToken(CallerTokenOptions{UnknownKey: true})) },
			400, "invalid_grant", "AADSTS50013: Assertion failed signature validation. [Reason - The key was not found.", ""},
		{"tampered", func(f url.Values) {
			parts := strings.Split(good, ".")
			other := strings.Split(s.IssueCallerToken(CallerTokenOptions{User: "eve@contoso.com"}), ".")
			f.Set("assertion", parts[0]+"."+other[1]+"."+parts[2])
		}, 400, "invalid_grant", "AADSTS50013: Assertion failed signature validation. [Reason - The provided signature value did not match", ""},
		{"expired", func(f url.Values) { f.Set("assertion", s.IssueCallerToken(CallerTokenOptions{Lifetime: -time.Minute})) },
			400, "invalid_grant", "AADSTS500133: Assertion is not within its valid time range. Ensure that the access token is not expired", ""},
		{"other audience", func(f url.Values) {
			f.Set("assertion", s.IssueCallerToken(CallerTokenOptions{Audience: "https://graph.microsoft.com"}))
		}, 400, "invalid_grant", "AADSTS500131: Assertion audience does not match the Client app presenting the assertion. The audience in the assertion was 'https://graph.microsoft.com'", ""},
		{"malformed", func(f url.Values) { f.Set("assertion", "not-a-jwt") }, 400, "invalid_grant", "AADSTS50027:", ""},
		{"no assertion", func(f url.Values) { f.Del("assertion") }, 400, "invalid_request", "AADSTS900144: The request body must contain the following parameter: 'assertion'.", ""},
		{"wrong secret", func(f url.Values) { f.Set("client_secret", "wrong") }, 401, "invalid_client", "AADSTS7000215:", ""},
		{"federated assertion expired", federated(-time.Minute), 401, "invalid_client", "AADSTS700024: Client assertion is not within its valid time range.", ""},
		{"other resource", func(f url.Values) { f.Set("scope", "https://graph.microsoft.com/.default") }, 400, "invalid_resource", "AADSTS500011:", ""},
		{"no consent", func(url.Values) { s.SetAdminConsent(false) }, 400, "invalid_grant",
			"AADSTS65001: The user or administrator has not consented to use the application with ID '" + s.ClientID() + "'", "consent_required"},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer s.SetAdminConsent(true)
			form := oboForm(s, good)
			c.change(form)
			r := postForm(t, s, s.TenantID(), form)
			wantStatus(t, r, c.status)
			body := r.json(t)
			desc, _ := body["error_description"].(string)
			if body["error"] != c.code || !strings.HasPrefix(desc, c.aadsts) {
				t.Errorf("answer %s, want %s %q", r.body, c.code, c.aadsts)
			}
			if sub, _ := body["suberror"].(string); sub != c.suberror {
				t.Errorf("suberror %q, want %q", sub, c.suberror)
			}
		})
	}
	// A federated credential that is valid works for the exchange.
	form := oboForm(s, good)
	federated(time.Hour)(form)
	wantStatus(t, postForm(t, s, s.TenantID(), form), http.StatusOK)
}
