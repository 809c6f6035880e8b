package pbitest

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

func (s *Server) exportRoutes() {
	s.handleBoth("POST", "/reports/{reportId}/ExportTo", s.postExport)
	s.handleBoth("GET", "/reports/{reportId}/exports/{exportId}", s.getExport)
	s.handleBoth("GET", "/reports/{reportId}/exports/{exportId}/file", s.getExportFile)
}

// exportFileLifetime is how long an export's file stays downloadable.
const exportFileLifetime = 24 * time.Hour

// exportJob is one export of a report. It is NotStarted for its first
// tenth, Running until created+duration, then Succeeded.
type exportJob struct {
	id         string
	format     string
	reportID   string
	reportName string
	pages      []Page // the pages exported, in order
	created    time.Time
	duration   time.Duration

	// Paginated reports only.
	paginated   bool
	parameters  []paramValue
	imageFormat string
}

// exportFormat describes a format the fake can produce.
type exportFormat struct {
	extension, contentType string
}

var exportFormats = map[string]exportFormat{
	"PDF":  {".pdf", "application/pdf"},
	"PPTX": {".pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
	"PNG":  {".png", "image/png"},
}

// paginatedOnlyFormats are valid ExportTo formats that only paginated
// reports support.
var paginatedOnlyFormats = map[string]bool{
	"IMAGE": true, "XLSX": true, "DOCX": true, "CSV": true, "XML": true, "MHTML": true, "ACCESSIBLEPDF": true,
}

// paginatedFormats are the formats a paginated report exports to: its own
// and PDF and PPTX, but not PNG (IMAGE with OutputFormat PNG instead).
var paginatedFormats = map[string]exportFormat{
	"PDF":           {".pdf", "application/pdf"},
	"ACCESSIBLEPDF": {".pdf", "application/pdf"},
	"PPTX":          exportFormats["PPTX"],
	"XLSX":          {".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
	"DOCX":          {".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
	"CSV":           {".csv", "text/csv"},
	"XML":           {".xml", "text/xml"},
	"MHTML":         {".mhtml", "multipart/related"},
	"IMAGE":         imageFormats["TIFF"],
}

// fileFormat is the format of the produced file: several pages of PNG
// come as a zip of one image per page.
func (j *exportJob) fileFormat() exportFormat {
	switch {
	case j.format == "PNG" && len(j.pages) > 1:
		return exportFormat{".zip", "application/zip"}
	case j.format == "IMAGE":
		return imageFormats[j.imageFormat]
	case j.paginated:
		return paginatedFormats[j.format]
	}
	return exportFormats[j.format]
}

func (j *exportJob) state(now time.Time) (status string, percent int) {
	elapsed := now.Sub(j.created)
	switch {
	case elapsed >= j.duration:
		return "Succeeded", 100
	case elapsed < j.duration/10:
		return "NotStarted", 0
	}
	// Each page counts as one unit of work, as the service reports it.
	done := int(float64(len(j.pages)) * float64(elapsed) / float64(j.duration))
	return "Running", min(99, done*100/len(j.pages))
}

// HoldExports keeps every export job, those running and those started later, Running until
// release is called, so a test can keep export calls in flight for as long as it needs. While
// held, a status poll answers 202 with Retry-After: 1. After release, each job ends as
// ExportDuration allows; one that would have ended during the hold ends at once.
func (s *Server) HoldExports() (release func()) {
	s.mu.Lock()
	s.exportsHeld = true
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			s.exportsHeld = false
			s.mu.Unlock()
		})
	}
}

// exportState is j's state as a client sees it now, HoldExports included. The caller must hold
// s.mu.
func (s *Server) exportState(j *exportJob, now time.Time) (status string, percent int) {
	status, percent = j.state(now)
	if s.exportsHeld && status == "Succeeded" {
		// The job's end moves with the clock, so once released it ends just after it was last
		// seen Running and its timestamps stay in order.
		j.duration = now.Sub(j.created) + time.Millisecond
		return j.state(now)
	}
	return status, percent
}

