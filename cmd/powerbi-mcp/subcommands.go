package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/rs/zerolog"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
)

// subcommand is a command named by the first argument, such as powerbi-mcp login. Each
// parses its own flags and returns the exit code.
type subcommand struct {
	synopsis string // e.g. "whoami [--json]"
	summary  string // one line for the usage text
	run      func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int
}

// subcommands are the commands besides serving MCP. doctor adds itself from doctor.go's init,
// and help from this file's: both print usage texts that list the subcommands, and a literal
// entry here would make that an initialization cycle.
var subcommands = map[string]subcommand{
	"version": {"version", "print the version (also: powerbi-mcp --version)", runVersion},
	"login":   {"login [--sandbox]", "sign a user in ahead of time (device code or password)", runLogin},
	"logout":  {"logout [--sandbox]", "forget the signed-in user's tokens", runLogout},
	"whoami":  {"whoami [--json] [--sandbox]", "show who the configured credential signs in as (never the token)", runWhoami},
}

func init() {
	subcommands["help"] = subcommand{"help [SUBCOMMAND]", "print this text, or a subcommand's help", runHelp}
}

// subcommandOrder is the order the usage text lists them in: from the first a newcomer needs.
var subcommandOrder = []string{"help", "version", "login", "logout", "whoami", "doctor", "sandbox", "tools", "call"}

// subcommandUsage lists the subcommands for the main usage text.
func subcommandUsage() string {
	names := slices.Clone(subcommandOrder)
	var rest []string
	for name := range subcommands {
		if !slices.Contains(names, name) {
			rest = append(rest, name)
		}
	}
	sort.Strings(rest)
	var b strings.Builder
	for _, name := range append(names, rest...) {
		if sc, ok := subcommands[name]; ok {
			fmt.Fprintf(&b, "  powerbi-mcp %-28s %s\n", sc.synopsis, wrap(sc.summary, strings.Repeat(" ", 43), usageWidth))
		}
	}
	return b.String()
}

// isHelp reports whether args ask for help: -h, -help or --help.
func isHelp(args []string) bool {
	return slices.ContainsFunc(args, func(a string) bool { return a == "-h" || a == "-help" || a == "--help" })
}

// runHelp is powerbi-mcp help [SUBCOMMAND]. A subcommand's help is what it prints for --help,
// sent to stdout: it is the output asked for.
func runHelp(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 || isHelp(args[:1]) {
		printUsage(stdout)
		return 0
	}
	sc, ok := subcommands[args[0]]
	if !ok || len(args) > 1 {
		fmt.Fprintf(stderr, "powerbi-mcp help: %q is not a subcommand; they are %s\n", strings.Join(args, " "), strings.Join(subcommandOrder, ", "))
		return 2
	}
	return sc.run(ctx, []string{"--help"}, getenv, stdout, stdout)
}

func runVersion(_ context.Context, args []string, _ func(string) string, stdout, stderr io.Writer) int {
	fs := newFlagSet("powerbi-mcp version")
	if err := parseFlags(fs, args); errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(stdout, "Usage: powerbi-mcp version\n\nPrints the version, as powerbi-mcp --version does.")
		return 0
	} else if err != nil {
		fmt.Fprintln(stderr, "powerbi-mcp version:", err)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "powerbi-mcp version: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	fmt.Fprintln(stdout, "powerbi-mcp", currentVersion())
	return 0
}

// signIn is the part of the configuration that chooses the credential, shared by serving and
// by the subcommands.
type signIn struct {
	Auth          string
	Cloud         string
	TokenCacheDir string
	cloud         auth.Cloud // Cloud, resolved by validate
	from          origins    // where each setting came from, for errors
}

func (s *signIn) register(fs *flag.FlagSet) {
	fs.StringVar(&s.Auth, "auth", auth.KindAuto, "credential: "+strings.Join(auth.Kinds, ", ")+" (see docs/sign-in.md)")
	fs.StringVar(&s.Cloud, "cloud", "public", "Power BI cloud: "+strings.Join(auth.CloudNames(), ", ")+"; sets the sign-in host, API base URL and token resource")
	fs.StringVar(&s.TokenCacheDir, "token-cache-dir", "", "where signed-in users' tokens are kept across restarts (default: powerbi-mcp in the user cache directory)")
}

