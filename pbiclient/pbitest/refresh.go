package pbitest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Refresh limits of the service.
const (
	// maxRefreshHistory is how many entries GET .../refreshes keeps.
	maxRefreshHistory = 60
	// sharedDailyRefreshes is the refreshes allowed per dataset per 24 h
	// on shared (Pro) capacity, scheduled ones included.
	sharedDailyRefreshes = 8
)

func (s *Server) refreshRoutes() {
	s.handleBoth("POST", "/datasets/{datasetId}/refreshes", s.postRefresh)
	s.handleBoth("GET", "/datasets/{datasetId}/refreshes", s.listRefreshes)
	s.handleBoth("GET", "/datasets/{datasetId}/refreshes/{refreshId}", s.getRefreshDetails)
	s.handleBoth("DELETE", "/datasets/{datasetId}/refreshes/{refreshId}", s.cancelRefresh)
	s.scheduleRoutes()
}

// refreshJob is one refresh of a dataset. Its status follows from the
// clock: it runs from start to end, unless cancelled before.
type refreshJob struct {
	requestID   string
	refreshType string // ViaApi or ViaEnhancedApi
	enhanced    bool
	start, end  time.Time
	cancelled   time.Time // zero unless cancelled
	failure     string    // error code the refresh fails with at its end; "" = it succeeds
	// failureText is the failure's errorDescription. The service sends one with some codes
	// and not with others: Learn's example of ModelRefreshFailed_CredentialsNotSpecified
	// has the code alone.
	failureText string
	// Enhanced refresh parameters, echoed by the details endpoint.
	typ, commitMode string
	objects         []refreshObject
	timeout         time.Duration // zero = the service default, longer than any fake refresh
}

type refreshObject struct {
	Table     string `json:"table"`
	Partition string `json:"partition,omitempty"`
}

// finished reports whether the refresh is over at now, and when it ended.
func (j *refreshJob) finished(now time.Time) (time.Time, bool) {
	if !j.cancelled.IsZero() {
		return j.cancelled, true
	}
	if now.Before(j.end) {
		return time.Time{}, false
	}
	return j.end, true
}

// status is the history status: Unknown while running.
func (j *refreshJob) status(now time.Time) string {
	switch _, done := j.finished(now); {
	case !j.cancelled.IsZero():
		return "Cancelled"
	case done && j.failure != "":
		return "Failed"
	case done:
		return "Completed"
	}
	return "Unknown"
}

// extendedStatus is the status enhanced refreshes report in detail.
func (j *refreshJob) extendedStatus(now time.Time) string {
	if _, done := j.finished(now); done {
		if j.cancelled.IsZero() && j.failure == refreshTimedOut {
			return "TimedOut"
		}
		return j.status(now)
	}
	return "InProgress"
}

// objectStatus is the state of the i-th requested object at now. The
// objects are processed one after another, each for an equal share of the
// refresh, so their states move NotStarted -> InProgress -> Completed as the
// refresh runs. At a failure the object being processed fails; at a
// cancellation the unfinished ones are cancelled.
func (j *refreshJob) objectStatus(i int, now time.Time) string {
	share := j.end.Sub(j.start) / time.Duration(len(j.objects))
	from, to := j.start.Add(time.Duration(i)*share), j.start.Add(time.Duration(i+1)*share)
	end, done := j.finished(now)
	at := now
	if done {
		at = end
	}
	switch {
	case !at.Before(to) && (i < len(j.objects)-1 || !done || j.failure == ""):
		return "Completed"
	case done && !j.cancelled.IsZero():
		return "Cancelled"
	case done:
		return "Failed"
	case now.Before(from):
		return "NotStarted"
	}
	return "InProgress"
}

// refreshTimedOut is the failure of an enhanced refresh that ran out of
// its timeout; its details report extendedStatus TimedOut.
const refreshTimedOut = "TimedOut"

