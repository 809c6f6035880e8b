package pbitest

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

// Imports (api-notes §2.10): POST imports takes one file as multipart/form-data (or the URL of
// a file uploaded to a temporary upload location), answers 202 with the import id, and the
// import is Publishing for ImportDuration, then Succeeded with the semantic model and report
// it created. The upload is read as it arrives and never held in memory.
func (s *Server) importRoutes() {
	s.handleBoth("POST", "/imports", s.postImport)
	s.handleBoth("GET", "/imports", s.listImports)
	s.handleBoth("GET", "/imports/{importId}", s.getImport)
	s.handleBoth("POST", "/imports/createTemporaryUploadLocation", s.createUploadLocation)
	// The temporary upload location is an Azure blob with a shared access signature; the
	// fake serves it on its own host, outside the Power BI API and without a bearer token.
	s.mux.HandleFunc("PUT "+blobPrefix+"{uploadId}", s.putBlob)
}

const (
	defaultImportDuration = 2 * time.Second
	// maxPublishingImports is how many imports a workspace may have Publishing at once before
	// new ones are refused with 429 ImportThrottlerCode. The service does not document its
	// limit; this one makes the throttling reachable in tests.
	maxPublishingImports = 5
	blobPrefix           = "/pbitest-blob/uploads/"
	uploadLifetime       = time.Hour
)

// DemoSalesImportID is the import that published Sales.pbix (the "Sales" model and the
// "Sales Overview" report) to Sales Analytics, finished long ago.
const DemoSalesImportID = "d02b8896-e247-4d83-ae5a-014028cb0665"

// seedImports records how the demo's Sales model and report came to be.
func (s *Server) seedImports() {
	s.mu.Lock()
	defer s.mu.Unlock()
	ws := s.state.workspace(DemoSalesWorkspaceID)
	if s.state.imports == nil {
		s.state.imports = make(map[*workspace][]*importJob)
	}
	s.state.imports[ws] = append(s.state.imports[ws], &importJob{id: DemoSalesImportID, name: "Sales", ext: ".pbix",
		created: time.Date(2024, time.March, 4, 9, 17, 42, 417_000_000, time.UTC), duration: 14 * time.Second, settled: true,
		datasets: []string{DemoSalesDatasetID}, reports: []string{DemoSalesReportID}})
}

// importJob is one import. It is Publishing until created+duration; the items it creates
// appear in the workspace when it is first seen Succeeded (see settle).
type importJob struct {
	id, name    string
	ext         string // ".pbix", ".rdl", ".xlsx", ".json"
	created     time.Time
	duration    time.Duration
	failed      bool // the file is not a valid package: the import ends Failed
	skipReport  bool
	overwrite   *dataset // the model replaced (Overwrite, CreateOrOverwrite), if any
	overwriteRp *report  // the report replaced, if any
	settled     bool
	datasets    []string // ids, once settled
	reports     []string
}

// upload is a temporary upload location: blocks put, then committed by a block list.
type upload struct {
	expires   time.Time
	blocks    map[string]int64 // block id -> size
	committed bool
	size      int64
}

func (s *Server) importDuration() time.Duration {
	if s.opts.ImportDuration > 0 {
		return s.opts.ImportDuration
	}
	return defaultImportDuration
}

// nameConflictModes are the values of ImportConflictHandlerMode.
var nameConflictModes = map[string]bool{"Ignore": true, "Abort": true, "Overwrite": true, "CreateOrOverwrite": true, "GenerateUniqueName": true}

