package tools

import (
	"context"
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
)

// Push dataset limits the tools check before calling Power BI, so a model learns of them
// without a failed request [push-datasets-limitations].
const (
	maxPushTables   = 75
	maxPushColumns  = 75
	maxPushRelships = 75
)

// pushDataTypes are the EDM types push dataset columns can have.
var pushDataTypes = []string{"Int64", "Double", "Decimal", "Boolean", "DateTime", "String"}

// pushColumnArg is a column of a table, as create_push_dataset and update_table_schema take it.
type pushColumnArg struct {
	Name         string `json:"name" required:"true" minLength:"1" maxLength:"100"`
	DataType     string `json:"data_type" required:"true" jsonschema:"Decimal: 28 digits, 4 decimals; String: at most 4,000 characters a value" enum:"$pushDataTypes"`
	FormatString string `json:"format_string" jsonschema:"e.g. Currency or 0.00" maxLength:"100"`
	IsHidden     bool   `json:"is_hidden"`
}

// pushMeasureArg is a DAX measure of a table, as create_push_dataset and update_table_schema
// take it.
type pushMeasureArg struct {
	Name         string `json:"name" required:"true" minLength:"1" maxLength:"100"`
	Expression   string `json:"expression" required:"true" jsonschema:"DAX, e.g. SUM(Sales[Amount])" minLength:"1"`
	FormatString string `json:"format_string" maxLength:"100"`
	Description  string `json:"description"`
}

type pushTableArg struct {
	Name     string           `json:"name" required:"true" pattern:"$pushTableNamePattern" maxLength:"100"`
	Columns  []pushColumnArg  `json:"columns" required:"true" minItems:"1" maxItems:"$maxPushColumns"`
	Measures []pushMeasureArg `json:"measures" maxItems:"200"`
}

type pushRelationshipArg struct {
	Name                   string `json:"name" required:"true" minLength:"1" maxLength:"100"`
	FromTable              string `json:"from_table" required:"true" minLength:"1"`
	FromColumn             string `json:"from_column" required:"true" minLength:"1"`
	ToTable                string `json:"to_table" required:"true" minLength:"1"`
	ToColumn               string `json:"to_column" required:"true" minLength:"1"`
	CrossFilteringBehavior string `json:"cross_filtering_behavior" enum:"OneDirection,BothDirections,Automatic"`
}

func (a pushTableArg) wire(name string) pbiclient.PushTable {
	t := pbiclient.PushTable{Name: name, Columns: make([]pbiclient.PushColumn, 0, len(a.Columns))}
	for _, c := range a.Columns {
		t.Columns = append(t.Columns, pbiclient.PushColumn{Name: c.Name, DataType: c.DataType, FormatString: c.FormatString, IsHidden: c.IsHidden})
	}
	for _, m := range a.Measures {
		t.Measures = append(t.Measures, pbiclient.PushMeasure{Name: m.Name, Expression: m.Expression, FormatString: m.FormatString, Description: m.Description})
	}
	return t
}

// PushColumn is a push dataset column as the tools report it.
type PushColumn struct {
	Name     string `json:"name"`
	DataType string `json:"dataType"`
	IsHidden bool   `json:"isHidden,omitempty"`
}

// PushMeasure is a push dataset measure as the tools report it.
type PushMeasure struct {
	Name       string `json:"name"`
	Expression string `json:"expression"`
}

// PushTable is a push dataset table as the tools report it.
type PushTable struct {
	Name     string        `json:"name"`
	Columns  []PushColumn  `json:"columns,omitempty" jsonschema:"The columns, when Power BI reports them"`
	Measures []PushMeasure `json:"measures,omitempty"`
}

func pushTableOf(t pbiclient.PushTable) PushTable {
	out := PushTable{Name: t.Name}
	for _, c := range t.Columns {
		out.Columns = append(out.Columns, PushColumn{Name: c.Name, DataType: c.DataType, IsHidden: c.IsHidden})
	}
	for _, m := range t.Measures {
		out.Measures = append(out.Measures, PushMeasure{Name: m.Name, Expression: m.Expression})
	}
	return out
}

