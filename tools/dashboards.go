package tools

import (
	"context"
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
)

// Dashboard is one dashboard as the tools report it.
type Dashboard struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	IsReadOnly  bool   `json:"isReadOnly" jsonschema:"True when the caller cannot change the dashboard"`
	WebURL      string `json:"webUrl,omitempty"`
	AppID       string `json:"appId,omitempty" jsonschema:"The app the dashboard belongs to, for dashboards read through an app"`
}

// Tile is one dashboard tile as the tools report it.
type Tile struct {
	ID        string `json:"id"`
	Title     string `json:"title,omitempty"`
	ReportID  string `json:"reportId,omitempty" jsonschema:"The report the tile was pinned from, if any"`
	DatasetID string `json:"datasetId,omitempty" jsonschema:"The semantic model the tile shows, if any (report and Q&A tiles)"`
	RowSpan   int    `json:"rowSpan"`
	ColSpan   int    `json:"colSpan"`
}

func dashboardOf(d pbiclient.Dashboard) Dashboard {
	return Dashboard{ID: d.ID, DisplayName: d.DisplayName, IsReadOnly: d.IsReadOnly, WebURL: d.WebURL, AppID: d.AppID}
}

func tileOf(t pbiclient.Tile) Tile {
	return Tile{ID: t.ID, Title: t.Title, ReportID: t.ReportID, DatasetID: t.DatasetID, RowSpan: t.RowSpan, ColSpan: t.ColSpan}
}

type listDashboardsArgs struct {
	Workspace string `json:"workspace" schema:"$workspace"`
	Top       int    `json:"top" minimum:"1" maximum:"1000" default:"100"`
	Skip      int    `json:"skip" schema:"$skip"`
}

// ListDashboardsResult is the answer of list_dashboards.
type ListDashboardsResult struct {
	Workspace  WorkspaceRef `json:"workspace"`
	Dashboards []Dashboard  `json:"dashboards"`
	Page
}

type dashboardArgs struct {
	Workspace string `json:"workspace" schema:"$workspace"`
	Dashboard string `json:"dashboard" schema:"$dashboard" required:"true"`
}

// DashboardResult is the answer of get_dashboard and create_dashboard.
type DashboardResult struct {
	Workspace WorkspaceRef `json:"workspace"`
	Dashboard Dashboard    `json:"dashboard"`
}

type deleteDashboardArgs struct {
	Workspace string `json:"workspace" schema:"$workspace"`
	Dashboard string `json:"dashboard" schema:"$dashboard" required:"true"`
	Confirm   bool   `json:"confirm" schema:"$confirm"`
}

// DeleteDashboardResult is the answer of delete_dashboard.
type DeleteDashboardResult struct {
	Workspace WorkspaceRef `json:"workspace"`
	Dashboard ItemRef      `json:"dashboard"`
	Deleted   bool         `json:"deleted"`
}

type createDashboardArgs struct {
	Workspace string `json:"workspace" schema:"$workspace"`
	Name      string `json:"name" required:"true" jsonschema:"Name of the new dashboard." minLength:"1"`
}

type listTilesArgs struct {
	Workspace string `json:"workspace" schema:"$workspace"`
	Dashboard string `json:"dashboard" schema:"$dashboard" required:"true"`
	Top       int    `json:"top" minimum:"1" maximum:"1000" default:"100"`
	Skip      int    `json:"skip" schema:"$skip"`
}

// ListTilesResult is the answer of list_tiles.
type ListTilesResult struct {
	Workspace WorkspaceRef `json:"workspace"`
	Dashboard ItemRef      `json:"dashboard"`
	Tiles     []Tile       `json:"tiles"`
	Page
}

type tileArgs struct {
	Workspace string `json:"workspace" schema:"$workspace"`
	Dashboard string `json:"dashboard" schema:"$dashboard" required:"true"`
	Tile      string `json:"tile" required:"true" jsonschema:"Its id or title." minLength:"1"`
}

// TileResult is the answer of get_tile.
type TileResult struct {
	Workspace WorkspaceRef `json:"workspace"`
	Dashboard ItemRef      `json:"dashboard"`
	Tile      Tile         `json:"tile"`
}

