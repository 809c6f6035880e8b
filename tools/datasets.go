package tools

import (
	"context"
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
)

// Dataset is one semantic model as the tools report it.
type Dataset struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	ConfiguredBy  string `json:"configuredBy,omitempty" jsonschema:"The owner: the user or service principal whose credentials the model uses"`
	IsRefreshable bool   `json:"isRefreshable" jsonschema:"False for push and live-connection models, which refresh_dataset cannot refresh"`
	// Shown in lists too: a service principal cannot query such a model with DAX.
	IsEffectiveIdentityRequired bool   `json:"isEffectiveIdentityRequired" jsonschema:"True for a model with row-level security or SSO: embedding needs an effective identity, and a service principal cannot query it"`
	TargetStorageMode           string `json:"targetStorageMode,omitempty" jsonschema:"Abf (small) or PremiumFiles (large storage format)"`
	CreatedDate                 string `json:"createdDate,omitempty"`
	WebURL                      string `json:"webUrl,omitempty"`
}

type listDatasetsArgs struct {
	Workspace string `json:"workspace" schema:"$workspace"`
	Top       int    `json:"top" minimum:"1" maximum:"1000" default:"100"`
	Skip      int    `json:"skip" schema:"$skip"`
}

// ListDatasetsResult is the answer of list_datasets.
type ListDatasetsResult struct {
	Workspace WorkspaceRef `json:"workspace"`
	Datasets  []Dataset    `json:"datasets"`
	Page
}

// DatasetDetails is everything get_dataset reports about one semantic model.
type DatasetDetails struct {
	Dataset
	Description                      string                 `json:"description,omitempty"`
	ContentProviderType              string                 `json:"contentProviderType,omitempty" jsonschema:"How the model was made, e.g. PbixInImportMode, PbixInDirectQueryMode, RealTime"`
	AddRowsAPIEnabled                bool                   `json:"addRowsAPIEnabled" jsonschema:"True for push datasets, whose rows arrive through the API"`
	IsEffectiveIdentityRolesRequired bool                   `json:"isEffectiveIdentityRolesRequired"`
	IsOnPremGatewayRequired          bool                   `json:"isOnPremGatewayRequired" jsonschema:"True when refreshes go through an on-premises data gateway"`
	QueryScaleOutSettings            *QueryScaleOutSettings `json:"queryScaleOutSettings,omitempty"`
	UpstreamDataflows                []DependentDataflow    `json:"upstreamDataflows,omitempty" jsonschema:"Dataflows the model reads from"`
}

// QueryScaleOutSettings is a model's query scale-out configuration.
type QueryScaleOutSettings struct {
	AutoSyncReadOnlyReplicas bool `json:"autoSyncReadOnlyReplicas" jsonschema:"Whether read-only replicas are synchronised automatically"`
	MaxReadOnlyReplicas      int  `json:"maxReadOnlyReplicas" jsonschema:"0 to 64 read-only replicas; -1 lets Power BI decide"`
}

// DependentDataflow is a dataflow a model reads from.
type DependentDataflow struct {
	TargetDataflowID string `json:"targetDataflowId"`
	GroupID          string `json:"groupId" jsonschema:"The dataflow's workspace"`
}

type datasetArgs struct {
	Workspace string `json:"workspace" schema:"$workspace"`
	Dataset   string `json:"dataset" schema:"$dataset" required:"true"`
}

// GetDatasetResult is the answer of get_dataset.
type GetDatasetResult struct {
	Workspace WorkspaceRef   `json:"workspace"`
	Dataset   DatasetDetails `json:"dataset"`
}

