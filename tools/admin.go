package tools

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
)

// adminFilterParam is the OData $filter the admin lists pass through to Power BI.
func adminFilterParam(example string) mcp.ToolOption {
	return mcp.WithString("filter",
		mcp.Description("OData $filter applied by Power BI, e.g. "+example+". Strings in single quotes; combine with and/or/not."),
		mcp.MinLength(1), mcp.MaxLength(1000))
}

// AdminUser is a principal with access to a workspace, as the admin APIs report it.
type AdminUser struct {
	Identifier    string `json:"identifier" jsonschema:"UPN of a user, object id of a group or service principal"`
	PrincipalType string `json:"principalType,omitempty"`
	AccessRight   string `json:"groupUserAccessRight"`
	DisplayName   string `json:"displayName,omitempty"`
	EmailAddress  string `json:"emailAddress,omitempty"`
	GraphID       string `json:"graphId,omitempty" jsonschema:"Entra object id"`
}

// AdminItem is a report, dashboard, semantic model or dataflow named in a workspace inventory.
type AdminItem struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// AdminWorkspace is one workspace of the tenant.
type AdminWorkspace struct {
	ID                    string      `json:"id"`
	Name                  string      `json:"name"`
	Type                  string      `json:"type,omitempty" jsonschema:"Workspace, PersonalGroup (someone's My workspace), Personal or Group (classic)"`
	State                 string      `json:"state,omitempty" jsonschema:"Active, Deleted, Removing..."`
	Description           string      `json:"description,omitempty"`
	IsReadOnly            bool        `json:"isReadOnly"`
	IsOnDedicatedCapacity bool        `json:"isOnDedicatedCapacity"`
	CapacityID            string      `json:"capacityId,omitempty"`
	Users                 []AdminUser `json:"users,omitempty"`
	Reports               []AdminItem `json:"reports,omitempty"`
	Dashboards            []AdminItem `json:"dashboards,omitempty"`
	Datasets              []AdminItem `json:"datasets,omitempty"`
	Dataflows             []AdminItem `json:"dataflows,omitempty"`
	Workbooks             []AdminItem `json:"workbooks,omitempty" jsonschema:"Excel workbooks; id is the semantic model behind one"`
}

func adminUserOf(u pbiclient.AdminUser) AdminUser {
	return AdminUser{Identifier: u.Identifier, PrincipalType: u.PrincipalType, AccessRight: u.GroupUserAccessRight,
		DisplayName: u.DisplayName, EmailAddress: u.EmailAddress, GraphID: u.GraphID}
}

func adminWorkspaceOf(g pbiclient.AdminGroup) AdminWorkspace {
	w := AdminWorkspace{ID: g.ID, Name: g.Name, Type: g.Type, State: g.State, Description: g.Description,
		IsReadOnly: g.IsReadOnly, IsOnDedicatedCapacity: g.IsOnDedicatedCapacity, CapacityID: g.CapacityID}
	for _, u := range g.Users {
		w.Users = append(w.Users, adminUserOf(u))
	}
	for _, r := range g.Reports {
		w.Reports = append(w.Reports, AdminItem{ID: r.ID, Name: r.Name})
	}
	for _, d := range g.Dashboards {
		w.Dashboards = append(w.Dashboards, AdminItem{ID: d.ID, Name: d.DisplayName})
	}
	for _, d := range g.Datasets {
		w.Datasets = append(w.Datasets, AdminItem{ID: d.ID, Name: d.Name})
	}
	for _, d := range g.Dataflows {
		w.Dataflows = append(w.Dataflows, AdminItem{ID: d.ObjectID, Name: d.Name})
	}
	for _, b := range g.Workbooks {
		w.Workbooks = append(w.Workbooks, AdminItem{ID: b.DatasetID, Name: b.Name})
	}
	return w
}

func adminExpandParam(what string, values ...string) mcp.ToolOption {
	return mcp.WithArray("expand",
		mcp.Description("What to include with each "+what+"."),
		mcp.MaxItems(len(values)),
		mcp.Items(map[string]any{"type": "string", "enum": values}))
}

