package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/rs/zerolog"
)

// maxRequestBody bounds one MCP message; tool arguments are small. mcp-go enforces it and
// answers 413 past it.
const maxRequestBody = 4 << 20

// httpTimeouts are the HTTP transports' time limits. The first three bound how long a client
// may take to send a request, so that clients sending slowly, on purpose or not, cannot hold
// connections without ever being answered.
type httpTimeouts struct {
	header time.Duration // to send a request's headers
	body   time.Duration // to send its body, counted from the end of the headers
	idle   time.Duration // a kept-alive connection waiting for its next request
	// answer is how long calls stopped at the end of the shutdown grace period get to send
	// their answer before the connections are closed regardless.
	answer time.Duration
}

var defaultHTTPTimeouts = httpTimeouts{header: 10 * time.Second, body: 10 * time.Second, idle: time.Minute, answer: 5 * time.Second}

// sseRetryAfter is the Retry-After, in seconds, sent with a 503 past the SSE session cap.
const sseRetryAfter = 30

// errShuttingDown ends the tool calls still running when the shutdown grace period is over.
var errShuttingDown = errors.New("the server is shutting down")

// httpServer is an MCP server on the SSE or streamable HTTP transport, with what it needs to
// shut down gracefully.
type httpServer struct {
	cfg      config
	logger   zerolog.Logger
	timeouts httpTimeouts
	handler  http.Handler
	calls    *toolCalls
	ready    *readiness  // /readyz, failing once a drain began
	answers  *sseAnswers // nil for streamable HTTP
	// closeStreams ends the long-lived streams (SSE sessions, streamable HTTP GET and
	// subscriptions/listen streams) that would otherwise keep a shutdown waiting forever.
	closeStreams func()
}

// serveHTTP serves the SSE or streamable HTTP transport on cfg.Addr until ctx ends, then shuts
// down gracefully (see httpServer.serve).
func serveHTTP(ctx context.Context, cfg config, s *server.MCPServer, logger zerolog.Logger) error {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	return newHTTPServer(cfg, s, logger, defaultHTTPTimeouts).serve(ctx, ln)
}

// httpHandler is the HTTP transport's handler, for tests that bring their own server.
func httpHandler(cfg config, s *server.MCPServer, logger zerolog.Logger) http.Handler {
	return newHTTPServer(cfg, s, logger, defaultHTTPTimeouts).handler
}

// newHTTPServer routes the MCP endpoints behind the guard, and /healthz for load balancers.
// Host checks (DNS rebinding: a loopback connection must name a loopback host or an allowed
// one) and body bounds are mcp-go's: they apply because the transports are mounted as
// http.Handlers (ServeHTTP, SSEHandler, MessageHandler), not through Handle.
func newHTTPServer(cfg config, s *server.MCPServer, logger zerolog.Logger, timeouts httpTimeouts) *httpServer {
	h := &httpServer{cfg: cfg, logger: logger, timeouts: timeouts, calls: newToolCalls(cfg.ShutdownGrace), ready: &readiness{}}
	s.Use(h.calls.middleware)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /readyz", h.ready)
	if cfg.Transport == "sse" {
		sse := server.NewSSEServer(s, server.WithKeepAlive(true),
			server.WithSSEMaxRequestBodyBytes(maxRequestBody), server.WithSSEAllowedHosts(cfg.AllowedHosts...))
		h.answers = newSSEAnswers()
		mux.Handle("/sse", guard(cfg, nil, logger, capSessions(cfg.MaxSSESessions, logger, h.answers.streams(sse.SSEHandler()))))
		mux.Handle("/message", guard(cfg, nil, logger, perRequest(logger, h.answers.messages(sse.MessageHandler()))))
		h.closeStreams = sse.CloseSessions
	} else {
		// Stateless: any replica behind a load balancer can answer any request.
		streamable := server.NewStreamableHTTPServer(s, server.WithStateLess(true),
			server.WithMaxRequestBodyBytes(maxRequestBody), server.WithAllowedHosts(cfg.AllowedHosts...))
		var entra *entraAuth
		if cfg.HTTPAuth == httpAuthEntra {
			entra = newEntraAuth(cfg, logger)
			entra.mount(mux)
		}
		mountMCP(mux, guard(cfg, entra, logger, perRequest(logger, newOwnCancellation(logger).handler(streamable))))
		h.closeStreams = func() { streamable.CloseSessions(context.Background()) }
	}
	h.handler = boundBodyRead(timeouts.body, mux)
	return h
}

