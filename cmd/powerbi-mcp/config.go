package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/tools"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3"; otherwise the module
// version recorded by `go install ...@version` is used.
var version = ""

func currentVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// config is everything the command line and the environment decide. Of the sign-in settings
// only the choice of credential, cloud and token cache are here; the credentials themselves are
// the Azure SDK's standard AZURE_* variables, read by the auth package.
type config struct {
	signIn
	httpAuthConfig
	opsConfig

	Transport      string
	Addr           string
	LogLevel       string
	LogFormat      string
	ExportDir      string
	DataDir        string
	BaseURL        string
	FabricBaseURL  string
	Sandbox        bool
	ReadOnly       bool
	Toolsets       []string
	Tools          []string
	AllowedOrigins []string
	HTTPToken      string // PBI_MCP_HTTP_TOKEN only: a flag would show in the process list
	AllowedHosts   []string
	ShutdownGrace  time.Duration
	MaxSSESessions int
	ShowVersion    bool
	AdminRole      string // see selection.go

	// How long a call waits: for Power BI to start each answer, and in all (0: no limit).
	ResponseTimeout time.Duration
	CallTimeout     time.Duration

	// How much one answer may hold: a tool result, and a file read as a resource.
	MaxResultBytes   int
	MaxResourceBytes int64
}

// envPrefix names every flag's environment variable: --export-dir is PBI_MCP_EXPORT_DIR.
const envPrefix = "PBI_MCP_"

func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// serverLists are the comma-separated flags, before they are split.
type serverLists struct{ toolsets, tools, origins, hosts string }

// serverFlags declares the server's flags on cfg and l.
func serverFlags(cfg *config, l *serverLists) *flag.FlagSet {
	fs := newFlagSet("powerbi-mcp")
	fs.StringVar(&cfg.Transport, "transport", "stdio", "how MCP clients connect: stdio, http or sse (deprecated by the MCP specification; only for old clients); http is streamable HTTP, the one to use")
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:8080", "listen address for the sse and http transports")
	fs.StringVar(&cfg.LogLevel, "log-level", "info", "log level: trace, debug, info, warn or error (logs go to stderr)")
	fs.StringVar(&cfg.LogFormat, "log-format", "console", "log format: console or json")
	fs.StringVar(&cfg.ExportDir, "export-dir", defaultDir("exports"), "directory where export_report and download_report_pbix write files")
	fs.StringVar(&cfg.DataDir, "data-dir", defaultDir("data"), "the only directory tools read files from (imports, rows to push)")
	fs.StringVar(&cfg.BaseURL, "base-url", "", "Power BI REST API base URL; default the --cloud's, "+pbiclient.DefaultBaseURL+" in the public cloud")
	fs.StringVar(&cfg.FabricBaseURL, "fabric-base-url", "", "Fabric REST API base URL, for the model editing tools; default "+pbiclient.DefaultFabricBaseURL)
	fs.BoolVar(&cfg.Sandbox, "sandbox", false, "serve a built-in demo tenant instead of Power BI: no Azure account needed")
	fs.BoolVar(&cfg.ReadOnly, "read-only", false, "offer only tools that change nothing in Power BI")
	fs.StringVar(&l.toolsets, "toolsets", "default", "comma-separated toolsets to offer: default, all, or names (see README)")
	fs.StringVar(&l.tools, "tools", "", "comma-separated tool names to offer in addition to the toolsets")
	fs.StringVar(&l.origins, "allowed-origins", "", "comma-separated browser Origins allowed on the HTTP transports besides localhost")
	fs.StringVar(&l.hosts, "allowed-hosts", "", "comma-separated Host header values the HTTP transports accept besides loopback ones, e.g. the name a reverse proxy forwards")
	fs.DurationVar(&cfg.ShutdownGrace, "shutdown-grace", 10*time.Second, "on SIGTERM or SIGINT, how long HTTP calls in flight may run on; calls still running after it are stopped and told so")
	fs.IntVar(&cfg.MaxSSESessions, "max-sse-sessions", 100, "most SSE sessions open at once, 0 for no limit; more are answered 503 with Retry-After")
	cfg.registerTimeouts(fs)
	cfg.registerHTTPAuth(fs)
	cfg.registerSelection(fs)
	cfg.registerOps(fs)
	cfg.signIn.register(fs)
	fs.BoolVar(&cfg.ShowVersion, "version", false, "print the version and exit (or: powerbi-mcp version)")
	return fs
}

