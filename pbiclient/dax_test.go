package pbiclient_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

func TestExecuteQuery(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	srv.SeedDemo()
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()

	res, err := c.ExecuteQuery(ctx, pbitest.DemoSalesWorkspaceID, pbitest.DemoSalesDatasetID,
		`EVALUATE SUMMARIZECOLUMNS(Product[Category], Product[Color], "Orders", [Order Count]) ORDER BY Product[Category], Product[Color]`,
		pbiclient.QueryOptions{IncludeNulls: true, ImpersonatedUserName: "megan.bowen@contoso.com"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(res.Columns, ",") != "Product[Category],Product[Color],[Orders]" || len(res.Rows) == 0 || res.RowLimit != "" {
		t.Fatalf("result %+v", res)
	}
	// Accessories without a colour sort first: a blank cell, sent as null.
	if first := res.Rows[0]; first[0] != "Accessories" || first[1] != nil {
		t.Fatalf("first row %v", first)
	}
	if _, ok := res.Rows[0][2].(int64); !ok {
		t.Fatalf("a count must decode as int64: %T", res.Rows[0][2])
	}

	reqs := apiRequests(srv)
	last := reqs[len(reqs)-1]
	if last.Method != "POST" || last.Path != apiPrefix+"/groups/"+pbitest.DemoSalesWorkspaceID+"/datasets/"+pbitest.DemoSalesDatasetID+"/executeQueries" {
		t.Fatalf("request %s %s", last.Method, last.Path)
	}
	var body map[string]any
	if err := json.Unmarshal(last.Body, &body); err != nil {
		t.Fatal(err)
	}
	if q := body["queries"].([]any); len(q) != 1 || body["impersonatedUserName"] != "megan.bowen@contoso.com" ||
		body["serializerSettings"].(map[string]any)["includeNulls"] != true {
		t.Fatalf("body %s", last.Body)
	}

	// My workspace variant; without includeNulls no serializerSettings are sent.
	if _, err := c.ExecuteQuery(ctx, "", pbitest.DemoPersonalBudgetDatasetID, "EVALUATE Budget", pbiclient.QueryOptions{}); err != nil {
		t.Fatal(err)
	}
	reqs = apiRequests(srv)
	if last = reqs[len(reqs)-1]; last.Path != apiPrefix+"/datasets/"+pbitest.DemoPersonalBudgetDatasetID+"/executeQueries" ||
		string(last.Body) != `{"queries":[{"query":"EVALUATE Budget"}]}` {
		t.Fatalf("My workspace request %s %s", last.Path, last.Body)
	}

	// A DAX error is a 400 whose details carry the DAX message.
	_, err = c.ExecuteQuery(ctx, pbitest.DemoSalesWorkspaceID, pbitest.DemoSalesDatasetID, "EVALUATE Nope", pbiclient.QueryOptions{})
	ae := asAPIError(t, err)
	if ae.StatusCode != 400 || ae.Code != "DatasetExecuteQueriesError" || !strings.Contains(ae.Message, "Query (1, 10) Failed to resolve name 'Nope'") {
		t.Fatalf("DAX error %+v", ae)
	}

	// Two EVALUATEs: the service's error inside a 200 answer.
	_, err = c.ExecuteQuery(ctx, pbitest.DemoSalesWorkspaceID, pbitest.DemoSalesDatasetID, "EVALUATE Product EVALUATE Customer", pbiclient.QueryOptions{})
	var qe *pbiclient.QueryError
	if !errors.As(err, &qe) || qe.Level != "result" || qe.Message != "More than one result table in a query" || qe.RequestID == "" {
		t.Fatalf("two tables: %v", err)
	}
}

// The errors the fake tenant does not produce, answered the way the
// swagger defines them, at each of the three levels.
func TestExecuteQueryErrorLevels(t *testing.T) {
	cases := []struct {
		body, level, message string
		rowLimit             bool
	}{
		{`{"error":{"code":"QueryFailed","message":"The query was cancelled"}}`, "response", "The query was cancelled", false},
		{`{"results":[{"error":{"code":"X","message":"result failed"}}]}`, "result", "result failed", false},
		{`{"results":[{"tables":[{"rows":[],"error":{"code":"X","message":"table failed"}}]}]}`, "table", "table failed", false},
		{`{"results":[{"tables":[{"rows":[{"[a]":1},{"[b]":2.5}],"error":{"code":"X","message":"More than 50000 rows in a query result"}}]}]}`, "", "", true},
	}
	for _, tc := range cases {
		api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("RequestId", "rid-1")
			_, _ = w.Write([]byte(tc.body))
		}))
		c, err := pbiclient.New(pbiclient.Config{BaseURL: api.URL, Tokens: staticToken{}, MaxRetries: -1})
		if err != nil {
			t.Fatal(err)
		}
		res, err := c.ExecuteQuery(context.Background(), "g", "d", "EVALUATE T", pbiclient.QueryOptions{})
		api.Close()
		if tc.rowLimit {
			// Columns first seen in later rows are added; earlier rows get blanks.
			if err != nil || res.RowLimit == "" || strings.Join(res.Columns, ",") != "[a],[b]" || res.Rows[0][1] != nil || res.Rows[1][1] != 2.5 {
				t.Fatalf("row limit: %+v, %v", res, err)
			}
			continue
		}
		var qe *pbiclient.QueryError
		if !errors.As(err, &qe) || qe.Level != tc.level || qe.Message != tc.message || qe.RequestID != "rid-1" {
			t.Fatalf("%s: %v", tc.level, err)
		}
	}
}

type staticToken struct{}

func (staticToken) Token(context.Context) (string, error) { return "t", nil }
func (staticToken) Invalidate(string)                     {}
