package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// These tests run the binary as separate processes, the way a user signs in with
// powerbi-mcp login and an agent then starts the server: the token cache file is all
// they share.

// userEnv is the environment of a child process signing a user of tenant in, with its
// tokens cached in cacheDir: the tenant's public client, no secret, logs at trace level.
func userEnv(t *testing.T, tenant *pbitest.Server, tenantID, cacheDir string) []string {
	t.Helper()
	return append(tenantEnv(t, tenant),
		"AZURE_TENANT_ID="+tenantID,
		"AZURE_CLIENT_SECRET=", "AZURE_USERNAME=", "AZURE_PASSWORD=",
		"PBI_MCP_TOKEN_CACHE_DIR="+cacheDir,
		"PBI_MCP_LOG_LEVEL=trace",
	)
}

// signInCode finds the code of a sign-in instruction, from login's prompt or a tool result.
var signInCode = regexp.MustCompile(`open (https://\S+/devicelogin) and enter (?:the )?code ([A-Z0-9]+)`)

// signInInBrowser does what the user does on the sign-in page: enters the code there.
func signInInBrowser(t *testing.T, tenant *pbitest.Server, page, code string) {
	t.Helper()
	res, err := tenant.Client().PostForm(page, url.Values{"code": {code}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), "You have signed in") {
		t.Fatalf("the sign-in page answered %d: %s", res.StatusCode, body)
	}
}

// command runs a subcommand of the binary to its end.
func command(t *testing.T, environ []string, args ...string) (stdout, stderr string) {
	t.Helper()
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = append(os.Environ(), environ...), &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("powerbi-mcp %v: %v\nstdout: %s\nstderr: %s", args, err, out.String(), errOut.String())
	}
	return out.String(), errOut.String()
}

// loginWithDeviceCode runs powerbi-mcp login, reads the code it shows on stderr and signs
// in with it on the sign-in page, as the user would. It returns login's stdout and stderr.
func loginWithDeviceCode(t *testing.T, tenant *pbitest.Server, environ []string) (string, string) {
	t.Helper()
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "login", "--auth", "device-code", "--log-level", "trace")
	var stdout bytes.Buffer
	cmd.Env, cmd.Stdout = append(os.Environ(), environ...), &stdout
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	signedIn := false
	lines := bufio.NewScanner(pipe)
	for lines.Scan() {
		stderr.WriteString(lines.Text() + "\n")
		if m := signInCode.FindStringSubmatch(lines.Text()); m != nil && !signedIn {
			if m[1] != tenant.URL()+"/devicelogin" {
				t.Errorf("login sends the user to %s", m[1])
			}
			signInInBrowser(t, tenant, m[1], m[2])
			signedIn = true
		}
	}
	if err := cmd.Wait(); err != nil || !signedIn {
		t.Fatalf("login: %v (saw a code: %v)\nstdout: %s\nstderr: %s", err, signedIn, stdout.String(), stderr.String())
	}
	return stdout.String(), stderr.String()
}

// startServer starts the server binary over stdio; stop closes it and returns its stderr.
func startServer(t *testing.T, environ []string, args ...string) (*client.Client, func() string) {
	t.Helper()
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.NewStdioMCPClient(bin, environ, args...)
	if err != nil {
		t.Fatal(err)
	}
	initialize(t, c)
	stderr, _ := client.GetStderr(c)
	return c, func() string {
		c.Close()
		var logs bytes.Buffer
		logs.ReadFrom(stderr)
		return logs.String()
	}
}

// cachedSecrets returns the token values in the cache file: access, refresh and id tokens.
func cachedSecrets(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var file map[string]map[string]map[string]any
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatalf("the token cache is not MSAL's JSON: %v", err)
	}
	var secrets []string
	for _, section := range []string{"AccessToken", "RefreshToken", "IdToken"} {
		for _, entry := range file[section] {
			if s, _ := entry["secret"].(string); s != "" {
				secrets = append(secrets, s)
			}
		}
	}
	return secrets
}

