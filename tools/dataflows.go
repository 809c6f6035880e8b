package tools

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
)

// The dataflows toolset: Power BI dataflows (Gen1) of a workspace, their definition, sources,
// lineage, refreshes and refresh schedule. Dataflows live in workspaces only, so the workspace
// argument is required.

func dataflowWorkspaceParam() mcp.ToolOption {
	return mcp.WithString("workspace", mcp.Required(), mcp.MinLength(1))
}

func dataflowParam() mcp.ToolOption {
	return itemParam("dataflow")
}

func resolveDataflow(ctx context.Context, c *pbiclient.Client, workspace, dataflow string) (WorkspaceRef, ItemRef, error) {
	ws, err := resolveGroup(ctx, c, workspace)
	if err != nil {
		return WorkspaceRef{}, ItemRef{}, err
	}
	df, err := resolveItem(dataflow, "dataflow", "list_dataflows",
		func() ([]pbiclient.Dataflow, error) { return c.ListDataflows(ctx, ws.ID) },
		func(df pbiclient.Dataflow) (string, string) { return df.ObjectID, df.Name })
	return ws, df, err
}

type dataflowListArgs struct {
	Workspace string `json:"workspace" schema:"$dataflowWorkspace" required:"true"`
	Top       int    `json:"top" minimum:"1" maximum:"1000" default:"100"`
	Skip      int    `json:"skip" schema:"$skip"`
}

type dataflowArgs struct {
	Workspace string `json:"workspace" schema:"$dataflowWorkspace" required:"true"`
	Dataflow  string `json:"dataflow" schema:"$dataflow" required:"true"`
}

type dataflowTransactionsArgs struct {
	Workspace string `json:"workspace" schema:"$dataflowWorkspace" required:"true"`
	Dataflow  string `json:"dataflow" schema:"$dataflow" required:"true"`
	Top       int    `json:"top" minimum:"1" maximum:"100" default:"20"`
	Skip      int    `json:"skip" schema:"$skip"`
}

type dataflowDatasourcesArgs struct {
	Workspace string `json:"workspace" schema:"$dataflowWorkspace" required:"true"`
	Dataflow  string `json:"dataflow" schema:"$dataflow" required:"true"`
	Top       int    `json:"top" minimum:"1" maximum:"1000" default:"100"`
	Skip      int    `json:"skip" schema:"$skip"`
}

type upstreamDataflowsOfDataflowArgs struct {
	Workspace string `json:"workspace" schema:"$dataflowWorkspace" required:"true"`
	Dataflow  string `json:"dataflow" schema:"$dataflow" required:"true"`
	Top       int    `json:"top" minimum:"1" maximum:"1000" default:"100"`
	Skip      int    `json:"skip" schema:"$skip"`
}

type refreshDataflowArgs struct {
	Workspace    string `json:"workspace" schema:"$dataflowWorkspace" required:"true"`
	Dataflow     string `json:"dataflow" schema:"$dataflow" required:"true"`
	NotifyOption string `json:"notify_option" jsonschema:"Email the owner: NoNotification (default), MailOnFailure or MailOnCompletion. A service principal gets no mail." enum:"NoNotification,MailOnFailure,MailOnCompletion" default:"NoNotification"`
	ProcessType  string `json:"process_type" jsonschema:"default (incremental where the dataflow has incremental refresh) or processFull." enum:"default,processFull"`
}

type cancelDataflowArgs struct {
	Workspace     string `json:"workspace" schema:"$dataflowWorkspace" required:"true"`
	TransactionID string `json:"transaction_id" required:"true" jsonschema:"The transaction id, exactly as list_dataflow_transactions gives it." pattern:"$transactionID"`
}

