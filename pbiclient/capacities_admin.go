package pbiclient

import (
	"context"
	"errors"
	"net/http"
)

// CapacityMigration moves workspaces to one capacity (an entry of AdminAssignWorkspaces).
type CapacityMigration struct {
	TargetCapacityID string   `json:"targetCapacityObjectId"`
	WorkspaceIDs     []string `json:"workspacesToAssign"`
}

// AdminAssignWorkspaces moves workspaces to capacities as the tenant's administrator,
// whatever the caller's rights on the capacities. Follow each workspace with
// GetCapacityAssignment. Like every POST it is not re-sent after a failure that may have
// reached the service.
func (c *Client) AdminAssignWorkspaces(ctx context.Context, migrations []CapacityMigration) error {
	if len(migrations) == 0 {
		return errors.New("pbiclient: AdminAssignWorkspaces: no assignment")
	}
	for _, m := range migrations {
		if err := needID("capacity", m.TargetCapacityID); err != nil {
			return err
		}
	}
	body := struct {
		Assignments []CapacityMigration `json:"capacityMigrationAssignments"`
	}{migrations}
	_, err := c.sendJSON(ctx, http.MethodPost, pathOf("admin", "capacities", "AssignWorkspaces"), nil, body, nil)
	return err
}

// AdminUnassignWorkspaces moves workspaces back to shared capacity as the tenant's
// administrator.
func (c *Client) AdminUnassignWorkspaces(ctx context.Context, workspaceIDs []string) error {
	if len(workspaceIDs) == 0 {
		return errors.New("pbiclient: AdminUnassignWorkspaces: no workspace")
	}
	body := struct {
		Workspaces []string `json:"workspacesToUnassign"`
	}{workspaceIDs}
	_, err := c.sendJSON(ctx, http.MethodPost, pathOf("admin", "capacities", "UnassignWorkspaces"), nil, body, nil)
	return err
}
