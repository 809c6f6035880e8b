package pbitest

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The admin inventory endpoints (/admin/groups, /admin/datasets, ...) see the
// whole tenant: the workspaces the service principal belongs to (every
// workspace of the ordinary API here) plus workspaces only an administrator
// sees (AddAdminWorkspace): other people's, personal and deleted ones.
//
// Two knobs make them behave like a real tenant:
//   - SetServicePrincipalAdminAPIs(false): the tenant setting "Service
//     principals can access read-only admin APIs" is off, so a service
//     principal is refused with 401 PowerBINotAuthorizedException.
//   - SetAdminRateLimits: the documented per-tenant request limits, on by
//     default with the real numbers; a TimeScale shrinks their windows so a
//     test need not wait an hour.

// AdminWorkspace is a workspace only the admin APIs see: the service
// principal is not a member of it.
type AdminWorkspace struct {
	Workspace
	State       string // "Active" (default), "Deleted", "Removing"
	Description string
	Users       []WorkspaceUser
	Datasets    []Dataset
	Reports     []Report
	Dashboards  []Dashboard
}

// Capacity is a Power BI Premium, Embedded or Fabric capacity, as the
// capacities API and the admin APIs list it.
type Capacity struct {
	ID          string // filled with a random GUID when empty
	DisplayName string
	Admins      []string
	SKU         string // e.g. "P1", "F64", "A1"
	State       string // default "Active"; assignments to a capacity that is not Active fail
	Region      string
	// AccessRight is the caller's capacityUserAccessRight: "Admin" (default),
	// "Assign" or "None". Workspaces can be assigned only with Admin or Assign.
	AccessRight string
	Workloads   []Workload
	TenantKeyID string // customer-managed encryption key, if any
	TenantKey   *TenantKey
}

// TenantKey is a customer-managed encryption key (BYOK).
type TenantKey struct {
	ID                    string `json:"id"`
	Name                  string `json:"name"`
	KeyVaultKeyIdentifier string `json:"keyVaultKeyIdentifier"`
	IsDefault             bool   `json:"isDefault"`
	CreatedAt             string `json:"createdAt"`
	UpdatedAt             string `json:"updatedAt"`
}

// AdminRateLimits configures the documented limits of the admin APIs.
type AdminRateLimits struct {
	// Off disables them.
	Off bool
	// TimeScale multiplies their windows: 1 (or 0) is real time, 0.001 turns
	// the hour into 3.6 s and the minute into 60 ms. The number of requests
	// allowed per window stays the service's.
	TimeScale float64
}

// adminState is the part of the tenant only the admin APIs see, and their
// knobs. The Server's mutex guards it.
type adminState struct {
	workspaces []*AdminWorkspace
	refuseApps bool // service principals refused (tenant setting off)
	limits     AdminRateLimits
	accepted   map[string][]time.Time // per limited operation, times of accepted requests

	// The access area (admin_access.go).
	itemUsers     map[string][]ItemUser // direct shares, app audiences, capacity Assign, by lowercase item id
	shares        []WideShare
	lastAccess    map[string]time.Time // by lowercase item id
	subscriptions []Subscription
	chunk         int // entries per chunk of the continuation lists; 0 is defaultAdminChunk
	// descriptions set by PATCH admin/groups/{id} on the ordinary API's workspaces, by lowercase id.
	descriptions map[string]string
}

func (t *tenantState) adminState() *adminState {
	if t.admin == nil {
		t.admin = &adminState{accepted: map[string][]time.Time{}}
	}
	return t.admin
}

