package pbitest

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Deployment pipelines (swagger tag Pipelines): a pipeline has three stages,
// Development (0), Test (1) and Production (2), each with at most one
// workspace. deployAll copies the supported items of one stage's workspace
// into the next (or, backwards, the previous) stage's workspace as an
// asynchronous operation; deploy (selective deployment) does the same for
// the items it names. Items of neighbouring stages are paired by type and
// name, as the service pairs them when a workspace is assigned; a deployment
// overwrites the paired item and creates the others. Pipelines are created,
// renamed and deleted, their stages' workspaces assigned and unassigned, and
// their users (all Admin) added and removed. Nothing documented stops the
// last admin's removal, so the fake allows it.

// Pipeline is a deployment pipeline.
type Pipeline struct {
	ID          string // filled with a random GUID when empty
	DisplayName string
	Description string
	// Stages holds the workspace id assigned to each stage, "" for none.
	Stages [pipelineStages]string
	// Users have access to the pipeline, all as Admin, the only access
	// right there is; default the service principal.
	Users []PipelineUser
}

// PipelineUser is a principal with access to a pipeline.
type PipelineUser struct {
	Identifier    string // UPN for users, object id for groups and service principals
	PrincipalType string // "User", "Group" or "App"
}

// Ids of the demo pipelines SeedDemo creates.
const (
	DemoSalesPipelineID   = "d1e3f5a7-2b4c-4d6e-8f0a-1b3c5d7e9f21" // "Sales Deployment": Sales Analytics -> Sales Analytics [Test] -> Sales Analytics [Production]
	DemoFinancePipelineID = "e2f4a6b8-3c5d-4e7f-9a1b-2c4d6e8f0a32" // "Finance Deployment": only Development (Finance) has a workspace

	DemoSalesTestWorkspaceID = "f3a5b7c9-4d6e-4f80-8b2c-3d5e7f9a1b43" // "Sales Analytics [Test]", stage 1 of Sales Deployment
	DemoSalesProdWorkspaceID = "a4b6c8d0-5e7f-4091-9c3d-4e6f8a0b2c54" // "Sales Analytics [Production]", stage 2 of Sales Deployment, empty

	DemoSalesTestDatasetID  = "b5c7d9e1-6f8a-41a2-8d4e-5f7a9b1c3d65" // "Sales" in Sales Analytics [Test], deployed from Development
	DemoSalesTestReportID   = "c6d8e0f2-7a9b-42b3-9e5f-6a8b0c2d4e76" // "Sales Overview" in Sales Analytics [Test], deployed from Development
	DemoSalesDeploymentOpID = "d7e9f1a3-8b0c-43c4-8f6a-7b9c1d3e5f87" // the succeeded deployment of Sales and Sales Overview to Test
)

const (
	pipelineStages = 3
	// maxDeployItems is the documented limit of items per deployment.
	maxDeployItems = 300
	// deployStartDelay is how long an accepted deployment stays NotStarted;
	// deployDuration how long it then executes.
	deployStartDelay = 200 * time.Millisecond
	deployDuration   = time.Second
)

type pipeline struct {
	info Pipeline
	// operations, oldest first.
	operations []*pipelineOp
	// lastDeployed is when each item (by lowercase id) was last deployed to.
	lastDeployed map[string]time.Time
}

type pipelineOp struct {
	id              string
	source, target  int
	created         time.Time
	note            string
	performedBy     pipelineOperationUserJSON
	steps           []deployStep
	failed          bool // some step is not allowed by the options: nothing is deployed
	applied         bool // the copy has been made (or, failed, given up)
	newWorkspace    *pipelineNewWorkspace
	sourceWorkspace string
	targetWorkspace string // "" until a new workspace is created
}

// deployStep is one item of a deployment.
type deployStep struct {
	kind       string // dataset, report, dashboard
	sourceID   string
	sourceName string
	targetID   string // the paired item in the target stage; "" for a new one
	targetName string
	overwrite  bool   // the paired item exists before the deployment ("Different"), else "New"
	errorCode  string // why the step fails, when the options do not allow it
}

type pipelineNewWorkspace struct {
	Name       string `json:"name"`
	CapacityID string `json:"capacityId"`
}

