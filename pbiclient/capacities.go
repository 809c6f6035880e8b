package pbiclient

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Workload is a capacity workload setting.
type Workload struct {
	Name                         string `json:"name"`
	State                        string `json:"state"` // Enabled, Disabled or Unsupported
	MaxMemoryPercentageSetByUser int    `json:"maxMemoryPercentageSetByUser,omitempty"`
}

// RefreshablesOptions are the OData options of GET capacities/refreshables. Top is required
// by the service (at least 1).
type RefreshablesOptions struct {
	Top    int
	Skip   int
	Filter string
	Expand []string // "capacity", "group"
}

// CapacityAssignment is the state of a workspace's assign-to-capacity operation.
type CapacityAssignment struct {
	// Status is Pending, InProgress, CompletedSuccessfully or AssignmentFailed.
	Status     string `json:"status"`
	ActivityID string `json:"activityId,omitempty"` // given on failure, for support
	StartTime  string `json:"startTime,omitempty"`
	EndTime    string `json:"endTime,omitempty"`
	CapacityID string `json:"capacityId,omitempty"`
}

// ListCapacities lists the capacities the caller has any right on.
func (c *Client) ListCapacities(ctx context.Context) ([]Capacity, error) {
	var out list[Capacity]
	if _, err := c.getJSON(ctx, pathOf("capacities"), nil, &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// ListWorkloads lists the workloads of a capacity.
func (c *Client) ListWorkloads(ctx context.Context, capacityID string) ([]Workload, error) {
	if err := needID("capacity", capacityID); err != nil {
		return nil, err
	}
	var out list[Workload]
	if _, err := c.getJSON(ctx, pathOf("capacities", capacityID, "Workloads"), nil, &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// ListRefreshables lists the refreshable models of every capacity the caller can see, or of
// one capacity when capacityID is not "".
func (c *Client) ListRefreshables(ctx context.Context, capacityID string, opts RefreshablesOptions) ([]Refreshable, error) {
	if opts.Top < 1 {
		return nil, fmt.Errorf("pbiclient: ListRefreshables: Top must be at least 1 (the service requires $top)")
	}
	q := url.Values{"$top": {strconv.Itoa(opts.Top)}}
	if opts.Skip > 0 {
		q.Set("$skip", strconv.Itoa(opts.Skip))
	}
	if opts.Filter != "" {
		q.Set("$filter", opts.Filter)
	}
	if len(opts.Expand) > 0 {
		q.Set("$expand", strings.Join(opts.Expand, ","))
	}
	path := pathOf("capacities", "refreshables")
	if capacityID != "" {
		path = pathOf("capacities", capacityID, "refreshables")
	}
	var out list[Refreshable]
	if _, err := c.getJSON(ctx, path, q, &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// AssignToCapacity starts moving a workspace to a capacity, or back to shared capacity when
// capacityID is MyWorkspaceID's empty GUID. The move continues after the answer: follow it
// with WaitCapacityAssignment. Like every POST it is not re-sent after a failure that may
// have reached the service.
func (c *Client) AssignToCapacity(ctx context.Context, groupID, capacityID string) error {
	if err := needID("workspace", groupID); err != nil {
		return err
	}
	if err := needID("capacity", capacityID); err != nil {
		return err
	}
	_, err := c.sendJSON(ctx, http.MethodPost, workspacePath(groupID, "AssignToCapacity"), nil,
		struct {
			CapacityID string `json:"capacityId"`
		}{capacityID}, nil)
	return err
}

// GetCapacityAssignment returns the state of a workspace's last assign-to-capacity operation.
func (c *Client) GetCapacityAssignment(ctx context.Context, groupID string) (CapacityAssignment, error) {
	if err := needID("workspace", groupID); err != nil {
		return CapacityAssignment{}, err
	}
	var out CapacityAssignment
	_, err := c.getJSON(ctx, workspacePath(groupID, "CapacityAssignmentStatus"), nil, &out)
	return out, err
}

// WaitCapacityAssignment polls a workspace's assignment status with backoff until it is
// CompletedSuccessfully or AssignmentFailed, calling onPoll (if not nil) with each status.
// AssignmentFailed also returns a *JobFailedError; ctx bounds the wait.
func (c *Client) WaitCapacityAssignment(ctx context.Context, groupID string, onPoll func(CapacityAssignment)) (CapacityAssignment, error) {
	var last CapacityAssignment
	for n := 0; ; n++ {
		st, err := c.GetCapacityAssignment(ctx, groupID)
		if err != nil {
			return last, err
		}
		last = st
		if onPoll != nil {
			onPoll(st)
		}
		switch st.Status {
		case "CompletedSuccessfully":
			return st, nil
		case "AssignmentFailed":
			detail := ""
			if st.ActivityID != "" {
				detail = "activityId " + st.ActivityID
			}
			return st, &JobFailedError{Operation: "capacity assignment", ID: groupID, Status: st.Status, Detail: detail}
		}
		if err := sleep(ctx, pollDelay(n, 0)); err != nil {
			return last, fmt.Errorf("pbiclient: waiting for the capacity assignment of workspace %s: %w", groupID, err)
		}
	}
}
