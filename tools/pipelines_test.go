package tools

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

const routeDeployAll = "POST /v1.0/myorg/pipelines/{pipelineId}/deployAll"

func TestPipelineReadTools(t *testing.T) {
	st := newStack(t, stackOptions{})
	var list ListPipelinesResult
	st.ok(t, "list_pipelines", map[string]any{"top": 1}, &list)
	if list.Count != 1 || !list.HasMore || list.NextSkip != 1 || list.Pipelines[0].DisplayName != "Sales Deployment" {
		t.Fatalf("list_pipelines: %+v", list)
	}

	var p PipelineResult
	st.ok(t, "get_pipeline", map[string]any{"pipeline": "Sales Deployment"}, &p)
	if p.Pipeline.ID != pbitest.DemoSalesPipelineID || len(p.Pipeline.Stages) != 3 ||
		p.Pipeline.Stages[2].Name != "Production" || p.Pipeline.Stages[2].WorkspaceName != "Sales Analytics [Production]" {
		t.Fatalf("get_pipeline: %+v", p)
	}

	var stages PipelineStagesResult
	st.ok(t, "list_pipeline_stages", map[string]any{"pipeline": pbitest.DemoFinancePipelineID}, &stages)
	if stages.Pipeline.ResolvedBy != "id" || len(stages.Stages) != 3 || stages.Stages[0].WorkspaceName != "Finance" || stages.Stages[1].WorkspaceID != "" {
		t.Fatalf("list_pipeline_stages: %+v", stages)
	}

	var arts PipelineStageArtifactsResult
	st.ok(t, "list_pipeline_stage_artifacts", map[string]any{"pipeline": "Sales Deployment", "stage": 1}, &arts)
	if arts.Stage.WorkspaceName != "Sales Analytics [Test]" || arts.Count != 2 || arts.Datasets[0].SourceArtifactID != pbitest.DemoSalesDatasetID ||
		arts.Reports[0].LastDeploymentTime == "" || arts.Dashboards == nil {
		t.Fatalf("list_pipeline_stage_artifacts: %+v", arts)
	}
	if msg := st.fails(t, "list_pipeline_stage_artifacts", map[string]any{"pipeline": "Sales Deployment", "stage": 3}); !strings.Contains(msg, "stage") {
		t.Fatalf("stage out of range: %s", msg)
	}
	if msg := st.fails(t, "get_pipeline", map[string]any{"pipeline": "No Such Pipeline"}); !strings.Contains(msg, "list_pipelines") {
		t.Fatalf("unknown pipeline: %s", msg)
	}

	var ops PipelineOperationsResult
	st.ok(t, "list_pipeline_operations", map[string]any{"pipeline": "Sales Deployment"}, &ops)
	if ops.Count != 1 || ops.Operations[0].ID != pbitest.DemoSalesDeploymentOpID || ops.Operations[0].Status != "Succeeded" {
		t.Fatalf("list_pipeline_operations: %+v", ops)
	}
	var op PipelineOperationResult
	st.ok(t, "get_pipeline_operation", map[string]any{"pipeline": "Sales Deployment", "operation": pbitest.DemoSalesDeploymentOpID}, &op)
	if len(op.Operation.Steps) != 2 || op.Operation.Steps[1].SourceDisplayName != "Sales Overview" || op.Operation.Steps[1].PreDeploymentDiffState != "New" || op.Operation.Note != "First release of the sales model" ||
		op.Operation.PerformedBy.UserPrincipalName != "megan.bowen@contoso.com" {
		t.Fatalf("get_pipeline_operation: %+v", op)
	}
}

func TestDeployPipelineStageNeedsConfirmationToOverwrite(t *testing.T) {
	st := newStack(t, stackOptions{})
	args := map[string]any{"pipeline": "Sales Deployment", "source_stage": 0, "allow_overwrite_artifact": true, "note": "Release 2"}
	msg := st.fails(t, "deploy_pipeline_stage", args)
	for _, want := range []string{"Not done", "Sales Deployment", pbitest.DemoSalesPipelineID, "9 items", "Sales Analytics [Test]", "overwriting", "confirm: true", "Nothing was changed"} {
		if !strings.Contains(msg, want) {
			t.Errorf("unconfirmed deployment: %q lacks %q", msg, want)
		}
	}
	if n := st.tenant.Count(routeDeployAll); n != 0 {
		t.Fatalf("%d deployments without confirmation", n)
	}

	args["confirm"] = true
	var res PipelineOperationResult
	st.ok(t, "deploy_pipeline_stage", args, &res)
	if res.Operation.Status != "Succeeded" || len(res.Operation.Steps) != 9 || res.Operation.TargetStageOrder != 1 ||
		res.Operation.PreDeploymentDiffInformation.DifferentArtifactsCount != 2 || res.Operation.Note != "Release 2" {
		t.Fatalf("deployment: %+v", res)
	}
	if body := lastBody(t, st, routeDeployAll); body != `{"sourceStageOrder":0,"options":{"allowCreateArtifact":true,"allowOverwriteArtifact":true},"note":"Release 2"}` {
		t.Errorf("body sent: %s", body)
	}
	// The last notification may still be on its way; the ones during the deployment are not.
	var sawRunning bool
	for _, n := range st.progressFor("p-deploy_pipeline_stage") {
		if strings.Contains(fmt.Sprint(n.Params.AdditionalFields["message"]), "deployment of 9 items Executing: 0 of 9 items deployed") {
			sawRunning = true
		}
	}
	if !sawRunning {
		t.Error("progress never reported the running deployment and its items")
	}

	// The items are now in the Test workspace.
	var arts PipelineStageArtifactsResult
	st.ok(t, "list_pipeline_stage_artifacts", map[string]any{"pipeline": "Sales Deployment", "stage": 1}, &arts)
	var names []string
	for _, a := range arts.Datasets {
		names = append(names, a.ArtifactDisplayName)
	}
	if !slices.Equal(names, []string{"Sales", "Live Orders", "Inventory", "Inventory Live", "Sensor Readings", "Regional Sales"}) || len(arts.Reports) != 2 || len(arts.Dashboards) != 1 {
		t.Fatalf("Test stage after the deployment: %+v", arts)
	}
	var ops PipelineOperationsResult
	st.ok(t, "list_pipeline_operations", map[string]any{"pipeline": "Sales Deployment"}, &ops)
	if ops.Count != 2 || ops.Operations[0].ID != res.Operation.ID {
		t.Fatalf("history: %+v", ops)
	}
}

