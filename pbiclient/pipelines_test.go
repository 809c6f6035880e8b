package pbiclient_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

func TestPipelineReads(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	srv.SeedDemo()
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()

	ps, err := c.ListPipelines(ctx)
	if err != nil || len(ps) != 2 || ps[0].ID != pbitest.DemoSalesPipelineID || ps[0].DisplayName != "Sales Deployment" {
		t.Fatalf("ListPipelines = %+v, %v", ps, err)
	}
	p, err := c.GetPipeline(ctx, pbitest.DemoSalesPipelineID, true)
	if err != nil || len(p.Stages) != 3 || p.Stages[1].WorkspaceID != pbitest.DemoSalesTestWorkspaceID {
		t.Fatalf("GetPipeline = %+v, %v", p, err)
	}
	stages, err := c.ListPipelineStages(ctx, pbitest.DemoFinancePipelineID)
	if err != nil || len(stages) != 3 || stages[0].WorkspaceName != "Finance" || stages[2].WorkspaceID != "" {
		t.Fatalf("ListPipelineStages = %+v, %v", stages, err)
	}
	arts, err := c.ListPipelineStageArtifacts(ctx, pbitest.DemoSalesPipelineID, 1)
	if err != nil || len(arts.Datasets) != 1 || arts.Datasets[0].SourceArtifactID != pbitest.DemoSalesDatasetID || arts.Datasets[0].LastDeploymentTime == "" {
		t.Fatalf("ListPipelineStageArtifacts = %+v, %v", arts, err)
	}
	ops, err := c.ListPipelineOperations(ctx, pbitest.DemoSalesPipelineID)
	if err != nil || len(ops) != 1 || ops[0].ID != pbitest.DemoSalesDeploymentOpID || ops[0].Status != "Succeeded" {
		t.Fatalf("ListPipelineOperations = %+v, %v", ops, err)
	}

	reqs := apiRequests(srv)
	want := []string{
		"GET /v1.0/myorg/pipelines ",
		"GET /v1.0/myorg/pipelines/" + pbitest.DemoSalesPipelineID + " $expand=stages",
		"GET /v1.0/myorg/pipelines/" + pbitest.DemoFinancePipelineID + "/stages ",
		"GET /v1.0/myorg/pipelines/" + pbitest.DemoSalesPipelineID + "/stages/1/artifacts ",
		"GET /v1.0/myorg/pipelines/" + pbitest.DemoSalesPipelineID + "/operations ",
	}
	if len(reqs) != len(want) {
		t.Fatalf("%d requests, want %d", len(reqs), len(want))
	}
	for i, r := range reqs {
		if got := r.Method + " " + r.Path + " " + r.RawQuery; got != want[i] {
			t.Errorf("request %d: %q, want %q", i, got, want[i])
		}
	}
	if _, err := c.GetPipeline(ctx, "", false); err == nil {
		t.Error("an empty pipeline id was accepted")
	}
}

