package tools

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// Routes of the fake tenant's workspace writes.
const (
	routeDeleteGroup     = "DELETE /v1.0/myorg/groups/{groupId}"
	routeAddGroupUser    = "POST /v1.0/myorg/groups/{groupId}/users"
	routeDeleteGroupUser = "DELETE /v1.0/myorg/groups/{groupId}/users/{user}"
)

// usersOf reads a workspace's users back through list_workspace_users, keyed by identifier.
func usersOf(t *testing.T, st *stack, workspace string) map[string]WorkspaceUser {
	t.Helper()
	var res ListWorkspaceUsersResult
	st.ok(t, "list_workspace_users", map[string]any{"workspace": workspace}, &res)
	out := map[string]WorkspaceUser{}
	for _, u := range res.Users {
		out[strings.ToLower(u.Identifier)] = u
	}
	return out
}

func TestGetWorkspace(t *testing.T) {
	st := newStack(t, stackOptions{})
	var res GetWorkspaceResult
	st.ok(t, "get_workspace", map[string]any{"workspace": "Finance"}, &res)
	w := res.Workspace
	if w.ID != pbitest.DemoFinanceWorkspaceID || !w.IsOnDedicatedCapacity || w.CapacityID != pbitest.DemoCapacityID ||
		w.DefaultDatasetStorageFormat != "Small" || res.ResolvedBy != "name" {
		t.Fatalf("Finance: %+v", res)
	}
	st.ok(t, "get_workspace", map[string]any{"workspace": pbitest.DemoMarketingWorkspaceID}, &res)
	if res.Workspace.Name != "Marketing" || res.Workspace.IsOnDedicatedCapacity || res.ResolvedBy != "id" {
		t.Fatalf("Marketing: %+v", res)
	}

	// My workspace has no group object: the argument is required and blank is refused.
	if msg := st.fails(t, "get_workspace", nil); !strings.Contains(msg, "workspace") {
		t.Fatalf("no workspace: %s", msg)
	}
	if msg := st.fails(t, "get_workspace", map[string]any{"workspace": "   "}); !strings.Contains(msg, "My workspace") {
		t.Fatalf("blank workspace: %s", msg)
	}
	msg := st.fails(t, "get_workspace", map[string]any{"workspace": "0b8f4f5a-1111-4d2e-9c3b-2a1d0e9f8c7b"})
	if !strings.Contains(msg, "HTTP 404") || !strings.Contains(msg, "PowerBIEntityNotFound") {
		t.Fatalf("unknown id: %s", msg)
	}
}

func TestCreateAndUpdateWorkspace(t *testing.T) {
	st := newStack(t, stackOptions{})
	var created CreateWorkspaceResult
	st.ok(t, "create_workspace", map[string]any{"name": "  Budget 2025 "}, &created)
	if created.Workspace.Name != "Budget 2025" || !guidPattern.MatchString(created.Workspace.ID) {
		t.Fatalf("created %+v", created)
	}
	// The caller, the service principal, is its Admin.
	users := usersOf(t, st, "Budget 2025")
	if sp := users[pbitest.DemoServicePrincipalObjectID]; sp.GroupUserAccessRight != "Admin" || sp.PrincipalType != "App" || len(users) != 1 {
		t.Fatalf("users of the new workspace: %+v", users)
	}

	msg := st.fails(t, "create_workspace", map[string]any{"name": "Sales Analytics"})
	for _, want := range []string{"HTTP 400", "PowerBIEntityAlreadyExists", "RequestId", "already in use"} {
		if !strings.Contains(msg, want) {
			t.Errorf("duplicate name: %q lacks %q", msg, want)
		}
	}

	var upd UpdateWorkspaceResult
	st.ok(t, "update_workspace", map[string]any{"workspace": created.Workspace.ID, "name": "Budget 2026"}, &upd)
	if upd.Workspace.Name != "Budget 2026" || upd.Workspace.ID != created.Workspace.ID {
		t.Fatalf("renamed: %+v", upd)
	}
	st.ok(t, "update_workspace", map[string]any{"workspace": "Finance", "default_dataset_storage_format": "Large"}, &upd)
	if upd.Workspace.DefaultDatasetStorageFormat != "Large" || upd.Workspace.Name != "Finance" {
		t.Fatalf("storage format: %+v", upd)
	}
	if msg := st.fails(t, "update_workspace", map[string]any{"workspace": "Budget 2026", "name": "finance"}); !strings.Contains(msg, "PowerBIEntityAlreadyExists") {
		t.Fatalf("rename to a taken name: %s", msg)
	}
	if msg := st.fails(t, "update_workspace", map[string]any{"workspace": "Marketing", "default_dataset_storage_format": "Large"}); !strings.Contains(msg, "HTTP 400") {
		t.Fatalf("storage format on shared capacity: %s", msg)
	}
	if msg := st.fails(t, "update_workspace", map[string]any{"workspace": "Finance"}); !strings.Contains(msg, "Nothing to change") {
		t.Fatalf("empty update: %s", msg)
	}
	if msg := st.fails(t, "update_workspace", map[string]any{"workspace": "Finance", "default_dataset_storage_format": "Huge"}); !strings.Contains(msg, "default_dataset_storage_format") {
		t.Fatalf("enum: %s", msg)
	}
}

