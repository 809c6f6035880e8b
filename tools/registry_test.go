package tools

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
)

var updateSnapshots = flag.Bool("update", os.Getenv("UPDATE_SNAPSHOTS") == "1", "rewrite testdata/tools.json from the current definitions")

func TestEveryToolIsFullyDeclared(t *testing.T) {
	seen := map[string]bool{}
	for _, tool := range All(Deps{}) {
		def := tool.Definition
		if seen[def.Name] {
			t.Errorf("%s is registered twice", def.Name)
		}
		seen[def.Name] = true
		a := def.Annotations
		if a.Title == "" || a.ReadOnlyHint == nil || a.DestructiveHint == nil || a.IdempotentHint == nil || a.OpenWorldHint == nil {
			t.Errorf("%s: every annotation must be set on purpose: %+v", def.Name, a)
		}
		if *a.ReadOnlyHint && *a.DestructiveHint {
			t.Errorf("%s: a read-only tool cannot be destructive", def.Name)
		}
		if len(def.Description) < 120 {
			t.Errorf("%s: the description is too thin for a model to act on", def.Name)
		}
		if def.OutputSchema.Type != "object" || len(def.OutputSchema.Properties) == 0 {
			t.Errorf("%s: no output schema", def.Name)
		}
		if def.InputSchema.AdditionalProperties != false {
			t.Errorf("%s: unknown arguments must be refused", def.Name)
		}
		if !strings.Contains(strings.Join(toolsetNames(), ","), tool.Toolset) || tool.Toolset == "" {
			t.Errorf("%s: unknown toolset %q", def.Name, tool.Toolset)
		}
		if _, err := compileInputSchema(def); err != nil {
			t.Errorf("%s: %v", def.Name, err)
		}
	}
}

func TestSelect(t *testing.T) {
	all := All(Deps{})
	names := func(ts []Tool) string {
		var n []string
		for _, t := range ts {
			n = append(n, t.Definition.Name)
		}
		return strings.Join(n, ",")
	}
	for _, c := range []struct {
		opts Options
		want string
	}{
		{Options{}, "list_workspaces,list_datasets,refresh_dataset,get_refresh_history,list_reports,export_report,get_report,list_report_pages,list_report_datasources,clone_report,rebind_report,update_report_content,take_over_report,delete_report,download_report_pbix"},
		{Options{ReadOnly: true}, "list_workspaces,list_datasets,get_refresh_history,list_reports,export_report,get_report,list_report_pages,list_report_datasources,download_report_pbix"},
		{Options{Toolsets: []string{"reports"}}, "list_reports,export_report,get_report,list_report_pages,list_report_datasources,clone_report,rebind_report,update_report_content,take_over_report,delete_report,download_report_pbix"},
		{Options{Toolsets: []string{"workspaces"}, Tools: []string{"get_refresh_history"}}, "list_workspaces,get_refresh_history"},
		{Options{Tools: []string{"refresh_dataset"}}, "refresh_dataset"},
		{Options{Tools: []string{"refresh_dataset"}, ReadOnly: true}, ""},
	} {
		got, err := Select(all, c.opts)
		if err != nil {
			t.Fatal(err)
		}
		if names(got) != c.want {
			t.Errorf("%+v: got %s, want %s", c.opts, names(got), c.want)
		}
		for _, tool := range got {
			if c.opts.ReadOnly && !isReadOnly(tool.Definition) {
				t.Errorf("read-only mode offers %s", tool.Definition.Name)
			}
		}
	}
	if _, err := Select(all, Options{Toolsets: []string{"reportz"}}); err == nil || !strings.Contains(err.Error(), "reports") {
		t.Errorf("an unknown toolset must be refused with the valid names: %v", err)
	}
	if _, err := Select(all, Options{Tools: []string{"list_workspace"}}); err == nil || !strings.Contains(err.Error(), "list_workspaces") {
		t.Errorf("an unknown tool must be refused with the valid names: %v", err)
	}
}

func TestInstructionsDescribeOnlyEnabledToolsets(t *testing.T) {
	sel, _ := Select(All(Deps{}), Options{Toolsets: []string{"reports"}, ReadOnly: true})
	got := instructions(sel, true)
	if !strings.Contains(got, "- reports:") || strings.Contains(got, "- refresh:") || !strings.Contains(got, "read-only") {
		t.Fatalf("%s", got)
	}
}

// TestToolDefinitionsSnapshot fails on any change to a name, description or schema, so such a
// change is reviewed like code. Run `go test ./tools -run Snapshot -update` to accept it.
func TestToolDefinitionsSnapshot(t *testing.T) {
	var defs []mcp.Tool
	for _, tool := range All(Deps{}) {
		defs = append(defs, tool.Definition)
	}
	got, err := json.MarshalIndent(defs, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "tools.json")
	if *updateSnapshots {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no snapshot (%v): run go test ./tools -run Snapshot -update and review testdata/tools.json", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("tool definitions changed; review the difference and run go test ./tools -run Snapshot -update\n%s", firstDiff(string(want), string(got)))
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < max(len(al), len(bl)); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return "line " + strconv.Itoa(i+1) + ":\n- " + x + "\n+ " + y
		}
	}
	return ""
}