type updateDatasetArgs struct {
	Workspace                string `json:"workspace" schema:"$workspace"`
	Dataset                  string `json:"dataset" schema:"$dataset" required:"true"`
	TargetStorageMode        string `json:"target_storage_mode" jsonschema:"Abf (small storage format) or PremiumFiles (large storage format)." enum:"Abf,PremiumFiles"`
	AutoSyncReadOnlyReplicas *bool  `json:"auto_sync_read_only_replicas" jsonschema:"Query scale-out: whether read-only replicas are synchronised automatically after a refresh."`
	MaxReadOnlyReplicas      *int   `json:"max_read_only_replicas" jsonschema:"Query scale-out: the most read-only replicas, 0 to 64; -1 lets Power BI decide; 0 turns scale-out off." minimum:"-1" maximum:"64"`
}

// UpdateDatasetResult is the answer of update_dataset: the model as Power BI reports it after the change.
type UpdateDatasetResult struct {
	Workspace WorkspaceRef   `json:"workspace"`
	Dataset   DatasetDetails `json:"dataset"`
	Message   string         `json:"message"`
}

type deleteDatasetArgs struct {
	Workspace string `json:"workspace" schema:"$workspace"`
	Dataset   string `json:"dataset" schema:"$dataset" required:"true"`
	Confirm   bool   `json:"confirm" schema:"$confirm"`
}

// takeOverDatasetArgs differs from deleteDatasetArgs in its workspace, which is required.
type takeOverDatasetArgs struct {
	Workspace string `json:"workspace" schema:"$datasetsGroupWorkspace" required:"true"`
	Dataset   string `json:"dataset" schema:"$dataset" required:"true"`
	Confirm   bool   `json:"confirm" schema:"$confirm"`
}

// DeleteDatasetResult is the answer of delete_dataset.
type DeleteDatasetResult struct {
	Workspace WorkspaceRef `json:"workspace"`
	Dataset   ItemRef      `json:"dataset"`
	Deleted   bool         `json:"deleted"`
	Message   string       `json:"message"`
}

// TakeOverResult is the answer of take_over_dataset.
type TakeOverResult struct {
	Workspace     WorkspaceRef `json:"workspace"`
	Dataset       ItemRef      `json:"dataset"`
	PreviousOwner string       `json:"previousOwner,omitempty" jsonschema:"configuredBy before the take-over"`
	ConfiguredBy  string       `json:"configuredBy" jsonschema:"The owner now: the identity this server signs in as"`
	Message       string       `json:"message"`
}

// The list tools of a model differ only in what their top counts.

type datasetDatasourcesArgs struct {
	Workspace string `json:"workspace" schema:"$workspace"`
	Dataset   string `json:"dataset" schema:"$dataset" required:"true"`
	Top       int    `json:"top" minimum:"1" maximum:"1000" default:"100"`
	Skip      int    `json:"skip" schema:"$skip"`
}

type datasetParametersArgs struct {
	Workspace string `json:"workspace" schema:"$workspace"`
	Dataset   string `json:"dataset" schema:"$dataset" required:"true"`
	Top       int    `json:"top" minimum:"1" maximum:"1000" default:"100"`
	Skip      int    `json:"skip" schema:"$skip"`
}

type datasetUsersArgs struct {
	Workspace string `json:"workspace" schema:"$workspace"`
	Dataset   string `json:"dataset" schema:"$dataset" required:"true"`
	Top       int    `json:"top" minimum:"1" maximum:"1000" default:"100"`
	Skip      int    `json:"skip" schema:"$skip"`
}

// Datasource is one data source of a model.
type Datasource struct {
	DatasourceType    string            `json:"datasourceType,omitempty" jsonschema:"e.g. Sql, AnalysisServices, File, OData, SharePointList, Web"`
	ConnectionDetails map[string]string `json:"connectionDetails" jsonschema:"The connection fields the source has: server, database, url, path, kind, account, domain, emailAddress, loginServer, classInfo"`
	DatasourceID      string            `json:"datasourceId,omitempty" jsonschema:"The gateway data source id; empty when not bound to a gateway"`
	GatewayID         string            `json:"gatewayId,omitempty" jsonschema:"The bound gateway (cluster) id; empty when not bound to a gateway"`
}

