package tools

import (
	"strings"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// A near miss in spelling is read as what it plainly means: enum values in any case, integers
// as strings of digits, also inside arrays.
func TestLenientArgumentsAreNormalized(t *testing.T) {
	st := newStack(t, stackOptions{})

	var ws struct {
		Workspaces []WorkspaceRef `json:"workspaces"`
		Page
	}
	st.ok(t, "list_workspaces", map[string]any{"top": "2"}, &ws)
	if ws.Count != 2 || !ws.HasMore {
		t.Errorf(`top "2": got %d workspaces (hasMore %v), want 2 and more`, ws.Count, ws.HasMore)
	}

	var exp ExportResult
	st.ok(t, "export_report", map[string]any{"workspace": "Sales Analytics", "report": "Sales Overview", "format": "pdf", "timeout_seconds": "60"}, &exp)
	if body := lastExportBody(t, st); !strings.Contains(body, `"format":"PDF"`) {
		t.Errorf(`format "pdf": Power BI received %s, want format PDF`, body)
	}

	var sched any
	st.ok(t, "update_refresh_schedule", map[string]any{"workspace": "Sales Analytics", "dataset": "Inventory", "days": []any{"monday", "FRIDAY"}}, &sched)
	if body := lastBody(t, st, "PATCH /v1.0/myorg/groups/{groupId}/datasets/{datasetId}/refreshSchedule"); !strings.Contains(body, `["Monday","Friday"]`) {
		t.Errorf("days in lower and upper case: Power BI received %s, want Monday and Friday", body)
	}
}

// What is not plainly one value stays refused with the validator's own message.
func TestLenientArgumentsStayStrict(t *testing.T) {
	st := newStack(t, stackOptions{})
	for _, c := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"top": "5.5"}, "/top: got string, want integer"},
		{map[string]any{"top": " 5"}, "/top: got string, want integer"},
		{map[string]any{"top": "0"}, "/top: minimum: got 0, want 1"},
	} {
		msg := st.fails(t, "list_workspaces", c.args)
		if !strings.Contains(msg, c.want) {
			t.Errorf("%v: %s, want %q", c.args, msg, c.want)
		}
	}
	msg := st.fails(t, "export_report", map[string]any{"workspace": pbitest.DemoSalesWorkspaceID, "report": pbitest.DemoSalesReportID, "format": "pdfx"})
	if !strings.Contains(msg, "/format: value must be one of") {
		t.Errorf(`format "pdfx": %s`, msg)
	}
}

// Two allowed values that differ only in case leave the choice to the model.
func TestLenientEnumNeverGuesses(t *testing.T) {
	schema := map[string]any{"type": "string", "enum": []any{"Full", "FULL", "Calculate"}}
	for in, want := range map[string]string{"full": "full", "FULL": "FULL", "calculate": "Calculate"} {
		if got := normalizeValue(schema, in); got != want {
			t.Errorf("%q: got %v, want %q", in, got, want)
		}
	}
}

// A name that is not found says where it was looked for and offers the names close to it.
func TestNotFoundNamesTheClosest(t *testing.T) {
	st := newStack(t, stackOptions{})
	for _, c := range []struct {
		tool    string
		args    map[string]any
		want    []string
		notWant []string
	}{
		{"list_datasets", map[string]any{"workspace": "Sales"},
			[]string{`No workspace named "Sales" was found`, `Closest names: "Sales Analytics", "Sales Analytics [Test]", "Sales Analytics [Production]".`}, nil},
		{"list_datasets", map[string]any{"workspace": "Finanse"},
			[]string{`Closest names: "Finance".`}, []string{"Marketing", "Scratch"}},
		{"get_dataset", map[string]any{"workspace": "Finance", "dataset": "Finanse KPIs"},
			[]string{`No semantic model (dataset) named "Finanse KPIs" was found in the workspace "Finance"`, `Closest names: "Finance KPIs".`, "list_datasets"}, []string{"Forecast"}},
		{"get_report", map[string]any{"report": "Budget"},
			[]string{`was found in My workspace (no workspace was given)`, `Closest names: "Budget Tracker".`}, nil},
		{"get_report", map[string]any{"workspace": "Sales Analytics", "report": "Quarterly Forecast"},
			[]string{`No report named "Quarterly Forecast" was found in the workspace "Sales Analytics"`}, []string{"Closest"}},
	} {
		msg := st.fails(t, c.tool, c.args)
		for _, w := range c.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s %v: %s\nwant %q", c.tool, c.args, msg, w)
			}
		}
		for _, w := range c.notWant {
			if strings.Contains(msg, w) {
				t.Errorf("%s %v: %s\nwant no %q", c.tool, c.args, msg, w)
			}
		}
	}
}
