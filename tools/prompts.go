package tools

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// MCP prompts: short recipes for the common jobs, which clients offer as slash commands. Each
// renders one user message that names the tools to call, in order, and what to look for in
// their answers. A prompt lists the tools it cannot do without; when the server does not offer
// them, the prompt is still listed, so people find it, but says which toolset to turn on, and
// prompts/get answers with that instead of a recipe the agent could not follow.

// recipe is one prompt.
type recipe struct {
	name, title, description string
	args                     []recipeArg
	needs                    []string // tools the recipe cannot do without
	toolsets                 []string // the toolsets of needs, to name in the hint
	// steps renders the message from the arguments given; offered tells whether an optional
	// tool is there, so a step that needs one is left out rather than followed in vain.
	steps func(a map[string]string, offered func(tool string) bool) string
}

type recipeArg struct {
	name, description string
	required          bool
	// values, when set, are the values the argument takes (matched without regard to case).
	values []string
}

// recipes lists the prompts (prompts/list sorts them by name).
var recipes = []recipe{
	{
		name: "explore_semantic_model", title: "Explore a semantic model",
		description: "Brief me on a semantic model: what it holds, its tables, measures and data sources, how fresh it is, and how to query it.",
		args: []recipeArg{
			{name: "workspace", description: "Workspace name or id; leave empty for My workspace."},
			{name: "dataset", description: "Semantic model (dataset) name or id.", required: true},
		},
		needs: []string{"get_dataset", "get_dataset_schema", "execute_dax_query"}, toolsets: []string{"datasets", "dax"},
		steps: func(a map[string]string, offered func(string) bool) string {
			var b recipeText
			b.line("Explore the semantic model %s in %s and brief me on it.", quoted(a["dataset"]), workspaceOf(a))
			b.step("get_dataset: owner (configuredBy), storage mode, whether it is refreshable, the web URL.")
			b.step("get_dataset_schema: its tables, columns and measures (with their expressions). Note the fact and dimension tables, the date table, hidden key columns, and the measures that matter most.")
			b.step("execute_dax_query with small queries and max_rows 10: EVALUATE TOPN(5, 'Table') for the two or three main tables, and EVALUATE ROW(\"Value\", [Measure]) for the key measures, to see real values.")
			b.stepIf(offered("list_datasources"), "list_datasources: where the data comes from, and through which gateway.")
			b.stepIf(offered("get_refresh_history"), "get_refresh_history with top 5: when the data was last refreshed and whether refreshes fail.")
			b.stepIf(offered("list_reports"), "list_reports in the same workspace: the reports whose datasetId is this model's id.")
			b.line("Then answer briefly: what the model is for, its main tables and measures and their grain, how fresh the data is, and three business questions it answers, each with the DAX query for it. Do not paste whole tables.")
			return b.String()
		},
	},
	{
		name: "diagnose_refresh_failure", title: "Diagnose a failed refresh",
		description: "Find out why a semantic model's refreshes fail, from its refresh history, details, data sources and schedule, and what to do about it.",
		args: []recipeArg{
			{name: "workspace", description: "Workspace name or id; leave empty for My workspace."},
			{name: "dataset", description: "Semantic model (dataset) name or id.", required: true},
		},
		needs: []string{"get_refresh_history", "get_refresh_details"}, toolsets: []string{"refresh"},
		steps: func(a map[string]string, offered func(string) bool) string {
			var b recipeText
			b.line("Find out why refreshes of the semantic model %s in %s fail, and what to do about it.", quoted(a["dataset"]), workspaceOf(a))
			b.step("get_refresh_history with top 20: the latest Failed refresh and its error (errorCode and errorDescription), when the last Completed one ran, and whether failures repeat. A refresh with status InProgress or Unknown and no end time is still running.")
			b.step("If the failed refresh is ViaEnhancedApi: get_refresh_details with its requestId, for the tables and partitions that failed and the engine's messages. Other refreshes have no details.")
			b.stepIf(offered("list_datasources"), "list_datasources: the data sources, and the gateway each goes through (gatewayId, datasourceId).")
			b.stepIf(offered("get_gateway_datasource_status"), "For a data source behind a gateway: get_gateway_datasource_status, whether the gateway reaches it with its stored credentials.")
			b.stepIf(offered("get_refresh_schedule"), "get_refresh_schedule: whether scheduled refresh is on (Power BI turns it off after repeated failures).")
			b.line("Then tell me the cause in one sentence, the evidence for it, and the fix: who must do what, and where (for example, enter the data source credentials in the model's settings, update them on the gateway, or, after a passing fault such as a timeout, just refresh again). Do not start a refresh; offer refresh_dataset once the cause is fixed.")
			return b.String()
		},
	},
	{
		name: "tenant_inventory", title: "Tenant inventory",
		description: "Take stock of the Power BI tenant: workspaces, capacities, semantic models and reports, failing refreshes and recent activity.",
		args: []recipeArg{
			{name: "focus", description: "Optional: what to look at most closely, e.g. unused content, refresh failures, personal workspaces, or a workspace name."},
		},
		needs: []string{"admin_list_workspaces", "admin_list_datasets", "admin_list_reports"}, toolsets: []string{"admin"},
		steps: func(a map[string]string, offered func(string) bool) string {
			var b recipeText
			b.line("Take an inventory of the Power BI tenant.")
			if f := strings.TrimSpace(a["focus"]); f != "" {
				b.line("Look most closely at: %s.", f)
			}
			b.step("admin_list_workspaces, paging with top and skip while hasMore: how many workspaces by type and state, and those without an admin, deleted or orphaned.")
			b.stepIf(offered("admin_list_capacities"), "admin_list_capacities: the capacities, their SKUs and state.")
			b.step("admin_list_datasets and admin_list_reports, paged the same way: how many per workspace, and semantic models no report uses.")
			b.stepIf(offered("admin_list_refreshables"), "admin_list_refreshables: models on capacities whose refreshes failed in the last seven days.")
			b.stepIf(offered("admin_get_activity_events"), "admin_get_activity_events for yesterday (one UTC day per call; if truncated, call again with continuation_token): the most active users and the most viewed items.")
			b.line("The admin APIs allow few calls an hour: page with the largest top, and say how many calls you made. Answer with a short summary and one table per area; list names only where something needs attention.")
			return b.String()
		},
	},
	{
		name: "export_report", title: "Export a report",
		description: "Export a report to a file (PDF, PPTX, PNG; paginated reports also XLSX, DOCX, CSV and more) and hand it over.",
		args: []recipeArg{
			{name: "workspace", description: "Workspace name or id; leave empty for My workspace."},
			{name: "report", description: "Report name or id.", required: true},
			{name: "format", description: "File format: " + strings.Join(exportFormatList(), ", ") + ".", required: true, values: exportFormatList()},
		},
		needs: []string{"export_report"}, toolsets: []string{"reports"},
		steps: func(a map[string]string, offered func(string) bool) string {
			var b recipeText
			format := strings.ToUpper(a["format"])
			b.line("Export the report %s in %s to %s.", quoted(a["report"]), workspaceOf(a), format)
			b.stepIf(offered("get_report"), "get_report: check that it exists and whether it is a Power BI or a paginated report. Power BI reports export only to PDF, PPTX and PNG.")
			b.stepIf(offered("list_report_pages"), "For a Power BI report, list_report_pages if I want only some pages: export_report takes page names (ReportSection...), not display names.")
			b.step("export_report with format %s. It follows the export job; if the answer has status Running, call it again with the export_id it returned.", format)
			b.line("Then give me the file (its resource link), its size and what it contains. If the export fails, say why from the error: exports need a Premium, Embedded or Fabric capacity and the tenant's export settings.")
			return b.String()
		},
	},
}

