package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
	"github.com/powerbi-mcp/powerbi-mcp/cmd/powerbi-mcp/internal/metrics"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/tools"
)

// What an operator runs the server with: the audit log, metrics, and how a replica leaves a
// load balancer (see docs/operations.md).

// opsConfig holds the operations settings; config embeds it.
type opsConfig struct {
	AuditLog    string        // --audit-log: a file, "-" for stderr, "off"; "" for the default (auditDestination)
	MetricsAddr string        // --metrics-addr: where /metrics is served; "" for nowhere
	Drain       time.Duration // --drain: how long a replica keeps serving after a signal, with /readyz failing

	// ops is what openOps opened for this run; nil when a test builds a server without run.
	ops *opsRuntime
}

// Audit log settings that are not a file.
const (
	auditStderr = "-"
	auditOff    = "off"
)

// defaultDrain outlasts the usual readiness probe period (Kubernetes: 10 s, three failures to
// mark a pod unready; Azure Container Apps and HAProxy alike), so a balancer sees /readyz fail
// before the listener closes. A server bound to loopback has no balancer in front of it, but
// someone at a terminal who would wait for nothing: unless set, its drain is 0.
const defaultDrain = 10 * time.Second

func (c *config) registerOps(fs *flag.FlagSet) {
	fs.StringVar(&c.AuditLog, "audit-log", "",
		`where to write one JSON line per tool call: a file (created 0600, appended to), "-" for stderr, or "off"; default stderr on the http and sse transports, off on stdio`)
	fs.StringVar(&c.MetricsAddr, "metrics-addr", "", "serve Prometheus metrics at /metrics on this address, e.g. :9090 (default: off)")
	fs.DurationVar(&c.Drain, "drain", defaultDrain,
		"on SIGTERM or SIGINT, how long the HTTP transports keep serving new requests while /readyz answers 503, before --shutdown-grace begins (0: none; unless set, 0 when --addr is loopback)")
}

func (c *config) validateOps() error {
	set := c.from.setting
	if c.Drain < 0 {
		return fmt.Errorf("%s: want a duration of 0 or more, e.g. 10s", set("drain"))
	}
	if !c.from.given("drain") && isLoopback(c.Addr) {
		c.Drain = 0
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			return fmt.Errorf("%s: want host:port or :port, e.g. :9090", set("metrics-addr"))
		}
	}
	return nil
}

// auditDestination is where the audit log goes: as set, or by default stderr on the HTTP
// transports, which serve a team whose calls someone must be able to account for, and whose
// stderr a container platform collects; and off on stdio, where the only caller is the user
// who started the server on their own machine, and the log already has a line per call.
func (c config) auditDestination() string {
	switch {
	case c.AuditLog != "":
		return c.AuditLog
	case c.Transport == "stdio":
		return auditOff
	default:
		return auditStderr
	}
}

// opsRuntime is what the operations settings opened for one run.
type opsRuntime struct {
	metrics *metrics.Metrics // nil without --metrics-addr
	audit   *tools.AuditLog  // nil with the audit log off
	closers []func()
}

// openOps opens the audit log and starts serving metrics. A file that cannot be opened, or an
// address that cannot be listened on, stops the start: a server told to keep an audit log must
// not serve without one.
func openOps(cfg config, logger zerolog.Logger, stderr io.Writer) (*opsRuntime, error) {
	o := &opsRuntime{}
	if cfg.MetricsAddr != "" {
		o.metrics = metrics.New()
		ln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			return nil, fmt.Errorf("--metrics-addr: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", o.metrics.Handler())
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: defaultHTTPTimeouts.header, IdleTimeout: defaultHTTPTimeouts.idle}
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				logger.Error().Err(err).Msg("metrics: stopped serving")
			}
		}()
		o.closers = append(o.closers, func() { _ = srv.Close() })
		logger.Info().Str("metricsUrl", "http://"+ln.Addr().String()+"/metrics").Msg("serving Prometheus metrics")
	}

	var onFailure func()
	if o.metrics != nil {
		onFailure = o.metrics.AuditWriteFailed
	}
	switch dest := cfg.auditDestination(); dest {
	case auditOff:
	case auditStderr:
		o.audit = tools.NewAuditLog(stderr, logger, onFailure)
		logger.Info().Str("auditLog", "stderr").Msg("audit log: one line per tool call")
	default:
		f, err := openAuditFile(dest)
		if err != nil {
			o.close()
			return nil, fmt.Errorf("%s: %w", cfg.from.setting("audit-log"), err)
		}
		o.closers = append(o.closers, func() { _ = f.Close() })
		o.audit = tools.NewAuditLog(f, logger, onFailure)
		logger.Info().Str("auditLog", dest).Msg("audit log: one line per tool call")
	}
	return o, nil
}

