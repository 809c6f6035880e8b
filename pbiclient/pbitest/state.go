package pbitest

import (
	"fmt"
	"strings"
	"time"
)

// Workspace is a Power BI workspace (a "group" in the API).
type Workspace struct {
	ID                    string // filled with a random GUID when empty
	Name                  string
	Type                  string // default "Workspace"
	IsReadOnly            bool
	IsOnDedicatedCapacity bool   // Premium/Embedded/Fabric capacity: exports and enhanced refresh work, no daily refresh limit
	CapacityID            string // filled with a random GUID when on dedicated capacity and empty; ignored otherwise
	// DefaultDatasetStorageFormat is "Small" or "Large" on dedicated
	// capacity (default "Small"); shared capacity workspaces have none.
	DefaultDatasetStorageFormat string
	DataflowStorageID           string // the Azure Data Lake Storage account its dataflows use; empty for Power BI's own
}

// WorkspaceUser is a principal with access to a workspace: a user, an
// Entra security group or a service principal.
type WorkspaceUser struct {
	Identifier    string // UPN (email) for users, object id for groups and service principals
	PrincipalType string // "User", "Group" or "App"; default "User"
	AccessRight   string // "Admin", "Member", "Contributor" or "Viewer"
	DisplayName   string // default: the email address for users
	EmailAddress  string // users only; default Identifier
}

// Dataset is a semantic model.
type Dataset struct {
	ID                string // filled with a random GUID when empty
	Name              string
	ConfiguredBy      string // default "admin@contoso.onmicrosoft.com"
	TargetStorageMode string // default "Abf" (small storage format)
	// IsRefreshable is false for push and streaming datasets; refresh
	// requests to them fail. Set it for ordinary import models.
	IsRefreshable bool
	CreatedDate   time.Time // default: when added
	// AddRowsAPIEnabled marks a push dataset (rows are pushed through the
	// API rather than refreshed).
	AddRowsAPIEnabled bool
	// RefreshError, when set, makes every refresh of the dataset end Failed
	// with this error code in serviceExceptionJson, as the service reports a
	// failed refresh, e.g. "ModelRefreshFailed_CredentialsNotSpecified".
	RefreshError string
	// Owner-only changes (PATCH, Default.UpdateParameters) succeed when
	// ConfiguredBy is the service principal's ClientID; Default.TakeOver
	// sets it so.
	//
	// QueryScaleOut is the model's query scale-out setting; nil means the
	// service's default, automatic sync and no read-only replicas.
	QueryScaleOut *QueryScaleOut
	// Datasources, Parameters and Users are what the datasources,
	// parameters and users endpoints answer for the model.
	Datasources []Datasource
	Parameters  []Parameter
	Users       []DatasetUser
	// UpstreamDataflows are the dataflows the model reads from.
	UpstreamDataflows []UpstreamDataflow
	// UpstreamDatasets are the models a composite model reads from; only the
	// scanner's lineage reports them.
	UpstreamDatasets []UpstreamDataset
	// DirectQuery marks a DirectQuery or LiveConnection model: it has a
	// directQueryRefreshSchedule for its caches.
	DirectQuery bool
	// RLS marks a model with row-level security roles: embed tokens for it
	// need an effective identity (isEffectiveIdentityRequired and
	// isEffectiveIdentityRolesRequired are true).
	RLS bool
}

// Page is a report page. Name is the internal name used by the API
// (e.g. "ReportSection"), DisplayName what users see.
type Page struct {
	Name, DisplayName string
	// Hidden pages are left out of an export of the whole report unless
	// the request sets includeHiddenPages.
	Hidden bool
}

// Report is a Power BI report.
type Report struct {
	ID         string // filled with a random GUID when empty
	Name       string
	DatasetID  string
	ReportType string // default "PowerBIReport"; "PaginatedReport" for RDL reports
	Pages      []Page // default two pages, "ReportSection" and "ReportSection1"; none for paginated reports
	// Datasources are a paginated report's data sources (GET .../datasources).
	Datasources []ReportDatasource
}

// ReportDatasource is a data source of a paginated report.
type ReportDatasource struct {
	DatasourceType string // e.g. "Sql"
	Server         string
	Database       string
	DatasourceID   string // filled with a random GUID when empty
	GatewayID      string // filled with a random GUID when empty
}

