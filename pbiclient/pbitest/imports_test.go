package pbitest

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// pbixBytes is a file that starts like a ZIP package, as .pbix files do.
var pbixBytes = append([]byte("PK\x03\x04"), bytes.Repeat([]byte{0}, 1000)...)

// postMultipart posts one part with the given Content-Disposition, as different clients do.
func postMultipart(t *testing.T, s *Server, path, disposition string, content []byte) response {
	t.Helper()
	var body bytes.Buffer
	body.WriteString("--b0undary\r\nContent-Disposition: " + disposition + "\r\n\r\n")
	body.Write(content)
	body.WriteString("\r\n--b0undary--\r\n")
	req, err := http.NewRequest("POST", s.APIBaseURL()+path, &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.IssueToken(time.Hour))
	req.Header.Set("Content-Type", "multipart/form-data; boundary=b0undary")
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: raw}
}

func startImport(t *testing.T, s *Server, groupPath, query string, content []byte) string {
	t.Helper()
	r := postMultipart(t, s, groupPath+"/imports?"+query, `form-data; name="file"; filename="x.pbix"`, content)
	wantStatus(t, r, http.StatusAccepted)
	id, _ := r.json(t)["id"].(string)
	if id == "" {
		t.Fatalf("no id in %s", r.body)
	}
	return id
}

func waitImport(t *testing.T, s *Server, groupPath, id string) map[string]any {
	t.Helper()
	var imp map[string]any
	eventually(t, "import to finish", func() bool {
		r := api(t, s, "GET", groupPath+"/imports/"+id, nil)
		wantStatus(t, r, http.StatusOK)
		imp = r.json(t)
		return imp["importState"] != "Publishing"
	})
	return imp
}

func TestImportPbixCreatesModelAndReport(t *testing.T) {
	s := newTestServer(t, Options{ImportDuration: time.Second})
	s.SeedDemo()
	g := "/groups/" + DemoSalesWorkspaceID
	id := startImport(t, s, g, "datasetDisplayName=Budget.pbix", pbixBytes)

	first := api(t, s, "GET", g+"/imports/"+id, nil).json(t)
	if first["importState"] != "Publishing" || len(first["datasets"].([]any)) != 0 {
		t.Errorf("right after the upload: %v", first)
	}
	imp := waitImport(t, s, g, id)
	if imp["importState"] != "Succeeded" || imp["name"] != "Budget" || imp["source"] != "Upload" {
		t.Fatalf("import: %v", imp)
	}
	ds := imp["datasets"].([]any)
	rp := imp["reports"].([]any)
	if len(ds) != 1 || len(rp) != 1 {
		t.Fatalf("datasets %v reports %v", ds, rp)
	}
	dsID := ds[0].(map[string]any)["id"].(string)
	if rp[0].(map[string]any)["datasetId"] != dsID {
		t.Errorf("report not bound to the imported model: %v", rp[0])
	}
	// The items are in the workspace.
	wantStatus(t, api(t, s, "GET", g+"/datasets/"+dsID, nil), http.StatusOK)
	list := api(t, s, "GET", g+"/imports", nil).json(t)
	// After the seeded import that published Sales.
	if v := list["value"].([]any); len(v) != 2 || v[0].(map[string]any)["id"] != DemoSalesImportID || v[1].(map[string]any)["id"] != id {
		t.Errorf("imports list: %v", list)
	}
}

// The .NET SDK sends a part with no name or file name; a .rdl becomes a paginated report.
func TestImportAcceptsAnySinglePart(t *testing.T) {
	s := newTestServer(t, Options{ImportDuration: 10 * time.Millisecond})
	s.SeedDemo()
	r := postMultipart(t, s, "/imports?datasetDisplayName=Invoice.rdl&nameConflict=Abort", "form-data", []byte("<Report/>"))
	wantStatus(t, r, http.StatusAccepted)
	imp := waitImport(t, s, "", r.json(t)["id"].(string))
	rp := imp["reports"].([]any)
	if imp["importState"] != "Succeeded" || len(imp["datasets"].([]any)) != 0 || len(rp) != 1 ||
		rp[0].(map[string]any)["reportType"] != "PaginatedReport" {
		t.Fatalf("rdl import: %v", imp)
	}
}

func TestImportValidation(t *testing.T) {
	s := newTestServer(t, Options{ImportDuration: 10 * time.Millisecond})
	s.SeedDemo()
	g := "/groups/" + DemoSalesWorkspaceID
	part := `form-data; name="file"; filename="x"`
	for _, c := range []struct{ query string }{
		{""},                              // no datasetDisplayName
		{"datasetDisplayName=Report.rdl"}, // rdl takes only Abort or Overwrite
		{"datasetDisplayName=Report.rdl&nameConflict=GenerateUniqueName"},
		{"datasetDisplayName=model.json&nameConflict=Overwrite"}, // dataflows: Abort or GenerateUniqueName
		{"datasetDisplayName=Budget.pbix&skipReport=false"},      // skipReport only true
		{"datasetDisplayName=Budget.pbix&nameConflict=Replace"},
		{"datasetDisplayName=Budget"}, // no extension
	} {
		r := postMultipart(t, s, g+"/imports?"+c.query, part, pbixBytes)
		if r.status != http.StatusBadRequest || errorCode(t, r) != "InvalidRequest" {
			t.Errorf("%q: %d %s", c.query, r.status, r.body)
		}
	}
	// Conflicts with the seeded "Sales" model.
	r := postMultipart(t, s, g+"/imports?datasetDisplayName=Sales.pbix&nameConflict=Abort", part, pbixBytes)
	if r.status != http.StatusBadRequest {
		t.Errorf("Abort on an existing name: %d %s", r.status, r.body)
	}
	r = postMultipart(t, s, g+"/imports?datasetDisplayName=Nothing.pbix&nameConflict=Overwrite", part, pbixBytes)
	if r.status != http.StatusNotFound || errorCode(t, r) != "DuplicatePackageNotFoundError" {
		t.Errorf("Overwrite with nothing to overwrite: %d %s", r.status, r.body)
	}
	// Two parts.
	req, _ := http.NewRequest("POST", s.APIBaseURL()+g+"/imports?datasetDisplayName=A.pbix",
		strings.NewReader("--b\r\nContent-Disposition: form-data\r\n\r\nPK\x03\x04\r\n--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--\r\n"))
	req.Header.Set("Authorization", "Bearer "+s.IssueToken(time.Hour))
	req.Header.Set("Content-Type", "multipart/form-data; boundary=b")
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("two parts: %d", resp.StatusCode)
	}
	if got := api(t, s, "GET", g+"/imports", nil).json(t)["value"].([]any); len(got) != 1 { // the seeded one
		t.Errorf("refused imports were recorded: %v", got)
	}
}