type cloneTileArgs struct {
	Workspace              string `json:"workspace" schema:"$workspace"`
	Dashboard              string `json:"dashboard" schema:"$dashboard" required:"true"`
	Tile                   string `json:"tile" required:"true" jsonschema:"Its id or title." minLength:"1"`
	TargetDashboard        string `json:"target_dashboard" required:"true" jsonschema:"In target_workspace." minLength:"1"`
	TargetWorkspace        string `json:"target_workspace" jsonschema:"Omit it for the source tile's own workspace; pass 00000000-0000-0000-0000-000000000000 for My workspace." minLength:"1"`
	TargetReport           string `json:"target_report" jsonschema:"Bind the copy to this report in the target workspace (id or exact name) instead of the source tile's report." minLength:"1"`
	TargetModel            string `json:"target_model" jsonschema:"Bind the copy to this semantic model in the target workspace (id or exact name) instead of the source tile's model." minLength:"1"`
	PositionConflictAction string `json:"position_conflict_action" jsonschema:"What to do when the source tile's position is taken on the target dashboard: Tail (default) puts the copy at the end, Abort refuses the copy." enum:"Tail,Abort" default:"Tail"`
}

// CloneTileResult is the answer of clone_tile.
type CloneTileResult struct {
	Workspace       WorkspaceRef `json:"workspace" jsonschema:"The source tile's workspace"`
	Dashboard       ItemRef      `json:"dashboard" jsonschema:"The source tile's dashboard"`
	SourceTile      ItemRef      `json:"sourceTile"`
	TargetWorkspace WorkspaceRef `json:"targetWorkspace"`
	TargetDashboard ItemRef      `json:"targetDashboard"`
	Tile            Tile         `json:"tile" jsonschema:"The new tile"`
	Message         string       `json:"message"`
}

func dashboardParam() mcp.ToolOption {
	return itemParam("dashboard")
}

// resolveDashboard reads a dashboard argument within a workspace.
func resolveDashboard(ctx context.Context, c *pbiclient.Client, ws WorkspaceRef, arg string) (ItemRef, error) {
	return resolveItem(arg, "dashboard", "list_dashboards",
		func() ([]pbiclient.Dashboard, error) { return c.ListDashboards(ctx, ws.ID) },
		func(d pbiclient.Dashboard) (string, string) { return d.ID, d.DisplayName })
}

// resolveTile reads a tile argument (id or exact title) within a dashboard.
func resolveTile(ctx context.Context, c *pbiclient.Client, ws WorkspaceRef, dash ItemRef, arg string) (ItemRef, error) {
	return resolveItem(arg, "tile", "list_tiles",
		func() ([]pbiclient.Tile, error) { return c.ListTiles(ctx, ws.ID, dash.ID) },
		func(t pbiclient.Tile) (string, string) { return t.ID, t.Title })
}

// resolveTargetWorkspace reads clone_tile's target_workspace: empty means the source's own
// workspace, and the empty GUID names My workspace, as in the REST API.
func resolveTargetWorkspace(ctx context.Context, c *pbiclient.Client, source WorkspaceRef, arg string) (ref WorkspaceRef, wire string, err error) {
	arg = strings.TrimSpace(arg)
	switch {
	case arg == "":
		return source, "", nil
	case arg == pbiclient.MyWorkspaceID:
		return WorkspaceRef{Name: "My workspace", MyWorkspace: true, ResolvedBy: "id"}, pbiclient.MyWorkspaceID, nil
	}
	ref, err = resolveWorkspace(ctx, c, arg)
	return ref, ref.ID, err
}