// AddPipeline adds a deployment pipeline and returns it as stored. It panics
// if a stage names a workspace that does not exist.
func (s *Server) AddPipeline(p Pipeline) Pipeline {
	if p.ID == "" {
		p.ID = newGUID()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range p.Stages {
		if id != "" {
			s.mustWorkspace("AddPipeline", id)
		}
	}
	if len(p.Users) == 0 {
		p.Users = []PipelineUser{{Identifier: servicePrincipalObjectID, PrincipalType: "App"}}
	}
	p.Users = slices.Clone(p.Users)
	s.state.pipelines = append(s.state.pipelines, &pipeline{info: p, lastDeployed: map[string]time.Time{}})
	return p
}

func (t *tenantState) pipeline(id string) *pipeline {
	for _, p := range t.pipelines {
		if strings.EqualFold(p.info.ID, id) {
			return p
		}
	}
	return nil
}

func (s *Server) pipelineRoutes() {
	s.handleAPI("GET "+apiPrefix+"/pipelines", s.listPipelines)
	s.handleAPI("GET "+apiPrefix+"/pipelines/{pipelineId}", s.getPipeline)
	s.handleAPI("GET "+apiPrefix+"/pipelines/{pipelineId}/stages", s.listPipelineStages)
	s.handleAPI("GET "+apiPrefix+"/pipelines/{pipelineId}/stages/{stageOrder}/artifacts", s.listStageArtifacts)
	s.handleAPI("POST "+apiPrefix+"/pipelines", s.createPipeline)
	s.handleAPI("PATCH "+apiPrefix+"/pipelines/{pipelineId}", s.updatePipeline)
	s.handleAPI("DELETE "+apiPrefix+"/pipelines/{pipelineId}", s.deletePipeline)
	s.handleAPI("POST "+apiPrefix+"/pipelines/{pipelineId}/stages/{stageOrder}/assignWorkspace", s.assignStageWorkspace)
	s.handleAPI("POST "+apiPrefix+"/pipelines/{pipelineId}/stages/{stageOrder}/unassignWorkspace", s.unassignStageWorkspace)
	s.handleAPI("GET "+apiPrefix+"/pipelines/{pipelineId}/users", s.listPipelineUsers)
	s.handleAPI("POST "+apiPrefix+"/pipelines/{pipelineId}/users", s.updatePipelineUser)
	s.handleAPI("DELETE "+apiPrefix+"/pipelines/{pipelineId}/users/{identifier}", s.deletePipelineUser)
	s.handleAPI("POST "+apiPrefix+"/pipelines/{pipelineId}/deployAll", s.deployAll)
	s.handleAPI("POST "+apiPrefix+"/pipelines/{pipelineId}/deploy", s.selectiveDeploy)
	s.handleAPI("GET "+apiPrefix+"/pipelines/{pipelineId}/operations", s.listPipelineOperations)
	s.handleAPI("GET "+apiPrefix+"/pipelines/{pipelineId}/operations/{operationId}", s.getPipelineOperation)
}

type pipelineJSON struct {
	ID          string              `json:"id"`
	DisplayName string              `json:"displayName"`
	Description string              `json:"description,omitempty"`
	Stages      []pipelineStageJSON `json:"stages,omitempty"`
}

type pipelineStageJSON struct {
	Order         int    `json:"order"`
	WorkspaceID   string `json:"workspaceId,omitempty"`
	WorkspaceName string `json:"workspaceName,omitempty"`
}

// stagesOf lists a pipeline's stages; the caller must hold s.mu.
func (s *Server) stagesOf(p *pipeline) []pipelineStageJSON {
	out := make([]pipelineStageJSON, 0, pipelineStages)
	for i := range p.info.Stages {
		st := pipelineStageJSON{Order: i}
		if ws := s.stageWorkspace(p, i); ws != nil {
			st.WorkspaceID, st.WorkspaceName = ws.info.ID, ws.info.Name
		}
		out = append(out, st)
	}
	return out
}

// stageWorkspace is the workspace of a stage, nil when none is assigned (or
// it was deleted, which unassigns it). The caller must hold s.mu.
func (s *Server) stageWorkspace(p *pipeline, stage int) *workspace {
	id := p.info.Stages[stage]
	if id == "" {
		return nil
	}
	return s.state.workspace(id)
}

// pipelineOf finds the pipeline of the path, answering 404 when there is
// none or the signed-in user is not among its users, which Power BI does not
// tell apart. The caller must hold s.mu.
func (s *Server) pipelineOf(w http.ResponseWriter, r *http.Request) *pipeline {
	p := s.state.pipeline(r.PathValue("pipelineId"))
	if p == nil || !s.pipelineVisible(r, p) {
		writePBIError(w, http.StatusNotFound, "PowerBIEntityNotFound")
		return nil
	}
	return p
}

// pipelineVisible reports whether the request's caller has access to the
// pipeline: a signed-in user who is one of its users, directly or through a
// group, as for workspaces (see memberships.go). App-only tokens see every
// pipeline, as they see every workspace. The caller must hold s.mu.
func (s *Server) pipelineVisible(r *http.Request, p *pipeline) bool {
	u, ok := delegatedUserOf(r)
	if !ok {
		return true
	}
	members := make([]WorkspaceUser, 0, len(p.info.Users))
	for _, m := range p.info.Users {
		members = append(members, WorkspaceUser{Identifier: m.Identifier, PrincipalType: m.PrincipalType})
	}
	return s.visibleTo(&workspace{users: members}, u)
}

func (s *Server) listPipelines(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]pipelineJSON, 0, len(s.state.pipelines))
	for _, p := range s.state.pipelines {
		if s.pipelineVisible(r, p) {
			out = append(out, pipelineJSON{ID: p.info.ID, DisplayName: p.info.DisplayName, Description: p.info.Description})
		}
	}
	writeList(s, w, "", "pipelines", out)
}

func (s *Server) getPipeline(w http.ResponseWriter, r *http.Request) {
	expand := r.URL.Query().Get("$expand")
	if expand != "" && expand != "stages" {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "$expand supports only stages")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pipelineOf(w, r)
	if p == nil {
		return
	}
	out := pipelineJSON{ID: p.info.ID, DisplayName: p.info.DisplayName, Description: p.info.Description}
	if expand == "stages" {
		out.Stages = s.stagesOf(p)
	}
	s.writeEntity(w, http.StatusOK, "", "pipelines", out)
}

func (s *Server) listPipelineStages(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pipelineOf(w, r)
	if p == nil {
		return
	}
	writeList(s, w, "", "pipelines('"+p.info.ID+"')/stages", s.stagesOf(p))
}

type stageArtifactJSON struct {
	ArtifactID          string `json:"artifactId"`
	ArtifactDisplayName string `json:"artifactDisplayName"`
	SourceArtifactID    string `json:"sourceArtifactId,omitempty"`
	TargetArtifactID    string `json:"targetArtifactId,omitempty"`
	LastDeploymentTime  string `json:"lastDeploymentTime,omitempty"`
}

type stageArtifactsJSON struct {
	Datasets   []stageArtifactJSON `json:"datasets"`
	Reports    []stageArtifactJSON `json:"reports"`
	Dashboards []stageArtifactJSON `json:"dashboards"`
	Dataflows  []stageArtifactJSON `json:"dataflows"`
	Datamarts  []stageArtifactJSON `json:"datamarts"`
}

// stageItem is a deployable item of a stage's workspace.
type stageItem struct{ kind, id, name string }

// stageItems lists the deployable items of a workspace in deployment order:
// models before the reports bound to them, reports before dashboards. The
// fake tenant has no dataflows or datamarts. The caller must hold s.mu.
func stageItems(ws *workspace) []stageItem {
	if ws == nil {
		return nil
	}
	var out []stageItem
	for _, d := range ws.datasets {
		out = append(out, stageItem{"dataset", d.info.ID, d.info.Name})
	}
	for _, r := range ws.reports {
		out = append(out, stageItem{"report", r.info.ID, r.info.Name})
	}
	for _, d := range ws.dashboards {
		out = append(out, stageItem{"dashboard", d.info.ID, d.info.DisplayName})
	}
	return out
}

// pairOf finds the item of the same type and name among items.
func pairOf(it stageItem, items []stageItem) (stageItem, bool) {
	for _, o := range items {
		if o.kind == it.kind && strings.EqualFold(o.name, it.name) {
			return o, true
		}
	}
	return stageItem{}, false
}