// AddAdminWorkspace adds a workspace the service principal is not a member
// of; only the admin APIs list it. Ids left empty are filled in.
func (s *Server) AddAdminWorkspace(w AdminWorkspace) AdminWorkspace {
	if w.ID == "" {
		w.ID = newGUID()
	}
	if w.Type == "" {
		w.Type = "Workspace"
	}
	if w.State == "" {
		w.State = "Active"
	}
	w.Users = slices.Clone(w.Users)
	w.Datasets = slices.Clone(w.Datasets)
	w.Reports = slices.Clone(w.Reports)
	w.Dashboards = slices.Clone(w.Dashboards)
	for i := range w.Datasets {
		if w.Datasets[i].ID == "" {
			w.Datasets[i].ID = newGUID()
		}
		if w.Datasets[i].ConfiguredBy == "" {
			w.Datasets[i].ConfiguredBy = defaultConfiguredBy
		}
		if w.Datasets[i].TargetStorageMode == "" {
			w.Datasets[i].TargetStorageMode = defaultTargetStorageMode
		}
		if w.Datasets[i].CreatedDate.IsZero() {
			w.Datasets[i].CreatedDate = time.Now().UTC().Truncate(time.Millisecond)
		}
	}
	for i := range w.Reports {
		if w.Reports[i].ID == "" {
			w.Reports[i].ID = newGUID()
		}
		if w.Reports[i].ReportType == "" {
			w.Reports[i].ReportType = reportTypePowerBI
		}
	}
	for i := range w.Dashboards {
		if w.Dashboards[i].ID == "" {
			w.Dashboards[i].ID = newGUID()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	stored := w
	s.state.adminState().workspaces = append(s.state.adminState().workspaces, &stored)
	return w
}

// SetServicePrincipalAdminAPIs turns the tenant setting "Service principals
// can access read-only admin APIs" on (the default) or off. Off, the admin
// APIs answer a service principal 401 PowerBINotAuthorizedException, as the
// service does; a signed-in user (a Fabric administrator) is still served.
func (s *Server) SetServicePrincipalAdminAPIs(enabled bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state.adminState().refuseApps = !enabled
}

// SetAdminRateLimits replaces the admin APIs' rate limits and forgets the
// requests counted so far.
func (s *Server) SetAdminRateLimits(l AdminRateLimits) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.state.adminState()
	a.limits = l
	a.accepted = map[string][]time.Time{}
}

// adminLimit is one documented limit: at most n requests per window.
type adminLimit struct {
	n      int
	window time.Duration
}

// adminLimits are the documented per-tenant limits of each admin operation
// (the "Limitations" sections of the REST reference): GET admin/groups 50
// per hour or 15 per minute; admin/datasets, reports and dashboards 50 per
// hour or 5 per minute; the other admin GETs 200 per hour.
var adminLimits = map[string][]adminLimit{
	"groups":     {{15, time.Minute}, {50, time.Hour}},
	"datasets":   {{5, time.Minute}, {50, time.Hour}},
	"reports":    {{5, time.Minute}, {50, time.Hour}},
	"dashboards": {{5, time.Minute}, {50, time.Hour}},
}

var defaultAdminLimit = []adminLimit{{200, time.Hour}}

func (s *Server) adminRoutes() {
	p := "GET " + apiPrefix + "/admin/"
	s.handleAPI(p+"groups", s.admin("groups", s.adminListGroups))
	s.handleAPI(p+"groups/{groupId}", s.admin("group", s.adminGetGroup))
	s.handleAPI(p+"groups/{groupId}/users", s.admin("groupUsers", s.adminListGroupUsers))
	s.handleAPI(p+"datasets", s.admin("datasets", s.adminListDatasets))
	s.handleAPI(p+"reports", s.admin("reports", s.adminListReports))
	s.handleAPI(p+"dashboards", s.admin("dashboards", s.adminListDashboards))
	s.handleAPI(p+"apps", s.admin("apps", s.adminListApps))
	s.handleAPI(p+"capacities", s.admin("capacities", s.adminListCapacities))
	s.handleAPI(p+"capacities/refreshables", s.admin("refreshables", s.adminListRefreshables))
	s.adminAccessRoutes()
	s.adminListRoutes()
}

// admin wraps an admin handler: the tenant setting for service principals,
// then the operation's rate limit. A refused or throttled request does not
// count against the limit.
func (s *Server) admin(op string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		a := s.state.adminState()
		if a.refuseApps && !callerIsUser(r) {
			s.mu.Unlock()
			writePBIError(w, http.StatusUnauthorized, "PowerBINotAuthorizedException")
			return
		}
		if wait := a.admit(op, time.Now()); wait > 0 {
			s.mu.Unlock()
			writeThrottled(w, int(math.Ceil(wait.Seconds())))
			return
		}
		s.mu.Unlock()
		h(w, r)
	}
}

