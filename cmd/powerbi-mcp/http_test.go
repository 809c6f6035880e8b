package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/rs/zerolog"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// patience bounds how long a test waits for something that must happen, so a regression fails
// the test instead of hanging it. It is never what a test measures.
const patience = 30 * time.Second

// serveSandbox serves the HTTP transport cfg names on a loopback port, on the sandbox tenant,
// with the given timeouts, as serveHTTP does. It returns the server's address.
func serveSandbox(t *testing.T, cfg config, timeouts httpTimeouts) string {
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- newHTTPServer(cfg, s, zerolog.Nop(), timeouts).serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return ln.Addr().String()
}

// trickle writes one byte of s every 20 ms until s is sent or a write fails, and reports
// whether all of it was sent.
func trickle(conn net.Conn, s string) <-chan bool {
	sent := make(chan bool, 1)
	go func() {
		for i := range len(s) {
			if _, err := conn.Write([]byte{s[i]}); err != nil {
				sent <- false
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		sent <- true
	}()
	return sent
}

// readUntilClosed reads conn until the server closes it and returns what it sent; it fails
// the test if the server keeps the connection open.
func readUntilClosed(t *testing.T, conn net.Conn) string {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(patience))
	got, err := io.ReadAll(conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server kept the connection open; it sent %q", got)
	}
	return string(got)
}

// TestHTTPFlags: the HTTP flags read their PBI_MCP_* variables, refuse negative values, and
// --help says the SSE transport is deprecated.
func TestHTTPFlags(t *testing.T) {
	cfg, err := parseConfig(nil, env(map[string]string{"PBI_MCP_SHUTDOWN_GRACE": "30s", "PBI_MCP_MAX_SSE_SESSIONS": "5",
		"PBI_MCP_ALLOWED_HOSTS": "pbi-mcp.example.com, pbi-mcp"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ShutdownGrace != 30*time.Second || cfg.MaxSSESessions != 5 || strings.Join(cfg.AllowedHosts, ",") != "pbi-mcp.example.com,pbi-mcp" {
		t.Fatalf("%+v", cfg)
	}
	for _, args := range [][]string{{"--transport", "http", "--shutdown-grace", "-1s"}, {"--transport", "sse", "--max-sse-sessions", "-1"}} {
		if _, err := parseConfig(args, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), args[2]) {
			t.Errorf("%v: %v, want an error naming %s", args, err, args[2])
		}
	}
	var help strings.Builder
	parseConfig([]string{"--help"}, env(nil), &help)
	if !strings.Contains(help.String(), "sse (deprecated") {
		t.Errorf("--help does not say SSE is deprecated:\n%s", help.String())
	}
}

// TestHTTPCutsOffSlowClients: a client sending its headers or its body a byte at a time is
// disconnected once the header or body timeout is over, so such clients cannot hold
// connections without the caller token.
func TestHTTPCutsOffSlowClients(t *testing.T) {
	addr := serveSandbox(t, config{Transport: "http", HTTPToken: "caller-secret"},
		httpTimeouts{header: 200 * time.Millisecond, body: 200 * time.Millisecond, idle: time.Minute, answer: time.Second})
	body := strings.Repeat(" ", 10_000) + `{"jsonrpc":"2.0","id":1,"method":"ping"}`
	for name, c := range map[string]struct{ head, trickled string }{
		"headers": {"POST /mcp HTTP/1.1\r\nHost: " + addr + "\r\n", strings.Repeat("X-Slow: 1\r\n", 1000)},
		"body": {fmt.Sprintf("POST /mcp HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer caller-secret\r\n"+
			"Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: %d\r\n\r\n", addr, len(body)), body},
	} {
		t.Run(name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, c.head); err != nil {
				t.Fatal(err)
			}
			sent := trickle(conn, c.trickled)
			got := readUntilClosed(t, conn)
			conn.Close()
			if <-sent {
				t.Fatalf("the client sent its whole request before being cut off; the server answered %q", got)
			}
		})
	}
}

// TestHTTPRefusesWithoutReadingTheBody: a request without the caller token, or from a foreign
// Origin, is answered at once without waiting for its body, and its connection is closed.
func TestHTTPRefusesWithoutReadingTheBody(t *testing.T) {
	// A body timeout far beyond the test's patience: the answer must not wait for it.
	addr := serveSandbox(t, config{Transport: "http", HTTPToken: "caller-secret"},
		httpTimeouts{header: time.Hour, body: time.Hour, idle: time.Hour, answer: time.Second})
	for name, c := range map[string]struct {
		header string
		status int
	}{
		"no token":       {"", http.StatusUnauthorized},
		"wrong token":    {"Authorization: Bearer caller-secreT\r\n", http.StatusUnauthorized},
		"foreign origin": {"Authorization: Bearer caller-secret\r\nOrigin: https://evil.example\r\n", http.StatusForbidden},
	} {
		t.Run(name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			// The body is announced and never sent.
			fmt.Fprintf(conn, "POST /mcp HTTP/1.1\r\nHost: %s\r\n%sContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{", addr, c.header)
			conn.SetReadDeadline(time.Now().Add(patience))
			br := bufio.NewReader(conn)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.status || !resp.Close {
				t.Fatalf("got %d (Connection: %q), want %d and the connection closed", resp.StatusCode, resp.Header.Get("Connection"), c.status)
			}
			if rest := readUntilClosed(t, &bufferedConn{conn, br}); rest != "" {
				t.Fatalf("sent after the answer: %q", rest)
			}
		})
	}
}

