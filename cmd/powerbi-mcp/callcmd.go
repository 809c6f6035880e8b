package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/powerbi-mcp/powerbi-mcp/tools"
)

// powerbi-mcp tools and powerbi-mcp call put the server in a shell, for people and scripts: the
// same flags, selection, sign-in and token cache, and the calls go through mcp-go's in-process
// client, so validation, the result budget, files and errors are exactly what an agent gets.

func init() {
	subcommands["tools"] = subcommand{"tools [--json] [flags]", "list the tools the server offers with these flags", runTools}
	subcommands["call"] = subcommand{"call TOOL [key=value ...]", "run one tool as an agent would and print its result as JSON", runCall}
}

// cliArgs are a tools or call command line, taken apart: the words that are not flags, the
// subcommand's own flags, and the server's flags for parseConfig.
type cliArgs struct {
	words    []string
	server   []string
	json     bool
	jsonArgs string
	help     bool
}

// splitCLIArgs takes the command line apart. Flags may come before, between and after the
// words (call TOOL --sandbox key=value), which Go's flag package, stopping at the first word,
// does not allow; the server's flag set says which flags take a value.
func splitCLIArgs(args []string, own ...string) (cliArgs, error) {
	var a cliArgs
	fs := serverFlags(&config{}, &serverLists{})
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			a.words = append(a.words, args[i+1:]...)
			break
		}
		if len(arg) < 2 || arg[0] != '-' {
			a.words = append(a.words, arg)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		switch {
		case name == "h" || name == "help":
			a.help = true
		case name == "json" && slices.Contains(own, name):
			a.json = true
			if hasValue {
				b, err := strconv.ParseBool(value)
				if err != nil {
					return a, fmt.Errorf("--json %q: want true or false", value)
				}
				a.json = b
			}
		case name == "json-args" && slices.Contains(own, name):
			if !hasValue {
				if i+1 == len(args) {
					return a, errors.New("--json-args needs a value, a JSON object such as '{\"top\": 5}'")
				}
				i++
				value = args[i]
			}
			a.jsonArgs = value
		default:
			a.server = append(a.server, arg)
			if f := fs.Lookup(name); f != nil && !hasValue && !isBoolFlag(f) && i+1 < len(args) {
				i++
				a.server = append(a.server, args[i])
			}
		}
	}
	return a, nil
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// cliConfig is the server's configuration from the server's flags and PBI_MCP_* variables. The
// log shows warnings only unless set: the output is what was asked for.
func cliConfig(serverArgs []string, getenv func(string) string) (config, error) {
	if getenv(envName("log-level")) == "" && !slices.ContainsFunc(serverArgs, func(a string) bool {
		return strings.HasPrefix(strings.TrimLeft(a, "-"), "log-level")
	}) {
		serverArgs = append([]string{"--log-level=warn"}, serverArgs...)
	}
	return parseConfig(serverArgs, getenv, io.Discard)
}

// connectClient starts an in-process MCP client on s, initialized as an agent's would be, with
// no elicitation capability: there is no one to ask.
func connectClient(ctx context.Context, s *server.MCPServer) (*client.Client, error) {
	c, err := client.NewInProcessClient(s)
	if err != nil {
		return nil, err
	}
	if err := c.Start(ctx); err != nil {
		return nil, err
	}
	var init mcp.InitializeRequest
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "powerbi-mcp-cli", Version: currentVersion()}
	if _, err := c.Initialize(ctx, init); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

const toolsAbout = "Lists the tools the server offers with these flags (--toolsets, --tools, --read-only...), one a line: " +
	"name, toolset, whether it only reads, and the first sentence of its description; with --json, the definitions as " +
	"tools/list returns them. It takes every flag of the server (powerbi-mcp --help lists them) and signs nobody in."