// admit counts a request against op's limits and returns 0, or returns how
// long to wait when a limit is reached (the request is then not counted).
func (a *adminState) admit(op string, now time.Time) time.Duration {
	if a.limits.Off {
		return 0
	}
	scale := a.limits.TimeScale
	if scale <= 0 {
		scale = 1
	}
	limits, ok := adminLimits[op]
	if !ok {
		limits = defaultAdminLimit
	}
	longest := time.Duration(0)
	for _, l := range limits {
		longest = max(longest, time.Duration(float64(l.window)*scale))
	}
	times := a.accepted[op]
	// Forget what no window remembers.
	for len(times) > 0 && now.Sub(times[0]) >= longest {
		times = times[1:]
	}
	var wait time.Duration
	for _, l := range limits {
		window := time.Duration(float64(l.window) * scale)
		in := 0
		for _, t := range times {
			if now.Sub(t) < window {
				in++
			}
		}
		if in >= l.n {
			// The oldest request inside the window frees a slot when it leaves it.
			oldest := times[len(times)-in]
			wait = max(wait, oldest.Add(window).Sub(now))
		}
	}
	if wait > 0 {
		a.accepted[op] = times
		return max(wait, time.Millisecond)
	}
	a.accepted[op] = append(times, now)
	return 0
}

// adminTop reads $top and $skip. required: the operation needs $top (1 to
// max). ok is false after a 400 was answered.
func adminTop(w http.ResponseWriter, r *http.Request, required bool, maxTop int) (top, skip int, ok bool) {
	top, skip, ok = pageOptions(w, r)
	if !ok {
		return 0, 0, false
	}
	if required && top < 0 {
		// [INFER] the exact body of a missing required $top is not documented.
		writeError(w, http.StatusBadRequest, "InvalidRequest", "The $top query parameter is required")
		return 0, 0, false
	}
	if top == 0 || top > maxTop {
		writeError(w, http.StatusBadRequest, "InvalidRequest",
			fmt.Sprintf("The $top query parameter must be between 1 and %d", maxTop))
		return 0, 0, false
	}
	return top, skip, true
}

// adminFilter parses $filter over the named fields; nil means no filter.
func adminFilter(w http.ResponseWriter, r *http.Request, fields map[string]bool) (odataFilter, bool) {
	src := r.URL.Query().Get("$filter")
	if strings.TrimSpace(src) == "" {
		return nil, true
	}
	f, err := parseFilter(src, fields)
	if err != nil {
		writeQueryError(w, err.Error())
		return nil, false
	}
	return f, true
}

// adminExpand reads $expand: a comma list of the allowed names.
func adminExpand(w http.ResponseWriter, r *http.Request, allowed ...string) (map[string]bool, bool) {
	out := map[string]bool{}
	src := r.URL.Query().Get("$expand")
	if strings.TrimSpace(src) == "" {
		return out, true
	}
	for _, name := range strings.Split(src, ",") {
		name = strings.TrimSpace(name)
		i := slices.IndexFunc(allowed, func(a string) bool { return strings.EqualFold(a, name) })
		if i < 0 {
			writeQueryError(w, fmt.Sprintf("Could not find a property named '%s' on type 'Microsoft.PowerBI.ServiceContracts.Api.Admin'.", name))
			return nil, false
		}
		out[allowed[i]] = true
	}
	return out, true
}

// tenantWorkspace is one workspace of the admin view, whichever list it
// comes from.
type tenantWorkspace struct {
	info        Workspace
	state       string
	description string
	users       []WorkspaceUser
	datasets    []Dataset
	reports     []Report
	dashboards  []Dashboard
	app         *App
}

// tenantWorkspaces is the admin view of every workspace: the service
// principal's first, then the others. The caller must hold s.mu.
func (s *Server) tenantWorkspaces() []tenantWorkspace {
	var out []tenantWorkspace
	for _, ws := range s.state.workspaces {
		tw := tenantWorkspace{info: ws.info, state: "Active", users: ws.users,
			description: s.state.adminState().descriptions[strings.ToLower(ws.info.ID)]}
		for _, d := range ws.datasets {
			tw.datasets = append(tw.datasets, d.info)
		}
		for _, r := range ws.reports {
			tw.reports = append(tw.reports, r.info)
		}
		for _, d := range ws.dashboards {
			tw.dashboards = append(tw.dashboards, d.info)
		}
		if ws.app != nil {
			a := ws.app.info
			tw.app = &a
		}
		out = append(out, tw)
	}
	for _, w := range s.state.adminState().workspaces {
		out = append(out, tenantWorkspace{info: w.Workspace, state: w.State, description: w.Description,
			users: w.Users, datasets: w.Datasets, reports: w.Reports, dashboards: w.Dashboards})
	}
	return out
}

