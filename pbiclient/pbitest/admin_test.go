package pbitest

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func adminServer(t *testing.T) *Server {
	t.Helper()
	s := newTestServer(t, Options{})
	s.SeedDemo()
	s.SetAdminRateLimits(AdminRateLimits{Off: true})
	return s
}

func values(t *testing.T, r response) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, v := range r.json(t)["value"].([]any) {
		out = append(out, v.(map[string]any))
	}
	return out
}

func TestAdminGroupsSeeTheWholeTenant(t *testing.T) {
	s := adminServer(t)

	r := api(t, s, "GET", "/admin/groups", nil)
	wantStatus(t, r, http.StatusBadRequest) // $top is required

	for _, top := range []string{"0", "5001"} {
		wantStatus(t, api(t, s, "GET", "/admin/groups?$top="+top, nil), http.StatusBadRequest)
	}

	// Pages of 10 read every workspace once, the service principal's and the others'.
	seen := map[string]map[string]any{}
	for skip := 0; ; skip += 10 {
		r := api(t, s, "GET", "/admin/groups?$top=10&$skip="+strconv.Itoa(skip), nil)
		wantStatus(t, r, http.StatusOK)
		page := values(t, r)
		for _, g := range page {
			seen[g["id"].(string)] = g
		}
		if len(page) < 10 {
			break
		}
	}
	if len(seen) != DemoAdminWorkspaceCount {
		t.Fatalf("%d workspaces, want %d", len(seen), DemoAdminWorkspaceCount)
	}
	for id, want := range map[string][2]string{
		DemoSalesWorkspaceID:    {"Workspace", "Active"},
		DemoHRWorkspaceID:       {"Workspace", "Active"},
		DemoDeletedWorkspaceID:  {"Workspace", "Deleted"},
		DemoPersonalWorkspaceID: {"PersonalGroup", "Active"},
	} {
		g := seen[id]
		if g == nil || g["type"] != want[0] || g["state"] != want[1] {
			t.Errorf("%s: %v, want type/state %v", id, g, want)
		}
		if _, ok := g["users"]; ok {
			t.Errorf("%s: users without $expand", id)
		}
	}
	// The ordinary API does not see the workspaces the principal is not a member of.
	wantStatus(t, api(t, s, "GET", "/groups/"+DemoHRWorkspaceID, nil), http.StatusNotFound)

	r = api(t, s, "GET", "/admin/groups?$top=100&$filter=state%20eq%20'Deleted'", nil)
	wantStatus(t, r, http.StatusOK)
	if got := values(t, r); len(got) != 1 || got[0]["id"] != DemoDeletedWorkspaceID {
		t.Errorf("deleted: %v", got)
	}

	r = api(t, s, "GET", "/admin/groups?$top=1&$filter=id%20eq%20'"+DemoHRWorkspaceID+"'&$expand=users,reports,datasets,dashboards", nil)
	wantStatus(t, r, http.StatusOK)
	hr := values(t, r)[0]
	users := hr["users"].([]any)
	if len(users) != 2 || users[0].(map[string]any)["graphId"] == "" || users[1].(map[string]any)["principalType"] != "Group" {
		t.Errorf("users %v", users)
	}
	if ds := hr["datasets"].([]any); len(ds) != 1 || ds[0].(map[string]any)["workspaceId"] != DemoHRWorkspaceID {
		t.Errorf("datasets %v", ds)
	}
	if len(hr["reports"].([]any)) != 1 || len(hr["dashboards"].([]any)) != 1 {
		t.Errorf("items %v", hr)
	}

	r = api(t, s, "GET", "/admin/groups?$top=1&$expand=owners", nil)
	wantStatus(t, r, http.StatusBadRequest)
}