var workspaceExpands = []string{"users", "reports", "dashboards", "datasets", "dataflows", "workbooks"}

type adminListWorkspacesArgs struct {
	Top      int      `json:"top" minimum:"1" maximum:"$maxAdminWorkspaces" default:"100"`
	Skip     int      `json:"skip" schema:"$skip"`
	PageSize int      `json:"page_size" jsonschema:"Workspaces per request to Power BI (default 5000, the most it allows). Smaller pages help when expand makes requests time out (30 s)." minimum:"1" maximum:"$adminGroupsMaxTop" default:"$adminGroupsMaxTop"`
	Filter   string   `json:"filter" schema:"$adminWorkspacesFilter"`
	Expand   []string `json:"expand" schema:"$adminWorkspaceExpand"`
}

// AdminListWorkspacesResult is the answer of admin_list_workspaces.
type AdminListWorkspacesResult struct {
	Workspaces []AdminWorkspace `json:"workspaces"`
	Page
	Requests int `json:"requests" jsonschema:"Requests made to Power BI; GET admin/groups allows 15 a minute and 50 an hour per tenant"`
	// Note says why fewer workspaces than asked came back although more exist.
	Note string `json:"note,omitempty"`
}

type adminWorkspaceArgs struct {
	Workspace string   `json:"workspace" schema:"$adminWorkspace" required:"true"`
	Expand    []string `json:"expand" schema:"$adminWorkspaceExpand"`
}

// AdminWorkspaceResult is the answer of admin_get_workspace.
type AdminWorkspaceResult struct {
	Workspace AdminWorkspace `json:"workspace"`
}

type adminWorkspaceUsersArgs struct {
	Workspace string `json:"workspace" schema:"$adminWorkspace" required:"true"`
}

// AdminWorkspaceUsersResult is the answer of admin_list_workspace_users.
type AdminWorkspaceUsersResult struct {
	Workspace ItemRef     `json:"workspace"`
	Users     []AdminUser `json:"users"`
}

type adminListDatasetsArgs struct {
	Top    int    `json:"top" minimum:"1" maximum:"$maxAdminTop" default:"100"`
	Skip   int    `json:"skip" schema:"$skip"`
	Filter string `json:"filter" schema:"$adminDatasetsFilter"`
}

// AdminDataset is a semantic model of the tenant.
type AdminDataset struct {
	ID                string `json:"id"`
	Name              string `json:"name"`
	WorkspaceID       string `json:"workspaceId,omitempty"`
	ConfiguredBy      string `json:"configuredBy,omitempty"`
	IsRefreshable     bool   `json:"isRefreshable"`
	TargetStorageMode string `json:"targetStorageMode,omitempty"`
	CreatedDate       string `json:"createdDate,omitempty"`
	AddRowsAPIEnabled bool   `json:"addRowsAPIEnabled,omitempty" jsonschema:"A push dataset"`
}

// AdminListDatasetsResult is the answer of admin_list_datasets.
type AdminListDatasetsResult struct {
	Datasets []AdminDataset `json:"datasets"`
	Page
}

// AdminReport is a report of the tenant.
type AdminReport struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	WorkspaceID string `json:"workspaceId,omitempty"`
	DatasetID   string `json:"datasetId,omitempty"`
	ReportType  string `json:"reportType,omitempty"`
	WebURL      string `json:"webUrl,omitempty"`
}

type adminListReportsArgs struct {
	Top    int    `json:"top" minimum:"1" maximum:"$maxAdminTop" default:"100"`
	Skip   int    `json:"skip" schema:"$skip"`
	Filter string `json:"filter" schema:"$adminReportsFilter"`
}

// AdminListReportsResult is the answer of admin_list_reports.
type AdminListReportsResult struct {
	Reports []AdminReport `json:"reports"`
	Page
}

// AdminDashboard is a dashboard of the tenant.
type AdminDashboard struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	WorkspaceID string `json:"workspaceId,omitempty"`
	IsReadOnly  bool   `json:"isReadOnly"`
	WebURL      string `json:"webUrl,omitempty"`
}

