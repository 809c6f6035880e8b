package pbiclient_test

import (
	"context"
	"strings"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

func TestAdminAssignAndUnassignWorkspaces(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	srv.SeedDemo()
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()
	scratch, marketing := pbitest.DemoScratchWorkspaceID, pbitest.DemoMarketingWorkspaceID

	// The caller may only assign to the Embedded capacity; as administrator that does not matter.
	err := c.AdminAssignWorkspaces(ctx, []pbiclient.CapacityMigration{{TargetCapacityID: pbitest.DemoCapacityID, WorkspaceIDs: []string{scratch, marketing}}})
	if err != nil {
		t.Fatal(err)
	}
	reqs := apiRequests(srv)
	if last := reqs[len(reqs)-1]; last.Path != apiPrefix+"/admin/capacities/AssignWorkspaces" ||
		string(last.Body) != `{"capacityMigrationAssignments":[{"targetCapacityObjectId":"`+pbitest.DemoCapacityID+`","workspacesToAssign":["`+scratch+`","`+marketing+`"]}]}` {
		t.Errorf("sent %s %s", last.Path, last.Body)
	}
	for _, id := range []string{scratch, marketing} {
		g, err := c.GetGroup(ctx, id)
		if err != nil || !g.IsOnDedicatedCapacity || !strings.EqualFold(g.CapacityID, pbitest.DemoCapacityID) {
			t.Errorf("workspace %s after the assignment: %+v, %v", id, g, err)
		}
	}
	if st, err := c.WaitCapacityAssignment(ctx, scratch, nil); err != nil || st.Status != "CompletedSuccessfully" {
		t.Errorf("assignment status: %+v, %v", st, err)
	}

	if err := c.AdminUnassignWorkspaces(ctx, []string{marketing}); err != nil {
		t.Fatal(err)
	}
	if g, _ := c.GetGroup(ctx, marketing); g.IsOnDedicatedCapacity || g.CapacityID != "" {
		t.Errorf("Marketing after the unassignment: %+v", g)
	}
	if g, _ := c.GetGroup(ctx, scratch); !g.IsOnDedicatedCapacity {
		t.Errorf("Scratch was unassigned too: %+v", g)
	}

	ae := asAPIError(t, c.AdminUnassignWorkspaces(ctx, []string{"0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"}))
	if ae.StatusCode != 404 {
		t.Errorf("unknown workspace: %d %s", ae.StatusCode, ae.Message)
	}
}
