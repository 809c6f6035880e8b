package pbiclient

import (
	"context"
	"net/http"
)

// QueryScaleOutSettings is a model's query scale-out configuration (Premium, large storage
// format only).
type QueryScaleOutSettings struct {
	AutoSyncReadOnlyReplicas bool `json:"autoSyncReadOnlyReplicas"`
	// MaxReadOnlyReplicas is 0 to 64, or -1 for as many as the capacity allows.
	MaxReadOnlyReplicas int `json:"maxReadOnlyReplicas"`
}

// DependentDataflow is a dataflow a model reads from, as the Dataset object names it.
type DependentDataflow struct {
	TargetDataflowID string `json:"targetDataflowId"`
	GroupID          string `json:"groupId"`
}

// GetDataset returns one semantic model ("" groupID = My workspace).
func (c *Client) GetDataset(ctx context.Context, groupID, datasetID string) (Dataset, error) {
	if err := needID("dataset", datasetID); err != nil {
		return Dataset{}, err
	}
	var out Dataset
	_, err := c.getJSON(ctx, workspacePath(groupID, "datasets", datasetID), nil, &out)
	return out, err
}

// UpdateDatasetRequest is the body of UpdateDataset; fields left nil are not sent.
type UpdateDatasetRequest struct {
	TargetStorageMode     string                      `json:"targetStorageMode,omitempty"` // "Abf" or "PremiumFiles"
	QueryScaleOutSettings *QueryScaleOutSettingsPatch `json:"queryScaleOutSettings,omitempty"`
}

// QueryScaleOutSettingsPatch changes the scale-out fields that are not nil and leaves the
// others as they are.
type QueryScaleOutSettingsPatch struct {
	AutoSyncReadOnlyReplicas *bool `json:"autoSyncReadOnlyReplicas,omitempty"`
	MaxReadOnlyReplicas      *int  `json:"maxReadOnlyReplicas,omitempty"`
}

// UpdateDataset changes a model's storage format or query scale-out settings. Only the
// model's owner may.
func (c *Client) UpdateDataset(ctx context.Context, groupID, datasetID string, req UpdateDatasetRequest) error {
	if err := needID("dataset", datasetID); err != nil {
		return err
	}
	_, err := c.sendJSON(ctx, http.MethodPatch, workspacePath(groupID, "datasets", datasetID), nil, req, nil)
	return err
}

// DeleteDataset deletes a semantic model.
func (c *Client) DeleteDataset(ctx context.Context, groupID, datasetID string) error {
	if err := needID("dataset", datasetID); err != nil {
		return err
	}
	_, err := c.sendJSON(ctx, http.MethodDelete, workspacePath(groupID, "datasets", datasetID), nil, nil, nil)
	return err
}

// TakeOverDataset makes the caller the owner of a model. The operation exists only for
// workspaces, not for My workspace, so groupID is required.
func (c *Client) TakeOverDataset(ctx context.Context, groupID, datasetID string) error {
	if err := needID("workspace", groupID); err != nil {
		return err
	}
	if err := needID("dataset", datasetID); err != nil {
		return err
	}
	_, err := c.sendJSON(ctx, http.MethodPost, workspacePath(groupID, "datasets", datasetID, "Default.TakeOver"), nil, nil, nil)
	return err
}

// Datasource is a data source of a semantic model. GatewayID and DatasourceID are empty
// when the source is not bound to a gateway.
type Datasource struct {
	DatasourceType    string                      `json:"datasourceType,omitempty"`
	ConnectionDetails DatasourceConnectionDetails `json:"connectionDetails"`
	DatasourceID      string                      `json:"datasourceId,omitempty"`
	GatewayID         string                      `json:"gatewayId,omitempty"`
}

// DatasourceConnectionDetails holds the connection fields; each kind of source fills only
// its own.
type DatasourceConnectionDetails struct {
	Server       string `json:"server,omitempty"`
	Database     string `json:"database,omitempty"`
	URL          string `json:"url,omitempty"`
	Path         string `json:"path,omitempty"`
	Kind         string `json:"kind,omitempty"`
	Account      string `json:"account,omitempty"`
	Domain       string `json:"domain,omitempty"`
	EmailAddress string `json:"emailAddress,omitempty"`
	LoginServer  string `json:"loginServer,omitempty"`
	ClassInfo    string `json:"classInfo,omitempty"`
}

