package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/server"
	"github.com/rs/zerolog"
)

// maxRequestBody bounds one MCP message; tool arguments are small.
const maxRequestBody = 4 << 20

// serveHTTP serves the SSE or streamable HTTP transport until ctx ends, then shuts down
// gracefully: new connections stop at once, calls in flight get a few seconds to finish.
func serveHTTP(ctx context.Context, cfg config, s *server.MCPServer, logger zerolog.Logger) error {
	handler := httpHandler(cfg, s, logger)
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	// Cancelling the base context ends long-lived SSE streams, which Shutdown alone would wait for.
	baseCtx, cancelBase := context.WithCancel(context.Background())
	defer cancelBase()
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return baseCtx },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	endpoint := "/mcp"
	if cfg.Transport == "sse" {
		endpoint = "/sse"
	}
	logger.Info().Str("transport", cfg.Transport).Str("url", "http://"+ln.Addr().String()+endpoint).
		Bool("callerToken", cfg.HTTPToken != "").Msg("serving MCP over HTTP")

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info().Msg("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cancelBase()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// httpHandler routes the MCP endpoints behind the guard, and /healthz for load balancers.
func httpHandler(cfg config, s *server.MCPServer, logger zerolog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	if cfg.Transport == "sse" {
		sse := server.NewSSEServer(s, server.WithKeepAlive(true))
		mux.Handle("/sse", guard(cfg, logger, sse.SSEHandler()))
		mux.Handle("/message", guard(cfg, logger, sse.MessageHandler()))
	} else {
		// Stateless: any replica behind a load balancer can answer any request.
		streamable := server.NewStreamableHTTPServer(s, server.WithStateLess(true))
		mux.Handle("/mcp", guard(cfg, logger, streamable))
	}
	return mux
}

// guard checks what every MCP request over HTTP must satisfy: a browser page from a foreign
// Origin is refused (DNS-rebinding and cross-site requests), a caller token is required when one
// is configured, and bodies are bounded.
func guard(cfg config, logger zerolog.Logger, next http.Handler) http.Handler {
	wantToken := sha256.Sum256([]byte(cfg.HTTPToken))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if origin := r.Header.Get("Origin"); origin != "" && !originAllowed(origin, cfg.AllowedOrigins) {
			logger.Warn().Str("origin", origin).Str("remote", r.RemoteAddr).Msg("refused a request from a foreign origin")
			http.Error(w, "origin not allowed", http.StatusForbidden)
			return
		}
		if cfg.HTTPToken != "" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			gotSum := sha256.Sum256([]byte(got))
			// Comparing fixed-size digests in constant time reveals neither the token nor its length.
			if !ok || subtle.ConstantTimeCompare(gotSum[:], wantToken[:]) != 1 {
				logger.Warn().Str("remote", r.RemoteAddr).Msg("refused a request without the caller token")
				w.Header().Set("WWW-Authenticate", `Bearer realm="powerbi-mcp"`)
				http.Error(w, "missing or wrong bearer token", http.StatusUnauthorized)
				return
			}
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxRequestBody)
		next.ServeHTTP(w, r)
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
