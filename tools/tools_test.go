package tools

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// Routes of the fake tenant the assertions below count requests on.
const (
	routeGroups         = "GET /v1.0/myorg/groups"
	routeRefreshInGroup = "POST /v1.0/myorg/groups/{groupId}/datasets/{datasetId}/refreshes"
)

func TestListWorkspaces(t *testing.T) {
	st := newStack(t, stackOptions{})
	var res ListWorkspacesResult
	st.ok(t, "list_workspaces", nil, &res)
	if res.Count != 6 || res.HasMore || len(res.Workspaces) != 6 {
		t.Fatalf("want the 6 demo workspaces on one page, got %+v", res)
	}
	names := map[string]Workspace{}
	for _, w := range res.Workspaces {
		names[w.Name] = w
	}
	if w := names["Sales Analytics"]; !w.IsOnDedicatedCapacity || !guidPattern.MatchString(w.ID) {
		t.Fatalf("Sales Analytics: %+v", w)
	}
	if names["Marketing"].IsOnDedicatedCapacity {
		t.Fatal("Marketing is on shared capacity in the demo tenant")
	}

	// Paging: top=2 shows two and says where the others are.
	var first, second ListWorkspacesResult
	st.ok(t, "list_workspaces", map[string]any{"top": 2}, &first)
	if first.Count != 2 || !first.HasMore || first.NextSkip != 2 {
		t.Fatalf("first page: %+v", first)
	}
	st.ok(t, "list_workspaces", map[string]any{"top": 2, "skip": first.NextSkip}, &second)
	if second.Count != 2 || !second.HasMore || second.NextSkip != 4 { // the pipelines' Test and Production workspaces follow
		t.Fatalf("second page: %+v", second)
	}

	// The filter reaches Power BI as $filter, quotes and all.
	var filtered ListWorkspacesResult
	st.ok(t, "list_workspaces", map[string]any{"filter": "contains(name,'Fin')"}, &filtered)
	if filtered.Count != 1 || filtered.Workspaces[0].Name != "Finance" {
		t.Fatalf("filtered: %+v", filtered)
	}
	reqs := st.tenant.Requests()
	last := reqs[len(reqs)-1]
	q, err := url.ParseQuery(last.RawQuery)
	if err != nil || last.Route != routeGroups || q.Get("$filter") != "contains(name,'Fin')" || q.Get("$top") != "101" {
		t.Fatalf("Power BI received %s ?%s", last.Route, last.RawQuery)
	}
}

func TestNamesAndIDsResolve(t *testing.T) {
	st := newStack(t, stackOptions{})
	var ws ListWorkspacesResult
	st.ok(t, "list_workspaces", map[string]any{"filter": "name eq 'Sales Analytics'"}, &ws)
	salesID := ws.Workspaces[0].ID

	var byName, byID ListDatasetsResult
	st.ok(t, "list_datasets", map[string]any{"workspace": "Sales Analytics"}, &byName)
	st.ok(t, "list_datasets", map[string]any{"workspace": strings.ToUpper(salesID)}, &byID)
	if byName.Workspace.ResolvedBy != "name" || byName.Workspace.ID != salesID {
		t.Fatalf("by name: %+v", byName.Workspace)
	}
	if byID.Workspace.ResolvedBy != "id" || byID.Workspace.ID != salesID {
		t.Fatalf("by id: %+v", byID.Workspace)
	}
	if byName.Count == 0 || byName.Count != byID.Count {
		t.Fatalf("same workspace, different answers: %d vs %d", byName.Count, byID.Count)
	}

	var mine ListDatasetsResult
	st.ok(t, "list_datasets", nil, &mine)
	if !mine.Workspace.MyWorkspace || mine.Workspace.ResolvedBy != "default" {
		t.Fatalf("no workspace means My workspace: %+v", mine.Workspace)
	}

	msg := st.fails(t, "list_reports", map[string]any{"workspace": "No Such Workspace"})
	if !strings.Contains(msg, `No workspace named "No Such Workspace"`) || !strings.Contains(msg, "list_workspaces") {
		t.Fatalf("unknown name: %s", msg)
	}

	st.tenant.AddWorkspace(pbitest.Workspace{Name: "Twin"})
	st.tenant.AddWorkspace(pbitest.Workspace{Name: "Twin"})
	msg = st.fails(t, "list_reports", map[string]any{"workspace": "Twin"})
	if !strings.Contains(msg, "ambiguous") || strings.Count(msg, "Twin (") != 2 {
		t.Fatalf("ambiguous name must list both candidates: %s", msg)
	}
}

