package pbiclient_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// lastReq is the last request the tenant received.
func lastReq(t *testing.T, srv *pbitest.Server) pbitest.Request {
	t.Helper()
	reqs := srv.Requests()
	if len(reqs) == 0 {
		t.Fatal("no request")
	}
	return reqs[len(reqs)-1]
}

func demoClient(t *testing.T) (*pbitest.Server, *pbiclient.Client) {
	srv := newTenant(t, pbitest.Options{})
	srv.SeedDemo()
	return srv, newClient(t, srv, newTenantTokens(srv))
}

func TestGetReportAndPages(t *testing.T) {
	srv, c := demoClient(t)
	ctx := context.Background()
	r, err := c.GetReport(ctx, pbitest.DemoSalesWorkspaceID, pbitest.DemoSalesReportID)
	if err != nil || r.Name != "Sales Overview" || r.DatasetID != pbitest.DemoSalesDatasetID {
		t.Fatalf("%+v %v", r, err)
	}
	pages, err := c.ListReportPages(ctx, "", pbitest.DemoBudgetReportID)
	if err != nil || len(pages) != 2 || pages[1] != (pbiclient.ReportPage{Name: "ReportSection1", DisplayName: "Spending by Category", Order: 1}) {
		t.Fatalf("%+v %v", pages, err)
	}
	if got := lastReq(t, srv); got.Route != "GET "+apiPrefix+"/reports/{reportId}/pages" {
		t.Fatalf("My workspace pages route %s", got.Route)
	}
}

func TestCloneReportRequest(t *testing.T) {
	srv, c := demoClient(t)
	r, err := c.CloneReport(context.Background(), pbitest.DemoSalesWorkspaceID, pbitest.DemoSalesReportID,
		pbiclient.CloneReportRequest{Name: "Copy", TargetWorkspaceID: pbiclient.MyWorkspaceID, TargetModelID: pbitest.DemoPersonalBudgetDatasetID})
	if err != nil || r.Name != "Copy" || r.DatasetID != pbitest.DemoPersonalBudgetDatasetID || r.ID == "" {
		t.Fatalf("%+v %v", r, err)
	}
	got := lastReq(t, srv)
	want := `{"name":"Copy","targetWorkspaceId":"00000000-0000-0000-0000-000000000000","targetModelId":"` + pbitest.DemoPersonalBudgetDatasetID + `"}`
	if got.Method != "POST" || got.Path != apiPrefix+"/groups/"+pbitest.DemoSalesWorkspaceID+"/reports/"+pbitest.DemoSalesReportID+"/Clone" || string(got.Body) != want {
		t.Fatalf("%s %s %s", got.Method, got.Path, got.Body)
	}
	if _, ok := srv.Report("", r.ID); !ok {
		t.Fatal("the clone is not in My workspace")
	}
	// Optional fields stay out of the body.
	if _, err := c.CloneReport(context.Background(), "", pbitest.DemoBudgetReportID, pbiclient.CloneReportRequest{Name: "Again"}); err != nil {
		t.Fatal(err)
	}
	if b := string(lastReq(t, srv).Body); b != `{"name":"Again"}` {
		t.Fatal(b)
	}
}

func TestRebindUpdateTakeOverDelete(t *testing.T) {
	srv, c := demoClient(t)
	ctx := context.Background()
	mk := pbitest.DemoMarketingWorkspaceID

	if err := c.RebindReport(ctx, mk, pbitest.DemoCampaignSandboxReportID, pbitest.DemoSalesDatasetID); err != nil {
		t.Fatal(err)
	}
	if got := lastReq(t, srv); got.Route != "POST "+apiPrefix+"/groups/{groupId}/reports/{reportId}/Rebind" ||
		string(got.Body) != `{"datasetId":"`+pbitest.DemoSalesDatasetID+`"}` {
		t.Fatalf("%s %s", got.Route, got.Body)
	}

	r, err := c.UpdateReportContent(ctx, mk, pbitest.DemoCampaignSandboxReportID, pbitest.DemoSalesWorkspaceID, pbitest.DemoSalesReportID)
	if err != nil || r.ID != pbitest.DemoCampaignSandboxReportID {
		t.Fatalf("%+v %v", r, err)
	}
	want := `{"sourceType":"ExistingReport","sourceReport":{"sourceReportId":"` + pbitest.DemoSalesReportID + `","sourceWorkspaceId":"` + pbitest.DemoSalesWorkspaceID + `"}}`
	if got := lastReq(t, srv); string(got.Body) != want {
		t.Fatalf("%s", got.Body)
	}

	if err := c.TakeOverReport(ctx, pbitest.DemoFinanceWorkspaceID, pbitest.DemoInvoicesReportID); err != nil {
		t.Fatal(err)
	}
	if got := lastReq(t, srv); got.Route != "POST "+apiPrefix+"/groups/{groupId}/reports/{reportId}/Default.TakeOver" {
		t.Fatal(got.Route)
	}
	if err := c.TakeOverReport(ctx, "", pbitest.DemoInvoicesReportID); err == nil {
		t.Fatal("take over without a workspace must be refused: the API has no My workspace variant")
	}

	if err := c.DeleteReport(ctx, mk, pbitest.DemoCampaignDraftReportID); err != nil {
		t.Fatal(err)
	}
	if got := lastReq(t, srv); got.Method != "DELETE" || got.Path != apiPrefix+"/groups/"+mk+"/reports/"+pbitest.DemoCampaignDraftReportID {
		t.Fatalf("%s %s", got.Method, got.Path)
	}
	_, err = c.GetReport(ctx, mk, pbitest.DemoCampaignDraftReportID)
	var ae *pbiclient.APIError
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusNotFound {
		t.Fatalf("GET after delete: %v", err)
	}
}

