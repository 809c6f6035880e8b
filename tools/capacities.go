package tools

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
)

// Capacity is one capacity as the tools report it.
type Capacity struct {
	ID                      string   `json:"id"`
	DisplayName             string   `json:"displayName,omitempty"`
	SKU                     string   `json:"sku,omitempty" jsonschema:"e.g. P1 (Premium), A1 (Embedded), F64 (Fabric)"`
	State                   string   `json:"state" jsonschema:"Active, Suspended, Provisioning, ...: only Active capacities take workspaces"`
	Region                  string   `json:"region,omitempty"`
	Admins                  []string `json:"admins,omitempty"`
	CapacityUserAccessRight string   `json:"capacityUserAccessRight" jsonschema:"The caller's right: Admin or Assign may assign workspaces, None may not"`
}

func capacityOf(c pbiclient.Capacity) Capacity {
	return Capacity{ID: c.ID, DisplayName: c.DisplayName, SKU: c.SKU, State: c.State, Region: c.Region,
		Admins: c.Admins, CapacityUserAccessRight: c.CapacityUserAccessRight}
}

type listCapacitiesArgs struct {
	Top  int `json:"top" minimum:"1" maximum:"1000" default:"100"`
	Skip int `json:"skip" schema:"$skip"`
}

// ListCapacitiesResult is the answer of list_capacities.
type ListCapacitiesResult struct {
	Capacities []Capacity `json:"capacities"`
	Page
}

type capacityArgs struct {
	Capacity string `json:"capacity" required:"true" minLength:"1"`
}

// Workload is one capacity workload setting.
type Workload struct {
	Name                         string `json:"name"`
	State                        string `json:"state" jsonschema:"Enabled, Disabled or Unsupported (by the capacity's SKU)"`
	MaxMemoryPercentageSetByUser int    `json:"maxMemoryPercentageSetByUser,omitempty"`
}

// ListWorkloadsResult is the answer of list_capacity_workloads.
type ListWorkloadsResult struct {
	Capacity  ItemRef    `json:"capacity"`
	Workloads []Workload `json:"workloads"`
}

type listRefreshablesArgs struct {
	Capacity string `json:"capacity" jsonschema:"Default: every capacity the caller can see." minLength:"1"`
	Filter   string `json:"filter" jsonschema:"OData $filter on id, name and kind, e.g. contains(name,'Sales') or name eq 'Finance KPIs'." maxLength:"1000"`
	Expand   bool   `json:"expand" jsonschema:"Also name each model's capacity and workspace."`
	Top      int    `json:"top" minimum:"1" maximum:"$refreshablesMax" default:"100"`
	Skip     int    `json:"skip" schema:"$skip"`
}

// Refreshable is a model with its refresh statistics.
type Refreshable struct {
	ID              string                     `json:"id"`
	Name            string                     `json:"name"`
	Kind            string                     `json:"kind,omitempty"`
	StartTime       string                     `json:"startTime,omitempty" jsonschema:"Start of the window the statistics cover (at most seven days)"`
	EndTime         string                     `json:"endTime,omitempty"`
	RefreshCount    int                        `json:"refreshCount"`
	RefreshFailures int                        `json:"refreshFailures"`
	AverageDuration float64                    `json:"averageDuration" jsonschema:"Seconds"`
	MedianDuration  float64                    `json:"medianDuration" jsonschema:"Seconds"`
	RefreshesPerDay int                        `json:"refreshesPerDay"`
	LastRefresh     *RefreshableLastRefresh    `json:"lastRefresh,omitempty"`
	RefreshSchedule *pbiclient.RefreshSchedule `json:"refreshSchedule,omitempty"`
	ConfiguredBy    []string                   `json:"configuredBy,omitempty"`
	Capacity        *ItemRef                   `json:"capacity,omitempty" jsonschema:"With expand"`
	Workspace       *ItemRef                   `json:"workspace,omitempty" jsonschema:"With expand"`
}

