package tools

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
)

// Rows: a modest default keeps answers small for the model; the cap is executeQueries' own limit.
// Whatever max_rows says, an answer holds only the rows that fit the result budget
// (Deps.MaxResultBytes); skip and output "csv" reach the rest. skip has no cap: Arrow results
// have no row limit.
const (
	defaultDAXRows = 500
	maxDAXRows     = 100_000
)

type daxQueryArgs struct {
	Workspace            string `json:"workspace" schema:"$workspace"`
	Dataset              string `json:"dataset" schema:"$dataset" required:"true"`
	Query                string `json:"query" required:"true" jsonschema:"The DAX query: optional DEFINE MEASURE ... then EVALUATE <table expression>, optionally ORDER BY; several EVALUATEs only on a capacity." minLength:"1" maxLength:"100000"`
	MaxRows              int    `json:"max_rows" jsonschema:"Most rows to return (default {defaultDAXRows}, at most {maxDAXRows}); fewer when more would not fit the result size limit." minimum:"1" maximum:"$maxDAXRows" default:"$defaultDAXRows"`
	Skip                 int    `json:"skip" jsonschema:"Rows to skip: runs the query again and answers from this row on. Use nextSkip from the previous answer; add ORDER BY so that the rows come in the same order." minimum:"0" default:"0"`
	Output               string `json:"output" jsonschema:"rows (default): the rows in the answer. csv: every row the query returned goes to a CSV file on the server, linked as an MCP resource; the answer holds a preview." enum:"rows,csv" default:"rows"`
	Table                int    `json:"table" jsonschema:"Which EVALUATE's table to answer, from 1." minimum:"1" default:"1"`
	ImpersonatedUserName string `json:"impersonated_user_name" jsonschema:"UPN of a user to run the query as, for models with row-level security (RLS). Ignored by models without RLS." minLength:"3" maxLength:"256"`
}

// DAXQueryResult is the answer of execute_dax_query: one table, compact.
type DAXQueryResult struct {
	Workspace WorkspaceRef `json:"workspace"`
	Dataset   ItemRef      `json:"dataset"`
	Columns   []string     `json:"columns" jsonschema:"Column names: Table[Column] for model columns, [Name] for columns the query computed"`
	Rows      [][]any      `json:"rows" jsonschema:"One array per row, values in the order of columns; null is a blank value; dates are ISO 8601 text"`
	RowCount  int          `json:"rowCount" jsonschema:"Number of rows in this answer"`
	TotalRows int          `json:"totalRows" jsonschema:"Number of rows the query returned in all"`
	Skipped   int          `json:"skipped,omitempty" jsonschema:"Rows before the first row of this answer (skip)"`
	NextSkip  int          `json:"nextSkip,omitempty" jsonschema:"Pass as skip to get the rows after this answer's"`
	Truncated bool         `json:"truncated" jsonschema:"True when the query returned rows this answer does not hold, or Power BI cut the result at its limit"`
	Tables    int          `json:"tables,omitempty" jsonschema:"Number of tables (EVALUATEs) the query returned, when more than one"`
	File      *FileRef     `json:"file,omitempty" jsonschema:"With output csv: the CSV file holding every row"`
	Message   string       `json:"message,omitempty" jsonschema:"Why rows are missing and how to get them"`
	Via       string       `json:"via" jsonschema:"arrow or json: the API that answered"`
}

func (r DAXQueryResult) writtenFiles() []FileRef {
	if r.File == nil {
		return nil
	}
	return []FileRef{*r.File}
}

type schemaArgs struct {
	Workspace    string `json:"workspace" schema:"$workspace"`
	Dataset      string `json:"dataset" schema:"$dataset" required:"true"`
	SampleValues int    `json:"sample_values" jsonschema:"Add up to this many distinct values of each visible column (one more query)." minimum:"0" maximum:"$maxSampleValues" default:"0"`
}

// SchemaColumn is a column of a model table.
type SchemaColumn struct {
	Name        string `json:"name"`
	DataType    string `json:"dataType,omitempty" jsonschema:"Int64, Double, Decimal, String, Boolean or DateTime; absent when read from COLUMNSTATISTICS"`
	IsHidden    bool   `json:"isHidden,omitempty"`
	Cardinality int64  `json:"cardinality,omitempty" jsonschema:"Number of distinct values, when read from COLUMNSTATISTICS"`
}

// SchemaMeasure is a measure of a model table.
type SchemaMeasure struct {
	Name         string `json:"name"`
	Expression   string `json:"expression,omitempty" jsonschema:"The DAX formula"`
	FormatString string `json:"formatString,omitempty"`
	Description  string `json:"description,omitempty"`
	IsHidden     bool   `json:"isHidden,omitempty"`
}