func TestAdminGroupAndUsers(t *testing.T) {
	s := adminServer(t)
	r := api(t, s, "GET", "/admin/groups/"+DemoOrphanedWorkspaceID+"?$expand=datasets", nil)
	wantStatus(t, r, http.StatusOK)
	g := r.json(t)
	if g["name"] != "Orphaned Project" || len(g["datasets"].([]any)) != 1 || !strings.HasSuffix(g["@odata.context"].(string), "$metadata#groups/$entity") {
		t.Errorf("group %v", g)
	}
	r = api(t, s, "GET", "/admin/groups/"+DemoOrphanedWorkspaceID+"/users", nil)
	wantStatus(t, r, http.StatusOK)
	if u := values(t, r); len(u) != 1 || u[0]["groupUserAccessRight"] != "Viewer" || u[0]["emailAddress"] != "lee.gu@contoso.com" {
		t.Errorf("users %v", u)
	}
	r = api(t, s, "GET", "/admin/groups/"+newGUID(), nil)
	wantStatus(t, r, http.StatusNotFound)
	if errorCode(t, r) != "PowerBIEntityNotFound" {
		t.Errorf("unknown group: %s", r.body)
	}
}

func TestAdminItemLists(t *testing.T) {
	s := adminServer(t)
	r := api(t, s, "GET", "/admin/datasets", nil)
	wantStatus(t, r, http.StatusOK)
	all := values(t, r)
	var hr, sales bool
	for _, d := range all {
		hr = hr || d["id"] == deterministicGUID("dataset:hr")
		sales = sales || (d["id"] == DemoSalesDatasetID && d["workspaceId"] == DemoSalesWorkspaceID)
	}
	if !hr || !sales {
		t.Errorf("datasets miss HR or Sales: %v", all)
	}
	r = api(t, s, "GET", "/admin/datasets?$top=2&$skip=1", nil)
	if got := values(t, r); len(got) != 2 || got[0]["id"] != all[1]["id"] {
		t.Errorf("paged %v", got)
	}
	r = api(t, s, "GET", "/admin/reports?$filter=reportType%20eq%20'PaginatedReport'", nil)
	wantStatus(t, r, http.StatusOK)
	if got := values(t, r); len(got) != 1 || got[0]["id"] != DemoInvoicesReportID || got[0]["workspaceId"] != DemoFinanceWorkspaceID {
		t.Errorf("paginated %v", got)
	}
	r = api(t, s, "GET", "/admin/dashboards?$filter=workspaceId%20eq%20'"+DemoHRWorkspaceID+"'", nil)
	if got := values(t, r); len(got) != 1 || got[0]["displayName"] != "HR Pulse" {
		t.Errorf("dashboards %v", got)
	}

	wantStatus(t, api(t, s, "GET", "/admin/apps", nil), http.StatusBadRequest)
	r = api(t, s, "GET", "/admin/apps?$top=10", nil)
	if got := values(t, r); len(got) != 2 || got[0]["workspaceId"] != DemoSalesWorkspaceID {
		t.Errorf("apps %v", got)
	}

	r = api(t, s, "GET", "/admin/capacities", nil)
	caps := values(t, r)
	if len(caps) != 4 || caps[1]["tenantKeyId"] != DemoTenantKeyID || caps[1]["tenantKey"] != nil {
		t.Errorf("capacities %v", caps)
	}
	r = api(t, s, "GET", "/admin/capacities?$expand=tenantKey", nil)
	if k, _ := values(t, r)[1]["tenantKey"].(map[string]any); k["id"] != DemoTenantKeyID {
		t.Errorf("tenant key %s", r.body)
	}

	wantStatus(t, api(t, s, "GET", "/admin/capacities/refreshables", nil), http.StatusBadRequest)
	r = api(t, s, "GET", "/admin/capacities/refreshables?$top=100&$expand=capacity,group", nil)
	wantStatus(t, r, http.StatusOK)
	var kpis map[string]any
	for _, rf := range values(t, r) {
		if rf["id"] == DemoFinanceKPIsDatasetID {
			kpis = rf
		}
		if rf["id"] == DemoWebTrafficDatasetID {
			t.Errorf("a shared capacity model is listed: %v", rf)
		}
	}
	if kpis == nil || kpis["refreshCount"].(float64) < 1 || kpis["group"].(map[string]any)["name"] != "Finance" ||
		kpis["capacity"].(map[string]any)["displayName"] != "Contoso Premium P1" || kpis["lastRefresh"].(map[string]any)["status"] != "Completed" {
		t.Errorf("Finance KPIs refreshable %v", kpis)
	}
}

