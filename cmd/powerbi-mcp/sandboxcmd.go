package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// powerbi-mcp sandbox serves the demo tenant --sandbox runs inside the server as a process of
// its own, so that several servers (replicas behind a load balancer) and OAuth clients can share
// one tenant: one authority that signs callers in, takes their tokens for on-behalf-of and
// answers Power BI for each user. Each server is then configured exactly as for the real
// service, from the variables this command prints.

func init() {
	subcommands["sandbox"] = subcommand{"sandbox [--cert FILE]",
		"serve the demo tenant alone, for several servers and OAuth clients to share", runSandbox}
}

// sandboxPublicClientVar names the client id an OAuth client (an MCP client) signs users in
// with. No flag reads it: it is for the clients' configuration.
const sandboxPublicClientVar = envPrefix + "SANDBOX_PUBLIC_CLIENT_ID"

// listFlag is a flag that may be repeated, each value a comma-separated list.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error {
	*l = append(*l, splitList(s)...)
	return nil
}

func runSandbox(ctx context.Context, args []string, _ func(string) string, stdout, stderr io.Writer) int {
	fs := newFlagSet("powerbi-mcp sandbox")
	addr := fs.String("addr", "127.0.0.1:0", "loopback address to serve the tenant on; port 0 picks a free one")
	certFile := fs.String("cert", "", "write the tenant's TLS certificate (PEM) to FILE and keep it there; default a temporary file removed on exit")
	var appIDURIs, redirectURIs listFlag
	fs.Var(&appIDURIs, "app-id-uri", "an Application ID URI of the server's app besides api://{client id}: the server's --public-url, "+
		"which OAuth clients send as the resource they sign in for (repeat the flag, or separate with commas)")
	fs.Var(&redirectURIs, "redirect-uri", "a redirect URI of the public client, besides http://localhost and http://127.0.0.1 on any port (repeatable)")
	version := fs.Int("access-token-version", 1, "the access token version of the server's app registration, 1 (a new registration's) or 2")
	usage := func(w io.Writer) {
		fmt.Fprintf(w, "Usage: powerbi-mcp sandbox [flags]\n\n%s\n\nFlags:\n", wrap("Serves the built-in demo tenant (Power BI and Entra ID) "+
			"until stopped with Ctrl-C or SIGTERM, and prints on stdout, as KEY=value lines, the settings a server needs to use it "+
			"as if it were the real service: load them with `set -a; . FILE; set +a`. "+sandboxPublicClientVar+" is the client id an "+
			"MCP client signs users in with; the demo users' password is "+pbitest.DemoUserPassword+". See docs/sandbox.md.", "", usageWidth))
		indent := strings.Repeat(" ", 26) // "  --", the longest name, two spaces
		fs.VisitAll(func(f *flag.Flag) {
			text := f.Usage
			if f.DefValue != "" {
				text += fmt.Sprintf(" (default %q)", f.DefValue)
			}
			fmt.Fprintf(w, "  --%-20s  %s\n", f.Name, wrap(text, indent, usageWidth))
		})
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, "powerbi-mcp sandbox:", err)
		return 2
	}
	if err := parseFlags(fs, args); errors.Is(err, flag.ErrHelp) {
		usage(stdout)
		return 0
	} else if err != nil {
		return fail(err)
	}
	if fs.NArg() > 0 {
		return fail(fmt.Errorf("unexpected argument %q; see powerbi-mcp sandbox --help", fs.Arg(0)))
	}
	// The tenant's certificate names loopback addresses only, and its secret is public.
	if !isLoopback(*addr) {
		return fail(fmt.Errorf("--addr %q: want a loopback address such as 127.0.0.1:8443: the demo tenant's certificate and credentials are for this machine only", *addr))
	}
	if *version != 1 && *version != 2 {
		return fail(fmt.Errorf("--access-token-version %d: want 1 or 2", *version))
	}
	for _, u := range slices.Concat(appIDURIs, redirectURIs) {
		if !strings.Contains(u, "://") {
			return fail(fmt.Errorf("%q is not a URL", u))
		}
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(stderr, "powerbi-mcp sandbox:", err)
		return 1
	}
	tenant := pbitest.NewServer(pbitest.Options{Listener: ln})
	defer tenant.Close()
	tenant.SeedDemo()
	for _, u := range appIDURIs {
		tenant.AddAppIDURI(u)
	}
	if len(redirectURIs) > 0 {
		tenant.AddPublicClient(pbitest.PublicClientID, redirectURIs...)
	}
	tenant.SetAccessTokenVersion(*version)

	cert := *certFile
	if cert == "" {
		dir, err := os.MkdirTemp("", "powerbi-mcp-sandbox-")
		if err != nil {
			fmt.Fprintln(stderr, "powerbi-mcp sandbox:", err)
			return 1
		}
		defer os.RemoveAll(dir)
		cert = filepath.Join(dir, "tenant.pem")
	}
	// Absolute: the processes that read it may run elsewhere.
	if cert, err = filepath.Abs(cert); err == nil {
		err = os.WriteFile(cert, tenant.CertificatePEM(), 0o644)
	}
	if err != nil {
		fmt.Fprintln(stderr, "powerbi-mcp sandbox: writing the certificate:", err)
		return 1
	}

	// One write, so that a reader polling the file sees all the lines or none.
	var b strings.Builder
	for _, kv := range [][2]string{
		{auth.EnvAuthorityHost, tenant.AuthorityHost()},
		{auth.EnvTenantID, tenant.TenantID()},
		{auth.EnvClientID, tenant.ClientID()},
		{auth.EnvClientSecret, tenant.ClientSecret()},
		{envName("base-url"), tenant.APIBaseURL()},
		// Go's TLS reads SSL_CERT_FILE; Node.js adds NODE_EXTRA_CA_CERTS to its own roots.
		{"SSL_CERT_FILE", cert},
		{"NODE_EXTRA_CA_CERTS", cert},
		{sandboxPublicClientVar, pbitest.PublicClientID},
	} {
		fmt.Fprintf(&b, "%s=%s\n", kv[0], shellQuote(kv[1]))
	}
	if _, err := io.WriteString(stdout, b.String()); err != nil {
		fmt.Fprintln(stderr, "powerbi-mcp sandbox:", err)
		return 1
	}
	fmt.Fprintf(stderr, "powerbi-mcp sandbox: serving the demo tenant at %s until stopped; demo users %s and %s, password %s\n",
		tenant.URL(), pbitest.DefaultUserPrincipalName, pbitest.DemoMarketingUser, pbitest.DemoUserPassword)
	<-ctx.Done()
	return 0
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]*$`)

// shellQuote quotes a value for a POSIX shell when it needs it, so that the lines can be
// sourced with `. FILE`.
func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
