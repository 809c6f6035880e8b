package pbiclient_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

func TestDashboardsAndTiles(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	srv.SeedDemo()
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()

	ds, err := c.ListDashboards(ctx, pbitest.DemoSalesWorkspaceID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].ID != pbitest.DemoSalesDashboardID || ds[0].DisplayName != "Sales Pulse" || ds[0].WebURL == "" || ds[0].EmbedURL == "" {
		t.Errorf("dashboards %+v", ds)
	}
	mine, err := c.ListDashboards(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(mine) != 1 || mine[0].ID != pbitest.DemoBudgetDashboardID {
		t.Errorf("My workspace dashboards %+v", mine)
	}
	d, err := c.GetDashboard(ctx, pbitest.DemoFinanceWorkspaceID, pbitest.DemoFinanceDashboardID)
	if err != nil || d.DisplayName != "Finance Board" {
		t.Errorf("GetDashboard = %+v, %v", d, err)
	}
	tiles, err := c.ListTiles(ctx, pbitest.DemoSalesWorkspaceID, pbitest.DemoSalesDashboardID)
	if err != nil {
		t.Fatal(err)
	}
	if len(tiles) != 3 || tiles[0].ReportID != pbitest.DemoSalesReportID || tiles[0].ColSpan != 2 || tiles[2].ReportID != "" {
		t.Errorf("tiles %+v", tiles)
	}
	tile, err := c.GetTile(ctx, "", pbitest.DemoBudgetDashboardID, pbitest.DemoSpendingTileID)
	if err != nil || tile.Title != "Spending" || tile.DatasetID != pbitest.DemoPersonalBudgetDatasetID {
		t.Errorf("GetTile = %+v, %v", tile, err)
	}

	var paths []string
	for _, r := range apiRequests(srv) {
		paths = append(paths, r.Method+" "+r.Path)
	}
	want := []string{
		"GET /v1.0/myorg/groups/" + pbitest.DemoSalesWorkspaceID + "/dashboards",
		"GET /v1.0/myorg/dashboards",
		"GET /v1.0/myorg/groups/" + pbitest.DemoFinanceWorkspaceID + "/dashboards/" + pbitest.DemoFinanceDashboardID,
		"GET /v1.0/myorg/groups/" + pbitest.DemoSalesWorkspaceID + "/dashboards/" + pbitest.DemoSalesDashboardID + "/tiles",
		"GET /v1.0/myorg/dashboards/" + pbitest.DemoBudgetDashboardID + "/tiles/" + pbitest.DemoSpendingTileID,
	}
	if len(paths) != len(want) {
		t.Fatalf("requests %v", paths)
	}
	for i := range want {
		if paths[i] != want[i] {
			t.Errorf("request %d = %s, want %s", i, paths[i], want[i])
		}
	}

	_, err = c.GetDashboard(ctx, pbitest.DemoSalesWorkspaceID, pbitest.DemoFinanceDashboardID)
	if e := asAPIError(t, err); e.StatusCode != http.StatusNotFound || e.Code != "PowerBIEntityNotFound" {
		t.Errorf("missing dashboard: %+v", e)
	}
	if _, err := c.GetTile(ctx, "", pbitest.DemoBudgetDashboardID, " "); err == nil {
		t.Error("GetTile accepted an empty tile id")
	}
}

func TestCreateDashboard(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	srv.SeedDemo()
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()

	d, err := c.CreateDashboard(ctx, pbitest.DemoMarketingWorkspaceID, "Campaigns")
	if err != nil {
		t.Fatal(err)
	}
	if d.ID == "" || d.DisplayName != "Campaigns" {
		t.Errorf("created %+v", d)
	}
	reqs := apiRequests(srv)
	last := reqs[len(reqs)-1]
	if last.Method != "POST" || last.Path != "/v1.0/myorg/groups/"+pbitest.DemoMarketingWorkspaceID+"/dashboards" || string(last.Body) != `{"name":"Campaigns"}` {
		t.Errorf("request %s %s %s", last.Method, last.Path, last.Body)
	}
	if got := srv.Dashboards(pbitest.DemoMarketingWorkspaceID); len(got) != 1 || got[0].ID != d.ID {
		t.Errorf("tenant dashboards %+v", got)
	}
	if _, err := c.CreateDashboard(ctx, "", "  "); err == nil {
		t.Error("an empty name was sent")
	}
	if n := len(apiRequests(srv)); n != len(reqs) {
		t.Errorf("%d requests after a refused call, want %d", n, len(reqs))
	}
}

func TestCloneTileRequest(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	srv.SeedDemo()
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()

	tile, err := c.CloneTile(ctx, pbitest.DemoSalesWorkspaceID, pbitest.DemoSalesDashboardID, pbitest.DemoRevenueTileID,
		pbiclient.CloneTileRequest{TargetDashboardID: pbitest.DemoBudgetDashboardID, TargetWorkspaceID: pbiclient.MyWorkspaceID,
			TargetReportID: pbitest.DemoBudgetReportID, PositionConflictAction: "Tail"})
	if err != nil {
		t.Fatal(err)
	}
	if tile.ID == "" || tile.ID == pbitest.DemoRevenueTileID || tile.ReportID != pbitest.DemoBudgetReportID || tile.Title != "Total Revenue" {
		t.Errorf("clone %+v", tile)
	}
	reqs := apiRequests(srv)
	last := reqs[len(reqs)-1]
	wantPath := "/v1.0/myorg/groups/" + pbitest.DemoSalesWorkspaceID + "/dashboards/" + pbitest.DemoSalesDashboardID + "/tiles/" + pbitest.DemoRevenueTileID + "/Clone"
	if last.Method != "POST" || last.Path != wantPath {
		t.Errorf("request %s %s", last.Method, last.Path)
	}
	var body map[string]any
	if err := json.Unmarshal(last.Body, &body); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"targetDashboardId": pbitest.DemoBudgetDashboardID, "targetWorkspaceId": pbiclient.MyWorkspaceID,
		"targetReportId": pbitest.DemoBudgetReportID, "positionConflictAction": "Tail"}
	if !jsonEqual(body, want) {
		t.Errorf("body %s", last.Body)
	}

	// Optional fields are left out, so the service applies its own defaults.
	if _, err := c.CloneTile(ctx, "", pbitest.DemoBudgetDashboardID, pbitest.DemoSpendingTileID,
		pbiclient.CloneTileRequest{TargetDashboardID: pbitest.DemoBudgetDashboardID}); err != nil {
		t.Fatal(err)
	}
	reqs = apiRequests(srv)
	if last := reqs[len(reqs)-1]; string(last.Body) != `{"targetDashboardId":"`+pbitest.DemoBudgetDashboardID+`"}` {
		t.Errorf("minimal body %s", last.Body)
	}

	_, err = c.CloneTile(ctx, "", pbitest.DemoBudgetDashboardID, pbitest.DemoSpendingTileID,
		pbiclient.CloneTileRequest{TargetDashboardID: pbitest.DemoBudgetDashboardID, PositionConflictAction: "Abort"})
	if e := asAPIError(t, err); e.StatusCode != http.StatusBadRequest || e.OutcomeUnknown {
		t.Errorf("Abort on a taken position: %+v", e)
	}
}

