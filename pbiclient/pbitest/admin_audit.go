package pbitest

import (
	"cmp"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The admin audit area: the activity log (GET admin/activityevents), the list of modified
// workspaces and the metadata scanner (POST admin/workspaces/getInfo, GET scanStatus and
// scanResult). Sources: api-notes §1.5, §2.11, §2.12; the Admin_* operations of the swagger.

// Service limits of the area (api-notes §1.5). Each holds per tenant over a sliding hour.
const (
	defaultActivityEventsPerHour = 200
	defaultModifiedPerHour       = 30
	defaultGetInfoPerHour        = 500
	defaultScanStatusPerHour     = 10_000
	defaultScanResultPerHour     = 500
	// maxConcurrentScans is how many scans the service runs at once per tenant.
	maxConcurrentScans   = 16
	maxWorkspacesPerScan = 100
	scanResultLifetime   = 24 * time.Hour
	defaultScanDuration  = time.Second
	defaultActivityPage  = 5000
)

// AuditOptions tunes the admin audit area. Zero fields keep the service's values, so tests can
// lower a limit to reach it without sending hundreds of requests.
type AuditOptions struct {
	ActivityEventsPerHour int
	ModifiedPerHour       int
	GetInfoPerHour        int
	ScanStatusPerHour     int
	ScanResultPerHour     int
	// ScanDuration is how long a scan takes from getInfo to Succeeded (default 1s): NotStarted
	// for its first fifth, then Running.
	ScanDuration time.Duration
	// ActivityPageSize is the most events one activityevents answer holds (default 5,000; the
	// service sends 5,000 to 10,000).
	ActivityPageSize int
	// RefuseAdminAPIs answers every request of the area with 401 PowerBINotAuthorizedException,
	// as the service does for a caller that is neither a Fabric administrator nor a service
	// principal allowed by the tenant setting "Service principals can access read-only admin
	// APIs" (or one that holds admin-consent Power BI permissions).
	RefuseAdminAPIs bool
}

// ActivityEvent is one entry of the activity log. The service's entries carry more fields
// (Microsoft 365 audit schema); these are the ones every Power BI entry has.
type ActivityEvent struct {
	ID           string // filled with a random GUID when empty
	CreationTime time.Time
	Activity     string // e.g. "ViewReport"
	UserID       string // UPN
	WorkspaceID  string
	ItemName     string
}

// auditState is the area's part of the tenant. The Server's mutex guards it.
type auditState struct {
	opts   AuditOptions
	events []ActivityEvent // sorted by CreationTime
	// later makes events that are added on the log's first use (log), not when seeded:
	// thousands of them would slow the sandbox's start-up, and most sessions never read them.
	later []func() []ActivityEvent
	scans map[string]*scan
	// calls holds, per limited operation, the times of the requests of the last hour.
	calls map[string][]time.Time
	// maxInFlight is the most scans that were ever running at once.
	maxInFlight int
	// modified records when workspaces changed; a workspace without an entry counts as
	// modified now, so a fresh tenant reports every workspace.
	modified map[string]time.Time
}

type scan struct {
	id         string
	created    time.Time
	duration   time.Duration
	workspaces []string
	query      url.Values
}

// status derives a scan's state from the clock, as the other jobs of the fake do.
func (sc *scan) status(now time.Time) string {
	switch el := now.Sub(sc.created); {
	case el >= sc.duration:
		return "Succeeded"
	case el >= sc.duration/5:
		return "Running"
	default:
		return "NotStarted"
	}
}

// audit returns the area's state, creating it on first use.
func (s *Server) audit() *auditState {
	if s.state.audit == nil {
		s.state.audit = &auditState{scans: map[string]*scan{}, calls: map[string][]time.Time{}, modified: map[string]time.Time{}}
	}
	return s.state.audit
}

// SetAuditOptions replaces the area's options.
func (s *Server) SetAuditOptions(o AuditOptions) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.audit().opts = o
}

// AddActivityEvents adds entries to the activity log.
func (s *Server) AddActivityEvents(events ...ActivityEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.audit().add(events)
}

