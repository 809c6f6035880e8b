package tools

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

func TestGetReportAndPages(t *testing.T) {
	st := newStack(t, stackOptions{})
	var got GetReportResult
	st.ok(t, "get_report", map[string]any{"workspace": "Finance", "report": "Invoices"}, &got)
	if got.Report.ID != pbitest.DemoInvoicesReportID || got.Report.ReportType != "PaginatedReport" || got.Report.DatasetID != "" ||
		!strings.Contains(got.Report.WebURL, "/rdlreports/") || got.Report.EmbedURL == "" {
		t.Fatalf("%+v", got.Report)
	}

	var pages ListReportPagesResult
	st.ok(t, "list_report_pages", map[string]any{"workspace": "Sales Analytics", "report": "Sales Overview", "top": 2}, &pages)
	if len(pages.Pages) != 2 || !pages.HasMore || pages.NextSkip != 2 ||
		pages.Pages[1] != (ReportPage{Name: "ReportSection1", DisplayName: "Regional Sales", Order: 1}) {
		t.Fatalf("%+v", pages)
	}
}

func TestListReportDatasources(t *testing.T) {
	st := newStack(t, stackOptions{})
	var got ListReportDatasourcesResult
	st.ok(t, "list_report_datasources", map[string]any{"workspace": "Finance", "report": pbitest.DemoInvoicesReportID}, &got)
	if len(got.Datasources) != 1 || got.Datasources[0].DatasourceType != "Sql" || got.Datasources[0].ConnectionDetails["database"] != "Billing" ||
		got.Datasources[0].ConnectionDetails["server"] != "contoso-finance.database.windows.net" || got.Datasources[0].GatewayID == "" {
		t.Fatalf("%+v", got)
	}
	// A Power BI report has no data sources of its own: Power BI refuses, and the answer says so.
	msg := st.fails(t, "list_report_datasources", map[string]any{"workspace": "Finance", "report": "Monthly Close"})
	if !strings.Contains(msg, "HTTP 400") || !strings.Contains(msg, "paginated") {
		t.Fatal(msg)
	}
}

func TestCloneReport(t *testing.T) {
	st := newStack(t, stackOptions{})
	var got CloneReportResult
	st.ok(t, "clone_report", map[string]any{"workspace": "Sales Analytics", "report": "Sales Overview", "name": "Sales Overview (Finance)",
		"target_workspace": "Finance", "target_model": "Finance KPIs"}, &got)
	if got.Clone.ID == "" || got.Clone.ID == pbitest.DemoSalesReportID || got.TargetWorkspace.ID != pbitest.DemoFinanceWorkspaceID {
		t.Fatalf("%+v", got)
	}
	r, ok := st.tenant.Report(pbitest.DemoFinanceWorkspaceID, got.Clone.ID)
	if !ok || r.Name != "Sales Overview (Finance)" || r.DatasetID != pbitest.DemoFinanceKPIsDatasetID || len(r.Pages) != 3 {
		t.Fatalf("the clone in the tenant: %+v (found %v)", r, ok)
	}
	if got.Clone.DatasetID != pbitest.DemoFinanceKPIsDatasetID {
		t.Fatalf("clone answer: %+v", got.Clone)
	}

	// Into My workspace, by the empty GUID the API uses for it.
	st.ok(t, "clone_report", map[string]any{"workspace": "Sales Analytics", "report": "Sales Overview", "name": "My copy",
		"target_workspace": "00000000-0000-0000-0000-000000000000"}, &got)
	if _, ok := st.tenant.Report("", got.Clone.ID); !ok || !got.TargetWorkspace.MyWorkspace {
		t.Fatalf("clone into My workspace: %+v", got)
	}
}

func TestDestructiveReportToolsNeedConfirmation(t *testing.T) {
	cases := []struct {
		tool  string
		args  map[string]any
		route string
	}{
		{"delete_report", map[string]any{"workspace": "Marketing", "report": "Campaign Draft"}, "DELETE /v1.0/myorg/groups/{groupId}/reports/{reportId}"},
		{"rebind_report", map[string]any{"workspace": "Marketing", "report": "Campaign Sandbox", "dataset": "Sales", "dataset_workspace": "Sales Analytics"},
			"POST /v1.0/myorg/groups/{groupId}/reports/{reportId}/Rebind"},
		{"update_report_content", map[string]any{"workspace": "Marketing", "report": "Campaign Sandbox", "source_report": "Campaign Performance"},
			"POST /v1.0/myorg/groups/{groupId}/reports/{reportId}/UpdateReportContent"},
		{"take_over_report", map[string]any{"workspace": "Finance", "report": "Invoices"},
			"POST /v1.0/myorg/groups/{groupId}/reports/{reportId}/Default.TakeOver"},
	}
	st := newStack(t, stackOptions{})
	for _, c := range cases {
		msg := st.fails(t, c.tool, c.args)
		if !strings.Contains(msg, "ask the user") || !strings.Contains(msg, "confirm: true") || !strings.Contains(msg, "Nothing was changed") {
			t.Errorf("%s: %s", c.tool, msg)
		}
		if n := st.tenant.Count(c.route); n != 0 {
			t.Errorf("%s without confirm reached Power BI (%d requests)", c.tool, n)
		}
	}
	if r, ok := st.tenant.Report(pbitest.DemoMarketingWorkspaceID, pbitest.DemoCampaignSandboxReportID); !ok || r.DatasetID != pbitest.DemoWebTrafficDatasetID || len(r.Pages) != 2 {
		t.Fatalf("the sandbox report changed without confirmation: %+v", r)
	}
	if _, ok := st.tenant.Report(pbitest.DemoMarketingWorkspaceID, pbitest.DemoCampaignDraftReportID); !ok {
		t.Fatal("the draft report was deleted without confirmation")
	}
}

