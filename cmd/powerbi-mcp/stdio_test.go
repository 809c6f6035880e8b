package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/rs/zerolog"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// These tests run the binary over stdio as a desktop agent does, against a fake tenant the test
// controls, and look at what the agent gets and what reached Power BI.

// failsafe bounds every wait in these tests. It only turns a hang into a failure: no test
// passes or fails on how long something took.
const failsafe = time.Minute

// Power BI routes counted by these tests.
const (
	routeListGroups   = "GET /v1.0/myorg/groups"
	routeExportTo     = "POST /v1.0/myorg/groups/{groupId}/reports/{reportId}/ExportTo"
	routeStartRefresh = "POST /v1.0/myorg/groups/{groupId}/datasets/{datasetId}/refreshes"
)

// stdioServer is the binary serving MCP on its stdin and stdout to an mcp-go client.
type stdioServer struct {
	client *client.Client
	stderr *lockedBuffer
	sent   *lockedBuffer // every line the client wrote to the server's stdin
	exited chan struct{} // closed when the process has exited
}

// startStdio starts the binary with the given environment (added to the test's own) and
// initializes an MCP session with it. The process is stopped when the test ends.
func startStdio(t testing.TB, environ []string, args ...string) *stdioServer {
	t.Helper()
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), environ...)
	srv := &stdioServer{stderr: &lockedBuffer{}, sent: &lockedBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = srv.stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		cmd.Wait()
		close(srv.exited)
	}()
	t.Cleanup(func() {
		srv.client.Close()
		select {
		case <-srv.exited:
		case <-time.After(failsafe):
			cmd.Process.Kill()
			t.Errorf("the server did not exit after its stdin was closed")
		}
	})
	srv.client = client.NewClient(transport.NewIO(stdout, tee{stdin, srv.sent}, nil))
	initialize(t, srv.client)
	return srv
}

// call starts a tool call and returns a channel that delivers its outcome.
func (s *stdioServer) call(ctx context.Context, name string, args map[string]any) <-chan callOutcome {
	out := make(chan callOutcome, 1)
	go func() {
		res, err := s.client.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: name, Arguments: args}})
		out <- callOutcome{res, err}
	}()
	return out
}

type callOutcome struct {
	res *mcp.CallToolResult
	err error
}

func (o callOutcome) String() string {
	if o.err != nil {
		return "protocol error: " + o.err.Error()
	}
	return fmt.Sprintf("isError=%v %s", o.res.IsError, resultText(o.res))
}

// toolLog returns the server's log line for a call of the tool, once there is one.
func (s *stdioServer) toolLog(tool string) (map[string]any, bool) {
	for _, line := range strings.Split(s.stderr.String(), "\n") {
		var entry map[string]any
		if json.Unmarshal([]byte(line), &entry) == nil && entry["message"] == "tool call" && entry["tool"] == tool {
			return entry, true
		}
	}
	return nil, false
}

// waitFor polls cond until it holds; after failsafe the test fails with what it waited for.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(failsafe)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestStdioQuickCallAnswersWhileExportsRun: eight exports that Power BI keeps running occupy
// eight calls, and list_workspaces is still answered at once; once Power BI finishes the
// exports, every one of them delivers its file.
func TestStdioQuickCallAnswersWhileExportsRun(t *testing.T) {
	tenant := pbitest.NewServer(pbitest.Options{})
	t.Cleanup(tenant.Close) // after the server stops: cleanups run last-in first-out
	tenant.SeedDemo()
	release := tenant.HoldExports()
	defer release()
	exportDir := t.TempDir()
	srv := startStdio(t, append(tenantEnv(t, tenant), "PBI_MCP_EXPORT_DIR="+exportDir, "PBI_MCP_LOG_FORMAT=json"))

	const exports = 8
	var running []<-chan callOutcome
	for range exports {
		running = append(running, srv.call(context.Background(), "export_report",
			map[string]any{"workspace": pbitest.DemoSalesWorkspaceID, "report": pbitest.DemoSalesReportID, "format": "PDF"}))
	}
	waitFor(t, fmt.Sprintf("all %d exports to reach Power BI", exports), func() bool { return tenant.Count(routeExportTo) == exports })

	quick := srv.call(context.Background(), "list_workspaces", nil)
	select {
	case got := <-quick:
		if got.err != nil || got.res.IsError || !strings.Contains(resultText(got.res), "Sales Analytics") {
			t.Fatalf("list_workspaces: %s", got)
		}
	case <-time.After(failsafe):
		t.Fatal("list_workspaces was not answered while the exports ran")
	}
	for i, ch := range running {
		select {
		case got := <-ch:
			t.Fatalf("export %d ended while Power BI still held it: %s", i, got)
		default:
		}
	}

	release()
	for i, ch := range running {
		select {
		case got := <-ch:
			if got.err != nil || got.res.IsError {
				t.Fatalf("export %d: %s", i, got)
			}
		case <-time.After(failsafe):
			t.Fatalf("export %d did not end after Power BI finished it", i)
		}
	}
	if files, _ := filepath.Glob(filepath.Join(exportDir, "*.pdf")); len(files) != exports {
		t.Fatalf("%d exports wrote %v", exports, files)
	}
}

