package pbitest

import (
	"math"
	"strings"
	"testing"
	"time"
)

// query runs src against the demo Sales model and returns its only table.
func query(t *testing.T, src string) *resultTable {
	t.Helper()
	m := DemoSalesModel()
	tables, err := runQuery(&m, src)
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	if len(tables) != 1 {
		t.Fatalf("%s: %d tables", src, len(tables))
	}
	return tables[0]
}

func queryFails(t *testing.T, src, want string) {
	t.Helper()
	m := DemoSalesModel()
	_, err := runQuery(&m, src)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("%s: error %v, want one containing %q", src, err, want)
	}
}

func colKeys(t *resultTable) string {
	var keys []string
	for _, c := range t.cols {
		keys = append(keys, c.key())
	}
	return strings.Join(keys, ",")
}

// salesByCategory computes, straight from the rows, what [Total Sales] and
// [Order Count] are per product category.
func salesByCategory(m Model) (map[string]float64, map[string]int) {
	product, sales := m.table("Product"), m.table("Sales")
	category := map[int64]string{}
	for _, r := range product.Rows {
		category[r[0].(int64)] = r[2].(string)
	}
	total := map[string]float64{}
	orders := map[string]map[string]bool{}
	for _, r := range sales.Rows {
		c := category[r[2].(int64)]
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
	return total, counts
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6*math.Max(1, math.Abs(b)) }

func TestSummarizeColumnsWithMeasures(t *testing.T) {
	res := query(t, `EVALUATE SUMMARIZECOLUMNS(Product[Category], "Sales", [Total Sales], "Orders", [Order Count]) ORDER BY Product[Category]`)
	if got := colKeys(res); got != "Product[Category],[Sales],[Orders]" {
		t.Fatalf("columns %s", got)
	}
	total, counts := salesByCategory(DemoSalesModel())
	if len(res.rows) != len(total) || len(total) != 3 {
		t.Fatalf("rows %v, want one per category of %v", res.rows, total)
	}
	prev := ""
	for _, row := range res.rows {
		c := row[0].(string)
		if !near(row[1].(float64), total[c]) || row[2].(int64) != int64(counts[c]) {
			t.Errorf("%s: got %v, %v; want %v, %d", c, row[1], row[2], total[c], counts[c])
		}
		if c < prev {
			t.Errorf("not ordered by category: %v", res.rows)
		}
		prev = c
	}
}

func TestMeasuresAndCalculate(t *testing.T) {
	total, _ := salesByCategory(DemoSalesModel())
	res := query(t, `EVALUATE ROW("All", [Total Sales], "Bikes", [Bike Sales], "Bikes2", CALCULATE([Total Sales], Product[Category] = "bikes"), "Avg", [Average Price], "Rows", COUNTROWS(Sales))`)
	all := total["Bikes"] + total["Accessories"] + total["Clothing"]
	row := res.rows[0]
	if !near(row[0].(float64), all) || !near(row[1].(float64), total["Bikes"]) || !near(row[2].(float64), total["Bikes"]) {
		t.Fatalf("row %v; want all %v, bikes %v (text compares without case)", row, all, total["Bikes"])
	}
	var qty int64
	for _, r := range demoSales().Rows {
		qty += r[4].(int64)
	}
	if !near(row[3].(float64), all/float64(qty)) || row[4] != int64(demoSalesRow) {
		t.Fatalf("average price %v (want %v), rows %v", row[3], all/float64(qty), row[4])
	}

	// CALCULATE replaces the group's filter on the same column.
	res = query(t, `EVALUATE SUMMARIZECOLUMNS(Product[Category], "Bikes", [Bike Sales])`)
	for _, r := range res.rows {
		if !near(r[1].(float64), total["Bikes"]) {
			t.Fatalf("%v: Bike Sales must ignore the category group: %v", r[0], r[1])
		}
	}
}

func TestFilterTopNAndDefine(t *testing.T) {
	res := query(t, `EVALUATE FILTER(Product, Product[Category] = "Bikes" && Product[List Price] > 1000 || Product[Product] = "Patch Kit")`)
	if len(res.rows) != 4 || colKeys(res) != "Product[ProductKey],Product[Product],Product[Category],Product[Color],Product[List Price]" {
		t.Fatalf("filter: %s %v", colKeys(res), res.rows)
	}

	res = query(t, `EVALUATE TOPN(2, Product, Product[List Price]) ORDER BY Product[List Price] DESC`)
	if len(res.rows) != 2 || res.rows[0][1] != "Road-150 Red" || res.rows[1][1] != "Touring-1000 Blue" {
		t.Fatalf("topn: %v", res.rows)
	}
	res = query(t, `EVALUATE TOPN(1, Product, Product[List Price], ASC)`)
	if len(res.rows) != 1 || res.rows[0][1] != "Patch Kit" {
		t.Fatalf("topn asc: %v", res.rows)
	}

	res = query(t, `DEFINE MEASURE Sales[Big Orders] = CALCULATE(COUNTROWS(Sales), Sales[Quantity] >= 4)
EVALUATE SUMMARIZECOLUMNS(Customer[Country], "Big", [Big Orders]) ORDER BY [Big] DESC, Customer[Country]`)
	var want int64
	for _, r := range demoSales().Rows {
		if r[4].(int64) >= 4 {
			want++
		}
	}
	var got int64
	for i, r := range res.rows {
		got += r[1].(int64)
		if i > 0 && r[1].(int64) > res.rows[i-1][1].(int64) {
			t.Fatalf("not ordered by [Big] descending: %v", res.rows)
		}
	}
	if got != want {
		t.Fatalf("big order lines %d, want %d", got, want)
	}

	// Measures in a row context see that row (context transition); dates
	// filter through the relationship.
	res = query(t, `EVALUATE FILTER(VALUES('Date'[Month]), [Total Sales] > 0)`)
	if len(res.rows) != 6 {
		t.Fatalf("months with sales: %v", res.rows)
	}
	res = query(t, `EVALUATE ROW("Jan", CALCULATE(COUNTROWS(Sales), 'Date'[Date] < DATE(2024, 2, 1)))`)
	var jan int64
	for _, r := range demoSales().Rows {
		if r[1].(time.Time).Month() == time.January {
			jan++
		}
	}
	if res.rows[0][0] != jan {
		t.Fatalf("January lines %v, want %d", res.rows[0][0], jan)
	}
}

func TestQueryErrors(t *testing.T) {
	queryFails(t, `EVALUATE Nope`, "Failed to resolve name 'Nope'")
	queryFails(t, `EVALUATE SUMMARIZE(Product, Product[Category])`, "The function 'SUMMARIZE' is not supported")
	queryFails(t, `EVALUATE ROW("x", [No Such Measure])`, "Column 'No Such Measure' cannot be found")
	queryFails(t, `EVALUATE ROW("x", Sales[Quantity])`, "A single value for column 'Quantity' in table 'Sales' cannot be determined")
	queryFails(t, `EVALUATE FILTER(Product, Product[Product] > 3)`, "do not support comparing values of type Text with values of type Integer")
	queryFails(t, `SELECT * FROM Sales`, "Query (1, 1) The syntax for 'SELECT' is incorrect")
	queryFails(t, `EVALUATE FILTER(Product, `+"\n"+`Product[Color] = "Red"`, "Query (2, 23) The syntax for 'end of query' is incorrect")
	queryFails(t, `EVALUATE 1`, "not a valid table expression")
	queryFails(t, `DEFINE MEASURE Nope[X] = 1 EVALUATE ROW("x", [X])`, "Query (1, 16) Failed to resolve name 'Nope'")
	queryFails(t, `DEFINE MEASURE Sales[Loop] = [Loop] + 1 EVALUATE ROW("x", [Loop])`, "circular dependency")
}

func TestInfoFunctions(t *testing.T) {
	res := query(t, `EVALUATE INFO.VIEW.COLUMNS()`)
	if colKeys(res) != "[ID],[Name],[Table],[DataType],[IsHidden],[Description],[FormatString]" || len(res.rows) != 5+5+4+7 {
		t.Fatalf("columns: %s, %d rows", colKeys(res), len(res.rows))
	}
	res = query(t, `EVALUATE INFO.VIEW.MEASURES()`)
	if len(res.rows) != 5 || res.rows[0][1] != "Total Sales" || res.rows[0][5] != "SUM(Sales[Sales Amount])" {
		t.Fatalf("measures: %v", res.rows)
	}
	res = query(t, `EVALUATE COLUMNSTATISTICS()`)
	if len(res.rows) != 4+21 || res.rows[0][1] != rowNumberColumn || res.rows[0][4] != int64(demoDays) {
		t.Fatalf("column statistics: %v", res.rows[:2])
	}

	m := DemoSalesModel()
	m.RefuseInfoFunctions = true
	if _, err := runQuery(&m, `EVALUATE INFO.VIEW.TABLES()`); err != errInfoRefused {
		t.Fatalf("refused INFO: %v", err)
	}
	if _, err := runQuery(&m, `EVALUATE COLUMNSTATISTICS()`); err != nil {
		t.Fatalf("COLUMNSTATISTICS must still work: %v", err)
	}
}

func TestAddRowConvertsJSONValues(t *testing.T) {
	tbl := &Table{Name: "T", Columns: []Column{{Name: "N", DataType: TypeInt64}, {Name: "D", DataType: TypeDateTime}, {Name: "S", DataType: TypeString}}}
	if err := tbl.AddRow(map[string]any{"N": 3.0, "D": "07/30/2014"}); err != nil {
		t.Fatal(err)
	}
	if r := tbl.Rows[0]; r[0] != int64(3) || !r[1].(time.Time).Equal(time.Date(2014, 7, 30, 0, 0, 0, 0, time.UTC)) || r[2] != nil {
		t.Fatalf("row %v", r)
	}
	if err := tbl.AddRow(map[string]any{"X": 1}); err == nil {
		t.Fatal("an unknown column must be refused")
	}
	if err := tbl.AddRow(map[string]any{"N": "three"}); err == nil {
		t.Fatal("text in an Int64 column must be refused")
	}
}

func demoSales() *Table {
	m := DemoSalesModel()
	return m.table("Sales")
}

func TestTableConstructorsAndAddColumns(t *testing.T) {
	total, _ := salesByCategory(DemoSalesModel())
	all := total["Bikes"] + total["Accessories"] + total["Clothing"]
	res := query(t, `EVALUATE {[Total Sales], 2}`)
	if colKeys(res) != "[Value]" || len(res.rows) != 2 || !near(res.rows[0][0].(float64), all) || res.rows[1][0] != int64(2) {
		t.Fatalf("table constructor: %s %v", colKeys(res), res.rows)
	}
	// Fixed decimal sums have no binary rounding noise.
	if v := res.rows[0][0].(float64); v != math.Round(v*100)/100 {
		t.Fatalf("total %v is not rounded to cents", v)
	}

	res = query(t, `EVALUATE ADDCOLUMNS(VALUES(Product[Category]), "Sales", [Total Sales], "Share", DIVIDE([Total Sales], CALCULATE([Total Sales], ALL(Product))))`)
	share := 0.0
	for _, r := range res.rows {
		if !near(r[1].(float64), total[r[0].(string)]) {
			t.Fatalf("ADDCOLUMNS row %v", r)
		}
		share += r[2].(float64)
	}
	if colKeys(res) != "Product[Category],[Sales],[Share]" || len(res.rows) != 3 || !near(share, 1) {
		t.Fatalf("ADDCOLUMNS: %s %v", colKeys(res), res.rows)
	}

	res = query(t, `EVALUATE SELECTCOLUMNS(TOPN(2, Customer, Customer[Customer], ASC), "Name", Customer[Customer])`)
	if colKeys(res) != "[Name]" || len(res.rows) != 2 || res.rows[0][0] != "Adventure Works Store" {
		t.Fatalf("SELECTCOLUMNS: %s %v", colKeys(res), res.rows)
	}

	// Groups from two tables: every combination with sales, adding up to the total.
	res = query(t, `EVALUATE SUMMARIZECOLUMNS(Product[Category], Customer[Country], "Sales", [Total Sales])`)
	sum := 0.0
	for _, r := range res.rows {
		sum += r[2].(float64)
	}
	if len(res.rows) < 12 || !near(sum, all) {
		t.Fatalf("cross-table groups: %d rows summing to %v, want %v", len(res.rows), sum, all)
	}

	res = query(t, `EVALUATE CALCULATETABLE(SUMMARIZECOLUMNS(Customer[Country], "S", [Total Sales]), Product[Category] = "Bikes")`)
	sum = 0
	for _, r := range res.rows {
		sum += r[1].(float64)
	}
	if !near(sum, total["Bikes"]) {
		t.Fatalf("CALCULATETABLE: %v, want %v", sum, total["Bikes"])
	}
}

func TestTreatAs(t *testing.T) {
	total, counts := salesByCategory(DemoSalesModel())
	// The common form: a list of values applied as a filter on a model column, which replaces
	// the filters on that column (here the group's) and reaches Sales through the relationship.
	res := query(t, `EVALUATE ROW("Two", CALCULATE([Total Sales], TREATAS({"Bikes", "clothing"}, 'Product'[Category])),
		"None", CALCULATE([Total Sales], TREATAS({"Gliders"}, Product[Category])))`)
	if row := res.rows[0]; !near(row[0].(float64), total["Bikes"]+total["Clothing"]) || row[1] != nil {
		t.Fatalf("row %v; want %v for Bikes and Clothing (text compares without case) and blank for a value no row holds",
			row, total["Bikes"]+total["Clothing"])
	}
	res = query(t, `EVALUATE SUMMARIZECOLUMNS(Product[Category], TREATAS({"Accessories", "Bikes"}, Product[Category]), "Orders", [Order Count]) ORDER BY Product[Category]`)
	if len(res.rows) != 2 || res.rows[0][0] != "Accessories" || res.rows[1][0] != "Bikes" ||
		res.rows[0][1] != int64(counts["Accessories"]) || res.rows[1][1] != int64(counts["Bikes"]) {
		t.Fatalf("SUMMARIZECOLUMNS filtered by TREATAS: %v", res.rows)
	}
	// Numbers match whatever their type: 2024 in the list is the Int64 year.
	res = query(t, `EVALUATE ROW("N", CALCULATE(COUNTROWS(Sales), TREATAS({2024.0}, 'Date'[Year])), "All", COUNTROWS(Sales))`)
	if res.rows[0][0] != res.rows[0][1] {
		t.Fatalf("every sale is of 2024: %v", res.rows[0])
	}
	queryFails(t, `EVALUATE ROW("x", CALCULATE([Total Sales], TREATAS({"Bikes"}, Product[Category], Product[Color])))`,
		"does not match the number of columns specified (2) in the TREATAS function")
	queryFails(t, `EVALUATE ROW("x", CALCULATE([Total Sales], TREATAS({"Bikes"}, "Category")))`, "TREATAS takes model columns")
	queryFails(t, `EVALUATE ROW("x", CALCULATE([Total Sales], TREATAS({"Bikes"}, Product[Shade])))`, "Column 'Shade' in table 'Product' cannot be found")
}