func (s *signIn) validate() error {
	s.Auth = strings.ToLower(strings.TrimSpace(s.Auth))
	found := false
	for _, k := range auth.Kinds {
		found = found || k == s.Auth
	}
	if !found {
		return fmt.Errorf("%s: use one of %s", s.from.setting("auth"), strings.Join(auth.Kinds, ", "))
	}
	c, err := auth.LookupCloud(s.Cloud)
	if err != nil {
		return fmt.Errorf("%s: use one of %s", s.from.setting("cloud"), strings.Join(auth.CloudNames(), ", "))
	}
	s.cloud = c
	return nil
}

// authConfig is the credential configuration: the AZURE_* variables, with the choices made by
// flags (which win over their variables).
func (s signIn) authConfig(getenv func(string) string, logger zerolog.Logger) auth.Config {
	cfg := auth.ConfigFromEnv(getenv)
	cfg.Kind, cfg.Cloud, cfg.TokenCacheDir, cfg.Logger = s.Auth, s.cloud.Name, s.TokenCacheDir, logger
	return cfg
}

// signInFlags are the flags of the sign-in subcommands: the sign-in choices, --sandbox and the
// log level (logs go to stderr; warnings only by default, so the output stays readable).
type signInFlags struct {
	signIn
	fs       *flag.FlagSet
	synopsis string // after "powerbi-mcp "
	about    string // what the subcommand does, in sentences
	level    string
	sandbox  bool
	json     *bool // whoami's --json: its errors are JSON too
}

func newSignInFlags(name, synopsis, about string) *signInFlags {
	f := &signInFlags{fs: newFlagSet("powerbi-mcp " + name), synopsis: synopsis, about: about}
	f.register(f.fs)
	f.fs.StringVar(&f.level, "log-level", "warn", "log level: trace, debug, info, warn or error (logs go to stderr)")
	f.fs.BoolVar(&f.sandbox, "sandbox", false, "use the built-in demo tenant instead of Power BI: no Azure account needed")
	return f
}

// usage is the subcommand's help.
func (f *signInFlags) usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: powerbi-mcp %s\n\n%s\n\nFlags (each can also be set by the environment variable shown):\n",
		f.synopsis, wrap(f.about, "", usageWidth))
	writeFlags(w, f.fs)
}

// usageError reports a usage error and returns its exit code, 2: as JSON on stdout when --json
// asks for it, on stderr otherwise.
func (f *signInFlags) usageError(err error, stdout, stderr io.Writer) int {
	if f.json != nil && *f.json {
		headline, fix, _ := strings.Cut(err.Error(), "\n")
		if fix == "" {
			fix = "see " + f.fs.Name() + " --help"
		}
		writeJSON(stdout, notSignedIn{Error: headline, Fix: strings.TrimSpace(fix)})
		return 2
	}
	fmt.Fprintf(stderr, "%s: %v\n", f.fs.Name(), err)
	return 2
}

// parse parses the subcommand's arguments and environment. It returns the exit code to stop
// with, or -1 to go on.
func (f *signInFlags) parse(args []string, getenv func(string) string, stdout, stderr io.Writer) (zerolog.Logger, int) {
	fail := func(err error) (zerolog.Logger, int) {
		return zerolog.Nop(), f.usageError(err, stdout, stderr)
	}
	if err := parseFlags(f.fs, args); errors.Is(err, flag.ErrHelp) {
		f.usage(stdout)
		return zerolog.Nop(), 0
	} else if err != nil {
		return fail(err)
	}
	if f.fs.NArg() > 0 {
		return fail(fmt.Errorf("unexpected argument %q; see %s --help", f.fs.Arg(0), f.fs.Name()))
	}
	given, err := applyEnv(f.fs, getenv)
	if err != nil {
		return fail(err)
	}
	f.from = newOrigins(f.fs, given, getenv)
	if err := f.validate(); err != nil {
		return fail(err)
	}
	lvl, err := zerolog.ParseLevel(f.level)
	if err != nil || f.level == "" {
		return fail(fmt.Errorf("%s: use trace, debug, info, warn or error", f.from.setting("log-level")))
	}
	return zerolog.New(zerolog.ConsoleWriter{Out: stderr, NoColor: true, TimeFormat: "15:04:05"}).Level(lvl).With().Timestamp().Logger(), -1
}
