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
