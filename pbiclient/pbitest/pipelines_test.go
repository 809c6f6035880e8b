package pbitest

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestPipelinesAndStages(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()

	r := api(t, s, "GET", "/pipelines", nil)
	wantStatus(t, r, http.StatusOK)
	if !strings.HasPrefix(string(r.body), `{"@odata.context":"`+s.URL()+`/v1.0/myorg/$metadata#pipelines","value":[`) {
		t.Errorf("list wrapper: %.120s", r.body)
	}
	list := r.json(t)["value"].([]any)
	if len(list) != 2 || list[0].(map[string]any)["displayName"] != "Sales Deployment" || list[0].(map[string]any)["stages"] != nil {
		t.Fatalf("pipelines: %s", r.body)
	}

	plain := api(t, s, "GET", "/pipelines/"+DemoSalesPipelineID, nil).json(t)
	if plain["stages"] != nil || plain["id"] != DemoSalesPipelineID {
		t.Errorf("without $expand: %v", plain)
	}
	expanded := api(t, s, "GET", "/pipelines/"+strings.ToUpper(DemoSalesPipelineID)+"?$expand=stages", nil).json(t)
	stages := expanded["stages"].([]any)
	if len(stages) != 3 || stages[1].(map[string]any)["workspaceName"] != "Sales Analytics [Test]" ||
		stages[2].(map[string]any)["workspaceId"] != DemoSalesProdWorkspaceID {
		t.Errorf("expanded stages: %v", stages)
	}
	wantStatus(t, api(t, s, "GET", "/pipelines/"+DemoSalesPipelineID+"?$expand=users", nil), http.StatusBadRequest)
	missing := api(t, s, "GET", "/pipelines/"+newGUID(), nil)
	wantStatus(t, missing, http.StatusNotFound)
	if errorCode(t, missing) != "PowerBIEntityNotFound" {
		t.Errorf("unknown pipeline: %s", missing.body)
	}

	fin := api(t, s, "GET", "/pipelines/"+DemoFinancePipelineID+"/stages", nil)
	wantStatus(t, fin, http.StatusOK)
	fs := fin.json(t)["value"].([]any)
	if len(fs) != 3 || fs[0].(map[string]any)["workspaceName"] != "Finance" || fs[1].(map[string]any)["workspaceId"] != nil {
		t.Errorf("Finance stages: %s", fin.body)
	}

	dev := api(t, s, "GET", "/pipelines/"+DemoSalesPipelineID+"/stages/0/artifacts", nil).json(t)
	sales := findArtifact(t, dev["datasets"], DemoSalesDatasetID)
	if sales["targetArtifactId"] != DemoSalesTestDatasetID || sales["sourceArtifactId"] != nil || sales["artifactDisplayName"] != "Sales" {
		t.Errorf("Development Sales: %v", sales)
	}
	if len(dev["reports"].([]any)) != 2 || len(dev["dashboards"].([]any)) != 1 || dev["dataflows"] == nil {
		t.Errorf("Development artifacts: %v", dev)
	}
	test := api(t, s, "GET", "/pipelines/"+DemoSalesPipelineID+"/stages/1/artifacts", nil).json(t)
	rep := findArtifact(t, test["reports"], DemoSalesTestReportID)
	if rep["sourceArtifactId"] != DemoSalesReportID || rep["lastDeploymentTime"] == nil {
		t.Errorf("Test report: %v", rep)
	}
	prod := api(t, s, "GET", "/pipelines/"+DemoSalesPipelineID+"/stages/2/artifacts", nil)
	if string(prod.body) != `{"datasets":[],"reports":[],"dashboards":[],"dataflows":[],"datamarts":[]}` {
		t.Errorf("empty Production: %s", prod.body)
	}
	wantStatus(t, api(t, s, "GET", "/pipelines/"+DemoSalesPipelineID+"/stages/3/artifacts", nil), http.StatusBadRequest)

	ops := api(t, s, "GET", "/pipelines/"+DemoSalesPipelineID+"/operations", nil).json(t)["value"].([]any)
	if len(ops) != 1 || ops[0].(map[string]any)["status"] != "Succeeded" || ops[0].(map[string]any)["executionPlan"] != nil {
		t.Errorf("operations: %v", ops)
	}
	op := api(t, s, "GET", "/pipelines/"+DemoSalesPipelineID+"/operations/"+DemoSalesDeploymentOpID, nil).json(t)
	if op["performedBy"].(map[string]any)["userPrincipalName"] != "megan.bowen@contoso.com" ||
		len(op["executionPlan"].(map[string]any)["steps"].([]any)) != 2 || op["note"].(map[string]any)["content"] != "First release of the sales model" {
		t.Errorf("seeded operation: %v", op)
	}
}

func findArtifact(t *testing.T, list any, id string) map[string]any {
	t.Helper()
	for _, a := range list.([]any) {
		if m := a.(map[string]any); m["artifactId"] == id {
			return m
		}
	}
	t.Fatalf("no artifact %s in %v", id, list)
	return nil
}

