// Command powerbi-mcp is an MCP server that gives AI agents the Power BI REST API.
//
// It wires configuration, logging, sign-in, the Power BI client and the tools together and
// serves them on stdio, SSE or streamable HTTP. The logic lives in the packages it wires.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/mark3labs/mcp-go/server"
	"github.com/rs/zerolog"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
	"github.com/powerbi-mcp/powerbi-mcp/tools"
)

func main() {
	// zerolog writes whole seconds unless told otherwise; a tool call's log lines are
	// milliseconds apart. Set once here: it is a process-wide setting.
	zerolog.TimeFieldFormat = time.RFC3339Nano
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main without the process: tests call it with their own streams and environment.
// Nothing but the MCP protocol is ever written to stdout.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		if sc, ok := subcommands[args[0]]; ok {
			if isHelp(args[1:]) {
				// Help is the output asked for, so it goes to stdout, whichever stream the
				// subcommand prints it on.
				return sc.run(ctx, args[1:], getenv, stdout, stdout)
			}
			return sc.run(ctx, args[1:], getenv, stdout, stderr)
		}
	}
	// Every configuration error ends here, before anything is served: exit 2, like any usage
	// error, with nothing on stdout, which belongs to the MCP protocol.
	cfg, err := parseConfig(args, getenv, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "powerbi-mcp:", err)
		return 2
	}
	if cfg.ShowVersion {
		fmt.Fprintln(stdout, "powerbi-mcp", currentVersion())
		return 0
	}
	logger := newLogger(cfg, stderr)
	if cfg.ops, err = openOps(cfg, logger, stderr); err != nil {
		logger.Error().Err(err).Msg("cannot start")
		return 1
	}
	defer cfg.ops.close()

	backend, err := connect(cfg, getenv, logger)
	if err != nil {
		logger.Error().Err(err).Msg("cannot start")
		return 1
	}
	defer backend.close()
	if backend.sandbox != nil && cfg.HTTPAuth == httpAuthEntra {
		cfg.useSandboxAuthority(backend.sandbox)
	}

	s, err := newServer(cfg, backend, logger)
	if err != nil {
		logger.Error().Err(err).Msg("cannot start")
		return 2
	}
	if err := serve(ctx, cfg, s, stdin, stdout, logger); err != nil {
		logger.Error().Err(err).Msg("server stopped")
		return 1
	}
	return 0
}

