package pbiclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// Group is a Power BI workspace.
type Group struct {
	ID                          string `json:"id"`
	Name                        string `json:"name"`
	Type                        string `json:"type,omitempty"` // "Workspace", "PersonalGroup", ...
	CapacityID                  string `json:"capacityId,omitempty"`
	DefaultDatasetStorageFormat string `json:"defaultDatasetStorageFormat,omitempty"` // "Small" or "Large", on capacity only
	IsReadOnly                  bool   `json:"isReadOnly"`
	IsOnDedicatedCapacity       bool   `json:"isOnDedicatedCapacity"`
	DataflowStorageID           string `json:"dataflowStorageId,omitempty"` // the workspace's dataflow storage account, if assigned
}

// ListGroupsOptions are the OData options of GET /groups. Zero values are not sent.
type ListGroupsOptions struct {
	Filter string // OData $filter, e.g. "name eq 'Sales'" or "contains(name,'fin')"
	Top    int
	Skip   int
}

// ListGroups lists the workspaces the caller can access (My workspace is not among them).
func (c *Client) ListGroups(ctx context.Context, opts ListGroupsOptions) ([]Group, error) {
	if opts.Top < 0 || opts.Skip < 0 {
		return nil, errors.New("pbiclient: ListGroups: Top and Skip must not be negative")
	}
	q := url.Values{}
	if opts.Filter != "" {
		q.Set("$filter", opts.Filter)
	}
	if opts.Top > 0 {
		q.Set("$top", strconv.Itoa(opts.Top))
	}
	if opts.Skip > 0 {
		q.Set("$skip", strconv.Itoa(opts.Skip))
	}
	var out list[Group]
	if _, err := c.getJSON(ctx, pathOf("groups"), q, &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// GetGroup returns one workspace. My workspace has no group object, so groupID is required.
func (c *Client) GetGroup(ctx context.Context, groupID string) (Group, error) {
	if err := needID("workspace", groupID); err != nil {
		return Group{}, err
	}
	var g Group
	if _, err := c.getJSON(ctx, workspacePath(groupID), nil, &g); err != nil {
		return Group{}, err
	}
	return g, nil
}

// CreateGroup creates a workspace named name; the caller becomes its Admin. Names are unique in
// the organization: a taken name fails with 400 PowerBIEntityAlreadyExists. Like every POST it
// is not re-sent after a failure that may have reached the service.
func (c *Client) CreateGroup(ctx context.Context, name string) (Group, error) {
	if name == "" {
		return Group{}, errors.New("pbiclient: CreateGroup: name is required")
	}
	// workspaceV2=true asks for a (new) workspace explicitly; it is the only value accepted.
	q := url.Values{"workspaceV2": {"true"}}
	var g Group
	if _, err := c.sendJSON(ctx, http.MethodPost, pathOf("groups"), q, groupCreationRequest{Name: name}, &g); err != nil {
		return Group{}, err
	}
	return g, nil
}

type groupCreationRequest struct {
	Name string `json:"name"`
}

// UpdateGroupRequest changes a workspace. Empty fields are left as they are. On shared capacity
// only the name can change.
type UpdateGroupRequest struct {
	Name                        string `json:"name,omitempty"`
	DefaultDatasetStorageFormat string `json:"defaultDatasetStorageFormat,omitempty"` // "Small" or "Large"
}

// UpdateGroup renames a workspace or sets its default storage format.
func (c *Client) UpdateGroup(ctx context.Context, groupID string, req UpdateGroupRequest) error {
	if err := needID("workspace", groupID); err != nil {
		return err
	}
	if req == (UpdateGroupRequest{}) {
		return errors.New("pbiclient: UpdateGroup: nothing to update")
	}
	_, err := c.sendJSON(ctx, http.MethodPatch, workspacePath(groupID), nil, req, nil)
	return err
}

// DeleteGroup deletes a workspace and everything in it.
func (c *Client) DeleteGroup(ctx context.Context, groupID string) error {
	if err := needID("workspace", groupID); err != nil {
		return err
	}
	_, err := c.sendJSON(ctx, http.MethodDelete, workspacePath(groupID), nil, nil, nil)
	return err
}

// GroupUser is a principal with access to a workspace.
type GroupUser struct {
	// Identifier is the UPN (email) of a user, or the object id of an Entra group or service
	// principal.
	Identifier    string `json:"identifier"`
	PrincipalType string `json:"principalType"` // "User", "Group" or "App" (service principal)
	// GroupUserAccessRight is "Admin", "Member", "Contributor" or "Viewer".
	GroupUserAccessRight string `json:"groupUserAccessRight"`
	EmailAddress         string `json:"emailAddress,omitempty"` // users only
	DisplayName          string `json:"displayName,omitempty"`
}

// ListGroupUsers lists the principals with access to a workspace, paged by $top and $skip
// (zero values are not sent).
func (c *Client) ListGroupUsers(ctx context.Context, groupID string, top, skip int) ([]GroupUser, error) {
	if err := needID("workspace", groupID); err != nil {
		return nil, err
	}
	if top < 0 || skip < 0 {
		return nil, errors.New("pbiclient: ListGroupUsers: top and skip must not be negative")
	}
	q := url.Values{}
	if top > 0 {
		q.Set("$top", strconv.Itoa(top))
	}
	if skip > 0 {
		q.Set("$skip", strconv.Itoa(skip))
	}
	var out list[GroupUser]
	if _, err := c.getJSON(ctx, workspacePath(groupID, "users"), q, &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// AddGroupUser gives a principal access to a workspace. A principal already there fails with
// 400 AddingAlreadyExistsGroupUserNotSupportedError: change its access with UpdateGroupUser.
func (c *Client) AddGroupUser(ctx context.Context, groupID string, u GroupUser) error {
	return c.groupUserCall(ctx, http.MethodPost, "AddGroupUser", groupID, u)
}

// UpdateGroupUser changes the access right of a principal already in a workspace.
func (c *Client) UpdateGroupUser(ctx context.Context, groupID string, u GroupUser) error {
	return c.groupUserCall(ctx, http.MethodPut, "UpdateGroupUser", groupID, u)
}

func (c *Client) groupUserCall(ctx context.Context, method, op, groupID string, u GroupUser) error {
	if err := needID("workspace", groupID); err != nil {
		return err
	}
	if u.Identifier == "" || u.PrincipalType == "" || u.GroupUserAccessRight == "" {
		return fmt.Errorf("pbiclient: %s: Identifier, PrincipalType and GroupUserAccessRight are required", op)
	}
	_, err := c.sendJSON(ctx, method, workspacePath(groupID, "users"), nil, u, nil)
	return err
}

// DeleteGroupUser removes a principal from a workspace. user is the email address of a user or
// the object id of a group or service principal.
func (c *Client) DeleteGroupUser(ctx context.Context, groupID, user string) error {
	if err := needID("workspace", groupID); err != nil {
		return err
	}
	if err := needID("user", user); err != nil {
		return err
	}
	_, err := c.sendJSON(ctx, http.MethodDelete, workspacePath(groupID, "users", user), nil, nil, nil)
	return err
}