type createPushDatasetArgs struct {
	Workspace              string                `json:"workspace" schema:"$workspace"`
	Name                   string                `json:"name" required:"true" minLength:"1"`
	Tables                 []pushTableArg        `json:"tables" required:"true" minItems:"1" maxItems:"$maxPushTables"`
	Relationships          []pushRelationshipArg `json:"relationships" jsonschema:"Many-to-one, from_table.from_column (many side) to to_table.to_column (one side)." maxItems:"$maxPushRelships"`
	DefaultRetentionPolicy string                `json:"default_retention_policy" jsonschema:"None keeps every row (up to 5,000,000 a table); basicFIFO only the newest 200,000 a table." enum:"None,basicFIFO" default:"None"`
}

// CreatePushDatasetResult is the answer of create_push_dataset.
type CreatePushDatasetResult struct {
	Workspace              WorkspaceRef `json:"workspace"`
	Dataset                ItemRef      `json:"dataset"`
	DefaultRetentionPolicy string       `json:"defaultRetentionPolicy" jsonschema:"None (rows kept up to 5,000,000 per table) or basicFIFO (the newest 200,000 rows per table are kept)"`
	Tables                 []string     `json:"tables"`
	Message                string       `json:"message"`
}

type pushDatasetArgs struct {
	Workspace string `json:"workspace" schema:"$workspace"`
	Dataset   string `json:"dataset" schema:"$pushDataset" required:"true"`
	Top       int    `json:"top" minimum:"1" maximum:"75" default:"75"`
	Skip      int    `json:"skip" schema:"$skip"`
}

// ListTablesResult is the answer of list_tables.
type ListTablesResult struct {
	Workspace WorkspaceRef `json:"workspace"`
	Dataset   ItemRef      `json:"dataset"`
	Tables    []PushTable  `json:"tables"`
	Page
}

type updateTableSchemaArgs struct {
	Workspace string           `json:"workspace" schema:"$workspace"`
	Dataset   string           `json:"dataset" schema:"$pushDataset" required:"true"`
	Table     string           `json:"table" schema:"$pushTable" required:"true"`
	Columns   []pushColumnArg  `json:"columns" required:"true" jsonschema:"Every column the table is to have." minItems:"1" maxItems:"$maxPushColumns"`
	Measures  []pushMeasureArg `json:"measures" jsonschema:"Every measure the table is to have." maxItems:"200"`
	Confirm   bool             `json:"confirm" schema:"$confirm"`
}

// UpdateTableSchemaResult is the answer of update_table_schema.
type UpdateTableSchemaResult struct {
	Workspace WorkspaceRef `json:"workspace"`
	Dataset   ItemRef      `json:"dataset"`
	Table     PushTable    `json:"table" jsonschema:"The table's schema as Power BI now has it"`
	Message   string       `json:"message"`
}

type tableRowsArgs struct {
	Workspace string `json:"workspace" schema:"$workspace"`
	Dataset   string `json:"dataset" schema:"$pushDataset" required:"true"`
	Table     string `json:"table" schema:"$pushTable" required:"true"`
	Confirm   bool   `json:"confirm" schema:"$confirm"`
}

// DeleteRowsResult is the answer of delete_rows.
type DeleteRowsResult struct {
	Workspace WorkspaceRef `json:"workspace"`
	Dataset   ItemRef      `json:"dataset"`
	Table     string       `json:"table"`
	Message   string       `json:"message"`
}

func pushTableParam() mcp.ToolOption {
	return mcp.WithString("table", mcp.Required(),
		mcp.Description("As list_tables names it."),
		mcp.Pattern(pathSegmentPattern), mcp.MaxLength(100))
}

func pushDatasetParam() mcp.ToolOption {
	return mcp.WithString("dataset", mcp.Required(),
		mcp.Description("A push dataset (addRowsAPIEnabled in list_datasets)."))
}

// resolvePushTable finds a table of a push dataset by name, case-insensitively as Power BI
// does, so the tools can use its exact name and columns.
func resolvePushTable(ctx context.Context, c *pbiclient.Client, ws WorkspaceRef, ds ItemRef, name string) (pbiclient.PushTable, error) {
	tables, err := c.ListTables(ctx, ws.ID, ds.ID)
	if err != nil {
		return pbiclient.PushTable{}, err
	}
	names := make([]string, 0, len(tables))
	for _, t := range tables {
		if strings.EqualFold(t.Name, name) {
			return t, nil
		}
		names = append(names, t.Name)
	}
	return pbiclient.PushTable{}, userErrorf("The push dataset %s has no table %q. Its tables: %s.", ds.Name, name, strings.Join(names, ", "))
}

