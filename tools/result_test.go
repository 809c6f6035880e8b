package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// testBudget is the result budget of these tests: small, so that the seeded tenant overflows it.
const testBudget = 4096

// withinBudget fails the test unless both forms of res hold at most budget bytes, and returns
// the structured content as the client received it.
func withinBudget(t *testing.T, name string, res *mcp.CallToolResult, budget int) []byte {
	t.Helper()
	if res.IsError {
		t.Fatalf("%s failed: %s", name, text(res))
	}
	structured, err := json.Marshal(res.StructuredContent)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(text(res)); n > budget {
		t.Fatalf("%s: text of %d bytes, over the budget of %d", name, n, budget)
	}
	if len(structured) > budget {
		t.Fatalf("%s: structured content of %d bytes, over the budget of %d", name, len(structured), budget)
	}
	return structured
}

// A list longer than the budget comes in pages that each fit, say they were cut, and together
// hold every item exactly once.
func TestResultBudgetCutsAPageAndPagingGoesOn(t *testing.T) {
	st := newStack(t, stackOptions{tools: Options{Toolsets: []string{"admin"}}, maxResultBytes: testBudget})
	st.tenant.SetAdminRateLimits(pbitest.AdminRateLimits{Off: true})
	const added = 60
	for i := range added {
		st.tenant.AddAdminWorkspace(pbitest.AdminWorkspace{Workspace: pbitest.Workspace{Name: fmt.Sprintf("Budget %02d", i)},
			Users: []pbitest.WorkspaceUser{{Identifier: fmt.Sprintf("owner%02d@contoso.com", i), AccessRight: "Admin"}}})
	}
	want := pbitest.DemoAdminWorkspaceCount + added

	seen := map[string]int{}
	skip, calls := 0, 0
	for {
		calls++
		if calls > want {
			t.Fatal("paging does not end")
		}
		res := st.call(t, "admin_list_workspaces", map[string]any{"top": maxAdminWorkspaces, "skip": skip, "expand": []string{"users"}})
		structured := withinBudget(t, "admin_list_workspaces", res, testBudget)
		var page AdminListWorkspacesResult
		if err := json.Unmarshal(structured, &page); err != nil {
			t.Fatal(err)
		}
		if page.Count != len(page.Workspaces) || page.Count == 0 {
			t.Fatalf("call %d: count %d with %d workspaces", calls, page.Count, len(page.Workspaces))
		}
		for _, w := range page.Workspaces {
			seen[w.ID]++
		}
		if !page.HasMore {
			if page.Truncated || skip+page.Count != want {
				t.Fatalf("last page at skip %d: %+v, want the %d left, not truncated", skip, page.Page, want-skip)
			}
			break
		}
		// Each page ends where the budget cut it, and the next starts right after.
		if !page.Truncated || page.NextSkip != skip+page.Count {
			t.Fatalf("call %d at skip %d: %+v; want truncated and nextSkip = skip + count", calls, skip, page.Page)
		}
		if len(text(res)) < testBudget*3/4 {
			t.Errorf("call %d: cut at %d bytes, far below the budget of %d", calls, len(text(res)), testBudget)
		}
		skip = page.NextSkip
	}
	if calls < 3 {
		t.Fatalf("%d calls: the budget cut nothing", calls)
	}
	if len(seen) != want {
		t.Errorf("%d distinct workspaces over %d calls, want %d", len(seen), calls, want)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("workspace %s came %d times", id, n)
		}
	}
}

// A list that continues with a token (the activity log) is cut to fit with a token that
// resumes right after the last event sent.
func TestResultBudgetContinuesATokenList(t *testing.T) {
	st := newStack(t, stackOptions{maxResultBytes: testBudget})
	st.tenant.SetAuditOptions(pbitest.AuditOptions{ActivityPageSize: 25})
	const n = 100
	st.tenant.SeedActivityEvents(auditTestDay, n)

	var got []string
	args := wholeDay(map[string]any{"limit": 1000})
	for calls := 0; ; calls++ {
		if calls > n {
			t.Fatal("the continuation does not end")
		}
		res := st.call(t, "admin_get_activity_events", args)
		structured := withinBudget(t, "admin_get_activity_events", res, testBudget)
		var page ActivityEventsResult
		if err := json.Unmarshal(structured, &page); err != nil {
			t.Fatal(err)
		}
		if page.Count != len(page.ActivityEventEntities) {
			t.Fatalf("count %d with %d events", page.Count, len(page.ActivityEventEntities))
		}
		got = append(got, eventIDs(t, page.ActivityEventEntities)...)
		if !page.Truncated {
			break
		}
		if page.ContinuationToken == "" || !strings.Contains(string(structured), "continuation_token = continuationToken") {
			t.Fatalf("truncated without a way on: %s", structured)
		}
		args = map[string]any{"continuation_token": page.ContinuationToken, "limit": 1000}
	}
	want := make([]string, n)
	for i := range want {
		want[i] = fmt.Sprintf("%08x-0000-4000-8000-%012x", auditTestDay.YearDay(), i)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("read %d events in pieces, want the %d of the log in order, each once:\n%v", len(got), n, got)
	}
}