func dashboardTools(d Deps) []Tool {
	return []Tool{
		tool(d, "dashboards", "list dashboards", listDashboards, mcp.NewTool("list_dashboards",
			mcp.WithDescription("List the dashboards in a workspace, with their ids, names and web links. "+
				"Use it to find the dashboard list_tiles, get_tile and clone_tile need."),
			annotations("List dashboards", true, false, true))),
		tool(d, "dashboards", "get the dashboard", getDashboard, mcp.NewTool("get_dashboard",
			mcp.WithDescription("Get one dashboard of a workspace by id or exact name: its id, name, whether it is read-only and its web link. "+
				"list_tiles shows what is on it."),
			annotations("Get a dashboard", true, false, true))),
		tool(d, "dashboards", "create the dashboard", createDashboard, mcp.NewTool("create_dashboard",
			mcp.WithDescription("Create an empty dashboard in a workspace; fill it with clone_tile (pinning visuals from reports is done in the Power BI web app). "+
				"Names need not be unique: calling again creates a second dashboard. Needs Contributor, Member or Admin (and for a user, Content.Create)."),
			annotations("Create a dashboard", false, false, false))),
		tool(d, "dashboards", "delete the dashboard", deleteDashboard, mcp.NewTool("delete_dashboard",
			mcp.WithDescription("Delete a dashboard with its tiles. The reports and semantic models its tiles show stay. Needs Contributor, Member or Admin."),
			annotations("Delete a dashboard", false, true, true))),
		tool(d, "dashboards", "list the tiles", listTiles, mcp.NewTool("list_tiles",
			mcp.WithDescription("List the tiles on a dashboard: their ids, titles, size, and the report and semantic model each shows "+
				"(a tile pinned from a report names both; a Q&A tile only the model; text, image and video tiles neither)."),
			annotations("List dashboard tiles", true, false, true))),
		tool(d, "dashboards", "get the tile", getTile, mcp.NewTool("get_tile",
			mcp.WithDescription("Get one tile of a dashboard by id or exact title: its title, size, and the report and semantic model it shows. "+
				"The report and model ids work with the reports and datasets tools, e.g. to export the report or query the model."),
			annotations("Get a dashboard tile", true, false, true))),
		tool(d, "dashboards", "clone the tile", cloneTile, mcp.NewTool("clone_tile",
			mcp.WithDescription("Copy a dashboard tile to a dashboard (the same, another, or one in another workspace). "+
				"The copy takes the source tile's position if free, else goes to the end (or, with position_conflict_action Abort, is refused). "+
				"Within a workspace it keeps its report and model; in another workspace it shows nothing unless target_report or target_model name what to bind it to there. "+
				"Needs Contributor, Member or Admin in the target's workspace."),
			annotations("Clone a dashboard tile", false, false, false))),
	}
}

// listDashboards is list_dashboards.
func listDashboards(ctx context.Context, d Deps, a listDashboardsArgs) (ListDashboardsResult, error) {
	ws, err := resolveWorkspace(ctx, d.Client, a.Workspace)
	if err != nil {
		return ListDashboardsResult{}, err
	}
	all, err := d.Client.ListDashboards(ctx, ws.ID)
	if err != nil {
		return ListDashboardsResult{}, err
	}
	items, page := pageOf(all, defaultInt(a.Top, 100), a.Skip)
	res := ListDashboardsResult{Workspace: ws, Dashboards: make([]Dashboard, 0, len(items)), Page: page}
	for _, x := range items {
		res.Dashboards = append(res.Dashboards, dashboardOf(x))
	}
	return res, nil
}

// getDashboard is get_dashboard.
func getDashboard(ctx context.Context, d Deps, a dashboardArgs) (DashboardResult, error) {
	ws, err := resolveWorkspace(ctx, d.Client, a.Workspace)
	if err != nil {
		return DashboardResult{}, err
	}
	ref, err := resolveDashboard(ctx, d.Client, ws, a.Dashboard)
	if err != nil {
		return DashboardResult{}, err
	}
	got, err := d.Client.GetDashboard(ctx, ws.ID, ref.ID)
	if err != nil {
		return DashboardResult{}, err
	}
	return DashboardResult{Workspace: ws, Dashboard: dashboardOf(got)}, nil
}

// createDashboard is create_dashboard.
func createDashboard(ctx context.Context, d Deps, a createDashboardArgs) (DashboardResult, error) {
	if strings.TrimSpace(a.Name) == "" {
		return DashboardResult{}, userErrorf("The dashboard name is empty. Pass the name the new dashboard should have.")
	}
	ws, err := resolveWorkspace(ctx, d.Client, a.Workspace)
	if err != nil {
		return DashboardResult{}, err
	}
	got, err := d.Client.CreateDashboard(ctx, ws.ID, a.Name)
	if err != nil {
		return DashboardResult{}, err
	}
	return DashboardResult{Workspace: ws, Dashboard: dashboardOf(got)}, nil
}

// deleteDashboard is delete_dashboard.
func deleteDashboard(ctx context.Context, d Deps, a deleteDashboardArgs) (DeleteDashboardResult, error) {
	ws, err := resolveWorkspace(ctx, d.Client, a.Workspace)
	if err != nil {
		return DeleteDashboardResult{}, err
	}
	ref, err := resolveDashboard(ctx, d.Client, ws, a.Dashboard)
	if err != nil {
		return DeleteDashboardResult{}, err
	}
	if ref.Name == "" {
		// Named by id: read it, so the confirmation names it and a wrong id fails before anyone is asked.
		got, err := d.Client.GetDashboard(ctx, ws.ID, ref.ID)
		if err != nil {
			return DeleteDashboardResult{}, err
		}
		ref.Name = got.DisplayName
	}
	if err := confirmed(ctx, a.Confirm, fmt.Sprintf("Delete the dashboard %s from %s, with its tiles.", itemLabel(ref), workspaceLabel(ws))); err != nil {
		return DeleteDashboardResult{}, err
	}
	if err := d.Client.DeleteDashboard(ctx, ws.ID, ref.ID); err != nil {
		return DeleteDashboardResult{}, err
	}
	return DeleteDashboardResult{Workspace: ws, Dashboard: ref, Deleted: true}, nil
}

