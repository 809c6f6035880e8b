package main

// powerbi-mcp doctor: the wiring. The checks live in internal/doctor; this file turns the
// command line and environment into its Options, as the server does for itself.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
	"github.com/powerbi-mcp/powerbi-mcp/cmd/powerbi-mcp/internal/doctor"
)

// doctor registers itself from init; subcommands.go says why.
func init() {
	subcommands["doctor"] = subcommand{"doctor [--json] [--sandbox]", "check every step of the Power BI setup and say how to fix what fails", runDoctor}
}

// runDoctor is `powerbi-mcp doctor`: it prints the checklist to stdout and returns 0 when
// every check passed (warnings included), 1 when one failed and 2 for a usage error.
func runDoctor(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	asJSON, rest, help := doctorArgs(args)
	if help {
		doctorUsage(stdout)
		return 0
	}
	// The server's own flags and PBI_MCP_* variables, so --base-url, --toolsets and the rest
	// mean here what they mean to the server.
	cfg, err := parseConfig(rest, getenv, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "powerbi-mcp doctor:", err)
		return 2
	}
	if !logLevelChosen(rest, getenv) {
		cfg.LogLevel = "warn" // the checklist says it all; logs only for trouble
	}
	logger := newLogger(cfg, stderr)

	authCfg := cfg.authConfig(getenv, logger)
	var httpClient *http.Client // nil: the defaults, which trust the system's certificates
	if cfg.Sandbox && cfg.Auth == auth.KindDeviceCode {
		// The sandbox's token cache lives as long as one process, so a sign-in made for the
		// doctor could not be checked by it, nor one made by login.
		fmt.Fprintln(stderr, "powerbi-mcp doctor: --sandbox checks the demo tenant's service principal (the default) or, with --auth username-password, its demo user; "+
			"try the device-code sign-in in the server itself: powerbi-mcp --sandbox --auth device-code")
		return 2
	}
	fabricBaseURL := cfg.FabricBaseURL
	if cfg.Sandbox {
		sb, err := startSandbox(cfg.Auth, logger)
		if err != nil {
			fmt.Fprintln(stderr, "powerbi-mcp doctor:", err)
			return 2
		}
		defer sb.close()
		authCfg, httpClient, cfg.BaseURL, fabricBaseURL = sb.auth, sb.tenant.Client(), sb.tenant.APIBaseURL(), sb.tenant.FabricBaseURL()
	}

	results := doctor.Run(ctx, doctor.Options{
		Auth: authCfg, HTTPClient: httpClient, BaseURL: cfg.BaseURL, FabricBaseURL: fabricBaseURL, Sandbox: cfg.Sandbox,
		ReadOnly: cfg.ReadOnly, Toolsets: cfg.Toolsets, Tools: cfg.Tools,
		Version: currentVersion(), Logger: logger,
	})
	if asJSON {
		_ = doctor.WriteJSON(stdout, results)
	} else {
		doctor.WriteChecklist(stdout, results)
	}
	if doctor.Failed(results) {
		return 1
	}
	return 0
}

// doctorArgs takes the doctor's own flags out of args and leaves the server's.
func doctorArgs(args []string) (asJSON bool, rest []string, help bool) {
	for _, a := range args {
		switch a {
		case "--json", "-json", "--json=true", "-json=true":
			asJSON = true
		case "--json=false", "-json=false":
			asJSON = false
		case "-h", "--help", "-help":
			help = true
		default:
			rest = append(rest, a)
		}
	}
	return asJSON, rest, help
}

func logLevelChosen(args []string, getenv func(string) string) bool {
	for _, a := range args {
		if strings.HasPrefix(strings.TrimLeft(a, "-"), "log-level") {
			return true
		}
	}
	return getenv(envName("log-level")) != ""
}

func doctorUsage(w io.Writer) {
	fmt.Fprintf(w, `powerbi-mcp doctor: check every step of the Power BI setup and say how to fix what fails.

Usage:
  powerbi-mcp doctor [--json] [server flags]

It reads the same variables and flags as the server (AZURE_*, PBI_MCP_*, --base-url, --toolsets,
--sandbox ...) and checks, in order: the sign-in configuration, the Entra ID authority, the token,
the token's claims, the Power BI API, the admin APIs, DAX queries and capacity for exports.

  --json   print the checks as a JSON array of {check, status (ok|fail|warn|skip), detail, fix}

Exit status: 0 when nothing failed (warnings allowed), 1 when a check failed, 2 for usage errors.
Secrets and tokens are never printed.
`)
}