// ListDatasources lists the data sources of a semantic model.
func (c *Client) ListDatasources(ctx context.Context, groupID, datasetID string) ([]Datasource, error) {
	if err := needID("dataset", datasetID); err != nil {
		return nil, err
	}
	var out list[Datasource]
	if _, err := c.getJSON(ctx, workspacePath(groupID, "datasets", datasetID, "datasources"), nil, &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// DatasetParameter is a Power Query (mashup) parameter of a model. Values are strings
// whatever the Type (Text, Number, DateTime, Logical, Any, Binary, ...).
type DatasetParameter struct {
	Name            string   `json:"name"`
	Type            string   `json:"type"`
	IsRequired      bool     `json:"isRequired"`
	CurrentValue    string   `json:"currentValue"`
	SuggestedValues []string `json:"suggestedValues,omitempty"`
}

// ListDatasetParameters lists the parameters of a semantic model.
func (c *Client) ListDatasetParameters(ctx context.Context, groupID, datasetID string) ([]DatasetParameter, error) {
	if err := needID("dataset", datasetID); err != nil {
		return nil, err
	}
	var out list[DatasetParameter]
	if _, err := c.getJSON(ctx, workspacePath(groupID, "datasets", datasetID, "parameters"), nil, &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// ParameterUpdate is one entry of UpdateDatasetParameters.
type ParameterUpdate struct {
	Name     string `json:"name"`
	NewValue string `json:"newValue"`
}

// UpdateDatasetParameters sets parameter values. The service applies all or none; only the
// model's owner may call it, and the new values take effect at the next refresh.
func (c *Client) UpdateDatasetParameters(ctx context.Context, groupID, datasetID string, updates []ParameterUpdate) error {
	if err := needID("dataset", datasetID); err != nil {
		return err
	}
	body := struct {
		UpdateDetails []ParameterUpdate `json:"updateDetails"`
	}{updates}
	_, err := c.sendJSON(ctx, http.MethodPost, workspacePath(groupID, "datasets", datasetID, "Default.UpdateParameters"), nil, body, nil)
	return err
}

// DatasetUser is a principal's permission on a model.
type DatasetUser struct {
	// Identifier is a UPN for users, an object id for groups and apps.
	Identifier    string `json:"identifier"`
	PrincipalType string `json:"principalType"` // User, Group, App or None (the whole organisation)
	// DatasetUserAccessRight is Read combined with Write, Reshare and Explore (Build), e.g.
	// "ReadReshareExplore"; "None" when removed.
	DatasetUserAccessRight string `json:"datasetUserAccessRight"`
}

// ListDatasetUsers lists who has permission on a model.
func (c *Client) ListDatasetUsers(ctx context.Context, groupID, datasetID string) ([]DatasetUser, error) {
	if err := needID("dataset", datasetID); err != nil {
		return nil, err
	}
	var out list[DatasetUser]
	if _, err := c.getJSON(ctx, workspacePath(groupID, "datasets", datasetID, "users"), nil, &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// GrantDatasetAccess grants a principal a permission on a model (POST .../users). The
// service accepts Read, ReadReshare, ReadExplore and ReadReshareExplore, and no App
// principals.
func (c *Client) GrantDatasetAccess(ctx context.Context, groupID, datasetID string, grant DatasetUser) error {
	if err := needID("dataset", datasetID); err != nil {
		return err
	}
	_, err := c.sendJSON(ctx, http.MethodPost, workspacePath(groupID, "datasets", datasetID, "users"), nil, grant, nil)
	return err
}

// DatasetToDataflowLink says that a model reads from a dataflow.
type DatasetToDataflowLink struct {
	DatasetObjectID   string `json:"datasetObjectId"`
	DataflowObjectID  string `json:"dataflowObjectId"`
	WorkspaceObjectID string `json:"workspaceObjectId"`
}

// ListUpstreamDataflows lists, for every model of a workspace, the dataflows it reads from.
// The operation exists only for workspaces.
func (c *Client) ListUpstreamDataflows(ctx context.Context, groupID string) ([]DatasetToDataflowLink, error) {
	if err := needID("workspace", groupID); err != nil {
		return nil, err
	}
	var out list[DatasetToDataflowLink]
	if _, err := c.getJSON(ctx, workspacePath(groupID, "datasets", "upstreamDataflows"), nil, &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}