func TestDeleteWorkspaceNeedsConfirmation(t *testing.T) {
	st := newStack(t, stackOptions{})
	msg := st.fails(t, "delete_workspace", map[string]any{"workspace": pbitest.DemoScratchWorkspaceID})
	for _, want := range []string{"Not done", "Scratch", pbitest.DemoScratchWorkspaceID, "ask the user", "confirm: true", "Nothing was changed"} {
		if !strings.Contains(msg, want) {
			t.Errorf("unconfirmed delete: %q lacks %q", msg, want)
		}
	}
	if n := st.tenant.Count(routeDeleteGroup); n != 0 {
		t.Fatalf("%d DELETE requests without confirmation", n)
	}
	var got GetWorkspaceResult
	st.ok(t, "get_workspace", map[string]any{"workspace": "Scratch"}, &got)

	var res DeleteWorkspaceResult
	st.ok(t, "delete_workspace", map[string]any{"workspace": "Scratch", "confirm": true}, &res)
	if !res.Deleted || res.Workspace.ID != pbitest.DemoScratchWorkspaceID || res.Workspace.Name != "Scratch" {
		t.Fatalf("deleted: %+v", res)
	}
	if msg := st.fails(t, "get_workspace", map[string]any{"workspace": pbitest.DemoScratchWorkspaceID}); !strings.Contains(msg, "404") {
		t.Fatalf("deleted workspace still there: %s", msg)
	}
	// An unknown workspace is reported before anyone is asked anything.
	if msg := st.fails(t, "delete_workspace", map[string]any{"workspace": pbitest.DemoScratchWorkspaceID, "confirm": true}); !strings.Contains(msg, "404") {
		t.Fatalf("second delete: %s", msg)
	}
	if n := st.tenant.Count(routeDeleteGroup); n != 1 {
		t.Fatalf("%d DELETE requests, want 1", n)
	}
}

func TestListWorkspaceUsers(t *testing.T) {
	st := newStack(t, stackOptions{})
	var res ListWorkspaceUsersResult
	st.ok(t, "list_workspace_users", map[string]any{"workspace": "Sales Analytics"}, &res)
	if res.Count != 3 || res.HasMore || res.Workspace.ID != pbitest.DemoSalesWorkspaceID {
		t.Fatalf("users: %+v", res)
	}
	want := []WorkspaceUser{
		{Identifier: pbitest.DemoServicePrincipalObjectID, DisplayName: pbitest.DemoServicePrincipalName, PrincipalType: "App", GroupUserAccessRight: "Admin"},
		{Identifier: "megan.bowen@contoso.com", DisplayName: "Megan Bowen", EmailAddress: "megan.bowen@contoso.com", PrincipalType: "User", GroupUserAccessRight: "Admin"},
		{Identifier: pbitest.DemoSalesTeamGroupID, DisplayName: "Sales Team", PrincipalType: "Group", GroupUserAccessRight: "Viewer"},
	}
	for i, u := range want {
		if res.Users[i] != u {
			t.Errorf("user %d = %+v, want %+v", i, res.Users[i], u)
		}
	}

	var first, second ListWorkspaceUsersResult
	st.ok(t, "list_workspace_users", map[string]any{"workspace": "Sales Analytics", "top": 2}, &first)
	if first.Count != 2 || !first.HasMore || first.NextSkip != 2 {
		t.Fatalf("first page: %+v", first)
	}
	st.ok(t, "list_workspace_users", map[string]any{"workspace": "Sales Analytics", "top": 2, "skip": 2}, &second)
	if second.Count != 1 || second.HasMore || second.Users[0].Identifier != pbitest.DemoSalesTeamGroupID {
		t.Fatalf("second page: %+v", second)
	}
	reqs := st.tenant.Requests()
	if last := reqs[len(reqs)-1]; last.RawQuery != "$skip=2&$top=3" {
		t.Fatalf("Power BI received ?%s", last.RawQuery)
	}
}

