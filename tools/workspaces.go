package tools

import (
	"context"
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
)

// Workspace is one workspace as the tools report it.
type Workspace struct {
	ID                    string `json:"id"`
	Name                  string `json:"name"`
	Type                  string `json:"type,omitempty" jsonschema:"Workspace, PersonalGroup, ..."`
	IsReadOnly            bool   `json:"isReadOnly" jsonschema:"True when the caller can only view the workspace"`
	IsOnDedicatedCapacity bool   `json:"isOnDedicatedCapacity" jsonschema:"True on a Premium, Embedded or Fabric capacity: needed for export and enhanced refresh"`
	CapacityID            string `json:"capacityId,omitempty"`
}

type listWorkspacesArgs struct {
	Filter string `json:"filter" jsonschema:"OData $filter on name and type, e.g. contains(name,'Sales') or name eq 'Finance'." maxLength:"1000"`
	Top    int    `json:"top" minimum:"1" maximum:"1000" default:"100"`
	Skip   int    `json:"skip" schema:"$skip"`
}

// ListWorkspacesResult is the answer of list_workspaces.
type ListWorkspacesResult struct {
	Workspaces []Workspace `json:"workspaces"`
	Page
}

func workspaceTools(d Deps) []Tool {
	return []Tool{
		tool(d, "workspaces", "list workspaces", listWorkspaces, mcp.NewTool("list_workspaces",
			mcp.WithDescription("List the workspaces the signed-in identity can access: id, name, and whether on a dedicated (Premium/Fabric) capacity. "+
				"A service principal sees only those it was added to; My workspace is not listed."),
			annotations("List workspaces", true, false, true))),
		tool(d, "workspaces", "get the workspace", getWorkspace, mcp.NewTool("get_workspace",
			mcp.WithDescription("Get one workspace: whether it is read-only for the caller, its capacity (dedicated or shared; exports and enhanced refresh need dedicated) "+
				"and the default storage format of new semantic models."),
			annotations("Get a workspace", true, false, true))),
		tool(d, "workspace_admin", "create the workspace", createWorkspace, mcp.NewTool("create_workspace",
			mcp.WithDescription("Create a workspace on shared capacity; the signed-in identity becomes its Admin. "+
				"Names are unique in the organization, even among workspaces the caller cannot see (PowerBIEntityAlreadyExists). "+
				"Needs the tenant setting 'Create workspaces', and for a service principal 'Service principals can use Fabric APIs'."),
			annotations("Create a workspace", false, false, false))),
		tool(d, "workspace_admin", "update the workspace", updateWorkspace, mcp.NewTool("update_workspace",
			mcp.WithDescription("Rename a workspace or set the default storage format of its new semantic models (Premium, PPU or Fabric capacity only). "+
				"Names are unique in the organization. Needs Admin."),
			annotations("Update a workspace", false, false, true))),
		tool(d, "workspace_admin", "delete the workspace", deleteWorkspace, mcp.NewTool("delete_workspace",
			mcp.WithDescription("DESTRUCTIVE: delete a workspace with all its reports, semantic models, dashboards and other content. "+
				"Only a Power BI administrator can restore it, within the retention period the tenant sets. Needs Admin."),
			annotations("Delete a workspace", false, true, true))),
		tool(d, "workspaces", "list the workspace users", listWorkspaceUsers, mcp.NewTool("list_workspace_users",
			mcp.WithDescription("List who has access to a workspace (users, security groups, service principals) and their role. "+
				"Role changes can take a while to reach every Power BI API."),
			annotations("List workspace users", true, false, true))),
		tool(d, "workspace_admin", "add the workspace user", addWorkspaceUser, mcp.NewTool("add_workspace_user",
			mcp.WithDescription("Give a user, security group or service principal a role in a workspace. "+
				"For a service principal (the usual setup step): identifier = its object id (Entra ID > Enterprise applications > the app > Object ID, not the client id), principal_type App, access_right Admin or Member. "+
				"One already there fails (AddingAlreadyExistsGroupUserNotSupportedError): use update_workspace_user. "+
				"Needs Admin (Member to add Members and lower). Takes a few minutes to apply."),
			annotations("Add a workspace user", false, false, false))),
		tool(d, "workspace_admin", "update the workspace user", updateWorkspaceUser, mcp.NewTool("update_workspace_user",
			mcp.WithDescription("Change the role of a user, group or service principal already in a workspace (add_workspace_user adds one). "+
				"Needs Admin. Takes a few minutes to apply."),
			annotations("Change a workspace user's role", false, false, true))),
		tool(d, "workspace_admin", "remove the workspace user", removeWorkspaceUser, mcp.NewTool("remove_workspace_user",
			mcp.WithDescription("DESTRUCTIVE: take away a user's, group's or service principal's access to a workspace; removing the signed-in identity ends this server's access. "+
				"Needs Admin."),
			annotations("Remove a workspace user", false, true, true))),
	}
}

