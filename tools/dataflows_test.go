package tools

import (
	"strings"
	"testing"
	"time"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

func TestDataflowReadTools(t *testing.T) {
	st := newStack(t, stackOptions{})

	var flows DataflowListResult
	st.ok(t, "list_dataflows", map[string]any{"workspace": "Sales Analytics"}, &flows)
	if flows.Count != 3 || flows.Dataflows[1].ObjectID != pbitest.DemoSalesDataflowID {
		t.Fatalf("list_dataflows: %+v", flows)
	}
	var def DataflowResult
	st.ok(t, "get_dataflow", map[string]any{"workspace": "Sales Analytics", "dataflow": "Sales Pipeline"}, &def)
	if def.Dataflow.ID != pbitest.DemoSalesDataflowID || len(def.Entities) != 3 || def.Entities[0].Name != "Orders" ||
		def.Entities[0].Columns[5] != "Revenue (decimal)" {
		t.Fatalf("get_dataflow: %+v", def)
	}
	var sources DataflowDatasourcesResult
	st.ok(t, "list_dataflow_datasources", map[string]any{"workspace": "Sales Analytics", "dataflow": "Sales Staging"}, &sources)
	if sources.Count != 1 || sources.Datasources[0].GatewayID != pbitest.DemoGatewayID {
		t.Fatalf("list_dataflow_datasources: %+v", sources)
	}
	var up UpstreamDataflowsOfDataflowResult
	st.ok(t, "list_dataflow_upstream_dataflows", map[string]any{"workspace": "Sales Analytics", "dataflow": pbitest.DemoSalesDataflowID}, &up)
	if up.Count != 1 || up.Upstream[0].TargetDataflowID != pbitest.DemoSalesStagingDataflowID {
		t.Fatalf("upstream: %+v", up)
	}
	var txs DataflowTransactionsResult
	st.ok(t, "list_dataflow_transactions", map[string]any{"workspace": "Sales Analytics", "dataflow": "Sales Pipeline"}, &txs)
	if txs.Count != 2 || txs.Transactions[0].Status != "Success" || txs.Transactions[1].Status != "Failed" {
		t.Fatalf("list_dataflow_transactions: %+v", txs)
	}

	if msg := st.fails(t, "list_dataflows", map[string]any{}); !strings.Contains(msg, "workspace") {
		t.Errorf("no workspace: %s", msg)
	}
}

func TestDataflowRefreshAndCancel(t *testing.T) {
	// The refresh must still run when it is cancelled, however slow the machine.
	st := newStack(t, stackOptions{tenant: pbitest.Options{RefreshDuration: time.Hour}})
	args := map[string]any{"workspace": "Sales Analytics", "dataflow": "Sales Staging", "process_type": "processFull"}
	var started DataflowTransactionsResult
	st.ok(t, "refresh_dataflow", args, &started)
	if started.Count != 1 || started.Transactions[0].Status != "InProgress" {
		t.Fatalf("refresh_dataflow: %+v", started)
	}
	if n := st.tenant.Count("POST /v1.0/myorg/groups/{groupId}/dataflows/{dataflowId}/refreshes"); n != 1 {
		t.Fatalf("%d refresh requests", n)
	}
	if msg := st.fails(t, "refresh_dataflow", args); !strings.Contains(msg, "already in progress") {
		t.Errorf("second refresh: %s", msg)
	}

	var cancelled CancelDataflowResult
	st.ok(t, "cancel_dataflow_transaction", map[string]any{"workspace": "Sales Analytics", "transaction_id": started.Transactions[0].ID}, &cancelled)
	if cancelled.Status != "SuccessfullyMarked" || cancelled.TransactionID != started.Transactions[0].ID {
		t.Fatalf("cancel: %+v", cancelled)
	}
	var txs DataflowTransactionsResult
	st.ok(t, "list_dataflow_transactions", map[string]any{"workspace": "Sales Analytics", "dataflow": "Sales Staging"}, &txs)
	if txs.Transactions[0].Status != "Cancelled" {
		t.Fatalf("after cancel: %+v", txs)
	}
	st.ok(t, "cancel_dataflow_transaction", map[string]any{"workspace": "Sales Analytics", "transaction_id": started.Transactions[0].ID}, &cancelled)
	if cancelled.Status != "AlreadyConcluded" || !strings.Contains(cancelled.Message, "already ended") {
		t.Fatalf("second cancel: %+v", cancelled)
	}
}

func TestUpdateDataflowRefreshSchedule(t *testing.T) {
	st := newStack(t, stackOptions{})
	args := map[string]any{"workspace": "Sales Analytics", "dataflow": "Sales Pipeline"}
	if msg := st.fails(t, "update_dataflow_refresh_schedule", args); !strings.Contains(msg, "Nothing to change") {
		t.Errorf("no change: %s", msg)
	}
	args["enabled"] = false
	args["days"] = []string{"Monday"}
	if msg := st.fails(t, "update_dataflow_refresh_schedule", args); !strings.Contains(msg, "enabled=false alone") {
		t.Errorf("disable and change: %s", msg)
	}
	delete(args, "enabled")
	args["notify_option"] = "MailOnFailure"
	if msg := st.fails(t, "update_dataflow_refresh_schedule", args); !strings.Contains(msg, "400") || !strings.Contains(msg, "app only") {
		t.Errorf("mail for a service principal: %s", msg)
	}
	args["notify_option"] = "NoNotification"
	args["times"] = []string{"06:30", "18:00"}
	var res DataflowScheduleResult
	st.ok(t, "update_dataflow_refresh_schedule", args, &res)
	days, times, enabled, _ := st.tenant.DataflowSchedule(pbitest.DemoSalesWorkspaceID, pbitest.DemoSalesDataflowID)
	if strings.Join(days, ",") != "Monday" || strings.Join(times, ",") != "06:30,18:00" || !enabled {
		t.Fatalf("schedule: %v %v %v", days, times, enabled)
	}
}

func TestUpdateDataflow(t *testing.T) {
	st := newStack(t, stackOptions{})
	var res UpdateDataflowResult
	st.ok(t, "update_dataflow", map[string]any{"workspace": "Finance", "dataflow": "Finance Ledger", "name": "General Ledger",
		"description": "", "allow_native_queries": true, "compute_engine_behavior": "computeOn"}, &res)
	if res.Dataflow.ObjectID != pbitest.DemoFinanceLedgerDataflowID || res.Dataflow.Name != "General Ledger" || res.Dataflow.Description != "" {
		t.Fatalf("update_dataflow: %+v", res)
	}
	if df, _ := st.tenant.DataflowSettings(pbitest.DemoFinanceWorkspaceID, pbitest.DemoFinanceLedgerDataflowID); !df.AllowNativeQueries || df.ComputeEngineBehavior != "computeOn" {
		t.Fatalf("stored after the update: %+v", df)
	}
	// get_dataflow reads the new name from Power BI.
	var def DataflowResult
	st.ok(t, "get_dataflow", map[string]any{"workspace": "Finance", "dataflow": "General Ledger"}, &def)
	if def.Name != "General Ledger" {
		t.Fatalf("get_dataflow after the rename: %+v", def)
	}
	if msg := st.fails(t, "update_dataflow", map[string]any{"workspace": "Finance", "dataflow": "General Ledger"}); !strings.Contains(msg, "Nothing to change") {
		t.Fatalf("no change: %s", msg)
	}
	if msg := st.fails(t, "update_dataflow", map[string]any{"workspace": "Finance", "dataflow": "General Ledger", "compute_engine_behavior": "fast"}); !strings.Contains(msg, "Invalid arguments") {
		t.Fatalf("unknown compute engine value: %s", msg)
	}
}

func TestDeleteDataflowNeedsConfirmation(t *testing.T) {
	st := newStack(t, stackOptions{})
	const route = "DELETE /v1.0/myorg/groups/{groupId}/dataflows/{dataflowId}"
	args := map[string]any{"workspace": "Finance", "dataflow": pbitest.DemoFinanceLedgerDataflowID}
	msg := st.fails(t, "delete_dataflow", args)
	if !strings.Contains(msg, "ask the user") || !strings.Contains(msg, "Finance Ledger (id "+pbitest.DemoFinanceLedgerDataflowID+")") {
		t.Fatalf("without confirm: %s", msg)
	}
	if n := st.tenant.Count(route); n != 0 {
		t.Fatalf("%d DELETE requests sent without confirmation", n)
	}
	args["confirm"] = true
	var res DeleteDataflowResult
	st.ok(t, "delete_dataflow", args, &res)
	if !res.Deleted || res.Dataflow.Name != "Finance Ledger" {
		t.Fatalf("delete: %+v", res)
	}
	var flows DataflowListResult
	st.ok(t, "list_dataflows", map[string]any{"workspace": "Finance"}, &flows)
	if flows.Count != 0 {
		t.Fatalf("dataflows left: %+v", flows.Dataflows)
	}
	if msg := st.fails(t, "delete_dataflow", args); !strings.Contains(msg, "No dataflow with id") || st.tenant.Count(route) != 1 {
		t.Fatalf("second delete: %s", msg)
	}
}
