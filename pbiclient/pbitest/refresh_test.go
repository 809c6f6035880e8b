package pbitest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func refreshHistory(t *testing.T, s *Server, datasetPath, query string) []map[string]any {
	t.Helper()
	r := api(t, s, "GET", datasetPath+"/refreshes"+query, nil)
	wantStatus(t, r, http.StatusOK)
	var out []map[string]any
	for _, v := range r.json(t)["value"].([]any) {
		out = append(out, v.(map[string]any))
	}
	return out
}

func errorCodeMessage(t *testing.T, r response) (string, string) {
	t.Helper()
	e, _ := r.json(t)["error"].(map[string]any)
	code, _ := e["code"].(string)
	msg, _ := e["message"].(string)
	return code, msg
}

func TestStandardRefreshLifecycle(t *testing.T) {
	s := newTestServer(t, Options{RefreshDuration: 300 * time.Millisecond})
	s.SeedDemo()
	ds := "/groups/" + DemoSalesWorkspaceID + "/datasets/" + DemoSalesDatasetID

	r := api(t, s, "POST", ds+"/refreshes", map[string]string{"notifyOption": "NoNotification"})
	wantStatus(t, r, http.StatusAccepted)
	requestID := r.header.Get("RequestId")
	if len(r.body) != 0 || requestID == "" || r.header.Get("Location") != "" || r.header.Get("x-ms-request-id") != "" {
		t.Fatalf("standard refresh answered headers %v body %q", r.header, r.body)
	}

	history := refreshHistory(t, s, ds, "")
	if len(history) != 1 {
		t.Fatalf("history %v", history)
	}
	running := history[0]
	if running["requestId"] != requestID || running["refreshType"] != "ViaApi" || running["status"] != "Unknown" {
		t.Errorf("running entry %v", running)
	}
	if _, has := running["endTime"]; has {
		t.Error("running refresh has an endTime")
	}

	r = api(t, s, "POST", ds+"/refreshes", nil)
	wantStatus(t, r, http.StatusBadRequest)
	if string(r.body) != `{"error":{"code":"InvalidRequest","message":"Invalid dataset refresh request. Another refresh request is already executing"}}` {
		t.Errorf("second refresh answered %s", r.body)
	}

	eventually(t, "refresh to complete", func() bool {
		return refreshHistory(t, s, ds, "")[0]["status"] == "Completed"
	})
	done := refreshHistory(t, s, ds, "")[0]
	if done["endTime"] == nil || done["requestId"] != requestID {
		t.Errorf("completed entry %v", done)
	}

	// A new refresh may start now; history is newest first and $top cuts it.
	r = api(t, s, "POST", ds+"/refreshes", "")
	wantStatus(t, r, http.StatusAccepted)
	if h := refreshHistory(t, s, ds, "?$top=1"); len(h) != 1 || h[0]["requestId"] != r.header.Get("RequestId") {
		t.Errorf("$top=1 history %v", h)
	}
	if h := refreshHistory(t, s, ds, ""); len(h) != 2 {
		t.Errorf("history has %d entries", len(h))
	}
}

