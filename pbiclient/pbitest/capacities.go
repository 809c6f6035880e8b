package pbitest

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Workload is a capacity workload setting.
type Workload struct {
	Name                         string
	State                        string // Enabled, Disabled or Unsupported
	MaxMemoryPercentageSetByUser int    // 0 = not sent
}

// Ids of the demo capacities SeedDemo creates, besides DemoCapacityID.
const (
	DemoEmbeddedCapacityID  = "9e1a3c5d-7f9b-4d2e-8a6c-0b2d4f6a8c73" // "Contoso Embedded A1": the caller may assign workspaces
	DemoSuspendedCapacityID = "0f2b4d6e-8a0c-4e3f-9b7d-1c3e5a7b9d84" // "Contoso F2 (paused)": suspended, assignments fail
)

// Assignment timing: the service queues an assignment, then moves the
// workspace's content; these stand for that.
const (
	assignmentPending  = 300 * time.Millisecond
	assignmentDuration = 1200 * time.Millisecond
)

// capacityAssignment is the last assign-to-capacity operation of a
// workspace. Its status is derived from the time it is read.
type capacityAssignment struct {
	capacityID string
	activityID string
	start, end time.Time
	failed     bool
}

func (a *capacityAssignment) status(now time.Time) string {
	switch {
	case now.Before(a.start.Add(assignmentPending)):
		return "Pending"
	case now.Before(a.end):
		return "InProgress"
	case a.failed:
		return "AssignmentFailed"
	default:
		return "CompletedSuccessfully"
	}
}

// AddCapacity adds a capacity the caller can see and returns it as stored.
func (s *Server) AddCapacity(c Capacity) Capacity {
	if c.ID == "" {
		c.ID = newGUID()
	}
	if c.State == "" {
		c.State = "Active"
	}
	if c.AccessRight == "" {
		c.AccessRight = "Admin"
	}
	c.Admins = slices.Clone(c.Admins)
	c.Workloads = slices.Clone(c.Workloads)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state.capacity(c.ID) != nil {
		panic(fmt.Sprintf("pbitest: AddCapacity: capacity %s already exists", c.ID))
	}
	stored := c
	s.state.capacities = append(s.state.capacities, &stored)
	return c
}

func (t *tenantState) capacity(id string) *Capacity {
	for _, c := range t.capacities {
		if strings.EqualFold(c.ID, id) {
			return c
		}
	}
	return nil
}

func (s *Server) capacityRoutes() {
	s.handleAPI("GET "+apiPrefix+"/capacities", s.listCapacities)
	s.handleAPI("GET "+apiPrefix+"/capacities/{capacityId}/Workloads", s.listWorkloads)
	s.handleAPI("GET "+apiPrefix+"/capacities/refreshables", s.listRefreshables)
	s.handleAPI("GET "+apiPrefix+"/capacities/{capacityId}/refreshables", s.listRefreshables)
	s.handleAPI("POST "+apiPrefix+"/groups/{groupId}/AssignToCapacity", s.assignToCapacity)
	s.handleAPI("GET "+apiPrefix+"/groups/{groupId}/CapacityAssignmentStatus", s.capacityAssignmentStatus)
	s.capacityWorkloadRoutes()
	s.capacityAdminRoutes()
}

func (s *Server) listCapacities(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	items := make([]capacityJSON, 0, len(s.state.capacities))
	for _, c := range s.state.capacities {
		items = append(items, toCapacityJSON(*c, false))
	}
	s.mu.Unlock()
	writeList(s, w, "", "capacities", items)
}

// writeCapacityNotFound answers a capacity id the caller cannot see [INFER:
// the entity-not-found shape the service uses for other items].
func writeCapacityNotFound(w http.ResponseWriter, id string) {
	writeError(w, http.StatusNotFound, "PowerBIEntityNotFound", fmt.Sprintf("Capacity %s was not found or the caller has no access to it.", id))
}

type workloadJSON struct {
	Name                         string `json:"name"`
	State                        string `json:"state"`
	MaxMemoryPercentageSetByUser int    `json:"maxMemoryPercentageSetByUser,omitempty"`
}

func (s *Server) listWorkloads(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("capacityId")
	s.mu.Lock()
	c := s.state.capacity(id)
	var items []workloadJSON
	if c != nil {
		items = make([]workloadJSON, 0, len(c.Workloads))
		for _, wl := range c.Workloads {
			items = append(items, workloadJSON{Name: wl.Name, State: wl.State, MaxMemoryPercentageSetByUser: wl.MaxMemoryPercentageSetByUser})
		}
	}
	s.mu.Unlock()
	if c == nil {
		writeCapacityNotFound(w, id)
		return
	}
	writeList(s, w, "", "capacities('"+c.ID+"')/workloads", items)
}