// A result that is no list (a model's schema) is cut at its largest array, and a note says
// what was cut and how much was kept.
func TestResultBudgetCutsAWholeResultWithANote(t *testing.T) {
	st := newStack(t, stackOptions{maxResultBytes: testBudget})
	ds := st.tenant.AddDataset(pbitest.DemoSalesWorkspaceID, pbitest.Dataset{Name: "Wide", IsRefreshable: true})
	var cols []pbitest.Column
	for i := range 200 {
		cols = append(cols, pbitest.Column{Name: fmt.Sprintf("Column %03d", i), DataType: pbitest.TypeString})
	}
	st.tenant.SetModel(ds.ID, pbitest.Model{Tables: []*pbitest.Table{{Name: "Wide", Columns: cols}}})

	res := st.call(t, "get_dataset_schema", map[string]any{"workspace": "Sales Analytics", "dataset": ds.ID})
	structured := withinBudget(t, "get_dataset_schema", res, testBudget)
	var out struct {
		DatasetSchemaResult
		Truncated  bool   `json:"truncated"`
		Truncation string `json:"truncation"`
	}
	if err := json.Unmarshal(structured, &out); err != nil {
		t.Fatal(err)
	}
	if !out.Truncated || len(out.Tables) != 1 {
		t.Fatalf("not cut as expected: %s", structured)
	}
	kept := out.Tables[0].Columns
	m := regexp.MustCompile(`tables\[0\]\.columns kept the first (\d+) of 200 items`).FindStringSubmatch(out.Truncation)
	if m == nil || m[1] != fmt.Sprint(len(kept)) || len(kept) < 20 {
		t.Fatalf("note %q with %d columns kept", out.Truncation, len(kept))
	}
	for i, c := range kept {
		if c.Name != cols[i].Name {
			t.Fatalf("column %d is %q, want %q: the leading columns are kept, in order", i, c.Name, cols[i].Name)
		}
	}
	if !strings.Contains(out.Truncation, "4096-byte result budget") {
		t.Errorf("note %q does not name the budget", out.Truncation)
	}
	var fromText DatasetSchemaResult
	if err := json.Unmarshal([]byte(text(res)), &fromText); err != nil || !reflect.DeepEqual(fromText, out.DatasetSchemaResult) {
		t.Errorf("text and structured content differ (%v):\n%s\n%s", err, text(res), structured)
	}
}

// A long string, the last thing left to cut, keeps its beginning and ends with an ellipsis,
// however many of its characters the encoding escapes.
func TestResultBudgetShortensALongString(t *testing.T) {
	st := newStack(t, stackOptions{maxResultBytes: testBudget})
	ds := st.tenant.AddDataset(pbitest.DemoSalesWorkspaceID, pbitest.Dataset{Name: "Long measure", IsRefreshable: true})
	expr := "SWITCH(TRUE()" + strings.Repeat(`, [Amount] < 0, "é<&>"`, 600) + ")"
	st.tenant.SetModel(ds.ID, pbitest.Model{
		Tables:   []*pbitest.Table{{Name: "Sales", Columns: []pbitest.Column{{Name: "Amount", DataType: pbitest.TypeDouble}}}},
		Measures: []pbitest.Measure{{Table: "Sales", Name: "Band", Expression: expr}},
	})
	res := st.call(t, "get_dataset_schema", map[string]any{"workspace": "Sales Analytics", "dataset": ds.ID})
	structured := withinBudget(t, "get_dataset_schema", res, testBudget)
	var out struct {
		DatasetSchemaResult
		Truncation string `json:"truncation"`
	}
	if err := json.Unmarshal(structured, &out); err != nil || len(out.Tables) != 1 || len(out.Tables[0].Measures) != 1 {
		t.Fatalf("%v: %s", err, structured)
	}
	got := out.Tables[0].Measures[0].Expression
	kept, ok := strings.CutSuffix(got, "…")
	if !ok || !strings.HasPrefix(expr, kept) || len(kept) < testBudget/4 {
		t.Fatalf("expression of %d bytes cut to %q", len(expr), got)
	}
	if want := fmt.Sprintf("tables[0].measures[0].expression kept the first %d of %d bytes", len(kept), len(expr)); !strings.Contains(out.Truncation, want) {
		t.Errorf("note %q, want it to say %q", out.Truncation, want)
	}
}