// serviceException is the serviceExceptionJson of a failed refresh: the
// service sends the error as a JSON document inside a string.
func (j *refreshJob) serviceException() string {
	e := orderedObject{{"errorCode", j.failure}}
	if j.failureText != "" {
		e = append(e, orderedField{"errorDescription", j.failureText})
	}
	return string(marshal(e))
}

// Values the request body's enumerations accept; the service matches them
// without regard to case and reports them capitalised.
var (
	notifyOptions   = []string{"NoNotification", "MailOnFailure", "MailOnCompletion"}
	refreshTypes    = []string{"Full", "ClearValues", "Calculate", "DataOnly", "Automatic", "Defragment"}
	refreshCommits  = []string{"Transactional", "PartialBatch"}
	enhancedRefresh = []string{"type", "commitMode", "maxParallelism", "retryCount", "objects", "applyRefreshPolicy", "effectiveDate", "timeout"}
)

// canonical returns the listed value v equals ignoring case.
func canonical(v string, values []string) (string, bool) {
	for _, c := range values {
		if strings.EqualFold(v, c) {
			return c, true
		}
	}
	return "", false
}

func invalidRefresh(w http.ResponseWriter, msg string) {
	writeError(w, http.StatusBadRequest, "InvalidRequest", msg)
}

// postRefresh starts a refresh. A body that is empty or has only
// notifyOption asks for a standard refresh; any other field makes it an
// enhanced refresh, which needs a dedicated capacity.
func (s *Server) postRefresh(w http.ResponseWriter, r *http.Request) {
	// raw tells which fields were sent; req holds their values.
	var raw map[string]json.RawMessage
	var req struct {
		NotifyOption   string          `json:"notifyOption"`
		Type           string          `json:"type"`
		CommitMode     string          `json:"commitMode"`
		Objects        []refreshObject `json:"objects"`
		MaxParallelism int             `json:"maxParallelism"`
		RetryCount     int             `json:"retryCount"`
		EffectiveDate  string          `json:"effectiveDate"`
		Timeout        string          `json:"timeout"`
	}
	if _, ok := readJSON(w, r, &raw, &req); !ok {
		return
	}
	enhanced := false
	for _, field := range enhancedRefresh {
		if _, set := raw[field]; set {
			enhanced = true
		}
	}
	if _, set := raw["notifyOption"]; set {
		option, ok := canonical(req.NotifyOption, notifyOptions)
		if !ok {
			invalidRefresh(w, fmt.Sprintf("Invalid NotifyOption value '%s'", req.NotifyOption))
			return
		}
		// Every caller of this server is a service principal, and the
		// service refuses mail notifications for app-only callers.
		if option != "NoNotification" {
			invalidRefresh(w, fmt.Sprintf("Invalid NotifyOption value '%s' for app only owner requests", option))
			return
		}
		if enhanced {
			// Enhanced refresh has no notifications; the documentation
			// says to omit notifyOption. The exact message is not
			// documented.
			invalidRefresh(w, "Invalid dataset refresh request. notifyOption is not supported for enhanced refresh")
			return
		}
	}
	job := &refreshJob{requestID: w.Header().Get("RequestId"), refreshType: "ViaApi"}
	if enhanced {
		job.enhanced, job.refreshType = true, "ViaEnhancedApi"
		job.requestID = newGUID()
		job.typ, job.commitMode, job.objects = "Automatic", "Transactional", req.Objects
		if msg := checkEnhancedRefresh(raw, req.Type, req.CommitMode, req.Objects, req.MaxParallelism, req.RetryCount, req.EffectiveDate, req.Timeout, job); msg != "" {
			invalidRefresh(w, msg)
			return
		}
	}

	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	d, groupID := s.datasetOf(w, r)
	if d == nil {
		return
	}
	ws := s.state.workspace(groupID)
	switch {
	case !d.info.IsRefreshable:
		// Push and streaming datasets have nothing to refresh from.
		invalidRefresh(w, "Invalid dataset refresh request. Dataset is not refreshable")
		return
	case enhanced && !ws.info.IsOnDedicatedCapacity:
		// On shared capacity the service accepts only notifyOption in
		// the body; its exact message for other fields is not
		// documented.
		invalidRefresh(w, "Invalid dataset refresh request. Enhanced refresh is only supported for datasets on Premium, Premium Per User or Embedded capacity")
		return
	case d.running(now):
		invalidRefresh(w, "Invalid dataset refresh request. Another refresh request is already executing")
		return
	case !ws.info.IsOnDedicatedCapacity && d.requestedSince(now.Add(-24*time.Hour)) >= sharedDailyRefreshes:
		invalidRefresh(w, "Invalid dataset refresh request. Number of refresh requests in last 24 hours exceeded limit")
		return
	}
	job.start, job.end = now, now.Add(s.opts.RefreshDuration)
	job.failure = d.info.RefreshError
	if job.timeout > 0 && job.timeout < s.opts.RefreshDuration {
		// The attempt is stopped when its time is up.
		job.end, job.failure = now.Add(job.timeout), refreshTimedOut
	}
	d.addRefresh(job)

	h := w.Header()
	if enhanced {
		h.Set("x-ms-request-id", job.requestID)
		loc := s.APIBaseURL()
		if groupID != "" {
			loc += "/groups/" + groupID
		}
		h.Set("Location", loc+"/datasets/"+d.info.ID+"/refreshes/"+job.requestID)
	}
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusAccepted)
}

