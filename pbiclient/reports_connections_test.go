package pbiclient_test

import (
	"context"
	"strings"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

func TestUpdateReportDatasources(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	srv.SeedDemo()
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()
	fin, invoices := pbitest.DemoFinanceWorkspaceID, pbitest.DemoInvoicesReportID

	err := c.UpdateReportDatasources(ctx, fin, invoices, []pbiclient.RdlDatasourceUpdate{
		{DatasourceName: "DataSource1", ConnectionDetails: pbiclient.RdlConnectionDetails{Server: "billing2.database.windows.net", Database: "Billing2"}}})
	if err != nil {
		t.Fatal(err)
	}
	reqs := apiRequests(srv)
	last := reqs[len(reqs)-1]
	if last.Path != apiPrefix+"/groups/"+fin+"/reports/"+invoices+"/Default.UpdateDatasources" ||
		string(last.Body) != `{"updateDetails":[{"datasourceName":"DataSource1","connectionDetails":{"server":"billing2.database.windows.net","database":"Billing2"}}]}` {
		t.Errorf("sent %s %s", last.Path, last.Body)
	}
	got, err := c.ListReportDatasources(ctx, fin, invoices)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ConnectionDetails.Server != "billing2.database.windows.net" || got[0].ConnectionDetails.Database != "Billing2" {
		t.Errorf("datasources after the update: %+v", got)
	}

	for _, tc := range []struct {
		report, name, want string
	}{
		{invoices, "DataSource2", "no data source named"},
		{pbitest.DemoFinanceReportID, "DataSource1", "only supported for paginated reports"},
	} {
		ae := asAPIError(t, c.UpdateReportDatasources(ctx, fin, tc.report, []pbiclient.RdlDatasourceUpdate{
			{DatasourceName: tc.name, ConnectionDetails: pbiclient.RdlConnectionDetails{Server: "x"}}}))
		if ae.StatusCode != 400 || !strings.Contains(ae.Message, tc.want) {
			t.Errorf("%s %s: %d %q", tc.report, tc.name, ae.StatusCode, ae.Message)
		}
	}
}

func TestGetReportPage(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	srv.SeedDemo()
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()

	p, err := c.GetReportPage(ctx, pbitest.DemoSalesWorkspaceID, pbitest.DemoSalesReportID, "ReportSection1")
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "ReportSection1" || p.DisplayName != "Regional Sales" || p.Order != 1 {
		t.Errorf("page = %+v", p)
	}
	mine, err := c.GetReportPage(ctx, "", pbitest.DemoBudgetReportID, "ReportSection")
	if err != nil || mine.DisplayName != "Monthly Budget" {
		t.Errorf("My workspace page = %+v, %v", mine, err)
	}
	if ae := asAPIError(t, func() error {
		_, err := c.GetReportPage(ctx, pbitest.DemoSalesWorkspaceID, pbitest.DemoSalesReportID, "Regional Sales")
		return err
	}()); ae.StatusCode != 404 {
		t.Errorf("a display name as page name: %d", ae.StatusCode)
	}
}
