package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
)

// stageNames are the stages of a deployment pipeline, by order.
var stageNames = [...]string{"Development", "Test", "Production"}

func stageName(order int) string {
	if order >= 0 && order < len(stageNames) {
		return stageNames[order]
	}
	return fmt.Sprintf("stage %d", order)
}

// PipelineStage is a stage of a deployment pipeline and its workspace.
type PipelineStage struct {
	Order         int    `json:"order" jsonschema:"0 Development, 1 Test, 2 Production"`
	Name          string `json:"name"`
	WorkspaceID   string `json:"workspaceId,omitempty" jsonschema:"The workspace assigned to the stage; absent when none is"`
	WorkspaceName string `json:"workspaceName,omitempty"`
}

// Pipeline is a deployment pipeline.
type Pipeline struct {
	ID          string          `json:"id"`
	DisplayName string          `json:"displayName"`
	Description string          `json:"description,omitempty"`
	Stages      []PipelineStage `json:"stages,omitempty"`
}

func stageOf(s pbiclient.PipelineStage) PipelineStage {
	return PipelineStage{Order: s.Order, Name: stageName(s.Order), WorkspaceID: s.WorkspaceID, WorkspaceName: s.WorkspaceName}
}

func pipelineOf(p pbiclient.Pipeline) Pipeline {
	out := Pipeline{ID: p.ID, DisplayName: p.DisplayName, Description: p.Description}
	for _, s := range p.Stages {
		out.Stages = append(out.Stages, stageOf(s))
	}
	return out
}

// PipelineArtifact is an item of a stage, with its counterparts in the neighbouring stages.
type PipelineArtifact struct {
	ArtifactID          string `json:"artifactId"`
	ArtifactDisplayName string `json:"artifactDisplayName,omitempty"`
	SourceArtifactID    string `json:"sourceArtifactId,omitempty" jsonschema:"The paired item of the previous stage, which a deployment to this stage copies over this one"`
	TargetArtifactID    string `json:"targetArtifactId,omitempty" jsonschema:"The paired item of the next stage, which a deployment from this stage overwrites"`
	LastDeploymentTime  string `json:"lastDeploymentTime,omitempty"`
}

// PipelineOperation is a deployment and, when read alone, its steps.
type PipelineOperation struct {
	ID                 string                           `json:"id"`
	Type               string                           `json:"type,omitempty"`
	Status             string                           `json:"status" jsonschema:"NotStarted, Executing, Succeeded or Failed"`
	LastUpdatedTime    string                           `json:"lastUpdatedTime,omitempty"`
	ExecutionStartTime string                           `json:"executionStartTime,omitempty"`
	ExecutionEndTime   string                           `json:"executionEndTime,omitempty"`
	SourceStageOrder   int                              `json:"sourceStageOrder"`
	TargetStageOrder   int                              `json:"targetStageOrder"`
	PerformedBy        *pbiclient.PipelineOperationUser `json:"performedBy,omitempty"`
	Note               string                           `json:"note,omitempty"`
	// Steps and the counts come only when one operation is read.
	Steps                        []DeploymentStep                        `json:"steps,omitempty" jsonschema:"One step per deployed item, with its result"`
	PreDeploymentDiffInformation *pbiclient.PreDeploymentDiffInformation `json:"preDeploymentDiffInformation,omitempty"`
}

// DeploymentStep is the deployment of one item.
type DeploymentStep struct {
	Index                  int    `json:"index"`
	Type                   string `json:"type" jsonschema:"DatasetDeployment, ReportDeployment, DashboardDeployment, DataflowDeployment or DatamartDeployment"`
	Status                 string `json:"status"`
	PreDeploymentDiffState string `json:"preDeploymentDiffState,omitempty" jsonschema:"New (created in the target), Different (overwrote the target item) or NoDifference"`
	Source                 string `json:"source"`
	SourceDisplayName      string `json:"sourceDisplayName,omitempty"`
	Target                 string `json:"target,omitempty" jsonschema:"The overwritten item of the target stage"`
	TargetDisplayName      string `json:"targetDisplayName,omitempty"`
	ErrorCode              string `json:"errorCode,omitempty"`
	ErrorDetails           string `json:"errorDetails,omitempty"`
}

