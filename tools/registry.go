// Package tools defines the MCP tools of powerbi-mcp: one per Power BI operation, grouped into
// toolsets, each with a typed input schema, all four annotations, an output schema and
// structured results. The registry here owns the list; each area's file adds its tools.
package tools

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/rs/zerolog"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
)

// Deps is what the tools need at run time.
type Deps struct {
	Client *pbiclient.Client
	// ExportDir is the only directory tools write files to. It is created on first use.
	ExportDir string
	// DataDir is the only directory tools read files from (see openDataFile).
	DataDir string
	Logger  zerolog.Logger
	// CallTimeout bounds each tool call (see callContext): 0 means DefaultCallTimeout,
	// negative means no limit.
	CallTimeout time.Duration
	// MaxResultBytes bounds every tool result: its text, and its structured content, each
	// (see DefaultMaxResultBytes). 0 means the default.
	MaxResultBytes int
	// MaxResourceBytes is the largest file resources/read returns; a larger one is refused with
	// its path. 0 means DefaultMaxResourceBytes.
	MaxResourceBytes int64
}

// The defaults of Deps' limits.
const (
	// DefaultMaxResultBytes keeps a result to about 8k tokens: room for a page of a list or a
	// few hundred rows of a query, far from a context window.
	DefaultMaxResultBytes = 32 << 10
	// DefaultMaxResourceBytes is large enough for a typical exported report.
	DefaultMaxResourceBytes = 20 << 20
)

// maxResultBytes is d's result budget.
func (d Deps) maxResultBytes() int {
	if d.MaxResultBytes <= 0 {
		return DefaultMaxResultBytes
	}
	return d.MaxResultBytes
}

// maxResourceBytes is the largest file d serves through resources/read.
func (d Deps) maxResourceBytes() int64 {
	if d.MaxResourceBytes <= 0 {
		return DefaultMaxResourceBytes
	}
	return d.MaxResourceBytes
}

// Options selects which tools a server offers.
type Options struct {
	Version  string
	ReadOnly bool     // register no tool that changes anything
	Toolsets []string // toolset names, "default" or "all"; empty = "default"
	Tools    []string // individual tool names, added to the toolsets chosen
	// MaxLongRunning bounds how many calls of long-running tools (Tool.LongRunning) run at once;
	// past it, such a call is refused at once with a result that says so. 0 means no bound.
	// A transport that runs calls on a fixed pool of workers (stdio) sets it below the pool's
	// size, so that long calls can never take every worker and quick calls always find one.
	MaxLongRunning int
}

// Toolset groups tools of one Power BI area.
type Toolset struct {
	Name        string
	Description string
	Default     bool // offered when the user chooses nothing
}

// Tool is one registered tool: its MCP definition, its handler, and the toolset it belongs to.
type Tool struct {
	Definition mcp.Tool
	Handler    server.ToolHandlerFunc
	Toolset    string
	// LongRunning marks a tool that may follow a Power BI job for minutes (exports, refreshes
	// with wait, imports, deployments, capacity assignments, scans, the activity log) or pace
	// its requests to Power BI's limits (add_rows): every tool that sends progress
	// notifications. Options.MaxLongRunning counts their calls. Other tools wait only for
	// throttling, and that wait is bounded by pbiclient.
	LongRunning bool
}

// tool makes one tool: def names and describes it (mcp.NewTool with its description and
// annotations), and run is its handler, bound here to d. The handler's argument type A and
// result type O are the tool's input and output schemas (inputSchema, outputSchema). action
// names what failed in an error result, e.g. "list workspaces". Every result fits d's budget
// (handle).
func tool[A, O any](d Deps, toolset, action string, run func(context.Context, Deps, A) (O, error), def mcp.Tool) Tool {
	inputSchema[A]()(&def)
	outputSchema[O]()(&def)
	return Tool{Toolset: toolset, Definition: def, Handler: handle(action, d.maxResultBytes(), func(ctx context.Context, _ mcp.CallToolRequest, a A) (O, error) {
		return run(ctx, d, a)
	})}
}

// followsJobs marks t as long-running (Tool.LongRunning).
func (t Tool) followsJobs() Tool {
	t.LongRunning = true
	return t
}