func (a *auditState) add(events []ActivityEvent) {
	a.events = slices.Grow(a.events, len(events))
	for _, e := range events {
		if e.ID == "" {
			e.ID = newGUID()
		}
		e.CreationTime = e.CreationTime.UTC()
		a.events = append(a.events, e)
	}
	// Events added in time order, as the seeds add them, need no sort.
	byTime := func(x, y ActivityEvent) int { return x.CreationTime.Compare(y.CreationTime) }
	if !slices.IsSortedFunc(a.events, byTime) {
		slices.SortStableFunc(a.events, byTime)
	}
}

// log returns the activity log, first adding the events whose making was deferred to its
// first use.
func (a *auditState) log() []ActivityEvent {
	for _, f := range a.later {
		a.add(f())
	}
	a.later = nil
	return a.events
}

// Activities and users the seeded activity log cycles through.
var (
	seedActivities = []string{"ViewReport", "ViewDashboard", "ExportReport", "RefreshDataset", "ViewReport"}
	seedUsers      = []string{"megan.bowen@contoso.com", "alex.wilber@contoso.com", "adele.vance@contoso.com"}
)

// SeedActivityEvents fills the UTC day of day with n events spread evenly over 08:00-17:59,
// so the night hours are empty, as in a real tenant: their pages come back empty but still
// carry a continuation. Ids and contents are fixed by n and the day.
func (s *Server) SeedActivityEvents(day time.Time, n int) {
	start := time.Date(day.Year(), day.Month(), day.Day(), 8, 0, 0, 0, time.UTC)
	span := 10 * time.Hour
	events := make([]ActivityEvent, n)
	for i := range events {
		events[i] = ActivityEvent{
			ID:           fmt.Sprintf("%08x-0000-4000-8000-%012x", start.YearDay(), i),
			CreationTime: start.Add(time.Duration(int64(span) * int64(i) / int64(n))).Truncate(time.Second),
			Activity:     seedActivities[i%len(seedActivities)],
			UserID:       seedUsers[i%len(seedUsers)],
			WorkspaceID:  DemoSalesWorkspaceID,
			ItemName:     "Sales Overview",
		}
	}
	s.AddActivityEvents(events...)
}

// SetWorkspaceModified records when a workspace last changed, for admin/workspaces/modified.
func (s *Server) SetWorkspaceModified(workspaceID string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.audit().modified[strings.ToLower(workspaceID)] = at
}

// MaxScansInFlight is the most scans that were running at the same moment, so a test can
// check that a client kept within the service's limit of 16.
func (s *Server) MaxScansInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.audit().maxInFlight
}

// DemoActivityDay is the UTC day SeedDemo fills with DemoActivityEventCount activity events.
var DemoActivityDay = time.Date(2026, time.January, 15, 0, 0, 0, 0, time.UTC)

// DemoActivityEventCount is how many events SeedDemo puts in the activity log.
const DemoActivityEventCount = 120

func (s *Server) seedAudit() {
	s.SeedActivityEvents(DemoActivityDay, DemoActivityEventCount)
}

func (s *Server) adminAuditRoutes() {
	s.handleAPI("GET "+apiPrefix+"/admin/activityevents", s.adminOnly("activityevents", s.activityEvents))
	s.handleAPI("GET "+apiPrefix+"/admin/workspaces/modified", s.adminOnly("modified", s.modifiedWorkspaces))
	s.handleAPI("POST "+apiPrefix+"/admin/workspaces/getInfo", s.adminOnly("getInfo", s.getInfo))
	s.handleAPI("GET "+apiPrefix+"/admin/workspaces/scanStatus/{scanId}", s.adminOnly("scanStatus", s.scanStatus))
	s.handleAPI("GET "+apiPrefix+"/admin/workspaces/scanResult/{scanId}", s.adminOnly("scanResult", s.scanResult))
}

// adminOnly refuses callers the tenant does not allow and counts the request against the
// operation's hourly limit, answering 429 with Retry-After once it is spent.
func (s *Server) adminOnly(op string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		a := s.audit()
		if a.opts.RefuseAdminAPIs {
			s.mu.Unlock()
			writePBIError(w, http.StatusUnauthorized, "PowerBINotAuthorizedException")
			return
		}
		limit := a.limit(op)
		now := time.Now()
		recent := a.calls[op][:0]
		for _, t := range a.calls[op] {
			if now.Sub(t) < time.Hour {
				recent = append(recent, t)
			}
		}
		if len(recent) >= limit {
			a.calls[op] = recent
			wait := int(time.Hour-now.Sub(recent[0]))/int(time.Second) + 1
			s.mu.Unlock()
			writeThrottled(w, wait)
			return
		}
		a.calls[op] = append(recent, now)
		s.mu.Unlock()
		h(w, r)
	}
}