// listWorkspaces is list_workspaces.
func listWorkspaces(ctx context.Context, d Deps, a listWorkspacesArgs) (ListWorkspacesResult, error) {
	top := defaultInt(a.Top, 100)
	// Ask for one more than wanted: its presence is what hasMore means.
	groups, err := d.Client.ListGroups(ctx, pbiclient.ListGroupsOptions{Filter: a.Filter, Top: top + 1, Skip: a.Skip})
	if err != nil {
		return ListWorkspacesResult{}, err
	}
	res := ListWorkspacesResult{Workspaces: []Workspace{}}
	for i, g := range groups {
		if i == top {
			res.HasMore, res.NextSkip = true, a.Skip+top
			break
		}
		res.Workspaces = append(res.Workspaces, Workspace{ID: g.ID, Name: g.Name, Type: g.Type, IsReadOnly: g.IsReadOnly,
			IsOnDedicatedCapacity: g.IsOnDedicatedCapacity, CapacityID: g.CapacityID})
	}
	res.Count = len(res.Workspaces)
	return res, nil
}

func defaultInt(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// The workspace tools below act on a workspace object, which My workspace is not: their
// workspace argument is required.

func requiredWorkspaceParam() mcp.ToolOption {
	return mcp.WithString("workspace", mcp.Required())
}

// resolveGroup reads a required workspace argument.
func resolveGroup(ctx context.Context, c *pbiclient.Client, arg string) (WorkspaceRef, error) {
	ws, err := resolveWorkspace(ctx, c, arg)
	if err == nil && ws.MyWorkspace {
		err = userErrorf("A workspace is required: My workspace has no settings or users to manage. Pass a workspace id or name from list_workspaces.")
	}
	return ws, err
}

// named returns ws with its name filled in, looking the workspace up when it was given by id,
// so that the user is asked about a workspace they recognise, and only one that exists.
func named(ctx context.Context, c *pbiclient.Client, ws WorkspaceRef) (WorkspaceRef, error) {
	if ws.Name != "" {
		return ws, nil
	}
	g, err := c.GetGroup(ctx, ws.ID)
	if err != nil {
		return ws, err
	}
	ws.Name = g.Name
	return ws, nil
}

// WorkspaceDetails is one workspace with its settings.
type WorkspaceDetails struct {
	Workspace
	DefaultDatasetStorageFormat string `json:"defaultDatasetStorageFormat,omitempty" jsonschema:"Small or Large: the storage format of new semantic models; only on dedicated capacity"`
}

func detailsOf(g pbiclient.Group) WorkspaceDetails {
	return WorkspaceDetails{Workspace: Workspace{ID: g.ID, Name: g.Name, Type: g.Type, IsReadOnly: g.IsReadOnly,
		IsOnDedicatedCapacity: g.IsOnDedicatedCapacity, CapacityID: g.CapacityID}, DefaultDatasetStorageFormat: g.DefaultDatasetStorageFormat}
}

type getWorkspaceArgs struct {
	Workspace string `json:"workspace" schema:"$requiredWorkspace" required:"true"`
}

// GetWorkspaceResult is the answer of get_workspace.
type GetWorkspaceResult struct {
	Workspace  WorkspaceDetails `json:"workspace"`
	ResolvedBy string           `json:"resolvedBy" jsonschema:"How the workspace argument was read: id or name"`
}

// getWorkspace is get_workspace.
func getWorkspace(ctx context.Context, d Deps, a getWorkspaceArgs) (GetWorkspaceResult, error) {
	ws, err := resolveGroup(ctx, d.Client, a.Workspace)
	if err != nil {
		return GetWorkspaceResult{}, err
	}
	g, err := d.Client.GetGroup(ctx, ws.ID)
	if err != nil {
		return GetWorkspaceResult{}, err
	}
	return GetWorkspaceResult{Workspace: detailsOf(g), ResolvedBy: ws.ResolvedBy}, nil
}

type createWorkspaceArgs struct {
	Name string `json:"name" required:"true" minLength:"1"`
}

// CreateWorkspaceResult is the answer of create_workspace.
type CreateWorkspaceResult struct {
	Workspace Workspace `json:"workspace"`
}

// createWorkspace is create_workspace.
func createWorkspace(ctx context.Context, d Deps, a createWorkspaceArgs) (CreateWorkspaceResult, error) {
	name := strings.TrimSpace(a.Name)
	if name == "" {
		return CreateWorkspaceResult{}, userErrorf("The workspace name must not be blank.")
	}
	g, err := d.Client.CreateGroup(ctx, name)
	if err != nil {
		return CreateWorkspaceResult{}, err
	}
	return CreateWorkspaceResult{Workspace: detailsOf(g).Workspace}, nil
}

type updateWorkspaceArgs struct {
	Workspace                   string `json:"workspace" schema:"$requiredWorkspace" required:"true"`
	Name                        string `json:"name" minLength:"1"`
	DefaultDatasetStorageFormat string `json:"default_dataset_storage_format" jsonschema:"Large lets new semantic models grow beyond 10 GB." enum:"Small,Large"`
}

// UpdateWorkspaceResult is the answer of update_workspace: the workspace as Power BI reports it
// after the change.
type UpdateWorkspaceResult struct {
	Workspace WorkspaceDetails `json:"workspace"`
}

// updateWorkspace is update_workspace.
func updateWorkspace(ctx context.Context, d Deps, a updateWorkspaceArgs) (UpdateWorkspaceResult, error) {
	req := pbiclient.UpdateGroupRequest{Name: strings.TrimSpace(a.Name), DefaultDatasetStorageFormat: a.DefaultDatasetStorageFormat}
	if req == (pbiclient.UpdateGroupRequest{}) {
		return UpdateWorkspaceResult{}, userErrorf("Nothing to change: pass name, default_dataset_storage_format or both.")
	}
	ws, err := resolveGroup(ctx, d.Client, a.Workspace)
	if err != nil {
		return UpdateWorkspaceResult{}, err
	}
	if err := d.Client.UpdateGroup(ctx, ws.ID, req); err != nil {
		return UpdateWorkspaceResult{}, err
	}
	g, err := d.Client.GetGroup(ctx, ws.ID)
	if err != nil {
		return UpdateWorkspaceResult{}, err
	}
	return UpdateWorkspaceResult{Workspace: detailsOf(g)}, nil
}

type deleteWorkspaceArgs struct {
	Workspace string `json:"workspace" schema:"$requiredWorkspace" required:"true"`
	Confirm   bool   `json:"confirm" schema:"$confirm"`
}

// DeleteWorkspaceResult is the answer of delete_workspace.
type DeleteWorkspaceResult struct {
	Deleted   bool         `json:"deleted"`
	Workspace WorkspaceRef `json:"workspace"`
}

// deleteWorkspace is delete_workspace.
func deleteWorkspace(ctx context.Context, d Deps, a deleteWorkspaceArgs) (DeleteWorkspaceResult, error) {
	ws, err := resolveGroup(ctx, d.Client, a.Workspace)
	if err != nil {
		return DeleteWorkspaceResult{}, err
	}
	ws, err = named(ctx, d.Client, ws)
	if err != nil {
		return DeleteWorkspaceResult{}, err
	}
	what := fmt.Sprintf("Delete the workspace %s (id %s) with all its reports, semantic models, dashboards and other content.", ws.Name, ws.ID)
	if err := confirmed(ctx, a.Confirm, what); err != nil {
		return DeleteWorkspaceResult{}, err
	}
	if err := d.Client.DeleteGroup(ctx, ws.ID); err != nil {
		return DeleteWorkspaceResult{}, err
	}
	return DeleteWorkspaceResult{Deleted: true, Workspace: ws}, nil
}

// WorkspaceUser is a principal with access to a workspace.
type WorkspaceUser struct {
	Identifier           string `json:"identifier" jsonschema:"Email address (UPN) of a user, or object id of a group or service principal"`
	DisplayName          string `json:"displayName,omitempty"`
	EmailAddress         string `json:"emailAddress,omitempty"`
	PrincipalType        string `json:"principalType" jsonschema:"User, Group (Entra security group) or App (service principal)"`
	GroupUserAccessRight string `json:"groupUserAccessRight" jsonschema:"Admin, Member, Contributor or Viewer"`
}

func userOf(u pbiclient.GroupUser) WorkspaceUser {
	return WorkspaceUser{Identifier: u.Identifier, DisplayName: u.DisplayName, EmailAddress: u.EmailAddress,
		PrincipalType: u.PrincipalType, GroupUserAccessRight: u.GroupUserAccessRight}
}

type listWorkspaceUsersArgs struct {
	Workspace string `json:"workspace" schema:"$requiredWorkspace" required:"true"`
	Top       int    `json:"top" minimum:"1" maximum:"1000" default:"100"`
	Skip      int    `json:"skip" schema:"$skip"`
}

// ListWorkspaceUsersResult is the answer of list_workspace_users.
type ListWorkspaceUsersResult struct {
	Workspace WorkspaceRef    `json:"workspace"`
	Users     []WorkspaceUser `json:"users"`
	Page
}

// listWorkspaceUsers is list_workspace_users.
func listWorkspaceUsers(ctx context.Context, d Deps, a listWorkspaceUsersArgs) (ListWorkspaceUsersResult, error) {
	ws, err := resolveGroup(ctx, d.Client, a.Workspace)
	if err != nil {
		return ListWorkspaceUsersResult{}, err
	}
	top := defaultInt(a.Top, 100)
	// Ask for one more than wanted: its presence is what hasMore means.
	users, err := d.Client.ListGroupUsers(ctx, ws.ID, top+1, a.Skip)
	if err != nil {
		return ListWorkspaceUsersResult{}, err
	}
	res := ListWorkspaceUsersResult{Workspace: ws, Users: []WorkspaceUser{}}
	for i, u := range users {
		if i == top {
			res.HasMore, res.NextSkip = true, a.Skip+top
			break
		}
		res.Users = append(res.Users, userOf(u))
	}
	res.Count = len(res.Users)
	return res, nil
}

// Parameters naming a workspace user.

func identifierParam() mcp.ToolOption {
	return mcp.WithString("identifier", mcp.Required(),
		mcp.Description("A user's email (UPN), or a group's or service principal's object id (not the client id)."),
		mcp.MinLength(3), mcp.Pattern(pathSegmentPattern))
}

// workspaceRoles says what each workspace role allows; add_workspace_user's access_right says it.
const workspaceRoles = "Admin: everything, including users and deleting the workspace. Member: also adds Members and lower and shares. " +
	"Contributor: creates, edits and deletes content, refreshes. Viewer: reads content only."

func accessRightParam(what string) mcp.ToolOption {
	opts := []mcp.PropertyOption{mcp.Required(), mcp.Enum("Admin", "Member", "Contributor", "Viewer")}
	if what != "" {
		opts = append(opts, mcp.Description(what))
	}
	return mcp.WithString("access_right", opts...)
}

// checkPrincipal rejects an identifier that cannot be right for its principal type, before
// Power BI gives a vaguer answer.
func checkPrincipal(identifier, principalType string) error {
	switch {
	case principalType == "User" && !strings.Contains(identifier, "@"):
		return userErrorf("A user is named by email address (UPN), e.g. someone@contoso.com; %q is not one. For a group or service principal, set principal_type to Group or App.", identifier)
	case principalType != "User" && !guidPattern.MatchString(identifier):
		return userErrorf("A %s is named by its object id (a GUID) in Entra ID; %q is not one.", principalNoun(principalType), identifier)
	}
	return nil
}

func principalNoun(principalType string) string {
	switch principalType {
	case "App":
		return "service principal"
	case "Group":
		return "group"
	}
	return "user"
}

type addWorkspaceUserArgs struct {
	Workspace     string `json:"workspace" schema:"$requiredWorkspace" required:"true"`
	Identifier    string `json:"identifier" schema:"$identifier" required:"true"`
	PrincipalType string `json:"principal_type" required:"true" enum:"User,Group,App"`
	AccessRight   string `json:"access_right" schema:"$accessRightToGive" required:"true"`
}

// WorkspaceUserResult is the answer of add_workspace_user and update_workspace_user.
type WorkspaceUserResult struct {
	Workspace WorkspaceRef  `json:"workspace"`
	User      WorkspaceUser `json:"user" jsonschema:"The principal and the role it has now"`
}

// addWorkspaceUser is add_workspace_user.
func addWorkspaceUser(ctx context.Context, d Deps, a addWorkspaceUserArgs) (WorkspaceUserResult, error) {
	id := strings.TrimSpace(a.Identifier)
	if err := checkPrincipal(id, a.PrincipalType); err != nil {
		return WorkspaceUserResult{}, err
	}
	ws, err := resolveGroup(ctx, d.Client, a.Workspace)
	if err != nil {
		return WorkspaceUserResult{}, err
	}
	u := pbiclient.GroupUser{Identifier: id, PrincipalType: a.PrincipalType, GroupUserAccessRight: a.AccessRight}
	if a.PrincipalType == "User" {
		// Microsoft's own examples name users by emailAddress; sending both suits either reading.
		u.EmailAddress = id
	}
	if err := d.Client.AddGroupUser(ctx, ws.ID, u); err != nil {
		return WorkspaceUserResult{}, err
	}
	return WorkspaceUserResult{Workspace: ws, User: userOf(u)}, nil
}

// findUser returns the workspace's principal with this identifier (or email address), or an
// error saying it is not there.
func findUser(ctx context.Context, c *pbiclient.Client, ws WorkspaceRef, identifier string) (pbiclient.GroupUser, error) {
	users, err := c.ListGroupUsers(ctx, ws.ID, 0, 0)
	if err != nil {
		return pbiclient.GroupUser{}, err
	}
	for _, u := range users {
		if strings.EqualFold(u.Identifier, identifier) || (u.EmailAddress != "" && strings.EqualFold(u.EmailAddress, identifier)) {
			return u, nil
		}
	}
	return pbiclient.GroupUser{}, userErrorf("%q has no access to the workspace %s: list_workspace_users shows who has; add_workspace_user gives access.", identifier, wsLabel(ws))
}

func wsLabel(ws WorkspaceRef) string {
	if ws.Name != "" {
		return fmt.Sprintf("%s (id %s)", ws.Name, ws.ID)
	}
	return ws.ID
}

type updateWorkspaceUserArgs struct {
	Workspace   string `json:"workspace" schema:"$requiredWorkspace" required:"true"`
	Identifier  string `json:"identifier" schema:"$identifier" required:"true"`
	AccessRight string `json:"access_right" schema:"$newAccessRight" required:"true"`
}

// updateWorkspaceUser is update_workspace_user.
func updateWorkspaceUser(ctx context.Context, d Deps, a updateWorkspaceUserArgs) (WorkspaceUserResult, error) {
	ws, err := resolveGroup(ctx, d.Client, a.Workspace)
	if err != nil {
		return WorkspaceUserResult{}, err
	}
	// The service needs the principal type, which the current entry knows.
	u, err := findUser(ctx, d.Client, ws, strings.TrimSpace(a.Identifier))
	if err != nil {
		return WorkspaceUserResult{}, err
	}
	u.GroupUserAccessRight = a.AccessRight
	if err := d.Client.UpdateGroupUser(ctx, ws.ID, pbiclient.GroupUser{Identifier: u.Identifier, PrincipalType: u.PrincipalType,
		GroupUserAccessRight: u.GroupUserAccessRight, EmailAddress: u.EmailAddress}); err != nil {
		return WorkspaceUserResult{}, err
	}
	return WorkspaceUserResult{Workspace: ws, User: userOf(u)}, nil
}

type removeWorkspaceUserArgs struct {
	Workspace  string `json:"workspace" schema:"$requiredWorkspace" required:"true"`
	Identifier string `json:"identifier" schema:"$identifier" required:"true"`
	Confirm    bool   `json:"confirm" schema:"$confirm"`
}

// RemoveWorkspaceUserResult is the answer of remove_workspace_user.
type RemoveWorkspaceUserResult struct {
	Removed   bool          `json:"removed"`
	Workspace WorkspaceRef  `json:"workspace"`
	User      WorkspaceUser `json:"user" jsonschema:"The principal removed, with the role it had"`
}

// removeWorkspaceUser is remove_workspace_user.
func removeWorkspaceUser(ctx context.Context, d Deps, a removeWorkspaceUserArgs) (RemoveWorkspaceUserResult, error) {
	ws, err := resolveGroup(ctx, d.Client, a.Workspace)
	if err != nil {
		return RemoveWorkspaceUserResult{}, err
	}
	ws, err = named(ctx, d.Client, ws)
	if err != nil {
		return RemoveWorkspaceUserResult{}, err
	}
	u, err := findUser(ctx, d.Client, ws, strings.TrimSpace(a.Identifier))
	if err != nil {
		return RemoveWorkspaceUserResult{}, err
	}
	who := u.Identifier
	if u.DisplayName != "" && u.DisplayName != u.Identifier {
		who = fmt.Sprintf("%s (%s)", u.DisplayName, u.Identifier)
	}
	what := fmt.Sprintf("Remove the %s %s, now %s, from the workspace %s.", principalNoun(u.PrincipalType), who, u.GroupUserAccessRight, wsLabel(ws))
	if err := confirmed(ctx, a.Confirm, what); err != nil {
		return RemoveWorkspaceUserResult{}, err
	}
	// The service names users by email address, everyone else by object id.
	key := u.Identifier
	if u.PrincipalType == "User" && u.EmailAddress != "" {
		key = u.EmailAddress
	}
	if err := d.Client.DeleteGroupUser(ctx, ws.ID, key); err != nil {
		return RemoveWorkspaceUserResult{}, err
	}
	return RemoveWorkspaceUserResult{Removed: true, Workspace: ws, User: userOf(u)}, nil
}