// newExportID makes an opaque export id in the shape of the service's:
// base64 with padding. It always holds '/', '+' and '=' so that clients
// that forget to path-escape it fail here rather than in production.
func newExportID() string {
	b := make([]byte, 47) // 47 bytes end in "=" once encoded
	_, _ = rand.Read(b)
	// Bytes 12-14 encode to four characters; these bits make the middle
	// two "+/".
	b[12] |= 0x03
	b[13] = 0xEF
	b[14] |= 0xC0
	return base64.StdEncoding.EncodeToString(b)
}

// exportTime formats export timestamps with the 7 fractional digits .NET
// emits for them.
func exportTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.0000000Z")
}

// exportJSON is an Export as the service sends it, fields in its order.
type exportJSON struct {
	ID                    string `json:"id"`
	CreatedDateTime       string `json:"createdDateTime"`
	LastActionDateTime    string `json:"lastActionDateTime"`
	ReportID              string `json:"reportId"`
	ReportName            string `json:"reportName"`
	Status                string `json:"status"`
	PercentComplete       int    `json:"percentComplete"`
	ResourceLocation      string `json:"resourceLocation,omitempty"`
	ResourceFileExtension string `json:"resourceFileExtension,omitempty"`
	ExpirationTime        string `json:"expirationTime"`
}

func (s *Server) exportURL(groupID string, j *exportJob) string {
	base := s.APIBaseURL()
	if groupID != "" {
		base += "/groups/" + groupID
	}
	return base + "/reports/" + j.reportID + "/exports/" + url.PathEscape(j.id)
}

func (s *Server) toExportJSON(groupID string, j *exportJob, now time.Time) exportJSON {
	status, percent := s.exportState(j, now)
	out := exportJSON{
		ID:              j.id,
		CreatedDateTime: exportTime(j.created),
		ReportID:        j.reportID,
		ReportName:      j.reportName,
		Status:          status,
		PercentComplete: percent,
		// Until the file exists the service sends .NET's zero date.
		ExpirationTime: "0001-01-01T00:00:00Z",
	}
	switch status {
	case "NotStarted":
		out.LastActionDateTime = out.CreatedDateTime
	case "Running":
		out.LastActionDateTime = exportTime(now)
	default:
		done := j.created.Add(j.duration)
		out.LastActionDateTime = exportTime(done)
		out.ResourceLocation = s.exportURL(groupID, j) + "/file"
		out.ResourceFileExtension = j.fileFormat().extension
		out.ExpirationTime = exportTime(done.Add(exportFileLifetime))
	}
	return out
}

// exportRequest is the part of ExportReportRequest the fake reads.
type exportRequest struct {
	Format                     string `json:"format"`
	PowerBIReportConfiguration *struct {
		Settings *struct {
			Locale             string `json:"locale"`
			IncludeHiddenPages bool   `json:"includeHiddenPages"`
		} `json:"settings"`
		DefaultBookmark    *bookmarkJSON `json:"defaultBookmark"`
		ReportLevelFilters []struct {
			Filter string `json:"filter"`
		} `json:"reportLevelFilters"`
		Pages []struct {
			PageName   string        `json:"pageName"`
			VisualName string        `json:"visualName"`
			Bookmark   *bookmarkJSON `json:"bookmark"`
		} `json:"pages"`
		Identities []identityJSON `json:"identities"`
	} `json:"powerBIReportConfiguration"`
	PaginatedReportConfiguration *struct {
		Identities      []identityJSON    `json:"identities"`
		FormatSettings  map[string]string `json:"formatSettings"`
		ParameterValues []paramValue      `json:"parameterValues"`
	} `json:"paginatedReportConfiguration"`
}

// bookmarkJSON is a PageBookmark: a name or a state, not both.
type bookmarkJSON struct {
	Name  string `json:"name"`
	State string `json:"state"`
}

func (b *bookmarkJSON) valid() bool { return b == nil || (b.Name == "") != (b.State == "") }

// identityJSON is an EffectiveIdentity; username is required.
type identityJSON struct {
	Username string   `json:"username"`
	Roles    []string `json:"roles"`
	Datasets []string `json:"datasets"`
}

