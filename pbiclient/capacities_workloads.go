package pbiclient

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// GetWorkload reads one workload of a capacity (e.g. "Dataflows", "PaginatedReports", "AI").
// Workloads are a setting of Gen1 capacities only.
func (c *Client) GetWorkload(ctx context.Context, capacityID, workloadName string) (Workload, error) {
	if err := needID("capacity", capacityID); err != nil {
		return Workload{}, err
	}
	if err := needID("workload", workloadName); err != nil {
		return Workload{}, err
	}
	var out Workload
	_, err := c.getJSON(ctx, pathOf("capacities", capacityID, "Workloads", workloadName), nil, &out)
	return out, err
}

// WorkloadUpdate is the body of PATCH .../Workloads/{name}. State ("Enabled" or
// "Disabled") is required; MaxMemoryPercentageSetByUser, when not nil, sets the share of
// the capacity's memory the workload may use.
type WorkloadUpdate struct {
	State                        string `json:"state"`
	MaxMemoryPercentageSetByUser *int   `json:"maxMemoryPercentageSetByUser,omitempty"`
}

// PatchWorkload enables or disables a workload of a capacity and sets its memory share.
// Only a capacity admin may.
func (c *Client) PatchWorkload(ctx context.Context, capacityID, workloadName string, u WorkloadUpdate) error {
	if err := needID("capacity", capacityID); err != nil {
		return err
	}
	if err := needID("workload", workloadName); err != nil {
		return err
	}
	if u.State == "" {
		return errors.New("pbiclient: PatchWorkload: State is required")
	}
	_, err := c.sendJSON(ctx, http.MethodPatch, pathOf("capacities", capacityID, "Workloads", workloadName), nil, u, nil)
	return err
}

// GetRefreshable reads the refresh statistics of one model (refreshableID is its dataset
// id) on a capacity; expand may name "capacity" and "group". The service answers a list of
// one.
func (c *Client) GetRefreshable(ctx context.Context, capacityID, refreshableID string, expand ...string) (Refreshable, error) {
	if err := needID("capacity", capacityID); err != nil {
		return Refreshable{}, err
	}
	if err := needID("refreshable", refreshableID); err != nil {
		return Refreshable{}, err
	}
	var q url.Values
	if len(expand) > 0 {
		q = url.Values{"$expand": {strings.Join(expand, ",")}}
	}
	var out list[Refreshable]
	if _, err := c.getJSON(ctx, pathOf("capacities", capacityID, "refreshables", refreshableID), q, &out); err != nil {
		return Refreshable{}, err
	}
	if len(out.Value) == 0 {
		return Refreshable{}, errors.New("pbiclient: GetRefreshable: the service answered no refreshable")
	}
	return out.Value[0], nil
}