type adminListDashboardsArgs struct {
	Top    int    `json:"top" minimum:"1" maximum:"$maxAdminTop" default:"100"`
	Skip   int    `json:"skip" schema:"$skip"`
	Filter string `json:"filter" schema:"$adminDashboardsFilter"`
}

// AdminListDashboardsResult is the answer of admin_list_dashboards.
type AdminListDashboardsResult struct {
	Dashboards []AdminDashboard `json:"dashboards"`
	Page
}

type adminPageArgs struct {
	Top  int `json:"top" minimum:"1" maximum:"$maxAdminTop" default:"100"`
	Skip int `json:"skip" schema:"$skip"`
}

// AdminApp is an app of the tenant.
type AdminApp struct {
	App
	WorkspaceID string `json:"workspaceId,omitempty" jsonschema:"The workspace the app is published from"`
}

// AdminListAppsResult is the answer of admin_list_apps.
type AdminListAppsResult struct {
	Apps []AdminApp `json:"apps"`
	Page
}

type adminCapacitiesArgs struct {
	IncludeTenantKey bool `json:"include_tenant_key" jsonschema:"Include each capacity's customer-managed encryption key ($expand=tenantKey)." default:"false"`
}

// AdminCapacity is a capacity of the tenant.
type AdminCapacity struct {
	ID          string   `json:"id"`
	DisplayName string   `json:"displayName,omitempty"`
	SKU         string   `json:"sku,omitempty"`
	State       string   `json:"state"`
	Region      string   `json:"region,omitempty"`
	Admins      []string `json:"admins,omitempty"`
	TenantKeyID string   `json:"tenantKeyId,omitempty" jsonschema:"Customer-managed encryption key, if any"`
	TenantKey   *struct {
		ID                    string `json:"id"`
		Name                  string `json:"name,omitempty"`
		KeyVaultKeyIdentifier string `json:"keyVaultKeyIdentifier,omitempty"`
		IsDefault             bool   `json:"isDefault"`
	} `json:"tenantKey,omitempty"`
}

// AdminListCapacitiesResult is the answer of admin_list_capacities.
type AdminListCapacitiesResult struct {
	Capacities []AdminCapacity `json:"capacities"`
	Count      int             `json:"count"`
}

type adminRefreshablesArgs struct {
	Capacity string   `json:"capacity" jsonschema:"Only this capacity's (id)." minLength:"1"`
	Top      int      `json:"top" minimum:"1" maximum:"$maxAdminTop" default:"100"`
	Skip     int      `json:"skip" schema:"$skip"`
	Filter   string   `json:"filter" schema:"$adminRefreshablesFilter"`
	Expand   []string `json:"expand" schema:"$adminRefreshableExpand"`
}

// AdminRefreshable is the refresh record of a model on a capacity.
type AdminRefreshable struct {
	ID              string   `json:"id"`
	Name            string   `json:"name,omitempty"`
	Kind            string   `json:"kind,omitempty"`
	StartTime       string   `json:"startTime,omitempty" jsonschema:"Start of the period the statistics cover"`
	EndTime         string   `json:"endTime,omitempty"`
	RefreshCount    int      `json:"refreshCount"`
	RefreshFailures int      `json:"refreshFailures"`
	AverageDuration float64  `json:"averageDuration" jsonschema:"Seconds"`
	MedianDuration  float64  `json:"medianDuration" jsonschema:"Seconds"`
	RefreshesPerDay int      `json:"refreshesPerDay"`
	LastStatus      string   `json:"lastRefreshStatus,omitempty" jsonschema:"Status of the latest refresh: Unknown (running), Completed, Failed, Cancelled, Disabled"`
	LastStartTime   string   `json:"lastRefreshStartTime,omitempty"`
	ScheduleEnabled *bool    `json:"scheduleEnabled,omitempty"`
	ConfiguredBy    []string `json:"configuredBy,omitempty"`
	CapacityID      string   `json:"capacityId,omitempty"`
	CapacityName    string   `json:"capacityName,omitempty"`
	WorkspaceID     string   `json:"workspaceId,omitempty"`
	WorkspaceName   string   `json:"workspaceName,omitempty"`
}