// ListDatasourcesResult is the answer of list_datasources.
type ListDatasourcesResult struct {
	Workspace   WorkspaceRef `json:"workspace"`
	Dataset     ItemRef      `json:"dataset"`
	Datasources []Datasource `json:"datasources"`
	Page
}

// DatasetParameter is one Power Query parameter of a model.
type DatasetParameter struct {
	Name            string   `json:"name" jsonschema:"Case-sensitive"`
	Type            string   `json:"type" jsonschema:"Text, Number, DateTime, Date, Time, Logical, Duration, Any or Binary; Any and Binary cannot be updated"`
	IsRequired      bool     `json:"isRequired" jsonschema:"A required parameter cannot be set to an empty value"`
	CurrentValue    string   `json:"currentValue"`
	SuggestedValues []string `json:"suggestedValues,omitempty"`
}

// ListDatasetParametersResult is the answer of list_dataset_parameters.
type ListDatasetParametersResult struct {
	Workspace  WorkspaceRef       `json:"workspace"`
	Dataset    ItemRef            `json:"dataset"`
	Parameters []DatasetParameter `json:"parameters"`
	Page
}

// DatasetUser is a principal's permission on a model.
type DatasetUser struct {
	Identifier             string `json:"identifier" jsonschema:"UPN for users; object id for groups and apps"`
	PrincipalType          string `json:"principalType" jsonschema:"User, Group, App, or None (the whole organisation)"`
	DatasetUserAccessRight string `json:"datasetUserAccessRight" jsonschema:"Read combined with Write, Reshare and Explore (Explore is Build permission), e.g. ReadReshareExplore"`
}

// ListDatasetUsersResult is the answer of list_dataset_users.
type ListDatasetUsersResult struct {
	Workspace WorkspaceRef  `json:"workspace"`
	Dataset   ItemRef       `json:"dataset"`
	Users     []DatasetUser `json:"users"`
	Page
}

type grantAccessArgs struct {
	Workspace     string `json:"workspace" schema:"$workspace"`
	Dataset       string `json:"dataset" schema:"$dataset" required:"true"`
	Identifier    string `json:"identifier" required:"true" jsonschema:"For a user, the user principal name (e.g. megan@contoso.com); for a group, its Microsoft Entra object id." minLength:"1" pattern:"$datasetsPathSegment"`
	PrincipalType string `json:"principal_type" required:"true" jsonschema:"User or Group." enum:"User,Group"`
	AccessRight   string `json:"access_right" required:"true" jsonschema:"Read, ReadReshare, ReadExplore (Read + Build) or ReadReshareExplore." enum:"Read,ReadReshare,ReadExplore,ReadReshareExplore"`
}

// GrantDatasetAccessResult is the answer of grant_dataset_access.
type GrantDatasetAccessResult struct {
	Workspace WorkspaceRef `json:"workspace"`
	Dataset   ItemRef      `json:"dataset"`
	Granted   DatasetUser  `json:"granted"`
	Message   string       `json:"message"`
}

type upstreamDataflowsArgs struct {
	Workspace string `json:"workspace" schema:"$datasetsGroupWorkspace" required:"true"`
	Top       int    `json:"top" minimum:"1" maximum:"1000" default:"100"`
	Skip      int    `json:"skip" schema:"$skip"`
}

// DatasetDataflowLink says that a model reads from a dataflow.
type DatasetDataflowLink struct {
	DatasetObjectID   string `json:"datasetObjectId" jsonschema:"The semantic model"`
	DataflowObjectID  string `json:"dataflowObjectId" jsonschema:"The dataflow it reads from"`
	WorkspaceObjectID string `json:"workspaceObjectId" jsonschema:"The dataflow's workspace"`
}

// ListUpstreamDataflowsResult is the answer of list_upstream_dataflows.
type ListUpstreamDataflowsResult struct {
	Workspace WorkspaceRef          `json:"workspace"`
	Links     []DatasetDataflowLink `json:"links"`
	Page
}

