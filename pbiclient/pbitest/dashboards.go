package pbitest

import (
	"fmt"
	"net/http"
	"strings"
)

// Dashboard is a Power BI dashboard.
type Dashboard struct {
	ID          string // filled with a random GUID when empty
	DisplayName string
	IsReadOnly  bool
	Tiles       []Tile // in the order they sit on the dashboard
}

// Tile is a tile of a dashboard. A tile pinned from a report names the
// report and its dataset; a Q&A tile only the dataset; others neither.
type Tile struct {
	ID        string // filled with a random GUID when empty
	Title     string
	ReportID  string
	DatasetID string
	RowSpan   int
	ColSpan   int
}

// Ids of the demo dashboards SeedDemo creates.
const (
	DemoSalesDashboardID   = "0a2c4e6f-3b5d-4f70-9a1c-2d4e6f8a0b13" // "Sales Pulse" in Sales Analytics, three tiles
	DemoFinanceDashboardID = "1b3d5f7a-4c6e-4081-8b2d-3e5f7a9b1c24" // "Finance Board" in Finance, one tile
	DemoBudgetDashboardID  = "2c4e6a8b-5d7f-4192-9c3e-4f6a8b0c2d35" // "My Budget" in My workspace, one tile

	DemoRevenueTileID   = "3d5f7b9c-6e8a-4a03-8d4f-5a7b9c1d3e46" // "Total Revenue" on Sales Pulse, from Sales Overview
	DemoOrdersTileID    = "4e6a8c0d-7f9b-4b14-9e5a-6b8c0d2e4f57" // "Orders Today" on Sales Pulse, from Live Orders Monitor
	DemoQnATileID       = "5f7b9d1e-8a0c-4c25-8f6b-7c9d1e3f5a68" // "Top Products" on Sales Pulse, a Q&A tile on Sales
	DemoNetIncomeTileID = "6a8c0e2f-9b1d-4d36-9a7c-8d0e2f4a6b79" // "Net Income" on Finance Board, from Monthly Close
	DemoSpendingTileID  = "7b9d1f3a-0c2e-4e47-8b8d-9e1f3a5b7c80" // "Spending" on My Budget, from Budget Tracker
)

// emptyGUID names My workspace in request bodies such as targetWorkspaceId.
const emptyGUID = "00000000-0000-0000-0000-000000000000"

type dashboard struct {
	info Dashboard // Tiles is not kept here: tiles holds them
	// tiles in position order; a tile's position is its slot on the
	// dashboard, which a clone keeps when it is free.
	tiles []*tile
}

type tile struct {
	info     Tile
	position int
}

func (w *workspace) dashboard(id string) *dashboard {
	for _, d := range w.dashboards {
		if strings.EqualFold(d.info.ID, id) {
			return d
		}
	}
	return nil
}

func (d *dashboard) tile(id string) *tile {
	for _, t := range d.tiles {
		if strings.EqualFold(t.info.ID, id) {
			return t
		}
	}
	return nil
}

// nextPosition is the slot after the last tile, where Tail puts a clone.
func (d *dashboard) nextPosition() int {
	next := 0
	for _, t := range d.tiles {
		next = max(next, t.position+1)
	}
	return next
}

func (d *dashboard) occupied(position int) bool {
	for _, t := range d.tiles {
		if t.position == position {
			return true
		}
	}
	return false
}