func TestAddServicePrincipalToWorkspace(t *testing.T) {
	st := newStack(t, stackOptions{})
	const spID = "1f69e798-5852-4fdd-ab01-33bb14b6e934"
	var res WorkspaceUserResult
	st.ok(t, "add_workspace_user", map[string]any{"workspace": "Marketing", "identifier": spID, "principal_type": "App", "access_right": "Member"}, &res)
	if res.User.Identifier != spID || res.User.PrincipalType != "App" || res.User.GroupUserAccessRight != "Member" || res.Workspace.ID != pbitest.DemoMarketingWorkspaceID {
		t.Fatalf("added: %+v", res)
	}
	reqs := st.tenant.Requests()
	if body := string(reqs[len(reqs)-1].Body); body != `{"identifier":"`+spID+`","principalType":"App","groupUserAccessRight":"Member"}` {
		t.Fatalf("Power BI received %s", body)
	}
	if u := usersOf(t, st, "Marketing")[spID]; u.GroupUserAccessRight != "Member" || u.PrincipalType != "App" {
		t.Fatalf("read back: %+v", u)
	}

	// The commonest mistake: adding a principal that is already there.
	msg := st.fails(t, "add_workspace_user", map[string]any{"workspace": "Marketing", "identifier": strings.ToUpper(spID), "principal_type": "App", "access_right": "Admin"})
	for _, want := range []string{"HTTP 400", "AddingAlreadyExistsGroupUserNotSupportedError", "RequestId", "update_workspace_user"} {
		if !strings.Contains(msg, want) {
			t.Errorf("second add: %q lacks %q", msg, want)
		}
	}

	// A user is added by email address.
	st.ok(t, "add_workspace_user", map[string]any{"workspace": "Marketing", "identifier": "new.analyst@contoso.com", "principal_type": "User", "access_right": "Viewer"}, &res)
	if u := usersOf(t, st, "Marketing")["new.analyst@contoso.com"]; u.GroupUserAccessRight != "Viewer" || u.EmailAddress != "new.analyst@contoso.com" {
		t.Fatalf("user read back: %+v", u)
	}

	// Identifiers that cannot fit their type never reach Power BI.
	before := st.tenant.Count(routeAddGroupUser)
	for _, c := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"identifier": "my-app", "principal_type": "App"}, "object id"},
		{map[string]any{"identifier": spID, "principal_type": "User"}, "email address"},
		{map[string]any{"identifier": "sales@contoso.com", "principal_type": "Group"}, "object id"},
	} {
		c.args["workspace"], c.args["access_right"] = "Marketing", "Admin"
		if msg := st.fails(t, "add_workspace_user", c.args); !strings.Contains(msg, c.want) {
			t.Errorf("%v: %s", c.args, msg)
		}
	}
	if msg := st.fails(t, "add_workspace_user", map[string]any{"workspace": "Marketing", "identifier": spID, "principal_type": "App", "access_right": "Owner"}); !strings.Contains(msg, "access_right") {
		t.Errorf("enum: %s", msg)
	}
	if msg := st.fails(t, "add_workspace_user", map[string]any{"identifier": spID, "principal_type": "App", "access_right": "Admin"}); !strings.Contains(msg, "workspace") {
		t.Errorf("no workspace: %s", msg)
	}
	if n := st.tenant.Count(routeAddGroupUser); n != before {
		t.Fatalf("%d invalid adds reached Power BI", n-before)
	}
}

func TestUpdateWorkspaceUser(t *testing.T) {
	st := newStack(t, stackOptions{})
	var res WorkspaceUserResult
	st.ok(t, "update_workspace_user", map[string]any{"workspace": "Finance", "identifier": pbitest.DemoFinanceAnalystsGroupID, "access_right": "Viewer"}, &res)
	if res.User.GroupUserAccessRight != "Viewer" || res.User.PrincipalType != "Group" || res.User.DisplayName != "Finance Analysts" {
		t.Fatalf("updated: %+v", res)
	}
	reqs := st.tenant.Requests()
	if last := reqs[len(reqs)-1]; last.Method != "PUT" || !strings.Contains(string(last.Body), `"principalType":"Group"`) {
		t.Fatalf("Power BI received %s %s", last.Method, last.Body)
	}
	if u := usersOf(t, st, "Finance")[pbitest.DemoFinanceAnalystsGroupID]; u.GroupUserAccessRight != "Viewer" {
		t.Fatalf("read back: %+v", u)
	}
	// A user is found by email address whatever its case.
	st.ok(t, "update_workspace_user", map[string]any{"workspace": "Finance", "identifier": "Alex.Wilber@contoso.com", "access_right": "Member"}, &res)
	if u := usersOf(t, st, "Finance")["alex.wilber@contoso.com"]; u.GroupUserAccessRight != "Member" {
		t.Fatalf("read back: %+v", u)
	}

	msg := st.fails(t, "update_workspace_user", map[string]any{"workspace": "Finance", "identifier": "nobody@contoso.com", "access_right": "Admin"})
	if !strings.Contains(msg, "no access") || !strings.Contains(msg, "add_workspace_user") {
		t.Fatalf("unknown user: %s", msg)
	}
}

