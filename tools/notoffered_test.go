package tools

import (
	"context"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
)

// TestCallOfAToolNotOffered: calling a tool the server knows but was not started with says
// which toolset it is in and how to turn it on, instead of a bare "tool not found".
func TestCallOfAToolNotOffered(t *testing.T) {
	callErr := func(st *stack, name string) string {
		t.Helper()
		var req mcp.CallToolRequest
		req.Params.Name = name
		req.Params.Arguments = map[string]any{}
		_, err := st.client.CallTool(context.Background(), req)
		if err == nil {
			t.Fatalf("%s: the call succeeded", name)
		}
		return err.Error()
	}

	st := newStack(t, stackOptions{tools: Options{Toolsets: []string{"default"}}})
	msg := callErr(st, "admin_list_workspaces")
	for _, want := range []string{"admin toolset", "--toolsets default,admin", "PBI_MCP_TOOLSETS=default,admin", "--tools admin_list_workspaces"} {
		if !strings.Contains(msg, want) {
			t.Errorf("admin tool: %q lacks %q", msg, want)
		}
	}
	// A name no toolset has keeps mcp-go's own answer.
	if msg := callErr(st, "no_such_tool"); !strings.Contains(msg, "not found") || strings.Contains(msg, "toolset") {
		t.Errorf("unknown tool: %q", msg)
	}
	if len(st.tenant.Requests()) != 0 {
		t.Errorf("Power BI was called: %v", st.tenant.Requests())
	}

	ro := newStack(t, stackOptions{tools: Options{Toolsets: []string{"reports", "report_admin"}, ReadOnly: true}})
	if msg := callErr(ro, "delete_report"); !strings.Contains(msg, "read-only") || strings.Contains(msg, "--toolsets") {
		t.Errorf("write tool on a read-only server: %q", msg)
	}
	if msg := callErr(ro, "refresh_dataset"); !strings.Contains(msg, "--toolsets reports,report_admin,refresh") {
		t.Errorf("toolset off on a read-only server: %q", msg)
	}
}