func identitiesValid(ids []identityJSON) bool {
	for _, id := range ids {
		if strings.TrimSpace(id.Username) == "" {
			return false
		}
	}
	return true
}

// postExport starts an export: a Power BI report to PDF, PPTX or PNG, a
// paginated report to any of its formats.
func (s *Server) postExport(w http.ResponseWriter, r *http.Request) {
	var req exportRequest
	present, ok := readJSON(w, r, &req)
	if !ok {
		return
	}
	if !present || req.Format == "" {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "Export report request is missing the file format")
		return
	}
	format := strings.ToUpper(req.Format)

	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	rep, groupID := s.reportOf(w, r)
	if rep == nil {
		return
	}
	paginated := rep.info.ReportType == reportTypePaginated
	supported := exportFormats
	if paginated {
		supported = paginatedFormats
	}
	if _, ok := supported[format]; !ok {
		msg := "Export report was called with an unsupported file format"
		if _, known := exportFormats[format]; !known && !paginatedOnlyFormats[format] {
			// Not a value of the format enumeration at all.
			msg = fmt.Sprintf("Export report request has an invalid file format '%s'", req.Format)
		}
		writeError(w, http.StatusBadRequest, "InvalidRequest", msg)
		return
	}
	if !s.state.workspace(groupID).info.IsOnDedicatedCapacity {
		// Export to file needs Premium, Embedded or Fabric capacity. The
		// service's exact answer on shared capacity is not documented;
		// FeatureNotAvailableError is its code for features a capacity
		// lacks, and callers report 403 Forbidden there.
		writePBIError(w, http.StatusForbidden, "FeatureNotAvailableError")
		return
	}
	job := &exportJob{
		id:         newExportID(),
		format:     format,
		reportID:   rep.info.ID,
		reportName: rep.info.Name,
		created:    now,
		duration:   s.opts.ExportDuration,
		paginated:  paginated,
	}
	if paginated {
		if !s.paginatedExport(w, job, req) {
			return
		}
	} else if !s.powerBIExport(w, job, rep, req) {
		return
	}
	rep.exports[job.id] = job
	w.Header().Set("Location", s.exportURL(groupID, job))
	s.writeEntity(w, http.StatusAccepted, groupID, "exports", s.toExportJSON(groupID, job, now))
}

// powerBIExport checks powerBIReportConfiguration and picks the pages to
// export, answering 400 for what the service refuses.
func (s *Server) powerBIExport(w http.ResponseWriter, job *exportJob, rep *report, req exportRequest) bool {
	bad := func(msg string) bool {
		writeError(w, http.StatusBadRequest, "InvalidRequest", msg)
		return false
	}
	var pages []Page
	for _, p := range rep.info.Pages {
		if !p.Hidden {
			pages = append(pages, p)
		}
	}
	if cfg := req.PowerBIReportConfiguration; cfg != nil {
		if cfg.Settings != nil && cfg.Settings.IncludeHiddenPages {
			pages = rep.info.Pages
		}
		if len(cfg.ReportLevelFilters) > 1 {
			return bad("Export report request has more than one report level filter; only one is supported")
		}
		if !cfg.DefaultBookmark.valid() {
			return bad("Export report request bookmark must have either a name or a state, not both")
		}
		if !identitiesValid(cfg.Identities) {
			return bad("Export report request has an effective identity without a username")
		}
		if len(cfg.Pages) > 0 {
			pages = nil
			for _, want := range cfg.Pages {
				if !want.Bookmark.valid() {
					return bad("Export report request bookmark must have either a name or a state, not both")
				}
				var found *Page
				for i := range rep.info.Pages {
					if rep.info.Pages[i].Name == want.PageName {
						found = &rep.info.Pages[i]
						break
					}
				}
				if found == nil {
					return bad(fmt.Sprintf("Export report request contains a page that does not exist in the report: '%s'", want.PageName))
				}
				pages = append(pages, *found)
			}
		}
	}
	if len(pages) == 0 {
		return bad("Export report request has no page to export: every page of the report is hidden")
	}
	job.pages = append([]Page(nil), pages...)
	return true
}

