package pbiclient_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

func TestAdminItemReads(t *testing.T) {
	srv := adminTenant(t)
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()

	all, err := c.AdminListDataflows(ctx, "", pbiclient.AdminQuery{Filter: "configuredBy eq 'megan.bowen@contoso.com'", Top: 10})
	if err != nil || len(all) != 2 || all[0].WorkspaceID != pbitest.DemoSalesWorkspaceID {
		t.Errorf("AdminListDataflows = %+v, %v", all, err)
	}
	sales, err := c.AdminGetGroup(ctx, pbitest.DemoSalesWorkspaceID, []string{"dataflows"})
	if err != nil || len(sales.Dataflows) != 3 || sales.Dataflows[1].ObjectID != pbitest.DemoSalesDataflowID || sales.Dataflows[1].WorkspaceID != pbitest.DemoSalesWorkspaceID {
		t.Errorf("Sales Analytics with its dataflows = %+v, %v", sales.Dataflows, err)
	}
	inHR, err := c.AdminListDataflows(ctx, pbitest.DemoHRWorkspaceID, pbiclient.AdminQuery{})
	if err != nil || len(inHR) != 0 {
		t.Errorf("HR dataflows = %+v, %v", inHR, err)
	}
	src, err := c.AdminDataflowDatasources(ctx, pbitest.DemoSalesDataflowID)
	if err != nil || len(src) != 1 || src[0].DatasourceType != "SharePointList" {
		t.Errorf("AdminDataflowDatasources = %+v, %v", src, err)
	}
	def, err := c.AdminExportDataflow(ctx, pbitest.DemoSalesDataflowID)
	if err != nil || def.Name != "Sales Pipeline" || len(def.Entities) != 3 {
		t.Errorf("AdminExportDataflow = %+v, %v", def, err)
	}
	up, err := c.AdminUpstreamDataflows(ctx, pbitest.DemoSalesWorkspaceID, pbitest.DemoSalesDataflowID)
	if err != nil || len(up) != 1 || up[0].TargetDataflowID != pbitest.DemoSalesStagingDataflowID {
		t.Errorf("AdminUpstreamDataflows = %+v, %v", up, err)
	}
	links, err := c.AdminDatasetUpstreamDataflows(ctx, pbitest.DemoSalesWorkspaceID)
	if err != nil || len(links) == 0 || links[0].DataflowObjectID != pbitest.DemoSalesDataflowID {
		t.Errorf("AdminDatasetUpstreamDataflows = %+v, %v", links, err)
	}
	// A workspace only the admin APIs see has no dataflows to link.
	links, err = c.AdminDatasetUpstreamDataflows(ctx, pbitest.DemoHRWorkspaceID)
	if err != nil || len(links) != 0 {
		t.Errorf("HR links = %+v, %v", links, err)
	}
	dsrc, err := c.AdminDatasetDatasources(ctx, pbitest.DemoSalesDatasetID)
	if err != nil || len(dsrc) != 2 {
		t.Errorf("AdminDatasetDatasources = %+v, %v", dsrc, err)
	}
	tiles, err := c.AdminDashboardTiles(ctx, pbitest.DemoSalesDashboardID)
	if err != nil || len(tiles) != 3 {
		t.Errorf("AdminDashboardTiles = %+v, %v", tiles, err)
	}
	imports, err := c.AdminListImports(ctx, pbiclient.AdminQuery{Top: 5})
	if err != nil || len(imports) != 1 || imports[0].ID != pbitest.DemoSalesImportID {
		t.Errorf("AdminListImports = %+v, %v", imports, err)
	}
	rfs, err := c.AdminCapacityRefreshables(ctx, pbitest.DemoCapacityID, pbiclient.AdminQuery{Top: 20, Expand: []string{"group"}})
	if err != nil || len(rfs) == 0 || rfs[0].Group == nil {
		t.Fatalf("AdminCapacityRefreshables = %+v, %v", rfs, err)
	}
	one, err := c.AdminCapacityRefreshable(ctx, pbitest.DemoCapacityID, rfs[0].ID, []string{"capacity"})
	if err != nil || one.ID != rfs[0].ID || one.Capacity == nil || one.Capacity.ID != pbitest.DemoCapacityID {
		t.Errorf("AdminCapacityRefreshable = %+v, %v", one, err)
	}
	none, err := c.AdminCapacityRefreshables(ctx, pbitest.DemoEmbeddedCapacityID, pbiclient.AdminQuery{Top: 20})
	if err != nil || len(none) != 0 {
		t.Errorf("refreshables of a capacity with no workspace = %+v, %v", none, err)
	}
	_, err = c.AdminCapacityRefreshable(ctx, pbitest.DemoEmbeddedCapacityID, rfs[0].ID, nil)
	if ae := asAPIError(t, err); ae.StatusCode != http.StatusNotFound {
		t.Errorf("a refreshable of another capacity: %v", err)
	}
}