func operationOf(o pbiclient.PipelineOperation) PipelineOperation {
	out := PipelineOperation{ID: o.ID, Type: o.Type, Status: o.Status, LastUpdatedTime: o.LastUpdatedTime,
		ExecutionStartTime: o.ExecutionStartTime, ExecutionEndTime: o.ExecutionEndTime,
		SourceStageOrder: o.SourceStageOrder, TargetStageOrder: o.TargetStageOrder,
		PerformedBy: o.PerformedBy, PreDeploymentDiffInformation: o.PreDeploymentDiffInformation}
	if o.Note != nil {
		out.Note = o.Note.Content
	}
	if o.ExecutionPlan != nil {
		for _, s := range o.ExecutionPlan.Steps {
			st := DeploymentStep{Index: s.Index, Type: s.Type, Status: s.Status, PreDeploymentDiffState: s.PreDeploymentDiffState,
				Source: s.SourceAndTarget.Source, SourceDisplayName: s.SourceAndTarget.SourceDisplayName,
				Target: s.SourceAndTarget.Target, TargetDisplayName: s.SourceAndTarget.TargetDisplayName}
			if s.Error != nil {
				st.ErrorCode, st.ErrorDetails = s.Error.ErrorCode, s.Error.ErrorDetails
			}
			out.Steps = append(out.Steps, st)
		}
	}
	return out
}

func pipelineParam() mcp.ToolOption {
	return mcp.WithString("pipeline", mcp.Required(), mcp.MinLength(1))
}

func stageParam(name, what string) mcp.ToolOption {
	return mcp.WithInteger(name, mcp.Required(),
		mcp.Description(what+": 0 Development, 1 Test, 2 Production."),
		mcp.Min(0), mcp.Max(2))
}

// resolvePipeline reads a pipeline argument, an id or an exact name.
func resolvePipeline(ctx context.Context, c *pbiclient.Client, arg string) (ItemRef, error) {
	return resolveItem(arg, "deployment pipeline", "list_pipelines",
		func() ([]pbiclient.Pipeline, error) { return c.ListPipelines(ctx) },
		func(p pbiclient.Pipeline) (string, string) { return p.ID, p.DisplayName })
}

type listPipelinesArgs struct {
	Top  int `json:"top" minimum:"1" maximum:"1000" default:"100"`
	Skip int `json:"skip" schema:"$skip"`
}

// ListPipelinesResult is the answer of list_pipelines.
type ListPipelinesResult struct {
	Pipelines []Pipeline `json:"pipelines"`
	Page
}

type pipelineArgs struct {
	Pipeline string `json:"pipeline" schema:"$pipeline" required:"true"`
}

// PipelineResult is the answer of get_pipeline, create_pipeline and update_pipeline.
type PipelineResult struct {
	Pipeline Pipeline       `json:"pipeline"`
	Users    []PipelineUser `json:"users,omitempty"`
}

// PipelineUser is a principal with access to a pipeline; Admin is the only access right.
type PipelineUser struct {
	Identifier    string `json:"identifier"`
	PrincipalType string `json:"principalType"`
	AccessRight   string `json:"accessRight,omitempty"`
}

// PipelineStagesResult is the answer of list_pipeline_stages.
type PipelineStagesResult struct {
	Pipeline ItemRef         `json:"pipeline"`
	Stages   []PipelineStage `json:"stages"`
}

type stageArtifactsArgs struct {
	Pipeline string `json:"pipeline" schema:"$pipeline" required:"true"`
	Stage    int    `json:"stage" schema:"$pipelineStage" required:"true"`
}

// PipelineStageArtifactsResult is the answer of list_pipeline_stage_artifacts.
type PipelineStageArtifactsResult struct {
	Pipeline   ItemRef            `json:"pipeline"`
	Stage      PipelineStage      `json:"stage"`
	Count      int                `json:"count" jsonschema:"Items in the stage, all types together"`
	Datasets   []PipelineArtifact `json:"datasets"`
	Reports    []PipelineArtifact `json:"reports"`
	Dashboards []PipelineArtifact `json:"dashboards"`
	Dataflows  []PipelineArtifact `json:"dataflows"`
	Datamarts  []PipelineArtifact `json:"datamarts"`
}

type listOperationsArgs struct {
	Pipeline string `json:"pipeline" schema:"$pipeline" required:"true"`
	Top      int    `json:"top" minimum:"1" maximum:"100" default:"20"`
	Skip     int    `json:"skip" schema:"$skip"`
}