func (s *Server) listStageArtifacts(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pipelineOf(w, r)
	if p == nil {
		return
	}
	stage, ok := stageOf(w, r)
	if !ok {
		return
	}
	s.settlePipeline(p, time.Now())
	items := stageItems(s.stageWorkspace(p, stage))
	var prev, next []stageItem
	if stage > 0 {
		prev = stageItems(s.stageWorkspace(p, stage-1))
	}
	if stage < pipelineStages-1 {
		next = stageItems(s.stageWorkspace(p, stage+1))
	}
	out := stageArtifactsJSON{Datasets: []stageArtifactJSON{}, Reports: []stageArtifactJSON{},
		Dashboards: []stageArtifactJSON{}, Dataflows: []stageArtifactJSON{}, Datamarts: []stageArtifactJSON{}}
	for _, it := range items {
		a := stageArtifactJSON{ArtifactID: it.id, ArtifactDisplayName: it.name}
		if src, ok := pairOf(it, prev); ok {
			a.SourceArtifactID = src.id
		}
		if tgt, ok := pairOf(it, next); ok {
			a.TargetArtifactID = tgt.id
		}
		if t, ok := p.lastDeployed[strings.ToLower(it.id)]; ok {
			a.LastDeploymentTime = t.UTC().Format(timeLayoutMillis)
		}
		switch it.kind {
		case "dataset":
			out.Datasets = append(out.Datasets, a)
		case "report":
			out.Reports = append(out.Reports, a)
		case "dashboard":
			out.Dashboards = append(out.Dashboards, a)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// timeLayoutMillis is how the service writes pipeline times.
const timeLayoutMillis = "2006-01-02T15:04:05.000Z"

type deployOptions struct {
	AllowCreateArtifact                    bool `json:"allowCreateArtifact"`
	AllowOverwriteArtifact                 bool `json:"allowOverwriteArtifact"`
	AllowOverwriteTargetArtifactLabel      bool `json:"allowOverwriteTargetArtifactLabel"`
	AllowPurgeData                         bool `json:"allowPurgeData"`
	AllowSkipTilesWithMissingPrerequisites bool `json:"allowSkipTilesWithMissingPrerequisites"`
	AllowTakeOver                          bool `json:"allowTakeOver"`
}

// deployRequest is the body of deployAll and, with the items by type, of
// deploy (selective deployment).
type deployRequest struct {
	SourceStageOrder     *int                  `json:"sourceStageOrder"`
	IsBackwardDeployment bool                  `json:"isBackwardDeployment"`
	NewWorkspace         *pipelineNewWorkspace `json:"newWorkspace"`
	UpdateAppSettings    *struct {
		UpdateAppInTargetWorkspace bool `json:"updateAppInTargetWorkspace"`
	} `json:"updateAppSettings"`
	Options *deployOptions `json:"options"`
	Note    string         `json:"note"`

	Datasets   []deployArtifact `json:"datasets"`
	Reports    []deployArtifact `json:"reports"`
	Dashboards []deployArtifact `json:"dashboards"`
	Dataflows  []deployArtifact `json:"dataflows"`
	Datamarts  []deployArtifact `json:"datamarts"`
}

// deployArtifact is an item of a selective deployment; its options, when
// given, replace the deployment's for this item.
type deployArtifact struct {
	SourceID string         `json:"sourceId"`
	Options  *deployOptions `json:"options"`
}

// Error codes of refused deployments. WorkspaceMigrationOperationInProgress
// and Alm_InvalidRequest_NoArtifactsToDeploy are codes the service is
// reported to send; the codes of steps the options do not allow are not
// documented and are this fake's own.
const (
	codeDeployInProgress     = "WorkspaceMigrationOperationInProgress"
	codeNoArtifactsToDeploy  = "Alm_InvalidRequest_NoArtifactsToDeploy"
	codeCreateNotAllowed     = "Alm_InvalidRequest_CreateArtifactNotAllowed"
	codeOverwriteNotAllowed  = "Alm_InvalidRequest_OverwriteArtifactNotAllowed"
	codeMissingPrerequisites = "Alm_InvalidRequest_TilesWithMissingPrerequisites"
	codeMissingModel         = "Alm_InvalidRequest_ReportModelNotInTargetStage"
)

func (s *Server) deployAll(w http.ResponseWriter, r *http.Request) {
	s.deploy(w, r, false)
}

func (s *Server) selectiveDeploy(w http.ResponseWriter, r *http.Request) {
	s.deploy(w, r, true)
}

// deploy starts a deployment of every item of the source stage, or with
// selective of the items the request lists.
func (s *Server) deploy(w http.ResponseWriter, r *http.Request, selective bool) {
	var req deployRequest
	hasBody, ok := readJSON(w, r, &req)
	if !ok {
		return
	}
	bad := func(msg string) { writeError(w, http.StatusBadRequest, "InvalidRequest", msg) }
	if !hasBody || req.SourceStageOrder == nil {
		bad("sourceStageOrder is required")
		return
	}
	source := *req.SourceStageOrder
	if source < 0 || source >= pipelineStages {
		bad("sourceStageOrder must be 0 (Development), 1 (Test) or 2 (Production)")
		return
	}
	target := source + 1
	if req.IsBackwardDeployment {
		target = source - 1
	}
	if target < 0 || target >= pipelineStages {
		bad(fmt.Sprintf("There is no stage to deploy to from stage %d in this direction", source))
		return
	}
	if req.NewWorkspace != nil && (req.NewWorkspace.Name == "" ||
		req.NewWorkspace.CapacityID != "" && !isGUID(req.NewWorkspace.CapacityID)) {
		bad("newWorkspace needs a name, and capacityId must be a GUID")
		return
	}
	opts := deployOptions{}
	if req.Options != nil {
		opts = *req.Options
	}
	now := time.Now()

	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pipelineOf(w, r)
	if p == nil {
		return
	}
	if s.refuseWhileDeploying(w, p, now) {
		return
	}
	srcWS := s.stageWorkspace(p, source)
	if srcWS == nil {
		bad(fmt.Sprintf("Stage %d has no workspace assigned; there is nothing to deploy", source))
		return
	}
	all := stageItems(srcWS)
	items := all
	// itemOpts are the options of each item (by lowercase id) that has its own.
	itemOpts := map[string]deployOptions{}
	if selective {
		items = nil
		for _, list := range []struct {
			kind string
			arts []deployArtifact
		}{{"dataset", req.Datasets}, {"report", req.Reports}, {"dashboard", req.Dashboards}, {"dataflow", req.Dataflows}, {"datamart", req.Datamarts}} {
			for _, a := range list.arts {
				it, found := itemByID(all, list.kind, a.SourceID)
				if !found {
					bad(fmt.Sprintf("There is no %s with id %q in stage %d", list.kind, a.SourceID, source))
					return
				}
				if a.Options != nil {
					itemOpts[strings.ToLower(it.id)] = *a.Options
				}
				items = append(items, it)
			}
		}
		// Deployed in the order of the stage: models before their reports.
		slices.SortStableFunc(items, func(a, b stageItem) int { return indexOf(all, a) - indexOf(all, b) })
	}
	if len(items) == 0 {
		writePBIError(w, http.StatusBadRequest, codeNoArtifactsToDeploy)
		return
	}
	if len(items) > maxDeployItems {
		bad(fmt.Sprintf("A deployment may hold at most %d items; stage %d has %d", maxDeployItems, source, len(items)))
		return
	}
	tgtWS := s.stageWorkspace(p, target)
	if tgtWS == nil && req.NewWorkspace == nil {
		bad(fmt.Sprintf("Stage %d has no workspace assigned: give newWorkspace to create one", target))
		return
	}
	targetItems := stageItems(tgtWS)
	// The service deploys backwards only into an empty stage.
	if req.IsBackwardDeployment && len(targetItems) > 0 {
		bad(fmt.Sprintf("Backward deployment is possible only to an empty stage; stage %d has content", target))
		return
	}
	if tgtWS == nil && s.nameTaken(req.NewWorkspace.Name, nil) {
		writePBIError(w, http.StatusConflict, "PowerBIEntityAlreadyExists",
			detailsMessage("A workspace named "+req.NewWorkspace.Name+" already exists"))
		return
	}

	op := &pipelineOp{id: newGUID(), source: source, target: target, created: now, note: req.Note,
		performedBy:     pipelineOperationUserJSON{PrincipalObjectID: servicePrincipalObjectID, PrincipalType: "App"},
		newWorkspace:    req.NewWorkspace,
		sourceWorkspace: srcWS.info.ID,
	}
	if tgtWS != nil {
		op.targetWorkspace = tgtWS.info.ID
	}
	// present reports whether an item of the source stage will have its
	// counterpart in the target stage after the deployment.
	present := func(id string) bool {
		if id == "" {
			return true
		}
		if _, ok := itemByID(items, "", id); ok {
			return true
		}
		it, ok := itemByID(all, "", id)
		if !ok {
			return true // not of the source stage: the deployment leaves it alone
		}
		_, paired := pairOf(it, targetItems)
		return paired
	}
	for _, it := range items {
		o, own := itemOpts[strings.ToLower(it.id)]
		if !own {
			o = opts
		}
		st := deployStep{kind: it.kind, sourceID: it.id, sourceName: it.name}
		if t, ok := pairOf(it, targetItems); ok {
			st.targetID, st.targetName, st.overwrite = t.id, t.name, true
			if !o.AllowOverwriteArtifact {
				st.errorCode = codeOverwriteNotAllowed
			}
		} else if !o.AllowCreateArtifact {
			st.errorCode = codeCreateNotAllowed
		}
		if st.errorCode == "" && it.kind == "report" {
			if rep := srcWS.report(it.id); rep != nil && !present(rep.info.DatasetID) {
				st.errorCode = codeMissingModel
			}
		}
		if st.errorCode == "" && it.kind == "dashboard" && !o.AllowSkipTilesWithMissingPrerequisites &&
			s.tilesMissing(srcWS, it.id, present) {
			st.errorCode = codeMissingPrerequisites
		}
		op.failed = op.failed || st.errorCode != ""
		op.steps = append(op.steps, st)
	}
	p.operations = append(p.operations, op)
	// The copy is made when the operation ends: on the next read of the
	// pipeline, or by this timer so that the workspaces' own endpoints see it.
	time.AfterFunc(deployStartDelay+deployDuration, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.settlePipeline(p, time.Now())
	})
	w.Header().Set("Location", s.URL()+apiPrefix+"/pipelines/"+p.info.ID+"/operations/"+op.id)
	w.Header().Set("Retry-After", "1")
	writeJSON(w, http.StatusAccepted, s.toOperationJSON(op, now, false))
}

// refuseWhileDeploying answers 400 WorkspaceMigrationOperationInProgress when
// a deployment of the pipeline has not ended, as the service refuses
// deployments, assignments and deletion then, and reports whether it did.
// The caller must hold s.mu.
func (s *Server) refuseWhileDeploying(w http.ResponseWriter, p *pipeline, now time.Time) bool {
	s.settlePipeline(p, now)
	for _, op := range p.operations {
		if !op.applied {
			writePBIError(w, http.StatusBadRequest, codeDeployInProgress,
				detailsMessage("A deployment of this pipeline is in progress; wait until it ends"))
			return true
		}
	}
	return false
}

// itemByID finds an item by id, and by kind unless kind is "".
func itemByID(items []stageItem, kind, id string) (stageItem, bool) {
	for _, it := range items {
		if (kind == "" || it.kind == kind) && strings.EqualFold(it.id, id) {
			return it, true
		}
	}
	return stageItem{}, false
}

func indexOf(items []stageItem, it stageItem) int {
	return slices.IndexFunc(items, func(o stageItem) bool { return o.kind == it.kind && o.id == it.id })
}

// tilesMissing reports whether a dashboard has a tile whose report or model
// will not exist in the target stage after the deployment.
func (s *Server) tilesMissing(ws *workspace, dashboardID string, present func(id string) bool) bool {
	d := ws.dashboard(dashboardID)
	if d == nil {
		return false
	}
	for _, t := range d.tiles {
		if !present(t.info.ReportID) || !present(t.info.DatasetID) {
			return true
		}
	}
	return false
}

// status is an operation's state at a time: NotStarted, then Executing,
// then Succeeded or Failed.
func (op *pipelineOp) status(now time.Time) string {
	switch {
	case now.Before(op.created.Add(deployStartDelay)):
		return "NotStarted"
	case now.Before(op.created.Add(deployStartDelay + deployDuration)):
		return "Executing"
	case op.failed:
		return "Failed"
	}
	return "Succeeded"
}

func (op *pipelineOp) end() time.Time { return op.created.Add(deployStartDelay + deployDuration) }

// settlePipeline makes the copies of the deployments that have ended by now.
// The caller must hold s.mu.
func (s *Server) settlePipeline(p *pipeline, now time.Time) {
	for _, op := range p.operations {
		if op.applied || now.Before(op.end()) {
			continue
		}
		op.applied = true
		if !op.failed {
			s.applyDeployment(p, op)
		}
	}
}

// applyDeployment copies the items of a succeeded deployment into the
// target stage's workspace. The caller must hold s.mu.
func (s *Server) applyDeployment(p *pipeline, op *pipelineOp) {
	src := s.state.workspace(op.sourceWorkspace)
	if op.sourceWorkspace == "" || src == nil {
		return // deleted meanwhile
	}
	var tgt *workspace
	if op.targetWorkspace != "" { // "" would be My workspace
		tgt = s.state.workspace(op.targetWorkspace)
	}
	if tgt == nil {
		if op.newWorkspace == nil {
			return
		}
		info := Workspace{ID: newGUID(), Name: op.newWorkspace.Name, Type: "Workspace",
			IsOnDedicatedCapacity: true, CapacityID: op.newWorkspace.CapacityID, DefaultDatasetStorageFormat: "Small"}
		if info.CapacityID == "" {
			info.CapacityID = src.info.CapacityID
		}
		if info.CapacityID == "" {
			info.CapacityID = newGUID()
		}
		tgt = &workspace{info: info, users: append([]WorkspaceUser(nil), src.users...)}
		s.state.workspaces = append(s.state.workspaces, tgt)
		s.state.byID[strings.ToLower(info.ID)] = tgt
		op.targetWorkspace = info.ID
		p.info.Stages[op.target] = info.ID
	}
	end := op.end()
	// ids maps each source item to its copy, to rebind reports and tiles; an
	// item a selective deployment leaves out maps to its paired item.
	ids := map[string]string{}
	targetItems := stageItems(tgt)
	for _, it := range stageItems(src) {
		if t, ok := pairOf(it, targetItems); ok {
			ids[strings.ToLower(it.id)] = t.id
		}
	}
	for i := range op.steps {
		st := &op.steps[i]
		switch st.kind {
		case "dataset":
			d := src.dataset(st.sourceID)
			if d == nil {
				continue
			}
			if old := tgt.dataset(st.targetID); old != nil {
				id := old.info.ID
				old.info = d.info.clone()
				old.info.ID = id
				old.model = d.model
			} else {
				c := d.info.clone()
				c.ID = newGUID()
				c.ConfiguredBy = s.callerAsOwner()
				c.CreatedDate = end.UTC().Truncate(time.Millisecond)
				tgt.datasets = append(tgt.datasets, &dataset{info: c, model: d.model})
				st.targetID, st.targetName = c.ID, c.Name
			}
		case "report":
			rep := src.report(st.sourceID)
			if rep == nil {
				continue
			}
			info := rep.info
			info.Pages = append([]Page(nil), info.Pages...)
			info.Datasources = append([]ReportDatasource(nil), info.Datasources...)
			if to, ok := ids[strings.ToLower(info.DatasetID)]; ok {
				info.DatasetID = to
			}
			if old := tgt.report(st.targetID); old != nil {
				info.ID = old.info.ID
				old.info = info
			} else {
				info.ID = newGUID()
				tgt.reports = append(tgt.reports, &report{info: info, exports: map[string]*exportJob{}})
				st.targetID, st.targetName = info.ID, info.Name
			}
		case "dashboard":
			d := src.dashboard(st.sourceID)
			if d == nil {
				continue
			}
			nd := &dashboard{info: d.info}
			for _, t := range d.tiles {
				ti := t.info
				ti.ID = newGUID()
				ti.ReportID, ti.DatasetID = ids[strings.ToLower(ti.ReportID)], ids[strings.ToLower(ti.DatasetID)]
				if (t.info.ReportID != "" && ti.ReportID == "") || (t.info.DatasetID != "" && ti.DatasetID == "") {
					continue // allowSkipTilesWithMissingPrerequisites
				}
				nd.tiles = append(nd.tiles, &tile{info: ti, position: t.position})
			}
			if old := tgt.dashboard(st.targetID); old != nil {
				nd.info.ID = old.info.ID
				*old = *nd
			} else {
				nd.info.ID = newGUID()
				tgt.dashboards = append(tgt.dashboards, nd)
				st.targetID, st.targetName = nd.info.ID, nd.info.DisplayName
			}
		}
		ids[strings.ToLower(st.sourceID)] = st.targetID
		p.lastDeployed[strings.ToLower(st.targetID)] = end
	}
}

type pipelineOperationUserJSON struct {
	UserPrincipalName string `json:"userPrincipalName,omitempty"`
	PrincipalObjectID string `json:"principalObjectID,omitempty"`
	PrincipalType     string `json:"principalType"`
}

type pipelineOperationJSON struct {
	ID                           string                     `json:"id"`
	Type                         string                     `json:"type"`
	Status                       string                     `json:"status"`
	LastUpdatedTime              string                     `json:"lastUpdatedTime"`
	ExecutionStartTime           string                     `json:"executionStartTime,omitempty"`
	ExecutionEndTime             string                     `json:"executionEndTime,omitempty"`
	SourceStageOrder             int                        `json:"sourceStageOrder"`
	TargetStageOrder             int                        `json:"targetStageOrder"`
	PerformedBy                  *pipelineOperationUserJSON `json:"performedBy,omitempty"`
	Note                         *operationNoteJSON         `json:"note,omitempty"`
	ExecutionPlan                *executionPlanJSON         `json:"executionPlan,omitempty"`
	PreDeploymentDiffInformation *diffInformationJSON       `json:"preDeploymentDiffInformation,omitempty"`
}

type operationNoteJSON struct {
	Content     string `json:"content"`
	IsTruncated bool   `json:"isTruncated"`
}

type executionPlanJSON struct {
	Steps []executionStepJSON `json:"steps"`
}

type executionStepJSON struct {
	Index                  int                `json:"index"`
	Type                   string             `json:"type"`
	Status                 string             `json:"status"`
	LastUpdatedTime        string             `json:"lastUpdatedTime"`
	PreDeploymentDiffState string             `json:"preDeploymentDiffState"`
	SourceAndTarget        sourceAndTarget    `json:"sourceAndTarget"`
	Error                  *deploymentErrJSON `json:"error,omitempty"`
}

type sourceAndTarget struct {
	Source            string `json:"source"`
	SourceDisplayName string `json:"sourceDisplayName"`
	Target            string `json:"target,omitempty"`
	TargetDisplayName string `json:"targetDisplayName,omitempty"`
	Type              string `json:"type"`
}

type deploymentErrJSON struct {
	ErrorCode    string `json:"errorCode"`
	ErrorDetails string `json:"errorDetails,omitempty"`
}

type diffInformationJSON struct {
	NewArtifactsCount          int `json:"newArtifactsCount"`
	DifferentArtifactsCount    int `json:"differentArtifactsCount"`
	NoDifferenceArtifactsCount int `json:"noDifferenceArtifactsCount"`
}

// maxNoteLen is how much of a note an operation returns before it is
// marked truncated.
const maxNoteLen = 2048

// toOperationJSON renders an operation at a time; detail adds what only the
// single-operation GET returns. The caller must hold s.mu.
func (s *Server) toOperationJSON(op *pipelineOp, now time.Time, detail bool) pipelineOperationJSON {
	status := op.status(now)
	out := pipelineOperationJSON{ID: op.id, Type: "Deploy", Status: status,
		LastUpdatedTime: op.created.UTC().Format(timeLayoutMillis), SourceStageOrder: op.source, TargetStageOrder: op.target}
	start := op.created.Add(deployStartDelay)
	if status != "NotStarted" {
		out.ExecutionStartTime = start.UTC().Format(timeLayoutMillis)
		out.LastUpdatedTime = out.ExecutionStartTime
	}
	if status == "Succeeded" || status == "Failed" {
		out.ExecutionEndTime = op.end().UTC().Format(timeLayoutMillis)
		out.LastUpdatedTime = out.ExecutionEndTime
	}
	if !detail {
		return out
	}
	by := op.performedBy
	out.PerformedBy = &by
	if op.note != "" {
		n := operationNoteJSON{Content: op.note}
		if len(n.Content) > maxNoteLen {
			n.Content, n.IsTruncated = n.Content[:maxNoteLen], true
		}
		out.Note = &n
	}
	diff := diffInformationJSON{}
	plan := executionPlanJSON{Steps: make([]executionStepJSON, 0, len(op.steps))}
	for i, st := range op.steps {
		step := executionStepJSON{Index: i, Type: deployStepTypes[st.kind], Status: status,
			LastUpdatedTime: out.LastUpdatedTime, PreDeploymentDiffState: "New",
			SourceAndTarget: sourceAndTarget{Source: st.sourceID, SourceDisplayName: st.sourceName, Type: st.kind}}
		if st.overwrite {
			step.PreDeploymentDiffState = "Different"
			step.SourceAndTarget.Target, step.SourceAndTarget.TargetDisplayName = st.targetID, st.targetName
		}
		if step.PreDeploymentDiffState == "New" {
			diff.NewArtifactsCount++
		} else {
			diff.DifferentArtifactsCount++
		}
		if status == "Failed" {
			if st.errorCode != "" {
				step.Error = &deploymentErrJSON{ErrorCode: st.errorCode, ErrorDetails: deployErrorDetails[st.errorCode]}
			} else {
				step.Status = "NotStarted" // a refused deployment runs none of its steps
			}
		}
		plan.Steps = append(plan.Steps, step)
	}
	out.ExecutionPlan = &plan
	out.PreDeploymentDiffInformation = &diff
	return out
}

var deployStepTypes = map[string]string{
	"dataset": "DatasetDeployment", "report": "ReportDeployment", "dashboard": "DashboardDeployment",
}

var deployErrorDetails = map[string]string{
	codeCreateNotAllowed:     "The item does not exist in the target stage and options.allowCreateArtifact is not true",
	codeOverwriteNotAllowed:  "The item exists in the target stage and options.allowOverwriteArtifact is not true",
	codeMissingPrerequisites: "The dashboard has tiles whose report or model is not in the target stage and options.allowSkipTilesWithMissingPrerequisites is not true",
}

func (s *Server) listPipelineOperations(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pipelineOf(w, r)
	if p == nil {
		return
	}
	s.settlePipeline(p, now)
	// Newest first, as the service lists them.
	out := make([]pipelineOperationJSON, 0, len(p.operations))
	for i := len(p.operations) - 1; i >= 0; i-- {
		out = append(out, s.toOperationJSON(p.operations[i], now, false))
	}
	writeList(s, w, "", "pipelines('"+p.info.ID+"')/operations", out)
}

func (s *Server) getPipelineOperation(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pipelineOf(w, r)
	if p == nil {
		return
	}
	s.settlePipeline(p, now)
	id := r.PathValue("operationId")
	for _, op := range p.operations {
		if strings.EqualFold(op.id, id) {
			out := s.toOperationJSON(op, now, true)
			if out.Status == "NotStarted" || out.Status == "Executing" {
				w.Header().Set("Retry-After", "1")
			}
			writeJSON(w, http.StatusOK, out)
			return
		}
	}
	writePBIError(w, http.StatusNotFound, "PowerBIEntityNotFound")
}

// seedPipelines adds the demo deployment pipelines: Sales Deployment, whose
// Test stage already holds an earlier deployment of Sales and Sales
// Overview and whose Production stage is empty, run by the service principal
// and Megan, and Finance Deployment, whose Test and Production stages have no
// workspace yet.
func (s *Server) seedPipelines() {
	s.AddWorkspace(Workspace{ID: DemoSalesTestWorkspaceID, Name: "Sales Analytics [Test]",
		IsOnDedicatedCapacity: true, CapacityID: DemoCapacityID})
	s.AddWorkspace(Workspace{ID: DemoSalesProdWorkspaceID, Name: "Sales Analytics [Production]",
		IsOnDedicatedCapacity: true, CapacityID: DemoCapacityID})
	deployed := time.Now().UTC().Add(-24 * time.Hour).Truncate(time.Second)
	s.AddDataset(DemoSalesTestWorkspaceID, Dataset{ID: DemoSalesTestDatasetID, Name: "Sales",
		ConfiguredBy: s.callerAsOwner(), IsRefreshable: true, CreatedDate: deployed})
	s.AddReport(DemoSalesTestWorkspaceID, Report{ID: DemoSalesTestReportID, Name: "Sales Overview",
		DatasetID: DemoSalesTestDatasetID, Pages: []Page{
			{Name: "ReportSection", DisplayName: "Overview"},
			{Name: "ReportSection1", DisplayName: "Regional Sales"},
		}})
	s.AddPipeline(Pipeline{ID: DemoSalesPipelineID, DisplayName: "Sales Deployment",
		Description: "Sales reports from development to production",
		Stages:      [pipelineStages]string{DemoSalesWorkspaceID, DemoSalesTestWorkspaceID, DemoSalesProdWorkspaceID},
		Users: []PipelineUser{{Identifier: servicePrincipalObjectID, PrincipalType: "App"},
			{Identifier: DefaultUserPrincipalName, PrincipalType: "User"}}})
	// One user, whom the admin tests remove to leave the pipeline without one.
	s.AddPipeline(Pipeline{ID: DemoFinancePipelineID, DisplayName: "Finance Deployment",
		Stages: [pipelineStages]string{DemoFinanceWorkspaceID},
		Users:  []PipelineUser{{Identifier: "alex.wilber@contoso.com", PrincipalType: "User"}}})

	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.state.pipeline(DemoSalesPipelineID)
	created := deployed.Add(-deployStartDelay - deployDuration)
	p.operations = append(p.operations, &pipelineOp{id: DemoSalesDeploymentOpID, source: 0, target: 1,
		created: created, note: "First release of the sales model", applied: true,
		performedBy:     pipelineOperationUserJSON{UserPrincipalName: "megan.bowen@contoso.com", PrincipalType: "User"},
		sourceWorkspace: DemoSalesWorkspaceID, targetWorkspace: DemoSalesTestWorkspaceID,
		steps: []deployStep{
			{kind: "dataset", sourceID: DemoSalesDatasetID, sourceName: "Sales", targetID: DemoSalesTestDatasetID, targetName: "Sales"},
			{kind: "report", sourceID: DemoSalesReportID, sourceName: "Sales Overview", targetID: DemoSalesTestReportID, targetName: "Sales Overview"},
		}})
	p.lastDeployed[DemoSalesTestDatasetID] = deployed
	p.lastDeployed[DemoSalesTestReportID] = deployed
}

// Limits of CreatePipelineRequest and UpdatePipelineRequest.
const (
	maxPipelineNameLen        = 256
	maxPipelineDescriptionLen = 1024
)

// Error codes of refused stage assignments. Alm_InvalidRequest_WorkspaceHasNoCapacity
// is reported from the service; the others are not documented and are this
// fake's own, for the limitations the API reference lists.
const (
	codeStageAssigned      = "Alm_InvalidRequest_StageAlreadyHasWorkspace"
	codeWorkspaceInUse     = "Alm_InvalidRequest_WorkspaceAlreadyAssignedToPipeline"
	codeWorkspaceNoCap     = "Alm_InvalidRequest_WorkspaceHasNoCapacity"
	codeStageNotAssigned   = "Alm_InvalidRequest_StageHasNoWorkspace"
	codePipelineUserAbsent = "PowerBIEntityNotFound"
)

// pipelineUpdate is the body of CreatePipeline and UpdatePipeline.
type pipelineUpdate struct {
	DisplayName *string `json:"displayName"`
	Description *string `json:"description"`
}

// check answers 400 for a name or description over the limits, or a blank
// name, and reports whether the body is acceptable.
func (u pipelineUpdate) check(w http.ResponseWriter) bool {
	switch {
	case u.DisplayName != nil && strings.TrimSpace(*u.DisplayName) == "":
		writeError(w, http.StatusBadRequest, "InvalidRequest", "displayName cannot be empty")
	case u.DisplayName != nil && len([]rune(*u.DisplayName)) > maxPipelineNameLen:
		writeError(w, http.StatusBadRequest, "InvalidRequest", fmt.Sprintf("displayName is longer than %d characters", maxPipelineNameLen))
	case u.Description != nil && len([]rune(*u.Description)) > maxPipelineDescriptionLen:
		writeError(w, http.StatusBadRequest, "InvalidRequest", fmt.Sprintf("description is longer than %d characters", maxPipelineDescriptionLen))
	default:
		return true
	}
	return false
}

// pipelineCreator is the first admin of a pipeline a request creates.
func pipelineCreator(r *http.Request) PipelineUser {
	c := creatorOf(r)
	return PipelineUser{Identifier: c.Identifier, PrincipalType: c.PrincipalType}
}

func (s *Server) createPipeline(w http.ResponseWriter, r *http.Request) {
	var body pipelineUpdate
	if _, ok := readJSON(w, r, &body); !ok {
		return
	}
	if body.DisplayName == nil {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "displayName is required")
		return
	}
	if !body.check(w) {
		return
	}
	p := Pipeline{ID: newGUID(), DisplayName: *body.DisplayName, Users: []PipelineUser{pipelineCreator(r)}}
	if body.Description != nil {
		p.Description = *body.Description
	}
	s.AddPipeline(p)
	writeJSON(w, http.StatusCreated, pipelineJSON{ID: p.ID, DisplayName: p.DisplayName, Description: p.Description})
}

func (s *Server) updatePipeline(w http.ResponseWriter, r *http.Request) {
	var body pipelineUpdate
	if _, ok := readJSON(w, r, &body); !ok {
		return
	}
	if body.DisplayName == nil && body.Description == nil {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "An updated displayName or description is required")
		return
	}
	if !body.check(w) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pipelineOf(w, r)
	if p == nil {
		return
	}
	if body.DisplayName != nil {
		p.info.DisplayName = *body.DisplayName
	}
	if body.Description != nil {
		p.info.Description = *body.Description
	}
	writeJSON(w, http.StatusOK, pipelineJSON{ID: p.info.ID, DisplayName: p.info.DisplayName, Description: p.info.Description})
}

