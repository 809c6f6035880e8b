package pbitest

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestDeleteReportIsGone(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	path := "/groups/" + DemoMarketingWorkspaceID + "/reports/" + DemoCampaignDraftReportID
	r := api(t, s, "DELETE", path, nil)
	wantStatus(t, r, http.StatusOK)
	if len(r.body) != 0 {
		t.Fatalf("delete answered a body: %s", r.body)
	}
	wantStatus(t, api(t, s, "GET", path, nil), http.StatusNotFound)
	wantStatus(t, api(t, s, "DELETE", path, nil), http.StatusNotFound)
	if n := len(api(t, s, "GET", "/groups/"+DemoMarketingWorkspaceID+"/reports", nil).json(t)["value"].([]any)); n != 2 {
		t.Fatalf("%d reports left in Marketing, want 2", n)
	}
}

func TestCloneReportWire(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	src := "/groups/" + DemoSalesWorkspaceID + "/reports/" + DemoSalesReportID
	r := api(t, s, "POST", src+"/Clone", map[string]any{"name": "Copy", "targetWorkspaceId": DemoFinanceWorkspaceID, "targetModelId": DemoFinanceKPIsDatasetID})
	wantStatus(t, r, http.StatusOK)
	c := r.json(t)
	id, _ := c["id"].(string)
	if id == "" || id == DemoSalesReportID || c["name"] != "Copy" || c["datasetId"] != DemoFinanceKPIsDatasetID ||
		c["datasetWorkspaceId"] != DemoFinanceWorkspaceID || !strings.HasSuffix(c["@odata.context"].(string), "/groups/"+DemoFinanceWorkspaceID+"/$metadata#reports/$entity") {
		t.Fatalf("%s", r.body)
	}
	wantStatus(t, api(t, s, "GET", "/groups/"+DemoFinanceWorkspaceID+"/reports/"+id, nil), http.StatusOK)
	// The pages come along.
	if p := api(t, s, "GET", "/groups/"+DemoFinanceWorkspaceID+"/reports/"+id+"/pages", nil).json(t)["value"].([]any); len(p) != 3 {
		t.Fatalf("%d pages", len(p))
	}

	wantStatus(t, api(t, s, "POST", src+"/Clone", map[string]any{}), http.StatusBadRequest)
	wantStatus(t, api(t, s, "POST", src+"/Clone", map[string]any{"name": "x", "targetWorkspaceId": "11111111-2222-3333-4444-555555555555"}), http.StatusNotFound)
	wantStatus(t, api(t, s, "POST", src+"/Clone", map[string]any{"name": "x", "targetModelId": "11111111-2222-3333-4444-555555555555"}), http.StatusNotFound)
	r = api(t, s, "POST", src+"/Clone", map[string]any{"name": "Mine", "targetWorkspaceId": "00000000-0000-0000-0000-000000000000"})
	wantStatus(t, r, http.StatusOK)
	if _, ok := s.Report("", r.json(t)["id"].(string)); !ok {
		t.Fatal("clone into My workspace is not there")
	}
}

