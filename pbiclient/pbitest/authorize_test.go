package pbitest

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"
)

// loopback is a redirect URI as an MCP client on this machine sends it: the
// registered http://127.0.0.1 with the port it listens on.
const loopback = "http://127.0.0.1:53117/"

// signInClient is how an OAuth client talks to the authorize endpoint: it
// does not follow the redirect, it reads it.
func signInClient(s *Server) *http.Client {
	c := *s.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// pkce returns a verifier and its S256 challenge, as RFC 7636 makes them.
func pkce(seed string) (verifier, challenge string) {
	verifier = strings.Repeat(seed, 43/len(seed)+1)[:43] + "-._~"
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// apiScope is what an MCP client asks for: the API's permission, and a
// refresh token and id_token.
func apiScope(s *Server) string {
	return "api://" + s.ClientID() + "/" + APIScope + " openid profile offline_access"
}

// authorizeQuery is a complete authorization request; tests change it.
func authorizeQuery(s *Server, challenge string) url.Values {
	return url.Values{
		"client_id": {PublicClientID}, "response_type": {"code"}, "redirect_uri": {loopback},
		"scope": {apiScope(s)}, "state": {"st-4711"}, "nonce": {"n-0815"},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"},
	}
}

// authorizeAnswer is the authorize endpoint's answer: the redirect's query,
// or the page shown instead.
type authorizeAnswer struct {
	status   int
	location *url.URL
	query    url.Values
	page     string
}

func authorize(t *testing.T, s *Server, q url.Values) authorizeAnswer {
	t.Helper()
	resp, err := signInClient(s).Get(s.URL() + "/" + s.TenantID() + "/oauth2/v2.0/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	a := authorizeAnswer{status: resp.StatusCode}
	if resp.StatusCode == http.StatusFound {
		loc, err := url.Parse(resp.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		a.location, a.query = loc, loc.Query()
	} else {
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := resp.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		a.page = b.String()
	}
	return a
}

// codeFor signs in through the authorize endpoint and returns the code.
func codeFor(t *testing.T, s *Server, q url.Values) string {
	t.Helper()
	a := authorize(t, s, q)
	if a.status != http.StatusFound || a.query.Get("code") == "" {
		t.Fatalf("authorize answered %d %v %s, want a redirect with a code", a.status, a.query, a.page)
	}
	return a.query.Get("code")
}

func redeem(t *testing.T, s *Server, code, verifier string) response {
	t.Helper()
	return postForm(t, s, s.TenantID(), url.Values{"grant_type": {"authorization_code"}, "client_id": {PublicClientID},
		"code": {code}, "redirect_uri": {loopback}, "code_verifier": {verifier}, "scope": {apiScope(s)}})
}

// signedClaims checks a token's signature with the published keys and
// returns its claims.
func signedClaims(t *testing.T, s *Server, token string) map[string]any {
	t.Helper()
	claims, ok := verifyWithJWKS(t, s, token)
	if !ok {
		t.Fatalf("token does not verify with the published keys: %v", claims)
	}
	return claims
}

func TestAuthorizationCodeSignInWithPKCE(t *testing.T) {
	s := newTestServer(t, Options{})
	verifier, challenge := pkce("k3Yv")

	a := authorize(t, s, authorizeQuery(s, challenge))
	if a.status != http.StatusFound {
		t.Fatalf("authorize: %d %s", a.status, a.page)
	}
	if got := a.location.Scheme + "://" + a.location.Host + a.location.Path; got != loopback {
		t.Errorf("redirected to %s, want %s", got, loopback)
	}
	if a.query.Get("state") != "st-4711" || a.query.Get("code") == "" {
		t.Fatalf("redirect query %v, want the code and the state", a.query)
	}

	tok := redeem(t, s, a.query.Get("code"), verifier)
	wantStatus(t, tok, http.StatusOK)
	body := tok.json(t)
	at := body["access_token"].(string)
	claims := signedClaims(t, s, at)
	want := map[string]any{"aud": "api://" + s.ClientID(), "iss": "https://sts.windows.net/" + s.TenantID() + "/",
		"ver": "1.0", "scp": APIScope, "upn": DefaultUserPrincipalName, "appid": PublicClientID, "tid": s.TenantID()}
	for k, v := range want {
		if claims[k] != v {
			t.Errorf("access token %s = %v, want %v", k, claims[k], v)
		}
	}
	if body["scope"] != apiScope(s) || body["refresh_token"] == nil || body["token_type"] != "Bearer" {
		t.Errorf("token answer %s", tok.body)
	}
	id := jwtPayload(t, body["id_token"].(string))
	if id["nonce"] != "n-0815" || id["aud"] != PublicClientID || id["preferred_username"] != DefaultUserPrincipalName {
		t.Errorf("id_token claims %v", id)
	}

	// A code works once.
	wantEntraError(t, redeem(t, s, a.query.Get("code"), verifier), 400, "invalid_grant", "AADSTS54005")

	// The refresh token gives a new access token for the same user and API.
	rt := postForm(t, s, s.TenantID(), url.Values{"grant_type": {"refresh_token"}, "client_id": {PublicClientID},
		"refresh_token": {body["refresh_token"].(string)}, "scope": {apiScope(s)}})
	wantStatus(t, rt, http.StatusOK)
	if c := jwtPayload(t, rt.json(t)["access_token"].(string)); c["upn"] != DefaultUserPrincipalName || c["aud"] != "api://"+s.ClientID() {
		t.Errorf("refreshed token claims %v", c)
	}
	// Revoking the user's sessions ends it.
	s.RevokeRefreshTokens(DefaultUserPrincipalName)
	rt = postForm(t, s, s.TenantID(), url.Values{"grant_type": {"refresh_token"}, "client_id": {PublicClientID},
		"refresh_token": {body["refresh_token"].(string)}, "scope": {apiScope(s)}})
	wantEntraError(t, rt, 400, "invalid_grant", "AADSTS70008")

	// Without offline_access and openid there is neither a refresh token nor an id_token.
	q := authorizeQuery(s, challenge)
	q.Set("scope", s.ClientID()+"/"+APIScope)
	plain := redeem(t, s, codeFor(t, s, q), verifier).json(t)
	if plain["refresh_token"] != nil || plain["id_token"] != nil || plain["access_token"] == nil {
		t.Errorf("answer to the API scope alone: %v", plain)
	}
}

func TestAuthorizationCodeRefusals(t *testing.T) {
	s := newTestServer(t, Options{})
	verifier, challenge := pkce("Zq9")

	// PKCE: a missing verifier and a wrong one, each with Entra's code.
	code := codeFor(t, s, authorizeQuery(s, challenge))
	wantEntraError(t, redeem(t, s, code, ""), 400, "invalid_grant", "AADSTS50148")
	other, _ := pkce("other")
	wantEntraError(t, redeem(t, s, code, other), 400, "invalid_grant", "AADSTS501481")
	// The redirect URI must be the one the code was issued to.
	wrongRedirect := postForm(t, s, s.TenantID(), url.Values{"grant_type": {"authorization_code"}, "client_id": {PublicClientID},
		"code": {code}, "redirect_uri": {"http://127.0.0.1:53117/elsewhere"}, "code_verifier": {verifier}})
	wantEntraError(t, wrongRedirect, 400, "invalid_client", "AADSTS500112")
	// A public client presents no secret.
	withSecret := postForm(t, s, s.TenantID(), url.Values{"grant_type": {"authorization_code"}, "client_id": {PublicClientID},
		"code": {code}, "redirect_uri": {loopback}, "code_verifier": {verifier}, "client_secret": {"x"}})
	wantEntraError(t, withSecret, 401, "invalid_client", "AADSTS700025")
	// The failures did not use the code up; an expired one is refused.
	wantStatus(t, redeem(t, s, code, verifier), http.StatusOK)
	expiring := codeFor(t, s, authorizeQuery(s, challenge))
	s.ExpireAuthorizationCodes()
	wantEntraError(t, redeem(t, s, expiring, verifier), 400, "invalid_grant", "AADSTS70008")

	// A plain challenge is the verifier itself; Entra takes it.
	q := authorizeQuery(s, verifier)
	q.Set("code_challenge_method", "plain")
	wantStatus(t, redeem(t, s, codeFor(t, s, q), verifier), http.StatusOK)
	q.Set("code_challenge_method", "S512")
	if a := authorize(t, s, q); a.query.Get("error") != "invalid_request" || !strings.HasPrefix(a.query.Get("error_description"), "AADSTS50149: ") {
		t.Errorf("unknown challenge method: %d %v", a.status, a.query)
	}

	// A redirect URI the app does not have: a page, never a redirect there.
	for _, uri := range []string{"https://attacker.example/cb", "http://127.0.0.1:53117/callback", "http://localhost.attacker.example/"} {
		q := authorizeQuery(s, challenge)
		q.Set("redirect_uri", uri)
		a := authorize(t, s, q)
		if a.status != http.StatusBadRequest || a.location != nil || !strings.Contains(a.page, "AADSTS50011") {
			t.Errorf("redirect_uri %s: %d %v %s", uri, a.status, a.location, a.page)
		}
	}
	// An unknown client is shown a page too.
	q = authorizeQuery(s, challenge)
	q.Set("client_id", "00000000-0000-0000-0000-00000000000a")
	if a := authorize(t, s, q); a.status != http.StatusBadRequest || !strings.Contains(a.page, "AADSTS700016") {
		t.Errorf("unknown client: %d %s", a.status, a.page)
	}
	// A scope of another resource, or one the API does not expose, goes back to the client.
	for scope, aadsts := range map[string]string{
		"https://graph.microsoft.com/User.Read openid":      "AADSTS500011",
		"api://" + s.ClientID() + "/Files.ReadWrite openid": "AADSTS650053",
		"openid profile": "AADSTS70011",
	} {
		q := authorizeQuery(s, challenge)
		q.Set("scope", scope)
		a := authorize(t, s, q)
		if a.status != http.StatusFound || a.query.Get("state") != "st-4711" || !strings.HasPrefix(a.query.Get("error_description"), aadsts+": ") {
			t.Errorf("scope %q: %d %v", scope, a.status, a.query)
		}
	}
}

func TestRedirectURIsOfPublicClients(t *testing.T) {
	s := newTestServer(t, Options{})
	s.AddPublicClient("5b1c3e7a-1d2f-4a6b-9c8e-0f1a2b3c4d5e", "https://app.contoso.com/oauth/callback", "http://localhost/callback")
	_, challenge := pkce("r3d")
	for _, c := range []struct {
		client, uri string
		ok          bool
	}{
		{PublicClientID, "http://localhost:33418", true}, // any port on loopback
		{PublicClientID, "http://127.0.0.1:1/", true},
		{PublicClientID, "http://localhost:33418/callback", false}, // the path must match
		{"5b1c3e7a-1d2f-4a6b-9c8e-0f1a2b3c4d5e", "http://localhost:6274/callback", true},
		{"5b1c3e7a-1d2f-4a6b-9c8e-0f1a2b3c4d5e", "https://app.contoso.com/oauth/callback", true},
		{"5b1c3e7a-1d2f-4a6b-9c8e-0f1a2b3c4d5e", "https://app.contoso.com:8443/oauth/callback", false}, // not loopback: the port counts
		{"5b1c3e7a-1d2f-4a6b-9c8e-0f1a2b3c4d5e", loopback, false},                                      // another app's URI
	} {
		q := authorizeQuery(s, challenge)
		q.Set("client_id", c.client)
		q.Set("redirect_uri", c.uri)
		if a := authorize(t, s, q); (a.status == http.StatusFound) != c.ok {
			t.Errorf("%s with %s: %d %s, want allowed %v", c.client, c.uri, a.status, a.page, c.ok)
		}
	}
}

func TestResourceParameterMustBeAnAppIDURI(t *testing.T) {
	s := newTestServer(t, Options{})
	verifier, challenge := pkce("res")
	const publicURL = "https://mcp.contoso.com/mcp"

	// The Application ID URI is accepted as resource.
	q := authorizeQuery(s, challenge)
	q.Set("resource", "api://"+s.ClientID())
	wantStatus(t, redeem(t, s, codeFor(t, s, q), verifier), http.StatusOK)

	// The server's public URL, which MCP clients send, is refused until it is an Application ID URI.
	q.Set("resource", publicURL)
	a := authorize(t, s, q)
	if a.status != http.StatusFound || a.query.Get("error") != "invalid_target" || a.query.Get("state") != "st-4711" ||
		!strings.HasPrefix(a.query.Get("error_description"), "AADSTS9010010: The resource parameter provided in the request doesn't match with the requested scopes.") {
		t.Fatalf("resource %s: %d %v %s", publicURL, a.status, a.query, a.page)
	}
	s.AddAppIDURI(publicURL)
	code := codeFor(t, s, q)
	// The token request names the resource again; the same rule holds there.
	withResource := func(resource string) response {
		return postForm(t, s, s.TenantID(), url.Values{"grant_type": {"authorization_code"}, "client_id": {PublicClientID},
			"code": {code}, "redirect_uri": {loopback}, "code_verifier": {verifier}, "resource": {resource}})
	}
	wantEntraError(t, withResource("https://elsewhere.contoso.com"), 400, "invalid_target", "AADSTS9010010")
	tok := withResource(publicURL)
	wantStatus(t, tok, http.StatusOK)

	// So does a refresh, which MCP clients send with the resource and no scope.
	refresh := func(resource string) response {
		return postForm(t, s, s.TenantID(), url.Values{"grant_type": {"refresh_token"}, "client_id": {PublicClientID},
			"refresh_token": {tok.json(t)["refresh_token"].(string)}, "resource": {resource}})
	}
	wantEntraError(t, refresh("https://elsewhere.contoso.com"), 400, "invalid_target", "AADSTS9010010")
	r := refresh(publicURL)
	wantStatus(t, r, http.StatusOK)
	if c := jwtPayload(t, r.json(t)["access_token"].(string)); c["scp"] != APIScope {
		t.Errorf("refreshed token claims %v", c)
	}
}

func TestAccessTokenVersionFollowsTheManifest(t *testing.T) {
	s := newTestServer(t, Options{})
	verifier, challenge := pkce("v2v")
	s.SetAccessTokenVersion(2)
	tok := redeem(t, s, codeFor(t, s, authorizeQuery(s, challenge)), verifier)
	wantStatus(t, tok, http.StatusOK)
	at := tok.json(t)["access_token"].(string)
	c := signedClaims(t, s, at)
	if c["ver"] != "2.0" || c["aud"] != s.ClientID() || c["iss"] != s.URL()+"/"+s.TenantID()+"/v2.0" ||
		c["azp"] != PublicClientID || c["preferred_username"] != DefaultUserPrincipalName {
		t.Errorf("v2 token claims %v", c)
	}
}

func TestWhoSignsIn(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	verifier, challenge := pkce("who")
	upnOf := func(q url.Values) string {
		t.Helper()
		tok := redeem(t, s, codeFor(t, s, q), verifier)
		wantStatus(t, tok, http.StatusOK)
		return jwtPayload(t, tok.json(t)["access_token"].(string))["upn"].(string)
	}
	q := authorizeQuery(s, challenge)
	if got := upnOf(q); got != DefaultUserPrincipalName {
		t.Errorf("by default %s signs in", got)
	}
	s.SignInAs(DemoMarketingUser)
	if got := upnOf(q); got != DemoMarketingUser {
		t.Errorf("after SignInAs %s signs in", got)
	}
	q.Set("login_hint", DemoWestUser)
	if got := upnOf(q); got != DemoWestUser {
		t.Errorf("login_hint %s: %s signs in", DemoWestUser, got)
	}
	q.Set("login_hint", "nobody@contoso.com")
	if a := authorize(t, s, q); a.status != http.StatusBadRequest || !strings.Contains(a.page, "AADSTS50034") {
		t.Errorf("unknown user: %d %v %s", a.status, a.query, a.page)
	}
}

// TestMSALInteractiveSignIn signs in as MSAL's interactive flow does on a
// desktop: it listens on a loopback port, opens the authorize URL in a
// "browser" (here a client that follows the redirect back to MSAL), and
// redeems the code with its PKCE verifier.
func TestMSALInteractiveSignIn(t *testing.T) {
	// Tokens that live less than MSAL's five minutes of headroom, so that a
	// silent call renews them.
	s := newTestServer(t, Options{TokenLifetime: 2 * time.Minute})
	s.SeedDemo()
	pc, err := public.New(PublicClientID, public.WithAuthority(s.AuthorityHost()+"/"+s.TenantID()),
		public.WithHTTPClient(s.Client()), public.WithInstanceDiscovery(false))
	if err != nil {
		t.Fatal(err)
	}
	browser := func(authorizeURL string) error {
		// MSAL asks for response_mode=form_post: Entra's page posts the code to MSAL's
		// loopback listener (plain HTTP), as the browser's script would.
		resp, err := signInClient(s).Get(authorizeURL)
		if err != nil {
			return err
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		action := regexp.MustCompile(`<form method="POST" name="hiddenform" action="([^"]+)">`).FindSubmatch(page)
		if resp.StatusCode != http.StatusOK || action == nil {
			return fmt.Errorf("authorize answered %s: %s", resp.Status, page)
		}
		form := url.Values{}
		for _, m := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)" />`).FindAllSubmatch(page, -1) {
			form.Set(html.UnescapeString(string(m[1])), html.UnescapeString(string(m[2])))
		}
		back, err := http.PostForm(html.UnescapeString(string(action[1])), form)
		if err != nil {
			return err
		}
		return back.Body.Close()
	}
	scopes := []string{"api://" + s.ClientID() + "/" + APIScope}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := pc.AcquireTokenInteractive(ctx, scopes, public.WithOpenURL(browser), public.WithLoginHint(DemoMarketingUser))
	if err != nil {
		t.Fatalf("AcquireTokenInteractive: %v", err)
	}
	if res.Account.PreferredUsername != DemoMarketingUser {
		t.Errorf("account %+v", res.Account)
	}
	if c := signedClaims(t, s, res.AccessToken); c["upn"] != DemoMarketingUser || c["aud"] != "api://"+s.ClientID() {
		t.Errorf("access token claims %v", c)
	}
	// MSAL keeps the refresh token and renews the token with it.
	before := s.TokenRequests()
	renewed, err := pc.AcquireTokenSilent(ctx, scopes, public.WithSilentAccount(res.Account))
	if err != nil {
		t.Fatalf("AcquireTokenSilent: %v", err)
	}
	if n := s.TokenRequests() - before; n != 1 || renewed.AccessToken == res.AccessToken {
		t.Errorf("silent renewal made %d token requests, want 1 and a new token", n)
	}
	if c := signedClaims(t, s, renewed.AccessToken); c["upn"] != DemoMarketingUser {
		t.Errorf("renewed token claims %v", c)
	}
}

// BenchmarkAuthorizationCodeSignIn measures one sign-in as an MCP client
// makes it: authorize, read the redirect, redeem the code.
func BenchmarkAuthorizationCodeSignIn(b *testing.B) {
	s := NewServer(Options{})
	defer s.Close()
	verifier, challenge := pkce("bench")
	authorizeURL := s.URL() + "/" + s.TenantID() + "/oauth2/v2.0/authorize?" + authorizeQuery(s, challenge).Encode()
	client := signInClient(s)
	for b.Loop() {
		resp, err := client.Get(authorizeURL)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		tok, err := client.PostForm(s.URL()+"/"+s.TenantID()+"/oauth2/v2.0/token", url.Values{"grant_type": {"authorization_code"},
			"client_id": {PublicClientID}, "code": {loc.Query().Get("code")}, "redirect_uri": {loopback}, "code_verifier": {verifier}})
		if err != nil {
			b.Fatal(err)
		}
		tok.Body.Close()
		if tok.StatusCode != http.StatusOK {
			b.Fatalf("token endpoint answered %s", tok.Status)
		}
	}
}

// TestConcurrentSignInsKeepUsersApart signs two users in at once, many
// times: each code gives its own user's token.
func TestConcurrentSignInsKeepUsersApart(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	verifier, challenge := pkce("conc")
	users := []string{DefaultUserPrincipalName, DemoMarketingUser}
	var wg sync.WaitGroup
	errs := make(chan string, 32)
	tokens := make([]string, 32)
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q := authorizeQuery(s, challenge)
			q.Set("login_hint", users[i%2])
			resp, err := signInClient(s).Get(s.URL() + "/" + s.TenantID() + "/oauth2/v2.0/authorize?" + q.Encode())
			if err != nil {
				errs <- err.Error()
				return
			}
			resp.Body.Close()
			loc, _ := url.Parse(resp.Header.Get("Location"))
			tok, err := s.Client().PostForm(s.URL()+"/"+s.TenantID()+"/oauth2/v2.0/token", url.Values{"grant_type": {"authorization_code"},
				"client_id": {PublicClientID}, "code": {loc.Query().Get("code")}, "redirect_uri": {loopback}, "code_verifier": {verifier}})
			if err != nil {
				errs <- err.Error()
				return
			}
			defer tok.Body.Close()
			var body struct {
				AccessToken string `json:"access_token"`
			}
			if err := json.NewDecoder(tok.Body).Decode(&body); err != nil || body.AccessToken == "" {
				errs <- fmt.Sprintf("token answer %s: %v", tok.Status, err)
				return
			}
			tokens[i] = body.AccessToken
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	// Checked here: a test may only stop from its own goroutine.
	for i, tok := range tokens {
		if tok == "" {
			continue
		}
		if c := signedClaims(t, s, tok); c["upn"] != users[i%2] {
			t.Errorf("sign-in as %s gave a token for %v", users[i%2], c["upn"])
		}
	}
}
