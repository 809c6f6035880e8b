package tools

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

var auditTestDay = time.Date(2026, time.February, 3, 0, 0, 0, 0, time.UTC)

func wholeDay(extra map[string]any) map[string]any {
	args := map[string]any{"start_date_time": "2026-02-03T00:00:00Z", "end_date_time": "2026-02-03T23:59:59.999Z"}
	for k, v := range extra {
		args[k] = v
	}
	return args
}

func eventIDs(t *testing.T, events []map[string]any) []string {
	t.Helper()
	ids := make([]string, len(events))
	for i, e := range events {
		id, ok := e["Id"].(string)
		if !ok {
			t.Fatalf("event %d has no Id: %v", i, e)
		}
		ids[i] = id
	}
	return ids
}

func TestActivityEventsWholeDay(t *testing.T) {
	// Whole answers, to test the tool's own reading; the result budget has tests of its own.
	st := newStack(t, stackOptions{maxResultBytes: 64 << 20})
	st.tenant.SeedActivityEvents(auditTestDay, 25_000)
	st.tenant.ResetRequests()

	var res ActivityEventsResult
	st.ok(t, "admin_get_activity_events", wholeDay(map[string]any{"limit": 100_000}), &res)
	if res.Count != 25_000 || len(res.ActivityEventEntities) != 25_000 || res.Truncated || res.ContinuationToken != "" {
		t.Fatalf("count %d (%d events), truncated %v, token %q; want all 25000 and no continuation",
			res.Count, len(res.ActivityEventEntities), res.Truncated, res.ContinuationToken)
	}
	seen := map[string]bool{}
	for _, id := range eventIDs(t, res.ActivityEventEntities) {
		if seen[id] {
			t.Fatalf("event %s returned twice", id)
		}
		seen[id] = true
	}
	first := res.ActivityEventEntities[0]
	for _, k := range []string{"Id", "RecordType", "CreationTime", "Operation", "UserId", "Activity", "Workload", "WorkspaceId"} {
		if _, ok := first[k]; !ok {
			t.Errorf("event lacks %s: %v", k, first)
		}
	}

	// Several pages were read, some of them empty yet carrying a continuation, and the last
	// one ended the log.
	var pages, emptyWithContinuation int
	var last []byte
	for _, r := range st.tenant.Requests() {
		if r.Route != "GET /v1.0/myorg/admin/activityevents" {
			continue
		}
		pages++
		if r.Status != 200 {
			t.Fatalf("page %d answered %d: %s", pages, r.Status, r.ResponseBody)
		}
		if bytes.HasPrefix(r.ResponseBody, []byte(`{"activityEventEntities":[],"continuationUri":"https`)) {
			emptyWithContinuation++
		}
		last = r.ResponseBody
	}
	if pages != res.Requests || pages < 5 || emptyWithContinuation == 0 {
		t.Fatalf("%d pages (tool says %d), %d empty with a continuation; want several including empty ones", pages, res.Requests, emptyWithContinuation)
	}
	if !bytes.HasSuffix(last, []byte(`"continuationUri":null,"continuationToken":null,"lastResultSet":true}`)) {
		t.Fatalf("last page does not end the log: %s", last)
	}
	if len(st.progressFor("p-admin_get_activity_events")) == 0 {
		t.Error("no progress notifications")
	}
}

