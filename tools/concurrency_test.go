package tools

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// failsafe bounds the waits of these tests: it turns a hang into a failure, nothing more.
const failsafe = time.Minute

// TestCallCancelledBeforeItStartsDoesNothing: mcp-go's stdio server still runs a call the
// client cancelled while it waited for a worker, with its context already done. The call sends
// nothing, not even a token request, and says what happened, never "outcome unknown" or a
// sign-in failure.
func TestCallCancelledBeforeItStartsDoesNothing(t *testing.T) {
	st := newStack(t, stackOptions{})
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	call, _ := json.Marshal(mcp.JSONRPCRequest{JSONRPC: mcp.JSONRPC_VERSION, ID: mcp.NewRequestId(1),
		Request: mcp.Request{Method: string(mcp.MethodToolsCall)},
		Params: mcp.CallToolParams{Name: "refresh_dataset", Arguments: map[string]any{
			"workspace": pbitest.DemoSalesWorkspaceID, "dataset": pbitest.DemoSalesDatasetID}}})
	answer, _ := json.Marshal(st.server.HandleMessage(cancelled, call))
	var resp struct {
		Result mcp.CallToolResult `json:"result"`
	}
	if err := json.Unmarshal(answer, &resp); err != nil {
		t.Fatal(err)
	}
	if msg := text(&resp.Result); !resp.Result.IsError || !strings.Contains(msg, "cancelled before it started; nothing was sent to Power BI") {
		t.Fatalf("answer: %s", answer)
	}
	if reqs := st.tenant.Requests(); len(reqs) != 0 {
		t.Fatalf("a cancelled call reached the tenant: %s %s", reqs[0].Method, reqs[0].Path)
	}
}

// TestLongRunningCallsLeaveRoomForOthers: with MaxLongRunning calls of long-running tools in
// progress, another one is refused at once, sending nothing, while quick calls go on; once one
// ends, long-running calls are accepted again.
func TestLongRunningCallsLeaveRoomForOthers(t *testing.T) {
	st := newStack(t, stackOptions{tools: Options{MaxLongRunning: 2}})
	release := st.tenant.HoldExports()
	defer release()
	export := map[string]any{"workspace": pbitest.DemoSalesWorkspaceID, "report": pbitest.DemoSalesReportID, "format": "PDF"}
	const exportTo = "POST /v1.0/myorg/groups/{groupId}/reports/{reportId}/ExportTo"

	var running []chan error
	for range 2 {
		ch := make(chan error, 1)
		go func() {
			res, err := st.client.CallTool(context.Background(), mcp.CallToolRequest{Params: mcp.CallToolParams{Name: "export_report", Arguments: export}})
			if err == nil && res.IsError {
				err = errors.New(text(res))
			}
			ch <- err
		}()
		running = append(running, ch)
	}
	deadline := time.Now().Add(failsafe)
	for st.tenant.Count(exportTo) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the two exports did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}

	msg := st.fails(t, "export_report", export)
	if !strings.Contains(msg, "already following 2 long-running calls") || !strings.Contains(msg, "Nothing was sent to Power BI") {
		t.Fatalf("third export: %s", msg)
	}
	if n := st.tenant.Count(exportTo); n != 2 {
		t.Fatalf("the refused export reached Power BI: %d exports", n)
	}
	var ws struct{ Workspaces []struct{ Name string } }
	st.ok(t, "list_workspaces", nil, &ws)

	release()
	for _, ch := range running {
		if err := <-ch; err != nil {
			t.Fatalf("export: %v", err)
		}
	}
	var done ExportResult
	st.ok(t, "export_report", export, &done)
}
