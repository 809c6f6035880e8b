package pbiclient_test

import (
	"context"
	"testing"
	"time"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// TestDataflowOperationsOnTheWire checks what Power BI receives for each dataflow operation.
func TestDataflowOperationsOnTheWire(t *testing.T) {
	srv := newTenant(t, pbitest.Options{RefreshDuration: time.Hour})
	srv.SeedDemo()
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()
	ws := pbitest.DemoSalesWorkspaceID
	flows := apiPrefix + "/groups/" + ws + "/dataflows"
	staging := flows + "/" + pbitest.DemoSalesStagingDataflowID

	type sent struct{ method, path, query, body string }
	check := func(what string, err error, want sent) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		reqs := srv.Requests()
		r := reqs[len(reqs)-1]
		if got := (sent{r.Method, r.Path, r.RawQuery, string(r.Body)}); got != want {
			t.Errorf("%s sent %+v, want %+v", what, got, want)
		}
	}

	list, err := c.ListDataflows(ctx, ws)
	check("ListDataflows", err, sent{"GET", flows, "", ""})
	if len(list) != 3 || list[1].ObjectID != pbitest.DemoSalesDataflowID {
		t.Errorf("dataflows = %+v", list)
	}
	if _, err := c.ListDataflows(ctx, ""); err == nil {
		t.Error("ListDataflows without a workspace must fail before sending")
	}
	def, err := c.GetDataflow(ctx, ws, pbitest.DemoSalesDataflowID)
	check("GetDataflow", err, sent{"GET", flows + "/" + pbitest.DemoSalesDataflowID, "", ""})
	if def.Name != "Sales Pipeline" || len(def.Entities) != 3 || def.Entities[0].Attributes[5].Name != "Revenue" {
		t.Errorf("definition = %+v", def)
	}

	err = c.RefreshDataflow(ctx, ws, pbitest.DemoSalesStagingDataflowID, "processFull", "MailOnFailure")
	check("RefreshDataflow", err, sent{"POST", staging + "/refreshes", "processType=processFull", `{"notifyOption":"MailOnFailure"}`})
	before := len(srv.Requests())
	// A second refresh is refused while the first runs, and the POST is not repeated.
	if err := c.RefreshDataflow(ctx, ws, pbitest.DemoSalesStagingDataflowID, "", "NoNotification"); err == nil {
		t.Error("second refresh accepted")
	}
	if n := len(srv.Requests()) - before; n != 1 {
		t.Errorf("refused refresh sent %d requests", n)
	}
	txs, err := c.ListDataflowTransactions(ctx, ws, pbitest.DemoSalesStagingDataflowID)
	check("ListDataflowTransactions", err, sent{"GET", staging + "/transactions", "", ""})
	if len(txs) != 1 || txs[0].Status != "InProgress" {
		t.Fatalf("transactions = %+v", txs)
	}

	st, err := c.CancelDataflowTransaction(ctx, ws, txs[0].ID)
	check("CancelDataflowTransaction", err, sent{"POST", flows + "/transactions/" + txs[0].ID + "/cancel", "", ""})
	if st.Status != "SuccessfullyMarked" || st.TransactionID != txs[0].ID {
		t.Errorf("cancel = %+v", st)
	}

	sources, err := c.ListDataflowDatasources(ctx, ws, pbitest.DemoSalesStagingDataflowID)
	check("ListDataflowDatasources", err, sent{"GET", staging + "/datasources", "", ""})
	if len(sources) != 1 || sources[0].GatewayID != pbitest.DemoGatewayID {
		t.Errorf("datasources = %+v", sources)
	}
	up, err := c.ListUpstreamDataflowsOfDataflow(ctx, ws, pbitest.DemoSalesDataflowID)
	check("ListUpstreamDataflowsOfDataflow", err, sent{"GET", flows + "/" + pbitest.DemoSalesDataflowID + "/upstreamDataflows", "", ""})
	if len(up) != 1 || up[0].TargetDataflowID != pbitest.DemoSalesStagingDataflowID || up[0].GroupID != ws {
		t.Errorf("upstream = %+v", up)
	}

	on := true
	err = c.UpdateDataflowRefreshSchedule(ctx, ws, pbitest.DemoSalesDataflowID, pbiclient.RefreshScheduleUpdate{Days: []string{"Monday"}, Enabled: &on})
	check("UpdateDataflowRefreshSchedule", err, sent{"PATCH", flows + "/" + pbitest.DemoSalesDataflowID + "/refreshSchedule", "", `{"value":{"days":["Monday"],"enabled":true}}`})
}