func (s *Server) deletePipeline(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pipelineOf(w, r)
	if p == nil || s.refuseWhileDeploying(w, p, time.Now()) {
		return
	}
	s.state.pipelines = slices.DeleteFunc(s.state.pipelines, func(o *pipeline) bool { return o == p })
	writeEmptyOK(w)
}

// stageOf reads the stageOrder of the path, answering 400 when it is not a
// stage.
func stageOf(w http.ResponseWriter, r *http.Request) (int, bool) {
	stage, err := strconv.Atoi(r.PathValue("stageOrder"))
	if err != nil || stage < 0 || stage >= pipelineStages {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "stageOrder must be 0 (Development), 1 (Test) or 2 (Production)")
		return 0, false
	}
	return stage, true
}

// assignStageWorkspace assigns a workspace to a stage that has none. Power BI
// refuses a stage that already has one, a workspace that belongs to a
// pipeline (this one included), a workspace on shared capacity (pipelines
// need Premium, PPU or Fabric), and any change while a deployment runs.
func (s *Server) assignStageWorkspace(w http.ResponseWriter, r *http.Request) {
	stage, ok := stageOf(w, r)
	if !ok {
		return
	}
	var body struct {
		WorkspaceID string `json:"workspaceId"`
	}
	if _, ok := readJSON(w, r, &body); !ok {
		return
	}
	if !isGUID(body.WorkspaceID) {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "workspaceId is required and must be a GUID")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pipelineOf(w, r)
	if p == nil || s.refuseWhileDeploying(w, p, time.Now()) {
		return
	}
	ws := s.workspaceFor(r, body.WorkspaceID)
	if ws == nil || ws == s.state.myWorkspace {
		writeGroupNotFound(w)
		return
	}
	if cur := s.stageWorkspace(p, stage); cur != nil {
		writePBIError(w, http.StatusBadRequest, codeStageAssigned,
			detailsMessage(fmt.Sprintf("Stage %d already has the workspace %s assigned; unassign it first", stage, cur.info.Name)))
		return
	}
	for _, o := range s.state.pipelines {
		for i := range o.info.Stages {
			if s.stageWorkspace(o, i) == ws {
				writePBIError(w, http.StatusBadRequest, codeWorkspaceInUse,
					detailsMessage(fmt.Sprintf("The workspace is assigned to stage %d of the pipeline %s; a workspace belongs to one pipeline only", i, o.info.DisplayName)))
				return
			}
		}
	}
	if !ws.info.IsOnDedicatedCapacity {
		writePBIError(w, http.StatusBadRequest, codeWorkspaceNoCap)
		return
	}
	p.info.Stages[stage] = ws.info.ID
	writeEmptyOK(w)
}