// parseConfig reads flags, then fills every flag not given on the command line from its
// PBI_MCP_* variable. A command-line flag wins over the environment. --help writes the usage
// to help and returns flag.ErrHelp.
func parseConfig(args []string, getenv func(string) string, help io.Writer) (config, error) {
	var cfg config
	var l serverLists
	fs := serverFlags(&cfg, &l)
	if err := parseFlags(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(fs, help)
		}
		return config{}, err
	}
	if fs.NArg() > 0 {
		if _, ok := subcommands[fs.Arg(0)]; ok {
			return config{}, fmt.Errorf("unexpected argument %q: a subcommand comes first, e.g. powerbi-mcp %s --help", fs.Arg(0), fs.Arg(0))
		}
		return config{}, fmt.Errorf("unexpected argument %q; see powerbi-mcp --help", fs.Arg(0))
	}
	given, err := applyEnv(fs, getenv)
	if err != nil {
		return config{}, err
	}
	cfg.from = newOrigins(fs, given, getenv)
	cfg.Toolsets, cfg.Tools, cfg.AllowedOrigins = splitList(l.toolsets), splitList(l.tools), splitList(l.origins)
	cfg.AllowedHosts = splitList(l.hosts)
	cfg.HTTPToken = getenv(envPrefix + "HTTP_TOKEN")
	cfg.readHTTPAuthEnv(getenv)
	if err := cfg.validate(); err != nil {
		return config{}, err
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = cfg.cloud.APIBaseURL
	}
	return cfg, nil
}

// registerTimeouts declares the flags that bound how long a call waits.
func (c *config) registerTimeouts(fs *flag.FlagSet) {
	fs.DurationVar(&c.ResponseTimeout, "response-timeout", pbiclient.DefaultResponseTimeout,
		"longest wait for Power BI to start answering a request; raise it for DAX queries that compute longer (0: no limit)")
	fs.DurationVar(&c.CallTimeout, "call-timeout", tools.DefaultCallTimeout,
		"longest a tool call may take, plus the timeout_seconds of a tool that follows a job; a Retry-After that does not fit is reported, not waited (0: no limit)")
	fs.IntVar(&c.MaxResultBytes, "max-result-bytes", tools.DefaultMaxResultBytes,
		"most bytes one tool result may hold, in its text and again in its structured content; what does not fit is flagged and reachable by paging or as a file")
	fs.Int64Var(&c.MaxResourceBytes, "max-resource-bytes", tools.DefaultMaxResourceBytes,
		"largest file a client may read through resources/read; a larger one is refused with its path on the server")
}

// applyEnv fills every flag not given on the command line from its PBI_MCP_* variable, and
// returns the flags that were given.
func applyEnv(fs *flag.FlagSet, getenv func(string) string) (map[string]bool, error) {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || f.Name == "version" || f.Name == "json" {
			return
		}
		if v := getenv(envName(f.Name)); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				envErr = errors.Join(envErr, fmt.Errorf("%s=%s: %v", envName(f.Name), v, err))
			}
		}
	})
	return given, envErr
}

