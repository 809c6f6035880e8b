package tools

import (
	"strings"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

func dashboardStack(t *testing.T) *stack {
	return newStack(t, stackOptions{tools: Options{Toolsets: []string{"dashboards"}}})
}

func TestListAndGetDashboards(t *testing.T) {
	st := dashboardStack(t)

	var res ListDashboardsResult
	st.ok(t, "list_dashboards", map[string]any{"workspace": "Sales Analytics"}, &res)
	if res.Workspace.ID != pbitest.DemoSalesWorkspaceID || res.Workspace.ResolvedBy != "name" || res.Count != 1 ||
		res.Dashboards[0].ID != pbitest.DemoSalesDashboardID || res.Dashboards[0].DisplayName != "Sales Pulse" || res.Dashboards[0].WebURL == "" {
		t.Fatalf("list_dashboards: %+v", res)
	}
	var mine ListDashboardsResult
	st.ok(t, "list_dashboards", nil, &mine)
	if !mine.Workspace.MyWorkspace || mine.Count != 1 || mine.Dashboards[0].DisplayName != "My Budget" {
		t.Fatalf("My workspace: %+v", mine)
	}

	var got DashboardResult
	st.ok(t, "get_dashboard", map[string]any{"workspace": pbitest.DemoFinanceWorkspaceID, "dashboard": "Finance Board"}, &got)
	if got.Dashboard.ID != pbitest.DemoFinanceDashboardID || got.Workspace.ResolvedBy != "id" {
		t.Fatalf("get_dashboard: %+v", got)
	}
	msg := st.fails(t, "get_dashboard", map[string]any{"workspace": "Finance", "dashboard": "Nope"})
	if !strings.Contains(msg, `No dashboard named "Nope"`) || !strings.Contains(msg, "list_dashboards") {
		t.Errorf("unknown name: %s", msg)
	}
	msg = st.fails(t, "get_dashboard", map[string]any{"workspace": "Finance", "dashboard": pbitest.DemoSalesDashboardID})
	if !strings.Contains(msg, "HTTP 404") || !strings.Contains(msg, "RequestId") {
		t.Errorf("dashboard of another workspace: %s", msg)
	}
}

func TestCreateDashboardTool(t *testing.T) {
	st := dashboardStack(t)
	var res DashboardResult
	st.ok(t, "create_dashboard", map[string]any{"workspace": "Marketing", "name": "Campaigns"}, &res)
	if res.Dashboard.DisplayName != "Campaigns" || !guidPattern.MatchString(res.Dashboard.ID) || res.Workspace.ID != pbitest.DemoMarketingWorkspaceID {
		t.Fatalf("create_dashboard: %+v", res)
	}
	// It is there on the next read.
	var list ListDashboardsResult
	st.ok(t, "list_dashboards", map[string]any{"workspace": "Marketing"}, &list)
	if list.Count != 1 || list.Dashboards[0].ID != res.Dashboard.ID {
		t.Fatalf("after create: %+v", list)
	}
	if got := st.tenant.Dashboards(pbitest.DemoMarketingWorkspaceID); len(got) != 1 || got[0].DisplayName != "Campaigns" {
		t.Errorf("tenant state: %+v", got)
	}
	// Without a workspace it goes to My workspace.
	var mine DashboardResult
	st.ok(t, "create_dashboard", map[string]any{"name": "Scratch"}, &mine)
	if !mine.Workspace.MyWorkspace || st.tenant.Dashboards("")[1].ID != mine.Dashboard.ID {
		t.Fatalf("My workspace create: %+v", mine)
	}
	// Schema validation refuses an empty name before Power BI is called.
	before := st.tenant.Count("POST /v1.0/myorg/groups/{groupId}/dashboards")
	msg := st.fails(t, "create_dashboard", map[string]any{"workspace": "Marketing", "name": ""})
	if !strings.Contains(msg, "Invalid arguments") {
		t.Errorf("empty name: %s", msg)
	}
	msg = st.fails(t, "create_dashboard", map[string]any{"workspace": "Marketing", "name": "   "})
	if !strings.Contains(msg, "name is empty") {
		t.Errorf("blank name: %s", msg)
	}
	if after := st.tenant.Count("POST /v1.0/myorg/groups/{groupId}/dashboards"); after != before {
		t.Errorf("refused calls reached Power BI: %d -> %d", before, after)
	}
}

func TestTilesTools(t *testing.T) {
	st := dashboardStack(t)

	var res ListTilesResult
	st.ok(t, "list_tiles", map[string]any{"workspace": "Sales Analytics", "dashboard": "Sales Pulse", "top": 2}, &res)
	if res.Dashboard.ID != pbitest.DemoSalesDashboardID || res.Count != 2 || !res.HasMore || res.NextSkip != 2 ||
		res.Tiles[0].ID != pbitest.DemoRevenueTileID || res.Tiles[0].ReportID != pbitest.DemoSalesReportID || res.Tiles[0].ColSpan != 2 {
		t.Fatalf("list_tiles: %+v", res)
	}
	var rest ListTilesResult
	st.ok(t, "list_tiles", map[string]any{"workspace": "Sales Analytics", "dashboard": "Sales Pulse", "skip": res.NextSkip}, &rest)
	if rest.Count != 1 || rest.HasMore || rest.Tiles[0].Title != "Top Products" || rest.Tiles[0].ReportID != "" {
		t.Fatalf("second page: %+v", rest)
	}

	var tile TileResult
	st.ok(t, "get_tile", map[string]any{"dashboard": "My Budget", "tile": "Spending"}, &tile)
	if tile.Tile.ID != pbitest.DemoSpendingTileID || !tile.Workspace.MyWorkspace || tile.Tile.DatasetID != pbitest.DemoPersonalBudgetDatasetID {
		t.Fatalf("get_tile: %+v", tile)
	}
	st.ok(t, "get_tile", map[string]any{"workspace": "Sales Analytics", "dashboard": pbitest.DemoSalesDashboardID, "tile": pbitest.DemoOrdersTileID}, &tile)
	if tile.Tile.Title != "Orders Today" {
		t.Fatalf("get_tile by id: %+v", tile)
	}
}

func TestCloneTileTool(t *testing.T) {
	st := dashboardStack(t)

	// Onto the same dashboard: the position is taken, so the copy goes to the end.
	var res CloneTileResult
	st.ok(t, "clone_tile", map[string]any{"workspace": "Sales Analytics", "dashboard": "Sales Pulse", "tile": "Total Revenue",
		"target_dashboard": "Sales Pulse"}, &res)
	if res.Tile.ID == pbitest.DemoRevenueTileID || res.Tile.ReportID != pbitest.DemoSalesReportID || res.SourceTile.ID != pbitest.DemoRevenueTileID ||
		res.TargetWorkspace.ID != pbitest.DemoSalesWorkspaceID || strings.Contains(res.Message, "bound to no report") {
		t.Fatalf("clone_tile: %+v", res)
	}
	tiles := st.tenant.Dashboards(pbitest.DemoSalesWorkspaceID)[0].Tiles
	if len(tiles) != 4 || tiles[3].ID != res.Tile.ID {
		t.Fatalf("tenant tiles: %+v", tiles)
	}

	// Abort on a taken position: an error, and nothing added.
	msg := st.fails(t, "clone_tile", map[string]any{"workspace": "Sales Analytics", "dashboard": "Sales Pulse", "tile": "Orders Today",
		"target_dashboard": "Sales Pulse", "position_conflict_action": "Abort"})
	if !strings.Contains(msg, "HTTP 400") {
		t.Errorf("Abort: %s", msg)
	}
	if n := len(st.tenant.Dashboards(pbitest.DemoSalesWorkspaceID)[0].Tiles); n != 4 {
		t.Errorf("Abort added a tile: %d", n)
	}

	// Two tiles are now called Total Revenue: the title no longer names one.
	msg = st.fails(t, "clone_tile", map[string]any{"workspace": "Sales Analytics", "dashboard": "Sales Pulse", "tile": "Total Revenue",
		"target_dashboard": "Sales Pulse"})
	if !strings.Contains(msg, "ambiguous") {
		t.Errorf("ambiguous title: %s", msg)
	}

	// To another workspace, rebound to a report there by name.
	st.ok(t, "clone_tile", map[string]any{"workspace": "Sales Analytics", "dashboard": "Sales Pulse", "tile": pbitest.DemoRevenueTileID,
		"target_workspace": "Finance", "target_dashboard": "Finance Board", "target_report": "Monthly Close"}, &res)
	if res.TargetWorkspace.ID != pbitest.DemoFinanceWorkspaceID || res.TargetDashboard.ID != pbitest.DemoFinanceDashboardID ||
		res.Tile.ReportID != pbitest.DemoFinanceReportID || res.Tile.DatasetID != pbitest.DemoFinanceKPIsDatasetID {
		t.Fatalf("rebound clone: %+v", res)
	}
	// Without a target report the copy loses its links, and the answer says so.
	var unbound CloneTileResult
	st.ok(t, "clone_tile", map[string]any{"workspace": "Sales Analytics", "dashboard": "Sales Pulse", "tile": "Orders Today",
		"target_workspace": "00000000-0000-0000-0000-000000000000", "target_dashboard": "My Budget"}, &unbound)
	if !unbound.TargetWorkspace.MyWorkspace || unbound.TargetWorkspace.ID != "" || unbound.Tile.ReportID != "" ||
		!strings.Contains(unbound.Message, "bound to no report") {
		t.Fatalf("unbound clone: %+v", unbound)
	}
	if n := len(st.tenant.Dashboards("")[0].Tiles); n != 2 {
		t.Errorf("My Budget has %d tiles", n)
	}

	// The wire request: the source's path, the target's ids.
	reqs := st.tenant.Requests()
	last := reqs[len(reqs)-1]
	if last.Path != "/v1.0/myorg/groups/"+pbitest.DemoSalesWorkspaceID+"/dashboards/"+pbitest.DemoSalesDashboardID+"/tiles/"+pbitest.DemoOrdersTileID+"/Clone" ||
		!strings.Contains(string(last.Body), `"targetWorkspaceId":"00000000-0000-0000-0000-000000000000"`) {
		t.Errorf("request %s %s", last.Path, last.Body)
	}

	msg = st.fails(t, "clone_tile", map[string]any{"workspace": "Sales Analytics", "dashboard": "Sales Pulse", "tile": "Total Revenue",
		"target_dashboard": "Sales Pulse", "position_conflict_action": "Head"})
	if !strings.Contains(msg, "Invalid arguments") {
		t.Errorf("bad enum: %s", msg)
	}
}

func TestDeleteDashboardNeedsConfirmation(t *testing.T) {
	st := dashboardStack(t)
	const route = "DELETE /v1.0/myorg/groups/{groupId}/dashboards/{dashboardId}"
	args := map[string]any{"workspace": "Finance", "dashboard": pbitest.DemoFinanceDashboardID}
	msg := st.fails(t, "delete_dashboard", args)
	if !strings.Contains(msg, "ask the user") || !strings.Contains(msg, "Finance Board (id "+pbitest.DemoFinanceDashboardID+")") {
		t.Fatalf("without confirm: %s", msg)
	}
	if n := st.tenant.Count(route); n != 0 {
		t.Fatalf("%d DELETE requests sent without confirmation", n)
	}
	args["confirm"] = true
	var res DeleteDashboardResult
	st.ok(t, "delete_dashboard", args, &res)
	if !res.Deleted || res.Dashboard.ID != pbitest.DemoFinanceDashboardID || res.Workspace.ID != pbitest.DemoFinanceWorkspaceID {
		t.Fatalf("delete: %+v", res)
	}
	var list ListDashboardsResult
	st.ok(t, "list_dashboards", map[string]any{"workspace": "Finance"}, &list)
	if list.Count != 0 {
		t.Fatalf("dashboards left in Finance: %+v", list.Dashboards)
	}
	// Gone: a second delete fails before anyone is asked.
	if msg := st.fails(t, "delete_dashboard", map[string]any{"workspace": "Finance", "dashboard": pbitest.DemoFinanceDashboardID}); !strings.Contains(msg, "HTTP 404") {
		t.Fatalf("second delete: %s", msg)
	}
	// By name, in My workspace.
	st.ok(t, "delete_dashboard", map[string]any{"dashboard": "My Budget", "confirm": true}, &res)
	if res.Dashboard.ID != pbitest.DemoBudgetDashboardID || !res.Workspace.MyWorkspace {
		t.Fatalf("delete in My workspace: %+v", res)
	}
}
