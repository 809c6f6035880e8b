package pbiclient_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

func TestAdminRequests(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	srv.SeedDemo()
	srv.SetAdminRateLimits(pbitest.AdminRateLimits{Off: true})
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()

	groups, err := c.AdminListGroups(ctx, pbiclient.AdminQuery{Top: 3, Skip: 4, Filter: "type eq 'PersonalGroup'", Expand: []string{"users", "reports"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 0 { // one personal workspace, skipped over
		t.Errorf("groups %+v", groups)
	}
	groups, err = c.AdminListGroups(ctx, pbiclient.AdminQuery{Top: 5, Filter: "type eq 'PersonalGroup'", Expand: []string{"users", "reports"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 1 || groups[0].ID != pbitest.DemoPersonalWorkspaceID || groups[0].State != "Active" ||
		len(groups[0].Users) != 1 || groups[0].Users[0].GraphID == "" || len(groups[0].Reports) != 1 {
		t.Errorf("personal %+v", groups)
	}
	g, err := c.AdminGetGroup(ctx, pbitest.DemoHRWorkspaceID, []string{"datasets"})
	if err != nil || g.Name != "HR Confidential" || len(g.Datasets) != 1 || g.Datasets[0].WorkspaceID != pbitest.DemoHRWorkspaceID {
		t.Errorf("AdminGetGroup = %+v, %v", g, err)
	}
	users, err := c.AdminListGroupUsers(ctx, pbitest.DemoHRWorkspaceID)
	if err != nil || len(users) != 2 || users[1].PrincipalType != "Group" {
		t.Errorf("AdminListGroupUsers = %+v, %v", users, err)
	}
	ds, err := c.AdminListDatasets(ctx, pbiclient.AdminQuery{Filter: "workspaceId eq '" + pbitest.DemoFinanceWorkspaceID + "'"})
	if err != nil || len(ds) != 2 {
		t.Errorf("AdminListDatasets = %+v, %v", ds, err)
	}
	reps, err := c.AdminListReports(ctx, pbiclient.AdminQuery{Top: 1})
	if err != nil || len(reps) != 1 || reps[0].WorkspaceID == "" {
		t.Errorf("AdminListReports = %+v, %v", reps, err)
	}
	dbs, err := c.AdminListDashboards(ctx, pbiclient.AdminQuery{})
	if err != nil || len(dbs) == 0 {
		t.Errorf("AdminListDashboards = %+v, %v", dbs, err)
	}
	apps, err := c.AdminListApps(ctx, 1, 1)
	if err != nil || len(apps) != 1 || apps[0].WorkspaceID != pbitest.DemoFinanceWorkspaceID {
		t.Errorf("AdminListApps = %+v, %v", apps, err)
	}
	caps, err := c.AdminListCapacities(ctx, true)
	if err != nil || len(caps) != 4 || caps[1].TenantKey == nil || caps[1].TenantKey.ID != pbitest.DemoTenantKeyID {
		t.Errorf("AdminListCapacities = %+v, %v", caps, err)
	}
	rfs, err := c.AdminListRefreshables(ctx, pbiclient.AdminQuery{Top: 50, Expand: []string{"capacity", "group"}})
	if err != nil || len(rfs) == 0 || rfs[0].Group == nil || rfs[0].Capacity == nil {
		t.Errorf("AdminListRefreshables = %+v, %v", rfs, err)
	}

	want := []string{
		"GET /v1.0/myorg/admin/groups ?$expand=users,reports&$filter=type eq 'PersonalGroup'&$skip=4&$top=3",
		"GET /v1.0/myorg/admin/groups ?$expand=users,reports&$filter=type eq 'PersonalGroup'&$top=5",
		"GET /v1.0/myorg/admin/groups/" + pbitest.DemoHRWorkspaceID + " ?$expand=datasets",
		"GET /v1.0/myorg/admin/groups/" + pbitest.DemoHRWorkspaceID + "/users ?",
		"GET /v1.0/myorg/admin/datasets ?$filter=workspaceId eq '" + pbitest.DemoFinanceWorkspaceID + "'",
		"GET /v1.0/myorg/admin/reports ?$top=1",
		"GET /v1.0/myorg/admin/dashboards ?",
		"GET /v1.0/myorg/admin/apps ?$skip=1&$top=1",
		"GET /v1.0/myorg/admin/capacities ?$expand=tenantKey",
		"GET /v1.0/myorg/admin/capacities/refreshables ?$expand=capacity,group&$top=50",
	}
	reqs := apiRequests(srv)
	if len(reqs) != len(want) {
		t.Fatalf("%d requests, want %d", len(reqs), len(want))
	}
	for i, r := range reqs {
		q, _ := url.PathUnescape(r.RawQuery)
		if got := r.Method + " " + r.Path + " ?" + q; got != want[i] {
			t.Errorf("request %d:\n got %s\nwant %s", i, got, want[i])
		}
	}
}

// The admin APIs refuse a service principal when the tenant setting is off: 401
// PowerBINotAuthorizedException, tried once more with a fresh token (as any 401) and reported.
func TestAdminRefusedServicePrincipal(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	srv.SeedDemo()
	srv.SetServicePrincipalAdminAPIs(false)
	c := newClient(t, srv, newTenantTokens(srv))
	_, err := c.AdminListGroups(context.Background(), pbiclient.AdminQuery{Top: 10})
	ae := asAPIError(t, err)
	if ae.StatusCode != http.StatusUnauthorized || ae.Code != "PowerBINotAuthorizedException" || ae.Path != "/admin/groups" {
		t.Errorf("error %+v", ae)
	}
	if n := len(apiRequests(srv)); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

// A throttled admin list is retried after Retry-After when that fits the client's budget,
// and reported with its Retry-After when it does not.
func TestAdminThrottled(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	srv.SeedDemo()
	srv.SetAdminRateLimits(pbitest.AdminRateLimits{TimeScale: 0.01}) // a minute of 600 ms
	c := newClient(t, srv, newTenantTokens(srv), func(cfg *pbiclient.Config) { cfg.MaxRetryWait = 5 * time.Second })
	ctx := context.Background()
	for i := range 8 {
		if _, err := c.AdminListDatasets(ctx, pbiclient.AdminQuery{}); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	var throttled int
	for _, r := range apiRequests(srv) {
		if r.Status == http.StatusTooManyRequests {
			throttled++
		}
	}
	if throttled == 0 {
		t.Errorf("8 requests in quick succession were never throttled")
	}

	srv.SetAdminRateLimits(pbitest.AdminRateLimits{}) // the real limits
	slow := newClient(t, srv, newTenantTokens(srv), func(cfg *pbiclient.Config) { cfg.MaxRetryWait = time.Second })
	for range 5 {
		if _, err := slow.AdminListReports(ctx, pbiclient.AdminQuery{}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := slow.AdminListReports(ctx, pbiclient.AdminQuery{})
	ae := asAPIError(t, err)
	if ae.StatusCode != http.StatusTooManyRequests || ae.RetryAfter < time.Second {
		t.Errorf("error %+v", ae)
	}
}