// serve serves on ln until ctx ends, then shuts down gracefully: it stops accepting
// connections at once, lets the tool calls in flight finish within the grace period, stops
// the ones still running after it with an answer saying so, and returns once every call is
// answered.
func (h *httpServer) serve(ctx context.Context, ln net.Listener) error {
	// Requests get a context of their own, cancelled only as the last resort of a shutdown:
	// a call stopped by the end of the grace period must still be able to send its answer.
	baseCtx, cancelBase := context.WithCancel(context.Background())
	defer cancelBase()
	// No ReadTimeout or WriteTimeout: they would end SSE and streamable HTTP streams, which
	// are long-lived answers. A request's body is bounded by boundBodyRead instead.
	srv := &http.Server{
		Handler:           h.handler,
		ReadHeaderTimeout: h.timeouts.header,
		IdleTimeout:       h.timeouts.idle,
		BaseContext:       func(net.Listener) context.Context { return baseCtx },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	endpoint := "/mcp"
	if h.cfg.Transport == "sse" {
		endpoint = "/sse"
		h.logger.Warn().Msg("the SSE transport is deprecated by the MCP specification and kept for old clients; prefer --transport http")
	}
	h.logger.Info().Str("transport", h.cfg.Transport).Str("url", "http://"+ln.Addr().String()+endpoint).
		Str("auth", h.cfg.HTTPAuth).Msg("serving MCP over HTTP")

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	h.ready.drain(srv, h.cfg.Drain, h.logger)
	h.logger.Info().Dur("grace", h.cfg.ShutdownGrace).Msg("shutting down: accepting no new connections; calls in flight get the grace period")
	// Shutdown closes the listener and the idle connections at once, then waits for the
	// requests in progress.
	shutdown := make(chan error, 1)
	go func() { shutdown <- srv.Shutdown(context.Background()) }()
	if h.cfg.Transport != "sse" {
		// Streamable HTTP answers each call on its own POST; the streams carry only
		// notifications, and would keep Shutdown waiting.
		h.closeStreams()
	}

	grace := time.NewTimer(h.cfg.ShutdownGrace)
	defer grace.Stop()
	select {
	case <-h.calls.idle():
	case <-grace.C:
		h.logger.Warn().Int("calls", h.calls.count()).Msg("shutdown grace period over: stopping the calls still in flight")
		h.calls.stop()
		select {
		case <-h.calls.idle():
		case <-time.After(h.timeouts.answer):
		}
	}
	if h.answers != nil {
		// SSE answers travel on the sessions' streams, written after the calls return: end the
		// streams once every answer owed is written.
		select {
		case <-h.answers.idle():
		case <-time.After(h.timeouts.answer):
		}
		h.closeStreams()
	}

	select {
	case err := <-shutdown:
		if err != nil {
			return err
		}
	case <-time.After(h.timeouts.answer):
		h.logger.Warn().Msg("closing the connections still open")
		cancelBase()
		_ = srv.Close()
	}
	h.logger.Info().Msg("stopped")
	return nil
}

// toolCalls counts the tool calls in progress, so a shutdown can wait for them, and stops the
// ones still running when the grace period is over with an answer the agent can act on.
type toolCalls struct {
	grace   time.Duration
	stopped context.Context
	stop    func()

	mu      sync.Mutex
	running int
	drained idleWaiters
}

func newToolCalls(grace time.Duration) *toolCalls {
	ctx, cancel := context.WithCancelCause(context.Background())
	return &toolCalls{grace: grace, stopped: ctx, stop: func() { cancel(errShuttingDown) }}
}

func (c *toolCalls) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.running
}

// idle is closed once no tool call is running.
func (c *toolCalls) idle() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.drained.waitLocked(c.running == 0)
}