// paginatedExport checks paginatedReportConfiguration. A paginated export
// counts as one unit of work.
func (s *Server) paginatedExport(w http.ResponseWriter, job *exportJob, req exportRequest) bool {
	bad := func(msg string) bool {
		writeError(w, http.StatusBadRequest, "InvalidRequest", msg)
		return false
	}
	job.pages = []Page{{Name: "1", DisplayName: job.reportName}}
	if job.format == "IMAGE" {
		job.imageFormat = "TIFF"
	}
	cfg := req.PaginatedReportConfiguration
	if cfg == nil {
		return true
	}
	if len(cfg.Identities) > 1 {
		return bad("Export report request for a paginated report accepts a single identity")
	}
	if !identitiesValid(cfg.Identities) {
		return bad("Export report request has an effective identity without a username")
	}
	for _, p := range cfg.ParameterValues {
		if p.Name == "" {
			return bad("Export report request has a parameter value without a name")
		}
	}
	job.parameters = append([]paramValue(nil), cfg.ParameterValues...)
	if out, ok := cfg.FormatSettings["OutputFormat"]; ok && job.format == "IMAGE" {
		up := strings.ToUpper(out)
		if up == "JPG" {
			up = "JPEG"
		}
		if _, ok := imageFormats[up]; !ok {
			// EMF is valid in the service; the fake draws raster images only.
			return bad(fmt.Sprintf("Export report request has an unsupported OutputFormat '%s'", out))
		}
		job.imageFormat = up
	}
	return true
}

// exportOf resolves the export a request addresses. The caller must hold
// s.mu.
func (s *Server) exportOf(w http.ResponseWriter, r *http.Request) (*exportJob, string) {
	rep, groupID := s.reportOf(w, r)
	if rep == nil {
		return nil, ""
	}
	j := rep.exports[r.PathValue("exportId")]
	if j == nil {
		writePBIError(w, http.StatusNotFound, "PowerBIEntityNotFound")
		return nil, ""
	}
	return j, groupID
}

// getExport reports an export's state: 202 with Retry-After while it runs,
// 200 once it is over.
func (s *Server) getExport(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	s.mu.Lock()
	j, groupID := s.exportOf(w, r)
	if j == nil {
		s.mu.Unlock()
		return
	}
	out := s.toExportJSON(groupID, j, now)
	remaining := j.created.Add(j.duration).Sub(now)
	if s.exportsHeld {
		remaining = 0 // poll again soon: the test may release the job at any moment
	}
	s.mu.Unlock()
	status := http.StatusOK
	if out.Status == "NotStarted" || out.Status == "Running" {
		status = http.StatusAccepted
		retry := max(1, int(math.Ceil(remaining.Seconds())))
		w.Header().Set("Retry-After", strconv.Itoa(retry))
	}
	writeJSON(w, status, out)
}

// getExportFile streams the exported file, generating it on the way.
func (s *Server) getExportFile(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	s.mu.Lock()
	j, _ := s.exportOf(w, r)
	if j == nil {
		s.mu.Unlock()
		return
	}
	status, _ := s.exportState(j, now)
	content := exportContent{reportName: j.reportName, pages: j.pages, created: j.created,
		parameters: j.parameters, imageFormat: j.imageFormat}
	format, fileFormat := j.format, j.fileFormat()
	s.mu.Unlock()
	if status != "Succeeded" {
		// The service does not document this case; asking for the file
		// of an unfinished export is a bad request here.
		writeError(w, http.StatusBadRequest, "InvalidRequest", "Export file is not available: the export has not succeeded")
		return
	}
	file, err := renderExport(format, content, s.opts.ExportFileSize)
	if err != nil {
		writeServerError(w)
		return
	}
	w.Header().Set("Content-Type", fileFormat.contentType)
	w.Header().Set("Content-Length", strconv.FormatInt(file.size, 10))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	// A write error means the client went away; there is no one left to
	// tell.
	_ = file.write(w)
}
