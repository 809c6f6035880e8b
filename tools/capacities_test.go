package tools

import (
	"strings"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

func TestCapacityTools(t *testing.T) {
	st := newStack(t, stackOptions{})
	var caps ListCapacitiesResult
	st.ok(t, "list_capacities", map[string]any{"top": 2}, &caps)
	if caps.Count != 2 || !caps.HasMore || caps.NextSkip != 2 || caps.Capacities[0].ID != pbitest.DemoCapacityID || caps.Capacities[0].SKU != "P1" {
		t.Errorf("capacities %+v", caps)
	}
	var wl ListWorkloadsResult
	st.ok(t, "list_capacity_workloads", map[string]any{"capacity": "Contoso Embedded A1"}, &wl)
	if wl.Capacity.ID != pbitest.DemoEmbeddedCapacityID || wl.Capacity.ResolvedBy != "name" || len(wl.Workloads) != 3 || wl.Workloads[1].State != "Unsupported" {
		t.Errorf("workloads %+v", wl)
	}
	var rs ListRefreshablesResult
	st.ok(t, "list_refreshables", map[string]any{"capacity": pbitest.DemoCapacityID, "filter": "name eq 'Finance KPIs'", "expand": true}, &rs)
	if rs.Count != 1 || rs.Refreshables[0].RefreshCount != 1 || rs.Refreshables[0].AverageDuration != 240 ||
		rs.Refreshables[0].Workspace == nil || rs.Refreshables[0].Workspace.Name != "Finance" || rs.Refreshables[0].LastRefresh.Status != "Completed" {
		t.Errorf("refreshables %+v", rs)
	}
	st.ok(t, "list_refreshables", map[string]any{"top": 1}, &rs)
	if rs.Count != 1 || !rs.HasMore {
		t.Errorf("paging %+v", rs.Page)
	}
	if msg := st.fails(t, "list_capacity_workloads", map[string]any{"capacity": "No Such Capacity"}); !strings.Contains(msg, "list_capacities") {
		t.Errorf("unknown capacity: %q", msg)
	}
}

func TestAssignWorkspaceToCapacity(t *testing.T) {
	st := newStack(t, stackOptions{})
	var res AssignResult
	st.ok(t, "assign_workspace_to_capacity", map[string]any{"workspace": "Marketing", "capacity": "Contoso Embedded A1"}, &res)
	if res.Status != "CompletedSuccessfully" || !res.Workspace.IsOnDedicatedCapacity || res.Workspace.CapacityID != pbitest.DemoEmbeddedCapacityID {
		t.Fatalf("assign %+v", res)
	}
	if len(st.progressFor("p-assign_workspace_to_capacity")) == 0 {
		t.Error("no progress notifications")
	}
	// list_workspaces sees the move.
	var ws ListWorkspacesResult
	st.ok(t, "list_workspaces", map[string]any{"filter": "name eq 'Marketing'"}, &ws)
	if len(ws.Workspaces) != 1 || ws.Workspaces[0].CapacityID != pbitest.DemoEmbeddedCapacityID {
		t.Errorf("list_workspaces %+v", ws)
	}
	var back AssignResult
	st.ok(t, "assign_workspace_to_capacity", map[string]any{"workspace": "Marketing", "capacity": "shared"}, &back)
	if back.Workspace.IsOnDedicatedCapacity || back.Workspace.CapacityID != "" || back.Capacity != nil {
		t.Errorf("unassign %+v", back)
	}
	msg := st.fails(t, "assign_workspace_to_capacity", map[string]any{"workspace": "Scratch", "capacity": "Contoso F2 (paused)"})
	if !strings.Contains(msg, "AssignmentFailed") || !strings.Contains(msg, "activityId") {
		t.Errorf("suspended: %q", msg)
	}
	st.ok(t, "get_workspace", map[string]any{"workspace": "Scratch"}, &struct{}{})
}
