package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
)

// The sign-in subcommands: login, logout and whoami. Their results go to stdout, sign-in
// prompts and errors to stderr. None ever prints a token or a secret.

func runLogin(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs, s, level := subcommandFlags("login", "login [flags]",
		"Signs a user in ahead of time and keeps the tokens in the token cache, so the server starts\n"+
			"signed in. Uses a device code (open a link, enter a code) by default, or the username and\n"+
			"password in AZURE_USERNAME and AZURE_PASSWORD with --auth username-password.\n"+
			"Needs AZURE_CLIENT_ID (a public client app registration; see README) and optionally AZURE_TENANT_ID.", stderr)
	logger, code := parseSubcommand(fs, s, level, args, getenv, stderr)
	if code >= 0 {
		return code
	}
	cfg := s.authConfig(getenv, logger)
	switch cfg.Kind {
	case auth.KindAuto:
		cfg.Kind = auth.KindDeviceCode
		if cfg.Username != "" && cfg.Password != "" {
			cfg.Kind = auth.KindUsernamePassword
		}
	case auth.KindDeviceCode, auth.KindUsernamePassword:
	default:
		fmt.Fprintf(stderr, "powerbi-mcp login: --auth %s needs no login; login signs a user in with %s or %s\n",
			cfg.Kind, auth.KindDeviceCode, auth.KindUsernamePassword)
		return 2
	}
	acct, err := auth.Login(ctx, cfg, func(p *auth.SignInRequired) {
		fmt.Fprintf(stderr, "To sign in, open %s and enter the code %s", p.VerificationURL, p.UserCode)
		if !p.ExpiresOn.IsZero() {
			fmt.Fprintf(stderr, " (it expires at %s)", p.ExpiresOn.Local().Format("15:04"))
		}
		fmt.Fprintln(stderr, ". Waiting for you to finish...")
	})
	if err != nil {
		fmt.Fprintln(stderr, "powerbi-mcp login:", err)
		return 1
	}
	fmt.Fprintf(stdout, "Signed in as %s (tenant %s). The server will use this sign-in until you run powerbi-mcp logout.\n",
		acct.Username, acct.TenantID)
	return 0
}

func runLogout(_ context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs, s, level := subcommandFlags("logout", "logout [flags]",
		"Removes the signed-in user's tokens (from powerbi-mcp login or a device-code sign-in) from the\n"+
			"token cache. The next start asks the user to sign in again.", stderr)
	logger, code := parseSubcommand(fs, s, level, args, getenv, stderr)
	if code >= 0 {
		return code
	}
	accounts, err := auth.Logout(s.authConfig(getenv, logger))
	if err != nil {
		fmt.Fprintln(stderr, "powerbi-mcp logout:", err)
		return 1
	}
	if len(accounts) == 0 {
		fmt.Fprintln(stdout, "No signed-in user was cached; nothing to do.")
		return 0
	}
	for _, a := range accounts {
		fmt.Fprintf(stdout, "Signed out %s (tenant %s).\n", a.Username, a.TenantID)
	}
	return 0
}

// whoami is what powerbi-mcp whoami --json prints: the credential and the token's claims.
type whoami struct {
	Credential string `json:"credential"`
	auth.TokenInfo
}

func runWhoami(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs, s, level := subcommandFlags("whoami", "whoami [--json] [flags]",
		"Gets a token through the configured credential, as the server would, and shows who it\n"+
			"belongs to: tenant, client, principal type, user or app name, expiry, roles or scopes.\n"+
			"It never prints the token.", stderr)
	asJSON := fs.Bool("json", false, "print JSON instead of text")
	logger, code := parseSubcommand(fs, s, level, args, getenv, stderr)
	if code >= 0 {
		return code
	}
	src, err := auth.New(s.authConfig(getenv, logger))
	if err != nil {
		fmt.Fprintln(stderr, "powerbi-mcp whoami:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	token, err := src.Token(ctx)
	if err != nil {
		var signIn *auth.SignInRequired
		if errors.As(err, &signIn) {
			fmt.Fprintln(stderr, "powerbi-mcp whoami: nobody is signed in. Run powerbi-mcp login first.")
			return 1
		}
		fmt.Fprintln(stderr, "powerbi-mcp whoami:", err)
		return 1
	}
	info, ok := auth.Inspect(token)
	if !ok {
		fmt.Fprintf(stderr, "powerbi-mcp whoami: %s gave a token that is not a JWT, so it cannot say whom it belongs to\n", src.Describe())
		return 1
	}
	out := whoami{Credential: src.Describe(), TokenInfo: info}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return 1
		}
		return 0
	}
	printWhoami(stdout, out)
	return 0
}

func printWhoami(w io.Writer, o whoami) {
	line := func(label, value string) {
		if value != "" {
			fmt.Fprintf(w, "%-12s %s\n", label+":", value)
		}
	}
	line("Credential", o.Credential)
	line("Tenant", o.TenantID)
	line("Client", o.ClientID)
	switch o.PrincipalType {
	case "app":
		line("Principal", "app (service principal or managed identity)")
		line("App", o.AppName)
	default:
		line("Principal", o.PrincipalType)
		user := o.Username
		if o.Name != "" {
			user = o.Name + " <" + o.Username + ">"
		}
		line("User", user)
	}
	line("Object ID", o.ObjectID)
	line("Audience", o.Audience)
	if !o.ExpiresOn.IsZero() {
		line("Expires", fmt.Sprintf("%s (in %s)", o.ExpiresOn.Local().Format(time.RFC3339), time.Until(o.ExpiresOn).Round(time.Minute)))
	}
	line("Roles", strings.Join(o.Roles, " "))
	line("Scopes", strings.Join(o.Scopes, " "))
	if o.PrincipalType == "app" && len(o.Roles) == 0 {
		line("Note", "no app roles: as Power BI requires, access comes from the tenant settings and workspace membership, not API permissions")
	}
}
