package pbitest

import (
	"bytes"
	"encoding/json"
	"testing"
)

// 'Order Lines' costs the seeding nothing: its rows are made when the model is first queried,
// the same on every tenant, and its first row is the one the formulas give.
func TestOrderLinesAreMadeOnFirstQuery(t *testing.T) {
	var bodies [][]byte
	for range 2 {
		s := newTestServer(t, Options{})
		s.SeedDemo()
		s.mu.Lock()
		d, _ := s.state.findDataset(DemoSalesDatasetID)
		lines := d.model.table("Order Lines")
		s.mu.Unlock()
		if lines == nil || len(lines.Columns) != 6 || lines.Rows != nil {
			t.Fatalf("after seeding: %+v", lines)
		}
		r := executeQuery(t, s, "/groups/"+DemoSalesWorkspaceID+"/datasets/"+DemoSalesDatasetID, "EVALUATE 'Order Lines'", true)
		wantStatus(t, r, 200)
		rows, tableErr, resultErr := resultRows(t, r)
		if len(rows) != DemoOrderLines || tableErr != nil || resultErr != nil {
			t.Fatalf("%d rows, errors %v %v", len(rows), tableErr, resultErr)
		}
		first, _ := json.Marshal(rows[0])
		if want := `{"Order Lines[Amount]":14.97,"Order Lines[Line]":1,"Order Lines[Order Date]":"2024-01-01T00:00:00","Order Lines[Order Id]":"SO60001","Order Lines[Product]":"Water Bottle","Order Lines[Quantity]":3}`; string(first) != want {
			t.Fatalf("first row %s, want %s", first, want)
		}
		bodies = append(bodies, r.body)
	}
	if !bytes.Equal(bodies[0], bodies[1]) {
		t.Fatal("two tenants hold different order lines")
	}
}