// RefreshableLastRefresh is the newest refresh of a refreshable.
type RefreshableLastRefresh struct {
	RequestID   string `json:"requestId,omitempty"`
	RefreshType string `json:"refreshType,omitempty"`
	Status      string `json:"status" jsonschema:"Unknown while running, then Completed, Failed, Cancelled or Disabled"`
	StartTime   string `json:"startTime,omitempty"`
	EndTime     string `json:"endTime,omitempty"`
}

// ListRefreshablesResult is the answer of list_refreshables.
type ListRefreshablesResult struct {
	Capacity     *ItemRef      `json:"capacity,omitempty" jsonschema:"The capacity asked about; absent for all capacities"`
	Refreshables []Refreshable `json:"refreshables"`
	Page
}

type assignArgs struct {
	Workspace      string `json:"workspace" schema:"$requiredWorkspace" required:"true"`
	Capacity       string `json:"capacity" required:"true" jsonschema:"A capacity, or \"shared\" (or {sharedCapacityID}) to move the workspace back to shared capacity." minLength:"1"`
	TimeoutSeconds int    `json:"timeout_seconds" jsonschema:"How long to follow the move; it goes on after, and calling again is safe." minimum:"5" maximum:"900" default:"120"`
}

// AssignResult is the answer of assign_workspace_to_capacity.
type AssignResult struct {
	Workspace  WorkspaceDetails `json:"workspace" jsonschema:"The workspace as Power BI reports it after the assignment"`
	Capacity   *ItemRef         `json:"capacity,omitempty" jsonschema:"The capacity assigned; absent when moved back to shared capacity"`
	Status     string           `json:"status" jsonschema:"CompletedSuccessfully, AssignmentFailed, or Pending/InProgress if timeout_seconds passed first"`
	StartTime  string           `json:"startTime,omitempty"`
	EndTime    string           `json:"endTime,omitempty"`
	ActivityID string           `json:"activityId,omitempty"`
	Message    string           `json:"message"`
}

// resolveCapacity reads a capacity argument: id or exact display name.
func resolveCapacity(ctx context.Context, c *pbiclient.Client, arg string) (ItemRef, error) {
	return resolveItem(arg, "capacity", "list_capacities",
		func() ([]pbiclient.Capacity, error) { return c.ListCapacities(ctx) },
		func(x pbiclient.Capacity) (string, string) { return x.ID, x.DisplayName })
}

const (
	refreshablesMax = 1000
	// sharedCapacity is the argument that moves a workspace back to shared capacity.
	sharedCapacity = "shared"
	// sharedCapacityID is the other argument that does so: Power BI's id for shared capacity.
	sharedCapacityID = pbiclient.MyWorkspaceID
)

func capacityTools(d Deps) []Tool {
	return []Tool{
		tool(d, "capacities", "list capacities", listCapacities, mcp.NewTool("list_capacities",
			mcp.WithDescription("List the Premium, Embedded and Fabric capacities the signed-in identity has a right on: id, name, SKU, state, region, admins and the caller's right (Admin or Assign may assign workspaces with assign_workspace_to_capacity). "+
				"Workspaces on no capacity use shared capacity. A user needs Capacity.Read.All; a service principal sees the capacities it is admin or contributor of."),
			annotations("List capacities", true, false, true))),
		tool(d, "capacities", "list the capacity's workloads", listCapacityWorkloads, mcp.NewTool("list_capacity_workloads",
			mcp.WithDescription("List a capacity's workloads (e.g. "+
				"Dataflows, PaginatedReports, AI) with their state (Enabled, Disabled, or Unsupported by the SKU) and memory limit: why paginated reports or dataflows do not run on a capacity. "+
				"A user needs Capacity.Read.All."),
			annotations("List capacity workloads", true, false, true))),
		tool(d, "capacities", "list refreshables", listRefreshables, mcp.NewTool("list_refreshables",
			mcp.WithDescription("List the semantic models on capacities refreshed in the last seven days or with a schedule, with statistics: refreshes and failures, average and median duration in seconds, refreshes per day, the last refresh and the schedule. "+
				"Only Premium, Embedded and Fabric capacities. A user needs Capacity.Read.All."),
			annotations("List refreshables", true, false, true))),
		tool(d, "capacities", "assign the workspace to the capacity", assignWorkspaceToCapacity, mcp.NewTool("assign_workspace_to_capacity",
			mcp.WithDescription("Move a workspace onto a Premium, Embedded or Fabric capacity, or back to shared capacity (capacity \"shared\"), and follow the move (Pending, InProgress, CompletedSuccessfully or AssignmentFailed) with progress notifications. "+
				"A capacity enables exports, enhanced refresh, XMLA and unlimited embed tokens; on shared capacity large-format models stop working. "+
				"The capacity must be Active and the caller needs Admin or Assign rights on it (list_capacities) and Admin in the workspace; a user also needs Capacity.ReadWrite.All and Workspace.ReadWrite.All. "+
				"Repeating a call changes nothing."),
			annotations("Assign a workspace to a capacity", false, false, true))).followsJobs(),
	}
}

