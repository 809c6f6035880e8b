package tools

import (
	"slices"
	"strings"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

const (
	routeUpdateDatasources  = "POST /v1.0/myorg/groups/{groupId}/datasets/{datasetId}/Default.UpdateDatasources"
	routeSetAllConnections  = "POST /v1.0/myorg/groups/{groupId}/datasets/{datasetId}/Default.SetAllConnections"
	forecastPlanningServer  = "contoso-finance.database.windows.net"
	forecastPlanningChanged = "PlanningV2"
)

func TestUpdateConnectionsAndParametersInOneCall(t *testing.T) {
	st := newStack(t, stackOptions{})
	var res UpdateDatasetParametersResult
	st.ok(t, "update_dataset_parameters", map[string]any{"workspace": "Finance", "dataset": "Forecast", "confirm": true,
		"datasources": []map[string]any{{"to": map[string]any{"server": forecastPlanningServer, "database": forecastPlanningChanged}}},
		"updates":     []map[string]any{{"name": "Scenario", "new_value": "Pessimistic"}}}, &res)
	if !slices.Equal(res.Applied, []string{"datasources", "updates"}) || len(res.Datasources) != 1 ||
		res.Datasources[0].ConnectionDetails["database"] != forecastPlanningChanged || res.Parameters[0].CurrentValue != "Pessimistic" ||
		!strings.Contains(res.Message, "refresh_dataset") {
		t.Fatalf("update: %+v", res)
	}
	// Power BI holds the change: list_datasources reads it back.
	var src ListDatasourcesResult
	st.ok(t, "list_datasources", map[string]any{"workspace": "Finance", "dataset": "Forecast"}, &src)
	if src.Datasources[0].ConnectionDetails["database"] != forecastPlanningChanged || src.Datasources[0].GatewayID == "" {
		t.Fatalf("datasources after the update: %+v", src.Datasources)
	}
	// What to leaves out stays: only the server moves.
	st.ok(t, "update_dataset_parameters", map[string]any{"workspace": "Finance", "dataset": "Forecast", "confirm": true,
		"datasources": []map[string]any{{"to": map[string]any{"server": "srv2"}}}}, &res)
	if c := res.Datasources[0].ConnectionDetails; c["server"] != "srv2" || c["database"] != forecastPlanningChanged {
		t.Fatalf("server only: %+v", c)
	}
}

func TestUpdateConnectionsFailurePartWaySaysWhatWasApplied(t *testing.T) {
	st := newStack(t, stackOptions{})
	// The data source change goes through; the parameter (of type Any) is refused after it.
	msg := st.fails(t, "update_dataset_parameters", map[string]any{"workspace": "Finance", "dataset": "Forecast", "confirm": true,
		"datasources": []map[string]any{{"from": map[string]any{"database": "planning"}, "to": map[string]any{"server": "srv2", "database": "Planning"}}},
		"updates":     []map[string]any{{"name": "SourceQuery", "new_value": "Other"}}})
	if !strings.Contains(msg, "type Any") || !strings.Contains(msg, "RequestId") ||
		!strings.Contains(msg, "Applied before the failure: datasources") || !strings.Contains(msg, "Not applied: updates") {
		t.Fatalf("part-way failure: %s", msg)
	}
	var src ListDatasourcesResult
	st.ok(t, "list_datasources", map[string]any{"workspace": "Finance", "dataset": "Forecast"}, &src)
	if src.Datasources[0].ConnectionDetails["server"] != "srv2" {
		t.Fatalf("the applied change is not in Power BI: %+v", src.Datasources)
	}

	// A connection string for an import model is refused first: nothing else is tried.
	msg = st.fails(t, "update_dataset_parameters", map[string]any{"workspace": "Finance", "dataset": "Forecast", "confirm": true,
		"connection_string": "Data Source=srv3;Initial Catalog=Planning",
		"updates":           []map[string]any{{"name": "Scenario", "new_value": "Base"}}})
	if !strings.Contains(msg, "DirectQuery") || !strings.Contains(msg, "nothing (the model is unchanged)") ||
		!strings.Contains(msg, "Not applied: connection_string, updates") {
		t.Fatalf("first step refused: %s", msg)
	}
	if n := st.tenant.Count(routeUpdateParameters); n != 1 {
		t.Fatalf("%d parameter updates sent, want only the first call's", n)
	}
}

func TestSetAllConnectionsOfADirectQueryModel(t *testing.T) {
	st := newStack(t, stackOptions{})
	st.tenant.AddDataset(pbitest.DemoSalesWorkspaceID, pbitest.Dataset{Name: "Orders DQ", ConfiguredBy: st.tenant.ClientID(), DirectQuery: true,
		Datasources: []pbitest.Datasource{{DatasourceType: "Sql", ConnectionDetails: pbitest.DatasourceConnectionDetails{Server: "old-sql", Database: "Orders"}}}})
	var res UpdateDatasetParametersResult
	st.ok(t, "update_dataset_parameters", map[string]any{"workspace": "Sales Analytics", "dataset": "Orders DQ", "confirm": true,
		"connection_string": "Data Source=new-sql;Initial Catalog=Orders2"}, &res)
	if !slices.Equal(res.Applied, []string{"connection_string"}) || len(res.Datasources) != 1 ||
		res.Datasources[0].ConnectionDetails["server"] != "new-sql" || res.Datasources[0].ConnectionDetails["database"] != "Orders2" || res.Parameters != nil {
		t.Fatalf("set all connections: %+v", res)
	}
}

func TestUpdateConnectionsChecksTheSourceBeforeAsking(t *testing.T) {
	st := newStack(t, stackOptions{})
	st.tenant.AddDataset(pbitest.DemoSalesWorkspaceID, pbitest.Dataset{Name: "Two SQL", ConfiguredBy: st.tenant.ClientID(),
		Datasources: []pbitest.Datasource{
			{DatasourceType: "Sql", ConnectionDetails: pbitest.DatasourceConnectionDetails{Server: "sql1", Database: "A"}},
			{DatasourceType: "Sql", ConnectionDetails: pbitest.DatasourceConnectionDetails{Server: "sql1", Database: "B"}},
		}})
	base := map[string]any{"workspace": "Sales Analytics", "dataset": "Two SQL", "confirm": true}
	for _, tc := range []struct {
		from map[string]any
		want string
	}{
		{nil, "has 2 data sources"},
		{map[string]any{"server": "sql1"}, "2 data sources match"},
		{map[string]any{"database": "C"}, "No data source of the model connects to (database=C)"},
	} {
		args := map[string]any{"datasources": []map[string]any{{"from": tc.from, "to": map[string]any{"server": "sql2", "database": "A"}}}}
		if tc.from == nil {
			args = map[string]any{"datasources": []map[string]any{{"to": map[string]any{"server": "sql2", "database": "A"}}}}
		}
		for k, v := range base {
			args[k] = v
		}
		msg := st.fails(t, "update_dataset_parameters", args)
		if !strings.Contains(msg, tc.want) || !strings.Contains(msg, "Sql (database=A, server=sql1); Sql (database=B, server=sql1)") {
			t.Errorf("from %v: %s", tc.from, msg)
		}
	}
	if n := st.tenant.Count(routeUpdateDatasources); n != 0 {
		t.Fatalf("%d data source updates sent for sources that were not found", n)
	}
	if msg := st.fails(t, "update_dataset_parameters", base); !strings.Contains(msg, "Nothing to change") {
		t.Fatalf("no change asked: %s", msg)
	}
	// Without confirm, the user is asked about every change, in the order they would run.
	msg := st.fails(t, "update_dataset_parameters", map[string]any{"workspace": "Sales Analytics", "dataset": "Two SQL",
		"connection_string": "Data Source=x",
		"datasources":       []map[string]any{{"from": map[string]any{"database": "B"}, "to": map[string]any{"server": "sql2", "database": "B"}}}})
	if !strings.Contains(msg, `point every connection at "Data Source=x"; then point the Sql source (database=B, server=sql1) at (database=B, server=sql2)`) ||
		st.tenant.Count(routeSetAllConnections) != 0 {
		t.Fatalf("without confirm: %s", msg)
	}
}