// assertNoTokens fails if any output carries a token: one from the cache file, or
// anything shaped like a JWT.
func assertNoTokens(t *testing.T, secrets []string, outputs ...string) {
	t.Helper()
	for i, out := range outputs {
		if strings.Contains(out, "eyJ") {
			t.Errorf("output %d carries a JWT:\n%s", i, out)
		}
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("output %d carries a cached token:\n%s", i, out)
			}
		}
	}
}

// cachePath is where the binary keeps the tokens for cacheDir.
func cachePath(t *testing.T, cacheDir string) string {
	t.Helper()
	path, err := auth.TokenCachePath(auth.Config{TokenCacheDir: cacheDir})
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// signInInstructions asserts that res asks the user to sign in on tenant's page and
// returns the code.
func signInInstructions(t *testing.T, tenant *pbitest.Server, res *mcp.CallToolResult) string {
	t.Helper()
	m := signInCode.FindStringSubmatch(resultText(res))
	if !res.IsError || m == nil || m[1] != tenant.URL()+"/devicelogin" {
		t.Fatalf("want the sign-in instructions, got (isError %v): %s", res.IsError, resultText(res))
	}
	return m[2]
}

func listsDemoWorkspaces(t *testing.T, res *mcp.CallToolResult) {
	t.Helper()
	if res.IsError || !strings.Contains(resultText(res), "Sales Analytics") {
		t.Fatalf("list_workspaces (isError %v): %s", res.IsError, resultText(res))
	}
}

// TestLoginWithDeviceCodeThenServeFromTheCache: after powerbi-mcp login, a new server
// process serves tool calls with no request to the token endpoint; whoami shows the user;
// after logout the cache no longer holds the account and a new server asks for a sign-in.
// The tenant is organizations, as a multi-tenant public client is configured.
func TestLoginWithDeviceCodeThenServeFromTheCache(t *testing.T) {
	tenant := pbitest.NewServer(pbitest.Options{})
	defer tenant.Close()
	tenant.SeedDemo()
	cacheDir := t.TempDir()
	environ := userEnv(t, tenant, "organizations", cacheDir)

	out, loginLogs := loginWithDeviceCode(t, tenant, environ)
	if !strings.Contains(out, "Signed in as "+pbitest.DefaultUserPrincipalName) {
		t.Fatalf("login printed %q", out)
	}
	if n := tenant.Count("POST /{tenant}/oauth2/v2.0/devicecode"); n != 1 {
		t.Fatalf("login asked for %d device codes, want 1", n)
	}
	path := cachePath(t, cacheDir)
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("token cache file: %v %v", info, err)
	}
	secrets := cachedSecrets(t, path)
	if len(secrets) < 2 {
		t.Fatalf("the cache holds %d tokens after login; want the access and refresh tokens", len(secrets))
	}

	before := tenant.TokenRequests()
	c, stop := startServer(t, environ, "--auth", "device-code")
	for range 2 {
		listsDemoWorkspaces(t, callTool(t, c, "list_workspaces", nil))
	}
	serverLogs := stop()
	if n := tenant.TokenRequests() - before; n != 0 {
		t.Fatalf("the server made %d token requests; the login's cached token should have served", n)
	}

	whoamiOut, whoamiLogs := command(t, environ, "whoami", "--auth", "device-code", "--log-level", "trace")
	for _, want := range []string{"Principal:   user", "User:", pbitest.DefaultUserPrincipalName, "Scopes:"} {
		if !strings.Contains(whoamiOut, want) {
			t.Errorf("whoami lacks %q:\n%s", want, whoamiOut)
		}
	}

	logoutOut, logoutLogs := command(t, environ, "logout", "--log-level", "trace")
	if !strings.Contains(logoutOut, "Signed out "+pbitest.DefaultUserPrincipalName) {
		t.Fatalf("logout printed %q", logoutOut)
	}
	if data, err := os.ReadFile(path); err == nil && strings.Contains(strings.ToLower(string(data)), strings.ToLower(pbitest.DefaultUserPrincipalName)) {
		t.Fatalf("the cache still names the user after logout:\n%s", data)
	} else if err == nil {
		for _, s := range secrets {
			if strings.Contains(string(data), s) {
				t.Fatal("the cache still holds the user's tokens after logout")
			}
		}
	}

	c, stop = startServer(t, environ, "--auth", "device-code")
	signInInstructions(t, tenant, callTool(t, c, "list_workspaces", nil))
	afterLogoutLogs := stop()
	assertNoTokens(t, secrets, loginLogs, out, serverLogs, whoamiOut, whoamiLogs, logoutOut, logoutLogs, afterLogoutLogs)
}

