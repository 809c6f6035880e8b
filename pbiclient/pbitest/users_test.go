package pbitest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"
)

const userScope = "https://analysis.windows.net/powerbi/api/.default openid offline_access profile"

// postDeviceCode asks the device authorization endpoint for a code.
func postDeviceCode(t *testing.T, s *Server, tenant string, form url.Values) response {
	t.Helper()
	resp, err := s.Client().PostForm(s.URL()+"/"+tenant+"/oauth2/v2.0/devicecode", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: raw}
}

// wantEntraError checks an Entra error answer's status, error and AADSTS code.
func wantEntraError(t *testing.T, r response, status int, code, aadsts string) map[string]any {
	t.Helper()
	wantStatus(t, r, status)
	e := r.json(t)
	if e["error"] != code || !strings.HasPrefix(e["error_description"].(string), aadsts+": ") {
		t.Fatalf("answer %s, want %s %s", r.body, code, aadsts)
	}
	return e
}

// jwtPayload decodes a JWT's claims.
func jwtPayload(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestDeviceCodeOnTheWire(t *testing.T) {
	s := newTestServer(t, Options{})
	r := postDeviceCode(t, s, "organizations", url.Values{"client_id": {s.ClientID()}, "scope": {userScope}})
	wantStatus(t, r, http.StatusOK)
	var dc struct {
		UserCode, DeviceCode, VerificationURI, Message string
		ExpiresIn, Interval                            int
	}
	body := r.json(t)
	dc.UserCode, dc.DeviceCode = body["user_code"].(string), body["device_code"].(string)
	dc.VerificationURI, dc.Message = body["verification_uri"].(string), body["message"].(string)
	if !strings.HasPrefix(string(r.body), `{"user_code":"`) || len(dc.UserCode) != 9 || dc.VerificationURI != s.URL()+"/devicelogin" ||
		body["expires_in"] != 900.0 || body["interval"] != 5.0 {
		t.Fatalf("devicecode answer %s", r.body)
	}
	if want := "To sign in, use a web browser to open the page " + s.URL() + "/devicelogin and enter the code " + dc.UserCode + " to authenticate."; dc.Message != want {
		t.Errorf("message %q, want %q", dc.Message, want)
	}
	if got := s.PendingDeviceCodes(); len(got) != 1 || got[0] != dc.UserCode {
		t.Errorf("PendingDeviceCodes = %v", got)
	}

	poll := url.Values{"grant_type": {"device_code"}, "client_id": {s.ClientID()}, "device_code": {dc.DeviceCode}}
	wantEntraError(t, postForm(t, s, "organizations", poll), 400, "authorization_pending", "AADSTS70016")
	s.SlowDownDeviceCodePolls(1)
	wantEntraError(t, postForm(t, s, "organizations", poll), 400, "slow_down", "AADSTS70016")
	wantEntraError(t, postForm(t, s, "organizations", poll), 400, "authorization_pending", "AADSTS70016")

	// The sign-in page: a wrong code, then the code as a person types it.
	page, err := s.Client().Get(dc.VerificationURI)
	if err != nil {
		t.Fatal(err)
	}
	html, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if page.StatusCode != 200 || !strings.Contains(string(html), `name="code"`) {
		t.Fatalf("GET /devicelogin: %d %s", page.StatusCode, html)
	}
	resp, err := s.Client().PostForm(dc.VerificationURI, url.Values{"code": {"NOPE"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown code: status %d, want 400", resp.StatusCode)
	}
	typed := strings.ToLower(dc.UserCode[:4] + "-" + dc.UserCode[4:])
	resp, err = s.Client().PostForm(dc.VerificationURI, url.Values{"code": {typed}})
	if err != nil {
		t.Fatal(err)
	}
	html, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(html), "You have signed in") {
		t.Fatalf("POST /devicelogin: %d %s", resp.StatusCode, html)
	}

	// The RFC's URN spelling works too.
	poll.Set("grant_type", "urn:ietf:params:oauth:grant-type:device_code")
	r = postForm(t, s, "organizations", poll)
	wantStatus(t, r, http.StatusOK)
	tok := r.json(t)
	for _, key := range []string{"access_token", "refresh_token", "id_token", "client_info"} {
		if s, _ := tok[key].(string); s == "" {
			t.Errorf("token answer lacks %s: %s", key, r.body)
		}
	}
	if tok["scope"] != userScope || tok["expires_in"] != 3600.0 {
		t.Errorf("scope/expires_in: %s", r.body)
	}
	id := jwtPayload(t, tok["id_token"].(string))
	if id["preferred_username"] != DefaultUserPrincipalName || id["tid"] != s.TenantID() || id["oid"] == "" || id["name"] == "" {
		t.Errorf("id_token claims %v", id)
	}
	ci, _ := base64.RawURLEncoding.DecodeString(tok["client_info"].(string))
	if string(ci) != `{"uid":"`+id["oid"].(string)+`","utid":"`+s.TenantID()+`"}` {
		t.Errorf("client_info %s", ci)
	}
	at := jwtPayload(t, tok["access_token"].(string))
	if at["upn"] != DefaultUserPrincipalName || at["scp"] == "" {
		t.Errorf("access token claims %v", at)
	}
	wantStatus(t, do(t, s, "GET", apiPrefix+"/groups", tok["access_token"].(string), nil), 200)
	// A device code is redeemed once.
	wantEntraError(t, postForm(t, s, "organizations", poll), 400, "bad_verification_code", "AADSTS70018")

	// Refresh: a new access token and a rotated refresh token; revocation.
	refresh := url.Values{"grant_type": {"refresh_token"}, "client_id": {s.ClientID()},
		"refresh_token": {tok["refresh_token"].(string)}, "scope": {userScope}}
	r = postForm(t, s, s.TenantID(), refresh)
	wantStatus(t, r, http.StatusOK)
	if rt := r.json(t)["refresh_token"]; rt == tok["refresh_token"] || rt == "" {
		t.Errorf("refresh token not rotated")
	}
	s.RevokeRefreshTokens(DefaultUserPrincipalName)
	wantEntraError(t, postForm(t, s, s.TenantID(), refresh), 400, "invalid_grant", "AADSTS70008")
}

func TestDeviceCodeDeclinedAndExpired(t *testing.T) {
	s := newTestServer(t, Options{})
	start := func() string {
		r := postDeviceCode(t, s, s.TenantID(), url.Values{"client_id": {s.ClientID()}, "scope": {userScope}})
		wantStatus(t, r, 200)
		body := r.json(t)
		if err := s.DeclineDeviceCode("no-such-code"); err == nil {
			t.Error("DeclineDeviceCode accepted an unknown code")
		}
		return body["device_code"].(string) + " " + body["user_code"].(string)
	}
	device, user, _ := strings.Cut(start(), " ")
	if err := s.DeclineDeviceCode(user); err != nil {
		t.Fatal(err)
	}
	poll := url.Values{"grant_type": {"device_code"}, "client_id": {s.ClientID()}, "device_code": {device}}
	wantEntraError(t, postForm(t, s, s.TenantID(), poll), 400, "authorization_declined", "AADSTS70000")

	device, user, _ = strings.Cut(start(), " ")
	s.ExpireDeviceCodes()
	poll.Set("device_code", device)
	wantEntraError(t, postForm(t, s, s.TenantID(), poll), 400, "expired_token", "AADSTS70020")
	if err := s.ApproveDeviceCode(user, ""); err == nil {
		t.Error("an expired code was approved")
	}
	if len(s.PendingDeviceCodes()) != 0 {
		t.Error("expired codes are still pending")
	}

	// The devicecode endpoint checks the client as the token endpoint does.
	wantEntraError(t, postDeviceCode(t, s, s.TenantID(), url.Values{"client_id": {"00000000-0000-0000-0000-000000000009"}, "scope": {userScope}}),
		400, "unauthorized_client", "AADSTS700016")
	wantEntraError(t, postDeviceCode(t, s, "fabrikam.example", url.Values{"client_id": {s.ClientID()}, "scope": {userScope}}),
		400, "invalid_request", "AADSTS90002")
}

func TestPasswordGrantOnTheWire(t *testing.T) {
	s := newTestServer(t, Options{})
	s.AddUser("adele.vance@contoso.com", "Adele's password")
	s.RequireMFA("mfa.user@contoso.com")
	s.AddUser("mfa.user@contoso.com", "mfa-password")
	ropc := func(user, password string) url.Values {
		return url.Values{"grant_type": {"password"}, "client_id": {s.ClientID()}, "scope": {userScope},
			"username": {user}, "password": {password}, "client_info": {"1"}}
	}
	r := postForm(t, s, "organizations", ropc("Adele.Vance@contoso.com", "Adele's password"))
	wantStatus(t, r, 200)
	at := jwtPayload(t, r.json(t)["access_token"].(string))
	if at["upn"] != "adele.vance@contoso.com" || at["oid"] == userObjectID {
		t.Errorf("access token claims %v", at)
	}
	wantEntraError(t, postForm(t, s, s.TenantID(), ropc(DefaultUserPrincipalName, "wrong")), 400, "invalid_grant", "AADSTS50126")
	e := wantEntraError(t, postForm(t, s, s.TenantID(), ropc("mfa.user@contoso.com", "mfa-password")), 400, "invalid_grant", "AADSTS50076")
	if e["suberror"] != "basic_action" {
		t.Errorf("MFA answer lacks suberror basic_action: %v", e)
	}
	wantEntraError(t, postForm(t, s, s.TenantID(), ropc("nobody@contoso.com", "x")), 400, "invalid_grant", "AADSTS50034")
	wantEntraError(t, postForm(t, s, "common", ropc(DefaultUserPrincipalName, DemoUserPassword)), 400, "invalid_request", "AADSTS9001023")
	withSecret := ropc(DefaultUserPrincipalName, DemoUserPassword)
	withSecret.Set("client_secret", s.ClientSecret())
	wantEntraError(t, postForm(t, s, s.TenantID(), withSecret), 401, "invalid_client", "AADSTS700025")
	// App-only tokens still need a tenant.
	wantEntraError(t, postForm(t, s, "organizations", clientCredentials(s)), 400, "invalid_request", "AADSTS50059")

	r = do(t, s, "GET", "/common/UserRealm/adele.vance@contoso.com?api-version=1.0", "", nil)
	wantStatus(t, r, 200)
	if realm := r.json(t); realm["account_type"] != "Managed" || realm["domain_name"] != "contoso.com" {
		t.Errorf("user realm %s", r.body)
	}
}

// TestMSALPublicClient signs users in with MSAL Go's public client, which
// the auth package's user credentials are built on.
func TestMSALPublicClient(t *testing.T) {
	s := newTestServer(t, Options{})
	pc, err := public.New(s.ClientID(), public.WithAuthority(s.AuthorityHost()+"/organizations"),
		public.WithHTTPClient(s.Client()), public.WithInstanceDiscovery(false))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	scopes := []string{powerBIScope}

	dc, err := pc.AcquireTokenByDeviceCode(ctx, scopes)
	if err != nil {
		t.Fatalf("AcquireTokenByDeviceCode: %v", err)
	}
	if err := s.ApproveDeviceCode(dc.Result.UserCode, ""); err != nil {
		t.Fatal(err)
	}
	res, err := dc.AuthenticationResult(ctx)
	if err != nil {
		t.Fatalf("AuthenticationResult: %v", err)
	}
	if res.Account.PreferredUsername != DefaultUserPrincipalName || !strings.HasSuffix(res.Account.HomeAccountID, "."+s.TenantID()) {
		t.Errorf("account %+v", res.Account)
	}
	wantStatus(t, do(t, s, "GET", apiPrefix+"/groups", res.AccessToken, nil), 200)

	//nolint:staticcheck // ROPC is deprecated in MSAL, and supported here on purpose.
	res, err = pc.AcquireTokenByUsernamePassword(ctx, scopes, DefaultUserPrincipalName, DemoUserPassword)
	if err != nil {
		t.Fatalf("AcquireTokenByUsernamePassword: %v", err)
	}
	// The access token MSAL keeps is redeemed silently; forcing a refresh
	// goes through the refresh token.
	before := s.TokenRequests()
	if _, err := pc.AcquireTokenSilent(ctx, scopes, public.WithSilentAccount(res.Account)); err != nil {
		t.Fatalf("AcquireTokenSilent: %v", err)
	}
	if n := s.TokenRequests() - before; n != 0 {
		t.Errorf("silent call made %d token requests, want 0", n)
	}
}