// Defaults for added items.
const (
	defaultConfiguredBy      = "admin@contoso.onmicrosoft.com"
	defaultTargetStorageMode = "Abf"
	reportTypePowerBI        = "PowerBIReport"
	reportTypePaginated      = "PaginatedReport"
)

// tenantState is everything the tenant holds. The Server's mutex guards it.
type tenantState struct {
	// workspaces in creation order; myWorkspace is not among them.
	workspaces  []*workspace
	byID        map[string]*workspace // keyed by lowercase id
	myWorkspace *workspace
	// admin is what only the admin APIs see, and their knobs (see admin.go);
	// nil until first used.
	admin *adminState
	// audit holds the activity log, scans and admin rate windows (admin_audit.go); nil until used.
	audit *auditState
	// pushClock, when set, is the clock push dataset rate limits read (see
	// SetPushClock in push.go).
	pushClock func() time.Time

	// imports of each workspace, oldest first, and the temporary upload locations by id
	// (see imports.go); nil until the first import.
	imports map[*workspace][]*importJob
	uploads map[string]*upload
	// pipelines are the deployment pipelines, in creation order (see pipelines.go).
	pipelines []*pipeline
	// gateways the caller administers, in the order added (see gateways.go).
	gateways []*gateway
	// capacities the caller can see, and the last assign-to-capacity
	// operation of each workspace, keyed by lowercase workspace id (see
	// capacities.go).
	capacities  []*Capacity
	assignments map[string]*capacityAssignment
	// qsoSyncs is the last explicit query scale-out sync of each model (datasets_scaleout.go).
	qsoSyncs map[*dataset]*qsoSync
	// profiles are the service principal's profiles, and permissionRefreshes when each
	// caller last refreshed its permissions (profiles.go).
	profiles            []*ServicePrincipalProfile
	permissionRefreshes map[string]time.Time
	// dataflowStorage are the tenant's dataflow storage accounts (dataflows_storage.go).
	dataflowStorage []DataflowStorageAccount
	// sharedEmbedTokens counts embed tokens issued for content on shared
	// capacity, which the service limits to sharedEmbedLimit (0 = the
	// default; see embed.go).
	sharedEmbedTokens, sharedEmbedLimit int
}

type workspace struct {
	info     Workspace
	datasets []*dataset
	reports  []*report
	// dashboards in creation order (see dashboards.go).
	dashboards []*dashboard
	// app is the app published from the workspace, installed for the
	// signed-in user; nil when none was published (see apps.go).
	app *app
	// users who have access, in the order they were added.
	users []WorkspaceUser
	// dataflows in creation order (see dataflows.go).
	dataflows []*dataflow
}

type dataset struct {
	info Dataset
	// refreshes, oldest first; at most maxRefreshHistory are kept.
	refreshes []*refreshJob
	// requested holds the start of every refresh accepted in the last 24 h,
	// for the shared capacity daily limit (history trimming must not
	// forget them).
	requested []time.Time
	// schedule and dqSchedule are the refresh schedules; nil until set,
	// when the service reports its defaults.
	schedule   *refreshSchedule
	dqSchedule *dqRefreshSchedule
	// model is what executeQueries answers from; nil answers every query
	// with an empty model.
	model *Model
	// push is the retention policy and rate-limit bookkeeping of a push
	// dataset (see push.go); nil until first needed.
	push *pushState
}

type report struct {
	info    Report
	exports map[string]*exportJob
}

func newTenantState() *tenantState {
	return &tenantState{byID: make(map[string]*workspace), myWorkspace: &workspace{}}
}

// workspace finds a workspace by id; "" is My workspace.
func (t *tenantState) workspace(groupID string) *workspace {
	if groupID == "" {
		return t.myWorkspace
	}
	return t.byID[strings.ToLower(groupID)]
}

func (w *workspace) dataset(id string) *dataset {
	for _, d := range w.datasets {
		if strings.EqualFold(d.info.ID, id) {
			return d
		}
	}
	return nil
}

func (w *workspace) report(id string) *report {
	for _, r := range w.reports {
		if strings.EqualFold(r.info.ID, id) {
			return r
		}
	}
	return nil
}