func TestActivityEventsLimitAndResume(t *testing.T) {
	// Whole answers, to test the tool's own reading; the result budget has tests of its own.
	st := newStack(t, stackOptions{maxResultBytes: 64 << 20})
	st.tenant.SeedActivityEvents(auditTestDay, 25_000)

	// SeedActivityEvents numbers its events in time order.
	want := make([]string, 25_000)
	for i := range want {
		want[i] = fmt.Sprintf("%08x-0000-4000-8000-%012x", auditTestDay.YearDay(), i)
	}

	var first ActivityEventsResult
	st.ok(t, "admin_get_activity_events", wholeDay(map[string]any{"limit": 7_777}), &first)
	if first.Count != 7_777 || len(first.ActivityEventEntities) != 7_777 || !first.Truncated || first.ContinuationToken == "" {
		t.Fatalf("limit 7777: count %d, truncated %v, token %q", first.Count, first.Truncated, first.ContinuationToken)
	}
	got := eventIDs(t, first.ActivityEventEntities)
	// Resume in steps that end both inside a page and exactly at a page's end (pages hold
	// 2,500 events here: one busy hour each).
	token := first.ContinuationToken
	for _, limit := range []int{223, 2_500, 6_000, 100_000} {
		var next ActivityEventsResult
		st.ok(t, "admin_get_activity_events", map[string]any{"continuation_token": token, "limit": limit}, &next)
		got = append(got, eventIDs(t, next.ActivityEventEntities)...)
		if !next.Truncated {
			if next.ContinuationToken != "" {
				t.Fatalf("not truncated but a continuation: %q", next.ContinuationToken)
			}
			break
		}
		if next.Count != limit {
			t.Fatalf("truncated with %d events, want the limit %d", next.Count, limit)
		}
		token = next.ContinuationToken
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("resumed reads gave %d events, want the %d of one read in the same order", len(got), len(want))
	}
}

func TestActivityEventsFilterAndErrors(t *testing.T) {
	st := newStack(t, stackOptions{})
	var res ActivityEventsResult
	st.ok(t, "admin_get_activity_events", map[string]any{
		"start_date_time": "2026-01-15T00:00:00Z", "end_date_time": "2026-01-15T23:59:59Z",
		"activity": "exportreport", "user_id": "megan.bowen@contoso.com"}, &res)
	if res.Count == 0 {
		t.Fatal("no events for the filter")
	}
	for _, e := range res.ActivityEventEntities {
		if e["Activity"] != "ExportReport" || e["UserId"] != "megan.bowen@contoso.com" {
			t.Fatalf("event outside the filter: %v", e)
		}
	}

	st.tenant.ResetRequests()
	msg := st.fails(t, "admin_get_activity_events", map[string]any{
		"start_date_time": "2026-01-15T00:00:00Z", "end_date_time": "2026-01-16T01:00:00Z"})
	if !strings.Contains(msg, "same UTC day") {
		t.Errorf("message: %s", msg)
	}
	if msg := st.fails(t, "admin_get_activity_events", map[string]any{"continuation_token": "bm90IG91cnM"}); !strings.Contains(msg, "continuation_token") {
		t.Errorf("message: %s", msg)
	}
	if n := len(st.tenant.Requests()); n != 0 {
		t.Errorf("%d requests sent for invalid arguments", n)
	}

	st.tenant.SetAuditOptions(pbitest.AuditOptions{RefuseAdminAPIs: true})
	msg = st.fails(t, "admin_get_activity_events", map[string]any{
		"start_date_time": "2026-01-15T00:00:00Z", "end_date_time": "2026-01-15T23:59:59Z"})
	if !strings.Contains(msg, "401 PowerBINotAuthorizedException") || !strings.Contains(msg, "read-only admin APIs") {
		t.Errorf("refused caller: %s", msg)
	}
}