// TestStdioLeavesWorkersForQuickCalls: on stdio, long-running calls take at most
// stdioLongRunning of the workers. One more is refused at once, sending nothing, and quick calls
// are still answered.
func TestStdioLeavesWorkersForQuickCalls(t *testing.T) {
	tenant := pbitest.NewServer(pbitest.Options{})
	t.Cleanup(tenant.Close)
	tenant.SeedDemo()
	release := tenant.HoldExports()
	defer release()
	tokens, err := auth.New(auth.Config{Kind: auth.KindClientSecret, AuthorityHost: tenant.AuthorityHost(), TenantID: tenant.TenantID(),
		ClientID: tenant.ClientID(), ClientSecret: tenant.ClientSecret(), HTTPClient: tenant.Client()})
	if err != nil {
		t.Fatal(err)
	}
	s, err := newServer(config{Transport: "stdio", ExportDir: t.TempDir()},
		backend{tokens: tokens, baseURL: tenant.APIBaseURL(), transport: tenant.Client().Transport}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.NewInProcessClient(s)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	initialize(t, c)

	export := map[string]any{"workspace": pbitest.DemoSalesWorkspaceID, "report": pbitest.DemoSalesReportID, "format": "PDF"}
	exporting, stop := context.WithCancel(context.Background())
	var exports sync.WaitGroup
	defer func() {
		stop()
		exports.Wait()
	}()
	for range stdioLongRunning {
		exports.Go(func() {
			c.CallTool(exporting, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: "export_report", Arguments: export}})
		})
	}
	waitFor(t, "the exports to reach Power BI", func() bool { return tenant.Count(routeExportTo) == stdioLongRunning })

	res := callTool(t, c, "export_report", export)
	if msg := resultText(res); !res.IsError || !strings.Contains(msg, fmt.Sprintf("already following %d long-running calls", stdioLongRunning)) {
		t.Fatalf("one export more: %s", msg)
	}
	if n := tenant.Count(routeExportTo); n != stdioLongRunning {
		t.Fatalf("the refused export reached Power BI: %d exports", n)
	}
	if res := callTool(t, c, "list_workspaces", nil); res.IsError {
		t.Fatal(resultText(res))
	}
}