// openAuditFile opens path for appending, creating it readable by its owner only. An existing
// file that others may read is refused rather than changed: the log names who did what.
func openAuditFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o077 != 0 {
		f.Close()
		return nil, fmt.Errorf("%s is readable or writable by others (mode %v); chmod 600 it, or name a new file", path, fi.Mode().Perm())
	}
	return f, nil
}

func (o *opsRuntime) close() {
	if o == nil {
		return
	}
	for _, c := range o.closers {
		c()
	}
}

// The hooks the rest of the command wires with: each is nil when its part is off.

// withTokenObserver has cfg's token source count its requests and cache hits.
func (c config) withTokenObserver(a auth.Config) auth.Config {
	if c.ops != nil && c.ops.metrics != nil {
		a.Observer = c.ops.metrics
	}
	return a
}

// onResponse is pbiclient.Config.OnResponse.
func (c config) onResponse() func(pbiclient.Response) {
	if c.ops == nil || c.ops.metrics == nil {
		return nil
	}
	return c.ops.metrics.Response
}

// auditLog is tools.Deps.Audit.
func (c config) auditLog() *tools.AuditLog {
	if c.ops == nil {
		return nil
	}
	return c.ops.audit
}

// callObserver is tools.Deps.Calls.
func (c config) callObserver() tools.CallObserver {
	if c.ops == nil || c.ops.metrics == nil {
		return nil // an untyped nil: a nil *Metrics in the interface would be called
	}
	return c.ops.metrics
}

// readiness is /readyz: 200 while the server takes new work, 503 from the moment it was told
// to stop. /healthz stays liveness: 200 for as long as the process serves at all.
type readiness struct{ draining atomic.Bool }

func (r *readiness) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if r.draining.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("draining\n"))
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}

// drain runs when a signal asked the server to stop: /readyz fails at once, and srv goes on
// serving every request for d, so that a load balancer that has not yet seen /readyz fail
// loses nothing; then the shutdown (--shutdown-grace) begins. Keep-alives end, so clients
// holding a connection open come back through the balancer, which by then sends them to
// another replica. A second signal ends the drain at once: an operator at a terminal who
// presses Ctrl-C twice means it.
func (r *readiness) drain(srv *http.Server, d time.Duration, logger zerolog.Logger) {
	r.draining.Store(true)
	if d <= 0 {
		return
	}
	srv.SetKeepAlivesEnabled(false)
	logger.Info().Dur("drain", d).Msg("draining: /readyz answers 503; new requests are still served until the drain period ends")
	again := make(chan os.Signal, 1)
	signal.Notify(again, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(again)
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	select {
	case <-ctx.Done():
	case <-again:
		logger.Info().Msg("a second signal: drain cut short")
	}
}

// Metrics serves the command's hooks; a change to one of their interfaces fails here.
var (
	_ tools.CallObserver = (*metrics.Metrics)(nil)
	_ auth.Observer      = (*metrics.Metrics)(nil)
)

// given reports whether the user set the flag name, on the command line or in the environment
// (applyEnv sets a flag from its variable, which marks it set).
func (o origins) given(name string) bool {
	if o.fs == nil {
		return false
	}
	found := false
	o.fs.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	return found
}
