package pbitest

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// startExport posts an export and returns its id.
func startExport(t *testing.T, s *Server, reportPath string, body any) string {
	t.Helper()
	r := api(t, s, "POST", reportPath+"/ExportTo", body)
	wantStatus(t, r, http.StatusAccepted)
	e := r.json(t)
	id, _ := e["id"].(string)
	if e["status"] != "NotStarted" || e["percentComplete"] != float64(0) || id == "" {
		t.Fatalf("new export %s", r.body)
	}
	return id
}

// waitExport polls an export until it is over and returns the final state.
func waitExport(t *testing.T, s *Server, reportPath, id string) map[string]any {
	t.Helper()
	var last response
	eventually(t, "export to finish", func() bool {
		last = api(t, s, "GET", reportPath+"/exports/"+url.PathEscape(id), nil)
		if last.status == http.StatusAccepted {
			retry, err := strconv.Atoi(last.header.Get("Retry-After"))
			if err != nil || retry < 1 {
				t.Fatalf("202 without a usable Retry-After: %v", last.header)
			}
			return false
		}
		return true
	})
	wantStatus(t, last, http.StatusOK)
	return last.json(t)
}

func download(t *testing.T, s *Server, location string) response {
	t.Helper()
	r := do(t, s, "GET", location, s.IssueToken(time.Hour), nil)
	wantStatus(t, r, http.StatusOK)
	return r
}

func TestExportLifecycle(t *testing.T) {
	s := newTestServer(t, Options{ExportDuration: 200 * time.Millisecond})
	s.SeedDemo()
	report := "/groups/" + DemoSalesWorkspaceID + "/reports/" + DemoSalesReportID

	for _, tc := range []struct {
		format, ext, contentType string
		pages                    []string
		check                    func(*testing.T, []byte, int)
	}{
		{"PDF", ".pdf", "application/pdf", nil, checkPDF},
		{"pptx", ".pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation", []string{"ReportSection2", "ReportSection"}, checkPPTX},
		{"PNG", ".png", "image/png", []string{"ReportSection1"}, func(t *testing.T, b []byte, _ int) { checkPNG(t, b) }},
		{"PNG", ".zip", "application/zip", nil, checkPNGZip},
	} {
		t.Run(tc.format+tc.ext, func(t *testing.T) {
			body := map[string]any{"format": tc.format}
			if tc.pages != nil {
				var pages []map[string]string
				for _, p := range tc.pages {
					pages = append(pages, map[string]string{"pageName": p})
				}
				body["powerBIReportConfiguration"] = map[string]any{"pages": pages}
			}
			id := startExport(t, s, report, body)
			if !strings.ContainsAny(id, "/") || !strings.Contains(id, "+") || !strings.HasSuffix(id, "=") {
				t.Errorf("export id %q lacks the characters that need escaping", id)
			}
			done := waitExport(t, s, report, id)
			wantLocation := s.APIBaseURL() + report + "/exports/" + url.PathEscape(id) + "/file"
			if done["status"] != "Succeeded" || done["percentComplete"] != float64(100) ||
				done["resourceLocation"] != wantLocation || done["resourceFileExtension"] != tc.ext ||
				done["reportName"] != "Sales Overview" || done["reportId"] != DemoSalesReportID {
				t.Errorf("finished export %v", done)
			}
			if exp, _ := time.Parse(time.RFC3339, done["expirationTime"].(string)); exp.Before(time.Now().Add(23 * time.Hour)) {
				t.Errorf("expirationTime %v", done["expirationTime"])
			}
			f := download(t, s, done["resourceLocation"].(string))
			if ct := f.header.Get("Content-Type"); ct != tc.contentType {
				t.Errorf("Content-Type %q", ct)
			}
			pages := len(tc.pages)
			if pages == 0 {
				pages = 3
			}
			tc.check(t, f.body, pages)
		})
	}
}

