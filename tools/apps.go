package tools

import (
	"context"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
)

// App is one installed app as the tools report it.
type App struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	LastUpdate  string `json:"lastUpdate,omitempty" jsonschema:"When the app was last published (ISO 8601)"`
	PublishedBy string `json:"publishedBy,omitempty"`
}

// AppReport is one report of an app.
type AppReport struct {
	ID         string `json:"id" jsonschema:"The report's id within the app; it differs from the id of the report in its workspace"`
	Name       string `json:"name"`
	ReportType string `json:"reportType,omitempty" jsonschema:"PowerBIReport or PaginatedReport"`
	DatasetID  string `json:"datasetId,omitempty"`
	WebURL     string `json:"webUrl,omitempty"`
	AppID      string `json:"appId,omitempty"`
}

func appOf(a pbiclient.App) App {
	return App{ID: a.ID, Name: a.Name, Description: a.Description, LastUpdate: a.LastUpdate, PublishedBy: a.PublishedBy}
}

func appReportOf(r pbiclient.AppReport) AppReport {
	return AppReport{ID: r.ID, Name: r.Name, ReportType: r.ReportType, DatasetID: r.DatasetID, WebURL: r.WebURL, AppID: r.AppID}
}

type listAppsArgs struct {
	Top  int `json:"top" minimum:"1" maximum:"1000" default:"100"`
	Skip int `json:"skip" schema:"$skip"`
}

// ListAppsResult is the answer of list_apps.
type ListAppsResult struct {
	Apps []App `json:"apps"`
	Page
}

type appArgs struct {
	App string `json:"app" schema:"$app" required:"true"`
}

// AppResult is the answer of get_app.
type AppResult struct {
	App App `json:"app"`
}

type appReportsArgs struct {
	App  string `json:"app" schema:"$app" required:"true"`
	Top  int    `json:"top" minimum:"1" maximum:"1000" default:"100"`
	Skip int    `json:"skip" schema:"$skip"`
}

// ListAppReportsResult is the answer of list_app_reports.
type ListAppReportsResult struct {
	App     ItemRef     `json:"app"`
	Reports []AppReport `json:"reports"`
	Page
}

type appReportArgs struct {
	App    string `json:"app" schema:"$app" required:"true"`
	Report string `json:"report" required:"true" jsonschema:"Its id within the app, or its name (list_app_reports)."`
}

// AppReportResult is the answer of get_app_report.
type AppReportResult struct {
	App    ItemRef   `json:"app"`
	Report AppReport `json:"report"`
}

type appDashboardsArgs struct {
	App  string `json:"app" schema:"$app" required:"true"`
	Top  int    `json:"top" minimum:"1" maximum:"1000" default:"100"`
	Skip int    `json:"skip" schema:"$skip"`
}

// ListAppDashboardsResult is the answer of list_app_dashboards.
type ListAppDashboardsResult struct {
	App        ItemRef     `json:"app"`
	Dashboards []Dashboard `json:"dashboards"`
	Page
}

type appDashboardArgs struct {
	App       string `json:"app" schema:"$app" required:"true"`
	Dashboard string `json:"dashboard" required:"true" jsonschema:"Its id within the app, or its name (list_app_dashboards)."`
}

// AppDashboardResult is the answer of get_app_dashboard.
type AppDashboardResult struct {
	App       ItemRef   `json:"app"`
	Dashboard Dashboard `json:"dashboard"`
}

func appParam() mcp.ToolOption {
	return mcp.WithString("app", mcp.Required())
}

// resolveApp reads an app argument among the installed apps.
func resolveApp(ctx context.Context, c *pbiclient.Client, arg string) (ItemRef, error) {
	return resolveItem(arg, "app", "list_apps",
		func() ([]pbiclient.App, error) { return c.ListApps(ctx) },
		func(a pbiclient.App) (string, string) { return a.ID, a.Name })
}

func appTools(d Deps) []Tool {
	return []Tool{
		tool(d, "apps", "list apps", listApps, mcp.NewTool("list_apps",
			mcp.WithDescription("List the Power BI apps installed for the signed-in user, with their ids, names, descriptions, publisher and last update."),
			annotations("List installed apps", true, false, true))),
		tool(d, "apps", "get the app", getApp, mcp.NewTool("get_app",
			mcp.WithDescription("Get one installed app: its name, description, publisher and last update."),
			annotations("Get an installed app", true, false, true))),
		tool(d, "apps", "list the app's reports", listAppReports, mcp.NewTool("list_app_reports",
			mcp.WithDescription("List the reports of an installed app, with their ids within the app, names, the semantic model each reads and web links."),
			annotations("List an app's reports", true, false, true))),
		tool(d, "apps", "get the app's report", getAppReport, mcp.NewTool("get_app_report",
			mcp.WithDescription("Get one report of an installed app by its id within the app or its exact name."),
			annotations("Get an app's report", true, false, true))),
		tool(d, "apps", "list the app's dashboards", listAppDashboards, mcp.NewTool("list_app_dashboards",
			mcp.WithDescription("List the dashboards of an installed app, with their ids within the app, names and web links."),
			annotations("List an app's dashboards", true, false, true))),
		tool(d, "apps", "get the app's dashboard", getAppDashboard, mcp.NewTool("get_app_dashboard",
			mcp.WithDescription("Get one dashboard of an installed app by its id within the app or its exact name."),
			annotations("Get an app's dashboard", true, false, true))),
	}
}