func (s *Server) postImport(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	display := q.Get("datasetDisplayName")
	conflict := q.Get("nameConflict")
	if display == "" {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "datasetDisplayName is required")
		return
	}
	if conflict == "" {
		conflict = "Ignore"
	}
	if !nameConflictModes[conflict] {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "nameConflict is not valid: "+conflict)
		return
	}
	skipReport := false
	if v, ok := q["skipReport"]; ok {
		// The service takes skipReport only as true.
		if b, err := strconv.ParseBool(v[0]); err != nil || !b {
			writeError(w, http.StatusBadRequest, "InvalidRequest", "skipReport, when present, must be true")
			return
		}
		skipReport = true
	}
	ext := strings.ToLower(path.Ext(display))
	switch {
	case strings.EqualFold(display, "model.json"):
		if conflict != "Abort" && conflict != "GenerateUniqueName" {
			writeError(w, http.StatusBadRequest, "InvalidRequest", "For dataflow model.json files nameConflict must be Abort or GenerateUniqueName")
			return
		}
	case ext == ".rdl":
		if conflict != "Abort" && conflict != "Overwrite" {
			writeError(w, http.StatusBadRequest, "InvalidRequest", "For RDL files nameConflict must be Abort or Overwrite")
			return
		}
	case ext == ".pbix" || ext == ".xlsx" || ext == ".json":
	default:
		writeError(w, http.StatusBadRequest, "InvalidRequest", "datasetDisplayName must end with the file's extension: .pbix, .rdl, .xlsx or model.json")
		return
	}

	s.mu.Lock()
	ws, groupID := s.workspaceOf(w, r)
	if ws == nil {
		s.mu.Unlock()
		return
	}
	if wait := s.importThrottle(ws); wait > 0 {
		s.mu.Unlock()
		// Import throttling answers in the pbi.error shape (api-notes §1.4, pbi-tools#259).
		w.Header().Set("Retry-After", strconv.Itoa(wait))
		writePBIError(w, http.StatusTooManyRequests, "ImportThrottlerCode")
		return
	}
	s.mu.Unlock()

	// The file is read without the lock: uploads take a while.
	valid, ok := s.readImportBody(w, r, ext)
	if !ok {
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state.workspaceGone(ws, groupID) {
		writeGroupNotFound(w)
		return
	}
	name := strings.TrimSuffix(display, path.Ext(display))
	if strings.EqualFold(display, "model.json") {
		name = "model"
	}
	job := &importJob{id: newGUID(), name: name, ext: ext, created: time.Now(), duration: s.importDuration(),
		failed: !valid, skipReport: skipReport}
	dsMatches, rpMatches := ws.byName(name, ext == ".rdl")
	matches := len(dsMatches)
	if ext == ".rdl" {
		matches = len(rpMatches)
	}
	// Conflicts are decided when the file has arrived, as the service answers them on the POST.
	switch {
	case conflict == "Abort" && matches > 0:
		// [OBS status: msft-extensions#479; code inferred]
		writePBIError(w, http.StatusBadRequest, "DuplicatePackageNameError", detailsMessage(fmt.Sprintf("An item named %q already exists in the workspace", name)))
		return
	case conflict == "Overwrite" && matches == 0:
		// [OBS: PowerBI-Cli#9, PowerBI-CSharp#122]
		writeDuplicatePackageError(w, http.StatusNotFound, "DuplicatePackageNotFoundError")
		return
	case (conflict == "Overwrite" || conflict == "CreateOrOverwrite") && matches > 1:
		// [OBS: PowerBI-Cli#72]
		writeDuplicatePackageError(w, http.StatusConflict, "MoreThanOneDuplicatePackageFoundError")
		return
	case conflict == "Overwrite" || (conflict == "CreateOrOverwrite" && matches == 1):
		if len(dsMatches) == 1 {
			job.overwrite = dsMatches[0]
		}
		if len(rpMatches) == 1 {
			job.overwriteRp = rpMatches[0]
		}
	case conflict == "GenerateUniqueName" && matches > 0:
		job.name = ws.uniqueName(name, ext == ".rdl")
	}
	if s.state.imports == nil {
		s.state.imports = make(map[*workspace][]*importJob)
	}
	s.state.imports[ws] = append(s.state.imports[ws], job)
	writeJSON(w, http.StatusAccepted, map[string]string{"id": job.id})
}

// writeDuplicatePackageError answers the conflicts the service reports on an import.
func writeDuplicatePackageError(w http.ResponseWriter, status int, code string) {
	body := map[string]any{"error": map[string]any{"code": code, "pbi.error": map[string]any{
		"code": code, "parameters": map[string]any{"DuplicatePackagesFullMatch": nil}, "details": []any{},
	}}}
	writeBody(w, status, contentTypeJSON, marshal(body))
}

