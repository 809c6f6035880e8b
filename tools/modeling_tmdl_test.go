package tools

import (
	"strings"
	"testing"
)

// A table file as Power BI Desktop writes one: lineage tags, a fenced expression, annotations,
// a description, columns and a partition with M code.
const serviceTable = "table 'Internet Sales'\n" +
	"\tlineageTag: 1f2e\n" +
	"\n" +
	"\t/// Orders of four or more\n" +
	"\tmeasure 'Big Orders' = ```\n" +
	"\t\tCALCULATE([Order Count],\n" +
	"\t\t\tSales[Quantity] >= 4)\n" +
	"\t\t```\n" +
	"\t\tformatString: #,0\n" +
	"\t\tdisplayFolder: KPIs\n" +
	"\t\tlineageTag: 9a8b\n" +
	"\t\tformatStringDefinition = ```\n" +
	"\t\t\t\tIF([Order Count] > 1, \"#,0\", \"0\")\n" +
	"\t\t\t\t```\n" +
	"\n" +
	"\t\tannotation PBI_FormatHint = {\"isGeneralNumber\":true}\n" +
	"\n" +
	"\tmeasure Margin =\n" +
	"\t\t\tDIVIDE(\n" +
	"\t\t\t\t[Profit],\n" +
	"\t\t\t\t[Revenue]\n" +
	"\t\t\t)\n" +
	"\t\tformatString: 0.0%\n" +
	"\n" +
	"\tcolumn Quantity\n" +
	"\t\tdataType: int64\n" +
	"\t\tsourceColumn: Quantity\n" +
	"\n" +
	"\tpartition 'Internet Sales' = m\n" +
	"\t\tmode: import\n" +
	"\t\tsource =\n" +
	"\t\t\t\tlet\n" +
	"\t\t\t\t\tSource = Sql.Database(\"s\", \"d\")\n" +
	"\t\t\t\tin\n" +
	"\t\t\t\t\tSource\n"

func TestParseTableTMDLReadsServiceForms(t *testing.T) {
	tb, err := parseTableTMDL("definition/tables/Internet Sales.tmdl", serviceTable)
	if err != nil {
		t.Fatal(err)
	}
	if tb.Name != "Internet Sales" || len(tb.Measures) != 2 {
		t.Fatalf("%+v", tb)
	}
	big, margin := tb.Measures[0], tb.Measures[1]
	if big.Name != "Big Orders" || big.Expression != "CALCULATE([Order Count],\n\tSales[Quantity] >= 4)" || big.FormatString != "#,0" ||
		big.DisplayFolder != "KPIs" || big.Description != "Orders of four or more" || big.start != 3 || big.end != 16 {
		t.Fatalf("Big Orders: %+v", big)
	}
	if margin.Name != "Margin" || margin.Expression != "DIVIDE(\n\t[Profit],\n\t[Revenue]\n)" || margin.FormatString != "0.0%" || margin.end != 23 {
		t.Fatalf("Margin: %+v", margin)
	}
}