// PipelineOperationsResult is the answer of list_pipeline_operations.
type PipelineOperationsResult struct {
	Pipeline   ItemRef             `json:"pipeline"`
	Operations []PipelineOperation `json:"operations"`
	Page
}

type operationArgs struct {
	Pipeline  string `json:"pipeline" schema:"$pipeline" required:"true"`
	Operation string `json:"operation" required:"true" jsonschema:"Deployment (operation) id, as returned by deploy_pipeline_stage or list_pipeline_operations." pattern:"$guid"`
}

// PipelineOperationResult is the answer of get_pipeline_operation and deploy_pipeline_stage.
type PipelineOperationResult struct {
	Pipeline  ItemRef           `json:"pipeline"`
	Operation PipelineOperation `json:"operation"`
	Message   string            `json:"message,omitempty"`
}

type deployArgs struct {
	Pipeline                               string       `json:"pipeline" schema:"$pipeline" required:"true"`
	SourceStage                            int          `json:"source_stage" schema:"$pipelineSourceStage" required:"true"`
	IsBackwardDeployment                   bool         `json:"is_backward_deployment" jsonschema:"Deploy to the previous stage, e.g. Production to Test." default:"false"`
	NewWorkspaceName                       string       `json:"new_workspace_name" jsonschema:"Name of a workspace to create for a target stage that has none." minLength:"1"`
	NewWorkspaceCapacityID                 string       `json:"new_workspace_capacity_id" jsonschema:"The new workspace's capacity; default the source's." pattern:"$guid"`
	UpdateAppInTargetWorkspace             bool         `json:"update_app_in_target_workspace" jsonschema:"Update the target workspace's app afterwards." default:"false"`
	AllowCreateArtifact                    bool         `json:"allow_create_artifact" jsonschema:"Create items missing in the target." default:"true"`
	AllowOverwriteArtifact                 bool         `json:"allow_overwrite_artifact" jsonschema:"Overwrite paired target items. Needs confirm." default:"false"`
	AllowOverwriteTargetArtifactLabel      bool         `json:"allow_overwrite_target_artifact_label" jsonschema:"Replace target items' sensitivity labels." default:"false"`
	AllowPurgeData                         bool         `json:"allow_purge_data" jsonschema:"Delete the data of target models whose schema changed. Needs confirm." default:"false"`
	AllowSkipTilesWithMissingPrerequisites bool         `json:"allow_skip_tiles_with_missing_prerequisites" jsonschema:"Skip dashboard tiles whose report or model the target lacks." default:"false"`
	AllowTakeOver                          bool         `json:"allow_take_over" jsonschema:"Take over target paginated reports owned by others." default:"false"`
	Note                                   string       `json:"note" jsonschema:"Shown in the pipeline's history." maxLength:"2048"`
	Wait                                   bool         `json:"wait" jsonschema:"Follow the deployment until it ends." default:"true"`
	TimeoutSeconds                         int          `json:"timeout_seconds" jsonschema:"With wait: the longest wait; the deployment goes on after it." minimum:"10" maximum:"3600" default:"$defaultDeployWait"`
	Confirm                                bool         `json:"confirm" schema:"$confirm"`
	Items                                  []deployItem `json:"items" jsonschema:"Deploy only these items of the source stage; default all." minItems:"1" maxItems:"$maxDeployItems"`
}

// deployItem is an item of a selective deployment.
type deployItem struct {
	Kind string `json:"kind" required:"true" enum:"dataset,report,dashboard,dataflow,datamart"`
	Item string `json:"item" required:"true" minLength:"1" jsonschema:"Id or exact name in the source stage"`
}

// UnmarshalJSON binds the arguments over the defaults the schema declares, so that
// allow_create_artifact and wait left out are true.
func (a *deployArgs) UnmarshalJSON(b []byte) error {
	type plain deployArgs // the same fields, without this method
	v := plain{AllowCreateArtifact: true, Wait: true}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*a = deployArgs(v)
	return nil
}

const defaultDeployWait = 600

// maxDeployItems is how many items one deployment may carry.
const maxDeployItems = pbiclient.MaxDeployItems

