package pbitest

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var pushBody = map[string]any{"name": "SalesMarketing", "defaultMode": "Push", "tables": []any{
	map[string]any{"name": "Product", "columns": []any{
		map[string]any{"name": "ProductID", "dataType": "Int64"},
		map[string]any{"name": "Name", "dataType": "string"},
		map[string]any{"name": "IsCompete", "dataType": "bool"},
		map[string]any{"name": "ManufacturedOn", "dataType": "DateTime"},
		map[string]any{"name": "Sales", "dataType": "Int64", "formatString": "Currency"},
	}, "measures": []any{map[string]any{"name": "Total Sales", "expression": "SUM(Product[Sales])"}}},
}}

// createPush creates the documentation's example push dataset in Sales Analytics.
func createPush(t *testing.T, s *Server, retention string) string {
	t.Helper()
	path := "/groups/" + DemoSalesWorkspaceID + "/datasets"
	if retention != "" {
		path += "?defaultRetentionPolicy=" + retention
	}
	r := api(t, s, "POST", path, pushBody)
	wantStatus(t, r, http.StatusCreated)
	m := r.json(t)
	if !strings.HasSuffix(m["@odata.context"].(string), "/groups/"+DemoSalesWorkspaceID+"/$metadata#datasets/$entity") || m["name"] != "SalesMarketing" {
		t.Fatalf("created %v", m)
	}
	return m["id"].(string)
}

func rowsPath(id, table string) string {
	return "/groups/" + DemoSalesWorkspaceID + "/datasets/" + id + "/tables/" + table + "/rows"
}

func productRows(n int) map[string]any {
	rows := make([]any, n)
	for i := range rows {
		rows[i] = map[string]any{"ProductID": i + 1, "Name": "Adjustable Race", "IsCompete": true, "ManufacturedOn": "07/30/2014", "Sales": 10}
	}
	return map[string]any{"rows": rows}
}

func TestPushDatasetCreateListAndQuery(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	id := createPush(t, s, "basicFIFO")
	if s.PushRetention(id) != RetentionBasicFIFO {
		t.Fatalf("retention %q", s.PushRetention(id))
	}
	got := api(t, s, "GET", "/groups/"+DemoSalesWorkspaceID+"/datasets/"+id, nil).json(t)
	if got["addRowsAPIEnabled"] != true || got["isRefreshable"] != false {
		t.Fatalf("dataset %v", got)
	}
	tables := api(t, s, "GET", "/groups/"+DemoSalesWorkspaceID+"/datasets/"+id+"/tables", nil).json(t)
	value := tables["value"].([]any)
	if len(value) != 1 || value[0].(map[string]any)["name"] != "Product" || len(value[0].(map[string]any)["columns"].([]any)) != 5 {
		t.Fatalf("tables %v", tables)
	}
	wantStatus(t, api(t, s, "POST", rowsPath(id, "Product"), productRows(3)), http.StatusOK)
	q := api(t, s, "POST", "/groups/"+DemoSalesWorkspaceID+"/datasets/"+id+"/executeQueries",
		map[string]any{"queries": []any{map[string]any{"query": `EVALUATE ROW("n", COUNTROWS(Product), "s", [Total Sales])`}}})
	if !strings.Contains(string(q.body), `"[n]":3`) || !strings.Contains(string(q.body), `"[s]":30`) {
		t.Fatalf("query %s", q.body)
	}
	wantStatus(t, api(t, s, "DELETE", rowsPath(id, "product"), nil), http.StatusOK)
	if rows := s.TableRows(id, "Product"); len(rows) != 0 {
		t.Fatalf("%d rows after DELETE", len(rows))
	}
}