func (c *toolCalls) middleware(next server.ToolHandlerFunc) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		c.mu.Lock()
		c.running++
		c.mu.Unlock()
		defer func() {
			c.mu.Lock()
			if c.running--; c.running == 0 {
				c.drained.idleLocked()
			}
			c.mu.Unlock()
		}()

		ctx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		unhook := context.AfterFunc(c.stopped, func() { cancel(errShuttingDown) })
		defer unhook()
		res, err := next(ctx, req)
		// A call that got its answer before the shutdown stopped it keeps it.
		if (err != nil || res == nil || res.IsError) && errors.Is(context.Cause(ctx), errShuttingDown) {
			return mcp.NewToolResultError(fmt.Sprintf("The server is shutting down: %s was still running after the %s grace period and was stopped. "+
				"Call it again once the server is back (or through another replica). If it changes something in Power BI, "+
				"check whether the change happened before repeating it.", req.Params.Name, c.grace)), nil
		}
		return res, err
	}
}

// idleWaiters hands out channels that are closed when the work its owner tracks drains. The
// owner guards it with its own mutex.
type idleWaiters struct{ ch chan struct{} }

// waitLocked returns a channel closed at the next idleLocked, or at once if idle is true.
func (w *idleWaiters) waitLocked(idle bool) <-chan struct{} {
	if idle {
		done := make(chan struct{})
		close(done)
		return done
	}
	if w.ch == nil {
		w.ch = make(chan struct{})
	}
	return w.ch
}

// idleLocked wakes the waiters.
func (w *idleWaiters) idleLocked() {
	if w.ch != nil {
		close(w.ch)
		w.ch = nil
	}
}

// sseAnswers counts the answers the SSE transport owes its sessions' streams: a request is
// posted to the message endpoint, and its answer written later on the session's stream.
type sseAnswers struct {
	mu sync.Mutex
	// owed counts, per session and request id, requests posted minus answers written; a
	// count at zero is deleted, and one below zero is an answer written before its request
	// was counted.
	owed    map[sseRequest]int
	drained idleWaiters
}

type sseRequest struct{ session, id string }

// sseMessage is what sseAnswers reads of a JSON-RPC message: a request has an id and a method,
// an answer an id and no method.
type sseMessage struct {
	ID     *mcp.RequestId `json:"id"`
	Method string         `json:"method"`
}

func (m sseMessage) id() string {
	if m.ID == nil || m.ID.IsNil() {
		return ""
	}
	return m.ID.String()
}

func newSSEAnswers() *sseAnswers { return &sseAnswers{owed: map[sseRequest]int{}} }

func (a *sseAnswers) add(r sseRequest, n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.owed[r] += n; a.owed[r] == 0 {
		delete(a.owed, r)
	}
	if len(a.owed) == 0 {
		a.drained.idleLocked()
	}
}

// forget drops what a session was owed once its stream has ended.
func (a *sseAnswers) forget(session string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for r := range a.owed {
		if r.session == session {
			delete(a.owed, r)
		}
	}
	if len(a.owed) == 0 {
		a.drained.idleLocked()
	}
}

// idle is closed once no answer is owed.
func (a *sseAnswers) idle() <-chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.drained.waitLocked(len(a.owed) == 0)
}

// messages counts each request the message endpoint accepts, reading its id from the body as
// the transport reads it.
func (a *sseAnswers) messages(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body bytes.Buffer
		tee := r.WithContext(r.Context())
		tee.Body = struct {
			io.Reader
			io.Closer
		}{io.TeeReader(r.Body, &body), r.Body}
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, tee)
		var m sseMessage
		if rec.status == http.StatusAccepted && json.Unmarshal(body.Bytes(), &m) == nil && m.id() != "" && m.Method != "" {
			a.add(sseRequest{r.URL.Query().Get("sessionId"), m.id()}, 1)
		}
	})
}

// streams counts the answers written on each session's stream.
func (a *sseAnswers) streams(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &sseStreamWriter{ResponseWriter: w, answers: a}
		next.ServeHTTP(sw, r)
		if sw.session != "" {
			a.forget(sw.session)
		}
	})
}

// sseStreamWriter reads the events the SSE transport writes, one per Write: the first names
// the session, the others may be answers.
type sseStreamWriter struct {
	http.ResponseWriter
	answers *sseAnswers
	session string
}

func (w *sseStreamWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	if err != nil {
		return n, err
	}
	if w.session == "" {
		if _, endpoint, ok := bytes.Cut(p, []byte("data: ")); ok {
			if u, err := url.Parse(string(bytes.TrimSpace(endpoint))); err == nil {
				w.session = u.Query().Get("sessionId")
			}
		}
		return n, err
	}
	var m sseMessage
	if _, data, ok := bytes.Cut(p, []byte("data: ")); ok && json.Unmarshal(bytes.TrimSpace(data), &m) == nil && m.id() != "" && m.Method == "" {
		w.answers.add(sseRequest{w.session, m.id()}, -1)
	}
	return n, err
}