// AdminListRefreshablesResult is the answer of admin_list_refreshables.
type AdminListRefreshablesResult struct {
	Refreshables []AdminRefreshable `json:"refreshables"`
	Page
}

// Bounds of admin_list_workspaces: Power BI allows $top up to 5000 per request. A call reads at
// most maxAdminWorkspaces, about as many lean workspaces as the default result budget holds:
// reading more would spend GET admin/groups' quota (15 requests a minute, 50 an hour) on
// workspaces the budget then leaves out.
const (
	adminGroupsMaxTop  = 5000
	maxAdminWorkspaces = 200
)

// maxAdminTop bounds the other admin listings, which pass top to Power BI as $top, for the
// same reason: about as many lean items as the default result budget holds.
const maxAdminTop = 200

// pagedOne asks for one item more than top, so hasMore is known without a second request.
func pagedOne[T any](items []T, top, skip int) ([]T, Page) {
	p := Page{HasMore: len(items) > top}
	if p.HasMore {
		items = items[:top]
		p.NextSkip = skip + top
	}
	p.Count = len(items)
	return items, p
}

// resolveAdminWorkspace reads a workspace argument across the whole tenant: an id as it is,
// a name through $filter, so that one request does it.
func resolveAdminWorkspace(ctx context.Context, c *pbiclient.Client, arg string) (ItemRef, error) {
	return resolveItem(arg, "workspace", "admin_list_workspaces",
		func() ([]pbiclient.AdminGroup, error) {
			return c.AdminListGroups(ctx, pbiclient.AdminQuery{Top: 100,
				Filter: "name eq '" + strings.ReplaceAll(strings.TrimSpace(arg), "'", "''") + "'"})
		},
		func(g pbiclient.AdminGroup) (string, string) { return g.ID, g.Name })
}

func adminWorkspaceParam() mcp.ToolOption {
	return mcp.WithString("workspace", mcp.Required(),
		mcp.Description("As admin_list_workspaces returns it; a name costs one admin/groups request (15 a minute)."),
		mcp.MinLength(1))
}

