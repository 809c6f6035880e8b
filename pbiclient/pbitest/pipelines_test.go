package pbitest

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
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

func TestPipelineLifecycle(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	wantStatus(t, api(t, s, "POST", "/pipelines", map[string]any{"description": "no name"}), http.StatusBadRequest)
	wantStatus(t, api(t, s, "POST", "/pipelines", map[string]any{"displayName": strings.Repeat("x", 257)}), http.StatusBadRequest)
	r := api(t, s, "POST", "/pipelines", map[string]any{"displayName": "Ops", "description": "Operations reports"})
	wantStatus(t, r, http.StatusCreated)
	created := r.json(t)
	id, _ := created["id"].(string)
	if !isGUID(id) || created["displayName"] != "Ops" || created["description"] != "Operations reports" {
		t.Fatalf("created: %s", r.body)
	}
	if list := api(t, s, "GET", "/pipelines", nil).json(t)["value"].([]any); len(list) != 3 || list[2].(map[string]any)["id"] != id {
		t.Errorf("pipelines after create: %v", list)
	}
	// The creator is its admin.
	users := api(t, s, "GET", "/pipelines/"+id+"/users", nil).json(t)["value"].([]any)
	if len(users) != 1 || users[0].(map[string]any)["identifier"] != servicePrincipalObjectID ||
		users[0].(map[string]any)["principalType"] != "App" || users[0].(map[string]any)["accessRight"] != "Admin" {
		t.Errorf("users of a new pipeline: %v", users)
	}

	wantStatus(t, api(t, s, "PATCH", "/pipelines/"+id, map[string]any{}), http.StatusBadRequest)
	r = api(t, s, "PATCH", "/pipelines/"+id, map[string]any{"displayName": "Operations"})
	wantStatus(t, r, http.StatusOK)
	if got := r.json(t); got["displayName"] != "Operations" || got["description"] != "Operations reports" {
		t.Errorf("renamed: %s", r.body)
	}

	// Stages: a workspace on capacity, not in another pipeline, to a stage without one.
	ops := s.AddWorkspace(Workspace{Name: "Ops Dev", IsOnDedicatedCapacity: true})
	other := s.AddWorkspace(Workspace{Name: "Ops Test", IsOnDedicatedCapacity: true})
	assign := func(stage, workspaceID string) response {
		return api(t, s, "POST", "/pipelines/"+id+"/stages/"+stage+"/assignWorkspace", map[string]any{"workspaceId": workspaceID})
	}
	for _, tc := range []struct {
		name, stage, workspace string
		status                 int
		code                   string
	}{
		{"shared capacity", "0", DemoMarketingWorkspaceID, http.StatusBadRequest, "Alm_InvalidRequest_WorkspaceHasNoCapacity"},
		{"in another pipeline", "0", DemoSalesProdWorkspaceID, http.StatusBadRequest, "Alm_InvalidRequest_WorkspaceAlreadyAssignedToPipeline"},
		{"no such workspace", "0", newGUID(), http.StatusNotFound, "PowerBIEntityNotFound"},
		{"no such stage", "3", ops.ID, http.StatusBadRequest, "InvalidRequest"},
		{"not a GUID", "0", "Ops Dev", http.StatusBadRequest, "InvalidRequest"},
	} {
		if r := assign(tc.stage, tc.workspace); r.status != tc.status || errorCode(t, r) != tc.code {
			t.Errorf("assign, %s: %d %s", tc.name, r.status, r.body)
		}
	}
	wantStatus(t, assign("0", ops.ID), http.StatusOK)
	if r := assign("0", other.ID); errorCode(t, r) != "Alm_InvalidRequest_StageAlreadyHasWorkspace" {
		t.Errorf("a stage that has a workspace: %d %s", r.status, r.body)
	}
	if r := assign("1", ops.ID); errorCode(t, r) != "Alm_InvalidRequest_WorkspaceAlreadyAssignedToPipeline" {
		t.Errorf("the workspace of another stage: %d %s", r.status, r.body)
	}
	stages := api(t, s, "GET", "/pipelines/"+id+"/stages", nil).json(t)["value"].([]any)
	if stages[0].(map[string]any)["workspaceName"] != "Ops Dev" || stages[1].(map[string]any)["workspaceId"] != nil {
		t.Errorf("stages after assign: %v", stages)
	}
	if r := api(t, s, "POST", "/pipelines/"+id+"/stages/1/unassignWorkspace", nil); errorCode(t, r) != "Alm_InvalidRequest_StageHasNoWorkspace" {
		t.Errorf("unassign a stage without workspace: %d %s", r.status, r.body)
	}
	wantStatus(t, api(t, s, "POST", "/pipelines/"+id+"/stages/0/unassignWorkspace", nil), http.StatusOK)
	wantStatus(t, assign("1", ops.ID), http.StatusOK) // free again

	// Users: Admin is the only access right; a principal added twice is changed, not doubled.
	for _, body := range []map[string]any{
		{"identifier": "megan.bowen@contoso.com", "principalType": "User", "accessRight": "Viewer"},
		{"identifier": "megan.bowen@contoso.com", "principalType": "None", "accessRight": "Admin"},
		{"principalType": "User", "accessRight": "Admin"},
	} {
		wantStatus(t, api(t, s, "POST", "/pipelines/"+id+"/users", body), http.StatusBadRequest)
	}
	group := newGUID()
	for _, body := range []map[string]any{
		{"identifier": "megan.bowen@contoso.com", "principalType": "User", "accessRight": "Admin"},
		{"identifier": group, "principalType": "Group", "accessRight": "Admin"},
		{"identifier": "Megan.Bowen@contoso.com", "principalType": "User", "accessRight": "Admin"},
	} {
		wantStatus(t, api(t, s, "POST", "/pipelines/"+id+"/users", body), http.StatusOK)
	}
	if users := api(t, s, "GET", "/pipelines/"+id+"/users", nil).json(t)["value"].([]any); len(users) != 3 ||
		users[2].(map[string]any)["principalType"] != "Group" {
		t.Errorf("users after adding: %v", users)
	}
	wantStatus(t, api(t, s, "DELETE", "/pipelines/"+id+"/users/"+group, nil), http.StatusOK)
	wantStatus(t, api(t, s, "DELETE", "/pipelines/"+id+"/users/"+group, nil), http.StatusNotFound)
	if users := api(t, s, "GET", "/pipelines/"+id+"/users", nil).json(t)["value"].([]any); len(users) != 2 {
		t.Errorf("users after removing the group: %v", users)
	}

	// No deletion while a deployment runs; the workspaces outlive the pipeline.
	wantStatus(t, api(t, s, "POST", deployPath(DemoSalesPipelineID), map[string]any{"sourceStageOrder": 1}), http.StatusAccepted)
	if r := api(t, s, "DELETE", "/pipelines/"+DemoSalesPipelineID, nil); errorCode(t, r) != "WorkspaceMigrationOperationInProgress" {
		t.Errorf("delete while deploying: %d %s", r.status, r.body)
	}
	if r := api(t, s, "POST", "/pipelines/"+DemoSalesPipelineID+"/stages/2/unassignWorkspace", nil); errorCode(t, r) != "WorkspaceMigrationOperationInProgress" {
		t.Errorf("unassign while deploying: %d %s", r.status, r.body)
	}
	wantStatus(t, api(t, s, "DELETE", "/pipelines/"+id, nil), http.StatusOK)
	wantStatus(t, api(t, s, "GET", "/pipelines/"+id, nil), http.StatusNotFound)
	wantStatus(t, api(t, s, "GET", "/groups/"+ops.ID, nil), http.StatusOK)
}

