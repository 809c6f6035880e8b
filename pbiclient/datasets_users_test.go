package pbiclient_test

import (
	"context"
	"slices"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

func TestSetDatasetAccess(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	ws := srv.AddWorkspace(pbitest.Workspace{Name: "Sales"})
	ds := srv.AddDataset(ws.ID, pbitest.Dataset{Name: "Sales", Users: []pbitest.DatasetUser{
		{Identifier: "owner@contoso.com", PrincipalType: "User", DatasetUserAccessRight: "ReadWriteReshareExplore"},
		{Identifier: "analyst@contoso.com", PrincipalType: "User", DatasetUserAccessRight: "ReadReshareExplore"},
	}})
	mine := srv.AddDataset("", pbitest.Dataset{Name: "Mine"})
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()
	set := func(groupID, datasetID, who, right string) error {
		return c.SetDatasetAccess(ctx, groupID, datasetID, pbiclient.DatasetUser{Identifier: who, PrincipalType: "User", DatasetUserAccessRight: right})
	}
	rights := func(groupID, datasetID string) []string {
		users, err := c.ListDatasetUsers(ctx, groupID, datasetID)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, u := range users {
			out = append(out, u.Identifier+"="+u.DatasetUserAccessRight)
		}
		return out
	}

	// Lowering a right replaces it, which POST cannot do.
	if err := set(ws.ID, ds.ID, "analyst@contoso.com", "Read"); err != nil {
		t.Fatal(err)
	}
	reqs := apiRequests(srv)
	if last := reqs[len(reqs)-1]; last.Method != "PUT" || last.Path != apiPrefix+"/groups/"+ws.ID+"/datasets/"+ds.ID+"/users" ||
		string(last.Body) != `{"identifier":"analyst@contoso.com","principalType":"User","datasetUserAccessRight":"Read"}` {
		t.Errorf("sent %s %s %s", last.Method, last.Path, last.Body)
	}
	// Write is neither added nor removed: the owner keeps it, with None too.
	if err := set(ws.ID, ds.ID, "owner@contoso.com", "None"); err != nil {
		t.Fatal(err)
	}
	if got := rights(ws.ID, ds.ID); !slices.Equal(got, []string{"owner@contoso.com=ReadWrite", "analyst@contoso.com=Read"}) {
		t.Errorf("rights = %v", got)
	}
	if err := set(ws.ID, ds.ID, "analyst@contoso.com", "None"); err != nil {
		t.Fatal(err)
	}
	if got := rights(ws.ID, ds.ID); !slices.Equal(got, []string{"owner@contoso.com=ReadWrite"}) {
		t.Errorf("rights after None = %v", got)
	}
	if ae := asAPIError(t, set(ws.ID, ds.ID, "analyst@contoso.com", "ReadWrite")); ae.StatusCode != 400 {
		t.Errorf("Write granted: %d", ae.StatusCode)
	}
	if err := set("", mine.ID, "friend@contoso.com", "ReadExplore"); err != nil {
		t.Fatal(err)
	}
	if got := rights("", mine.ID); !slices.Equal(got, []string{"friend@contoso.com=ReadExplore"}) {
		t.Errorf("My workspace rights = %v", got)
	}
}
