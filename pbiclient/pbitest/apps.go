package pbitest

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// App is a Power BI app published from a workspace and installed for the
// signed-in user. Its reports and dashboards are the app's own copies, with
// ids of their own.
type App struct {
	ID          string // filled with a random GUID when empty
	Name        string
	Description string
	PublishedBy string    // default "admin@contoso.onmicrosoft.com"
	LastUpdate  time.Time // default: when added
	Reports     []AppReport
	Dashboards  []Dashboard
}

// AppReport is a report of an app.
type AppReport struct {
	ID         string // filled with a random GUID when empty
	Name       string
	DatasetID  string
	ReportType string // default "PowerBIReport"
}

// Ids of the demo apps SeedDemo installs.
const (
	DemoSalesAppID          = "8c0e2a4b-1d3f-4f58-9c9e-0f2a4b6c8d91" // "Sales Analytics" app, published from Sales Analytics
	DemoSalesAppReportID    = "9d1f3b5c-2e4a-4a69-8daf-1a3b5c7d9ea2" // "Sales Overview" in the Sales Analytics app
	DemoSalesAppDashboardID = "0e2a4c6d-3f5b-4b7a-9eb0-2b4c6d8e0fb3" // "Sales Pulse" in the Sales Analytics app
	DemoSalesAppTileID      = "1f3b5d7e-4a6c-4c8b-8fc1-3c5d7e9f1ac4" // "Total Revenue" on the app's Sales Pulse
	DemoFinanceAppID        = "2a4c6e8f-5b7d-4d9c-9ad2-4d6e8f0a2bd5" // "Finance" app, published from Finance
	DemoFinanceAppReportID  = "3b5d7f9a-6c8e-4ead-8be3-5e7f9a1b3ce6" // "Monthly Close" in the Finance app
)

type app struct {
	info       App // Dashboards is not kept here: dashboards holds them
	dashboards []*dashboard
}

// AddApp publishes an app from a workspace and installs it for the
// signed-in user, returning it as stored. A workspace publishes at most one
// app: AddApp panics if the workspace does not exist, is My workspace or has
// an app already.
func (s *Server) AddApp(workspaceID string, a App) App {
	if a.ID == "" {
		a.ID = newGUID()
	}
	if a.PublishedBy == "" {
		a.PublishedBy = defaultConfiguredBy
	}
	if a.LastUpdate.IsZero() {
		a.LastUpdate = time.Now()
	}
	a.LastUpdate = a.LastUpdate.UTC().Truncate(time.Millisecond)
	a.Reports = append([]AppReport(nil), a.Reports...)
	for i := range a.Reports {
		if a.Reports[i].ID == "" {
			a.Reports[i].ID = newGUID()
		}
		if a.Reports[i].ReportType == "" {
			a.Reports[i].ReportType = reportTypePowerBI
		}
	}
	stored := &app{info: a}
	stored.info.Dashboards = nil
	a.Dashboards = append([]Dashboard(nil), a.Dashboards...)
	for i, d := range a.Dashboards {
		if d.ID == "" {
			a.Dashboards[i].ID = newGUID()
		}
		a.Dashboards[i].Tiles = append([]Tile(nil), d.Tiles...)
		a.Dashboards[i].IsReadOnly = true // app content is read-only for its audience
		db := &dashboard{info: a.Dashboards[i]}
		db.info.Tiles = nil
		for j := range a.Dashboards[i].Tiles {
			if a.Dashboards[i].Tiles[j].ID == "" {
				a.Dashboards[i].Tiles[j].ID = newGUID()
			}
			db.tiles = append(db.tiles, &tile{info: a.Dashboards[i].Tiles[j], position: j})
		}
		stored.dashboards = append(stored.dashboards, db)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if workspaceID == "" {
		panic("pbitest: AddApp: apps are published from a workspace, not from My workspace")
	}
	ws := s.mustWorkspace("AddApp", workspaceID)
	if ws.app != nil {
		panic(fmt.Sprintf("pbitest: AddApp: workspace %s has published an app already", workspaceID))
	}
	ws.app = stored
	return a
}

func (s *Server) appRoutes() {
	p := "GET " + apiPrefix + "/apps"
	s.handleAPI(p, s.listApps)
	s.handleAPI(p+"/{appId}", s.getApp)
	s.handleAPI(p+"/{appId}/reports", s.listAppReports)
	s.handleAPI(p+"/{appId}/reports/{reportId}", s.getAppReport)
	s.handleAPI(p+"/{appId}/dashboards", s.listAppDashboards)
	s.handleAPI(p+"/{appId}/dashboards/{dashboardId}", s.getAppDashboard)
	s.handleAPI(p+"/{appId}/dashboards/{dashboardId}/tiles", s.listAppTiles)
	s.handleAPI(p+"/{appId}/dashboards/{dashboardId}/tiles/{tileId}", s.getAppTile)
}

// appJSON is an App as the service sends it.
type appJSON struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	LastUpdate  string `json:"lastUpdate"`
	PublishedBy string `json:"publishedBy"`
}

