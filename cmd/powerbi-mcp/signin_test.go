package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/rs/zerolog"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

func TestSignInFlagsAndEnvironment(t *testing.T) {
	cfg, err := parseConfig(nil, env(nil), io.Discard)
	if err != nil || cfg.Auth != "auto" || cfg.cloud.Name != "public" || cfg.BaseURL != "https://api.powerbi.com/v1.0/myorg" {
		t.Fatalf("defaults: %+v %v", cfg.signIn, err)
	}
	cfg, err = parseConfig([]string{"--auth", "Azure-CLI", "--token-cache-dir", "/tmp/tokens"},
		env(map[string]string{"PBI_MCP_AUTH": "token", "PBI_MCP_CLOUD": "usgovhigh"}), io.Discard)
	if err != nil || cfg.Auth != "azure-cli" || cfg.TokenCacheDir != "/tmp/tokens" {
		t.Fatalf("flags: %+v %v", cfg.signIn, err)
	}
	if cfg.BaseURL != "https://api.high.powerbigov.us/v1.0/myorg" {
		t.Fatalf("--cloud usgovhigh chose the base URL %s", cfg.BaseURL)
	}
	ac := cfg.authConfig(env(map[string]string{"PBI_MCP_AUTH": "token", "AZURE_CLIENT_ID": "c"}), zerolog.Nop())
	if ac.Kind != "azure-cli" || ac.Cloud != "usgovhigh" || ac.TokenCacheDir != "/tmp/tokens" || ac.ClientID != "c" {
		t.Fatalf("auth config: %+v", ac)
	}
	cfg, err = parseConfig([]string{"--cloud", "china", "--base-url", "https://proxy.example.com/v1.0/myorg"}, env(nil), io.Discard)
	if err != nil || cfg.BaseURL != "https://proxy.example.com/v1.0/myorg" {
		t.Fatalf("--base-url must win over the cloud's: %s %v", cfg.BaseURL, err)
	}
	cfg, err = parseConfig(nil, env(map[string]string{"PBI_MCP_CLOUD": "china"}), io.Discard)
	if err != nil || cfg.BaseURL != "https://api.powerbi.cn/v1.0/myorg" {
		t.Fatalf("PBI_MCP_CLOUD=china: %s %v", cfg.BaseURL, err)
	}

	for _, c := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--auth", "kerberos"}, nil, `--auth "kerberos": use one of auto, client-secret`},
		{nil, map[string]string{"PBI_MCP_AUTH": "password"}, `PBI_MCP_AUTH=password: use one of auto,`},
		{[]string{"--cloud", "germany"}, nil, `--cloud "germany": use one of public, usgov, usgovhigh, usdod, china`},
		{nil, map[string]string{"PBI_MCP_CLOUD": "mars"}, `PBI_MCP_CLOUD=mars: use one of public,`},
	} {
		if _, err := parseConfig(c.args, env(c.env), io.Discard); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v %v: got %v, want %s", c.args, c.env, err, c.want)
		}
	}
}

func TestSubcommandHelpAndErrors(t *testing.T) {
	var out strings.Builder
	run(t.Context(), []string{"--help"}, env(nil), strings.NewReader(""), &out, io.Discard)
	for _, want := range []string{"powerbi-mcp login", "powerbi-mcp logout", "powerbi-mcp whoami [--json]", "--auth", "PBI_MCP_CLOUD", "PBI_MCP_TOKEN_CACHE_DIR", "managed-identity"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %s", want)
		}
	}
	for _, name := range []string{"login", "logout", "whoami"} {
		var stdout, stderr strings.Builder
		if code := run(t.Context(), []string{name, "--help"}, env(nil), nil, &stdout, &stderr); code != 0 || stderr.Len() != 0 {
			t.Errorf("%s --help: exit %d, stderr %q", name, code, stderr.String())
		}
		if !strings.Contains(stdout.String(), "Usage: powerbi-mcp "+name) || !strings.Contains(stdout.String(), "PBI_MCP_AUTH") {
			t.Errorf("%s --help:\n%s", name, stdout.String())
		}
		if code := run(t.Context(), []string{name, "--cloud", "mars"}, env(nil), nil, io.Discard, &stderr); code != 2 ||
			!strings.Contains(stderr.String(), `--cloud "mars"`) {
			t.Errorf("%s --cloud mars: exit %d %s", name, code, stderr.String())
		}
	}
	var stderr strings.Builder
	if code := run(t.Context(), []string{"login", "--auth", "client-secret"}, env(nil), nil, io.Discard, &stderr); code != 2 ||
		!strings.Contains(stderr.String(), "needs no login") {
		t.Errorf("login --auth client-secret: exit %d %s", code, stderr.String())
	}
}

// TestLoginAndLogoutFailCleanly: whatever the user sign-in kinds of this build can do, a
// login that cannot happen ends with the auth package's reason on stderr, not a crash, and
// nothing on stdout.
func TestLoginAndLogoutFailCleanly(t *testing.T) {
	e := env(map[string]string{
		"AZURE_CLIENT_ID":         "11111111-2222-3333-4444-555555555555",
		"AZURE_AUTHORITY_HOST":    "http://login.example.test", // refused before any network I/O
		"PBI_MCP_TOKEN_CACHE_DIR": t.TempDir(),
	})
	for _, args := range [][]string{{"login"}, {"login", "--auth", "username-password"}} {
		var stdout, stderr strings.Builder
		code := run(t.Context(), args, e, nil, &stdout, &stderr)
		if code != 1 || !strings.HasPrefix(stderr.String(), "powerbi-mcp login: ") || strings.Contains(stderr.String(), "auth:") || stdout.Len() != 0 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, stdout.String(), stderr.String())
		}
	}
	var stdout, stderr strings.Builder
	switch code := run(t.Context(), []string{"logout"}, e, nil, &stdout, &stderr); code {
	case 0:
		if !strings.Contains(stdout.String(), "nothing to do") {
			t.Errorf("logout with an empty cache: %q", stdout.String())
		}
	case 1:
		if !strings.HasPrefix(stderr.String(), "powerbi-mcp logout: ") || strings.Contains(stderr.String(), "auth:") {
			t.Errorf("logout: %q", stderr.String())
		}
	default:
		t.Errorf("logout: exit %d %s", code, stderr.String())
	}
}

