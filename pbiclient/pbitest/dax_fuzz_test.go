package pbitest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// daxSeeds are queries agents send, and a few the engine refuses.
var daxSeeds = []string{
	`EVALUATE Sales`,
	`EVALUATE 'Product' ORDER BY 'Product'[List Price] DESC, [Product]`,
	`EVALUATE TOPN(5, SUMMARIZECOLUMNS('Product'[Category], "Total", [Total Sales]), [Total], DESC)`,
	`DEFINE MEASURE Sales[Big] = CALCULATE([Total Sales], Sales[Quantity] >= 3) EVALUATE ROW("Big", [Big], "Ratio", DIVIDE([Big], [Total Sales]))`,
	`EVALUATE FILTER(Customer, Customer[Country] = "Germany" || Customer[City] == "Paris" && NOT(ISBLANK(Customer[City])))`,
	`EVALUATE ADDCOLUMNS(VALUES('Date'[Month]), "Orders", [Order Count], "Label", "M: " & 'Date'[Month])`,
	`EVALUATE SELECTCOLUMNS(Sales, "No", Sales[OrderNumber], "Net", Sales[Sales Amount] * -1.5 / 2)`,
	`EVALUATE CALCULATETABLE(Product, Product[Color] <> "Red", Product[List Price] > 100)`,
	`EVALUATE { 1, 2.5, "three", DATE(2024, 2, 29), BLANK() }`,
	`EVALUATE INFO.VIEW.TABLES()`,
	`EVALUATE COLUMNSTATISTICS()`,
	`// comment
	EVALUATE /* block */ ROW("x", COUNTROWS(Sales) + MIN(Sales[Quantity]) - MAX(Sales[Quantity]) + AVERAGE(Sales[Quantity]) + SUM(Sales[Quantity]) + COUNT(Sales[Quantity]) + DISTINCTCOUNT(Sales[CustomerKey]))`,
	`EVALUATE ROW("a", IF(1 < 2, "yes", "no"), "b", 'it''s'[x]], "c", "say ""hi""")`,
	`DEFINE MEASURE Sales[Loop] = [Loop] + 1 EVALUATE ROW("x", [Loop])`,
	`EVALUATE Sales EVALUATE Product`,
	`EVALUATE ROW("x", 1.2.3)`,
	`EVALUATE ROW("x", 99999999999999999999)`,
	`EVALUATE ["unclosed`,
	`DEFINE EVALUATE x`,
	`EVALUATE ROW("x", 1 +)`,
	`EVALUATE`,
	``,
	// Every function with no arguments, and with arguments of the wrong kind.
	`EVALUATE FILTER()`, `EVALUATE TOPN()`, `EVALUATE SUMMARIZECOLUMNS()`, `EVALUATE ROW()`, `EVALUATE VALUES()`,
	`EVALUATE DISTINCT()`, `EVALUATE ALL()`, `EVALUATE CALCULATETABLE()`, `EVALUATE ADDCOLUMNS()`, `EVALUATE SELECTCOLUMNS()`,
	`EVALUATE INFO.VIEW.COLUMNS(1)`, `EVALUATE INFO.VIEW.MEASURES("x")`, `EVALUATE COLUMNSTATISTICS(Sales)`,
	`EVALUATE ROW("x", SUM(), COUNT(1), COUNTROWS(), AVERAGE("a"), MIN(Sales), MAX([x]), DISTINCTCOUNT())`,
	`EVALUATE ROW("x", CALCULATE(), DIVIDE(1), IF(), BLANK(1), TRUE(1), FALSE(), DATE(1, 2))`,
	`EVALUATE TOPN(-1, Sales, Sales[Quantity], 0, Sales[OrderDate], 1)`,
	`EVALUATE SUMMARIZECOLUMNS(Sales[Quantity], Product[Category], FILTER(Product, Product[Color] = "Red"), "n", COUNTROWS(Sales))`,
	`EVALUATE ADDCOLUMNS(Product, "p", Product[List Price] * 2, "p", 1)`,
}

// FuzzDAXParser parses arbitrary text as a DAX query. Nothing may panic, a refusal is a DAX
// error with its position, and what parses prints back (fully bracketed, names quoted) to text
// that parses to the same query.
func FuzzDAXParser(f *testing.F) {
	for _, s := range daxSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		q, err := parseQuery(src)
		if err != nil {
			var de *daxError
			if !errors.As(err, &de) || !strings.HasPrefix(de.msg, "Query (") {
				t.Fatalf("%q: %v is not a DAX error with a position", src, err)
			}
			return
		}
		printed := printQuery(q)
		again, err := parseQuery(printed)
		if err != nil {
			t.Fatalf("%q parsed, printed as %q, which does not parse: %v", src, printed, err)
		}
		if reprinted := printQuery(again); reprinted != printed {
			t.Fatalf("%q printed as %q, which parses to %q", src, printed, reprinted)
		}
	})
}

