package pbiclient

import (
	"context"
	"errors"
	"net/http"
)

// DataflowUpdate is the body of PATCH .../dataflows/{id} (DataflowUpdateRequestMessage). Nil
// fields are left out and keep their value.
type DataflowUpdate struct {
	Name               *string `json:"name,omitempty"`
	Description        *string `json:"description,omitempty"`
	AllowNativeQueries *bool   `json:"allowNativeQueries,omitempty"`
	// ComputeEngineBehavior is "computeOptimized", "computeOn" or "computeDisabled" (the
	// enhanced compute engine of Premium capacities).
	ComputeEngineBehavior string `json:"computeEngineBehavior,omitempty"`
}

// UpdateDataflow changes a dataflow's name, description, native-query permission or compute
// engine setting.
func (c *Client) UpdateDataflow(ctx context.Context, groupID, dataflowID string, u DataflowUpdate) error {
	if err := needDataflow(groupID, dataflowID); err != nil {
		return err
	}
	if u == (DataflowUpdate{}) {
		return errors.New("pbiclient: UpdateDataflow: nothing to change")
	}
	_, err := c.sendJSON(ctx, http.MethodPatch, dataflowPath(groupID, dataflowID), nil, u, nil)
	return err
}

// DeleteDataflow deletes a dataflow, with its refresh history and schedule.
func (c *Client) DeleteDataflow(ctx context.Context, groupID, dataflowID string) error {
	if err := needDataflow(groupID, dataflowID); err != nil {
		return err
	}
	_, err := c.sendJSON(ctx, http.MethodDelete, dataflowPath(groupID, dataflowID), nil, nil, nil)
	return err
}
