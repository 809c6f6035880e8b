package tools

import (
	"net/url"
	"strings"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// adminUserStack is an admin stack signed in as the tenant's demo user, a Fabric administrator:
// the admin changes refuse service principals.
func adminUserStack(t *testing.T) *stack {
	t.Helper()
	st := newStack(t, stackOptions{userSignIn: true, tools: Options{Toolsets: []string{"admin", "workspaces"}}})
	st.tenant.SetAdminRateLimits(pbitest.AdminRateLimits{Off: true})
	signInAs(t, st, "")
	return st
}

func TestAdminListAccess(t *testing.T) {
	st := adminStack(t)

	var app AdminAccessResult
	st.ok(t, "admin_list_access", map[string]any{"kind": "app", "id": pbitest.DemoSalesAppID}, &app)
	if app.Count != 2 || app.Users[0].Identifier != pbitest.DemoSalesTeamGroupID || app.Users[0].AccessRight != "ReadExplore" || app.Users[0].PrincipalType != "Group" {
		t.Errorf("app audience %+v", app)
	}
	var ds AdminAccessResult
	st.ok(t, "admin_list_access", map[string]any{"kind": "dataset", "id": pbitest.DemoSalesDatasetID}, &ds)
	if ds.Count != 4 || ds.Users[1].Identifier != "megan.bowen@contoso.com" || ds.Users[1].AccessRight != "ReadWriteReshareExplore" {
		t.Errorf("dataset users %+v", ds)
	}

	var web, org AdminAccessResult
	st.ok(t, "admin_list_access", map[string]any{"kind": "published_to_web"}, &web)
	if web.Count != 1 || web.Items[0].ID != pbitest.DemoMarketingReportID || web.Items[0].SharedBy != "adele.vance@contoso.com" || web.Items[0].ShareType != "PublishToWeb" {
		t.Errorf("published to web %+v", web)
	}
	st.ok(t, "admin_list_access", map[string]any{"kind": "shared_to_org"}, &org)
	if org.Count != 1 || org.Items[0].ID != pbitest.DemoSalesReportID || org.Items[0].AccessRight != "Read" {
		t.Errorf("shared to the organization %+v", org)
	}

	// A user's access comes in chunks; the continuation reads the next with the same types.
	st.tenant.SetAdminChunkSize(3)
	var all []AdminArtifact
	args := map[string]any{"kind": "user", "id": "megan.bowen@contoso.com", "artifact_types": "Report, PersonalGroup"}
	for range 5 {
		var page AdminAccessResult
		st.ok(t, "admin_list_access", args, &page)
		all = append(all, page.Items...)
		if page.ContinuationToken == "" {
			break
		}
		args["continuation_token"] = page.ContinuationToken
	}
	kinds := map[string]int{}
	for _, it := range all {
		kinds[it.Type+" "+it.AccessRight]++
	}
	if len(all) != 5 || kinds["Report Owner"] != 4 || kinds["PersonalGroup Admin"] != 1 {
		t.Errorf("megan's reports and personal workspace %+v", all)
	}
	var queries []string
	for _, r := range st.tenant.Requests() {
		if strings.HasSuffix(r.Path, "/artifactAccess") {
			q, _ := url.QueryUnescape(r.RawQuery)
			queries = append(queries, q)
		}
	}
	if len(queries) != 2 || queries[0] != "artifactTypes=Report,PersonalGroup" || !strings.HasPrefix(queries[1], "continuationToken='") {
		t.Errorf("requests %q", queries)
	}

	if msg := st.fails(t, "admin_list_access", map[string]any{"kind": "report"}); !strings.Contains(msg, "kind report needs id") {
		t.Errorf("no id: %s", msg)
	}
	if msg := st.fails(t, "admin_list_access", map[string]any{"kind": "dashboard", "id": pbitest.DemoSalesReportID}); !strings.Contains(msg, "PowerBIEntityNotFound") {
		t.Errorf("a report's id as a dashboard's: %s", msg)
	}
}

func TestAdminListSubscriptionsAndUnusedItems(t *testing.T) {
	st := adminStack(t)
	var rep AdminSubscriptionsResult
	st.ok(t, "admin_list_subscriptions", map[string]any{"kind": "report", "id": pbitest.DemoSalesReportID}, &rep)
	if rep.Count != 1 || rep.Subscriptions[0].ID != pbitest.DemoSalesSubscriptionID || rep.Subscriptions[0].Page != "Overview" ||
		strings.Join(rep.Subscriptions[0].Recipients, " ") != "megan.bowen@contoso.com lee.gu@contoso.com" {
		t.Errorf("report subscriptions %+v", rep)
	}
	var alex AdminSubscriptionsResult
	st.ok(t, "admin_list_subscriptions", map[string]any{"kind": "user", "id": pbitest.UserGraphID("alex.wilber@contoso.com")}, &alex)
	if alex.Count != 1 || alex.Subscriptions[0].ItemName != "Monthly Close" || alex.Subscriptions[0].Enabled || alex.Subscriptions[0].Attachment != "PDF" {
		t.Errorf("Alex's subscriptions %+v", alex)
	}

	var unused AdminUnusedResult
	st.ok(t, "admin_list_unused_items", map[string]any{"workspace": "Orphaned Project"}, &unused)
	if unused.Workspace.ID != pbitest.DemoOrphanedWorkspaceID || unused.Count != 1 || unused.Items[0].Name != "Project Tracker" ||
		unused.Items[0].Type != "Dataset" || !strings.HasPrefix(unused.Items[0].LastAccessed, "2024-03-01") {
		t.Errorf("unused %+v", unused)
	}
	var marketing AdminUnusedResult
	st.ok(t, "admin_list_unused_items", map[string]any{"workspace": pbitest.DemoMarketingWorkspaceID}, &marketing)
	if marketing.Count != 1 || marketing.Items[0].ID != pbitest.DemoCampaignDraftReportID || marketing.Items[0].Type != "Report" {
		t.Errorf("Marketing unused %+v", marketing)
	}
}

func TestAdminUpdateWorkspaceUser(t *testing.T) {
	st := adminUserStack(t)
	orphaned := pbitest.DemoOrphanedWorkspaceID

	var res AdminWorkspaceUserResult
	st.ok(t, "admin_update_workspace_user", map[string]any{"workspace": "Orphaned Project", "identifier": "megan.bowen@contoso.com", "role": "Admin"}, &res)
	if res.Role != "Admin" || res.PreviousRole != "" || res.Workspace.ID != orphaned {
		t.Errorf("add %+v", res)
	}
	// A role change removes and adds again, so it asks first.
	msg := st.fails(t, "admin_update_workspace_user", map[string]any{"workspace": orphaned, "identifier": "lee.gu@contoso.com", "role": "Member"})
	if !strings.Contains(msg, "confirm") || !strings.Contains(msg, "from Viewer to Member") {
		t.Errorf("unconfirmed role change: %s", msg)
	}
	st.ok(t, "admin_update_workspace_user", map[string]any{"workspace": orphaned, "identifier": "lee.gu@contoso.com", "role": "Member", "confirm": true}, &res)
	if res.Role != "Member" || res.PreviousRole != "Viewer" {
		t.Errorf("role change %+v", res)
	}
	// A group is removed with isGroup.
	st.ok(t, "admin_update_workspace_user", map[string]any{"workspace": pbitest.DemoHRWorkspaceID,
		"identifier": "d25e7a9b-1d3f-4b8c-8a0b-2f4b6d8e0ac7", "remove": true, "confirm": true}, &res)
	if !res.Removed || res.PreviousRole != "Viewer" {
		t.Errorf("remove %+v", res)
	}
	if msg := st.fails(t, "admin_update_workspace_user", map[string]any{"workspace": orphaned, "identifier": "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e", "role": "Viewer"}); !strings.Contains(msg, "principal_type") {
		t.Errorf("object id without a type: %s", msg)
	}

	var users AdminWorkspaceUsersResult
	st.ok(t, "admin_list_workspace_users", map[string]any{"workspace": orphaned}, &users)
	roles := map[string]string{}
	for _, u := range users.Users {
		roles[u.Identifier] = u.AccessRight
	}
	if len(roles) != 2 || roles["megan.bowen@contoso.com"] != "Admin" || roles["lee.gu@contoso.com"] != "Member" {
		t.Errorf("users now %v", roles)
	}
	var changes []string
	for _, r := range st.tenant.Requests() {
		if r.Method != "GET" && strings.HasPrefix(r.Path, "/v1.0/myorg/admin/") {
			changes = append(changes, r.Method+" "+strings.TrimPrefix(r.Path, "/v1.0/myorg/admin/groups/")+" "+r.RawQuery)
		}
	}
	want := []string{
		"POST " + orphaned + "/users ",
		"DELETE " + orphaned + "/users/lee.gu@contoso.com ",
		"POST " + orphaned + "/users ",
		"DELETE " + pbitest.DemoHRWorkspaceID + "/users/d25e7a9b-1d3f-4b8c-8a0b-2f4b6d8e0ac7 isGroup=true",
	}
	if strings.Join(changes, "\n") != strings.Join(want, "\n") {
		t.Errorf("changes\n%s\nwant\n%s", strings.Join(changes, "\n"), strings.Join(want, "\n"))
	}

	// A service principal may read the admin APIs, not change through them.
	app := adminStack(t)
	msg = app.fails(t, "admin_update_workspace_user", map[string]any{"workspace": orphaned, "identifier": "megan.bowen@contoso.com", "role": "Admin"})
	if !strings.Contains(msg, "Fabric administrator signed in as a user") || !strings.Contains(msg, "PowerBINotAuthorizedException") {
		t.Errorf("as a service principal: %s", msg)
	}
}

func TestAdminUpdateWorkspace(t *testing.T) {
	st := adminUserStack(t)
	var res AdminUpdateWorkspaceResult
	st.ok(t, "admin_update_workspace", map[string]any{"workspace": "Old Intranet", "restore_owner": "megan.bowen@contoso.com",
		"name": "Intranet Archive", "description": "Kept for the records"}, &res)
	if res.Workspace.ID != pbitest.DemoDeletedWorkspaceID || res.Workspace.Name != "Intranet Archive" || res.State != "Active" ||
		!res.Restored || res.Description != "Kept for the records" {
		t.Errorf("restore %+v", res)
	}
	var users AdminWorkspaceUsersResult
	st.ok(t, "admin_list_workspace_users", map[string]any{"workspace": pbitest.DemoDeletedWorkspaceID}, &users)
	if len(users.Users) != 1 || users.Users[0].Identifier != "megan.bowen@contoso.com" || users.Users[0].AccessRight != "Admin" {
		t.Errorf("users %+v", users)
	}
	if msg := st.fails(t, "admin_update_workspace", map[string]any{"workspace": pbitest.DemoDeletedWorkspaceID, "restore_owner": "megan.bowen@contoso.com"}); !strings.Contains(msg, "not deleted") {
		t.Errorf("restoring an active workspace: %s", msg)
	}
	// An ordinary workspace is renamed; the restore request was the only POST.
	var renamed AdminUpdateWorkspaceResult
	st.ok(t, "admin_update_workspace", map[string]any{"workspace": pbitest.DemoMarketingWorkspaceID, "name": "Marketing EMEA"}, &renamed)
	if renamed.Workspace.Name != "Marketing EMEA" || renamed.Restored || renamed.State != "Active" || renamed.Description != "" {
		t.Errorf("rename %+v", renamed)
	}
	var changes []string
	for _, r := range st.tenant.Requests() {
		if r.Method != "GET" && strings.HasPrefix(r.Path, "/v1.0/myorg/admin/") {
			changes = append(changes, r.Method+" "+strings.TrimPrefix(r.Path, "/v1.0/myorg/admin/groups/")+" "+string(r.Body))
		}
	}
	want := []string{
		"POST " + pbitest.DemoDeletedWorkspaceID + `/restore {"name":"Intranet Archive","emailAddress":"megan.bowen@contoso.com"}`,
		"PATCH " + pbitest.DemoDeletedWorkspaceID + ` {"description":"Kept for the records"}`,
		"POST " + pbitest.DemoDeletedWorkspaceID + `/restore {"emailAddress":"megan.bowen@contoso.com"}`,
		"PATCH " + pbitest.DemoMarketingWorkspaceID + ` {"name":"Marketing EMEA"}`,
	}
	if strings.Join(changes, "\n") != strings.Join(want, "\n") {
		t.Errorf("changes\n%s\nwant\n%s", strings.Join(changes, "\n"), strings.Join(want, "\n"))
	}
	if msg := st.fails(t, "admin_update_workspace", map[string]any{"workspace": pbitest.DemoMarketingWorkspaceID}); !strings.Contains(msg, "Nothing to change") {
		t.Errorf("no change: %s", msg)
	}
}

// A chunk larger than the result budget is cut, and the token resumes right after the last
// item returned: nothing is lost or repeated.
func TestAdminListAccessResumesWhereTheBudgetCut(t *testing.T) {
	whole := adminStack(t)
	var all AdminAccessResult
	whole.ok(t, "admin_list_access", map[string]any{"kind": "user", "id": "megan.bowen@contoso.com"}, &all)
	if all.Count < 8 || all.ContinuationToken != "" {
		t.Fatalf("whole answer %+v", all)
	}

	st := newStack(t, stackOptions{tools: Options{Toolsets: []string{"admin"}}, maxResultBytes: 700})
	st.tenant.SetAdminRateLimits(pbitest.AdminRateLimits{Off: true})
	var got []AdminArtifact
	args := map[string]any{"kind": "user", "id": "megan.bowen@contoso.com"}
	calls := 0
	for ; ; calls++ {
		if calls == len(all.Items) {
			t.Fatalf("still going after %d calls: %+v", calls, got)
		}
		var page AdminAccessResult
		st.ok(t, "admin_list_access", args, &page)
		if page.Count != len(page.Items) {
			t.Fatalf("count %d of %d items", page.Count, len(page.Items))
		}
		got = append(got, page.Items...)
		if page.ContinuationToken == "" {
			break
		}
		args["continuation_token"] = page.ContinuationToken
	}
	if len(got) != len(all.Items) || calls < 2 {
		t.Fatalf("%d items in %d pieces, %d whole", len(got), calls+1, len(all.Items))
	}
	for i := range got {
		if got[i] != all.Items[i] {
			t.Errorf("item %d: %+v, want %+v", i, got[i], all.Items[i])
		}
	}
	if msg := st.fails(t, "admin_list_access", map[string]any{"kind": "user", "id": "megan.bowen@contoso.com", "continuation_token": "abc#x"}); !strings.Contains(msg, "unchanged") {
		t.Errorf("a bad token: %s", msg)
	}
}