func TestDeleteDashboard(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	srv.SeedDemo()
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()

	d, err := c.CreateDashboard(ctx, pbitest.DemoMarketingWorkspaceID, "Short-lived")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteDashboard(ctx, pbitest.DemoMarketingWorkspaceID, d.ID); err != nil {
		t.Fatal(err)
	}
	reqs := apiRequests(srv)
	if last := reqs[len(reqs)-1]; last.Method != "DELETE" || last.Path != "/v1.0/myorg/groups/"+pbitest.DemoMarketingWorkspaceID+"/dashboards/"+d.ID {
		t.Errorf("request %s %s", last.Method, last.Path)
	}
	if got := srv.Dashboards(pbitest.DemoMarketingWorkspaceID); len(got) != 0 {
		t.Errorf("dashboards after the delete: %+v", got)
	}
	if ae := asAPIError(t, c.DeleteDashboard(ctx, pbitest.DemoMarketingWorkspaceID, d.ID)); ae.StatusCode != 404 {
		t.Errorf("second delete: %d %s", ae.StatusCode, ae.Code)
	}

	mine, err := c.ListDashboards(ctx, "")
	if err != nil || len(mine) == 0 {
		t.Fatalf("My workspace dashboards: %v %+v", err, mine)
	}
	if err := c.DeleteDashboard(ctx, "", mine[0].ID); err != nil {
		t.Fatal(err)
	}
	if after, _ := c.ListDashboards(ctx, ""); len(after) != len(mine)-1 {
		t.Errorf("My workspace dashboards after the delete: %+v", after)
	}
}