// findDataset looks a dataset up in every workspace and returns it with
// the id of its workspace ("" for My workspace).
func (t *tenantState) findDataset(id string) (*dataset, string) {
	if d := t.myWorkspace.dataset(id); d != nil {
		return d, ""
	}
	for _, w := range t.workspaces {
		if d := w.dataset(id); d != nil {
			return d, w.info.ID
		}
	}
	return nil, ""
}

// AddWorkspace adds a workspace and returns it as stored, with defaults
// filled in. It panics if the id is taken.
func (s *Server) AddWorkspace(w Workspace) Workspace {
	if w.ID == "" {
		w.ID = newGUID()
	}
	if w.Type == "" {
		w.Type = "Workspace"
	}
	if !w.IsOnDedicatedCapacity {
		w.CapacityID = ""
		w.DefaultDatasetStorageFormat = ""
	} else {
		if w.CapacityID == "" {
			w.CapacityID = newGUID()
		}
		if w.DefaultDatasetStorageFormat == "" {
			w.DefaultDatasetStorageFormat = "Small"
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(w.ID)
	if _, dup := s.state.byID[key]; dup {
		panic(fmt.Sprintf("pbitest: AddWorkspace: workspace %s already exists", w.ID))
	}
	ws := &workspace{info: w}
	s.state.workspaces = append(s.state.workspaces, ws)
	s.state.byID[key] = ws
	return w
}

// AddDataset adds a dataset to a workspace ("" = My workspace) and returns
// it as stored. It panics if the workspace does not exist.
func (s *Server) AddDataset(workspaceID string, d Dataset) Dataset {
	if d.ID == "" {
		d.ID = newGUID()
	}
	if d.ConfiguredBy == "" {
		d.ConfiguredBy = defaultConfiguredBy
	}
	if d.TargetStorageMode == "" {
		d.TargetStorageMode = defaultTargetStorageMode
	}
	if d.CreatedDate.IsZero() {
		d.CreatedDate = time.Now()
	}
	if d.QueryScaleOut == nil {
		d.QueryScaleOut = &QueryScaleOut{AutoSyncReadOnlyReplicas: true}
	}
	d.CreatedDate = d.CreatedDate.UTC().Truncate(time.Millisecond)
	s.mu.Lock()
	defer s.mu.Unlock()
	ws := s.mustWorkspace("AddDataset", workspaceID)
	// The server keeps its own copy, so that changes made through the API
	// and changes to the caller's value never reach each other.
	ws.datasets = append(ws.datasets, &dataset{info: d.clone()})
	return d.clone()
}

// AddReport adds a report to a workspace ("" = My workspace) and returns it
// as stored. Its dataset may live in another workspace. It panics if the
// workspace does not exist.
func (s *Server) AddReport(workspaceID string, r Report) Report {
	if r.ID == "" {
		r.ID = newGUID()
	}
	if r.ReportType == "" {
		r.ReportType = reportTypePowerBI
	}
	switch {
	case r.ReportType == reportTypePaginated:
		// Paginated reports have no pages in the API's sense.
		r.Pages = nil
	case len(r.Pages) == 0:
		r.Pages = []Page{
			{Name: "ReportSection", DisplayName: "Page 1"},
			{Name: "ReportSection1", DisplayName: "Page 2"},
		}
	default:
		r.Pages = append([]Page(nil), r.Pages...)
	}
	r.Datasources = append([]ReportDatasource(nil), r.Datasources...)
	for i := range r.Datasources {
		if r.Datasources[i].DatasourceID == "" {
			r.Datasources[i].DatasourceID = newGUID()
		}
		if r.Datasources[i].GatewayID == "" {
			r.Datasources[i].GatewayID = newGUID()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ws := s.mustWorkspace("AddReport", workspaceID)
	ws.reports = append(ws.reports, &report{info: r, exports: make(map[string]*exportJob)})
	return r
}

func (s *Server) mustWorkspace(caller, workspaceID string) *workspace {
	ws := s.state.workspace(workspaceID)
	if ws == nil {
		panic(fmt.Sprintf("pbitest: %s: no workspace %s (add it with AddWorkspace first)", caller, workspaceID))
	}
	return ws
}