func deployPath(id string) string { return "/pipelines/" + id + "/deployAll" }

// waitOperation polls an operation until it ends and returns it.
func waitOperation(t *testing.T, s *Server, pipelineID, opID string) map[string]any {
	t.Helper()
	var op map[string]any
	seen := map[string]bool{}
	eventually(t, "the deployment to end", func() bool {
		op = api(t, s, "GET", "/pipelines/"+pipelineID+"/operations/"+opID, nil).json(t)
		seen[op["status"].(string)] = true
		return op["status"] == "Succeeded" || op["status"] == "Failed"
	})
	if !seen["Executing"] {
		t.Errorf("the operation was never seen Executing: %v", seen)
	}
	return op
}

func workspaceItemNames(t *testing.T, s *Server, groupID, kind string) []string {
	t.Helper()
	var names []string
	for _, v := range api(t, s, "GET", "/groups/"+groupID+"/"+kind, nil).json(t)["value"].([]any) {
		m := v.(map[string]any)
		name, _ := m["name"].(string)
		if name == "" {
			name, _ = m["displayName"].(string)
		}
		names = append(names, name)
	}
	return names
}

func TestDeployAllCopiesTheStage(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	r := api(t, s, "POST", deployPath(DemoSalesPipelineID), map[string]any{"sourceStageOrder": 0,
		"options": map[string]bool{"allowCreateArtifact": true, "allowOverwriteArtifact": true}, "note": "Release 2"})
	wantStatus(t, r, http.StatusAccepted)
	started := r.json(t)
	opID, _ := started["id"].(string)
	if started["status"] != "NotStarted" || started["targetStageOrder"] != float64(1) || started["type"] != "Deploy" {
		t.Errorf("accepted: %s", r.body)
	}
	if loc := r.header.Get("Location"); !strings.HasSuffix(loc, "/v1.0/myorg/pipelines/"+DemoSalesPipelineID+"/operations/"+opID) || r.header.Get("Retry-After") == "" {
		t.Errorf("Location %q Retry-After %q", loc, r.header.Get("Retry-After"))
	}
	// One deployment per pipeline at a time.
	busy := api(t, s, "POST", deployPath(DemoSalesPipelineID), map[string]any{"sourceStageOrder": 1})
	wantStatus(t, busy, http.StatusBadRequest)
	if errorCode(t, busy) != "WorkspaceMigrationOperationInProgress" {
		t.Errorf("concurrent deployment: %s", busy.body)
	}
	if names := workspaceItemNames(t, s, DemoSalesTestWorkspaceID, "datasets"); len(names) != 1 {
		t.Errorf("the copy was made before the deployment ran: %q", names)
	}

	op := waitOperation(t, s, DemoSalesPipelineID, opID)
	if op["status"] != "Succeeded" || op["executionEndTime"] == nil || op["note"].(map[string]any)["content"] != "Release 2" {
		t.Fatalf("deployment: %v", op)
	}
	diff := op["preDeploymentDiffInformation"].(map[string]any)
	if diff["newArtifactsCount"] != float64(7) || diff["differentArtifactsCount"] != float64(2) {
		t.Errorf("diff: %v", diff)
	}
	steps := op["executionPlan"].(map[string]any)["steps"].([]any)
	first := steps[0].(map[string]any)
	if first["type"] != "DatasetDeployment" || first["preDeploymentDiffState"] != "Different" ||
		first["sourceAndTarget"].(map[string]any)["target"] != DemoSalesTestDatasetID {
		t.Errorf("first step: %v", first)
	}

	datasets := workspaceItemNames(t, s, DemoSalesTestWorkspaceID, "datasets")
	if !slices.Equal(datasets, []string{"Sales", "Live Orders", "Inventory", "Inventory Live", "Sensor Readings", "Regional Sales"}) {
		t.Errorf("Test datasets after deployment: %q", datasets)
	}
	reports := api(t, s, "GET", "/groups/"+DemoSalesTestWorkspaceID+"/reports", nil).json(t)["value"].([]any)
	for _, v := range reports {
		m := v.(map[string]any)
		if m["name"] == "Sales Overview" && (m["id"] != DemoSalesTestReportID || m["datasetId"] != DemoSalesTestDatasetID) {
			t.Errorf("the overwritten report keeps its id and the Test model: %v", m)
		}
		if m["name"] == "Live Orders Monitor" && m["datasetId"] == DemoLiveOrdersDatasetID {
			t.Errorf("a deployed report stays bound to the Development model: %v", m)
		}
	}
	if d := s.Dashboards(DemoSalesTestWorkspaceID); len(d) != 1 || len(d[0].Tiles) != 3 {
		t.Errorf("Test dashboards: %+v", d)
	}
	ops := api(t, s, "GET", "/pipelines/"+DemoSalesPipelineID+"/operations", nil).json(t)["value"].([]any)
	if len(ops) != 2 || ops[0].(map[string]any)["id"] != opID {
		t.Errorf("operations, newest first: %v", ops)
	}
}

