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
