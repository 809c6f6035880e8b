package pbiclient_test

import (
	"context"
	"strings"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

func TestUpdateDatasourcesOnTheWire(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	ws := srv.AddWorkspace(pbitest.Workspace{Name: "Finance"})
	sql := pbitest.Datasource{DatasourceType: "Sql", ConnectionDetails: pbitest.DatasourceConnectionDetails{Server: "old.database.windows.net", Database: "Sales"}}
	file := pbitest.Datasource{DatasourceType: "File", ConnectionDetails: pbitest.DatasourceConnectionDetails{Path: `C:\data\rates.xlsx`}}
	ds := srv.AddDataset(ws.ID, pbitest.Dataset{Name: "Two sources", ConfiguredBy: srv.ClientID(), Datasources: []pbitest.Datasource{sql, file}})
	mine := srv.AddDataset("", pbitest.Dataset{Name: "One source", ConfiguredBy: srv.ClientID(), Datasources: []pbitest.Datasource{sql}})
	other := srv.AddDataset(ws.ID, pbitest.Dataset{Name: "Someone else's", Datasources: []pbitest.Datasource{sql}})
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()

	selector := &pbiclient.Datasource{DatasourceType: "Sql", ConnectionDetails: pbiclient.DatasourceConnectionDetails{Server: "OLD.database.windows.net", Database: "Sales"}}
	err := c.UpdateDatasources(ctx, ws.ID, ds.ID, []pbiclient.DatasourceUpdate{{
		ConnectionDetails:  pbiclient.DatasourceConnectionDetails{Server: "new.database.windows.net", Database: "Sales2"},
		DatasourceSelector: selector,
	}})
	if err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	last := reqs[len(reqs)-1]
	wantBody := `{"updateDetails":[{"connectionDetails":{"server":"new.database.windows.net","database":"Sales2"},` +
		`"datasourceSelector":{"datasourceType":"Sql","connectionDetails":{"server":"OLD.database.windows.net","database":"Sales"}}}]}`
	if last.Method != "POST" || last.Path != apiPrefix+"/groups/"+ws.ID+"/datasets/"+ds.ID+"/Default.UpdateDatasources" || string(last.Body) != wantBody {
		t.Errorf("sent %s %s %s", last.Method, last.Path, last.Body)
	}
	got, err := c.ListDatasources(ctx, ws.ID, ds.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ConnectionDetails.Server != "new.database.windows.net" || got[0].ConnectionDetails.Database != "Sales2" ||
		got[1].ConnectionDetails.Path != `C:\data\rates.xlsx` {
		t.Errorf("datasources after the update: %+v", got)
	}

	// What the service refuses, and leaves as it was.
	refused := []struct {
		name, groupID, datasetID string
		updates                  []pbiclient.DatasourceUpdate
		status                   int
		message                  string
	}{
		{"no selector with two sources", ws.ID, ds.ID, []pbiclient.DatasourceUpdate{{ConnectionDetails: pbiclient.DatasourceConnectionDetails{Server: "x", Database: "y"}}}, 400, "Selector #1 is missing"},
		{"a selector matching nothing", ws.ID, ds.ID, []pbiclient.DatasourceUpdate{{ConnectionDetails: pbiclient.DatasourceConnectionDetails{Server: "x", Database: "y"}, DatasourceSelector: selector}}, 404, "matches selector #1"},
		{"a file source", ws.ID, ds.ID, []pbiclient.DatasourceUpdate{{ConnectionDetails: pbiclient.DatasourceConnectionDetails{Path: `D:\rates.xlsx`},
			DatasourceSelector: &pbiclient.Datasource{DatasourceType: "File", ConnectionDetails: pbiclient.DatasourceConnectionDetails{Path: `C:\data\rates.xlsx`}}}}, 400, "not supported for selector #1"},
		{"a URL for a SQL source", "", mine.ID, []pbiclient.DatasourceUpdate{{ConnectionDetails: pbiclient.DatasourceConnectionDetails{URL: "https://example.com"}}}, 400, "connection details for selector #1 are invalid"},
		{"a model owned by another", ws.ID, other.ID, []pbiclient.DatasourceUpdate{{ConnectionDetails: pbiclient.DatasourceConnectionDetails{Server: "x", Database: "y"}}}, 400, "owner"},
	}
	for _, tc := range refused {
		ae := asAPIError(t, c.UpdateDatasources(ctx, tc.groupID, tc.datasetID, tc.updates))
		if ae.StatusCode != tc.status || !strings.Contains(ae.Message, tc.message) {
			t.Errorf("%s: %d %s %q", tc.name, ae.StatusCode, ae.Code, ae.Message)
		}
	}

	// A single source needs no selector; My workspace has the operation too.
	if err := c.UpdateDatasources(ctx, "", mine.ID, []pbiclient.DatasourceUpdate{{ConnectionDetails: pbiclient.DatasourceConnectionDetails{Server: "mine", Database: "db"}}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.ListDatasources(ctx, "", mine.ID); len(got) != 1 || got[0].ConnectionDetails.Server != "mine" {
		t.Errorf("My workspace source after the update: %+v", got)
	}
}

func TestSetAllConnectionsOnTheWire(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	ws := srv.AddWorkspace(pbitest.Workspace{Name: "Ops"})
	sql := pbitest.Datasource{DatasourceType: "Sql", ConnectionDetails: pbitest.DatasourceConnectionDetails{Server: "old", Database: "Orders"}}
	dq := srv.AddDataset(ws.ID, pbitest.Dataset{Name: "Live", ConfiguredBy: srv.ClientID(), DirectQuery: true, Datasources: []pbitest.Datasource{sql}})
	mine := srv.AddDataset("", pbitest.Dataset{Name: "My live", ConfiguredBy: srv.ClientID(), DirectQuery: true, Datasources: []pbitest.Datasource{sql}})
	imported := srv.AddDataset(ws.ID, pbitest.Dataset{Name: "Imported", ConfiguredBy: srv.ClientID(), Datasources: []pbitest.Datasource{sql}})
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()

	if err := c.SetAllConnections(ctx, ws.ID, dq.ID, "Data Source=new.database.windows.net;Initial Catalog=Orders2;"); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if last := reqs[len(reqs)-1]; last.Path != apiPrefix+"/groups/"+ws.ID+"/datasets/"+dq.ID+"/Default.SetAllConnections" ||
		string(last.Body) != `{"connectionString":"Data Source=new.database.windows.net;Initial Catalog=Orders2;"}` {
		t.Errorf("sent %s %s", last.Path, last.Body)
	}
	if got, _ := c.ListDatasources(ctx, ws.ID, dq.ID); len(got) != 1 || got[0].ConnectionDetails.Server != "new.database.windows.net" || got[0].ConnectionDetails.Database != "Orders2" {
		t.Errorf("datasources after SetAllConnections: %+v", got)
	}
	if err := c.SetAllConnections(ctx, "", mine.ID, "Server=mine"); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.ListDatasources(ctx, "", mine.ID); got[0].ConnectionDetails.Server != "mine" || got[0].ConnectionDetails.Database != "Orders" {
		t.Errorf("My workspace source after SetAllConnections: %+v", got)
	}

	ae := asAPIError(t, c.SetAllConnections(ctx, ws.ID, imported.ID, "Data Source=x"))
	if ae.StatusCode != 400 || !strings.Contains(ae.Message, "DirectQuery") {
		t.Errorf("import model: %d %q", ae.StatusCode, ae.Message)
	}
	if got, _ := c.ListDatasources(ctx, ws.ID, imported.ID); got[0].ConnectionDetails.Server != "old" {
		t.Errorf("a refused SetAllConnections changed %+v", got)
	}
	if err := c.SetAllConnections(ctx, ws.ID, dq.ID, " "); err == nil {
		t.Error("an empty connection string was sent")
	}
}
