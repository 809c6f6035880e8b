package pbitest

import (
	"fmt"
	"math"
)

// DemoOrderLines is the number of rows of the demo "Sales" model's 'Order Lines' table: more
// than fits one tool result, so that paging through a query's rows and writing them to a file
// can be tried in the sandbox.
const DemoOrderLines = 12_000

// seedOrderLines adds the 'Order Lines' table to the demo "Sales" model (see SeedDemo), related
// to its Date and Product tables.
//
// The sandbox seeds on every start, so the table is built compactly: every cell in one backing
// array, and each distinct value boxed once (dates, products, quantities, amounts), which
// leaves one allocation per order for its id. It goes into the stored model directly, since
// SetModel would copy it row by row.
func (s *Server) seedOrderLines() {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, _ := s.state.findDataset(DemoSalesDatasetID)
	t := demoOrderLines(d.model.table("Date"), d.model.table("Product"))
	d.model.Tables = append(d.model.Tables, t)
	d.model.Relationships = append(d.model.Relationships,
		Relationship{FromTable: t.Name, FromColumn: "Order Date", ToTable: "Date", ToColumn: "Date"},
		Relationship{FromTable: t.Name, FromColumn: "Product", ToTable: "Product", ToColumn: "Product"})
}

// demoOrderLines builds the table. Every value follows from the row number: order k has
// 1 + (k*7)%5 lines, dated within the demo year's first half, of products and quantities that
// cycle with the line.
func demoOrderLines(dates, products *Table) *Table {
	t := &Table{Name: "Order Lines", Columns: []Column{
		{Name: "Order Id", DataType: TypeString}, {Name: "Line", DataType: TypeInt64},
		{Name: "Product", DataType: TypeString}, {Name: "Quantity", DataType: TypeInt64},
		{Name: "Amount", DataType: TypeDecimal}, {Name: "Order Date", DataType: TypeDateTime},
	}}
	const maxLines, maxQuantity = 5, 6
	day := make([]any, len(dates.Rows))
	for i, r := range dates.Rows {
		day[i] = r[0] // already boxed
	}
	name := make([]any, len(products.Rows))
	amount := make([][]any, len(products.Rows)) // by product and quantity
	for i, r := range products.Rows {
		name[i] = r[1]
		amount[i] = make([]any, maxQuantity+1)
		for q := 1; q <= maxQuantity; q++ {
			amount[i][q] = math.Round(float64(q)*r[4].(float64)*100) / 100
		}
	}
	small := make([]any, max(maxLines, maxQuantity)+1)
	for i := range small {
		small[i] = int64(i)
	}

	width := len(t.Columns)
	cells := make([]any, DemoOrderLines*width)
	t.Rows = make([][]any, DemoOrderLines)
	row := 0
	for order := 0; row < DemoOrderLines; order++ {
		id := any(fmt.Sprintf("SO%d", 60001+order))
		date := day[(order*11)%len(day)]
		for line := 1; line <= 1+(order*7)%maxLines && row < DemoOrderLines; line++ {
			p := (order*3 + line*5) % len(name)
			q := 1 + (order+line*2)%maxQuantity
			r := cells[row*width : (row+1)*width : (row+1)*width]
			r[0], r[1], r[2], r[3], r[4], r[5] = id, small[line], name[p], small[q], amount[p][q], date
			t.Rows[row] = r
			row++
		}
	}
	return t
}
