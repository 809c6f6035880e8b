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
	"syscall"
	"time"

	"github.com/mark3labs/mcp-go/server"
	"github.com/rs/zerolog"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
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
			return sc.run(ctx, args[1:], getenv, stdout, stderr)
		}
	}
	cfg, err := parseConfig(args, getenv, stderr)
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

	backend, err := connect(cfg, getenv, logger)
	if err != nil {
		logger.Error().Err(err).Msg("cannot start")
		return 1
	}
	defer backend.close()

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
	tokens    pbiclient.TokenSource
	baseURL   string
	transport http.RoundTripper // nil: the default transport
	close     func()
}

// connect chooses the backend. It does no network I/O: sign-in happens on the first tool call,
// so start-up stays fast and a misconfiguration is explained to the agent, not just in a log.
func connect(cfg config, getenv func(string) string, logger zerolog.Logger) (backend, error) {
	if cfg.Sandbox {
		sb, err := startSandbox(cfg.Auth, logger)
		if err != nil {
			return backend{}, err
		}
		tokens, err := auth.New(sb.auth)
		if err != nil {
			sb.close()
			return backend{}, err
		}
		logger.Info().Str("tenant", sb.tenant.URL()).Str("credential", tokens.Describe()).
			Msg("sandbox: serving the built-in demo tenant; no request leaves this machine")
		return backend{tokens: tokens, baseURL: sb.tenant.APIBaseURL(), transport: sb.tenant.Client().Transport, close: sb.close}, nil
	}
	tokens, err := auth.New(cfg.authConfig(getenv, logger))
	if err != nil {
		logger.Warn().Err(err).Msg("sign-in is not configured; every tool call will answer with this error until it is")
		return backend{tokens: unconfigured{err}, baseURL: cfg.BaseURL, close: func() {}}, nil
	}
	logger.Info().Str("credential", tokens.Describe()).Str("api", cfg.BaseURL).Msg("ready")
	return backend{tokens: tokens, baseURL: cfg.BaseURL, close: func() {}}, nil
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
		UserAgent: "powerbi-mcp/" + currentVersion(),
		Logger:    logger,

		ResponseTimeout: noLimitIfZero(cfg.ResponseTimeout),
	})
	if err != nil {
		return nil, err
	}
	return tools.NewServer(tools.Deps{Client: client, ExportDir: cfg.ExportDir, DataDir: cfg.DataDir, Logger: logger,
		CallTimeout: noLimitIfZero(cfg.CallTimeout)},
		tools.Options{Version: currentVersion(), ReadOnly: cfg.ReadOnly, Toolsets: cfg.Toolsets, Tools: cfg.Tools})
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
		stdio := server.NewStdioServer(s)
		stdio.SetErrorLogger(log.New(logger.With().Str("transport", "stdio").Logger(), "", 0))
		logger.Debug().Msg("serving MCP on stdio")
		err := stdio.Listen(ctx, stdin, stdout)
		if errors.Is(err, context.Canceled) || errors.Is(err, io.EOF) {
			return nil
		}
		return err
	}
	return serveHTTP(ctx, cfg, s, logger)
}