func datasetTools(d Deps) []Tool {
	return []Tool{
		tool(d, "datasets", "list semantic models", listDatasets, mcp.NewTool("list_datasets",
			mcp.WithDescription("List the semantic models (datasets) in a workspace, with their ids, names, owners and whether they can be refreshed."),
			annotations("List semantic models", true, false, true))),
		tool(d, "datasets", "read the semantic model", getDataset, mcp.NewTool("get_dataset",
			mcp.WithDescription("Read one semantic model: owner (configuredBy), storage format (Abf small or PremiumFiles large), query scale-out settings, "+
				"whether it needs a gateway or an effective identity, and the dataflows it reads from."),
			annotations("Get a semantic model", true, false, true))),
		tool(d, "dataset_admin", "update the semantic model", updateDataset, mcp.NewTool("update_dataset",
			mcp.WithDescription("Change a semantic model's storage format (target_storage_mode: "+
				"PremiumFiles is the large format, Abf the small one) or query scale-out (read-only replicas that answer queries; needs the large format), then read it back. "+
				"Needs a Premium, PPU or Fabric capacity, and the caller must own the model (configuredBy; see take_over_dataset)."),
			annotations("Update a semantic model's settings", false, false, true))),
		tool(d, "dataset_admin", "delete the semantic model", deleteDataset, mcp.NewTool("delete_dataset",
			mcp.WithDescription("Delete a semantic model for good, together with the reports built on it and the dashboard tiles that show them. "+
				"There is no undo. "+
				"Needs a Contributor, Member or Admin role in the workspace."),
			annotations("Delete a semantic model", false, true, true))),
		tool(d, "dataset_admin", "take over the semantic model", takeOverDataset, mcp.NewTool("take_over_dataset",
			mcp.WithDescription("Make the identity this server signs in as the owner (configuredBy) of a semantic model, as changes only the owner may make need (update_dataset_parameters, update_dataset). "+
				"The model's data source credentials become the new owner's, so refreshes may fail until they are set again. "+
				"Needs Contributor or higher in the workspace."),
			annotations("Take over a semantic model", false, true, true))),
		tool(d, "datasets", "list the data sources", listDatasources, mcp.NewTool("list_datasources",
			mcp.WithDescription("List the data sources of a semantic model: type (Sql, AnalysisServices, File, OData, SharePointList, ...), connection details (server, database, url, path, ...) "+
				"and, when bound to a gateway, the gateway and gateway data source ids."),
			annotations("List a semantic model's data sources", true, false, true))),
		tool(d, "datasets", "list the parameters", listDatasetParameters, mcp.NewTool("list_dataset_parameters",
			mcp.WithDescription("List the Power Query parameters of a semantic model: name, type, whether required, current value and suggested values. "+
				"Not supported for models with SQL, Oracle, Teradata or SAP HANA DirectQuery connections or models changed through the XMLA endpoint."),
			annotations("List a semantic model's parameters", true, false, true))),
		tool(d, "dataset_admin", "change the connections", updateDatasetParameters, mcp.NewTool("update_dataset_parameters",
			mcp.WithDescription("Change what a semantic model connects to, applied in this order: "+
				"connection_string (DirectQuery models on SQL or Analysis Services); "+
				"datasources (same type; SQL, Analysis Services, OData, SharePoint, Teradata, SAP HANA); "+
				"updates (Power Query parameters, all or none; not Any or Binary). "+
				"The answer or error says which were applied. Owner only (take_over_dataset). The data changes at the next refresh_dataset."),
			annotations("Change a semantic model's connections", false, true, true))),
		tool(d, "datasets", "list the semantic model's users", listDatasetUsers, mcp.NewTool("list_dataset_users",
			mcp.WithDescription("List who has permission on a semantic model and which: users, groups and apps with Read, Write, Reshare and Explore (Build) rights. "+
				"Needs Reshare rights on the model, or a Member, Contributor or Admin role in its workspace. Recent changes can take a while to show."),
			annotations("List a semantic model's users", true, false, true))),
		tool(d, "dataset_admin", "grant access to the semantic model", grantDatasetAccess, mcp.NewTool("grant_dataset_access",
			mcp.WithDescription("Give a user or security group permission on a semantic model: "+
				"Read, ReadReshare (may share it), ReadExplore (Explore is Build: build reports, run DAX) or ReadReshareExplore. "+
				"Rights already held are kept: it never removes or lowers access and cannot grant Write. Not for service principals. Needs Reshare rights on the model. "+
				"Changes can take a while to show in list_dataset_users."),
			annotations("Grant access to a semantic model", false, false, true))),
		tool(d, "dataset_admin", "set access to the semantic model", setDatasetAccess, mcp.NewTool("set_dataset_access",
			mcp.WithDescription("Set a user's or group's permission on a semantic model, replacing what they have: lower it, or remove it with None. "+
				"Write and workspace roles are not changed this way. Needs Reshare rights on the model."),
			annotations("Set access to a semantic model", false, true, true))),
		tool(d, "datasets", "list the upstream dataflows", listUpstreamDataflows, mcp.NewTool("list_upstream_dataflows",
			mcp.WithDescription("List which semantic models of a workspace read from which dataflows (dataset id, dataflow id, the dataflow's workspace). "+
				"It shows what a dataflow change or failure affects."),
			annotations("List models' upstream dataflows", true, false, true))),
	}
}

