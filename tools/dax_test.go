package tools

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// salesByCountry computes [Total Sales] and [Order Count] per customer country straight from the
// rows the sandbox seeds, without the DAX engine.
func salesByCountry(t *testing.T) (map[string]float64, map[string]int) {
	m := pbitest.DemoSalesModel()
	var customers, sales *pbitest.Table
	for _, tbl := range m.Tables {
		switch tbl.Name {
		case "Customer":
			customers = tbl
		case "Sales":
			sales = tbl
		}
	}
	country := map[int64]string{}
	for _, r := range customers.Rows {
		country[r[0].(int64)] = r[3].(string)
	}
	total := map[string]float64{}
	orders := map[string]map[string]bool{}
	for _, r := range sales.Rows {
		c := country[r[3].(int64)]
		total[c] += r[6].(float64)
		if orders[c] == nil {
			orders[c] = map[string]bool{}
		}
		orders[c][r[0].(string)] = true
	}
	counts := map[string]int{}
	for c, o := range orders {
		counts[c] = len(o)
	}
	if len(total) < 5 {
		t.Fatalf("the demo model should spread sales over the countries: %v", total)
	}
	return total, counts
}

func TestExecuteDAXQuerySummarizeColumns(t *testing.T) {
	st := newStack(t, stackOptions{})
	var res DAXQueryResult
	st.ok(t, "execute_dax_query", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales",
		"query": `EVALUATE SUMMARIZECOLUMNS(Customer[Country], "Sales", [Total Sales], "Orders", [Order Count]) ORDER BY Customer[Country]`}, &res)
	if strings.Join(res.Columns, ",") != "Customer[Country],[Sales],[Orders]" || res.Truncated || res.Dataset.ResolvedBy != "name" {
		t.Fatalf("result %+v", res)
	}
	total, counts := salesByCountry(t)
	if res.RowCount != len(total) || len(res.Rows) != len(total) {
		t.Fatalf("%d rows, want one per country (%d)", res.RowCount, len(total))
	}
	for _, row := range res.Rows {
		c := row[0].(string)
		sales, orders := row[1].(float64), row[2].(float64) // JSON numbers
		if math.Abs(sales-total[c]) > 1e-6 || int(orders) != counts[c] {
			t.Errorf("%s: sales %v orders %v, want %v and %d", c, sales, orders, total[c], counts[c])
		}
	}
}

func TestExecuteDAXQueryTruncatesAtMaxRows(t *testing.T) {
	st := newStack(t, stackOptions{})
	var res DAXQueryResult
	st.ok(t, "execute_dax_query", map[string]any{"workspace": pbitest.DemoSalesWorkspaceID, "dataset": pbitest.DemoSalesDatasetID,
		"query": "EVALUATE 'Sales' ORDER BY Sales[OrderNumber]", "max_rows": 25}, &res)
	if !res.Truncated || res.RowCount != 25 || len(res.Rows) != 25 || !strings.Contains(res.Message, "300 rows") {
		t.Fatalf("truncated=%v rowCount=%d message=%q", res.Truncated, res.RowCount, res.Message)
	}
	// Blank cells keep their place as null, so every row has every column.
	var budget DAXQueryResult
	st.ok(t, "execute_dax_query", map[string]any{"dataset": "Personal Budget", "query": `EVALUATE FILTER(Budget, Budget[Category] = "Leisure")`}, &budget)
	if !budget.Workspace.MyWorkspace || budget.Truncated || len(budget.Rows) != 1 || len(budget.Rows[0]) != 3 || budget.Rows[0][2] != nil {
		t.Fatalf("My workspace query %+v", budget)
	}
}