// toolsets lists every toolset in the order the instructions describe them.
var toolsets = []Toolset{
	{Name: "workspaces", Default: true, Description: "find workspaces and see who has access to them (list_workspaces, get_workspace, list_workspace_users)"},
	{Name: "workspace_admin", Description: "create, rename and delete workspaces and manage who has access, e.g. add a service principal as Admin or Member (create_workspace, update_workspace, delete_workspace, add_workspace_user, update_workspace_user, remove_workspace_user)"},
	{Name: "datasets", Default: true, Description: "find and inspect semantic models, also called datasets: settings, data sources, parameters, users, upstream dataflows (list_datasets, get_dataset, list_datasources, list_dataset_parameters, list_dataset_users, list_upstream_dataflows)"},
	{Name: "dataset_admin", Description: "change semantic models: settings, parameters, refresh schedules, ownership, access, deletion (update_dataset, update_dataset_parameters, update_refresh_schedule, update_direct_query_refresh_schedule, take_over_dataset, grant_dataset_access, delete_dataset)"},
	{Name: "refresh", Default: true, Description: "refresh semantic models, whole or by table and partition (enhanced refresh), follow and cancel refreshes, read their history and refresh schedules (refresh_dataset, get_refresh_history, get_refresh_details, cancel_refresh, get_refresh_schedule, get_direct_query_refresh_schedule)"},
	{Name: "dax", Default: true, Description: "query semantic models with DAX and read their tables, columns and measures (execute_dax_query, get_dataset_schema)"},
	{Name: "reports", Default: true, Description: "find and inspect reports, their pages and paginated reports' data sources; export them to PDF, PowerPoint, PNG or, for paginated reports, Excel, Word, CSV and more; download .pbix and .rdl files (list_reports, get_report, list_report_pages, list_report_datasources, export_report, download_report_pbix)"},
	{Name: "report_admin", Description: "copy, rebind, overwrite, take over and delete reports (clone_report, rebind_report, update_report_content, take_over_report, delete_report)"},
	{Name: "dashboards", Description: "find dashboards and their tiles, create dashboards and copy tiles between them (list_dashboards, list_tiles, create_dashboard, clone_tile)"},
	{Name: "apps", Description: "installed Power BI apps and their reports and dashboards (list_apps, list_app_reports, list_app_dashboards); only for a signed-in user, not a service principal"},
	{Name: "admin", Description: "tenant administration: every workspace, model, report, dashboard, app and capacity in the tenant, the activity log and metadata scans; needs a Fabric administrator or a service principal allowed by the tenant setting 'Service principals can access read-only admin APIs'"},
	{Name: "push", Description: "push datasets: create them, read and change their tables' schemas, add rows inline or from CSV and JSON files in the data directory, delete rows (create_push_dataset, list_tables, update_table_schema, add_rows, delete_rows)"},
	{Name: "imports", Description: "publish .pbix, .rdl, .xlsx and dataflow files from the server's data directory to a workspace and follow the imports (import_file, get_import, list_imports)"},
	{Name: "pipelines", Description: "deployment pipelines: their stages and items, deploying a stage to the next and the deployment history (list_pipelines, get_pipeline, list_pipeline_stages, list_pipeline_stage_artifacts, list_pipeline_operations, get_pipeline_operation, deploy_pipeline_stage)"},
	{Name: "gateways", Description: "on-premises data gateways: their data sources, whether they are reachable, who may use them, and binding semantic models to them (list_gateways, get_gateway, list_gateway_datasources, get_gateway_datasource, get_gateway_datasource_status, list_gateway_datasource_users, add_gateway_datasource_user, remove_gateway_datasource_user, discover_gateways, bind_dataset_to_gateway)"},
	{Name: "dataflows", Description: "dataflows of a workspace: definition, data sources, lineage, refreshes and their cancellation, refresh schedule (list_dataflows, get_dataflow, refresh_dataflow, list_dataflow_transactions, cancel_dataflow_transaction, list_dataflow_datasources, list_dataflow_upstream_dataflows, update_dataflow_refresh_schedule)"},
	{Name: "embed", Description: "generate embed tokens for embedding reports, semantic models, dashboards and tiles in an app for customers (generate_embed_token, generate_report_embed_token, generate_report_create_embed_token, generate_dataset_embed_token, generate_dashboard_embed_token, generate_tile_embed_token)"},
	{Name: "capacities", Description: "Premium, Embedded and Fabric capacities: list them, their workloads and refresh statistics, and move workspaces onto or off them (list_capacities, list_capacity_workloads, list_refreshables, assign_workspace_to_capacity)"},
}

// Toolsets returns every toolset the server knows.
func Toolsets() []Toolset { return slices.Clone(toolsets) }