func TestRefreshRules(t *testing.T) {
	s := newTestServer(t, Options{RefreshDuration: time.Millisecond})
	s.SeedDemo()
	sales := "/groups/" + DemoSalesWorkspaceID + "/datasets/" + DemoSalesDatasetID
	web := "/groups/" + DemoMarketingWorkspaceID + "/datasets/" + DemoWebTrafficDatasetID

	r := api(t, s, "POST", sales+"/refreshes", map[string]string{"notifyOption": "MailOnFailure"})
	wantStatus(t, r, http.StatusBadRequest)
	if _, msg := errorCodeMessage(t, r); msg != "Invalid NotifyOption value 'MailOnFailure' for app only owner requests" {
		t.Errorf("mail notification for a service principal: %s", r.body)
	}

	r = api(t, s, "POST", "/groups/"+DemoSalesWorkspaceID+"/datasets/"+DemoLiveOrdersDatasetID+"/refreshes", nil)
	wantStatus(t, r, http.StatusBadRequest)

	r = api(t, s, "POST", web+"/refreshes", map[string]string{"type": "Full"})
	wantStatus(t, r, http.StatusBadRequest)
	if code, _ := errorCodeMessage(t, r); code != "InvalidRequest" {
		t.Errorf("enhanced refresh on shared capacity: %s", r.body)
	}

	wantStatus(t, api(t, s, "POST", "/groups/"+DemoSalesWorkspaceID+"/datasets/"+newGUID()+"/refreshes", nil), http.StatusNotFound)
	r = api(t, s, "GET", "/groups/"+DemoSalesWorkspaceID+"/datasets/"+strings.Repeat("1", 8)+"/refreshes", nil)
	if code, _ := errorCodeMessage(t, r); r.status != http.StatusNotFound || code != "ItemNotFound" {
		t.Errorf("unknown dataset: %d %s", r.status, r.body)
	}

	// Shared capacity: eight refreshes a day, then the service refuses. (The demo's Web
	// Traffic refreshes fail for want of credentials; they count all the same.)
	for range sharedDailyRefreshes {
		eventually(t, "previous refresh to finish", func() bool {
			h := refreshHistory(t, s, web, "?$top=1")
			return len(h) == 0 || h[0]["endTime"] != nil
		})
		wantStatus(t, api(t, s, "POST", web+"/refreshes", nil), http.StatusAccepted)
	}
	eventually(t, "last refresh to finish", func() bool {
		return refreshHistory(t, s, web, "?$top=1")[0]["endTime"] != nil
	})
	r = api(t, s, "POST", web+"/refreshes", nil)
	wantStatus(t, r, http.StatusBadRequest)
	if _, msg := errorCodeMessage(t, r); msg != "Invalid dataset refresh request. Number of refresh requests in last 24 hours exceeded limit" {
		t.Errorf("ninth refresh: %s", r.body)
	}
	// Dedicated capacity has no such limit.
	for range sharedDailyRefreshes + 1 {
		eventually(t, "refresh to finish", func() bool {
			h := refreshHistory(t, s, sales, "?$top=1")
			return len(h) == 0 || h[0]["status"] == "Completed"
		})
		wantStatus(t, api(t, s, "POST", sales+"/refreshes", nil), http.StatusAccepted)
	}
}

func TestEnhancedRefresh(t *testing.T) {
	s := newTestServer(t, Options{RefreshDuration: 300 * time.Millisecond})
	s.SeedDemo()
	ds := "/groups/" + DemoFinanceWorkspaceID + "/datasets/" + DemoFinanceKPIsDatasetID

	r := api(t, s, "POST", ds+"/refreshes", map[string]any{
		"type": "full", "commitMode": "transactional", "objects": []map[string]string{{"table": "Ledger"}},
	})
	wantStatus(t, r, http.StatusAccepted)
	id := r.header.Get("x-ms-request-id")
	if id == "" || r.header.Get("Location") != s.APIBaseURL()+ds+"/refreshes/"+id {
		t.Fatalf("enhanced refresh headers %v", r.header)
	}
	h := refreshHistory(t, s, ds, "")
	if h[0]["requestId"] != id || h[0]["refreshType"] != "ViaEnhancedApi" {
		t.Errorf("history %v", h[0])
	}

	r = api(t, s, "GET", ds+"/refreshes/"+id, nil)
	wantStatus(t, r, http.StatusAccepted)
	d := r.json(t)
	if d["type"] != "Full" || d["commitMode"] != "Transactional" || d["status"] != "Unknown" || d["extendedStatus"] != "InProgress" {
		t.Errorf("details while running %v", d)
	}
	eventually(t, "enhanced refresh to complete", func() bool {
		return api(t, s, "GET", ds+"/refreshes/"+id, nil).status == http.StatusOK
	})
	d = api(t, s, "GET", ds+"/refreshes/"+id, nil).json(t)
	if d["status"] != "Completed" || d["endTime"] == nil {
		t.Errorf("details when done %v", d)
	}

	// Cancelling a running enhanced refresh.
	r = api(t, s, "POST", ds+"/refreshes", map[string]any{"type": "Full"})
	wantStatus(t, r, http.StatusAccepted)
	id = r.header.Get("x-ms-request-id")
	wantStatus(t, api(t, s, "DELETE", ds+"/refreshes/"+id, nil), http.StatusOK)
	if h := refreshHistory(t, s, ds, "?$top=1"); h[0]["status"] != "Cancelled" {
		t.Errorf("cancelled refresh %v", h[0])
	}
	// Standard refreshes have no details.
	r = api(t, s, "POST", ds+"/refreshes", nil)
	wantStatus(t, r, http.StatusAccepted)
	wantStatus(t, api(t, s, "GET", ds+"/refreshes/"+r.header.Get("RequestId"), nil), http.StatusNotFound)
}