// listDatasets is list_datasets.
func listDatasets(ctx context.Context, d Deps, a listDatasetsArgs) (ListDatasetsResult, error) {
	ws, err := resolveWorkspace(ctx, d.Client, a.Workspace)
	if err != nil {
		return ListDatasetsResult{}, err
	}
	all, err := d.Client.ListDatasets(ctx, ws.ID)
	if err != nil {
		return ListDatasetsResult{}, err
	}
	items, page := pageOf(all, defaultInt(a.Top, 100), a.Skip)
	res := ListDatasetsResult{Workspace: ws, Datasets: make([]Dataset, 0, len(items)), Page: page}
	for _, ds := range items {
		res.Datasets = append(res.Datasets, datasetOf(ds))
	}
	return res, nil
}

// getDataset is get_dataset.
func getDataset(ctx context.Context, d Deps, a datasetArgs) (GetDatasetResult, error) {
	ws, ds, err := datasetTarget(ctx, d.Client, a.Workspace, a.Dataset)
	if err != nil {
		return GetDatasetResult{}, err
	}
	got, err := d.Client.GetDataset(ctx, ws.ID, ds.ID)
	if err != nil {
		return GetDatasetResult{}, err
	}
	return GetDatasetResult{Workspace: ws, Dataset: datasetDetailsOf(got)}, nil
}

// updateDataset is update_dataset.
func updateDataset(ctx context.Context, d Deps, a updateDatasetArgs) (UpdateDatasetResult, error) {
	if a.TargetStorageMode == "" && a.AutoSyncReadOnlyReplicas == nil && a.MaxReadOnlyReplicas == nil {
		return UpdateDatasetResult{}, userErrorf("Nothing to change: give target_storage_mode, auto_sync_read_only_replicas or max_read_only_replicas.")
	}
	ws, ds, err := datasetTarget(ctx, d.Client, a.Workspace, a.Dataset)
	if err != nil {
		return UpdateDatasetResult{}, err
	}
	req := pbiclient.UpdateDatasetRequest{TargetStorageMode: a.TargetStorageMode}
	if a.AutoSyncReadOnlyReplicas != nil || a.MaxReadOnlyReplicas != nil {
		req.QueryScaleOutSettings = &pbiclient.QueryScaleOutSettingsPatch{
			AutoSyncReadOnlyReplicas: a.AutoSyncReadOnlyReplicas, MaxReadOnlyReplicas: a.MaxReadOnlyReplicas}
	}
	if err := d.Client.UpdateDataset(ctx, ws.ID, ds.ID, req); err != nil {
		return UpdateDatasetResult{}, err
	}
	got, err := d.Client.GetDataset(ctx, ws.ID, ds.ID)
	if err != nil {
		return UpdateDatasetResult{}, err
	}
	return UpdateDatasetResult{Workspace: ws, Dataset: datasetDetailsOf(got), Message: "The semantic model was updated; dataset shows it as Power BI now reports it."}, nil
}