// TestLoginWithPasswordThenServeFromTheCache: login --auth username-password caches the
// user's tokens, and a server started afterwards serves from the cache with no request to
// the token endpoint and no password sent. --auth username-password itself needs
// AZURE_PASSWORD configured even with the tokens cached (it says so in each result); with
// the default --auth auto and no password, the cached user serves.
func TestLoginWithPasswordThenServeFromTheCache(t *testing.T) {
	tenant := pbitest.NewServer(pbitest.Options{})
	defer tenant.Close()
	tenant.SeedDemo()
	cacheDir := t.TempDir()
	environ := append(userEnv(t, tenant, tenant.TenantID(), cacheDir),
		"AZURE_USERNAME="+pbitest.DefaultUserPrincipalName, "AZURE_PASSWORD="+pbitest.DemoUserPassword)

	out, loginLogs := command(t, environ, "login", "--auth", "username-password", "--log-level", "trace")
	if !strings.Contains(out, "Signed in as "+pbitest.DefaultUserPrincipalName) {
		t.Fatalf("login printed %q", out)
	}
	secrets := cachedSecrets(t, cachePath(t, cacheDir))

	// --auth username-password without the password: a configuration error, not the cache.
	before := tenant.TokenRequests()
	noPassword := append(environ, "AZURE_PASSWORD=")
	c, stop := startServer(t, noPassword, "--auth", "username-password")
	res := callTool(t, c, "list_workspaces", nil)
	noPasswordLogs := stop()
	if !res.IsError || !strings.Contains(resultText(res), "AZURE_PASSWORD") {
		t.Fatalf("without AZURE_PASSWORD, --auth username-password (isError %v): %s", res.IsError, resultText(res))
	}

	// With auto and no password, the cached user signs in silently.
	c, stop = startServer(t, noPassword)
	listsDemoWorkspaces(t, callTool(t, c, "list_workspaces", nil))
	autoLogs := stop()

	// With the password, the server still uses the cached token rather than sending it.
	c, stop = startServer(t, environ, "--auth", "username-password")
	for range 2 {
		listsDemoWorkspaces(t, callTool(t, c, "list_workspaces", nil))
	}
	serverLogs := stop()
	if n := tenant.TokenRequests() - before; n != 0 {
		t.Fatalf("the servers made %d token requests; the login's cached token should have served", n)
	}
	for _, logs := range []string{loginLogs, serverLogs, noPasswordLogs, autoLogs, out} {
		if strings.Contains(logs, pbitest.DemoUserPassword) {
			t.Fatalf("the password appeared in the output:\n%s", logs)
		}
	}
	assertNoTokens(t, secrets, loginLogs, out, serverLogs, noPasswordLogs, autoLogs)
}

