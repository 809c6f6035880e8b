package pbitest

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestActivityEventsWire(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedActivityEvents(DemoActivityDay, 80) // 8 an hour
	s.SetAuditOptions(AuditOptions{ActivityPageSize: 4})
	q := "?startDateTime='2026-01-15T08:00:00Z'&endDateTime='2026-01-15T09:59:59Z'"

	r := api(t, s, "GET", "/admin/activityevents"+q, nil)
	wantStatus(t, r, 200)
	body := r.json(t)
	events := body["activityEventEntities"].([]any)
	if len(events) != 4 || body["lastResultSet"] != false {
		t.Fatalf("first page: %s", r.body)
	}
	if e := events[0].(map[string]any); e["Activity"] != "ViewReport" || e["RecordType"] != 20.0 || e["Workload"] != "PowerBI" {
		t.Errorf("event %v", e)
	}
	tok := body["continuationToken"].(string)
	if !strings.HasSuffix(body["continuationUri"].(string), "continuationToken='"+tok+"'") {
		t.Errorf("continuationUri %v", body["continuationUri"])
	}
	// Sent back as received, the token works; encoded once more, it does not.
	var total, pages int
	total = len(events)
	for tok != "" {
		r = api(t, s, "GET", "/admin/activityevents?continuationToken='"+tok+"'", nil)
		wantStatus(t, r, 200)
		body = r.json(t)
		pages++
		total += len(body["activityEventEntities"].([]any))
		tok, _ = body["continuationToken"].(string)
		if tok == "" && (body["lastResultSet"] != true || body["continuationUri"] != nil) {
			t.Fatalf("final page %s", r.body)
		}
	}
	if total != 16 || pages != 3 {
		t.Errorf("%d events over %d more pages", total, pages)
	}
	r = api(t, s, "GET", "/admin/activityevents"+q, nil)
	tok = r.json(t)["continuationToken"].(string)
	wantStatus(t, api(t, s, "GET", "/admin/activityevents?continuationToken='"+url.QueryEscape(tok)+"'", nil), 400)

	for _, bad := range []string{
		"?startDateTime=2026-01-15T08:00:00Z&endDateTime=2026-01-15T10:00:00Z",     // not quoted
		"?startDateTime='2026-01-15T08:00:00Z'&endDateTime='2026-01-16T10:00:00Z'", // two days
		q + "&$filter=" + url.QueryEscape("ItemName eq 'x'"),                       // unsupported field
	} {
		if r := api(t, s, "GET", "/admin/activityevents"+bad, nil); r.status != 400 || errorCode(t, r) != "InvalidRequest" {
			t.Errorf("%s: %d %s", bad, r.status, r.body)
		}
	}
}

func TestAuditLimitsAndRefusal(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SetAuditOptions(AuditOptions{ModifiedPerHour: 2})
	wantStatus(t, api(t, s, "GET", "/admin/workspaces/modified", nil), 200)
	r := api(t, s, "GET", "/admin/workspaces/modified", nil)
	if r.status != 200 || string(r.body) != "[]" {
		t.Fatalf("bare array: %d %s", r.status, r.body)
	}
	r = api(t, s, "GET", "/admin/workspaces/modified", nil)
	wantStatus(t, r, 429)
	if ra := r.header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Errorf("Retry-After %q", ra)
	}
	wantStatus(t, api(t, s, "GET", "/admin/workspaces/modified?modifiedSince=2020-01-01T00:00:00Z", nil), 429)

	s.SetAuditOptions(AuditOptions{RefuseAdminAPIs: true})
	r = api(t, s, "POST", "/admin/workspaces/getInfo", map[string]any{"workspaces": []string{DemoSalesWorkspaceID}})
	if r.status != 401 || errorCode(t, r) != "PowerBINotAuthorizedException" {
		t.Errorf("refused: %d %s", r.status, r.body)
	}
}

