package pbitest

import (
	"reflect"
	"strings"
	"testing"
)

// The definition served for a model reads back as the same measures: names that need quotes,
// multi-line expressions and descriptions survive the round trip.
func TestTMDLRoundTrip(t *testing.T) {
	m := DemoSalesModel()
	m.Measures = append(m.Measures, Measure{Table: "Sales", Name: "It's \"big\"", Expression: "DIVIDE(\n\tSUM(Sales[Quantity]),\n\t2)",
		FormatString: "0", Description: "Half the quantity\nfor tests", DisplayFolder: `KPIs\Quantity`})
	files := modelTMDL(&m, "Sales")
	got, err := parseModelTMDL(files, &m)
	if err != nil {
		t.Fatalf("parseModelTMDL: %v\n%s", err, files["definition/tables/Sales.tmdl"])
	}
	if !reflect.DeepEqual(got, m.Measures) {
		t.Errorf("measures read back:\n%+v\nwant\n%+v", got, m.Measures)
	}
}

func TestTMDLReadsServiceForms(t *testing.T) {
	m := DemoSalesModel()
	files := modelTMDL(&m, "Sales")
	files["definition/tables/Sales.tmdl"] = []byte("table Sales\n\tlineageTag: 1f2e\n\n" +
		"\t/// Orders of four or more\n" +
		"\tmeasure 'Big Orders' = ```\n\t\tCALCULATE([Order Count],\n\t\t\tSales[Quantity] >= 4)\n\t\t```\n" +
		"\t\tformatString: #,0\n\t\tdisplayFolder: KPIs\n\t\tlineageTag: 9a8b\n\n" +
		"\t\tannotation PBI_FormatHint = {\"isGeneralNumber\":true}\n\n" +
		"\tmeasure Plain = SUM(Sales[Quantity])\n\n" +
		"\tcolumn Quantity\n\t\tdataType: int64\n\t\tsummarizeBy: sum\n\t\tsourceColumn: Quantity\n\n" +
		"\tpartition Sales = m\n\t\tmode: import\n\t\tsource =\n\t\t\t\tlet\n\t\t\t\t\tSource = 1\n\t\t\t\tin\n\t\t\t\t\tSource\n")
	got, err := parseModelTMDL(files, &m)
	if err != nil {
		t.Fatalf("parseModelTMDL: %v", err)
	}
	want := []Measure{
		{Table: "Sales", Name: "Big Orders", Expression: "CALCULATE([Order Count],\n\tSales[Quantity] >= 4)", FormatString: "#,0", Description: "Orders of four or more", DisplayFolder: "KPIs"},
		{Table: "Sales", Name: "Plain", Expression: "SUM(Sales[Quantity])"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("measures:\n%+v\nwant\n%+v", got, want)
	}
}

func TestTMDLRefuses(t *testing.T) {
	m := DemoSalesModel()
	for _, tc := range []struct{ name, sales, want string }{
		{"two tables", "table Sales\ntable Other\n", "line 2"},
		{"spaces", "table Sales\n    measure X = 1\n", "tabs"},
		{"measure without =", "table Sales\n\tmeasure X 1\n", "no expression"},
		{"empty block", "table Sales\n\tmeasure X =\n\t\tformatString: 0\n", "empty expression"},
		{"unclosed fence", "table Sales\n\tmeasure X = ```\n\t\t1\n", "not closed"},
		{"bad DAX", "table Sales\n\tmeasure X = SUM(Sales[Quantity]\n", "not valid DAX"},
		{"duplicate", "table Sales\n\tmeasure X = 1\n\tmeasure x = 2\n", "more than once"},
		{"stray line", "table Sales\n\tmeasure X = 1\n\t\tSUM(1)\n", "line 3"},
		{"unknown table", "table Nope\n", "not in the model"},
	} {
		files := modelTMDL(&m, "Sales")
		files["definition/tables/Sales.tmdl"] = []byte(tc.sales)
		if _, err := parseModelTMDL(files, &m); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one mentioning %q", tc.name, err, tc.want)
		}
	}
	files := modelTMDL(&m, "Sales")
	delete(files, "definition/tables/Date.tmdl")
	if _, err := parseModelTMDL(files, &m); err == nil || !strings.Contains(err.Error(), "Date.tmdl") {
		t.Errorf("a table's file left out: err = %v, want it named", err)
	}
}