// dataflowScheduleArgs are the arguments of update_dataflow_refresh_schedule. Enabled is nil
// when the argument is left out.
type dataflowScheduleArgs struct {
	Workspace       string   `json:"workspace" schema:"$dataflowWorkspace" required:"true"`
	Dataflow        string   `json:"dataflow" schema:"$dataflow" required:"true"`
	Days            []string `json:"days" schema:"$dataflowDays"`
	Times           []string `json:"times" schema:"$dataflowTimes"`
	LocalTimeZoneID string   `json:"local_time_zone_id" schema:"$dataflowTimeZone"`
	Enabled         *bool    `json:"enabled" jsonschema:"true turns the schedule on, false turns it off (alone, with no other argument)."`
	NotifyOption    string   `json:"notify_option" jsonschema:"Email the owner when a scheduled refresh fails. Service principals must use NoNotification." enum:"NoNotification,MailOnFailure"`
}

// updateDataflowArgs are the arguments of update_dataflow; nil fields are left out.
type updateDataflowArgs struct {
	Workspace             string  `json:"workspace" schema:"$dataflowWorkspace" required:"true"`
	Dataflow              string  `json:"dataflow" schema:"$dataflow" required:"true"`
	Name                  *string `json:"name" minLength:"1" maxLength:"200"`
	Description           *string `json:"description" maxLength:"4000"`
	AllowNativeQueries    *bool   `json:"allow_native_queries"`
	ComputeEngineBehavior string  `json:"compute_engine_behavior" jsonschema:"The enhanced compute engine (Premium)" enum:"computeOptimized,computeOn,computeDisabled"`
}

type deleteDataflowArgs struct {
	Workspace string `json:"workspace" schema:"$dataflowWorkspace" required:"true"`
	Dataflow  string `json:"dataflow" schema:"$dataflow" required:"true"`
	Confirm   bool   `json:"confirm" schema:"$confirm"`
}

// UpdateDataflowResult is the answer of update_dataflow.
type UpdateDataflowResult struct {
	Workspace WorkspaceRef       `json:"workspace"`
	Dataflow  pbiclient.Dataflow `json:"dataflow" jsonschema:"As Power BI lists it after the change"`
}

// DeleteDataflowResult is the answer of delete_dataflow.
type DeleteDataflowResult struct {
	Workspace WorkspaceRef `json:"workspace"`
	Dataflow  ItemRef      `json:"dataflow"`
	Deleted   bool         `json:"deleted"`
}

// DataflowListResult is the answer of list_dataflows.
type DataflowListResult struct {
	Workspace WorkspaceRef         `json:"workspace"`
	Dataflows []pbiclient.Dataflow `json:"dataflows" jsonschema:"objectId (the dataflow's id), name, description, modelUrl, configuredBy"`
	Page
}

// DataflowEntitySummary is a table of a dataflow with its columns as "name (type)".
type DataflowEntitySummary struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Linked      bool     `json:"linked,omitempty" jsonschema:"a linked table, read from another dataflow"`
	Columns     []string `json:"columns"`
}

// DataflowResult is the answer of get_dataflow: a summary of model.json.
type DataflowResult struct {
	Workspace    WorkspaceRef            `json:"workspace"`
	Dataflow     ItemRef                 `json:"dataflow"`
	Name         string                  `json:"name"`
	Description  string                  `json:"description,omitempty"`
	ModifiedTime string                  `json:"modifiedTime,omitempty"`
	Entities     []DataflowEntitySummary `json:"entities"`
}

// DataflowTransactionsResult is the answer of list_dataflow_transactions and refresh_dataflow.
type DataflowTransactionsResult struct {
	Workspace    WorkspaceRef                    `json:"workspace"`
	Dataflow     ItemRef                         `json:"dataflow"`
	Transactions []pbiclient.DataflowTransaction `json:"transactions" jsonschema:"id, refreshType, startTime, endTime, status (e.g. InProgress, Success, Failed, Cancelled), newest first"`
	Message      string                          `json:"message,omitempty"`
	Page
}

// CancelDataflowResult is the answer of cancel_dataflow_transaction.
type CancelDataflowResult struct {
	Workspace     WorkspaceRef `json:"workspace"`
	TransactionID string       `json:"transactionId"`
	Status        string       `json:"status" jsonschema:"SuccessfullyMarked, AlreadyConcluded, NotFound or Invalid"`
	Message       string       `json:"message"`
}

