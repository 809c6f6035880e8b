package pbiclient_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// pbixContent returns a file of n bytes that starts like a ZIP package, as .pbix files do.
func pbixContent(n int) []byte {
	b := make([]byte, n)
	copy(b, "PK\x03\x04")
	for i := 4; i < n; i++ {
		b[i] = byte(i)
	}
	return b
}

func TestImportFileSendsOneMultipartPartAndWaits(t *testing.T) {
	srv := newTenant(t, pbitest.Options{ImportDuration: 50 * time.Millisecond})
	srv.SeedDemo()
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()
	content := pbixContent(200 << 10)

	imp, err := c.ImportFile(ctx, pbitest.DemoSalesWorkspaceID,
		pbiclient.ImportRequest{DisplayName: "Budget 2026.pbix", NameConflict: "CreateOrOverwrite"},
		pbiclient.ImportSource{ReaderAt: bytes.NewReader(content), Size: int64(len(content))})
	if err != nil || imp.ID == "" {
		t.Fatalf("ImportFile: %+v %v", imp, err)
	}
	reqs := apiRequests(srv)
	post := reqs[len(reqs)-1]
	if post.Method != "POST" || post.Path != apiPrefix+"/groups/"+pbitest.DemoSalesWorkspaceID+"/imports" ||
		post.RawQuery != "datasetDisplayName=Budget%202026.pbix&nameConflict=CreateOrOverwrite" {
		t.Fatalf("request %s %s?%s", post.Method, post.Path, post.RawQuery)
	}
	// The recorder keeps the first 64 KiB: the part header, then the file's first bytes.
	if !bytes.HasPrefix(post.Body, []byte("--")) || !bytes.Contains(post.Body, []byte("Content-Disposition: form-data; name=\"file\"; filename=\"Budget 2026.pbix\"\r\n")) ||
		!bytes.Contains(post.Body, content[:1000]) {
		t.Errorf("body starts %q", post.Body[:min(300, len(post.Body))])
	}

	var states []string
	done, err := c.WaitImport(ctx, pbitest.DemoSalesWorkspaceID, imp.ID, func(i pbiclient.Import) { states = append(states, i.ImportState) })
	if err != nil {
		t.Fatal(err)
	}
	if done.ImportState != "Succeeded" || len(done.Datasets) != 1 || len(done.Reports) != 1 || done.Datasets[0].Name != "Budget 2026" ||
		done.Reports[0].DatasetID != done.Datasets[0].ID {
		t.Fatalf("import %+v", done)
	}
	if states[len(states)-1] != "Succeeded" {
		t.Errorf("polls saw %v", states)
	}
	list, err := c.ListImports(ctx, pbitest.DemoSalesWorkspaceID)
	// After the seeded import that published Sales.
	if err != nil || len(list) != 2 || list[0].ID != pbitest.DemoSalesImportID || list[1].ID != imp.ID {
		t.Fatalf("ListImports: %+v %v", list, err)
	}
}

// A renewed token re-sends the upload from the start of the file, never a partial body.
func TestImportFileResendsTheWholeFileAfterTokenRenewal(t *testing.T) {
	srv := newTenant(t, pbitest.Options{ImportDuration: 10 * time.Millisecond})
	srv.SeedDemo()
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()
	content := pbixContent(1 << 20)
	if _, err := c.ListImports(ctx, ""); err != nil { // a token is cached
		t.Fatal(err)
	}
	srv.ExpireTokens()
	imp, err := c.ImportFile(ctx, "", pbiclient.ImportRequest{DisplayName: "Renewed.pbix"},
		pbiclient.ImportSource{ReaderAt: bytes.NewReader(content), Size: int64(len(content))})
	if err != nil {
		t.Fatal(err)
	}
	var posts []pbitest.Request
	for _, r := range apiRequests(srv) {
		if r.Method == "POST" {
			posts = append(posts, r)
		}
	}
	if len(posts) != 2 || posts[0].Status != http.StatusForbidden || posts[1].Status != http.StatusAccepted {
		t.Fatalf("posts: %d", len(posts))
	}
	if done, err := c.WaitImport(ctx, "", imp.ID, nil); err != nil || done.ImportState != "Succeeded" {
		t.Fatalf("%+v %v", done, err)
	}
}

