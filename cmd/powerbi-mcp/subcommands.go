package main

import (
	"context"
	"flag"
	"fmt"
	"io"
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

// subcommands are the commands besides serving MCP. doctor adds itself from doctor.go's init:
// it parses the server's own flags, whose usage text lists the subcommands, and a literal entry
// here would make that an initialization cycle.
var subcommands = map[string]subcommand{
	"login":  {"login", "sign a user in ahead of time (device code, or --auth username-password)", runLogin},
	"logout": {"logout", "forget the signed-in user's tokens", runLogout},
	"whoami": {"whoami [--json]", "show who the configured credential signs in as (never the token)", runWhoami},
}

// subcommandUsage lists the subcommands for the main usage text.
func subcommandUsage() string {
	names := make([]string, 0, len(subcommands))
	for name := range subcommands {
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, name := range names {
		sc := subcommands[name]
		fmt.Fprintf(&b, "  powerbi-mcp %-19s %s\n", sc.synopsis, sc.summary)
	}
	return b.String()
}

// signIn is the part of the configuration that chooses the credential, shared by serving and
// by the subcommands.
type signIn struct {
	Auth          string
	Cloud         string
	TokenCacheDir string
	cloud         auth.Cloud // Cloud, resolved by validate
}

func (s *signIn) register(fs *flag.FlagSet) {
	fs.StringVar(&s.Auth, "auth", auth.KindAuto, "credential: "+strings.Join(auth.Kinds, ", ")+" (see README, Sign-in options)")
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
		return fmt.Errorf("--auth %q: use one of %s", s.Auth, strings.Join(auth.Kinds, ", "))
	}
	c, err := auth.LookupCloud(s.Cloud)
	if err != nil {
		return fmt.Errorf("--cloud %q: use one of %s", s.Cloud, strings.Join(auth.CloudNames(), ", "))
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

// subcommandFlags is the flag set every sign-in subcommand starts from: the sign-in choices and
// the log level (logs go to stderr; warnings only by default, so the output stays readable).
func subcommandFlags(name, synopsis, about string, stderr io.Writer) (*flag.FlagSet, *signIn, *string) {
	fs := flag.NewFlagSet("powerbi-mcp "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	s := &signIn{}
	s.register(fs)
	level := fs.String("log-level", "warn", "log level: trace, debug, info, warn or error (logs go to stderr)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: powerbi-mcp %s\n\n%s\n\nFlags (each can also be set by the environment variable shown):\n", synopsis, about)
		fs.VisitAll(func(f *flag.Flag) {
			fmt.Fprintf(stderr, "  --%-16s %s\n", f.Name, f.Usage)
			if f.Name != "json" {
				fmt.Fprintf(stderr, "  %-18s %s\n", "", envName(f.Name))
			}
		})
	}
	return fs, s, level
}

// parseSubcommand parses a subcommand's arguments and environment. It returns the exit code
// to stop with, or -1 to go on.
func parseSubcommand(fs *flag.FlagSet, s *signIn, level *string, args []string, getenv func(string) string, stderr io.Writer) (zerolog.Logger, int) {
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return zerolog.Nop(), 0
		}
		return zerolog.Nop(), 2
	}
	fail := func(err error) (zerolog.Logger, int) {
		fmt.Fprintf(stderr, "%s: %v\n", fs.Name(), err)
		return zerolog.Nop(), 2
	}
	if fs.NArg() > 0 {
		return fail(fmt.Errorf("unexpected argument %q; see %s --help", fs.Arg(0), fs.Name()))
	}
	if _, err := applyEnv(fs, getenv); err != nil {
		return fail(err)
	}
	if err := s.validate(); err != nil {
		return fail(err)
	}
	lvl, err := zerolog.ParseLevel(*level)
	if err != nil || *level == "" {
		return fail(fmt.Errorf("--log-level %q: use trace, debug, info, warn or error", *level))
	}
	return zerolog.New(zerolog.ConsoleWriter{Out: stderr, NoColor: true, TimeFormat: "15:04:05"}).Level(lvl).With().Timestamp().Logger(), -1
}
