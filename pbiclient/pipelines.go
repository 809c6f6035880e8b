package pbiclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Deployment pipelines (swagger tag Pipelines). A pipeline has three stages, Development (0),
// Test (1) and Production (2); deployAll copies a stage's items into the next (or previous)
// stage as an asynchronous operation, followed with GetPipelineOperation.

// Pipeline is a deployment pipeline. Stages is filled only when asked for ($expand=stages).
type Pipeline struct {
	ID          string          `json:"id"`
	DisplayName string          `json:"displayName"`
	Description string          `json:"description,omitempty"`
	Stages      []PipelineStage `json:"stages,omitempty"`
}

// PipelineStage is one stage and the workspace assigned to it, if any.
type PipelineStage struct {
	Order         int    `json:"order"`
	WorkspaceID   string `json:"workspaceId,omitempty"`
	WorkspaceName string `json:"workspaceName,omitempty"`
}

// PipelineStageArtifact is an item of a stage's workspace, with the items it is paired with in
// the neighbouring stages.
type PipelineStageArtifact struct {
	ArtifactID          string `json:"artifactId"`
	ArtifactDisplayName string `json:"artifactDisplayName,omitempty"`
	SourceArtifactID    string `json:"sourceArtifactId,omitempty"`
	TargetArtifactID    string `json:"targetArtifactId,omitempty"`
	LastDeploymentTime  string `json:"lastDeploymentTime,omitempty"` // as sent, ISO 8601
}

// PipelineStageArtifacts are the supported items of a stage, by type.
type PipelineStageArtifacts struct {
	Datasets   []PipelineStageArtifact `json:"datasets"`
	Reports    []PipelineStageArtifact `json:"reports"`
	Dashboards []PipelineStageArtifact `json:"dashboards"`
	Dataflows  []PipelineStageArtifact `json:"dataflows"`
	Datamarts  []PipelineStageArtifact `json:"datamarts"`
}

// DeploymentOptions are what a deployment may do; an option it needs but that is not true
// makes the deployment fail.
type DeploymentOptions struct {
	AllowCreateArtifact                    bool `json:"allowCreateArtifact,omitempty"`
	AllowOverwriteArtifact                 bool `json:"allowOverwriteArtifact,omitempty"`
	AllowOverwriteTargetArtifactLabel      bool `json:"allowOverwriteTargetArtifactLabel,omitempty"`
	AllowPurgeData                         bool `json:"allowPurgeData,omitempty"`
	AllowSkipTilesWithMissingPrerequisites bool `json:"allowSkipTilesWithMissingPrerequisites,omitempty"`
	AllowTakeOver                          bool `json:"allowTakeOver,omitempty"`
}

// PipelineNewWorkspace creates the target stage's workspace when it has none.
type PipelineNewWorkspace struct {
	Name       string `json:"name"`
	CapacityID string `json:"capacityId,omitempty"`
}

// PipelineUpdateAppSettings updates the app of the target workspace after the deployment.
type PipelineUpdateAppSettings struct {
	UpdateAppInTargetWorkspace bool `json:"updateAppInTargetWorkspace"`
}

// DeployAllRequest is the body of deployAll.
type DeployAllRequest struct {
	SourceStageOrder     int                        `json:"sourceStageOrder"`
	IsBackwardDeployment bool                       `json:"isBackwardDeployment,omitempty"`
	NewWorkspace         *PipelineNewWorkspace      `json:"newWorkspace,omitempty"`
	UpdateAppSettings    *PipelineUpdateAppSettings `json:"updateAppSettings,omitempty"`
	Options              *DeploymentOptions         `json:"options,omitempty"`
	Note                 string                     `json:"note,omitempty"`
}

