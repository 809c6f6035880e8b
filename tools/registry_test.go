package tools

import (
	"encoding/json"
	"flag"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
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
		// annotations() declares every hint; what it leaves out, the spec's defaults say.
		readOnly := a.ReadOnlyHint != nil && *a.ReadOnlyHint
		if a.Title == "" || a.OpenWorldHint == nil || readOnly == (a.DestructiveHint != nil) {
			t.Errorf("%s: the annotations must come from annotations(): %+v", def.Name, a)
		}
		// What a whole toolset needs is said once in the instructions, so a simple read can be short.
		if len(def.Description) < 60 {
			t.Errorf("%s: the description is too thin for a model to act on", def.Name)
		}
		var out struct {
			Type       string         `json:"type"`
			Properties map[string]any `json:"properties"`
		}
		if json.Unmarshal(def.RawOutputSchema, &out) != nil || out.Type != "object" || len(out.Properties) == 0 {
			t.Errorf("%s: no output schema", def.Name)
		}
		// A tool that follows a job for timeout_seconds holds its worker that long: it must count
		// as long-running, so that it can never take every worker (Options.MaxLongRunning).
		var in struct {
			Properties           map[string]any `json:"properties"`
			AdditionalProperties any            `json:"additionalProperties"`
		}
		if err := json.Unmarshal(def.RawInputSchema, &in); err != nil {
			t.Errorf("%s: input schema: %v", def.Name, err)
		}
		if _, follows := in.Properties["timeout_seconds"]; follows && !tool.LongRunning {
			t.Errorf("%s follows a job (timeout_seconds) but is not marked LongRunning", def.Name)
		}
		if in.AdditionalProperties != false {
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
	isDefault := map[string]bool{}
	for _, ts := range toolsets {
		isDefault[ts.Name] = ts.Default
	}
	// names lists, in registry order, the tools that keep passes.
	names := func(ts []Tool, keep func(Tool) bool) string {
		var n []string
		for _, t := range ts {
			if keep(t) {
				n = append(n, t.Definition.Name)
			}
		}
		return strings.Join(n, ",")
	}
	every := func(Tool) bool { return true }
	for _, c := range []struct {
		opts Options
		want string
	}{
		{Options{}, names(all, func(t Tool) bool { return isDefault[t.Toolset] })},
		{Options{ReadOnly: true}, names(all, func(t Tool) bool { return isDefault[t.Toolset] && isReadOnly(t.Definition) })},
		{Options{Toolsets: []string{"all"}}, names(all, every)},
		{Options{Toolsets: []string{"reports"}}, names(all, func(t Tool) bool { return t.Toolset == "reports" })},
		{Options{Toolsets: []string{"workspaces"}, Tools: []string{"get_refresh_history"}},
			names(all, func(t Tool) bool { return t.Toolset == "workspaces" || t.Definition.Name == "get_refresh_history" })},
		{Options{Tools: []string{"refresh_dataset"}}, "refresh_dataset"},
		{Options{Tools: []string{"refresh_dataset"}, ReadOnly: true}, ""},
	} {
		got, err := Select(all, c.opts)
		if err != nil {
			t.Fatal(err)
		}
		if names(got, every) != c.want {
			t.Errorf("%+v: got %s, want %s", c.opts, names(got, every), c.want)
		}
	}
	// Read-only mode keeps no tool that changes anything, and drops the ones that do.
	ro, _ := Select(all, Options{ReadOnly: true, Toolsets: []string{"all"}})
	for _, tool := range ro {
		if !isReadOnly(tool.Definition) {
			t.Errorf("read-only mode offers %s", tool.Definition.Name)
		}
	}
	if strings.Contains(names(ro, every), "refresh_dataset") || len(ro) == len(all) {
		t.Error("read-only mode must drop the write tools")
	}
	if _, err := Select(all, Options{Toolsets: []string{"reportz"}}); err == nil || !strings.Contains(err.Error(), "reports") {
		t.Errorf("an unknown toolset must be refused with the valid names: %v", err)
	}
	if _, err := Select(all, Options{Tools: []string{"list_workspace"}}); err == nil || !strings.Contains(err.Error(), "list_workspaces") {
		t.Errorf("an unknown tool must be refused with the valid names: %v", err)
	}
	// A typo is answered with the names close to it, not all of them.
	if _, err := Select(all, Options{Tools: []string{"list_reprots"}}); err == nil || !strings.Contains(err.Error(), "did you mean list_reports") ||
		strings.Contains(err.Error(), "list_workspaces") {
		t.Errorf("an unknown tool must be refused with the closest names: %v", err)
	}
}

// CheckSelection refuses what NewServer refuses, and accepts what it accepts.
func TestRegistryCheckSelection(t *testing.T) {
	for _, c := range []struct {
		opts Options
		want string // "" for accepted
	}{
		{Options{}, ""},
		{Options{Toolsets: []string{"all"}}, ""},
		{Options{Toolsets: []string{"reports", "dax"}, Tools: []string{"list_capacities"}}, ""},
		{Options{Toolsets: []string{"nope"}}, `unknown toolset "nope"`},
		{Options{Tools: []string{"list_workspace"}}, "list_workspaces"},
	} {
		err := CheckSelection(c.opts)
		_, serverErr := NewServer(Deps{}, c.opts)
		if (err == nil) != (c.want == "") || err != nil && !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.opts, err, c.want)
		}
		if (err == nil) != (serverErr == nil) {
			t.Errorf("%+v: CheckSelection says %v, NewServer %v", c.opts, err, serverErr)
		}
	}
}

