package tools

import (
	"strings"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// Routes of the fake tenant the dataset tests count requests on.
const (
	routeDeleteDataset    = "DELETE /v1.0/myorg/groups/{groupId}/datasets/{datasetId}"
	routeTakeOver         = "POST /v1.0/myorg/groups/{groupId}/datasets/{datasetId}/Default.TakeOver"
	routeUpdateParameters = "POST /v1.0/myorg/groups/{groupId}/datasets/{datasetId}/Default.UpdateParameters"
)

func TestGetAndUpdateDataset(t *testing.T) {
	st := newStack(t, stackOptions{})
	var got GetDatasetResult
	st.ok(t, "get_dataset", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales"}, &got)
	d := got.Dataset
	if d.ID != pbitest.DemoSalesDatasetID || d.ConfiguredBy != "megan.bowen@contoso.com" || d.TargetStorageMode != "Abf" ||
		d.QueryScaleOutSettings == nil || !d.QueryScaleOutSettings.AutoSyncReadOnlyReplicas ||
		len(d.UpstreamDataflows) != 1 || d.UpstreamDataflows[0].TargetDataflowID != pbitest.DemoSalesDataflowID {
		t.Fatalf("get_dataset: %+v", got)
	}

	var upd UpdateDatasetResult
	st.ok(t, "update_dataset", map[string]any{"workspace": "Finance", "dataset": "Forecast", "max_read_only_replicas": -1, "auto_sync_read_only_replicas": false}, &upd)
	if q := upd.Dataset.QueryScaleOutSettings; q == nil || q.MaxReadOnlyReplicas != -1 || q.AutoSyncReadOnlyReplicas {
		t.Fatalf("update_dataset read back %+v", upd.Dataset)
	}

	if msg := st.fails(t, "update_dataset", map[string]any{"workspace": "Finance", "dataset": "Forecast"}); !strings.Contains(msg, "Nothing to change") {
		t.Errorf("no change asked: %s", msg)
	}
	// Only the owner may: Power BI's refusal reaches the model with its code.
	msg := st.fails(t, "update_dataset", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales", "target_storage_mode": "PremiumFiles"})
	if !strings.Contains(msg, "HTTP 400 InvalidRequest") || !strings.Contains(msg, "owner") || !strings.Contains(msg, "RequestId") {
		t.Errorf("non-owner update: %s", msg)
	}
	if msg := st.fails(t, "update_dataset", map[string]any{"workspace": "Finance", "dataset": "Forecast", "max_read_only_replicas": 65}); !strings.Contains(msg, "Invalid arguments") {
		t.Errorf("out-of-range replicas: %s", msg)
	}
}

func TestDeleteDatasetNeedsConfirmation(t *testing.T) {
	st := newStack(t, stackOptions{})
	args := map[string]any{"workspace": "Marketing", "dataset": "Old Campaigns 2022"}
	msg := st.fails(t, "delete_dataset", args)
	if !strings.Contains(msg, "ask the user") || !strings.Contains(msg, "Old Campaigns 2022") || !strings.Contains(msg, pbitest.DemoOldCampaignsDatasetID) {
		t.Fatalf("without confirm: %s", msg)
	}
	if n := st.tenant.Count(routeDeleteDataset); n != 0 {
		t.Fatalf("%d DELETE requests sent without confirmation", n)
	}
	var list ListDatasetsResult
	st.ok(t, "list_datasets", map[string]any{"workspace": "Marketing"}, &list)
	before := list.Count

	args["confirm"] = true
	var res DeleteDatasetResult
	st.ok(t, "delete_dataset", args, &res)
	if !res.Deleted || res.Dataset.ID != pbitest.DemoOldCampaignsDatasetID {
		t.Fatalf("delete: %+v", res)
	}
	st.ok(t, "list_datasets", map[string]any{"workspace": "Marketing"}, &list)
	if list.Count != before-1 {
		t.Fatalf("models in Marketing: %d, want %d", list.Count, before-1)
	}
	// A second delete finds nothing to delete, and says so before asking anyone.
	if msg := st.fails(t, "delete_dataset", map[string]any{"workspace": "Marketing", "dataset": pbitest.DemoOldCampaignsDatasetID, "confirm": true}); !strings.Contains(msg, "404") {
		t.Fatalf("second delete: %s", msg)
	}
}

func TestTakeOverThenUpdateParameters(t *testing.T) {
	st := newStack(t, stackOptions{})
	upd := map[string]any{"workspace": "Marketing", "dataset": "Legacy Leads", "confirm": true,
		"updates": []map[string]any{{"name": "Region", "new_value": "APAC"}}}

	// Not the owner yet: the service refuses and nothing changes.
	if msg := st.fails(t, "update_dataset_parameters", upd); !strings.Contains(msg, "InvalidRequest") || !strings.Contains(msg, "owner") {
		t.Fatalf("update by a non-owner: %s", msg)
	}

	take := map[string]any{"workspace": "Marketing", "dataset": "Legacy Leads"}
	if msg := st.fails(t, "take_over_dataset", take); !strings.Contains(msg, "ask the user") || !strings.Contains(msg, "adele.vance@contoso.com") {
		t.Fatalf("take over without confirm: %s", msg)
	}
	if n := st.tenant.Count(routeTakeOver); n != 0 {
		t.Fatalf("%d take-over requests sent without confirmation", n)
	}
	take["confirm"] = true
	var over TakeOverResult
	st.ok(t, "take_over_dataset", take, &over)
	if over.PreviousOwner != "adele.vance@contoso.com" || over.ConfiguredBy != st.tenant.ClientID() {
		t.Fatalf("take over: %+v", over)
	}

	// Without confirm the parameters stay as they are.
	noConfirm := map[string]any{"workspace": "Marketing", "dataset": "Legacy Leads", "updates": upd["updates"]}
	sentBefore := st.tenant.Count(routeUpdateParameters)
	if msg := st.fails(t, "update_dataset_parameters", noConfirm); !strings.Contains(msg, `Region = "APAC"`) || !strings.Contains(msg, "Nothing was changed") {
		t.Fatalf("update without confirm: %s", msg)
	}
	if st.tenant.Count(routeUpdateParameters) != sentBefore {
		t.Fatal("an update was sent without confirmation")
	}

	var res UpdateDatasetParametersResult
	st.ok(t, "update_dataset_parameters", upd, &res)
	if len(res.Parameters) != 1 || res.Parameters[0].CurrentValue != "APAC" || !strings.Contains(res.Message, "refresh_dataset") {
		t.Fatalf("update: %+v", res)
	}

	// Take-over has no My workspace variant: the workspace is required.
	if msg := st.fails(t, "take_over_dataset", map[string]any{"dataset": pbitest.DemoPersonalBudgetDatasetID, "confirm": true}); !strings.Contains(msg, "workspace") {
		t.Fatalf("take over in My workspace: %s", msg)
	}
}

func TestUpdateParametersReportsTheServiceRules(t *testing.T) {
	st := newStack(t, stackOptions{})
	msg := st.fails(t, "update_dataset_parameters", map[string]any{"workspace": "Finance", "dataset": "Forecast", "confirm": true,
		"updates": []map[string]any{{"name": "SourceQuery", "new_value": "Other"}}})
	if !strings.Contains(msg, "type Any") {
		t.Fatalf("Any parameter: %s", msg)
	}
	var params ListDatasetParametersResult
	st.ok(t, "list_dataset_parameters", map[string]any{"workspace": "Finance", "dataset": "Forecast"}, &params)
	if params.Count != 4 || params.Parameters[3].CurrentValue != "Planning" || params.Parameters[0].SuggestedValues[1] != "Optimistic" {
		t.Fatalf("parameters: %+v", params)
	}
	if msg := st.fails(t, "update_dataset_parameters", map[string]any{"workspace": "Finance", "dataset": "Forecast", "confirm": true,
		"updates": []map[string]any{}}); !strings.Contains(msg, "Invalid arguments") {
		t.Fatalf("empty updates: %s", msg)
	}
}

func TestDatasourcesUsersAndDataflows(t *testing.T) {
	st := newStack(t, stackOptions{})
	var src ListDatasourcesResult
	st.ok(t, "list_datasources", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales", "top": 1}, &src)
	if src.Count != 1 || !src.HasMore || src.NextSkip != 1 || src.Datasources[0].DatasourceType != "Sql" ||
		src.Datasources[0].ConnectionDetails["database"] != "SalesDW" || len(src.Datasources[0].ConnectionDetails) != 2 {
		t.Fatalf("datasources: %+v", src)
	}

	var grant GrantDatasetAccessResult
	st.ok(t, "grant_dataset_access", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales",
		"identifier": "joni.sherman@contoso.com", "principal_type": "User", "access_right": "ReadExplore"}, &grant)
	var users ListDatasetUsersResult
	st.ok(t, "list_dataset_users", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales"}, &users)
	found := false
	for _, u := range users.Users {
		found = found || (u.Identifier == "joni.sherman@contoso.com" && u.DatasetUserAccessRight == "ReadExplore")
	}
	if !found || users.Count != 3 {
		t.Fatalf("users after grant: %+v", users)
	}
	// Write cannot be granted this way; the schema says so before Power BI is asked.
	if msg := st.fails(t, "grant_dataset_access", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales",
		"identifier": "joni.sherman@contoso.com", "principal_type": "User", "access_right": "ReadWrite"}); !strings.Contains(msg, "access_right") {
		t.Fatalf("ReadWrite: %s", msg)
	}

	var links ListUpstreamDataflowsResult
	st.ok(t, "list_upstream_dataflows", map[string]any{"workspace": "Sales Analytics"}, &links)
	if links.Count != 1 || links.Links[0].DatasetObjectID != pbitest.DemoSalesDatasetID || links.Links[0].DataflowObjectID != pbitest.DemoSalesDataflowID {
		t.Fatalf("links: %+v", links)
	}
	if msg := st.fails(t, "list_upstream_dataflows", nil); !strings.Contains(msg, "workspace") {
		t.Fatalf("no workspace: %s", msg)
	}
}
