package pbitest

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestDataflowsOnTheWire(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	base := "/groups/" + DemoSalesWorkspaceID + "/dataflows"

	r := api(t, s, "GET", base, nil)
	wantStatus(t, r, http.StatusOK)
	flows := r.json(t)["value"].([]any)
	if len(flows) != 3 {
		t.Fatalf("dataflows: %s", r.body)
	}
	pipeline := flows[1].(map[string]any)
	if pipeline["objectId"] != DemoSalesDataflowID || pipeline["name"] != "Sales Pipeline" || pipeline["id"] != nil {
		t.Errorf("dataflow: %v", pipeline)
	}
	if r := api(t, s, "GET", "/dataflows", nil); r.status != http.StatusNotFound {
		t.Errorf("My workspace dataflows: %d", r.status)
	}

	def := api(t, s, "GET", base+"/"+DemoSalesDataflowID, nil)
	wantStatus(t, def, http.StatusOK)
	m := def.json(t)
	entities := m["entities"].([]any)
	if m["name"] != "Sales Pipeline" || len(entities) != 3 || entities[0].(map[string]any)["$type"] != "LocalEntity" {
		t.Fatalf("model.json: %s", def.body)
	}

	up := api(t, s, "GET", base+"/"+DemoSalesDataflowID+"/upstreamDataflows", nil).json(t)["value"].([]any)
	if len(up) != 1 || up[0].(map[string]any)["targetDataflowId"] != DemoSalesStagingDataflowID {
		t.Errorf("upstream: %v", up)
	}
	src := api(t, s, "GET", base+"/"+DemoSalesStagingDataflowID+"/datasources", nil).json(t)["value"].([]any)
	if len(src) != 1 || src[0].(map[string]any)["gatewayId"] != DemoGatewayID {
		t.Errorf("datasources: %v", src)
	}
}

func TestDataflowRefreshTransactionsAndCancel(t *testing.T) {
	s := newTestServer(t, Options{RefreshDuration: 2 * time.Second})
	s.SeedDemo()
	base := "/groups/" + DemoSalesWorkspaceID + "/dataflows/"
	refresh := base + DemoSalesStagingDataflowID + "/refreshes?processType=default"

	if r := api(t, s, "POST", refresh, map[string]any{}); r.status != http.StatusBadRequest {
		t.Errorf("refresh without notifyOption: %d %s", r.status, r.body)
	}
	r := api(t, s, "POST", refresh, map[string]any{"notifyOption": "NoNotification"})
	wantStatus(t, r, http.StatusOK)
	if len(r.body) != 0 {
		t.Errorf("refresh answered a body: %s", r.body)
	}
	if r := api(t, s, "POST", refresh, map[string]any{"notifyOption": "NoNotification"}); r.status != http.StatusBadRequest {
		t.Errorf("second refresh while running: %d", r.status)
	}
	tx := func() map[string]any {
		return api(t, s, "GET", base+DemoSalesStagingDataflowID+"/transactions", nil).json(t)["value"].([]any)[0].(map[string]any)
	}
	first := tx()
	if first["status"] != "InProgress" || first["refreshType"] != "OnDemand" || !strings.Contains(first["id"].(string), "@") {
		t.Fatalf("new transaction: %v", first)
	}
	eventually(t, "the refresh to succeed", func() bool { return tx()["status"] == "Success" })

	cancel := func(id string) map[string]any {
		r := api(t, s, "POST", base+"transactions/"+url.PathEscape(id)+"/cancel", nil)
		wantStatus(t, r, http.StatusOK)
		return r.json(t)
	}
	if got := cancel(first["id"].(string)); got["status"] != "AlreadyConcluded" {
		t.Errorf("cancel a finished refresh: %v", got)
	}
	if got := cancel(DemoInventoryFeedTransactionID); got["status"] != "SuccessfullyMarked" || got["transactionId"] != DemoInventoryFeedTransactionID {
		t.Errorf("cancel the running refresh: %v", got)
	}
	feed := api(t, s, "GET", base+DemoInventoryFeedDataflowID+"/transactions", nil).json(t)["value"].([]any)[0].(map[string]any)
	if feed["status"] != "Cancelled" || feed["endTime"] == nil {
		t.Errorf("cancelled transaction: %v", feed)
	}
	if got := cancel("2024-01-01T00:00:00.0000000Z@" + newGUID() + "$9"); got["status"] != "NotFound" {
		t.Errorf("cancel an unknown transaction: %v", got)
	}
}

func TestDataflowRefreshScheduleRules(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	path := "/groups/" + DemoSalesWorkspaceID + "/dataflows/" + DemoSalesDataflowID + "/refreshSchedule"
	patch := func(v map[string]any) response { return api(t, s, "PATCH", path, map[string]any{"value": v}) }
	for _, c := range []struct {
		name string
		v    map[string]any
		want string
	}{
		{"disable alone", map[string]any{"enabled": false, "days": []string{"Monday"}}, "no other changes"},
		{"half hours", map[string]any{"times": []string{"07:15"}}, "07:15"},
		{"service principal gets no mail", map[string]any{"notifyOption": "MailOnFailure"}, "app only"},
		{"a day", map[string]any{"days": []string{}}, "At least one day"},
	} {
		if r := patch(c.v); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), c.want) {
			t.Errorf("%s: %d %s", c.name, r.status, r.body)
		}
	}
	if r := api(t, s, "PATCH", path, map[string]any{"days": []string{"Monday"}}); r.status != http.StatusBadRequest {
		t.Errorf("no value wrapper: %d", r.status)
	}
	wantStatus(t, patch(map[string]any{"days": []string{"Tuesday", "Monday"}, "times": []string{"07:30"}, "notifyOption": "NoNotification"}), http.StatusOK)
	days, times, enabled, _ := s.DataflowSchedule(DemoSalesWorkspaceID, DemoSalesDataflowID)
	if strings.Join(days, ",") != "Monday,Tuesday" || strings.Join(times, ",") != "07:30" || !enabled {
		t.Errorf("schedule = %v %v %v", days, times, enabled)
	}
	wantStatus(t, patch(map[string]any{"enabled": false}), http.StatusOK)
	if _, _, enabled, _ := s.DataflowSchedule(DemoSalesWorkspaceID, DemoSalesDataflowID); enabled {
		t.Error("schedule still enabled")
	}
}

func TestDataflowRefreshesOnSharedCapacityAreLimited(t *testing.T) {
	s := newTestServer(t, Options{RefreshDuration: time.Millisecond})
	s.SeedDemo()
	df := s.AddDataflow(DemoMarketingWorkspaceID, Dataflow{Name: "Leads"})
	refresh := "/groups/" + DemoMarketingWorkspaceID + "/dataflows/" + df.ObjectID + "/refreshes"
	for i := range 8 {
		time.Sleep(5 * time.Millisecond) // let the previous one finish
		if r := api(t, s, "POST", refresh, map[string]any{"notifyOption": "NoNotification"}); r.status != http.StatusOK {
			t.Fatalf("refresh %d: %d %s", i+1, r.status, r.body)
		}
	}
	time.Sleep(5 * time.Millisecond)
	r := api(t, s, "POST", refresh, map[string]any{"notifyOption": "NoNotification"})
	if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "exceeded limit") {
		t.Fatalf("ninth refresh: %d %s", r.status, r.body)
	}
}