func (s *Server) tenantWorkspace(id string) (tenantWorkspace, bool) {
	for _, tw := range s.tenantWorkspaces() {
		if strings.EqualFold(tw.info.ID, id) {
			return tw, true
		}
	}
	return tenantWorkspace{}, false
}

// adminGroupJSON is an AdminGroup: a Group with its type, state and
// description, and the collections $expand asks for.
type adminGroupJSON struct {
	ID                          string               `json:"id"`
	IsReadOnly                  bool                 `json:"isReadOnly"`
	IsOnDedicatedCapacity       bool                 `json:"isOnDedicatedCapacity"`
	CapacityID                  string               `json:"capacityId,omitempty"`
	DefaultDatasetStorageFormat string               `json:"defaultDatasetStorageFormat,omitempty"`
	Type                        string               `json:"type"`
	State                       string               `json:"state"`
	Name                        string               `json:"name"`
	Description                 string               `json:"description,omitempty"`
	HasWorkspaceLevelSettings   bool                 `json:"hasWorkspaceLevelSettings"`
	Users                       []adminUserJSON      `json:"users,omitempty"`
	Reports                     []adminReportJSON    `json:"reports,omitempty"`
	Dashboards                  []adminDashboardJSON `json:"dashboards,omitempty"`
	Datasets                    []adminDatasetJSON   `json:"datasets,omitempty"`
	Dataflows                   []adminDataflowJSON  `json:"dataflows,omitempty"`
	Workbooks                   []any                `json:"workbooks,omitempty"`
}

// adminUserJSON is a GroupUser as the admin APIs send it: with graphId.
type adminUserJSON struct {
	EmailAddress         string `json:"emailAddress,omitempty"`
	GroupUserAccessRight string `json:"groupUserAccessRight"`
	DisplayName          string `json:"displayName,omitempty"`
	Identifier           string `json:"identifier"`
	GraphID              string `json:"graphId,omitempty"`
	PrincipalType        string `json:"principalType"`
}

type adminDatasetJSON struct {
	datasetJSON
	WorkspaceID string `json:"workspaceId"`
}

type adminReportJSON struct {
	reportJSON
	WorkspaceID string `json:"workspaceId"`
}

type adminDashboardJSON struct {
	dashboardJSON
	WorkspaceID string `json:"workspaceId"`
}

func toAdminUserJSON(u WorkspaceUser) adminUserJSON {
	pt := u.PrincipalType
	if pt == "" {
		pt = "User"
	}
	out := adminUserJSON{EmailAddress: u.EmailAddress, GroupUserAccessRight: u.AccessRight,
		DisplayName: u.DisplayName, Identifier: u.Identifier, PrincipalType: pt}
	// Users are identified by UPN; their Entra object id is graphId. Groups
	// and apps are identified by their object id already.
	if pt != "User" {
		out.GraphID = u.Identifier
	} else {
		out.GraphID = deterministicGUID("user:" + strings.ToLower(u.Identifier))
	}
	if pt == "User" && out.EmailAddress == "" {
		out.EmailAddress = u.Identifier
	}
	return out
}

// The caller of these must hold s.mu.
func (s *Server) adminDataset(d Dataset, groupID string) adminDatasetJSON {
	return adminDatasetJSON{datasetJSON: s.toDatasetJSON(d, groupID), WorkspaceID: groupID}
}

func (s *Server) adminReport(r Report, groupID string) adminReportJSON {
	out := adminReportJSON{reportJSON: s.toReportJSON(r, groupID), WorkspaceID: groupID}
	out.IsOwnedByMe = false // the administrator reads other people's reports
	return out
}

func (s *Server) adminDashboard(d Dashboard, groupID string) adminDashboardJSON {
	return adminDashboardJSON{dashboardJSON: s.toDashboardJSON(d, groupID), WorkspaceID: groupID}
}