func TestMyWorkspaceRoutes(t *testing.T) {
	s := newTestServer(t, Options{RefreshDuration: time.Millisecond})
	s.SeedDemo()
	r := api(t, s, "GET", "/datasets", nil)
	wantStatus(t, r, http.StatusOK)
	body := r.json(t)
	if body["@odata.context"] != s.URL()+"/v1.0/myorg/$metadata#datasets" {
		t.Errorf("context %v", body["@odata.context"])
	}
	items := body["value"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["id"] != DemoPersonalBudgetDatasetID {
		t.Fatalf("My workspace datasets %s", r.body)
	}
	wantStatus(t, api(t, s, "POST", "/datasets/"+DemoPersonalBudgetDatasetID+"/refreshes", nil), http.StatusAccepted)
	// A workspace dataset is not reachable through the My workspace route.
	wantStatus(t, api(t, s, "GET", "/datasets/"+DemoSalesDatasetID, nil), http.StatusNotFound)
	if n := s.Count("POST /v1.0/myorg/datasets/{datasetId}/refreshes"); n != 1 {
		t.Errorf("Count = %d", n)
	}
}

func TestDatasetShape(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	r := api(t, s, "GET", "/groups/"+DemoSalesWorkspaceID+"/datasets/"+DemoSalesDatasetID, nil)
	wantStatus(t, r, http.StatusOK)
	prefix := fmt.Sprintf(`{"@odata.context":"%s/v1.0/myorg/groups/%s/$metadata#datasets/$entity","id":"%s","name":"Sales","webUrl":"https://app.powerbi.com/groups/%s/datasets/%s","addRowsAPIEnabled":false,"configuredBy":"megan.bowen@contoso.com","isRefreshable":true,`,
		s.URL(), DemoSalesWorkspaceID, DemoSalesDatasetID, DemoSalesWorkspaceID, DemoSalesDatasetID)
	if !strings.HasPrefix(string(r.body), prefix) {
		t.Errorf("dataset body\n%s\nwant prefix\n%s", r.body, prefix)
	}
	d := r.json(t)
	if d["createdDate"] != "2024-03-04T09:17:42.417Z" || d["targetStorageMode"] != "Abf" {
		t.Errorf("dataset %v", d)
	}
}

func TestRefreshFailsLikeTheService(t *testing.T) {
	s := newTestServer(t, Options{RefreshDuration: 50 * time.Millisecond})
	ws := s.AddWorkspace(Workspace{Name: "W", IsOnDedicatedCapacity: true})
	d := s.AddDataset(ws.ID, Dataset{Name: "D", IsRefreshable: true, RefreshError: "ModelRefreshFailed_CredentialsNotSpecified"})
	base := "/groups/" + ws.ID + "/datasets/" + d.ID + "/refreshes"
	wantStatus(t, api(t, s, "POST", base, nil), http.StatusAccepted)
	var got map[string]any
	eventually(t, "the refresh ends", func() bool {
		got = api(t, s, "GET", base, nil).json(t)["value"].([]any)[0].(map[string]any)
		return got["endTime"] != nil
	})
	if got["status"] != "Failed" || got["serviceExceptionJson"] != `{"errorCode":"ModelRefreshFailed_CredentialsNotSpecified"}` {
		t.Fatalf("%v", got)
	}
}

func detailObjects(t *testing.T, d map[string]any) []string {
	t.Helper()
	var out []string
	for _, o := range d["objects"].([]any) {
		obj := o.(map[string]any)
		out = append(out, fmt.Sprint(obj["table"], "/", obj["partition"], "=", obj["status"]))
	}
	return out
}

// Objects of an enhanced refresh are processed one after another: the details show each
// move from NotStarted through InProgress to Completed while the refresh runs.
func TestEnhancedRefreshObjectProgress(t *testing.T) {
	s := newTestServer(t, Options{RefreshDuration: 3 * time.Second})
	s.SeedDemo()
	ds := "/groups/" + DemoFinanceWorkspaceID + "/datasets/" + DemoFinanceKPIsDatasetID
	r := api(t, s, "POST", ds+"/refreshes", map[string]any{
		"objects": []map[string]string{{"table": "Ledger", "partition": "2025"}, {"table": "Budget"}, {"table": "Accounts"}},
	})
	wantStatus(t, r, http.StatusAccepted)
	id := r.header.Get("x-ms-request-id")

	r = api(t, s, "GET", ds+"/refreshes/"+id, nil)
	wantStatus(t, r, http.StatusAccepted)
	first := detailObjects(t, r.json(t))
	if strings.Join(first, " ") != "Ledger/2025=InProgress Budget/<nil>=NotStarted Accounts/<nil>=NotStarted" {
		t.Fatalf("objects at the start: %v", first)
	}
	if d := r.json(t); d["type"] != "Automatic" || d["commitMode"] != "Transactional" {
		t.Errorf("defaults: %v", d)
	}
	seen := map[string]bool{}
	eventually(t, "refresh to complete", func() bool {
		r := api(t, s, "GET", ds+"/refreshes/"+id, nil)
		for _, o := range detailObjects(t, r.json(t)) {
			seen[o] = true
		}
		return r.status == http.StatusOK
	})
	if !seen["Budget/<nil>=InProgress"] {
		t.Errorf("Budget was never seen in progress: %v", seen)
	}
	d := api(t, s, "GET", ds+"/refreshes/"+id, nil).json(t)
	if got := strings.Join(detailObjects(t, d), " "); got != "Ledger/2025=Completed Budget/<nil>=Completed Accounts/<nil>=Completed" || d["extendedStatus"] != "Completed" {
		t.Fatalf("objects at the end: %s (%v)", got, d)
	}

	// Cancelled half way: what finished stays Completed, the rest is Cancelled.
	s2 := newTestServer(t, Options{RefreshDuration: time.Hour})
	s2.SeedDemo()
	r = api(t, s2, "POST", ds+"/refreshes", map[string]any{"type": "Full", "objects": []map[string]string{{"table": "Ledger"}, {"table": "Budget"}}})
	id = r.header.Get("x-ms-request-id")
	wantStatus(t, api(t, s2, "DELETE", ds+"/refreshes/"+id, nil), http.StatusOK)
	r = api(t, s2, "GET", ds+"/refreshes/"+id, nil)
	wantStatus(t, r, http.StatusOK)
	d = r.json(t)
	if got := strings.Join(detailObjects(t, d), " "); got != "Ledger/<nil>=Cancelled Budget/<nil>=Cancelled" || d["extendedStatus"] != "Cancelled" || d["status"] != "Cancelled" {
		t.Fatalf("cancelled: %s (%v)", got, d)
	}
}

// A failed enhanced refresh names the failing object and carries the engine's message.
func TestEnhancedRefreshFailureDetails(t *testing.T) {
	s := newTestServer(t, Options{RefreshDuration: 50 * time.Millisecond})
	ws := s.AddWorkspace(Workspace{Name: "P", IsOnDedicatedCapacity: true})
	m := s.AddDataset(ws.ID, Dataset{Name: "M", IsRefreshable: true, RefreshError: "ModelRefreshFailed_CredentialsNotSpecified"})
	ds := "/groups/" + ws.ID + "/datasets/" + m.ID
	r := api(t, s, "POST", ds+"/refreshes", map[string]any{"objects": []map[string]string{{"table": "A"}, {"table": "B"}}})
	id := r.header.Get("x-ms-request-id")
	eventually(t, "refresh to end", func() bool { return api(t, s, "GET", ds+"/refreshes/"+id, nil).status == http.StatusOK })
	d := api(t, s, "GET", ds+"/refreshes/"+id, nil).json(t)
	msgs, _ := d["messages"].([]any)
	if got := strings.Join(detailObjects(t, d), " "); got != "A/<nil>=Completed B/<nil>=Failed" || d["status"] != "Failed" || len(msgs) != 1 {
		t.Fatalf("failed details: %s %v", got, d)
	}
	if m := msgs[0].(map[string]any); m["type"] != "Error" || !strings.Contains(fmt.Sprint(m["message"]), "CredentialsNotSpecified") {
		t.Errorf("message %v", m)
	}
}

func TestEnhancedRefreshFieldRules(t *testing.T) {
	s := newTestServer(t, Options{RefreshDuration: 200 * time.Millisecond})
	s.SeedDemo()
	ds := "/groups/" + DemoFinanceWorkspaceID + "/datasets/" + DemoFinanceKPIsDatasetID
	for _, c := range []struct {
		body map[string]any
		msg  string
	}{
		{map[string]any{"type": "Full", "notifyOption": "NoNotification"}, "notifyOption is not supported for enhanced refresh"},
		{map[string]any{"type": "Everything"}, "Invalid refresh type 'Everything'"},
		{map[string]any{"commitMode": "partialBatch"}, "applyRefreshPolicy must be false"},
		{map[string]any{"maxParallelism": 0}, "Invalid maxParallelism"},
		{map[string]any{"retryCount": -1}, "Invalid retryCount"},
		{map[string]any{"timeout": "5 hours"}, "Invalid timeout"},
		{map[string]any{"timeout": "25:00:00"}, "Invalid timeout"},
		{map[string]any{"effectiveDate": "yesterday"}, "Invalid effectiveDate"},
		{map[string]any{"objects": []map[string]string{{"partition": "p"}}}, "every object needs a table"},
	} {
		r := api(t, s, "POST", ds+"/refreshes", c.body)
		wantStatus(t, r, http.StatusBadRequest)
		if code, msg := errorCodeMessage(t, r); code != "InvalidRequest" || !strings.Contains(msg, c.msg) {
			t.Errorf("%v: %s", c.body, r.body)
		}
	}
	if n := len(refreshHistory(t, s, ds, "")); n != 1 { // the seeded refresh only
		t.Fatalf("refused requests started refreshes: %d in history", n)
	}
	// All fields at once, applyRefreshPolicy as the documentation's example writes it (a string).
	r := api(t, s, "POST", ds+"/refreshes", map[string]any{"type": "full", "commitMode": "partialBatch", "applyRefreshPolicy": "false",
		"maxParallelism": 2, "retryCount": 1, "effectiveDate": "2025-06-30T00:00:00Z", "timeout": "02:00:00",
		"objects": []map[string]string{{"table": "Ledger"}}})
	wantStatus(t, r, http.StatusAccepted)
	d := api(t, s, "GET", ds+"/refreshes/"+r.header.Get("x-ms-request-id"), nil).json(t)
	if d["type"] != "Full" || d["commitMode"] != "PartialBatch" {
		t.Errorf("details %v", d)
	}
}

// A timeout shorter than the refresh stops it: history Failed, details TimedOut.
func TestEnhancedRefreshTimesOut(t *testing.T) {
	s := newTestServer(t, Options{RefreshDuration: time.Hour})
	s.SeedDemo()
	ds := "/groups/" + DemoFinanceWorkspaceID + "/datasets/" + DemoFinanceKPIsDatasetID
	r := api(t, s, "POST", ds+"/refreshes", map[string]any{"timeout": "00:00:01"})
	wantStatus(t, r, http.StatusAccepted)
	id := r.header.Get("x-ms-request-id")
	eventually(t, "timeout", func() bool { return api(t, s, "GET", ds+"/refreshes/"+id, nil).status == http.StatusOK })
	if d := api(t, s, "GET", ds+"/refreshes/"+id, nil).json(t); d["extendedStatus"] != "TimedOut" || d["status"] != "Failed" {
		t.Errorf("details %v", d)
	}
	if h := refreshHistory(t, s, ds, "?$top=1"); h[0]["status"] != "Failed" {
		t.Errorf("history %v", h[0])
	}
}

// The demo tenant has an enhanced refresh in every state a tool needs to show.
func TestSeededRefreshes(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	done := api(t, s, "GET", "/groups/"+DemoFinanceWorkspaceID+"/datasets/"+DemoFinanceKPIsDatasetID+"/refreshes/"+DemoFinanceRefreshID, nil)
	wantStatus(t, done, http.StatusOK)
	if got := strings.Join(detailObjects(t, done.json(t)), " "); got != "Ledger/<nil>=Completed Budget/<nil>=Completed Accounts/<nil>=Completed" {
		t.Errorf("seeded completed refresh: %s", got)
	}
	inv := "/groups/" + DemoSalesWorkspaceID + "/datasets/" + DemoInventoryDatasetID
	running := api(t, s, "GET", inv+"/refreshes/"+DemoInventoryRefreshID, nil)
	wantStatus(t, running, http.StatusAccepted)
	if got := strings.Join(detailObjects(t, running.json(t)), " "); got != "Stock/2025=InProgress Stock/2026=NotStarted Warehouses/<nil>=NotStarted" {
		t.Errorf("seeded running refresh: %s", got)
	}
	wantStatus(t, api(t, s, "POST", inv+"/refreshes", nil), http.StatusBadRequest) // one at a time
}