// areas holds each file's tools with the toolsets they belong to, in the order All lists them.
// A server builds only the areas whose toolsets it offers: building the definitions is most of
// what start-up costs. TestAreasDeclareTheirToolsets keeps these lists true.
var areas = []struct {
	toolsets []string
	tools    func(Deps) []Tool
}{
	{[]string{"workspaces", "workspace_admin"}, workspaceTools},
	{[]string{"datasets", "dataset_admin"}, datasetTools},
	{[]string{"refresh", "dataset_admin"}, refreshTools},
	{[]string{"dax"}, daxTools},
	{[]string{"reports", "report_admin"}, reportTools},
	{[]string{"dashboards"}, dashboardTools},
	{[]string{"apps"}, appTools},
	{[]string{"admin"}, adminTools},
	{[]string{"admin"}, adminAuditTools},
	{[]string{"push"}, pushTools},
	{[]string{"imports"}, importTools},
	{[]string{"pipelines"}, pipelineTools},
	{[]string{"gateways"}, gatewayTools},
	{[]string{"dataflows"}, dataflowTools},
	{[]string{"embed"}, embedTools},
	{[]string{"capacities"}, capacityTools},
}

// All returns every tool, unfiltered, in a stable order.
func All(d Deps) []Tool {
	return build(d, func([]string) bool { return true })
}

// build returns the tools of the areas wanted, in All's order.
func build(d Deps, wanted func(toolsets []string) bool) []Tool {
	var all []Tool
	for _, a := range areas {
		if wanted(a.toolsets) {
			all = append(all, a.tools(d)...)
		}
	}
	for i := range all {
		useGeneratedInputSchema(&all[i].Definition)
	}
	return all
}

// Select applies the options to the full list: toolsets, individual tools, read-only.
// Unknown names are an error that lists the valid ones, so a typo in a config file is caught at start.
func Select(all []Tool, opts Options) ([]Tool, error) {
	sets, err := chosenToolsets(opts)
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for _, name := range opts.Tools {
		if !slices.ContainsFunc(all, func(t Tool) bool { return t.Definition.Name == name }) {
			return nil, fmt.Errorf("unknown tool %q; valid tools: %s", name, strings.Join(toolNames(all), ", "))
		}
		names[name] = true
	}
	var out []Tool
	for _, t := range all {
		if !sets[t.Toolset] && !names[t.Definition.Name] {
			continue
		}
		if opts.ReadOnly && !isReadOnly(t.Definition) {
			continue
		}
		out = append(out, t)
	}
	return out, nil
}

// chosenToolsets returns the toolsets the options choose.
func chosenToolsets(opts Options) (map[string]bool, error) {
	sets := map[string]bool{}
	chosen := opts.Toolsets
	if len(chosen) == 0 && len(opts.Tools) == 0 {
		chosen = []string{"default"}
	}
	for _, name := range chosen {
		switch name {
		case "all":
			for _, ts := range toolsets {
				sets[ts.Name] = true
			}
		case "default":
			for _, ts := range toolsets {
				if ts.Default {
					sets[ts.Name] = true
				}
			}
		default:
			if !slices.ContainsFunc(toolsets, func(ts Toolset) bool { return ts.Name == name }) {
				return nil, fmt.Errorf("unknown toolset %q; valid toolsets: all, default, %s", name, strings.Join(toolsetNames(), ", "))
			}
			sets[name] = true
		}
	}
	return sets, nil
}

// NewServer builds the MCP server with the selected tools. It does no I/O, so start-up stays fast.
func NewServer(d Deps, opts Options) (*server.MCPServer, error) {
	sets, err := chosenToolsets(opts)
	if err != nil {
		return nil, err
	}
	candidates := func(toolsets []string) bool {
		return slices.ContainsFunc(toolsets, func(ts string) bool { return sets[ts] })
	}
	if len(opts.Tools) > 0 {
		// A tool chosen by name may be in any area.
		candidates = func([]string) bool { return true }
	}
	selected, err := Select(build(d, candidates), opts)
	if err != nil {
		return nil, err
	}
	s := server.NewMCPServer("powerbi-mcp", opts.Version,
		server.WithTitle("Power BI"),
		server.WithToolCapabilities(false),
		server.WithRecovery(),
		server.WithElicitation(), // destructive tools ask the user when the client can (see confirm.go)
		server.WithInstructions(instructions(selected, opts.ReadOnly)),
	)
	var slots chan struct{} // one per long-running call in progress; nil: no bound
	if opts.MaxLongRunning > 0 {
		slots = make(chan struct{}, opts.MaxLongRunning)
	}
	for _, t := range selected {
		s.AddTool(t.Definition, wrap(t, d.Logger, callTimeout(d), slots))
	}
	addPrompts(s, selected)
	addResources(s, d)
	return s, nil
}

