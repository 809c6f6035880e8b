package pbitest

import (
	"math"
	"runtime"
	"strconv"
	"sync"
	"weak"
)

// DemoOrderLines is the number of rows of the demo "Sales" model's 'Order Lines' table: more
// than fits one tool result, so that paging through a query's rows and writing them to a file
// can be tried in the sandbox.
const DemoOrderLines = 12_000

// seedOrderLines adds the 'Order Lines' table to the demo "Sales" model (see SeedDemo), related
// to its Date and Product tables.
//
// The sandbox seeds on every start, and most sessions never read this table, so its rows are
// made when the model is first queried (fillPendingRows), and compactly then: every cell in one
// backing array, and each distinct value boxed once.
func (s *Server) seedOrderLines() {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, _ := s.state.findDataset(DemoSalesDatasetID)
	t := &Table{Name: "Order Lines", Columns: []Column{
		{Name: "Order Id", DataType: TypeString}, {Name: "Line", DataType: TypeInt64},
		{Name: "Product", DataType: TypeString}, {Name: "Quantity", DataType: TypeInt64},
		{Name: "Amount", DataType: TypeDecimal}, {Name: "Order Date", DataType: TypeDateTime},
	}}
	key := weak.Make(t)
	pendingRows.Store(key, true)
	runtime.AddCleanup(t, func(k weak.Pointer[Table]) { pendingRows.Delete(k) }, key)
	d.model.Tables = append(d.model.Tables, t)
	d.model.Relationships = append(d.model.Relationships,
		Relationship{FromTable: t.Name, FromColumn: "Order Date", ToTable: "Date", ToColumn: "Date"},
		Relationship{FromTable: t.Name, FromColumn: "Product", ToTable: "Product", ToColumn: "Product"})
}

// pendingRows holds the demo tables whose rows are still to be made. The keys are weak, so a
// tenant that is never queried leaves nothing behind.
var pendingRows sync.Map // weak.Pointer[Table] -> true

// fillPendingRows makes the rows of m's tables that are made on first use. The caller holds
// s.mu, as every reader of a model does.
func fillPendingRows(m *Model) {
	if m == nil {
		return
	}
	for _, t := range m.Tables {
		if _, pending := pendingRows.LoadAndDelete(weak.Make(t)); pending {
			t.Rows = demoOrderLines(m.table("Date"), m.table("Product"))
		}
	}
}

// demoOrderLines makes the rows of 'Order Lines'. Every value follows from the row number:
// order k has 1 + (k*7)%5 lines, dated within the demo year's first half, of products and
// quantities that cycle with the line.
func demoOrderLines(dates, products *Table) [][]any {
	const width, maxLines, maxQuantity = 6, 5, 6 // width: the columns seedOrderLines declares
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

	// The order ids are slices of one string: boxing each is the only allocation per order.
	const firstOrder, idLen = 60001, len("SO60001")
	ids := make([]byte, 0, DemoOrderLines*idLen)
	for order := 0; order < DemoOrderLines; order++ {
		ids = strconv.AppendInt(append(ids, "SO"...), int64(firstOrder+order), 10)
	}
	allIDs := string(ids)

	cells := make([]any, DemoOrderLines*width)
	rows := make([][]any, DemoOrderLines)
	row := 0
	for order := 0; row < DemoOrderLines; order++ {
		id := any(allIDs[order*idLen : (order+1)*idLen])
		date := day[(order*11)%len(day)]
		for line := 1; line <= 1+(order*7)%maxLines && row < DemoOrderLines; line++ {
			p := (order*3 + line*5) % len(name)
			q := 1 + (order+line*2)%maxQuantity
			r := cells[row*width : (row+1)*width : (row+1)*width]
			r[0], r[1], r[2], r[3], r[4], r[5] = id, small[line], name[p], small[q], amount[p][q], date
			rows[row] = r
			row++
		}
	}
	return rows
}