// appReportJSON is a report read through an app: it names its app, and its
// links open it inside the app.
type appReportJSON struct {
	ID            string `json:"id"`
	ReportType    string `json:"reportType"`
	Name          string `json:"name"`
	WebURL        string `json:"webUrl"`
	EmbedURL      string `json:"embedUrl"`
	IsFromPbix    bool   `json:"isFromPbix"`
	IsOwnedByMe   bool   `json:"isOwnedByMe"`
	DatasetID     string `json:"datasetId,omitempty"`
	AppID         string `json:"appId"`
	Users         []any  `json:"users"`
	Subscriptions []any  `json:"subscriptions"`
}

func toAppJSON(a App) appJSON {
	return appJSON{ID: a.ID, Name: a.Name, Description: a.Description,
		LastUpdate: serviceTime(a.LastUpdate), PublishedBy: a.PublishedBy}
}

func (s *Server) toAppReportJSON(rep AppReport, appID string) appReportJSON {
	return appReportJSON{
		ID:            rep.ID,
		ReportType:    rep.ReportType,
		Name:          rep.Name,
		WebURL:        fmt.Sprintf("%s/groups/me/apps/%s/reports/%s", appURL, appID, rep.ID),
		EmbedURL:      fmt.Sprintf("%s/reportEmbed?reportId=%s&appId=%s&config=%s", appURL, rep.ID, appID, s.embedConfig()),
		IsFromPbix:    rep.ReportType == reportTypePowerBI,
		DatasetID:     rep.DatasetID,
		AppID:         appID,
		Users:         []any{},
		Subscriptions: []any{},
	}
}

func (s *Server) toAppDashboardJSON(d Dashboard, appID string) dashboardJSON {
	out := s.toDashboardJSON(d, "")
	out.WebURL = fmt.Sprintf("%s/groups/me/apps/%s/dashboards/%s", appURL, appID, d.ID)
	out.EmbedURL = fmt.Sprintf("%s/dashboardEmbed?dashboardId=%s&appId=%s&w=2&config=%s", appURL, d.ID, appID, s.embedConfig())
	out.AppID = appID
	return out
}

// installedApps lists the apps in the order their workspaces were added.
// The caller must hold s.mu.
func (s *Server) installedApps() []*app {
	var out []*app
	for _, ws := range s.state.workspaces {
		if ws.app != nil {
			out = append(out, ws.app)
		}
	}
	return out
}

// appOf resolves the app a request addresses. It refuses service
// principals first, as the service does for every installed-apps
// operation, and answers 404 for an app that is not installed. The caller
// must hold s.mu.
func (s *Server) appOf(w http.ResponseWriter, r *http.Request) *app {
	if refuseApplication(w, r) {
		return nil
	}
	id := r.PathValue("appId")
	for _, a := range s.installedApps() {
		if strings.EqualFold(a.info.ID, id) {
			return a
		}
	}
	writePBIError(w, http.StatusNotFound, "PowerBIEntityNotFound")
	return nil
}

func (s *Server) listApps(w http.ResponseWriter, r *http.Request) {
	if refuseApplication(w, r) {
		return
	}
	s.mu.Lock()
	items := []appJSON{}
	for _, a := range s.installedApps() {
		items = append(items, toAppJSON(a.info))
	}
	s.mu.Unlock()
	writeList(s, w, "", "apps", items)
}

func (s *Server) getApp(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	a := s.appOf(w, r)
	if a == nil {
		s.mu.Unlock()
		return
	}
	item := toAppJSON(a.info)
	s.mu.Unlock()
	s.writeEntity(w, http.StatusOK, "", "apps", item)
}

func (s *Server) listAppReports(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	a := s.appOf(w, r)
	if a == nil {
		s.mu.Unlock()
		return
	}
	items := make([]appReportJSON, 0, len(a.info.Reports))
	for _, rep := range a.info.Reports {
		items = append(items, s.toAppReportJSON(rep, a.info.ID))
	}
	s.mu.Unlock()
	writeList(s, w, "", "reports", items)
}