// wrap adds what every tool call gets: a call cancelled before it starts does nothing,
// argument validation against the declared schema with messages a model can act on, the bound
// on long-running calls (slots; nil for none), a deadline and progress (callContext), and one
// log line per call.
//
// The validator is compiled on the tool's first call, not at start-up: most sessions call a
// few of the tools offered, and a server that answers its first request sooner is worth more.
// TestEveryToolIsFullyDeclared compiles every schema, so none can fail only in use.
func wrap(t Tool, log zerolog.Logger, callTimeout time.Duration, slots chan struct{}) server.ToolHandlerFunc {
	name := t.Definition.Name
	validator := sync.OnceValues(func() (func(any) string, error) { return compileInputSchema(t.Definition) })
	schema := sync.OnceValues(func() (inputSchemaDoc, error) { return parseInputSchema(t.Definition) })
	if !t.LongRunning {
		slots = nil
	}
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		start := time.Now()
		// mcp-go runs a call even when the client cancelled it while it waited for a worker
		// (stdio), with its context already done. Such a call must not reach Power BI.
		if ctx.Err() != nil {
			log.Info().Str("tool", name).Str("outcome", "cancelled").Msg("tool call")
			return mcp.NewToolResultError(fmt.Sprintf("The %s call was cancelled before it started; nothing was sent to Power BI. Call it again if it is still needed.", name)), nil
		}
		validate, err := validator()
		if err != nil {
			return nil, fmt.Errorf("tool %s: %w", name, err)
		}
		req.Params.Arguments = normalizeArgs(schema, req.Params.Arguments)
		if msg := validate(req.Params.Arguments); msg != "" {
			log.Info().Str("tool", name).Str("outcome", "invalid arguments").Msg("tool call")
			return mcp.NewToolResultError(fmt.Sprintf("Invalid arguments for %s: %s. Fix the arguments to match the tool's input schema and call it again.", name, msg)), nil
		}
		// The handler binds what was validated, the decoded arguments, not the bytes as sent:
		// JSON may spell an integer the schema accepts as 1e2 or 20.0, which Go's decoder
		// refuses for an int field.
		req.Params.RawArguments = nil
		if slots != nil {
			select {
			case slots <- struct{}{}:
				defer func() { <-slots }()
			default:
				log.Info().Str("tool", name).Str("outcome", "busy").Msg("tool call")
				return mcp.NewToolResultError(fmt.Sprintf("%s was not started: this server is already following %d long-running calls (exports, refreshes with wait, imports, deployments, scans), "+
					"the most it runs at once so that other calls stay answered. Nothing was sent to Power BI. Wait for one of those calls to finish, then call again.", name, cap(slots))), nil
			}
		}
		doc, err := schema()
		if err != nil {
			return nil, fmt.Errorf("tool %s: %w", name, err)
		}
		ctx, cancel := callContext(ctx, doc, req, callTimeout)
		defer cancel()
		res, err := t.Handler(ctx, req)
		ev := log.Info().Str("tool", name).Dur("took", time.Since(start))
		switch {
		case err != nil:
			ev = log.Error().Str("tool", name).Err(err)
		case res != nil && res.IsError:
			ev = ev.Str("outcome", "error").Str("error", firstText(res))
		default:
			ev = ev.Str("outcome", "ok")
		}
		ev.Msg("tool call")
		return res, err
	}
}

func instructions(selected []Tool, readOnly bool) string {
	var b strings.Builder
	b.WriteString("Power BI through its REST API. Workspaces, semantic models (datasets) and reports are " +
		"named by id (a GUID) or by exact name; omit the workspace to mean the caller's My workspace. " +
		"Lists are paged with top and skip and say hasMore. " +
		"Every result fits a size budget: a list it cut says truncated, with hasMore, and continues right after the last item sent at skip = nextSkip (or continuation_token = continuationToken); any other result it cut says in truncation what was left out. " +
		"Errors carry the Power BI error code, the " +
		"RequestId and what to do next.\nEnabled toolsets:\n")
	enabled := map[string]bool{}
	for _, t := range selected {
		enabled[t.Toolset] = true
	}
	for _, ts := range toolsets {
		if enabled[ts.Name] {
			fmt.Fprintf(&b, "- %s: %s\n", ts.Name, ts.Description)
		}
	}
	if readOnly {
		b.WriteString("The server is read-only: tools that change Power BI are not offered.\n")
	}
	return b.String()
}

func isReadOnly(t mcp.Tool) bool {
	return t.Annotations.ReadOnlyHint != nil && *t.Annotations.ReadOnlyHint
}

func toolsetNames() []string {
	var names []string
	for _, ts := range toolsets {
		names = append(names, ts.Name)
	}
	return names
}

func toolNames(all []Tool) []string {
	var names []string
	for _, t := range all {
		names = append(names, t.Definition.Name)
	}
	sort.Strings(names)
	return names
}