// TestEmptyNamesAreRefusedWithAReason: an item's id or name is declared without a minimum
// length (the tool list does not pay for it), so an empty one reaches the tool, which says what
// it lacks before anything is changed.
func TestEmptyNamesAreRefusedWithAReason(t *testing.T) {
	st := newStack(t, stackOptions{})
	for _, c := range []struct {
		tool string
		args map[string]any
		want string
	}{
		{"get_report", map[string]any{"workspace": "Finance", "report": ""}, `No report named ""`},
		{"delete_workspace", map[string]any{"workspace": "", "confirm": true}, "A workspace is required"},
		{"generate_embed_token", map[string]any{"workspace": " ", "datasets": []any{map[string]any{"dataset": "Finance KPIs"}}}, "My workspace"},
		{"get_refresh_history", map[string]any{"workspace": "Sales Analytics", "dataset": ""}, `No semantic model (dataset) named ""`},
	} {
		if msg := st.fails(t, c.tool, c.args); !strings.Contains(msg, c.want) {
			t.Errorf("%s %v: %s", c.tool, c.args, msg)
		}
	}
	for _, r := range st.tenant.Requests() {
		if r.Method != "GET" && strings.Contains(r.Path, "/v1.0/") {
			t.Errorf("%s %s was sent", r.Method, r.Path)
		}
	}
}

func TestInvalidArgumentsAreExplained(t *testing.T) {
	st := newStack(t, stackOptions{})
	before := len(st.tenant.Requests())
	for _, c := range []struct {
		tool string
		args map[string]any
		want string
	}{
		{"list_workspaces", map[string]any{"top": 5000}, "/top"},
		{"list_workspaces", map[string]any{"colour": "blue"}, "'colour' not allowed"},
		{"export_report", map[string]any{"report": "Sales Overview", "format": "DOC"}, "/format"},
		{"refresh_dataset", map[string]any{}, "dataset"},
		{"get_refresh_history", map[string]any{"dataset": "x", "top": 0}, "/top"},
	} {
		msg := st.fails(t, c.tool, c.args)
		if !strings.Contains(msg, "Invalid arguments for "+c.tool) || !strings.Contains(msg, c.want) {
			t.Errorf("%s %v: %s", c.tool, c.args, msg)
		}
	}
	if n := len(st.tenant.Requests()); n != before {
		t.Fatalf("invalid calls must not reach Power BI: %d requests", n-before)
	}
}