// deleteDataset is delete_dataset.
func deleteDataset(ctx context.Context, d Deps, a deleteDatasetArgs) (DeleteDatasetResult, error) {
	ws, ds, err := datasetTarget(ctx, d.Client, a.Workspace, a.Dataset)
	if err != nil {
		return DeleteDatasetResult{}, err
	}
	// Read the model first: the confirmation must name it, and a wrong id fails here, before the user is asked.
	got, err := d.Client.GetDataset(ctx, ws.ID, ds.ID)
	if err != nil {
		return DeleteDatasetResult{}, err
	}
	ds.Name = got.Name
	if err := confirmed(ctx, a.Confirm, fmt.Sprintf("Delete the semantic model %s (id %s) from %s, with every report built on it.", got.Name, ds.ID, workspaceLabel(ws))); err != nil {
		return DeleteDatasetResult{}, err
	}
	if err := d.Client.DeleteDataset(ctx, ws.ID, ds.ID); err != nil {
		return DeleteDatasetResult{}, err
	}
	return DeleteDatasetResult{Workspace: ws, Dataset: ds, Deleted: true, Message: "The semantic model and the reports built on it were deleted."}, nil
}

// takeOverDataset is take_over_dataset.
func takeOverDataset(ctx context.Context, d Deps, a takeOverDatasetArgs) (TakeOverResult, error) {
	ws, ds, err := datasetTarget(ctx, d.Client, a.Workspace, a.Dataset)
	if err != nil {
		return TakeOverResult{}, err
	}
	if ws.MyWorkspace {
		return TakeOverResult{}, userErrorf("take_over_dataset needs a workspace: Power BI has no take-over for My workspace, where the caller already owns every model.")
	}
	before, err := d.Client.GetDataset(ctx, ws.ID, ds.ID)
	if err != nil {
		return TakeOverResult{}, err
	}
	ds.Name = before.Name
	if err := confirmed(ctx, a.Confirm, fmt.Sprintf("Take over the semantic model %s (id %s) in %s from its owner %s; its data source credentials will have to be set again for the new owner.",
		before.Name, ds.ID, workspaceLabel(ws), orUnknown(before.ConfiguredBy))); err != nil {
		return TakeOverResult{}, err
	}
	if err := d.Client.TakeOverDataset(ctx, ws.ID, ds.ID); err != nil {
		return TakeOverResult{}, err
	}
	after, err := d.Client.GetDataset(ctx, ws.ID, ds.ID)
	if err != nil {
		return TakeOverResult{}, err
	}
	return TakeOverResult{Workspace: ws, Dataset: ds, PreviousOwner: before.ConfiguredBy, ConfiguredBy: after.ConfiguredBy,
		Message: "The semantic model is now owned by this server's identity. Check its data source credentials before the next refresh."}, nil
}

// listDatasources is list_datasources.
func listDatasources(ctx context.Context, d Deps, a datasetDatasourcesArgs) (ListDatasourcesResult, error) {
	ws, ds, err := datasetTarget(ctx, d.Client, a.Workspace, a.Dataset)
	if err != nil {
		return ListDatasourcesResult{}, err
	}
	all, err := d.Client.ListDatasources(ctx, ws.ID, ds.ID)
	if err != nil {
		return ListDatasourcesResult{}, err
	}
	items, page := pageOf(all, defaultInt(a.Top, 100), a.Skip)
	res := ListDatasourcesResult{Workspace: ws, Dataset: ds, Datasources: make([]Datasource, 0, len(items)), Page: page}
	for _, s := range items {
		res.Datasources = append(res.Datasources, datasourceOf(s))
	}
	return res, nil
}