func TestImportFileFailedImport(t *testing.T) {
	srv := newTenant(t, pbitest.Options{ImportDuration: 10 * time.Millisecond})
	srv.SeedDemo()
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()
	imp, err := c.ImportFile(ctx, "", pbiclient.ImportRequest{DisplayName: "Broken.pbix"},
		pbiclient.ImportSource{ReaderAt: strings.NewReader("not a package"), Size: 13})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.WaitImport(ctx, "", imp.ID, nil)
	var failed *pbiclient.JobFailedError
	if !errors.As(err, &failed) || failed.Status != "Failed" {
		t.Fatalf("%v", err)
	}
	// A conflict is refused on the POST.
	_, err = c.ImportFile(ctx, pbitest.DemoSalesWorkspaceID, pbiclient.ImportRequest{DisplayName: "Nothing.pbix", NameConflict: "Overwrite"},
		pbiclient.ImportSource{ReaderAt: strings.NewReader("PK\x03\x04"), Size: 4})
	if e := asAPIError(t, err); e.StatusCode != http.StatusNotFound || e.Code != "DuplicatePackageNotFoundError" {
		t.Fatalf("%+v", e)
	}
}

// Files from the large-import size on go through a temporary upload location in blocks, and
// no Power BI token goes to the blob URL.
func TestImportFileLargeGoesThroughUploadLocation(t *testing.T) {
	srv := newTenant(t, pbitest.Options{ImportDuration: 10 * time.Millisecond})
	srv.SeedDemo()
	c := newClient(t, srv, newTenantTokens(srv), func(cfg *pbiclient.Config) { cfg.LargeImportSize = 1000 })
	ctx := context.Background()
	content := pbixContent(5000)
	imp, err := c.ImportFile(ctx, pbitest.DemoSalesWorkspaceID, pbiclient.ImportRequest{DisplayName: "Big.pbix"},
		pbiclient.ImportSource{ReaderAt: bytes.NewReader(content), Size: int64(len(content))})
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, r := range apiRequests(srv) {
		ops = append(ops, r.Method+" "+strings.TrimPrefix(r.Path, apiPrefix+"/groups/"+pbitest.DemoSalesWorkspaceID))
	}
	if strings.Join(ops, ",") != "POST /imports/createTemporaryUploadLocation,POST /imports" {
		t.Fatalf("requests %v", ops)
	}
	last := apiRequests(srv)[1]
	if !bytes.HasPrefix(last.Body, []byte(`{"fileUrl":"`+srv.URL())) {
		t.Errorf("import body %s", last.Body)
	}
	if done, err := c.WaitImport(ctx, pbitest.DemoSalesWorkspaceID, imp.ID, nil); err != nil || done.ImportState != "Succeeded" {
		t.Fatalf("%+v %v", done, err)
	}
	// My workspace is not on a Premium capacity.
	_, err = c.ImportFile(ctx, "", pbiclient.ImportRequest{DisplayName: "Big.pbix"},
		pbiclient.ImportSource{ReaderAt: bytes.NewReader(content), Size: int64(len(content))})
	if e := asAPIError(t, err); e.StatusCode != http.StatusBadRequest {
		t.Fatalf("%+v", e)
	}
}

// pausingReader is a file that stops once, part-way, for a while: a slow disk or network share.
type pausingReader struct {
	io.ReaderAt
	at     int64
	pause  time.Duration
	paused atomic.Bool
}

func (r *pausingReader) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > r.at && !r.paused.Swap(true) {
		time.Sleep(r.pause)
	}
	return r.ReaderAt.ReadAt(p, off)
}

// The response timeout counts from when the request is all sent: an upload that takes longer
// than it is not cut off.
func TestResponseTimeoutStartsAfterTheUpload(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	srv.SeedDemo()
	c := newClient(t, srv, newTenantTokens(srv), func(cfg *pbiclient.Config) { cfg.ResponseTimeout = 2 * time.Second })
	content := pbixContent(1 << 20)
	src := &pausingReader{ReaderAt: bytes.NewReader(content), at: 512 << 10, pause: 4 * time.Second}

	imp, err := c.ImportFile(context.Background(), pbitest.DemoSalesWorkspaceID,
		pbiclient.ImportRequest{DisplayName: "Budget.pbix"}, pbiclient.ImportSource{ReaderAt: src, Size: int64(len(content))})
	if err != nil || imp.ID == "" || !src.paused.Load() {
		t.Fatalf("ImportFile: %+v %v (paused %v)", imp, err, src.paused.Load())
	}
}