func runTools(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fail := func(err error) int {
		fmt.Fprintln(stderr, "powerbi-mcp tools:", err)
		return 2
	}
	a, err := splitCLIArgs(args, "json")
	if err != nil {
		return fail(err)
	}
	if a.help {
		fmt.Fprintf(stdout, "Usage: powerbi-mcp tools [--json] [server flags]\n\n%s\n\n  --json  %s\n",
			wrap(toolsAbout, "", usageWidth), "print the tool definitions as JSON, as tools/list returns them")
		return 0
	}
	if len(a.words) > 0 {
		return fail(fmt.Errorf("unexpected argument %q; see powerbi-mcp tools --help", a.words[0]))
	}
	cfg, err := cliConfig(a.server, getenv)
	if err != nil {
		return fail(err)
	}
	// Listing calls nothing: no credential, no sandbox.
	b := backend{tokens: unconfigured{errors.New("powerbi-mcp tools calls no tool")}, baseURL: cfg.BaseURL, close: func() {}}
	s, err := newServer(cfg, b, newLogger(cfg, stderr))
	if err != nil {
		return fail(err)
	}
	c, err := connectClient(ctx, s)
	if err != nil {
		fmt.Fprintln(stderr, "powerbi-mcp tools:", err)
		return 1
	}
	defer c.Close()
	list, err := c.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil {
		fmt.Fprintln(stderr, "powerbi-mcp tools:", err)
		return 1
	}
	if a.json {
		writeJSON(stdout, map[string]any{"tools": list.Tools})
		return 0
	}
	toolset := map[string]string{}
	for _, t := range tools.All(tools.Deps{}) {
		toolset[t.Definition.Name] = t.Toolset
	}
	for _, t := range list.Tools {
		reads := "writes"
		if t.Annotations.ReadOnlyHint != nil && *t.Annotations.ReadOnlyHint {
			reads = "read-only"
		}
		fmt.Fprintf(stdout, "%-36s %-16s %-9s  %s\n", t.Name, toolset[t.Name], reads, firstSentence(t.Description))
	}
	return 0
}

// firstSentence is text up to its first full stop.
func firstSentence(text string) string {
	text = strings.Join(strings.Fields(text), " ")
	if i := strings.Index(text, ". "); i >= 0 {
		return text[:i+1]
	}
	return text
}

const callAbout = "Runs one tool with the server's configuration, sign-in and token cache, as an agent's call would run, " +
	"and prints its structured result as JSON on stdout (its text when it has none); a file the tool wrote is named on stderr. " +
	"Arguments are key=value: a value that is valid JSON (a number, true, false, an array, an object) is read as JSON unless " +
	"the tool wants a string, anything else is a string. --json-args '{...}' gives them as a JSON object; key=value wins " +
	"over it. Any tool can be called, whatever --toolsets says; --read-only still refuses one that writes. A destructive tool " +
	"cannot ask for confirmation here: pass confirm=true to go ahead. Progress goes to stderr when it is a terminal; Ctrl-C " +
	"cancels the call. Exit status: 0 on success, 1 when the tool answers an error (its text on stderr), 2 on a usage error. " +
	"It takes every flag of the server (powerbi-mcp --help lists them), --sandbox included; powerbi-mcp tools lists the tools " +
	"and powerbi-mcp tools --json their arguments."

