package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// runHTTP runs the command in this process with args on the sandbox over streamable HTTP, and
// returns its stderr and the URLs it logged: the MCP endpoint and, with --metrics-addr,
// /metrics. The server stops when the test ends.
func runHTTP(t *testing.T, args ...string) (logs *lockedBuffer, mcpURL, metricsURL string) {
	t.Helper()
	args = append([]string{"--sandbox", "--transport", "http", "--addr", "127.0.0.1:0", "--log-format", "json",
		"--export-dir", t.TempDir()}, args...)
	logs = &lockedBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, env(nil), nil, io.Discard, logs) }()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("exit code %d:\n%s", code, logs.String())
		}
	})
	wantMetrics := strings.Contains(strings.Join(args, " "), "--metrics-addr")
	waitFor(t, "the server to listen", func() bool {
		for _, line := range strings.Split(logs.String(), "\n") {
			var l struct{ URL, MetricsURL string }
			if json.Unmarshal([]byte(line), &l) == nil {
				mcpURL, metricsURL = cmpOr(l.URL, mcpURL), cmpOr(l.MetricsURL, metricsURL)
			}
		}
		return mcpURL != "" && (metricsURL != "" || !wantMetrics)
	})
	return logs, mcpURL, metricsURL
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// httpClient connects an MCP client to endpoint.
func httpClient(t *testing.T, endpoint string) *client.Client {
	t.Helper()
	c, err := client.NewStreamableHttpClient(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	initialize(t, c)
	return c
}

// scrape reads /metrics into series -> value, a series being its name and labels as written.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// After calls against the sandbox, the counters moved by what the calls did, and the audit
// file, which already held a line, holds one more per call and is its owner's only.
func TestMetricsAndAuditFileAfterCalls(t *testing.T) {
	auditFile := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(auditFile, []byte("{\"earlier\":true}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, endpoint, metricsURL := runHTTP(t, "--metrics-addr", "127.0.0.1:0", "--audit-log", auditFile)
	before := scrape(t, metricsURL)
	c := httpClient(t, endpoint)
	for range 2 {
		if res := callTool(t, c, "list_workspaces", nil); res.IsError {
			t.Fatal(resultText(res))
		}
	}
	if res := callTool(t, c, "get_dataset", map[string]any{"workspace": pbitest.DemoSalesWorkspaceID, "dataset": "00000000-0000-0000-0000-0000000000ff"}); !res.IsError {
		t.Fatal("get_dataset of a model that does not exist succeeded")
	}

	m := scrape(t, metricsURL)
	for series, want := range map[string]float64{
		`powerbi_mcp_tool_calls_total{outcome="ok",tool="list_workspaces"}`:    2,
		`powerbi_mcp_tool_calls_total{outcome="error",tool="get_dataset"}`:     1,
		`powerbi_mcp_tool_call_duration_seconds_count{tool="list_workspaces"}`: 2,
		`powerbi_mcp_powerbi_responses_total{class="read",code="200"}`:         2,
		`powerbi_mcp_powerbi_responses_total{class="read",code="404"}`:         1,
		`powerbi_mcp_token_requests_total{flow="server",result="ok"}`:          1,
		`powerbi_mcp_token_cache_hits_total{flow="server"}`:                    2,
		`powerbi_mcp_tool_calls_in_flight`:                                     0,
		`powerbi_mcp_audit_write_failures_total`:                               0,
	} {
		if got := m[series] - before[series]; got != want {
			t.Errorf("%s moved by %v, want %v", series, got, want)
		}
	}

	fi, err := os.Stat(auditFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("audit file mode %v, want 0600", fi.Mode().Perm())
	}
	data, _ := os.ReadFile(auditFile)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 4 || lines[0] != `{"earlier":true}` {
		t.Fatalf("audit file: want the earlier line and 3 more:\n%s", data)
	}
	var last struct {
		Tool, Outcome string
		Client        map[string]string
	}
	if err := json.Unmarshal([]byte(lines[3]), &last); err != nil || last.Tool != "get_dataset" || last.Outcome != "error" || len(last.Client) == 0 {
		t.Errorf("last audit line %s: want get_dataset, error and the client (%v)", lines[3], err)
	}
}

// A full disk: each line that cannot be written is in the log at error level and counted, and
// the call keeps its answer.
func TestAuditLogOnAFullDisk(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full here")
	}
	logs, endpoint, metricsURL := runHTTP(t, "--metrics-addr", "127.0.0.1:0", "--audit-log", "/dev/full")
	if res := callTool(t, httpClient(t, endpoint), "list_workspaces", nil); res.IsError {
		t.Fatalf("the call failed with the audit log: %s", resultText(res))
	}
	if got := scrape(t, metricsURL)["powerbi_mcp_audit_write_failures_total"]; got != 1 {
		t.Errorf("audit_write_failures_total = %v, want 1", got)
	}
	var found bool
	for _, line := range strings.Split(logs.String(), "\n") {
		found = found || strings.Contains(line, `"level":"error"`) && strings.Contains(line, "no space left on device") &&
			strings.Contains(line, `"tool":"list_workspaces"`)
	}
	if !found {
		t.Errorf("no error line with the record and the cause:\n%s", logs.String())
	}
}

// The audit log is on by default on the HTTP transports, on stderr; a file others can read is
// refused at start.
func TestAuditLogDefaultsAndRefusals(t *testing.T) {
	logs, endpoint, _ := runHTTP(t)
	if res := callTool(t, httpClient(t, endpoint), "list_workspaces", nil); res.IsError {
		t.Fatal(resultText(res))
	}
	// A stateless request without initialize or _meta is named by its User-Agent.
	body := `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"list_workspaces","arguments":{}}}`
	req, _ := http.NewRequest("POST", endpoint, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("User-Agent", "curl/8.5")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("a legacy stateless call: %s", resp.Status)
	}
	for _, want := range []string{`"tool":"list_workspaces","caller":{"type":"server identity"},"client":{"name":"cmd-test","version":"0"}`,
		`"tool":"list_workspaces","caller":{"type":"server identity"},"client":{"userAgent":"curl/8.5"}`} {
		waitFor(t, "the audit line "+want+" on stderr", func() bool { return strings.Contains(logs.String(), want) })
	}

	open := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(open, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr lockedBuffer
	code := run(context.Background(), []string{"--sandbox", "--audit-log", open}, env(nil), strings.NewReader(""), io.Discard, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "chmod 600") {
		t.Errorf("exit %d, stderr %s; want a refusal naming the fix", code, stderr.String())
	}
	cfg, err := parseConfig(nil, env(map[string]string{"PBI_MCP_DRAIN": "-1s"}), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "PBI_MCP_DRAIN=-1s") {
		t.Errorf("a negative drain: %v, %+v", err, cfg.opsConfig)
	}
}

// The drain is 10 seconds behind a balancer, none on loopback unless asked for.
func TestDrainDefaults(t *testing.T) {
	for _, c := range []struct {
		args []string
		env  map[string]string
		want time.Duration
	}{
		{[]string{"--transport", "http"}, nil, 0},
		{[]string{"--transport", "http", "--addr", "0.0.0.0:8080"}, map[string]string{"PBI_MCP_HTTP_TOKEN": "t"}, 10 * time.Second},
		{[]string{"--transport", "http", "--drain", "3s"}, nil, 3 * time.Second},
		{[]string{"--transport", "http"}, map[string]string{"PBI_MCP_DRAIN": "2s"}, 2 * time.Second},
	} {
		cfg, err := parseConfig(c.args, env(c.env), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Drain != c.want {
			t.Errorf("%v %v: drain %v, want %v", c.args, c.env, cfg.Drain, c.want)
		}
	}
}

// get is an HTTP GET's status, or 0 when no answer came.
func get(url string) int {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestDrainOnSIGTERM runs the binary with a call held in Power BI and sends it SIGTERM: /readyz
// fails at once while /healthz does not, a new call during the drain is answered, and the
// process exits only once the drain is over and the held call was answered.
func TestDrainOnSIGTERM(t *testing.T) {
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	tenant := pbitest.NewServer(pbitest.Options{})
	defer tenant.Close()
	tenant.SeedDemo()
	api := newGatedAPI(tenant)
	defer api.Close()
	const drain = 1500 * time.Millisecond
	cmd, logs, endpoint := serveProcess(t, bin, tenant, api.URL+"/v1.0/myorg",
		"--transport", "http", "--drain", drain.String(), "--shutdown-grace", "10m", "--audit-log", "off")
	base := strings.TrimSuffix(endpoint, "/mcp")
	if s := get(base + "/readyz"); s != 200 {
		t.Fatalf("/readyz before the signal: %d", s)
	}

	c := httpClient(t, endpoint)
	held := callInBackground(c, "list_workspaces")
	<-api.arrived

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	signalled := time.Now()
	waitFor(t, "/readyz to fail", func() bool { return get(base+"/readyz") == http.StatusServiceUnavailable })
	if waited := time.Since(signalled); waited > drain/2 {
		t.Errorf("/readyz failed %v after the signal; want at once", waited)
	}
	if s := get(base + "/healthz"); s != 200 {
		t.Errorf("/healthz during the drain: %d, want 200", s)
	}
	// A client that connects during the drain, as one the balancer has not yet moved would.
	late := httpClient(t, endpoint)
	res := callTool(t, late, "get_dataset", map[string]any{"workspace": pbitest.DemoSalesWorkspaceID, "dataset": pbitest.DemoSalesDatasetID})
	if res.IsError {
		t.Errorf("a call during the drain failed: %s", resultText(res))
	}
	if time.Since(signalled) >= drain {
		t.Fatalf("the drain call took past the drain period; the test proves nothing")
	}

	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		t.Fatalf("the process exited with a call in flight: %v\n%s", err, logs.String())
	case <-time.After(drain + 500*time.Millisecond):
	}
	if get(base+"/healthz") != 0 {
		t.Error("the listener is still open after the drain period")
	}
	close(api.release)
	if res := <-held; res.IsError || !strings.Contains(resultText(res), "Sales Analytics") {
		t.Errorf("the held call: %s", resultText(res))
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, logs.String())
		}
	case <-time.After(patience):
		t.Fatalf("the server did not exit after its last call:\n%s", logs.String())
	}
}
