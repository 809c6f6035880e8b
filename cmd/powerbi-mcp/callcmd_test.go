package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCallListWorkspacesPrintsJSON(t *testing.T) {
	stdout, stderr, code := cli(t, nil, "call", "list_workspaces", "--sandbox", "--export-dir", t.TempDir())
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	var res struct {
		Count      int `json:"count"`
		Workspaces []struct {
			Name string `json:"name"`
		} `json:"workspaces"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
	}
	var names []string
	for _, w := range res.Workspaces {
		names = append(names, w.Name)
	}
	if res.Count == 0 || !strings.Contains(strings.Join(names, ","), "Sales Analytics") {
		t.Errorf("workspaces %v, count %d", names, res.Count)
	}
}

func TestCallExportReportWritesTheFile(t *testing.T) {
	dir := t.TempDir()
	stdout, stderr, code := cli(t, nil, "call", "export_report", "workspace=Sales Analytics", "report=Sales Overview", "format=PDF",
		"--sandbox", "--export-dir", dir)
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	var res struct {
		File struct {
			Path string `json:"path"`
		} `json:"file"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
	}
	if filepath.Dir(res.File.Path) != dir {
		t.Fatalf("file %q, not in the export directory %s", res.File.Path, dir)
	}
	data, err := os.ReadFile(res.File.Path)
	if err != nil || !strings.HasPrefix(string(data), "%PDF-") {
		t.Fatalf("the file: %v, starts %.8q", err, data)
	}
	if !strings.Contains(stderr, "export_report wrote "+res.File.Path) {
		t.Errorf("stderr does not say where the file is: %s", stderr)
	}
}

func TestCallErrorResultExits1(t *testing.T) {
	stdout, stderr, code := cli(t, nil, "call", "get_workspace", "workspace=Nowhere", "--sandbox", "--export-dir", t.TempDir())
	if code != 1 || stdout != "" || !strings.Contains(stderr, `No workspace named "Nowhere"`) {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
}

func TestCallUsageErrorsExit2(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"call", "list_workspace", "--sandbox"}, "did you mean list_workspaces"},
		{[]string{"call"}, "which tool?"},
		{[]string{"call", "list_workspaces", "top", "--sandbox"}, `argument "top": want key=value`},
		{[]string{"call", "list_workspaces", "--json-args", "[1]", "--sandbox"}, "--json-args: want a JSON object"},
		{[]string{"call", "list_workspaces", "--toolsets", "nope"}, `--toolsets "nope"`},
		{[]string{"call", "delete_workspace", "workspace=Finance", "--sandbox", "--read-only"}, "delete_workspace changes Power BI"},
		{[]string{"tools", "extra"}, `unexpected argument "extra"`},
	} {
		stdout, stderr, code := cli(t, nil, append(tc.args, "--export-dir", t.TempDir())...)
		if code != 2 || stdout != "" || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, want 2 and %q\nstdout: %s\nstderr: %s", tc.args, code, tc.want, stdout, stderr)
		}
	}
}

// Values are JSON when they read as JSON, unless the tool wants a string; key=value wins over
// --json-args.
func TestCallArguments(t *testing.T) {
	count := func(args ...string) int {
		t.Helper()
		stdout, stderr, code := cli(t, nil, append([]string{"call", "list_workspaces", "--sandbox", "--export-dir", t.TempDir()}, args...)...)
		var res struct {
			Count int `json:"count"`
		}
		if code != 0 || json.Unmarshal([]byte(stdout), &res) != nil {
			t.Fatalf("%v: exit %d\nstdout: %s\nstderr: %s", args, code, stdout, stderr)
		}
		return res.Count
	}
	if n := count("top=2"); n != 2 {
		t.Errorf("top=2: %d workspaces", n)
	}
	if n := count(`--json-args={"top": 3}`); n != 3 {
		t.Errorf("--json-args top 3: %d workspaces", n)
	}
	if n := count(`--json-args`, `{"top": 3}`, "top=1"); n != 1 {
		t.Errorf("top=1 over --json-args top 3: %d workspaces", n)
	}
	// A workspace named 2024 is a name, not a number the schema would refuse.
	_, stderr, code := cli(t, nil, "call", "get_workspace", "workspace=2024", "--sandbox", "--export-dir", t.TempDir())
	if code != 1 || !strings.Contains(stderr, `No workspace named "2024"`) {
		t.Errorf("workspace=2024: exit %d, stderr %s", code, stderr)
	}
}