func adminTools(d Deps) []Tool {
	return []Tool{
		tool(d, "admin", "list the tenant's workspaces", adminListWorkspaces, mcp.NewTool("admin_list_workspaces",
			mcp.WithDescription("List the workspaces of the whole tenant as an administrator: type (Workspace, or PersonalGroup for someone's My workspace), state (Active, Deleted...), capacity and, with expand, users and items. "+
				"For inventory and governance: deleted or personal workspaces, what is on a capacity, with expand users workspaces left without an Admin. "+
				"Reads up to top workspaces in requests of page_size each; "+
				"Power BI allows 15 such requests a minute and 50 an hour per tenant, so filter on the server and keep expand small. "+
				"If Power BI throttles a long listing, the workspaces read so far come back with a note saying when to resume."),
			annotations("List all workspaces of the tenant (admin)", true, false, true))),
		tool(d, "admin", "get the workspace", adminGetWorkspace, mcp.NewTool("admin_get_workspace",
			mcp.WithDescription("Get one workspace of the tenant as an administrator, with its type, state, capacity and, "+
				"with expand, its users, reports, dashboards, semantic models, dataflows and workbooks."),
			annotations("Get any workspace (admin)", true, false, true))),
		tool(d, "admin", "list the workspace's users", adminListWorkspaceUsers, mcp.NewTool("admin_list_workspace_users",
			mcp.WithDescription("List who has access to any workspace of the tenant, as an administrator: users, groups and "+
				"service principals with their role and Entra object id (graphId). Use it to audit access or find who to ask about a workspace."),
			annotations("List any workspace's users (admin)", true, false, true))),
		tool(d, "admin", "list the tenant's semantic models", adminListDatasets, mcp.NewTool("admin_list_datasets",
			mcp.WithDescription("List the semantic models (datasets) of the whole tenant as an administrator, with their workspace, owner "+
				"(configuredBy) and storage mode. Power BI allows 5 such requests a minute and 50 an hour per tenant: filter on the server "+
				"instead of paging through everything."),
			annotations("List all semantic models of the tenant (admin)", true, false, true))),
		tool(d, "admin", "list the tenant's reports", adminListReports, mcp.NewTool("admin_list_reports",
			mcp.WithDescription("List the reports of the whole tenant as an administrator, with their workspace, semantic model and type "+
				"(PowerBIReport or PaginatedReport). Power BI allows 5 such requests a minute and 50 an hour per tenant: filter on the server."),
			annotations("List all reports of the tenant (admin)", true, false, true))),
		tool(d, "admin", "list the tenant's dashboards", adminListDashboards, mcp.NewTool("admin_list_dashboards",
			mcp.WithDescription("List the dashboards of the whole tenant as an administrator, with their workspace. "+
				"Power BI allows 5 such requests a minute and 50 an hour per tenant: filter on the server."),
			annotations("List all dashboards of the tenant (admin)", true, false, true))),
		tool(d, "admin", "list the tenant's apps", adminListApps, mcp.NewTool("admin_list_apps",
			mcp.WithDescription("List the Power BI apps published in the whole tenant as an administrator, with the workspace each is "+
				"published from. Unlike list_apps this works for a service principal. 200 requests an hour per tenant."),
			annotations("List all apps of the tenant (admin)", true, false, true))),
		tool(d, "admin", "list the tenant's capacities", adminListCapacities, mcp.NewTool("admin_list_capacities",
			mcp.WithDescription("List the capacities of the tenant as an administrator: SKU (P1, F64, A1...), state, region, "+
				"admins and, with include_tenant_key, the customer-managed encryption key. 200 requests an hour per tenant."),
			annotations("List the tenant's capacities (admin)", true, false, true))),
		tool(d, "admin", "list the refreshables", adminListRefreshables, mcp.NewTool("admin_list_refreshables",
			mcp.WithDescription("List the refreshable semantic models on the tenant's capacities as an administrator, with refresh statistics: refreshes and failures over the period, average and median duration, refreshes per day, the latest refresh and its status. "+
				"Use it to find failing or slow refreshes across the tenant. Premium, Embedded and Fabric capacities only; 200 requests an hour per tenant."),
			annotations("List refreshables on capacities (admin)", true, false, true))),
	}
}

// adminListWorkspaces is admin_list_workspaces.
func adminListWorkspaces(ctx context.Context, d Deps, a adminListWorkspacesArgs) (AdminListWorkspacesResult, error) {
	limit := defaultInt(a.Top, 100)
	size := defaultInt(a.PageSize, adminGroupsMaxTop)
	var (
		got []pbiclient.AdminGroup
		res AdminListWorkspacesResult
	)
	// One more than the limit is asked for, so that hasMore is known without a request
	// that could come back empty.
	for len(got) <= limit {
		n := min(size, limit+1-len(got))
		page, err := d.Client.AdminListGroups(ctx, pbiclient.AdminQuery{Top: n, Skip: a.Skip + len(got), Filter: a.Filter, Expand: a.Expand})
		res.Requests++
		var ae *pbiclient.APIError
		if err != nil && len(got) > 0 && errors.As(err, &ae) && ae.StatusCode == http.StatusTooManyRequests {
			// What was read is kept: the caller resumes from nextSkip once the wait is over,
			// instead of reading (and spending quota on) the same pages again.
			res.Note = fmt.Sprintf("Power BI throttled the listing after %d workspaces; call again with skip = nextSkip after %d seconds.",
				len(got), int(ae.RetryAfter.Seconds()+0.5))
			break
		}
		if err != nil {
			return AdminListWorkspacesResult{}, err
		}
		got = append(got, page...)
		if len(page) < n {
			break
		}
	}
	items, p := pagedOne(got, limit, a.Skip)
	if res.Note != "" {
		p = Page{Count: len(items), HasMore: true, NextSkip: a.Skip + len(items)}
	}
	res.Page = p
	res.Workspaces = make([]AdminWorkspace, 0, len(items))
	for _, g := range items {
		res.Workspaces = append(res.Workspaces, adminWorkspaceOf(g))
	}
	return res, nil
}

