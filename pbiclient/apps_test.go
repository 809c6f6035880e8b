package pbiclient_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// userTokens signs in as a user of the fake tenant: installed apps refuse service principals.
type userTokens struct{ srv *pbitest.Server }

func (u userTokens) Token(context.Context) (string, error) {
	return u.srv.IssueUserToken("", time.Hour), nil
}
func (userTokens) Invalidate(string) {}

func TestAppsAsUser(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	srv.SeedDemo()
	c := newClient(t, srv, userTokens{srv})
	ctx := context.Background()

	apps, err := c.ListApps(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(apps) != 2 || apps[0].ID != pbitest.DemoSalesAppID || apps[0].Name != "Sales Analytics" ||
		apps[0].PublishedBy == "" || !strings.HasPrefix(apps[0].LastUpdate, "2024-03-18T10:04:12") {
		t.Errorf("apps %+v", apps)
	}
	a, err := c.GetApp(ctx, pbitest.DemoFinanceAppID)
	if err != nil || a.Name != "Finance" {
		t.Errorf("GetApp = %+v, %v", a, err)
	}
	reps, err := c.ListAppReports(ctx, pbitest.DemoSalesAppID)
	if err != nil {
		t.Fatal(err)
	}
	if len(reps) != 1 || reps[0].ID != pbitest.DemoSalesAppReportID || reps[0].AppID != pbitest.DemoSalesAppID || reps[0].DatasetID != pbitest.DemoSalesDatasetID {
		t.Errorf("app reports %+v", reps)
	}
	rep, err := c.GetAppReport(ctx, pbitest.DemoSalesAppID, pbitest.DemoSalesAppReportID)
	if err != nil || rep.Name != "Sales Overview" {
		t.Errorf("GetAppReport = %+v, %v", rep, err)
	}
	ds, err := c.ListAppDashboards(ctx, pbitest.DemoSalesAppID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].ID != pbitest.DemoSalesAppDashboardID || ds[0].AppID != pbitest.DemoSalesAppID || !ds[0].IsReadOnly {
		t.Errorf("app dashboards %+v", ds)
	}
	d, err := c.GetAppDashboard(ctx, pbitest.DemoSalesAppID, pbitest.DemoSalesAppDashboardID)
	if err != nil || d.DisplayName != "Sales Pulse" {
		t.Errorf("GetAppDashboard = %+v, %v", d, err)
	}

	var paths []string
	for _, r := range apiRequests(srv) {
		paths = append(paths, r.Path)
	}
	want := []string{
		"/v1.0/myorg/apps",
		"/v1.0/myorg/apps/" + pbitest.DemoFinanceAppID,
		"/v1.0/myorg/apps/" + pbitest.DemoSalesAppID + "/reports",
		"/v1.0/myorg/apps/" + pbitest.DemoSalesAppID + "/reports/" + pbitest.DemoSalesAppReportID,
		"/v1.0/myorg/apps/" + pbitest.DemoSalesAppID + "/dashboards",
		"/v1.0/myorg/apps/" + pbitest.DemoSalesAppID + "/dashboards/" + pbitest.DemoSalesAppDashboardID,
	}
	if strings.Join(paths, "\n") != strings.Join(want, "\n") {
		t.Errorf("paths\n%s\nwant\n%s", strings.Join(paths, "\n"), strings.Join(want, "\n"))
	}
}

func TestAppsRefuseServicePrincipal(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	srv.SeedDemo()
	c := newClient(t, srv, newTenantTokens(srv))

	_, err := c.ListApps(context.Background())
	e := asAPIError(t, err)
	if e.StatusCode != http.StatusForbidden || e.Message != "API is not accessible for application" || e.RequestID == "" {
		t.Errorf("service principal: %+v", e)
	}
	// A refusal of this kind is final: the client must not retry it or drop its token.
	if n := len(apiRequests(srv)); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}