func pipelineTools(d Deps) []Tool {
	return append([]Tool{
		tool(d, "pipelines", "list deployment pipelines", listPipelines, mcp.NewTool("list_pipelines",
			mcp.WithDescription("List the deployment pipelines the caller can access: id, name and description. "+
				"use get_pipeline or list_pipeline_stages for its stages."),
			annotations("List deployment pipelines", true, false, true))),
		tool(d, "pipelines", "get the deployment pipeline", getPipeline, mcp.NewTool("get_pipeline",
			mcp.WithDescription("Get one deployment pipeline by id or exact name: its three stages (0 Development, 1 Test, 2 Production), "+
				"the workspace assigned to each, and its admins."),
			annotations("Get a deployment pipeline", true, false, true))),
		tool(d, "pipelines", "list the pipeline stages", listPipelineStages, mcp.NewTool("list_pipeline_stages",
			mcp.WithDescription("List the stages of a deployment pipeline (0 Development, 1 Test, 2 Production) with the workspace assigned to each. "+
				"A stage without a workspace gets one from assign_pipeline_stage or deploy_pipeline_stage's new_workspace_name."),
			annotations("List pipeline stages", true, false, true))),
		tool(d, "pipelines", "list the items of the pipeline stage", listPipelineStageArtifacts, mcp.NewTool("list_pipeline_stage_artifacts",
			mcp.WithDescription("List the items of a deployment pipeline stage (models, reports, dashboards, dataflows, datamarts), each with its paired item in the previous stage (sourceArtifactId) and the next (targetArtifactId) and when it was last deployed. "+
				"Use it before deploy_pipeline_stage to see what a deployment will create (no target) or overwrite (a target). "+
				"Needs Contributor on the stage's workspace."),
			annotations("List the items of a pipeline stage", true, false, true))),
		tool(d, "pipelines", "list the pipeline deployments", listPipelineOperations, mcp.NewTool("list_pipeline_operations",
			mcp.WithDescription("List the recent deployments of a deployment pipeline, newest first: status, source and target stage, start and end time. "+
				"Use get_pipeline_operation for the items of one deployment and their results."),
			annotations("List pipeline deployments", true, false, true))),
		tool(d, "pipelines", "get the pipeline deployment", getPipelineOperation, mcp.NewTool("get_pipeline_operation",
			mcp.WithDescription("Get one deployment of a pipeline: status (NotStarted, Executing, Succeeded, Failed), who started it, its note, and per item its result (new in or overwrote the target stage) and error. "+
				"Use it to follow a deploy_pipeline_stage called with wait=false."),
			annotations("Get a pipeline deployment", true, false, true))),
		tool(d, "pipelines", "deploy the pipeline stage", deployPipelineStage, mcp.NewTool("deploy_pipeline_stage",
			mcp.WithDescription("Deploy the items of a pipeline stage, all or only items, to the next stage (is_backward_deployment: the previous, which must be empty). "+
				"Items pair with the target's items of the same type and name: paired ones are overwritten (allow_overwrite_artifact), others created (allow_create_artifact); a deployment lacking an option it needs fails. "+
				"A target stage without a workspace needs new_workspace_name. One deployment per pipeline at a time. "+
				"With wait the call follows it and returns each item's result; otherwise follow it with get_pipeline_operation. "+
				"Needs Contributor on both workspaces, pipeline admin and the scope Pipeline.Deploy."),
			annotations("Deploy a pipeline stage", false, true, false))).followsJobs(),
	}, pipelineAdminTools(d)...)
}

// listPipelines is list_pipelines.
func listPipelines(ctx context.Context, d Deps, a listPipelinesArgs) (ListPipelinesResult, error) {
	all, err := d.Client.ListPipelines(ctx)
	if err != nil {
		return ListPipelinesResult{}, err
	}
	items, page := pageOf(all, defaultInt(a.Top, 100), a.Skip)
	res := ListPipelinesResult{Pipelines: make([]Pipeline, 0, len(items)), Page: page}
	for _, p := range items {
		res.Pipelines = append(res.Pipelines, pipelineOf(p))
	}
	return res, nil
}

// getPipeline is get_pipeline.
func getPipeline(ctx context.Context, d Deps, a pipelineArgs) (PipelineResult, error) {
	ref, err := resolvePipeline(ctx, d.Client, a.Pipeline)
	if err != nil {
		return PipelineResult{}, err
	}
	p, err := d.Client.GetPipeline(ctx, ref.ID, true)
	if err != nil {
		return PipelineResult{}, err
	}
	users, err := pipelineUsers(ctx, d.Client, ref.ID)
	if err != nil {
		return PipelineResult{}, err
	}
	return PipelineResult{Pipeline: pipelineOf(p), Users: users}, nil
}