// bufferedConn reads what a bufio.Reader already holds before the connection.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// ping posts a ping to the streamable HTTP endpoint with the given headers and returns the status.
func ping(t *testing.T, endpoint string, header map[string]string) int {
	t.Helper()
	status, _ := post(t, endpoint, header, `{"jsonrpc":"2.0","id":1,"method":"ping"}`)
	return status
}

// TestHTTPBearerSchemeIsCaseInsensitive: RFC 7235 makes the scheme name case-insensitive, and
// some clients send "bearer".
func TestHTTPBearerSchemeIsCaseInsensitive(t *testing.T) {
	ts := httptest.NewServer(sandboxHandler(t, config{Transport: "http", HTTPToken: "caller-secret"}))
	defer ts.Close()
	for auth, want := range map[string]int{
		"bearer caller-secret":  http.StatusOK,
		"BEARER caller-secret":  http.StatusOK,
		"Bearer  caller-secret": http.StatusOK,
		"Basic caller-secret":   http.StatusUnauthorized,
		"bearer":                http.StatusUnauthorized,
		"bearercaller-secret":   http.StatusUnauthorized,
	} {
		if got := ping(t, ts.URL+"/mcp", map[string]string{"Authorization": auth}); got != want {
			t.Errorf("Authorization: %s: %d, want %d", auth, got, want)
		}
	}
}