func (s *Server) toAdminGroupJSON(tw tenantWorkspace, expand map[string]bool) adminGroupJSON {
	w := tw.info
	out := adminGroupJSON{ID: w.ID, IsReadOnly: w.IsReadOnly, IsOnDedicatedCapacity: w.IsOnDedicatedCapacity,
		CapacityID: w.CapacityID, DefaultDatasetStorageFormat: w.DefaultDatasetStorageFormat,
		Type: w.Type, State: tw.state, Name: w.Name, Description: tw.description}
	if expand["users"] {
		for _, u := range tw.users {
			out.Users = append(out.Users, toAdminUserJSON(u))
		}
	}
	if expand["reports"] {
		for _, r := range tw.reports {
			out.Reports = append(out.Reports, s.adminReport(r, w.ID))
		}
	}
	if expand["dashboards"] {
		for _, d := range tw.dashboards {
			out.Dashboards = append(out.Dashboards, s.adminDashboard(d, w.ID))
		}
	}
	if expand["datasets"] {
		for _, d := range tw.datasets {
			out.Datasets = append(out.Datasets, s.adminDataset(d, w.ID))
		}
	}
	if ws := s.state.workspace(w.ID); expand["dataflows"] && ws != nil {
		for _, df := range ws.dataflows {
			out.Dataflows = append(out.Dataflows, s.adminDataflow(df.info, w.ID))
		}
	}
	return out
}

func (tw tenantWorkspace) filterFields() filterFields {
	f := tw.info.filterFields()
	f["state"] = tw.state
	f["description"] = tw.description
	return f
}

var adminGroupFilterFields = map[string]bool{
	"id": true, "name": true, "type": true, "state": true, "description": true,
	"isReadOnly": true, "isOnDedicatedCapacity": true, "capacityId": true,
}

var adminGroupExpands = []string{"users", "reports", "dashboards", "datasets", "dataflows", "workbooks"}

// adminListGroups serves GET admin/groups: $top (required, 1-5000), $skip,
// $filter and $expand over every workspace of the tenant.
func (s *Server) adminListGroups(w http.ResponseWriter, r *http.Request) {
	top, skip, ok := adminTop(w, r, true, 5000)
	if !ok {
		return
	}
	filter, ok := adminFilter(w, r, adminGroupFilterFields)
	if !ok {
		return
	}
	expand, ok := adminExpand(w, r, adminGroupExpands...)
	if !ok {
		return
	}
	s.mu.Lock()
	groups := []adminGroupJSON{}
	for _, tw := range s.tenantWorkspaces() {
		if filter == nil || filter(tw.filterFields()) {
			groups = append(groups, s.toAdminGroupJSON(tw, expand))
		}
	}
	s.mu.Unlock()
	writeList(s, w, "", "groups", page(groups, top, skip))
}

func (s *Server) adminGetGroup(w http.ResponseWriter, r *http.Request) {
	expand, ok := adminExpand(w, r, adminGroupExpands...)
	if !ok {
		return
	}
	s.mu.Lock()
	tw, found := s.tenantWorkspace(r.PathValue("groupId"))
	if !found {
		s.mu.Unlock()
		writeGroupNotFound(w)
		return
	}
	g := s.toAdminGroupJSON(tw, expand)
	s.mu.Unlock()
	s.writeEntity(w, http.StatusOK, "", "groups", g)
}

func (s *Server) adminListGroupUsers(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	tw, found := s.tenantWorkspace(r.PathValue("groupId"))
	s.mu.Unlock()
	if !found {
		writeGroupNotFound(w)
		return
	}
	users := []adminUserJSON{}
	for _, u := range tw.users {
		users = append(users, toAdminUserJSON(u))
	}
	writeList(s, w, tw.info.ID, "users", users)
}

// adminItems serves the three tenant-wide item lists: optional $top and
// $skip, $filter over the given fields.
func adminItems[T any](s *Server, w http.ResponseWriter, r *http.Request, fragment string, fields map[string]bool,
	collect func(tw tenantWorkspace, add func(item T, f filterFields))) {
	top, skip, ok := pageOptions(w, r)
	if !ok {
		return
	}
	filter, ok := adminFilter(w, r, fields)
	if !ok {
		return
	}
	s.mu.Lock()
	items := []T{}
	for _, tw := range s.tenantWorkspaces() {
		collect(tw, func(item T, f filterFields) {
			if filter == nil || filter(f) {
				items = append(items, item)
			}
		})
	}
	s.mu.Unlock()
	writeList(s, w, "", fragment, page(items, top, skip))
}

func (s *Server) adminListDatasets(w http.ResponseWriter, r *http.Request) {
	adminItems(s, w, r, "datasets", map[string]bool{"id": true, "name": true, "configuredBy": true,
		"workspaceId": true, "isRefreshable": true, "targetStorageMode": true, "addRowsAPIEnabled": true},
		func(tw tenantWorkspace, add func(adminDatasetJSON, filterFields)) {
			for _, d := range tw.datasets {
				add(s.adminDataset(d, tw.info.ID), filterFields{"id": d.ID, "name": d.Name, "configuredBy": d.ConfiguredBy,
					"workspaceId": tw.info.ID, "isRefreshable": strconv.FormatBool(d.IsRefreshable),
					"targetStorageMode": d.TargetStorageMode, "addRowsAPIEnabled": strconv.FormatBool(d.AddRowsAPIEnabled)})
			}
		})
}