func TestExportStates(t *testing.T) {
	j := &exportJob{pages: make([]Page, 4), created: time.Unix(1000, 0), duration: 10 * time.Second}
	var last int
	for _, tc := range []struct {
		after  time.Duration
		status string
	}{
		{0, "NotStarted"}, {500 * time.Millisecond, "NotStarted"}, {3 * time.Second, "Running"},
		{6 * time.Second, "Running"}, {9900 * time.Millisecond, "Running"}, {10 * time.Second, "Succeeded"},
	} {
		status, percent := j.state(j.created.Add(tc.after))
		if status != tc.status || percent < last || (status != "Succeeded" && percent >= 100) {
			t.Errorf("after %v: %s %d%%", tc.after, status, percent)
		}
		last = percent
	}
	if last != 100 {
		t.Errorf("finished at %d%%", last)
	}
}

// TestHoldExports: a held export stays Running, whatever ExportDuration says, and asks to be
// polled again in a second; once released it ends, its timestamps in order.
func TestHoldExports(t *testing.T) {
	s := newTestServer(t, Options{ExportDuration: time.Millisecond})
	s.SeedDemo()
	report := "/groups/" + DemoSalesWorkspaceID + "/reports/" + DemoSalesReportID
	release := s.HoldExports()
	id := startExport(t, s, report, map[string]string{"format": "PDF"})
	time.Sleep(20 * time.Millisecond) // well past ExportDuration
	r := api(t, s, "GET", report+"/exports/"+url.PathEscape(id), nil)
	wantStatus(t, r, http.StatusAccepted)
	running := r.json(t)
	if running["status"] != "Running" || r.header.Get("Retry-After") != "1" {
		t.Fatalf("held export: %v, Retry-After %q", running, r.header.Get("Retry-After"))
	}
	wantStatus(t, api(t, s, "GET", report+"/exports/"+url.PathEscape(id)+"/file", nil), http.StatusBadRequest)

	release()
	release() // a second release is harmless
	done := waitExport(t, s, report, id)
	if done["status"] != "Succeeded" || done["lastActionDateTime"].(string) <= running["lastActionDateTime"].(string) {
		t.Fatalf("released export %v after %v", done, running)
	}
	download(t, s, done["resourceLocation"].(string))
}

func TestExportErrors(t *testing.T) {
	s := newTestServer(t, Options{ExportDuration: time.Hour})
	s.SeedDemo()
	sales := "/groups/" + DemoSalesWorkspaceID + "/reports/" + DemoSalesReportID

	r := api(t, s, "POST", "/groups/"+DemoMarketingWorkspaceID+"/reports/"+DemoMarketingReportID+"/ExportTo", map[string]string{"format": "PDF"})
	wantStatus(t, r, http.StatusForbidden)
	if !strings.Contains(string(r.body), `"code":"FeatureNotAvailableError","pbi.error"`) {
		t.Errorf("shared capacity export: %s", r.body)
	}
	r = api(t, s, "POST", sales+"/ExportTo", map[string]string{"format": "XLSX"})
	wantStatus(t, r, http.StatusBadRequest)
	if string(r.body) != `{"error":{"code":"InvalidRequest","message":"Export report was called with an unsupported file format"}}` {
		t.Errorf("paginated format: %s", r.body)
	}
	wantStatus(t, api(t, s, "POST", sales+"/ExportTo", map[string]string{"format": "GIF"}), http.StatusBadRequest)
	wantStatus(t, api(t, s, "POST", sales+"/ExportTo", nil), http.StatusBadRequest)
	wantStatus(t, api(t, s, "POST", sales+"/ExportTo", map[string]any{"format": "PDF",
		"powerBIReportConfiguration": map[string]any{"pages": []map[string]string{{"pageName": "NoSuchPage"}}}}), http.StatusBadRequest)
	wantStatus(t, api(t, s, "POST", "/groups/"+DemoSalesWorkspaceID+"/reports/"+newGUID()+"/ExportTo", map[string]string{"format": "PDF"}), http.StatusNotFound)

	id := startExport(t, s, sales, map[string]string{"format": "PDF"})
	r = api(t, s, "GET", sales+"/exports/"+url.PathEscape(id), nil)
	wantStatus(t, r, http.StatusAccepted)
	if retry, _ := strconv.Atoi(r.header.Get("Retry-After")); retry < 3000 {
		t.Errorf("Retry-After %q for an hour-long export", r.header.Get("Retry-After"))
	}
	if e := r.json(t); e["expirationTime"] != "0001-01-01T00:00:00Z" || e["resourceLocation"] != nil {
		t.Errorf("unfinished export %v", e)
	}
	wantStatus(t, api(t, s, "GET", sales+"/exports/"+url.PathEscape(id)+"/file", nil), http.StatusBadRequest)
	// An id sent without escaping its '/' names another path.
	if r := api(t, s, "GET", sales+"/exports/"+id, nil); r.status == http.StatusAccepted {
		t.Error("unescaped export id was accepted")
	}
	wantStatus(t, api(t, s, "GET", sales+"/exports/"+url.PathEscape("bm90LWFuLWV4cG9ydA=="), nil), http.StatusNotFound)
}