func TestSelectiveDeploy(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	path := "/pipelines/" + DemoSalesPipelineID + "/deploy"
	for _, tc := range []struct {
		name string
		body any
		code string
	}{
		{"no items", map[string]any{"sourceStageOrder": 0}, "Alm_InvalidRequest_NoArtifactsToDeploy"},
		{"an item of another stage", map[string]any{"sourceStageOrder": 0, "datasets": []any{map[string]any{"sourceId": DemoSalesTestDatasetID}}}, "InvalidRequest"},
		{"a report as a dataset", map[string]any{"sourceStageOrder": 0, "datasets": []any{map[string]any{"sourceId": DemoSalesReportID}}}, "InvalidRequest"},
	} {
		if r := api(t, s, "POST", path, tc.body); r.status != http.StatusBadRequest || errorCode(t, r) != tc.code {
			t.Errorf("%s: %d %s", tc.name, r.status, r.body)
		}
	}

	// A report whose model is neither deployed with it nor paired in Test fails.
	r := api(t, s, "POST", path, map[string]any{"sourceStageOrder": 0, "options": map[string]bool{"allowCreateArtifact": true},
		"reports": []any{map[string]any{"sourceId": DemoLiveOrdersReportID}}})
	wantStatus(t, r, http.StatusAccepted)
	op := waitOperation(t, s, DemoSalesPipelineID, r.json(t)["id"].(string))
	steps := op["executionPlan"].(map[string]any)["steps"].([]any)
	if op["status"] != "Failed" || len(steps) != 1 || steps[0].(map[string]any)["error"].(map[string]any)["errorCode"] != "Alm_InvalidRequest_ReportModelNotInTargetStage" {
		t.Fatalf("report without its model: %v", op)
	}

	// The model and its report, and Sales Overview overwritten by its own option: only
	// these reach Test, the report bound to the Test copy of its model.
	r = api(t, s, "POST", path, map[string]any{"sourceStageOrder": 0, "note": "Live orders",
		"options": map[string]bool{"allowCreateArtifact": true},
		"reports": []any{map[string]any{"sourceId": DemoLiveOrdersReportID},
			map[string]any{"sourceId": DemoSalesReportID, "options": map[string]bool{"allowOverwriteArtifact": true}}},
		"datasets": []any{map[string]any{"sourceId": strings.ToUpper(DemoLiveOrdersDatasetID)}}})
	wantStatus(t, r, http.StatusAccepted)
	op = waitOperation(t, s, DemoSalesPipelineID, r.json(t)["id"].(string))
	steps = op["executionPlan"].(map[string]any)["steps"].([]any)
	if op["status"] != "Succeeded" || len(steps) != 3 || steps[0].(map[string]any)["type"] != "DatasetDeployment" ||
		steps[2].(map[string]any)["preDeploymentDiffState"] != "New" {
		t.Fatalf("selective deployment: %v", op)
	}
	if names := workspaceItemNames(t, s, DemoSalesTestWorkspaceID, "datasets"); !slices.Equal(names, []string{"Sales", "Live Orders"}) {
		t.Errorf("Test datasets: %q", names)
	}
	var liveOrders string
	for _, v := range api(t, s, "GET", "/groups/"+DemoSalesTestWorkspaceID+"/datasets", nil).json(t)["value"].([]any) {
		if m := v.(map[string]any); m["name"] == "Live Orders" {
			liveOrders = m["id"].(string)
		}
	}
	reports := api(t, s, "GET", "/groups/"+DemoSalesTestWorkspaceID+"/reports", nil).json(t)["value"].([]any)
	if len(reports) != 2 {
		t.Fatalf("Test reports: %v", reports)
	}
	for _, v := range reports {
		m := v.(map[string]any)
		if m["name"] == "Live Orders Monitor" && m["datasetId"] != liveOrders || m["name"] == "Sales Overview" && m["datasetId"] != DemoSalesTestDatasetID {
			t.Errorf("report bound to the wrong model: %v", m)
		}
	}
}

