package pbiclient_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

func TestListGroups(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	sales := srv.AddWorkspace(pbitest.Workspace{Name: "Sales", IsOnDedicatedCapacity: true})
	srv.AddWorkspace(pbitest.Workspace{Name: "O'Brien's team"})
	srv.AddWorkspace(pbitest.Workspace{Name: "Finance", IsReadOnly: true})
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()

	groups, err := c.ListGroups(ctx, pbiclient.ListGroupsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 3 {
		t.Fatalf("got %d groups, want 3: %+v", len(groups), groups)
	}
	got := groups[0]
	want := pbiclient.Group{
		ID: sales.ID, Name: "Sales", Type: "Workspace", CapacityID: sales.CapacityID,
		DefaultDatasetStorageFormat: "Small", IsOnDedicatedCapacity: true,
	}
	if got != want {
		t.Errorf("first group = %+v, want %+v", got, want)
	}
	if !groups[2].IsReadOnly {
		t.Errorf("Finance: IsReadOnly = false, want true")
	}

	reqs := apiRequests(srv)
	last := reqs[len(reqs)-1]
	if last.Route != "GET "+apiPrefix+"/groups" || last.RawQuery != "" || last.UserAgent != "powerbi-mcp-test/1.0" {
		t.Errorf("request = %s ?%q UA %q", last.Route, last.RawQuery, last.UserAgent)
	}
}

func TestListGroupsQueryOptions(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	for _, name := range []string{"Sales EU", "O'Brien's team", "Sales US", "Sales APAC"} {
		srv.AddWorkspace(pbitest.Workspace{Name: name})
	}
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()

	tests := []struct {
		name      string
		opts      pbiclient.ListGroupsOptions
		wantQuery string
		wantNames []string
	}{
		{
			name:      "filter with a quote",
			opts:      pbiclient.ListGroupsOptions{Filter: "name eq 'O''Brien''s team'"},
			wantQuery: "$filter=name%20eq%20%27O%27%27Brien%27%27s%20team%27",
			wantNames: []string{"O'Brien's team"},
		},
		{
			name:      "filter, top and skip",
			opts:      pbiclient.ListGroupsOptions{Filter: "contains(name,'Sales')", Top: 2, Skip: 1},
			wantQuery: "$filter=contains%28name%2C%27Sales%27%29&$skip=1&$top=2",
			wantNames: []string{"Sales US", "Sales APAC"},
		},
		{
			name:      "top only",
			opts:      pbiclient.ListGroupsOptions{Top: 1},
			wantQuery: "$top=1",
			wantNames: []string{"Sales EU"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.ResetRequests()
			groups, err := c.ListGroups(ctx, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, g := range groups {
				names = append(names, g.Name)
			}
			if !slices.Equal(names, tt.wantNames) {
				t.Errorf("names = %q, want %q", names, tt.wantNames)
			}
			reqs := apiRequests(srv)
			if len(reqs) != 1 || reqs[0].RawQuery != tt.wantQuery {
				t.Errorf("requests = %+v, want one with query %q", reqs, tt.wantQuery)
			}
		})
	}

	if _, err := c.ListGroups(ctx, pbiclient.ListGroupsOptions{Top: -1}); err == nil {
		t.Error("ListGroups with Top -1: no error")
	}
}

func TestGetGroup(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	ws := srv.AddWorkspace(pbitest.Workspace{Name: "Sales"})
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()

	g, err := c.GetGroup(ctx, ws.ID)
	if err != nil {
		t.Fatal(err)
	}
	if g.ID != ws.ID || g.Name != "Sales" || g.Type != "Workspace" {
		t.Errorf("GetGroup = %+v", g)
	}

	// Not found: the pbi.error shape with no message.
	missing := "5f0e4d3c-2b1a-4098-8765-43210fedcba9"
	_, err = c.GetGroup(ctx, missing)
	apiErr := asAPIError(t, err)
	if apiErr.StatusCode != http.StatusNotFound || apiErr.Code != "PowerBIEntityNotFound" ||
		apiErr.Method != http.MethodGet || apiErr.Path != "/groups/"+missing || apiErr.RequestID == "" {
		t.Errorf("APIError = %+v", apiErr)
	}
	if !pbiclient.IsNotFound(err) {
		t.Error("IsNotFound = false for a 404")
	}
	if n := srv.Count("GET " + apiPrefix + "/groups/{groupId}"); n != 2 {
		t.Errorf("GetGroup requests = %d, want 2 (a 404 is not retried)", n)
	}

	if _, err := c.GetGroup(ctx, ""); err == nil {
		t.Error("GetGroup(\"\"): no error")
	}
}

// lastRequest is the last Power BI request the tenant received.
func lastRequest(t *testing.T, srv *pbitest.Server) pbitest.Request {
	t.Helper()
	reqs := apiRequests(srv)
	if len(reqs) == 0 {
		t.Fatal("no request reached Power BI")
	}
	return reqs[len(reqs)-1]
}

func TestGroupWrites(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	srv.SeedDemo()
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()

	g, err := c.CreateGroup(ctx, "Budget 2025")
	if err != nil {
		t.Fatal(err)
	}
	if g.Name != "Budget 2025" || g.ID == "" || g.Type != "Workspace" {
		t.Fatalf("created %+v", g)
	}
	r := lastRequest(t, srv)
	if r.Method != "POST" || r.Path != apiPrefix+"/groups" || r.RawQuery != "workspaceV2=true" || string(r.Body) != `{"name":"Budget 2025"}` {
		t.Errorf("create sent %s %s ?%s %s", r.Method, r.Path, r.RawQuery, r.Body)
	}
	_, err = c.CreateGroup(ctx, "Budget 2025")
	if e := asAPIError(t, err); e.StatusCode != http.StatusBadRequest || e.Code != "PowerBIEntityAlreadyExists" || e.OutcomeUnknown {
		t.Errorf("duplicate name: %+v", e)
	}

	if err := c.UpdateGroup(ctx, g.ID, pbiclient.UpdateGroupRequest{Name: "Budget 2026"}); err != nil {
		t.Fatal(err)
	}
	r = lastRequest(t, srv)
	if r.Method != "PATCH" || r.Path != apiPrefix+"/groups/"+g.ID || string(r.Body) != `{"name":"Budget 2026"}` {
		t.Errorf("update sent %s %s %s", r.Method, r.Path, r.Body)
	}
	if err := c.UpdateGroup(ctx, pbitest.DemoFinanceWorkspaceID, pbiclient.UpdateGroupRequest{DefaultDatasetStorageFormat: "Large"}); err != nil {
		t.Fatal(err)
	}
	if r = lastRequest(t, srv); string(r.Body) != `{"defaultDatasetStorageFormat":"Large"}` {
		t.Errorf("update sent %s", r.Body)
	}
	if got, err := c.GetGroup(ctx, g.ID); err != nil || got.Name != "Budget 2026" {
		t.Errorf("after rename: %+v, %v", got, err)
	}
	if err := c.UpdateGroup(ctx, g.ID, pbiclient.UpdateGroupRequest{}); err == nil {
		t.Error("an empty update was sent")
	}

	if err := c.DeleteGroup(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	if r = lastRequest(t, srv); r.Method != "DELETE" || r.Path != apiPrefix+"/groups/"+g.ID || len(r.Body) != 0 {
		t.Errorf("delete sent %s %s %s", r.Method, r.Path, r.Body)
	}
	_, err = c.GetGroup(ctx, g.ID)
	if e := asAPIError(t, err); e.StatusCode != http.StatusNotFound {
		t.Errorf("deleted workspace: %+v", e)
	}

	before := len(apiRequests(srv))
	for _, err := range []error{c.DeleteGroup(ctx, ""), c.UpdateGroup(ctx, "", pbiclient.UpdateGroupRequest{Name: "x"})} {
		if err == nil {
			t.Error("no workspace id accepted")
		}
	}
	if _, err := c.CreateGroup(ctx, ""); err == nil {
		t.Error("empty name accepted")
	}
	if len(apiRequests(srv)) != before {
		t.Error("invalid calls reached Power BI")
	}
}

func TestGroupUsers(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	srv.SeedDemo()
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()
	ws := pbitest.DemoSalesWorkspaceID

	users, err := c.ListGroupUsers(ctx, ws, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	wantSP := pbiclient.GroupUser{Identifier: pbitest.DemoServicePrincipalObjectID, PrincipalType: "App", GroupUserAccessRight: "Admin", DisplayName: pbitest.DemoServicePrincipalName}
	if len(users) != 3 || users[0] != wantSP {
		t.Fatalf("users %+v", users)
	}
	if r := lastRequest(t, srv); r.Path != apiPrefix+"/groups/"+ws+"/users" || r.RawQuery != "" {
		t.Errorf("list sent %s ?%s", r.Path, r.RawQuery)
	}
	page, err := c.ListGroupUsers(ctx, ws, 1, 2)
	if err != nil || len(page) != 1 || page[0].Identifier != pbitest.DemoSalesTeamGroupID {
		t.Errorf("page: %+v, %v", page, err)
	}
	if r := lastRequest(t, srv); r.RawQuery != "$skip=2&$top=1" {
		t.Errorf("paged list sent ?%s", r.RawQuery)
	}

	sp := pbiclient.GroupUser{Identifier: "1f69e798-5852-4fdd-ab01-33bb14b6e934", PrincipalType: "App", GroupUserAccessRight: "Member"}
	if err := c.AddGroupUser(ctx, ws, sp); err != nil {
		t.Fatal(err)
	}
	r := lastRequest(t, srv)
	if r.Method != "POST" || r.Path != apiPrefix+"/groups/"+ws+"/users" ||
		string(r.Body) != `{"identifier":"1f69e798-5852-4fdd-ab01-33bb14b6e934","principalType":"App","groupUserAccessRight":"Member"}` {
		t.Errorf("add sent %s %s %s", r.Method, r.Path, r.Body)
	}
	err = c.AddGroupUser(ctx, ws, sp)
	if e := asAPIError(t, err); e.StatusCode != http.StatusBadRequest || e.Code != "AddingAlreadyExistsGroupUserNotSupportedError" {
		t.Errorf("second add: %+v", e)
	}

	sp.GroupUserAccessRight = "Admin"
	if err := c.UpdateGroupUser(ctx, ws, sp); err != nil {
		t.Fatal(err)
	}
	if r := lastRequest(t, srv); r.Method != "PUT" || r.Path != apiPrefix+"/groups/"+ws+"/users" || !strings.Contains(string(r.Body), `"groupUserAccessRight":"Admin"`) {
		t.Errorf("update sent %s %s %s", r.Method, r.Path, r.Body)
	}

	if err := c.DeleteGroupUser(ctx, ws, "megan.bowen@contoso.com"); err != nil {
		t.Fatal(err)
	}
	if r := lastRequest(t, srv); r.Method != "DELETE" || r.Path != apiPrefix+"/groups/"+ws+"/users/megan.bowen@contoso.com" {
		t.Errorf("delete sent %s %s", r.Method, r.Path)
	}
	users, _ = c.ListGroupUsers(ctx, ws, 0, 0)
	got := map[string]string{}
	for _, u := range users {
		got[u.Identifier] = u.GroupUserAccessRight
	}
	if len(got) != 3 || got[sp.Identifier] != "Admin" || got["megan.bowen@contoso.com"] != "" {
		t.Errorf("after add, update and delete: %v", got)
	}

	before := len(apiRequests(srv))
	for _, err := range []error{
		c.AddGroupUser(ctx, ws, pbiclient.GroupUser{Identifier: "x@contoso.com", GroupUserAccessRight: "Viewer"}),
		c.UpdateGroupUser(ctx, "", sp),
		c.DeleteGroupUser(ctx, ws, " "),
	} {
		if err == nil {
			t.Error("an incomplete call was accepted")
		}
	}
	if _, err := c.ListGroupUsers(ctx, ws, -1, 0); err == nil {
		t.Error("negative top accepted")
	}
	if len(apiRequests(srv)) != before {
		t.Error("invalid calls reached Power BI")
	}
}