func TestCallDestructiveToolNeedsConfirm(t *testing.T) {
	dir := t.TempDir()
	stdout, stderr, code := cli(t, nil, "call", "delete_workspace", "workspace=Marketing", "--sandbox", "--export-dir", dir)
	if code != 1 || stdout != "" || !strings.Contains(stderr, "add confirm=true") {
		t.Errorf("without confirm: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	stdout, stderr, code = cli(t, nil, "call", "delete_workspace", "workspace=Marketing", "confirm=true", "--sandbox", "--export-dir", dir)
	if code != 0 || !strings.Contains(stdout, `"deleted": true`) {
		t.Errorf("confirm=true: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
}

// toolLines reads powerbi-mcp tools' lines: name, toolset, read-only or writes.
func toolLines(t *testing.T, args ...string) map[string][]string {
	t.Helper()
	stdout, stderr, code := cli(t, nil, append([]string{"tools"}, args...)...)
	if code != 0 {
		t.Fatalf("tools %v: exit %d\nstderr: %s", args, code, stderr)
	}
	lines := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		f := strings.Fields(line)
		if len(f) < 4 {
			t.Fatalf("tools %v: line %q", args, line)
		}
		lines[f[0]] = f[1:3]
	}
	return lines
}

func TestToolsListsTheServersTools(t *testing.T) {
	lines := toolLines(t, "--sandbox")
	if got := strings.Join(lines["list_workspaces"], " "); got != "workspaces read-only" {
		t.Errorf("list_workspaces: %q", got)
	}
	if got := strings.Join(lines["refresh_dataset"], " "); got != "refresh writes" {
		t.Errorf("refresh_dataset: %q", got)
	}
	if _, ok := lines["delete_workspace"]; ok {
		t.Error("delete_workspace is listed, but its toolset is not a default one")
	}
	lines = toolLines(t, "--tools", "delete_workspace")
	if _, ok := lines["delete_workspace"]; !ok {
		t.Error("--tools delete_workspace: not listed")
	}

	lines = toolLines(t, "--toolsets", "all", "--read-only")
	if len(lines) < 50 {
		t.Errorf("--toolsets all --read-only: only %d tools", len(lines))
	}
	for name, l := range lines {
		if l[1] != "read-only" {
			t.Errorf("--read-only lists %s, which %s", name, l[1])
		}
	}
}

func TestToolsJSON(t *testing.T) {
	stdout, stderr, code := cli(t, nil, "tools", "--toolsets", "all", "--json")
	var list struct {
		Tools []struct {
			Name        string         `json:"name"`
			InputSchema map[string]any `json:"inputSchema"`
		} `json:"tools"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &list) != nil {
		t.Fatalf("exit %d\nstderr: %s\nstdout: %.500s", code, stderr, stdout)
	}
	if len(list.Tools) != 108 {
		t.Errorf("%d tools, want 108", len(list.Tools))
	}
	for _, tool := range list.Tools {
		if tool.InputSchema["type"] != "object" {
			t.Errorf("%s: input schema %v", tool.Name, tool.InputSchema)
		}
	}
}

func TestCallAndToolsHelp(t *testing.T) {
	for _, args := range [][]string{{"call", "--help"}, {"help", "call"}, {"tools", "-h"}, {"help", "tools"}} {
		name := args[0]
		if name == "help" {
			name = args[1]
		}
		stdout, stderr, code := cli(t, nil, args...)
		if code != 0 || stderr != "" || !strings.HasPrefix(stdout, "Usage: powerbi-mcp "+name+" ") {
			t.Errorf("%v: exit %d, stderr %q\n%s", args, code, stderr, stdout)
		}
		noLongLines(t, strings.Join(args, " "), stdout)
	}
	stdout, _, _ := cli(t, nil, "call", "--help")
	if !strings.Contains(stdout, "confirm=true") {
		t.Errorf("call --help does not say how to confirm a destructive tool:\n%s", stdout)
	}
}

// Ctrl-C (main's context) stops the call in progress: the sandbox's refresh takes seconds.
func TestCallInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	time.AfterFunc(500*time.Millisecond, cancel)
	var stdout, stderr strings.Builder
	start := time.Now()
	code := run(ctx, []string{"call", "refresh_dataset", "workspace=Sales Analytics", "dataset=Sales", "wait=true",
		"--sandbox", "--export-dir", t.TempDir()}, env(nil), strings.NewReader(""), &stdout, &stderr)
	if took := time.Since(start); code != 1 || took > 2*time.Second || !strings.Contains(stderr.String(), "cancelled") {
		t.Errorf("exit %d after %v\nstdout: %s\nstderr: %s", code, took, stdout.String(), stderr.String())
	}
}
