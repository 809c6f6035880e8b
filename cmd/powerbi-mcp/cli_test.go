package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// cli runs the command as main does and returns what the user sees.
func cli(t *testing.T, environ map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut strings.Builder
	// A line on stdin that a server would answer: a command that serves by mistake shows it.
	stdin := strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}` + "\n")
	code = run(t.Context(), args, env(environ), stdin, &out, &errOut)
	return out.String(), errOut.String(), code
}

// noLongLines fails for a line a terminal of 100 columns would break.
func noLongLines(t *testing.T, what, text string) {
	t.Helper()
	for _, line := range strings.Split(text, "\n") {
		if len(line) > usageWidth {
			t.Errorf("%s: a line of %d characters: %q", what, len(line), line)
		}
	}
}

func TestHelpGoesToStdout(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"help", "--help"}} {
		stdout, stderr, code := cli(t, nil, args...)
		if code != 0 || stderr != "" || !strings.Contains(stdout, "Usage:") {
			t.Errorf("%v: exit %d, stderr %q, stdout:\n%s", args, code, stderr, stdout)
		}
		for _, sc := range []string{"help [SUBCOMMAND]", "version", "login", "logout", "whoami [--json] [--sandbox]", "doctor"} {
			if !strings.Contains(stdout, "powerbi-mcp "+sc) {
				t.Errorf("%v: the usage does not list powerbi-mcp %s", args, sc)
			}
		}
		noLongLines(t, strings.Join(args, " "), stdout)
	}
	for _, name := range []string{"version", "login", "logout", "whoami", "doctor"} {
		for _, args := range [][]string{{"help", name}, {name, "--help"}, {name, "-h"}} {
			stdout, stderr, code := cli(t, nil, args...)
			if code != 0 || stderr != "" || !strings.Contains(stdout, "powerbi-mcp "+name) {
				t.Errorf("%v: exit %d, stderr %q, stdout:\n%s", args, code, stderr, stdout)
			}
			noLongLines(t, strings.Join(args, " "), stdout)
		}
	}
	// A usage error is no help: stderr, exit 2.
	for _, args := range [][]string{{"--nope"}, {"help", "nope"}, {"version", "now"}, {"serve"}} {
		stdout, stderr, code := cli(t, nil, args...)
		if code != 2 || stdout != "" || stderr == "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
}

func TestVersionSubcommand(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		stdout, stderr, code := cli(t, nil, args...)
		if code != 0 || stderr != "" || stdout != "powerbi-mcp "+currentVersion()+"\n" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
}

func TestSignInSubcommandsOnTheSandbox(t *testing.T) {
	stdout, stderr, code := cli(t, nil, "whoami", "--sandbox")
	if code != 0 || !strings.Contains(stdout, "Principal:   app (service principal") {
		t.Errorf("whoami --sandbox: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	stdout, stderr, code = cli(t, nil, "whoami", "--sandbox", "--json")
	var who struct {
		SignedIn      bool   `json:"signedIn"`
		PrincipalType string `json:"principalType"`
	}
	if err := json.Unmarshal([]byte(stdout), &who); err != nil || code != 0 || !who.SignedIn || who.PrincipalType != "app" {
		t.Errorf("whoami --sandbox --json: exit %d, %v\nstdout: %s\nstderr: %s", code, err, stdout, stderr)
	}
	stdout, stderr, code = cli(t, map[string]string{"PBI_MCP_SANDBOX": "true"}, "whoami", "--auth", "username-password")
	if code != 0 || !strings.Contains(stdout, pbitest.DefaultUserPrincipalName) {
		t.Errorf("PBI_MCP_SANDBOX=true whoami --auth username-password: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	stdout, stderr, code = cli(t, nil, "login", "--sandbox")
	if code != 0 || !strings.Contains(stdout, "Signed in as "+pbitest.DefaultUserPrincipalName) || !strings.Contains(stdout, "Nothing is kept") {
		t.Errorf("login --sandbox: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	stdout, stderr, code = cli(t, nil, "logout", "--sandbox")
	if code != 0 || !strings.Contains(stdout, "Nothing to forget") {
		t.Errorf("logout --sandbox: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	// A device-code sign-in on the demo tenant would end with the command: whoami cannot show it.
	stdout, stderr, code = cli(t, nil, "whoami", "--sandbox", "--auth", "device-code")
	if code != 2 || stdout != "" || !strings.Contains(stderr, "powerbi-mcp --sandbox --auth device-code") {
		t.Errorf("whoami --sandbox --auth device-code: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
}

func TestSubcommandsRefuseFlagsThatDoNotApply(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"whoami", "--transport", "http"}, "--transport does not apply to powerbi-mcp whoami; it takes --auth, --cloud, --json, --log-level, --sandbox, --token-cache-dir"},
		{[]string{"login", "--json"}, "unknown flag --json; it takes --auth, --cloud, --log-level, --sandbox, --token-cache-dir"},
		{[]string{"logout", "--read-only"}, "--read-only does not apply to powerbi-mcp logout"},
	} {
		stdout, stderr, code := cli(t, nil, c.args...)
		if code != 2 || stdout != "" || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", c.args, code, stdout, stderr)
		}
	}
}

func TestWhoamiWhenNotSignedIn(t *testing.T) {
	// Nothing configured: auto finds no credential.
	stdout, stderr, code := cli(t, nil, "whoami", "--json")
	var out struct {
		SignedIn *bool  `json:"signedIn"`
		Error    string `json:"error"`
		Fix      string `json:"fix"`
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil || code != 1 || out.SignedIn == nil || *out.SignedIn {
		t.Fatalf("whoami --json: exit %d, %v\nstdout: %s\nstderr: %s", code, err, stdout, stderr)
	}
	if out.Error != "no credential configured" || !strings.Contains(out.Fix, "AZURE_CLIENT_SECRET") ||
		!strings.Contains(out.Fix, "powerbi-mcp whoami --sandbox") {
		t.Errorf("whoami --json: %+v", out)
	}

	stdout, stderr, code = cli(t, nil, "whoami")
	if code != 1 || stdout != "" || !strings.HasPrefix(stderr, "powerbi-mcp whoami: no credential configured\n  Set one of:\n") ||
		!strings.HasSuffix(stderr, "  or try the demo tenant: powerbi-mcp whoami --sandbox\n") || strings.Contains(stderr, "auth:") {
		t.Errorf("whoami: exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
	}
	noLongLines(t, "whoami", stderr)

	// A usage error with --json is JSON too.
	stdout, _, code = cli(t, map[string]string{"PBI_MCP_CLOUD": "mars"}, "whoami", "--json")
	if err := json.Unmarshal([]byte(stdout), &out); err != nil || code != 2 || *out.SignedIn || !strings.HasPrefix(out.Error, "PBI_MCP_CLOUD=mars") {
		t.Errorf("PBI_MCP_CLOUD=mars whoami --json: exit %d, %v, %s", code, err, stdout)
	}
}

// TestErrorsNameWhatTheUserSet: a bad value is reported as the user wrote it, flag or
// variable, with what is wanted instead, and nothing is served.
func TestErrorsNameWhatTheUserSet(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{map[string]string{"PBI_MCP_TRANSPORT": "foo"}, nil, "powerbi-mcp: PBI_MCP_TRANSPORT=foo: use stdio, sse or http\n"},
		{nil, []string{"--transport", "foo"}, `powerbi-mcp: --transport "foo": use stdio, sse or http` + "\n"},
		{map[string]string{"PBI_MCP_READ_ONLY": "yes"}, nil, "powerbi-mcp: PBI_MCP_READ_ONLY=yes: want true or false\n"},
		{nil, []string{"--read-only=yes"}, `powerbi-mcp: --read-only "yes": want true or false` + "\n"},
		{map[string]string{"PBI_MCP_MAX_SSE_SESSIONS": "many"}, nil, "powerbi-mcp: PBI_MCP_MAX_SSE_SESSIONS=many: want a whole number\n"},
		{nil, []string{"--max-result-bytes", "1MB"}, `powerbi-mcp: --max-result-bytes "1MB": want a whole number` + "\n"},
		{map[string]string{"PBI_MCP_CALL_TIMEOUT": "soon"}, nil, "powerbi-mcp: PBI_MCP_CALL_TIMEOUT=soon: want a duration such as 90s, 5m or 1h30m\n"},
		{nil, []string{"--shutdown-grace", "10"}, `powerbi-mcp: --shutdown-grace "10": want a duration`},
		{map[string]string{"PBI_MCP_LOG_FORMAT": "xml"}, nil, "powerbi-mcp: PBI_MCP_LOG_FORMAT=xml: use console or json\n"},
		{map[string]string{"PBI_MCP_TRANSPORT": "http", "PBI_MCP_ADDR": "8080"}, nil, "powerbi-mcp: PBI_MCP_ADDR=8080: want host:port"},
		{nil, []string{"--transport"}, "powerbi-mcp: --transport needs a value\n"},
		{map[string]string{"PBI_MCP_SANDBOX": "maybe"}, []string{"whoami"}, "powerbi-mcp whoami: PBI_MCP_SANDBOX=maybe: want true or false\n"},
		{map[string]string{"PBI_MCP_LOG_LEVEL": "loud"}, []string{"logout"}, "powerbi-mcp logout: PBI_MCP_LOG_LEVEL=loud: use trace"},
	} {
		stdout, stderr, code := cli(t, c.env, c.args...)
		if code != 2 || stdout != "" || !strings.HasPrefix(stderr, c.want) || strings.Contains(stderr, "parse error") {
			t.Errorf("%v %v: exit %d, stdout %q, stderr %q, want %q", c.env, c.args, code, stdout, stderr, c.want)
		}
	}
}

// TestUnknownToolsetRefusedBeforeStartUp: a typo in the tool selection ends the command before
// anything is served, with the valid names or the closest ones.
func TestUnknownToolsetRefusedBeforeStartUp(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		args []string
		want []string
	}{
		{nil, []string{"--sandbox", "--toolsets", "nope"}, []string{`--toolsets "nope": unknown toolset "nope"` + "\n  valid toolsets: all, default, workspaces"}},
		{map[string]string{"PBI_MCP_TOOLSETS": "reports,nope"}, nil, []string{`PBI_MCP_TOOLSETS=reports,nope: unknown toolset "nope"`}},
		{map[string]string{"PBI_MCP_TOOLS": "list_reprots"}, nil, []string{`PBI_MCP_TOOLS=list_reprots: unknown tool "list_reprots"` + "\n  did you mean list_reports"}},
	} {
		stdout, stderr, code := cli(t, c.env, c.args...)
		if code != 2 || stdout != "" {
			t.Errorf("%v %v: exit %d, stdout %q, stderr %q", c.env, c.args, code, stdout, stderr)
		}
		for _, want := range c.want {
			if !strings.Contains(stderr, want) {
				t.Errorf("%v %v: stderr %q lacks %q", c.env, c.args, stderr, want)
			}
		}
		noLongLines(t, "the selection error", stderr)
	}
}
