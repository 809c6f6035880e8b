package pbiclient_test

import (
	"context"
	"errors"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// TestGatewayOperationsOnTheWire checks what Power BI receives for each gateway operation
// and what the client makes of the answers.
func TestGatewayOperationsOnTheWire(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	srv.SeedDemo()
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()
	gw, sales := pbitest.DemoGatewayID, pbitest.DemoSalesGatewayDatasourceID
	dsPath := apiPrefix + "/gateways/" + gw + "/datasources/" + sales

	type sent struct{ method, path, body string }
	check := func(what string, err error, want sent) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		reqs := srv.Requests()
		r := reqs[len(reqs)-1]
		if got := (sent{r.Method, r.Path, string(r.Body)}); got != want {
			t.Errorf("%s sent %+v, want %+v", what, got, want)
		}
	}

	gws, err := c.ListGateways(ctx)
	check("ListGateways", err, sent{"GET", apiPrefix + "/gateways", ""})
	if len(gws) != 2 || gws[0].PublicKey == nil || gws[1].GatewayStatus != "Offline" {
		t.Errorf("gateways = %+v", gws)
	}
	g, err := c.GetGateway(ctx, gw)
	check("GetGateway", err, sent{"GET", apiPrefix + "/gateways/" + gw, ""})
	if g.Name != "Contoso HQ Gateway" {
		t.Errorf("gateway = %+v", g)
	}

	sources, err := c.ListGatewayDatasources(ctx, gw)
	check("ListGatewayDatasources", err, sent{"GET", apiPrefix + "/gateways/" + gw + "/datasources", ""})
	if len(sources) != 3 {
		t.Fatalf("datasources = %+v", sources)
	}
	details, err := sources[1].Details()
	if err != nil || details.Server != "contoso-sales.database.windows.net" || details.Database != "SalesDW" {
		t.Errorf("details of %q = %+v, %v", sources[1].ConnectionDetails, details, err)
	}
	if _, err := (pbiclient.GatewayDatasource{ConnectionDetails: "not json"}).Details(); err == nil {
		t.Error("Details accepted a string that is not JSON")
	}
	one, err := c.GetGatewayDatasource(ctx, gw, sales)
	check("GetGatewayDatasource", err, sent{"GET", dsPath, ""})
	if one.DatasourceName != "Sales DW SQL" || one.CredentialType != "Basic" {
		t.Errorf("datasource = %+v", one)
	}

	err = c.CheckGatewayDatasource(ctx, gw, sales)
	check("CheckGatewayDatasource", err, sent{"GET", dsPath + "/status", ""})
	err = c.CheckGatewayDatasource(ctx, pbitest.DemoUnreachableGatewayID, pbitest.DemoBranchGatewayDatasourceID)
	var ae *pbiclient.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 400 || ae.Code != "DM_GWPipeline_Client_GatewayUnreachable" {
		t.Errorf("unreachable: %v", err)
	}

	err = c.AddGatewayDatasourceUser(ctx, gw, sales, pbiclient.DatasourceUser{EmailAddress: "new@contoso.com", DatasourceAccessRight: "Read"})
	check("AddGatewayDatasourceUser", err, sent{"POST", dsPath + "/users", `{"datasourceAccessRight":"Read","emailAddress":"new@contoso.com"}`})
	err = c.DeleteGatewayDatasourceUser(ctx, gw, sales, pbitest.DemoRemovableGatewayUser)
	check("DeleteGatewayDatasourceUser", err, sent{"DELETE", dsPath + "/users/" + pbitest.DemoRemovableGatewayUser, ""})
	users, err := c.ListGatewayDatasourceUsers(ctx, gw, sales)
	check("ListGatewayDatasourceUsers", err, sent{"GET", dsPath + "/users", ""})
	if len(users) != 3 || users[2].EmailAddress != "new@contoso.com" || users[1].PrincipalType != "App" {
		t.Errorf("users = %+v", users)
	}

	fin, forecast := pbitest.DemoFinanceWorkspaceID, pbitest.DemoForecastDatasetID
	model := apiPrefix + "/groups/" + fin + "/datasets/" + forecast
	found, err := c.DiscoverGateways(ctx, fin, forecast)
	check("DiscoverGateways", err, sent{"GET", model + "/Default.DiscoverGateways", ""})
	if len(found) != 1 || found[0].ID != gw {
		t.Errorf("discovered = %+v", found)
	}
	err = c.BindToGateway(ctx, fin, forecast, gw, []string{pbitest.DemoFinanceGatewayDatasourceID})
	check("BindToGateway", err, sent{"POST", model + "/Default.BindToGateway",
		`{"gatewayObjectId":"` + gw + `","datasourceObjectIds":["` + pbitest.DemoFinanceGatewayDatasourceID + `"]}`})
	err = c.BindToGateway(ctx, fin, forecast, gw, nil)
	check("BindToGateway without ids", err, sent{"POST", model + "/Default.BindToGateway", `{"gatewayObjectId":"` + gw + `"}`})
}