// AddDashboard adds a dashboard with its tiles to a workspace ("" = My
// workspace) and returns it as stored. It panics if the workspace does not
// exist.
func (s *Server) AddDashboard(workspaceID string, d Dashboard) Dashboard {
	if d.ID == "" {
		d.ID = newGUID()
	}
	d.Tiles = append([]Tile(nil), d.Tiles...)
	db := &dashboard{info: d}
	db.info.Tiles = nil
	for i := range d.Tiles {
		if d.Tiles[i].ID == "" {
			d.Tiles[i].ID = newGUID()
		}
		db.tiles = append(db.tiles, &tile{info: d.Tiles[i], position: i})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ws := s.mustWorkspace("AddDashboard", workspaceID)
	ws.dashboards = append(ws.dashboards, db)
	return d
}

// Dashboards returns the dashboards of a workspace ("" = My workspace) with
// their tiles, as they are now, or nil when the workspace does not exist.
func (s *Server) Dashboards(workspaceID string) []Dashboard {
	s.mu.Lock()
	defer s.mu.Unlock()
	ws := s.state.workspace(workspaceID)
	if ws == nil {
		return nil
	}
	out := make([]Dashboard, 0, len(ws.dashboards))
	for _, d := range ws.dashboards {
		info := d.info
		for _, t := range d.tiles {
			info.Tiles = append(info.Tiles, t.info)
		}
		out = append(out, info)
	}
	return out
}

func (s *Server) dashboardRoutes() {
	s.handleBoth("GET", "/dashboards", s.listDashboards)
	s.handleBoth("POST", "/dashboards", s.addDashboard)
	s.handleBoth("GET", "/dashboards/{dashboardId}", s.getDashboard)
	s.handleBoth("DELETE", "/dashboards/{dashboardId}", s.deleteDashboard)
	s.handleBoth("GET", "/dashboards/{dashboardId}/tiles", s.listTiles)
	s.handleBoth("GET", "/dashboards/{dashboardId}/tiles/{tileId}", s.getTile)
	s.handleBoth("POST", "/dashboards/{dashboardId}/tiles/{tileId}/Clone", s.cloneTile)
}

// dashboardJSON is a Dashboard as the service sends it, fields in its order.
// appId is set only on dashboards read through an app.
type dashboardJSON struct {
	ID            string `json:"id"`
	DisplayName   string `json:"displayName"`
	IsReadOnly    bool   `json:"isReadOnly"`
	WebURL        string `json:"webUrl"`
	EmbedURL      string `json:"embedUrl"`
	AppID         string `json:"appId,omitempty"`
	Users         []any  `json:"users"`
	Subscriptions []any  `json:"subscriptions"`
}

// tileJSON is a Tile as the service sends it, fields in its order.
type tileJSON struct {
	ID        string `json:"id"`
	Title     string `json:"title"`
	EmbedURL  string `json:"embedUrl"`
	RowSpan   int    `json:"rowSpan"`
	ColSpan   int    `json:"colSpan"`
	ReportID  string `json:"reportId,omitempty"`
	DatasetID string `json:"datasetId,omitempty"`
}

// toDashboardJSON renders a dashboard of the workspace groupID ("" = My
// workspace).
func (s *Server) toDashboardJSON(d Dashboard, groupID string) dashboardJSON {
	out := dashboardJSON{
		ID:            d.ID,
		DisplayName:   d.DisplayName,
		IsReadOnly:    d.IsReadOnly,
		WebURL:        fmt.Sprintf("%s/groups/%s/dashboards/%s", appURL, groupPath(groupID), d.ID),
		EmbedURL:      appURL + "/dashboardEmbed?dashboardId=" + d.ID,
		Users:         []any{},
		Subscriptions: []any{},
	}
	if groupID != "" {
		out.EmbedURL += "&groupId=" + groupID
	}
	out.EmbedURL += "&w=2&config=" + s.embedConfig()
	return out
}

// toTileJSON renders a tile; scope is the query naming where its dashboard
// lives ("&groupId=..." or "&appId=...", or "" for My workspace).
func (s *Server) toTileJSON(t Tile, dashboardID, scope string) tileJSON {
	return tileJSON{
		ID:        t.ID,
		Title:     t.Title,
		EmbedURL:  fmt.Sprintf("%s/embed?dashboardId=%s&tileId=%s%s&w=2&config=%s", appURL, dashboardID, t.ID, scope, s.embedConfig()),
		RowSpan:   t.RowSpan,
		ColSpan:   t.ColSpan,
		ReportID:  t.ReportID,
		DatasetID: t.DatasetID,
	}
}

func groupScope(groupID string) string {
	if groupID == "" {
		return ""
	}
	return "&groupId=" + groupID
}

func (s *Server) listDashboards(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	ws, groupID := s.workspaceOf(w, r)
	if ws == nil {
		s.mu.Unlock()
		return
	}
	items := make([]dashboardJSON, 0, len(ws.dashboards))
	for _, d := range ws.dashboards {
		items = append(items, s.toDashboardJSON(d.info, groupID))
	}
	s.mu.Unlock()
	writeList(s, w, groupID, "dashboards", items)
}

// addDashboardRequest is AddDashboardRequest of the REST definition.
type addDashboardRequest struct {
	Name *string `json:"name"`
}

func (s *Server) addDashboard(w http.ResponseWriter, r *http.Request) {
	var body addDashboardRequest
	present, ok := readJSON(w, r, &body)
	if !ok {
		return
	}
	// name is the one required property of the body.
	if !present || body.Name == nil || strings.TrimSpace(*body.Name) == "" {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "The dashboard name is required")
		return
	}
	s.mu.Lock()
	ws, groupID := s.workspaceOf(w, r)
	if ws == nil {
		s.mu.Unlock()
		return
	}
	d := &dashboard{info: Dashboard{ID: newGUID(), DisplayName: *body.Name}}
	ws.dashboards = append(ws.dashboards, d)
	item := s.toDashboardJSON(d.info, groupID)
	s.mu.Unlock()
	s.writeEntity(w, http.StatusOK, groupID, "dashboards", item)
}

