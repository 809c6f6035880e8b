package pbitest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestUpdateParametersFollowsTheServiceRules(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	base := "/groups/" + DemoFinanceWorkspaceID + "/datasets/" + DemoForecastDatasetID
	upd := func(details ...map[string]any) response {
		return api(t, s, "POST", base+"/Default.UpdateParameters", map[string]any{"updateDetails": details})
	}
	p := func(name, value string) map[string]any { return map[string]any{"name": name, "newValue": value} }

	for _, c := range []struct {
		name string
		body []map[string]any
		want string
	}{
		{"empty list", nil, "at least one"},
		{"unknown name", []map[string]any{p("Nope", "x")}, "does not exist"},
		{"names are case-sensitive", []map[string]any{p("scenario", "Base")}, "does not exist"},
		{"duplicate", []map[string]any{p("Scenario", "Base"), p("Scenario", "Optimistic")}, "more than once"},
		{"Any is not updatable", []map[string]any{p("SourceQuery", "x")}, "cannot be updated"},
		{"required not empty", []map[string]any{p("Scenario", "")}, "required"},
		{"typed value", []map[string]any{p("HorizonMonths", "soon")}, "not a number"},
		{"all or nothing", []map[string]any{p("Scenario", "Optimistic"), p("IncludeActuals", "maybe")}, "Logical"},
	} {
		r := upd(c.body...)
		if r.status != http.StatusBadRequest || errorCode(t, r) != "InvalidRequest" || !strings.Contains(string(r.body), c.want) {
			t.Errorf("%s: %d %s", c.name, r.status, r.body)
		}
	}
	var many []map[string]any
	for i := range 101 {
		many = append(many, p(fmt.Sprintf("P%d", i), "1"))
	}
	if r := upd(many...); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "at most 100") {
		t.Errorf("101 parameters: %d %s", r.status, r.body)
	}

	// Nothing of the refused requests was applied.
	params := api(t, s, "GET", base+"/parameters", nil).json(t)["value"].([]any)
	if got := params[0].(map[string]any)["currentValue"]; got != "Base" {
		t.Fatalf("Scenario = %v after refused updates", got)
	}

	r := upd(p("Scenario", "Optimistic"), p("HorizonMonths", "18"))
	wantStatus(t, r, http.StatusOK)
	if len(r.body) != 0 {
		t.Errorf("update answered a body: %s", r.body)
	}
	params = api(t, s, "GET", base+"/parameters", nil).json(t)["value"].([]any)
	if params[0].(map[string]any)["currentValue"] != "Optimistic" || params[1].(map[string]any)["currentValue"] != "18" {
		t.Fatalf("parameters after update: %v", params)
	}
}

func TestOnlyTheOwnerChangesAModelUntilItIsTakenOver(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	base := "/groups/" + DemoMarketingWorkspaceID + "/datasets/" + DemoLegacyLeadsDatasetID
	body := map[string]any{"updateDetails": []map[string]any{{"name": "Region", "newValue": "APAC"}}}

	r := api(t, s, "POST", base+"/Default.UpdateParameters", body)
	if r.status != http.StatusBadRequest || errorCode(t, r) != "InvalidRequest" || !strings.Contains(string(r.body), "owner") {
		t.Fatalf("update by a non-owner: %d %s", r.status, r.body)
	}

	r = api(t, s, "POST", base+"/Default.TakeOver", nil)
	wantStatus(t, r, http.StatusOK)
	if got := api(t, s, "GET", base, nil).json(t)["configuredBy"]; got != s.ClientID() {
		t.Fatalf("configuredBy after take-over = %v, want the app id %s", got, s.ClientID())
	}
	wantStatus(t, api(t, s, "POST", base+"/Default.UpdateParameters", body), http.StatusOK)

	// Take over has no My workspace variant.
	r = api(t, s, "POST", "/datasets/"+DemoPersonalBudgetDatasetID+"/Default.TakeOver", nil)
	if r.status != http.StatusNotFound || !strings.Contains(string(r.body), "No HTTP resource") {
		t.Fatalf("My workspace take-over: %d %s", r.status, r.body)
	}
}

func TestUpdateDataset(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	forecast := "/groups/" + DemoFinanceWorkspaceID + "/datasets/" + DemoForecastDatasetID

	r := api(t, s, "PATCH", forecast, map[string]any{"queryScaleOutSettings": map[string]any{"maxReadOnlyReplicas": -1}})
	wantStatus(t, r, http.StatusOK)
	d := api(t, s, "GET", forecast, nil).json(t)
	q := d["queryScaleOutSettings"].(map[string]any)
	if q["maxReadOnlyReplicas"] != float64(-1) || q["autoSyncReadOnlyReplicas"] != true {
		t.Fatalf("scale-out after a partial update: %v", q)
	}

	for _, c := range []struct {
		name, path string
		body       any
		want       string
	}{
		{"empty body", forecast, map[string]any{}, "must set"},
		{"unknown mode", forecast, map[string]any{"targetStorageMode": "Big"}, "not valid"},
		{"replicas out of range", forecast, map[string]any{"queryScaleOutSettings": map[string]any{"maxReadOnlyReplicas": 65}}, "between -1 and 64"},
		{"scale-out needs the large format", forecast, map[string]any{"targetStorageMode": "Abf", "queryScaleOutSettings": map[string]any{"maxReadOnlyReplicas": 2}}, "PremiumFiles"},
		{"owner only", "/groups/" + DemoSalesWorkspaceID + "/datasets/" + DemoSalesDatasetID, map[string]any{"targetStorageMode": "PremiumFiles"}, "owner"},
	} {
		r := api(t, s, "PATCH", c.path, c.body)
		if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), c.want) {
			t.Errorf("%s: %d %s", c.name, r.status, r.body)
		}
	}
	wantStatus(t, api(t, s, "PATCH", forecast, map[string]any{"targetStorageMode": "Abf"}), http.StatusOK)
	if got := api(t, s, "GET", forecast, nil).json(t)["targetStorageMode"]; got != "Abf" {
		t.Fatalf("targetStorageMode = %v", got)
	}
}

