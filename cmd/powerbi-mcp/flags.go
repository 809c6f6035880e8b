package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// The flags of the server and of every subcommand are parsed here, so that every error names
// what the user typed or set, in the same words, and says what is wanted instead. Go's flag
// package would print "parse error" and the whole usage text to stderr.

// newFlagSet returns a flag set that prints nothing: parseFlags words its errors, and help is
// printed by the caller, to stdout.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseFlags parses args into fs. Its errors name the flag as typed and what it wants;
// flag.ErrHelp is returned as is for -h, -help and --help.
func parseFlags(fs *flag.FlagSet, args []string) error {
	var bad string // the last value a flag refused, worded by wantedValue
	fs.VisitAll(func(f *flag.Flag) { f.Value = wantValues(f, &bad) })
	err := fs.Parse(args)
	switch {
	case err == nil || errors.Is(err, flag.ErrHelp):
		return err
	case bad != "":
		return errors.New(bad)
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		return unknownFlag(fs, strings.TrimLeft(name, "-"))
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: "); ok {
		return fmt.Errorf("--%s needs a value", strings.TrimLeft(name, "-"))
	}
	return err
}

// unknownFlag refuses a flag fs does not have. A subcommand lists the flags it takes: there
// are few, and a server flag given to it is a flag that does not apply there.
func unknownFlag(fs *flag.FlagSet, name string) error {
	if fs.Name() == "powerbi-mcp" {
		return fmt.Errorf("unknown flag --%s; powerbi-mcp --help lists the flags", name)
	}
	var takes []string
	fs.VisitAll(func(f *flag.Flag) { takes = append(takes, "--"+f.Name) })
	what := "unknown flag --" + name
	if serverFlags(&config{}, &serverLists{}).Lookup(name) != nil {
		what = "--" + name + " does not apply to " + fs.Name()
	}
	return fmt.Errorf("%s; it takes %s", what, strings.Join(takes, ", "))
}

// wantValues wraps a flag's value so that a value it cannot read is refused with what it
// wants, both on the command line (recorded in bad) and from the environment (applyEnv).
func wantValues(f *flag.Flag, bad *string) flag.Value {
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return f.Value
	}
	w := wantedValue{Value: f.Value, name: f.Name, bad: bad}
	switch g.Get().(type) {
	case bool:
		w.want = "want true or false"
		return boolValue{w}
	case int, int64, uint, uint64:
		w.want = "want a whole number"
	case time.Duration:
		w.want = "want a duration such as 90s, 5m or 1h30m"
	default:
		return f.Value
	}
	return w
}

type wantedValue struct {
	flag.Value
	name, want string
	bad        *string
}

func (w wantedValue) Set(s string) error {
	if w.Value.Set(s) != nil {
		*w.bad = fmt.Sprintf("--%s %q: %s", w.name, s, w.want)
		return errors.New(w.want)
	}
	return nil
}

// Get keeps the value a flag.Getter.
func (w wantedValue) Get() any { return w.Value.(flag.Getter).Get() }

// boolValue keeps a bool flag one that needs no value (--read-only alone).
type boolValue struct{ wantedValue }

func (boolValue) IsBoolFlag() bool { return true }

// origins remembers which settings came from the environment, so that an error names what the
// user set: PBI_MCP_TRANSPORT=foo, not a --transport they never typed.
type origins struct {
	fs      *flag.FlagSet
	fromEnv map[string]bool
}

func newOrigins(fs *flag.FlagSet, given map[string]bool, getenv func(string) string) origins {
	o := origins{fs: fs, fromEnv: map[string]bool{}}
	fs.VisitAll(func(f *flag.Flag) {
		o.fromEnv[f.Name] = !given[f.Name] && getenv(envName(f.Name)) != ""
	})
	return o
}

// setting names a setting with the value the user gave it: `--transport "foo"` or
// `PBI_MCP_TRANSPORT=foo`.
func (o origins) setting(name string) string {
	if o.fs == nil {
		return "--" + name
	}
	f := o.fs.Lookup(name)
	if f == nil {
		return "--" + name
	}
	if o.fromEnv[name] {
		return envName(name) + "=" + f.Value.String()
	}
	return fmt.Sprintf("--%s %q", name, f.Value.String())
}

// wrap breaks text into lines of at most width characters, each after indent; the first line's
// indent is the caller's.
func wrap(text, indent string, width int) string {
	var b strings.Builder
	col := len(indent)
	for i, word := range strings.Fields(text) {
		if i > 0 && col+1+len(word) > width {
			b.WriteString("\n" + indent)
			col = len(indent)
		} else if i > 0 {
			b.WriteByte(' ')
			col++
		}
		b.WriteString(word)
		col += len(word)
	}
	return b.String()
}

// usageWidth is the widest line of the help texts: a terminal of 100 columns shows them whole.
const usageWidth = 100

// writeFlags lists fs's flags with their variables and defaults, wrapped to usageWidth.
func writeFlags(w io.Writer, fs *flag.FlagSet) {
	indent := strings.Repeat(" ", 24) // "  --", the name, two spaces
	fs.VisitAll(func(f *flag.Flag) {
		text := f.Usage
		if f.DefValue != "" && f.DefValue != "false" {
			text += fmt.Sprintf(" (default %q)", f.DefValue)
		}
		fmt.Fprintf(w, "  --%-18s  %s\n", f.Name, wrap(text, indent, usageWidth))
		if f.Name != "version" && f.Name != "json" {
			fmt.Fprintf(w, "%s%s\n", indent, envName(f.Name))
		}
	})
}