func TestDeployAllAndWait(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	srv.SeedDemo()
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()

	op, err := c.DeployAll(ctx, pbitest.DemoSalesPipelineID, pbiclient.DeployAllRequest{
		SourceStageOrder: 0, Note: "Release 2",
		Options: &pbiclient.DeploymentOptions{AllowCreateArtifact: true, AllowOverwriteArtifact: true},
	})
	if err != nil || op.Status != "NotStarted" || op.TargetStageOrder != 1 || op.RetryAfter <= 0 {
		t.Fatalf("DeployAll = %+v, %v", op, err)
	}
	reqs := apiRequests(srv)
	post := reqs[len(reqs)-1]
	if post.Method != "POST" || post.Path != "/v1.0/myorg/pipelines/"+pbitest.DemoSalesPipelineID+"/deployAll" {
		t.Errorf("request %s %s", post.Method, post.Path)
	}
	var body map[string]any
	if err := json.Unmarshal(post.Body, &body); err != nil {
		t.Fatal(err)
	}
	// sourceStageOrder 0 must be sent: it is required and zero is Development.
	if v, ok := body["sourceStageOrder"]; !ok || v != float64(0) || body["note"] != "Release 2" || body["isBackwardDeployment"] != nil ||
		body["options"].(map[string]any)["allowOverwriteArtifact"] != true || body["options"].(map[string]any)["allowPurgeData"] != nil {
		t.Errorf("body %s", post.Body)
	}

	var polls []string
	done, err := c.WaitPipelineOperation(ctx, pbitest.DemoSalesPipelineID, op.ID, func(o pbiclient.PipelineOperation) { polls = append(polls, o.Status) })
	if err != nil || done.Status != "Succeeded" || done.ExecutionPlan == nil || len(done.ExecutionPlan.Steps) != 9 ||
		done.PreDeploymentDiffInformation.NewArtifactsCount != 7 || done.Note.Content != "Release 2" {
		t.Fatalf("WaitPipelineOperation = %+v, %v", done, err)
	}
	if len(polls) < 2 {
		t.Errorf("polls %q", polls)
	}

	// Without allowOverwriteArtifact the next deployment fails; the error names the steps.
	op, err = c.DeployAll(ctx, pbitest.DemoSalesPipelineID, pbiclient.DeployAllRequest{SourceStageOrder: 0})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.WaitPipelineOperation(ctx, pbitest.DemoSalesPipelineID, op.ID, nil)
	var jf *pbiclient.JobFailedError
	if !errors.As(err, &jf) || jf.Status != "Failed" || jf.Operation != "deployment" || jf.Detail == "" {
		t.Fatalf("failed deployment: %v", err)
	}

	_, err = c.DeployAll(ctx, pbitest.DemoSalesPipelineID, pbiclient.DeployAllRequest{SourceStageOrder: 0, IsBackwardDeployment: true})
	if ae := asAPIError(t, err); ae.StatusCode != 400 {
		t.Errorf("backward from Development: %v", err)
	}
}