func runCall(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fail := func(err error) int {
		fmt.Fprintln(stderr, "powerbi-mcp call:", err)
		return 2
	}
	a, err := splitCLIArgs(args, "json-args")
	if err != nil {
		return fail(err)
	}
	if a.help {
		fmt.Fprintf(stdout, "Usage: powerbi-mcp call TOOL [key=value ...] [--json-args '{...}'] [server flags]\n\n%s\n\n  --json-args  %s\n\n"+
			"Example:\n  powerbi-mcp call export_report workspace='Sales Analytics' report=Sales format=PDF --sandbox\n",
			wrap(callAbout, "", usageWidth), "the arguments as a JSON object")
		return 0
	}
	if len(a.words) == 0 {
		return fail(errors.New("which tool? e.g. powerbi-mcp call list_workspaces; powerbi-mcp tools lists them"))
	}
	name := a.words[0]
	if err := tools.CheckSelection(tools.Options{Tools: []string{name}}); err != nil {
		return fail(err)
	}
	arguments, raw, err := callArguments(a.words[1:], a.jsonArgs)
	if err != nil {
		return fail(err)
	}
	cfg, err := cliConfig(a.server, getenv)
	if err != nil {
		return fail(err)
	}
	// Naming the tool is choosing it, as --tools does.
	if !slices.Contains(cfg.Tools, name) {
		cfg.Tools = append(cfg.Tools, name)
	}
	logger := newLogger(cfg, stderr)
	if cfg.ops, err = openOps(cfg, logger, stderr); err != nil {
		fmt.Fprintln(stderr, "powerbi-mcp call:", err)
		return 1
	}
	defer cfg.ops.close()
	b, err := connect(cfg, getenv, logger)
	if err != nil {
		fmt.Fprintln(stderr, "powerbi-mcp call:", err)
		return 1
	}
	defer b.close()
	s, err := newServer(cfg, b, logger)
	if err != nil {
		return fail(err)
	}
	c, err := connectClient(ctx, s)
	if err != nil {
		fmt.Fprintln(stderr, "powerbi-mcp call:", err)
		return 1
	}
	defer c.Close()
	list, err := c.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil {
		fmt.Fprintln(stderr, "powerbi-mcp call:", err)
		return 1
	}
	i := slices.IndexFunc(list.Tools, func(t mcp.Tool) bool { return t.Name == name })
	if i < 0 && cfg.ReadOnly {
		// Named, so chosen: only --read-only leaves it out.
		return fail(fmt.Errorf("%s changes Power BI, and %s offers only the tools that change nothing", name, cfg.from.setting("read-only")))
	}
	if i >= 0 {
		keepStrings(arguments, raw, list.Tools[i].InputSchema)
	}

	req := mcp.CallToolRequest{Params: mcp.CallToolParams{Name: name, Arguments: arguments}}
	if isTerminal(stderr) {
		req.Params.Meta = &mcp.Meta{ProgressToken: "call"}
		c.OnNotification(func(n mcp.JSONRPCNotification) {
			if n.Method == string(mcp.MethodNotificationProgress) {
				printProgress(stderr, n.Params.AdditionalFields)
			}
		})
	}
	res, err := c.CallTool(ctx, req)
	if err != nil {
		if ctx.Err() != nil {
			err = errors.New("cancelled")
		}
		fmt.Fprintf(stderr, "powerbi-mcp call: %s: %v\n", name, err)
		return 1
	}
	var text []string
	for _, content := range res.Content {
		switch content := content.(type) {
		case mcp.TextContent:
			text = append(text, content.Text)
		case mcp.ResourceLink:
			path := filepath.Join(cfg.ExportDir, content.Name)
			if abs, err := filepath.Abs(path); err == nil {
				path = abs
			}
			fmt.Fprintf(stderr, "powerbi-mcp call: %s wrote %s\n", name, path)
		}
	}
	if res.StructuredContent != nil {
		writeJSON(stdout, res.StructuredContent)
	} else if !res.IsError {
		fmt.Fprintln(stdout, strings.Join(text, "\n"))
	}
	if res.IsError {
		fmt.Fprintf(stderr, "powerbi-mcp call: %s: %s\n", name, strings.Join(text, "\n"))
		if _, ok := arguments["confirm"]; !ok && strings.Contains(strings.Join(text, " "), "confirm: true") {
			fmt.Fprintf(stderr, "powerbi-mcp call: to go ahead, add confirm=true to the command\n")
		}
		return 1
	}
	return 0
}

// callArguments reads key=value words over the --json-args object. raw keeps each key=value
// word's text, for keepStrings.
func callArguments(words []string, jsonArgs string) (args map[string]any, raw map[string]string, err error) {
	args, raw = map[string]any{}, map[string]string{}
	if jsonArgs != "" {
		if err := json.Unmarshal([]byte(jsonArgs), &args); err != nil || args == nil {
			return nil, nil, fmt.Errorf("--json-args: want a JSON object such as '{\"top\": 5}'")
		}
	}
	for _, w := range words {
		key, value, ok := strings.Cut(w, "=")
		if !ok || key == "" {
			return nil, nil, fmt.Errorf("argument %q: want key=value, e.g. workspace=Sales", w)
		}
		var v any
		if json.Unmarshal([]byte(value), &v) != nil {
			v = value
		}
		args[key], raw[key] = v, value
	}
	return args, raw, nil
}

// keepStrings gives back its text to a key=value whose value read as JSON where the tool wants
// a string: a workspace named 2024, a report named true.
func keepStrings(args map[string]any, raw map[string]string, schema mcp.ToolInputSchema) {
	for key, text := range raw {
		prop, ok := schema.Properties[key].(map[string]any)
		if !ok {
			continue
		}
		if _, isString := args[key].(string); !isString && prop["type"] == "string" {
			args[key] = text
		}
	}
}

// isTerminal reports whether w is a terminal, where progress lines help someone waiting; in a
// pipe or a log they are noise.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// printProgress writes one progress notification as a line.
func printProgress(w io.Writer, fields map[string]any) {
	line := "progress"
	if msg, ok := fields["message"].(string); ok && msg != "" {
		line += ": " + msg
	}
	if total, ok := fields["total"].(float64); ok && total > 0 {
		line += fmt.Sprintf(" (%v of %v)", fields["progress"], total)
	}
	fmt.Fprintln(w, line)
}
