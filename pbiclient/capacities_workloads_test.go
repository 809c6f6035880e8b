package pbiclient_test

import (
	"context"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

func TestGetAndPatchWorkload(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	srv.SeedDemo()
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()

	wl, err := c.GetWorkload(ctx, pbitest.DemoCapacityID, "AI")
	if err != nil || wl.Name != "AI" || wl.State != "Disabled" {
		t.Fatalf("GetWorkload = %+v, %v", wl, err)
	}
	share := 30
	if err := c.PatchWorkload(ctx, pbitest.DemoCapacityID, "AI", pbiclient.WorkloadUpdate{State: "Enabled", MaxMemoryPercentageSetByUser: &share}); err != nil {
		t.Fatal(err)
	}
	reqs := apiRequests(srv)
	if last := reqs[len(reqs)-1]; last.Method != "PATCH" || last.Path != apiPrefix+"/capacities/"+pbitest.DemoCapacityID+"/Workloads/AI" ||
		string(last.Body) != `{"state":"Enabled","maxMemoryPercentageSetByUser":30}` {
		t.Errorf("sent %s %s %s", last.Method, last.Path, last.Body)
	}
	if wl, _ := c.GetWorkload(ctx, pbitest.DemoCapacityID, "AI"); wl.State != "Enabled" || wl.MaxMemoryPercentageSetByUser != 30 {
		t.Errorf("after the patch: %+v", wl)
	}

	for _, tc := range []struct {
		capacity, workload, state string
		status                    int
	}{
		{pbitest.DemoEmbeddedCapacityID, "Dataflows", "Disabled", 401}, // the caller may only assign
		{pbitest.DemoCapacityID, "Dataflows", "Unsupported", 400},      // not a state to set
		{pbitest.DemoCapacityID, "NoSuchWorkload", "Enabled", 404},
	} {
		ae := asAPIError(t, c.PatchWorkload(ctx, tc.capacity, tc.workload, pbiclient.WorkloadUpdate{State: tc.state}))
		if ae.StatusCode != tc.status {
			t.Errorf("%s %s %s: %d %s", tc.capacity, tc.workload, tc.state, ae.StatusCode, ae.Message)
		}
	}
}

func TestGetRefreshable(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	srv.SeedDemo()
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()

	all, err := c.ListRefreshables(ctx, pbitest.DemoCapacityID, pbiclient.RefreshablesOptions{Top: 1})
	if err != nil || len(all) != 1 {
		t.Fatalf("ListRefreshables = %+v, %v", all, err)
	}
	one, err := c.GetRefreshable(ctx, pbitest.DemoCapacityID, all[0].ID, "capacity", "group")
	if err != nil {
		t.Fatal(err)
	}
	if one.ID != all[0].ID || one.RefreshCount != all[0].RefreshCount || one.Capacity == nil || one.Group == nil {
		t.Errorf("GetRefreshable = %+v, want %+v", one, all[0])
	}
	reqs := apiRequests(srv)
	if last := reqs[len(reqs)-1]; last.Path != apiPrefix+"/capacities/"+pbitest.DemoCapacityID+"/refreshables/"+all[0].ID || last.RawQuery != "$expand=capacity%2Cgroup" {
		t.Errorf("sent %s?%s", last.Path, last.RawQuery)
	}
	_, err = c.GetRefreshable(ctx, pbitest.DemoCapacityID, pbitest.DemoPersonalBudgetDatasetID)
	if ae := asAPIError(t, err); ae.StatusCode != 404 {
		t.Errorf("a model not on the capacity: %d", ae.StatusCode)
	}
}