func TestPipelineLifecycle(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	srv.SeedDemo()
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()
	dev := srv.AddWorkspace(pbitest.Workspace{Name: "Ops Dev", IsOnDedicatedCapacity: true})

	p, err := c.CreatePipeline(ctx, pbiclient.CreatePipelineRequest{DisplayName: "Ops"})
	if err != nil || p.ID == "" || p.DisplayName != "Ops" {
		t.Fatalf("CreatePipeline = %+v, %v", p, err)
	}
	empty := ""
	name := "Operations"
	if p, err = c.UpdatePipeline(ctx, p.ID, pbiclient.UpdatePipelineRequest{DisplayName: &name, Description: &empty}); err != nil || p.DisplayName != name {
		t.Fatalf("UpdatePipeline = %+v, %v", p, err)
	}
	if err := c.AssignPipelineStageWorkspace(ctx, p.ID, 0, dev.ID); err != nil {
		t.Fatal(err)
	}
	// A workspace belongs to one pipeline: the service's error comes back typed.
	err = c.AssignPipelineStageWorkspace(ctx, p.ID, 1, pbitest.DemoSalesTestWorkspaceID)
	if ae := asAPIError(t, err); ae.StatusCode != 400 || ae.Code != "Alm_InvalidRequest_WorkspaceAlreadyAssignedToPipeline" {
		t.Errorf("assigning a workspace of another pipeline: %v", err)
	}
	if err := c.UnassignPipelineStageWorkspace(ctx, p.ID, 0); err != nil {
		t.Fatal(err)
	}
	if err := c.UpdatePipelineUser(ctx, p.ID, pbiclient.PipelineUser{Identifier: "megan.bowen@contoso.com", PrincipalType: "User"}); err != nil {
		t.Fatal(err)
	}
	users, err := c.ListPipelineUsers(ctx, p.ID)
	if err != nil || len(users) != 2 || users[1].Identifier != "megan.bowen@contoso.com" || users[1].AccessRight != "Admin" {
		t.Fatalf("ListPipelineUsers = %+v, %v", users, err)
	}
	if err := c.DeletePipelineUser(ctx, p.ID, "megan.bowen@contoso.com"); err != nil {
		t.Fatal(err)
	}
	if err := c.DeletePipeline(ctx, p.ID); err != nil {
		t.Fatal(err)
	}

	reqs := apiRequests(srv)
	base := "/v1.0/myorg/pipelines/" + p.ID
	want := []struct{ method, path, body string }{
		{"POST", "/v1.0/myorg/pipelines", `{"displayName":"Ops"}`},
		{"PATCH", base, `{"displayName":"Operations","description":""}`},
		{"POST", base + "/stages/0/assignWorkspace", `{"workspaceId":"` + dev.ID + `"}`},
		{"POST", base + "/stages/1/assignWorkspace", `{"workspaceId":"` + pbitest.DemoSalesTestWorkspaceID + `"}`},
		{"POST", base + "/stages/0/unassignWorkspace", ``},
		{"POST", base + "/users", `{"identifier":"megan.bowen@contoso.com","principalType":"User","accessRight":"Admin"}`},
		{"GET", base + "/users", ``},
		{"DELETE", base + "/users/megan.bowen@contoso.com", ``},
		{"DELETE", base, ``},
	}
	if len(reqs) != len(want) {
		t.Fatalf("%d requests, want %d", len(reqs), len(want))
	}
	for i, r := range reqs {
		if r.Method != want[i].method || r.Path != want[i].path || string(r.Body) != want[i].body {
			t.Errorf("request %d: %s %s %s, want %+v", i, r.Method, r.Path, r.Body, want[i])
		}
	}
	if _, err := c.UpdatePipeline(ctx, p.ID, pbiclient.UpdatePipelineRequest{}); err == nil {
		t.Error("an update of nothing was sent")
	}
	if _, err := c.CreatePipeline(ctx, pbiclient.CreatePipelineRequest{}); err == nil {
		t.Error("a pipeline without a name was sent")
	}
}

func TestSelectiveDeployAndWait(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	srv.SeedDemo()
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()

	if _, err := c.SelectiveDeploy(ctx, pbitest.DemoSalesPipelineID, pbiclient.SelectiveDeployRequest{}); err == nil {
		t.Fatal("a selective deployment without items was sent")
	}
	op, err := c.SelectiveDeploy(ctx, pbitest.DemoSalesPipelineID, pbiclient.SelectiveDeployRequest{
		DeployAllRequest: pbiclient.DeployAllRequest{SourceStageOrder: 0, Note: "Overview only"},
		Reports: []pbiclient.DeployArtifact{{SourceID: pbitest.DemoSalesReportID,
			Options: &pbiclient.DeploymentOptions{AllowOverwriteArtifact: true}}},
	})
	if err != nil || op.Status != "NotStarted" || op.TargetStageOrder != 1 {
		t.Fatalf("SelectiveDeploy = %+v, %v", op, err)
	}
	reqs := apiRequests(srv)
	post := reqs[len(reqs)-1]
	want := `{"sourceStageOrder":0,"note":"Overview only","reports":[{"sourceId":"` + pbitest.DemoSalesReportID + `","options":{"allowOverwriteArtifact":true}}]}`
	if post.Method != "POST" || post.Path != "/v1.0/myorg/pipelines/"+pbitest.DemoSalesPipelineID+"/deploy" || string(post.Body) != want {
		t.Errorf("request %s %s %s", post.Method, post.Path, post.Body)
	}
	done, err := c.WaitPipelineOperation(ctx, pbitest.DemoSalesPipelineID, op.ID, nil)
	if err != nil || done.Status != "Succeeded" || len(done.ExecutionPlan.Steps) != 1 ||
		done.ExecutionPlan.Steps[0].SourceAndTarget.Target != pbitest.DemoSalesTestReportID {
		t.Fatalf("WaitPipelineOperation = %+v, %v", done, err)
	}
}