func newLogger(cfg config, stderr io.Writer) zerolog.Logger {
	level, _ := zerolog.ParseLevel(cfg.LogLevel) // validated by parseConfig
	var w io.Writer = stderr
	if cfg.LogFormat == "console" {
		w = zerolog.ConsoleWriter{Out: stderr, NoColor: true, TimeFormat: "15:04:05.000"}
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger()
}

// backend is where the tools' requests go: Power BI itself, or the sandbox's demo tenant.
type backend struct {
	tokens  pbiclient.TokenSource
	baseURL string
	// fabric and fabricBaseURL are the Fabric REST API, for semantic model definitions: the same
	// credential with Fabric's scope. fabricBaseURL "" is the public cloud's.
	fabric        pbiclient.TokenSource
	fabricBaseURL string
	transport     http.RoundTripper // nil: the default transport
	close         func()
	sandbox       *pbitest.Server // the demo tenant --sandbox serves; nil otherwise
}

// connect chooses the backend. It does no network I/O: sign-in happens on the first tool call,
// so start-up stays fast and a misconfiguration is explained to the agent, not just in a log.
func connect(cfg config, getenv func(string) string, logger zerolog.Logger) (backend, error) {
	if cfg.Sandbox {
		sb, err := startSandbox(cfg.Auth, logger)
		if err != nil {
			return backend{}, err
		}
		ac := cfg.withTokenObserver(sb.auth)
		tokens, err := serverTokens(cfg, ac)
		if err != nil {
			sb.close()
			return backend{}, err
		}
		logger.Info().Str("tenant", sb.tenant.URL()).Str("credential", tokens.Describe()).
			Msg("sandbox: serving the built-in demo tenant; no request leaves this machine")
		return backend{tokens: tokens, baseURL: sb.tenant.APIBaseURL(), transport: sb.tenant.Client().Transport,
			fabric: fabricTokens(cfg, ac), fabricBaseURL: sb.tenant.FabricBaseURL(), close: sb.close, sandbox: sb.tenant}, nil
	}
	if cfg.HTTPAuth == httpAuthEntra {
		// Acting for each caller needs the app's own credential from the start: without one,
		// no caller could ever be served, so this is a start-up error, not a tool result.
		ac := cfg.withTokenObserver(cfg.authConfig(getenv, logger))
		tokens, err := serverTokens(cfg, ac)
		if err != nil {
			return backend{}, err
		}
		logger.Info().Str("credential", tokens.Describe()).Str("api", cfg.BaseURL).Msg("ready")
		return backend{tokens: tokens, baseURL: cfg.BaseURL, fabric: fabricTokens(cfg, ac), fabricBaseURL: cfg.FabricBaseURL, close: func() {}}, nil
	}
	ac := cfg.withTokenObserver(cfg.authConfig(getenv, logger))
	tokens, err := auth.New(ac)
	if err != nil {
		if errors.Is(err, auth.ErrNoCredential) {
			err = withFix(err, "or try the demo tenant: add --sandbox to the server's arguments")
		}
		// The log gets the headline; the ways to fix it are in every tool call's answer and
		// in powerbi-mcp whoami.
		headline, _ := explain(err)
		logger.Warn().Str("problem", headline).
			Msg("sign-in is not configured; every tool call answers how to set it up, as does powerbi-mcp whoami")
		return backend{tokens: unconfigured{err}, baseURL: cfg.BaseURL, fabric: unconfigured{err}, fabricBaseURL: cfg.FabricBaseURL, close: func() {}}, nil
	}
	logger.Info().Str("credential", tokens.Describe()).Str("api", cfg.BaseURL).Msg("ready")
	return backend{tokens: tokens, baseURL: cfg.BaseURL, fabric: fabricTokens(cfg, ac), fabricBaseURL: cfg.FabricBaseURL, close: func() {}}, nil
}

// fabricTokens is the token source for the Fabric REST API: the Power BI credential (acting for
// each caller too, under --http-auth entra) with Fabric's scope. Where none can be had, every
// Fabric request answers why, and the rest of the server works as before.
func fabricTokens(cfg config, ac auth.Config) pbiclient.TokenSource {
	fc, err := ac.ForFabric()
	if err != nil {
		return unconfigured{err}
	}
	tokens, err := serverTokens(cfg, fc)
	if err != nil {
		return unconfigured{err}
	}
	return tokens
}

// serverTokens is the token source for Power BI: on behalf of each caller when callers bring
// Entra tokens (--http-auth entra), else the configured credential's own.
func serverTokens(cfg config, ac auth.Config) (interface {
	pbiclient.TokenSource
	Describe() string
}, error) {
	if cfg.HTTPAuth == httpAuthEntra {
		return auth.NewOnBehalfOf(ac, 0)
	}
	return auth.New(ac)
}

// unconfigured answers every token request with the configuration error, so the agent can tell
// the user exactly which variables to set.
type unconfigured struct{ err error }

func (u unconfigured) Token(context.Context) (string, error) { return "", u.err }
func (u unconfigured) Invalidate(string)                     {}

// newServer builds the whole MCP server without a transport, so tests and every transport use
// the same code.
func newServer(cfg config, b backend, logger zerolog.Logger) (*server.MCPServer, error) {
	client, err := pbiclient.New(pbiclient.Config{
		BaseURL:   b.baseURL,
		Tokens:    b.tokens,
		Transport: b.transport,

		FabricTokens:  b.fabric,
		FabricBaseURL: b.fabricBaseURL,
		UserAgent:     "powerbi-mcp/" + currentVersion(),
		Logger:        logger,

		OnResponse:      cfg.onResponse(),
		ResponseTimeout: noLimitIfZero(cfg.ResponseTimeout),
	})
	if err != nil {
		return nil, err
	}
	opts := tools.Options{Version: currentVersion(), ReadOnly: cfg.ReadOnly, Toolsets: cfg.Toolsets, Tools: cfg.Tools, AdminRole: cfg.AdminRole}
	if cfg.Transport == "stdio" {
		opts.MaxLongRunning = stdioLongRunning
	}
	return tools.NewServer(tools.Deps{Client: client, ExportDir: cfg.ExportDir, DataDir: cfg.DataDir, Logger: logger,
		CallTimeout: noLimitIfZero(cfg.CallTimeout), MaxResultBytes: cfg.MaxResultBytes, MaxResourceBytes: cfg.MaxResourceBytes,
		Audit: cfg.auditLog(), Calls: cfg.callObserver()}, opts)
}

// noLimitIfZero turns a flag's 0 ("no limit") into the negative value the packages read as no
// limit; their own 0 means their default.
func noLimitIfZero(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

func serve(ctx context.Context, cfg config, s *server.MCPServer, stdin io.Reader, stdout io.Writer, logger zerolog.Logger) error {
	if cfg.Transport == "stdio" {
		return serveStdio(ctx, s, stdin, stdout, logger)
	}
	return serveHTTP(ctx, cfg, s, logger)
}

// mcp-go's stdio server runs tool calls on a fixed pool of workers and queues the rest (other
// requests, such as tools/list, each run on their own goroutine). A call that follows an export
// or a refresh holds its worker for minutes: with the default 5 workers, 5 exports left
// list_workspaces waiting in the queue. Hence:
//   - stdioWorkers: the pool is as large as mcp-go allows;
//   - stdioLongRunning: long-running tools take at most that many workers
//     (tools.Options.MaxLongRunning), so the others always serve quick calls, which hold a
//     worker only as long as Power BI takes to answer (throttling included, which pbiclient
//     bounds). A long-running call past the bound is refused at once and told to wait, rather
//     than queued, where it would wait as long as the calls ahead of it;
//   - stdioQueue: the queue is as long as mcp-go allows, because when it is full mcp-go runs
//     the next call on the goroutine that reads stdin, and until that call ends nothing else is
//     read, cancellations included.
const (
	stdioWorkers     = 100
	stdioLongRunning = 80
	stdioQueue       = 10000
	// stdioShutdownGrace is how long stdio waits, once stdin is closed or a signal came, for the
	// calls in progress to return after their contexts were cancelled. They normally return at
	// once; one that does not (its answer cannot be written because the client stopped reading)
	// must not keep the process alive.
	stdioShutdownGrace = 2 * time.Second
)

// serveStdio serves MCP on stdin and stdout until stdin is closed or ctx is done.
func serveStdio(ctx context.Context, s *server.MCPServer, stdin io.Reader, stdout io.Writer, logger zerolog.Logger) error {
	stdio := server.NewStdioServer(s)
	stdio.SetErrorLogger(log.New(logger.With().Str("transport", "stdio").Logger(), "", 0))
	server.WithWorkerPoolSize(stdioWorkers)(stdio)
	server.WithQueueSize(stdioQueue)(stdio)
	logger.Debug().Int("workers", stdioWorkers).Msg("serving MCP on stdio")

	// Listen cancels every call when its input ends, but then waits for all of them to return,
	// however long that takes; so the end of input is watched here too, to bound that wait.
	in := &inputEnd{r: stdin, ended: make(chan struct{})}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- stdio.Listen(ctx, in, stdout) }()
	select {
	case err := <-done:
		return stdioErr(err)
	case <-ctx.Done():
	case <-in.ended:
	}
	cancel()
	select {
	case err := <-done:
		return stdioErr(err)
	case <-time.After(stdioShutdownGrace):
		logger.Warn().Dur("waited", stdioShutdownGrace).Msg("stdio: calls still running after shutdown was asked for; exiting without their answers")
		return nil
	}
}

// stdioErr drops the errors that only mean the session ended.
func stdioErr(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// inputEnd is stdin that closes ended once a read fails (EOF: the client closed it). A pipe
// reports EOF on a read of its own, so by then the stdio server has taken in every line.
type inputEnd struct {
	r     io.Reader
	ended chan struct{}
	once  sync.Once
}

func (in *inputEnd) Read(p []byte) (int, error) {
	n, err := in.r.Read(p)
	if err != nil {
		in.once.Do(func() { close(in.ended) })
	}
	return n, err
}