func TestModifiedWorkspaces(t *testing.T) {
	st := newStack(t, stackOptions{})
	st.tenant.SetWorkspaceModified(pbitest.DemoScratchWorkspaceID, time.Now().Add(-10*24*time.Hour))
	var res ModifiedWorkspacesResult
	st.ok(t, "admin_modified_workspaces", map[string]any{
		"modified_since": time.Now().Add(-2 * time.Hour).UTC().Format(time.RFC3339), "exclude_personal_workspaces": true}, &res)
	ids := map[string]bool{}
	for _, w := range res.Workspaces {
		ids[w.ID] = true
	}
	if !ids[pbitest.DemoSalesWorkspaceID] || ids[pbitest.DemoScratchWorkspaceID] || res.Count != len(res.Workspaces) {
		t.Fatalf("modified workspaces: %+v", res)
	}
	q := st.tenant.Requests()[len(st.tenant.Requests())-1].RawQuery
	if !strings.Contains(q, "excludePersonalWorkspaces=true") || !strings.Contains(q, "modifiedSince=") {
		t.Errorf("query %q", q)
	}

	if msg := st.fails(t, "admin_modified_workspaces", map[string]any{"modified_since": "2020-01-01T00:00:00Z"}); !strings.Contains(msg, "30 days") {
		t.Errorf("too old: %s", msg)
	}

	// The service's 30 an hour, lowered so the test reaches it: the 429 asks for a long wait,
	// which the client does not start, so the model hears when to come back.
	st.tenant.SetAuditOptions(pbitest.AuditOptions{ModifiedPerHour: 1})
	msg := st.fails(t, "admin_modified_workspaces", map[string]any{})
	if !strings.Contains(msg, "HTTP 429") || !strings.Contains(msg, "Retry after") {
		t.Errorf("throttled: %s", msg)
	}
}

// seedScanTenant adds n workspaces, each with a model of one table and a measure.
func seedScanTenant(s *pbitest.Server, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ws := s.AddWorkspace(pbitest.Workspace{ID: fmt.Sprintf("5ca70000-0000-4000-8000-%012d", i), Name: fmt.Sprintf("Scan %03d", i)})
		ds := s.AddDataset(ws.ID, pbitest.Dataset{Name: fmt.Sprintf("Model %03d", i), IsRefreshable: true})
		s.SetModel(ds.ID, pbitest.Model{
			Tables: []*pbitest.Table{{Name: "Sales", Columns: []pbitest.Column{
				{Name: "Amount", DataType: pbitest.TypeDouble}, {Name: "Region", DataType: pbitest.TypeString}}}},
			Measures: []pbitest.Measure{{Table: "Sales", Name: "Total Sales", Expression: fmt.Sprintf("SUM(Sales[Amount]) * %d", i)}},
		})
		ids[i] = ws.ID
	}
	return ids
}

func TestScanWorkspaces250(t *testing.T) {
	// Whole answers, to test the tool's own reading; the result budget has tests of its own.
	st := newStack(t, stackOptions{maxResultBytes: 64 << 20})
	ids := seedScanTenant(st.tenant, 250)
	st.tenant.SetAuditOptions(pbitest.AuditOptions{ScanDuration: 1500 * time.Millisecond})

	// 25 scans of 10: more than the 16 Power BI runs at once, so the limit is exercised.
	args := map[string]any{"workspaces": ids, "workspaces_per_scan": 10}
	var res ScanWorkspacesResult
	st.ok(t, "admin_scan_workspaces", args, &res)
	if res.Count != 250 || len(res.Workspaces) != 250 || res.Scans != 25 {
		t.Fatalf("count %d, scans %d", res.Count, res.Scans)
	}
	if m := st.tenant.MaxScansInFlight(); m > 16 || m < 2 {
		t.Fatalf("at most %d scans were in flight; want between 2 and 16", m)
	}
	if n := st.tenant.Count("POST /v1.0/myorg/admin/workspaces/getInfo"); n != 25 {
		t.Errorf("%d getInfo calls, want 25 (none refused)", n)
	}
	for i, w := range res.Workspaces {
		if w.ID != ids[i] || len(w.Datasets) != 1 {
			t.Fatalf("workspace %d: %+v", i, w)
		}
		tables := w.Datasets[0].Tables
		if len(tables) != 1 || len(tables[0].Columns) != 2 || len(tables[0].Measures) != 1 ||
			tables[0].Measures[0].Expression != fmt.Sprintf("SUM(Sales[Amount]) * %d", i) {
			t.Fatalf("workspace %d tables: %+v", i, tables)
		}
	}
	if p := st.progressFor("p-admin_scan_workspaces"); len(p) < 2 {
		t.Errorf("%d progress notifications", len(p))
	}

	// The default: scans of 100, three of them.
	var def ScanWorkspacesResult
	st.ok(t, "admin_scan_workspaces", map[string]any{"workspaces": ids, "dataset_expressions": false}, &def)
	if def.Scans != 3 || def.Count != 250 || def.Workspaces[0].Datasets[0].Tables[0].Measures[0].Expression != "" {
		t.Fatalf("default scan: %d scans, %d workspaces, %+v", def.Scans, def.Count, def.Workspaces[0].Datasets[0].Tables)
	}
}

