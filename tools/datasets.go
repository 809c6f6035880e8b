package tools

import (
	"context"

	"github.com/mark3labs/mcp-go/mcp"
)

// Dataset is one semantic model as the tools report it.
type Dataset struct {
	ID                string `json:"id"`
	Name              string `json:"name"`
	ConfiguredBy      string `json:"configuredBy,omitempty" jsonschema:"The owner: the user or service principal whose credentials the model uses"`
	IsRefreshable     bool   `json:"isRefreshable" jsonschema:"False for push and live-connection models, which refresh_dataset cannot refresh"`
	TargetStorageMode string `json:"targetStorageMode,omitempty" jsonschema:"Abf (small) or PremiumFiles (large storage format)"`
	CreatedDate       string `json:"createdDate,omitempty"`
	WebURL            string `json:"webUrl,omitempty"`
}

type listDatasetsArgs struct {
	Workspace string `json:"workspace"`
	Top       int    `json:"top"`
	Skip      int    `json:"skip"`
}

// ListDatasetsResult is the answer of list_datasets.
type ListDatasetsResult struct {
	Workspace WorkspaceRef `json:"workspace"`
	Datasets  []Dataset    `json:"datasets"`
	Page
}

func datasetTools(d Deps) []Tool {
	return []Tool{{
		Toolset: "datasets",
		Definition: mcp.NewTool("list_datasets",
			mcp.WithDescription("List the semantic models (datasets) in a workspace, with their ids, names, owners and whether they can be refreshed. "+
				"Use it to find the model refresh_dataset and get_refresh_history need. "+
				"Paged: at most top items per call (default 100, at most 1000); when hasMore is true, call again with skip = nextSkip."),
			annotations("List semantic models", true, false, true),
			workspaceParam(),
			topParam(100, 1000, "semantic models"),
			skipParam(),
			mcp.WithOutputSchema[ListDatasetsResult](),
		),
		Handler: handle("list semantic models", func(ctx context.Context, _ mcp.CallToolRequest, a listDatasetsArgs) (ListDatasetsResult, error) {
			ws, err := resolveWorkspace(ctx, d.Client, a.Workspace)
			if err != nil {
				return ListDatasetsResult{}, err
			}
			all, err := d.Client.ListDatasets(ctx, ws.ID)
			if err != nil {
				return ListDatasetsResult{}, err
			}
			items, page := pageOf(all, defaultInt(a.Top, 100), a.Skip)
			res := ListDatasetsResult{Workspace: ws, Datasets: make([]Dataset, 0, len(items)), Page: page}
			for _, ds := range items {
				res.Datasets = append(res.Datasets, Dataset{ID: ds.ID, Name: ds.Name, ConfiguredBy: ds.ConfiguredBy, IsRefreshable: ds.IsRefreshable,
					TargetStorageMode: ds.TargetStorageMode, CreatedDate: ds.CreatedDate, WebURL: ds.WebURL})
			}
			return res, nil
		}),
	}}
}
