package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/cmd/powerbi-mcp/internal/doctor"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// The checks themselves are tested in internal/doctor; these test the wiring: flags and
// environment reach the checks, the output and the exit code reach the user.

func runDoctorCommand(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	env := map[string]string{}
	code = run(context.Background(), append([]string{"doctor"}, args...), func(name string) string { return env[name] },
		strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestDoctorSandbox(t *testing.T) {
	code, stdout, stderr := runDoctorCommand(t, "--sandbox")
	if code != 0 || !strings.Contains(stdout, "✓ Sign-in configuration:") || !strings.Contains(stdout, "the sandbox's demo tenant (--sandbox)") ||
		!strings.Contains(stdout, "\nReady: powerbi-mcp can use Power BI with this configuration.") {
		t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}

	code, stdout, stderr = runDoctorCommand(t, "--sandbox", "--json")
	var results []doctor.Result
	if err := json.Unmarshal([]byte(stdout), &results); err != nil {
		t.Fatalf("stdout is not the checks as JSON: %v\n%s\nstderr:\n%s", err, stdout, stderr)
	}
	if code != 0 || len(results) != 9 || results[0].Check != doctor.CheckConfiguration {
		t.Fatalf("exit code %d: %+v", code, results)
	}
	for _, r := range results {
		if r.Status != doctor.StatusOK {
			t.Errorf("%s: %s: %s", r.Check, r.Status, r.Detail)
		}
	}

	// The sandbox's token cache lasts one process, so a device-code sign-in cannot be checked:
	// a usage error, with the command that can.
	code, stdout, stderr = runDoctorCommand(t, "--sandbox", "--auth", "device-code")
	if code != 2 || stdout != "" || !strings.Contains(stderr, "powerbi-mcp --sandbox --auth device-code") {
		t.Errorf("--sandbox --auth device-code: exit code %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}

func TestDoctorHelp(t *testing.T) {
	for _, arg := range []string{"--help", "-h"} {
		code, stdout, stderr := runDoctorCommand(t, arg)
		if code != 0 || !strings.HasPrefix(stdout, "powerbi-mcp doctor: check every step") || !strings.Contains(stdout, "--json") || stderr != "" {
			t.Errorf("doctor %s: exit code %d\nstdout:\n%s\nstderr:\n%s", arg, code, stdout, stderr)
		}
	}
}

// TestDoctorBinary runs `powerbi-mcp doctor` as a user does: a separate process configured
// only by the environment (AZURE_*, PBI_MCP_BASE_URL), trusting the fake tenant's certificate
// like a corporate CA. It covers the way from the variables to the checks, which the package's
// own tests skip by building its Options directly.
func TestDoctorBinary(t *testing.T) {
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	tenant := pbitest.NewServer(pbitest.Options{})
	defer tenant.Close()
	tenant.SeedDemo()
	run := func(secret string, args ...string) (int, string) {
		cmd := exec.Command(bin, append([]string{"doctor"}, args...)...)
		cmd.Env = append(tenantEnv(t, tenant), "HOME="+t.TempDir(), "PBI_MCP_LOG_LEVEL=trace", "AZURE_CLIENT_SECRET="+secret)
		out, err := cmd.CombinedOutput()
		code := 0
		if exit, ok := err.(*exec.ExitError); ok {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(out), secret) {
			t.Fatalf("the secret appeared in the output:\n%s", out)
		}
		return code, string(out)
	}
	if code, out := run(tenant.ClientSecret()); code != 0 || !strings.Contains(out, "✓ Capacity for report exports") {
		t.Fatalf("exit code %d:\n%s", code, out)
	}
	code, out := run("Wr0ng~Secret.Value-that-must-not-leak", "--json")
	if code != 1 || !strings.Contains(out, `"check": "token"`) || !strings.Contains(out, "AADSTS7000215") {
		t.Fatalf("exit code %d:\n%s", code, out)
	}
}
