package tools

import (
	"context"
	"strings"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
)

// People think in names, the API in ids. These helpers accept either: a GUID is used as it is,
// without a lookup; anything else must match exactly one item's name. An exact match wins over a
// case-insensitive one; ambiguity is an error that lists the candidates, never a guess.

// resolveWorkspace reads the workspace argument. Empty means My workspace.
func resolveWorkspace(ctx context.Context, c *pbiclient.Client, arg string) (WorkspaceRef, error) {
	arg = strings.TrimSpace(arg)
	switch {
	case arg == "":
		return WorkspaceRef{Name: "My workspace", MyWorkspace: true, ResolvedBy: "default"}, nil
	case guidPattern.MatchString(arg):
		return WorkspaceRef{ID: strings.ToLower(arg), ResolvedBy: "id"}, nil
	}
	groups, err := c.ListGroups(ctx, pbiclient.ListGroupsOptions{Filter: "name eq '" + strings.ReplaceAll(arg, "'", "''") + "'"})
	if err != nil {
		return WorkspaceRef{}, err
	}
	i, err := pickByName(arg, "workspace", "list_workspaces", len(groups), func(i int) (string, string) { return groups[i].ID, groups[i].Name })
	if err != nil {
		return WorkspaceRef{}, err
	}
	return WorkspaceRef{ID: groups[i].ID, Name: groups[i].Name, ResolvedBy: "name"}, nil
}

// resolveDataset reads a dataset argument within a workspace.
func resolveDataset(ctx context.Context, c *pbiclient.Client, ws WorkspaceRef, arg string) (ItemRef, error) {
	arg = strings.TrimSpace(arg)
	if guidPattern.MatchString(arg) {
		return ItemRef{ID: strings.ToLower(arg), ResolvedBy: "id"}, nil
	}
	datasets, err := c.ListDatasets(ctx, ws.ID)
	if err != nil {
		return ItemRef{}, err
	}
	i, err := pickByName(arg, "semantic model (dataset)", "list_datasets", len(datasets), func(i int) (string, string) { return datasets[i].ID, datasets[i].Name })
	if err != nil {
		return ItemRef{}, err
	}
	return ItemRef{ID: datasets[i].ID, Name: datasets[i].Name, ResolvedBy: "name"}, nil
}

// resolveReport reads a report argument within a workspace.
func resolveReport(ctx context.Context, c *pbiclient.Client, ws WorkspaceRef, arg string) (ItemRef, error) {
	arg = strings.TrimSpace(arg)
	if guidPattern.MatchString(arg) {
		return ItemRef{ID: strings.ToLower(arg), ResolvedBy: "id"}, nil
	}
	reports, err := c.ListReports(ctx, ws.ID)
	if err != nil {
		return ItemRef{}, err
	}
	i, err := pickByName(arg, "report", "list_reports", len(reports), func(i int) (string, string) { return reports[i].ID, reports[i].Name })
	if err != nil {
		return ItemRef{}, err
	}
	return ItemRef{ID: reports[i].ID, Name: reports[i].Name, ResolvedBy: "name"}, nil
}

// pickByName returns the index of the one item named name among n items.
func pickByName(name, kind, lister string, n int, item func(int) (id, name string)) (int, error) {
	var exact, folded []int
	for i := range n {
		_, got := item(i)
		if got == name {
			exact = append(exact, i)
		} else if strings.EqualFold(got, name) {
			folded = append(folded, i)
		}
	}
	matches := exact
	if len(matches) == 0 {
		matches = folded
	}
	switch len(matches) {
	case 1:
		return matches[0], nil
	case 0:
		return 0, userErrorf("No %s named %q was found, or the caller cannot see it. Call %s to see the names available, or pass the id.", kind, name, lister)
	}
	var cands []string
	for _, i := range matches {
		id, got := item(i)
		cands = append(cands, got+" ("+id+")")
	}
	return 0, userErrorf("The %s name %q is ambiguous; these %d match: %s. Pass the id of the one you mean.", kind, name, len(matches), strings.Join(cands, ", "))
}