// dashboardOf resolves the dashboard a request addresses, answering 404
// when it does not exist. The caller must hold s.mu.
func (s *Server) dashboardOf(w http.ResponseWriter, r *http.Request) (*workspace, *dashboard, string) {
	ws, groupID := s.workspaceOf(w, r)
	if ws == nil {
		return nil, nil, ""
	}
	d := ws.dashboard(r.PathValue("dashboardId"))
	if d == nil {
		writePBIError(w, http.StatusNotFound, "PowerBIEntityNotFound")
		return nil, nil, ""
	}
	return ws, d, groupID
}

func (s *Server) getDashboard(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	_, d, groupID := s.dashboardOf(w, r)
	if d == nil {
		s.mu.Unlock()
		return
	}
	item := s.toDashboardJSON(d.info, groupID)
	s.mu.Unlock()
	s.writeEntity(w, http.StatusOK, groupID, "dashboards", item)
}

func (s *Server) deleteDashboard(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	ws, d, _ := s.dashboardOf(w, r)
	if d == nil {
		s.mu.Unlock()
		return
	}
	for i, x := range ws.dashboards {
		if x == d {
			ws.dashboards = append(ws.dashboards[:i], ws.dashboards[i+1:]...)
			break
		}
	}
	s.mu.Unlock()
	// Like most writes, a delete answers 200 with no body.
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}

func (s *Server) listTiles(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	_, d, groupID := s.dashboardOf(w, r)
	if d == nil {
		s.mu.Unlock()
		return
	}
	items := make([]tileJSON, 0, len(d.tiles))
	for _, t := range d.tiles {
		items = append(items, s.toTileJSON(t.info, d.info.ID, groupScope(groupID)))
	}
	s.mu.Unlock()
	writeList(s, w, groupID, "tiles", items)
}

func (s *Server) getTile(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	_, d, groupID := s.dashboardOf(w, r)
	if d == nil {
		s.mu.Unlock()
		return
	}
	t := d.tile(r.PathValue("tileId"))
	if t == nil {
		s.mu.Unlock()
		writePBIError(w, http.StatusNotFound, "PowerBIEntityNotFound")
		return
	}
	item := s.toTileJSON(t.info, d.info.ID, groupScope(groupID))
	s.mu.Unlock()
	s.writeEntity(w, http.StatusOK, groupID, "tiles", item)
}

// cloneTileRequest is CloneTileRequest of the REST definition.
type cloneTileRequest struct {
	TargetDashboardID      string  `json:"targetDashboardId"`
	TargetWorkspaceID      *string `json:"targetWorkspaceId"`
	TargetReportID         string  `json:"targetReportId"`
	TargetModelID          string  `json:"targetModelId"`
	PositionConflictAction string  `json:"positionConflictAction"`
}

