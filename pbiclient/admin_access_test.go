package pbiclient_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

func adminTenant(t *testing.T) *pbitest.Server {
	t.Helper()
	srv := newTenant(t, pbitest.Options{})
	srv.SeedDemo()
	srv.SetAdminRateLimits(pbitest.AdminRateLimits{Off: true})
	return srv
}

func TestAdminItemUsersOfEveryKind(t *testing.T) {
	srv := adminTenant(t)
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()
	hr, err := c.AdminListReports(ctx, pbiclient.AdminQuery{Filter: "name eq 'Headcount Review'"})
	if err != nil || len(hr) != 1 {
		t.Fatalf("HR report %+v, %v", hr, err)
	}
	cases := []struct {
		kind, id, who, right string
		n                    int
	}{
		{"apps", pbitest.DemoSalesAppID, pbitest.DemoSalesTeamGroupID, "ReadExplore", 2},
		{"capacities", pbitest.DemoCapacityID, "megan.bowen@contoso.com", "Assign", 2},
		{"dashboards", pbitest.DemoSalesDashboardID, "megan.bowen@contoso.com", "Owner", 3},
		{"dataflows", pbitest.DemoSalesDataflowID, pbitest.DemoSalesTeamGroupID, "Read", 3},
		// The workspace role comes first; a direct grant to someone else adds a principal.
		{"datasets", pbitest.DemoSalesDatasetID, "2f8a4c6e-1b3d-4e5f-9a7b-c8d0e2f4a6b1", "ReadExplore", 4},
		{"pipelines", pbitest.DemoSalesPipelineID, pbitest.DemoServicePrincipalObjectID, "Admin", 2},
		{"reports", hr[0].ID, "lee.gu@contoso.com", "Read", 3},
	}
	for _, tc := range cases {
		users, err := c.AdminItemUsers(ctx, tc.kind, tc.id)
		if err != nil {
			t.Fatalf("%s: %v", tc.kind, err)
		}
		got := ""
		for _, u := range users {
			if u.Identifier == tc.who {
				got = u.AccessRight
			}
		}
		if got != tc.right || len(users) != tc.n {
			t.Errorf("%s users %+v: %s has %q, want %q among %d", tc.kind, users, tc.who, got, tc.right, tc.n)
		}
	}
	// A report id is not a dashboard's.
	_, err = c.AdminItemUsers(ctx, "dashboards", pbitest.DemoSalesReportID)
	if ae := asAPIError(t, err); ae.StatusCode != http.StatusNotFound {
		t.Errorf("dashboard users of a report: %v", err)
	}
}

func TestAdminArtifactAccessComesInChunks(t *testing.T) {
	srv := adminTenant(t)
	srv.SetAdminChunkSize(2)
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()

	var all []pbiclient.ArtifactAccess
	token, chunks := "", 0
	for {
		page, err := c.AdminUserArtifactAccess(ctx, "megan.bowen@contoso.com", []string{"Report", "Dashboard", "Workspace"}, token)
		if err != nil {
			t.Fatal(err)
		}
		chunks++
		all = append(all, page.Entities...)
		if token = page.ContinuationToken; token == "" {
			break
		}
	}
	kinds := map[string]int{}
	for _, e := range all {
		kinds[e.ArtifactType]++
	}
	// Sales Analytics and its Test and Production copies (her personal workspace is a
	// PersonalGroup, not asked for); their reports and the one in her personal workspace;
	// Sales Pulse.
	if kinds["Workspace"] != 3 || kinds["PersonalGroup"] != 0 || kinds["Report"] != 4 || kinds["Dashboard"] != 1 || kinds["Dataset"] != 0 {
		t.Errorf("megan reaches %v: %+v", kinds, all)
	}
	if chunks != (len(all)+1)/2 {
		t.Errorf("%d entries in %d chunks of 2", len(all), chunks)
	}
	// By graph id, the same user.
	byGraph, err := c.AdminUserArtifactAccess(ctx, pbitest.UserGraphID("megan.bowen@contoso.com"), []string{"Capacity"}, "")
	if err != nil || len(byGraph.Entities) != 2 || byGraph.Entities[0].ArtifactID != pbitest.DemoFabricCapacityID || byGraph.Entities[1].ArtifactType != "Capacity" {
		t.Errorf("capacities by graph id: %+v, %v", byGraph, err)
	}
	var queries []string
	for _, r := range apiRequests(srv) {
		if strings.HasSuffix(r.Path, "/artifactAccess") {
			queries = append(queries, r.RawQuery)
		}
	}
	if queries[0] != "artifactTypes=Report%2CDashboard%2CWorkspace" || !strings.HasPrefix(queries[1], "continuationToken='") || !strings.HasSuffix(queries[1], "%3D'") {
		t.Errorf("queries %q", queries)
	}
}