func TestDeployAllRefusals(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	for _, tc := range []struct {
		name     string
		pipeline string
		body     any
		status   int
		code     string
	}{
		{"no body", DemoSalesPipelineID, nil, http.StatusBadRequest, "InvalidRequest"},
		{"no source stage", DemoSalesPipelineID, map[string]any{"note": "x"}, http.StatusBadRequest, "InvalidRequest"},
		{"stage out of range", DemoSalesPipelineID, map[string]any{"sourceStageOrder": 3}, http.StatusBadRequest, "InvalidRequest"},
		{"forward from Production", DemoSalesPipelineID, map[string]any{"sourceStageOrder": 2}, http.StatusBadRequest, "InvalidRequest"},
		{"backward from Development", DemoSalesPipelineID, map[string]any{"sourceStageOrder": 0, "isBackwardDeployment": true}, http.StatusBadRequest, "InvalidRequest"},
		{"backward into a stage with content", DemoSalesPipelineID, map[string]any{"sourceStageOrder": 1, "isBackwardDeployment": true}, http.StatusBadRequest, "InvalidRequest"},
		{"empty source stage", DemoSalesPipelineID, map[string]any{"sourceStageOrder": 2, "isBackwardDeployment": true}, http.StatusBadRequest, "Alm_InvalidRequest_NoArtifactsToDeploy"},
		{"target stage without workspace", DemoFinancePipelineID, map[string]any{"sourceStageOrder": 0}, http.StatusBadRequest, "InvalidRequest"},
		{"source stage without workspace", DemoFinancePipelineID, map[string]any{"sourceStageOrder": 1}, http.StatusBadRequest, "InvalidRequest"},
		{"new workspace name taken", DemoFinancePipelineID, map[string]any{"sourceStageOrder": 0, "newWorkspace": map[string]string{"name": "marketing"}}, http.StatusConflict, "PowerBIEntityAlreadyExists"},
		{"unknown pipeline", newGUID(), map[string]any{"sourceStageOrder": 0}, http.StatusNotFound, "PowerBIEntityNotFound"},
	} {
		r := api(t, s, "POST", deployPath(tc.pipeline), tc.body)
		if r.status != tc.status || errorCode(t, r) != tc.code {
			t.Errorf("%s: %d %s", tc.name, r.status, r.body)
		}
	}

	// Without the options it needs, the deployment runs and fails, changing nothing.
	r := api(t, s, "POST", deployPath(DemoSalesPipelineID), map[string]any{"sourceStageOrder": 0,
		"options": map[string]bool{"allowCreateArtifact": true}})
	wantStatus(t, r, http.StatusAccepted)
	op := waitOperation(t, s, DemoSalesPipelineID, r.json(t)["id"].(string))
	if op["status"] != "Failed" {
		t.Fatalf("deployment without allowOverwriteArtifact: %v", op)
	}
	step := op["executionPlan"].(map[string]any)["steps"].([]any)[0].(map[string]any)
	if step["status"] != "Failed" || step["error"].(map[string]any)["errorCode"] != "Alm_InvalidRequest_OverwriteArtifactNotAllowed" {
		t.Errorf("failed step: %v", step)
	}
	if names := workspaceItemNames(t, s, DemoSalesTestWorkspaceID, "datasets"); len(names) != 1 {
		t.Errorf("a failed deployment copied items: %q", names)
	}
}

func TestDeployAllCreatesTheTargetWorkspace(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	r := api(t, s, "POST", deployPath(DemoFinancePipelineID), map[string]any{"sourceStageOrder": 0,
		"newWorkspace": map[string]string{"name": "Finance [Test]"}, "options": map[string]bool{"allowCreateArtifact": true}})
	wantStatus(t, r, http.StatusAccepted)
	if op := waitOperation(t, s, DemoFinancePipelineID, r.json(t)["id"].(string)); op["status"] != "Succeeded" {
		t.Fatalf("deployment: %v", op)
	}
	stage := api(t, s, "GET", "/pipelines/"+DemoFinancePipelineID+"/stages", nil).json(t)["value"].([]any)[1].(map[string]any)
	if stage["workspaceName"] != "Finance [Test]" {
		t.Fatalf("Test stage: %v", stage)
	}
	g := api(t, s, "GET", "/groups/"+stage["workspaceId"].(string), nil).json(t)
	if g["capacityId"] != DemoCapacityID || g["isOnDedicatedCapacity"] != true {
		t.Errorf("new workspace: %v", g)
	}
	if names := workspaceItemNames(t, s, stage["workspaceId"].(string), "datasets"); len(names) != 2 {
		t.Errorf("new workspace datasets: %q", names)
	}
	// Now Test has content: deploying back into Development (not empty) is refused.
	wantStatus(t, api(t, s, "POST", deployPath(DemoFinancePipelineID), map[string]any{"sourceStageOrder": 1, "isBackwardDeployment": true}), http.StatusBadRequest)
}
