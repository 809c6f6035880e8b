package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/rs/zerolog"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
	"github.com/powerbi-mcp/powerbi-mcp/tools"
)

// registryTools names the tools the registry selects for opts, sorted.
func registryTools(opts tools.Options) string {
	selected, err := tools.Select(tools.All(tools.Deps{}), opts)
	if err != nil {
		panic(err)
	}
	var names []string
	for _, t := range selected {
		names = append(names, t.Definition.Name)
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}

var (
	defaultTools = registryTools(tools.Options{})
	allTools     = registryTools(tools.Options{Toolsets: []string{"all"}})
)

// binary builds powerbi-mcp once for the tests that run it as a separate process, the way
// desktop agents do, as releases are built.
var binary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "powerbi-mcp-test-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "powerbi-mcp")
	if out, err := releaseBuild(bin, "."); err != nil {
		return "", &buildError{out: string(out), err: err}
	}
	return bin, nil
})

// releaseBuild builds pkg into bin as releases are: without cgo, which also starts faster.
func releaseBuild(bin, pkg string) ([]byte, error) {
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	return cmd.CombinedOutput()
}

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

func TestMain(m *testing.M) {
	code := m.Run()
	if bin, err := binary(); err == nil {
		os.RemoveAll(filepath.Dir(bin))
	}
	os.Exit(code)
}

func initialize(t testing.TB, c *client.Client) {
	t.Helper()
	// The transport's long-lived parts (the SSE stream, the child process) live as long as the
	// context Start is given, so it must outlive this function.
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var init mcp.InitializeRequest
	init.Params.ClientInfo = mcp.Implementation{Name: "cmd-test", Version: "0"}
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatal(err)
	}
}

func toolNames(t *testing.T, c *client.Client) string {
	t.Helper()
	res, err := c.ListTools(context.Background(), mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}

func callTool(t testing.TB, c *client.Client, name string, args map[string]any) *mcp.CallToolResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := c.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: name, Arguments: args}})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return res
}

func resultText(res *mcp.CallToolResult) string {
	if len(res.Content) == 0 {
		return ""
	}
	if tc, ok := res.Content[0].(mcp.TextContent); ok {
		return tc.Text
	}
	return ""
}

// TestStdioSandbox runs the binary as a desktop agent does and uses every tool on the sandbox.
func TestStdioSandbox(t *testing.T) {
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	exportDir := t.TempDir()
	c, err := client.NewStdioMCPClient(bin, []string{"PBI_MCP_EXPORT_DIR=" + exportDir, "PBI_MCP_LOG_LEVEL=debug"}, "--sandbox", "--toolsets", "all")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	initialize(t, c)
	if got := toolNames(t, c); got != allTools {
		t.Fatalf("tools: %s", got)
	}
	calls := []struct {
		name string
		args map[string]any
	}{
		{"list_workspaces", nil},
		{"list_datasets", map[string]any{"workspace": "Sales Analytics"}},
		{"list_reports", map[string]any{"workspace": "Sales Analytics"}},
		{"refresh_dataset", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales", "wait": true}},
		{"get_refresh_history", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales"}},
		{"export_report", map[string]any{"workspace": "Sales Analytics", "report": "Sales Overview", "format": "PDF"}},
	}
	for _, call := range calls {
		res := callTool(t, c, call.name, call.args)
		if res.IsError {
			t.Fatalf("%s: %s", call.name, resultText(res))
		}
	}
	files, _ := filepath.Glob(filepath.Join(exportDir, "*.pdf"))
	if len(files) != 1 {
		t.Fatalf("export wrote %v", files)
	}
	data, _ := os.ReadFile(files[0])
	if !bytes.HasPrefix(data, []byte("%PDF-")) {
		t.Fatalf("%s is not a PDF", files[0])
	}
	stderr, _ := client.GetStderr(c)
	c.Close() // the child exits, so its stderr ends
	var logs bytes.Buffer
	logs.ReadFrom(stderr)
	if !strings.Contains(logs.String(), "tool call") {
		t.Fatalf("the server's logs did not reach stderr: %q", logs.String())
	}
	if strings.Contains(logs.String(), "pbitest-fake-client-secret") {
		t.Fatal("the client secret appeared in the logs")
	}
}

// TestStdioWithoutSignInExplainsWhatToSet: a server with no credentials starts, logs one short
// warning, and every tool tells the agent which variables the user must set.
func TestStdioWithoutSignInExplainsWhatToSet(t *testing.T) {
	c, stop := startServer(t, []string{"AZURE_TENANT_ID=", "AZURE_CLIENT_ID=", "AZURE_CLIENT_SECRET=", "PBI_MCP_ACCESS_TOKEN=", "PBI_MCP_AUTH=auto"})
	res := callTool(t, c, "list_workspaces", nil)
	text := resultText(res)
	if !res.IsError || !strings.HasPrefix(text, "Could not list workspaces: the server cannot sign in to Power BI: no credential configured\n  Set one of:\n") ||
		!strings.Contains(text, "AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET") || !strings.Contains(text, "add --sandbox to the server's arguments") ||
		!strings.Contains(text, "Next: the user must set these") || strings.Contains(text, "auth:") {
		t.Errorf("%v %s", res.IsError, text)
	}
	logs := stop()
	var warning string
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "sign-in is not configured") {
			warning = line
		}
	}
	if !strings.Contains(warning, "no credential configured") || len(warning) > 250 {
		t.Errorf("start-up warning of %d characters: %q\nlogs:\n%s", len(warning), warning, logs)
	}
}