// listCapacities is list_capacities.
func listCapacities(ctx context.Context, d Deps, a listCapacitiesArgs) (ListCapacitiesResult, error) {
	all, err := d.Client.ListCapacities(ctx)
	if err != nil {
		return ListCapacitiesResult{}, err
	}
	items, page := pageOf(all, defaultInt(a.Top, 100), a.Skip)
	res := ListCapacitiesResult{Capacities: make([]Capacity, 0, len(items)), Page: page}
	for _, c := range items {
		res.Capacities = append(res.Capacities, capacityOf(c))
	}
	return res, nil
}

// listCapacityWorkloads is list_capacity_workloads.
func listCapacityWorkloads(ctx context.Context, d Deps, a capacityArgs) (ListWorkloadsResult, error) {
	ref, err := resolveCapacity(ctx, d.Client, a.Capacity)
	if err != nil {
		return ListWorkloadsResult{}, err
	}
	all, err := d.Client.ListWorkloads(ctx, ref.ID)
	if err != nil {
		return ListWorkloadsResult{}, err
	}
	res := ListWorkloadsResult{Capacity: ref, Workloads: make([]Workload, 0, len(all))}
	for _, w := range all {
		res.Workloads = append(res.Workloads, Workload(w))
	}
	return res, nil
}

// listRefreshables is list_refreshables.
func listRefreshables(ctx context.Context, d Deps, a listRefreshablesArgs) (ListRefreshablesResult, error) {
	res := ListRefreshablesResult{Refreshables: []Refreshable{}}
	capID := ""
	if strings.TrimSpace(a.Capacity) != "" {
		ref, err := resolveCapacity(ctx, d.Client, a.Capacity)
		if err != nil {
			return ListRefreshablesResult{}, err
		}
		res.Capacity, capID = &ref, ref.ID
	}
	top := defaultInt(a.Top, 100)
	opts := pbiclient.RefreshablesOptions{Top: top + 1, Skip: a.Skip, Filter: a.Filter}
	if a.Expand {
		opts.Expand = []string{"capacity", "group"}
	}
	// One more than wanted: its presence is what hasMore means.
	all, err := d.Client.ListRefreshables(ctx, capID, opts)
	if err != nil {
		return ListRefreshablesResult{}, err
	}
	for i, r := range all {
		if i == top {
			res.HasMore, res.NextSkip = true, a.Skip+top
			break
		}
		res.Refreshables = append(res.Refreshables, refreshableOf(r))
	}
	res.Count = len(res.Refreshables)
	return res, nil
}

