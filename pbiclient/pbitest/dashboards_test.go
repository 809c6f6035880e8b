package pbitest

import (
	"net/http"
	"strings"
	"testing"
)

func TestDashboards(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	ws := "/groups/" + DemoSalesWorkspaceID

	r := api(t, s, "GET", ws+"/dashboards", nil)
	wantStatus(t, r, http.StatusOK)
	body := r.json(t)
	if body["@odata.context"] != s.URL()+"/v1.0/myorg/groups/"+DemoSalesWorkspaceID+"/$metadata#dashboards" {
		t.Errorf("context %v", body["@odata.context"])
	}
	items := body["value"].([]any)
	if len(items) != 1 {
		t.Fatalf("dashboards %v", items)
	}
	d := items[0].(map[string]any)
	for k, v := range map[string]any{
		"id":          DemoSalesDashboardID,
		"displayName": "Sales Pulse",
		"isReadOnly":  false,
		"webUrl":      "https://app.powerbi.com/groups/" + DemoSalesWorkspaceID + "/dashboards/" + DemoSalesDashboardID,
	} {
		if d[k] != v {
			t.Errorf("%s = %v, want %v", k, d[k], v)
		}
	}
	wantEmbed := "https://app.powerbi.com/dashboardEmbed?dashboardId=" + DemoSalesDashboardID + "&groupId=" + DemoSalesWorkspaceID + "&w=2&config="
	if embed, _ := d["embedUrl"].(string); !strings.HasPrefix(embed, wantEmbed) {
		t.Errorf("embedUrl %q", embed)
	}
	if _, ok := d["appId"]; ok {
		t.Errorf("a workspace dashboard has appId: %v", d)
	}

	r = api(t, s, "GET", ws+"/dashboards/"+DemoSalesDashboardID, nil)
	wantStatus(t, r, http.StatusOK)
	if got := r.json(t); got["displayName"] != "Sales Pulse" || !strings.HasSuffix(got["@odata.context"].(string), "$metadata#dashboards/$entity") {
		t.Errorf("get dashboard %v", got)
	}
	wantStatus(t, api(t, s, "GET", ws+"/dashboards/"+newGUID(), nil), http.StatusNotFound)
	wantStatus(t, api(t, s, "GET", "/groups/"+newGUID()+"/dashboards", nil), http.StatusNotFound)

	r = api(t, s, "GET", ws+"/dashboards/"+DemoSalesDashboardID+"/tiles", nil)
	wantStatus(t, r, http.StatusOK)
	tiles := r.json(t)["value"].([]any)
	if len(tiles) != 3 {
		t.Fatalf("tiles %v", tiles)
	}
	first := tiles[0].(map[string]any)
	for k, v := range map[string]any{
		"id": DemoRevenueTileID, "title": "Total Revenue", "reportId": DemoSalesReportID,
		"datasetId": DemoSalesDatasetID, "rowSpan": 1.0, "colSpan": 2.0,
	} {
		if first[k] != v {
			t.Errorf("tile %s = %v, want %v", k, first[k], v)
		}
	}
	wantTileEmbed := "https://app.powerbi.com/embed?dashboardId=" + DemoSalesDashboardID + "&tileId=" + DemoRevenueTileID + "&groupId=" + DemoSalesWorkspaceID
	if embed, _ := first["embedUrl"].(string); !strings.HasPrefix(embed, wantTileEmbed) {
		t.Errorf("tile embedUrl %q", embed)
	}
	// A Q&A tile has a dataset but no report.
	if qna := tiles[2].(map[string]any); qna["datasetId"] != DemoSalesDatasetID || qna["reportId"] != nil {
		t.Errorf("Q&A tile %v", qna)
	}
	r = api(t, s, "GET", ws+"/dashboards/"+DemoSalesDashboardID+"/tiles/"+DemoOrdersTileID, nil)
	wantStatus(t, r, http.StatusOK)
	if got := r.json(t); got["title"] != "Orders Today" {
		t.Errorf("get tile %v", got)
	}
	wantStatus(t, api(t, s, "GET", ws+"/dashboards/"+DemoSalesDashboardID+"/tiles/"+newGUID(), nil), http.StatusNotFound)

	// My workspace has its own dashboards.
	r = api(t, s, "GET", "/dashboards", nil)
	wantStatus(t, r, http.StatusOK)
	mine := r.json(t)["value"].([]any)
	if len(mine) != 1 || mine[0].(map[string]any)["id"] != DemoBudgetDashboardID ||
		mine[0].(map[string]any)["webUrl"] != "https://app.powerbi.com/groups/me/dashboards/"+DemoBudgetDashboardID {
		t.Errorf("My workspace dashboards %v", mine)
	}
}

