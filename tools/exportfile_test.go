package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// httpClient connects a second MCP client to the stack's server over streamable HTTP, served
// stateless as the command serves it. The client speaks the newest protocol revision.
func (s *stack) httpClient(t *testing.T) *client.Client {
	t.Helper()
	return s.httpClientAt(t, "")
}

// httpClientAt is httpClient speaking the protocol revision version ("" for the newest).
func (s *stack) httpClientAt(t *testing.T, version string) *client.Client {
	t.Helper()
	ts := httptest.NewServer(server.NewStreamableHTTPServer(s.server, server.WithStateLess(true)))
	t.Cleanup(ts.Close)
	c, err := client.NewStreamableHttpClient(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	var init mcp.InitializeRequest
	init.Params.ClientInfo = mcp.Implementation{Name: "tools-test-http", Version: "0"}
	init.Params.ProtocolVersion = version
	res, err := c.Initialize(ctx, init)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.ProtocolVersion; version != "" && got != version || version == "" && !mcp.IsModernProtocol(got) {
		t.Fatalf("the HTTP client speaks %s, want %q", got, version)
	}
	return c
}

// Many exports of one report finish in the same second and want the same file name. Each must
// get a file of its own holding its own export, and none may replace another's.
func TestConcurrentExportsOverHTTPEachGetTheirOwnFile(t *testing.T) {
	const calls = 200
	downloads := newGate(calls)
	st := newStack(t, stackOptions{transport: holdDownloads(downloads)})
	exportConcurrently(t, st, st.httpClient(t), downloads, calls)
}

// Where the file system has no hard links, names are reserved by exclusive creation instead,
// with the same promise.
func TestConcurrentExportsWithoutHardLinks(t *testing.T) {
	linkFile = func(oldname, newname string) error {
		return &os.LinkError{Op: "link", Old: oldname, New: newname, Err: errors.ErrUnsupported}
	}
	t.Cleanup(func() { linkFile = os.Link })
	const calls = 100
	downloads := newGate(calls)
	st := newStack(t, stackOptions{transport: holdDownloads(downloads)})
	exportConcurrently(t, st, st.client, downloads, calls)
}

// holdDownloads holds the end of every download of an export file at the gate, so that all the
// calls then pick a name at the same moment: the race is run every time, not once in a while.
func holdDownloads(downloads *gate) func(http.RoundTripper) http.RoundTripper {
	return func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			resp, err := rt.RoundTrip(r)
			if err == nil && r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/file") {
				resp.Body = &heldBody{ReadCloser: resp.Body, gate: downloads}
			}
			return resp, err
		})
	}
}

// heldBody waits at the gate before it tells its reader that the body has ended.
type heldBody struct {
	io.ReadCloser
	gate *gate
	once sync.Once
}

func (b *heldBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.once.Do(b.gate.arrive)
	}
	return n, err
}

// exportConcurrently makes calls exports of one paginated report at once and checks that each
// got a file of its own with its own export in it, and that nothing else is in the directory.
func exportConcurrently(t *testing.T, st *stack, c *client.Client, downloads *gate, calls int) {
	t.Helper()
	results := make([]ExportResult, calls)
	errs := make([]string, calls)
	var wg sync.WaitGroup
	for i := range calls {
		wg.Go(func() {
			// The paginated report's CSV holds its parameters, so each file says which call it is for.
			res, err := c.CallTool(context.Background(), mcp.CallToolRequest{Params: mcp.CallToolParams{Name: "export_report",
				Arguments: map[string]any{"workspace": "Finance", "report": "Invoices", "format": "CSV", "timeout_seconds": 600,
					"parameter_values": []map[string]any{{"name": "Region", "value": callRegion(i)}}}}})
			if err != nil || res.IsError {
				downloads.leave() // it will never finish a download: stop waiting for it
			}
			switch {
			case err != nil:
				errs[i] = err.Error()
			case res.IsError:
				errs[i] = text(res)
			default:
				b, _ := json.Marshal(res.StructuredContent)
				if err := json.Unmarshal(b, &results[i]); err != nil {
					errs[i] = err.Error()
				}
			}
		})
	}
	wg.Wait()

	byPath := map[string]int{}
	for i, res := range results {
		if errs[i] != "" {
			t.Fatalf("call %d: %s", i, errs[i])
		}
		if res.File == nil {
			t.Fatalf("call %d wrote no file: %+v", i, res)
		}
		if j, dup := byPath[res.File.Path]; dup {
			t.Errorf("calls %d and %d were both given %s", j, i, res.File.Name)
		}
		byPath[res.File.Path] = i
	}
	entries, err := os.ReadDir(st.exportDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != calls {
		t.Errorf("%d files in the export directory, want %d", len(entries), calls)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || strings.HasSuffix(e.Name(), ".partial") {
			t.Errorf("left in the export directory: %s", e.Name())
		}
	}
	for path, i := range byPath {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("call %d: %v", i, err)
			continue
		}
		if want := "Region," + callRegion(i) + "\r\n"; !strings.Contains(string(data), want) {
			t.Errorf("call %d's file %s holds another export: %q", i, filepath.Base(path), data)
		}
	}
	if n := st.tenant.Count("POST /v1.0/myorg/groups/{groupId}/reports/{reportId}/ExportTo"); n != calls {
		t.Errorf("%d export jobs started, want %d", n, calls)
	}
}

