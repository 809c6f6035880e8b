package tools

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
)

// update_dataset_parameters is the one tool that changes what a model connects to. Power BI
// has three operations for it, each a request of its own: SetAllConnections (one connection
// string for a DirectQuery model), UpdateDatasources (replace a source's connection details)
// and UpdateParameters (Power Query parameters, which often name the server or database). The
// tool applies them from the broadest to the finest, so a finer change is not undone by a
// broader one, and says which were applied when one fails.

type parameterUpdateArg struct {
	Name     string `json:"name" required:"true" jsonschema:"Case-sensitive" minLength:"1"`
	NewValue string `json:"new_value" required:"true" maxLength:"4000"`
}

// connectionArg is a data source connection: the fields a source kind uses (SQL and
// Analysis Services: server and database; OData and SharePoint: url).
type connectionArg struct {
	Server   string `json:"server"`
	Database string `json:"database"`
	URL      string `json:"url"`
}

type datasourceChangeArg struct {
	From connectionArg `json:"from"`
	To   connectionArg `json:"to" required:"true"`
}

type updateParametersArgs struct {
	Workspace        string                `json:"workspace" schema:"$workspace"`
	Dataset          string                `json:"dataset" schema:"$dataset" required:"true"`
	Updates          []parameterUpdateArg  `json:"updates" jsonschema:"Parameters to set; values as text (Logical as TRUE or FALSE)" minItems:"1" maxItems:"100"`
	Datasources      []datasourceChangeArg `json:"datasources" jsonschema:"Sources to repoint: from is the current connection as list_datasources shows it (omit it for a model with one source), to the new one (fields left out stay)" minItems:"1"`
	ConnectionString string                `json:"connection_string" jsonschema:"e.g. Data Source=srv;Initial Catalog=db" minLength:"1"`
	Confirm          bool                  `json:"confirm" schema:"$confirm"`
}

// ParameterUpdate is one parameter change that was made.
type ParameterUpdate struct {
	Name     string `json:"name"`
	NewValue string `json:"newValue"`
}

// UpdateDatasetParametersResult is the answer of update_dataset_parameters.
type UpdateDatasetParametersResult struct {
	Workspace   WorkspaceRef       `json:"workspace"`
	Dataset     ItemRef            `json:"dataset"`
	Applied     []string           `json:"applied" jsonschema:"connection_string, datasources, updates: what was applied, in order"`
	Updated     []ParameterUpdate  `json:"updated"`
	Parameters  []DatasetParameter `json:"parameters,omitempty" jsonschema:"After the change"`
	Datasources []Datasource       `json:"datasources,omitempty" jsonschema:"After the change"`
	Message     string             `json:"message"`
}

// connectionStep is one of the requests update_dataset_parameters makes.
type connectionStep struct {
	arg  string // the argument it comes from, as the answer names it
	what string // for the confirmation
	do   func() error
}

// updateDatasetParameters is update_dataset_parameters.
func updateDatasetParameters(ctx context.Context, d Deps, a updateParametersArgs) (UpdateDatasetParametersResult, error) {
	if len(a.Updates) == 0 && len(a.Datasources) == 0 && strings.TrimSpace(a.ConnectionString) == "" {
		return UpdateDatasetParametersResult{}, userErrorf("Nothing to change: pass updates (parameters), datasources or connection_string.")
	}
	ws, ds, err := datasetTarget(ctx, d.Client, a.Workspace, a.Dataset)
	if err != nil {
		return UpdateDatasetParametersResult{}, err
	}
	res := UpdateDatasetParametersResult{Workspace: ws, Dataset: ds, Applied: []string{}, Updated: []ParameterUpdate{}}
	var steps []connectionStep
	if cs := strings.TrimSpace(a.ConnectionString); cs != "" {
		steps = append(steps, connectionStep{"connection_string", fmt.Sprintf("point every connection at %q", cs),
			func() error { return d.Client.SetAllConnections(ctx, ws.ID, ds.ID, cs) }})
	}
	if len(a.Datasources) > 0 {
		// The service finds a source by its type and full connection details: read them, so
		// the caller need only name what tells the source apart, and a wrong name fails here.
		current, err := d.Client.ListDatasources(ctx, ws.ID, ds.ID)
		if err != nil {
			return UpdateDatasetParametersResult{}, err
		}
		updates, desc, err := datasourceUpdates(current, a.Datasources)
		if err != nil {
			return UpdateDatasetParametersResult{}, err
		}
		steps = append(steps, connectionStep{"datasources", desc,
			func() error { return d.Client.UpdateDatasources(ctx, ws.ID, ds.ID, updates) }})
	}
	if len(a.Updates) > 0 {
		updates := make([]pbiclient.ParameterUpdate, 0, len(a.Updates))
		var list []string
		for _, u := range a.Updates {
			updates = append(updates, pbiclient.ParameterUpdate{Name: u.Name, NewValue: u.NewValue})
			list = append(list, fmt.Sprintf("%s = %q", u.Name, u.NewValue))
		}
		steps = append(steps, connectionStep{"updates", "set the parameters " + strings.Join(list, ", "),
			func() error { return d.Client.UpdateDatasetParameters(ctx, ws.ID, ds.ID, updates) }})
	}
	var what []string
	for _, s := range steps {
		what = append(what, s.what)
	}
	if err := confirmed(ctx, a.Confirm, fmt.Sprintf("For the semantic model %s in %s: %s.",
		itemLabel(ds), workspaceLabel(ws), strings.Join(what, "; then "))); err != nil {
		return UpdateDatasetParametersResult{}, err
	}
	for i, s := range steps {
		if err := s.do(); err != nil {
			if len(steps) == 1 {
				return UpdateDatasetParametersResult{}, err
			}
			return UpdateDatasetParametersResult{}, partialFailure(err, res.Applied, steps[i:])
		}
		res.Applied = append(res.Applied, s.arg)
	}
	for _, u := range a.Updates {
		res.Updated = append(res.Updated, ParameterUpdate{Name: u.Name, NewValue: u.NewValue})
	}
	// Read back what changed, so the answer shows what Power BI now holds.
	if len(a.Updates) > 0 {
		now, err := d.Client.ListDatasetParameters(ctx, ws.ID, ds.ID)
		if err != nil {
			return UpdateDatasetParametersResult{}, err
		}
		res.Parameters = parametersOf(now)
	}
	if len(a.Datasources) > 0 || a.ConnectionString != "" {
		now, err := d.Client.ListDatasources(ctx, ws.ID, ds.ID)
		if err != nil {
			return UpdateDatasetParametersResult{}, err
		}
		for _, s := range now {
			res.Datasources = append(res.Datasources, datasourceOf(s))
		}
	}
	res.Message = "Applied: " + strings.Join(res.Applied, ", ") + ". The model's data still comes from the old connections until it is refreshed: run refresh_dataset now."
	return res, nil
}