func (a *auditState) limit(op string) int {
	pick := func(set, def int) int {
		if set > 0 {
			return set
		}
		return def
	}
	switch op {
	case "activityevents":
		return pick(a.opts.ActivityEventsPerHour, defaultActivityEventsPerHour)
	case "modified":
		return pick(a.opts.ModifiedPerHour, defaultModifiedPerHour)
	case "getInfo":
		return pick(a.opts.GetInfoPerHour, defaultGetInfoPerHour)
	case "scanStatus":
		return pick(a.opts.ScanStatusPerHour, defaultScanStatusPerHour)
	default:
		return pick(a.opts.ScanResultPerHour, defaultScanResultPerHour)
	}
}

// orderedField is one field of an orderedObject.
type orderedField = struct {
	key   string
	value any
}

// activityCursor is what a continuation token stands for: the query and where the next page
// starts. The fake's tokens are stateless, like the service's, so a token can be used again.
type activityCursor struct {
	start, end time.Time
	filter     string
	// hour is the hour window the next page reads, offset how many of its matches are done.
	hour, offset int
}

// The service's tokens look like "+RID:...#RT:1#TRC:5#FPC:..." and are sent percent-encoded in
// the body; the fake's have the same alphabet ('+', ':', '#', '=') so that a client that
// encodes them a second time is caught.
func (c activityCursor) token() string {
	raw := strings.Join([]string{c.start.Format(time.RFC3339Nano), c.end.Format(time.RFC3339Nano), c.filter,
		strconv.Itoa(c.hour), strconv.Itoa(c.offset)}, "\n")
	plain := "+RID:" + base64.StdEncoding.EncodeToString([]byte(raw)) + "#RT:" + strconv.Itoa(c.hour+1)
	return url.QueryEscape(plain)
}

func parseActivityToken(plain string) (activityCursor, bool) {
	rest, ok := strings.CutPrefix(plain, "+RID:")
	if !ok {
		return activityCursor{}, false
	}
	b64, _, _ := strings.Cut(rest, "#RT:")
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return activityCursor{}, false
	}
	parts := strings.Split(string(raw), "\n")
	if len(parts) != 5 {
		return activityCursor{}, false
	}
	var c activityCursor
	var err1, err2, err3, err4 error
	c.start, err1 = time.Parse(time.RFC3339Nano, parts[0])
	c.end, err2 = time.Parse(time.RFC3339Nano, parts[1])
	c.filter = parts[2]
	c.hour, err3 = strconv.Atoi(parts[3])
	c.offset, err4 = strconv.Atoi(parts[4])
	return c, err1 == nil && err2 == nil && err3 == nil && err4 == nil
}

// quoted reads a query value the service wants in single quotes.
func quoted(v string) (string, bool) {
	if len(v) < 2 || v[0] != '\'' || v[len(v)-1] != '\'' {
		return "", false
	}
	return v[1 : len(v)-1], true
}

var filterClause = regexp.MustCompile(`^(?i)(Activity|UserId)\s+eq\s+'((?:[^']|'')*)'$`)

// activityFilter parses the only $filter the service accepts: Activity and UserId compared
// with eq, joined by and. It returns a matcher, or false when the filter is not one of those.
func activityFilter(f string) (func(ActivityEvent) bool, bool) {
	if strings.TrimSpace(f) == "" {
		return func(ActivityEvent) bool { return true }, true
	}
	var activity, user []string
	for _, clause := range regexp.MustCompile(`(?i)\s+and\s+`).Split(strings.TrimSpace(f), -1) {
		m := filterClause.FindStringSubmatch(strings.TrimSpace(clause))
		if m == nil {
			return nil, false
		}
		v := strings.ReplaceAll(m[2], "''", "'")
		if strings.EqualFold(m[1], "Activity") {
			activity = append(activity, v)
		} else {
			user = append(user, v)
		}
	}
	all := func(want []string, got string) bool {
		for _, w := range want {
			if !strings.EqualFold(w, got) {
				return false
			}
		}
		return true
	}
	return func(e ActivityEvent) bool { return all(activity, e.Activity) && all(user, e.UserID) }, true
}

