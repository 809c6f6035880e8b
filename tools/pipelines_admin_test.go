package tools

import (
	"slices"
	"strings"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

func TestPipelineLifecycleTools(t *testing.T) {
	st := newStack(t, stackOptions{})
	st.tenant.AddWorkspace(pbitest.Workspace{Name: "Ops Dev", IsOnDedicatedCapacity: true})

	var created PipelineResult
	st.ok(t, "create_pipeline", map[string]any{"display_name": "Ops", "description": "Operations"}, &created)
	if created.Pipeline.ID == "" || created.Pipeline.DisplayName != "Ops" || created.Pipeline.Description != "Operations" {
		t.Fatalf("create_pipeline: %+v", created)
	}
	if msg := st.fails(t, "update_pipeline", map[string]any{"pipeline": "Ops"}); !strings.Contains(msg, "Nothing to change") {
		t.Errorf("update of nothing: %s", msg)
	}
	var updated PipelineResult
	st.ok(t, "update_pipeline", map[string]any{"pipeline": "Ops", "display_name": "Operations", "description": ""}, &updated)
	if updated.Pipeline.DisplayName != "Operations" || updated.Pipeline.Description != "" {
		t.Fatalf("update_pipeline: %+v", updated)
	}
	if body := lastBody(t, st, "PATCH /v1.0/myorg/pipelines/{pipelineId}"); body != `{"displayName":"Operations","description":""}` {
		t.Errorf("update body: %s", body)
	}

	// Stages: assign by workspace name, read back, and the refusals with what to do.
	var stages PipelineStagesResult
	st.ok(t, "assign_pipeline_stage", map[string]any{"pipeline": "Operations", "stage": 0, "workspace": "Ops Dev"}, &stages)
	if stages.Stages[0].WorkspaceName != "Ops Dev" || stages.Stages[1].WorkspaceID != "" {
		t.Fatalf("assign_pipeline_stage: %+v", stages)
	}
	if msg := st.fails(t, "assign_pipeline_stage", map[string]any{"pipeline": "Operations", "stage": 0, "workspace": "Finance"}); !strings.Contains(msg, "already has the workspace Ops Dev") || !strings.Contains(msg, "unassign: true") {
		t.Errorf("a stage that has a workspace: %s", msg)
	}
	if msg := st.fails(t, "assign_pipeline_stage", map[string]any{"pipeline": "Operations", "stage": 1, "workspace": "Marketing"}); !strings.Contains(msg, "Alm_InvalidRequest_WorkspaceHasNoCapacity") {
		t.Errorf("a workspace on shared capacity: %s", msg)
	}
	if msg := st.fails(t, "assign_pipeline_stage", map[string]any{"pipeline": "Operations", "stage": 1, "workspace": "Sales Analytics [Test]"}); !strings.Contains(msg, "one pipeline only") {
		t.Errorf("a workspace of another pipeline: %s", msg)
	}
	if msg := st.fails(t, "assign_pipeline_stage", map[string]any{"pipeline": "Operations", "stage": 1}); !strings.Contains(msg, "either workspace") {
		t.Errorf("neither workspace nor unassign: %s", msg)
	}
	var after PipelineStagesResult // a fresh one: decoding keeps the fields a result leaves out
	st.ok(t, "assign_pipeline_stage", map[string]any{"pipeline": "Operations", "stage": 0, "unassign": true}, &after)
	if after.Stages[0].WorkspaceID != "" {
		t.Fatalf("after unassign: %+v", after)
	}
	if msg := st.fails(t, "assign_pipeline_stage", map[string]any{"pipeline": "Operations", "stage": 0, "unassign": true}); !strings.Contains(msg, "has no workspace") {
		t.Errorf("unassign an empty stage: %s", msg)
	}

	// Admins: add, read back with get_pipeline, remove with confirmation.
	var users PipelineUsersResult
	st.ok(t, "update_pipeline_user", map[string]any{"pipeline": "Operations", "identifier": "megan.bowen@contoso.com", "principal_type": "User"}, &users)
	if len(users.Users) != 2 || users.Users[1].Identifier != "megan.bowen@contoso.com" || users.Users[1].AccessRight != "Admin" {
		t.Fatalf("update_pipeline_user: %+v", users)
	}
	if body := lastBody(t, st, "POST /v1.0/myorg/pipelines/{pipelineId}/users"); body != `{"identifier":"megan.bowen@contoso.com","principalType":"User","accessRight":"Admin"}` {
		t.Errorf("user body: %s", body)
	}
	if msg := st.fails(t, "update_pipeline_user", map[string]any{"pipeline": "Operations", "identifier": "megan.bowen@contoso.com"}); !strings.Contains(msg, "principal_type") {
		t.Errorf("add without principal type: %s", msg)
	}
	if msg := st.fails(t, "update_pipeline_user", map[string]any{"pipeline": "Operations", "identifier": "megan.bowen@contoso.com", "principal_type": "Group"}); !strings.Contains(msg, "object id") {
		t.Errorf("a group named by email: %s", msg)
	}
	var got PipelineResult
	st.ok(t, "get_pipeline", map[string]any{"pipeline": "Operations"}, &got)
	if len(got.Users) != 2 || got.Users[0].PrincipalType != "App" {
		t.Errorf("get_pipeline users: %+v", got.Users)
	}
	const routeDeleteUser = "DELETE /v1.0/myorg/pipelines/{pipelineId}/users/{identifier}"
	remove := map[string]any{"pipeline": "Operations", "identifier": "Megan.Bowen@contoso.com", "remove": true}
	if msg := st.fails(t, "update_pipeline_user", remove); !strings.Contains(msg, "Not done") || st.tenant.Count(routeDeleteUser) != 0 {
		t.Errorf("remove without confirm: %s", msg)
	}
	remove["confirm"] = true
	users = PipelineUsersResult{}
	st.ok(t, "update_pipeline_user", remove, &users)
	if len(users.Users) != 1 || st.tenant.Count(routeDeleteUser) != 1 {
		t.Fatalf("after removing: %+v", users)
	}
	last := map[string]any{"pipeline": "Operations", "identifier": pbitest.DemoServicePrincipalObjectID, "remove": true}
	if msg := st.fails(t, "update_pipeline_user", last); !strings.Contains(msg, "last one") {
		t.Errorf("removing the last admin: %s", msg)
	}

	// Deletion needs confirmation; the workspaces stay.
	const routeDelete = "DELETE /v1.0/myorg/pipelines/{pipelineId}"
	del := map[string]any{"pipeline": "Operations"}
	if msg := st.fails(t, "delete_pipeline", del); !strings.Contains(msg, "Not done") || !strings.Contains(msg, created.Pipeline.ID) || st.tenant.Count(routeDelete) != 0 {
		t.Errorf("delete without confirm: %s", msg)
	}
	del["confirm"] = true
	var deleted DeletePipelineResult
	st.ok(t, "delete_pipeline", del, &deleted)
	if !deleted.Deleted || deleted.Pipeline.ID != created.Pipeline.ID || deleted.Pipeline.Name != "Operations" {
		t.Fatalf("delete_pipeline: %+v", deleted)
	}
	var list ListPipelinesResult
	st.ok(t, "list_pipelines", nil, &list)
	if list.Count != 2 {
		t.Errorf("pipelines after delete: %+v", list)
	}
}

func TestDeployPipelineStageChosenItems(t *testing.T) {
	st := newStack(t, stackOptions{})
	const routeDeploy = "POST /v1.0/myorg/pipelines/{pipelineId}/deploy"
	args := map[string]any{"pipeline": "Sales Deployment", "source_stage": 0,
		"items": []any{map[string]any{"kind": "report", "item": "Live Orders Monitor"}, map[string]any{"kind": "dataset", "item": "No Such Model"}}}
	if msg := st.fails(t, "deploy_pipeline_stage", args); !strings.Contains(msg, "No Such Model") || !strings.Contains(msg, "list_pipeline_stage_artifacts") {
		t.Errorf("an item not in the stage: %s", msg)
	}
	if st.tenant.Count(routeDeploy) != 0 {
		t.Fatal("a deployment was sent with an unknown item")
	}

	// Creating only: no confirmation; just these reach Test.
	args["items"] = []any{map[string]any{"kind": "report", "item": "Live Orders Monitor"}, map[string]any{"kind": "dataset", "item": pbitest.DemoLiveOrdersDatasetID}}
	var res PipelineOperationResult
	st.ok(t, "deploy_pipeline_stage", args, &res)
	if res.Operation.Status != "Succeeded" || len(res.Operation.Steps) != 2 || res.Operation.Steps[0].Type != "DatasetDeployment" {
		t.Fatalf("selective deployment: %+v", res)
	}
	want := `{"sourceStageOrder":0,"options":{"allowCreateArtifact":true},"datasets":[{"sourceId":"` + pbitest.DemoLiveOrdersDatasetID +
		`"}],"reports":[{"sourceId":"` + pbitest.DemoLiveOrdersReportID + `"}]}`
	if body := lastBody(t, st, routeDeploy); body != want {
		t.Errorf("body sent: %s", body)
	}
	if st.tenant.Count(routeDeployAll) != 0 {
		t.Error("deployAll was called for a selective deployment")
	}
	var arts PipelineStageArtifactsResult
	st.ok(t, "list_pipeline_stage_artifacts", map[string]any{"pipeline": "Sales Deployment", "stage": 1}, &arts)
	var names []string
	for _, a := range append(arts.Datasets, arts.Reports...) {
		names = append(names, a.ArtifactDisplayName)
	}
	if !slices.Equal(names, []string{"Sales", "Live Orders", "Sales Overview", "Live Orders Monitor"}) || len(arts.Dashboards) != 0 {
		t.Fatalf("Test stage after the deployment: %q", names)
	}

	// Overwriting asks first, naming the chosen items.
	over := map[string]any{"pipeline": "Sales Deployment", "source_stage": 0, "allow_overwrite_artifact": true,
		"items": []any{map[string]any{"kind": "report", "item": "sales overview"}}}
	msg := st.fails(t, "deploy_pipeline_stage", over)
	if !strings.Contains(msg, "Deploy 1 items (report Sales Overview)") || !strings.Contains(msg, "Not done") {
		t.Errorf("unconfirmed selective overwrite: %s", msg)
	}
}
