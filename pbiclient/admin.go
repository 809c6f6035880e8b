package pbiclient

import (
	"context"
	"net/url"
	"strconv"
	"strings"
)

// The admin inventory operations read the whole tenant, every workspace included, whether or
// not the caller is a member. They need a Fabric administrator, or a service principal allowed
// by the tenant setting "Service principals can access read-only admin APIs" that holds no
// admin-consent Power BI permissions; otherwise Power BI answers 401
// PowerBINotAuthorizedException. They are rate limited per tenant (see each method).

// AdminGroup is a workspace as the admin APIs return it: with its type, state and, when
// asked for with $expand, its users and items.
type AdminGroup struct {
	Group
	Description string           `json:"description,omitempty"`
	State       string           `json:"state,omitempty"` // "Active", "Deleted", "Removing", ...
	Users       []AdminUser      `json:"users,omitempty"`
	Reports     []AdminReport    `json:"reports,omitempty"`
	Dashboards  []AdminDashboard `json:"dashboards,omitempty"`
	Datasets    []AdminDataset   `json:"datasets,omitempty"`
	Dataflows   []AdminDataflow  `json:"dataflows,omitempty"`
	Workbooks   []Workbook       `json:"workbooks,omitempty"`
}

// AdminUser is a workspace user as the admin APIs return it, with its Entra object id.
type AdminUser struct {
	GroupUser
	GraphID  string `json:"graphId,omitempty"`
	UserType string `json:"userType,omitempty"`
}

// AdminDataset is a semantic model with the workspace it lives in.
type AdminDataset struct {
	Dataset
	WorkspaceID string `json:"workspaceId,omitempty"`
}

// AdminReport is a report with the workspace it lives in.
type AdminReport struct {
	Report
	WorkspaceID      string `json:"workspaceId,omitempty"`
	CreatedBy        string `json:"createdBy,omitempty"`
	ModifiedBy       string `json:"modifiedBy,omitempty"`
	CreatedDateTime  string `json:"createdDateTime,omitempty"`
	ModifiedDateTime string `json:"modifiedDateTime,omitempty"`
}

// AdminDashboard is a dashboard with the workspace it lives in.
type AdminDashboard struct {
	Dashboard
	WorkspaceID string `json:"workspaceId,omitempty"`
}

// AdminDataflow is a dataflow as $expand=dataflows returns it.
type AdminDataflow struct {
	ObjectID     string `json:"objectId"`
	Name         string `json:"name,omitempty"`
	Description  string `json:"description,omitempty"`
	ConfiguredBy string `json:"configuredBy,omitempty"`
	WorkspaceID  string `json:"workspaceId,omitempty"`
}

// Workbook is an Excel workbook in a workspace.
type Workbook struct {
	Name      string `json:"name"`
	DatasetID string `json:"datasetId,omitempty"`
}

// AdminApp is an app with the workspace it was published from.
type AdminApp struct {
	App
	WorkspaceID string `json:"workspaceId,omitempty"`
}

// Capacity is a Premium, Embedded or Fabric capacity.
type Capacity struct {
	ID                      string     `json:"id"`
	DisplayName             string     `json:"displayName,omitempty"`
	Admins                  []string   `json:"admins,omitempty"`
	SKU                     string     `json:"sku,omitempty"`
	State                   string     `json:"state"` // "Active", "Suspended", ...
	CapacityUserAccessRight string     `json:"capacityUserAccessRight,omitempty"`
	Region                  string     `json:"region,omitempty"`
	TenantKeyID             string     `json:"tenantKeyId,omitempty"`
	TenantKey               *TenantKey `json:"tenantKey,omitempty"`
}

// TenantKey is a customer-managed encryption key.
type TenantKey struct {
	ID                    string `json:"id"`
	Name                  string `json:"name,omitempty"`
	KeyVaultKeyIdentifier string `json:"keyVaultKeyIdentifier,omitempty"`
	IsDefault             bool   `json:"isDefault"`
	CreatedAt             string `json:"createdAt,omitempty"`
	UpdatedAt             string `json:"updatedAt,omitempty"`
}

// Refreshable is the refresh statistics of a model on a capacity over a period.
type Refreshable struct {
	ID              string           `json:"id"`
	Name            string           `json:"name,omitempty"`
	Kind            string           `json:"kind,omitempty"` // "Dataset"
	StartTime       string           `json:"startTime,omitempty"`
	EndTime         string           `json:"endTime,omitempty"`
	RefreshCount    int              `json:"refreshCount"`
	RefreshFailures int              `json:"refreshFailures"`
	AverageDuration float64          `json:"averageDuration"` // seconds
	MedianDuration  float64          `json:"medianDuration"`  // seconds
	RefreshesPerDay int              `json:"refreshesPerDay"`
	LastRefresh     *Refresh         `json:"lastRefresh,omitempty"`
	RefreshSchedule *RefreshSchedule `json:"refreshSchedule,omitempty"`
	ConfiguredBy    []string         `json:"configuredBy,omitempty"`
	Capacity        *Capacity        `json:"capacity,omitempty"`
	Group           *Group           `json:"group,omitempty"`
}