// exportFormatList is every format export_report takes.
func exportFormatList() []string { return slices.Concat(powerBIFormats, paginatedOnlyFormats) }

// recipeText builds a prompt message: lines, and numbered steps.
type recipeText struct {
	strings.Builder
	n int
}

func (b *recipeText) line(format string, args ...any) {
	fmt.Fprintf(b, format, args...)
	b.WriteString("\n")
}

func (b *recipeText) step(format string, args ...any) {
	b.n++
	fmt.Fprintf(b, "%d. ", b.n)
	b.line(format, args...)
}

// stepIf adds the step when the tool it uses is offered: a recipe names only tools the client
// can call.
func (b *recipeText) stepIf(offered bool, format string, args ...any) {
	if offered {
		b.step(format, args...)
	}
}

func quoted(s string) string { return `"` + s + `"` }

// workspaceOf names the workspace argument as the tools take it: empty means My workspace.
func workspaceOf(a map[string]string) string {
	if strings.TrimSpace(a["workspace"]) == "" {
		return "My workspace (leave workspace empty)"
	}
	return "the workspace " + quoted(a["workspace"])
}

// promptError is a prompts/get refused for its arguments: JSON-RPC invalid params, with a
// message that says what to give.
type promptError struct{ msg string }

func (e promptError) Error() string { return e.msg }