// DataflowDatasourcesResult is the answer of list_dataflow_datasources.
type DataflowDatasourcesResult struct {
	Workspace   WorkspaceRef           `json:"workspace"`
	Dataflow    ItemRef                `json:"dataflow"`
	Datasources []pbiclient.Datasource `json:"datasources" jsonschema:"datasourceType, connectionDetails, and gatewayId/datasourceId when bound to a gateway"`
	Page
}

// UpstreamDataflowsOfDataflowResult is the answer of list_dataflow_upstream_dataflows.
type UpstreamDataflowsOfDataflowResult struct {
	Workspace WorkspaceRef                  `json:"workspace"`
	Dataflow  ItemRef                       `json:"dataflow"`
	Upstream  []pbiclient.DependentDataflow `json:"upstream" jsonschema:"targetDataflowId and groupId (its workspace) of each dataflow this one reads from"`
	Page
}

// DataflowScheduleResult is the answer of update_dataflow_refresh_schedule.
type DataflowScheduleResult struct {
	Workspace WorkspaceRef `json:"workspace"`
	Dataflow  ItemRef      `json:"dataflow"`
	Message   string       `json:"message"`
}

func dataflowTools(d Deps) []Tool {
	return []Tool{
		tool(d, "dataflows", "list the dataflows", listDataflows, mcp.NewTool("list_dataflows",
			mcp.WithDescription("List the dataflows of a workspace: objectId (a dataflow's id), name, description and owner (configuredBy)."),
			annotations("List dataflows", true, false, true))),
		tool(d, "dataflows", "read the dataflow", getDataflow, mcp.NewTool("get_dataflow",
			mcp.WithDescription("Read a dataflow's definition (its model.json), summarised: name, description, last change, and its tables (entities) with their columns and types. "+
				"The Power Query code and storage locations are left out."),
			annotations("Dataflow definition", true, false, true))),
		tool(d, "dataflows", "refresh the dataflow", refreshDataflow, mcp.NewTool("refresh_dataflow",
			mcp.WithDescription("Start a refresh of a dataflow; Power BI accepts it at once. "+
				"Follow it with list_dataflow_transactions (the newest) and stop it with cancel_dataflow_transaction. "+
				"The request is never repeated: if the answer is lost, check list_dataflow_transactions before trying again. "+
				"One refresh at a time; on shared capacity 8 a day."),
			annotations("Refresh a dataflow", false, false, false))),
		tool(d, "dataflows", "list the dataflow's refreshes", listDataflowTransactions, mcp.NewTool("list_dataflow_transactions",
			mcp.WithDescription("List a dataflow's refreshes (transactions), newest first: id, type (OnDemand or Scheduled), start and end, status. "+
				"The id is what cancel_dataflow_transaction takes."),
			annotations("Dataflow refreshes", true, false, true))),
		tool(d, "dataflows", "cancel the dataflow refresh", cancelDataflowTransaction, mcp.NewTool("cancel_dataflow_transaction",
			mcp.WithDescription("Cancel a running dataflow refresh, named by its transaction id from list_dataflow_transactions (e.g. 2024-03-21T08:15:02.1234567Z@...$1). "+
				"The answer's status says what happened: SuccessfullyMarked (it will stop), AlreadyConcluded (it had ended), NotFound or Invalid. "+
				"Tables already refreshed by the run keep their new data."),
			annotations("Cancel a dataflow refresh", false, false, true))),
		tool(d, "dataflows", "list the dataflow's data sources", listDataflowDatasources, mcp.NewTool("list_dataflow_datasources",
			mcp.WithDescription("List the data sources a dataflow reads: type, connection details, and the gateway data source it is bound to, if any."),
			annotations("Dataflow data sources", true, false, true))),
		tool(d, "dataflows", "list the upstream dataflows", listDataflowUpstreamDataflows, mcp.NewTool("list_dataflow_upstream_dataflows",
			mcp.WithDescription("List the dataflows a dataflow reads from (its upstream lineage), by id and workspace. "+
				"For the dataflows semantic models read from, use list_upstream_dataflows (datasets toolset) instead."),
			annotations("Upstream dataflows of a dataflow", true, false, true))),
		tool(d, "dataflows", "update the dataflow", updateDataflow, mcp.NewTool("update_dataflow",
			mcp.WithDescription("Change a dataflow's name, description, whether it may run native database queries, or its compute engine setting; only the arguments given change."),
			annotations("Update a dataflow", false, false, true))),
		tool(d, "dataflows", "delete the dataflow", deleteDataflow, mcp.NewTool("delete_dataflow",
			mcp.WithDescription("Delete a dataflow with its refresh history. Semantic models and dataflows that read from it (list_upstream_dataflows) lose their source."),
			annotations("Delete a dataflow", false, true, true))),
		tool(d, "dataflows", "change the dataflow's refresh schedule", updateDataflowRefreshSchedule, mcp.NewTool("update_dataflow_refresh_schedule",
			mcp.WithDescription("Change the scheduled refresh of a dataflow; only the arguments given change. "+
				"Power BI cannot read a dataflow's schedule back, so the answer only confirms the change. "+
				"Power BI's rules: enabled=false must come alone; at least one day; times hh:mm on the hour or half hour, at most 8 a day on shared capacity and 48 on Premium, PPU or Fabric; a service principal only with notify_option NoNotification."),
			annotations("Change a dataflow's refresh schedule", false, false, true))),
	}
}