func TestAdminWideSharesUnusedAndSubscriptions(t *testing.T) {
	srv := adminTenant(t)
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()

	web, err := c.AdminWidelyShared(ctx, true, "")
	if err != nil || len(web.Entities) != 1 || web.Entities[0].ArtifactID != pbitest.DemoMarketingReportID ||
		web.Entities[0].ShareType != "PublishToWeb" || web.Entities[0].Sharer == nil || web.Entities[0].Sharer.Identifier != "adele.vance@contoso.com" {
		t.Errorf("published to web %+v, %v", web, err)
	}
	org, err := c.AdminWidelyShared(ctx, false, "")
	if err != nil || len(org.Entities) != 1 || org.Entities[0].ArtifactID != pbitest.DemoSalesReportID || org.Entities[0].ShareType != "Link" {
		t.Errorf("shared to the organization %+v, %v", org, err)
	}

	unused, err := c.AdminUnusedArtifacts(ctx, pbitest.DemoOrphanedWorkspaceID, "")
	if err != nil || len(unused.Entities) != 1 || unused.Entities[0].ArtifactType != "Dataset" || unused.Entities[0].LastAccessedDateTime == "" {
		t.Errorf("unused %+v, %v", unused, err)
	}
	// Sales Overview was opened lately.
	used, err := c.AdminUnusedArtifacts(ctx, pbitest.DemoSalesWorkspaceID, "")
	if err != nil || len(used.Entities) != 0 {
		t.Errorf("Sales Analytics unused %+v, %v", used, err)
	}

	subs, err := c.AdminItemSubscriptions(ctx, "reports", pbitest.DemoSalesReportID)
	if err != nil || len(subs) != 1 || subs[0].ID != pbitest.DemoSalesSubscriptionID || len(subs[0].Users) != 2 || subs[0].ArtifactDisplayName != "Sales Overview" {
		t.Errorf("report subscriptions %+v, %v", subs, err)
	}
	subs, err = c.AdminItemSubscriptions(ctx, "dashboards", pbitest.DemoSalesDashboardID)
	if err != nil || len(subs) != 1 || subs[0].ArtifactType != "Dashboard" || subs[0].Frequency != "Weekly" {
		t.Errorf("dashboard subscriptions %+v, %v", subs, err)
	}
	mine, err := c.AdminUserSubscriptions(ctx, "lee.gu@contoso.com", "")
	if err != nil || len(mine.Entities) != 1 || mine.Entities[0].ID != pbitest.DemoSalesSubscriptionID || len(mine.Entities[0].Users) != 0 || mine.ContinuationToken != "" {
		t.Errorf("Lee's subscriptions %+v, %v", mine, err)
	}
	if _, err := c.AdminUserSubscriptions(ctx, "lee.gu@contoso.com", "not a token"); err == nil {
		t.Error("a token with spaces was sent")
	}
}