func TestAdminPipelinesAndWorkspaceChanges(t *testing.T) {
	srv := adminTenant(t)
	ctx := context.Background()
	app := newClient(t, srv, newTenantTokens(srv))
	ps, err := app.AdminListPipelines(ctx, pbiclient.AdminQuery{Expand: []string{"users", "stages"}})
	if err != nil || len(ps) != 2 || len(ps[0].Users) != 2 || ps[0].Users[1].AccessRight != "Admin" || len(ps[0].Stages) != 3 {
		t.Fatalf("AdminListPipelines = %+v, %v", ps, err)
	}

	c := newClient(t, srv, userTokens{srv})
	if err := c.AdminDeletePipelineUser(ctx, pbitest.DemoFinancePipelineID, "alex.wilber@contoso.com"); err != nil {
		t.Fatal(err)
	}
	orphans, err := c.AdminListPipelines(ctx, pbiclient.AdminQuery{Filter: "not users/any()"})
	if err != nil || len(orphans) != 1 || orphans[0].ID != pbitest.DemoFinancePipelineID {
		t.Errorf("orphaned pipelines = %+v, %v", orphans, err)
	}
	if err := c.AdminAddPipelineUser(ctx, pbitest.DemoFinancePipelineID, "megan.bowen@contoso.com", "User"); err != nil {
		t.Fatal(err)
	}
	users, err := c.AdminItemUsers(ctx, "pipelines", pbitest.DemoFinancePipelineID)
	if err != nil || len(users) != 1 || users[0].Identifier != "megan.bowen@contoso.com" {
		t.Errorf("pipeline users = %+v, %v", users, err)
	}

	name, desc, large := "HR Restricted", "Owned by HR", "Large"
	if err := c.AdminUpdateGroup(ctx, pbitest.DemoHRWorkspaceID, pbiclient.AdminGroupUpdate{Name: &name, Description: &desc, DefaultDatasetStorageFormat: &large}); err != nil {
		t.Fatal(err)
	}
	if err := c.AdminUpdateGroup(ctx, pbitest.DemoMarketingWorkspaceID, pbiclient.AdminGroupUpdate{Description: &desc}); err != nil {
		t.Fatal(err)
	}
	// Marketing is on shared capacity: no storage format there, and nothing else changes.
	err = c.AdminUpdateGroup(ctx, pbitest.DemoMarketingWorkspaceID, pbiclient.AdminGroupUpdate{Name: &name, DefaultDatasetStorageFormat: &large})
	if ae := asAPIError(t, err); ae.StatusCode != http.StatusBadRequest {
		t.Errorf("storage format on shared capacity: %v", err)
	}
	hr, err := c.AdminGetGroup(ctx, pbitest.DemoHRWorkspaceID, nil)
	if err != nil || hr.Name != name || hr.Description != desc || hr.DefaultDatasetStorageFormat != "Large" {
		t.Errorf("HR now %+v, %v", hr, err)
	}
	mk, err := c.AdminGetGroup(ctx, pbitest.DemoMarketingWorkspaceID, nil)
	if err != nil || mk.Name != "Marketing" || mk.Description != desc {
		t.Errorf("Marketing now %+v, %v", mk, err)
	}
	err = app.AdminUpdateGroup(ctx, pbitest.DemoHRWorkspaceID, pbiclient.AdminGroupUpdate{Name: &name})
	if ae := asAPIError(t, err); ae.StatusCode != http.StatusUnauthorized {
		t.Errorf("a service principal's change: %v", err)
	}
}