func sandboxHandler(t *testing.T, cfg config) http.Handler {
	t.Helper()
	cfg.Sandbox, cfg.ExportDir = true, t.TempDir()
	b, err := connect(cfg, env(nil), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.close)
	s, err := newServer(cfg, b, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	return httpHandler(cfg, s, zerolog.Nop())
}

func TestStreamableHTTP(t *testing.T) {
	ts := httptest.NewServer(sandboxHandler(t, config{Transport: "http", HTTPToken: "caller-secret", Toolsets: []string{"default"}}))
	defer ts.Close()

	c, err := client.NewStreamableHttpClient(ts.URL+"/mcp", transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer caller-secret"}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	initialize(t, c)
	if got := toolNames(t, c); got != defaultTools {
		t.Fatalf("tools: %s", got)
	}
	if res := callTool(t, c, "list_workspaces", nil); res.IsError {
		t.Fatal(resultText(res))
	}

	post := func(header map[string]string) int { return ping(t, ts.URL+"/mcp", header) }
	if got := post(nil); got != http.StatusUnauthorized {
		t.Errorf("no caller token: %d", got)
	}
	if got := post(map[string]string{"Authorization": "Bearer caller-secreT"}); got != http.StatusUnauthorized {
		t.Errorf("wrong caller token: %d", got)
	}
	if got := post(map[string]string{"Authorization": "Bearer caller-secret", "Origin": "https://evil.example"}); got != http.StatusForbidden {
		t.Errorf("foreign origin: %d", got)
	}
	if got := post(map[string]string{"Authorization": "Bearer caller-secret", "Origin": "http://localhost:6274"}); got != http.StatusOK {
		t.Errorf("local origin: %d", got)
	}
	resp, err := http.Get(ts.URL + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
}

func TestSSE(t *testing.T) {
	ts := httptest.NewServer(sandboxHandler(t, config{Transport: "sse", Toolsets: []string{"default"}}))
	defer ts.Close()
	c, err := client.NewSSEMCPClient(ts.URL + "/sse")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	initialize(t, c)
	if got := toolNames(t, c); got != defaultTools {
		t.Fatalf("tools: %s", got)
	}
	if res := callTool(t, c, "list_reports", map[string]any{"workspace": "Finance"}); res.IsError {
		t.Fatal(resultText(res))
	}
}

// TestGracefulShutdown: SIGINT/SIGTERM cancel run's context; the HTTP server stops and run
// reports success.
func TestGracefulShutdown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var stderr bytes.Buffer
	go func() {
		done <- run(ctx, []string{"--sandbox", "--transport", "http", "--addr", "127.0.0.1:0", "--log-format", "json"}, env(nil), strings.NewReader(""), &bytes.Buffer{}, &stderr)
	}()
	time.Sleep(300 * time.Millisecond)
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not shut down")
	}
}

// TestStdioAgainstTenantConfiguredByEnvironment runs the binary as a user would against a real
// tenant: configured only by the standard AZURE_* variables and the API base URL, trusting the
// fake tenant's certificate like a corporate CA. With the right secret every call works; with
// a wrong one the agent is told AADSTS7000215 and the fix, and the secret appears nowhere, not
// even in trace-level logs.
func TestStdioAgainstTenantConfiguredByEnvironment(t *testing.T) {
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	tenant := pbitest.NewServer(pbitest.Options{})
	defer tenant.Close()
	tenant.SeedDemo()
	certFile := tenantCertFile(t, tenant)
	start := func(secret string) (*client.Client, func() string) {
		c, err := client.NewStdioMCPClient(bin, []string{
			"SSL_CERT_FILE=" + certFile,
			"AZURE_AUTHORITY_HOST=" + tenant.AuthorityHost(),
			"AZURE_TENANT_ID=" + tenant.TenantID(),
			"AZURE_CLIENT_ID=" + tenant.ClientID(),
			"AZURE_CLIENT_SECRET=" + secret,
			"PBI_MCP_ACCESS_TOKEN=",
			"PBI_MCP_BASE_URL=" + tenant.APIBaseURL(),
			"PBI_MCP_LOG_LEVEL=trace",
		})
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

	c, stop := start(tenant.ClientSecret())
	res := callTool(t, c, "list_workspaces", nil)
	if res.IsError || !strings.Contains(resultText(res), "Sales Analytics") {
		t.Fatalf("%s", resultText(res))
	}
	if logs := stop(); strings.Contains(logs, tenant.ClientSecret()) {
		t.Fatal("the client secret appeared in the logs")
	}

	const wrong = "Wr0ng~Secret.Value-that-must-not-leak"
	c, stop = start(wrong)
	res = callTool(t, c, "list_workspaces", nil)
	msg := resultText(res)
	logs := stop()
	if !res.IsError || !strings.Contains(msg, "AADSTS7000215") || !strings.Contains(msg, "Value") {
		t.Fatalf("want AADSTS7000215 and the fix: %s", msg)
	}
	if strings.Contains(msg, wrong) || strings.Contains(logs, wrong) {
		t.Fatal("the wrong secret appeared in the result or the logs")
	}
	if !strings.Contains(logs, "AADSTS7000215") {
		t.Fatalf("the failure is not in the logs:\n%s", logs)
	}
}
