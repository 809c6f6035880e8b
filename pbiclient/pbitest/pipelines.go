package pbitest

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Deployment pipelines (swagger tag Pipelines): a pipeline has three stages,
// Development (0), Test (1) and Production (2), each with at most one
// workspace. deployAll copies the supported items of one stage's workspace
// into the next (or, backwards, the previous) stage's workspace as an
// asynchronous operation. Items of neighbouring stages are paired by type
// and name, as the service pairs them when a workspace is assigned; a
// deployment overwrites the paired item and creates the others.

// Pipeline is a deployment pipeline.
type Pipeline struct {
	ID          string // filled with a random GUID when empty
	DisplayName string
	Description string
	// Stages holds the workspace id assigned to each stage, "" for none.
	Stages [pipelineStages]string
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
	s.handleAPI("POST "+apiPrefix+"/pipelines/{pipelineId}/deployAll", s.deployAll)
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

func (s *Server) pipelineOf(w http.ResponseWriter, r *http.Request) *pipeline {
	p := s.state.pipeline(r.PathValue("pipelineId"))
	if p == nil {
		writePBIError(w, http.StatusNotFound, "PowerBIEntityNotFound")
	}
	return p
}

func (s *Server) listPipelines(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]pipelineJSON, 0, len(s.state.pipelines))
	for _, p := range s.state.pipelines {
		out = append(out, pipelineJSON{ID: p.info.ID, DisplayName: p.info.DisplayName, Description: p.info.Description})
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
	stage, err := strconv.Atoi(r.PathValue("stageOrder"))
	if err != nil || stage < 0 || stage >= pipelineStages {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "stageOrder must be 0 (Development), 1 (Test) or 2 (Production)")
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

type deployAllRequest struct {
	SourceStageOrder     *int                  `json:"sourceStageOrder"`
	IsBackwardDeployment bool                  `json:"isBackwardDeployment"`
	NewWorkspace         *pipelineNewWorkspace `json:"newWorkspace"`
	UpdateAppSettings    *struct {
		UpdateAppInTargetWorkspace bool `json:"updateAppInTargetWorkspace"`
	} `json:"updateAppSettings"`
	Options *deployOptions `json:"options"`
	Note    string         `json:"note"`
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
)

func (s *Server) deployAll(w http.ResponseWriter, r *http.Request) {
	var req deployAllRequest
	present, ok := readJSON(w, r, &req)
	if !ok {
		return
	}
	bad := func(msg string) { writeError(w, http.StatusBadRequest, "InvalidRequest", msg) }
	if !present || req.SourceStageOrder == nil {
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
	s.settlePipeline(p, now)
	for _, op := range p.operations {
		if !op.applied {
			writePBIError(w, http.StatusBadRequest, codeDeployInProgress,
				detailsMessage("Another deployment of this pipeline is in progress; wait until it ends"))
			return
		}
	}
	srcWS := s.stageWorkspace(p, source)
	if srcWS == nil {
		bad(fmt.Sprintf("Stage %d has no workspace assigned; there is nothing to deploy", source))
		return
	}
	items := stageItems(srcWS)
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
	for _, it := range items {
		st := deployStep{kind: it.kind, sourceID: it.id, sourceName: it.name}
		if t, ok := pairOf(it, targetItems); ok {
			st.targetID, st.targetName, st.overwrite = t.id, t.name, true
			if !opts.AllowOverwriteArtifact {
				st.errorCode = codeOverwriteNotAllowed
			}
		} else if !opts.AllowCreateArtifact {
			st.errorCode = codeCreateNotAllowed
		}
		if st.errorCode == "" && it.kind == "dashboard" && !opts.AllowSkipTilesWithMissingPrerequisites &&
			s.tilesMissing(srcWS, it.id, items) {
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

// tilesMissing reports whether a dashboard has a tile whose report or model
// will not exist in the target stage after the deployment.
func (s *Server) tilesMissing(ws *workspace, dashboardID string, deployed []stageItem) bool {
	d := ws.dashboard(dashboardID)
	if d == nil {
		return false
	}
	present := func(id string) bool {
		if id == "" {
			return true
		}
		for _, it := range deployed {
			if strings.EqualFold(it.id, id) {
				return true
			}
		}
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
	// ids maps each source item to its copy, to rebind reports and tiles.
	ids := map[string]string{}
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
// Overview and whose Production stage is empty, and Finance Deployment,
// whose Test and Production stages have no workspace yet.
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
		Stages:      [pipelineStages]string{DemoSalesWorkspaceID, DemoSalesTestWorkspaceID, DemoSalesProdWorkspaceID}})
	s.AddPipeline(Pipeline{ID: DemoFinancePipelineID, DisplayName: "Finance Deployment",
		Stages: [pipelineStages]string{DemoFinanceWorkspaceID}})

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