func callRegion(i int) string { return fmt.Sprintf("call-%03d", i) }

// gate holds the calls that arrive until as many as expected are waiting.
type gate struct {
	mu                sync.Mutex
	waiting, expected int
	open              chan struct{}
}

func newGate(expected int) *gate { return &gate{expected: expected, open: make(chan struct{})} }

// arrive waits until the gate opens.
func (g *gate) arrive() {
	g.mu.Lock()
	g.waiting++
	g.openIfFull()
	g.mu.Unlock()
	<-g.open
}

// leave says one expected caller will not come.
func (g *gate) leave() {
	g.mu.Lock()
	g.expected--
	g.openIfFull()
	g.mu.Unlock()
}

func (g *gate) openIfFull() {
	select {
	case <-g.open:
	default:
		if g.waiting >= g.expected {
			close(g.open)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A temporary file left by a server that was killed mid-download is removed by a later export;
// one that another server is still writing is not.
func TestExportRemovesStalePartialsOnly(t *testing.T) {
	st := newStack(t, stackOptions{})
	stale := filepath.Join(st.exportDir, ".export-1111.partial")
	fresh := filepath.Join(st.exportDir, ".export-2222.partial")
	old := filepath.Join(st.exportDir, "Sales_Overview-20240101-000000.pdf") // the user's file, however old
	for _, p := range []string{stale, fresh, old} {
		if err := os.WriteFile(p, []byte("bytes"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	long := time.Now().Add(-stalePartialAge - time.Minute)
	for _, p := range []string{stale, old} {
		if err := os.Chtimes(p, long, long); err != nil {
			t.Fatal(err)
		}
	}

	var res ExportResult
	st.ok(t, "export_report", map[string]any{"workspace": "Sales Analytics", "report": "Sales Overview", "format": "PDF"}, &res)
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the stale partial is still there (%v)", err)
	}
	for _, p := range []string{fresh, old, res.File.Path} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s: %v", filepath.Base(p), err)
		}
	}
}

// A download cut off halfway leaves nothing behind: no file under a real name, no temporary one.
// The answer says how to fetch the finished export again, and doing so starts no new job.
func TestInterruptedDownloadLeavesNoFile(t *testing.T) {
	var cut sync.Once
	st := newStack(t, stackOptions{transport: func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			resp, err := rt.RoundTrip(r)
			if err == nil && r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/file") {
				cut.Do(func() { resp.Body = &cutBody{ReadCloser: resp.Body, left: 100} })
			}
			return resp, err
		})
	}})
	args := map[string]any{"workspace": "Sales Analytics", "report": "Sales Overview", "format": "PDF"}
	msg := st.fails(t, "export_report", args)
	if !strings.Contains(msg, "interrupted after 100 bytes") {
		t.Errorf("the error should say the download broke off: %s", msg)
	}
	entries, err := os.ReadDir(st.exportDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("left in the export directory: %s", e.Name())
	}

	m := regexp.MustCompile(`\(export_id ([^)\s]+)\)`).FindStringSubmatch(msg)
	if m == nil || !strings.Contains(msg, "again with this export_id") {
		t.Fatalf("the error should give the export_id to fetch the file again: %s", msg)
	}
	exportID := m[1]
	args["export_id"] = exportID
	var res ExportResult
	st.ok(t, "export_report", args, &res)
	if res.File == nil || res.ExportID != exportID {
		t.Fatalf("%+v", res)
	}
	if n := st.tenant.Count("POST /v1.0/myorg/groups/{groupId}/reports/{reportId}/ExportTo"); n != 1 {
		t.Errorf("%d export jobs started, want 1", n)
	}
}

// cutBody breaks the connection after left bytes.
type cutBody struct {
	io.ReadCloser
	left int
}

func (b *cutBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errors.New("connection reset by peer")
	}
	n, err := b.ReadCloser.Read(p[:min(len(p), b.left)])
	b.left -= n
	return n, err
}

// stalePartialAge must cover the longest wait any tool offers, or a slow export of this server
// could lose its temporary file to another's clean-up.
func TestStalePartialAgeCoversEveryToolTimeout(t *testing.T) {
	longest, tool := 0.0, ""
	for _, tl := range All(Deps{}) {
		in, err := parseInputSchema(tl.Definition)
		if err != nil {
			t.Fatal(err)
		}
		if max, ok := in.Properties["timeout_seconds"]["maximum"].(float64); ok && max > longest {
			longest, tool = max, tl.Definition.Name
		}
	}
	if longest == 0 {
		t.Fatal("no tool has a timeout_seconds maximum; the check has nothing to hold on to")
	}
	if time.Duration(longest)*time.Second > stalePartialAge {
		t.Fatalf("%s waits up to %v seconds, longer than stalePartialAge (%v)", tool, longest, stalePartialAge)
	}
}
