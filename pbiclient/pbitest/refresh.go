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
	// Enhanced refresh parameters, echoed by the details endpoint.
	typ, commitMode string
	objects         []refreshObject
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
		return j.status(now)
	}
	return "InProgress"
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
		NotifyOption string          `json:"notifyOption"`
		Type         string          `json:"type"`
		CommitMode   string          `json:"commitMode"`
		Objects      []refreshObject `json:"objects"`
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
		if _, set := raw["type"]; set {
			t, ok := canonical(req.Type, refreshTypes)
			if !ok {
				invalidRefresh(w, fmt.Sprintf("Invalid refresh type '%s'", req.Type))
				return
			}
			job.typ = t
		}
		if _, set := raw["commitMode"]; set {
			c, ok := canonical(req.CommitMode, refreshCommits)
			if !ok {
				invalidRefresh(w, fmt.Sprintf("Invalid commit mode '%s'", req.CommitMode))
				return
			}
			job.commitMode = c
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
			// The service sends the error as a JSON document inside a string.
			out.ServiceException = string(marshal(map[string]string{"errorCode": j.failure}))
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
	s.writeList(w, groupID, "refreshes", page(items, top, 0))
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
	for _, o := range j.objects {
		out.Objects = append(out.Objects, objectStatus{Table: o.Table, Partition: o.Partition, Status: out.ExtendedStatus})
	}
	if done {
		out.EndTime = detailTime(end)
		out.RefreshAttempts = []refreshAttempt{{AttemptID: 1, StartTime: out.StartTime, EndTime: out.EndTime, Type: "Data"}}
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
