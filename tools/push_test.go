package tools

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

const rowsRoute = "POST /v1.0/myorg/groups/{groupId}/datasets/{datasetId}/tables/{tableName}/rows"

// createSalesPush creates a push dataset with a table Sales in Sales Analytics through the tool.
func createSalesPush(t *testing.T, st *stack, retention string) CreatePushDatasetResult {
	t.Helper()
	var res CreatePushDatasetResult
	st.ok(t, "create_push_dataset", map[string]any{"workspace": "Sales Analytics", "name": "Daily Sales",
		"default_retention_policy": retention,
		"tables": []any{map[string]any{"name": "Sales", "columns": []any{
			map[string]any{"name": "Id", "data_type": "Int64"},
			map[string]any{"name": "Region", "data_type": "String"},
			map[string]any{"name": "Amount", "data_type": "Double"},
			map[string]any{"name": "Paid", "data_type": "Boolean"},
			map[string]any{"name": "SoldOn", "data_type": "DateTime"},
		}, "measures": []any{map[string]any{"name": "Total Amount", "expression": "SUM(Sales[Amount])"}}}}}, &res)
	return res
}

func daxRow(t *testing.T, st *stack, dataset, query string) []any {
	t.Helper()
	var res DAXQueryResult
	st.ok(t, "execute_dax_query", map[string]any{"workspace": "Sales Analytics", "dataset": dataset, "query": query}, &res)
	if len(res.Rows) != 1 {
		t.Fatalf("%s: %d rows", query, len(res.Rows))
	}
	return res.Rows[0]
}