// importThrottle returns the seconds to wait before the workspace takes another import, or 0.
// The caller holds s.mu.
func (s *Server) importThrottle(ws *workspace) int {
	now := time.Now()
	publishing := 0
	var first time.Time
	for _, j := range s.state.imports[ws] {
		if end := j.created.Add(j.duration); end.After(now) {
			publishing++
			if first.IsZero() || end.Before(first) {
				first = end
			}
		}
	}
	if publishing < maxPublishingImports {
		return 0
	}
	return max(1, int(math.Ceil(first.Sub(now).Seconds())))
}

// readImportBody reads the file of an import as it arrives: one multipart part, whatever its
// name (the .NET SDK sends none), or a JSON ImportInfo naming an uploaded blob. valid is false
// when a .pbix or .xlsx is not a ZIP package, which makes the import fail as the service's
// would. It answers 400 and returns ok false for a malformed request.
func (s *Server) readImportBody(w http.ResponseWriter, r *http.Request, ext string) (valid, ok bool) {
	mediaType, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case err == nil && mediaType == "multipart/form-data":
		mr := multipart.NewReader(r.Body, params["boundary"])
		part, err := mr.NextPart()
		if err != nil {
			writeError(w, http.StatusBadRequest, "InvalidRequest", "The request must carry the file as one multipart/form-data part")
			return false, false
		}
		head := make([]byte, 4)
		n, _ := io.ReadFull(part, head)
		if _, err := io.Copy(io.Discard, part); err != nil {
			writeError(w, http.StatusBadRequest, "InvalidRequest", "The file could not be read: "+err.Error())
			return false, false
		}
		if _, err := mr.NextPart(); !errors.Is(err, io.EOF) {
			writeError(w, http.StatusBadRequest, "InvalidRequest", "The request must carry exactly one file part")
			return false, false
		}
		return packageValid(ext, head[:n]), true
	case err == nil && mediaType == "application/json":
		var info struct {
			FileURL  string `json:"fileUrl"`
			FilePath string `json:"filePath"`
		}
		if _, ok := readJSON(w, r, &info); !ok {
			return false, false
		}
		if info.FileURL == "" {
			// OneDrive for Business imports (filePath) need a OneDrive the fake does not have.
			writeError(w, http.StatusBadRequest, "InvalidRequest", "fileUrl is required: the URL of a temporary upload location holding the file")
			return false, false
		}
		s.mu.Lock()
		up := s.state.uploads[uploadIDOf(info.FileURL, s.URL())]
		committed := up != nil && up.committed && time.Now().Before(up.expires)
		s.mu.Unlock()
		if !committed {
			writeError(w, http.StatusBadRequest, "InvalidRequest", "fileUrl is not a temporary upload location holding an uploaded file")
			return false, false
		}
		return true, true
	}
	writeError(w, http.StatusUnsupportedMediaType, "UnsupportedMediaType", "Content-Type must be multipart/form-data or application/json")
	return false, false
}

// packageValid reports whether a file's first bytes fit its type: .pbix and .xlsx files are
// ZIP packages.
func packageValid(ext string, head []byte) bool {
	if ext == ".pbix" || ext == ".xlsx" {
		return bytes.Equal(head, []byte("PK\x03\x04"))
	}
	return len(head) > 0
}

// byName returns the models and reports of ws with a name. For .rdl files only reports count.
func (ws *workspace) byName(name string, rdl bool) (ds []*dataset, rp []*report) {
	if !rdl {
		for _, d := range ws.datasets {
			if d.info.Name == name {
				ds = append(ds, d)
			}
		}
	}
	for _, r := range ws.reports {
		if r.info.Name == name && (r.info.ReportType == reportTypePaginated) == rdl {
			rp = append(rp, r)
		}
	}
	return ds, rp
}

// uniqueName returns name with the first free " (n)" suffix.
func (ws *workspace) uniqueName(name string, rdl bool) string {
	for n := 2; ; n++ {
		candidate := fmt.Sprintf("%s (%d)", name, n)
		if ds, rp := ws.byName(candidate, rdl); len(ds) == 0 && len(rp) == 0 {
			return candidate
		}
	}
}

// workspaceGone reports whether ws was deleted while a request was uploading to it.
func (st *tenantState) workspaceGone(ws *workspace, groupID string) bool {
	if groupID == "" {
		return false
	}
	return st.workspace(groupID) != ws
}

