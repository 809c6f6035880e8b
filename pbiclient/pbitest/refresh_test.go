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
