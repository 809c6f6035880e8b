package tools

import (
	"strings"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

const routeDeleteGatewayUser = "DELETE /v1.0/myorg/gateways/{gatewayId}/datasources/{datasourceId}/users/{emailAddress}"

func TestGatewayTools(t *testing.T) {
	st := newStack(t, stackOptions{})

	var gws GatewayListResult
	st.ok(t, "list_gateways", map[string]any{"top": 1}, &gws)
	if gws.Count != 1 || !gws.HasMore || gws.NextSkip != 1 || gws.Gateways[0].ID != pbitest.DemoGatewayID || gws.Gateways[0].GatewayStatus != "Live" {
		t.Fatalf("list_gateways: %+v", gws)
	}
	var g GatewayResult
	st.ok(t, "get_gateway", map[string]any{"gateway": "Branch Office Gateway"}, &g)
	if g.Gateway.ID != pbitest.DemoUnreachableGatewayID || g.Gateway.GatewayStatus != "Offline" {
		t.Fatalf("get_gateway: %+v", g)
	}

	var sources GatewayDatasourceListResult
	st.ok(t, "list_gateway_datasources", map[string]any{"gateway": "Contoso HQ Gateway"}, &sources)
	if sources.Count != 3 || sources.Gateway.ID != pbitest.DemoGatewayID || sources.Datasources[1].ConnectionDetails.Database != "SalesDW" {
		t.Fatalf("list_gateway_datasources: %+v", sources)
	}
	var one GatewayDatasourceResult
	st.ok(t, "get_gateway_datasource", map[string]any{"gateway": pbitest.DemoGatewayID, "datasource": "Finance Planning SQL"}, &one)
	if one.Datasource.ID != pbitest.DemoFinanceGatewayDatasourceID || one.Datasource.ConnectionDetails.Server != "contoso-finance.database.windows.net" {
		t.Fatalf("get_gateway_datasource: %+v", one)
	}

	var up, down GatewayDatasourceStatusResult
	st.ok(t, "get_gateway_datasource_status", map[string]any{"gateway": pbitest.DemoGatewayID, "datasource": pbitest.DemoSalesGatewayDatasourceID}, &up)
	st.ok(t, "get_gateway_datasource_status", map[string]any{"gateway": "Branch Office Gateway", "datasource": "Branch Files"}, &down)
	if !up.Reachable || down.Reachable || down.ErrorCode != "DM_GWPipeline_Client_GatewayUnreachable" || !strings.Contains(down.Message, "offline") {
		t.Fatalf("status: %+v / %+v", up, down)
	}

	msg := st.fails(t, "get_gateway", map[string]any{"gateway": "No Such Gateway"})
	if !strings.Contains(msg, "list_gateways") {
		t.Errorf("unknown gateway: %s", msg)
	}
}

func TestGatewayDatasourceUserTools(t *testing.T) {
	st := newStack(t, stackOptions{})
	base := map[string]any{"gateway": pbitest.DemoGatewayID, "datasource": "Sales DW SQL"}
	with := func(extra map[string]any) map[string]any {
		m := map[string]any{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}

	var users GatewayDatasourceUsersResult
	st.ok(t, "add_gateway_datasource_user", with(map[string]any{"email_address": "new.analyst@contoso.com"}), &users)
	if users.Count != 4 || users.Users[3].EmailAddress != "new.analyst@contoso.com" || users.Users[3].DatasourceAccessRight != "Read" {
		t.Fatalf("after add: %+v", users)
	}
	msg := st.fails(t, "add_gateway_datasource_user", with(map[string]any{"email_address": "x@contoso.com", "access_right": "ReadOverrideEffectiveIdentity"}))
	if !strings.Contains(msg, "Analysis Services") {
		t.Errorf("override on SQL: %s", msg)
	}

	remove := with(map[string]any{"email_address": pbitest.DemoRemovableGatewayUser})
	msg = st.fails(t, "remove_gateway_datasource_user", remove)
	for _, want := range []string{"Not done", pbitest.DemoRemovableGatewayUser, "Sales DW SQL", "confirm: true", "Nothing was changed"} {
		if !strings.Contains(msg, want) {
			t.Errorf("unconfirmed removal: %q lacks %q", msg, want)
		}
	}
	if n := st.tenant.Count(routeDeleteGatewayUser); n != 0 {
		t.Fatalf("%d DELETE requests without confirmation", n)
	}
	remove["confirm"] = true
	var after GatewayDatasourceUsersResult // fresh: decoding into the old result would merge fields
	st.ok(t, "remove_gateway_datasource_user", remove, &after)
	for _, u := range after.Users {
		if u.EmailAddress == pbitest.DemoRemovableGatewayUser {
			t.Fatalf("still listed after removal: %+v", after)
		}
	}
	var listed GatewayDatasourceUsersResult
	st.ok(t, "list_gateway_datasource_users", base, &listed)
	if listed.Count != 3 {
		t.Fatalf("list_gateway_datasource_users: %+v", listed)
	}
}

func TestBindDatasetToGateway(t *testing.T) {
	st := newStack(t, stackOptions{})
	var found GatewayListResult
	st.ok(t, "discover_gateways", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales"}, &found)
	if found.Count != 1 || found.Gateways[0].ID != pbitest.DemoGatewayID || found.Dataset.ID != pbitest.DemoSalesDatasetID {
		t.Fatalf("discover_gateways: %+v", found)
	}
	// Sales reads a SharePoint list too, which no gateway serves: Power BI refuses.
	msg := st.fails(t, "bind_dataset_to_gateway", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales", "gateway": "Contoso HQ Gateway"})
	if !strings.Contains(msg, "400") || !strings.Contains(msg, "SharePointList") {
		t.Errorf("bind with an unmatched source: %s", msg)
	}

	st.tenant.AddGateway(pbitest.Gateway{ID: "9a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", Name: "Finance Gateway", Datasources: []pbitest.GatewayDatasource{{
		ID: "8b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d5e", DatasourceName: "Planning", DatasourceType: "Sql",
		ConnectionDetails: pbitest.DatasourceConnectionDetails{Server: "contoso-finance.database.windows.net", Database: "Planning"},
		Users:             []pbitest.GatewayDatasourceUser{{Identifier: pbitest.DemoServicePrincipalObjectID, PrincipalType: "App", DatasourceAccessRight: "Read"}}}}})
	var bound BindToGatewayResult
	st.ok(t, "bind_dataset_to_gateway", map[string]any{"workspace": "Finance", "dataset": "Forecast", "gateway": "Finance Gateway",
		"datasources": []string{"8b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d5e"}}, &bound)
	if len(bound.Datasources) != 1 || bound.Datasources[0].GatewayID != "9a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d" {
		t.Fatalf("bind: %+v", bound)
	}
	// list_datasources (datasets toolset) sees the new binding.
	var sources struct {
		Datasources []struct {
			GatewayID    string `json:"gatewayId"`
			DatasourceID string `json:"datasourceId"`
		} `json:"datasources"`
	}
	st.ok(t, "list_datasources", map[string]any{"workspace": "Finance", "dataset": "Forecast"}, &sources)
	if len(sources.Datasources) != 1 || sources.Datasources[0].DatasourceID != "8b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d5e" {
		t.Fatalf("list_datasources after bind: %+v", sources)
	}
}