// PipelineOperation is a deployment. ExecutionPlan, Note, PerformedBy and
// PreDeploymentDiffInformation come only with GetPipelineOperation.
type PipelineOperation struct {
	ID                           string                        `json:"id"`
	Type                         string                        `json:"type,omitempty"`
	Status                       string                        `json:"status"` // NotStarted, Executing, Succeeded, Failed
	LastUpdatedTime              string                        `json:"lastUpdatedTime,omitempty"`
	ExecutionStartTime           string                        `json:"executionStartTime,omitempty"`
	ExecutionEndTime             string                        `json:"executionEndTime,omitempty"`
	SourceStageOrder             int                           `json:"sourceStageOrder"`
	TargetStageOrder             int                           `json:"targetStageOrder"`
	PerformedBy                  *PipelineOperationUser        `json:"performedBy,omitempty"`
	Note                         *PipelineOperationNote        `json:"note,omitempty"`
	ExecutionPlan                *DeploymentExecutionPlan      `json:"executionPlan,omitempty"`
	PreDeploymentDiffInformation *PreDeploymentDiffInformation `json:"preDeploymentDiffInformation,omitempty"`

	// RetryAfter is the Retry-After header of the answer: while it runs, when to poll again.
	RetryAfter time.Duration `json:"-"`
}

// PipelineOperationUser is who started a deployment.
type PipelineOperationUser struct {
	UserPrincipalName string `json:"userPrincipalName,omitempty"`
	PrincipalObjectID string `json:"principalObjectID,omitempty"`
	PrincipalType     string `json:"principalType,omitempty"`
}

// PipelineOperationNote is the note given to a deployment.
type PipelineOperationNote struct {
	Content     string `json:"content"`
	IsTruncated bool   `json:"isTruncated"`
}

// DeploymentExecutionPlan lists the steps of a deployment, one per item.
type DeploymentExecutionPlan struct {
	Steps []DeploymentExecutionStep `json:"steps"`
}

// DeploymentExecutionStep is the deployment of one item.
type DeploymentExecutionStep struct {
	Index                  int                       `json:"index"`
	Type                   string                    `json:"type"` // DatasetDeployment, ReportDeployment, ...
	Status                 string                    `json:"status"`
	LastUpdatedTime        string                    `json:"lastUpdatedTime,omitempty"`
	PreDeploymentDiffState string                    `json:"preDeploymentDiffState,omitempty"` // New, Different, NoDifference
	SourceAndTarget        DeploymentSourceAndTarget `json:"sourceAndTarget"`
	Error                  *DeploymentError          `json:"error,omitempty"`
}

// DeploymentSourceAndTarget names the item deployed and the item it overwrites, if any.
type DeploymentSourceAndTarget struct {
	Source            string `json:"source"`
	SourceDisplayName string `json:"sourceDisplayName,omitempty"`
	Target            string `json:"target,omitempty"`
	TargetDisplayName string `json:"targetDisplayName,omitempty"`
	Type              string `json:"type,omitempty"`
}

// DeploymentError is why a step failed.
type DeploymentError struct {
	ErrorCode    string `json:"errorCode,omitempty"`
	ErrorDetails string `json:"errorDetails,omitempty"`
}

// PreDeploymentDiffInformation counts the deployed items by how they compared to the target.
type PreDeploymentDiffInformation struct {
	NewArtifactsCount          int `json:"newArtifactsCount"`
	DifferentArtifactsCount    int `json:"differentArtifactsCount"`
	NoDifferenceArtifactsCount int `json:"noDifferenceArtifactsCount"`
}

// MaxDeployItems is the documented limit of items one deployment may hold.
const MaxDeployItems = 300

