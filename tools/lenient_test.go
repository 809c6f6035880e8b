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

const routeExportTo = "POST /v1.0/myorg/groups/{groupId}/reports/{reportId}/ExportTo"

// A page may be named as the user sees it, by display name or position; Power BI receives the
// page names.
func TestExportPagesByDisplayNameOrPosition(t *testing.T) {
	st := newStack(t, stackOptions{})
	var res ExportResult
	st.ok(t, "export_report", map[string]any{"workspace": "Sales Analytics", "report": "Sales Overview", "format": "PDF",
		"pages": []any{"Regional Sales", "3", "reportsection"}}, &res)
	body := lastExportBody(t, st)
	if !strings.Contains(body, `"pages":[{"pageName":"ReportSection1"},{"pageName":"ReportSection2"},{"pageName":"ReportSection"}]`) {
		t.Errorf("Power BI received %s, want the page names ReportSection1, ReportSection2, ReportSection", body)
	}
	if res.Status != "Succeeded" || res.File == nil {
		t.Errorf("export: %+v", res)
	}
}

// A page that is none of the report's is refused before an export job is started, with the
// pages to choose from.
func TestExportUnknownPageListsThePages(t *testing.T) {
	st := newStack(t, stackOptions{})
	for _, page := range []string{"Summary", "4", "0"} {
		msg := st.fails(t, "export_report", map[string]any{"workspace": "Sales Analytics", "report": "Sales Overview", "format": "PDF", "pages": []any{"Overview", page}})
		for _, want := range []string{`has no page "` + page + `"`, "a position from 1 to 3", `1 "Overview" (ReportSection), 2 "Regional Sales" (ReportSection1), 3 "Product Performance" (ReportSection2)`} {
			if !strings.Contains(msg, want) {
				t.Errorf("page %q: %s\nwant %q", page, msg, want)
			}
		}
	}
	if n := st.tenant.Count(routeExportTo); n != 0 {
		t.Errorf("%d exports were started for pages that do not exist", n)
	}
}
