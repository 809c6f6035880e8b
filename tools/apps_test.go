package tools

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/rs/zerolog"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// newUserStack is newStack signed in as a user with a pre-acquired token (PBI_MCP_ACCESS_TOKEN),
// the only way the installed-apps operations work.
func newUserStack(t *testing.T) *stack {
	t.Helper()
	tenant := pbitest.NewServer(pbitest.Options{})
	t.Cleanup(tenant.Close)
	tenant.SeedDemo()
	logs := &syncBuffer{}
	pc, err := pbiclient.New(pbiclient.Config{BaseURL: tenant.APIBaseURL(), Tokens: auth.NewStaticToken(tenant.IssueUserToken("", time.Hour)),
		Transport: tenant.Client().Transport, UserAgent: "powerbi-mcp/test"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewServer(Deps{Client: pc, ExportDir: t.TempDir(), Logger: zerolog.New(logs)}, Options{Version: "test", Toolsets: []string{"apps"}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.NewInProcessClient(s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	var init mcp.InitializeRequest
	init.Params.ClientInfo = mcp.Implementation{Name: "tools-test", Version: "0"}
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatal(err)
	}
	return &stack{tenant: tenant, client: c, logs: logs}
}

func TestAppToolsAsUser(t *testing.T) {
	st := newUserStack(t)

	var apps ListAppsResult
	st.ok(t, "list_apps", map[string]any{"top": 1}, &apps)
	if apps.Count != 1 || !apps.HasMore || apps.NextSkip != 1 || apps.Apps[0].ID != pbitest.DemoSalesAppID ||
		apps.Apps[0].PublishedBy != "megan.bowen@contoso.com" || apps.Apps[0].LastUpdate == "" {
		t.Fatalf("list_apps: %+v", apps)
	}
	var app AppResult
	st.ok(t, "get_app", map[string]any{"app": "Finance"}, &app)
	if app.App.ID != pbitest.DemoFinanceAppID || app.App.Description == "" {
		t.Fatalf("get_app: %+v", app)
	}

	var reps ListAppReportsResult
	st.ok(t, "list_app_reports", map[string]any{"app": "Sales Analytics"}, &reps)
	if reps.App.ID != pbitest.DemoSalesAppID || reps.App.ResolvedBy != "name" || reps.Count != 1 ||
		reps.Reports[0].ID != pbitest.DemoSalesAppReportID || reps.Reports[0].AppID != pbitest.DemoSalesAppID {
		t.Fatalf("list_app_reports: %+v", reps)
	}
	var rep AppReportResult
	st.ok(t, "get_app_report", map[string]any{"app": pbitest.DemoSalesAppID, "report": "Sales Overview"}, &rep)
	if rep.Report.ID != pbitest.DemoSalesAppReportID || rep.Report.DatasetID != pbitest.DemoSalesDatasetID {
		t.Fatalf("get_app_report: %+v", rep)
	}

	var dashes ListAppDashboardsResult
	st.ok(t, "list_app_dashboards", map[string]any{"app": "Sales Analytics"}, &dashes)
	if dashes.Count != 1 || dashes.Dashboards[0].ID != pbitest.DemoSalesAppDashboardID || !dashes.Dashboards[0].IsReadOnly ||
		dashes.Dashboards[0].AppID != pbitest.DemoSalesAppID {
		t.Fatalf("list_app_dashboards: %+v", dashes)
	}
	var dash AppDashboardResult
	st.ok(t, "get_app_dashboard", map[string]any{"app": "Sales Analytics", "dashboard": pbitest.DemoSalesAppDashboardID}, &dash)
	if dash.Dashboard.DisplayName != "Sales Pulse" {
		t.Fatalf("get_app_dashboard: %+v", dash)
	}

	msg := st.fails(t, "get_app_dashboard", map[string]any{"app": "Finance", "dashboard": "Sales Pulse"})
	if !strings.Contains(msg, `No dashboard named "Sales Pulse"`) || !strings.Contains(msg, "list_app_dashboards") {
		t.Errorf("unknown app dashboard: %s", msg)
	}
	msg = st.fails(t, "get_app", map[string]any{"app": "Nope"})
	if !strings.Contains(msg, "list_apps") {
		t.Errorf("unknown app: %s", msg)
	}
}

// Signed in as a service principal, every app tool reports Power BI's refusal and what to do.
func TestAppToolsRefuseServicePrincipal(t *testing.T) {
	st := newStack(t, stackOptions{tools: Options{Toolsets: []string{"apps"}}})
	for name, args := range map[string]map[string]any{
		"list_apps":           nil,
		"get_app":             {"app": pbitest.DemoSalesAppID},
		"list_app_reports":    {"app": pbitest.DemoSalesAppID},
		"get_app_report":      {"app": pbitest.DemoSalesAppID, "report": pbitest.DemoSalesAppReportID},
		"list_app_dashboards": {"app": "Sales Analytics"},
		"get_app_dashboard":   {"app": pbitest.DemoSalesAppID, "dashboard": pbitest.DemoSalesAppDashboardID},
	} {
		msg := st.fails(t, name, args)
		if !strings.Contains(msg, "HTTP 403") || !strings.Contains(msg, "API is not accessible for application") ||
			!strings.Contains(msg, "signed-in user") || !strings.Contains(msg, "PBI_MCP_ACCESS_TOKEN") {
			t.Errorf("%s: %s", name, msg)
		}
	}
}
