package pbiclient

import (
	"context"
	"net/http"
)

// SetDatasetAccess sets a principal's permission on a model (PUT .../users), replacing what
// GrantDatasetAccess only adds to: "None" removes the principal's permissions, and Read,
// ReadReshare, ReadExplore or ReadReshareExplore replace them. The service never adds or
// removes Write this way, and refuses App principals.
func (c *Client) SetDatasetAccess(ctx context.Context, groupID, datasetID string, access DatasetUser) error {
	if err := needID("dataset", datasetID); err != nil {
		return err
	}
	_, err := c.sendJSON(ctx, http.MethodPut, workspacePath(groupID, "datasets", datasetID, "users"), nil, access, nil)
	return err
}