// Changing a measure rewrites only its own lines and keeps its other properties; adding one puts
// it after the last measure; deleting takes its lines and the blank line before them.
func TestTableEditsAreTMDL(t *testing.T) {
	tb, err := parseTableTMDL("t", serviceTable)
	if err != nil {
		t.Fatal(err)
	}
	m := tb.Measures[0]
	m.Expression = "CALCULATE([Order Count], Sales[Quantity] >= 5)"
	m.Description = "Orders of five or more"
	got := tb.setMeasure(0, &m)
	want := strings.Replace(serviceTable, "\t/// Orders of four or more\n"+
		"\tmeasure 'Big Orders' = ```\n\t\tCALCULATE([Order Count],\n\t\t\tSales[Quantity] >= 4)\n\t\t```\n",
		"\t/// Orders of five or more\n\tmeasure 'Big Orders' = CALCULATE([Order Count], Sales[Quantity] >= 5)\n", 1)
	if got != want {
		t.Fatalf("changed:\n%s\nwant:\n%s", got, want)
	}

	got = tb.setMeasure(-1, &tmdlMeasure{Name: "It's new", Expression: "SUMX(\n  Sales,\n  [Qty]\n)", FormatString: "0"})
	want = strings.Replace(serviceTable, "\t\tformatString: 0.0%\n\n",
		"\t\tformatString: 0.0%\n\n\tmeasure 'It''s new' =\n\t\t\tSUMX(\n\t\t\t\tSales,\n\t\t\t\t[Qty]\n\t\t\t)\n\t\tformatString: 0\n\n", 1)
	if got != want {
		t.Fatalf("added:\n%s\nwant:\n%s", got, want)
	}
	if back, err := parseTableTMDL("t", got); err != nil || back.measureByName("it's NEW") != 2 || back.Measures[2].Expression != "SUMX(\n\tSales,\n\t[Qty]\n)" {
		t.Fatalf("the added measure reads back as %+v (%v)", back, err)
	}

	got = tb.setMeasure(1, nil)
	want = strings.Replace(serviceTable, "\n\tmeasure Margin =\n\t\t\tDIVIDE(\n\t\t\t\t[Profit],\n\t\t\t\t[Revenue]\n\t\t\t)\n\t\tformatString: 0.0%\n", "", 1)
	if got != want {
		t.Fatalf("deleted:\n%s\nwant:\n%s", got, want)
	}

	// A table with no measures gets its first before its columns.
	plain, err := parseTableTMDL("t", "table Product\n\tlineageTag: 1\n\n\tcolumn Name\n\t\tdataType: string\n")
	if err != nil {
		t.Fatal(err)
	}
	got = plain.setMeasure(-1, &tmdlMeasure{Name: "Products", Expression: "COUNTROWS(Product)"})
	if want := "table Product\n\tlineageTag: 1\n\n\tmeasure Products = COUNTROWS(Product)\n\n\tcolumn Name\n\t\tdataType: string\n"; got != want {
		t.Fatalf("first measure:\n%q\nwant:\n%q", got, want)
	}
}

func TestCheckDAX(t *testing.T) {
	for _, ok := range []string{
		`SUM(Sales[Amount])`,
		`CALCULATE([Total], 'Product Line'[Name] = "It""s (odd")`,
		"VAR x = {1, 2} // a comment with (\nRETURN COUNTROWS(x) -- and ]\n/* ( */",
		`[Col]]umn]`,
	} {
		if err := checkDAX(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for expr, want := range map[string]string{
		"SUM(Sales[Amount]":          "( at line 1, column 4 is never closed",
		"SUM(Sales[Amount]))":        ") at line 1, column 19 closes nothing",
		"SUM(Sales[Amount)":          "reference opened with [ at line 1, column 10",
		"1 +\n\"open":                "string opened with \" at line 2, column 1",
		"SUM('Sales[Amount])":        "quoted table name",
		"SUM(Sales Amount])":         "] at line 1, column 17 closes no [",
		"{1, (2}":                    "} at line 1, column 7 closes nothing",
		"1 /* unclosed comment":      "comment opened",
		"CALCULATE(\n\t[X],\n\t(\n)": "( at line 1, column 10 is never closed",
	} {
		if err := checkDAX(expr); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", expr, err, want)
		}
	}
}

func TestCheckPart(t *testing.T) {
	for path, src := range map[string]string{
		"definition/model.tmdl":         "model Model\n\tculture: en-US\n\nref table Sales\n",
		"definition/relationships.tmdl": "relationship 5f1c-2b\n\tfromColumn: Sales.ProductKey\n\ttoColumn: Product.ProductKey\n",
		"definition.pbism":              `{"version": "4.0"}`,
		"Copilot/Instructions/x.md":     "# anything (",
	} {
		if err := checkPart(path, []byte(src)); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
	for path, c := range map[string]struct{ src, want string }{
		"definition/model.tmdl":         {"ref table Sales\n", "no model declaration"},
		"definition/expressions.tmdl":   {"\texpression X = 1\n", "line 1: indented line before any declaration"},
		"definition/tables/Sales.tmdl":  {"table Sales\n\tmeasure X = 1\n\t\tSUM(1)\n", "line 2: the measure X: line 3"},
		"definition/tables/Other.tmdl":  {"\tcolumn A\n", "before the table"},
		"definition.pbism":              {`{"version": `, "not valid JSON"},
		"definition/tables/Quote.tmdl":  {"table 'Sales\n", "not closed"},
		"definition/tables/Tables.tmdl": {"table A\ntable B\n", "line 2"},
	} {
		if err := checkPart(path, []byte(c.src)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", path, err, c.want)
		}
	}
}