func TestRebindAndUpdateContentWire(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	sandbox := "/groups/" + DemoMarketingWorkspaceID + "/reports/" + DemoCampaignSandboxReportID
	r := api(t, s, "POST", sandbox+"/Rebind", map[string]any{"datasetId": DemoSalesDatasetID})
	wantStatus(t, r, http.StatusOK)
	if len(r.body) != 0 {
		t.Fatalf("rebind answered a body: %s", r.body)
	}
	if got := api(t, s, "GET", sandbox, nil).json(t); got["datasetId"] != DemoSalesDatasetID || got["datasetWorkspaceId"] != DemoSalesWorkspaceID {
		t.Fatalf("after rebind: %v", got)
	}
	wantStatus(t, api(t, s, "POST", sandbox+"/Rebind", map[string]any{}), http.StatusBadRequest)
	wantStatus(t, api(t, s, "POST", sandbox+"/Rebind", map[string]any{"datasetId": "11111111-2222-3333-4444-555555555555"}), http.StatusNotFound)
	invoices := "/groups/" + DemoFinanceWorkspaceID + "/reports/" + DemoInvoicesReportID
	wantStatus(t, api(t, s, "POST", invoices+"/Rebind", map[string]any{"datasetId": DemoFinanceKPIsDatasetID}), http.StatusBadRequest)

	body := map[string]any{"sourceType": "ExistingReport", "sourceReport": map[string]any{"sourceReportId": DemoSalesReportID, "sourceWorkspaceId": DemoSalesWorkspaceID}}
	r = api(t, s, "POST", sandbox+"/UpdateReportContent", body)
	wantStatus(t, r, http.StatusOK)
	if r.json(t)["id"] != DemoCampaignSandboxReportID {
		t.Fatalf("%s", r.body)
	}
	if p := api(t, s, "GET", sandbox+"/pages", nil).json(t)["value"].([]any); len(p) != 3 || p[0].(map[string]any)["displayName"] != "Overview" {
		t.Fatalf("pages after update: %v", p)
	}
	// The source is looked up in the target's workspace when sourceWorkspaceId is absent.
	wantStatus(t, api(t, s, "POST", sandbox+"/UpdateReportContent", map[string]any{"sourceType": "ExistingReport",
		"sourceReport": map[string]any{"sourceReportId": DemoSalesReportID}}), http.StatusNotFound)
	wantStatus(t, api(t, s, "POST", sandbox+"/UpdateReportContent", map[string]any{"sourceType": "Other",
		"sourceReport": map[string]any{"sourceReportId": DemoSalesReportID}}), http.StatusBadRequest)
}

func TestPaginatedOnlyOperations(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	invoices := "/groups/" + DemoFinanceWorkspaceID + "/reports/" + DemoInvoicesReportID
	r := api(t, s, "GET", invoices+"/datasources", nil)
	wantStatus(t, r, http.StatusOK)
	want := `{"@odata.context":"` + s.URL() + `/v1.0/myorg/groups/` + DemoFinanceWorkspaceID + `/$metadata#datasources","value":[` +
		`{"datasourceType":"Sql","connectionDetails":{"server":"contoso-finance.database.windows.net","database":"Billing"},` +
		`"datasourceId":"1e3a5c7d-6e8a-4b49-8de4-7f9a1b3c5d08","gatewayId":"2f4b6d8e-7f9b-4c5a-9ef5-8a0b2c4d6e19"}]}`
	if string(r.body) != want {
		t.Fatalf("datasources\n%s\nwant\n%s", r.body, want)
	}
	r = api(t, s, "POST", invoices+"/Default.TakeOver", nil)
	wantStatus(t, r, http.StatusOK)
	if len(r.body) != 0 {
		t.Fatalf("take over answered a body: %s", r.body)
	}
	monthly := "/groups/" + DemoFinanceWorkspaceID + "/reports/" + DemoFinanceReportID
	wantStatus(t, api(t, s, "GET", monthly+"/datasources", nil), http.StatusBadRequest)
	wantStatus(t, api(t, s, "POST", monthly+"/Default.TakeOver", nil), http.StatusBadRequest)
	// No My workspace variant of take over.
	wantStatus(t, api(t, s, "POST", "/reports/"+DemoBudgetReportID+"/Default.TakeOver", nil), http.StatusNotFound)
}