// TestHTTPHostCheck: a request over loopback must name a loopback host or one of
// --allowed-hosts (DNS rebinding), on both transports.
func TestHTTPHostCheck(t *testing.T) {
	for _, transport := range []string{"http", "sse"} {
		ts := httptest.NewServer(sandboxHandler(t, config{Transport: transport, AllowedHosts: []string{"pbi-mcp.example.com"}}))
		defer ts.Close()
		endpoint := ts.URL + "/mcp"
		if transport == "sse" {
			endpoint = ts.URL + "/message?sessionId=none" // the Host is checked before the session
		}
		for host, allowed := range map[string]bool{"": true, "localhost:8080": true, "pbi-mcp.example.com": true, "PBI-MCP.example.com:443": true, "evil.example": false} {
			req, _ := http.NewRequest("POST", endpoint, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			if host != "" {
				req.Host = host
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if refused := resp.StatusCode == http.StatusForbidden; refused == allowed {
				t.Errorf("%s, Host %q: %d", transport, host, resp.StatusCode)
			}
		}
	}
}

// TestHTTPOversizedBodyIs413: a body over 4 MiB is refused with 413 and a JSON-RPC error,
// whether its size is announced (Content-Length) or not (chunked).
func TestHTTPOversizedBodyIs413(t *testing.T) {
	// A body timeout far beyond the test's patience: the answer must not wait for it.
	addr := serveSandbox(t, config{Transport: "http"}, httpTimeouts{header: time.Hour, body: time.Hour, idle: time.Hour, answer: time.Second})
	check := func(t *testing.T, resp *http.Response) {
		t.Helper()
		defer resp.Body.Close()
		var answer struct {
			Error struct {
				Code    int
				Message string
			}
		}
		json.NewDecoder(resp.Body).Decode(&answer)
		if resp.StatusCode != http.StatusRequestEntityTooLarge || answer.Error.Code != mcp.INVALID_REQUEST ||
			!strings.Contains(answer.Error.Message, "exceeds") {
			t.Fatalf("got %d %+v, want 413 and a JSON-RPC error saying the body is too large", resp.StatusCode, answer)
		}
	}
	// A valid message, padded past the bound with white space.
	oversized := func() io.Reader {
		return io.MultiReader(strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`),
			bytes.NewReader(bytes.Repeat([]byte(" "), maxRequestBody+64<<10)))
	}

	t.Run("chunked", func(t *testing.T) {
		req, _ := http.NewRequest("POST", "http://"+addr+"/mcp", oversized())
		req.ContentLength = -1 // unknown: the body is sent chunked
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		check(t, resp)
	})
	t.Run("content-length", func(t *testing.T) {
		// Announced and never sent: the server must not need it to answer.
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /mcp HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: %d\r\n\r\n",
			addr, maxRequestBody+1)
		conn.SetReadDeadline(time.Now().Add(patience))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		check(t, resp)
	})
	t.Run("sse message", func(t *testing.T) {
		sseAddr := serveSandbox(t, config{Transport: "sse"}, httpTimeouts{header: time.Hour, body: time.Hour, idle: time.Hour, answer: time.Second})
		stream, err := http.Get("http://" + sseAddr + "/sse")
		if err != nil {
			t.Fatal(err)
		}
		defer stream.Body.Close()
		// event: endpoint, then data: <the session's message URL>
		events := bufio.NewReader(stream.Body)
		events.ReadString('\n')
		data, _ := events.ReadString('\n')
		messageURL, ok := strings.CutPrefix(strings.TrimSpace(data), "data: ")
		if !ok {
			t.Fatalf("no endpoint event: %q", data)
		}
		if strings.HasPrefix(messageURL, "/") {
			messageURL = "http://" + sseAddr + messageURL
		}
		req, _ := http.NewRequest("POST", messageURL, oversized())
		req.ContentLength = -1 // unknown: the body is sent chunked
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		check(t, resp)
	})
}

// TestSSESessionCap: past --max-sse-sessions a new SSE session is answered 503 with
// Retry-After, and a closed session frees its slot.
func TestSSESessionCap(t *testing.T) {
	ts := httptest.NewServer(sandboxHandler(t, config{Transport: "sse", MaxSSESessions: 2}))
	defer ts.Close()
	open := func() (*http.Response, error) {
		resp, err := http.Get(ts.URL + "/sse")
		if err != nil || resp.StatusCode != http.StatusOK {
			return resp, err
		}
		// The session exists once its endpoint event arrives.
		line, err := bufio.NewReader(resp.Body).ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "event: endpoint") {
			t.Fatalf("first event: %q %v", line, err)
		}
		return resp, nil
	}
	first, err := open()
	if err != nil || first.StatusCode != http.StatusOK {
		t.Fatalf("first session: %v %v", first, err)
	}
	defer first.Body.Close()
	second, err := open()
	if err != nil || second.StatusCode != http.StatusOK {
		t.Fatalf("second session: %v %v", second, err)
	}
	defer second.Body.Close()
	third, err := open()
	if err != nil {
		t.Fatal(err)
	}
	defer third.Body.Close()
	if third.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("past the cap: %d", third.StatusCode)
	}
	msg, _ := io.ReadAll(third.Body)
	if third.Header.Get("Retry-After") == "" || !strings.Contains(string(msg), "streamable HTTP") {
		t.Fatalf("past the cap: Retry-After %q, %q", third.Header.Get("Retry-After"), msg)
	}

	first.Body.Close() // the client leaves; the server notices and frees the slot
	deadline := time.Now().Add(patience)
	for {
		resp, err := open()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode == http.StatusOK {
			resp.Body.Close()
			break
		}
		resp.Body.Close()
		if time.Now().After(deadline) {
			t.Fatal("the slot of the closed session was never freed")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// gatedAPI is a TLS proxy in front of a fake tenant's API that holds every request for the
// workspace list until released, so a test controls when a call in flight can finish.
type gatedAPI struct {
	*httptest.Server
	arrived   chan struct{} // one value per held request
	release   chan struct{} // closed to let held requests through
	abandoned chan struct{} // one value per held request whose client gave up
}

func newGatedAPI(tenant *pbitest.Server) *gatedAPI {
	target, _ := url.Parse(tenant.URL())
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.Transport = tenant.Client().Transport
	g := &gatedAPI{arrived: make(chan struct{}, 10), release: make(chan struct{}), abandoned: make(chan struct{}, 10)}
	// httptest's TLS servers share one certificate, so whoever trusts the tenant trusts this.
	g.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "GET" && strings.HasSuffix(r.URL.Path, "/myorg/groups") {
			g.arrived <- struct{}{}
			select {
			case <-g.release:
			case <-r.Context().Done():
				g.abandoned <- struct{}{}
				return
			}
		}
		proxy.ServeHTTP(w, r)
	}))
	return g
}

// callInBackground calls the tool with no arguments and returns where its result will come; a
// client error comes as an error result saying so.
func callInBackground(c *client.Client, name string) <-chan *mcp.CallToolResult {
	answer := make(chan *mcp.CallToolResult, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), patience)
		defer cancel()
		res, err := c.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: name}})
		if err != nil {
			res = mcp.NewToolResultError("client error: " + err.Error())
		}
		answer <- res
	}()
	return answer
}

// serveProcess runs the binary as an HTTP server signed in to tenant as its service principal,
// with Power BI at apiURL and args added, and returns it with its log and the MCP endpoint its
// log names once it listens. The test's end kills it.
func serveProcess(t *testing.T, bin string, tenant *pbitest.Server, apiURL string, args ...string) (*exec.Cmd, *lockedBuffer, string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"--addr", "127.0.0.1:0", "--log-format", "json"}, args...)...)
	// The last value of a variable wins: the API is apiURL, not the tenant's own.
	cmd.Env = append(append(os.Environ(), tenantEnv(t, tenant)...), "PBI_MCP_BASE_URL="+apiURL)
	logs := &lockedBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var endpoint string
	waitFor(t, "the server to listen", func() bool {
		for _, line := range strings.Split(logs.String(), "\n") {
			var l struct{ URL string }
			if json.Unmarshal([]byte(line), &l) == nil && l.URL != "" {
				endpoint = l.URL
				return true
			}
		}
		return false
	})
	return cmd, logs, endpoint
}

// TestHTTPShutdownAnswersCallsInFlight runs the binary on each HTTP transport against a tenant
// whose workspace list is held, and sends it SIGTERM during a call. A call that finishes within
// the grace period gets its real answer; one that does not is stopped at the end of it with an
// answer saying the server is shutting down. Either way the process then exits cleanly.
func TestHTTPShutdownAnswersCallsInFlight(t *testing.T) {
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	tenant := pbitest.NewServer(pbitest.Options{})
	defer tenant.Close()
	tenant.SeedDemo()

	// start runs the binary, has a client call list_workspaces, and sends SIGTERM while the
	// call is held by the returned gate.
	start := func(t *testing.T, transport, grace string) (*exec.Cmd, *lockedBuffer, *gatedAPI, <-chan *mcp.CallToolResult) {
		api := newGatedAPI(tenant)
		t.Cleanup(api.Close)
		cmd, logs, endpoint := serveProcess(t, bin, tenant, api.URL+"/v1.0/myorg", "--transport", transport, "--shutdown-grace", grace)
		var c *client.Client
		if transport == "sse" {
			c, err = client.NewSSEMCPClient(endpoint)
		} else {
			c, err = client.NewStreamableHttpClient(endpoint)
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		initialize(t, c)
		answer := callInBackground(c, "list_workspaces")
		select {
		case <-api.arrived:
		case <-time.After(patience):
			t.Fatalf("the call never reached Power BI: %s", logs.String())
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the shutdown to start", func() bool { return strings.Contains(logs.String(), "shutting down") })
		return cmd, logs, api, answer
	}
	exited := func(t *testing.T, cmd *exec.Cmd, logs *lockedBuffer) {
		t.Helper()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("exit: %v\n%s", err, logs.String())
			}
		case <-time.After(patience):
			t.Fatalf("the server did not exit after answering:\n%s", logs.String())
		}
	}

	for _, transport := range []string{"http", "sse"} {
		t.Run(transport, func(t *testing.T) {
			t.Run("finishes within the grace period", func(t *testing.T) {
				cmd, logs, api, answer := start(t, transport, "10m")
				// The server is shutting down and the call is still held: it must not be answered yet.
				select {
				case res := <-answer:
					t.Fatalf("answered before the call finished: %s", resultText(res))
				default:
				}
				close(api.release)
				res := <-answer
				if res.IsError || !strings.Contains(resultText(res), "Sales Analytics") {
					t.Fatalf("want the workspaces, got: %s", resultText(res))
				}
				exited(t, cmd, logs)
			})

			t.Run("outlasts the grace period", func(t *testing.T) {
				cmd, logs, api, answer := start(t, transport, "100ms")
				res := <-answer
				if !res.IsError || !strings.Contains(resultText(res), "shutting down") || !strings.Contains(resultText(res), "list_workspaces") {
					t.Fatalf("want an error result saying the server is shutting down, got: %s", resultText(res))
				}
				select {
				case <-api.abandoned:
				case <-time.After(patience):
					t.Fatal("the server never gave up the request to Power BI")
				}
				exited(t, cmd, logs)
			})
		})
	}
}
