package pbiclient

import (
	"context"
	"net/http"
	"net/url"
)

// The admin counterparts of the item reads: any workspace's dataflows, data sources, tiles,
// imports and deployment pipelines, and the refreshables of one capacity; and an
// administrator's changes to a workspace's properties and a pipeline's users (Tenant.ReadWrite.All,
// a Fabric administrator signed in as a user). 200 requests an hour per tenant each.

// AdminListDataflows lists the dataflows of the tenant (GET admin/dataflows), or of one
// workspace when groupID is set (GET admin/groups/{groupId}/dataflows), with $filter, $top
// and $skip.
func (c *Client) AdminListDataflows(ctx context.Context, groupID string, q AdminQuery) ([]AdminDataflow, error) {
	path := pathOf("admin", "dataflows")
	if groupID != "" {
		path = pathOf("admin", "groups", groupID, "dataflows")
	}
	var out list[AdminDataflow]
	if _, err := c.getJSON(ctx, path, q.values(false), &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// AdminDataflowDatasources lists a dataflow's data sources (GET admin/dataflows/{id}/datasources).
func (c *Client) AdminDataflowDatasources(ctx context.Context, dataflowID string) ([]Datasource, error) {
	return adminList[Datasource](ctx, c, nil, "dataflow", dataflowID, "dataflows", dataflowID, "datasources")
}

// AdminExportDataflow reads any dataflow's definition, its model.json
// (GET admin/dataflows/{id}/export).
func (c *Client) AdminExportDataflow(ctx context.Context, dataflowID string) (DataflowDefinition, error) {
	var out DataflowDefinition
	if err := needID("dataflow", dataflowID); err != nil {
		return out, err
	}
	_, err := c.getJSON(ctx, pathOf("admin", "dataflows", dataflowID, "export"), nil, &out)
	return out, err
}

// AdminUpstreamDataflows lists the dataflows a dataflow reads from
// (GET admin/groups/{groupId}/dataflows/{id}/upstreamDataflows).
func (c *Client) AdminUpstreamDataflows(ctx context.Context, groupID, dataflowID string) ([]DependentDataflow, error) {
	if err := needID("workspace", groupID); err != nil {
		return nil, err
	}
	return adminList[DependentDataflow](ctx, c, nil, "dataflow", dataflowID, "groups", groupID, "dataflows", dataflowID, "upstreamDataflows")
}

// AdminDatasetUpstreamDataflows lists, for every model of any workspace, the dataflows it
// reads from (GET admin/groups/{groupId}/datasets/upstreamDataflows).
func (c *Client) AdminDatasetUpstreamDataflows(ctx context.Context, groupID string) ([]DatasetToDataflowLink, error) {
	return adminList[DatasetToDataflowLink](ctx, c, nil, "workspace", groupID, "groups", groupID, "datasets", "upstreamDataflows")
}

// AdminDatasetDatasources lists any semantic model's data sources (GET admin/datasets/{id}/datasources).
func (c *Client) AdminDatasetDatasources(ctx context.Context, datasetID string) ([]Datasource, error) {
	return adminList[Datasource](ctx, c, nil, "dataset", datasetID, "datasets", datasetID, "datasources")
}

// AdminDashboardTiles lists any dashboard's tiles (GET admin/dashboards/{id}/tiles).
func (c *Client) AdminDashboardTiles(ctx context.Context, dashboardID string) ([]Tile, error) {
	return adminList[Tile](ctx, c, nil, "dashboard", dashboardID, "dashboards", dashboardID, "tiles")
}

// adminList reads a list under admin/ whose path names the id of kind.
func adminList[T any](ctx context.Context, c *Client, query url.Values, kind, id string, segments ...string) ([]T, error) {
	if err := needID(kind, id); err != nil {
		return nil, err
	}
	var out list[T]
	if _, err := c.getJSON(ctx, pathOf(append([]string{"admin"}, segments...)...), query, &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// AdminListImports lists the imports of every workspace (GET admin/imports), with $top and $skip.
func (c *Client) AdminListImports(ctx context.Context, q AdminQuery) ([]Import, error) {
	var out list[Import]
	if _, err := c.getJSON(ctx, pathOf("admin", "imports"), q.values(false), &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// AdminPipeline is a deployment pipeline with, when expanded, its users.
type AdminPipeline struct {
	Pipeline
	Users []ItemUser `json:"users,omitempty"`
}

// AdminListPipelines lists the tenant's deployment pipelines (GET admin/pipelines). Expand:
// users, stages; the only filter Power BI applies is "not users/any()", pipelines nobody
// administers.
func (c *Client) AdminListPipelines(ctx context.Context, q AdminQuery) ([]AdminPipeline, error) {
	var out list[AdminPipeline]
	if _, err := c.getJSON(ctx, pathOf("admin", "pipelines"), q.values(false), &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// AdminAddPipelineUser makes a principal (principalType User, Group or App) an Admin of any
// deployment pipeline (POST admin/pipelines/{id}/users).
func (c *Client) AdminAddPipelineUser(ctx context.Context, pipelineID, identifier, principalType string) error {
	if err := needID("pipeline", pipelineID); err != nil {
		return err
	}
	if err := needID("user", identifier); err != nil {
		return err
	}
	body := struct {
		Identifier    string `json:"identifier"`
		PrincipalType string `json:"principalType"`
		AccessRight   string `json:"accessRight"`
	}{identifier, principalType, "Admin"}
	_, err := c.sendJSON(ctx, http.MethodPost, pathOf("admin", "pipelines", pipelineID, "users"), nil, body, nil)
	return err
}

// AdminDeletePipelineUser removes a principal from any deployment pipeline
// (DELETE admin/pipelines/{id}/users/{identifier}).
func (c *Client) AdminDeletePipelineUser(ctx context.Context, pipelineID, identifier string) error {
	if err := needID("pipeline", pipelineID); err != nil {
		return err
	}
	if err := needID("user", identifier); err != nil {
		return err
	}
	_, err := c.sendJSON(ctx, http.MethodDelete, pathOf("admin", "pipelines", pipelineID, "users", identifier), nil, nil, nil)
	return err
}

// AdminGroupUpdate holds the properties PATCH admin/groups/{id} changes; nil ones are kept.
type AdminGroupUpdate struct {
	Name                        *string `json:"name,omitempty"`
	Description                 *string `json:"description,omitempty"`
	DefaultDatasetStorageFormat *string `json:"defaultDatasetStorageFormat,omitempty"` // Small or Large
}

// AdminUpdateGroup changes any workspace's name, description or default storage format
// (PATCH admin/groups/{groupId}).
func (c *Client) AdminUpdateGroup(ctx context.Context, groupID string, u AdminGroupUpdate) error {
	if err := needID("workspace", groupID); err != nil {
		return err
	}
	_, err := c.sendJSON(ctx, http.MethodPatch, pathOf("admin", "groups", groupID), nil, u, nil)
	return err
}

// AdminCapacityRefreshables lists the refreshables of one capacity
// (GET admin/capacities/{capacityId}/refreshables). $top is required and always sent.
func (c *Client) AdminCapacityRefreshables(ctx context.Context, capacityID string, q AdminQuery) ([]Refreshable, error) {
	if err := needID("capacity", capacityID); err != nil {
		return nil, err
	}
	var out list[Refreshable]
	if _, err := c.getJSON(ctx, pathOf("admin", "capacities", capacityID, "refreshables"), q.values(true), &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// AdminCapacityRefreshable reads one refreshable of a capacity
// (GET admin/capacities/{capacityId}/refreshables/{id}); Power BI answers it as a list of one.
func (c *Client) AdminCapacityRefreshable(ctx context.Context, capacityID, refreshableID string, expand []string) (Refreshable, error) {
	if err := needID("capacity", capacityID); err != nil {
		return Refreshable{}, err
	}
	rs, err := adminList[Refreshable](ctx, c, AdminQuery{Expand: expand}.values(false), "refreshable", refreshableID,
		"capacities", capacityID, "refreshables", refreshableID)
	if err != nil || len(rs) == 0 {
		return Refreshable{}, err
	}
	return rs[0], nil
}