func pushTools(d Deps) []Tool {
	return []Tool{
		tool(d, "push", "create the push dataset", createPushDataset, mcp.NewTool("create_push_dataset",
			mcp.WithDescription("Create a push dataset: a semantic model filled through the API (add_rows) instead of refreshed from a source, e.g. to load a CSV file or stream readings. "+
				"Each call creates a new dataset, even for a name in use. Needs Contributor or higher; not with service principal profiles."),
			annotations("Create a push dataset", false, false, false))),
		tool(d, "push", "list the tables", listTables, mcp.NewTool("list_tables",
			mcp.WithDescription("List the tables of a push dataset with their columns and measures. "+
				"Only push datasets (addRowsAPIEnabled) have them; for other models use get_dataset_schema."),
			annotations("List push dataset tables", true, false, true))),
		tool(d, "push", "update the table schema", updateTableSchema, mcp.NewTool("update_table_schema",
			mcp.WithDescription("Replace a push dataset table's columns and measures. "+
				"Columns left out are removed with their values; a column whose type changes keeps the values that convert; other rows stay. "+
				"Send every column to keep (list_tables)."),
			annotations("Replace a push table's schema", false, true, true))),
		tool(d, "push", "add the rows", addRows, mcp.NewTool("add_rows",
			mcp.WithDescription("Add rows to a push dataset table, inline (rows) or from a CSV or JSON file in the data directory (file). "+
				"CSV: a header of column names, comma-separated, UTF-8; dates 2024-07-30, 2024-07-30T14:05:00Z or 07/30/2024; booleans true/false/1/0/yes/no; empty is blank. "+
				"JSON: an array of objects keyed by column name, or {\"rows\": [...]}. "+
				"Every value is checked first: bad ones are reported by line or row and nothing is sent. "+
				"Rows go in requests of 10,000, paced to Power BI's limits (120 requests a minute, 1,000,000 rows an hour per dataset); at most 1,000,000 rows a call. "+
				"If Power BI stops part way, the answer gives the count added and the start_row to go on from. "+
				"With basicFIFO retention a table keeps only its newest 200,000 rows."),
			annotations("Add rows to a push table", false, false, false))).followsJobs(),
		tool(d, "push", "delete the rows", deleteRows, mcp.NewTool("delete_rows",
			mcp.WithDescription("Delete ALL rows of a push dataset table; the table and its schema stay. "+
				"There is no way to delete only some rows, and no undo."),
			annotations("Delete all rows of a push table", false, true, true))),
	}
}

// createPushDataset is create_push_dataset.
func createPushDataset(ctx context.Context, d Deps, a createPushDatasetArgs) (CreatePushDatasetResult, error) {
	ws, err := resolveWorkspace(ctx, d.Client, a.Workspace)
	if err != nil {
		return CreatePushDatasetResult{}, err
	}
	req := pbiclient.CreatePushDatasetRequest{Name: a.Name, DefaultMode: "Push"}
	var names []string
	for _, t := range a.Tables {
		req.Tables = append(req.Tables, t.wire(t.Name))
		names = append(names, t.Name)
	}
	for _, r := range a.Relationships {
		req.Relationships = append(req.Relationships, pbiclient.PushRelationship{Name: r.Name, FromTable: r.FromTable, FromColumn: r.FromColumn,
			ToTable: r.ToTable, ToColumn: r.ToColumn, CrossFilteringBehavior: r.CrossFilteringBehavior})
	}
	retention := a.DefaultRetentionPolicy
	if retention == "" {
		retention = "None"
	}
	created, err := d.Client.CreatePushDataset(ctx, ws.ID, req, retention)
	if err != nil {
		return CreatePushDatasetResult{}, err
	}
	name := created.Name
	if name == "" {
		name = a.Name
	}
	return CreatePushDatasetResult{
		Workspace: ws, Dataset: ItemRef{ID: created.ID, Name: name, ResolvedBy: "id"},
		DefaultRetentionPolicy: retention, Tables: names,
		Message: fmt.Sprintf("Created the push dataset %s (id %s). Add rows with add_rows; query them with execute_dax_query.", name, created.ID),
	}, nil
}