// TestServerWithCorruptTokenCache: a cache file that is not a token cache is reported once,
// the server keeps serving MCP, and each call asks for a sign-in (the same code while it
// is pending); signing in replaces the file.
func TestServerWithCorruptTokenCache(t *testing.T) {
	tenant := pbitest.NewServer(pbitest.Options{})
	defer tenant.Close()
	tenant.SeedDemo()
	cacheDir := t.TempDir()
	path := cachePath(t, cacheDir)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("\x00garbage{\"AccessToken\": [not json"), 0o600); err != nil {
		t.Fatal(err)
	}

	c, stop := startServer(t, userEnv(t, tenant, tenant.TenantID(), cacheDir), "--auth", "device-code")
	first := signInInstructions(t, tenant, callTool(t, c, "list_workspaces", nil))
	second := signInInstructions(t, tenant, callTool(t, c, "list_workspaces", nil))
	if first != second {
		t.Fatalf("the second call started another sign-in: %s, then %s", first, second)
	}
	if _, err := c.ListTools(context.Background(), mcp.ListToolsRequest{}); err != nil {
		t.Fatalf("the server stopped answering: %v", err)
	}

	// Signing in replaces the corrupt file with the new sign-in.
	signInInBrowser(t, tenant, tenant.URL()+"/devicelogin", first)
	var res *mcp.CallToolResult
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(time.Second) {
		if res = callTool(t, c, "list_workspaces", nil); !res.IsError || time.Now().After(deadline) {
			break
		}
	}
	listsDemoWorkspaces(t, res)
	secrets := cachedSecrets(t, path)
	if data, _ := os.ReadFile(path); !strings.Contains(string(data), pbitest.DefaultUserPrincipalName) {
		t.Fatalf("after the sign-in the cache file does not hold the user:\n%s", data)
	}
	logs := stop()
	if n := strings.Count(logs, "ignoring the token cache file"); n != 1 {
		t.Fatalf("the corrupt cache was reported %d times, want once:\n%s", n, logs)
	}
	if strings.Contains(logs, "panic") {
		t.Fatalf("the server panicked:\n%s", logs)
	}
	assertNoTokens(t, secrets, logs)
}

// TestDeviceCodeSignInFromTheAgent: in one server process, the first call answers the
// sign-in instructions; once the user has entered the code, asking again succeeds without
// a restart and without a second device code.
func TestDeviceCodeSignInFromTheAgent(t *testing.T) {
	tenant := pbitest.NewServer(pbitest.Options{})
	defer tenant.Close()
	tenant.SeedDemo()
	cacheDir := t.TempDir()
	c, stop := startServer(t, userEnv(t, tenant, tenant.TenantID(), cacheDir), "--auth", "device-code")

	res := callTool(t, c, "list_workspaces", nil)
	code := signInInstructions(t, tenant, res)
	if pending := tenant.PendingDeviceCodes(); len(pending) != 1 || pending[0] != code {
		t.Fatalf("the tool result shows code %s; the tenant waits for %v", code, pending)
	}
	// The user is slower than the server's first polls: sign in once a few have been told
	// authorization_pending, so the sign-in lands while MSAL waits between polls.
	for wait := time.Now().Add(10 * time.Second); tenant.TokenRequests() < 3; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(wait) {
			t.Fatalf("the server polled %d times in 10 s", tenant.TokenRequests())
		}
	}
	signInInBrowser(t, tenant, tenant.URL()+"/devicelogin", code)

	deadline, tries := time.Now().Add(15*time.Second), 0
	for {
		tries++
		res = callTool(t, c, "list_workspaces", nil)
		if !res.IsError {
			break
		}
		if again := signInInstructions(t, tenant, res); again != code {
			t.Fatalf("asking again started a new sign-in: %s, then %s", code, again)
		}
		if time.Now().After(deadline) {
			t.Fatalf("still not signed in: %s", resultText(res))
		}
		time.Sleep(time.Second)
	}
	listsDemoWorkspaces(t, res)
	t.Logf("signed in on call %d after entering the code", tries)
	if n := tenant.Count("POST /{tenant}/oauth2/v2.0/devicecode"); n != 1 {
		t.Fatalf("%d device codes were requested, want 1", n)
	}
	logs := stop()
	assertNoTokens(t, cachedSecrets(t, cachePath(t, cacheDir)), logs)
}