func TestRebindReport(t *testing.T) {
	st := newStack(t, stackOptions{})
	var got ReportChangeResult
	st.ok(t, "rebind_report", map[string]any{"workspace": "Marketing", "report": "Campaign Sandbox",
		"dataset": "Sales", "dataset_workspace": "Sales Analytics", "confirm": true}, &got)
	r, _ := st.tenant.Report(pbitest.DemoMarketingWorkspaceID, pbitest.DemoCampaignSandboxReportID)
	if r.DatasetID != pbitest.DemoSalesDatasetID {
		t.Fatalf("datasetId after rebind: %s", r.DatasetID)
	}
	var after GetReportResult
	st.ok(t, "get_report", map[string]any{"workspace": "Marketing", "report": pbitest.DemoCampaignSandboxReportID}, &after)
	if after.Report.DatasetID != pbitest.DemoSalesDatasetID || after.Report.DatasetWorkspaceID != pbitest.DemoSalesWorkspaceID {
		t.Fatalf("get_report after rebind: %+v", after.Report)
	}
	msg := st.fails(t, "rebind_report", map[string]any{"workspace": "Finance", "report": "Invoices",
		"dataset": pbitest.DemoFinanceKPIsDatasetID, "confirm": true})
	if !strings.Contains(msg, "HTTP 400") || !strings.Contains(msg, "paginated") {
		t.Fatal(msg)
	}
}

func TestUpdateReportContentCopiesPages(t *testing.T) {
	st := newStack(t, stackOptions{})
	var got ReportChangeResult
	st.ok(t, "update_report_content", map[string]any{"workspace": "Marketing", "report": "Campaign Sandbox",
		"source_report": "Sales Overview", "source_workspace": "Sales Analytics", "confirm": true}, &got)
	var pages ListReportPagesResult
	st.ok(t, "list_report_pages", map[string]any{"workspace": "Marketing", "report": "Campaign Sandbox"}, &pages)
	var names []string
	for _, p := range pages.Pages {
		names = append(names, p.DisplayName)
	}
	if strings.Join(names, ",") != "Overview,Regional Sales,Product Performance" {
		t.Fatalf("pages after update: %v", names)
	}
	r, _ := st.tenant.Report(pbitest.DemoMarketingWorkspaceID, pbitest.DemoCampaignSandboxReportID)
	if r.DatasetID != pbitest.DemoWebTrafficDatasetID {
		t.Fatalf("the binding must stay: %s", r.DatasetID)
	}
}

func TestTakeOverReport(t *testing.T) {
	st := newStack(t, stackOptions{})
	var got ReportChangeResult
	st.ok(t, "take_over_report", map[string]any{"workspace": "Finance", "report": "Invoices", "confirm": true}, &got)
	if n := st.tenant.Count("POST /v1.0/myorg/groups/{groupId}/reports/{reportId}/Default.TakeOver"); n != 1 {
		t.Fatalf("%d take-over requests", n)
	}
	// There is no My workspace variant: the workspace is required by the schema.
	msg := st.fails(t, "take_over_report", map[string]any{"report": "Invoices", "confirm": true})
	if !strings.Contains(msg, "Invalid arguments") || !strings.Contains(msg, "workspace") {
		t.Fatal(msg)
	}
}

func TestDeleteReport(t *testing.T) {
	st := newStack(t, stackOptions{})
	var got ReportChangeResult
	st.ok(t, "delete_report", map[string]any{"workspace": "Marketing", "report": "Campaign Draft", "confirm": true}, &got)
	if got.Report.ID != pbitest.DemoCampaignDraftReportID {
		t.Fatalf("%+v", got)
	}
	msg := st.fails(t, "get_report", map[string]any{"workspace": "Marketing", "report": pbitest.DemoCampaignDraftReportID})
	if !strings.Contains(msg, "HTTP 404") {
		t.Fatal(msg)
	}
	msg = st.fails(t, "delete_report", map[string]any{"workspace": "Marketing", "report": "Campaign Draft", "confirm": true})
	if !strings.Contains(msg, `No report named "Campaign Draft"`) {
		t.Fatal(msg)
	}
}