func TestRemoveWorkspaceUserNeedsConfirmation(t *testing.T) {
	st := newStack(t, stackOptions{})
	args := map[string]any{"workspace": pbitest.DemoMarketingWorkspaceID, "identifier": pbitest.DemoRemovableUser}
	msg := st.fails(t, "remove_workspace_user", args)
	for _, want := range []string{"Not done", "Former Contractor", pbitest.DemoRemovableUser, "Contributor", "Marketing", "confirm: true", "Nothing was changed"} {
		if !strings.Contains(msg, want) {
			t.Errorf("unconfirmed removal: %q lacks %q", msg, want)
		}
	}
	if n := st.tenant.Count(routeDeleteGroupUser); n != 0 {
		t.Fatalf("%d DELETE requests without confirmation", n)
	}
	if _, ok := usersOf(t, st, "Marketing")[pbitest.DemoRemovableUser]; !ok {
		t.Fatal("the user was removed without confirmation")
	}

	args["confirm"] = true
	var res RemoveWorkspaceUserResult
	st.ok(t, "remove_workspace_user", args, &res)
	if !res.Removed || res.User.GroupUserAccessRight != "Contributor" || res.Workspace.Name != "Marketing" {
		t.Fatalf("removed: %+v", res)
	}
	users := usersOf(t, st, "Marketing")
	if _, ok := users[pbitest.DemoRemovableUser]; ok || len(users) != 2 {
		t.Fatalf("after removal: %+v", users)
	}

	// A service principal is removed by object id.
	st.ok(t, "remove_workspace_user", map[string]any{"workspace": "Marketing", "identifier": pbitest.DemoServicePrincipalObjectID, "confirm": true}, &res)
	reqs := st.tenant.Requests()
	if last := reqs[len(reqs)-1]; last.Path != "/v1.0/myorg/groups/"+pbitest.DemoMarketingWorkspaceID+"/users/"+pbitest.DemoServicePrincipalObjectID {
		t.Fatalf("Power BI received %s", last.Path)
	}

	if msg := st.fails(t, "remove_workspace_user", args); !strings.Contains(msg, "no access") {
		t.Fatalf("second removal: %s", msg)
	}
	if n := st.tenant.Count(routeDeleteGroupUser); n != 2 {
		t.Fatalf("%d DELETE requests, want 2", n)
	}
}

// elicitAnswer answers every elicitation with a fixed action and confirm value, and keeps the
// messages it was shown.
type elicitAnswer struct {
	action   mcp.ElicitationResponseAction
	confirm  bool
	mu       sync.Mutex
	messages []string
}

func (e *elicitAnswer) Elicit(_ context.Context, req mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	e.mu.Lock()
	e.messages = append(e.messages, req.Params.Message)
	e.mu.Unlock()
	return &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{Action: e.action, Content: map[string]any{"confirm": e.confirm}}}, nil
}

// A client that can ask its user is asked, and its user's answer wins over the confirm argument.
func TestDestructiveToolsAskClientsThatCanElicit(t *testing.T) {
	declined := &elicitAnswer{action: mcp.ElicitationResponseActionDecline}
	st := newStack(t, stackOptions{elicit: declined})
	msg := st.fails(t, "delete_workspace", map[string]any{"workspace": "Scratch", "confirm": true})
	if !strings.Contains(msg, "did not agree") || len(declined.messages) != 1 || !strings.Contains(declined.messages[0], "Delete the workspace Scratch") {
		t.Fatalf("declined: %s; asked %q", msg, declined.messages)
	}
	if n := st.tenant.Count(routeDeleteGroup); n != 0 {
		t.Fatalf("%d DELETE requests after the user declined", n)
	}

	accepted := &elicitAnswer{action: mcp.ElicitationResponseActionAccept, confirm: true}
	st = newStack(t, stackOptions{elicit: accepted})
	var res RemoveWorkspaceUserResult
	st.ok(t, "remove_workspace_user", map[string]any{"workspace": "Marketing", "identifier": pbitest.DemoRemovableUser}, &res)
	if !res.Removed || len(accepted.messages) != 1 || !strings.Contains(accepted.messages[0], pbitest.DemoRemovableUser) {
		t.Fatalf("accepted: %+v; asked %q", res, accepted.messages)
	}
}
