package pbiclient_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// TestDatasetOperationsOnTheWire checks what Power BI receives for each model operation:
// method, path and body, for a workspace and, where the API has one, for My workspace.
func TestDatasetOperationsOnTheWire(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	srv.SeedDemo()
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()
	fin, forecast := pbitest.DemoFinanceWorkspaceID, pbitest.DemoForecastDatasetID
	group := apiPrefix + "/groups/" + fin + "/datasets/" + forecast

	type sent struct{ method, path, body string }
	last := func() sent {
		reqs := srv.Requests()
		r := reqs[len(reqs)-1]
		return sent{r.Method, r.Path, string(r.Body)}
	}
	check := func(what string, err error, want sent) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got := last(); got != want {
			t.Errorf("%s sent %+v, want %+v", what, got, want)
		}
	}

	ds, err := c.GetDataset(ctx, fin, forecast)
	check("GetDataset", err, sent{"GET", group, ""})
	if ds.Name != "Forecast" || ds.ConfiguredBy != srv.ClientID() || ds.QueryScaleOutSettings == nil || !ds.QueryScaleOutSettings.AutoSyncReadOnlyReplicas {
		t.Errorf("dataset = %+v", ds)
	}

	replicas := 4
	err = c.UpdateDataset(ctx, fin, forecast, pbiclient.UpdateDatasetRequest{QueryScaleOutSettings: &pbiclient.QueryScaleOutSettingsPatch{MaxReadOnlyReplicas: &replicas}})
	check("UpdateDataset", err, sent{"PATCH", group, `{"queryScaleOutSettings":{"maxReadOnlyReplicas":4}}`})
	err = c.UpdateDataset(ctx, fin, forecast, pbiclient.UpdateDatasetRequest{TargetStorageMode: "PremiumFiles"})
	check("UpdateDataset mode", err, sent{"PATCH", group, `{"targetStorageMode":"PremiumFiles"}`})
	if ds, _ := c.GetDataset(ctx, fin, forecast); ds.QueryScaleOutSettings.MaxReadOnlyReplicas != 4 {
		t.Errorf("scale-out after update = %+v", ds.QueryScaleOutSettings)
	}

	sources, err := c.ListDatasources(ctx, fin, forecast)
	check("ListDatasources", err, sent{"GET", group + "/datasources", ""})
	if len(sources) != 1 || sources[0].ConnectionDetails.Database != "Planning" || sources[0].GatewayID == "" {
		t.Errorf("datasources = %+v", sources)
	}

	params, err := c.ListDatasetParameters(ctx, fin, forecast)
	check("ListDatasetParameters", err, sent{"GET", group + "/parameters", ""})
	if len(params) != 4 || params[0].Name != "Scenario" || !reflect.DeepEqual(params[0].SuggestedValues, []string{"Base", "Optimistic", "Pessimistic"}) {
		t.Errorf("parameters = %+v", params)
	}
	err = c.UpdateDatasetParameters(ctx, fin, forecast, []pbiclient.ParameterUpdate{{Name: "Scenario", NewValue: "Pessimistic"}})
	check("UpdateDatasetParameters", err, sent{"POST", group + "/Default.UpdateParameters", `{"updateDetails":[{"name":"Scenario","newValue":"Pessimistic"}]}`})

	users, err := c.ListDatasetUsers(ctx, fin, forecast)
	check("ListDatasetUsers", err, sent{"GET", group + "/users", ""})
	if len(users) != 1 || users[0].PrincipalType != "User" {
		t.Errorf("users = %+v", users)
	}
	err = c.GrantDatasetAccess(ctx, fin, forecast, pbiclient.DatasetUser{Identifier: "f1e2d3c4-0000-4000-8000-000000000001", PrincipalType: "Group", DatasetUserAccessRight: "ReadExplore"})
	check("GrantDatasetAccess", err, sent{"POST", group + "/users",
		`{"identifier":"f1e2d3c4-0000-4000-8000-000000000001","principalType":"Group","datasetUserAccessRight":"ReadExplore"}`})

	links, err := c.ListUpstreamDataflows(ctx, pbitest.DemoSalesWorkspaceID)
	check("ListUpstreamDataflows", err, sent{"GET", apiPrefix + "/groups/" + pbitest.DemoSalesWorkspaceID + "/datasets/upstreamDataflows", ""})
	if len(links) != 1 || links[0].DataflowObjectID != pbitest.DemoSalesDataflowID {
		t.Errorf("links = %+v", links)
	}
	if _, err := c.ListUpstreamDataflows(ctx, ""); err == nil {
		t.Error("ListUpstreamDataflows without a workspace must fail before sending")
	}

	leads := apiPrefix + "/groups/" + pbitest.DemoMarketingWorkspaceID + "/datasets/" + pbitest.DemoLegacyLeadsDatasetID
	err = c.TakeOverDataset(ctx, pbitest.DemoMarketingWorkspaceID, pbitest.DemoLegacyLeadsDatasetID)
	check("TakeOverDataset", err, sent{"POST", leads + "/Default.TakeOver", ""})
	if err := c.TakeOverDataset(ctx, "", pbitest.DemoPersonalBudgetDatasetID); err == nil {
		t.Error("TakeOverDataset without a workspace must fail before sending")
	}

	old := apiPrefix + "/groups/" + pbitest.DemoMarketingWorkspaceID + "/datasets/" + pbitest.DemoOldCampaignsDatasetID
	err = c.DeleteDataset(ctx, pbitest.DemoMarketingWorkspaceID, pbitest.DemoOldCampaignsDatasetID)
	check("DeleteDataset", err, sent{"DELETE", old, ""})
	_, err = c.GetDataset(ctx, pbitest.DemoMarketingWorkspaceID, pbitest.DemoOldCampaignsDatasetID)
	var ae *pbiclient.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 404 || ae.Code != "ItemNotFound" {
		t.Fatalf("deleted model: %v", err)
	}

	// My workspace variants have no groups segment.
	_, err = c.ListDatasetParameters(ctx, "", pbitest.DemoPersonalBudgetDatasetID)
	check("My workspace parameters", err, sent{"GET", apiPrefix + "/datasets/" + pbitest.DemoPersonalBudgetDatasetID + "/parameters", ""})
}

// TestUpdateParametersNotOwner checks that the service's refusal reaches the caller as an
// APIError with its code and message.
func TestUpdateParametersNotOwner(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	srv.SeedDemo()
	c := newClient(t, srv, newTenantTokens(srv))
	err := c.UpdateDatasetParameters(context.Background(), pbitest.DemoSalesWorkspaceID, pbitest.DemoSalesDatasetID,
		[]pbiclient.ParameterUpdate{{Name: "DatabaseName", NewValue: "SalesDW2"}})
	var ae *pbiclient.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 400 || ae.Code != "InvalidRequest" || ae.RequestID == "" {
		b, _ := json.Marshal(ae)
		t.Fatalf("err = %v (%s)", err, b)
	}
}