func pipelineUsers(ctx context.Context, c *pbiclient.Client, pipelineID string) ([]PipelineUser, error) {
	users, err := c.ListPipelineUsers(ctx, pipelineID)
	if err != nil {
		return nil, err
	}
	out := make([]PipelineUser, 0, len(users))
	for _, u := range users {
		out = append(out, PipelineUser(u))
	}
	return out, nil
}

// listPipelineStages is list_pipeline_stages.
func listPipelineStages(ctx context.Context, d Deps, a pipelineArgs) (PipelineStagesResult, error) {
	ref, err := resolvePipeline(ctx, d.Client, a.Pipeline)
	if err != nil {
		return PipelineStagesResult{}, err
	}
	stages, err := d.Client.ListPipelineStages(ctx, ref.ID)
	if err != nil {
		return PipelineStagesResult{}, err
	}
	res := PipelineStagesResult{Pipeline: ref, Stages: make([]PipelineStage, 0, len(stages))}
	for _, s := range stages {
		res.Stages = append(res.Stages, stageOf(s))
	}
	return res, nil
}

// listPipelineStageArtifacts is list_pipeline_stage_artifacts.
func listPipelineStageArtifacts(ctx context.Context, d Deps, a stageArtifactsArgs) (PipelineStageArtifactsResult, error) {
	ref, err := resolvePipeline(ctx, d.Client, a.Pipeline)
	if err != nil {
		return PipelineStageArtifactsResult{}, err
	}
	stage, err := pipelineStage(ctx, d.Client, ref.ID, a.Stage)
	if err != nil {
		return PipelineStageArtifactsResult{}, err
	}
	arts, err := d.Client.ListPipelineStageArtifacts(ctx, ref.ID, a.Stage)
	if err != nil {
		return PipelineStageArtifactsResult{}, err
	}
	res := PipelineStageArtifactsResult{Pipeline: ref, Stage: stage,
		Datasets: artifactsOf(arts.Datasets), Reports: artifactsOf(arts.Reports), Dashboards: artifactsOf(arts.Dashboards),
		Dataflows: artifactsOf(arts.Dataflows), Datamarts: artifactsOf(arts.Datamarts)}
	res.Count = artifactCount(arts)
	return res, nil
}

// listPipelineOperations is list_pipeline_operations.
func listPipelineOperations(ctx context.Context, d Deps, a listOperationsArgs) (PipelineOperationsResult, error) {
	ref, err := resolvePipeline(ctx, d.Client, a.Pipeline)
	if err != nil {
		return PipelineOperationsResult{}, err
	}
	all, err := d.Client.ListPipelineOperations(ctx, ref.ID)
	if err != nil {
		return PipelineOperationsResult{}, err
	}
	items, page := pageOf(all, defaultInt(a.Top, 20), a.Skip)
	res := PipelineOperationsResult{Pipeline: ref, Operations: make([]PipelineOperation, 0, len(items)), Page: page}
	for _, o := range items {
		res.Operations = append(res.Operations, operationOf(o))
	}
	return res, nil
}

// getPipelineOperation is get_pipeline_operation.
func getPipelineOperation(ctx context.Context, d Deps, a operationArgs) (PipelineOperationResult, error) {
	ref, err := resolvePipeline(ctx, d.Client, a.Pipeline)
	if err != nil {
		return PipelineOperationResult{}, err
	}
	op, err := d.Client.GetPipelineOperation(ctx, ref.ID, a.Operation)
	if err != nil {
		return PipelineOperationResult{}, err
	}
	return PipelineOperationResult{Pipeline: ref, Operation: operationOf(op)}, nil
}