// listDataflows is list_dataflows.
func listDataflows(ctx context.Context, d Deps, a dataflowListArgs) (DataflowListResult, error) {
	ws, err := resolveGroup(ctx, d.Client, a.Workspace)
	if err != nil {
		return DataflowListResult{}, err
	}
	all, err := d.Client.ListDataflows(ctx, ws.ID)
	if err != nil {
		return DataflowListResult{}, err
	}
	items, p := pageOf(all, defaultInt(a.Top, 100), a.Skip)
	return DataflowListResult{Workspace: ws, Dataflows: items, Page: p}, nil
}

// getDataflow is get_dataflow.
func getDataflow(ctx context.Context, d Deps, a dataflowArgs) (DataflowResult, error) {
	ws, df, err := resolveDataflow(ctx, d.Client, a.Workspace, a.Dataflow)
	if err != nil {
		return DataflowResult{}, err
	}
	def, err := d.Client.GetDataflow(ctx, ws.ID, df.ID)
	if err != nil {
		return DataflowResult{}, err
	}
	out := DataflowResult{Workspace: ws, Dataflow: df, Name: def.Name, Description: def.Description,
		ModifiedTime: def.ModifiedTime, Entities: []DataflowEntitySummary{}}
	for _, e := range def.Entities {
		s := DataflowEntitySummary{Name: e.Name, Description: e.Description, Linked: e.Type == "ReferenceEntity", Columns: []string{}}
		for _, at := range e.Attributes {
			s.Columns = append(s.Columns, fmt.Sprintf("%s (%s)", at.Name, at.DataType))
		}
		out.Entities = append(out.Entities, s)
	}
	return out, nil
}

// refreshDataflow is refresh_dataflow.
func refreshDataflow(ctx context.Context, d Deps, a refreshDataflowArgs) (DataflowTransactionsResult, error) {
	ws, df, err := resolveDataflow(ctx, d.Client, a.Workspace, a.Dataflow)
	if err != nil {
		return DataflowTransactionsResult{}, err
	}
	notify := a.NotifyOption
	if notify == "" {
		notify = "NoNotification"
	}
	if err := d.Client.RefreshDataflow(ctx, ws.ID, df.ID, a.ProcessType, notify); err != nil {
		return DataflowTransactionsResult{}, err
	}
	return dataflowTransactions(ctx, d, ws, df, 1, 0, "The refresh was started: it is the newest transaction. Follow it with list_dataflow_transactions.")
}

// listDataflowTransactions is list_dataflow_transactions.
func listDataflowTransactions(ctx context.Context, d Deps, a dataflowTransactionsArgs) (DataflowTransactionsResult, error) {
	ws, df, err := resolveDataflow(ctx, d.Client, a.Workspace, a.Dataflow)
	if err != nil {
		return DataflowTransactionsResult{}, err
	}
	return dataflowTransactions(ctx, d, ws, df, defaultInt(a.Top, 20), a.Skip, "")
}

