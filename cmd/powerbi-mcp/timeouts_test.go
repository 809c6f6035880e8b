package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/rs/zerolog"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
	"github.com/powerbi-mcp/powerbi-mcp/tools"
)

func TestConfigTimeouts(t *testing.T) {
	cfg, err := parseConfig(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ResponseTimeout != 30*time.Second || cfg.CallTimeout != tools.DefaultCallTimeout {
		t.Errorf("defaults: response %s, call %s", cfg.ResponseTimeout, cfg.CallTimeout)
	}
	cfg, err = parseConfig([]string{"--call-timeout", "90s"}, env(map[string]string{"PBI_MCP_RESPONSE_TIMEOUT": "2m", "PBI_MCP_CALL_TIMEOUT": "1h"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ResponseTimeout != 2*time.Minute || cfg.CallTimeout != 90*time.Second {
		t.Errorf("set: response %s, call %s", cfg.ResponseTimeout, cfg.CallTimeout)
	}
	for _, args := range [][]string{{"--call-timeout", "-1s"}, {"--response-timeout", "soon"}} {
		if _, err := parseConfig(args, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), strings.TrimLeft(args[0], "-")) {
			t.Errorf("%v: %v", args, err)
		}
	}
}

// The limits set on the command line are the ones the server applies: a Power BI that stalls
// ends the call at --response-timeout, or, with that off, at --call-timeout.
func TestTimeoutsReachTheServer(t *testing.T) {
	tenant := pbitest.NewServer(pbitest.Options{})
	t.Cleanup(tenant.Close)
	tenant.SeedDemo()
	b := backend{tokens: staticToken(tenant.IssueToken(time.Hour)), baseURL: tenant.APIBaseURL(), transport: tenant.Client().Transport}
	tenant.SetFaults(pbitest.Faults{Latency: time.Hour}) // Power BI stalls until the client gives up

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--response-timeout", "1s"}, "did not start answering GET /groups within 1s"},
		{[]string{"--response-timeout", "0", "--call-timeout", "1s"}, "reached its time limit (PBI_MCP_CALL_TIMEOUT)"},
	} {
		cfg, err := parseConfig(append(c.args, "--data-dir", t.TempDir(), "--export-dir", t.TempDir()), env(nil), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		s, err := newServer(cfg, b, zerolog.Nop())
		if err != nil {
			t.Fatal(err)
		}
		mc, err := client.NewInProcessClient(s)
		if err != nil {
			t.Fatal(err)
		}
		initialize(t, mc)
		res := callTool(t, mc, "list_workspaces", nil) // bounded by a minute, should the limits be lost
		if !res.IsError || !strings.Contains(resultText(res), c.want) {
			t.Errorf("%v: %v %s", c.args, res.IsError, resultText(res))
		}
		mc.Close()
	}
}

// staticToken is a token obtained beforehand, as PBI_MCP_ACCESS_TOKEN gives one.
type staticToken string

func (s staticToken) Token(context.Context) (string, error) { return string(s), nil }
func (staticToken) Invalidate(string)                       {}
