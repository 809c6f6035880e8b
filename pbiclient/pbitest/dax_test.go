package pbitest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func executeQuery(t *testing.T, s *Server, path, query string, includeNulls bool) response {
	t.Helper()
	body := map[string]any{"queries": []map[string]string{{"query": query}}}
	if includeNulls {
		body["serializerSettings"] = map[string]bool{"includeNulls": true}
	}
	return api(t, s, "POST", path+"/executeQueries", body)
}

// resultRows decodes results[0].tables[0].rows keeping the raw JSON.
func resultRows(t *testing.T, r response) (rows []map[string]json.RawMessage, tableErr, resultErr map[string]any) {
	t.Helper()
	var body struct {
		Results []struct {
			Tables []struct {
				Rows  []map[string]json.RawMessage `json:"rows"`
				Error map[string]any               `json:"error"`
			} `json:"tables"`
			Error map[string]any `json:"error"`
		} `json:"results"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil || len(body.Results) != 1 || len(body.Results[0].Tables) != 1 {
		t.Fatalf("want one result with one table: %v\n%.500s", err, r.body)
	}
	return body.Results[0].Tables[0].Rows, body.Results[0].Tables[0].Error, body.Results[0].Error
}

func TestExecuteQueriesWire(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	sales := "/groups/" + DemoSalesWorkspaceID + "/datasets/" + DemoSalesDatasetID

	r := executeQuery(t, s, sales, `EVALUATE TOPN(1, Product, Product[List Price]) `, false)
	wantStatus(t, r, http.StatusOK)
	if !strings.HasPrefix(string(r.body), `{"results":[{"tables":[{"rows":[{"Product[ProductKey]":1,"Product[Product]":"Road-150 Red"`) {
		t.Fatalf("body %s", r.body)
	}

	// Blank cells are left out unless includeNulls; dates have no zone.
	q := `EVALUATE FILTER(Product, Product[Product] = "Patch Kit")`
	rows, _, _ := resultRows(t, executeQuery(t, s, sales, q, false))
	if _, ok := rows[0]["Product[Color]"]; ok || len(rows[0]) != 4 {
		t.Fatalf("blank color sent without includeNulls: %v", rows[0])
	}
	rows, _, _ = resultRows(t, executeQuery(t, s, sales, q, true))
	if string(rows[0]["Product[Color]"]) != "null" {
		t.Fatalf("includeNulls: %v", rows[0])
	}
	rows, _, _ = resultRows(t, executeQuery(t, s, sales, `EVALUATE TOPN(1, 'Date', 'Date'[Date], ASC)`, false))
	if string(rows[0]["Date[Date]"]) != `"2024-01-01T00:00:00"` || string(rows[0]["Date[Month]"]) != `"Jan"` {
		t.Fatalf("date row %v", rows[0])
	}

	// My workspace variant, with its own model.
	rows, _, _ = resultRows(t, executeQuery(t, s, "/datasets/"+DemoPersonalBudgetDatasetID, `EVALUATE ROW("Remaining", [Remaining])`, false))
	var remaining float64
	if err := json.Unmarshal(rows[0]["[Remaining]"], &remaining); err != nil || !near(remaining, 2150-1979.95) {
		t.Fatalf("budget %v", rows[0])
	}
}

func TestExecuteQueriesErrors(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	sales := "/groups/" + DemoSalesWorkspaceID + "/datasets/" + DemoSalesDatasetID

	r := executeQuery(t, s, sales, `EVALUATE SUMMARIZE(Sales, Sales[OrderNumber])`, false)
	wantStatus(t, r, http.StatusBadRequest)
	var body struct {
		Error struct {
			Code     string `json:"code"`
			PBIError struct {
				Code    string      `json:"code"`
				Details []pbiDetail `json:"details"`
			} `json:"pbi.error"`
		} `json:"error"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatal(err)
	}
	d := body.Error.PBIError.Details
	if body.Error.Code != "DatasetExecuteQueriesError" || body.Error.PBIError.Code != body.Error.Code || len(d) != 2 ||
		d[0].Code != "DetailsMessage" || !strings.Contains(d[0].Detail.Value, "SUMMARIZE") || d[1].Code != "AnalysisServicesErrorCode" {
		t.Fatalf("DAX error body %s", r.body)
	}

	// One query per request.
	r = api(t, s, "POST", sales+"/executeQueries", map[string]any{"queries": []map[string]string{{"query": "EVALUATE Product"}, {"query": "EVALUATE Sales"}}})
	wantStatus(t, r, http.StatusBadRequest)
	if !strings.Contains(string(r.body), "Only one query per request") {
		t.Fatalf("two queries: %s", r.body)
	}

	// INFO functions refused on Finance KPIs; COLUMNSTATISTICS answers.
	finance := "/groups/" + DemoFinanceWorkspaceID + "/datasets/" + DemoFinanceKPIsDatasetID
	r = executeQuery(t, s, finance, "EVALUATE INFO.VIEW.MEASURES()", false)
	wantStatus(t, r, http.StatusBadRequest)
	if !strings.Contains(string(r.body), "Failed to execute the DAX query.") {
		t.Fatalf("refused INFO: %s", r.body)
	}
	wantStatus(t, executeQuery(t, s, finance, "EVALUATE COLUMNSTATISTICS()", false), http.StatusOK)

	// Two EVALUATEs: 200 with the first table and an error.
	rows, _, resultErr := resultRows(t, executeQuery(t, s, sales, "EVALUATE Product EVALUATE Customer", false))
	if len(rows) != 12 || resultErr["message"] != "More than one result table in a query" {
		t.Fatalf("two tables: %d rows, error %v", len(rows), resultErr)
	}

	// Unknown dataset: the service's 404.
	r = executeQuery(t, s, "/groups/"+DemoSalesWorkspaceID+"/datasets/00000000-0000-0000-0000-000000000000", "EVALUATE Product", false)
	wantStatus(t, r, http.StatusNotFound)
	if code, _ := errorCodeMessage(t, r); code != "ItemNotFound" {
		t.Fatalf("unknown dataset: %s", r.body)
	}
}

func TestExecuteQueriesRowLimit(t *testing.T) {
	s := newTestServer(t, Options{})
	ws := s.AddWorkspace(Workspace{Name: "Big"})
	ds := s.AddDataset(ws.ID, Dataset{Name: "Big"})
	big := &Table{Name: "Big", Columns: []Column{{Name: "N", DataType: TypeInt64}}}
	for i := range maxQueryRows + 5 {
		big.Rows = append(big.Rows, []any{int64(i)})
	}
	s.SetModel(ds.ID, Model{Tables: []*Table{big}})
	rows, tableErr, _ := resultRows(t, executeQuery(t, s, "/groups/"+ws.ID+"/datasets/"+ds.ID, "EVALUATE Big", false))
	if len(rows) != maxQueryRows || tableErr["message"] != fmt.Sprintf("More than %d rows in a query result", maxQueryRows) {
		t.Fatalf("%d rows, error %v", len(rows), tableErr)
	}
}