func (s *Server) activityEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var cur activityCursor
	if tok := q.Get("continuationToken"); tok != "" {
		plain, ok := quoted(tok)
		if !ok {
			plain = tok
		}
		if cur, ok = parseActivityToken(plain); !ok {
			writeError(w, http.StatusBadRequest, "InvalidRequest", "Invalid continuation token.")
			return
		}
	} else {
		startV, ok1 := quoted(q.Get("startDateTime"))
		endV, ok2 := quoted(q.Get("endDateTime"))
		if !ok1 || !ok2 {
			writeError(w, http.StatusBadRequest, "InvalidRequest",
				"startDateTime and endDateTime are required, as UTC date-times in single quotes, e.g. startDateTime='2019-08-13T07:55:00.000Z'.")
			return
		}
		start, err1 := time.Parse(time.RFC3339Nano, startV)
		end, err2 := time.Parse(time.RFC3339Nano, endV)
		if err1 != nil || err2 != nil {
			writeError(w, http.StatusBadRequest, "InvalidRequest", "startDateTime and endDateTime must be ISO 8601 UTC date-times.")
			return
		}
		start, end = start.UTC(), end.UTC()
		if end.Before(start) || start.Truncate(24*time.Hour) != end.Truncate(24*time.Hour) {
			writeError(w, http.StatusBadRequest, "InvalidRequest", "startDateTime and endDateTime must be in the same UTC day.")
			return
		}
		cur = activityCursor{start: start, end: end, filter: q.Get("$filter")}
	}
	match, ok := activityFilter(cur.filter)
	if !ok {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "Only Activity and UserId with eq and and are supported in $filter.")
		return
	}

	s.mu.Lock()
	a := s.audit()
	pageSize := a.opts.ActivityPageSize
	if pageSize <= 0 {
		pageSize = defaultActivityPage
	}
	// The service reads the window an hour at a time; an hour without events still costs a
	// page, which comes back empty with a continuation.
	from := cur.start.Truncate(time.Hour).Add(time.Duration(cur.hour) * time.Hour)
	to := from.Add(time.Hour)
	var matched []ActivityEvent
	for _, e := range a.log() {
		t := e.CreationTime
		if t.Before(cur.start) || t.After(cur.end) || t.Before(from) || !t.Before(to) || !match(e) {
			continue
		}
		matched = append(matched, e)
	}
	tenant := s.opts.TenantID
	s.mu.Unlock()

	page := matched[min(cur.offset, len(matched)):]
	page = page[:min(pageSize, len(page))]
	next := cur
	if cur.offset+len(page) < len(matched) {
		next.offset += len(page)
	} else {
		next.hour++
		next.offset = 0
	}
	entities := make([]orderedObject, 0, len(page))
	for _, e := range page {
		entities = append(entities, activityEntity(e, tenant))
	}
	body := orderedObject{{"activityEventEntities", entities}}
	if !to.After(cur.end) || next.hour == cur.hour {
		tok := next.token()
		body = append(body,
			orderedField{"continuationUri", s.APIBaseURL() + "/admin/activityevents?continuationToken='" + tok + "'"},
			orderedField{"continuationToken", tok},
			orderedField{"lastResultSet", false})
	} else {
		body = append(body, orderedField{"continuationUri", nil}, orderedField{"continuationToken", nil},
			orderedField{"lastResultSet", true})
	}
	writeJSON(w, http.StatusOK, body)
}

// activityEntity is an event as the service sends it: PascalCase, Microsoft 365 audit schema.
func activityEntity(e ActivityEvent, tenant string) orderedObject {
	return orderedObject{
		{"Id", e.ID},
		{"RecordType", 20},
		{"CreationTime", e.CreationTime.Format("2006-01-02T15:04:05")},
		{"Operation", e.Activity},
		{"OrganizationId", tenant},
		{"UserType", 0},
		{"UserKey", fmt.Sprintf("1003%012d", len(e.UserID))},
		{"Workload", "PowerBI"},
		{"UserId", e.UserID},
		{"ClientIP", "127.0.0.1"},
		{"UserAgent", "Mozilla/5.0"},
		{"Activity", e.Activity},
		{"ItemName", e.ItemName},
		{"WorkspaceId", e.WorkspaceID},
		{"IsSuccess", true},
		{"RequestId", e.ID},
	}
}