// listDatasetParameters is list_dataset_parameters.
func listDatasetParameters(ctx context.Context, d Deps, a datasetParametersArgs) (ListDatasetParametersResult, error) {
	ws, ds, err := datasetTarget(ctx, d.Client, a.Workspace, a.Dataset)
	if err != nil {
		return ListDatasetParametersResult{}, err
	}
	all, err := d.Client.ListDatasetParameters(ctx, ws.ID, ds.ID)
	if err != nil {
		return ListDatasetParametersResult{}, err
	}
	items, page := pageOf(all, defaultInt(a.Top, 100), a.Skip)
	return ListDatasetParametersResult{Workspace: ws, Dataset: ds, Parameters: parametersOf(items), Page: page}, nil
}

// listDatasetUsers is list_dataset_users.
func listDatasetUsers(ctx context.Context, d Deps, a datasetUsersArgs) (ListDatasetUsersResult, error) {
	ws, ds, err := datasetTarget(ctx, d.Client, a.Workspace, a.Dataset)
	if err != nil {
		return ListDatasetUsersResult{}, err
	}
	all, err := d.Client.ListDatasetUsers(ctx, ws.ID, ds.ID)
	if err != nil {
		return ListDatasetUsersResult{}, err
	}
	items, page := pageOf(all, defaultInt(a.Top, 100), a.Skip)
	res := ListDatasetUsersResult{Workspace: ws, Dataset: ds, Users: make([]DatasetUser, 0, len(items)), Page: page}
	for _, u := range items {
		res.Users = append(res.Users, DatasetUser(u))
	}
	return res, nil
}

// grantDatasetAccess is grant_dataset_access.
func grantDatasetAccess(ctx context.Context, d Deps, a grantAccessArgs) (GrantDatasetAccessResult, error) {
	ws, ds, err := datasetTarget(ctx, d.Client, a.Workspace, a.Dataset)
	if err != nil {
		return GrantDatasetAccessResult{}, err
	}
	grant := pbiclient.DatasetUser{Identifier: strings.TrimSpace(a.Identifier), PrincipalType: a.PrincipalType, DatasetUserAccessRight: a.AccessRight}
	if err := d.Client.GrantDatasetAccess(ctx, ws.ID, ds.ID, grant); err != nil {
		return GrantDatasetAccessResult{}, err
	}
	return GrantDatasetAccessResult{Workspace: ws, Dataset: ds, Granted: DatasetUser(grant),
		Message: "Access was granted. It can take a while before list_dataset_users and the user see it."}, nil
}

// listUpstreamDataflows is list_upstream_dataflows.
func listUpstreamDataflows(ctx context.Context, d Deps, a upstreamDataflowsArgs) (ListUpstreamDataflowsResult, error) {
	ws, err := resolveWorkspace(ctx, d.Client, a.Workspace)
	if err != nil {
		return ListUpstreamDataflowsResult{}, err
	}
	if ws.MyWorkspace {
		return ListUpstreamDataflowsResult{}, userErrorf("list_upstream_dataflows needs a workspace: Power BI has no such list for My workspace.")
	}
	all, err := d.Client.ListUpstreamDataflows(ctx, ws.ID)
	if err != nil {
		return ListUpstreamDataflowsResult{}, err
	}
	items, page := pageOf(all, defaultInt(a.Top, 100), a.Skip)
	res := ListUpstreamDataflowsResult{Workspace: ws, Links: make([]DatasetDataflowLink, 0, len(items)), Page: page}
	for _, l := range items {
		res.Links = append(res.Links, DatasetDataflowLink(l))
	}
	return res, nil
}