// cancelDataflowTransaction is cancel_dataflow_transaction.
func cancelDataflowTransaction(ctx context.Context, d Deps, a cancelDataflowArgs) (CancelDataflowResult, error) {
	ws, err := resolveGroup(ctx, d.Client, a.Workspace)
	if err != nil {
		return CancelDataflowResult{}, err
	}
	st, err := d.Client.CancelDataflowTransaction(ctx, ws.ID, strings.TrimSpace(a.TransactionID))
	if err != nil {
		return CancelDataflowResult{}, err
	}
	out := CancelDataflowResult{Workspace: ws, TransactionID: st.TransactionID, Status: st.Status}
	// The definition spells the statuses camelCase, its example PascalCase: compare both.
	switch strings.ToLower(st.Status) {
	case "successfullymarked":
		out.Message = "The refresh is marked for cancellation; list_dataflow_transactions shows it Cancelled once it stops."
	case "alreadyconcluded":
		out.Message = "The refresh had already ended; nothing was cancelled."
	case "notfound":
		out.Message = "No such transaction in this workspace. Copy the id from list_dataflow_transactions."
	default:
		out.Message = "Power BI did not accept the transaction id. Copy it exactly from list_dataflow_transactions."
	}
	return out, nil
}

// listDataflowDatasources is list_dataflow_datasources.
func listDataflowDatasources(ctx context.Context, d Deps, a dataflowDatasourcesArgs) (DataflowDatasourcesResult, error) {
	ws, df, err := resolveDataflow(ctx, d.Client, a.Workspace, a.Dataflow)
	if err != nil {
		return DataflowDatasourcesResult{}, err
	}
	all, err := d.Client.ListDataflowDatasources(ctx, ws.ID, df.ID)
	if err != nil {
		return DataflowDatasourcesResult{}, err
	}
	items, p := pageOf(all, defaultInt(a.Top, 100), a.Skip)
	return DataflowDatasourcesResult{Workspace: ws, Dataflow: df, Datasources: items, Page: p}, nil
}

// listDataflowUpstreamDataflows is list_dataflow_upstream_dataflows.
func listDataflowUpstreamDataflows(ctx context.Context, d Deps, a upstreamDataflowsOfDataflowArgs) (UpstreamDataflowsOfDataflowResult, error) {
	ws, df, err := resolveDataflow(ctx, d.Client, a.Workspace, a.Dataflow)
	if err != nil {
		return UpstreamDataflowsOfDataflowResult{}, err
	}
	all, err := d.Client.ListUpstreamDataflowsOfDataflow(ctx, ws.ID, df.ID)
	if err != nil {
		return UpstreamDataflowsOfDataflowResult{}, err
	}
	items, p := pageOf(all, defaultInt(a.Top, 100), a.Skip)
	return UpstreamDataflowsOfDataflowResult{Workspace: ws, Dataflow: df, Upstream: items, Page: p}, nil
}

// updateDataflowRefreshSchedule is update_dataflow_refresh_schedule.
func updateDataflowRefreshSchedule(ctx context.Context, d Deps, a dataflowScheduleArgs) (DataflowScheduleResult, error) {
	enabled := a.Enabled
	others := len(a.Days) > 0 || len(a.Times) > 0 || a.LocalTimeZoneID != "" || a.NotifyOption != ""
	switch {
	case enabled == nil && !others:
		return DataflowScheduleResult{}, userErrorf("Nothing to change: give at least one of days, times, local_time_zone_id, enabled or notify_option.")
	case enabled != nil && !*enabled && others:
		return DataflowScheduleResult{}, userErrorf("Power BI refuses to turn a schedule off and change it in the same request. Call update_dataflow_refresh_schedule with enabled=false alone, or leave enabled out.")
	}
	ws, df, err := resolveDataflow(ctx, d.Client, a.Workspace, a.Dataflow)
	if err != nil {
		return DataflowScheduleResult{}, err
	}
	u := pbiclient.RefreshScheduleUpdate{Days: a.Days, Times: a.Times, Enabled: enabled,
		LocalTimeZoneID: a.LocalTimeZoneID, NotifyOption: a.NotifyOption}
	if err := d.Client.UpdateDataflowRefreshSchedule(ctx, ws.ID, df.ID, u); err != nil {
		return DataflowScheduleResult{}, err
	}
	return DataflowScheduleResult{Workspace: ws, Dataflow: df, Message: "The dataflow's refresh schedule was updated."}, nil
}

