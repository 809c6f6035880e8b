package pbiclient_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// rowsJSON is how a result reads once encoded, the form every caller passes on: a whole
// number is the same whether it came as an Arrow double or a JSON number.
func rowsJSON(t testing.TB, r pbiclient.QueryResult) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"columns": r.Columns, "rows": r.Rows})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The Arrow path and executeQueries give the same table for the same query, each EVALUATE of
// a query being one table: integers, doubles, text, dates, blanks, computed columns and INFO.
func TestExecuteQueryArrowSameRowsAsJSON(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	srv.SeedDemo()
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()
	queries := []string{
		"EVALUATE 'Product' ORDER BY Product[ProductKey]", // integers, decimals, text, blank colours
		"EVALUATE 'Date' ORDER BY 'Date'[Date]",           // dates
		`EVALUATE SUMMARIZECOLUMNS(Customer[Country], "Sales", [Total Sales], "Orders", [Order Count]) ORDER BY Customer[Country]`,
		"EVALUATE INFO.VIEW.COLUMNS()", // blanks in every row of a column
	}
	var want []string
	for _, q := range queries {
		res, err := c.ExecuteQuery(ctx, pbitest.DemoSalesWorkspaceID, pbitest.DemoSalesDatasetID, q, pbiclient.QueryOptions{IncludeNulls: true})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, rowsJSON(t, res))
	}
	// All four EVALUATEs in one query: four tables, in order.
	srv.ResetRequests()
	tables, err := c.ExecuteQueryArrow(ctx, pbitest.DemoSalesWorkspaceID, pbitest.DemoSalesDatasetID, strings.Join(queries, "\n"), pbiclient.QueryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) != len(queries) {
		t.Fatalf("%d tables for %d EVALUATEs", len(tables), len(queries))
	}
	for i, tbl := range tables {
		if got := rowsJSON(t, tbl); got != want[i] {
			t.Errorf("%s:\narrow %.400s\njson  %.400s", queries[i], got, want[i])
		}
	}
	if _, ok := tables[0].Rows[0][0].(int64); !ok {
		t.Errorf("an Int64 column must decode as int64: %T", tables[0].Rows[0][0])
	}
	if d := tables[1].Rows[0][0]; d != "2024-01-01T00:00:00" {
		t.Errorf("a date must read as executeQueries writes it: %v", d)
	}

	// The wire: one POST to executeDaxQueries with the documented body, one query string.
	reqs := apiRequests(srv)
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.Method != "POST" || r.Path != apiPrefix+"/groups/"+pbitest.DemoSalesWorkspaceID+"/datasets/"+pbitest.DemoSalesDatasetID+"/executeDaxQueries" || r.Status != 200 {
		t.Fatalf("request %s %s -> %d", r.Method, r.Path, r.Status)
	}
	var body map[string]any
	if err := json.Unmarshal(r.Body, &body); err != nil || len(body) != 1 || !strings.HasPrefix(fmt.Sprint(body["query"]), "EVALUATE 'Product'") {
		t.Fatalf("body %s (%v)", r.Body, err)
	}
}

// Arrow has no row limit: a result over executeQueries' 100,000 rows comes whole.
func TestExecuteQueryArrowNoRowLimit(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	ws := srv.AddWorkspace(pbitest.Workspace{Name: "Big", IsOnDedicatedCapacity: true})
	ds := srv.AddDataset(ws.ID, pbitest.Dataset{Name: "Facts"})
	srv.SetModel(ds.ID, pbitest.LargeModel(100_010))
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()
	js, err := c.ExecuteQuery(ctx, ws.ID, ds.ID, "EVALUATE Facts", pbiclient.QueryOptions{IncludeNulls: true})
	if err != nil || js.RowLimit == "" || len(js.Rows) != 100_000 {
		t.Fatalf("executeQueries: %d rows, limit %q, %v", len(js.Rows), js.RowLimit, err)
	}
	tables, err := c.ExecuteQueryArrow(ctx, ws.ID, ds.ID, "EVALUATE Facts", pbiclient.QueryOptions{})
	if err != nil || len(tables) != 1 || len(tables[0].Rows) != 100_010 || tables[0].RowLimit != "" {
		t.Fatalf("arrow: %v", err)
	}
	last := tables[0].Rows[100_009]
	if last[0] != int64(100_010) || last[4] != nil {
		t.Fatalf("last row %v", last)
	}
	js.Rows, js.RowLimit = js.Rows[:1000], ""
	tables[0].Rows = tables[0].Rows[:1000]
	if rowsJSON(t, js) != rowsJSON(t, tables[0]) {
		t.Fatal("the first rows differ between executeQueries and Arrow")
	}
}