// settle creates the items of a finished import the first time it is seen finished, so that
// they appear in the workspace when the import reports them. The caller holds s.mu.
func (s *Server) settle(ws *workspace, j *importJob, now time.Time) {
	if j.settled || now.Before(j.created.Add(j.duration)) {
		return
	}
	j.settled = true
	if j.failed || j.ext == ".json" && j.name == "model" {
		return // a dataflow import creates a dataflow, which this fake does not hold
	}
	created := now.UTC().Truncate(time.Millisecond)
	var dsID string
	if j.ext != ".rdl" {
		ds := j.overwrite
		if ds == nil {
			ds = &dataset{info: Dataset{ID: newGUID(), Name: j.name, TargetStorageMode: defaultTargetStorageMode,
				IsRefreshable: true, CreatedDate: created, QueryScaleOut: &QueryScaleOut{AutoSyncReadOnlyReplicas: true}}}
			ws.datasets = append(ws.datasets, ds)
		}
		// The caller who imported the file is the model's owner.
		ds.info.ConfiguredBy = s.opts.ClientID
		dsID = ds.info.ID
		j.datasets = []string{dsID}
		if j.skipReport {
			return
		}
	}
	rp := j.overwriteRp
	if rp == nil {
		info := Report{ID: newGUID(), Name: j.name, DatasetID: dsID, ReportType: reportTypePowerBI,
			Pages: []Page{{Name: "ReportSection", DisplayName: "Page 1"}}}
		if j.ext == ".rdl" {
			info.ReportType, info.Pages, info.DatasetID = reportTypePaginated, nil, ""
		}
		rp = &report{info: info, exports: make(map[string]*exportJob)}
		ws.reports = append(ws.reports, rp)
	}
	j.reports = []string{rp.info.ID}
}

// importJSON is an Import as the service sends it, fields in its order.
type importJSON struct {
	ID              string        `json:"id"`
	ImportState     string        `json:"importState"`
	CreatedDateTime string        `json:"createdDateTime"`
	UpdatedDateTime string        `json:"updatedDateTime"`
	Name            string        `json:"name"`
	ConnectionType  string        `json:"connectionType"`
	Source          string        `json:"source"`
	Datasets        []datasetJSON `json:"datasets"`
	Reports         []reportJSON  `json:"reports"`
}

// toImportJSON renders an import, settling it first. The caller holds s.mu.
func (s *Server) toImportJSON(ws *workspace, groupID string, j *importJob, now time.Time) importJSON {
	s.settle(ws, j, now)
	out := importJSON{ID: j.id, ImportState: "Publishing", CreatedDateTime: serviceTime(j.created),
		UpdatedDateTime: serviceTime(now), Name: j.name, ConnectionType: "import", Source: "Upload",
		Datasets: []datasetJSON{}, Reports: []reportJSON{}}
	if !j.settled {
		return out
	}
	out.UpdatedDateTime = serviceTime(j.created.Add(j.duration))
	if j.failed {
		out.ImportState = "Failed"
		return out
	}
	out.ImportState = "Succeeded"
	for _, id := range j.datasets {
		for _, d := range ws.datasets {
			if d.info.ID == id {
				out.Datasets = append(out.Datasets, s.toDatasetJSON(d.info, groupID))
			}
		}
	}
	for _, id := range j.reports {
		if rp := ws.report(id); rp != nil {
			out.Reports = append(out.Reports, s.toReportJSON(rp.info, groupID))
		}
	}
	return out
}

func (s *Server) getImport(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	ws, groupID := s.workspaceOf(w, r)
	if ws == nil {
		s.mu.Unlock()
		return
	}
	id := r.PathValue("importId")
	for _, j := range s.state.imports[ws] {
		if strings.EqualFold(j.id, id) {
			out := s.toImportJSON(ws, groupID, j, time.Now())
			s.mu.Unlock()
			s.writeEntity(w, http.StatusOK, groupID, "imports", out)
			return
		}
	}
	s.mu.Unlock()
	writePBIError(w, http.StatusNotFound, "PowerBIEntityNotFound")
}