func TestExportFileSize(t *testing.T) {
	for _, format := range []string{"PDF", "PPTX", "PNG"} {
		for _, size := range []int64{1, 3000, 9999, 10000, 100001, 1 << 20} {
			c := exportContent{reportName: "Sales Overview", pages: []Page{{Name: "ReportSection", DisplayName: "Overview"}, {Name: "ReportSection1", DisplayName: "Regional (West) \\ East"}}}
			f, err := renderExport(format, c, size)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := f.write(&buf); err != nil {
				t.Fatal(err)
			}
			if int64(buf.Len()) != f.size {
				t.Errorf("%s: announced %d bytes, wrote %d", format, f.size, buf.Len())
			}
			// Sizes below the unpadded file cannot be met; the others are
			// met exactly.
			if size >= 10000 && int64(buf.Len()) != size {
				t.Errorf("%s: asked %d bytes, got %d", format, size, buf.Len())
			}
			switch format {
			case "PDF":
				checkPDF(t, buf.Bytes(), 2)
			case "PPTX":
				checkPPTX(t, buf.Bytes(), 2)
			case "PNG":
				checkPNGZip(t, buf.Bytes(), 2)
			}
		}
	}
}

// TestLargeExportStreams downloads a 100 MB export and checks that the
// server generated it as it went rather than building it in memory.
func TestLargeExportStreams(t *testing.T) {
	const size = 100 << 20
	s := newTestServer(t, Options{ExportDuration: time.Millisecond, ExportFileSize: size})
	s.SeedDemo()
	report := "/groups/" + DemoFinanceWorkspaceID + "/reports/" + DemoFinanceReportID
	id := startExport(t, s, report, map[string]string{"format": "PDF"})
	done := waitExport(t, s, report, id)

	req, _ := http.NewRequest("GET", done["resourceLocation"].(string), nil)
	req.Header.Set("Authorization", "Bearer "+s.IssueToken(time.Hour))
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ContentLength != size {
		t.Errorf("Content-Length %d", resp.ContentLength)
	}
	head := make([]byte, 16)
	if _, err := io.ReadFull(resp.Body, head); err != nil {
		t.Fatal(err)
	}
	tail := &tailWriter{keep: 64}
	n, err := io.Copy(tail, resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)

	if got := n + int64(len(head)); got != size {
		t.Errorf("downloaded %d bytes, want %d", got, size)
	}
	if !bytes.HasPrefix(head, []byte("%PDF-1.7\n")) || !bytes.HasSuffix(tail.buf, []byte("\n%%EOF\n")) {
		t.Errorf("not a PDF: head %q tail %q", head, tail.buf)
	}
	// Both ends of the connection run in this process, so this counts the
	// allocations of client and server together. Building the file in
	// memory would cost at least its size; streaming costs a little per
	// chunk written (more under -race, where sync.Pool keeps fewer
	// buffers), far below a third of it.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > size/3 {
		t.Errorf("allocated %d MB while streaming a %d MB file", alloc>>20, size>>20)
	}
}

// tailWriter keeps the last bytes written to it.
type tailWriter struct {
	keep int
	buf  []byte
}

func (w *tailWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	if len(w.buf) > w.keep {
		w.buf = append(w.buf[:0], w.buf[len(w.buf)-w.keep:]...)
	}
	return len(p), nil
}