func TestAddRowsFromCSVBatchesAndIsQueryable(t *testing.T) {
	st := newStack(t, stackOptions{})
	created := createSalesPush(t, st, "None")
	if created.DefaultRetentionPolicy != "None" || created.Dataset.ID == "" {
		t.Fatalf("created %+v", created)
	}

	var b strings.Builder
	b.WriteString("Id,Region,Amount,Paid,SoldOn\n")
	var sum int64
	for i := 1; i <= 55_000; i++ {
		amount := int64(i%100) + 1
		sum += amount
		fmt.Fprintf(&b, "%d,R%d,%d,%t,2026-01-%02d\n", i, i%7, amount, i%2 == 0, i%28+1)
	}
	if err := os.WriteFile(filepath.Join(st.dataDir, "sales.csv"), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	st.tenant.ResetRequests()
	var res AddRowsResult
	st.ok(t, "add_rows", map[string]any{"workspace": "Sales Analytics", "dataset": "Daily Sales", "table": "sales", "file": "sales.csv"}, &res)
	if res.RowsAdded != 55_000 || res.Requests != 6 || res.FirstRow != 1 || res.LastRow != 55_000 || res.Table != "Sales" {
		t.Fatalf("result %+v", res)
	}
	if n := st.tenant.Count(rowsRoute); n != 6 {
		t.Fatalf("%d requests on the rows route, want 6", n)
	}
	for _, r := range st.tenant.Requests() {
		if r.Route == rowsRoute && r.Status != 200 {
			t.Fatalf("rows request answered %d", r.Status)
		}
	}
	// Notifications travel apart from the result, so the last may still be on its way.
	if p := st.progressFor("p-add_rows"); len(p) < 5 {
		t.Errorf("%d progress notifications, want one per request", len(p))
	}

	row := daxRow(t, st, "Daily Sales", `EVALUATE ROW("n", COUNTROWS(Sales), "sum", SUM(Sales[Amount]), "measure", [Total Amount])`)
	if fmt.Sprint(row[0]) != "55000" || row[1] != float64(sum) || row[2] != float64(sum) {
		t.Fatalf("row %v, want 55000 rows summing to %d", row, sum)
	}
	row = daxRow(t, st, "Daily Sales", `EVALUATE ROW("paid", CALCULATE(COUNTROWS(Sales), Sales[Paid] = TRUE()))`)
	if fmt.Sprint(row[0]) != "27500" {
		t.Fatalf("paid rows %v, want 27500: booleans must arrive as booleans", row)
	}
}

func TestAddRowsReportsBadCSVValuesWithLinesAndSendsNothing(t *testing.T) {
	st := newStack(t, stackOptions{})
	createSalesPush(t, st, "basicFIFO")
	csv := "Id,Amount,SoldOn\n1,10,2026-01-01\nx,20,2026-01-02\n3,abc,01/03/2026\n4,40,tomorrow\n"
	os.WriteFile(filepath.Join(st.dataDir, "bad.csv"), []byte(csv), 0o600)
	st.tenant.ResetRequests()
	msg := st.fails(t, "add_rows", map[string]any{"workspace": "Sales Analytics", "dataset": "Daily Sales", "table": "Sales", "file": "bad.csv"})
	for _, want := range []string{"Nothing was sent", "line 3, column Id", "line 4, column Amount", "line 5, column SoldOn", `"tomorrow"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}
	if n := st.tenant.Count(rowsRoute); n != 0 {
		t.Fatalf("%d rows requests sent for a file with bad values", n)
	}

	os.WriteFile(filepath.Join(st.dataDir, "cols.csv"), []byte("Id,Colour\n1,red\n"), 0o600)
	msg = st.fails(t, "add_rows", map[string]any{"workspace": "Sales Analytics", "dataset": "Daily Sales", "table": "Sales", "file": "cols.csv"})
	if !strings.Contains(msg, `"Colour"`) || !strings.Contains(msg, "Amount") {
		t.Fatalf("unknown header column: %s", msg)
	}
	msg = st.fails(t, "add_rows", map[string]any{"workspace": "Sales Analytics", "dataset": "Daily Sales", "table": "Sales", "file": "../outside.csv"})
	if !strings.Contains(msg, st.dataDir) {
		t.Fatalf("a file outside the data directory: %s", msg)
	}
	if n := st.tenant.Count(rowsRoute); n != 0 {
		t.Fatalf("%d rows requests sent", n)
	}
}

func TestAddRowsInlineAndJSONFile(t *testing.T) {
	st := newStack(t, stackOptions{})
	createSalesPush(t, st, "None")
	var res AddRowsResult
	st.ok(t, "add_rows", map[string]any{"workspace": "Sales Analytics", "dataset": "Daily Sales", "table": "Sales",
		"rows": []any{map[string]any{"Id": 1, "Region": "West", "Amount": 2.5, "Paid": true, "SoldOn": "2026-03-01T10:00:00Z"},
			map[string]any{"Id": 2, "Region": "East", "Amount": 4}}}, &res)
	if res.RowsAdded != 2 || res.Requests != 1 || res.Source != "inline rows" {
		t.Fatalf("inline %+v", res)
	}
	os.WriteFile(filepath.Join(st.dataDir, "more.json"), []byte(`{"note":"x","rows":[{"Id":3,"Amount":1.5},{"Id":4,"Amount":null},{"Id":5,"Amount":2}]}`), 0o600)
	st.ok(t, "add_rows", map[string]any{"workspace": "Sales Analytics", "dataset": "Daily Sales", "table": "Sales", "file": "more.json", "start_row": 2}, &res)
	if res.RowsAdded != 2 || res.FirstRow != 2 || res.LastRow != 3 {
		t.Fatalf("json %+v", res)
	}
	row := daxRow(t, st, "Daily Sales", `EVALUATE ROW("n", COUNTROWS(Sales), "sum", SUM(Sales[Amount]))`)
	if fmt.Sprint(row[0]) != "4" || fmt.Sprint(row[1]) != "8.5" {
		t.Fatalf("row %v: want the 2 inline rows and JSON rows 2-3", row)
	}

	msg := st.fails(t, "add_rows", map[string]any{"workspace": "Sales Analytics", "dataset": "Daily Sales", "table": "Sales",
		"rows": []any{map[string]any{"Id": "seven", "Colour": "red"}}})
	if !strings.Contains(msg, "row 1, column Id") || !strings.Contains(msg, `no column "Colour"`) {
		t.Fatalf("bad inline row: %s", msg)
	}
	msg = st.fails(t, "add_rows", map[string]any{"workspace": "Sales Analytics", "dataset": "Daily Sales", "table": "Sales"})
	if !strings.Contains(msg, "either rows") {
		t.Fatalf("neither rows nor file: %s", msg)
	}
}

func TestAddRowsStopsPartWayAndSaysWhereToContinue(t *testing.T) {
	st := newStack(t, stackOptions{})
	created := createSalesPush(t, st, "None")
	var b strings.Builder
	b.WriteString("Id,Amount\n")
	for i := 1; i <= 25_000; i++ {
		fmt.Fprintf(&b, "%d,1\n", i)
	}
	os.WriteFile(filepath.Join(st.dataDir, "big.csv"), []byte(b.String()), 0o600)
	// Another client already added 985,000 rows this hour: the second batch of 10,000 is
	// refused for an hour, longer than the client waits.
	st.tenant.CountPushedRows(created.Dataset.ID, 99, 985_000)
	msg := st.fails(t, "add_rows", map[string]any{"workspace": "Sales Analytics", "dataset": "Daily Sales", "table": "Sales", "file": "big.csv"})
	for _, want := range []string{"Added 10000 of 25000 rows", "HTTP 429", "start_row 10001"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}
}

func TestPushPacerWaitsForTheRequestRate(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	var slept time.Duration
	p := &pushPacer{sent: map[string][]pushSend{}, now: func() time.Time { return now },
		sleep: func(_ context.Context, d time.Duration) error { slept += d; now = now.Add(d); return nil }}
	for i := 0; i < 120; i++ {
		if err := p.reserve(context.Background(), "k", 10); err != nil {
			t.Fatal(err)
		}
		now = now.Add(100 * time.Millisecond)
	}
	if slept != 0 {
		t.Fatalf("waited %v within the limit", slept)
	}
	if err := p.reserve(context.Background(), "k", 10); err != nil {
		t.Fatal(err)
	}
	// The 121st request waits until the first leaves the minute.
	if slept <= 0 || slept > 49*time.Second {
		t.Fatalf("waited %v for the 121st request", slept)
	}
	if err := p.reserve(context.Background(), "other", 10); err != nil || slept > 49*time.Second {
		t.Fatalf("another dataset must not wait: %v %v", err, slept)
	}
	if err := p.reserve(context.Background(), "k", pushRowsPerHour); err == nil || !strings.Contains(err.Error(), "seconds") {
		t.Fatalf("a wait of an hour must not start: %v", err)
	}
}

func TestCreatePushDatasetListAndUpdateSchema(t *testing.T) {
	st := newStack(t, stackOptions{})
	created := createSalesPush(t, st, "basicFIFO")
	if got := st.tenant.PushRetention(created.Dataset.ID); got != "basicFIFO" {
		t.Fatalf("retention %q", got)
	}
	var list ListTablesResult
	st.ok(t, "list_tables", map[string]any{"workspace": "Sales Analytics", "dataset": created.Dataset.ID}, &list)
	if list.Count != 1 || list.Tables[0].Name != "Sales" || len(list.Tables[0].Columns) != 5 || list.Tables[0].Measures[0].Name != "Total Amount" {
		t.Fatalf("tables %+v", list)
	}
	st.ok(t, "add_rows", map[string]any{"workspace": "Sales Analytics", "dataset": "Daily Sales", "table": "Sales",
		"rows": []any{map[string]any{"Id": 1, "Region": "West", "Amount": 3}}}, &AddRowsResult{})

	args := map[string]any{"workspace": "Sales Analytics", "dataset": "Daily Sales", "table": "Sales",
		"columns": []any{map[string]any{"name": "Id", "data_type": "Int64"}, map[string]any{"name": "Amount", "data_type": "Double"},
			map[string]any{"name": "Channel", "data_type": "String"}}}
	msg := st.fails(t, "update_table_schema", args)
	if !strings.Contains(msg, "Region, Paid, SoldOn") || !strings.Contains(strings.ToLower(msg), "ask the user") {
		t.Fatalf("without confirm: %s", msg)
	}
	if rows := st.tenant.TableRows(created.Dataset.ID, "Sales"); len(rows) != 1 || len(rows[0]) != 5 {
		t.Fatalf("the schema changed without confirmation: %v", rows)
	}
	args["confirm"] = true
	var upd UpdateTableSchemaResult
	st.ok(t, "update_table_schema", args, &upd)
	if len(upd.Table.Columns) != 3 || upd.Table.Columns[2].Name != "Channel" || len(upd.Table.Measures) != 0 {
		t.Fatalf("updated %+v", upd)
	}
	row := daxRow(t, st, "Daily Sales", `EVALUATE ROW("sum", SUM(Sales[Amount]), "n", COUNTROWS(Sales))`)
	if fmt.Sprint(row) != "[3 1]" {
		t.Fatalf("rows after the schema change: %v", row)
	}

	msg = st.fails(t, "list_tables", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales"})
	if !strings.Contains(msg, "HTTP 400") || !strings.Contains(msg, "not a Push API dataset") {
		t.Fatalf("non-push dataset: %s", msg)
	}
}

func TestDeleteRowsNeedsConfirmation(t *testing.T) {
	st := newStack(t, stackOptions{})
	args := map[string]any{"workspace": "Sales Analytics", "dataset": "Sensor Readings", "table": "readings"}
	msg := st.fails(t, "delete_rows", args)
	if !strings.Contains(msg, "Delete every row of table Readings") || !strings.Contains(strings.ToLower(msg), "ask the user") {
		t.Fatalf("without confirm: %s", msg)
	}
	if n := len(st.tenant.TableRows(pbitest.DemoSensorReadingsDatasetID, "Readings")); n != 4 {
		t.Fatalf("%d rows left without confirmation", n)
	}
	args["confirm"] = true
	var res DeleteRowsResult
	st.ok(t, "delete_rows", args, &res)
	if res.Table != "Readings" || len(st.tenant.TableRows(pbitest.DemoSensorReadingsDatasetID, "Readings")) != 0 {
		t.Fatalf("rows not deleted: %+v", res)
	}
	row := daxRow(t, st, "Sensor Readings", `EVALUATE ROW("n", COUNTROWS(Readings))`)
	if row[0] != nil && fmt.Sprint(row[0]) != "0" {
		t.Fatalf("count after delete: %v", row)
	}
}