func TestDownloadReportDefinition(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	sales := "/groups/" + DemoSalesWorkspaceID + "/reports/" + DemoSalesReportID
	entries := func(r response) map[string]string {
		t.Helper()
		zr, err := zip.NewReader(bytes.NewReader(r.body), int64(len(r.body)))
		if err != nil {
			t.Fatalf("not a zip: %v", err)
		}
		out := map[string]string{}
		for _, f := range zr.File {
			rc, _ := f.Open()
			b, _ := io.ReadAll(rc)
			rc.Close()
			out[f.Name] = string(b)
		}
		return out
	}
	r := api(t, s, "GET", sales+"/Export?downloadType=IncludeModel", nil)
	wantStatus(t, r, http.StatusOK)
	e := entries(r)
	if _, ok := e["DataModel"]; !ok || !strings.Contains(e["Report/Layout"], `"displayName":"Regional Sales"`) || e["Version"] == "" {
		t.Fatalf("IncludeModel .pbix: %v", e)
	}
	e = entries(api(t, s, "GET", sales+"/Export?downloadType=LiveConnect", nil))
	if _, ok := e["DataModel"]; ok || !strings.Contains(e["Connections"], DemoSalesDatasetID) {
		t.Fatalf("LiveConnect .pbix: %v", e)
	}
	wantStatus(t, api(t, s, "GET", sales+"/Export?downloadType=Everything", nil), http.StatusBadRequest)

	r = api(t, s, "GET", "/groups/"+DemoFinanceWorkspaceID+"/reports/"+DemoInvoicesReportID+"/Export", nil)
	wantStatus(t, r, http.StatusOK)
	var rdl struct {
		XMLName     xml.Name
		DataSources []struct {
			Name string `xml:"Name,attr"`
		} `xml:"DataSources>DataSource"`
	}
	if err := xml.Unmarshal(r.body, &rdl); err != nil || rdl.XMLName.Local != "Report" ||
		rdl.XMLName.Space != "http://schemas.microsoft.com/sqlserver/reporting/2016/01/reportdefinition" || len(rdl.DataSources) != 1 {
		t.Fatalf("RDL %v %+v\n%s", err, rdl, r.body)
	}
}

func TestExportHiddenPagesFiltersAndBookmarks(t *testing.T) {
	s := newTestServer(t, Options{ExportDuration: 50 * time.Millisecond})
	s.SeedDemo()
	// The sandbox report has a hidden page; put it on a capacity by cloning it to Sales Analytics.
	r := api(t, s, "POST", "/groups/"+DemoMarketingWorkspaceID+"/reports/"+DemoCampaignSandboxReportID+"/Clone",
		map[string]any{"name": "Sandbox", "targetWorkspaceId": DemoSalesWorkspaceID})
	wantStatus(t, r, http.StatusOK)
	path := "/groups/" + DemoSalesWorkspaceID + "/reports/" + r.json(t)["id"].(string)

	pages := func(body any) int {
		t.Helper()
		id := startExport(t, s, path, body)
		final := waitExport(t, s, path, id)
		if final["resourceFileExtension"] == ".zip" {
			return 2
		}
		return 1
	}
	if n := pages(map[string]any{"format": "PNG"}); n != 1 {
		t.Fatalf("the hidden page was exported: %d pages", n)
	}
	if n := pages(map[string]any{"format": "PNG", "powerBIReportConfiguration": map[string]any{"settings": map[string]any{"includeHiddenPages": true}}}); n != 2 {
		t.Fatalf("includeHiddenPages: %d pages", n)
	}
	for _, bad := range []map[string]any{
		{"reportLevelFilters": []any{map[string]any{"filter": "a/b eq 1"}, map[string]any{"filter": "a/c eq 2"}}},
		{"defaultBookmark": map[string]any{"name": "b", "state": "s"}},
		{"identities": []any{map[string]any{"roles": []string{"r"}}}},
	} {
		wantStatus(t, api(t, s, "POST", path+"/ExportTo", map[string]any{"format": "PDF", "powerBIReportConfiguration": bad}), http.StatusBadRequest)
	}
}