// SchemaTable is a model table with its columns and measures.
type SchemaTable struct {
	Name     string              `json:"name"`
	IsHidden bool                `json:"isHidden,omitempty"`
	Columns  []SchemaColumn      `json:"columns"`
	Measures []SchemaMeasure     `json:"measures,omitempty"`
	Samples  map[string][]string `json:"samples,omitempty" jsonschema:"With sample_values: by column, some of its distinct non-blank values, as text"`
}

// DatasetSchemaResult is the answer of get_dataset_schema.
type DatasetSchemaResult struct {
	Workspace WorkspaceRef      `json:"workspace"`
	Dataset   ItemRef           `json:"dataset"`
	Source    string            `json:"source" jsonschema:"INFO.VIEW (tables, columns and measures) or COLUMNSTATISTICS (tables and columns only)"`
	Copilot   *CopilotGrounding `json:"copilot,omitempty" jsonschema:"What the model's Copilot folder says, when it has one"`
	// Relationships are given once for the model: a table's filters reach the tables it relates to.
	Relationships []string      `json:"relationships,omitempty" jsonschema:"'From'[Column] → 'To'[Column] (cardinality, cross-filter direction); filters flow from the to side"`
	Tables        []SchemaTable `json:"tables"`
	Message       string        `json:"message,omitempty"`
}

func daxTools(d Deps) []Tool {
	return []Tool{
		tool(d, "dax", "run the DAX query", executeDAXQuery, mcp.NewTool("execute_dax_query",
			mcp.WithDescription("Run one DAX query against a semantic model (dataset) and get the result as a compact table: columns, rows (arrays in column order), rowCount and truncated. "+
				"Call get_dataset_schema first to learn the exact table, column and measure names. "+
				"DAX primer: a query is EVALUATE <table expression>, e.g. EVALUATE TOPN(10, 'Product') or "+
				"EVALUATE SUMMARIZECOLUMNS('Date'[Year], \"Sales\", [Total Sales]) ORDER BY 'Date'[Year]; "+
				"aggregate in the query rather than fetching raw rows. Several EVALUATEs only on a capacity, one table per answer (table). "+
				"Needs Build permission on the model and the tenant setting 'Semantic Model Execute Queries REST API' (formerly 'Dataset Execute Queries REST API'). "+
				"Limits: 120 queries per minute per user; off capacity, Power BI returns at most 100,000 rows or 1,000,000 values. An answer holds only the rows that fit the result size limit; truncated=true says rows are missing: "+
				"call again with skip = nextSkip for the next rows, or with output \"csv\" for a file with every row (linked as an MCP resource). "+
				"Power BI runs no query for a service principal on a model with row-level security (RLS) or SSO (isEffectiveIdentityRequired); the server refuses it before sending. A signed-in user may set impersonated_user_name to query an RLS model as another user. "+
				"Not for Azure Analysis Services models; MDX and DMV queries are not supported."),
			annotations("Run a DAX query", true, false, true))),
		tool(d, "dax", "read the semantic model's schema", getDatasetSchema, mcp.NewTool("get_dataset_schema",
			mcp.WithDescription("List the tables of a semantic model (dataset) with their columns (data type, hidden) and measures (DAX expression, format), its relationships, "+
				"and the model's Copilot grounding when its authors set one: AI instructions, verified answers (question and DAX), synonyms and the AI data schema; follow them when writing DAX. "+
				"Call it before execute_dax_query to learn the exact names to query. "+
				"It runs DAX INFO.VIEW functions; where Power BI refuses those, it falls back to COLUMNSTATISTICS(), which gives tables and columns "+
				"but no measures or data types (source says which). Needs the same permissions as execute_dax_query: Build permission and the tenant setting "+
				"'Semantic Model Execute Queries REST API'. Uses up to 5 of the 120 queries per minute a user may run. "+
				"The Copilot parts come from the model's definition (Fabric API; read and write permission on the model); without it, message says why they are missing."),
			annotations("Semantic model schema", true, false, true))),
	}
}

