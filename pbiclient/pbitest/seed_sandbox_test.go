package pbitest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestSandboxFailedRefreshes(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()

	web := refreshHistory(t, s, "/groups/"+DemoMarketingWorkspaceID+"/datasets/"+DemoWebTrafficDatasetID, "")
	if len(web) != 1 || web[0]["requestId"] != DemoWebTrafficFailedRefreshID || web[0]["status"] != "Failed" || web[0]["endTime"] == nil ||
		web[0]["serviceExceptionJson"] != `{"errorCode":"ModelRefreshFailed_CredentialsNotSpecified"}` {
		t.Fatalf("Web Traffic history %v", web)
	}

	forecast := "/groups/" + DemoFinanceWorkspaceID + "/datasets/" + DemoForecastDatasetID
	h := refreshHistory(t, s, forecast, "")
	if len(h) != 1 || h[0]["requestId"] != DemoForecastFailedRefreshID || h[0]["status"] != "Failed" || h[0]["extendedStatus"] != "Failed" {
		t.Fatalf("Forecast history %v", h)
	}
	var exc struct{ ErrorCode, ErrorDescription string }
	if err := json.Unmarshal([]byte(h[0]["serviceExceptionJson"].(string)), &exc); err != nil ||
		exc.ErrorCode != "DM_GWPipeline_Gateway_MashupDataAccessError" || !strings.Contains(exc.ErrorDescription, "The wait operation timed out") {
		t.Fatalf("serviceExceptionJson %v (%v)", h[0]["serviceExceptionJson"], err)
	}
	r := api(t, s, "GET", forecast+"/refreshes/"+DemoForecastFailedRefreshID, nil)
	wantStatus(t, r, http.StatusOK)
	d := r.json(t)
	msgs := d["messages"].([]any)
	if d["status"] != "Failed" || d["extendedStatus"] != "Failed" || len(msgs) != 1 ||
		!strings.Contains(msgs[0].(map[string]any)["message"].(string), "The wait operation timed out") ||
		strings.Join(detailObjects(t, d), " ") != "Scenarios/<nil>=Completed Plan/<nil>=Failed" {
		t.Fatalf("Forecast details %s", r.body)
	}
}

// A refresh in flight is "Unknown" wherever Power BI reports one: the history, the details
// (whose extendedStatus says InProgress), and the last refresh of the refreshables.
func TestRunningRefreshIsUnknownEverywhere(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	inventory := "/groups/" + DemoSalesWorkspaceID + "/datasets/" + DemoInventoryDatasetID
	h := refreshHistory(t, s, inventory, "?$top=1")
	if h[0]["requestId"] != DemoInventoryRefreshID || h[0]["status"] != "Unknown" || h[0]["endTime"] != nil {
		t.Errorf("history %v", h[0])
	}
	r := api(t, s, "GET", inventory+"/refreshes/"+DemoInventoryRefreshID, nil)
	wantStatus(t, r, http.StatusAccepted)
	if d := r.json(t); d["status"] != "Unknown" || d["extendedStatus"] != "InProgress" {
		t.Errorf("details %s", r.body)
	}
	for _, path := range []string{"/capacities/refreshables?$top=100", "/admin/capacities/refreshables?$top=100"} {
		r := api(t, s, "GET", path, nil)
		wantStatus(t, r, http.StatusOK)
		found := false
		for _, rf := range values(t, r) {
			if rf["id"] == DemoInventoryDatasetID {
				found = true
				if last := rf["lastRefresh"].(map[string]any); last["status"] != "Unknown" || last["endTime"] != nil {
					t.Errorf("%s: last refresh %v", path, last)
				}
			}
		}
		if !found {
			t.Errorf("%s does not list Inventory", path)
		}
	}
}

// activityDay reads one UTC day of the activity log through its continuations and returns
// how many events it holds and how many calls that took.
func activityDay(t *testing.T, s *Server, day time.Time) (events, calls int) {
	t.Helper()
	from, to := day.Format("2006-01-02")+"T00:00:00Z", day.Format("2006-01-02")+"T23:59:59.999Z"
	path := "/admin/activityevents?startDateTime='" + from + "'&endDateTime='" + to + "'"
	for {
		r := api(t, s, "GET", path, nil)
		wantStatus(t, r, http.StatusOK)
		calls++
		body := r.json(t)
		events += len(body["activityEventEntities"].([]any))
		tok, _ := body["continuationToken"].(string)
		if tok == "" || body["lastResultSet"] == true {
			return events, calls
		}
		path = "/admin/activityevents?continuationToken='" + tok + "'"
	}
}

func TestSandboxRecentActivity(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	s.SetAuditOptions(AuditOptions{ActivityEventsPerHour: 10_000})
	now := time.Now().UTC()
	today := now.Truncate(24 * time.Hour)
	for ago := 1; ago < DemoRecentActivityDays; ago++ {
		day := today.AddDate(0, 0, -ago)
		n, _ := activityDay(t, s, day)
		switch {
		case ago == 1 && n != DemoBusyActivityEvents:
			t.Errorf("%s (yesterday): %d events, want %d", day.Format(time.DateOnly), n, DemoBusyActivityEvents)
		case n == 0:
			t.Errorf("%s: no events", day.Format(time.DateOnly))
		}
	}
	// Today's events are all in the past, and there are some once the working day has begun.
	n, _ := activityDay(t, s, today)
	if now.Sub(today) > 9*time.Hour && n == 0 {
		t.Errorf("no events today")
	}
	s.mu.Lock()
	for _, e := range s.audit().log() {
		if e.CreationTime.After(now) {
			t.Errorf("event %s in the future: %s", e.ID, e.CreationTime)
		}
	}
	s.mu.Unlock()
}