// However little a result is over the budget, the cut ends and fits, also when the string it
// shortens is dense with characters its encoding escapes (each cut must shorten the encoding,
// not only the text). With a budget too small for anything, it ends too, never cutting its own
// note.
func TestResultFitEndsJustOverTheBudget(t *testing.T) {
	type result struct {
		Text string `json:"text"`
		N    []int  `json:"n"`
	}
	out := result{Text: strings.Repeat(`é"<`, 300), N: []int{1, 2, 3}}
	whole, _ := json.Marshal(out)
	budgets := []int{10, 100} // smaller than any note: the cut must still end, with what it could do
	for b := len(whole) - 300; b < len(whole); b++ {
		budgets = append(budgets, b)
	}
	for _, budget := range budgets {
		done := make(chan []byte, 1)
		go func() {
			b, _ := newResultFit[struct{}](budget).encode(out, 0)
			done <- b
		}()
		select {
		case b := <-done:
			if (len(b) > budget && budget > 100) || !json.Valid(b) {
				t.Fatalf("budget %d: %d bytes: %s", budget, len(b), b)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("budget %d: the cut does not end", budget)
		}
	}
}

// Structured content never holds a member whose value is null: an optional field is absent.
// Nulls in arrays (a DAX blank) keep their place.
func TestResultDropsNullMembers(t *testing.T) {
	// Power BI sends some event fields as null; the fake sends them as text, so the test
	// turns one into null on the way.
	st := newStack(t, stackOptions{transport: func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			resp, err := rt.RoundTrip(r)
			if err != nil || !strings.HasSuffix(r.URL.Path, "/activityevents") {
				return resp, err
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				return nil, err
			}
			body = regexp.MustCompile(`"ItemName":"[^"]*"`).ReplaceAll(body, []byte(`"ItemName":null`))
			resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
			resp.Header.Del("Content-Length")
			return resp, nil
		})
	}})
	st.tenant.SeedActivityEvents(auditTestDay, 3)
	res := st.call(t, "admin_get_activity_events", wholeDay(nil))
	structured := withinBudget(t, "admin_get_activity_events", res, DefaultMaxResultBytes)
	if bytes.Contains(structured, []byte("null")) || strings.Contains(text(res), "null") {
		t.Fatalf("null member sent: %s", text(res))
	}
	var events ActivityEventsResult
	if err := json.Unmarshal(structured, &events); err != nil || events.Count != 3 {
		t.Fatalf("%v: %s", err, structured)
	}
	for _, e := range events.ActivityEventEntities {
		if _, ok := e["ItemName"]; ok || e["Activity"] == nil {
			t.Fatalf("event %v: want ItemName left out, the rest kept", e)
		}
	}

	dax := st.call(t, "execute_dax_query", map[string]any{"dataset": "Personal Budget", "query": `EVALUATE FILTER(Budget, Budget[Category] = "Leisure")`})
	if !strings.Contains(text(dax), `,null]`) {
		t.Fatalf("the blank cell should stay null in its row: %s", text(dax))
	}
}

// BenchmarkResultBudget measures what the budget costs a large list (5,000 workspaces, about
// 800 KB of JSON, cut to 32 KiB) and a result that fits, from the handler's return to the bytes
// of the JSON-RPC result (what the server then writes). The reference is mcp-go's own
// NewToolResultStructuredOnly, which keeps the value whole and is encoded again on the wire;
// marshal is the floor, the one json.Marshal of the value that handle starts with.
func BenchmarkResultBudget(b *testing.B) {
	large := AdminListWorkspacesResult{Page: Page{Count: 5000, HasMore: true, NextSkip: 5000}, Requests: 1}
	for i := range 5000 {
		large.Workspaces = append(large.Workspaces, AdminWorkspace{ID: fmt.Sprintf("5ca70000-0000-4000-8000-%012d", i),
			Name: fmt.Sprintf("Workspace %d of the tenant", i), Type: "Workspace", State: "Active",
			CapacityID: "6b8d0f2a-4c6e-4a1b-9d3f-5e7a9c1b3d50", IsOnDedicatedCapacity: true})
	}
	small := large
	small.Workspaces, small.Count = large.Workspaces[:50], 50
	req := mcp.CallToolRequest{Params: mcp.CallToolParams{Name: "bench", Arguments: map[string]any{}}}
	ctx := context.Background()
	for _, c := range []struct {
		name string
		out  AdminListWorkspacesResult
	}{{"large", large}, {"fits", small}} {
		h := handle("bench", DefaultMaxResultBytes, func(context.Context, mcp.CallToolRequest, struct {
			Skip int `json:"skip"`
		}) (AdminListWorkspacesResult, error) {
			return c.out, nil
		})
		b.Run(c.name+"/handle", func(b *testing.B) {
			b.ReportAllocs()
			var wire int
			for b.Loop() {
				res, err := h(ctx, req)
				if err != nil || res.IsError {
					b.Fatalf("%v %v", err, res)
				}
				out, err := json.Marshal(res)
				if err != nil {
					b.Fatal(err)
				}
				wire = len(out)
			}
			b.ReportMetric(float64(wire), "wire-bytes")
		})
		b.Run(c.name+"/marshal", func(b *testing.B) {
			// The floor: encoding the value once, as handle does first.
			b.ReportAllocs()
			for b.Loop() {
				if _, err := json.Marshal(c.out); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/reference", func(b *testing.B) {
			b.ReportAllocs()
			var wire int
			for b.Loop() {
				out, err := json.Marshal(mcp.NewToolResultStructuredOnly(c.out))
				if err != nil {
					b.Fatal(err)
				}
				wire = len(out)
			}
			b.ReportMetric(float64(wire), "wire-bytes")
		})
	}
}