func TestScanWorkspacesOptionsAndErrors(t *testing.T) {
	st := newStack(t, stackOptions{})
	st.tenant.SetAuditOptions(pbitest.AuditOptions{ScanDuration: 200 * time.Millisecond})
	var res ScanWorkspacesResult
	st.ok(t, "admin_scan_workspaces", map[string]any{"workspaces": []string{pbitest.DemoSalesWorkspaceID}, "artifact_users": true}, &res)
	if res.Count != 1 || len(res.Workspaces[0].Users) == 0 || len(res.Workspaces[0].Reports) == 0 {
		t.Fatalf("scan: %+v", res)
	}
	q := st.tenant.Requests()
	var getInfo pbitest.Request
	for _, r := range q {
		if r.Method == "POST" {
			getInfo = r
		}
	}
	if getInfo.RawQuery != "datasetExpressions=true&datasetSchema=true&getArtifactUsers=true" ||
		string(getInfo.Body) != `{"workspaces":["`+pbitest.DemoSalesWorkspaceID+`"]}` {
		t.Errorf("getInfo %s %s", getInfo.RawQuery, getInfo.Body)
	}

	st.tenant.SetAuditOptions(pbitest.AuditOptions{RefuseAdminAPIs: true})
	if msg := st.fails(t, "admin_scan_workspaces", map[string]any{"workspaces": []string{pbitest.DemoSalesWorkspaceID}}); !strings.Contains(msg, "PowerBINotAuthorizedException") {
		t.Errorf("refused caller: %s", msg)
	}
}

// findDataset and findDataflow pick an item of a scanned workspace by id.
func findDataset(w ScannedWorkspace, id string) ScannedDataset {
	for _, d := range w.Datasets {
		if d.ID == id {
			return d
		}
	}
	return ScannedDataset{}
}

func findDataflow(w ScannedWorkspace, id string) ScannedDataflow {
	for _, f := range w.Dataflows {
		if f.ObjectID == id {
			return f
		}
	}
	return ScannedDataflow{}
}