func (w *sseStreamWriter) Flush() { http.NewResponseController(w.ResponseWriter).Flush() }

func (w *sseStreamWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// statusRecorder notes the status a handler answered.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// boundBodyRead gives the client timeout to send a request's body, then lifts the deadline:
// the answer may be a stream that lasts hours, and net/http ends a request whose connection
// hits a read deadline.
func boundBodyRead(timeout time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			rc := http.NewResponseController(w)
			if err := rc.SetReadDeadline(time.Now().Add(timeout)); err == nil {
				// A shallow copy: net/http keeps the original request and looks at its body's
				// type to decide what to do with a body the handler left unread.
				body := &liftOnEOF{ReadCloser: r.Body, lift: func() { _ = rc.SetReadDeadline(time.Time{}) }}
				r = r.WithContext(r.Context())
				r.Body = body
			}
		}
		next.ServeHTTP(w, r)
	})
}

// liftOnEOF calls lift once the body has been read to its end.
type liftOnEOF struct {
	io.ReadCloser
	lift func()
	once sync.Once
}

func (b *liftOnEOF) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.once.Do(b.lift)
	}
	return n, err
}

// guard checks what every MCP request over HTTP must satisfy: a browser page from a foreign
// Origin is refused (mcp-go checks the Host header, never the Origin), and a caller token is
// required when one is configured: the static one, or a caller's Entra token when entra is not
// nil. A refused request is answered without reading its body, and its connection is closed.
func guard(cfg config, entra *entraAuth, logger zerolog.Logger, next http.Handler) http.Handler {
	wantToken := sha256.Sum256([]byte(cfg.HTTPToken))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if origin := r.Header.Get("Origin"); origin != "" && !originAllowed(origin, cfg.AllowedOrigins) {
			logger.Warn().Str("origin", origin).Str("remote", r.RemoteAddr).Msg("refused a request from a foreign origin")
			refuse(w, http.StatusForbidden, "origin not allowed")
			return
		}
		if entra != nil {
			entra.check(w, r, next)
			return
		}
		if cfg.HTTPToken != "" {
			got, ok := bearerToken(r.Header.Get("Authorization"))
			gotSum := sha256.Sum256([]byte(got))
			// Comparing fixed-size digests in constant time reveals neither the token nor its length.
			if !ok || subtle.ConstantTimeCompare(gotSum[:], wantToken[:]) != 1 {
				logger.Warn().Str("remote", r.RemoteAddr).Msg("refused a request without the caller token")
				w.Header().Set("WWW-Authenticate", `Bearer realm="powerbi-mcp"`)
				refuse(w, http.StatusUnauthorized, "missing or wrong bearer token")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// bearerToken returns the token of an Authorization header of the Bearer scheme, whose name is
// case-insensitive (RFC 7235).
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimLeft(token, " "), true
}

// refuse answers status without reading the request's body and closes the connection: a
// client that is refused does not get to hold it by sending a body slowly.
func refuse(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Connection", "close")
	http.Error(w, msg, status)
	// net/http reads what is left of a body before closing; a deadline in the past makes it
	// give up at once.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now())
}

// capSessions answers 503 with Retry-After to a new SSE session past max concurrent ones (0:
// no limit): each holds a stream, goroutines and buffers for as long as the client stays
// connected.
func capSessions(max int, logger zerolog.Logger, next http.Handler) http.Handler {
	if max == 0 {
		return next
	}
	slots := make(chan struct{}, max)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
			next.ServeHTTP(w, r)
		default:
			logger.Warn().Int("max", max).Str("remote", r.RemoteAddr).Msg("refused an SSE session: too many open")
			w.Header().Set("Retry-After", strconv.Itoa(sseRetryAfter))
			http.Error(w, fmt.Sprintf("too many SSE sessions (at most %d): try again later, or use the streamable HTTP transport", max),
				http.StatusServiceUnavailable)
		}
	})
}

// originAllowed accepts pages served from this machine and the configured origins.
func originAllowed(origin string, allowed []string) bool {
	if slices.Contains(allowed, origin) || slices.Contains(allowed, "*") {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
