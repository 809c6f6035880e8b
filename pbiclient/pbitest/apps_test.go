package pbitest

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// userAPI calls the Power BI API with a fresh token of a signed-in user.
func userAPI(t *testing.T, s *Server, method, path string) response {
	t.Helper()
	return do(t, s, method, apiPrefix+path, s.IssueUserToken("", time.Hour), nil)
}

func TestAppsRefuseServicePrincipals(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	for _, path := range []string{
		"/apps",
		"/apps/" + DemoSalesAppID,
		"/apps/" + DemoSalesAppID + "/reports",
		"/apps/" + DemoSalesAppID + "/reports/" + DemoSalesAppReportID,
		"/apps/" + DemoSalesAppID + "/dashboards",
		"/apps/" + DemoSalesAppID + "/dashboards/" + DemoSalesAppDashboardID,
		"/apps/" + DemoSalesAppID + "/dashboards/" + DemoSalesAppDashboardID + "/tiles",
		"/apps/" + newGUID(), // refused before the app is looked up
	} {
		r := api(t, s, "GET", path, nil)
		wantStatus(t, r, http.StatusForbidden)
		if string(r.body) != `{"Message":"API is not accessible for application"}` {
			t.Errorf("%s: body %s", path, r.body)
		}
		if r.header.Get("RequestId") == "" {
			t.Errorf("%s: no RequestId", path)
		}
	}
	// The user token passes the ordinary token checks too: an expired one is refused as such.
	r := do(t, s, "GET", apiPrefix+"/apps", s.IssueUserToken("", -time.Minute), nil)
	wantStatus(t, r, http.StatusForbidden)
	if e := r.json(t)["error"].(map[string]any); e["code"] != "TokenExpired" {
		t.Errorf("expired user token: %s", r.body)
	}
}

func TestAppsForUser(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()

	r := userAPI(t, s, "GET", "/apps")
	wantStatus(t, r, http.StatusOK)
	body := r.json(t)
	if body["@odata.context"] != s.URL()+"/v1.0/myorg/$metadata#apps" {
		t.Errorf("context %v", body["@odata.context"])
	}
	apps := body["value"].([]any)
	if len(apps) != 2 {
		t.Fatalf("apps %v", apps)
	}
	want := map[string]any{"id": DemoSalesAppID, "name": "Sales Analytics", "publishedBy": "megan.bowen@contoso.com",
		"lastUpdate": "2024-03-18T10:04:12.53Z", "description": "Sales figures by region and product, refreshed daily."}
	for k, v := range want {
		if got := apps[0].(map[string]any)[k]; got != v {
			t.Errorf("app %s = %v, want %v", k, got, v)
		}
	}
	r = userAPI(t, s, "GET", "/apps/"+DemoFinanceAppID)
	wantStatus(t, r, http.StatusOK)
	if got := r.json(t); got["name"] != "Finance" {
		t.Errorf("get app %v", got)
	}
	wantStatus(t, userAPI(t, s, "GET", "/apps/"+newGUID()), http.StatusNotFound)

	r = userAPI(t, s, "GET", "/apps/"+DemoSalesAppID+"/reports")
	wantStatus(t, r, http.StatusOK)
	reps := r.json(t)["value"].([]any)
	if len(reps) != 1 {
		t.Fatalf("app reports %v", reps)
	}
	rep := reps[0].(map[string]any)
	if rep["id"] != DemoSalesAppReportID || rep["appId"] != DemoSalesAppID || rep["datasetId"] != DemoSalesDatasetID ||
		!strings.Contains(rep["embedUrl"].(string), "appId="+DemoSalesAppID) {
		t.Errorf("app report %v", rep)
	}
	r = userAPI(t, s, "GET", "/apps/"+DemoSalesAppID+"/reports/"+DemoSalesAppReportID)
	wantStatus(t, r, http.StatusOK)
	if got := r.json(t); got["name"] != "Sales Overview" {
		t.Errorf("get app report %v", got)
	}
	// The workspace's own report id is not the app's.
	wantStatus(t, userAPI(t, s, "GET", "/apps/"+DemoSalesAppID+"/reports/"+DemoSalesReportID), http.StatusNotFound)

	r = userAPI(t, s, "GET", "/apps/"+DemoSalesAppID+"/dashboards")
	wantStatus(t, r, http.StatusOK)
	dashes := r.json(t)["value"].([]any)
	if len(dashes) != 1 {
		t.Fatalf("app dashboards %v", dashes)
	}
	d := dashes[0].(map[string]any)
	if d["id"] != DemoSalesAppDashboardID || d["appId"] != DemoSalesAppID || d["isReadOnly"] != true ||
		d["webUrl"] != "https://app.powerbi.com/groups/me/apps/"+DemoSalesAppID+"/dashboards/"+DemoSalesAppDashboardID {
		t.Errorf("app dashboard %v", d)
	}
	r = userAPI(t, s, "GET", "/apps/"+DemoSalesAppID+"/dashboards/"+DemoSalesAppDashboardID)
	wantStatus(t, r, http.StatusOK)
	if got := r.json(t); got["displayName"] != "Sales Pulse" {
		t.Errorf("get app dashboard %v", got)
	}
	wantStatus(t, userAPI(t, s, "GET", "/apps/"+DemoFinanceAppID+"/dashboards/"+DemoSalesAppDashboardID), http.StatusNotFound)
	r = userAPI(t, s, "GET", "/apps/"+DemoSalesAppID+"/dashboards/"+DemoSalesAppDashboardID+"/tiles/"+DemoSalesAppTileID)
	wantStatus(t, r, http.StatusOK)
	if got := r.json(t); got["title"] != "Total Revenue" || !strings.Contains(got["embedUrl"].(string), "appId="+DemoSalesAppID) {
		t.Errorf("app tile %v", got)
	}

	// User tokens work on workspace operations as well.
	wantStatus(t, userAPI(t, s, "GET", "/groups/"+DemoSalesWorkspaceID+"/dashboards"), http.StatusOK)
}

func TestAddAppRules(t *testing.T) {
	s := newTestServer(t, Options{})
	ws := s.AddWorkspace(Workspace{Name: "Ops"})
	a := s.AddApp(ws.ID, App{Name: "Ops", Reports: []AppReport{{Name: "R"}}, Dashboards: []Dashboard{{DisplayName: "D", Tiles: []Tile{{Title: "T"}}}}})
	if !isGUID(a.ID) || !isGUID(a.Reports[0].ID) || a.Reports[0].ReportType != "PowerBIReport" ||
		!isGUID(a.Dashboards[0].ID) || !isGUID(a.Dashboards[0].Tiles[0].ID) || a.PublishedBy == "" || a.LastUpdate.IsZero() {
		t.Errorf("app %+v", a)
	}
	for name, f := range map[string]func(){
		"second app":   func() { s.AddApp(ws.ID, App{Name: "Again"}) },
		"My workspace": func() { s.AddApp("", App{Name: "Mine"}) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
