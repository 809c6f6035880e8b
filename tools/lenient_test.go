package tools

import (
	"strings"
	"sync"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

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
		for _, want := range []string{`has no page "` + page + `"`, "a position from 1 to 3", `list_report_pages shows them: 1 "Overview" (ReportSection), 2 "Regional Sales" (ReportSection1), 3 "Product Performance" (ReportSection2)`} {
			if !strings.Contains(msg, want) {
				t.Errorf("page %q: %s\nwant %q", page, msg, want)
			}
		}
	}
	if n := st.tenant.Count(routeExportTo); n != 0 {
		t.Errorf("%d exports were started for pages that do not exist", n)
	}
}

// wantAdvice fails the test unless msg holds every one of want and no generic advice.
func wantAdvice(t *testing.T, what, msg string, want ...string) {
	t.Helper()
	wantAll(t, msg, want...)
	if strings.Contains(msg, "refused the request as given") || strings.Contains(msg, "access was refused") {
		t.Errorf("%s: generic advice: %s", what, msg)
	}
}

// Enhanced refresh on shared capacity: the advice names the capacity it needs and the standard
// refresh that works.
func TestEnhancedRefreshOnSharedCapacityOffersStandardRefresh(t *testing.T) {
	st := newStack(t, stackOptions{})
	const route = "POST /v1.0/myorg/groups/{groupId}/datasets/{datasetId}/refreshes"
	// Found by name, the workspace is known to be on shared capacity: nothing is sent.
	msg := st.fails(t, "refresh_dataset", map[string]any{"workspace": "Marketing", "dataset": "Web Traffic", "type": "Full", "objects": []any{map[string]any{"table": "Sessions"}}})
	wantAdvice(t, "by workspace name", msg, "Nothing was sent to Power BI", "needs the model's workspace on a Premium, Premium Per User or Fabric capacity",
		"call refresh_dataset again with only workspace, dataset and optionally wait", "assign_workspace_to_capacity")
	if n := st.tenant.Count(route); n != 0 {
		t.Errorf("%d refreshes were sent to a workspace known to be on shared capacity", n)
	}
	// By id, Power BI refuses it, and the advice is the same.
	msg = st.fails(t, "refresh_dataset", map[string]any{"workspace": pbitest.DemoMarketingWorkspaceID, "dataset": pbitest.DemoWebTrafficDatasetID, "commit_mode": "PartialBatch", "apply_refresh_policy": false})
	wantAdvice(t, "by workspace id", msg, "HTTP 400 InvalidRequest", "needs the model's workspace on a Premium, Premium Per User or Fabric capacity",
		"call refresh_dataset again with only workspace, dataset and optionally wait")
	// The standard refresh it offers works.
	var res RefreshResult
	st.ok(t, "refresh_dataset", map[string]any{"workspace": "Marketing", "dataset": "Web Traffic"}, &res)
}

// A $filter Power BI refuses gets what is wrong with it and a filter that works.
func TestBadODataFilterIsExplained(t *testing.T) {
	st := newStack(t, stackOptions{})
	msg := st.fails(t, "list_workspaces", map[string]any{"filter": "name eq Sales"})
	wantAdvice(t, "unquoted text", msg, "Could not find a property named 'Sales'", "Put text in single quotes", "A correct filter: name eq 'Sales' or contains(name,'Fin')")
	msg = st.fails(t, "admin_list_workspaces", map[string]any{"filter": "contains(name 'Sales')"})
	wantAdvice(t, "missing comma", msg, "expected at position", "a function takes the property, a comma and a quoted value", "A correct filter:")
	msg = st.fails(t, "admin_list_dashboards", map[string]any{"filter": "title eq 'Sales'"})
	wantAdvice(t, "unknown property", msg, "use only the properties the filter argument's description names", "displayName eq 'Sales'")
}

// Embed identities: one for a model without RLS is refused with the advice to drop it, and a
// model with RLS without one gets the advice to pass it.
func TestEmbedIdentityAdviceFollowsRLS(t *testing.T) {
	st := newStack(t, stackOptions{})
	msg := st.fails(t, "generate_embed_token", map[string]any{"workspace": "Sales Analytics",
		"datasets":   []any{map[string]any{"dataset": "Regional Sales"}, map[string]any{"dataset": "Finance KPIs", "workspace": "Finance"}},
		"identities": []any{map[string]any{"username": "megan.bowen@contoso.com", "roles": []any{"West"}, "datasets": []any{pbitest.DemoRegionalSalesDatasetID, pbitest.DemoFinanceKPIsDatasetID}}}})
	wantAdvice(t, "identity for a model without RLS", msg, "the semantic model "+pbitest.DemoFinanceKPIsDatasetID+" has no row-level security", "Call again without identities, or with identities whose datasets leave this model out")

	msg = st.fails(t, "generate_embed_token", map[string]any{"workspace": "Sales Analytics", "datasets": []any{map[string]any{"dataset": "Regional Sales"}}})
	wantAdvice(t, "model with RLS without identity", msg, "the semantic model "+pbitest.DemoRegionalSalesDatasetID+" has row-level security", "Call again with identities: a username", "the RLS roles")
}

// An export from a workspace known to be on shared capacity is refused before it is sent;
// one Power BI refuses for that reason gets the same advice.
func TestExportOnSharedCapacityNeedsACapacity(t *testing.T) {
	st := newStack(t, stackOptions{})
	msg := st.fails(t, "export_report", map[string]any{"workspace": "Marketing", "report": "Campaign Performance", "format": "PDF"})
	wantAdvice(t, "by workspace name", msg, "Nothing was sent to Power BI", "only from workspaces on a Premium, Embedded or Fabric capacity", "assign_workspace_to_capacity", "download_report_pbix")
	if n := st.tenant.Count(routeExportTo); n != 0 {
		t.Errorf("%d exports were sent from a workspace known to be on shared capacity", n)
	}
	msg = st.fails(t, "export_report", map[string]any{"workspace": pbitest.DemoMarketingWorkspaceID, "report": pbitest.DemoMarketingReportID, "format": "PDF"})
	wantAdvice(t, "by workspace id", msg, "HTTP 403 FeatureNotAvailableError", "only from workspaces on a Premium, Embedded or Fabric capacity", "assign_workspace_to_capacity")
}

// BenchmarkNormalizeArgs is what reading lenient input adds to an export_report call with an
// enum in lower case, a number as a string and three pages; validation runs after it anyway.
func BenchmarkNormalizeArgs(b *testing.B) {
	var def mcp.Tool
	for _, tl := range All(Deps{}) {
		if tl.Definition.Name == "export_report" {
			def = tl.Definition
		}
	}
	schema := sync.OnceValues(func() (inputSchemaDoc, error) { return parseInputSchema(def) })
	for b.Loop() {
		args := map[string]any{"workspace": "Sales Analytics", "report": "Sales Overview", "format": "pdf",
			"timeout_seconds": "60", "pages": []any{"Overview", "2", "3"}}
		if got := normalizeArgs(schema, args).(map[string]any); got["format"] != "PDF" {
			b.Fatal(got)
		}
	}
}