func (s *Server) modifiedWorkspaces(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	now := time.Now()
	var since time.Time
	if v := q.Get("modifiedSince"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "InvalidRequest", "modifiedSince must be an ISO 8601 UTC date-time.")
			return
		}
		if now.Sub(t) < 30*time.Minute || now.Sub(t) > 30*24*time.Hour {
			writeError(w, http.StatusBadRequest, "InvalidRequest", "modifiedSince must be between 30 minutes and 30 days ago.")
			return
		}
		since = t
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.audit()
	type ref struct {
		ID string `json:"id"`
	}
	out := []ref{}
	for _, ws := range s.state.workspaces {
		if strings.EqualFold(q.Get("excludePersonalWorkspaces"), "true") && ws.info.Type == "PersonalGroup" {
			continue
		}
		at, known := a.modified[strings.ToLower(ws.info.ID)]
		if known && at.Before(since) {
			continue
		}
		out = append(out, ref{ws.info.ID})
	}
	// A bare array, not an OData list (api-notes §2.12).
	writeBody(w, http.StatusOK, contentTypeJSON, marshal(out))
}

// getInfoResponse is the ScanRequest the scanner answers with.
func scanRequestBody(sc *scan, now time.Time) orderedObject {
	return orderedObject{
		{"id", sc.id},
		{"createdDateTime", sc.created.UTC().Format("2006-01-02T15:04:05.0000000Z")},
		{"status", sc.status(now)},
	}
}

func (s *Server) getInfo(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Workspaces []string `json:"workspaces"`
	}
	if _, ok := readJSON(w, r, &req); !ok {
		return
	}
	if len(req.Workspaces) == 0 || len(req.Workspaces) > maxWorkspacesPerScan {
		writeError(w, http.StatusBadRequest, "InvalidRequest", fmt.Sprintf("workspaces must hold 1 to %d workspace ids.", maxWorkspacesPerScan))
		return
	}
	now := time.Now()
	s.mu.Lock()
	a := s.audit()
	running := 0
	var firstDone time.Time
	for _, sc := range a.scans {
		if sc.status(now) != "Succeeded" {
			running++
			if done := sc.created.Add(sc.duration); firstDone.IsZero() || done.Before(firstDone) {
				firstDone = done
			}
		}
	}
	if running >= maxConcurrentScans {
		s.mu.Unlock()
		writeThrottled(w, max(1, int(firstDone.Sub(now).Seconds()+0.999)))
		return
	}
	d := a.opts.ScanDuration
	if d <= 0 {
		d = defaultScanDuration
	}
	sc := &scan{id: newGUID(), created: now, duration: d, workspaces: req.Workspaces, query: r.URL.Query()}
	a.scans[sc.id] = sc
	a.maxInFlight = max(a.maxInFlight, running+1)
	s.mu.Unlock()
	w.Header().Set("Location", s.APIBaseURL()+"/admin/workspaces/scanStatus/"+sc.id)
	writeJSON(w, http.StatusAccepted, scanRequestBody(sc, now))
}

// liveScan finds a scan whose result is still kept, or answers 404.
func (s *Server) liveScan(w http.ResponseWriter, r *http.Request, now time.Time) *scan {
	sc := s.audit().scans[strings.ToLower(r.PathValue("scanId"))]
	if sc == nil || now.Sub(sc.created) > scanResultLifetime {
		writePBIError(w, http.StatusNotFound, "PowerBIEntityNotFound")
		return nil
	}
	return sc
}

func (s *Server) scanStatus(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	s.mu.Lock()
	sc := s.liveScan(w, r, now)
	s.mu.Unlock()
	if sc == nil {
		return
	}
	if sc.status(now) == "Succeeded" {
		w.Header().Set("Location", s.APIBaseURL()+"/admin/workspaces/scanResult/"+sc.id)
	} else {
		// Pacing: the time left, at least a second.
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(sc.created.Add(sc.duration).Sub(now).Seconds()+0.999))))
	}
	writeJSON(w, http.StatusOK, scanRequestBody(sc, now))
}

