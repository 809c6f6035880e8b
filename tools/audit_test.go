package tools

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/rs/zerolog"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// auditStack is a stack whose server writes its audit log to the returned buffer.
func auditStack(t *testing.T) (*stack, *syncBuffer) {
	t.Helper()
	var out syncBuffer
	st := newStack(t, stackOptions{deps: func(d *Deps) { d.Audit = NewAuditLog(&out, d.Logger, nil) }})
	return st, &out
}

// auditLines decodes the audit log's lines.
func auditLines(t *testing.T, out *syncBuffer) []auditRecord {
	t.Helper()
	var recs []auditRecord
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if line == "" {
			continue
		}
		var r auditRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("audit line %q is not JSON: %v", line, err)
		}
		recs = append(recs, r)
	}
	return recs
}

func TestAuditLogOneLinePerCall(t *testing.T) {
	st, out := auditStack(t)
	alice := auth.Caller{TenantID: "tenant-1", ObjectID: "oid-alice", Username: "alice@contoso.com", AppID: "client-app", Scopes: []string{"user_impersonation"}}
	asAlice := auth.WithCaller(context.Background(), alice)

	if res := st.callCtx(t, asAlice, "list_datasets", map[string]any{"workspace": "Sales Analytics"}); res.IsError {
		t.Fatal(text(res))
	}
	if res := st.call(t, "get_dataset", map[string]any{"workspace": pbitest.DemoSalesWorkspaceID, "dataset": "00000000-0000-0000-0000-0000000000ff"}); !res.IsError {
		t.Fatal("get_dataset of a model that does not exist succeeded")
	}
	if res := st.call(t, "list_workspaces", map[string]any{"top": "many"}); !res.IsError {
		t.Fatal("invalid arguments were accepted")
	}
	recs := auditLines(t, out)
	if len(recs) != 3 {
		t.Fatalf("%d audit lines, want 3:\n%s", len(recs), out.String())
	}
	first := recs[0]
	if first.Tool != "list_datasets" || first.Outcome != OutcomeOK || first.Event != "tool_call" {
		t.Errorf("first line: %+v", first)
	}
	if first.Caller != (auditCaller{Type: "user", TenantID: "tenant-1", ObjectID: "oid-alice", UPN: "alice@contoso.com", AppID: "client-app"}) {
		t.Errorf("caller = %+v, want alice's", first.Caller)
	}
	if first.Client == nil || first.Client.Name != "tools-test" || first.Client.Version != "0" {
		t.Errorf("client = %+v, want what initialize said", first.Client)
	}
	// The workspace was named; the line holds the id the call resolved it to.
	if first.Targets["workspace"] != pbitest.DemoSalesWorkspaceID {
		t.Errorf("targets = %v, want the resolved workspace id", first.Targets)
	}
	if len(first.RequestIDs) < 2 { // the name lookup and the list
		t.Errorf("requestIds = %v, want the lookup's and the list's", first.RequestIDs)
	}
	if _, err := time.Parse(time.RFC3339, first.Time); err != nil || !strings.Contains(first.Time, ".") {
		t.Errorf("time %q: want RFC 3339 with milliseconds (%v)", first.Time, err)
	}

	second := recs[1]
	if second.Caller.Type != "server identity" || second.Outcome != OutcomeError || second.Error == nil ||
		second.Error.Status != 404 || second.Error.Code == "" || len(second.RequestIDs) != 1 {
		t.Errorf("second line: %+v error %+v", second, second.Error)
	}
	if second.Targets["dataset"] != "00000000-0000-0000-0000-0000000000ff" || second.Targets["workspace"] != pbitest.DemoSalesWorkspaceID {
		t.Errorf("targets = %v", second.Targets)
	}
	third := recs[2]
	if third.Outcome != OutcomeError || third.Error != nil || len(third.RequestIDs) != 0 {
		t.Errorf("invalid arguments: %+v; want an error with nothing sent to Power BI", third)
	}
}

