package tools

import (
	"context"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
)

// Workspace is one workspace as the tools report it.
type Workspace struct {
	ID                    string `json:"id"`
	Name                  string `json:"name"`
	Type                  string `json:"type,omitempty" jsonschema:"Workspace, PersonalGroup, ..."`
	IsReadOnly            bool   `json:"isReadOnly" jsonschema:"True when the caller can only view the workspace"`
	IsOnDedicatedCapacity bool   `json:"isOnDedicatedCapacity" jsonschema:"True on a Premium, Embedded or Fabric capacity: needed for export and enhanced refresh"`
	CapacityID            string `json:"capacityId,omitempty"`
}

type listWorkspacesArgs struct {
	Filter string `json:"filter"`
	Top    int    `json:"top"`
	Skip   int    `json:"skip"`
}

// ListWorkspacesResult is the answer of list_workspaces.
type ListWorkspacesResult struct {
	Workspaces []Workspace `json:"workspaces"`
	Page
}

func workspaceTools(d Deps) []Tool {
	return []Tool{{
		Toolset: "workspaces",
		Definition: mcp.NewTool("list_workspaces",
			mcp.WithDescription("List the Power BI workspaces the signed-in identity can access, with their ids, names and whether they are on a dedicated (Premium/Fabric) capacity. "+
				"Use it first to find the workspace the other tools need. A service principal sees only the workspaces it was added to. "+
				"My workspace is not listed: omit the workspace argument of other tools to use it. "+
				"Narrow the list with an OData filter. Paged: at most top items per call (default 100, at most 1000); when hasMore is true, call again with skip = nextSkip."),
			annotations("List workspaces", true, false, true),
			mcp.WithString("filter",
				mcp.Description("OData $filter on name and type, e.g. contains(name,'Sales'), name eq 'Finance', startswith(name,'Fin') and type eq 'Workspace'."),
				mcp.MaxLength(1000)),
			topParam(100, 1000, "workspaces"),
			skipParam(),
			mcp.WithOutputSchema[ListWorkspacesResult](),
		),
		Handler: handle("list workspaces", func(ctx context.Context, _ mcp.CallToolRequest, a listWorkspacesArgs) (ListWorkspacesResult, error) {
			top := defaultInt(a.Top, 100)
			// Ask for one more than wanted: its presence is what hasMore means.
			groups, err := d.Client.ListGroups(ctx, pbiclient.ListGroupsOptions{Filter: a.Filter, Top: top + 1, Skip: a.Skip})
			if err != nil {
				return ListWorkspacesResult{}, err
			}
			res := ListWorkspacesResult{Workspaces: []Workspace{}}
			for i, g := range groups {
				if i == top {
					res.HasMore, res.NextSkip = true, a.Skip+top
					break
				}
				res.Workspaces = append(res.Workspaces, Workspace{ID: g.ID, Name: g.Name, Type: g.Type, IsReadOnly: g.IsReadOnly,
					IsOnDedicatedCapacity: g.IsOnDedicatedCapacity, CapacityID: g.CapacityID})
			}
			res.Count = len(res.Workspaces)
			return res, nil
		}),
	}}
}

// handle adapts a typed tool function to an MCP handler: arguments are bound to A, a result
// becomes structured content plus its compact JSON text, and a failure becomes an isError result
// the model can act on. action names what failed, e.g. "list workspaces".
func handle[A, O any](action string, fn func(context.Context, mcp.CallToolRequest, A) (O, error)) server.ToolHandlerFunc {
	return mcp.NewTypedToolHandler(func(ctx context.Context, req mcp.CallToolRequest, a A) (*mcp.CallToolResult, error) {
		out, err := fn(ctx, req, a)
		if err != nil {
			return errorResult(action, err), nil
		}
		return mcp.NewToolResultStructuredOnly(out), nil
	})
}

func defaultInt(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}