func (s *Server) scanResult(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	sc := s.liveScan(w, r, now)
	if sc == nil {
		return
	}
	if sc.status(now) != "Succeeded" {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "The scan has not succeeded yet; poll scanStatus until it has.")
		return
	}
	flag := func(name string) bool { return strings.EqualFold(sc.query.Get(name), "true") }
	b := &scanBuilder{s: s, schema: flag("datasetSchema"), expressions: flag("datasetExpressions"),
		users: flag("getArtifactUsers"), lineage: flag("lineage"), seen: map[string]bool{},
		instances: []orderedObject{}, misconfigured: []orderedObject{}}
	// The admin view: a scan covers every workspace of the tenant, members or not.
	tenant := map[string]tenantWorkspace{}
	for _, tw := range s.tenantWorkspaces() {
		tenant[strings.ToLower(tw.info.ID)] = tw
	}
	workspaces := []orderedObject{}
	for _, id := range sc.workspaces {
		tw, ok := tenant[strings.ToLower(id)]
		if !ok {
			continue
		}
		workspaces = append(workspaces, b.workspace(tw, s.state.workspace(tw.info.ID)))
	}
	out := orderedObject{{"workspaces", workspaces}}
	// Data source details are a list of their own that the items' usages point into, each
	// source once however many items use it.
	if flag("datasourceDetails") {
		out = append(out, orderedField{"datasourceInstances", b.instances},
			orderedField{"misconfiguredDatasourceInstances", b.misconfigured})
	}
	writeJSON(w, http.StatusOK, out)
}

// scanBuilder writes a scan result from the tenant's state, as getInfo's flags ask: lineage
// (upstream items, tiles' sources, data source usages), datasetSchema, datasetExpressions and
// getArtifactUsers. The caller holds s.mu.
type scanBuilder struct {
	s                                   *Server
	schema, expressions, users, lineage bool
	instances, misconfigured            []orderedObject
	seen                                map[string]bool // instance ids already listed
}

func (b *scanBuilder) workspace(tw tenantWorkspace, ws *workspace) orderedObject {
	info := tw.info
	o := orderedObject{
		{"id", info.ID},
		{"name", info.Name},
		{"type", info.Type},
		{"state", cmp.Or(tw.state, "Active")},
		{"isOnDedicatedCapacity", info.IsOnDedicatedCapacity},
	}
	if info.IsOnDedicatedCapacity {
		o = append(o, orderedField{"capacityId", strings.ToUpper(info.CapacityID)})
	}
	reports := []orderedObject{}
	for _, r := range tw.reports {
		reports = append(reports, orderedObject{{"reportType", cmp.Or(r.ReportType, reportTypePowerBI)}, {"id", r.ID}, {"name", r.Name}, {"datasetId", r.DatasetID}})
	}
	dashboards := []orderedObject{}
	for _, d := range tw.dashboards {
		tiles := []orderedObject{}
		for _, t := range d.Tiles {
			to := orderedObject{{"id", t.ID}, {"title", t.Title}}
			if b.lineage {
				if t.ReportID != "" {
					to = append(to, orderedField{"reportId", t.ReportID})
				}
				if t.DatasetID != "" {
					to = append(to, orderedField{"datasetId", t.DatasetID})
				}
			}
			tiles = append(tiles, to)
		}
		dashboards = append(dashboards, orderedObject{{"id", d.ID}, {"displayName", d.DisplayName}, {"isReadOnly", d.IsReadOnly}, {"tiles", tiles}})
	}
	datasets := []orderedObject{}
	for _, d := range tw.datasets {
		var model *Model
		if ws != nil {
			if st := ws.dataset(d.ID); st != nil {
				model = st.model
			}
		}
		datasets = append(datasets, b.dataset(d, model, ws))
	}
	dataflows := []orderedObject{}
	if ws != nil {
		for _, df := range ws.dataflows {
			dataflows = append(dataflows, b.dataflow(df.info))
		}
	}
	o = append(o, orderedField{"reports", reports}, orderedField{"dashboards", dashboards},
		orderedField{"datasets", datasets}, orderedField{"dataflows", dataflows})
	if b.users {
		us := []orderedObject{}
		for _, u := range tw.users {
			uo := orderedObject{{"groupUserAccessRight", u.AccessRight}, {"identifier", u.Identifier},
				{"displayName", u.DisplayName}, {"principalType", cmp.Or(u.PrincipalType, "User")}}
			if u.EmailAddress != "" {
				uo = append(uo, orderedField{"emailAddress", u.EmailAddress})
			}
			us = append(us, uo)
		}
		o = append(o, orderedField{"users", us})
	}
	return o
}