func TestScannerWire(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	s.SetAuditOptions(AuditOptions{ScanDuration: 3 * time.Second}) // long enough to be seen running on a busy machine

	r := api(t, s, "POST", "/admin/workspaces/getInfo?datasetSchema=true&datasetExpressions=true", map[string]any{"workspaces": []string{DemoSalesWorkspaceID}})
	wantStatus(t, r, 202)
	scan := r.json(t)
	id := scan["id"].(string)
	if scan["status"] != "NotStarted" || r.header.Get("Location") != s.APIBaseURL()+"/admin/workspaces/scanStatus/"+id {
		t.Fatalf("getInfo: %s, Location %s", r.body, r.header.Get("Location"))
	}
	wantStatus(t, api(t, s, "GET", "/admin/workspaces/scanResult/"+id, nil), 400)
	r = api(t, s, "GET", "/admin/workspaces/scanStatus/"+id, nil)
	if r.header.Get("Retry-After") == "" || r.header.Get("Location") != "" {
		t.Errorf("running scan headers %v", r.header)
	}
	eventually(t, "scan succeeded", func() bool {
		r = api(t, s, "GET", "/admin/workspaces/scanStatus/"+id, nil)
		return r.json(t)["status"] == "Succeeded"
	})
	if r.header.Get("Location") != s.APIBaseURL()+"/admin/workspaces/scanResult/"+id {
		t.Errorf("Location %q", r.header.Get("Location"))
	}
	r = api(t, s, "GET", "/admin/workspaces/scanResult/"+id, nil)
	wantStatus(t, r, 200)
	if !strings.Contains(string(r.body), `"measures":[{"name":`) || !strings.Contains(string(r.body), `"expression":`) {
		t.Errorf("scan result lacks measures with expressions: %s", r.body)
	}
	wantStatus(t, api(t, s, "GET", "/admin/workspaces/scanStatus/"+newGUID(), nil), 404)

	// 1 to 100 workspaces per scan.
	many := make([]string, 101)
	for i := range many {
		many[i] = newGUID()
	}
	wantStatus(t, api(t, s, "POST", "/admin/workspaces/getInfo", map[string]any{"workspaces": many}), 400)
	wantStatus(t, api(t, s, "POST", "/admin/workspaces/getInfo", map[string]any{"workspaces": []string{}}), 400)
}

func TestScannerConcurrencyLimit(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SetAuditOptions(AuditOptions{ScanDuration: time.Minute})
	for range 16 {
		r := api(t, s, "POST", "/admin/workspaces/getInfo", map[string]any{"workspaces": []string{newGUID()}})
		wantStatus(t, r, 202)
	}
	r := api(t, s, "POST", "/admin/workspaces/getInfo", map[string]any{"workspaces": []string{newGUID()}})
	wantStatus(t, r, 429)
	if ra := r.header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Errorf("Retry-After %q", ra)
	}
	if m := s.MaxScansInFlight(); m != 16 {
		t.Errorf("MaxScansInFlight = %d, want 16", m)
	}
}

// scan runs a scan of ids with the given getInfo query and returns its result.
func runScan(t *testing.T, s *Server, query string, ids ...string) map[string]any {
	t.Helper()
	r := api(t, s, "POST", "/admin/workspaces/getInfo"+query, map[string]any{"workspaces": ids})
	wantStatus(t, r, 202)
	id := r.json(t)["id"].(string)
	eventually(t, "scan succeeded", func() bool {
		return api(t, s, "GET", "/admin/workspaces/scanStatus/"+id, nil).json(t)["status"] == "Succeeded"
	})
	r = api(t, s, "GET", "/admin/workspaces/scanResult/"+id, nil)
	wantStatus(t, r, 200)
	return r.json(t)
}

// byKey indexes a list of JSON objects by one of their fields.
func byKey(list any, key string) map[string]map[string]any {
	out := map[string]map[string]any{}
	items, _ := list.([]any)
	for _, it := range items {
		o := it.(map[string]any)
		out[o[key].(string)] = o
	}
	return out
}

// usageIDs lists the datasourceInstanceId of each usage.
func usageIDs(list any) []string {
	ids := []string{}
	items, _ := list.([]any)
	for _, u := range items {
		ids = append(ids, u.(map[string]any)["datasourceInstanceId"].(string))
	}
	return ids
}

