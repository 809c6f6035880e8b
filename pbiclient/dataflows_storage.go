package pbiclient

import (
	"context"
	"net/http"
)

// DataflowStorageAccount is an Azure Data Lake Storage Gen2 account where workspaces keep
// their dataflows.
type DataflowStorageAccount struct {
	ID        string `json:"id"`
	Name      string `json:"name,omitempty"`
	IsEnabled bool   `json:"isEnabled"` // whether workspaces can be assigned to it
}

// ListDataflowStorageAccounts lists the dataflow storage accounts the caller can use.
func (c *Client) ListDataflowStorageAccounts(ctx context.Context) ([]DataflowStorageAccount, error) {
	var out list[DataflowStorageAccount]
	if _, err := c.getJSON(ctx, pathOf("dataflowStorageAccounts"), nil, &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// AssignToDataflowStorage makes a workspace keep its dataflows in a storage account, or in
// Power BI's own storage when storageID is MyWorkspaceID's empty GUID. The caller must be a
// workspace admin, and the account enabled.
func (c *Client) AssignToDataflowStorage(ctx context.Context, groupID, storageID string) error {
	if err := needID("workspace", groupID); err != nil {
		return err
	}
	if err := needID("dataflow storage account", storageID); err != nil {
		return err
	}
	body := struct {
		DataflowStorageID string `json:"dataflowStorageId"`
	}{storageID}
	_, err := c.sendJSON(ctx, http.MethodPost, workspacePath(groupID, "AssignToDataflowStorage"), nil, body, nil)
	return err
}
