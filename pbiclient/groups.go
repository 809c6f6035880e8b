package pbiclient

import (
	"context"
	"errors"
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
	if _, err := c.getJSON(ctx, "/groups", q, &out); err != nil {
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