// partialFailure says what failed, what had been applied before it and what was not tried.
func partialFailure(err error, applied []string, rest []connectionStep) error {
	text := "Could not change the connections."
	if r := errorResult("change the connections", err); len(r.Content) > 0 {
		if t, ok := r.Content[0].(mcp.TextContent); ok {
			text = t.Text
		}
	}
	var notApplied []string
	for _, s := range rest {
		notApplied = append(notApplied, s.arg)
	}
	done := "nothing (the model is unchanged)"
	if len(applied) > 0 {
		done = strings.Join(applied, ", ") + " (these changes stay)"
	}
	return userErrorf("%s Applied before the failure: %s. Not applied: %s.", text, done, strings.Join(notApplied, ", "))
}

// datasourceUpdates finds the source each change names and builds the requests, with a
// sentence for the confirmation.
func datasourceUpdates(current []pbiclient.Datasource, changes []datasourceChangeArg) ([]pbiclient.DatasourceUpdate, string, error) {
	var out []pbiclient.DatasourceUpdate
	var desc []string
	for _, c := range changes {
		if strings.TrimSpace(c.To.Server+c.To.Database+c.To.URL) == "" {
			return nil, "", userErrorf("A datasources entry has an empty to: give the new server and database (or url).")
		}
		var matches []pbiclient.Datasource
		for _, s := range current {
			if connectionMatches(s.ConnectionDetails, c.From) {
				matches = append(matches, s)
			}
		}
		if len(matches) != 1 {
			return nil, "", userErrorf("%s Nothing was changed. The model's data sources: %s.", sourceMatchProblem(c.From, len(matches), len(current)), describeSources(current))
		}
		src := matches[0]
		// Power BI wants the whole new connection; what to leaves out stays as it is.
		to := src.ConnectionDetails
		to.Server = cmp.Or(strings.TrimSpace(c.To.Server), to.Server)
		to.Database = cmp.Or(strings.TrimSpace(c.To.Database), to.Database)
		to.URL = cmp.Or(strings.TrimSpace(c.To.URL), to.URL)
		out = append(out, pbiclient.DatasourceUpdate{ConnectionDetails: to,
			DatasourceSelector: &pbiclient.Datasource{DatasourceType: src.DatasourceType, ConnectionDetails: src.ConnectionDetails}})
		desc = append(desc, fmt.Sprintf("point the %s source %s at %s", src.DatasourceType, describeConnection(src.ConnectionDetails), describeConnection(to)))
	}
	return out, strings.Join(desc, "; "), nil
}

func sourceMatchProblem(from connectionArg, n, total int) string {
	switch {
	case from == (connectionArg{}) && total == 0:
		return "The model reports no data sources to change."
	case from == (connectionArg{}):
		return fmt.Sprintf("The model has %d data sources: say in from which one to change.", total)
	case n == 0:
		return fmt.Sprintf("No data source of the model connects to %s.", describeConnection(pbiclient.DatasourceConnectionDetails{Server: from.Server, Database: from.Database, URL: from.URL}))
	}
	return fmt.Sprintf("%d data sources match from: add fields to tell them apart.", n)
}

// connectionMatches reports whether a source has every field from gives (names compared
// without regard to case, as server and database names are).
func connectionMatches(c pbiclient.DatasourceConnectionDetails, from connectionArg) bool {
	for _, f := range [][2]string{{c.Server, from.Server}, {c.Database, from.Database}, {c.URL, from.URL}} {
		if want := strings.TrimSpace(f[1]); want != "" && !strings.EqualFold(f[0], want) {
			return false
		}
	}
	return true
}

func describeSources(sources []pbiclient.Datasource) string {
	if len(sources) == 0 {
		return "none"
	}
	var out []string
	for _, s := range sources {
		out = append(out, s.DatasourceType+" "+describeConnection(s.ConnectionDetails))
	}
	return strings.Join(out, "; ")
}

func describeConnection(c pbiclient.DatasourceConnectionDetails) string {
	var parts []string
	for k, v := range connectionDetailsOf(c) {
		parts = append(parts, k+"="+v)
	}
	// Map order is random; a sentence the user confirms must read the same each time.
	slices.Sort(parts)
	return "(" + strings.Join(parts, ", ") + ")"
}