func TestConcurrentCallsShareOneTokenRequest(t *testing.T) {
	st := newStack(t, stackOptions{})
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := st.client.CallTool(context.Background(), mcp.CallToolRequest{Params: mcp.CallToolParams{Name: "list_workspaces"}})
			if err != nil {
				errs <- err.Error()
			} else if res.IsError {
				errs <- text(res)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if n := st.tenant.TokenRequests(); n != 1 {
		t.Fatalf("100 concurrent calls caused %d token requests, want 1", n)
	}
	if n := st.tenant.Count(routeGroups); n != 100 {
		t.Fatalf("Power BI saw %d list requests, want 100", n)
	}
}

func TestThrottledCallsSucceed(t *testing.T) {
	st := newStack(t, stackOptions{})
	st.tenant.SetFaults(pbitest.Faults{ThrottleEvery: 3, RetryAfter: 0})
	for i := range 50 {
		var res ListWorkspacesResult
		st.ok(t, "list_workspaces", map[string]any{"top": 1 + i%3}, &res)
	}
	throttled := 0
	for _, r := range st.tenant.Requests() {
		if r.Status == 429 {
			throttled++
		}
	}
	if throttled < 16 {
		t.Fatalf("only %d requests were throttled; the fault did not bite", throttled)
	}
}

func TestRefreshIsNeverSentTwice(t *testing.T) {
	for _, f := range []pbitest.Faults{{ServerErrorEvery: 1}, {DropEvery: 1}} {
		t.Run(fmt.Sprintf("%+v", f), func(t *testing.T) {
			st := newStack(t, stackOptions{})
			ws, ds := salesIDs(t, st)
			st.tenant.SetFaults(f)
			msg := st.fails(t, "refresh_dataset", map[string]any{"workspace": ws, "dataset": ds})
			if n := st.tenant.Count(routeRefreshInGroup); n != 1 {
				t.Fatalf("the refresh POST reached Power BI %d times, want exactly 1", n)
			}
			if !strings.Contains(msg, "get_refresh_history") || !strings.Contains(msg, "not repeated") {
				t.Fatalf("the model must learn the outcome is unknown and how to check: %s", msg)
			}
		})
	}
}

func TestRefreshAndHistory(t *testing.T) {
	st := newStack(t, stackOptions{})
	var started RefreshResult
	st.ok(t, "refresh_dataset", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales"}, &started)
	if started.Status != "Started" || !guidPattern.MatchString(started.RequestID) || started.Dataset.ResolvedBy != "name" {
		t.Fatalf("started: %+v", started)
	}
	// While it runs, a second refresh is refused the way Power BI refuses it, with the next step.
	msg := st.fails(t, "refresh_dataset", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales"})
	for _, want := range []string{"HTTP 400", "InvalidRequest", "already executing", "RequestId: ", "get_refresh_history"} {
		if !strings.Contains(msg, want) {
			t.Errorf("second refresh error lacks %q: %s", want, msg)
		}
	}

	var hist RefreshHistoryResult
	st.ok(t, "get_refresh_history", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales"}, &hist)
	if hist.Count == 0 || hist.Refreshes[0].RequestID != started.RequestID || hist.Refreshes[0].Status != "InProgress" {
		t.Fatalf("history while running: %+v", hist)
	}

	// Waiting follows the new refresh to its end and reports progress.
	time.Sleep(400 * time.Millisecond) // let the first refresh finish: one at a time per model
	var waited RefreshResult
	st.ok(t, "refresh_dataset", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales", "wait": true, "timeout_seconds": 60}, &waited)
	if waited.Status != "Completed" || waited.Refresh == nil || waited.Refresh.RequestID != waited.RequestID || waited.Refresh.EndTime == "" {
		t.Fatalf("waited: %+v", waited)
	}
	if len(st.progressFor("p-refresh_dataset")) == 0 {
		t.Fatal("no progress notification while waiting for the refresh")
	}
}

func TestFailedRefreshIsAnErrorWithTheReason(t *testing.T) {
	st := newStack(t, stackOptions{})
	msg := st.fails(t, "refresh_dataset", map[string]any{"workspace": "Marketing", "dataset": "Web Traffic", "wait": true, "timeout_seconds": 60})
	for _, want := range []string{"ended with status Failed", "ModelRefreshFailed_CredentialsNotSpecified", "credentials"} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing %q in %s", want, msg)
		}
	}
	var hist RefreshHistoryResult
	st.ok(t, "get_refresh_history", map[string]any{"workspace": "Marketing", "dataset": "Web Traffic"}, &hist)
	if hist.Refreshes[0].Status != "Failed" || !strings.Contains(hist.Refreshes[0].Error, "CredentialsNotSpecified") {
		t.Fatalf("%+v", hist.Refreshes[0])
	}
}

func TestRefreshWaitTimesOutButKeepsRunning(t *testing.T) {
	st := newStack(t, stackOptions{tenant: pbitest.Options{RefreshDuration: time.Minute}})
	var res RefreshResult
	st.ok(t, "refresh_dataset", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales", "wait": true, "timeout_seconds": 1}, &res)
	if res.Status != "InProgress" || res.RequestID == "" || !strings.Contains(res.Message, "get_refresh_history") {
		t.Fatalf("%+v", res)
	}
}

func TestExportReport(t *testing.T) {
	magic := map[string][]byte{"PDF": []byte("%PDF-"), "PPTX": []byte("PK\x03\x04"), "PNG": []byte("\x89PNG\r\n\x1a\n")}
	mimes := map[string]string{"PDF": "application/pdf", "PPTX": "application/vnd.openxmlformats-officedocument.presentationml.presentation", "PNG": "image/png"}
	st := newStack(t, stackOptions{})
	for _, format := range []string{"PDF", "PPTX", "PNG"} {
		t.Run(format, func(t *testing.T) {
			args := map[string]any{"workspace": "Sales Analytics", "report": "Sales Overview", "format": format}
			if format == "PNG" {
				args["pages"] = []string{"ReportSection1"} // one page of the demo report: a PNG, not a ZIP of PNGs
			}
			var res ExportResult
			st.ok(t, "export_report", args, &res)
			if res.Status != "Succeeded" || res.File == nil || res.ExportID == "" {
				t.Fatalf("%+v", res)
			}
			if filepath.Dir(res.File.Path) != st.exportDir {
				t.Fatalf("file %s is outside the export directory %s", res.File.Path, st.exportDir)
			}
			data, err := os.ReadFile(res.File.Path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(data, magic[format]) || int64(len(data)) != res.File.Bytes || res.File.MimeType != mimes[format] {
				t.Fatalf("file %s: %d bytes (reported %d), starts %q, mime %s", res.File.Path, len(data), res.File.Bytes, data[:min(8, len(data))], res.File.MimeType)
			}
		})
	}
	if len(st.progressFor("p-export_report")) == 0 {
		t.Fatal("no progress notification during the exports")
	}
	entries, _ := os.ReadDir(st.exportDir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".partial") {
			t.Fatalf("a temporary file was left behind: %s", e.Name())
		}
	}
}

func TestExportResumesAfterTimeout(t *testing.T) {
	st := newStack(t, stackOptions{tenant: pbitest.Options{ExportDuration: 2500 * time.Millisecond}})
	args := map[string]any{"workspace": "Sales Analytics", "report": "Sales Overview", "format": "PDF", "timeout_seconds": 1}
	var first ExportResult
	st.ok(t, "export_report", args, &first)
	if first.Status != "Running" || first.ExportID == "" || first.File != nil {
		t.Fatalf("first: %+v", first)
	}
	args["export_id"], args["timeout_seconds"] = first.ExportID, 60
	var second ExportResult
	st.ok(t, "export_report", args, &second)
	if second.Status != "Succeeded" || second.ExportID != first.ExportID || second.File == nil {
		t.Fatalf("resumed: %+v", second)
	}
	if n := st.tenant.Count("POST /v1.0/myorg/groups/{groupId}/reports/{reportId}/ExportTo"); n != 1 {
		t.Fatalf("resuming must not start a new export job: %d jobs", n)
	}
}

func TestExportOnSharedCapacityExplainsLicence(t *testing.T) {
	st := newStack(t, stackOptions{})
	var reports ListReportsResult
	st.ok(t, "list_reports", map[string]any{"workspace": "Marketing"}, &reports)
	if reports.Count == 0 {
		t.Fatal("the demo Marketing workspace has no report")
	}
	// By id, so that Power BI answers: a workspace found by name is known to be on shared
	// capacity, and its export is refused before it is sent (TestExportOnSharedCapacityNeedsACapacity).
	msg := st.fails(t, "export_report", map[string]any{"workspace": reports.Workspace.ID, "report": reports.Reports[0].ID, "format": "PDF"})
	if !strings.Contains(msg, "RequestId: ") || !strings.Contains(msg, "Next:") {
		t.Fatalf("%s", msg)
	}
}

func TestUnknownIDGivesActionableError(t *testing.T) {
	st := newStack(t, stackOptions{})
	msg := st.fails(t, "get_refresh_history", map[string]any{"workspace": "Sales Analytics", "dataset": "00000000-1111-2222-3333-444444444444"})
	for _, want := range []string{"HTTP 404", "RequestId: ", "list_datasets"} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing %q in %s", want, msg)
		}
	}
}

func TestMissingSignInTellsWhatToSet(t *testing.T) {
	// The token error a server without credentials gets, shaped for the model.
	res := errorResult("list workspaces", &pbiclient.TokenError{Err: errors.New("auth: a service principal with a client secret needs AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET")})
	msg := text(res)
	if !res.IsError || !strings.HasPrefix(msg, "Could not list workspaces: the server cannot sign in to Power BI: a service principal") || !strings.Contains(msg, "restart") {
		t.Fatalf("%s", msg)
	}
}

func TestWrongSecretNamesTheFixAndNeverTheSecret(t *testing.T) {
	const secret = "Wr0ng~Secret.Value-that-must-not-leak"
	st := newStack(t, stackOptions{secret: secret})
	msg := st.fails(t, "list_workspaces", nil)
	if !strings.Contains(msg, "AADSTS7000215") || !strings.Contains(msg, "Value") {
		t.Fatalf("the error must name AADSTS7000215 and the fix: %s", msg)
	}
	if strings.Contains(msg, secret) || strings.Contains(st.logs.String(), secret) {
		t.Fatal("the client secret appeared in a result or a log line")
	}
	if !strings.Contains(st.logs.String(), "AADSTS7000215") {
		t.Fatal("the failure should be logged too")
	}
}

// salesIDs returns the ids of the demo workspace "Sales Analytics" and its model "Sales".
func salesIDs(t *testing.T, st *stack) (ws, ds string) {
	t.Helper()
	var res ListDatasetsResult
	st.ok(t, "list_datasets", map[string]any{"workspace": "Sales Analytics"}, &res)
	for _, d := range res.Datasets {
		if d.Name == "Sales" {
			return res.Workspace.ID, d.ID
		}
	}
	t.Fatal("the demo tenant has no Sales model")
	return "", ""
}