// deployPipelineStage is deploy_pipeline_stage.
func deployPipelineStage(ctx context.Context, d Deps, a deployArgs) (PipelineOperationResult, error) {
	ref, err := resolvePipeline(ctx, d.Client, a.Pipeline)
	if err != nil {
		return PipelineOperationResult{}, err
	}
	target := a.SourceStage + 1
	if a.IsBackwardDeployment {
		target = a.SourceStage - 1
	}
	if target < 0 || target > 2 {
		return PipelineOperationResult{}, userErrorf("There is no stage to deploy to from %s in that direction: deploy forward from Development or Test, or backward from Test or Production.",
			stageName(a.SourceStage))
	}
	if a.NewWorkspaceCapacityID != "" && a.NewWorkspaceName == "" {
		return PipelineOperationResult{}, userErrorf("new_workspace_capacity_id needs new_workspace_name.")
	}
	body := pbiclient.DeployAllRequest{SourceStageOrder: a.SourceStage, IsBackwardDeployment: a.IsBackwardDeployment, Note: a.Note,
		Options: &pbiclient.DeploymentOptions{
			AllowCreateArtifact: a.AllowCreateArtifact, AllowOverwriteArtifact: a.AllowOverwriteArtifact,
			AllowOverwriteTargetArtifactLabel: a.AllowOverwriteTargetArtifactLabel, AllowPurgeData: a.AllowPurgeData,
			AllowSkipTilesWithMissingPrerequisites: a.AllowSkipTilesWithMissingPrerequisites, AllowTakeOver: a.AllowTakeOver,
		}}
	if a.NewWorkspaceName != "" {
		body.NewWorkspace = &pbiclient.PipelineNewWorkspace{Name: a.NewWorkspaceName, CapacityID: a.NewWorkspaceCapacityID}
	}
	if a.UpdateAppInTargetWorkspace {
		body.UpdateAppSettings = &pbiclient.PipelineUpdateAppSettings{UpdateAppInTargetWorkspace: true}
	}

	// What the deployment will carry: Power BI refuses more than 300 items, and the
	// confirmation names what gets overwritten.
	source, err := pipelineStage(ctx, d.Client, ref.ID, a.SourceStage)
	if err != nil {
		return PipelineOperationResult{}, err
	}
	arts, err := d.Client.ListPipelineStageArtifacts(ctx, ref.ID, a.SourceStage)
	if err != nil {
		return PipelineOperationResult{}, err
	}
	n := artifactCount(arts)
	var chosen *pbiclient.SelectiveDeployRequest
	var names []string
	if len(a.Items) > 0 {
		if chosen, names, err = chooseItems(arts, a.Items, stageName(a.SourceStage)); err != nil {
			return PipelineOperationResult{}, err
		}
		chosen.DeployAllRequest = body
		n = len(names)
	}
	if n > pbiclient.MaxDeployItems {
		return PipelineOperationResult{}, userErrorf("%s holds %d items; Power BI deploys at most %d per deployment. Nothing was deployed.",
			stageName(a.SourceStage), n, pbiclient.MaxDeployItems)
	}
	if a.AllowOverwriteArtifact || a.AllowPurgeData {
		targetStage, err := pipelineStage(ctx, d.Client, ref.ID, target)
		if err != nil {
			return PipelineOperationResult{}, err
		}
		items := fmt.Sprintf("all %d items", n)
		if chosen != nil {
			items = fmt.Sprintf("%d items (%s)", n, strings.Join(names, ", "))
		}
		what := fmt.Sprintf("Deploy %s of %s (workspace %s) of the pipeline %s (id %s) to %s (workspace %s)",
			items, stageName(a.SourceStage), source.WorkspaceName, ref.Name, ref.ID, stageName(target), orNone(targetStage.WorkspaceName, a.NewWorkspaceName))
		if a.AllowOverwriteArtifact {
			what += ", overwriting the items there that have the same names"
		}
		if a.AllowPurgeData {
			what += ", deleting all data of target semantic models whose schema changed"
		}
		if err := confirmed(ctx, a.Confirm, what+"."); err != nil {
			return PipelineOperationResult{}, err
		}
	}

	var op pbiclient.PipelineOperation
	if chosen != nil {
		op, err = d.Client.SelectiveDeploy(ctx, ref.ID, *chosen)
	} else {
		op, err = d.Client.DeployAll(ctx, ref.ID, body)
	}
	if err != nil {
		return PipelineOperationResult{}, err
	}
	res := PipelineOperationResult{Pipeline: ref, Operation: operationOf(op),
		Message: "The deployment started. Follow it with get_pipeline_operation (operation = operation.id)."}
	if !a.Wait {
		return res, nil
	}
	return waitForDeployment(ctx, d.Client, res, defaultInt(a.TimeoutSeconds, defaultDeployWait), n)
}