func (s *Server) getAppReport(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	a := s.appOf(w, r)
	if a == nil {
		s.mu.Unlock()
		return
	}
	var found *appReportJSON
	for _, rep := range a.info.Reports {
		if strings.EqualFold(rep.ID, r.PathValue("reportId")) {
			item := s.toAppReportJSON(rep, a.info.ID)
			found = &item
			break
		}
	}
	s.mu.Unlock()
	if found == nil {
		writePBIError(w, http.StatusNotFound, "PowerBIEntityNotFound")
		return
	}
	s.writeEntity(w, http.StatusOK, "", "reports", *found)
}

func (s *Server) listAppDashboards(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	a := s.appOf(w, r)
	if a == nil {
		s.mu.Unlock()
		return
	}
	items := make([]dashboardJSON, 0, len(a.dashboards))
	for _, d := range a.dashboards {
		items = append(items, s.toAppDashboardJSON(d.info, a.info.ID))
	}
	s.mu.Unlock()
	writeList(s, w, "", "dashboards", items)
}

// appDashboardOf resolves the app dashboard a request addresses. The caller
// must hold s.mu.
func (s *Server) appDashboardOf(w http.ResponseWriter, r *http.Request) (*app, *dashboard) {
	a := s.appOf(w, r)
	if a == nil {
		return nil, nil
	}
	for _, d := range a.dashboards {
		if strings.EqualFold(d.info.ID, r.PathValue("dashboardId")) {
			return a, d
		}
	}
	writePBIError(w, http.StatusNotFound, "PowerBIEntityNotFound")
	return nil, nil
}

func (s *Server) getAppDashboard(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	a, d := s.appDashboardOf(w, r)
	if d == nil {
		s.mu.Unlock()
		return
	}
	item := s.toAppDashboardJSON(d.info, a.info.ID)
	s.mu.Unlock()
	s.writeEntity(w, http.StatusOK, "", "dashboards", item)
}

func (s *Server) listAppTiles(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	a, d := s.appDashboardOf(w, r)
	if d == nil {
		s.mu.Unlock()
		return
	}
	items := make([]tileJSON, 0, len(d.tiles))
	for _, t := range d.tiles {
		items = append(items, s.toTileJSON(t.info, d.info.ID, "&appId="+a.info.ID))
	}
	s.mu.Unlock()
	writeList(s, w, "", "tiles", items)
}

func (s *Server) getAppTile(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	a, d := s.appDashboardOf(w, r)
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
	item := s.toTileJSON(t.info, d.info.ID, "&appId="+a.info.ID)
	s.mu.Unlock()
	s.writeEntity(w, http.StatusOK, "", "tiles", item)
}

// seedApps installs two demo apps, published from Sales Analytics and
// Finance. Only a signed-in user can read them: the service refuses service
// principals, so in the sandbox (signed in as one) the app tools show that
// refusal.
func (s *Server) seedApps() {
	s.AddApp(DemoSalesWorkspaceID, App{ID: DemoSalesAppID, Name: "Sales Analytics",
		Description: "Sales figures by region and product, refreshed daily.", PublishedBy: "megan.bowen@contoso.com",
		LastUpdate: time.Date(2024, time.March, 18, 10, 4, 12, 530_000_000, time.UTC),
		Reports:    []AppReport{{ID: DemoSalesAppReportID, Name: "Sales Overview", DatasetID: DemoSalesDatasetID}},
		Dashboards: []Dashboard{{ID: DemoSalesAppDashboardID, DisplayName: "Sales Pulse", Tiles: []Tile{
			{ID: DemoSalesAppTileID, Title: "Total Revenue", ReportID: DemoSalesAppReportID, DatasetID: DemoSalesDatasetID, RowSpan: 1, ColSpan: 2},
		}}},
	})
	s.AddApp(DemoFinanceWorkspaceID, App{ID: DemoFinanceAppID, Name: "Finance",
		Description: "Month-end close for the finance team.", PublishedBy: "alex.wilber@contoso.com",
		LastUpdate: time.Date(2024, time.March, 22, 16, 40, 3, 117_000_000, time.UTC),
		Reports:    []AppReport{{ID: DemoFinanceAppReportID, Name: "Monthly Close", DatasetID: DemoFinanceKPIsDatasetID}},
	})
}
