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
	f := newSignInFlags("login", "login [--sandbox] [flags]",
		"Signs a user in ahead of time and keeps the tokens in the token cache, so the server starts "+
			"signed in. Uses a device code (open a link, enter a code) by default, or the username and "+
			"password in AZURE_USERNAME and AZURE_PASSWORD with --auth username-password. "+
			"Needs AZURE_CLIENT_ID (a public client app registration; see README) and optionally AZURE_TENANT_ID.\n\n"+
			"With --sandbox it signs in the demo tenant's user with its password, to show what login does; "+
			"nothing is kept, as the demo tenant ends with the command. --sandbox --auth device-code prints a "+
			"code for the demo tenant's own sign-in page, served on this machine (with a self-signed "+
			"certificate) until you sign in there.")
	logger, code := f.parse(args, getenv, stdout, stderr)
	if code >= 0 {
		return code
	}
	cfg := f.authConfig(getenv, logger)
	kind := f.Auth
	switch kind {
	case auth.KindAuto:
		kind = auth.KindDeviceCode
		if f.sandbox || cfg.Username != "" && cfg.Password != "" {
			kind = auth.KindUsernamePassword
		}
	case auth.KindDeviceCode, auth.KindUsernamePassword:
	default:
		fmt.Fprintf(stderr, "powerbi-mcp login: --auth %s needs no login; login signs a user in with %s or %s\n",
			kind, auth.KindDeviceCode, auth.KindUsernamePassword)
		return 2
	}
	cfg.Kind = kind
	if f.sandbox {
		sb, err := startSandbox(kind, logger)
		if err != nil {
			fmt.Fprintln(stderr, "powerbi-mcp login:", err)
			return 2
		}
		defer sb.close()
		cfg = sb.auth
	}
	acct, err := auth.Login(ctx, cfg, func(p *auth.SignInRequired) {
		fmt.Fprintf(stderr, "To sign in, open %s and enter the code %s", p.VerificationURL, p.UserCode)
		if !p.ExpiresOn.IsZero() {
			fmt.Fprintf(stderr, " (it expires at %s)", p.ExpiresOn.Local().Format("15:04"))
		}
		fmt.Fprintln(stderr, ". Waiting for you to finish...")
	})
	if err != nil {
		printError(stderr, "powerbi-mcp login", err)
		return 1
	}
	if f.sandbox {
		fmt.Fprintf(stdout, "Signed in as %s (tenant %s) on the demo tenant. Nothing is kept: the demo tenant ends with this command.\n"+
			"To serve it as this user: powerbi-mcp --sandbox --auth %s\n", acct.Username, acct.TenantID, kind)
		return 0
	}
	fmt.Fprintf(stdout, "Signed in as %s (tenant %s). The server will use this sign-in until you run powerbi-mcp logout.\n",
		acct.Username, acct.TenantID)
	return 0
}

func runLogout(_ context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	f := newSignInFlags("logout", "logout [--sandbox] [flags]",
		"Removes the signed-in user's tokens (from powerbi-mcp login or a device-code sign-in) from the "+
			"token cache. The next start asks the user to sign in again. "+
			"With --sandbox there is nothing to remove: the demo tenant's sign-ins end with the process that made them.")
	logger, code := f.parse(args, getenv, stdout, stderr)
	if code >= 0 {
		return code
	}
	if f.sandbox {
		fmt.Fprintln(stdout, "The demo tenant keeps no sign-in: its tokens end with the process that made them. Nothing to forget.")
		return 0
	}
	accounts, err := auth.Logout(f.authConfig(getenv, logger))
	if err != nil {
		printError(stderr, "powerbi-mcp logout", err)
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
	SignedIn   bool   `json:"signedIn"`
	Credential string `json:"credential"`
	auth.TokenInfo
}

// notSignedIn is what whoami --json prints when no token could be had: the headline of the
// error and how to fix it, as the text output shows them.
type notSignedIn struct {
	SignedIn   bool   `json:"signedIn"`
	Credential string `json:"credential,omitempty"`
	Error      string `json:"error"`
	Fix        string `json:"fix"`
}

func runWhoami(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	f := newSignInFlags("whoami", "whoami [--json] [--sandbox] [flags]",
		"Gets a token through the configured credential, as the server would, and shows who it "+
			"belongs to: tenant, client, principal type, user or app name, expiry, roles or scopes. "+
			"It never prints the token. With --sandbox it asks the demo tenant: its service principal, "+
			"or its demo user with --auth username-password.")
	asJSON := f.fs.Bool("json", false, "print JSON instead of text, also when nobody is signed in")
	f.json = asJSON
	logger, code := f.parse(args, getenv, stdout, stderr)
	if code >= 0 {
		return code
	}
	var describe string
	fail := func(err error) int {
		if !*asJSON {
			printError(stderr, "powerbi-mcp whoami", err)
			return 1
		}
		headline, fix := explain(err)
		writeJSON(stdout, notSignedIn{Credential: describe, Error: headline, Fix: fix})
		return 1
	}
	cfg := f.authConfig(getenv, logger)
	if f.sandbox {
		if f.Auth == auth.KindDeviceCode {
			// The demo tenant's token cache ends with the process, so nobody can be signed in.
			return f.usageError(errors.New("--sandbox shows the demo tenant's service principal, or its user with --auth username-password\n"+
				"  A device-code sign-in there lasts one process: try it with powerbi-mcp --sandbox --auth device-code"), stdout, stderr)
		}
		sb, err := startSandbox(f.Auth, logger)
		if err != nil {
			return f.usageError(err, stdout, stderr)
		}
		defer sb.close()
		cfg = sb.auth
	}
	src, err := auth.New(cfg)
	if err != nil {
		if errors.Is(err, auth.ErrNoCredential) {
			err = withFix(err, "or try the demo tenant: powerbi-mcp whoami --sandbox")
		}
		return fail(err)
	}
	describe = src.Describe()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	token, err := src.Token(ctx)
	if err != nil {
		var signIn *auth.SignInRequired
		if errors.As(err, &signIn) {
			return fail(errors.New("nobody is signed in\n  Run powerbi-mcp login first."))
		}
		return fail(err)
	}
	info, ok := auth.Inspect(token)
	if !ok {
		return fail(fmt.Errorf("%s gave a token that is not a JWT, so it cannot say whom it belongs to", describe))
	}
	out := whoami{SignedIn: true, Credential: describe, TokenInfo: info}
	if *asJSON {
		if writeJSON(stdout, out) != nil {
			return 1
		}
		return 0
	}
	printWhoami(stdout, out)
	return 0
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printError writes a failure as the command's name and the error's headline, with the lines
// that say how to fix it below.
func printError(w io.Writer, command string, err error) {
	fmt.Fprintf(w, "%s: %v\n", command, err)
}

// explain splits an error into its headline and the lines below it, which say how to fix it,
// without their indent. An error of one line gets a fix that points to the step-by-step check.
func explain(err error) (headline, fix string) {
	headline, rest, _ := strings.Cut(err.Error(), "\n")
	var lines []string
	for _, line := range strings.Split(rest, "\n") {
		if line = strings.TrimPrefix(line, "  "); line != "" {
			lines = append(lines, line)
		}
	}
	if len(lines) == 0 {
		return headline, "powerbi-mcp doctor checks each step of the sign-in and says what to change."
	}
	return headline, strings.Join(lines, "\n")
}

// withFix adds a line to an error's fix, keeping the error itself (errors.Is still finds it).
func withFix(err error, line string) error {
	return fmt.Errorf("%w\n  %s", err, line)
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