func TestScanWorkspacesByNameWithLineage(t *testing.T) {
	st := newStack(t, stackOptions{})
	st.tenant.SetAuditOptions(pbitest.AuditOptions{ScanDuration: 100 * time.Millisecond})
	st.tenant.ResetRequests()
	var res ScanWorkspacesResult
	st.ok(t, "admin_scan_workspaces", map[string]any{"workspaces": []string{"Finance"}, "lineage": true, "datasource_details": true}, &res)
	if res.Count != 1 || res.Workspaces[0].ID != pbitest.DemoFinanceWorkspaceID || res.Workspaces[0].Name != "Finance" {
		t.Fatalf("scan of Finance: %+v", res.Workspaces)
	}
	var lookups, getInfo []pbitest.Request
	for _, r := range st.tenant.Requests() {
		switch r.Route {
		case "GET /v1.0/myorg/admin/groups":
			lookups = append(lookups, r)
		case "POST /v1.0/myorg/admin/workspaces/getInfo":
			getInfo = append(getInfo, r)
		}
	}
	if len(lookups) != 1 || !strings.Contains(lookups[0].RawQuery, "%24filter=name+eq+%27Finance%27") && !strings.Contains(lookups[0].RawQuery, "$filter=name%20eq%20%27Finance%27") {
		t.Errorf("name lookups: %+v", lookups)
	}
	if len(getInfo) != 1 || getInfo[0].RawQuery != "datasetExpressions=true&datasetSchema=true&datasourceDetails=true&lineage=true" ||
		string(getInfo[0].Body) != `{"workspaces":["`+pbitest.DemoFinanceWorkspaceID+`"]}` {
		t.Errorf("getInfo: %+v", getInfo)
	}

	fin := res.Workspaces[0]
	kpis := findDataset(fin, pbitest.DemoFinanceKPIsDatasetID)
	if len(kpis.UpstreamDataflows) != 1 || kpis.UpstreamDataflows[0].TargetDataflowID != pbitest.DemoFinanceLedgerDataflowID {
		t.Errorf("Finance KPIs lineage: %+v", kpis)
	}
	if f := findDataset(fin, pbitest.DemoForecastDatasetID); len(f.UpstreamDatasets) != 1 || f.UpstreamDatasets[0].TargetDatasetID != pbitest.DemoFinanceKPIsDatasetID {
		t.Errorf("Forecast lineage: %+v", f)
	}
	sources := map[string]ScannedDatasource{}
	for _, s := range res.DatasourceInstances {
		sources[s.DatasourceID] = s
	}
	if p := sources[pbitest.DemoFinanceGatewayDatasourceID]; p.ConnectionDetails["database"] != "Planning" || p.GatewayID != pbitest.DemoGatewayID || p.Misconfigured {
		t.Errorf("Planning source: %+v", p)
	}
	if a := sources[pbitest.DemoFinanceAdjustmentsSourceID]; !a.Misconfigured || a.ConnectionDetails["path"] == "" {
		t.Errorf("the source with a broken gateway binding: %+v", a)
	}

	// The other tools tell the same story about the same model and dataflow.
	var links ListUpstreamDataflowsResult
	st.ok(t, "list_upstream_dataflows", map[string]any{"workspace": "Finance"}, &links)
	if len(links.Links) != 1 || links.Links[0].DatasetObjectID != kpis.ID || links.Links[0].DataflowObjectID != kpis.UpstreamDataflows[0].TargetDataflowID {
		t.Errorf("list_upstream_dataflows: %+v", links.Links)
	}
	var kpiSources ListDatasourcesResult
	st.ok(t, "list_datasources", map[string]any{"workspace": "Finance", "dataset": "Finance KPIs"}, &kpiSources)
	if len(kpiSources.Datasources) != len(kpis.DatasourceUsages) {
		t.Fatalf("list_datasources %+v, scan usages %v", kpiSources.Datasources, kpis.DatasourceUsages)
	}
	for i, s := range kpiSources.Datasources {
		if inst := sources[kpis.DatasourceUsages[i]]; inst.DatasourceType != s.DatasourceType || !maps.Equal(inst.ConnectionDetails, s.ConnectionDetails) {
			t.Errorf("Finance KPIs source %d: listed %+v, scanned %+v", i, s, inst)
		}
	}
	var flows DataflowListResult
	st.ok(t, "list_dataflows", map[string]any{"workspace": "Finance"}, &flows)
	if len(flows.Dataflows) != len(fin.Dataflows) || flows.Dataflows[0].ObjectID != pbitest.DemoFinanceLedgerDataflowID {
		t.Errorf("list_dataflows %+v, scanned %+v", flows.Dataflows, fin.Dataflows)
	}
	ledger := findDataflow(fin, pbitest.DemoFinanceLedgerDataflowID)
	var flowSources DataflowDatasourcesResult
	st.ok(t, "list_dataflow_datasources", map[string]any{"workspace": "Finance", "dataflow": "Finance Ledger"}, &flowSources)
	if len(flowSources.Datasources) != 2 || len(ledger.DatasourceUsages) != 2 {
		t.Fatalf("list_dataflow_datasources %+v, scan usages %v", flowSources.Datasources, ledger.DatasourceUsages)
	}
	for i, s := range flowSources.Datasources {
		if inst := sources[ledger.DatasourceUsages[i]]; inst.DatasourceType != s.DatasourceType || !maps.Equal(inst.ConnectionDetails, connectionDetailsOf(s.ConnectionDetails)) {
			t.Errorf("Finance Ledger source %d: listed %+v, scanned %+v", i, s, inst)
		}
	}

	// Details alone bring the usages that tie them to items.
	var details ScanWorkspacesResult
	st.ok(t, "admin_scan_workspaces", map[string]any{"workspaces": []string{"Finance"}, "datasource_details": true}, &details)
	if u := findDataset(details.Workspaces[0], pbitest.DemoFinanceKPIsDatasetID).DatasourceUsages; len(u) != 1 || u[0] != pbitest.DemoFinanceGatewayDatasourceID {
		t.Errorf("datasource_details alone: usages %v", u)
	}

	// Without the flags the result carries none of it.
	var bare ScanWorkspacesResult
	st.ok(t, "admin_scan_workspaces", map[string]any{"workspaces": []string{pbitest.DemoFinanceWorkspaceID}, "dataset_schema": false}, &bare)
	if b := findDataset(bare.Workspaces[0], pbitest.DemoFinanceKPIsDatasetID); bare.DatasourceInstances != nil || b.UpstreamDataflows != nil || b.DatasourceUsages != nil || b.Tables != nil || b.ID == "" {
		t.Errorf("scan without lineage: %+v", bare)
	}
}