func TestExecuteDAXQueryErrors(t *testing.T) {
	st := newStack(t, stackOptions{})
	msg := st.fails(t, "execute_dax_query", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales",
		"query": "EVALUATE SUMMARIZE(Sales, Sales[OrderNumber])"})
	for _, want := range []string{"HTTP 400 DatasetExecuteQueriesError", "The function 'SUMMARIZE' is not supported", "RequestId", "get_dataset_schema"} {
		if !strings.Contains(msg, want) {
			t.Errorf("DAX error %q lacks %q", msg, want)
		}
	}
	msg = st.fails(t, "execute_dax_query", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales",
		"query": "EVALUATE Product EVALUATE Customer"})
	if !strings.Contains(msg, "More than one result table in a query") || !strings.Contains(msg, "one EVALUATE per call") {
		t.Errorf("two tables: %s", msg)
	}
	// The schema rejects max_rows beyond the service limit before anything is sent.
	before := st.tenant.Count("POST /v1.0/myorg/groups/{groupId}/datasets/{datasetId}/executeQueries")
	st.fails(t, "execute_dax_query", map[string]any{"workspace": pbitest.DemoSalesWorkspaceID, "dataset": pbitest.DemoSalesDatasetID,
		"query": "EVALUATE Product", "max_rows": 100_001})
	if after := st.tenant.Count("POST /v1.0/myorg/groups/{groupId}/datasets/{datasetId}/executeQueries"); after != before {
		t.Fatal("a query with an invalid max_rows reached Power BI")
	}
}

func TestGetDatasetSchema(t *testing.T) {
	st := newStack(t, stackOptions{})
	var res DatasetSchemaResult
	st.ok(t, "get_dataset_schema", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales"}, &res)
	if res.Source != "INFO.VIEW" || len(res.Tables) != 4 {
		t.Fatalf("schema %+v", res)
	}
	var sales SchemaTable
	for _, tbl := range res.Tables {
		if tbl.Name == "Sales" {
			sales = tbl
		}
	}
	if len(sales.Columns) != 7 || sales.Columns[2] != (SchemaColumn{Name: "ProductKey", DataType: "Int64", IsHidden: true}) {
		t.Fatalf("Sales columns %+v", sales.Columns)
	}
	if len(sales.Measures) != 5 || sales.Measures[0].Name != "Total Sales" || sales.Measures[0].Expression != "SUM(Sales[Sales Amount])" {
		t.Fatalf("Sales measures %+v", sales.Measures)
	}

	// Finance KPIs refuses INFO functions: the tool falls back and says so.
	var fin DatasetSchemaResult
	st.ok(t, "get_dataset_schema", map[string]any{"workspace": "Finance", "dataset": "Finance KPIs"}, &fin)
	if fin.Source != "COLUMNSTATISTICS" || len(fin.Tables) != 1 || len(fin.Tables[0].Columns) != 3 ||
		fin.Tables[0].Columns[0] != (SchemaColumn{Name: "Month", Cardinality: 6}) || !strings.Contains(fin.Message, "no measures") {
		b, _ := json.Marshal(fin)
		t.Fatalf("fallback schema %s", b)
	}
}

func TestExecuteDAXQueryServiceRowLimit(t *testing.T) {
	st := newStack(t, stackOptions{})
	ds := st.tenant.AddDataset(pbitest.DemoSalesWorkspaceID, pbitest.Dataset{Name: "Telemetry"})
	big := &pbitest.Table{Name: "Events", Columns: []pbitest.Column{{Name: "N", DataType: pbitest.TypeInt64}}}
	for i := range maxDAXRows + 1 {
		big.Rows = append(big.Rows, []any{int64(i)})
	}
	st.tenant.SetModel(ds.ID, pbitest.Model{Tables: []*pbitest.Table{big}})
	var res DAXQueryResult
	st.ok(t, "execute_dax_query", map[string]any{"workspace": "Sales Analytics", "dataset": "Telemetry",
		"query": "EVALUATE Events", "max_rows": maxDAXRows}, &res)
	if !res.Truncated || res.RowCount != maxDAXRows || !strings.Contains(res.Message, "More than 100000 rows in a query result") ||
		strings.Contains(res.Message, "raise max_rows") {
		t.Fatalf("truncated=%v rowCount=%d message=%q", res.Truncated, res.RowCount, res.Message)
	}
}
