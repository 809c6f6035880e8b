package pbitest

import (
	"net/http"
	"testing"
	"time"
)

func TestCapacitiesAndWorkloads(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	r := api(t, s, "GET", "/capacities", nil)
	wantStatus(t, r, http.StatusOK)
	items := r.json(t)["value"].([]any)
	if len(items) != 4 {
		t.Fatalf("capacities %s", r.body)
	}
	first := items[0].(map[string]any)
	if first["id"] != DemoCapacityID || first["sku"] != "P1" || first["state"] != "Active" || first["capacityUserAccessRight"] != "Admin" {
		t.Errorf("first capacity %v", first)
	}
	r = api(t, s, "GET", "/capacities/"+DemoEmbeddedCapacityID+"/Workloads", nil)
	wantStatus(t, r, http.StatusOK)
	wl := r.json(t)["value"].([]any)
	if len(wl) != 3 || wl[1].(map[string]any)["state"] != "Unsupported" {
		t.Errorf("workloads %s", r.body)
	}
	r = api(t, s, "GET", "/capacities/"+DemoScratchWorkspaceID+"/Workloads", nil)
	wantStatus(t, r, http.StatusNotFound)
}

func TestRefreshables(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	// $top is required.
	wantStatus(t, api(t, s, "GET", "/capacities/refreshables", nil), http.StatusBadRequest)

	r := api(t, s, "GET", "/capacities/refreshables?$top=100&$expand=capacity,group", nil)
	wantStatus(t, r, http.StatusOK)
	byName := map[string]map[string]any{}
	for _, v := range r.json(t)["value"].([]any) {
		m := v.(map[string]any)
		byName[m["name"].(string)] = m
	}
	// Sales has a schedule only; Finance KPIs a completed four-minute refresh; Inventory a
	// running one, not counted yet. Models on shared capacity (Marketing) never appear.
	if _, ok := byName["Web Traffic"]; ok {
		t.Error("a model on shared capacity is listed")
	}
	kpis := byName["Finance KPIs"]
	if kpis == nil || kpis["refreshCount"] != 1.0 || kpis["averageDuration"] != 240.0 || kpis["medianDuration"] != 240.0 || kpis["refreshFailures"] != 0.0 {
		t.Fatalf("Finance KPIs %v", kpis)
	}
	if kpis["lastRefresh"].(map[string]any)["status"] != "Completed" || kpis["group"].(map[string]any)["name"] != "Finance" ||
		kpis["capacity"].(map[string]any)["id"] != DemoCapacityID {
		t.Errorf("Finance KPIs details %v", kpis)
	}
	if sales := byName["Sales"]; sales == nil || sales["refreshCount"] != 0.0 || sales["refreshSchedule"] == nil {
		t.Errorf("Sales %v", sales)
	}
	if inv := byName["Inventory"]; inv == nil || inv["refreshCount"] != 0.0 || inv["lastRefresh"].(map[string]any)["status"] != "Unknown" {
		t.Errorf("Inventory %v", inv)
	}

	r = api(t, s, "GET", "/capacities/refreshables?$top=1&$skip=1&$filter=contains(name,'Finance')", nil)
	wantStatus(t, r, http.StatusOK)
	if v := r.json(t)["value"].([]any); len(v) != 0 {
		t.Errorf("filter+skip: %s", r.body)
	}
	r = api(t, s, "GET", "/capacities/"+DemoEmbeddedCapacityID+"/refreshables?$top=10", nil)
	wantStatus(t, r, http.StatusOK)
	if v := r.json(t)["value"].([]any); len(v) != 0 {
		t.Errorf("an empty capacity has refreshables: %s", r.body)
	}
	wantStatus(t, api(t, s, "GET", "/capacities/refreshables?$top=5&$expand=owner", nil), http.StatusBadRequest)
}

func TestAssignToCapacity(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	status := func() map[string]any {
		r := api(t, s, "GET", "/groups/"+DemoMarketingWorkspaceID+"/CapacityAssignmentStatus", nil)
		wantStatus(t, r, http.StatusOK)
		return r.json(t)
	}
	r := api(t, s, "POST", "/groups/"+DemoMarketingWorkspaceID+"/AssignToCapacity", map[string]string{"capacityId": DemoEmbeddedCapacityID})
	wantStatus(t, r, http.StatusOK)
	if len(r.body) != 0 {
		t.Errorf("body %q, want empty", r.body)
	}
	if st := status(); st["status"] != "Pending" || st["capacityId"] != DemoEmbeddedCapacityID {
		t.Errorf("right after: %v", st)
	}
	seen := map[string]bool{}
	eventually(t, "assignment to complete", func() bool {
		st := status()["status"].(string)
		seen[st] = true
		return st == "CompletedSuccessfully"
	})
	if !seen["InProgress"] {
		t.Errorf("statuses seen %v, want InProgress among them", seen)
	}
	g := api(t, s, "GET", "/groups/"+DemoMarketingWorkspaceID, nil).json(t)
	if g["isOnDedicatedCapacity"] != true || g["capacityId"] != DemoEmbeddedCapacityID {
		t.Errorf("workspace after assignment %v", g)
	}

	// Back to shared capacity with the empty GUID.
	wantStatus(t, api(t, s, "POST", "/groups/"+DemoMarketingWorkspaceID+"/AssignToCapacity", map[string]string{"capacityId": emptyGUID}), http.StatusOK)
	g = api(t, s, "GET", "/groups/"+DemoMarketingWorkspaceID, nil).json(t)
	if g["isOnDedicatedCapacity"] != false || g["capacityId"] != nil {
		t.Errorf("workspace after unassignment %v", g)
	}

	// A suspended capacity: accepted, then AssignmentFailed, and the workspace stays.
	wantStatus(t, api(t, s, "POST", "/groups/"+DemoScratchWorkspaceID+"/AssignToCapacity", map[string]string{"capacityId": DemoSuspendedCapacityID}), http.StatusOK)
	time.Sleep(assignmentDuration)
	st := api(t, s, "GET", "/groups/"+DemoScratchWorkspaceID+"/CapacityAssignmentStatus", nil).json(t)
	if st["status"] != "AssignmentFailed" || st["activityId"] == nil {
		t.Errorf("suspended: %v", st)
	}
	if g := api(t, s, "GET", "/groups/"+DemoScratchWorkspaceID, nil).json(t); g["isOnDedicatedCapacity"] != false {
		t.Errorf("workspace moved to a suspended capacity: %v", g)
	}

	wantStatus(t, api(t, s, "POST", "/groups/"+DemoScratchWorkspaceID+"/AssignToCapacity", map[string]string{}), http.StatusBadRequest)
	wantStatus(t, api(t, s, "POST", "/groups/"+DemoScratchWorkspaceID+"/AssignToCapacity", map[string]string{"capacityId": DemoSalesWorkspaceID}), http.StatusNotFound)
}