// executeDAXQuery is execute_dax_query.
func executeDAXQuery(ctx context.Context, d Deps, a daxQueryArgs) (DAXQueryResult, error) {
	ws, err := resolveWorkspace(ctx, d.Client, a.Workspace)
	if err != nil {
		return DAXQueryResult{}, err
	}
	ds, err := resolveQueryDataset(ctx, d.Client, ws, a.Dataset)
	if err != nil {
		return DAXQueryResult{}, err
	}
	tables, via, err := runDAXQuery(ctx, d.Client, ws, ds, a.Query, a.ImpersonatedUserName)
	if err != nil {
		return DAXQueryResult{}, daxError(err)
	}
	n := defaultInt(a.Table, 1)
	if n > len(tables) {
		return DAXQueryResult{}, userErrorf("There is no table %d: the query returned %d. Next: call again with table between 1 and %d.", n, len(tables), max(len(tables), 1))
	}
	qr := tables[n-1]
	var file *FileRef
	if a.Output == "csv" {
		if file, err = writeQueryCSV(d, ds, qr); err != nil {
			return DAXQueryResult{}, err
		}
	}
	res := tableResult(ws, ds, qr, a.Skip, defaultInt(a.MaxRows, defaultDAXRows), d.maxResultBytes(), file)
	res.Via = via
	if len(tables) > 1 {
		res.Tables = len(tables)
		res.Message = strings.TrimSpace(fmt.Sprintf("The query returned %d tables; this answer holds table %d (pass table for another). %s", len(tables), n, res.Message))
	}
	return res, nil
}

// runDAXQuery runs a query through the Arrow API (several EVALUATEs, no row limit) where the
// model may be on a capacity, and through executeQueries where it is not or Power BI answers
// that Arrow is not available (shared capacity, push models). Without a capacity known from a
// name lookup, a workspace given by id costs one refused request before the fallback.
func runDAXQuery(ctx context.Context, c *pbiclient.Client, ws WorkspaceRef, ds ItemRef, query, impersonated string) ([]pbiclient.QueryResult, string, error) {
	if ws.ID != "" && !ws.sharedCapacity {
		tables, err := c.ExecuteQueryArrow(ctx, ws.ID, ds.ID, query, pbiclient.QueryOptions{ImpersonatedUserName: impersonated})
		if !errors.Is(err, pbiclient.ErrArrowUnavailable) {
			return tables, "arrow", err
		}
	}
	// Nulls are asked for so that every row has every column and the table stays positional.
	qr, err := c.ExecuteQuery(ctx, ws.ID, ds.ID, query, pbiclient.QueryOptions{ImpersonatedUserName: impersonated, IncludeNulls: true})
	return []pbiclient.QueryResult{qr}, "json", err
}

// getDatasetSchema is get_dataset_schema.
func getDatasetSchema(ctx context.Context, d Deps, a schemaArgs) (DatasetSchemaResult, error) {
	ws, err := resolveWorkspace(ctx, d.Client, a.Workspace)
	if err != nil {
		return DatasetSchemaResult{}, err
	}
	ds, err := resolveQueryDataset(ctx, d.Client, ws, a.Dataset) // the schema is read with DAX queries too
	if err != nil {
		return DatasetSchemaResult{}, err
	}
	return schemaWithGrounding(ctx, d, ws, ds, a.SampleValues)
}

// daxResultHeadroom is the part of the result budget kept for the result's other fields when
// rows are fitted: the message, the file, the numbers. The rows take the rest.
const daxResultHeadroom = 2 << 10

// tableResult answers with the rows from skip on: at most maxRows, and no more than fit budget
// bytes of JSON (the size of the structured content, and of the text that repeats it). When
// rows are missing, it says how many there are in all and how to get them; file is the CSV
// file that holds every row, if one was written.
func tableResult(ws WorkspaceRef, ds ItemRef, qr pbiclient.QueryResult, skip, maxRows, budget int, file *FileRef) DAXQueryResult {
	res := DAXQueryResult{Workspace: ws, Dataset: ds, Columns: qr.Columns, TotalRows: len(qr.Rows), Skipped: skip, File: file}
	if res.Columns == nil {
		res.Columns = []string{}
	}
	rows := qr.Rows[min(skip, len(qr.Rows)):]
	// Fit the rows: each costs its JSON and a comma.
	room := budget - encodedLen(res) - daxResultHeadroom
	n, used := 0, 0
	for n < min(len(rows), maxRows) {
		b, err := json.Marshal(rows[n])
		if err != nil || used+len(b)+1 > room {
			break
		}
		used += len(b) + 1
		n++
	}
	for {
		res.Rows, res.RowCount = rows[:n:n], n
		res.NextSkip, res.Truncated, res.Message = 0, false, ""
		if skip+n < len(qr.Rows) {
			res.NextSkip = skip + n
		}
		res.Truncated = res.NextSkip > 0 || skip > 0 || qr.RowLimit != ""
		res.Message = tableMessage(res, qr.RowLimit, n < min(len(rows), maxRows), budget)
		// The headroom covers any message and file; this only guards against it not doing so.
		if n == 0 || encodedLen(res) <= budget {
			return res
		}
		n--
	}
}