// datasetTarget resolves the workspace and dataset arguments most tools of this file take.
func datasetTarget(ctx context.Context, c *pbiclient.Client, workspace, dataset string) (WorkspaceRef, ItemRef, error) {
	ws, err := resolveWorkspace(ctx, c, workspace)
	if err != nil {
		return WorkspaceRef{}, ItemRef{}, err
	}
	ds, err := resolveDataset(ctx, c, ws, dataset)
	if err != nil {
		return WorkspaceRef{}, ItemRef{}, err
	}
	return ws, ds, nil
}

// datasetOf is a semantic model as list_datasets shows it.
func datasetOf(ds pbiclient.Dataset) Dataset {
	return Dataset{ID: ds.ID, Name: ds.Name, ConfiguredBy: ds.ConfiguredBy, IsRefreshable: ds.IsRefreshable,
		IsEffectiveIdentityRequired: ds.IsEffectiveIdentityRequired, TargetStorageMode: ds.TargetStorageMode,
		CreatedDate: ds.CreatedDate, WebURL: ds.WebURL}
}

func datasetDetailsOf(ds pbiclient.Dataset) DatasetDetails {
	out := DatasetDetails{
		Dataset:     datasetOf(ds),
		Description: ds.Description, ContentProviderType: ds.ContentProviderType, AddRowsAPIEnabled: ds.AddRowsAPIEnabled,
		IsEffectiveIdentityRolesRequired: ds.IsEffectiveIdentityRolesRequired,
		IsOnPremGatewayRequired:          ds.IsOnPremGatewayRequired,
	}
	if q := ds.QueryScaleOutSettings; q != nil {
		out.QueryScaleOutSettings = &QueryScaleOutSettings{AutoSyncReadOnlyReplicas: q.AutoSyncReadOnlyReplicas, MaxReadOnlyReplicas: q.MaxReadOnlyReplicas}
	}
	for _, u := range ds.UpstreamDataflows {
		out.UpstreamDataflows = append(out.UpstreamDataflows, DependentDataflow(u))
	}
	return out
}

// connectionDetailsOf keeps only the fields a source has, so a model reads {"server": ..., "database": ...}.
// datasourceOf shapes a data source of a model or a paginated report, which Power BI describes alike.
func datasourceOf(s pbiclient.Datasource) Datasource {
	return Datasource{DatasourceType: s.DatasourceType, ConnectionDetails: connectionDetailsOf(s.ConnectionDetails),
		DatasourceID: s.DatasourceID, GatewayID: s.GatewayID}
}

func connectionDetailsOf(c pbiclient.DatasourceConnectionDetails) map[string]string {
	out := map[string]string{}
	for k, v := range map[string]string{"server": c.Server, "database": c.Database, "url": c.URL, "path": c.Path, "kind": c.Kind,
		"account": c.Account, "domain": c.Domain, "emailAddress": c.EmailAddress, "loginServer": c.LoginServer, "classInfo": c.ClassInfo} {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

func parametersOf(ps []pbiclient.DatasetParameter) []DatasetParameter {
	out := make([]DatasetParameter, 0, len(ps))
	for _, p := range ps {
		out = append(out, DatasetParameter(p))
	}
	return out
}

// workspaceLabel names a workspace in a confirmation: by name when known, else by id.
func workspaceLabel(ws WorkspaceRef) string {
	switch {
	case ws.MyWorkspace:
		return "My workspace"
	case ws.Name != "":
		return fmt.Sprintf("the workspace %s (id %s)", ws.Name, ws.ID)
	default:
		return "the workspace " + ws.ID
	}
}

// itemLabel names an item in a confirmation: by name when known, always with its id.
func itemLabel(it ItemRef) string {
	if it.Name != "" {
		return fmt.Sprintf("%s (id %s)", it.Name, it.ID)
	}
	return "with id " + it.ID
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}