func TestImportOverwriteKeepsTheModel(t *testing.T) {
	s := newTestServer(t, Options{ImportDuration: 10 * time.Millisecond})
	s.SeedDemo()
	g := "/groups/" + DemoSalesWorkspaceID
	id := startImport(t, s, g, "datasetDisplayName=Sales.pbix&nameConflict=Overwrite", pbixBytes)
	imp := waitImport(t, s, g, id)
	ds := imp["datasets"].([]any)
	if len(ds) != 1 || ds[0].(map[string]any)["id"] != DemoSalesDatasetID {
		t.Fatalf("overwrite made %v", ds)
	}
	id = startImport(t, s, g, "datasetDisplayName=Sales.pbix&nameConflict=GenerateUniqueName&skipReport=true", pbixBytes)
	imp = waitImport(t, s, g, id)
	if imp["name"] != "Sales (2)" || len(imp["reports"].([]any)) != 0 {
		t.Fatalf("unique name, no report: %v", imp)
	}
}

func TestImportOfACorruptFileFails(t *testing.T) {
	s := newTestServer(t, Options{ImportDuration: 10 * time.Millisecond})
	s.SeedDemo()
	id := startImport(t, s, "", "datasetDisplayName=Broken.pbix", []byte("not a zip"))
	if imp := waitImport(t, s, "", id); imp["importState"] != "Failed" {
		t.Fatalf("%v", imp)
	}
}

func TestImportThrottled(t *testing.T) {
	s := newTestServer(t, Options{ImportDuration: time.Hour})
	s.SeedDemo()
	g := "/groups/" + DemoFinanceWorkspaceID
	for range maxPublishingImports {
		startImport(t, s, g, "datasetDisplayName=A.pbix", pbixBytes)
	}
	r := postMultipart(t, s, g+"/imports?datasetDisplayName=A.pbix", "form-data", pbixBytes)
	if r.status != http.StatusTooManyRequests || errorCode(t, r) != "ImportThrottlerCode" || r.header.Get("Retry-After") == "" {
		t.Fatalf("%d %v %s", r.status, r.header, r.body)
	}
}

func TestLargeImportThroughUploadLocation(t *testing.T) {
	s := newTestServer(t, Options{ImportDuration: 10 * time.Millisecond})
	s.SeedDemo()
	g := "/groups/" + DemoSalesWorkspaceID
	// Shared capacity workspaces cannot.
	wantStatus(t, api(t, s, "POST", "/groups/"+DemoMarketingWorkspaceID+"/imports/createTemporaryUploadLocation", nil), http.StatusBadRequest)
	loc := api(t, s, "POST", g+"/imports/createTemporaryUploadLocation", nil)
	wantStatus(t, loc, http.StatusOK)
	blobURL, _ := loc.json(t)["url"].(string)
	if !strings.Contains(blobURL, "sig=") || loc.json(t)["expirationTime"] == nil {
		t.Fatalf("%s", loc.body)
	}
	// Importing before the upload is committed is refused.
	r := api(t, s, "POST", g+"/imports?datasetDisplayName=Big.pbix", map[string]string{"fileUrl": blobURL})
	wantStatus(t, r, http.StatusBadRequest)

	u, _ := url.Parse(blobURL)
	put := func(q url.Values, body string) int {
		v := *u
		all := u.Query()
		for k := range q {
			all.Set(k, q.Get(k))
		}
		v.RawQuery = all.Encode()
		req, _ := http.NewRequest("PUT", v.String(), strings.NewReader(body))
		resp, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := put(url.Values{"comp": {"block"}, "blockid": {"AAAA"}}, "PK\x03\x04data"); st != http.StatusCreated {
		t.Fatalf("put block: %d", st)
	}
	if st := put(url.Values{"comp": {"blocklist"}}, "<BlockList><Latest>BBBB</Latest></BlockList>"); st != http.StatusBadRequest {
		t.Fatalf("unknown block committed: %d", st)
	}
	if st := put(url.Values{"comp": {"blocklist"}}, "<BlockList><Latest>AAAA</Latest></BlockList>"); st != http.StatusCreated {
		t.Fatalf("put block list: %d", st)
	}
	r = api(t, s, "POST", g+"/imports?datasetDisplayName=Big.pbix", map[string]string{"fileUrl": blobURL})
	wantStatus(t, r, http.StatusAccepted)
	if imp := waitImport(t, s, g, r.json(t)["id"].(string)); imp["importState"] != "Succeeded" {
		t.Fatalf("%v", imp)
	}
}
