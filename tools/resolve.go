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
	id, name, err := pickByName(arg, "workspace", "list_workspaces", groups, func(g pbiclient.Group) (string, string) { return g.ID, g.Name })
	if err != nil {
		return WorkspaceRef{}, err
	}
	return WorkspaceRef{ID: id, Name: name, ResolvedBy: "name"}, nil
}

// resolveDataset reads a dataset argument within a workspace.
func resolveDataset(ctx context.Context, c *pbiclient.Client, ws WorkspaceRef, arg string) (ItemRef, error) {
	return resolveItem(arg, "semantic model (dataset)", "list_datasets",
		func() ([]pbiclient.Dataset, error) { return c.ListDatasets(ctx, ws.ID) },
		func(d pbiclient.Dataset) (string, string) { return d.ID, d.Name })
}

// resolveReport reads a report argument within a workspace.
func resolveReport(ctx context.Context, c *pbiclient.Client, ws WorkspaceRef, arg string) (ItemRef, error) {
	return resolveItem(arg, "report", "list_reports",
		func() ([]pbiclient.Report, error) { return c.ListReports(ctx, ws.ID) },
		func(r pbiclient.Report) (string, string) { return r.ID, r.Name })
}

// resolveItem reads an item argument: a GUID as it is, a name by listing the items.
func resolveItem[T any](arg, kind, lister string, list func() ([]T, error), idName func(T) (id, name string)) (ItemRef, error) {
	arg = strings.TrimSpace(arg)
	if guidPattern.MatchString(arg) {
		return ItemRef{ID: strings.ToLower(arg), ResolvedBy: "id"}, nil
	}
	items, err := list()
	if err != nil {
		return ItemRef{}, err
	}
	id, name, err := pickByName(arg, kind, lister, items, idName)
	if err != nil {
		return ItemRef{}, err
	}
	return ItemRef{ID: id, Name: name, ResolvedBy: "name"}, nil
}

// pickByName returns the id and name of the one item called name.
func pickByName[T any](name, kind, lister string, items []T, idName func(T) (id, name string)) (string, string, error) {
	var exact, folded []T
	for _, it := range items {
		_, got := idName(it)
		if got == name {
			exact = append(exact, it)
		} else if strings.EqualFold(got, name) {
			folded = append(folded, it)
		}
	}
	matches := exact
	if len(matches) == 0 {
		matches = folded
	}
	switch len(matches) {
	case 1:
		id, got := idName(matches[0])
		return id, got, nil
	case 0:
		return "", "", userErrorf("No %s named %q was found, or the caller cannot see it. Call %s to see the names available, or pass the id.", kind, name, lister)
	}
	var cands []string
	for _, it := range matches {
		id, got := idName(it)
		cands = append(cands, got+" ("+id+")")
	}
	return "", "", userErrorf("The %s name %q is ambiguous; these %d match: %s. Pass the id of the one you mean.", kind, name, len(matches), strings.Join(cands, ", "))
}