func (b *scanBuilder) dataset(d Dataset, model *Model, ws *workspace) orderedObject {
	o := orderedObject{{"id", d.ID}, {"name", d.Name}, {"configuredBy", cmp.Or(d.ConfiguredBy, defaultConfiguredBy)},
		{"targetStorageMode", cmp.Or(d.TargetStorageMode, defaultTargetStorageMode)}, {"isEffectiveIdentityRequired", d.RLS}}
	if b.schema {
		o = append(o, orderedField{"tables", b.tables(d, model, ws)})
	}
	if b.expressions && len(d.Parameters) > 0 {
		// A model's parameters are M expressions of its own.
		exprs := []orderedObject{}
		for _, p := range d.Parameters {
			exprs = append(exprs, orderedObject{{"name", p.Name}, {"expression", parameterExpression(p)}})
		}
		o = append(o, orderedField{"expressions", exprs})
	}
	// The instances are listed with datasourceDetails whether or not lineage names them.
	used, misused := b.usages(d.Datasources)
	if b.lineage {
		up := []orderedObject{}
		for _, u := range d.UpstreamDataflows {
			up = append(up, orderedObject{{"targetDataflowId", u.DataflowID}, {"groupId", u.WorkspaceID}})
		}
		upDatasets := []orderedObject{}
		for _, u := range d.UpstreamDatasets {
			upDatasets = append(upDatasets, orderedObject{{"targetDatasetId", u.DatasetID}, {"groupId", u.WorkspaceID}})
		}
		o = append(o, orderedField{"upstreamDataflows", up}, orderedField{"upstreamDatasets", upDatasets},
			orderedField{"datasourceUsages", used})
		if len(misused) > 0 {
			o = append(o, orderedField{"misconfiguredDatasourceUsages", misused})
		}
	}
	if b.users {
		us := []orderedObject{}
		for _, u := range d.Users {
			us = append(us, orderedObject{{"datasetUserAccessRight", u.DatasetUserAccessRight}, {"identifier", u.Identifier},
				{"principalType", cmp.Or(u.PrincipalType, "User")}})
		}
		o = append(o, orderedField{"users", us})
	}
	return o
}

func (b *scanBuilder) dataflow(df Dataflow) orderedObject {
	o := orderedObject{{"objectId", df.ObjectID}, {"name", df.Name}, {"description", df.Description},
		{"configuredBy", df.ConfiguredBy}, {"modifiedDateTime", serviceTime(df.ModifiedTime)}}
	used, misused := b.usages(df.Datasources)
	if b.lineage {
		up := []orderedObject{}
		for _, u := range df.Upstream {
			up = append(up, orderedObject{{"targetDataflowId", u.DataflowID}, {"groupId", u.WorkspaceID}})
		}
		o = append(o, orderedField{"datasourceUsages", used})
		if len(misused) > 0 {
			o = append(o, orderedField{"misconfiguredDatasourceUsages", misused})
		}
		o = append(o, orderedField{"upstreamDataflows", up})
	}
	if b.users {
		// The fake keeps no sharing of dataflows: the one who configured it owns it.
		o = append(o, orderedField{"users", []orderedObject{{{"dataflowUserAccessRight", "Owner"},
			{"identifier", df.ConfiguredBy}, {"principalType", "User"}}}})
	}
	return o
}

// usages names the instances of an item's data sources, adding each to the instance lists
// the first time it is seen. A source bound to a gateway that does not hold it (or to no
// gateway the tenant has) is misconfigured, as the service reports a broken binding.
func (b *scanBuilder) usages(sources []Datasource) (used, misused []orderedObject) {
	used = []orderedObject{}
	for _, src := range sources {
		id := datasourceInstanceID(src)
		bad := src.GatewayID != "" && !b.s.gatewayHolds(src.GatewayID, id)
		u := orderedObject{{"datasourceInstanceId", id}}
		if bad {
			misused = append(misused, u)
		} else {
			used = append(used, u)
		}
		if b.seen[id] {
			continue
		}
		b.seen[id] = true
		inst := orderedObject{{"datasourceType", src.DatasourceType}, {"connectionDetails", src.ConnectionDetails}, {"datasourceId", id}}
		if src.GatewayID != "" {
			inst = append(inst, orderedField{"gatewayId", src.GatewayID})
		}
		if bad {
			b.misconfigured = append(b.misconfigured, inst)
		} else {
			b.instances = append(b.instances, inst)
		}
	}
	return used, misused
}

