package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

const deviceCodeRoute = "POST /{tenant}/oauth2/v2.0/devicecode"

// userConfig is a device-code configuration for s with its own token cache
// directory. The tenant is left to its default, organizations.
func userConfig(t *testing.T, s *pbitest.Server) auth.Config {
	return auth.Config{
		Kind:          auth.KindDeviceCode,
		AuthorityHost: s.AuthorityHost(),
		ClientID:      s.ClientID(),
		HTTPClient:    s.Client(),
		TokenCacheDir: t.TempDir(),
	}
}

// passwordConfig is a username-password configuration for s.
func passwordConfig(t *testing.T, s *pbitest.Server, user, password string) auth.Config {
	cfg := userConfig(t, s)
	cfg.Kind = auth.KindUsernamePassword
	cfg.Username, cfg.Password = user, password
	return cfg
}

// wantSignIn calls Token and expects a *SignInRequired.
func wantSignIn(t *testing.T, src auth.TokenSource) *auth.SignInRequired {
	t.Helper()
	tok, err := src.Token(context.Background())
	var sir *auth.SignInRequired
	if !errors.As(err, &sir) {
		t.Fatalf("Token = %q, %v; want *auth.SignInRequired", tok, err)
	}
	return sir
}

// signInOnPage does what the user does in a browser: post the code to the
// verification page.
func signInOnPage(t *testing.T, s *pbitest.Server, sir *auth.SignInRequired) {
	t.Helper()
	resp, err := s.Client().PostForm(sir.VerificationURL, url.Values{"code": {sir.UserCode}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "You have signed in") {
		t.Fatalf("sign-in page answered %d: %s", resp.StatusCode, page)
	}
}

// tokenEventually asks again, as a user would, until Token succeeds. MSAL
// polls Entra at growing intervals (up to 5 s), so success is not
// immediate.
func tokenEventually(t *testing.T, src auth.TokenSource) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		tok, err := src.Token(context.Background())
		if err == nil {
			return tok
		}
		var sir *auth.SignInRequired
		if !errors.As(err, &sir) || time.Now().After(deadline) {
			t.Fatalf("Token: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// login signs in ahead of time, approving the device code as the user.
func login(t *testing.T, s *pbitest.Server, cfg auth.Config) auth.Account {
	t.Helper()
	acct, err := auth.Login(context.Background(), cfg, func(sir *auth.SignInRequired) {
		if err := s.ApproveDeviceCode(sir.UserCode, ""); err != nil {
			t.Errorf("ApproveDeviceCode: %v", err)
		}
	})
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	return acct
}

func TestDeviceCodeSignInFromAToolCall(t *testing.T) {
	s := newTenant(t, pbitest.Options{})
	logger, logs := traceLogger()
	cfg := userConfig(t, s)
	cfg.Logger = logger
	src := newSource(t, cfg)

	sir := wantSignIn(t, src)
	if sir.VerificationURL != s.URL()+"/devicelogin" || sir.UserCode == "" || time.Until(sir.ExpiresOn) < 10*time.Minute {
		t.Fatalf("SignInRequired %+v", sir)
	}
	if pending := s.PendingDeviceCodes(); len(pending) != 1 || pending[0] != sir.UserCode {
		t.Fatalf("pending codes %v, want [%s]", pending, sir.UserCode)
	}
	msg := sir.Error()
	if !strings.Contains(msg, sir.VerificationURL) || !strings.Contains(msg, sir.UserCode) || !strings.Contains(msg, "ask again") {
		t.Errorf("error text %q", msg)
	}
	if !strings.Contains(logs.String(), `"level":"info"`) || !strings.Contains(logs.String(), sir.UserCode) {
		t.Errorf("the sign-in instruction was not logged at info: %s", logs.String())
	}

	// While the user has not signed in, every call (concurrent ones too)
	// answers the same code and starts no second sign-in. (Each such call
	// first waits for the sign-in a while; not that long here.)
	restore := auth.SetSignInWait(10 * time.Millisecond)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := src.Token(context.Background())
			var again *auth.SignInRequired
			if !errors.As(err, &again) || again.UserCode != sir.UserCode {
				t.Errorf("pending call: %v, want the same code %s", err, sir.UserCode)
			}
		}()
	}
	wg.Wait()
	if n := s.Count(deviceCodeRoute); n != 1 {
		t.Errorf("devicecode endpoint saw %d requests, want 1", n)
	}

	// A Power BI call before the sign-in fails with the instruction.
	c, err := pbiclient.New(pbiclient.Config{BaseURL: s.APIBaseURL(), Tokens: src, Transport: s.Client().Transport})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ListGroups(context.Background(), pbiclient.ListGroupsOptions{})
	var viaClient *auth.SignInRequired
	if !errors.As(err, &viaClient) || viaClient.UserCode != sir.UserCode {
		t.Errorf("ListGroups before sign-in: %v, want the SignInRequired", err)
	}

	restore()

	// Asking again right after signing in succeeds: the call waits for
	// MSAL's next poll.
	signInOnPage(t, s, sir)
	tok, err := src.Token(context.Background())
	if err != nil {
		t.Fatalf("Token right after signing in: %v", err)
	}
	listWorkspaces(t, s, src)
	if n := s.Count(deviceCodeRoute); n != 1 {
		t.Errorf("devicecode endpoint saw %d requests, want 1", n)
	}

	// Signed in: 100 concurrent calls share the token; after Power BI
	// rejects it, 100 concurrent calls cause one refresh-token redemption.
	before := s.TokenRequests()
	for _, got := range callConcurrently(t, 100, func() (string, error) { return src.Token(context.Background()) }) {
		if got != tok {
			t.Fatal("a signed-in source returned another token")
		}
	}
	s.ExpireTokens()
	src.Invalidate(tok)
	fresh := callConcurrently(t, 100, func() (string, error) { return src.Token(context.Background()) })
	if fresh[0] == tok {
		t.Fatal("Token returned the invalidated token")
	}
	if n := s.TokenRequests() - before; n != 1 {
		t.Errorf("token endpoint saw %d requests for 200 calls and one Invalidate, want 1", n)
	}
	listWorkspaces(t, s, src)
	if n := s.Count(deviceCodeRoute); n != 1 {
		t.Errorf("renewing the token started a new sign-in")
	}
	checkNoSecrets(t, cfg, logs.String(), src.Describe(), tok, fresh[0])
}

// checkNoSecrets checks that the log and Describe hold none of the tokens,
// the refresh tokens in the cache file or a password.
func checkNoSecrets(t *testing.T, cfg auth.Config, logs, describe string, secrets ...string) {
	t.Helper()
	path, err := auth.TokenCachePath(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(path); err == nil {
		var c map[string]map[string]map[string]any
		if err := json.Unmarshal(data, &c); err != nil {
			t.Fatal(err)
		}
		for _, section := range []string{"RefreshToken", "AccessToken"} {
			for _, e := range c[section] {
				secrets = append(secrets, e["secret"].(string))
			}
		}
	}
	if cfg.Password != "" {
		secrets = append(secrets, cfg.Password)
	}
	for _, secret := range secrets {
		if secret == "" {
			continue
		}
		if strings.Contains(logs, secret) || strings.Contains(describe, secret) {
			t.Errorf("a token or password appears in the log or Describe")
		}
	}
}

func TestDeviceCodeExpiredCodeStartsANewSignIn(t *testing.T) {
	s := newTenant(t, pbitest.Options{})
	src := newSource(t, userConfig(t, s))
	first := wantSignIn(t, src)
	s.ExpireDeviceCodes()
	deadline := time.Now().Add(20 * time.Second)
	for {
		sir := wantSignIn(t, src)
		if sir.UserCode != first.UserCode {
			if pending := s.PendingDeviceCodes(); len(pending) != 1 || pending[0] != sir.UserCode {
				t.Errorf("pending codes %v, want only the new %s", pending, sir.UserCode)
			}
			signInOnPage(t, s, sir)
			tokenEventually(t, src)
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("an expired code was still offered")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestDeviceCodeDeclinedStartsANewSignIn(t *testing.T) {
	s := newTenant(t, pbitest.Options{})
	src := newSource(t, userConfig(t, s))
	first := wantSignIn(t, src)
	if err := s.DeclineDeviceCode(first.UserCode); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for wantSignIn(t, src).UserCode == first.UserCode {
		if time.Now().After(deadline) {
			t.Fatal("a declined code was still offered")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestLoginThenANewServerNeedsNoTokenRequest(t *testing.T) {
	s := newTenant(t, pbitest.Options{})
	cfg := userConfig(t, s)
	acct := login(t, s, cfg)
	if acct.Username != pbitest.DefaultUserPrincipalName || acct.TenantID != s.TenantID() || acct.HomeID == "" {
		t.Errorf("Login returned %+v", acct)
	}
	if got, ok := auth.CachedUser(cfg); !ok || got != acct {
		t.Errorf("CachedUser = %+v, %v; want %+v", got, ok, acct)
	}
	other := cfg
	other.ClientID = "00000000-0000-0000-0000-00000000abcd"
	if _, ok := auth.CachedUser(other); ok {
		t.Error("CachedUser found a sign-in for another app")
	}

	// A new process: a new source (a new MSAL client) on the same cache.
	before := s.TokenRequests()
	src := newSource(t, cfg)
	listWorkspaces(t, s, src)
	if n := s.TokenRequests() - before; n != 0 {
		t.Errorf("the new source made %d token requests, want 0", n)
	}
	if n := s.Count(deviceCodeRoute); n != 1 {
		t.Errorf("devicecode endpoint saw %d requests, want 1 (Login's)", n)
	}

	path, err := auth.TokenCachePath(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(path) != cfg.TokenCacheDir {
		t.Errorf("cache file %s is not in %s", path, cfg.TokenCacheDir)
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("cache file mode %v, want 0600", fi.Mode().Perm())
		}
	}
	entries, _ := os.ReadDir(cfg.TokenCacheDir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func TestTokenCacheDirectoryIsCreatedPrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix permissions")
	}
	s := newTenant(t, pbitest.Options{})
	cfg := userConfig(t, s)
	cfg.TokenCacheDir = filepath.Join(cfg.TokenCacheDir, "nested", "powerbi-mcp")
	login(t, s, cfg)
	fi, err := os.Stat(cfg.TokenCacheDir)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("cache directory mode %v, want 0700", fi.Mode().Perm())
	}
}

func TestCorruptTokenCacheWarnsOnceAndAsksForSignIn(t *testing.T) {
	s := newTenant(t, pbitest.Options{})
	logger, logs := traceLogger()
	cfg := userConfig(t, s)
	cfg.Logger = logger
	path, err := auth.TokenCachePath(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(`{"AccessToken": {"x": tru`), 0o600); err != nil {
		t.Fatal(err)
	}
	defer auth.SetSignInWait(10 * time.Millisecond)()
	if _, ok := auth.CachedUser(cfg); ok {
		t.Error("CachedUser found a user in a corrupt file")
	}
	src := newSource(t, cfg)
	var sir *auth.SignInRequired
	for range 5 {
		sir = wantSignIn(t, src)
	}
	if n := strings.Count(logs.String(), "ignoring the token cache file"); n != 1 {
		t.Errorf("the corrupt file was reported %d times, want once; logs:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), path) || !strings.Contains(logs.String(), "Sign in again") {
		t.Errorf("the warning does not name the file and the fix: %s", logs.String())
	}
	// Signing in replaces the file with a valid one.
	signInOnPage(t, s, sir)
	tokenEventually(t, src)
	data, err := os.ReadFile(path)
	if err != nil || !json.Valid(data) {
		t.Fatalf("cache file after sign-in: %v, valid JSON %v", err, json.Valid(data))
	}
	if _, ok := auth.CachedUser(cfg); !ok {
		t.Error("CachedUser does not find the new sign-in")
	}
}

func TestConcurrentWritersKeepTheCacheValid(t *testing.T) {
	s := newTenant(t, pbitest.Options{})
	dir := t.TempDir()
	users := []string{"adele.vance@contoso.com", "alex.wilber@contoso.com", "lidia.holloway@contoso.com"}
	var sources []auth.TokenSource
	for _, u := range users {
		s.AddUser(u, "pw-"+u)
		cfg := passwordConfig(t, s, u, "pw-"+u)
		cfg.TokenCacheDir = dir
		sources = append(sources, newSource(t, cfg))
	}
	path := filepath.Join(dir, "token_cache.json")

	stop := make(chan struct{})
	readerDone := make(chan error)
	go func() {
		var bad error
		for {
			select {
			case <-stop:
				readerDone <- bad
				return
			default:
			}
			if data, err := os.ReadFile(path); err == nil && !json.Valid(data) && bad == nil {
				bad = errors.New("a reader saw invalid JSON: " + string(data))
			}
		}
	}()
	var wg sync.WaitGroup
	for _, src := range sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 15 {
				tok, err := src.Token(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				src.Invalidate(tok) // the next Token redeems the refresh token and writes the file
			}
		}()
	}
	wg.Wait()
	close(stop)
	if err := <-readerDone; err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil || !json.Valid(data) {
		t.Fatalf("cache file: %v", err)
	}
	// Every user's sign-in survived the others' writes.
	cfg := userConfig(t, s)
	cfg.TokenCacheDir = dir
	removed, err := auth.Logout(cfg)
	if err != nil || len(removed) != len(users) {
		t.Errorf("Logout removed %v, %v; want the %d users", removed, err, len(users))
	}
}

func TestUsernamePasswordSignIn(t *testing.T) {
	s := newTenant(t, pbitest.Options{})
	logger, logs := traceLogger()
	cfg := passwordConfig(t, s, pbitest.DefaultUserPrincipalName, pbitest.DemoUserPassword)
	cfg.TenantID = s.TenantID()
	cfg.Logger = logger
	src := newSource(t, cfg)
	listWorkspaces(t, s, src)
	if n := strings.Count(logs.String(), "deprecates"); n != 1 {
		t.Errorf("the deprecation was logged %d times, want once", n)
	}
	d := src.Describe()
	for _, want := range []string{"username and password", pbitest.DefaultUserPrincipalName, s.TenantID(), s.ClientID()} {
		if !strings.Contains(d, want) {
			t.Errorf("Describe() = %q, want it to mention %q", d, want)
		}
	}

	// A restart redeems the cached sign-in: no password sent, no request.
	before := s.TokenRequests()
	again := newSource(t, cfg)
	tok, err := again.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n := s.TokenRequests() - before; n != 0 {
		t.Errorf("restarted source made %d token requests, want 0", n)
	}
	checkNoSecrets(t, cfg, logs.String(), d+again.Describe(), tok)
}

// A cold cache and a burst of tool calls: the password is sent once.
func TestUsernamePasswordConcurrentColdCacheSharesOneRequest(t *testing.T) {
	s := newTenant(t, pbitest.Options{})
	cfg := passwordConfig(t, s, pbitest.DefaultUserPrincipalName, pbitest.DemoUserPassword)
	cfg.TenantID = s.TenantID()
	src := newSource(t, cfg)
	before := s.TokenRequests()
	tokens := callConcurrently(t, 100, func() (string, error) { return src.Token(context.Background()) })
	for _, tok := range tokens {
		if tok != tokens[0] {
			t.Fatal("concurrent callers got different tokens")
		}
	}
	if n := s.TokenRequests() - before; n != 1 {
		t.Fatalf("100 concurrent calls on a cold cache made %d token requests, want 1", n)
	}
}

func TestUsernamePasswordRejections(t *testing.T) {
	s := newTenant(t, pbitest.Options{})
	s.AddUser("mfa.user@contoso.com", "mfa-user-password-123")
	s.RequireMFA("mfa.user@contoso.com")
	tests := []struct {
		name, user, password, wantCode, wantText string
	}{
		{"wrong password", pbitest.DefaultUserPrincipalName, "wrong-password-456", "AADSTS50126", "username or password"},
		{"MFA", "mfa.user@contoso.com", "mfa-user-password-123", "AADSTS50076", "--auth device-code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logger, logs := traceLogger()
			cfg := passwordConfig(t, s, tt.user, tt.password)
			cfg.Logger = logger
			_, err := newSource(t, cfg).Token(context.Background())
			var e *auth.Error
			if !errors.As(err, &e) || e.AADSTS != tt.wantCode {
				t.Fatalf("Token error = %v, want %s", err, tt.wantCode)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not say %q", err, tt.wantText)
			}
			if strings.Contains(err.Error(), tt.password) || strings.Contains(logs.String(), tt.password) {
				t.Error("the password appears in the error or the log")
			}
		})
	}
}

func TestUserSignInConfiguration(t *testing.T) {
	_, err := auth.New(auth.Config{Kind: auth.KindDeviceCode, TokenCacheDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "Allow public client flows") || !strings.Contains(err.Error(), auth.EnvClientID) {
		t.Fatalf("device code without a client id: %v", err)
	}
	// A headline, then the steps, each on a line a terminal shows whole.
	lines := strings.Split(err.Error(), "\n")
	if lines[0] != "signing in with a device code needs AZURE_CLIENT_ID, an app registration users can sign in to" || len(lines) < 4 {
		t.Errorf("device code without a client id: want a headline, then the steps:\n%v", err)
	}
	for _, line := range lines {
		if len(line) > 100 {
			t.Errorf("a line of %d characters: %q", len(line), line)
		}
	}
	_, err = auth.New(auth.Config{Kind: auth.KindUsernamePassword, ClientID: "c", Username: "u@contoso.com", Password: "p",
		TenantID: "common", TokenCacheDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "organizations") {
		t.Errorf("username-password over common: %v", err)
	}
	_, err = auth.New(auth.Config{Kind: auth.KindUsernamePassword, ClientID: "c", TokenCacheDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), auth.EnvUsername) || !strings.Contains(err.Error(), auth.EnvPassword) {
		t.Errorf("username-password without credentials: %v", err)
	}
}

func TestDeviceCodeWithTenantID(t *testing.T) {
	s := newTenant(t, pbitest.Options{})
	cfg := userConfig(t, s)
	cfg.TenantID = s.TenantID()
	src := newSource(t, cfg)
	if d := src.Describe(); !strings.Contains(d, "device code") || !strings.Contains(d, s.TenantID()) || !strings.Contains(d, s.ClientID()) {
		t.Errorf("Describe() = %q", d)
	}
	signInOnPage(t, s, wantSignIn(t, src))
	tokenEventually(t, src)
	listWorkspaces(t, s, src)
}

func TestLogoutThenSignInIsAskedFor(t *testing.T) {
	s := newTenant(t, pbitest.Options{})
	cfg := userConfig(t, s)
	acct := login(t, s, cfg)
	removed, err := auth.Logout(cfg)
	if err != nil || len(removed) != 1 || removed[0] != acct {
		t.Fatalf("Logout = %v, %v; want [%+v]", removed, err, acct)
	}
	if _, ok := auth.CachedUser(cfg); ok {
		t.Error("CachedUser still finds the user")
	}
	wantSignIn(t, newSource(t, cfg))
	// Nobody left to sign out is not an error, nor is a cache never written.
	if removed, err := auth.Logout(cfg); err != nil || len(removed) != 0 {
		t.Errorf("second Logout = %v, %v", removed, err)
	}
	empty := cfg
	empty.TokenCacheDir = filepath.Join(t.TempDir(), "never")
	if removed, err := auth.Logout(empty); err != nil || len(removed) != 0 {
		t.Errorf("Logout without a cache = %v, %v", removed, err)
	}
}

func TestRevokedSignInAsksForANewOne(t *testing.T) {
	s := newTenant(t, pbitest.Options{})
	cfg := userConfig(t, s)
	login(t, s, cfg)
	src := newSource(t, cfg)
	tok, err := src.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s.RevokeRefreshTokens("")
	s.ExpireTokens()
	src.Invalidate(tok)
	defer auth.SetSignInWait(10 * time.Millisecond)()
	wantSignIn(t, src)
	// The refused sign-in is gone: neither auto nor later calls take the
	// user for signed in, and pending calls do not ask Entra again.
	if _, ok := auth.CachedUser(cfg); ok {
		t.Error("CachedUser still finds the revoked sign-in")
	}
	before := s.TokenRequests()
	for range 3 {
		wantSignIn(t, src)
	}
	if n := s.TokenRequests() - before; n != 0 {
		t.Errorf("pending calls made %d token requests, want 0", n)
	}
}

func TestLoginWithUsernamePassword(t *testing.T) {
	s := newTenant(t, pbitest.Options{})
	cfg := passwordConfig(t, s, pbitest.DefaultUserPrincipalName, pbitest.DemoUserPassword)
	cfg.Kind = "" // auto: a configured username and password choose ROPC
	acct, err := auth.Login(context.Background(), cfg, func(*auth.SignInRequired) { t.Error("a password sign-in prompted for a device code") })
	if err != nil || acct.Username != pbitest.DefaultUserPrincipalName {
		t.Fatalf("Login = %+v, %v", acct, err)
	}
	before := s.TokenRequests()
	cfg.Kind = auth.KindUsernamePassword
	listWorkspaces(t, s, newSource(t, cfg))
	if n := s.TokenRequests() - before; n != 0 {
		t.Errorf("a source after Login made %d token requests, want 0", n)
	}
	cfg.Kind = auth.KindClientSecret
	if _, err := auth.Login(context.Background(), cfg, nil); err == nil || !strings.Contains(err.Error(), auth.KindDeviceCode) {
		t.Errorf("Login with a service principal kind: %v", err)
	}
}

func TestUnusableTokenCacheFileNeverStopsSignIn(t *testing.T) {
	s := newTenant(t, pbitest.Options{})
	logger, logs := traceLogger()
	cfg := userConfig(t, s)
	cfg.Logger = logger
	path, err := auth.TokenCachePath(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// A directory where the file should be: it can be neither read nor
	// replaced.
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	defer auth.SetSignInWait(10 * time.Millisecond)()
	src := newSource(t, cfg)
	sir := wantSignIn(t, src)
	wantSignIn(t, src)
	signInOnPage(t, s, sir)
	tok := tokenEventually(t, src)
	// The sign-in lasts in memory.
	for range 3 {
		if again, err := src.Token(context.Background()); err != nil || again != tok {
			t.Fatalf("Token after sign-in: %v", err)
		}
	}
	out := logs.String()
	if n := strings.Count(out, "ignoring the token cache file"); n != 1 {
		t.Errorf("the unreadable file was reported %d times, want once:\n%s", n, out)
	}
	if n := strings.Count(out, "cannot save the sign-in"); n != 1 {
		t.Errorf("the failed write was reported %d times, want once:\n%s", n, out)
	}
}

func TestDeviceCodeSlowDownIsWaitedOut(t *testing.T) {
	s := newTenant(t, pbitest.Options{})
	src := newSource(t, userConfig(t, s))
	s.SlowDownDeviceCodePolls(2)
	sir := wantSignIn(t, src)
	// MSAL polls after 50, 200 and 650 ms: let the slow_down answers reach it.
	time.Sleep(700 * time.Millisecond)
	signInOnPage(t, s, sir)
	tokenEventually(t, src)
	if n := s.Count(deviceCodeRoute); n != 1 {
		t.Errorf("slow_down started %d sign-ins, want 1", n)
	}
}
