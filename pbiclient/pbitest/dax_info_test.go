package pbitest

import (
	"reflect"
	"testing"
)

func TestInfoViewRelationships(t *testing.T) {
	got := query(t, "EVALUATE INFO.VIEW.RELATIONSHIPS()")
	if colKeys(got) != "[ID],[Name],[Relationship],[Model],[IsActive],[CrossFilteringBehavior],[RelyOnReferentialIntegrity],"+
		"[FromTable],[FromColumn],[FromCardinality],[ToTable],[ToColumn],[ToCardinality],[State],[SecurityFilteringBehavior]" {
		t.Fatalf("columns %s", colKeys(got))
	}
	if len(got.rows) != 3 {
		t.Fatalf("%d relationships, want the demo model's 3", len(got.rows))
	}
	r := got.rows[1]
	if r[2] != "'Sales'[ProductKey] *-1 'Product'[ProductKey]" || r[4] != true || r[5] != "OneDirection" ||
		!reflect.DeepEqual(r[7:13], []any{"Sales", "ProductKey", "Many", "Product", "ProductKey", "One"}) {
		t.Fatalf("relationship %v", r)
	}
	m := DemoSalesModel()
	m.RefuseInfoFunctions = true
	if _, err := runQuery(&m, "EVALUATE INFO.VIEW.RELATIONSHIPS()"); err != errInfoRefused {
		t.Fatalf("refused model: %v", err)
	}
}

// The query get_dataset_schema reads sample values with: the n smallest distinct non-blank
// values of a column, joined in order.
func TestConcatenateXOfDistinctValues(t *testing.T) {
	got := query(t, `EVALUATE ROW("c", CONCATENATEX(TOPN(2, FILTER(DISTINCT(Product[Color]), NOT(ISBLANK(Product[Color]))), Product[Color], ASC), Product[Color], "|", Product[Color], ASC), `+
		`"d", CONCATENATEX(FILTER(Product, Product[Category] = "Bikes"), Product[Color], ", ", Product[Color], DESC), `+
		`"none", CONCATENATEX(FILTER(Product, Product[Category] = "None"), Product[Color]))`)
	if want := []any{"Black|Blue", "Silver, Red, Blue, Black", nil}; !reflect.DeepEqual(got.rows[0], want) {
		t.Fatalf("row %q, want %q", got.rows[0], want)
	}
	queryFails(t, `EVALUATE ROW("x", NOT(1, 2))`, "NOT function")
}