func (s *Server) adminListReports(w http.ResponseWriter, r *http.Request) {
	adminItems(s, w, r, "reports", map[string]bool{"id": true, "name": true, "datasetId": true,
		"workspaceId": true, "reportType": true},
		func(tw tenantWorkspace, add func(adminReportJSON, filterFields)) {
			for _, rep := range tw.reports {
				add(s.adminReport(rep, tw.info.ID), filterFields{"id": rep.ID, "name": rep.Name, "datasetId": rep.DatasetID,
					"workspaceId": tw.info.ID, "reportType": rep.ReportType})
			}
		})
}

func (s *Server) adminListDashboards(w http.ResponseWriter, r *http.Request) {
	adminItems(s, w, r, "dashboards", map[string]bool{"id": true, "displayName": true, "workspaceId": true, "isReadOnly": true},
		func(tw tenantWorkspace, add func(adminDashboardJSON, filterFields)) {
			for _, d := range tw.dashboards {
				add(s.adminDashboard(d, tw.info.ID), filterFields{"id": d.ID, "displayName": d.DisplayName,
					"workspaceId": tw.info.ID, "isReadOnly": strconv.FormatBool(d.IsReadOnly)})
			}
		})
}

// adminAppJSON is an AdminApp: an App naming the workspace it was published from.
type adminAppJSON struct {
	appJSON
	WorkspaceID string `json:"workspaceId"`
}

// adminListApps serves GET admin/apps: every app of the tenant; $top required.
func (s *Server) adminListApps(w http.ResponseWriter, r *http.Request) {
	top, skip, ok := adminTop(w, r, true, 5000)
	if !ok {
		return
	}
	s.mu.Lock()
	apps := []adminAppJSON{}
	for _, tw := range s.tenantWorkspaces() {
		if tw.app != nil {
			apps = append(apps, adminAppJSON{appJSON: toAppJSON(*tw.app), WorkspaceID: tw.info.ID})
		}
	}
	s.mu.Unlock()
	writeList(s, w, "", "apps", page(apps, top, skip))
}

// capacityJSON is a Capacity as the service sends it.
type capacityJSON struct {
	ID                      string     `json:"id"`
	DisplayName             string     `json:"displayName"`
	Admins                  []string   `json:"admins"`
	SKU                     string     `json:"sku"`
	State                   string     `json:"state"`
	CapacityUserAccessRight string     `json:"capacityUserAccessRight"`
	Region                  string     `json:"region"`
	TenantKeyID             string     `json:"tenantKeyId,omitempty"`
	TenantKey               *TenantKey `json:"tenantKey,omitempty"`
}

func toCapacityJSON(c Capacity, withKey bool) capacityJSON {
	out := capacityJSON{ID: c.ID, DisplayName: c.DisplayName, Admins: c.Admins, SKU: c.SKU, State: c.State,
		CapacityUserAccessRight: c.AccessRight, Region: c.Region, TenantKeyID: c.TenantKeyID}
	if out.Admins == nil {
		out.Admins = []string{}
	}
	if withKey {
		out.TenantKey = c.TenantKey
	}
	return out
}

func (s *Server) adminListCapacities(w http.ResponseWriter, r *http.Request) {
	expand, ok := adminExpand(w, r, "tenantKey")
	if !ok {
		return
	}
	s.mu.Lock()
	caps := []capacityJSON{}
	for _, c := range s.state.capacities {
		caps = append(caps, toCapacityJSON(*c, expand["tenantKey"]))
	}
	s.mu.Unlock()
	writeList(s, w, "", "capacities", caps)
}

