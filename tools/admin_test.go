package tools

import (
	"strings"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// adminStack is a stack offering the admin toolset, with the tenant's rate limits off so that
// a test may call as often as it needs; TestAdminToolsReportThrottling turns them on.
func adminStack(t *testing.T) *stack {
	t.Helper()
	st := newStack(t, stackOptions{tools: Options{Toolsets: []string{"admin"}}})
	st.tenant.SetAdminRateLimits(pbitest.AdminRateLimits{Off: true})
	return st
}

func TestAdminListWorkspacesPagesThroughTheTenant(t *testing.T) {
	st := adminStack(t)

	var first AdminListWorkspacesResult
	st.ok(t, "admin_list_workspaces", map[string]any{"top": 15, "page_size": 4}, &first)
	if first.Count != 15 || len(first.Workspaces) != 15 || !first.HasMore || first.NextSkip != 15 {
		t.Fatalf("first page %+v", first.Page)
	}
	// 16 workspaces (one more than asked, to know whether more exist) in pages of 4.
	if first.Requests != 4 {
		t.Errorf("requests %d, want 4", first.Requests)
	}
	var rest AdminListWorkspacesResult
	st.ok(t, "admin_list_workspaces", map[string]any{"skip": first.NextSkip, "top": maxAdminWorkspaces}, &rest)
	if rest.HasMore || rest.Requests != 1 || rest.Count != pbitest.DemoAdminWorkspaceCount-15 {
		t.Fatalf("rest %+v, %d requests", rest.Page, rest.Requests)
	}
	seen := map[string]AdminWorkspace{}
	for _, w := range append(first.Workspaces, rest.Workspaces...) {
		seen[w.ID] = w
	}
	if len(seen) != pbitest.DemoAdminWorkspaceCount {
		t.Errorf("%d distinct workspaces, want %d", len(seen), pbitest.DemoAdminWorkspaceCount)
	}
	if w := seen[pbitest.DemoPersonalWorkspaceID]; w.Type != "PersonalGroup" || w.State != "Active" {
		t.Errorf("personal workspace %+v", w)
	}
	var skips []string
	for _, r := range st.tenant.Requests() {
		if r.Path == "/v1.0/myorg/admin/groups" {
			skips = append(skips, r.RawQuery)
		}
	}
	want := []string{"$top=4", "$skip=4&$top=4", "$skip=8&$top=4", "$skip=12&$top=4", "$skip=15&$top=201"}
	if strings.Join(skips, " ") != strings.Join(want, " ") {
		t.Errorf("requests %v, want %v", skips, want)
	}

	var deleted AdminListWorkspacesResult
	st.ok(t, "admin_list_workspaces", map[string]any{"filter": "state eq 'Deleted'", "expand": []string{"users"}}, &deleted)
	if deleted.Count != 1 || deleted.Workspaces[0].ID != pbitest.DemoDeletedWorkspaceID || deleted.HasMore {
		t.Errorf("deleted %+v", deleted)
	}
}

func TestAdminWorkspaceAndUsers(t *testing.T) {
	st := adminStack(t)
	var hr AdminWorkspaceResult
	st.ok(t, "admin_get_workspace", map[string]any{"workspace": "HR Confidential", "expand": []string{"users", "datasets", "reports", "dashboards"}}, &hr)
	w := hr.Workspace
	if w.ID != pbitest.DemoHRWorkspaceID || len(w.Users) != 2 || w.Users[1].PrincipalType != "Group" ||
		len(w.Datasets) != 1 || w.Datasets[0].Name != "Headcount" || len(w.Reports) != 1 || len(w.Dashboards) != 1 {
		t.Errorf("HR %+v", w)
	}
	var users AdminWorkspaceUsersResult
	st.ok(t, "admin_list_workspace_users", map[string]any{"workspace": pbitest.DemoOrphanedWorkspaceID}, &users)
	if len(users.Users) != 1 || users.Users[0].AccessRight != "Viewer" || users.Users[0].Identifier != "lee.gu@contoso.com" || users.Users[0].GraphID == "" {
		t.Errorf("users %+v", users)
	}
	msg := st.fails(t, "admin_get_workspace", map[string]any{"workspace": "No Such Workspace"})
	if !strings.Contains(msg, "No Such Workspace") {
		t.Errorf("unknown name: %s", msg)
	}
}

func TestAdminItemTools(t *testing.T) {
	st := adminStack(t)
	var ds AdminListDatasetsResult
	st.ok(t, "admin_list_datasets", map[string]any{"top": 2}, &ds)
	if ds.Count != 2 || !ds.HasMore || ds.NextSkip != 2 || ds.Datasets[0].WorkspaceID == "" {
		t.Errorf("datasets %+v", ds)
	}
	var hr AdminListDatasetsResult
	st.ok(t, "admin_list_datasets", map[string]any{"filter": "workspaceId eq '" + pbitest.DemoHRWorkspaceID + "'"}, &hr)
	if hr.Count != 1 || hr.Datasets[0].Name != "Headcount" || hr.Datasets[0].ConfiguredBy != "alex.wilber@contoso.com" || hr.HasMore {
		t.Errorf("HR datasets %+v", hr)
	}
	var reps AdminListReportsResult
	st.ok(t, "admin_list_reports", map[string]any{"filter": "reportType eq 'PaginatedReport'"}, &reps)
	if reps.Count != 1 || reps.Reports[0].ID != pbitest.DemoInvoicesReportID || reps.Reports[0].WorkspaceID != pbitest.DemoFinanceWorkspaceID {
		t.Errorf("reports %+v", reps)
	}
	var dbs AdminListDashboardsResult
	st.ok(t, "admin_list_dashboards", map[string]any{"filter": "displayName eq 'HR Pulse'"}, &dbs)
	if dbs.Count != 1 || dbs.Dashboards[0].WorkspaceID != pbitest.DemoHRWorkspaceID {
		t.Errorf("dashboards %+v", dbs)
	}
	// Unlike list_apps, the admin list answers a service principal.
	var apps AdminListAppsResult
	st.ok(t, "admin_list_apps", map[string]any{"top": 1}, &apps)
	if apps.Count != 1 || !apps.HasMore || apps.Apps[0].WorkspaceID != pbitest.DemoSalesWorkspaceID {
		t.Errorf("apps %+v", apps)
	}
	var caps AdminListCapacitiesResult
	st.ok(t, "admin_list_capacities", map[string]any{"include_tenant_key": true}, &caps)
	if caps.Count != 4 || caps.Capacities[1].TenantKey == nil || caps.Capacities[1].TenantKey.ID != pbitest.DemoTenantKeyID || caps.Capacities[0].SKU != "P1" {
		t.Errorf("capacities %+v", caps)
	}
	var rf AdminListRefreshablesResult
	st.ok(t, "admin_list_refreshables", map[string]any{"expand": []string{"capacity", "group"}, "filter": "name eq 'Finance KPIs'"}, &rf)
	if rf.Count != 1 {
		t.Fatalf("refreshables %+v", rf)
	}
	if r := rf.Refreshables[0]; r.WorkspaceName != "Finance" || r.CapacityName != "Contoso Premium P1" || r.RefreshCount < 1 || r.LastStatus != "Completed" {
		t.Errorf("Finance KPIs %+v", r)
	}
}

// With the tenant setting off, every admin tool explains the setting and the permissions rule.
func TestAdminToolsExplainTheTenantSetting(t *testing.T) {
	st := adminStack(t)
	st.tenant.SetServicePrincipalAdminAPIs(false)
	for name, args := range map[string]map[string]any{
		"admin_list_workspaces":      nil,
		"admin_get_workspace":        {"workspace": pbitest.DemoHRWorkspaceID},
		"admin_list_workspace_users": {"workspace": pbitest.DemoHRWorkspaceID},
		"admin_list_datasets":        nil,
		"admin_list_reports":         nil,
		"admin_list_dashboards":      nil,
		"admin_list_apps":            nil,
		"admin_list_capacities":      nil,
		"admin_list_refreshables":    nil,
	} {
		msg := st.fails(t, name, args)
		if !strings.Contains(msg, "HTTP 401 PowerBINotAuthorizedException") ||
			!strings.Contains(msg, "Service principals can access read-only admin APIs") || !strings.Contains(msg, "NO admin-consent") {
			t.Errorf("%s: %s", name, msg)
		}
	}
}

// Beyond the documented limit, the tool reports Power BI's 429 with how long to wait, once the
// wait exceeds what the client retries within.
func TestAdminToolsReportThrottling(t *testing.T) {
	st := adminStack(t)
	// A tenth of real time: the hour's 200 requests of admin/capacities stay counted for 6 minutes.
	st.tenant.SetAdminRateLimits(pbitest.AdminRateLimits{TimeScale: 0.1})
	var caps AdminListCapacitiesResult
	for range 200 {
		st.ok(t, "admin_list_capacities", nil, &caps)
	}
	msg := st.fails(t, "admin_list_capacities", nil)
	if !strings.Contains(msg, "HTTP 429") || !strings.Contains(msg, "Retry after") || !strings.Contains(msg, "do not loop") {
		t.Errorf("throttled: %s", msg)
	}
}

// When Power BI throttles a listing part-way, what was read comes back with where to resume.
func TestAdminListWorkspacesKeepsWhatWasReadWhenThrottled(t *testing.T) {
	st := adminStack(t)
	st.tenant.SetFaults(pbitest.Faults{ThrottleEvery: 3, RetryAfter: 3600}) // beyond what the client waits for
	var res AdminListWorkspacesResult
	st.ok(t, "admin_list_workspaces", map[string]any{"top": 30, "page_size": 5, "skip": 2}, &res)
	if res.Count != 10 || !res.HasMore || res.NextSkip != 12 || res.Requests != 3 ||
		!strings.Contains(res.Note, "after 10 workspaces") || !strings.Contains(res.Note, "3600 seconds") {
		t.Fatalf("throttled listing %+v", res)
	}
	st.tenant.SetFaults(pbitest.Faults{})
	var next AdminListWorkspacesResult
	st.ok(t, "admin_list_workspaces", map[string]any{"top": 1, "skip": res.NextSkip}, &next)
	if next.Count != 1 || next.Workspaces[0].ID == res.Workspaces[9].ID {
		t.Errorf("resumed %+v", next)
	}
	// A first page that is throttled is an error: there is nothing to return.
	st.tenant.SetFaults(pbitest.Faults{ThrottleEvery: 1, RetryAfter: 3600})
	if msg := st.fails(t, "admin_list_workspaces", nil); !strings.Contains(msg, "HTTP 429") {
		t.Errorf("throttled first page: %s", msg)
	}
}

func TestAdminListRefreshablesOfOneCapacity(t *testing.T) {
	st := adminStack(t)
	var onP1 AdminListRefreshablesResult
	st.ok(t, "admin_list_refreshables", map[string]any{"capacity": pbitest.DemoCapacityID, "filter": "name eq 'Finance KPIs'"}, &onP1)
	if onP1.Count != 1 || onP1.Refreshables[0].Name != "Finance KPIs" {
		t.Errorf("P1 refreshables %+v", onP1)
	}
	var onA1 AdminListRefreshablesResult
	st.ok(t, "admin_list_refreshables", map[string]any{"capacity": pbitest.DemoEmbeddedCapacityID}, &onA1)
	if onA1.Count != 0 {
		t.Errorf("A1 refreshables %+v", onA1)
	}
	var paths []string
	for _, r := range st.tenant.Requests() {
		if strings.HasSuffix(r.Path, "/refreshables") {
			paths = append(paths, strings.TrimPrefix(r.Path, "/v1.0/myorg/admin/capacities/"))
		}
	}
	if strings.Join(paths, " ") != pbitest.DemoCapacityID+"/refreshables "+pbitest.DemoEmbeddedCapacityID+"/refreshables" {
		t.Errorf("requests %v", paths)
	}
}

func TestAdminGetWorkspaceWithItsDataflows(t *testing.T) {
	st := adminStack(t)
	var sales AdminWorkspaceResult
	st.ok(t, "admin_get_workspace", map[string]any{"workspace": pbitest.DemoSalesWorkspaceID, "expand": []string{"dataflows"}}, &sales)
	if len(sales.Workspace.Dataflows) != 3 || sales.Workspace.Dataflows[1].Name != "Sales Pipeline" {
		t.Errorf("dataflows %+v", sales.Workspace.Dataflows)
	}
}
