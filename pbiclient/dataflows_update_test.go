package pbiclient_test

import (
	"context"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

func TestUpdateAndDeleteDataflow(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	srv.SeedDemo()
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()
	ws, id := pbitest.DemoSalesWorkspaceID, pbitest.DemoInventoryFeedDataflowID
	path := apiPrefix + "/groups/" + ws + "/dataflows/" + id
	last := func() pbitest.Request { reqs := apiRequests(srv); return reqs[len(reqs)-1] }

	name, yes := "Inventory Feed v2", true
	if err := c.UpdateDataflow(ctx, ws, id, pbiclient.DataflowUpdate{Name: &name, AllowNativeQueries: &yes, ComputeEngineBehavior: "computeOn"}); err != nil {
		t.Fatal(err)
	}
	if r := last(); r.Method != "PATCH" || r.Path != path || string(r.Body) != `{"name":"Inventory Feed v2","allowNativeQueries":true,"computeEngineBehavior":"computeOn"}` {
		t.Errorf("sent %s %s %s", r.Method, r.Path, r.Body)
	}
	list, err := c.ListDataflows(ctx, ws)
	if err != nil {
		t.Fatal(err)
	}
	if list[2].Name != "Inventory Feed v2" || list[2].Description != "Stock levels from the warehouse system" {
		t.Errorf("dataflow after the update: %+v", list[2])
	}
	if df, _ := srv.DataflowSettings(ws, id); !df.AllowNativeQueries || df.ComputeEngineBehavior != "computeOn" {
		t.Errorf("settings after the update: %+v", df)
	}
	empty := ""
	if ae := asAPIError(t, c.UpdateDataflow(ctx, ws, id, pbiclient.DataflowUpdate{Name: &empty})); ae.StatusCode != 400 {
		t.Errorf("empty name: %d %s", ae.StatusCode, ae.Message)
	}
	if err := c.UpdateDataflow(ctx, ws, id, pbiclient.DataflowUpdate{}); err == nil {
		t.Error("an empty update was sent")
	}

	if err := c.DeleteDataflow(ctx, ws, id); err != nil {
		t.Fatal(err)
	}
	if r := last(); r.Method != "DELETE" || r.Path != path {
		t.Errorf("sent %s %s", r.Method, r.Path)
	}
	if list, _ := c.ListDataflows(ctx, ws); len(list) != 2 {
		t.Errorf("dataflows after the delete: %+v", list)
	}
	if ae := asAPIError(t, c.DeleteDataflow(ctx, ws, id)); ae.StatusCode != 404 {
		t.Errorf("second delete: %d", ae.StatusCode)
	}
	if err := c.DeleteDataflow(ctx, "", id); err == nil {
		t.Error("a dataflow delete in My workspace was sent")
	}
}