func TestAddAndDeleteDashboard(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	ws := "/groups/" + DemoMarketingWorkspaceID

	r := api(t, s, "POST", ws+"/dashboards", map[string]any{"name": "Campaigns"})
	wantStatus(t, r, http.StatusOK) // 200 with the dashboard, not 201
	created := r.json(t)
	id, _ := created["id"].(string)
	if !isGUID(id) || created["displayName"] != "Campaigns" || created["isReadOnly"] != false {
		t.Fatalf("created %v", created)
	}
	r = api(t, s, "GET", ws+"/dashboards/"+id+"/tiles", nil)
	wantStatus(t, r, http.StatusOK)
	if tiles := r.json(t)["value"].([]any); len(tiles) != 0 {
		t.Errorf("a new dashboard has tiles: %v", tiles)
	}
	if got := s.Dashboards(DemoMarketingWorkspaceID); len(got) != 1 || got[0].DisplayName != "Campaigns" {
		t.Errorf("state %+v", got)
	}

	for _, bad := range []any{nil, map[string]any{}, map[string]any{"name": ""}, `{"name": 3}`} {
		r := api(t, s, "POST", ws+"/dashboards", bad)
		wantStatus(t, r, http.StatusBadRequest)
		if e := r.json(t)["error"].(map[string]any); e["code"] != "InvalidRequest" {
			t.Errorf("body %v: error %v", bad, e)
		}
	}
	wantStatus(t, api(t, s, "POST", "/groups/"+newGUID()+"/dashboards", map[string]any{"name": "x"}), http.StatusNotFound)
	if got := s.Dashboards(DemoMarketingWorkspaceID); len(got) != 1 {
		t.Errorf("failed adds changed state: %+v", got)
	}

	// My workspace.
	wantStatus(t, api(t, s, "POST", "/dashboards", map[string]any{"name": "Scratch"}), http.StatusOK)
	if got := s.Dashboards(""); len(got) != 2 || got[1].DisplayName != "Scratch" {
		t.Errorf("My workspace %+v", got)
	}

	r = api(t, s, "DELETE", ws+"/dashboards/"+id, nil)
	wantStatus(t, r, http.StatusOK)
	if len(r.body) != 0 {
		t.Errorf("delete body %q", r.body)
	}
	wantStatus(t, api(t, s, "GET", ws+"/dashboards/"+id, nil), http.StatusNotFound)
}