// waitForDeployment follows a deployment until it ends or the timeout passes. Running out of
// time is not a failure: the deployment goes on in Power BI.
func waitForDeployment(ctx context.Context, c *pbiclient.Client, res PipelineOperationResult, timeoutSeconds, items int) (PipelineOperationResult, error) {
	wctx, cancel := context.WithTimeout(ctx, time.Duration(timeoutSeconds)*time.Second)
	defer cancel()
	report := progressOf(ctx)
	start := time.Now()
	final, err := c.WaitPipelineOperation(wctx, res.Pipeline.ID, res.Operation.ID, func(o pbiclient.PipelineOperation) {
		msg := fmt.Sprintf("deployment of %d items %s", items, o.Status)
		if o.ExecutionPlan != nil {
			done := 0
			for _, s := range o.ExecutionPlan.Steps {
				if s.Status == "Succeeded" {
					done++
				}
			}
			msg += fmt.Sprintf(": %d of %d items deployed", done, len(o.ExecutionPlan.Steps))
		}
		report(time.Since(start).Seconds(), float64(timeoutSeconds), msg)
	})
	if err != nil {
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			res.Message = fmt.Sprintf("The deployment is still running after %d seconds and goes on in Power BI. Follow it with get_pipeline_operation.", timeoutSeconds)
			return res, nil
		}
		return PipelineOperationResult{}, err
	}
	res.Operation = operationOf(final)
	res.Message = "The deployment succeeded."
	return res, nil
}

// pipelineStage finds one stage of a pipeline.
func pipelineStage(ctx context.Context, c *pbiclient.Client, pipelineID string, order int) (PipelineStage, error) {
	stages, err := c.ListPipelineStages(ctx, pipelineID)
	if err != nil {
		return PipelineStage{}, err
	}
	for _, s := range stages {
		if s.Order == order {
			return stageOf(s), nil
		}
	}
	return PipelineStage{Order: order, Name: stageName(order)}, nil
}

// chooseItems finds each item of a selective deployment among the source stage's items, by
// id or exact name, and returns the request's items and their names.
func chooseItems(arts pbiclient.PipelineStageArtifacts, items []deployItem, stage string) (*pbiclient.SelectiveDeployRequest, []string, error) {
	req := &pbiclient.SelectiveDeployRequest{}
	byKind := map[string]struct {
		have []pbiclient.PipelineStageArtifact
		to   *[]pbiclient.DeployArtifact
	}{
		"dataset":   {arts.Datasets, &req.Datasets},
		"report":    {arts.Reports, &req.Reports},
		"dashboard": {arts.Dashboards, &req.Dashboards},
		"dataflow":  {arts.Dataflows, &req.Dataflows},
		"datamart":  {arts.Datamarts, &req.Datamarts},
	}
	var names []string
	seen := map[string]bool{}
	for _, it := range items {
		k, ok := byKind[it.Kind]
		if !ok {
			return nil, nil, userErrorf("kind %q is not one of dataset, report, dashboard, dataflow, datamart.", it.Kind)
		}
		arg := strings.TrimSpace(it.Item)
		var id, name string
		if guidPattern.MatchString(arg) {
			for _, a := range k.have {
				if strings.EqualFold(a.ArtifactID, arg) {
					id, name = a.ArtifactID, a.ArtifactDisplayName
				}
			}
			if id == "" {
				return nil, nil, userErrorf("%s has no %s with id %s: list_pipeline_stage_artifacts shows its items.", stage, it.Kind, arg)
			}
		} else {
			var err error
			id, name, err = pickByName(arg, it.Kind, "list_pipeline_stage_artifacts", "in "+stage, k.have,
				func(a pbiclient.PipelineStageArtifact) (string, string) { return a.ArtifactID, a.ArtifactDisplayName })
			if err != nil {
				return nil, nil, err
			}
		}
		if seen[strings.ToLower(id)] {
			continue
		}
		seen[strings.ToLower(id)] = true
		*k.to = append(*k.to, pbiclient.DeployArtifact{SourceID: id})
		names = append(names, fmt.Sprintf("%s %s", it.Kind, orNone(name, id)))
	}
	return req, names, nil
}

func artifactsOf(in []pbiclient.PipelineStageArtifact) []PipelineArtifact {
	out := make([]PipelineArtifact, 0, len(in))
	for _, a := range in {
		out = append(out, PipelineArtifact(a))
	}
	return out
}

func artifactCount(a pbiclient.PipelineStageArtifacts) int {
	return len(a.Datasets) + len(a.Reports) + len(a.Dashboards) + len(a.Dataflows) + len(a.Datamarts)
}

func orNone(names ...string) string {
	for _, n := range names {
		if strings.TrimSpace(n) != "" {
			return n
		}
	}
	return "none assigned"
}