func TestPaginatedExportFormats(t *testing.T) {
	s := newTestServer(t, Options{ExportDuration: 50 * time.Millisecond})
	s.SeedDemo()
	path := "/groups/" + DemoFinanceWorkspaceID + "/reports/" + DemoInvoicesReportID
	params := map[string]any{"parameterValues": []any{map[string]any{"name": "Region", "value": "West & East"}}}
	check := map[string]func(b []byte) bool{
		"XLSX": func(b []byte) bool {
			return zipHas(b, "xl/workbook.xml", "xl/worksheets/sheet1.xml", "[Content_Types].xml")
		},
		"DOCX": func(b []byte) bool { return zipHas(b, "word/document.xml", "_rels/.rels") },
		"PPTX": func(b []byte) bool { return zipHas(b, "ppt/presentation.xml") },
		"CSV":  func(b []byte) bool { return strings.Contains(string(b), "Region,West & East\r\n") },
		"XML": func(b []byte) bool {
			return xml.Unmarshal(b, new(struct{ XMLName xml.Name })) == nil && bytes.Contains(b, []byte("West &amp; East"))
		},
		"MHTML": func(b []byte) bool {
			return bytes.HasPrefix(b, []byte("MIME-Version: 1.0\r\nContent-Type: multipart/related"))
		},
		"PDF":           func(b []byte) bool { return bytes.HasPrefix(b, []byte("%PDF-")) },
		"ACCESSIBLEPDF": func(b []byte) bool { return bytes.HasPrefix(b, []byte("%PDF-")) },
		"IMAGE":         validTIFF,
	}
	for format, ok := range check {
		id := startExport(t, s, path, map[string]any{"format": format, "paginatedReportConfiguration": params})
		final := waitExport(t, s, path, id)
		file := download(t, s, final["resourceLocation"].(string))
		if !ok(file.body) {
			t.Errorf("%s (%s, %s): invalid file %.60q", format, final["resourceFileExtension"], file.header.Get("Content-Type"), file.body)
		}
	}
	images := map[string]func(io.Reader) error{
		"PNG":  func(r io.Reader) error { _, err := png.Decode(r); return err },
		"JPEG": func(r io.Reader) error { _, err := jpeg.Decode(r); return err },
		"GIF":  func(r io.Reader) error { _, err := gif.Decode(r); return err },
		"BMP": func(r io.Reader) error {
			b, _ := io.ReadAll(r)
			if len(b) < 54 || string(b[:2]) != "BM" || binary.LittleEndian.Uint32(b[2:]) != uint32(len(b)) {
				return io.ErrUnexpectedEOF
			}
			return nil
		},
	}
	for out, decode := range images {
		id := startExport(t, s, path, map[string]any{"format": "IMAGE", "paginatedReportConfiguration": map[string]any{"formatSettings": map[string]string{"OutputFormat": out}}})
		final := waitExport(t, s, path, id)
		file := download(t, s, final["resourceLocation"].(string))
		if err := decode(bytes.NewReader(file.body)); err != nil {
			t.Errorf("IMAGE %s: %v", out, err)
		}
	}
	// PNG is a Power BI report format; a paginated report exports images through IMAGE.
	wantStatus(t, api(t, s, "POST", path+"/ExportTo", map[string]any{"format": "PNG"}), http.StatusBadRequest)
	wantStatus(t, api(t, s, "POST", path+"/ExportTo", map[string]any{"format": "XLSX", "paginatedReportConfiguration": map[string]any{
		"identities": []any{map[string]any{"username": "a"}, map[string]any{"username": "b"}}}}), http.StatusBadRequest)
	// And a Power BI report does not take the paginated formats.
	wantStatus(t, api(t, s, "POST", "/groups/"+DemoSalesWorkspaceID+"/reports/"+DemoSalesReportID+"/ExportTo", map[string]any{"format": "XLSX"}), http.StatusBadRequest)
}

func zipHas(b []byte, names ...string) bool {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return false
	}
	have := map[string]bool{}
	for _, f := range zr.File {
		have[f.Name] = true
	}
	for _, n := range names {
		if !have[n] {
			return false
		}
	}
	return true
}

// validTIFF checks a little-endian TIFF's header, first IFD and strip bounds.
func validTIFF(b []byte) bool {
	le := binary.LittleEndian
	if len(b) < 8 || string(b[:4]) != "II*\x00" {
		return false
	}
	ifd := int(le.Uint32(b[4:]))
	if ifd+2 > len(b) {
		return false
	}
	n := int(le.Uint16(b[ifd:]))
	tags := map[uint16]uint32{}
	for i := 0; i < n; i++ {
		e := b[ifd+2+12*i:]
		tags[le.Uint16(e)] = le.Uint32(e[8:])
	}
	w, h, off, count := tags[256], tags[257], tags[273], tags[279]
	return w > 0 && h > 0 && count == w*h*3 && int(off+count) <= len(b)
}