func TestDeployPipelineStageCreatesWithoutConfirmation(t *testing.T) {
	st := newStack(t, stackOptions{})
	var res PipelineOperationResult
	st.ok(t, "deploy_pipeline_stage", map[string]any{"pipeline": "Finance Deployment", "source_stage": 0,
		"new_workspace_name": "Finance [Test]", "wait": false}, &res)
	if res.Operation.Status != "NotStarted" || !strings.Contains(res.Message, "get_pipeline_operation") {
		t.Fatalf("started: %+v", res)
	}
	var stages PipelineStagesResult
	st.ok(t, "list_pipeline_stages", map[string]any{"pipeline": "Finance Deployment"}, &stages)
	if stages.Stages[1].WorkspaceID != "" {
		t.Fatalf("the workspace exists before the deployment ran: %+v", stages)
	}
	deadline := 0
	for {
		var op PipelineOperationResult
		st.ok(t, "get_pipeline_operation", map[string]any{"pipeline": "Finance Deployment", "operation": res.Operation.ID}, &op)
		if op.Operation.Status == "Succeeded" {
			break
		}
		time.Sleep(50 * time.Millisecond)
		if deadline++; deadline > 200 {
			t.Fatalf("deployment never ended: %+v", op)
		}
	}
	st.ok(t, "list_pipeline_stages", map[string]any{"pipeline": "Finance Deployment"}, &stages)
	if stages.Stages[1].WorkspaceName != "Finance [Test]" {
		t.Fatalf("Test stage: %+v", stages)
	}
	var ws ListWorkspacesResult
	st.ok(t, "list_workspaces", nil, &ws)
	if ws.Workspaces[len(ws.Workspaces)-1].Name != "Finance [Test]" {
		t.Errorf("the new workspace is not listed: %+v", ws.Workspaces)
	}
}

func TestDeployPipelineStageErrors(t *testing.T) {
	st := newStack(t, stackOptions{})
	// Backward from Development has no target: refused before Power BI is asked.
	if msg := st.fails(t, "deploy_pipeline_stage", map[string]any{"pipeline": "Sales Deployment", "source_stage": 0, "is_backward_deployment": true}); !strings.Contains(msg, "no stage to deploy to") {
		t.Errorf("backward from Development: %s", msg)
	}
	// A target stage without a workspace, and no new one named.
	if msg := st.fails(t, "deploy_pipeline_stage", map[string]any{"pipeline": "Finance Deployment", "source_stage": 0}); !strings.Contains(msg, "HTTP 400") || !strings.Contains(msg, "newWorkspace") {
		t.Errorf("no target workspace: %s", msg)
	}
	// Backward into a stage with content.
	if msg := st.fails(t, "deploy_pipeline_stage", map[string]any{"pipeline": "Sales Deployment", "source_stage": 1, "is_backward_deployment": true}); !strings.Contains(msg, "empty stage") {
		t.Errorf("backward into content: %s", msg)
	}
	// Paired items without allow_overwrite_artifact: the deployment fails and says which items.
	msg := st.fails(t, "deploy_pipeline_stage", map[string]any{"pipeline": "Sales Deployment", "source_stage": 0})
	for _, want := range []string{"Failed", "Alm_InvalidRequest_OverwriteArtifactNotAllowed", "Sales Overview"} {
		if !strings.Contains(msg, want) {
			t.Errorf("failed deployment: %q lacks %q", msg, want)
		}
	}
	var arts PipelineStageArtifactsResult
	st.ok(t, "list_pipeline_stage_artifacts", map[string]any{"pipeline": "Sales Deployment", "stage": 1}, &arts)
	if arts.Count != 2 {
		t.Errorf("a failed deployment changed the Test stage: %+v", arts)
	}
	// One deployment per pipeline at a time: the second is refused with what to do.
	var started PipelineOperationResult
	st.ok(t, "deploy_pipeline_stage", map[string]any{"pipeline": "Sales Deployment", "source_stage": 1, "wait": false}, &started)
	if msg := st.fails(t, "deploy_pipeline_stage", map[string]any{"pipeline": "Sales Deployment", "source_stage": 0}); !strings.Contains(msg, "WorkspaceMigrationOperationInProgress") ||
		!strings.Contains(msg, "list_pipeline_operations") {
		t.Errorf("concurrent deployment: %s", msg)
	}
	if msg := st.fails(t, "deploy_pipeline_stage", map[string]any{"pipeline": "Sales Deployment", "source_stage": 5}); !strings.Contains(msg, "source_stage") {
		t.Errorf("schema range: %s", msg)
	}
}