func (s *Server) unassignStageWorkspace(w http.ResponseWriter, r *http.Request) {
	stage, ok := stageOf(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pipelineOf(w, r)
	if p == nil || s.refuseWhileDeploying(w, p, time.Now()) {
		return
	}
	if s.stageWorkspace(p, stage) == nil {
		writePBIError(w, http.StatusBadRequest, codeStageNotAssigned,
			detailsMessage(fmt.Sprintf("Stage %d has no workspace assigned", stage)))
		return
	}
	p.info.Stages[stage] = ""
	writeEmptyOK(w)
}

type pipelineUserJSON struct {
	Identifier    string `json:"identifier"`
	AccessRight   string `json:"accessRight"`
	PrincipalType string `json:"principalType"`
}

func (s *Server) listPipelineUsers(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pipelineOf(w, r)
	if p == nil {
		return
	}
	out := make([]pipelineUserJSON, 0, len(p.info.Users))
	for _, u := range p.info.Users {
		out = append(out, pipelineUserJSON{Identifier: u.Identifier, AccessRight: "Admin", PrincipalType: u.PrincipalType})
	}
	writeList(s, w, "", "pipelines('"+p.info.ID+"')/users", out)
}

// updatePipelineUser adds a principal to a pipeline, or changes the one with
// the same identifier. Admin is the only access right.
func (s *Server) updatePipelineUser(w http.ResponseWriter, r *http.Request) {
	s.setPipelineUser(w, r, s.pipelineOf)
}

// setPipelineUser serves both routes that add or change a pipeline's user: the pipeline's own
// and the admin one, which differ only in how the pipeline is found (lookup).
func (s *Server) setPipelineUser(w http.ResponseWriter, r *http.Request, lookup func(http.ResponseWriter, *http.Request) *pipeline) {
	var body struct {
		Identifier    string `json:"identifier"`
		AccessRight   string `json:"accessRight"`
		PrincipalType string `json:"principalType"`
	}
	if _, ok := readJSON(w, r, &body); !ok {
		return
	}
	switch {
	case strings.TrimSpace(body.Identifier) == "":
		writeError(w, http.StatusBadRequest, "InvalidRequest", "identifier is required")
		return
	case !slices.Contains(principalTypes, body.PrincipalType):
		writeError(w, http.StatusBadRequest, "InvalidRequest", "principalType must be User, Group or App")
		return
	case body.AccessRight != "Admin":
		writeError(w, http.StatusBadRequest, "InvalidRequest", "accessRight is required and must be Admin")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := lookup(w, r)
	if p == nil {
		return
	}
	u := PipelineUser{Identifier: body.Identifier, PrincipalType: body.PrincipalType}
	if i := p.userIndex(body.Identifier); i >= 0 {
		p.info.Users[i] = u
	} else {
		p.info.Users = append(p.info.Users, u)
	}
	writeEmptyOK(w)
}

func (s *Server) deletePipelineUser(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pipelineOf(w, r)
	if p == nil {
		return
	}
	i := p.userIndex(r.PathValue("identifier"))
	if i < 0 {
		writePBIError(w, http.StatusNotFound, codePipelineUserAbsent)
		return
	}
	p.info.Users = slices.Delete(p.info.Users, i, i+1)
	writeEmptyOK(w)
}

// itemUsers are the pipeline's users as the admin APIs list an item's users.
func (p *pipeline) itemUsers() []ItemUser {
	out := make([]ItemUser, 0, len(p.info.Users))
	for _, u := range p.info.Users {
		out = append(out, ItemUser{Identifier: u.Identifier, PrincipalType: u.PrincipalType, AccessRight: "Admin"})
	}
	return out
}

func (p *pipeline) userIndex(identifier string) int {
	return slices.IndexFunc(p.info.Users, func(u PipelineUser) bool { return strings.EqualFold(u.Identifier, identifier) })
}