// checkEnhancedRefresh applies the documented rules of the enhanced refresh
// fields and fills job with the values sent. It returns the message of the
// first rule broken, "" when all hold. The service documents the rules but
// not its messages for them; these say what is wrong.
func checkEnhancedRefresh(raw map[string]json.RawMessage, typ, commitMode string, objects []refreshObject,
	maxParallelism, retryCount int, effectiveDate, timeout string, job *refreshJob) string {
	if _, set := raw["type"]; set {
		t, ok := canonical(typ, refreshTypes)
		if !ok {
			return fmt.Sprintf("Invalid refresh type '%s'", typ)
		}
		job.typ = t
	}
	if _, set := raw["commitMode"]; set {
		c, ok := canonical(commitMode, refreshCommits)
		if !ok {
			return fmt.Sprintf("Invalid commit mode '%s'", commitMode)
		}
		job.commitMode = c
	}
	for _, o := range objects {
		if strings.TrimSpace(o.Table) == "" {
			return "Invalid refresh objects: every object needs a table"
		}
	}
	if _, set := raw["maxParallelism"]; set && maxParallelism < 1 {
		return fmt.Sprintf("Invalid maxParallelism value '%d'", maxParallelism)
	}
	if _, set := raw["retryCount"]; set && retryCount < 0 {
		return fmt.Sprintf("Invalid retryCount value '%d'", retryCount)
	}
	applyPolicy := true
	if v, set := raw["applyRefreshPolicy"]; set {
		// The documentation's own example sends the boolean as a string.
		switch strings.ToLower(strings.Trim(string(v), `"`)) {
		case "true":
		case "false":
			applyPolicy = false
		default:
			return fmt.Sprintf("Invalid applyRefreshPolicy value %s", v)
		}
	}
	if job.commitMode == "PartialBatch" && applyPolicy {
		return "applyRefreshPolicy must be false when commitMode is partialBatch"
	}
	if _, set := raw["effectiveDate"]; set && !validDate(effectiveDate) {
		return fmt.Sprintf("Invalid effectiveDate value '%s'", effectiveDate)
	}
	if _, set := raw["timeout"]; set {
		d, ok := parseTimeout(timeout)
		if !ok {
			return fmt.Sprintf("Invalid timeout value '%s': use hh:mm:ss, at most 24:00:00", timeout)
		}
		job.timeout = d
	}
	return ""
}

// validDate accepts the date-time forms the service reads: RFC 3339, or a
// date and time without zone, or a date alone.
func validDate(v string) bool {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if _, err := time.Parse(layout, v); err == nil {
			return true
		}
	}
	return false
}