// cloneTile copies a tile to a dashboard, as the REST reference describes:
// the copy keeps the source's position when it is free on the target, and
// otherwise goes to the end (Tail, the default) or is refused (Abort). Links
// to the report and dataset are kept within a workspace, replaced by
// targetReportId/targetModelId, and dropped when the tile moves to another
// workspace without them (the tile is then broken, as the reference warns).
func (s *Server) cloneTile(w http.ResponseWriter, r *http.Request) {
	var body cloneTileRequest
	present, ok := readJSON(w, r, &body)
	if !ok {
		return
	}
	switch {
	case !present || body.TargetDashboardID == "":
		writeError(w, http.StatusBadRequest, "InvalidRequest", "targetDashboardId is required")
		return
	case !isGUID(body.TargetDashboardID),
		body.TargetWorkspaceID != nil && !isGUID(*body.TargetWorkspaceID),
		body.TargetReportID != "" && !isGUID(body.TargetReportID):
		writeError(w, http.StatusBadRequest, "InvalidRequest", "targetDashboardId, targetWorkspaceId and targetReportId must be GUIDs")
		return
	}
	action := body.PositionConflictAction
	if action == "" {
		action = "Tail"
	}
	if action != "Tail" && action != "Abort" {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "positionConflictAction must be Tail or Abort")
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	srcWS, d, groupID := s.dashboardOf(w, r)
	if d == nil {
		return
	}
	src := d.tile(r.PathValue("tileId"))
	if src == nil {
		writePBIError(w, http.StatusNotFound, "PowerBIEntityNotFound")
		return
	}
	targetWS, targetGroup := srcWS, groupID
	if body.TargetWorkspaceID != nil {
		targetGroup = strings.ToLower(*body.TargetWorkspaceID)
		if targetGroup == emptyGUID {
			targetGroup = ""
		}
		if targetWS = s.workspaceFor(r, targetGroup); targetWS == nil {
			writeGroupNotFound(w)
			return
		}
	}
	target := targetWS.dashboard(body.TargetDashboardID)
	if target == nil {
		writePBIError(w, http.StatusNotFound, "PowerBIEntityNotFound")
		return
	}

	clone := src.info
	clone.ID = newGUID()
	if targetWS != srcWS {
		clone.ReportID, clone.DatasetID = "", ""
	}
	if body.TargetReportID != "" {
		rep := targetWS.report(body.TargetReportID)
		if rep == nil {
			writePBIError(w, http.StatusNotFound, "PowerBIEntityNotFound")
			return
		}
		clone.ReportID, clone.DatasetID = rep.info.ID, rep.info.DatasetID
	}
	if body.TargetModelID != "" {
		ds, _ := s.state.findDataset(body.TargetModelID)
		if ds == nil {
			writePBIError(w, http.StatusNotFound, "PowerBIEntityNotFound")
			return
		}
		clone.DatasetID = ds.info.ID
	}
	position := src.position
	if target.occupied(position) {
		if action == "Abort" {
			writeError(w, http.StatusBadRequest, "InvalidRequest",
				"The tile's position is taken on the target dashboard and positionConflictAction is Abort")
			return
		}
		position = target.nextPosition()
	}
	target.tiles = append(target.tiles, &tile{info: clone, position: position})
	s.writeEntity(w, http.StatusOK, targetGroup, "tiles", s.toTileJSON(clone, target.info.ID, groupScope(targetGroup)))
}

// seedDashboards adds the demo dashboards: tiles pinned from the demo
// reports, a Q&A tile, and one dashboard in My workspace.
func (s *Server) seedDashboards() {
	s.AddDashboard(DemoSalesWorkspaceID, Dashboard{ID: DemoSalesDashboardID, DisplayName: "Sales Pulse", Tiles: []Tile{
		{ID: DemoRevenueTileID, Title: "Total Revenue", ReportID: DemoSalesReportID, DatasetID: DemoSalesDatasetID, RowSpan: 1, ColSpan: 2},
		{ID: DemoOrdersTileID, Title: "Orders Today", ReportID: DemoLiveOrdersReportID, DatasetID: DemoLiveOrdersDatasetID, RowSpan: 1, ColSpan: 1},
		{ID: DemoQnATileID, Title: "Top Products", DatasetID: DemoSalesDatasetID, RowSpan: 2, ColSpan: 2},
	}})
	s.AddDashboard(DemoFinanceWorkspaceID, Dashboard{ID: DemoFinanceDashboardID, DisplayName: "Finance Board", Tiles: []Tile{
		{ID: DemoNetIncomeTileID, Title: "Net Income", ReportID: DemoFinanceReportID, DatasetID: DemoFinanceKPIsDatasetID, RowSpan: 1, ColSpan: 2},
	}})
	s.AddDashboard("", Dashboard{ID: DemoBudgetDashboardID, DisplayName: "My Budget", Tiles: []Tile{
		{ID: DemoSpendingTileID, Title: "Spending", ReportID: DemoBudgetReportID, DatasetID: DemoPersonalBudgetDatasetID, RowSpan: 1, ColSpan: 1},
	}})
}