// A DAX error arrives as an error stream in a 200 answer: a *QueryError with the DAX message.
func TestExecuteQueryArrowErrorBatch(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	srv.SeedDemo()
	c := newClient(t, srv, newTenantTokens(srv))
	_, err := c.ExecuteQueryArrow(context.Background(), pbitest.DemoSalesWorkspaceID, pbitest.DemoSalesDatasetID,
		"EVALUATE Product EVALUATE Nope", pbiclient.QueryOptions{})
	var qe *pbiclient.QueryError
	if !errors.As(err, &qe) || qe.Code != "DatasetExecuteQueriesError" || !strings.Contains(qe.Message, "Failed to resolve name 'Nope'") || qe.RequestID == "" {
		t.Fatalf("error %v", err)
	}
	reqs := apiRequests(srv)
	if last := reqs[len(reqs)-1]; last.Status != 200 {
		t.Fatalf("status %d, want the error in a 200 answer", last.Status)
	}
}

// Where Power BI serves no Arrow (shared capacity, push models, My workspace), the error says so,
// and keeps the service's answer.
func TestExecuteQueryArrowUnavailable(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	srv.SeedDemo()
	c := newClient(t, srv, newTenantTokens(srv))
	for name, at := range map[string][2]string{
		"shared capacity": {pbitest.DemoMarketingWorkspaceID, pbitest.DemoWebTrafficDatasetID},
		"push model":      {pbitest.DemoSalesWorkspaceID, pbitest.DemoLiveOrdersDatasetID},
		"My workspace":    {"", pbitest.DemoPersonalBudgetDatasetID},
	} {
		_, err := c.ExecuteQueryArrow(context.Background(), at[0], at[1], "EVALUATE ROW(\"x\", 1)", pbiclient.QueryOptions{})
		if !errors.Is(err, pbiclient.ErrArrowUnavailable) {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if ae := asAPIError(t, err); ae.StatusCode != 403 || ae.Code != "FeatureNotAvailableError" {
			t.Errorf("%s: %+v", name, ae)
		}
	}
	// A fault of the request is not taken for "no Arrow here".
	_, err := c.ExecuteQueryArrow(context.Background(), pbitest.DemoSalesWorkspaceID, pbitest.DemoSalesDatasetID, "", pbiclient.QueryOptions{})
	if errors.Is(err, pbiclient.ErrArrowUnavailable) || err == nil {
		t.Errorf("empty query: %v", err)
	}
}

// A 100,000-row result through each path. The fake tenant runs in the same process, so both
// figures include its evaluation and encoding; the difference is the wire format.
func BenchmarkQuery100kRows(b *testing.B) {
	srv := newTenant(b, pbitest.Options{})
	ws := srv.AddWorkspace(pbitest.Workspace{Name: "Big", IsOnDedicatedCapacity: true})
	ds := srv.AddDataset(ws.ID, pbitest.Dataset{Name: "Facts"})
	srv.SetModel(ds.ID, pbitest.LargeModel(100_000))
	c := newClient(b, srv, newTenantTokens(srv))
	ctx := context.Background()
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			res, err := c.ExecuteQuery(ctx, ws.ID, ds.ID, "EVALUATE Facts", pbiclient.QueryOptions{IncludeNulls: true})
			if err != nil || len(res.Rows) != 100_000 {
				b.Fatal(len(res.Rows), err)
			}
		}
	})
	b.Run("arrow", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			res, err := c.ExecuteQueryArrow(ctx, ws.ID, ds.ID, "EVALUATE Facts", pbiclient.QueryOptions{})
			if err != nil || len(res[0].Rows) != 100_000 {
				b.Fatal(err)
			}
		}
	})
}

// Row-level security: the user to filter for goes as effectiveUsername, and Arrow returns the
// rows executeQueries returns for impersonatedUserName.
func TestExecuteQueryArrowEffectiveUsername(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	srv.SeedDemo()
	c := newClient(t, srv, userTokens{srv}) // the model's owner, who sees every row
	ctx := context.Background()
	const query = `EVALUATE SUMMARIZECOLUMNS('Region'[Region], "Rows", COUNTROWS(Sales))`
	opts := pbiclient.QueryOptions{ImpersonatedUserName: pbitest.DemoWestUser}
	js, err := c.ExecuteQuery(ctx, pbitest.DemoSalesWorkspaceID, pbitest.DemoRegionalSalesDatasetID, query, opts)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := c.ExecuteQueryArrow(ctx, pbitest.DemoSalesWorkspaceID, pbitest.DemoRegionalSalesDatasetID, query, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(js.Rows) != 1 || js.Rows[0][0] != "West" || rowsJSON(t, js) != rowsJSON(t, tables[0]) {
		t.Fatalf("executeQueries %v, Arrow %v: want the West rows from both", js.Rows, tables[0].Rows)
	}
	reqs := apiRequests(srv)
	var body map[string]any
	if err := json.Unmarshal(reqs[len(reqs)-1].Body, &body); err != nil || body["effectiveUsername"] != pbitest.DemoWestUser {
		t.Fatalf("body %s", reqs[len(reqs)-1].Body)
	}
}