func TestListReportDatasources(t *testing.T) {
	srv, c := demoClient(t)
	ds, err := c.ListReportDatasources(context.Background(), pbitest.DemoFinanceWorkspaceID, pbitest.DemoInvoicesReportID)
	if err != nil || len(ds) != 1 || ds[0].DatasourceType != "Sql" || ds[0].ConnectionDetails.Database != "Billing" {
		t.Fatalf("%+v %v", ds, err)
	}
	if got := lastReq(t, srv); got.Route != "GET "+apiPrefix+"/groups/{groupId}/reports/{reportId}/datasources" {
		t.Fatal(got.Route)
	}
}

func TestDownloadReport(t *testing.T) {
	srv, c := demoClient(t)
	ctx := context.Background()
	var buf bytes.Buffer
	d, err := c.DownloadReport(ctx, pbitest.DemoSalesWorkspaceID, pbitest.DemoSalesReportID, pbiclient.DownloadIncludeModel, &buf)
	if err != nil || d.Bytes != int64(buf.Len()) {
		t.Fatalf("%+v %v", d, err)
	}
	if got := lastReq(t, srv); got.Route != "GET "+apiPrefix+"/groups/{groupId}/reports/{reportId}/Export" || got.RawQuery != "downloadType=IncludeModel" {
		t.Fatalf("%s ? %s", got.Route, got.RawQuery)
	}
	if _, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len())); err != nil {
		t.Fatalf("the .pbix is not a zip: %v", err)
	}
	// My workspace has no downloadType: refused before sending.
	n := len(srv.Requests())
	if _, err := c.DownloadReport(ctx, "", pbitest.DemoBudgetReportID, pbiclient.DownloadLiveConnect, &buf); err == nil || len(srv.Requests()) != n {
		t.Fatalf("downloadType for My workspace: %v", err)
	}
	buf.Reset()
	if _, err := c.DownloadReport(ctx, "", pbitest.DemoBudgetReportID, "", &buf); err != nil {
		t.Fatal(err)
	}
	if got := lastReq(t, srv); got.RawQuery != "" || got.Route != "GET "+apiPrefix+"/reports/{reportId}/Export" {
		t.Fatalf("%s ? %s", got.Route, got.RawQuery)
	}
}

func TestExportRequestBodies(t *testing.T) {
	srv, c := demoClient(t)
	ctx := context.Background()
	cases := []struct {
		name, group, report string
		req                 pbiclient.ExportRequest
		want                string
	}{
		{"plain", pbitest.DemoSalesWorkspaceID, pbitest.DemoSalesReportID, pbiclient.ExportRequest{Format: "PDF"}, `{"format":"PDF"}`},
		{"power bi options", pbitest.DemoSalesWorkspaceID, pbitest.DemoSalesReportID, pbiclient.ExportRequest{Format: "PPTX",
			Pages: []string{"ReportSection1"}, BookmarkState: "H4sI", ReportLevelFilter: "Sales/Region eq 'West'", Locale: "fr-FR", IncludeHiddenPages: true,
			Identities: []pbiclient.EffectiveIdentity{{Username: "u@contoso.com", Roles: []string{"R"}, Datasets: []string{pbitest.DemoSalesDatasetID}}}},
			`{"format":"PPTX","powerBIReportConfiguration":{"settings":{"locale":"fr-FR","includeHiddenPages":true},"defaultBookmark":{"state":"H4sI"},` +
				`"reportLevelFilters":[{"filter":"Sales/Region eq 'West'"}],"pages":[{"pageName":"ReportSection1"}],` +
				`"identities":[{"username":"u@contoso.com","roles":["R"],"datasets":["` + pbitest.DemoSalesDatasetID + `"]}]}}`},
		{"paginated", pbitest.DemoFinanceWorkspaceID, pbitest.DemoInvoicesReportID, pbiclient.ExportRequest{Format: "XLSX", Paginated: true,
			ParameterValues: []pbiclient.ParameterValue{{Name: "Region", Value: "West"}, {Name: "Region", Value: "East"}},
			FormatSettings:  map[string]string{"StartPage": "1"}},
			`{"format":"XLSX","paginatedReportConfiguration":{"formatSettings":{"StartPage":"1"},"parameterValues":[{"name":"Region","value":"West"},{"name":"Region","value":"East"}]}}`},
	}
	for _, tc := range cases {
		e, err := c.ExportReport(ctx, tc.group, tc.report, tc.req)
		if err != nil || e.ID == "" {
			t.Fatalf("%s: %+v %v", tc.name, e, err)
		}
		if got := string(lastReq(t, srv).Body); got != tc.want {
			t.Errorf("%s body\n%s\nwant\n%s", tc.name, got, tc.want)
		}
	}
}