// AdminQuery holds the OData options of an admin list. Zero values are not sent, except
// where the operation requires $top (see each method).
type AdminQuery struct {
	Top    int
	Skip   int
	Filter string
	Expand []string
}

func (q AdminQuery) values(requireTop bool) url.Values {
	v := url.Values{}
	if q.Top > 0 || requireTop {
		v.Set("$top", strconv.Itoa(q.Top))
	}
	if q.Skip > 0 {
		v.Set("$skip", strconv.Itoa(q.Skip))
	}
	if q.Filter != "" {
		v.Set("$filter", q.Filter)
	}
	if len(q.Expand) > 0 {
		v.Set("$expand", strings.Join(q.Expand, ","))
	}
	return v
}

// AdminListGroups lists workspaces of the whole tenant (GET admin/groups). $top is required
// by Power BI (1 to 5000) and always sent. Limit: 50 requests per hour or 15 per minute per
// tenant. Expand: users, reports, dashboards, datasets, dataflows, workbooks.
func (c *Client) AdminListGroups(ctx context.Context, q AdminQuery) ([]AdminGroup, error) {
	var out list[AdminGroup]
	if _, err := c.getJSON(ctx, pathOf("admin", "groups"), q.values(true), &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// AdminGetGroup returns one workspace of the tenant (GET admin/groups/{groupId}), with the
// collections named in expand.
func (c *Client) AdminGetGroup(ctx context.Context, groupID string, expand []string) (AdminGroup, error) {
	if err := needID("workspace", groupID); err != nil {
		return AdminGroup{}, err
	}
	var out AdminGroup
	_, err := c.getJSON(ctx, pathOf("admin", "groups", groupID), AdminQuery{Expand: expand}.values(false), &out)
	return out, err
}

// AdminListGroupUsers lists who has access to a workspace of the tenant
// (GET admin/groups/{groupId}/users).
func (c *Client) AdminListGroupUsers(ctx context.Context, groupID string) ([]AdminUser, error) {
	if err := needID("workspace", groupID); err != nil {
		return nil, err
	}
	var out list[AdminUser]
	if _, err := c.getJSON(ctx, pathOf("admin", "groups", groupID, "users"), nil, &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// AdminListDatasets lists the semantic models of the tenant (GET admin/datasets).
// Limit: 50 requests per hour or 5 per minute per tenant.
func (c *Client) AdminListDatasets(ctx context.Context, q AdminQuery) ([]AdminDataset, error) {
	var out list[AdminDataset]
	if _, err := c.getJSON(ctx, pathOf("admin", "datasets"), q.values(false), &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// AdminListReports lists the reports of the tenant (GET admin/reports).
// Limit: 50 requests per hour or 5 per minute per tenant.
func (c *Client) AdminListReports(ctx context.Context, q AdminQuery) ([]AdminReport, error) {
	var out list[AdminReport]
	if _, err := c.getJSON(ctx, pathOf("admin", "reports"), q.values(false), &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// AdminListDashboards lists the dashboards of the tenant (GET admin/dashboards).
// Limit: 50 requests per hour or 5 per minute per tenant.
func (c *Client) AdminListDashboards(ctx context.Context, q AdminQuery) ([]AdminDashboard, error) {
	var out list[AdminDashboard]
	if _, err := c.getJSON(ctx, pathOf("admin", "dashboards"), q.values(false), &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// AdminListApps lists the apps of the tenant (GET admin/apps). $top is required and always
// sent. Limit: 200 requests per hour.
func (c *Client) AdminListApps(ctx context.Context, top, skip int) ([]AdminApp, error) {
	var out list[AdminApp]
	if _, err := c.getJSON(ctx, pathOf("admin", "apps"), AdminQuery{Top: top, Skip: skip}.values(true), &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// AdminListCapacities lists the capacities of the tenant (GET admin/capacities), with their
// encryption keys when withTenantKey is set ($expand=tenantKey). Limit: 200 requests per hour.
func (c *Client) AdminListCapacities(ctx context.Context, withTenantKey bool) ([]Capacity, error) {
	var q AdminQuery
	if withTenantKey {
		q.Expand = []string{"tenantKey"}
	}
	var out list[Capacity]
	if _, err := c.getJSON(ctx, pathOf("admin", "capacities"), q.values(false), &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// AdminListRefreshables lists the refreshable models on the tenant's capacities with their
// refresh statistics (GET admin/capacities/refreshables). $top is required and always sent.
// Expand: capacity, group. Limit: 200 requests per hour.
func (c *Client) AdminListRefreshables(ctx context.Context, q AdminQuery) ([]Refreshable, error) {
	var out list[Refreshable]
	if _, err := c.getJSON(ctx, pathOf("admin", "capacities", "refreshables"), q.values(true), &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}