// FuzzDAXQuery runs arbitrary text as a DAX query against the demo Sales model, as the
// executeQueries route does. Nothing may panic, a failure is a DAX error (answered as the
// service answers one, not 500), every row of a result is as wide as its columns, and the
// result can be written as the route writes it.
func FuzzDAXQuery(f *testing.F) {
	for _, s := range daxSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		m := DemoSalesModel()
		tables, err := runQuery(&m, src)
		if err != nil {
			var de *daxError
			if !errors.As(err, &de) {
				t.Fatalf("%q: %v is not a DAX error", src, err)
			}
			return
		}
		if len(tables) == 0 {
			t.Fatalf("%q: no result table", src)
		}
		for _, tab := range tables {
			for i, row := range tab.rows {
				if len(row) != len(tab.cols) {
					t.Fatalf("%q: row %d has %d values for %d columns", src, i, len(row), len(tab.cols))
				}
			}
			if _, err := json.Marshal(queryResult{Tables: []queryTable{serializeTable(tab, true)}}); err != nil {
				t.Fatalf("%q: the result cannot be written: %v", src, err)
			}
		}
	})
}

// printQuery writes q back as DAX: every binary operation bracketed, every table name quoted.
func printQuery(q *daxQuery) string {
	var b strings.Builder
	if len(q.measures) > 0 {
		b.WriteString("DEFINE")
		for _, m := range q.measures {
			b.WriteString(" MEASURE " + printExpr(m.ref) + " = " + printExpr(m.body))
		}
		b.WriteString(" ")
	}
	for i, ev := range q.evaluates {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString("EVALUATE " + printExpr(ev.table))
		for j, k := range ev.orderBy {
			if j == 0 {
				b.WriteString(" ORDER BY ")
			} else {
				b.WriteString(", ")
			}
			b.WriteString(printExpr(k.e))
			if k.desc {
				b.WriteString(" DESC")
			}
		}
	}
	return b.String()
}

func printExpr(x expr) string {
	quote := func(s string, q string) string { return q + strings.ReplaceAll(s, q, q+q) + q }
	column := func(s string) string { return "[" + strings.ReplaceAll(s, "]", "]]") + "]" }
	switch x := x.(type) {
	case *numberLit:
		switch v := x.v.(type) {
		case int64:
			return strconv.FormatInt(v, 10)
		case float64:
			s := strconv.FormatFloat(v, 'f', -1, 64)
			if !strings.Contains(s, ".") {
				s += ".0" // stays a decimal number, not an integer
			}
			return s
		}
	case *stringLit:
		return quote(x.v, `"`)
	case *columnRef:
		if x.table == "" {
			return column(x.column)
		}
		return quote(x.table, "'") + column(x.column)
	case *identExpr:
		return quote(x.name, "'")
	case *callExpr:
		args := make([]string, len(x.args))
		for i, a := range x.args {
			args[i] = printExpr(a)
		}
		return x.name + "(" + strings.Join(args, ", ") + ")"
	case *binaryExpr:
		return "(" + printExpr(x.l) + " " + x.op + " " + printExpr(x.r) + ")"
	case *negExpr:
		return "-(" + printExpr(x.x) + ")"
	case *tableCtor:
		values := make([]string, len(x.values))
		for i, v := range x.values {
			values[i] = printExpr(v)
		}
		return "{" + strings.Join(values, ", ") + "}"
	}
	panic(fmt.Sprintf("printExpr: %T", x))
}

// What FuzzDAXQuery found, as a client of the fake tenant meets it: TOPN of zero rows with an
// order key answers an empty table, as DAX does, instead of the request failing.
func TestTopNZeroRows(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	sales := "/groups/" + DemoSalesWorkspaceID + "/datasets/" + DemoSalesDatasetID
	r := executeQuery(t, s, sales, `EVALUATE TOPN(0, Product, Product[List Price])`, false)
	wantStatus(t, r, http.StatusOK)
	if rows, tableErr, resultErr := resultRows(t, r); len(rows) != 0 || tableErr != nil || resultErr != nil {
		t.Fatalf("TOPN(0, ...): %s", r.body)
	}
}