func TestCloneTile(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	src := "/groups/" + DemoSalesWorkspaceID + "/dashboards/" + DemoSalesDashboardID + "/tiles/"

	// Within the dashboard: the source position is taken, so Tail puts the
	// copy at the end and the links stay.
	r := api(t, s, "POST", src+DemoRevenueTileID+"/Clone", map[string]any{"targetDashboardId": DemoSalesDashboardID})
	wantStatus(t, r, http.StatusOK)
	c := r.json(t)
	if !isGUID(c["id"].(string)) || c["id"] == DemoRevenueTileID || c["title"] != "Total Revenue" ||
		c["reportId"] != DemoSalesReportID || c["datasetId"] != DemoSalesDatasetID {
		t.Errorf("clone %v", c)
	}
	tiles := s.Dashboards(DemoSalesWorkspaceID)[0].Tiles
	if len(tiles) != 4 || tiles[3].ID != c["id"] {
		t.Errorf("tiles after clone %+v", tiles)
	}

	// Abort refuses a taken position and changes nothing.
	r = api(t, s, "POST", src+DemoOrdersTileID+"/Clone", map[string]any{"targetDashboardId": DemoSalesDashboardID, "positionConflictAction": "Abort"})
	wantStatus(t, r, http.StatusBadRequest)
	if n := len(s.Dashboards(DemoSalesWorkspaceID)[0].Tiles); n != 4 {
		t.Errorf("Abort added a tile: %d", n)
	}

	// To another workspace without targets: the links are dropped.
	empty := s.AddDashboard(DemoMarketingWorkspaceID, Dashboard{DisplayName: "Empty"})
	r = api(t, s, "POST", src+DemoOrdersTileID+"/Clone", map[string]any{
		"targetDashboardId": empty.ID, "targetWorkspaceId": DemoMarketingWorkspaceID, "positionConflictAction": "Abort"})
	wantStatus(t, r, http.StatusOK) // the position is free there
	if c := r.json(t); c["reportId"] != nil || c["datasetId"] != nil || !strings.Contains(c["embedUrl"].(string), "groupId="+DemoMarketingWorkspaceID) {
		t.Errorf("cross-workspace clone %v", c)
	}
	// With a target report: rebound to it and its dataset.
	r = api(t, s, "POST", src+DemoRevenueTileID+"/Clone", map[string]any{
		"targetDashboardId": empty.ID, "targetWorkspaceId": DemoMarketingWorkspaceID, "targetReportId": DemoMarketingReportID})
	wantStatus(t, r, http.StatusOK)
	if c := r.json(t); c["reportId"] != DemoMarketingReportID || c["datasetId"] != DemoWebTrafficDatasetID {
		t.Errorf("rebound clone %v", c)
	}
	// The empty GUID names My workspace.
	r = api(t, s, "POST", src+DemoQnATileID+"/Clone", map[string]any{
		"targetDashboardId": DemoBudgetDashboardID, "targetWorkspaceId": "00000000-0000-0000-0000-000000000000",
		"targetModelId": DemoPersonalBudgetDatasetID})
	wantStatus(t, r, http.StatusOK)
	if c := r.json(t); c["datasetId"] != DemoPersonalBudgetDatasetID {
		t.Errorf("My workspace clone %v", c)
	}
	if n := len(s.Dashboards("")[0].Tiles); n != 2 {
		t.Errorf("My workspace dashboard has %d tiles", n)
	}

	for name, tc := range map[string]struct {
		path   string
		body   any
		status int
	}{
		"no target":           {src + DemoRevenueTileID + "/Clone", map[string]any{}, http.StatusBadRequest},
		"no body":             {src + DemoRevenueTileID + "/Clone", nil, http.StatusBadRequest},
		"bad target id":       {src + DemoRevenueTileID + "/Clone", map[string]any{"targetDashboardId": "nope"}, http.StatusBadRequest},
		"bad action":          {src + DemoRevenueTileID + "/Clone", map[string]any{"targetDashboardId": DemoSalesDashboardID, "positionConflictAction": "Head"}, http.StatusBadRequest},
		"unknown target":      {src + DemoRevenueTileID + "/Clone", map[string]any{"targetDashboardId": newGUID()}, http.StatusNotFound},
		"unknown workspace":   {src + DemoRevenueTileID + "/Clone", map[string]any{"targetDashboardId": DemoSalesDashboardID, "targetWorkspaceId": newGUID()}, http.StatusNotFound},
		"unknown report":      {src + DemoRevenueTileID + "/Clone", map[string]any{"targetDashboardId": DemoSalesDashboardID, "targetReportId": newGUID()}, http.StatusNotFound},
		"unknown model":       {src + DemoRevenueTileID + "/Clone", map[string]any{"targetDashboardId": DemoSalesDashboardID, "targetModelId": newGUID()}, http.StatusNotFound},
		"unknown tile":        {src + newGUID() + "/Clone", map[string]any{"targetDashboardId": DemoSalesDashboardID}, http.StatusNotFound},
		"report elsewhere":    {src + DemoRevenueTileID + "/Clone", map[string]any{"targetDashboardId": DemoSalesDashboardID, "targetReportId": DemoFinanceReportID}, http.StatusNotFound},
		"dashboard elsewhere": {src + DemoRevenueTileID + "/Clone", map[string]any{"targetDashboardId": DemoFinanceDashboardID}, http.StatusNotFound},
	} {
		before := len(s.Dashboards(DemoSalesWorkspaceID)[0].Tiles)
		r := api(t, s, "POST", tc.path, tc.body)
		if r.status != tc.status {
			t.Errorf("%s: status %d, want %d: %s", name, r.status, tc.status, r.body)
		}
		if after := len(s.Dashboards(DemoSalesWorkspaceID)[0].Tiles); after != before {
			t.Errorf("%s: tiles %d -> %d", name, before, after)
		}
	}
}