func TestScanWorkspacesNames(t *testing.T) {
	st := newStack(t, stackOptions{})
	st.tenant.SetAuditOptions(pbitest.AuditOptions{ScanDuration: 100 * time.Millisecond})

	// Names not found are all named, and nothing is scanned.
	st.tenant.ResetRequests()
	msg := st.fails(t, "admin_scan_workspaces", map[string]any{"workspaces": []string{"Finance", "Nope", "Sales Analytics", "Also Nope"}})
	wantAll(t, msg, `No workspace named "Nope" or "Also Nope" was found`, "admin_list_workspaces")
	if n := st.tenant.Count("GET /v1.0/myorg/admin/groups"); n != 1 {
		t.Errorf("%d name lookups for 4 names, want 1", n)
	}
	if n := st.tenant.Count("POST /v1.0/myorg/admin/workspaces/getInfo"); n != 0 {
		t.Errorf("a scan was started with names missing")
	}

	// A workspace the caller is not a member of, by name; the same workspace by id and by
	// name, scanned once; ids, in any case, need no lookup.
	var res ScanWorkspacesResult
	st.ok(t, "admin_scan_workspaces", map[string]any{"workspaces": []string{"HR Confidential", strings.ToUpper(pbitest.DemoSalesWorkspaceID), " Sales Analytics "},
		"artifact_users": true}, &res)
	if res.Count != 2 || res.Workspaces[0].ID != pbitest.DemoHRWorkspaceID || res.Workspaces[1].ID != pbitest.DemoSalesWorkspaceID {
		t.Fatalf("scan: %+v", res.Workspaces)
	}
	if !slices.Contains(res.Workspaces[1].Users, "Admin User megan.bowen@contoso.com (Megan Bowen)") {
		t.Errorf("Sales Analytics users: %v", res.Workspaces[1].Users)
	}
	if f := findDataflow(res.Workspaces[1], pbitest.DemoSalesDataflowID); len(f.Users) != 1 || !strings.HasPrefix(f.Users[0], "Owner User ") {
		t.Errorf("Sales Pipeline users: %+v", f)
	}
	st.tenant.ResetRequests()
	st.ok(t, "admin_scan_workspaces", map[string]any{"workspaces": []string{pbitest.DemoSalesWorkspaceID}}, &res)
	if n := st.tenant.Count("GET /v1.0/myorg/admin/groups"); n != 0 || res.Count != 1 {
		t.Errorf("ids: %d lookups, %d workspaces", n, res.Count)
	}
}