// datasourceInstanceID is a data source's id in a scan: its gateway data source id when it
// has one, else an id derived from what it connects to, so that every item reading the same
// source names the same instance.
func datasourceInstanceID(src Datasource) string {
	if src.DatasourceID != "" {
		return strings.ToLower(src.DatasourceID)
	}
	return deterministicGUID("datasource\x00" + src.DatasourceType + "\x00" + string(marshal(src.ConnectionDetails)))
}

// gatewayHolds reports whether the tenant has the gateway and it holds the data source.
func (s *Server) gatewayHolds(gatewayID, datasourceID string) bool {
	for _, g := range s.state.gateways {
		if !strings.EqualFold(g.info.ID, gatewayID) {
			continue
		}
		for _, ds := range g.datasources {
			if strings.EqualFold(ds.ID, datasourceID) {
				return true
			}
		}
	}
	return false
}

// parameterExpression is a parameter as its M expression reads.
func parameterExpression(p Parameter) string {
	v := p.CurrentValue
	if p.Type == "Text" || p.Type == "Any" {
		v = strconv.Quote(v)
	}
	return fmt.Sprintf("%s meta [IsParameterQuery=true, Type=%q, IsParameterQueryRequired=%t]", v, p.Type, p.IsRequired)
}

// tables lists a model's tables as the scanner does: columns with their types, measures
// with their expressions, and each table's source query, the expressions only when
// datasetExpressions was asked for.
func (b *scanBuilder) tables(d Dataset, m *Model, ws *workspace) []orderedObject {
	tables := []orderedObject{}
	if m == nil {
		return tables
	}
	for _, t := range m.Tables {
		cols := []orderedObject{}
		for _, c := range t.Columns {
			cols = append(cols, orderedObject{{"name", c.Name}, {"dataType", c.DataType}, {"isHidden", c.IsHidden}, {"columnType", "Data"}})
		}
		measures := []orderedObject{}
		for _, ms := range m.Measures {
			if ms.Table != t.Name {
				continue
			}
			mo := orderedObject{{"name", ms.Name}}
			if b.expressions {
				mo = append(mo, orderedField{"expression", ms.Expression})
			}
			if ms.Description != "" {
				mo = append(mo, orderedField{"description", ms.Description})
			}
			mo = append(mo, orderedField{"isHidden", false})
			measures = append(measures, mo)
		}
		to := orderedObject{{"name", t.Name}, {"columns", cols}, {"measures", measures}, {"isHidden", t.IsHidden}}
		if src := tableSource(d, t.Name, ws); b.expressions && src != "" {
			to = append(to, orderedField{"source", []orderedObject{{{"expression", src}}}})
		}
		tables = append(tables, to)
	}
	return tables
}

// tableSource is the M query a table is loaded with, as far as the model's state tells: an
// entity of a dataflow it reads from, or a table of its SQL source.
func tableSource(d Dataset, table string, ws *workspace) string {
	for _, u := range d.UpstreamDataflows {
		if ws == nil || !strings.EqualFold(u.WorkspaceID, ws.info.ID) {
			continue
		}
		if df := ws.dataflow(u.DataflowID); df != nil && slices.ContainsFunc(df.info.Entities, func(e DataflowEntity) bool { return e.Name == table }) {
			return fmt.Sprintf("let\n    Source = PowerPlatform.Dataflows(null),\n    Workspace = Source{[workspaceId=%q]}[Data],\n"+
				"    Dataflow = Workspace{[dataflowId=%q]}[Data],\n    %s = Dataflow{[entity=%q,version=\"\"]}[Data]\nin\n    %s",
				u.WorkspaceID, u.DataflowID, mIdent(table), table, mIdent(table))
		}
	}
	for _, src := range d.Datasources {
		if src.DatasourceType == "Sql" {
			return fmt.Sprintf("let\n    Source = Sql.Database(%q, %q),\n    %s = Source{[Schema=\"dbo\",Item=%q]}[Data]\nin\n    %s",
				src.ConnectionDetails.Server, src.ConnectionDetails.Database, mIdent(table), table, mIdent(table))
		}
	}
	return ""
}

// mIdent writes a name as an M identifier, quoted when it is not a plain one.
func mIdent(name string) string {
	for _, r := range name {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return "#" + strconv.Quote(name)
		}
	}
	return name
}
