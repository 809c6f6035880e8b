package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/cmd/powerbi-mcp/internal/doctor"
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
	if code != 0 || len(results) != 8 || results[0].Check != doctor.CheckConfiguration {
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