// refreshWindow is how far back the service keeps refresh statistics: a
// seven-day history per model (swagger, Refreshable).
const refreshWindow = 7 * 24 * time.Hour

// refreshableFilterFields are what $filter may name on refreshables.
var refreshableFilterFields = map[string]bool{"id": true, "name": true, "kind": true}

// listRefreshables serves GET capacities/refreshables and its per-capacity
// variant: the models on the caller's capacities that were refreshed in the
// last seven days or have a refresh schedule, with statistics computed from
// their refresh history. $top is required.
func (s *Server) listRefreshables(w http.ResponseWriter, r *http.Request) {
	top, skip, ok := pageOptions(w, r)
	if !ok {
		return
	}
	if top < 1 {
		// The swagger marks $top required with minimum 1 [INFER: body].
		writeQueryError(w, "The $top query option is required and must be a positive integer.")
		return
	}
	q := r.URL.Query()
	var expandCapacity, expandGroup bool
	for _, e := range strings.Split(q.Get("$expand"), ",") {
		switch strings.TrimSpace(strings.ToLower(e)) {
		case "":
		case "capacity", "capacities":
			expandCapacity = true
		case "group", "groups":
			expandGroup = true
		default:
			writeQueryError(w, fmt.Sprintf("Could not find a property named '%s' on type 'Refreshable'.", strings.TrimSpace(e)))
			return
		}
	}
	var filter odataFilter
	if src := q.Get("$filter"); strings.TrimSpace(src) != "" {
		f, err := parseFilter(src, refreshableFilterFields)
		if err != nil {
			writeQueryError(w, err.Error())
			return
		}
		filter = f
	}
	only := r.PathValue("capacityId")
	now := time.Now()
	s.mu.Lock()
	if only != "" && s.state.capacity(only) == nil {
		s.mu.Unlock()
		writeCapacityNotFound(w, only)
		return
	}
	items := []refreshableJSON{}
	for _, ws := range s.state.workspaces {
		if !ws.info.IsOnDedicatedCapacity || (only != "" && !strings.EqualFold(ws.info.CapacityID, only)) {
			continue
		}
		c := s.state.capacity(ws.info.CapacityID)
		if c == nil {
			continue
		}
		for _, d := range ws.datasets {
			item, ok := refreshableOf(d, now)
			if !ok {
				continue
			}
			if filter != nil && !filter(filterFields{"id": item.ID, "name": item.Name, "kind": item.Kind}) {
				continue
			}
			if expandCapacity {
				cj := toCapacityJSON(*c, false)
				item.Capacity = &cj
			}
			if expandGroup {
				item.Group = &refreshableGrp{ID: ws.info.ID, Name: ws.info.Name}
			}
			items = append(items, item)
		}
	}
	s.mu.Unlock()
	writeList(s, w, "", "capacities/refreshables", page(items, top, skip))
}