func TestDownloadReportPBIXAndRDL(t *testing.T) {
	st := newStack(t, stackOptions{})
	var got DownloadReportResult
	st.ok(t, "download_report_pbix", map[string]any{"workspace": "Sales Analytics", "report": "Sales Overview", "download_type": "LiveConnect"}, &got)
	if filepath.Dir(got.File.Path) != st.exportDir || !strings.HasSuffix(got.File.Name, ".pbix") || got.File.MimeType != "application/zip" {
		t.Fatalf("%+v", got)
	}
	data, err := os.ReadFile(got.File.Path)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil || int64(len(data)) != got.File.Bytes {
		t.Fatalf("the .pbix is not a zip of %d bytes: %v", got.File.Bytes, err)
	}
	entries := map[string]bool{}
	for _, f := range zr.File {
		entries[f.Name] = true
	}
	if !entries["Report/Layout"] || !entries["Connections"] || entries["DataModel"] {
		t.Fatalf("a live-connected .pbix has a layout and a connection, no model: %v", entries)
	}
	if q := st.tenant.Requests()[len(st.tenant.Requests())-1].RawQuery; q != "downloadType=LiveConnect" {
		t.Fatalf("query %q", q)
	}

	// A second download never overwrites the first.
	var again DownloadReportResult
	st.ok(t, "download_report_pbix", map[string]any{"workspace": "Sales Analytics", "report": "Sales Overview"}, &again)
	if again.File.Path == got.File.Path {
		t.Fatal("the second download reused the first file's name")
	}

	st.ok(t, "download_report_pbix", map[string]any{"workspace": "Finance", "report": "Invoices"}, &got)
	rdl, _ := os.ReadFile(got.File.Path)
	if !strings.HasSuffix(got.File.Name, ".rdl") || got.ReportType != "PaginatedReport" ||
		!bytes.Contains(rdl, []byte("reporting/2016/01/reportdefinition")) || !bytes.HasPrefix(rdl, []byte("<?xml")) {
		t.Fatalf("%+v: %.80s", got, rdl)
	}

	msg := st.fails(t, "download_report_pbix", map[string]any{"report": "Budget Tracker", "download_type": "IncludeModel"})
	if !strings.Contains(msg, "My workspace") {
		t.Fatal(msg)
	}
}

func TestExportPaginatedReport(t *testing.T) {
	magic := map[string]string{"XLSX": "PK\x03\x04", "DOCX": "PK\x03\x04", "CSV": "Name,Value", "XML": "<?xml", "MHTML": "MIME-Version: 1.0",
		"ACCESSIBLEPDF": "%PDF-", "IMAGE": "II*\x00", "PDF": "%PDF-", "PPTX": "PK\x03\x04"}
	st := newStack(t, stackOptions{})
	for format, prefix := range magic {
		t.Run(format, func(t *testing.T) {
			t.Parallel() // each export takes a poll interval
			var res ExportResult
			st.ok(t, "export_report", map[string]any{"workspace": "Finance", "report": "Invoices", "format": format,
				"parameter_values": []map[string]any{{"name": "Region", "value": "West"}}}, &res)
			data, err := os.ReadFile(res.File.Path)
			if err != nil || !strings.HasPrefix(string(data), prefix) {
				t.Fatalf("%s: %v %q", format, err, data[:min(16, len(data))])
			}
			if format == "CSV" && !strings.Contains(string(data), "Region,West") {
				t.Fatalf("the parameter is not in the file: %s", data)
			}
		})
	}
	var res ExportResult
	st.ok(t, "export_report", map[string]any{"workspace": "Finance", "report": "Invoices", "format": "IMAGE",
		"format_settings": map[string]any{"OutputFormat": "PNG"}}, &res)
	if res.File.MimeType != "image/png" || filepath.Ext(res.File.Name) != ".png" {
		t.Fatalf("%+v", res.File)
	}
	body := lastExportBody(t, st)
	if !strings.Contains(body, `"paginatedReportConfiguration":{"formatSettings":{"OutputFormat":"PNG"}}`) {
		t.Fatalf("request body %s", body)
	}
	// With a format both kinds share, the report's kind decides where the identity goes.
	st.ok(t, "export_report", map[string]any{"workspace": "Finance", "report": "Invoices", "format": "PDF",
		"identities": []map[string]any{{"username": "alex@contoso.com"}}}, &res)
	if body := lastExportBody(t, st); body != `{"format":"PDF","paginatedReportConfiguration":{"identities":[{"username":"alex@contoso.com"}]}}` {
		t.Fatalf("request body %s", body)
	}
	// Power BI report options make no sense for a paginated format: refused before any export starts.
	before := st.tenant.Count("POST /v1.0/myorg/groups/{groupId}/reports/{reportId}/ExportTo")
	msg := st.fails(t, "export_report", map[string]any{"workspace": "Finance", "report": "Invoices", "format": "XLSX", "pages": []string{"ReportSection"}})
	if !strings.Contains(msg, "paginated") || st.tenant.Count("POST /v1.0/myorg/groups/{groupId}/reports/{reportId}/ExportTo") != before {
		t.Fatal(msg)
	}
}

