package tools

import (
	"context"
	"fmt"
	"slices"
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
	if len(groups) == 0 {
		// Not found: the names the caller can see tell the model what it may have meant. One
		// more request, and only for a name that is wrong.
		if all, err := c.ListGroups(ctx, pbiclient.ListGroupsOptions{}); err == nil {
			groups = all
		}
	}
	id, name, err := pickByName(arg, "workspace", "list_workspaces", "", groups, func(g pbiclient.Group) (string, string) { return g.ID, g.Name })
	if err != nil {
		return WorkspaceRef{}, err
	}
	ref := WorkspaceRef{ID: id, Name: name, ResolvedBy: "name"}
	for _, g := range groups {
		if g.ID == id {
			ref.sharedCapacity = !g.IsOnDedicatedCapacity
		}
	}
	return ref, nil
}

// resolveDataset reads a dataset argument within a workspace.
func resolveDataset(ctx context.Context, c *pbiclient.Client, ws WorkspaceRef, arg string) (ItemRef, error) {
	ref, _, err := resolveListedDataset(ctx, c, ws, arg)
	return ref, err
}

// resolveListedDataset is resolveDataset that also returns the workspace's models when it
// listed them to find a name (nil for an id), for a caller that needs more of the model.
func resolveListedDataset(ctx context.Context, c *pbiclient.Client, ws WorkspaceRef, arg string) (ItemRef, []pbiclient.Dataset, error) {
	var listed []pbiclient.Dataset
	ref, err := resolveItemIn(arg, "semantic model (dataset)", "list_datasets", lookedIn(ws),
		func() ([]pbiclient.Dataset, error) {
			all, err := c.ListDatasets(ctx, ws.ID)
			listed = all
			return all, err
		},
		func(d pbiclient.Dataset) (string, string) { return d.ID, d.Name })
	return ref, listed, err
}

// resolveReport reads a report argument within a workspace.
func resolveReport(ctx context.Context, c *pbiclient.Client, ws WorkspaceRef, arg string) (ItemRef, error) {
	return resolveItemIn(arg, "report", "list_reports", lookedIn(ws),
		func() ([]pbiclient.Report, error) { return c.ListReports(ctx, ws.ID) },
		func(r pbiclient.Report) (string, string) { return r.ID, r.Name })
}

// resolveItem reads an item argument: a GUID as it is, a name by listing the items.
func resolveItem[T any](arg, kind, lister string, list func() ([]T, error), idName func(T) (id, name string)) (ItemRef, error) {
	return resolveItemIn(arg, kind, lister, "", list, idName)
}

// resolveItemIn is resolveItem that says where it looked (see lookedIn) when a name is not found.
func resolveItemIn[T any](arg, kind, lister, where string, list func() ([]T, error), idName func(T) (id, name string)) (ItemRef, error) {
	arg = strings.TrimSpace(arg)
	if guidPattern.MatchString(arg) {
		return ItemRef{ID: strings.ToLower(arg), ResolvedBy: "id"}, nil
	}
	items, err := list()
	if err != nil {
		return ItemRef{}, err
	}
	id, name, err := pickByName(arg, kind, lister, where, items, idName)
	if err != nil {
		return ItemRef{}, err
	}
	return ItemRef{ID: id, Name: name, ResolvedBy: "name"}, nil
}

// pickByName returns the id and name of the one item called name. where says where the items
// were looked for ("in the workspace \"Finance\""), or is empty.
func pickByName[T any](name, kind, lister, where string, items []T, idName func(T) (id, name string)) (string, string, error) {
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
		var b strings.Builder
		fmt.Fprintf(&b, "No %s named %q was found", kind, name)
		if where != "" {
			b.WriteString(" " + where)
		}
		b.WriteString(", or the caller cannot see it.")
		names := make([]string, 0, len(items))
		for _, it := range items {
			_, got := idName(it)
			names = append(names, got)
		}
		if near := closestNames(name, names); len(near) > 0 {
			fmt.Fprintf(&b, " Closest names: %s.", quoteAll(near))
		}
		fmt.Fprintf(&b, " Call %s to see the names available, or pass the id.", lister)
		return "", "", userErrorf("%s", b.String())
	}
	var cands []string
	for _, it := range matches {
		id, got := idName(it)
		cands = append(cands, got+" ("+id+")")
	}
	return "", "", userErrorf("The %s name %q is ambiguous; these %d match: %s. Pass the id of the one you mean.", kind, name, len(matches), strings.Join(cands, ", "))
}

// lookedIn says in which workspace a name was looked for, for a "not found" message: the model
// may have meant another workspace, or forgotten to name one.
func lookedIn(ws WorkspaceRef) string {
	switch {
	case ws.MyWorkspace && ws.ResolvedBy == "default":
		return "in My workspace (no workspace was given)"
	case ws.MyWorkspace:
		return "in My workspace"
	case ws.Name != "":
		return fmt.Sprintf("in the workspace %q", ws.Name)
	}
	return "in the workspace " + ws.ID
}

// maxSuggestions bounds the names a "not found" message offers.
const maxSuggestions = 5

// closestNames returns the names reasonably close to name, closest first: those a few edits
// away (a typo: "Finanse" for "Finance"), and those that contain it or that it contains (a part:
// "Sales" for "Sales Analytics"). Case is ignored; far names are left out, so a wrong guess is
// not dressed up as a suggestion.
func closestNames(name string, names []string) []string {
	want := strings.ToLower(strings.TrimSpace(name))
	maxEdits := max(1, len([]rune(want))/3)
	type scored struct {
		name  string
		edits int
	}
	var near []scored
	seen := map[string]bool{}
	for _, n := range names {
		got := strings.ToLower(n)
		if seen[n] || got == "" {
			continue
		}
		seen[n] = true
		edits := editDistance(want, got)
		part := len([]rune(want)) >= 3 && len([]rune(got)) >= 3 && (strings.Contains(got, want) || strings.Contains(want, got))
		if edits <= maxEdits || part {
			near = append(near, scored{n, edits})
		}
	}
	slices.SortStableFunc(near, func(a, b scored) int {
		if a.edits != b.edits {
			return a.edits - b.edits
		}
		return strings.Compare(a.name, b.name)
	})
	out := make([]string, 0, min(len(near), maxSuggestions))
	for _, c := range near[:min(len(near), maxSuggestions)] {
		out = append(out, c.name)
	}
	return out
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// quoteAll joins names as a list of quoted strings.
func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}