// refreshableOf computes a model's refresh statistics over the last seven
// days. A model is refreshable when it was refreshed in that window or has
// an enabled schedule.
func refreshableOf(d *dataset, now time.Time) (refreshableJSON, bool) {
	windowStart := now.Add(-refreshWindow)
	var durations []float64
	var last *refreshJob
	failures := 0
	first := now
	for _, j := range d.refreshes {
		if j.start.Before(windowStart) {
			continue
		}
		if last == nil || j.start.After(last.start) {
			last = j
		}
		end, done := j.finished(now)
		if !done {
			continue // a running refresh counts once it ends
		}
		if j.start.Before(first) {
			first = j.start
		}
		durations = append(durations, end.Sub(j.start).Seconds())
		if j.status(now) == "Failed" {
			failures++
		}
	}
	scheduled := d.schedule != nil && d.schedule.Enabled
	if last == nil && !scheduled {
		return refreshableJSON{}, false
	}
	out := refreshableJSON{
		ID: d.info.ID, Name: d.info.Name, Kind: "Dataset",
		StartTime: serviceTime(first), EndTime: serviceTime(now),
		RefreshCount: len(durations), RefreshFailures: failures,
		ConfiguredBy: []string{d.info.ConfiguredBy},
	}
	if len(durations) > 0 {
		avg, median := durationStats(durations)
		out.AverageDuration, out.MedianDuration = round3(avg), round3(median)
		days := max(1, int(math.Ceil(now.Sub(first).Hours()/24)))
		out.RefreshesPerDay = int(math.Round(float64(len(durations)) / float64(days)))
	}
	if last != nil {
		h := last.historyJSON(now)
		out.LastRefresh = &h
	}
	if d.schedule != nil {
		sch := *d.schedule
		out.RefreshSchedule = &sch
	}
	return out, true
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// durationStats is the average and median of refresh durations, as a
// Refreshable reports them; durations is sorted in place and not empty.
func durationStats(durations []float64) (average, median float64) {
	sum := 0.0
	for _, x := range durations {
		sum += x
	}
	slices.Sort(durations)
	mid := len(durations) / 2
	median = durations[mid]
	if len(durations)%2 == 0 {
		median = (durations[mid-1] + durations[mid]) / 2
	}
	return sum / float64(len(durations)), median
}

// assignToCapacity serves POST groups/{groupId}/AssignToCapacity. The
// request is accepted at once (200, empty body); the move runs in the
// background, Pending then InProgress, and ends CompletedSuccessfully or
// AssignmentFailed (a capacity that is not Active).
func (s *Server) assignToCapacity(w http.ResponseWriter, r *http.Request) {
	var req struct {
		CapacityID *string `json:"capacityId"`
	}
	if _, ok := readJSON(w, r, &req); !ok {
		return
	}
	if req.CapacityID == nil || !isGUID(*req.CapacityID) {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "capacityId is required and must be a GUID (00000000-0000-0000-0000-000000000000 to unassign).")
		return
	}
	target := strings.ToLower(*req.CapacityID)
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	ws, _ := s.workspaceOf(w, r)
	if ws == nil {
		return
	}
	var c *Capacity
	if target != emptyGUID {
		c = s.state.capacity(target)
		switch {
		case c == nil:
			writeCapacityNotFound(w, target)
			return
		case c.AccessRight != "Admin" && c.AccessRight != "Assign":
			// Assigning needs admin or assignment permissions on the capacity.
			writePBIError(w, http.StatusUnauthorized, "PowerBINotAuthorizedException",
				detailsMessage("The caller has no assignment permissions on capacity "+c.ID+"."))
			return
		}
	}
	// The fake moves the workspace at once, so GET groups shows the new capacity while the
	// status is still Pending or InProgress; the service shows it by the time the status is
	// CompletedSuccessfully.
	s.moveWorkspace(ws, c, now)
	writeEmptyOK(w)
}

type assignmentStatusJSON struct {
	Status     string `json:"status"`
	ActivityID string `json:"activityId,omitempty"`
	StartTime  string `json:"startTime,omitempty"`
	EndTime    string `json:"endTime,omitempty"`
	CapacityID string `json:"capacityId,omitempty"`
}

// capacityAssignmentStatus serves GET groups/{groupId}/CapacityAssignmentStatus.
// A workspace never assigned reports a completed assignment to where it is
// [INFER].
func (s *Server) capacityAssignmentStatus(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	s.mu.Lock()
	ws, _ := s.workspaceOf(w, r)
	if ws == nil {
		s.mu.Unlock()
		return
	}
	a := s.state.assignments[strings.ToLower(ws.info.ID)]
	out := assignmentStatusJSON{Status: "CompletedSuccessfully", CapacityID: ws.info.CapacityID}
	if out.CapacityID == "" {
		out.CapacityID = emptyGUID
	}
	if a != nil {
		out = assignmentStatusJSON{Status: a.status(now), StartTime: serviceTime(a.start), CapacityID: a.capacityID}
		if out.Status == "CompletedSuccessfully" || out.Status == "AssignmentFailed" {
			out.EndTime = serviceTime(a.end)
		}
		if out.Status == "AssignmentFailed" {
			out.ActivityID = a.activityID // given for failures, to quote to support
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// seedCapacities adds the demo capacities for assigning workspaces: an
// Embedded one, and a suspended one, where assignments fail. The Premium one
// the demo workspaces are on comes with the admin view (seedAdmin).
func (s *Server) seedCapacities() {
	s.AddCapacity(Capacity{ID: DemoEmbeddedCapacityID, DisplayName: "Contoso Embedded A1", SKU: "A1", Region: "West Europe",
		Admins: []string{"megan.bowen@contoso.com"}, AccessRight: "Assign",
		Workloads: []Workload{
			{Name: "Dataflows", State: "Enabled", MaxMemoryPercentageSetByUser: 40},
			{Name: "PaginatedReports", State: "Unsupported"},
			{Name: "AI", State: "Unsupported"},
		}})
	s.AddCapacity(Capacity{ID: DemoSuspendedCapacityID, DisplayName: "Contoso F2 (paused)", SKU: "F2", Region: "North Europe",
		State: "Suspended", Admins: []string{"admin@contoso.onmicrosoft.com"},
		Workloads: []Workload{{Name: "Dataflows", State: "Enabled"}}})
}