func (e promptError) JSONRPCError() mcp.JSONRPCError {
	return mcp.JSONRPCError{JSONRPC: mcp.JSONRPC_VERSION, Error: mcp.NewJSONRPCErrorDetails(mcp.INVALID_PARAMS, e.msg, nil)}
}

// addPrompts registers the recipes on s. selected are the tools s offers.
func addPrompts(s *server.MCPServer, selected []Tool) {
	offered := map[string]bool{}
	for _, t := range selected {
		offered[t.Definition.Name] = true
	}
	has := func(name string) bool { return offered[name] }
	for _, r := range recipes {
		missing := slices.DeleteFunc(slices.Clone(r.needs), has)
		description := r.description
		if len(missing) > 0 {
			description = "Not available here: " + r.turnOn(missing) + " " + description
		}
		opts := []mcp.PromptOption{mcp.WithPromptTitle(r.title), mcp.WithPromptDescription(description)}
		for _, a := range r.args {
			aopts := []mcp.ArgumentOption{mcp.ArgumentDescription(a.description)}
			if a.required {
				aopts = append(aopts, mcp.RequiredArgument())
			}
			opts = append(opts, mcp.WithArgument(a.name, aopts...))
		}
		s.AddPrompt(mcp.NewPrompt(r.name, opts...), func(_ context.Context, req mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
			if len(missing) > 0 {
				return nil, server.NewHandlerError(promptError{fmt.Sprintf("The %s prompt cannot run on this server: %s", r.name, r.turnOn(missing))})
			}
			args, err := r.bind(req.Params.Arguments)
			if err != nil {
				// A clear message of what to give, not an internal error.
				return nil, server.NewHandlerError(err)
			}
			return mcp.NewGetPromptResult(r.title, []mcp.PromptMessage{
				mcp.NewPromptMessage(mcp.RoleUser, mcp.NewTextContent(r.steps(args, has))),
			}), nil
		})
	}
}

// turnOn says which tools are missing and how to offer them.
func (r recipe) turnOn(missing []string) string {
	return fmt.Sprintf("it needs %s from the %s toolset, which this server does not offer. Add the toolset to --toolsets (or PBI_MCP_TOOLSETS), e.g. --toolsets default,%s, and restart the server.",
		strings.Join(missing, ", "), strings.Join(r.toolsets, " and "), strings.Join(r.toolsets, ","))
}

// bind checks the arguments of a prompts/get: every required one given, no unknown one, and
// values from the list where there is one.
func (r recipe) bind(given map[string]string) (map[string]string, *promptError) {
	out := map[string]string{}
	var names []string
	for _, a := range r.args {
		names = append(names, a.name)
		v := strings.TrimSpace(given[a.name])
		if v == "" && a.required {
			return nil, &promptError{fmt.Sprintf("The %s prompt needs the argument %q: %s", r.name, a.name, a.description)}
		}
		if v != "" && a.values != nil && !slices.ContainsFunc(a.values, func(ok string) bool { return strings.EqualFold(ok, v) }) {
			return nil, &promptError{fmt.Sprintf("The %s prompt's argument %q is %q; use one of %s.", r.name, a.name, v, strings.Join(a.values, ", "))}
		}
		out[a.name] = v
	}
	for name := range given {
		if !slices.Contains(names, name) {
			return nil, &promptError{fmt.Sprintf("The %s prompt has no argument %q; its arguments are %s.", r.name, name, strings.Join(names, ", "))}
		}
	}
	return out, nil
}
