package tools

import (
	"strings"
	"testing"
	"time"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

const (
	routeExecuteQueries = "POST /v1.0/myorg/groups/{groupId}/datasets/{datasetId}/executeQueries"
	routeGetDataset     = "GET /v1.0/myorg/groups/{groupId}/datasets/{datasetId}"
)

// routeCount counts the requests the tenant received on route.
func routeCount(st *stack, route string) int {
	n := 0
	for _, r := range st.tenant.Requests() {
		if r.Route == route {
			n++
		}
	}
	return n
}

func TestDAXQueryOnRLSModelRefusedForServicePrincipal(t *testing.T) {
	st := newStack(t, stackOptions{})
	for _, dataset := range []string{"Regional Sales", pbitest.DemoRegionalSalesDatasetID} {
		for _, impersonated := range []string{"", pbitest.DemoWestUser} {
			st.tenant.ResetRequests()
			args := map[string]any{"workspace": "Sales Analytics", "dataset": dataset, "query": "EVALUATE Sales"}
			if impersonated != "" {
				args["impersonated_user_name"] = impersonated
			}
			msg := st.fails(t, "execute_dax_query", args)
			for _, want := range []string{"Regional Sales", "row-level security", "service principal", "The query was not sent",
				"--auth device-code", "impersonated_user_name"} {
				if !strings.Contains(msg, want) {
					t.Errorf("%s: %q lacks %q", dataset, msg, want)
				}
			}
			if strings.Contains(msg, "fix the") {
				t.Errorf("the refusal blames the query: %q", msg)
			}
			if n := routeCount(st, routeExecuteQueries); n != 0 {
				t.Errorf("%s: %d executeQueries requests sent", dataset, n)
			}
			// A name is resolved from the list, which carries the flags: no request more.
			wantGets := 0
			if dataset == pbitest.DemoRegionalSalesDatasetID {
				wantGets = 1
			}
			if n := routeCount(st, routeGetDataset); n != wantGets {
				t.Errorf("%s: %d GET dataset requests, want %d", dataset, n, wantGets)
			}
		}
	}

	// get_dataset_schema reads the model with DAX queries too: refused the same way.
	st.tenant.ResetRequests()
	msg := st.fails(t, "get_dataset_schema", map[string]any{"workspace": "Sales Analytics", "dataset": "Regional Sales"})
	if !strings.Contains(msg, "row-level security") || !strings.Contains(msg, "--auth device-code") {
		t.Errorf("get_dataset_schema on Regional Sales: %q", msg)
	}
	if n := routeCount(st, routeExecuteQueries); n != 0 {
		t.Errorf("get_dataset_schema: %d executeQueries requests sent", n)
	}

	// Sales has no RLS: the service principal queries it as before.
	var res DAXQueryResult
	st.ok(t, "execute_dax_query", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales",
		"query": `EVALUATE ROW("n", COUNTROWS(Sales))`}, &res)
	if res.RowCount != 1 || res.Rows[0][0] != float64(300) {
		t.Errorf("Sales as the service principal: %+v", res)
	}
}