func TestAdminRestoresAWorkspaceAndChangesItsUsers(t *testing.T) {
	srv := adminTenant(t)
	ctx := context.Background()
	app := newClient(t, srv, newTenantTokens(srv))
	// The changes need a Fabric administrator signed in as a user.
	err := app.AdminRestoreGroup(ctx, pbitest.DemoDeletedWorkspaceID, "", "megan.bowen@contoso.com")
	if ae := asAPIError(t, err); ae.StatusCode != http.StatusUnauthorized || ae.Code != "PowerBINotAuthorizedException" {
		t.Errorf("restore as a service principal: %v", err)
	}

	c := newClient(t, srv, userTokens{srv})
	if err := c.AdminRestoreGroup(ctx, pbitest.DemoDeletedWorkspaceID, "Intranet Archive", "megan.bowen@contoso.com"); err != nil {
		t.Fatal(err)
	}
	g, err := c.AdminGetGroup(ctx, pbitest.DemoDeletedWorkspaceID, []string{"users"})
	if err != nil || g.State != "Active" || g.Name != "Intranet Archive" || len(g.Users) != 1 || g.Users[0].GroupUserAccessRight != "Admin" {
		t.Errorf("restored %+v, %v", g, err)
	}
	err = c.AdminRestoreGroup(ctx, pbitest.DemoDeletedWorkspaceID, "", "megan.bowen@contoso.com")
	if ae := asAPIError(t, err); ae.StatusCode != http.StatusBadRequest {
		t.Errorf("restoring an active workspace: %v", err)
	}

	if err := c.AdminAddGroupUser(ctx, pbitest.DemoOrphanedWorkspaceID, pbiclient.GroupUser{Identifier: "megan.bowen@contoso.com",
		PrincipalType: "User", GroupUserAccessRight: "Admin"}); err != nil {
		t.Fatal(err)
	}
	err = c.AdminAddGroupUser(ctx, pbitest.DemoOrphanedWorkspaceID, pbiclient.GroupUser{Identifier: "lee.gu@contoso.com",
		PrincipalType: "User", GroupUserAccessRight: "Member"})
	if ae := asAPIError(t, err); ae.Code != "AddingAlreadyExistsGroupUserNotSupportedError" {
		t.Errorf("adding a user twice: %v", err)
	}
	if err := c.AdminDeleteGroupUser(ctx, pbitest.DemoOrphanedWorkspaceID, "lee.gu@contoso.com", false); err != nil {
		t.Fatal(err)
	}
	// A group goes with isGroup only.
	err = c.AdminDeleteGroupUser(ctx, pbitest.DemoHRWorkspaceID, "d25e7a9b-1d3f-4b8c-8a0b-2f4b6d8e0ac7", false)
	if ae := asAPIError(t, err); ae.StatusCode != http.StatusNotFound {
		t.Errorf("a group without isGroup: %v", err)
	}
	if err := c.AdminDeleteGroupUser(ctx, pbitest.DemoHRWorkspaceID, "d25e7a9b-1d3f-4b8c-8a0b-2f4b6d8e0ac7", true); err != nil {
		t.Fatal(err)
	}
	users, err := c.AdminListGroupUsers(ctx, pbitest.DemoOrphanedWorkspaceID)
	if err != nil || len(users) != 1 || users[0].Identifier != "megan.bowen@contoso.com" {
		t.Errorf("orphaned workspace users %+v, %v", users, err)
	}
	// An ordinary workspace's users change too.
	if err := c.AdminDeleteGroupUser(ctx, pbitest.DemoMarketingWorkspaceID, "adele.vance@contoso.com", false); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"POST /v1.0/myorg/admin/groups/" + pbitest.DemoDeletedWorkspaceID + "/restore ?",
		"POST /v1.0/myorg/admin/groups/" + pbitest.DemoDeletedWorkspaceID + "/restore ?",
		"POST /v1.0/myorg/admin/groups/" + pbitest.DemoDeletedWorkspaceID + "/restore ?",
		"GET /v1.0/myorg/admin/groups/" + pbitest.DemoDeletedWorkspaceID + " ?$expand=users",
		"POST /v1.0/myorg/admin/groups/" + pbitest.DemoDeletedWorkspaceID + "/restore ?",
		"POST /v1.0/myorg/admin/groups/" + pbitest.DemoOrphanedWorkspaceID + "/users ?",
		"POST /v1.0/myorg/admin/groups/" + pbitest.DemoOrphanedWorkspaceID + "/users ?",
		"DELETE /v1.0/myorg/admin/groups/" + pbitest.DemoOrphanedWorkspaceID + "/users/lee.gu@contoso.com ?",
		"DELETE /v1.0/myorg/admin/groups/" + pbitest.DemoHRWorkspaceID + "/users/d25e7a9b-1d3f-4b8c-8a0b-2f4b6d8e0ac7 ?",
		"DELETE /v1.0/myorg/admin/groups/" + pbitest.DemoHRWorkspaceID + "/users/d25e7a9b-1d3f-4b8c-8a0b-2f4b6d8e0ac7 ?isGroup=true",
		"GET /v1.0/myorg/admin/groups/" + pbitest.DemoOrphanedWorkspaceID + "/users ?",
		"DELETE /v1.0/myorg/admin/groups/" + pbitest.DemoMarketingWorkspaceID + "/users/adele.vance@contoso.com ?",
	}
	var got []string
	for _, r := range apiRequests(srv) {
		got = append(got, r.Method+" "+r.Path+" ?"+r.RawQuery)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