func TestUsersSeeTheirOwnPipelines(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	megan := s.IssueUserToken(DefaultUserPrincipalName, time.Hour)
	adele := s.IssueUserToken(DemoMarketingUser, time.Hour)
	names := func(token string) []string {
		r := do(t, s, "GET", apiPrefix+"/pipelines", token, nil)
		wantStatus(t, r, http.StatusOK)
		var out []string
		for _, p := range r.json(t)["value"].([]any) {
			out = append(out, p.(map[string]any)["displayName"].(string))
		}
		return out
	}
	// Megan is an admin of Sales Deployment only; the service principal sees both.
	if got := names(megan); !slices.Equal(got, []string{"Sales Deployment"}) {
		t.Errorf("megan sees %v", got)
	}
	if got := names(s.IssueToken(time.Hour)); len(got) != 2 {
		t.Errorf("the app sees %v", got)
	}
	wantStatus(t, do(t, s, "GET", apiPrefix+"/pipelines/"+DemoFinancePipelineID+"/stages", megan, nil), http.StatusNotFound)
	if got := names(adele); len(got) != 0 {
		t.Errorf("adele sees %v", got)
	}

	// Access through a group, and a pipeline a user creates is theirs.
	wantStatus(t, api(t, s, "POST", "/pipelines/"+DemoFinancePipelineID+"/users",
		map[string]any{"identifier": DemoSalesTeamGroupID, "principalType": "Group", "accessRight": "Admin"}), http.StatusOK)
	if got := names(adele); !slices.Equal(got, []string{"Finance Deployment"}) {
		t.Errorf("adele, through Sales Team, sees %v", got)
	}
	r := do(t, s, "POST", apiPrefix+"/pipelines", adele, map[string]any{"displayName": "Adele's"})
	wantStatus(t, r, http.StatusCreated)
	users := do(t, s, "GET", apiPrefix+"/pipelines/"+r.json(t)["id"].(string)+"/users", adele, nil).json(t)["value"].([]any)
	if len(users) != 1 || users[0].(map[string]any)["identifier"] != DemoMarketingUser || users[0].(map[string]any)["principalType"] != "User" {
		t.Errorf("users of adele's pipeline: %v", users)
	}
	// Once removed, Megan no longer sees the pipeline.
	wantStatus(t, api(t, s, "DELETE", "/pipelines/"+DemoSalesPipelineID+"/users/"+DefaultUserPrincipalName, nil), http.StatusOK)
	wantStatus(t, do(t, s, "GET", apiPrefix+"/pipelines/"+DemoSalesPipelineID, megan, nil), http.StatusNotFound)
}