// adminGetWorkspace is admin_get_workspace.
func adminGetWorkspace(ctx context.Context, d Deps, a adminWorkspaceArgs) (AdminWorkspaceResult, error) {
	ref, err := resolveAdminWorkspace(ctx, d.Client, a.Workspace)
	if err != nil {
		return AdminWorkspaceResult{}, err
	}
	g, err := d.Client.AdminGetGroup(ctx, ref.ID, a.Expand)
	if err != nil {
		return AdminWorkspaceResult{}, err
	}
	return AdminWorkspaceResult{Workspace: adminWorkspaceOf(g)}, nil
}

// adminListWorkspaceUsers is admin_list_workspace_users.
func adminListWorkspaceUsers(ctx context.Context, d Deps, a adminWorkspaceUsersArgs) (AdminWorkspaceUsersResult, error) {
	ref, err := resolveAdminWorkspace(ctx, d.Client, a.Workspace)
	if err != nil {
		return AdminWorkspaceUsersResult{}, err
	}
	users, err := d.Client.AdminListGroupUsers(ctx, ref.ID)
	if err != nil {
		return AdminWorkspaceUsersResult{}, err
	}
	res := AdminWorkspaceUsersResult{Workspace: ref, Users: make([]AdminUser, 0, len(users))}
	for _, u := range users {
		res.Users = append(res.Users, adminUserOf(u))
	}
	return res, nil
}

// adminListDatasets is admin_list_datasets.
func adminListDatasets(ctx context.Context, d Deps, a adminListDatasetsArgs) (AdminListDatasetsResult, error) {
	top := defaultInt(a.Top, 100)
	all, err := d.Client.AdminListDatasets(ctx, pbiclient.AdminQuery{Top: top + 1, Skip: a.Skip, Filter: a.Filter})
	if err != nil {
		return AdminListDatasetsResult{}, err
	}
	items, p := pagedOne(all, top, a.Skip)
	res := AdminListDatasetsResult{Datasets: make([]AdminDataset, 0, len(items)), Page: p}
	for _, x := range items {
		res.Datasets = append(res.Datasets, AdminDataset{ID: x.ID, Name: x.Name, WorkspaceID: x.WorkspaceID, ConfiguredBy: x.ConfiguredBy,
			IsRefreshable: x.IsRefreshable, TargetStorageMode: x.TargetStorageMode, CreatedDate: x.CreatedDate, AddRowsAPIEnabled: x.AddRowsAPIEnabled})
	}
	return res, nil
}

// adminListReports is admin_list_reports.
func adminListReports(ctx context.Context, d Deps, a adminListReportsArgs) (AdminListReportsResult, error) {
	top := defaultInt(a.Top, 100)
	all, err := d.Client.AdminListReports(ctx, pbiclient.AdminQuery{Top: top + 1, Skip: a.Skip, Filter: a.Filter})
	if err != nil {
		return AdminListReportsResult{}, err
	}
	items, p := pagedOne(all, top, a.Skip)
	res := AdminListReportsResult{Reports: make([]AdminReport, 0, len(items)), Page: p}
	for _, x := range items {
		res.Reports = append(res.Reports, AdminReport{ID: x.ID, Name: x.Name, WorkspaceID: x.WorkspaceID,
			DatasetID: x.DatasetID, ReportType: x.ReportType, WebURL: x.WebURL})
	}
	return res, nil
}

// adminListDashboards is admin_list_dashboards.
func adminListDashboards(ctx context.Context, d Deps, a adminListDashboardsArgs) (AdminListDashboardsResult, error) {
	top := defaultInt(a.Top, 100)
	all, err := d.Client.AdminListDashboards(ctx, pbiclient.AdminQuery{Top: top + 1, Skip: a.Skip, Filter: a.Filter})
	if err != nil {
		return AdminListDashboardsResult{}, err
	}
	items, p := pagedOne(all, top, a.Skip)
	res := AdminListDashboardsResult{Dashboards: make([]AdminDashboard, 0, len(items)), Page: p}
	for _, x := range items {
		res.Dashboards = append(res.Dashboards, AdminDashboard{ID: x.ID, DisplayName: x.DisplayName,
			WorkspaceID: x.WorkspaceID, IsReadOnly: x.IsReadOnly, WebURL: x.WebURL})
	}
	return res, nil
}