func TestScanResultLineageAndDatasources(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	s.SetAuditOptions(AuditOptions{ScanDuration: 50 * time.Millisecond})
	res := runScan(t, s, "?lineage=true&datasourceDetails=true&datasetSchema=true&datasetExpressions=true&getArtifactUsers=true",
		DemoFinanceWorkspaceID, DemoSalesWorkspaceID, DemoHRWorkspaceID)
	ws := byKey(res["workspaces"], "id")
	if len(ws) != 3 || ws[DemoHRWorkspaceID]["name"] != "HR Confidential" {
		t.Fatalf("an admin scans every workspace of the tenant: %v", res["workspaces"])
	}
	instances := byKey(res["datasourceInstances"], "datasourceId")
	misconfigured := byKey(res["misconfiguredDatasourceInstances"], "datasourceId")
	fin := ws[DemoFinanceWorkspaceID]

	// The model fed by a dataflow: lineage on both, agreeing with the upstream dataflows list.
	datasets := byKey(fin["datasets"], "id")
	kpis := datasets[DemoFinanceKPIsDatasetID]
	up := kpis["upstreamDataflows"].([]any)
	if len(up) != 1 || up[0].(map[string]any)["targetDataflowId"] != DemoFinanceLedgerDataflowID || up[0].(map[string]any)["groupId"] != DemoFinanceWorkspaceID {
		t.Errorf("Finance KPIs upstreamDataflows: %v", up)
	}
	links := values(t, api(t, s, "GET", "/groups/"+DemoFinanceWorkspaceID+"/datasets/upstreamDataflows", nil))
	if len(links) != 1 || links[0]["datasetObjectId"] != DemoFinanceKPIsDatasetID || links[0]["dataflowObjectId"] != DemoFinanceLedgerDataflowID {
		t.Errorf("upstream dataflows list disagrees with the scan: %v", links)
	}
	if ud := datasets[DemoForecastDatasetID]["upstreamDatasets"].([]any); len(ud) != 1 || ud[0].(map[string]any)["targetDatasetId"] != DemoFinanceKPIsDatasetID {
		t.Errorf("Forecast upstreamDatasets: %v", ud)
	}
	table := kpis["tables"].([]any)[0].(map[string]any)
	if src := table["source"].([]any)[0].(map[string]any)["expression"].(string); !strings.Contains(src, DemoFinanceLedgerDataflowID) || !strings.Contains(src, `entity="KPI"`) {
		t.Errorf("KPI table source: %s", src)
	}
	if ex := datasets[DemoForecastDatasetID]["expressions"].([]any); len(ex) != 4 || !strings.Contains(ex[0].(map[string]any)["expression"].(string), `"Base" meta [IsParameterQuery=true`) {
		t.Errorf("Forecast expressions: %v", ex)
	}

	// Each item's usages point at the instances, and the instances are what the item's own
	// datasources list answers; a source two models share is one instance.
	sameSources := func(what, path string, used []string) {
		t.Helper()
		listed := values(t, api(t, s, "GET", path, nil))
		if len(listed) != len(used) {
			t.Fatalf("%s: %d sources listed, %d used in the scan", what, len(listed), len(used))
		}
		for i, id := range used {
			inst := instances[id]
			if inst == nil {
				inst = misconfigured[id]
			}
			if inst == nil || inst["datasourceType"] != listed[i]["datasourceType"] || !reflectEqualJSON(inst["connectionDetails"], listed[i]["connectionDetails"]) {
				t.Errorf("%s: usage %s is %v, the list says %v", what, id, inst, listed[i])
			}
		}
	}
	kpiUsed := usageIDs(kpis["datasourceUsages"])
	sameSources("Finance KPIs", "/groups/"+DemoFinanceWorkspaceID+"/datasets/"+DemoFinanceKPIsDatasetID+"/datasources", kpiUsed)
	sameSources("Forecast", "/groups/"+DemoFinanceWorkspaceID+"/datasets/"+DemoForecastDatasetID+"/datasources", usageIDs(datasets[DemoForecastDatasetID]["datasourceUsages"]))
	if kpiUsed[0] != DemoFinanceGatewayDatasourceID || instances[DemoFinanceGatewayDatasourceID]["gatewayId"] != DemoGatewayID {
		t.Errorf("Finance KPIs uses %v; instance %v", kpiUsed, instances[DemoFinanceGatewayDatasourceID])
	}
	if d := instances[DemoFinanceGatewayDatasourceID]["connectionDetails"].(map[string]any); d["server"] != "contoso-finance.database.windows.net" || d["database"] != "Planning" {
		t.Errorf("connectionDetails %v", d)
	}
	flows := byKey(fin["dataflows"], "objectId")
	ledger := flows[DemoFinanceLedgerDataflowID]
	if ledger == nil || ledger["name"] != "Finance Ledger" {
		t.Fatalf("Finance dataflows: %v", fin["dataflows"])
	}
	if mis := usageIDs(ledger["misconfiguredDatasourceUsages"]); len(mis) != 1 || mis[0] != DemoFinanceAdjustmentsSourceID || misconfigured[mis[0]] == nil {
		t.Errorf("the source bound to a gateway that lacks it: %v, %v", mis, res["misconfiguredDatasourceInstances"])
	}
	sameSources("Finance Ledger", "/groups/"+DemoFinanceWorkspaceID+"/dataflows/"+DemoFinanceLedgerDataflowID+"/datasources",
		append(usageIDs(ledger["datasourceUsages"]), usageIDs(ledger["misconfiguredDatasourceUsages"])...))
	listedFlows := values(t, api(t, s, "GET", "/groups/"+DemoFinanceWorkspaceID+"/dataflows", nil))
	if len(listedFlows) != len(flows) {
		t.Errorf("%d dataflows listed, %d scanned", len(listedFlows), len(flows))
	}
	// Dataflow lineage in Sales Analytics: Sales Pipeline reads Sales Staging.
	pipeline := byKey(ws[DemoSalesWorkspaceID]["dataflows"], "objectId")[DemoSalesDataflowID]
	if up := pipeline["upstreamDataflows"].([]any); len(up) != 1 || up[0].(map[string]any)["targetDataflowId"] != DemoSalesStagingDataflowID {
		t.Errorf("Sales Pipeline upstreamDataflows: %v", up)
	}

	// Users of the workspace, the models and the dataflows.
	if u := fin["users"].([]any); len(u) != 3 {
		t.Errorf("Finance users: %v", u)
	}
	if u := datasets[DemoForecastDatasetID]["users"].([]any); len(u) != 1 || u[0].(map[string]any)["datasetUserAccessRight"] != "ReadReshareExplore" {
		t.Errorf("Forecast users: %v", u)
	}
	if u := ledger["users"].([]any); len(u) != 1 || u[0].(map[string]any)["identifier"] != "alex.wilber@contoso.com" {
		t.Errorf("Finance Ledger users: %v", u)
	}

	// Data source details without lineage: the instances, without the usages.
	details := runScan(t, s, "?datasourceDetails=true", DemoFinanceWorkspaceID)
	if got := byKey(details["datasourceInstances"], "datasourceId"); len(got) != 2 || got[DemoFinanceGatewayDatasourceID] == nil {
		t.Errorf("datasourceDetails alone: %v", details["datasourceInstances"])
	}

	// Without the flags, none of it.
	bare := runScan(t, s, "", DemoFinanceWorkspaceID)
	if _, ok := bare["datasourceInstances"]; ok {
		t.Errorf("datasourceInstances without datasourceDetails")
	}
	w := bare["workspaces"].([]any)[0].(map[string]any)
	for _, d := range w["datasets"].([]any) {
		for _, k := range []string{"tables", "upstreamDataflows", "datasourceUsages", "users", "expressions"} {
			if _, ok := d.(map[string]any)[k]; ok {
				t.Errorf("%s without its flag: %v", k, d)
			}
		}
	}
	if _, ok := w["users"]; ok || len(w["dataflows"].([]any)) != 1 {
		t.Errorf("bare scan: %v", w)
	}
}

func reflectEqualJSON(a, b any) bool { return string(marshal(a)) == string(marshal(b)) }