// listTables is list_tables.
func listTables(ctx context.Context, d Deps, a pushDatasetArgs) (ListTablesResult, error) {
	ws, err := resolveWorkspace(ctx, d.Client, a.Workspace)
	if err != nil {
		return ListTablesResult{}, err
	}
	ds, err := resolveDataset(ctx, d.Client, ws, a.Dataset)
	if err != nil {
		return ListTablesResult{}, err
	}
	all, err := d.Client.ListTables(ctx, ws.ID, ds.ID)
	if err != nil {
		return ListTablesResult{}, err
	}
	items, page := pageOf(all, defaultInt(a.Top, 75), a.Skip)
	res := ListTablesResult{Workspace: ws, Dataset: ds, Tables: make([]PushTable, 0, len(items)), Page: page}
	for _, t := range items {
		res.Tables = append(res.Tables, pushTableOf(t))
	}
	return res, nil
}

// updateTableSchema is update_table_schema.
func updateTableSchema(ctx context.Context, d Deps, a updateTableSchemaArgs) (UpdateTableSchemaResult, error) {
	ws, err := resolveWorkspace(ctx, d.Client, a.Workspace)
	if err != nil {
		return UpdateTableSchemaResult{}, err
	}
	ds, err := resolveDataset(ctx, d.Client, ws, a.Dataset)
	if err != nil {
		return UpdateTableSchemaResult{}, err
	}
	current, err := resolvePushTable(ctx, d.Client, ws, ds, a.Table)
	if err != nil {
		return UpdateTableSchemaResult{}, err
	}
	var dropped []string
	for _, c := range current.Columns {
		if !containsColumn(a.Columns, c.Name) {
			dropped = append(dropped, c.Name)
		}
	}
	what := fmt.Sprintf("Replace the schema of table %s in the push dataset %s (id %s) with %d columns and %d measures.",
		current.Name, ds.Name, ds.ID, len(a.Columns), len(a.Measures))
	if len(dropped) > 0 {
		what += fmt.Sprintf(" The columns %s and their values will be removed.", strings.Join(dropped, ", "))
	}
	if err := confirmed(ctx, a.Confirm, what); err != nil {
		return UpdateTableSchemaResult{}, err
	}
	got, err := d.Client.PutTable(ctx, ws.ID, ds.ID, pushTableArg{Columns: a.Columns, Measures: a.Measures}.wire(current.Name))
	if err != nil {
		return UpdateTableSchemaResult{}, err
	}
	if got.Name == "" {
		got = pushTableArg{Columns: a.Columns, Measures: a.Measures}.wire(current.Name)
	}
	return UpdateTableSchemaResult{Workspace: ws, Dataset: ds, Table: pushTableOf(got),
		Message: fmt.Sprintf("The table %s now has %d columns and %d measures.", current.Name, len(a.Columns), len(a.Measures))}, nil
}

func containsColumn(cols []pushColumnArg, name string) bool {
	for _, c := range cols {
		if strings.EqualFold(c.Name, name) {
			return true
		}
	}
	return false
}

// deleteRows is delete_rows.
func deleteRows(ctx context.Context, d Deps, a tableRowsArgs) (DeleteRowsResult, error) {
	ws, err := resolveWorkspace(ctx, d.Client, a.Workspace)
	if err != nil {
		return DeleteRowsResult{}, err
	}
	ds, err := resolveDataset(ctx, d.Client, ws, a.Dataset)
	if err != nil {
		return DeleteRowsResult{}, err
	}
	t, err := resolvePushTable(ctx, d.Client, ws, ds, a.Table)
	if err != nil {
		return DeleteRowsResult{}, err
	}
	if err := confirmed(ctx, a.Confirm, fmt.Sprintf("Delete every row of table %s in the push dataset %s (id %s).", t.Name, ds.Name, ds.ID)); err != nil {
		return DeleteRowsResult{}, err
	}
	if err := d.Client.DeleteRows(ctx, ws.ID, ds.ID, t.Name); err != nil {
		return DeleteRowsResult{}, err
	}
	return DeleteRowsResult{Workspace: ws, Dataset: ds, Table: t.Name,
		Message: fmt.Sprintf("Deleted every row of table %s; its schema is unchanged.", t.Name)}, nil
}