// listApps is list_apps.
func listApps(ctx context.Context, d Deps, a listAppsArgs) (ListAppsResult, error) {
	all, err := d.Client.ListApps(ctx)
	if err != nil {
		return ListAppsResult{}, err
	}
	items, page := pageOf(all, defaultInt(a.Top, 100), a.Skip)
	res := ListAppsResult{Apps: make([]App, 0, len(items)), Page: page}
	for _, x := range items {
		res.Apps = append(res.Apps, appOf(x))
	}
	return res, nil
}

// getApp is get_app.
func getApp(ctx context.Context, d Deps, a appArgs) (AppResult, error) {
	ref, err := resolveApp(ctx, d.Client, a.App)
	if err != nil {
		return AppResult{}, err
	}
	got, err := d.Client.GetApp(ctx, ref.ID)
	if err != nil {
		return AppResult{}, err
	}
	return AppResult{App: appOf(got)}, nil
}

// listAppReports is list_app_reports.
func listAppReports(ctx context.Context, d Deps, a appReportsArgs) (ListAppReportsResult, error) {
	ref, err := resolveApp(ctx, d.Client, a.App)
	if err != nil {
		return ListAppReportsResult{}, err
	}
	all, err := d.Client.ListAppReports(ctx, ref.ID)
	if err != nil {
		return ListAppReportsResult{}, err
	}
	items, page := pageOf(all, defaultInt(a.Top, 100), a.Skip)
	res := ListAppReportsResult{App: ref, Reports: make([]AppReport, 0, len(items)), Page: page}
	for _, r := range items {
		res.Reports = append(res.Reports, appReportOf(r))
	}
	return res, nil
}

// getAppReport is get_app_report.
func getAppReport(ctx context.Context, d Deps, a appReportArgs) (AppReportResult, error) {
	app, err := resolveApp(ctx, d.Client, a.App)
	if err != nil {
		return AppReportResult{}, err
	}
	ref, err := resolveItem(a.Report, "report", "list_app_reports",
		func() ([]pbiclient.AppReport, error) { return d.Client.ListAppReports(ctx, app.ID) },
		func(r pbiclient.AppReport) (string, string) { return r.ID, r.Name })
	if err != nil {
		return AppReportResult{}, err
	}
	got, err := d.Client.GetAppReport(ctx, app.ID, ref.ID)
	if err != nil {
		return AppReportResult{}, err
	}
	return AppReportResult{App: app, Report: appReportOf(got)}, nil
}

// listAppDashboards is list_app_dashboards.
func listAppDashboards(ctx context.Context, d Deps, a appDashboardsArgs) (ListAppDashboardsResult, error) {
	ref, err := resolveApp(ctx, d.Client, a.App)
	if err != nil {
		return ListAppDashboardsResult{}, err
	}
	all, err := d.Client.ListAppDashboards(ctx, ref.ID)
	if err != nil {
		return ListAppDashboardsResult{}, err
	}
	items, page := pageOf(all, defaultInt(a.Top, 100), a.Skip)
	res := ListAppDashboardsResult{App: ref, Dashboards: make([]Dashboard, 0, len(items)), Page: page}
	for _, x := range items {
		res.Dashboards = append(res.Dashboards, dashboardOf(x))
	}
	return res, nil
}

// getAppDashboard is get_app_dashboard.
func getAppDashboard(ctx context.Context, d Deps, a appDashboardArgs) (AppDashboardResult, error) {
	app, err := resolveApp(ctx, d.Client, a.App)
	if err != nil {
		return AppDashboardResult{}, err
	}
	ref, err := resolveItem(a.Dashboard, "dashboard", "list_app_dashboards",
		func() ([]pbiclient.Dashboard, error) { return d.Client.ListAppDashboards(ctx, app.ID) },
		func(x pbiclient.Dashboard) (string, string) { return x.ID, x.DisplayName })
	if err != nil {
		return AppDashboardResult{}, err
	}
	got, err := d.Client.GetAppDashboard(ctx, app.ID, ref.ID)
	if err != nil {
		return AppDashboardResult{}, err
	}
	return AppDashboardResult{App: app, Dashboard: dashboardOf(got)}, nil
}