func TestPushDatasetValidation(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	base := "/groups/" + DemoSalesWorkspaceID + "/datasets"
	many := make([]any, 76)
	for i := range many {
		many[i] = map[string]any{"name": fmt.Sprintf("T%d", i), "columns": []any{map[string]any{"name": "A", "dataType": "Int64"}}}
	}
	manyCols := make([]any, 76)
	for i := range manyCols {
		manyCols[i] = map[string]any{"name": fmt.Sprintf("C%d", i), "dataType": "String"}
	}
	for name, c := range map[string]struct {
		path string
		body any
	}{
		"no name":        {base, map[string]any{"tables": pushBody["tables"]}},
		"no tables":      {base, map[string]any{"name": "x", "tables": []any{}}},
		"76 tables":      {base, map[string]any{"name": "x", "tables": many}},
		"76 columns":     {base, map[string]any{"name": "x", "tables": []any{map[string]any{"name": "T", "columns": manyCols}}}},
		"bad type":       {base, map[string]any{"name": "x", "tables": []any{map[string]any{"name": "T", "columns": []any{map[string]any{"name": "A", "dataType": "Money"}}}}}},
		"bad relation":   {base, map[string]any{"name": "x", "tables": pushBody["tables"], "relationships": []any{map[string]any{"name": "r", "fromTable": "Product", "fromColumn": "Nope", "toTable": "Product", "toColumn": "ProductID"}}}},
		"bad retention":  {base + "?defaultRetentionPolicy=forever", pushBody},
		"duplicate cols": {base, map[string]any{"name": "x", "tables": []any{map[string]any{"name": "T", "columns": []any{map[string]any{"name": "A", "dataType": "Int64"}, map[string]any{"name": "a", "dataType": "Int64"}}}}}},
	} {
		r := api(t, s, "POST", c.path, c.body)
		if r.status != http.StatusBadRequest || errorCode(t, r) != "InvalidRequest" {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}

	id := createPush(t, s, "")
	if s.PushRetention(id) != RetentionNone {
		t.Fatalf("default retention %q", s.PushRetention(id))
	}
	r := api(t, s, "POST", rowsPath(id, "Product"), productRows(10_001))
	if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "10000") {
		t.Fatalf("10,001 rows: %d %s", r.status, r.body)
	}
	long := productRows(1)
	long["rows"].([]any)[0].(map[string]any)["Name"] = strings.Repeat("x", 4001)
	if r := api(t, s, "POST", rowsPath(id, "Product"), long); r.status != http.StatusBadRequest {
		t.Fatalf("4,001 characters: %d %s", r.status, r.body)
	}
	bad := map[string]any{"rows": []any{map[string]any{"ProductID": 1}, map[string]any{"ProductID": "one"}}}
	if r := api(t, s, "POST", rowsPath(id, "Product"), bad); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "Row 1") {
		t.Fatalf("bad value: %d %s", r.status, r.body)
	}
	if n := len(s.TableRows(id, "Product")); n != 0 {
		t.Fatalf("%d rows stored from refused requests", n)
	}
	if r := api(t, s, "POST", rowsPath(id, "Nope"), productRows(1)); r.status != http.StatusNotFound {
		t.Fatalf("unknown table: %d %s", r.status, r.body)
	}
	// Tables and rows exist only for push datasets.
	for _, method := range []string{"GET", "DELETE"} {
		path := "/groups/" + DemoSalesWorkspaceID + "/datasets/" + DemoSalesDatasetID + "/tables"
		if method == "DELETE" {
			path += "/Sales/rows"
		}
		if r := api(t, s, method, path, nil); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "not a Push API dataset") {
			t.Errorf("%s on an import model: %d %s", method, r.status, r.body)
		}
	}
}

func TestPushPutTableKeepsRowsOfRemainingColumns(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	id := createPush(t, s, "")
	wantStatus(t, api(t, s, "POST", rowsPath(id, "Product"), productRows(2)), http.StatusOK)
	path := "/groups/" + DemoSalesWorkspaceID + "/datasets/" + id + "/tables/Product"
	r := api(t, s, "PUT", path, map[string]any{"name": "Product", "columns": []any{
		map[string]any{"name": "ProductID", "dataType": "Int64"}, map[string]any{"name": "Sales", "dataType": "Double"}, map[string]any{"name": "Color", "dataType": "String"}}})
	wantStatus(t, r, http.StatusOK)
	if m := r.json(t); m["name"] != "Product" || len(m["columns"].([]any)) != 3 {
		t.Fatalf("PUT answer %v", m)
	}
	rows := s.TableRows(id, "Product")
	if len(rows) != 2 || rows[1][0] != int64(2) || rows[1][1] != 10.0 || rows[1][2] != nil {
		t.Fatalf("rows %v", rows)
	}
	if r := api(t, s, "PUT", path, map[string]any{"name": "Other", "columns": []any{map[string]any{"name": "A", "dataType": "Int64"}}}); r.status != http.StatusBadRequest {
		t.Fatalf("name mismatch: %d", r.status)
	}
}