var (
	startxrefRe = regexp.MustCompile(`startxref\n(\d+)\n%%EOF\n$`)
	objRe       = regexp.MustCompile(`^(\d+) 0 obj\n`)
)

// checkPDF follows the PDF's xref table: every entry must point at the
// object it names.
func checkPDF(t *testing.T, b []byte, pages int) {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("%PDF-1.7\n")) {
		t.Fatalf("no PDF header: %q", b[:min(len(b), 16)])
	}
	m := startxrefRe.FindSubmatch(b)
	if m == nil {
		t.Fatalf("no startxref trailer: %q", b[max(0, len(b)-64):])
	}
	xref, _ := strconv.Atoi(string(m[1]))
	if xref >= len(b) || !bytes.HasPrefix(b[xref:], []byte("xref\n0 ")) {
		t.Fatalf("startxref %d does not point at the xref table", xref)
	}
	lines := strings.Split(string(b[xref:]), "\n")
	count, _ := strconv.Atoi(strings.Fields(lines[1])[1])
	for obj := 1; obj < count; obj++ {
		entry := lines[2+obj]
		off, _ := strconv.Atoi(entry[:10])
		om := objRe.FindSubmatch(b[off:min(len(b), off+20)])
		if len(entry) != 19 || om == nil || string(om[1]) != strconv.Itoa(obj) {
			t.Fatalf("xref entry %d (%q) points at %q", obj, entry, b[off:min(len(b), off+20)])
		}
	}
	if got := bytes.Count(b, []byte("/Type /Page ")); got != pages {
		t.Errorf("%d pages, want %d", got, pages)
	}
}

func checkPPTX(t *testing.T, b []byte, pages int) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("PPTX is not a zip: %v", err)
	}
	names := map[string]bool{}
	slides := 0
	for _, f := range zr.File {
		names[f.Name] = true
		if strings.HasPrefix(f.Name, "ppt/slides/slide") {
			slides++
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, rc); err != nil {
			t.Fatalf("%s: %v", f.Name, err) // checksum errors show here
		}
		rc.Close()
	}
	for _, want := range []string{"[Content_Types].xml", "_rels/.rels", "ppt/presentation.xml", "ppt/slideMasters/slideMaster1.xml", "ppt/theme/theme1.xml"} {
		if !names[want] {
			t.Errorf("PPTX lacks %s", want)
		}
	}
	if slides != pages {
		t.Errorf("%d slides, want %d", slides, pages)
	}
}

// checkPNG walks the chunks, checking order and CRCs, then decodes it.
func checkPNG(t *testing.T, b []byte) {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("no PNG signature: %q", b[:min(len(b), 8)])
	}
	var types []string
	for rest := b[8:]; len(rest) > 0; {
		if len(rest) < 12 {
			t.Fatalf("truncated chunk")
		}
		n := binary.BigEndian.Uint32(rest)
		typ, data := rest[4:8], rest[8:8+n]
		if crc32.ChecksumIEEE(append(append([]byte{}, typ...), data...)) != binary.BigEndian.Uint32(rest[8+n:]) {
			t.Fatalf("bad CRC in %s chunk", typ)
		}
		types = append(types, string(typ))
		rest = rest[12+n:]
	}
	if types[0] != "IHDR" || types[len(types)-1] != "IEND" || !strings.Contains(strings.Join(types, " "), "IDAT") {
		t.Errorf("chunks %v", types)
	}
	if _, err := png.Decode(bytes.NewReader(b)); err != nil {
		t.Errorf("PNG does not decode: %v", err)
	}
}

func checkPNGZip(t *testing.T, b []byte, pages int) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("multi-page PNG export is not a zip: %v", err)
	}
	if len(zr.File) != pages {
		t.Errorf("%d images, want %d", len(zr.File), pages)
	}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		img, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		if !strings.HasPrefix(f.Name, "ReportSection") || !strings.HasSuffix(f.Name, ".png") {
			t.Errorf("image named %q", f.Name)
		}
		checkPNG(t, img)
	}
}