func refreshableOf(r pbiclient.Refreshable) Refreshable {
	out := Refreshable{ID: r.ID, Name: r.Name, Kind: r.Kind, StartTime: r.StartTime, EndTime: r.EndTime,
		RefreshCount: r.RefreshCount, RefreshFailures: r.RefreshFailures, AverageDuration: r.AverageDuration,
		MedianDuration: r.MedianDuration, RefreshesPerDay: r.RefreshesPerDay, RefreshSchedule: r.RefreshSchedule,
		ConfiguredBy: r.ConfiguredBy}
	if l := r.LastRefresh; l != nil {
		out.LastRefresh = &RefreshableLastRefresh{RequestID: l.RequestID, RefreshType: l.RefreshType, Status: l.Status,
			StartTime: l.StartTime, EndTime: l.EndTime}
	}
	if r.Capacity != nil {
		out.Capacity = &ItemRef{ID: r.Capacity.ID, Name: r.Capacity.DisplayName, ResolvedBy: "id"}
	}
	if r.Group != nil {
		out.Workspace = &ItemRef{ID: r.Group.ID, Name: r.Group.Name, ResolvedBy: "id"}
	}
	return out
}

// assignWorkspaceToCapacity is assign_workspace_to_capacity.
func assignWorkspaceToCapacity(ctx context.Context, d Deps, a assignArgs) (AssignResult, error) {
	ws, err := resolveGroup(ctx, d.Client, a.Workspace)
	if err != nil {
		return AssignResult{}, err
	}
	var capRef *ItemRef
	wireID := pbiclient.MyWorkspaceID
	if arg := strings.TrimSpace(a.Capacity); !strings.EqualFold(arg, sharedCapacity) && arg != pbiclient.MyWorkspaceID {
		ref, err := resolveCapacity(ctx, d.Client, arg)
		if err != nil {
			return AssignResult{}, err
		}
		capRef, wireID = &ref, ref.ID
	}
	if err := d.Client.AssignToCapacity(ctx, ws.ID, wireID); err != nil {
		return AssignResult{}, err
	}
	report := progressOf(ctx)
	steps := map[string]float64{"Pending": 1, "InProgress": 2, "CompletedSuccessfully": 3, "AssignmentFailed": 3}
	wctx, cancel := context.WithTimeout(ctx, time.Duration(defaultInt(a.TimeoutSeconds, 120))*time.Second)
	defer cancel()
	st, werr := d.Client.WaitCapacityAssignment(wctx, ws.ID, func(s pbiclient.CapacityAssignment) {
		report(steps[s.Status], 3, "Capacity assignment: "+s.Status)
	})
	res := AssignResult{Capacity: capRef, Status: st.Status, StartTime: st.StartTime, EndTime: st.EndTime, ActivityID: st.ActivityID}
	switch {
	case werr == nil:
		res.Message = "The workspace is now on shared capacity."
		if capRef != nil {
			res.Message = fmt.Sprintf("The workspace is now on capacity %s.", capLabel(*capRef))
		}
	case st.Status == "AssignmentFailed":
		target := "shared capacity"
		if capRef != nil {
			target = "capacity " + capLabel(*capRef)
		}
		return AssignResult{}, userErrorf("Moving workspace %s to %s failed (AssignmentFailed); it stays where it was. Next: check with list_capacities that the capacity is Active and that the caller has Admin or Assign rights on it; quote activityId %s to support if it persists.",
			wsLabel(ws), target, st.ActivityID)
	case ctx.Err() == nil && wctx.Err() != nil:
		res.Message = "The assignment had not ended when timeout_seconds passed; it goes on. Call this tool again later (it is safe to repeat) or check the workspace with get_workspace."
	default:
		return AssignResult{}, werr
	}
	g, err := d.Client.GetGroup(ctx, ws.ID)
	if err != nil {
		return AssignResult{}, err
	}
	res.Workspace = detailsOf(g)
	return res, nil
}

func capLabel(c ItemRef) string {
	if c.Name != "" {
		return fmt.Sprintf("%q (%s)", c.Name, c.ID)
	}
	return c.ID
}