// dataflowTransactions is a page of the dataflow's transactions, newest first, with msg.
func dataflowTransactions(ctx context.Context, d Deps, ws WorkspaceRef, df ItemRef, top, skip int, msg string) (DataflowTransactionsResult, error) {
	all, err := d.Client.ListDataflowTransactions(ctx, ws.ID, df.ID)
	if err != nil {
		return DataflowTransactionsResult{}, err
	}
	items, p := pageOf(all, top, skip)
	return DataflowTransactionsResult{Workspace: ws, Dataflow: df, Transactions: items, Page: p, Message: msg}, nil
}

// updateDataflow is update_dataflow.
func updateDataflow(ctx context.Context, d Deps, a updateDataflowArgs) (UpdateDataflowResult, error) {
	u := pbiclient.DataflowUpdate{Name: a.Name, Description: a.Description, AllowNativeQueries: a.AllowNativeQueries, ComputeEngineBehavior: a.ComputeEngineBehavior}
	if u == (pbiclient.DataflowUpdate{}) {
		return UpdateDataflowResult{}, userErrorf("Nothing to change: pass name, description, allow_native_queries or compute_engine_behavior.")
	}
	ws, df, err := resolveDataflow(ctx, d.Client, a.Workspace, a.Dataflow)
	if err != nil {
		return UpdateDataflowResult{}, err
	}
	if err := d.Client.UpdateDataflow(ctx, ws.ID, df.ID, u); err != nil {
		return UpdateDataflowResult{}, err
	}
	all, err := d.Client.ListDataflows(ctx, ws.ID)
	if err != nil {
		return UpdateDataflowResult{}, err
	}
	res := UpdateDataflowResult{Workspace: ws, Dataflow: pbiclient.Dataflow{ObjectID: df.ID}}
	for _, x := range all {
		if strings.EqualFold(x.ObjectID, df.ID) {
			res.Dataflow = x
		}
	}
	return res, nil
}

// deleteDataflow is delete_dataflow.
func deleteDataflow(ctx context.Context, d Deps, a deleteDataflowArgs) (DeleteDataflowResult, error) {
	ws, df, err := resolveDataflow(ctx, d.Client, a.Workspace, a.Dataflow)
	if err != nil {
		return DeleteDataflowResult{}, err
	}
	if df.Name == "" {
		// Named by id: find its name for the confirmation, and fail on a wrong id before anyone is asked.
		all, err := d.Client.ListDataflows(ctx, ws.ID)
		if err != nil {
			return DeleteDataflowResult{}, err
		}
		i := slices.IndexFunc(all, func(x pbiclient.Dataflow) bool { return strings.EqualFold(x.ObjectID, df.ID) })
		if i < 0 {
			return DeleteDataflowResult{}, userErrorf("No dataflow with id %s is in %s. Nothing was changed. Next: list_dataflows shows its dataflows.", df.ID, workspaceLabel(ws))
		}
		df.Name = all[i].Name
	}
	if err := confirmed(ctx, a.Confirm, fmt.Sprintf("Delete the dataflow %s from %s, with its refresh history.", itemLabel(df), workspaceLabel(ws))); err != nil {
		return DeleteDataflowResult{}, err
	}
	if err := d.Client.DeleteDataflow(ctx, ws.ID, df.ID); err != nil {
		return DeleteDataflowResult{}, err
	}
	return DeleteDataflowResult{Workspace: ws, Dataflow: df, Deleted: true}, nil
}
