package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// parseSettings reads the sandbox's KEY=value lines.
func parseSettings(t testing.TB, out string) map[string]string {
	t.Helper()
	settings := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("not a KEY=value line: %q", line)
		}
		settings[k] = v
	}
	return settings
}

// trustingClient trusts only the certificate in file.
func trustingClient(t testing.TB, file string) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("%s holds no certificate", file)
	}
	return &http.Client{
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       patience,
	}
}

// signInWithCode signs user in as an MCP client does, through the authorize endpoint and the
// authorization code grant with PKCE, for resource, and returns the access token, or the
// error Entra redirected with.
func signInWithCode(t testing.TB, c *http.Client, s map[string]string, user, redirectURI, resource string) (string, error) {
	t.Helper()
	verifier := base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("v", 48)))
	sum := sha256.Sum256([]byte(verifier))
	scope := "api://" + s["AZURE_CLIENT_ID"] + "/user_impersonation"
	authority := s["AZURE_AUTHORITY_HOST"] + "/" + s["AZURE_TENANT_ID"] + "/oauth2/v2.0/"
	q := url.Values{"client_id": {s[sandboxPublicClientVar]}, "response_type": {"code"}, "redirect_uri": {redirectURI},
		"scope": {scope}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
		"login_hint": {user}, "resource": {resource}}
	resp, err := c.Get(authority + "authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil {
		t.Fatalf("authorize: %s, Location %q", resp.Status, resp.Header.Get("Location"))
	}
	if e := loc.Query().Get("error_description"); e != "" {
		return "", errors.New(e)
	}
	resp, err = c.PostForm(authority+"token", url.Values{"grant_type": {"authorization_code"}, "client_id": {s[sandboxPublicClientVar]},
		"code": {loc.Query().Get("code")}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}, "scope": {scope}, "resource": {resource}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token: %s, %v", resp.Status, err)
	}
	return tok.AccessToken, nil
}

// jwtClaims decodes a token's claims, unverified.
func jwtClaims(t testing.TB, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	var claims map[string]any
	if err == nil {
		err = json.Unmarshal(payload, &claims)
	}
	if len(parts) != 3 || err != nil {
		t.Fatalf("not a JWT: %v", err)
	}
	return claims
}

// The flags reach the tenant: the certificate file is the one it serves with, the Application
// ID URIs are accepted as the resource of a sign-in (another is refused, as Entra refuses it),
// the redirect URI is registered, the token version is the one asked for; and the process
// stops when its context ends.
func TestSandboxCommand(t *testing.T) {
	cert := filepath.Join(t.TempDir(), "tenant.pem")
	const publicURL, otherURL = "http://127.0.0.1:1/mcp", "https://pbi.contoso.example/mcp"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout, stderr := &lockedBuffer{}, &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"sandbox", "--cert", cert, "--app-id-uri", publicURL + "," + otherURL,
			"--redirect-uri", "http://127.0.0.1/callback", "--access-token-version", "2"}, env(nil), nil, stdout, stderr)
	}()
	waitFor(t, "the settings", func() bool { return strings.Contains(stdout.String(), sandboxPublicClientVar) })
	s := parseSettings(t, stdout.String())
	for k, want := range map[string]string{"AZURE_TENANT_ID": pbitest.DefaultTenantID, "AZURE_CLIENT_ID": pbitest.DefaultClientID,
		"AZURE_CLIENT_SECRET": pbitest.DefaultClientSecret, "SSL_CERT_FILE": cert, "NODE_EXTRA_CA_CERTS": cert,
		sandboxPublicClientVar: pbitest.PublicClientID, "PBI_MCP_BASE_URL": s["AZURE_AUTHORITY_HOST"] + "/v1.0/myorg"} {
		if s[k] != want {
			t.Errorf("%s=%s, want %s", k, s[k], want)
		}
	}
	c := trustingClient(t, cert)
	for _, resource := range []string{publicURL, otherURL} {
		token, err := signInWithCode(t, c, s, pbitest.DemoMarketingUser, "http://127.0.0.1:50123/callback", resource)
		if err != nil {
			t.Fatalf("sign-in for %s: %v", resource, err)
		}
		if claims := jwtClaims(t, token); claims["ver"] != "2.0" || claims["aud"] != pbitest.DefaultClientID || claims["preferred_username"] != pbitest.DemoMarketingUser {
			t.Errorf("the token's claims: ver %v, aud %v, user %v; want a v2 token of %s for the app", claims["ver"], claims["aud"], claims["preferred_username"], pbitest.DemoMarketingUser)
		}
	}
	if _, err := signInWithCode(t, c, s, pbitest.DemoMarketingUser, "http://127.0.0.1:50123/callback", "https://elsewhere.example/mcp"); err == nil || !strings.Contains(err.Error(), "AADSTS9010010") {
		t.Errorf("a resource not given with --app-id-uri: %v, want AADSTS9010010", err)
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit code %d after the context ended; stderr: %s", code, stderr)
		}
	case <-time.After(patience):
		t.Fatal("the sandbox did not stop when its context ended")
	}
	if _, err := c.Get(s["AZURE_AUTHORITY_HOST"]); err == nil {
		t.Error("the tenant still answers after the command returned")
	}
	if _, err := os.Stat(cert); err != nil {
		t.Errorf("the certificate --cert asked for is gone: %v", err)
	}
}

func TestSandboxCommandUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string // in stdout when code is 0, else in stderr
	}{
		{[]string{"--help"}, 0, "set -a"},
		{[]string{"--addr", "0.0.0.0:8443"}, 2, "loopback"},
		{[]string{"--access-token-version", "3"}, 2, "want 1 or 2"},
		{[]string{"--app-id-uri", "pbi.contoso.com"}, 2, "not a URL"},
		{[]string{"extra"}, 2, "unexpected argument"},
	} {
		var stdout, stderr strings.Builder
		code := run(context.Background(), append([]string{"sandbox"}, tc.args...), env(nil), nil, &stdout, &stderr)
		out := stderr.String()
		if tc.code == 0 {
			out = stdout.String()
		}
		if code != tc.code || !strings.Contains(out, tc.want) {
			t.Errorf("sandbox %q: exit %d, output %q; want %d and %q", tc.args, code, out, tc.code, tc.want)
		}
	}
}

// freeLoopbackAddr is an address no one listens on, for a process that must be told its
// address before it starts.
func freeLoopbackAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// As processes, configured only by what the sandbox printed: a server in Entra mode in another
// process validates a caller's token signed in at the sandbox, exchanges it on behalf of the
// caller, and the caller sees their own workspaces. SIGTERM stops the sandbox, and its
// temporary certificate goes with it.
func TestSandboxProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("SSL_CERT_FILE is how the server trusts the sandbox; only Linux honours it")
	}
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	addr := freeLoopbackAddr(t)
	publicURL := "http://" + addr + "/mcp"
	sb := exec.Command(bin, "sandbox", "--app-id-uri", publicURL, "--access-token-version", "2")
	out, err := sb.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	sbLog := &lockedBuffer{}
	sb.Stderr = sbLog
	if err := sb.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Process.Kill(); sb.Wait() })
	var lines []string
	for sc := bufio.NewScanner(out); sc.Scan(); {
		if lines = append(lines, sc.Text()); strings.HasPrefix(sc.Text(), sandboxPublicClientVar) {
			break
		}
	}
	s := parseSettings(t, strings.Join(lines, "\n"))
	if s[sandboxPublicClientVar] == "" {
		t.Fatalf("the sandbox printed %q; stderr: %s", lines, sbLog)
	}

	srv := exec.Command(bin, "--transport", "http", "--addr", addr, "--http-auth", "entra", "--public-url", publicURL,
		"--audit-log", "off", "--export-dir", t.TempDir(), "--data-dir", t.TempDir())
	srv.Env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
	for k, v := range s {
		srv.Env = append(srv.Env, k+"="+v)
	}
	srvLog := &lockedBuffer{}
	srv.Stderr = srvLog
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	waitFor(t, "the server to listen", func() bool { return get("http://"+addr+"/readyz") == http.StatusOK })

	token, err := signInWithCode(t, trustingClient(t, s["SSL_CERT_FILE"]), s, pbitest.DemoMarketingUser, "http://127.0.0.1:50123", publicURL)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.NewStreamableHttpClient(publicURL, transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + token}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	initialize(t, c)
	res := callTool(t, c, "list_workspaces", nil)
	var got struct{ Workspaces []struct{ Name string } }
	raw, _ := json.Marshal(res.StructuredContent)
	_ = json.Unmarshal(raw, &got)
	var names []string
	for _, w := range got.Workspaces {
		names = append(names, w.Name)
	}
	if res.IsError || !slices.Contains(names, "Marketing") || slices.Contains(names, "Finance") {
		t.Errorf("Adele sees %q (%s); want Marketing and not Finance\nserver log:\n%s", names, resultText(res), srvLog)
	}

	if err := sb.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, out)
	if err := sb.Wait(); err != nil {
		t.Errorf("the sandbox after SIGTERM: %v; stderr: %s", err, sbLog)
	}
	if _, err := os.Stat(s["SSL_CERT_FILE"]); !os.IsNotExist(err) {
		t.Errorf("the temporary certificate is still there after exit: %v", err)
	}
}
