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
	// Audit, if set, gets one line per tool call; Calls, if set, hears of every call (see
	// audit.go).
	Audit *AuditLog
	Calls CallObserver
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
	// AdminRole, when set, keeps the admin toolset from every signed-in caller (auth.Caller in
	// the request's context) whose token lacks this app role, in tools/list and tools/call.
	AdminRole string
}

// Toolset groups tools of one Power BI area.
type Toolset struct {
	Name        string
	Description string
	// Needs is what Power BI asks of the caller for every tool of the set; the instructions
	// say it once, for the toolsets offered, instead of every tool's description.
	Needs   string
	Default bool // offered when the user chooses nothing
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
	{Name: "workspaces", Default: true, Description: "find workspaces and see who has access to them"},
	{Name: "workspace_admin", Description: "create, rename and delete workspaces; manage access, e.g. add a service principal as Admin or Member"},
	{Name: "datasets", Default: true, Description: "find and inspect semantic models (datasets): settings, data sources, parameters, users, upstream dataflows"},
	{Name: "dataset_admin", Description: "change semantic models: settings, parameters, refresh schedules, ownership, access, deletion"},
	{Name: "refresh", Default: true, Description: "refresh semantic models, whole or by table and partition; follow, cancel and read the history of refreshes and their schedules"},
	{Name: "dax", Default: true, Description: "query semantic models with DAX and read their tables, columns and measures"},
	{Name: "modeling", Default: true, Description: "read semantic model definitions (TMDL) and edit them: measures, or whole parts. An edit is checked, then shown as a diff to confirm (without confirm nothing is sent), and the definition is backed up under the export directory before it is sent",
		Needs: "the Fabric REST API: a service principal needs the tenant setting 'Service principals can use Fabric APIs', and editing needs Contributor or higher in the workspace"},
	{Name: "reports", Default: true, Description: "find and inspect reports and their pages; export them (PDF, PowerPoint, PNG; paginated reports also Excel, Word, CSV...); download .pbix and .rdl files"},
	{Name: "report_admin", Description: "copy, rebind, overwrite, take over and delete reports"},
	{Name: "dashboards", Description: "dashboards and their tiles: list, create, delete, copy tiles"},
	{Name: "apps", Description: "installed Power BI apps and their reports and dashboards",
		Needs: "a signed-in user: Power BI refuses service principals here (403 'API is not accessible for application'), so the server needs a user's token (PBI_MCP_ACCESS_TOKEN)"},
	{Name: "admin", Description: "tenant administration: every workspace, model, report, dashboard, app and capacity of the tenant, the activity log, metadata scans",
		Needs: "a Fabric (Power BI) administrator, or a service principal in a security group allowed by the tenant setting 'Service principals can access read-only admin APIs' " +
			"that holds NO admin-consent Power BI permissions (such as Tenant.Read.All); anyone else gets 401 PowerBINotAuthorizedException. These tools see every workspace, member or not"},
	{Name: "push", Description: "push datasets: create them, change their tables, add rows inline or from CSV and JSON files in the data directory, delete rows"},
	{Name: "imports", Description: "publish .pbix, .rdl, .xlsx and dataflow files from the data directory to a workspace and follow the imports"},
	{Name: "pipelines", Description: "deployment pipelines: create them, assign workspaces to their stages, manage their admins, deploy all or chosen items and follow deployments",
		Needs: "access to the pipeline and the scope Pipeline.Read.All or Pipeline.ReadWrite.All; pipelines work only with workspaces on Premium, Premium Per User or Fabric capacity"},
	{Name: "gateways", Description: "on-premises data gateways: data sources and their credentials, status and users; binding semantic models to gateways",
		Needs: "an admin of the gateway (Power BI lists only those); virtual network gateways are not reachable through the API"},
	{Name: "dataflows", Description: "dataflows: definition, data sources, lineage, refreshes, refresh schedule; rename and delete",
		Needs: "a role in the workspace (Contributor or higher for changes); My workspace has no dataflows here"},
	{Name: "embed", Description: "embed tokens for embedding reports, semantic models, dashboards and tiles in an app for customers",
		Needs: "read access to the items and a role in their workspace (a service principal: Member or Admin); no My workspace content. " +
			"The token is a SECRET for the embedding application: never show it. On shared capacity tokens are limited trial tokens (403 once used up); " +
			"production embedding needs a Premium, Embedded (A SKU) or Fabric capacity"},
	{Name: "capacities", Description: "Premium, Embedded and Fabric capacities: their workloads and refreshables; move workspaces onto or off them"},
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
	{[]string{"modeling"}, modelingTools},
	{[]string{"reports", "report_admin"}, reportTools},
	{[]string{"dashboards"}, dashboardTools},
	{[]string{"apps"}, appTools},
	{[]string{"admin"}, adminTools},
	{[]string{"admin"}, adminAuditTools},
	{[]string{"admin"}, adminAccessTools},
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
			if near := closestNames(name, toolNames(all)); len(near) > 0 {
				return nil, fmt.Errorf("unknown tool %q; did you mean %s?", name, strings.Join(near, ", "))
			}
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

// CheckSelection returns the error NewServer would give for opts' toolsets and tool names,
// without building a server, so a command can refuse a typo before it starts serving. Tools are
// built only when some are named: their names are only known from their definitions.
func CheckSelection(opts Options) error {
	if _, err := chosenToolsets(opts); err != nil || len(opts.Tools) == 0 {
		return err
	}
	_, err := Select(All(Deps{}), opts)
	return err
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
	// Each request over HTTP may get fewer of them (selection.go).
	access := newAccess(selected, opts)
	hooks := notOfferedHooks(selected, opts, access)
	instructionHooks(hooks, selected, access)
	s := server.NewMCPServer("powerbi-mcp", opts.Version,
		server.WithTitle("Power BI"),
		server.WithToolCapabilities(false),
		server.WithRecovery(),
		server.WithElicitation(), // destructive tools ask the user when the client can (see confirm.go)
		server.WithInstructions(instructions(selected, opts.ReadOnly)),
		server.WithHooks(hooks),
		server.WithToolFilter(access.filter),
	)
	var slots chan struct{} // one per long-running call in progress; nil: no bound
	if opts.MaxLongRunning > 0 {
		slots = make(chan struct{}, opts.MaxLongRunning)
	}
	for _, t := range selected {
		s.AddTool(t.Definition, observed(d, t, wrap(t, d.Logger, callTimeout(d), slots)))
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

// instructions are the server's instructions: the rules every tool follows, said once here
// instead of in each tool's description, the toolsets offered with what Power BI asks of their
// callers, and the toolsets that are off with how to turn them on.
func instructions(selected []Tool, readOnly bool) string {
	return instructionsWith(selected, readOnly, nil)
}

// instructionsWith are instructions for a request that gets selected: leftOut says, of a
// toolset off, why this request does not get it when the server offers it (nil: it does not).
func instructionsWith(selected []Tool, readOnly bool, leftOut func(Toolset) (string, bool)) string {
	var b strings.Builder
	b.WriteString("Power BI through its REST API. Rules for every tool:\n" +
		"- An item argument (workspace, dataset, report, dashboard, dataflow, app, gateway, pipeline, capacity...) takes the item's id (GUID) or exact name, " +
		"as the list_ tool of its kind returns them; results say which item was used.\n" +
		"- Omit workspace for the caller's My workspace; a tool that requires workspace does not work on My workspace.\n" +
		"- Lists return at most top items (see each tool's default and maximum); when hasMore is true, call again with skip = nextSkip.\n" +
		"- A tool that deletes or overwrites asks the user when the client can; otherwise ask the user and pass confirm: true only after they agreed. Without it nothing changes.\n" +
		"- Every result fits a size budget: a list it cut says truncated and continues right after the last item sent at skip = nextSkip (or continuation_token = continuationToken); any other result it cut says in truncation what was left out.\n" +
		"- A file a tool writes comes back as its path and a resource link; resources/read returns its bytes, also to a client on another machine.\n" +
		"- Errors carry the Power BI error code, the RequestId and what to do next.\n")
	enabled := map[string]bool{}
	for _, t := range selected {
		enabled[t.Toolset] = true
	}
	b.WriteString("Toolsets on:\n")
	var off []Toolset
	var withheld []string
	for _, ts := range toolsets {
		if !enabled[ts.Name] {
			if leftOut != nil {
				if why, ok := leftOut(ts); ok {
					withheld = append(withheld, fmt.Sprintf("- %s: %s; %s.\n", ts.Name, ts.Description, why))
					continue
				}
			}
			off = append(off, ts)
			continue
		}
		fmt.Fprintf(&b, "- %s: %s.", ts.Name, ts.Description)
		if ts.Needs != "" {
			fmt.Fprintf(&b, " Needs %s.", ts.Needs)
		}
		b.WriteString("\n")
	}
	if len(off) > 0 {
		example := off[0].Name
		if i := slices.IndexFunc(off, func(ts Toolset) bool { return !ts.Default }); i >= 0 {
			example = off[i].Name
		}
		b.WriteString("Toolsets off (the user turns them on with --toolsets or PBI_MCP_TOOLSETS, e.g. --toolsets default," + example + "):\n")
		for _, ts := range off {
			fmt.Fprintf(&b, "- %s: %s\n", ts.Name, ts.Description)
		}
	}
	if len(withheld) > 0 {
		b.WriteString("Toolsets this server offers that this connection does not get:\n" + strings.Join(withheld, ""))
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