func TestAdminRefusesServicePrincipalWhenTenantSettingOff(t *testing.T) {
	s := adminServer(t)
	s.SetServicePrincipalAdminAPIs(false)
	for _, p := range []string{"/admin/groups?$top=1", "/admin/datasets", "/admin/capacities", "/admin/groups/" + DemoSalesWorkspaceID + "/users"} {
		r := api(t, s, "GET", p, nil)
		wantStatus(t, r, http.StatusUnauthorized)
		if errorCode(t, r) != "PowerBINotAuthorizedException" {
			t.Errorf("%s: %s", p, r.body)
		}
	}
	// A signed-in administrator is still served.
	wantStatus(t, userAPI(t, s, "GET", "/admin/groups?$top=1"), http.StatusOK)
	s.SetServicePrincipalAdminAPIs(true)
	wantStatus(t, api(t, s, "GET", "/admin/groups?$top=1", nil), http.StatusOK)
}

func TestAdminRateLimits(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	other := newTestServer(t, Options{})

	// The real limits are on by default: 15 requests a minute for admin/groups.
	for i := range 15 {
		wantStatus(t, api(t, s, "GET", "/admin/groups?$top=1", nil), http.StatusOK)
		_ = i
	}
	r := api(t, s, "GET", "/admin/groups?$top=1", nil)
	wantStatus(t, r, http.StatusTooManyRequests)
	ra, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || ra < 1 || ra > 60 {
		t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
	}
	if !strings.Contains(string(r.body), "Retry in "+strconv.Itoa(ra)+" seconds") || strings.Contains(string(r.body), `"error"`) {
		t.Errorf("body %s", r.body)
	}
	// Other operations and other tenants count separately.
	wantStatus(t, api(t, s, "GET", "/admin/capacities", nil), http.StatusOK)
	wantStatus(t, api(t, other, "GET", "/admin/groups?$top=1", nil), http.StatusOK)

	// admin/datasets allows 5 a minute.
	for range 5 {
		wantStatus(t, api(t, s, "GET", "/admin/datasets", nil), http.StatusOK)
	}
	wantStatus(t, api(t, s, "GET", "/admin/datasets", nil), http.StatusTooManyRequests)

	// Scaled down, the minute is 60 ms and the hour 3.6 s: after the minute, more requests
	// pass, until the hour's 50 are used.
	s.SetAdminRateLimits(AdminRateLimits{TimeScale: 0.001})
	passed := 0
	deadline := time.Now().Add(3 * time.Second)
	for passed < 50 && time.Now().Before(deadline) {
		r := api(t, s, "GET", "/admin/groups?$top=1", nil)
		switch r.status {
		case http.StatusOK:
			passed++
		case http.StatusTooManyRequests:
			time.Sleep(10 * time.Millisecond)
		default:
			t.Fatalf("status %d", r.status)
		}
	}
	if passed != 50 {
		t.Fatalf("%d requests passed in the scaled hour, want 50", passed)
	}
	r = api(t, s, "GET", "/admin/groups?$top=1", nil)
	wantStatus(t, r, http.StatusTooManyRequests)

	s.SetAdminRateLimits(AdminRateLimits{Off: true})
	for range 60 {
		wantStatus(t, api(t, s, "GET", "/admin/groups?$top=1", nil), http.StatusOK)
	}
}

func TestAdminRateLimitWindow(t *testing.T) {
	a := &adminState{accepted: map[string][]time.Time{}}
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	for i := range 5 {
		if w := a.admit("datasets", now.Add(time.Duration(i)*time.Second)); w != 0 {
			t.Fatalf("request %d waited %v", i, w)
		}
	}
	// The sixth within the minute waits until the first leaves the window.
	if w := a.admit("datasets", now.Add(10*time.Second)); w != 50*time.Second {
		t.Errorf("wait %v, want 50s", w)
	}
	if w := a.admit("datasets", now.Add(61*time.Second)); w != 0 {
		t.Errorf("after a minute: wait %v", w)
	}
	// Other admin GETs: 200 an hour.
	for i := range 200 {
		if w := a.admit("capacities", now.Add(time.Duration(i)*time.Millisecond)); w != 0 {
			t.Fatalf("capacities request %d waited %v", i, w)
		}
	}
	if w := a.admit("capacities", now.Add(time.Minute)); w != time.Hour-time.Minute {
		t.Errorf("201st: wait %v", w)
	}
}