// refreshableJSON is a Refreshable: refresh statistics of a model on a
// capacity over the window from startTime to endTime.
type refreshableJSON struct {
	ID              string           `json:"id"`
	Name            string           `json:"name"`
	Kind            string           `json:"kind"`
	StartTime       string           `json:"startTime"`
	EndTime         string           `json:"endTime"`
	RefreshCount    int              `json:"refreshCount"`
	RefreshFailures int              `json:"refreshFailures"`
	AverageDuration float64          `json:"averageDuration"`
	MedianDuration  float64          `json:"medianDuration"`
	RefreshesPerDay int              `json:"refreshesPerDay"`
	LastRefresh     *refreshJSON     `json:"lastRefresh,omitempty"`
	RefreshSchedule *refreshSchedule `json:"refreshSchedule,omitempty"`
	ConfiguredBy    []string         `json:"configuredBy"`
	Capacity        *capacityJSON    `json:"capacity,omitempty"`
	Group           *refreshableGrp  `json:"group,omitempty"`
}

type refreshableGrp struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// refreshableWindow is the period the statistics cover: the service reports
// the last seven days.
const refreshableWindow = 7 * 24 * time.Hour

// adminListRefreshables serves GET admin/capacities/refreshables: the
// refreshable models of workspaces on a capacity; $top required.
func (s *Server) adminListRefreshables(w http.ResponseWriter, r *http.Request) {
	s.refreshables(w, r, "", "")
}

// refreshables answers the refreshables of every capacity, or of capacityID, or the one
// refreshableID of it ($top is then not read, and an unknown one is 404).
func (s *Server) refreshables(w http.ResponseWriter, r *http.Request, capacityID, refreshableID string) {
	top, skip := math.MaxInt32, 0
	if refreshableID == "" {
		var ok bool
		if top, skip, ok = adminTop(w, r, true, math.MaxInt32); !ok {
			return
		}
	}
	filter, ok := adminFilter(w, r, map[string]bool{"id": true, "name": true, "kind": true})
	if !ok {
		return
	}
	expand, ok := adminExpand(w, r, "capacity", "group")
	if !ok {
		return
	}
	now := time.Now()
	from := now.Add(-refreshableWindow)
	s.mu.Lock()
	if capacityID != "" && s.state.capacity(capacityID) == nil {
		s.mu.Unlock()
		writePBIError(w, http.StatusNotFound, "PowerBIEntityNotFound")
		return
	}
	out := []refreshableJSON{}
	for _, ws := range s.state.workspaces {
		if !ws.info.IsOnDedicatedCapacity || (capacityID != "" && !strings.EqualFold(ws.info.CapacityID, capacityID)) {
			continue
		}
		for _, d := range ws.datasets {
			if !d.info.IsRefreshable || (filter != nil && !filter(filterFields{"id": d.info.ID, "name": d.info.Name, "kind": "Dataset"})) ||
				(refreshableID != "" && !strings.EqualFold(d.info.ID, refreshableID)) {
				continue
			}
			rf := refreshableJSON{ID: d.info.ID, Name: d.info.Name, Kind: "Dataset", StartTime: serviceTime(from),
				EndTime: serviceTime(now), ConfiguredBy: []string{d.info.ConfiguredBy}}
			var durations []float64
			for _, j := range d.refreshes {
				if j.start.Before(from) {
					continue
				}
				rf.RefreshCount++
				if j.status(now) == "Failed" {
					rf.RefreshFailures++
				}
				if end, done := j.finished(now); done {
					durations = append(durations, end.Sub(j.start).Seconds())
				}
			}
			if n := len(d.refreshes); n > 0 {
				last := d.refreshes[n-1].historyJSON(now)
				rf.LastRefresh = &last
			}
			if len(durations) > 0 {
				rf.AverageDuration, rf.MedianDuration = durationStats(durations)
			}
			rf.RefreshesPerDay = int(math.Round(float64(rf.RefreshCount) / 7))
			if d.schedule != nil {
				sched := *d.schedule
				rf.RefreshSchedule = &sched
			}
			if expand["capacity"] {
				c := Capacity{ID: ws.info.CapacityID, State: "Active", AccessRight: "Admin"}
				if known := s.state.capacity(ws.info.CapacityID); known != nil {
					c = *known
				}
				cj := toCapacityJSON(c, false)
				rf.Capacity = &cj
			}
			if expand["group"] {
				rf.Group = &refreshableGrp{ID: ws.info.ID, Name: ws.info.Name}
			}
			out = append(out, rf)
		}
	}
	s.mu.Unlock()
	if refreshableID != "" && len(out) == 0 {
		writePBIError(w, http.StatusNotFound, "PowerBIEntityNotFound")
		return
	}
	writeList(s, w, "", "refreshables", page(out, top, skip))
}