// TestStdioCallCancelledInQueueSendsNothing: with every worker busy, a refresh_dataset call
// waits in the queue; the agent cancels it there. When a worker frees up, nothing of that call
// reaches Power BI, and the server stays usable.
func TestStdioCallCancelledInQueueSendsNothing(t *testing.T) {
	tenant := pbitest.NewServer(pbitest.Options{})
	t.Cleanup(tenant.Close) // after the server stops: cleanups run last-in first-out
	tenant.SeedDemo()
	srv := startStdio(t, append(tenantEnv(t, tenant), "PBI_MCP_LOG_FORMAT=json"))
	// Sign in first, so that the calls below wait on Power BI and not on the token.
	if res := callTool(t, srv.client, "list_workspaces", nil); res.IsError {
		t.Fatal(resultText(res))
	}

	// Every worker takes a list_workspaces that Power BI does not answer.
	tenant.SetFaults(pbitest.Faults{Latency: time.Hour})
	listed := tenant.Count(routeListGroups)
	blockers, unblock := context.WithCancel(context.Background())
	var blocked []<-chan callOutcome
	for range stdioWorkers {
		blocked = append(blocked, srv.call(blockers, "list_workspaces", nil))
	}
	waitFor(t, "every worker to be busy", func() bool { return tenant.Count(routeListGroups) == listed+stdioWorkers })

	queued, cancelQueued := context.WithCancel(context.Background())
	refresh := srv.call(queued, "refresh_dataset", map[string]any{"workspace": pbitest.DemoSalesWorkspaceID, "dataset": pbitest.DemoSalesDatasetID})
	waitFor(t, "the refresh call to be sent", func() bool { return strings.Contains(srv.sent.String(), `"name":"refresh_dataset"`) })
	cancelQueued()
	if got := <-refresh; got.err == nil {
		t.Fatalf("the cancelled call answered: %s", got)
	}
	// The server reads its input in order: once the cancellation is sent, the workers are freed.
	waitFor(t, "the cancellation to be sent", func() bool { return strings.Contains(srv.sent.String(), `"method":"notifications/cancelled"`) })
	tenant.SetFaults(pbitest.Faults{})
	unblock()
	for _, ch := range blocked {
		<-ch
	}

	var entry map[string]any
	waitFor(t, "the refresh call to end", func() bool {
		var ok bool
		entry, ok = srv.toolLog("refresh_dataset")
		return ok
	})
	if n := tenant.Count(routeStartRefresh); n != 0 {
		t.Fatalf("a refresh cancelled before it started was sent to Power BI %d times", n)
	}
	if entry["outcome"] != "cancelled" {
		t.Fatalf("the log does not say the call was cancelled before it started: %v", entry)
	}
	if res := callTool(t, srv.client, "get_refresh_history", map[string]any{"workspace": pbitest.DemoSalesWorkspaceID, "dataset": pbitest.DemoSalesDatasetID}); res.IsError {
		t.Fatalf("the server is not usable after the cancellation: %s", resultText(res))
	}
}

// TestStdioExitsWhenAnswersCannotBeWritten: a client that stops reading the server's stdout and
// closes its stdin, or sends SIGTERM, leaves calls that can never deliver their answers. The
// server exits anyway instead of waiting for them forever.
func TestStdioExitsWhenAnswersCannotBeWritten(t *testing.T) {
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	for _, stop := range []string{"stdin closed", "SIGTERM"} {
		t.Run(stop, func(t *testing.T) {
			cmd := exec.Command(bin, "--sandbox")
			cmd.Env = append(os.Environ(), "PBI_MCP_EXPORT_DIR="+t.TempDir())
			stdin, _ := cmd.StdinPipe()
			stdout, _ := cmd.StdoutPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan struct{})
			go func() {
				cmd.Wait()
				close(exited)
			}()
			defer func() {
				cmd.Process.Kill()
				<-exited
			}()

			out := bufio.NewReader(stdout)
			fmt.Fprintln(stdin, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"test","version":"0"}}}`)
			if _, err := out.ReadBytes('\n'); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintln(stdin, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
			// Far more answers than the pipe holds, and nobody reads them: the server's writes
			// block, and so do the calls that make them.
			for id := 2; id < 40; id++ {
				fmt.Fprintf(stdin, `{"jsonrpc":"2.0","id":%d,"method":"tools/list"}`+"\n", id)
				fmt.Fprintf(stdin, `{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"list_workspaces","arguments":{}}}`+"\n", 1000+id)
			}
			if stop == "SIGTERM" {
				cmd.Process.Signal(syscall.SIGTERM)
			} else {
				stdin.Close()
			}
			select {
			case <-exited:
			case <-time.After(failsafe):
				t.Fatal("the server did not exit")
			}
		})
	}
}

// tee copies what is written to a stdin pipe into a buffer, so a test can tell what the client
// has sent.
type tee struct {
	io.WriteCloser
	copy *lockedBuffer
}

func (t tee) Write(p []byte) (int, error) {
	t.copy.Write(p)
	return t.WriteCloser.Write(p)
}

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
