package pbiclient_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

func TestListReports(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	ws := srv.AddWorkspace(pbitest.Workspace{Name: "Sales"})
	ds := srv.AddDataset(ws.ID, pbitest.Dataset{Name: "Sales model"})
	rep := srv.AddReport(ws.ID, pbitest.Report{Name: "Sales report", DatasetID: ds.ID})
	mine := srv.AddReport("", pbitest.Report{Name: "Invoice", ReportType: "PaginatedReport"})
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()

	got, err := c.ListReports(ctx, ws.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("reports = %+v", got)
	}
	r := got[0]
	if r.ID != rep.ID || r.Name != "Sales report" || r.DatasetID != ds.ID || r.DatasetWorkspaceID != ws.ID ||
		r.ReportType != "PowerBIReport" || r.WebURL == "" || r.EmbedURL == "" {
		t.Errorf("report = %+v", r)
	}

	got, err = c.ListReports(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != mine.ID || got[0].ReportType != "PaginatedReport" || got[0].DatasetID != "" {
		t.Errorf("My workspace reports = %+v", got)
	}
	if n := srv.Count("GET " + apiPrefix + "/reports"); n != 1 {
		t.Errorf("My workspace route count = %d, want 1", n)
	}
}

const exportStatusRoute = "GET " + apiPrefix + "/groups/{groupId}/reports/{reportId}/exports/{exportId}"

func TestExportEndToEnd(t *testing.T) {
	srv := newTenant(t, pbitest.Options{ExportDuration: 2 * time.Second})
	ws := srv.AddWorkspace(pbitest.Workspace{Name: "Sales", IsOnDedicatedCapacity: true})
	ds := srv.AddDataset(ws.ID, pbitest.Dataset{Name: "Sales model"})
	rep := srv.AddReport(ws.ID, pbitest.Report{Name: "Sales report", DatasetID: ds.ID})
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()

	job, err := c.ExportReport(ctx, ws.ID, rep.ID, pbiclient.ExportRequest{Format: "PDF", Pages: []string{"ReportSection1"}})
	if err != nil {
		t.Fatal(err)
	}
	if job.ID == "" || job.ReportID != rep.ID || (job.Status != "NotStarted" && job.Status != "Running") {
		t.Errorf("ExportReport = %+v", job)
	}
	reqs := apiRequests(srv)
	var body any
	if err := json.Unmarshal(reqs[len(reqs)-1].Body, &body); err != nil {
		t.Fatal(err)
	}
	wantBody := map[string]any{"format": "PDF", "powerBIReportConfiguration": map[string]any{
		"pages": []any{map[string]any{"pageName": "ReportSection1"}},
	}}
	if !jsonEqual(body, wantBody) {
		t.Errorf("request body = %s", reqs[len(reqs)-1].Body)
	}

	srv.ResetRequests()
	var polls []pbiclient.Export
	done, err := c.WaitExport(ctx, ws.ID, rep.ID, job.ID, func(e pbiclient.Export) { polls = append(polls, e) })
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != "Succeeded" || done.PercentComplete != 100 || done.ResourceFileExtension != ".pdf" || done.ResourceLocation == "" {
		t.Errorf("WaitExport = %+v", done)
	}
	// Each poll came no sooner than the Retry-After of the one before.
	statusReqs := apiRequests(srv)
	if len(statusReqs) != len(polls) || len(polls) < 2 {
		t.Fatalf("%d status requests, %d onPoll calls; want the same, at least 2", len(statusReqs), len(polls))
	}
	hinted := false
	for i := 1; i < len(polls); i++ {
		wait := polls[i-1].RetryAfter
		hinted = hinted || wait > 0
		if gap := statusReqs[i].Time.Sub(statusReqs[i-1].Time); gap < wait {
			t.Errorf("poll %d came %v after the previous one, which asked for %v", i, gap, wait)
		}
	}
	if !hinted {
		t.Error("no poll carried Retry-After, so honouring it was not tested")
	}
	if n := srv.Count(exportStatusRoute); n != len(polls) {
		t.Errorf("status route count = %d, want %d", n, len(polls))
	}

	path := filepath.Join(t.TempDir(), "report"+done.ResourceFileExtension)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	dl, err := c.DownloadExport(ctx, ws.ID, rep.ID, job.ID, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("%PDF-")) || dl.Bytes != int64(len(data)) || dl.ContentType != "application/pdf" {
		t.Errorf("download = %+v, file starts %q (%d bytes)", dl, data[:min(len(data), 8)], len(data))
	}
}

// My workspace lives on shared capacity, where export to file is not available: the
// request goes to the route without /groups and the pbi.error answer is parsed.
func TestExportMyWorkspace(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	rep := srv.AddReport("", pbitest.Report{Name: "Mine"})
	c := newClient(t, srv, newTenantTokens(srv))

	_, err := c.ExportReport(context.Background(), "", rep.ID, pbiclient.ExportRequest{Format: "PNG"})
	apiErr := asAPIError(t, err)
	if apiErr.StatusCode != http.StatusForbidden || apiErr.Code != "FeatureNotAvailableError" || apiErr.OutcomeUnknown ||
		apiErr.Path != "/reports/"+rep.ID+"/ExportTo" {
		t.Errorf("APIError = %+v", apiErr)
	}
	if n := srv.Count("POST " + apiPrefix + "/reports/{reportId}/ExportTo"); n != 1 {
		t.Errorf("My workspace ExportTo count = %d, want 1", n)
	}
}

// A large export file goes straight to the writer: the bytes arrive whole, and at no point
// has the client read much more from the network than it has written.
func TestLargeExportStreams(t *testing.T) {
	const size = 48 << 20
	srv := newTenant(t, pbitest.Options{ExportDuration: 100 * time.Millisecond, ExportFileSize: size})
	ws := srv.AddWorkspace(pbitest.Workspace{Name: "Sales", IsOnDedicatedCapacity: true})
	rep := srv.AddReport(ws.ID, pbitest.Report{Name: "Big"})
	network := &countingTransport{base: srv.Client().Transport}
	c := newClient(t, srv, newTenantTokens(srv), func(cfg *pbiclient.Config) { cfg.Transport = network })
	ctx := context.Background()

	job, err := c.ExportReport(ctx, ws.ID, rep.ID, pbiclient.ExportRequest{Format: "PPTX"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitExport(ctx, ws.ID, rep.ID, job.ID, nil); err != nil {
		t.Fatal(err)
	}
	w := &aheadWriter{network: network, start: network.read.Load()}
	dl, err := c.DownloadExport(ctx, ws.ID, rep.ID, job.ID, w)
	if err != nil {
		t.Fatal(err)
	}
	if dl.Bytes != size || w.n != size || !bytes.HasPrefix(w.head, []byte("PK\x03\x04")) {
		t.Errorf("download = %+v, writer got %d bytes starting %q", dl, w.n, w.head)
	}
	if w.maxAhead > 1<<20 {
		t.Errorf("the client read %d bytes ahead of what it wrote: the file was buffered", w.maxAhead)
	}
}

// countingTransport counts the response body bytes the client reads.
type countingTransport struct {
	base http.RoundTripper
	read atomic.Int64
}

func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err == nil {
		resp.Body = &countingBody{ReadCloser: resp.Body, n: &t.read}
	}
	return resp, err
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// aheadWriter counts what it is given, keeps the first bytes, and tracks how far the
// network reads ran ahead of the writes.
type aheadWriter struct {
	network  *countingTransport
	start    int64
	n        int64
	maxAhead int64
	head     []byte
}

func (w *aheadWriter) Write(p []byte) (int, error) {
	if len(w.head) < 8 {
		w.head = append(w.head, p[:min(len(p), 8-len(w.head))]...)
	}
	w.maxAhead = max(w.maxAhead, w.network.read.Load()-w.start-w.n)
	w.n += int64(len(p))
	return len(p), nil
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}