func (c *config) validate() error {
	if err := c.signIn.validate(); err != nil {
		return err
	}
	set := c.from.setting
	switch c.Transport {
	case "stdio", "sse", "http":
	default:
		return fmt.Errorf("%s: use stdio, sse or http", set("transport"))
	}
	switch c.LogLevel {
	case "trace", "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("%s: use trace, debug, info, warn or error", set("log-level"))
	}
	switch c.LogFormat {
	case "console", "json":
	default:
		return fmt.Errorf("%s: use console or json", set("log-format"))
	}
	// Before serving: a typo in a toolset or tool would otherwise be found only once it runs.
	if err := tools.CheckSelection(tools.Options{Toolsets: c.Toolsets}); err != nil {
		return selectionError(set("toolsets"), err)
	}
	if err := tools.CheckSelection(tools.Options{Toolsets: c.Toolsets, Tools: c.Tools}); err != nil {
		return selectionError(set("tools"), err)
	}
	if c.Transport == "stdio" && c.HTTPAuth == httpAuthEntra {
		// A stdio server has one local user and no callers to act for: in the Entra mode every
		// call would fail, so say it at start-up.
		return fmt.Errorf("%s applies to --transport http; on stdio the server signs in with its own credential", set("http-auth"))
	}
	if c.Transport != "stdio" {
		if _, _, err := net.SplitHostPort(c.Addr); err != nil {
			return fmt.Errorf("%s: want host:port, e.g. 127.0.0.1:8080", set("addr"))
		}
		if c.ShutdownGrace < 0 {
			return fmt.Errorf("%s: want a duration of 0 or more, e.g. 10s", set("shutdown-grace"))
		}
		if c.MaxSSESessions < 0 {
			return fmt.Errorf("%s: want 0 (no limit) or more", set("max-sse-sessions"))
		}
		if err := c.validateHTTPAuth(); err != nil {
			return err
		}
	}
	if err := c.validateSelection(); err != nil {
		return err
	}
	if err := c.validateOps(); err != nil {
		return err
	}
	if c.ExportDir == "" {
		return fmt.Errorf("--export-dir is empty and no user cache directory was found: set %s", envName("export-dir"))
	}
	if c.DataDir == "" {
		return fmt.Errorf("--data-dir is empty and no user cache directory was found: set %s", envName("data-dir"))
	}
	if c.MaxResultBytes < 4096 {
		return fmt.Errorf("%s: want 4096 or more; a smaller budget cannot hold a useful answer", set("max-result-bytes"))
	}
	if c.MaxResourceBytes < 1 {
		return fmt.Errorf("%s: want 1 or more", set("max-resource-bytes"))
	}
	for _, t := range []struct {
		name string
		d    time.Duration
	}{{"response-timeout", c.ResponseTimeout}, {"call-timeout", c.CallTimeout}} {
		if t.d < 0 {
			return fmt.Errorf("%s: want a duration such as 30s or 5m, or 0 for no limit", set(t.name))
		}
	}
	return nil
}

// selectionError puts the setting and the unknown name on the first line and the names to use
// (the tools package's "valid toolsets: ..." or "did you mean ...?") wrapped below it.
func selectionError(setting string, err error) error {
	headline, names, ok := strings.Cut(err.Error(), "; ")
	if !ok {
		return fmt.Errorf("%s: %v", setting, err)
	}
	return fmt.Errorf("%s: %s\n  %s", setting, headline, wrap(names, "  ", usageWidth))
}

// isLoopback reports whether addr can only be reached from this machine.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// defaultDir is a folder of powerbi-mcp's own in the user's cache directory.
func defaultDir(name string) string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "powerbi-mcp", name)
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

func usage(fs *flag.FlagSet, w io.Writer) {
	fmt.Fprintf(w, `powerbi-mcp %s: an MCP server for the Power BI REST API.

Usage:
  powerbi-mcp [flags]             serve MCP on stdio (what desktop agents start)
  powerbi-mcp --sandbox           the same, on a built-in demo tenant
  powerbi-mcp --transport http    serve streamable HTTP on --addr, endpoint /mcp
  powerbi-mcp SUBCOMMAND [flags]  one of the subcommands below

Subcommands:
%s
Sign-in uses the Azure SDK's variables (--auth chooses; auto takes the first configured):
  AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET   a service principal with a client secret
  AZURE_CLIENT_CERTIFICATE_PATH (and _PASSWORD)           ... or with a certificate (PEM or .pfx)
  AZURE_FEDERATED_TOKEN_FILE                              workload identity
  AZURE_CLIENT_ID alone                                   a user, by device code (powerbi-mcp login)
  AZURE_USERNAME, AZURE_PASSWORD                          a user's password (no MFA)
  PBI_MCP_ACCESS_TOKEN or PBI_MCP_ACCESS_TOKEN_FILE       an access token you already have
  --auth azure-cli / managed-identity                     az login / the Azure resource's identity
  AZURE_AUTHORITY_HOST                                    Entra ID host (default: the --cloud's)

Flags (each can also be set by the environment variable shown):
`, currentVersion(), subcommandUsage())
	writeFlags(w, fs)
	fmt.Fprintf(w, "\nHTTP transports beyond loopback require --http-auth entra or %sHTTP_TOKEN (docs/http.md).\n", envPrefix)
}

// printUsage writes the server's usage text.
func printUsage(w io.Writer) {
	usage(serverFlags(&config{}, &serverLists{}), w)
}