// parseTimeout reads an enhanced refresh timeout, "hh:mm:ss" of at most a
// day (the service's bound on a refresh, retries included).
func parseTimeout(v string) (time.Duration, bool) {
	var h, m, sec int
	if n, err := fmt.Sscanf(v, "%d:%d:%d", &h, &m, &sec); err != nil || n != 3 ||
		len(v) < 8 || h < 0 || m < 0 || m > 59 || sec < 0 || sec > 59 {
		return 0, false
	}
	d := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(sec)*time.Second
	return d, d > 0 && d <= 24*time.Hour
}

func (d *dataset) running(now time.Time) bool {
	for _, j := range d.refreshes {
		if _, done := j.finished(now); !done {
			return true
		}
	}
	return false
}

// requestedSince counts the refreshes started after t.
func (d *dataset) requestedSince(t time.Time) int {
	n := 0
	for _, start := range d.requested {
		if start.After(t) {
			n++
		}
	}
	return n
}

func (d *dataset) addRefresh(j *refreshJob) {
	d.refreshes = append(d.refreshes, j)
	if len(d.refreshes) > maxRefreshHistory {
		d.refreshes = d.refreshes[len(d.refreshes)-maxRefreshHistory:]
	}
	// Keep only the starts the daily limit can still count.
	dayAgo := j.start.Add(-24 * time.Hour)
	kept := d.requested[:0]
	for _, t := range d.requested {
		if t.After(dayAgo) {
			kept = append(kept, t)
		}
	}
	d.requested = append(kept, j.start)
}

func (d *dataset) refresh(id string) *refreshJob {
	for _, j := range d.refreshes {
		if strings.EqualFold(j.requestID, id) {
			return j
		}
	}
	return nil
}

// refreshJSON is a refresh history entry, fields in the service's order.
type refreshJSON struct {
	RefreshType      string           `json:"refreshType"`
	StartTime        string           `json:"startTime"`
	EndTime          string           `json:"endTime,omitempty"`
	ServiceException string           `json:"serviceExceptionJson,omitempty"`
	Status           string           `json:"status"`
	ExtendedStatus   string           `json:"extendedStatus,omitempty"`
	RequestID        string           `json:"requestId"`
	RefreshAttempts  []refreshAttempt `json:"refreshAttempts,omitempty"`
}

type refreshAttempt struct {
	AttemptID        int    `json:"attemptId"`
	StartTime        string `json:"startTime"`
	EndTime          string `json:"endTime,omitempty"`
	ServiceException string `json:"serviceExceptionJson,omitempty"`
	Type             string `json:"type"`
}

func (j *refreshJob) historyJSON(now time.Time) refreshJSON {
	out := refreshJSON{
		RefreshType: j.refreshType,
		StartTime:   serviceTime(j.start),
		Status:      j.status(now),
		RequestID:   j.requestID,
	}
	if j.enhanced {
		out.ExtendedStatus = j.extendedStatus(now)
	}
	if end, done := j.finished(now); done {
		out.EndTime = serviceTime(end)
		if out.Status == "Failed" {
			out.ServiceException = j.serviceException()
		}
		out.RefreshAttempts = []refreshAttempt{{AttemptID: 1, StartTime: out.StartTime, EndTime: out.EndTime, ServiceException: out.ServiceException, Type: "Data"}}
	}
	return out
}

// listRefreshes serves the refresh history, newest first, $top entries.
func (s *Server) listRefreshes(w http.ResponseWriter, r *http.Request) {
	top, _, ok := pageOptions(w, r)
	if !ok {
		return
	}
	now := time.Now()
	s.mu.Lock()
	d, groupID := s.datasetOf(w, r)
	if d == nil {
		s.mu.Unlock()
		return
	}
	items := make([]refreshJSON, 0, len(d.refreshes))
	for i := len(d.refreshes) - 1; i >= 0; i-- {
		items = append(items, d.refreshes[i].historyJSON(now))
	}
	s.mu.Unlock()
	writeList(s, w, groupID, "refreshes", page(items, top, 0))
}