// signInAs signs the stack's device-code credential in as upn, as the user would in a browser.
func signInAs(t *testing.T, st *stack, upn string) {
	t.Helper()
	code := signInCode(t, st, st.fails(t, "list_workspaces", nil))
	if err := st.tenant.ApproveDeviceCode(code, upn); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for st.call(t, "list_workspaces", nil).IsError {
		if time.Now().After(deadline) {
			t.Fatal("still not signed in")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// regionsOf is the set of values of the Sales[Region] column of a result.
func regionsOf(t *testing.T, res DAXQueryResult) map[any]bool {
	t.Helper()
	col := -1
	for i, c := range res.Columns {
		if c == "Sales[Region]" {
			col = i
		}
	}
	if col < 0 || res.RowCount == 0 {
		t.Fatalf("no Sales[Region] rows: %+v", res)
	}
	out := map[any]bool{}
	for _, r := range res.Rows {
		out[r[col]] = true
	}
	return out
}

func TestDAXQueryOnRLSModelAsUser(t *testing.T) {
	query := map[string]any{"workspace": "Sales Analytics", "dataset": "Regional Sales", "query": "EVALUATE Sales"}

	// A member of the West role sees the West rows, and only those.
	west := newStack(t, stackOptions{userSignIn: true})
	signInAs(t, west, pbitest.DemoWestUser)
	var res DAXQueryResult
	west.ok(t, "execute_dax_query", query, &res)
	if got := regionsOf(t, res); len(got) != 1 || !got["West"] {
		t.Errorf("West role member sees %v", got)
	}

	// The model's owner sees every region, and the East rows when looking as the East user.
	owner := newStack(t, stackOptions{userSignIn: true})
	signInAs(t, owner, "")
	owner.ok(t, "execute_dax_query", query, &res)
	if got := regionsOf(t, res); len(got) != 3 {
		t.Errorf("owner sees %v", got)
	}
	as := func(user string) map[string]any {
		q := map[string]any{"impersonated_user_name": user}
		for k, v := range query {
			q[k] = v
		}
		return q
	}
	owner.ok(t, "execute_dax_query", as(pbitest.DemoEastUser), &res)
	if got := regionsOf(t, res); len(got) != 1 || !got["East"] {
		t.Errorf("owner as the East user sees %v", got)
	}

	// A user in no role: Power BI refuses, and the advice names RLS rather than the query.
	msg := owner.fails(t, "execute_dax_query", as("no.role@contoso.com"))
	if !strings.Contains(msg, "RLSNotAuthorizedForModel") || !strings.Contains(msg, "in none of its roles") || strings.Contains(msg, "fix the") {
		t.Errorf("no-role advice: %q", msg)
	}
}

func TestRLSRefusalAdviceNamesRLS(t *testing.T) {
	// A service that words the refusal as a query error: the advice is about RLS, not the query.
	msg := text(errorResult("run the DAX query", &pbiclient.APIError{Method: "POST", StatusCode: 400,
		Path: "/groups/" + pbitest.DemoSalesWorkspaceID + "/datasets/" + pbitest.DemoRegionalSalesDatasetID + "/executeQueries",
		Code: "DatasetExecuteQueriesError", Message: "The model has row-level security and requires an effective identity."}))
	if !strings.Contains(msg, "in none of its roles") || strings.Contains(msg, "fix the DAX query") {
		t.Errorf("executeQueries refusal: %q", msg)
	}
	// Embed tokens speak of effective identities too; their advice stays theirs.
	msg = text(errorResult("generate the embed token", &pbiclient.APIError{Method: "POST", StatusCode: 400,
		Path: "/groups/" + pbitest.DemoSalesWorkspaceID + "/datasets/" + pbitest.DemoRegionalSalesDatasetID + "/GenerateToken",
		Code: "InvalidRequest", Message: "Creating embed token for accessing dataset x requires effective identity to be provided"}))
	if strings.Contains(msg, "in none of its roles") {
		t.Errorf("embed refusal: %q", msg)
	}
}

// list_datasets shows which models have RLS, so an agent knows before it plans a DAX query that
// a service principal cannot run it there.
func TestListDatasetsShowsRLS(t *testing.T) {
	st := newStack(t, stackOptions{})
	var list ListDatasetsResult
	st.ok(t, "list_datasets", map[string]any{"workspace": "Sales Analytics"}, &list)
	flags := map[string]bool{}
	for _, ds := range list.Datasets {
		flags[ds.Name] = ds.IsEffectiveIdentityRequired
	}
	if v, ok := flags["Regional Sales"]; !ok || !v {
		t.Errorf("Regional Sales: isEffectiveIdentityRequired %v (listed %v)", v, ok)
	}
	if v, ok := flags["Sales"]; !ok || v {
		t.Errorf("Sales: isEffectiveIdentityRequired %v (listed %v)", v, ok)
	}
	var one GetDatasetResult
	st.ok(t, "get_dataset", map[string]any{"workspace": "Sales Analytics", "dataset": "Regional Sales"}, &one)
	if !one.Dataset.IsEffectiveIdentityRequired || !one.Dataset.IsEffectiveIdentityRolesRequired {
		t.Errorf("get_dataset of Regional Sales: %+v", one.Dataset)
	}
}
