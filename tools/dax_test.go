package tools

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
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
	// executeQueries (My workspace has no capacity): a DAX error is an HTTP 400.
	msg := st.fails(t, "execute_dax_query", map[string]any{"dataset": "Personal Budget",
		"query": "EVALUATE SUMMARIZE(Budget, Budget[Category])"})
	for _, want := range []string{"HTTP 400 DatasetExecuteQueriesError", "The function 'SUMMARIZE' is not supported", "RequestId", "get_dataset_schema"} {
		if !strings.Contains(msg, want) {
			t.Errorf("DAX error %q lacks %q", msg, want)
		}
	}
	msg = st.fails(t, "execute_dax_query", map[string]any{"dataset": "Personal Budget", "query": "EVALUATE Budget EVALUATE Budget"})
	if !strings.Contains(msg, "More than one result table in a query") || !strings.Contains(msg, "one EVALUATE per call") {
		t.Errorf("two tables: %s", msg)
	}
	// Arrow (Sales Analytics is on a capacity): the DAX error comes as an error batch.
	msg = st.fails(t, "execute_dax_query", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales",
		"query": "EVALUATE Product EVALUATE SUMMARIZE(Sales, Sales[OrderNumber])"})
	for _, want := range []string{"DatasetExecuteQueriesError", "The function 'SUMMARIZE' is not supported", "RequestId", "get_dataset_schema"} {
		if !strings.Contains(msg, want) {
			t.Errorf("Arrow DAX error %q lacks %q", msg, want)
		}
	}
	if n := routeCount(st, routeExecuteQueries); n != 0 {
		t.Errorf("a DAX error of the Arrow API fell back to executeQueries (%d requests)", n)
	}
	// A table the query did not return.
	msg = st.fails(t, "execute_dax_query", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales",
		"query": "EVALUATE Product EVALUATE Customer", "table": 3})
	if !strings.Contains(msg, "no table 3") || !strings.Contains(msg, "between 1 and 2") {
		t.Errorf("table 3 of 2: %s", msg)
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
	if res.Source != "INFO.VIEW" || len(res.Tables) != 5 {
		t.Fatalf("schema %+v", res)
	}
	var sales, lines SchemaTable
	for _, tbl := range res.Tables {
		switch tbl.Name {
		case "Sales":
			sales = tbl
		case "Order Lines":
			lines = tbl
		}
	}
	if len(lines.Columns) != 6 || lines.Columns[0] != (SchemaColumn{Name: "Order Id", DataType: "String"}) ||
		lines.Columns[5] != (SchemaColumn{Name: "Order Date", DataType: "DateTime"}) {
		t.Fatalf("Order Lines columns %+v", lines.Columns)
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

// executeQueries stops at 100,000 rows and the answer says so; the Arrow API has no such limit.
func TestExecuteDAXQueryServiceRowLimit(t *testing.T) {
	st := newStack(t, stackOptions{})
	big := &pbitest.Table{Name: "Events", Columns: []pbitest.Column{{Name: "N", DataType: pbitest.TypeInt64}}}
	for i := range maxDAXRows + 10 {
		big.Rows = append(big.Rows, []any{int64(i)})
	}
	for _, ws := range []string{pbitest.DemoMarketingWorkspaceID, pbitest.DemoSalesWorkspaceID} {
		ds := st.tenant.AddDataset(ws, pbitest.Dataset{Name: "Telemetry"})
		st.tenant.SetModel(ds.ID, pbitest.Model{Tables: []*pbitest.Table{big}})
	}
	var res DAXQueryResult
	st.ok(t, "execute_dax_query", map[string]any{"workspace": "Marketing", "dataset": "Telemetry",
		"query": "EVALUATE Events", "max_rows": maxDAXRows}, &res)
	if res.Via != "json" || !res.Truncated || res.TotalRows != maxDAXRows || res.RowCount == 0 || res.NextSkip != res.RowCount ||
		!strings.Contains(res.Message, "More than 100000 rows in a query result") || !strings.Contains(res.Message, "filter or aggregate") ||
		strings.Contains(res.Message, "max_rows") {
		t.Fatalf("via=%s truncated=%v rowCount=%d totalRows=%d message=%q", res.Via, res.Truncated, res.RowCount, res.TotalRows, res.Message)
	}
	st.ok(t, "execute_dax_query", map[string]any{"workspace": "Sales Analytics", "dataset": "Telemetry",
		"query": "EVALUATE Events", "max_rows": maxDAXRows}, &res)
	if res.Via != "arrow" || res.TotalRows != maxDAXRows+10 || strings.Contains(res.Message, "limit of 100,000") {
		t.Fatalf("via=%s totalRows=%d message=%q", res.Via, res.TotalRows, res.Message)
	}
	// skip reaches the rows past executeQueries' limit.
	var last DAXQueryResult
	st.ok(t, "execute_dax_query", map[string]any{"workspace": "Sales Analytics", "dataset": "Telemetry",
		"query": "EVALUATE Events", "skip": maxDAXRows + 5}, &last)
	if last.RowCount != 5 || last.Rows[0][0] != float64(maxDAXRows+5) || last.NextSkip != 0 {
		t.Fatalf("skip %d: rowCount %d nextSkip %d rows %v", maxDAXRows+5, last.RowCount, last.NextSkip, last.Rows)
	}
}

// The same queries on the same model answer the same rows through the Arrow API (Sales
// Analytics, on a capacity) and executeQueries (a copy of the model in Marketing, on shared
// capacity): integers, decimals, text, dates, blanks, measures and an INFO function. A query of
// several EVALUATEs answers each table as the query of that EVALUATE alone does.
func TestExecuteDAXQueryArrowAndJSONSameRows(t *testing.T) {
	st := newStack(t, stackOptions{})
	cp := st.tenant.AddDataset(pbitest.DemoMarketingWorkspaceID, pbitest.Dataset{Name: "Sales Copy"})
	st.tenant.SetModel(cp.ID, pbitest.DemoSalesModel())
	queries := []string{
		"EVALUATE 'Product' ORDER BY Product[ProductKey]",
		"EVALUATE TOPN(40, 'Sales', Sales[OrderNumber], ASC) ORDER BY Sales[OrderNumber], Sales[ProductKey]",
		`EVALUATE SUMMARIZECOLUMNS('Date'[Month], "Sales", [Total Sales], "Price", [Average Price]) ORDER BY 'Date'[Month]`,
		"EVALUATE INFO.VIEW.MEASURES()",
	}
	run := func(workspace, dataset, query string, table int) DAXQueryResult {
		args := map[string]any{"workspace": workspace, "dataset": dataset, "query": query}
		if table > 0 {
			args["table"] = table
		}
		var res DAXQueryResult
		st.ok(t, "execute_dax_query", args, &res)
		return res
	}
	same := func(what string, a, j DAXQueryResult) {
		t.Helper()
		if a.Via != "arrow" || j.Via != "json" {
			t.Fatalf("%s: answered by %s and %s", what, a.Via, j.Via)
		}
		ab, _ := json.Marshal([]any{a.Columns, a.Rows, a.TotalRows})
		jb, _ := json.Marshal([]any{j.Columns, j.Rows, j.TotalRows})
		if !bytes.Equal(ab, jb) || a.RowCount == 0 {
			t.Errorf("%s:\narrow %.300s\njson  %.300s", what, ab, jb)
		}
	}
	for _, q := range queries {
		same(q, run("Sales Analytics", "Sales", q, 0), run("Marketing", "Sales Copy", q, 0))
	}
	all := strings.Join(queries, "\n")
	for i, q := range queries {
		a := run("Sales Analytics", "Sales", all, i+1)
		if a.Tables != len(queries) || !strings.Contains(a.Message, fmt.Sprintf("holds table %d", i+1)) {
			t.Errorf("table %d: tables=%d message=%q", i+1, a.Tables, a.Message)
		}
		same(fmt.Sprintf("table %d of one query", i+1), a, run("Marketing", "Sales Copy", q, 0))
	}
	// The types came through: a date as ISO 8601 text, a blank colour as null.
	p := run("Sales Analytics", "Sales", "EVALUATE 'Product' ORDER BY Product[ProductKey]", 0)
	d := run("Sales Analytics", "Sales", "EVALUATE TOPN(1, 'Date', 'Date'[Date], ASC)", 0)
	if p.Rows[5][3] != nil || d.Rows[0][0] != "2024-01-01T00:00:00" {
		t.Errorf("blank %v, date %v", p.Rows[5][3], d.Rows[0][0])
	}
}

// Where Power BI serves no Arrow results (a push model, a workspace given by id on shared
// capacity), the tool falls back to executeQueries; a workspace known to be on shared capacity
// is not tried at all.
func TestExecuteDAXQueryFallsBackToJSON(t *testing.T) {
	st := newStack(t, stackOptions{})
	const routeArrow = "POST /v1.0/myorg/groups/{groupId}/datasets/{datasetId}/executeDaxQueries"
	for _, c := range []struct{ workspace, dataset string }{
		{"Sales Analytics", "Live Orders"},
		{pbitest.DemoMarketingWorkspaceID, "Web Traffic"},
		{"Marketing", "Web Traffic"},
	} {
		st.tenant.ResetRequests()
		var res DAXQueryResult
		st.ok(t, "execute_dax_query", map[string]any{"workspace": c.workspace, "dataset": c.dataset, "query": `EVALUATE ROW("x", 1)`}, &res)
		if res.Via != "json" || len(res.Rows) != 1 || res.Rows[0][0] != float64(1) {
			t.Errorf("%s: via %s rows %v", c.dataset, res.Via, res.Rows)
		}
		tried := 1
		if c.workspace == "Marketing" {
			tried = 0
		}
		if n := routeCount(st, routeArrow); n != tried {
			t.Errorf("%s in %s: %d Arrow requests, want %d", c.dataset, c.workspace, n, tried)
		}
		if n := routeCount(st, routeExecuteQueries); n != 1 {
			t.Errorf("%s in %s: %d executeQueries requests", c.dataset, c.workspace, n)
		}
	}
}

// orderLinesQuery reads the sandbox's big table in a fixed order.
const orderLinesQuery = "EVALUATE 'Order Lines' ORDER BY 'Order Lines'[Order Id], 'Order Lines'[Line]"

// The 12,000 rows of 'Order Lines' are more than one answer holds, even when max_rows asks for
// them all: the answer fits the result budget, says how many rows there are and how to get the
// rest, and skip pages through every row, each once, in order.
func TestExecuteDAXQueryFitsTheBudgetAndPages(t *testing.T) {
	st := newStack(t, stackOptions{})
	args := map[string]any{"workspace": "Sales Analytics", "dataset": "Sales", "query": orderLinesQuery, "max_rows": maxDAXRows}
	res := st.call(t, "execute_dax_query", args)
	if res.IsError || len(text(res)) > DefaultMaxResultBytes {
		t.Fatalf("isError=%v, %d bytes of text, budget %d", res.IsError, len(text(res)), DefaultMaxResultBytes)
	}
	var first DAXQueryResult
	st.ok(t, "execute_dax_query", args, &first)
	if !first.Truncated || first.TotalRows != pbitest.DemoOrderLines || first.RowCount < 100 || first.NextSkip != first.RowCount ||
		!strings.Contains(first.Message, "12000 rows") || !strings.Contains(first.Message, fmt.Sprintf("skip = %d", first.NextSkip)) ||
		!strings.Contains(first.Message, `output: "csv"`) || strings.Contains(first.Message, "max_rows") {
		t.Fatalf("truncated=%v rowCount=%d totalRows=%d nextSkip=%d message=%q", first.Truncated, first.RowCount, first.TotalRows, first.NextSkip, first.Message)
	}

	// Paging through a quarter of the table (every page reruns the query) keeps the test quick.
	const quarter = "EVALUATE FILTER('Order Lines', 'Order Lines'[Order Id] < \"SO61000\") ORDER BY 'Order Lines'[Order Id], 'Order Lines'[Line]"
	var all [][]any
	total := -1
	for next := 0; next != 0 || total < 0; {
		var page DAXQueryResult
		st.ok(t, "execute_dax_query", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales", "query": quarter, "skip": next, "max_rows": maxDAXRows}, &page)
		if page.Skipped != next || page.RowCount == 0 || !page.Truncated || total >= 0 && page.TotalRows != total {
			t.Fatalf("page at %d: %+v", next, page.Message)
		}
		if next == 0 && !reflect.DeepEqual(page.Rows, first.Rows[:page.RowCount]) {
			t.Fatal("the first page of the quarter differs from the first rows of the table")
		}
		total = page.TotalRows
		all = append(all, page.Rows...)
		next = page.NextSkip
	}
	if len(all) != total || total < 2500 {
		t.Fatalf("%d rows over all pages, want %d", len(all), total)
	}
	for i := 1; i < len(all); i++ {
		prev, cur := fmt.Sprint(all[i-1][0], "/", all[i-1][1]), fmt.Sprint(all[i][0], "/", all[i][1])
		if prev >= cur && all[i-1][0] == all[i][0] || all[i-1][0].(string) > all[i][0].(string) {
			t.Fatalf("rows %d and %d out of order or repeated: %s, %s", i-1, i, prev, cur)
		}
	}

	// max_rows still bounds a page that would fit.
	var small DAXQueryResult
	st.ok(t, "execute_dax_query", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales", "query": orderLinesQuery, "skip": 10, "max_rows": 5}, &small)
	if small.RowCount != 5 || small.NextSkip != 15 || !reflect.DeepEqual(small.Rows, all[10:15]) || !strings.Contains(small.Message, "rows 11 to 15") {
		t.Fatalf("%+v", small)
	}
	// A skip past the end answers no rows and says why.
	var past DAXQueryResult
	st.ok(t, "execute_dax_query", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales", "query": "EVALUATE Customer", "skip": 50}, &past)
	if past.RowCount != 0 || len(past.Rows) != 0 || past.NextSkip != 0 || !strings.Contains(past.Message, "past the last row") {
		t.Fatalf("%+v", past)
	}
}

// A smaller budget holds fewer rows, and the text never exceeds it.
func TestExecuteDAXQueryHonoursASmallerBudget(t *testing.T) {
	qr := pbiclient.QueryResult{Columns: []string{"T[A]", "T[B]"}}
	for i := range 1000 {
		qr.Rows = append(qr.Rows, []any{int64(i), strings.Repeat("x", i%50)})
	}
	for _, budget := range []int{4 << 10, 8 << 10, 32 << 10} {
		res := tableResult(WorkspaceRef{ID: "w"}, ItemRef{ID: "d"}, qr, 0, maxDAXRows, budget, nil)
		if n := encodedLen(res); n > budget || res.RowCount == 0 || !res.Truncated || res.NextSkip != res.RowCount {
			t.Fatalf("budget %d: %d bytes, %d rows, nextSkip %d", budget, n, res.RowCount, res.NextSkip)
		}
		// Most of the budget goes to rows: one more row would not have fit with the headroom.
		if next := encodedLen(qr.Rows[res.RowCount]) + 1; encodedLen(res)+next+daxResultHeadroom <= budget {
			t.Fatalf("budget %d: %d bytes used; row %d (%d bytes) would have fit", budget, encodedLen(res), res.RowCount, next)
		}
	}
}

// output "csv" writes every row to a CSV file in the export directory, which encoding/csv reads
// back as the same table, and which resources/read returns; the answer holds a preview.
func TestExecuteDAXQueryToCSV(t *testing.T) {
	st := newStack(t, stackOptions{})
	res := st.call(t, "execute_dax_query", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales", "query": orderLinesQuery, "output": "csv"})
	if res.IsError || len(text(res)) > DefaultMaxResultBytes {
		t.Fatalf("isError=%v, %d bytes: %.300s", res.IsError, len(text(res)), text(res))
	}
	var out DAXQueryResult
	b, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out.File == nil || filepath.Dir(out.File.Path) != st.exportDir || out.File.MimeType != "text/csv" || !strings.HasPrefix(out.File.Name, "Sales-query-") ||
		out.TotalRows != pbitest.DemoOrderLines || !out.Truncated || out.RowCount == 0 || !strings.Contains(out.Message, out.File.Path) {
		t.Fatalf("%+v %+v", out.File, out.Message)
	}
	link := fileLink(t, res)
	if link.URI != out.File.URI || link.MIMEType != "text/csv" {
		t.Fatalf("link %+v", link)
	}

	data, err := os.ReadFile(out.File.Path)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(data)) != out.File.Bytes || !strings.HasPrefix(string(data), "Order Lines[Order Id],Order Lines[Line],") || !strings.Contains(string(data), "\r\n") {
		t.Fatalf("%d bytes (reported %d): %.200q", len(data), out.File.Bytes, data)
	}
	records, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(records) != pbitest.DemoOrderLines+1 || !reflect.DeepEqual(records[0], out.Columns) {
		t.Fatalf("%d records, header %q", len(records), records[0])
	}
	// The file holds the rows the query returned, as the rows of the answer hold them.
	var page DAXQueryResult
	st.ok(t, "execute_dax_query", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales", "query": orderLinesQuery, "skip": 11_900}, &page)
	for i, row := range append(out.Rows, page.Rows...) {
		at := i + 1
		if i >= len(out.Rows) {
			at = 11_900 + i - len(out.Rows) + 1
		}
		for j, v := range row {
			if got := csvValue(v); records[at][j] != got && !(isNumber(v) && sameNumber(records[at][j], v)) {
				t.Fatalf("record %d column %d: %q, the answer says %v", at, j, records[at][j], v)
			}
		}
	}
	if d := records[1][5]; !regexp.MustCompile(`^2024-\d\d-\d\dT00:00:00$`).MatchString(d) {
		t.Fatalf("date %q is not ISO 8601", d)
	}

	// resources/read returns the file as text.
	got, ok := readResource(t, st.client, out.File.URI).(mcp.TextResourceContents)
	if !ok || got.Text != string(data) || got.MIMEType != "text/csv" {
		t.Fatalf("resources/read: %T %d bytes", got, len(got.Text))
	}

	// Blank cells are empty fields; a result that fits whole still names its file.
	var budget DAXQueryResult
	st.ok(t, "execute_dax_query", map[string]any{"dataset": "Personal Budget", "query": "EVALUATE Budget", "output": "csv"}, &budget)
	if budget.Truncated || budget.File == nil || budget.RowCount != 5 || !strings.Contains(budget.Message, budget.File.Path) {
		t.Fatalf("%+v", budget)
	}
	small, _ := os.ReadFile(budget.File.Path)
	if want := "Budget[Category],Budget[Planned],Budget[Spent]\r\nRent,1200,1200\r\nGroceries,450,512.35\r\nTransport,120,96.4\r\nUtilities,180,171.2\r\nLeisure,200,\r\n"; string(small) != want {
		t.Fatalf("CSV %q, want %q", small, want)
	}
}

func isNumber(v any) bool { _, ok := v.(float64); return ok }

// sameNumber compares a CSV field with a number the JSON answer holds as float64.
func sameNumber(field string, v any) bool {
	f, err := strconv.ParseFloat(field, 64)
	return err == nil && f == v.(float64)
}

// The sandbox's big table is in the model: its rows, its relationships.
func TestOrderLinesInTheSandboxModel(t *testing.T) {
	st := newStack(t, stackOptions{})
	row := daxRow(t, st, "Sales", `EVALUATE ROW("Lines", COUNTROWS('Order Lines'), "Orders", DISTINCTCOUNT('Order Lines'[Order Id]), "Quantity", SUM('Order Lines'[Quantity]))`)
	if row[0] != float64(pbitest.DemoOrderLines) || row[1].(float64) < 3000 || row[2].(float64) < float64(pbitest.DemoOrderLines) {
		t.Fatalf("%v", row)
	}
	// Filters flow from Product to its order lines.
	var byCategory DAXQueryResult
	st.ok(t, "execute_dax_query", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales",
		"query": `EVALUATE SUMMARIZECOLUMNS(Product[Category], "Lines", COUNTROWS('Order Lines')) ORDER BY Product[Category]`}, &byCategory)
	total := 0.0
	for _, r := range byCategory.Rows {
		total += r[1].(float64)
	}
	if len(byCategory.Rows) != 3 || total != pbitest.DemoOrderLines {
		t.Fatalf("%+v", byCategory.Rows)
	}
}

// BenchmarkExecuteDAXQuery100kRows is execute_dax_query on a 100,000-row result written whole to
// a CSV file (output csv, so every row is handled), through the MCP client, the tool, pbiclient
// and the fake tenant: the same model on a capacity (Arrow) and on shared capacity
// (executeQueries, the reference).
func BenchmarkExecuteDAXQuery100kRows(b *testing.B) {
	st := newStack(b, stackOptions{})
	for _, ws := range []string{pbitest.DemoMarketingWorkspaceID, pbitest.DemoSalesWorkspaceID} {
		ds := st.tenant.AddDataset(ws, pbitest.Dataset{Name: "Facts"})
		st.tenant.SetModel(ds.ID, pbitest.LargeModel(100_000))
	}
	for _, c := range []struct{ name, workspace string }{{"json", "Marketing"}, {"arrow", "Sales Analytics"}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var res DAXQueryResult
				st.ok(b, "execute_dax_query", map[string]any{"workspace": c.workspace, "dataset": "Facts", "query": "EVALUATE Facts", "output": "csv"}, &res)
				if res.Via != c.name || res.TotalRows != 100_000 || res.File == nil {
					b.Fatalf("via %s, %d rows", res.Via, res.TotalRows)
				}
				os.Remove(res.File.Path)
			}
		})
	}
}

// A refusal of the Arrow API worded as a query error gets the RLS advice, as executeQueries' does.
func TestArrowRLSRefusalAdviceNamesRLS(t *testing.T) {
	msg := text(errorResult("run the DAX query", &pbiclient.APIError{Method: "POST", StatusCode: 400,
		Path: "/groups/" + pbitest.DemoSalesWorkspaceID + "/datasets/" + pbitest.DemoRegionalSalesDatasetID + "/executeDaxQueries",
		Code: "DatasetExecuteQueriesError", Message: "The model has row-level security and requires an effective identity."}))
	if !strings.Contains(msg, "in none of its roles") || strings.Contains(msg, "fix the DAX query") {
		t.Errorf("executeDaxQueries refusal: %q", msg)
	}
}