// adminListApps is admin_list_apps.
func adminListApps(ctx context.Context, d Deps, a adminPageArgs) (AdminListAppsResult, error) {
	top := defaultInt(a.Top, 100)
	all, err := d.Client.AdminListApps(ctx, top+1, a.Skip)
	if err != nil {
		return AdminListAppsResult{}, err
	}
	items, p := pagedOne(all, top, a.Skip)
	res := AdminListAppsResult{Apps: make([]AdminApp, 0, len(items)), Page: p}
	for _, x := range items {
		res.Apps = append(res.Apps, AdminApp{App: appOf(x.App), WorkspaceID: x.WorkspaceID})
	}
	return res, nil
}

// adminListCapacities is admin_list_capacities.
func adminListCapacities(ctx context.Context, d Deps, a adminCapacitiesArgs) (AdminListCapacitiesResult, error) {
	caps, err := d.Client.AdminListCapacities(ctx, a.IncludeTenantKey)
	if err != nil {
		return AdminListCapacitiesResult{}, err
	}
	res := AdminListCapacitiesResult{Capacities: make([]AdminCapacity, 0, len(caps)), Count: len(caps)}
	for _, c := range caps {
		ac := AdminCapacity{ID: c.ID, DisplayName: c.DisplayName, SKU: c.SKU, State: c.State, Region: c.Region,
			Admins: c.Admins, TenantKeyID: c.TenantKeyID}
		if k := c.TenantKey; k != nil {
			ac.TenantKey = &struct {
				ID                    string `json:"id"`
				Name                  string `json:"name,omitempty"`
				KeyVaultKeyIdentifier string `json:"keyVaultKeyIdentifier,omitempty"`
				IsDefault             bool   `json:"isDefault"`
			}{k.ID, k.Name, k.KeyVaultKeyIdentifier, k.IsDefault}
		}
		res.Capacities = append(res.Capacities, ac)
	}
	return res, nil
}

// adminListRefreshables is admin_list_refreshables.
func adminListRefreshables(ctx context.Context, d Deps, a adminRefreshablesArgs) (AdminListRefreshablesResult, error) {
	top := defaultInt(a.Top, 100)
	q := pbiclient.AdminQuery{Top: top + 1, Skip: a.Skip, Filter: a.Filter, Expand: a.Expand}
	var (
		all []pbiclient.Refreshable
		err error
	)
	if a.Capacity != "" {
		all, err = d.Client.AdminCapacityRefreshables(ctx, a.Capacity, q)
	} else {
		all, err = d.Client.AdminListRefreshables(ctx, q)
	}
	if err != nil {
		return AdminListRefreshablesResult{}, err
	}
	items, p := pagedOne(all, top, a.Skip)
	res := AdminListRefreshablesResult{Refreshables: make([]AdminRefreshable, 0, len(items)), Page: p}
	for _, x := range items {
		r := AdminRefreshable{ID: x.ID, Name: x.Name, Kind: x.Kind, StartTime: x.StartTime, EndTime: x.EndTime,
			RefreshCount: x.RefreshCount, RefreshFailures: x.RefreshFailures, AverageDuration: x.AverageDuration,
			MedianDuration: x.MedianDuration, RefreshesPerDay: x.RefreshesPerDay, ConfiguredBy: x.ConfiguredBy}
		if x.LastRefresh != nil {
			r.LastStatus, r.LastStartTime = x.LastRefresh.Status, x.LastRefresh.StartTime
		}
		if x.RefreshSchedule != nil {
			r.ScheduleEnabled = &x.RefreshSchedule.Enabled
		}
		if x.Capacity != nil {
			r.CapacityID, r.CapacityName = x.Capacity.ID, x.Capacity.DisplayName
		}
		if x.Group != nil {
			r.WorkspaceID, r.WorkspaceName = x.Group.ID, x.Group.Name
		}
		res.Refreshables = append(res.Refreshables, r)
	}
	return res, nil
}
