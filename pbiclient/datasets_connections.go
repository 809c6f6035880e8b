package pbiclient

import (
	"context"
	"errors"
	"net/http"
	"strings"
)

// DatasourceUpdate replaces the connection of one data source of a model (one entry of
// Default.UpdateDatasources).
type DatasourceUpdate struct {
	// ConnectionDetails is where the data source is to connect from now on. The source keeps
	// its type: only the details change.
	ConnectionDetails DatasourceConnectionDetails `json:"connectionDetails"`
	// DatasourceSelector names the data source to change, by its type and current connection
	// details, as ListDatasources reports them. The service needs it when the model has more
	// than one data source.
	DatasourceSelector *Datasource `json:"datasourceSelector,omitempty"`
}

// UpdateDatasources changes where data sources of a model connect. Only the model's owner
// may; the service supports SQL Server, Azure SQL, Azure Synapse, Analysis Services, OData,
// SharePoint, Teradata and SAP HANA sources, never a change of type. The model keeps its
// old data until it is refreshed.
func (c *Client) UpdateDatasources(ctx context.Context, groupID, datasetID string, updates []DatasourceUpdate) error {
	if err := needID("dataset", datasetID); err != nil {
		return err
	}
	if len(updates) == 0 {
		return errors.New("pbiclient: UpdateDatasources: no update")
	}
	body := struct {
		UpdateDetails []DatasourceUpdate `json:"updateDetails"`
	}{updates}
	_, err := c.sendJSON(ctx, http.MethodPost, workspacePath(groupID, "datasets", datasetID, "Default.UpdateDatasources"), nil, body, nil)
	return err
}

// SetAllConnections points every connection of a DirectQuery model at the server and
// database of connectionString (e.g. "Data Source=srv;Initial Catalog=db;"). The service
// accepts it only for DirectQuery models on SQL or Analysis Services sources without
// enhanced metadata; for others it is UpdateDatasources or UpdateDatasetParameters.
func (c *Client) SetAllConnections(ctx context.Context, groupID, datasetID, connectionString string) error {
	if err := needID("dataset", datasetID); err != nil {
		return err
	}
	if strings.TrimSpace(connectionString) == "" {
		return errors.New("pbiclient: SetAllConnections: connection string is empty")
	}
	body := struct {
		ConnectionString string `json:"connectionString"`
	}{connectionString}
	_, err := c.sendJSON(ctx, http.MethodPost, workspacePath(groupID, "datasets", datasetID, "Default.SetAllConnections"), nil, body, nil)
	return err
}
