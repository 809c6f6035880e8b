package pbitest

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func TestRefreshScheduleReadAndDefaults(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	r := api(t, s, "GET", "/groups/"+DemoSalesWorkspaceID+"/datasets/"+DemoSalesDatasetID+"/refreshSchedule", nil)
	wantStatus(t, r, http.StatusOK)
	// The service's field order, with the OData context first.
	want := `{"@odata.context":"` + s.URL() + `/v1.0/myorg/groups/` + DemoSalesWorkspaceID + `/$metadata#datasets('` + DemoSalesDatasetID + `')/refreshSchedule/$entity",` +
		`"days":["Monday","Tuesday","Wednesday","Thursday","Friday"],"times":["06:00","18:00"],"enabled":true,"localTimeZoneId":"W. Europe Standard Time","notifyOption":"MailOnFailure"}`
	if string(r.body) != want {
		t.Errorf("seeded schedule:\n%s\nwant\n%s", r.body, want)
	}
	r = api(t, s, "GET", "/datasets/"+DemoPersonalBudgetDatasetID+"/refreshSchedule", nil)
	wantStatus(t, r, http.StatusOK)
	if d := r.json(t); d["enabled"] != false || len(d["days"].([]any)) != 0 || d["localTimeZoneId"] != "UTC" {
		t.Errorf("never set schedule: %s", r.body)
	}
	wantStatus(t, api(t, s, "GET", "/groups/"+DemoSalesWorkspaceID+"/datasets/"+newGUID()+"/refreshSchedule", nil), http.StatusNotFound)
}

func TestUpdateRefreshScheduleRules(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	inv := "/groups/" + DemoSalesWorkspaceID + "/datasets/" + DemoInventoryDatasetID + "/refreshSchedule"
	market := s.AddDataset(DemoMarketingWorkspaceID, Dataset{Name: "Owned on shared", IsRefreshable: true, ConfiguredBy: s.ClientID()})
	shared := "/groups/" + DemoMarketingWorkspaceID + "/datasets/" + market.ID + "/refreshSchedule"
	times := func(n int) []string {
		var out []string
		for i := range n {
			out = append(out, fmt.Sprintf("%02d:%02d", i/2, i%2*30))
		}
		return out
	}
	for _, c := range []struct {
		path string
		body any
		msg  string
	}{
		{inv, map[string]any{"days": []string{"Monday"}}, ""}, // no "value"
		{inv, map[string]any{"value": map[string]any{"enabled": false, "days": []string{"Monday"}}}, disableAlone},
		{inv, map[string]any{"value": map[string]any{"enabled": true}}, needOneDay},
		{inv, map[string]any{"value": map[string]any{"days": []string{"Funday"}}}, "Invalid day 'Funday'"},
		{inv, map[string]any{"value": map[string]any{"days": []string{"Monday"}, "times": []string{"07:15"}}}, "Invalid time '07:15'"},
		{inv, map[string]any{"value": map[string]any{"days": []string{"Monday"}, "notifyOption": "MailOnFailure"}}, "for app only owner requests"},
		{shared, map[string]any{"value": map[string]any{"days": []string{"Monday"}, "times": times(9)}}, "At most 8 refresh times"},
		{"/groups/" + DemoSalesWorkspaceID + "/datasets/" + DemoSalesDatasetID + "/refreshSchedule", map[string]any{"value": map[string]any{"days": []string{"Monday"}}}, notOwner},
		{"/groups/" + DemoSalesWorkspaceID + "/datasets/" + DemoInventoryLiveDatasetID + "/refreshSchedule", map[string]any{"value": map[string]any{"days": []string{"Monday"}}}, notRefreshable},
	} {
		r := api(t, s, "PATCH", c.path, c.body)
		wantStatus(t, r, http.StatusBadRequest)
		if code, msg := errorCodeMessage(t, r); code != "InvalidRequest" || !strings.Contains(msg, c.msg) {
			t.Errorf("%v: %s", c.body, r.body)
		}
	}
	if d := api(t, s, "GET", inv, nil).json(t); d["enabled"] != false || len(d["days"].([]any)) != 0 {
		t.Fatalf("refused updates changed the schedule: %v", d)
	}

	// Accepted: 200 with an empty body, visible on the next GET (days in week order, times sorted).
	r := api(t, s, "PATCH", inv, map[string]any{"value": map[string]any{"days": []string{"friday", "Monday"}, "times": []string{"23:30", "07:00"},
		"enabled": true, "localTimeZoneId": "UTC", "notifyOption": "NoNotification"}})
	wantStatus(t, r, http.StatusOK)
	if len(r.body) != 0 {
		t.Errorf("body %q", r.body)
	}
	d := api(t, s, "GET", inv, nil).json(t)
	if !reflect.DeepEqual(d["days"], []any{"Monday", "Friday"}) || !reflect.DeepEqual(d["times"], []any{"07:00", "23:30"}) ||
		d["enabled"] != true || d["notifyOption"] != "NoNotification" {
		t.Errorf("after update: %v", d)
	}
	// Partial update keeps the rest; disabling alone is accepted.
	wantStatus(t, api(t, s, "PATCH", inv, map[string]any{"value": map[string]any{"times": []string{"08:00"}}}), http.StatusOK)
	wantStatus(t, api(t, s, "PATCH", inv, map[string]any{"value": map[string]any{"enabled": false}}), http.StatusOK)
	d = api(t, s, "GET", inv, nil).json(t)
	if !reflect.DeepEqual(d["days"], []any{"Monday", "Friday"}) || !reflect.DeepEqual(d["times"], []any{"08:00"}) || d["enabled"] != false {
		t.Errorf("after partial updates: %v", d)
	}
	// Every half hour of the day is allowed on Premium, eight times on shared capacity.
	wantStatus(t, api(t, s, "PATCH", inv, map[string]any{"value": map[string]any{"times": times(48)}}), http.StatusOK)
	wantStatus(t, api(t, s, "PATCH", shared, map[string]any{"value": map[string]any{"days": []string{"Sunday"}, "times": times(8)}}), http.StatusOK)
}