// ListPipelines lists the deployment pipelines the caller has access to.
func (c *Client) ListPipelines(ctx context.Context) ([]Pipeline, error) {
	var out list[Pipeline]
	if _, err := c.getJSON(ctx, pathOf("pipelines"), nil, &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// GetPipeline returns one pipeline, with its stages when withStages is set.
func (c *Client) GetPipeline(ctx context.Context, pipelineID string, withStages bool) (Pipeline, error) {
	if err := needID("pipeline", pipelineID); err != nil {
		return Pipeline{}, err
	}
	var q url.Values
	if withStages {
		q = url.Values{"$expand": {"stages"}}
	}
	var out Pipeline
	_, err := c.getJSON(ctx, pathOf("pipelines", pipelineID), q, &out)
	return out, err
}

// ListPipelineStages lists a pipeline's stages and their workspaces.
func (c *Client) ListPipelineStages(ctx context.Context, pipelineID string) ([]PipelineStage, error) {
	if err := needID("pipeline", pipelineID); err != nil {
		return nil, err
	}
	var out list[PipelineStage]
	if _, err := c.getJSON(ctx, pathOf("pipelines", pipelineID, "stages"), nil, &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// ListPipelineStageArtifacts lists the supported items of a stage (0, 1 or 2).
func (c *Client) ListPipelineStageArtifacts(ctx context.Context, pipelineID string, stageOrder int) (PipelineStageArtifacts, error) {
	if err := needID("pipeline", pipelineID); err != nil {
		return PipelineStageArtifacts{}, err
	}
	var out PipelineStageArtifacts
	_, err := c.getJSON(ctx, pathOf("pipelines", pipelineID, "stages", strconv.Itoa(stageOrder), "artifacts"), nil, &out)
	return out, err
}

// DeployAll starts deploying every supported item of a stage. Like every POST it is not
// re-sent after a failure that may have reached the service.
func (c *Client) DeployAll(ctx context.Context, pipelineID string, req DeployAllRequest) (PipelineOperation, error) {
	if err := needID("pipeline", pipelineID); err != nil {
		return PipelineOperation{}, err
	}
	return c.pipelineOperationCall(ctx, http.MethodPost, pathOf("pipelines", pipelineID, "deployAll"), req)
}

// ListPipelineOperations lists a pipeline's recent deployments, newest first, without their
// execution plans.
func (c *Client) ListPipelineOperations(ctx context.Context, pipelineID string) ([]PipelineOperation, error) {
	if err := needID("pipeline", pipelineID); err != nil {
		return nil, err
	}
	var out list[PipelineOperation]
	if _, err := c.getJSON(ctx, pathOf("pipelines", pipelineID, "operations"), nil, &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// GetPipelineOperation returns one deployment with its execution plan.
func (c *Client) GetPipelineOperation(ctx context.Context, pipelineID, operationID string) (PipelineOperation, error) {
	if err := needID("pipeline", pipelineID); err != nil {
		return PipelineOperation{}, err
	}
	if err := needID("operation", operationID); err != nil {
		return PipelineOperation{}, err
	}
	return c.pipelineOperationCall(ctx, http.MethodGet, pathOf("pipelines", pipelineID, "operations", operationID), nil)
}

func (c *Client) pipelineOperationCall(ctx context.Context, method string, path apiPath, body any) (PipelineOperation, error) {
	var op PipelineOperation
	h, err := c.sendJSON(ctx, method, path, nil, body, &op)
	if err != nil {
		return PipelineOperation{}, err
	}
	op.RetryAfter = parseRetryAfter(h.Get("Retry-After"), time.Now())
	return op, nil
}

// WaitPipelineOperation polls a deployment until it has ended, calling onPoll (if not nil)
// after each poll, waiting the Retry-After the service sent (kept within [1s, 30s]). A Failed
// deployment returns the operation and a *JobFailedError naming the first failed step.
// ctx bounds the whole wait.
func (c *Client) WaitPipelineOperation(ctx context.Context, pipelineID, operationID string, onPoll func(PipelineOperation)) (PipelineOperation, error) {
	if operationID == "" {
		return PipelineOperation{}, errors.New("pbiclient: WaitPipelineOperation: operation id is required")
	}
	for n := 0; ; n++ {
		op, err := c.GetPipelineOperation(ctx, pipelineID, operationID)
		if err != nil {
			return op, err
		}
		if onPoll != nil {
			onPoll(op)
		}
		switch op.Status {
		case "NotStarted", "Executing", "":
		case "Succeeded":
			return op, nil
		default:
			return op, &JobFailedError{Operation: "deployment", ID: operationID, Status: op.Status, Detail: failedSteps(op)}
		}
		if err := sleep(ctx, pollDelay(n, op.RetryAfter)); err != nil {
			return op, fmt.Errorf("pbiclient: waiting for deployment %s: %w", operationID, err)
		}
	}
}

// failedSteps summarises the failed steps of a deployment for its error.
func failedSteps(op PipelineOperation) string {
	if op.ExecutionPlan == nil {
		return ""
	}
	var parts []string
	for _, s := range op.ExecutionPlan.Steps {
		if s.Error != nil && s.Error.ErrorCode != "" {
			parts = append(parts, fmt.Sprintf("%s %q: %s", s.SourceAndTarget.Type, s.SourceAndTarget.SourceDisplayName, s.Error.ErrorCode))
		}
	}
	return bound(strings.Join(parts, "; "), maxMessageLen)
}

// CreatePipelineRequest is the body of CreatePipeline; Power BI allows names of up to 256
// characters and descriptions of up to 1024.
type CreatePipelineRequest struct {
	DisplayName string `json:"displayName"`
	Description string `json:"description,omitempty"`
}

// CreatePipeline creates a deployment pipeline with three empty stages; the caller becomes
// its admin.
func (c *Client) CreatePipeline(ctx context.Context, req CreatePipelineRequest) (Pipeline, error) {
	if strings.TrimSpace(req.DisplayName) == "" {
		return Pipeline{}, errors.New("pbiclient: CreatePipeline: displayName is required")
	}
	var out Pipeline
	_, err := c.sendJSON(ctx, http.MethodPost, pathOf("pipelines"), nil, req, &out)
	return out, err
}

// UpdatePipelineRequest changes a pipeline's name or description; a nil field is left as it
// is, and an empty Description clears it.
type UpdatePipelineRequest struct {
	DisplayName *string `json:"displayName,omitempty"`
	Description *string `json:"description,omitempty"`
}

// UpdatePipeline renames a pipeline or changes its description and returns it as it is now.
func (c *Client) UpdatePipeline(ctx context.Context, pipelineID string, req UpdatePipelineRequest) (Pipeline, error) {
	if err := needID("pipeline", pipelineID); err != nil {
		return Pipeline{}, err
	}
	if req.DisplayName == nil && req.Description == nil {
		return Pipeline{}, errors.New("pbiclient: UpdatePipeline: nothing to update")
	}
	var out Pipeline
	_, err := c.sendJSON(ctx, http.MethodPatch, pathOf("pipelines", pipelineID), nil, req, &out)
	return out, err
}

// DeletePipeline deletes a pipeline; its workspaces and their content stay. Power BI refuses
// while a deployment runs.
func (c *Client) DeletePipeline(ctx context.Context, pipelineID string) error {
	if err := needID("pipeline", pipelineID); err != nil {
		return err
	}
	_, err := c.sendJSON(ctx, http.MethodDelete, pathOf("pipelines", pipelineID), nil, nil, nil)
	return err
}

// AssignPipelineStageWorkspace assigns a workspace to a stage that has none. A workspace
// belongs to one pipeline at most, and the caller must be its admin.
func (c *Client) AssignPipelineStageWorkspace(ctx context.Context, pipelineID string, stageOrder int, workspaceID string) error {
	if err := needID("pipeline", pipelineID); err != nil {
		return err
	}
	if err := needID("workspace", workspaceID); err != nil {
		return err
	}
	body := struct {
		WorkspaceID string `json:"workspaceId"`
	}{workspaceID}
	_, err := c.sendJSON(ctx, http.MethodPost, pathOf("pipelines", pipelineID, "stages", strconv.Itoa(stageOrder), "assignWorkspace"), nil, body, nil)
	return err
}

// UnassignPipelineStageWorkspace takes a stage's workspace out of the pipeline; the workspace
// and its content stay.
func (c *Client) UnassignPipelineStageWorkspace(ctx context.Context, pipelineID string, stageOrder int) error {
	if err := needID("pipeline", pipelineID); err != nil {
		return err
	}
	_, err := c.sendJSON(ctx, http.MethodPost, pathOf("pipelines", pipelineID, "stages", strconv.Itoa(stageOrder), "unassignWorkspace"), nil, nil, nil)
	return err
}

// PipelineUser is a principal with access to a pipeline. Admin is the only access right.
type PipelineUser struct {
	// Identifier is the UPN of a user, or the object id of a group or service principal.
	Identifier    string `json:"identifier"`
	PrincipalType string `json:"principalType"` // "User", "Group" or "App"
	AccessRight   string `json:"accessRight,omitempty"`
}

// ListPipelineUsers lists who has access to a pipeline.
func (c *Client) ListPipelineUsers(ctx context.Context, pipelineID string) ([]PipelineUser, error) {
	if err := needID("pipeline", pipelineID); err != nil {
		return nil, err
	}
	var out list[PipelineUser]
	if _, err := c.getJSON(ctx, pathOf("pipelines", pipelineID, "users"), nil, &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// UpdatePipelineUser gives a principal access to a pipeline, or changes it; an empty
// AccessRight is sent as Admin, the only one there is.
func (c *Client) UpdatePipelineUser(ctx context.Context, pipelineID string, u PipelineUser) error {
	if err := needID("pipeline", pipelineID); err != nil {
		return err
	}
	if u.Identifier == "" || u.PrincipalType == "" {
		return errors.New("pbiclient: UpdatePipelineUser: Identifier and PrincipalType are required")
	}
	if u.AccessRight == "" {
		u.AccessRight = "Admin"
	}
	_, err := c.sendJSON(ctx, http.MethodPost, pathOf("pipelines", pipelineID, "users"), nil, u, nil)
	return err
}

// DeletePipelineUser takes a principal's access to a pipeline away. identifier is a user's
// UPN, or the object id of a group or service principal.
func (c *Client) DeletePipelineUser(ctx context.Context, pipelineID, identifier string) error {
	if err := needID("pipeline", pipelineID); err != nil {
		return err
	}
	if err := needID("user", identifier); err != nil {
		return err
	}
	_, err := c.sendJSON(ctx, http.MethodDelete, pathOf("pipelines", pipelineID, "users", identifier), nil, nil, nil)
	return err
}

// DeployArtifact is one item a selective deployment carries, by its id in the source stage;
// Options, when set, replace the deployment's options for this item.
type DeployArtifact struct {
	SourceID string             `json:"sourceId"`
	Options  *DeploymentOptions `json:"options,omitempty"`
}

// SelectiveDeployRequest is the body of a selective deployment: DeployAllRequest's fields and
// the items to deploy, by type.
type SelectiveDeployRequest struct {
	DeployAllRequest
	Datasets   []DeployArtifact `json:"datasets,omitempty"`
	Reports    []DeployArtifact `json:"reports,omitempty"`
	Dashboards []DeployArtifact `json:"dashboards,omitempty"`
	Dataflows  []DeployArtifact `json:"dataflows,omitempty"`
	Datamarts  []DeployArtifact `json:"datamarts,omitempty"`
}

// SelectiveDeploy starts deploying chosen items of a stage, the same operation DeployAll
// starts; follow it with WaitPipelineOperation. Not re-sent after a failure that may have
// reached the service.
func (c *Client) SelectiveDeploy(ctx context.Context, pipelineID string, req SelectiveDeployRequest) (PipelineOperation, error) {
	if err := needID("pipeline", pipelineID); err != nil {
		return PipelineOperation{}, err
	}
	n := len(req.Datasets) + len(req.Reports) + len(req.Dashboards) + len(req.Dataflows) + len(req.Datamarts)
	if n == 0 {
		return PipelineOperation{}, errors.New("pbiclient: SelectiveDeploy: no items; DeployAll deploys everything")
	}
	if n > MaxDeployItems {
		return PipelineOperation{}, fmt.Errorf("pbiclient: SelectiveDeploy: %d items; Power BI deploys at most %d at once", n, MaxDeployItems)
	}
	return c.pipelineOperationCall(ctx, http.MethodPost, pathOf("pipelines", pipelineID, "deploy"), req)
}