// A call the client cancels while Power BI has not answered is recorded as cancelled.
func TestAuditLogRecordsACancelledCall(t *testing.T) {
	var out syncBuffer
	arrived := make(chan struct{}, 1)
	st := newStack(t, stackOptions{
		deps: func(d *Deps) { d.Audit = NewAuditLog(&out, d.Logger, nil) },
		transport: func(rt http.RoundTripper) http.RoundTripper {
			return roundTripFunc(func(r *http.Request) (*http.Response, error) {
				arrived <- struct{}{}
				<-r.Context().Done() // Power BI never answers
				return nil, r.Context().Err()
			})
		},
	})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-arrived
		cancel()
	}()
	_, _ = st.client.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: "list_workspaces"}})
	// The line is written as the handler returns, which may be after the client gave up.
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out.String(), "list_workspaces") && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if recs := auditLines(t, &out); len(recs) != 1 || recs[0].Outcome != OutcomeCancelled {
		t.Fatalf("audit: %s; want one line with outcome cancelled", out.String())
	}
}

// The audit log names items, never what a call carried: no secret, no token, no DAX, no rows.
func TestAuditLogHoldsNoSecretsTokensOrQueryText(t *testing.T) {
	st, out := auditStack(t)
	query := `EVALUATE FILTER(Customer, Customer[Country] = "AuditCanary")`
	st.call(t, "execute_dax_query", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales", "query": query})
	var res DAXQueryResult
	st.ok(t, "execute_dax_query", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales",
		"query": `EVALUATE SUMMARIZECOLUMNS(Customer[Country], "Sales", [Total Sales])`}, &res)
	if len(res.Rows) == 0 {
		t.Fatal("the query returned no rows to look for")
	}
	token, err := st.tokens.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	log := out.String()
	if len(auditLines(t, out)) != 2 {
		t.Fatalf("want 2 lines:\n%s", log)
	}
	for what, secret := range map[string]string{
		"the client secret": st.tenant.ClientSecret(), "the access token": token,
		"the token's signature": token[strings.LastIndex(token, ".")+1:],
		"the DAX text":          "AuditCanary", "the query": "SUMMARIZECOLUMNS", "a row": res.Rows[0][0].(string),
	} {
		if strings.Contains(log, secret) {
			t.Errorf("the audit log holds %s:\n%s", what, log)
		}
	}
}

// A line that cannot be written is logged with its record and counted; the call keeps its
// answer.
func TestAuditLogWriteFailureIsReported(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	readOnly, err := os.Open(path) // writes to it fail
	if err != nil {
		t.Fatal(err)
	}
	defer readOnly.Close()
	var failures atomic.Int32
	var logs syncBuffer
	st := newStack(t, stackOptions{deps: func(d *Deps) {
		d.Audit = NewAuditLog(readOnly, zerolog.New(&logs), func() { failures.Add(1) })
	}})
	if res := st.call(t, "list_workspaces", nil); res.IsError {
		t.Fatalf("the call failed with the audit log: %s", text(res))
	}
	if failures.Load() != 1 {
		t.Errorf("%d failures counted, want 1", failures.Load())
	}
	if l := logs.String(); !strings.Contains(l, `"level":"error"`) || !strings.Contains(l, "audit log write failed") || !strings.Contains(l, `"tool":"list_workspaces"`) {
		t.Errorf("log = %s; want an error holding the record", l)
	}
}

// BenchmarkAuditedCall measures what the audit log adds to a tool call: the record of a call
// that named its workspace, with the result's resolved id read back, encoded and written.
func BenchmarkAuditedCall(b *testing.B) {
	raw := json.RawMessage(`{"workspace":{"id":"` + pbitest.DemoSalesWorkspaceID + `","name":"Sales Analytics","resolvedBy":"name"},"count":1,"value":[{"id":"x"}]}`)
	handler := func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return &mcp.CallToolResult{StructuredContent: raw}, nil
	}
	var req mcp.CallToolRequest
	req.Params.Arguments = map[string]any{"workspace": "Sales Analytics", "top": 10}
	ctx := auth.WithCaller(context.Background(), auth.Caller{TenantID: "t", ObjectID: "o", Username: "alice@contoso.com"})
	t := Tool{Definition: mcp.NewTool("list_datasets")}
	for _, bc := range []struct {
		name string
		d    Deps
	}{{"off", Deps{}}, {"on", Deps{Audit: NewAuditLog(io.Discard, zerolog.Nop(), nil)}}} {
		h := observed(bc.d, t, handler)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := h(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