func TestExportPowerBIReportOptions(t *testing.T) {
	st := newStack(t, stackOptions{})
	var res ExportResult
	st.ok(t, "export_report", map[string]any{"workspace": "Sales Analytics", "report": "Sales Overview", "format": "PDF",
		"bookmark_name": "Bookmark1", "report_level_filter": "Store/Territory eq 'NC'", "locale": "de-DE",
		"identities": []map[string]any{{"username": "megan@contoso.com", "roles": []string{"West"}}}}, &res)
	if res.Status != "Succeeded" {
		t.Fatalf("%+v", res)
	}
	var body struct {
		Format string `json:"format"`
		Cfg    struct {
			Settings struct {
				Locale string `json:"locale"`
			} `json:"settings"`
			DefaultBookmark struct {
				Name string `json:"name"`
			} `json:"defaultBookmark"`
			ReportLevelFilters []struct {
				Filter string `json:"filter"`
			} `json:"reportLevelFilters"`
			Identities []struct {
				Username string   `json:"username"`
				Roles    []string `json:"roles"`
			} `json:"identities"`
		} `json:"powerBIReportConfiguration"`
	}
	if err := json.Unmarshal([]byte(lastExportBody(t, st)), &body); err != nil {
		t.Fatal(err)
	}
	if body.Cfg.Settings.Locale != "de-DE" || body.Cfg.DefaultBookmark.Name != "Bookmark1" || len(body.Cfg.ReportLevelFilters) != 1 ||
		body.Cfg.ReportLevelFilters[0].Filter != "Store/Territory eq 'NC'" || len(body.Cfg.Identities) != 1 || body.Cfg.Identities[0].Roles[0] != "West" {
		t.Fatalf("%+v", body)
	}
}

// lastExportBody is the body of the last ExportTo request the tenant received.
func lastExportBody(t *testing.T, st *stack) string {
	t.Helper()
	reqs := st.tenant.Requests()
	for i := len(reqs) - 1; i >= 0; i-- {
		if strings.HasSuffix(reqs[i].Path, "/ExportTo") {
			return string(reqs[i].Body)
		}
	}
	t.Fatal("no ExportTo request")
	return ""
}

// answer is a user who answers every confirmation the same way.
type answer mcp.ElicitationResult

func (a answer) Elicit(context.Context, mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	res := mcp.ElicitationResult(a)
	return &res, nil
}

func TestConfirmationAsksClientsThatCanAsk(t *testing.T) {
	draft := map[string]any{"workspace": "Marketing", "report": "Campaign Draft", "confirm": true}
	exists := func(st *stack) bool {
		_, ok := st.tenant.Report(pbitest.DemoMarketingWorkspaceID, pbitest.DemoCampaignDraftReportID)
		return ok
	}

	// The user says no: confirm: true from the model does not override them.
	st := newStack(t, stackOptions{elicit: answer{ElicitationResponse: mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionDecline}}})
	if msg := st.fails(t, "delete_report", draft); !strings.Contains(msg, "did not agree") || !exists(st) {
		t.Fatalf("declined: %s", msg)
	}

	// The user agrees: no confirm argument needed.
	st = newStack(t, stackOptions{elicit: answer{ElicitationResponse: mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionAccept,
		Content: map[string]any{"confirm": true}}}})
	var res ReportChangeResult
	st.ok(t, "delete_report", map[string]any{"workspace": "Marketing", "report": "Campaign Draft"}, &res)
	if exists(st) {
		t.Fatal("accepted, but the report is still there")
	}

	// The prompt was dismissed (command-line clients answer so): the confirm argument decides.
	st = newStack(t, stackOptions{elicit: answer{ElicitationResponse: mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionCancel}}})
	if msg := st.fails(t, "delete_report", map[string]any{"workspace": "Marketing", "report": "Campaign Draft"}); !strings.Contains(msg, "confirm: true") || !exists(st) {
		t.Fatalf("cancelled without confirm: %s", msg)
	}
	st.ok(t, "delete_report", draft, &res)
	if exists(st) {
		t.Fatal("cancelled with confirm: true, but the report is still there")
	}
}