// tableMessage says which rows an answer holds, when it does not hold them all, and how to get
// the others without filling the conversation with them: skip for the next rows, a CSV file for
// all of them, or a query that aggregates. It never suggests a larger max_rows when the size
// limit cut the rows, as that would not fit either.
func tableMessage(res DAXQueryResult, rowLimit string, cutBySize bool, budget int) string {
	var b strings.Builder
	if rowLimit != "" {
		fmt.Fprintf(&b, "Power BI stopped the query at its limit of 100,000 rows or 1,000,000 values (%s): the rows after the first %d are missing from every answer, the CSV file included. "+
			"To get them, filter or aggregate in the query, or split it (e.g. by year). ", strings.TrimSuffix(rowLimit, "."), res.TotalRows)
	}
	switch {
	case res.Skipped > 0 && res.Skipped >= res.TotalRows:
		fmt.Fprintf(&b, "skip %d is past the last row: the query returned %d rows. ", res.Skipped, res.TotalRows)
	case res.NextSkip > 0 || res.Skipped > 0:
		fmt.Fprintf(&b, "The query returned %d rows; this answer holds rows %d to %d", res.TotalRows, res.Skipped+1, res.Skipped+res.RowCount)
		if cutBySize {
			fmt.Fprintf(&b, ", as many as fit in the result size limit (%d bytes)", budget)
		}
		b.WriteString(". ")
		if res.NextSkip > 0 {
			fmt.Fprintf(&b, "For the next rows, call again with skip = %d (nextSkip). ", res.NextSkip)
		}
	}
	if res.File != nil {
		fmt.Fprintf(&b, "Every row the query returned is in the CSV file %s (%s; resources/read returns it), with a header row", res.File.Path, res.File.URI)
		if res.Truncated {
			b.WriteString("; rows holds a preview")
		}
		b.WriteString(".")
	} else if res.NextSkip > 0 {
		b.WriteString(`For all of them at once as a file, call again with output: "csv". Often better: aggregate or filter in the query (SUMMARIZECOLUMNS, TOPN, FILTER).`)
	}
	return strings.TrimSpace(b.String())
}

// encodedLen is the size of v as JSON, as mcp-go encodes a result.
func encodedLen(v any) int {
	b, _ := json.Marshal(v)
	return len(b)
}

// writeQueryCSV writes every row of a query result to a new CSV file of the export directory
// (RFC 4180, UTF-8, a header row of the column names, blank cells empty; dates as the service
// sends them, ISO 8601).
func writeQueryCSV(d Deps, ds ItemRef, qr pbiclient.QueryResult) (*FileRef, error) {
	stem := "query"
	if ds.Name != "" {
		stem = fileStem(ds.Name) + "-query"
	}
	var written int64
	path, err := newExportFile(d, stem+"-"+fileTime(), ".csv", func(w io.Writer) error {
		cw := &countingWriter{w: w}
		out := csv.NewWriter(cw)
		out.UseCRLF = true // RFC 4180
		if err := out.Write(qr.Columns); err != nil {
			return err
		}
		record := make([]string, len(qr.Columns))
		for _, row := range qr.Rows {
			for i := range record {
				record[i] = ""
				if i < len(row) {
					record[i] = csvValue(row[i])
				}
			}
			if err := out.Write(record); err != nil {
				return err
			}
		}
		out.Flush()
		written = cw.n
		return out.Error()
	})
	if err != nil {
		return nil, err
	}
	file := fileRef(path, written)
	return &file, nil
}