// enhancedRefreshOf resolves the enhanced refresh a request addresses,
// answering 404 when there is none. The caller must hold s.mu.
func (s *Server) enhancedRefreshOf(w http.ResponseWriter, r *http.Request) *refreshJob {
	d, _ := s.datasetOf(w, r)
	if d == nil {
		return nil
	}
	id := r.PathValue("refreshId")
	j := d.refresh(id)
	if j == nil || !j.enhanced {
		// Standard refreshes have no details; the service does not
		// document its answer for them, so they are reported unknown.
		writeError(w, http.StatusNotFound, "ItemNotFound", fmt.Sprintf("Refresh %s is not found", id))
		return nil
	}
	return j
}

// engineMessage is an engine error or warning in refresh details.
type engineMessage struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Type    string `json:"type"`
}

// detailTime formats timestamps of refresh details, which the service sends
// without a zone designator (they are UTC).
func detailTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.999")
}

// getRefreshDetails serves an enhanced refresh's execution details: 202
// while it runs, 200 once it is over.
func (s *Server) getRefreshDetails(w http.ResponseWriter, r *http.Request) {
	type objectStatus struct {
		Table     string `json:"table"`
		Partition string `json:"partition,omitempty"`
		Status    string `json:"status"`
	}
	type details struct {
		StartTime          string           `json:"startTime"`
		EndTime            string           `json:"endTime,omitempty"`
		Type               string           `json:"type"`
		CommitMode         string           `json:"commitMode"`
		Status             string           `json:"status"`
		ExtendedStatus     string           `json:"extendedStatus"`
		CurrentRefreshType string           `json:"currentRefreshType"`
		NumberOfAttempts   int              `json:"numberOfAttempts"`
		Objects            []objectStatus   `json:"objects,omitempty"`
		Messages           []engineMessage  `json:"messages,omitempty"`
		RefreshAttempts    []refreshAttempt `json:"refreshAttempts,omitempty"`
	}
	now := time.Now()
	s.mu.Lock()
	j := s.enhancedRefreshOf(w, r)
	if j == nil {
		s.mu.Unlock()
		return
	}
	end, done := j.finished(now)
	out := details{
		StartTime:          detailTime(j.start),
		Type:               j.typ,
		CommitMode:         j.commitMode,
		Status:             j.status(now),
		ExtendedStatus:     j.extendedStatus(now),
		CurrentRefreshType: j.typ,
		NumberOfAttempts:   1,
	}
	for i, o := range j.objects {
		out.Objects = append(out.Objects, objectStatus{Table: o.Table, Partition: o.Partition, Status: j.objectStatus(i, now)})
	}
	if done {
		out.EndTime = detailTime(end)
		attempt := refreshAttempt{AttemptID: 1, StartTime: out.StartTime, EndTime: out.EndTime, Type: "Data"}
		if out.Status == "Failed" {
			attempt.ServiceException = j.serviceException()
			// The engine's message; its real hexadecimal code depends on
			// the source, so the fake names the failure.
			msg := j.failureText
			if msg == "" {
				msg = "The refresh failed: " + j.failure + "."
			}
			out.Messages = []engineMessage{{Code: j.failure, Message: msg, Type: "Error"}}
		}
		out.RefreshAttempts = []refreshAttempt{attempt}
	}
	s.mu.Unlock()
	status := http.StatusOK
	if !done {
		status = http.StatusAccepted
	}
	writeJSON(w, status, out)
}

// cancelRefresh cancels a running enhanced refresh. Only enhanced
// refreshes can be cancelled.
func (s *Server) cancelRefresh(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	j := s.enhancedRefreshOf(w, r)
	if j == nil {
		return
	}
	if _, done := j.finished(now); !done {
		j.cancelled = now
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}