func TestPushRateLimits(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	s.SetPushClock(func() time.Time { return now })
	id := createPush(t, s, "")

	// 120 requests a minute.
	s.CountPushedRows(id, 119, 119)
	wantStatus(t, api(t, s, "POST", rowsPath(id, "Product"), productRows(1)), http.StatusOK)
	r := api(t, s, "POST", rowsPath(id, "Product"), productRows(1))
	wantStatus(t, r, http.StatusTooManyRequests)
	if ra, _ := strconv.Atoi(r.header.Get("Retry-After")); ra < 1 || ra > 60 {
		t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
	}
	now = now.Add(time.Minute)
	wantStatus(t, api(t, s, "POST", rowsPath(id, "Product"), productRows(1)), http.StatusOK)

	// 1,000,000 rows an hour.
	s.CountPushedRows(id, 0, 1_000_000-122)
	wantStatus(t, api(t, s, "POST", rowsPath(id, "Product"), productRows(1)), http.StatusOK)
	r = api(t, s, "POST", rowsPath(id, "Product"), productRows(1))
	wantStatus(t, r, http.StatusTooManyRequests)
	if ra, _ := strconv.Atoi(r.header.Get("Retry-After")); ra < 3000 || ra > 3600 {
		t.Fatalf("Retry-After %q for the hourly row limit", r.header.Get("Retry-After"))
	}
	now = now.Add(time.Hour)
	wantStatus(t, api(t, s, "POST", rowsPath(id, "Product"), productRows(1)), http.StatusOK)

	// From 250,000 rows in the table, 120 requests an hour.
	big := &Table{Name: "Product", Columns: []Column{{Name: "ProductID", DataType: TypeInt64}}}
	big.Rows = make([][]any, 250_000)
	s.SetModel(id, Model{Tables: []*Table{big}})
	now = now.Add(time.Hour)
	s.CountPushedRows(id, 120, 120)
	now = now.Add(2 * time.Minute)
	r = api(t, s, "POST", rowsPath(id, "Product"), map[string]any{"rows": []any{map[string]any{"ProductID": 1}}})
	wantStatus(t, r, http.StatusTooManyRequests)
	if ra, _ := strconv.Atoi(r.header.Get("Retry-After")); ra < 3000 {
		t.Fatalf("Retry-After %q for a large table", r.header.Get("Retry-After"))
	}
}

func TestPushPendingRequestsAndFIFO(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	id := createPush(t, s, "basicFIFO")

	// Five requests whose bodies are still arriving are pending; a sixth is refused.
	var writers []*io.PipeWriter
	var wg sync.WaitGroup
	statuses := make([]int, 5)
	token := s.IssueToken(time.Hour)
	for i := range 5 {
		pr, pw := io.Pipe()
		writers = append(writers, pw)
		req, _ := http.NewRequest("POST", s.URL()+apiPrefix+rowsPath(id, "Product"), pr)
		req.Header.Set("Authorization", "Bearer "+token)
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := s.Client().Do(req)
			if err == nil {
				statuses[i] = resp.StatusCode
				resp.Body.Close()
			}
		}()
		// More than the 64 KiB the request log reads first, so the handler has begun.
		pw.Write([]byte(`{"rows":[` + strings.Repeat(`{"ProductID":1},`, 5000)))
	}
	eventually(t, "five pending requests", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		d, _ := s.state.findDataset(id)
		return d.push.pending == 5
	})
	r := api(t, s, "POST", rowsPath(id, "Product"), productRows(1))
	wantStatus(t, r, http.StatusTooManyRequests)
	for _, pw := range writers {
		pw.Write([]byte(`{"ProductID":1}]}`))
		pw.Close()
	}
	wg.Wait()
	for i, st := range statuses {
		if st != http.StatusOK {
			t.Fatalf("pending request %d answered %d", i, st)
		}
	}

	// basicFIFO keeps the newest 200,000 rows.
	tbl := &Table{Name: "Product", Columns: []Column{{Name: "ProductID", DataType: TypeInt64}}}
	for i := range 199_999 {
		tbl.Rows = append(tbl.Rows, []any{int64(i)})
	}
	s.SetModel(id, Model{Tables: []*Table{tbl}})
	wantStatus(t, api(t, s, "POST", rowsPath(id, "Product"), map[string]any{"rows": []any{
		map[string]any{"ProductID": -1}, map[string]any{"ProductID": -2}, map[string]any{"ProductID": -3}}}), http.StatusOK)
	rows := s.TableRows(id, "Product")
	if len(rows) != 200_000 || rows[0][0] != int64(2) || rows[len(rows)-1][0] != int64(-3) {
		t.Fatalf("%d rows, first %v, last %v", len(rows), rows[0], rows[len(rows)-1])
	}
}