// csvValue writes one cell: blank as nothing, numbers without exponent or rounding.
func csvValue(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// daxError explains errors Power BI reports inside a successful answer; other errors pass as they are.
func daxError(err error) error {
	var qe *pbiclient.QueryError
	if !errors.As(err, &qe) {
		return err
	}
	msg := fmt.Sprintf("Could not run the DAX query: Power BI reported a %s error", qe.Level)
	if qe.Code != "" {
		msg += " " + qe.Code
	}
	if qe.Message != "" {
		msg += ": " + strings.TrimSuffix(qe.Message, ".")
	}
	msg += "."
	if qe.RequestID != "" {
		msg += " RequestId: " + qe.RequestID + "."
	}
	if strings.Contains(strings.ToLower(qe.Message), "more than one result table") {
		return userErrorf("%s Next: run one EVALUATE per call.", msg)
	}
	return userErrorf("%s Next: fix the query according to the message; get_dataset_schema lists the tables, columns and measures.", msg)
}

// readSchema reads the model through INFO.VIEW functions, or COLUMNSTATISTICS where Power BI refuses them.
func readSchema(ctx context.Context, c *pbiclient.Client, ws WorkspaceRef, ds ItemRef) (DatasetSchemaResult, error) {
	res := DatasetSchemaResult{Workspace: ws, Dataset: ds, Source: "INFO.VIEW", Tables: []SchemaTable{}}
	run := func(q string) (pbiclient.QueryResult, error) {
		return c.ExecuteQuery(ctx, ws.ID, ds.ID, q, pbiclient.QueryOptions{IncludeNulls: true})
	}
	tables, err := run("EVALUATE INFO.VIEW.TABLES()")
	var ae *pbiclient.APIError
	if errors.As(err, &ae) && ae.StatusCode == 400 {
		return schemaFromStatistics(res, run)
	}
	if err != nil {
		return res, daxError(err)
	}
	index := map[string]int{}
	tableOf := func(name string) *SchemaTable {
		i, ok := index[name]
		if !ok {
			i = len(res.Tables)
			index[name] = i
			res.Tables = append(res.Tables, SchemaTable{Name: name, Columns: []SchemaColumn{}})
		}
		return &res.Tables[i]
	}
	for _, r := range rowsOf(tables) {
		tableOf(r.str("Name")).IsHidden = r.flag("IsHidden")
	}
	columns, err := run("EVALUATE INFO.VIEW.COLUMNS()")
	if err != nil {
		return res, daxError(err)
	}
	for _, r := range rowsOf(columns) {
		if name := r.str("Name"); !strings.HasPrefix(name, "RowNumber-") {
			t := tableOf(r.str("Table"))
			t.Columns = append(t.Columns, SchemaColumn{Name: name, DataType: r.str("DataType"), IsHidden: r.flag("IsHidden")})
		}
	}
	measures, err := run("EVALUATE INFO.VIEW.MEASURES()")
	if err != nil {
		return res, daxError(err)
	}
	for _, r := range rowsOf(measures) {
		t := tableOf(r.str("Table"))
		t.Measures = append(t.Measures, SchemaMeasure{Name: r.str("Name"), Expression: r.str("Expression"),
			FormatString: r.str("FormatString"), Description: r.str("Description"), IsHidden: r.flag("IsHidden")})
	}
	return res, nil
}

func schemaFromStatistics(res DatasetSchemaResult, run func(string) (pbiclient.QueryResult, error)) (DatasetSchemaResult, error) {
	stats, err := run("EVALUATE COLUMNSTATISTICS()")
	if err != nil {
		return res, daxError(err)
	}
	res.Source = "COLUMNSTATISTICS"
	res.Message = "Power BI refused INFO functions for this model, so the schema comes from COLUMNSTATISTICS(): tables and columns with their number of distinct values, but no measures, data types or hidden flags. Measures can still be queried by name if known."
	index := map[string]int{}
	for _, r := range rowsOf(stats) {
		table, column := r.str("Table Name"), r.str("Column Name")
		if strings.HasPrefix(column, "RowNumber-") {
			continue
		}
		i, ok := index[table]
		if !ok {
			i = len(res.Tables)
			index[table] = i
			res.Tables = append(res.Tables, SchemaTable{Name: table, Columns: []SchemaColumn{}})
		}
		card, _ := r.get("Cardinality").(int64)
		res.Tables[i].Columns = append(res.Tables[i].Columns, SchemaColumn{Name: column, Cardinality: card})
	}
	return res, nil
}

// infoRow reads a row of an INFO or COLUMNSTATISTICS result by column name ([Name] keys).
type infoRow struct {
	pos map[string]int
	row []any
}

func rowsOf(qr pbiclient.QueryResult) []infoRow {
	pos := map[string]int{}
	for i, c := range qr.Columns {
		pos[strings.Trim(c, "[]")] = i
	}
	out := make([]infoRow, len(qr.Rows))
	for i, r := range qr.Rows {
		out[i] = infoRow{pos: pos, row: r}
	}
	return out
}

func (r infoRow) get(name string) any {
	if i, ok := r.pos[name]; ok && i < len(r.row) {
		return r.row[i]
	}
	return nil
}

func (r infoRow) str(name string) string {
	s, _ := r.get(name).(string)
	return s
}

func (r infoRow) flag(name string) bool {
	b, _ := r.get(name).(bool)
	return b
}