// tenantCertFile writes the tenant's certificate to a file, for a child process that trusts it
// through SSL_CERT_FILE, as it would a corporate CA. Only Linux honours that variable, so the
// test is skipped elsewhere.
func tenantCertFile(t testing.TB, tenant *pbitest.Server) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("SSL_CERT_FILE is how the child trusts the fake tenant; only Linux honours it")
	}
	certFile := filepath.Join(t.TempDir(), "tenant.pem")
	if err := os.WriteFile(certFile, tenant.CertificatePEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile
}

// tenantEnv is the environment of a child process signing in to tenant as its service
// principal, trusting its certificate through SSL_CERT_FILE.
func tenantEnv(t testing.TB, tenant *pbitest.Server) []string {
	t.Helper()
	return []string{
		"SSL_CERT_FILE=" + tenantCertFile(t, tenant),
		"AZURE_AUTHORITY_HOST=" + tenant.AuthorityHost(),
		"AZURE_TENANT_ID=" + tenant.TenantID(),
		"AZURE_CLIENT_ID=" + tenant.ClientID(),
		"AZURE_CLIENT_SECRET=" + tenant.ClientSecret(),
		"PBI_MCP_ACCESS_TOKEN=", "PBI_MCP_ACCESS_TOKEN_FILE=", "PBI_MCP_AUTH=", "PBI_MCP_CLOUD=",
		"PBI_MCP_BASE_URL=" + tenant.APIBaseURL(),
	}
}

func TestWhoamiShowsTheServicePrincipal(t *testing.T) {
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	tenant := pbitest.NewServer(pbitest.Options{})
	defer tenant.Close()
	environ := append(os.Environ(), tenantEnv(t, tenant)...)
	whoami := func(args ...string) (string, string) {
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(bin, append([]string{"whoami", "--log-level", "trace"}, args...)...)
		cmd.Env, cmd.Stdout, cmd.Stderr = environ, &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("whoami %v: %v\n%s", args, err, stderr.String())
		}
		if strings.Contains(stdout.String()+stderr.String(), tenant.ClientSecret()) || strings.Contains(stdout.String()+stderr.String(), "eyJ") {
			t.Fatalf("whoami printed the secret or a token:\n%s\n%s", stdout.String(), stderr.String())
		}
		return stdout.String(), stderr.String()
	}

	text, _ := whoami()
	for _, want := range []string{"Credential:  client secret (tenant " + tenant.TenantID(), "Tenant:      " + tenant.TenantID(),
		"Client:      " + tenant.ClientID(), "Principal:   app", "Audience:    https://analysis.windows.net/powerbi/api", "Expires:"} {
		if !strings.Contains(text, want) {
			t.Errorf("whoami lacks %q:\n%s", want, text)
		}
	}

	out, _ := whoami("--json")
	var got struct {
		Credential, TenantID, ClientID, PrincipalType string
		ExpiresOn                                     time.Time
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got.TenantID != tenant.TenantID() || got.ClientID != tenant.ClientID() || got.PrincipalType != "app" ||
		!strings.HasPrefix(got.Credential, "client secret") || time.Until(got.ExpiresOn) < 30*time.Minute {
		t.Fatalf("whoami --json: %s", out)
	}
}

// TestStdioWithAzureCLI runs the server with --auth azure-cli and a stand-in az on PATH that
// answers with a user token from the fake tenant, as az account get-access-token does.
func TestStdioWithAzureCLI(t *testing.T) {
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	tenant := pbitest.NewServer(pbitest.Options{})
	defer tenant.Close()
	tenant.SeedDemo()
	environ := tenantEnv(t, tenant)

	dir := t.TempDir()
	answer, _ := json.Marshal(map[string]any{"accessToken": tenant.IssueUserToken("", time.Hour),
		"expires_on": time.Now().Add(time.Hour).Unix(), "tokenType": "Bearer"})
	if err := os.WriteFile(filepath.Join(dir, "answer.json"), answer, 0o600); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\necho \"$@\" >> '" + dir + "/runs'\ncat '" + dir + "/answer.json'\n"
	if err := os.WriteFile(filepath.Join(dir, "az"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	environ = append(environ, "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"), "AZURE_CLIENT_SECRET=", "AZURE_TENANT_ID=")

	c, err := client.NewStdioMCPClient(bin, environ, "--auth", "azure-cli")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	initialize(t, c)
	for range 2 {
		res := callTool(t, c, "list_workspaces", nil)
		if res.IsError || !strings.Contains(resultText(res), "Sales Analytics") {
			t.Fatalf("%s", resultText(res))
		}
	}
	runs, _ := os.ReadFile(filepath.Join(dir, "runs"))
	if strings.Count(string(runs), "get-access-token") != 1 {
		t.Fatalf("az ran %q; want once, for both calls", runs)
	}
}