// listTiles is list_tiles.
func listTiles(ctx context.Context, d Deps, a listTilesArgs) (ListTilesResult, error) {
	ws, err := resolveWorkspace(ctx, d.Client, a.Workspace)
	if err != nil {
		return ListTilesResult{}, err
	}
	dash, err := resolveDashboard(ctx, d.Client, ws, a.Dashboard)
	if err != nil {
		return ListTilesResult{}, err
	}
	all, err := d.Client.ListTiles(ctx, ws.ID, dash.ID)
	if err != nil {
		return ListTilesResult{}, err
	}
	items, page := pageOf(all, defaultInt(a.Top, 100), a.Skip)
	res := ListTilesResult{Workspace: ws, Dashboard: dash, Tiles: make([]Tile, 0, len(items)), Page: page}
	for _, t := range items {
		res.Tiles = append(res.Tiles, tileOf(t))
	}
	return res, nil
}

// getTile is get_tile.
func getTile(ctx context.Context, d Deps, a tileArgs) (TileResult, error) {
	ws, err := resolveWorkspace(ctx, d.Client, a.Workspace)
	if err != nil {
		return TileResult{}, err
	}
	dash, err := resolveDashboard(ctx, d.Client, ws, a.Dashboard)
	if err != nil {
		return TileResult{}, err
	}
	ref, err := resolveTile(ctx, d.Client, ws, dash, a.Tile)
	if err != nil {
		return TileResult{}, err
	}
	got, err := d.Client.GetTile(ctx, ws.ID, dash.ID, ref.ID)
	if err != nil {
		return TileResult{}, err
	}
	return TileResult{Workspace: ws, Dashboard: dash, Tile: tileOf(got)}, nil
}

// cloneTile is clone_tile.
func cloneTile(ctx context.Context, d Deps, a cloneTileArgs) (CloneTileResult, error) {
	ws, err := resolveWorkspace(ctx, d.Client, a.Workspace)
	if err != nil {
		return CloneTileResult{}, err
	}
	dash, err := resolveDashboard(ctx, d.Client, ws, a.Dashboard)
	if err != nil {
		return CloneTileResult{}, err
	}
	src, err := resolveTile(ctx, d.Client, ws, dash, a.Tile)
	if err != nil {
		return CloneTileResult{}, err
	}
	target, wireWS, err := resolveTargetWorkspace(ctx, d.Client, ws, a.TargetWorkspace)
	if err != nil {
		return CloneTileResult{}, err
	}
	targetDash, err := resolveDashboard(ctx, d.Client, target, a.TargetDashboard)
	if err != nil {
		return CloneTileResult{}, err
	}
	req := pbiclient.CloneTileRequest{TargetDashboardID: targetDash.ID, TargetWorkspaceID: wireWS,
		PositionConflictAction: a.PositionConflictAction}
	if a.TargetReport != "" {
		rep, err := resolveReport(ctx, d.Client, target, a.TargetReport)
		if err != nil {
			return CloneTileResult{}, err
		}
		req.TargetReportID = rep.ID
	}
	if a.TargetModel != "" {
		model, err := resolveDataset(ctx, d.Client, target, a.TargetModel)
		if err != nil {
			return CloneTileResult{}, err
		}
		req.TargetModelID = model.ID
	}
	tile, err := d.Client.CloneTile(ctx, ws.ID, dash.ID, src.ID, req)
	if err != nil {
		return CloneTileResult{}, err
	}
	res := CloneTileResult{Workspace: ws, Dashboard: dash, SourceTile: src, TargetWorkspace: target, TargetDashboard: targetDash, Tile: tileOf(tile)}
	res.Message = fmt.Sprintf("The tile was copied; the new tile's id is %s.", tile.ID)
	if tile.ReportID == "" && tile.DatasetID == "" && wireWS != "" && !strings.EqualFold(target.ID, ws.ID) {
		res.Message += " It is bound to no report or semantic model, so it may show nothing: clone it again with target_report or target_model to bind it."
	}
	return res, nil
}