func (s *Server) listImports(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	ws, groupID := s.workspaceOf(w, r)
	if ws == nil {
		s.mu.Unlock()
		return
	}
	now := time.Now()
	jobs := s.state.imports[ws]
	items := make([]importJSON, 0, len(jobs))
	for _, j := range jobs {
		items = append(items, s.toImportJSON(ws, groupID, j, now))
	}
	s.mu.Unlock()
	writeList(s, w, groupID, "imports", items)
}

// createUploadLocation answers a blob URL with a shared access signature. Large imports need
// a Premium capacity; My workspace never has one.
func (s *Server) createUploadLocation(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ws, _ := s.workspaceOf(w, r)
	if ws == nil {
		return
	}
	if !ws.info.IsOnDedicatedCapacity {
		writePBIError(w, http.StatusBadRequest, "FeatureNotAvailableError",
			detailsMessage("Importing files larger than 1 GB needs a workspace on a Premium capacity"))
		return
	}
	id := newGUID()
	if s.state.uploads == nil {
		s.state.uploads = make(map[string]*upload)
	}
	expires := time.Now().Add(uploadLifetime)
	s.state.uploads[id] = &upload{expires: expires, blocks: make(map[string]int64)}
	sas := "sv=2021-08-06&sr=b&sp=rcw&se=" + expires.UTC().Format("2006-01-02T15:04:05Z") + "&sig=pbitest-fake-signature"
	writeJSON(w, http.StatusOK, map[string]string{
		"url":            s.URL() + blobPrefix + id + "?" + strings.ReplaceAll(sas, ":", "%3A"),
		"expirationTime": serviceTime(expires),
	})
}

// uploadIDOf returns the upload id of a temporary upload location URL of this server, or "".
func uploadIDOf(fileURL, base string) string {
	rest, ok := strings.CutPrefix(fileURL, base+blobPrefix)
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, "?")
	return id
}

// putBlob is Azure Storage's Put Block (comp=block) and Put Block List (comp=blocklist) on a
// temporary upload location, and Put Blob (no comp) for a file in one request. Blocks are read
// as they arrive and only their sizes kept.
func (s *Server) putBlob(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	up := s.state.uploads[r.PathValue("uploadId")]
	s.mu.Unlock()
	if up == nil || q.Get("sig") == "" {
		blobError(w, http.StatusForbidden, "AuthenticationFailed")
		return
	}
	if time.Now().After(up.expires) {
		blobError(w, http.StatusForbidden, "AuthenticationFailed")
		return
	}
	switch q.Get("comp") {
	case "block":
		id := q.Get("blockid")
		if id == "" {
			blobError(w, http.StatusBadRequest, "InvalidQueryParameterValue")
			return
		}
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			blobError(w, http.StatusBadRequest, "InvalidInput")
			return
		}
		s.mu.Lock()
		up.blocks[id] = n
		s.mu.Unlock()
	case "blocklist":
		var list struct {
			Latest []string `xml:"Latest"`
		}
		if err := xmlDecode(r.Body, &list); err != nil {
			blobError(w, http.StatusBadRequest, "InvalidXmlDocument")
			return
		}
		s.mu.Lock()
		var size int64
		for _, id := range list.Latest {
			n, ok := up.blocks[id]
			if !ok {
				s.mu.Unlock()
				blobError(w, http.StatusBadRequest, "InvalidBlockList")
				return
			}
			size += n
		}
		up.committed, up.size = true, size
		s.mu.Unlock()
	case "":
		if r.Header.Get("x-ms-blob-type") != "BlockBlob" {
			blobError(w, http.StatusBadRequest, "MissingRequiredHeader")
			return
		}
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			blobError(w, http.StatusBadRequest, "InvalidInput")
			return
		}
		s.mu.Lock()
		up.committed, up.size = true, n
		s.mu.Unlock()
	default:
		blobError(w, http.StatusBadRequest, "InvalidQueryParameterValue")
		return
	}
	w.Header().Set("x-ms-request-id", newGUID())
	w.WriteHeader(http.StatusCreated)
}

// blobError answers in Azure Storage's XML error shape.
func blobError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("x-ms-error-code", code)
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, code, code)
}

func xmlDecode(r io.Reader, v any) error {
	return xml.NewDecoder(io.LimitReader(r, 4<<20)).Decode(v)
}