func TestDirectQueryRefreshSchedule(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	live := "/groups/" + DemoSalesWorkspaceID + "/datasets/" + DemoInventoryLiveDatasetID + "/directQueryRefreshSchedule"
	r := api(t, s, "GET", live, nil)
	wantStatus(t, r, http.StatusOK)
	if d := r.json(t); d["frequency"] != float64(30) || d["localTimeZoneId"] != "UTC" {
		t.Errorf("seeded: %s", r.body)
	}
	r = api(t, s, "GET", "/groups/"+DemoSalesWorkspaceID+"/datasets/"+DemoSalesDatasetID+"/directQueryRefreshSchedule", nil)
	if _, msg := errorCodeMessage(t, r); r.status != http.StatusBadRequest || msg != notDirectQuery {
		t.Errorf("import model: %d %s", r.status, r.body)
	}
	for _, c := range []struct {
		body any
		msg  string
	}{
		{map[string]any{"value": map[string]any{"frequency": 30, "days": []string{"Monday"}}}, frequencyOrDays},
		{map[string]any{"value": map[string]any{"frequency": 45}}, "Invalid frequency '45'"},
		{map[string]any{"value": map[string]any{"times": []string{"07:00"}}}, needOneDay},
	} {
		r := api(t, s, "PATCH", live, c.body)
		if _, msg := errorCodeMessage(t, r); r.status != http.StatusBadRequest || !strings.Contains(msg, c.msg) {
			t.Errorf("%v: %d %s", c.body, r.status, r.body)
		}
	}
	// Days and times replace the frequency, and the other way round.
	wantStatus(t, api(t, s, "PATCH", live, map[string]any{"value": map[string]any{"days": []string{"Sunday"}, "times": []string{"07:00"}, "localTimeZoneId": "UTC"}}), http.StatusOK)
	d := api(t, s, "GET", live, nil).json(t)
	if _, has := d["frequency"]; has || !reflect.DeepEqual(d["days"], []any{"Sunday"}) || !reflect.DeepEqual(d["times"], []any{"07:00"}) {
		t.Errorf("days and times: %v", d)
	}
	wantStatus(t, api(t, s, "PATCH", live, map[string]any{"value": map[string]any{"frequency": 15}}), http.StatusOK)
	d = api(t, s, "GET", live, nil).json(t)
	if d["frequency"] != float64(15) || len(d["days"].([]any)) != 0 || len(d["times"].([]any)) != 0 {
		t.Errorf("frequency: %v", d)
	}
}