func TestDeleteDatasetTakesItsReports(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	ws := "/groups/" + DemoSalesWorkspaceID
	wantStatus(t, api(t, s, "DELETE", ws+"/datasets/"+DemoSalesDatasetID, nil), http.StatusOK)
	wantStatus(t, api(t, s, "GET", ws+"/datasets/"+DemoSalesDatasetID, nil), http.StatusNotFound)
	wantStatus(t, api(t, s, "GET", ws+"/reports/"+DemoSalesReportID, nil), http.StatusNotFound)
	// Other models and their reports stay.
	wantStatus(t, api(t, s, "GET", ws+"/reports/"+DemoLiveOrdersReportID, nil), http.StatusOK)
	r := api(t, s, "DELETE", ws+"/datasets/"+DemoSalesDatasetID, nil)
	if r.status != http.StatusNotFound || errorCode(t, r) != "ItemNotFound" {
		t.Fatalf("second delete: %d %s", r.status, r.body)
	}
}

func TestDatasourcesUsersAndDataflowsShapes(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	ws := "/groups/" + DemoFinanceWorkspaceID
	r := api(t, s, "GET", ws+"/datasets/"+DemoForecastDatasetID+"/datasources", nil)
	wantStatus(t, r, http.StatusOK)
	want := fmt.Sprintf(`{"@odata.context":"%s/v1.0/myorg/groups/%s/$metadata#datasources","value":[{"datasourceType":"Sql","connectionDetails":{"server":"contoso-finance.database.windows.net","database":"Planning"},"datasourceId":"b2d4f6a8-5c7e-4a9b-8d1f-3e5a7c9e1fc6","gatewayId":"c3e5a7b9-6d8f-4b0c-9e2a-4f6b8d0a2ad7"}]}`,
		s.URL(), DemoFinanceWorkspaceID)
	if string(r.body) != want {
		t.Errorf("datasources\n%s\nwant\n%s", r.body, want)
	}
	// A model with no data sources answers an empty list, not null.
	r = api(t, s, "GET", "/groups/"+DemoMarketingWorkspaceID+"/datasets/"+DemoOldCampaignsDatasetID+"/datasources", nil)
	if v, ok := r.json(t)["value"].([]any); !ok || len(v) != 0 {
		t.Errorf("empty datasources: %s", r.body)
	}

	users := "/groups/" + DemoSalesWorkspaceID + "/datasets/" + DemoSalesDatasetID + "/users"
	grant := func(id, typ, right string) response {
		return api(t, s, "POST", users, map[string]any{"identifier": id, "principalType": typ, "datasetUserAccessRight": right})
	}
	for _, c := range []struct{ id, typ, right, want string }{
		{"app-object-id", "App", "Read", "not supported"},
		{"joni@contoso.com", "User", "ReadWrite", "not valid"},
		{"joni@contoso.com", "Person", "Read", "not valid"},
	} {
		if r := grant(c.id, c.typ, c.right); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), c.want) {
			t.Errorf("grant %v: %d %s", c, r.status, r.body)
		}
	}
	wantStatus(t, grant("joni@contoso.com", "User", "Read"), http.StatusOK)
	// Granting more to someone with access adds to what they have.
	wantStatus(t, grant("JONI@contoso.com", "User", "ReadExplore"), http.StatusOK)
	wantStatus(t, grant("megan.bowen@contoso.com", "User", "Read"), http.StatusOK)
	var list struct {
		Value []DatasetUser `json:"value"`
	}
	if err := json.Unmarshal(api(t, s, "GET", users, nil).body, &list); err != nil {
		t.Fatal(err)
	}
	rights := map[string]string{}
	for _, u := range list.Value {
		rights[strings.ToLower(u.Identifier)] = u.DatasetUserAccessRight
	}
	if len(list.Value) != 3 || rights["joni@contoso.com"] != "ReadExplore" || rights["megan.bowen@contoso.com"] != "ReadWriteReshareExplore" {
		t.Fatalf("users after grants: %+v", list.Value)
	}

	r = api(t, s, "GET", "/groups/"+DemoSalesWorkspaceID+"/datasets/upstreamDataflows", nil)
	wantStatus(t, r, http.StatusOK)
	links := r.json(t)["value"].([]any)
	if len(links) != 1 || links[0].(map[string]any)["datasetObjectId"] != DemoSalesDatasetID ||
		links[0].(map[string]any)["dataflowObjectId"] != DemoSalesDataflowID {
		t.Fatalf("upstream dataflows: %s", r.body)
	}
	d := api(t, s, "GET", "/groups/"+DemoSalesWorkspaceID+"/datasets/"+DemoSalesDatasetID, nil).json(t)
	if up, _ := d["upstreamDataflows"].([]any); len(up) != 1 {
		t.Fatalf("dataset upstreamDataflows: %v", d["upstreamDataflows"])
	}
}
