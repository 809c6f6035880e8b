package pbiclient_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

func TestPushDatasetRequests(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	srv.SeedDemo()
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()

	req := pbiclient.CreatePushDatasetRequest{Name: "Telemetry", Tables: []pbiclient.PushTable{{Name: "Readings",
		Columns: []pbiclient.PushColumn{{Name: "Sensor", DataType: "String"}, {Name: "Value", DataType: "Double", FormatString: "0.00"}}}}}
	srv.ResetRequests()
	created, err := c.CreatePushDataset(ctx, pbitest.DemoSalesWorkspaceID, req, "basicFIFO")
	if err != nil || created.ID == "" || created.Name != "Telemetry" || created.DefaultRetentionPolicy != "basicFIFO" {
		t.Fatalf("CreatePushDataset = %+v, %v", created, err)
	}
	r := lastAPIRequest(srv)
	var body map[string]any
	json.Unmarshal(r.Body, &body)
	if r.Method != http.MethodPost || r.Path != "/v1.0/myorg/groups/"+pbitest.DemoSalesWorkspaceID+"/datasets" ||
		r.RawQuery != "defaultRetentionPolicy=basicFIFO" || body["defaultMode"] != "Push" {
		t.Fatalf("request %s %s?%s %s", r.Method, r.Path, r.RawQuery, r.Body)
	}
	col := body["tables"].([]any)[0].(map[string]any)["columns"].([]any)[1].(map[string]any)
	if col["dataType"] != "Double" || col["formatString"] != "0.00" {
		t.Fatalf("column on the wire %v", col)
	}

	tables, err := c.ListTables(ctx, pbitest.DemoSalesWorkspaceID, created.ID)
	if err != nil || len(tables) != 1 || tables[0].Name != "Readings" || len(tables[0].Columns) != 2 {
		t.Fatalf("ListTables = %+v, %v", tables, err)
	}
	srv.ResetRequests()
	if err := c.AddRows(ctx, pbitest.DemoSalesWorkspaceID, created.ID, "Readings", []map[string]any{{"Sensor": "S1", "Value": 1.5}}); err != nil {
		t.Fatal(err)
	}
	r = lastAPIRequest(srv)
	if r.Method != http.MethodPost || r.Path != "/v1.0/myorg/groups/"+pbitest.DemoSalesWorkspaceID+"/datasets/"+created.ID+"/tables/Readings/rows" ||
		string(r.Body) != `{"rows":[{"Sensor":"S1","Value":1.5}]}` {
		t.Fatalf("rows request %s %s %s", r.Method, r.Path, r.Body)
	}
	if err := c.AddRows(ctx, "", created.ID, "Readings", make([]map[string]any, pbiclient.MaxPushRows+1)); err == nil {
		t.Fatal("more than 10,000 rows must be refused before sending")
	}

	put, err := c.PutTable(ctx, pbitest.DemoSalesWorkspaceID, created.ID, pbiclient.PushTable{Name: "Readings",
		Columns: []pbiclient.PushColumn{{Name: "Sensor", DataType: "String"}}})
	if err != nil || put.Name != "Readings" || len(put.Columns) != 1 {
		t.Fatalf("PutTable = %+v, %v", put, err)
	}
	srv.ResetRequests()
	if err := c.DeleteRows(ctx, pbitest.DemoSalesWorkspaceID, created.ID, "Readings"); err != nil {
		t.Fatal(err)
	}
	if r := lastAPIRequest(srv); r.Method != http.MethodDelete || r.Path != "/v1.0/myorg/groups/"+pbitest.DemoSalesWorkspaceID+"/datasets/"+created.ID+"/tables/Readings/rows" {
		t.Fatalf("delete request %s %s", r.Method, r.Path)
	}

	_, err = c.ListTables(ctx, pbitest.DemoSalesWorkspaceID, pbitest.DemoSalesDatasetID)
	var ae *pbiclient.APIError
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusBadRequest {
		t.Fatalf("ListTables on an import model: %v", err)
	}
}

// lastAPIRequest is the last Power BI request the tenant received (token requests left out).
func lastAPIRequest(srv *pbitest.Server) pbitest.Request {
	var last pbitest.Request
	for _, r := range srv.Requests() {
		if strings.HasPrefix(r.Path, "/v1.0/") {
			last = r
		}
	}
	return last
}