// Every toolset the registry names has tools, and every tool's toolset is named.
func TestEveryToolsetHasTools(t *testing.T) {
	count := map[string]int{}
	for _, tool := range All(Deps{}) {
		count[tool.Toolset]++
	}
	for _, ts := range toolsets {
		if count[ts.Name] == 0 {
			t.Errorf("toolset %s has no tools", ts.Name)
		}
	}
}

func TestInstructionsDescribeOnlyEnabledToolsets(t *testing.T) {
	sel, _ := Select(All(Deps{}), Options{Toolsets: []string{"reports", "admin"}, ReadOnly: true})
	got := instructions(sel, true)
	offered, off, ok := strings.Cut(got, "Toolsets off")
	if !ok || !strings.Contains(offered, "- reports:") || strings.Contains(offered, "- refresh:") || !strings.Contains(got, "read-only") {
		t.Fatalf("%s", got)
	}
	// What Power BI asks of an admin tool's caller is said for the admin toolset, once.
	if strings.Count(got, "Service principals can access read-only admin APIs") != 1 || !strings.Contains(offered, "PowerBINotAuthorizedException") {
		t.Errorf("the admin permission is not stated once among the toolsets offered:\n%s", got)
	}
	// The toolsets that are off are listed, each on one line, with how to turn them on.
	if !strings.Contains(off, "--toolsets") || !strings.Contains(off, "PBI_MCP_TOOLSETS") || !strings.Contains(off, "\n- refresh: ") || strings.Contains(off, "- reports:") || strings.Contains(off, "Needs") {
		t.Errorf("toolsets off:\n%s", off)
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

// defaultToolsListBudget bounds the tools/list answer of the default toolsets: every byte of it
// sits in the model's context for the whole conversation. Raise it only on purpose.
const defaultToolsListBudget = 64 << 10

// TestDefaultToolsListSize measures the tools/list answer a client gets with the default
// toolsets, in bytes and in estimated tokens (about 4 bytes a token for English and JSON), and
// keeps it within budget. docs/benchmarks.md records the figures.
func TestDefaultToolsListSize(t *testing.T) {
	size := func(opts Options) (tools, bytes int) {
		opts.Version = "test"
		s, err := NewServer(Deps{}, opts)
		if err != nil {
			t.Fatal(err)
		}
		s.HandleMessage(t.Context(), []byte(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}`))
		var answer struct {
			Result struct {
				Tools []json.RawMessage `json:"tools"`
			} `json:"result"`
		}
		raw, err := json.Marshal(s.HandleMessage(t.Context(), []byte(`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)))
		if err != nil || json.Unmarshal(raw, &answer) != nil || len(answer.Result.Tools) == 0 {
			t.Fatalf("not a tools/list answer: %.200s %v", raw, err)
		}
		return len(answer.Result.Tools), len(raw)
	}
	n, b := size(Options{})
	t.Logf("default toolsets: %d tools, tools/list answer %d bytes, about %d tokens", n, b, b/4)
	all, allBytes := size(Options{Toolsets: []string{"all"}})
	t.Logf("all toolsets: %d tools, tools/list answer %d bytes, about %d tokens", all, allBytes, allBytes/4)
	if b > defaultToolsListBudget {
		t.Fatalf("the default tools/list answer is %d bytes, over the budget of %d: trim descriptions or schemas, or move tools to an opt-in toolset", b, defaultToolsListBudget)
	}
}

// A server builds only the areas whose toolsets it offers, so each area must name every toolset
// its tools belong to: a tool outside them would never be offered.
func TestAreasDeclareTheirToolsets(t *testing.T) {
	for _, a := range areas {
		for _, tool := range a.tools(Deps{}) {
			if !slices.Contains(a.toolsets, tool.Toolset) {
				t.Errorf("%s is in toolset %s, which its area does not declare (%v)", tool.Definition.Name, tool.Toolset, a.toolsets)
			}
		}
	}
	// And a server offers exactly what Select picks from every tool.
	for _, opts := range []Options{{}, {ReadOnly: true}, {Toolsets: []string{"all"}}, {Toolsets: []string{"dax", "admin"}},
		{Toolsets: []string{"workspaces"}, Tools: []string{"list_gateways"}}} {
		want, err := Select(All(Deps{}), opts)
		if err != nil {
			t.Fatal(err)
		}
		s, err := NewServer(Deps{}, opts)
		if err != nil {
			t.Fatal(err)
		}
		var wantNames, gotNames []string
		for _, w := range want {
			wantNames = append(wantNames, w.Definition.Name)
		}
		for name := range s.ListTools() {
			gotNames = append(gotNames, name)
		}
		slices.Sort(wantNames)
		slices.Sort(gotNames)
		if !slices.Equal(wantNames, gotNames) {
			t.Errorf("%+v: the server offers %v, want %v", opts, gotNames, wantNames)
		}
	}
}
