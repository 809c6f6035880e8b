package pbiclient_test

import (
	"context"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

func TestDataflowStorageAccounts(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	ws := srv.AddWorkspace(pbitest.Workspace{Name: "Lake"})
	lake := srv.AddDataflowStorageAccount(pbitest.DataflowStorageAccount{Name: "contosolake", IsEnabled: true})
	off := srv.AddDataflowStorageAccount(pbitest.DataflowStorageAccount{Name: "retired"})
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()

	accounts, err := c.ListDataflowStorageAccounts(ctx)
	if err != nil || len(accounts) != 2 || accounts[0].ID != lake.ID || !accounts[0].IsEnabled || accounts[1].IsEnabled {
		t.Fatalf("ListDataflowStorageAccounts = %+v, %v", accounts, err)
	}
	if err := c.AssignToDataflowStorage(ctx, ws.ID, lake.ID); err != nil {
		t.Fatal(err)
	}
	reqs := apiRequests(srv)
	if r := reqs[len(reqs)-1]; r.Path != apiPrefix+"/groups/"+ws.ID+"/AssignToDataflowStorage" || string(r.Body) != `{"dataflowStorageId":"`+lake.ID+`"}` {
		t.Errorf("sent %s %s", r.Path, r.Body)
	}
	if g, err := c.GetGroup(ctx, ws.ID); err != nil || g.DataflowStorageID != lake.ID {
		t.Errorf("workspace after the assignment: %+v, %v", g, err)
	}
	if ae := asAPIError(t, c.AssignToDataflowStorage(ctx, ws.ID, off.ID)); ae.StatusCode != 400 {
		t.Errorf("a disabled account: %d", ae.StatusCode)
	}
	if err := c.AssignToDataflowStorage(ctx, ws.ID, pbiclient.MyWorkspaceID); err != nil {
		t.Fatal(err)
	}
	if g, _ := c.GetGroup(ctx, ws.ID); g.DataflowStorageID != "" {
		t.Errorf("workspace after the unassignment: %+v", g)
	}
}
