package tools

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
)

// Per-dataset limits of POST rows [push-datasets-limitations, api-notes §2.2.9]. Requests are
// sent one at a time, so the limit of 5 pending requests is never reached.
const (
	pushRowsPerHour     = 1_000_000
	pushPostsPerMinute  = 120
	pushMaxStringLength = 4_000
	// pushMaxPacingWait is the longest add_rows waits for the rate limits before it stops
	// and says when to continue.
	pushMaxPacingWait = 90 * time.Second
	// maxBadValues is how many bad values one answer lists.
	maxBadValues = 20
	// maxInlineRows is the most rows add_rows takes inline: as many as one POST rows request carries.
	maxInlineRows = pbiclient.MaxPushRows
)

type addRowsArgs struct {
	Workspace  string           `json:"workspace" schema:"$workspace"`
	Dataset    string           `json:"dataset" schema:"$pushDataset" required:"true"`
	Table      string           `json:"table" schema:"$pushTable" required:"true"`
	Rows       []map[string]any `json:"rows" jsonschema:"Objects keyed by column name, e.g. {\"ProductID\": 1, \"Name\": \"Road Bike\"}; file for more than a few hundred rows. Not with file." minItems:"1" maxItems:"$maxInlineRows"`
	File       string           `json:"file" jsonschema:"A .csv or .json file, by its name relative to the data directory." minLength:"1" maxLength:"1024"`
	FileFormat string           `json:"file_format" jsonschema:"Default: from the extension." enum:"csv,json"`
	StartRow   int              `json:"start_row" jsonschema:"The first data row to send (1: the first after a CSV header), to go on after a call stopped part way." minimum:"1" maximum:"1000000000" default:"1"`
}

// AddRowsResult is the answer of add_rows.
type AddRowsResult struct {
	Workspace WorkspaceRef `json:"workspace"`
	Dataset   ItemRef      `json:"dataset"`
	Table     string       `json:"table"`
	Source    string       `json:"source" jsonschema:"inline rows, or the file read from the data directory"`
	RowsAdded int          `json:"rowsAdded"`
	FirstRow  int          `json:"firstRow,omitempty" jsonschema:"The first data row sent (1 = the first row after a CSV header)"`
	LastRow   int          `json:"lastRow,omitempty"`
	Requests  int          `json:"requests" jsonschema:"POST rows requests sent, each with at most 10,000 rows"`
	Message   string       `json:"message"`
}

// addRows is add_rows.
func addRows(ctx context.Context, d Deps, a addRowsArgs) (AddRowsResult, error) {
	if (a.File == "") == (len(a.Rows) == 0) {
		return AddRowsResult{}, userErrorf("Give either rows (inline) or file (a CSV or JSON file in the data directory), not both and not neither.")
	}
	start := max(a.StartRow, 1)
	ws, err := resolveWorkspace(ctx, d.Client, a.Workspace)
	if err != nil {
		return AddRowsResult{}, err
	}
	ds, err := resolveDataset(ctx, d.Client, ws, a.Dataset)
	if err != nil {
		return AddRowsResult{}, err
	}
	t, err := resolvePushTable(ctx, d.Client, ws, ds, a.Table)
	if err != nil {
		return AddRowsResult{}, err
	}
	src, err := rowSourceOf(d, a, t)
	if err != nil {
		return AddRowsResult{}, err
	}
	defer src.close()

	// First pass: check every value and count the rows, so nothing is sent when any is bad.
	var bad []string
	badCount, total := 0, 0
	err = src.scan(func(n int, _ map[string]any, problems []string) error {
		if n < start {
			return nil
		}
		total++
		badCount += len(problems)
		for _, p := range problems {
			if len(bad) < maxBadValues {
				bad = append(bad, p)
			}
		}
		return nil
	})
	switch {
	case err != nil:
		return AddRowsResult{}, err
	case badCount > 0:
		more := ""
		if badCount > len(bad) {
			more = fmt.Sprintf(" (the first %d of %d)", len(bad), badCount)
		}
		return AddRowsResult{}, userErrorf("Nothing was sent: %d values do not fit the columns of table %s%s: %s. Fix them and call add_rows again.",
			badCount, t.Name, more, strings.Join(bad, "; "))
	case total == 0:
		return AddRowsResult{}, userErrorf("There are no rows to send from row %d of %s.", start, src.name)
	case total > pushRowsPerHour:
		return AddRowsResult{}, userErrorf("Nothing was sent: %d rows exceed the %d rows Power BI accepts per dataset per hour. Split the data into parts of at most %d rows and send them an hour apart (start_row selects where a part begins).",
			total, pushRowsPerHour, pushRowsPerHour)
	}

	// Second pass: send batches of at most MaxPushRows, holding only one batch at a time.
	progress := progressOf(ctx)
	key := fmt.Sprintf("%p|%s", d.Client, strings.ToLower(ds.ID))
	res := AddRowsResult{Workspace: ws, Dataset: ds, Table: t.Name, Source: src.name, FirstRow: start}
	batch := make([]map[string]any, 0, min(total, pbiclient.MaxPushRows))
	flush := func() error {
		if err := pushPace.reserve(ctx, key, len(batch)); err != nil {
			return err
		}
		if err := d.Client.AddRows(ctx, ws.ID, ds.ID, t.Name, batch); err != nil {
			return err
		}
		res.Requests++
		res.RowsAdded += len(batch)
		progress(float64(res.RowsAdded), float64(total), fmt.Sprintf("Added %d of %d rows", res.RowsAdded, total))
		batch = batch[:0]
		return nil
	}
	err = src.rescan(func(n int, row map[string]any, _ []string) error {
		if n < start {
			return nil
		}
		batch = append(batch, row)
		if len(batch) == pbiclient.MaxPushRows {
			return flush()
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		err = flush()
	}
	if err != nil {
		if res.RowsAdded == 0 {
			return AddRowsResult{}, err
		}
		next := start + res.RowsAdded
		return AddRowsResult{}, userErrorf("Added %d of %d rows (rows %d to %d of %s) before stopping: %s To add the rest, call add_rows again with the same source and start_row %d.",
			res.RowsAdded, total, start, next-1, src.name, firstText(errorResult("add the rows", err)), next)
	}
	res.LastRow = start + res.RowsAdded - 1
	res.Message = fmt.Sprintf("Added %d rows to table %s in %d requests. Query them with execute_dax_query, e.g. EVALUATE ROW(\"rows\", COUNTROWS('%s')).",
		res.RowsAdded, t.Name, res.Requests, strings.ReplaceAll(t.Name, "'", "''"))
	return res, nil
}

// rowSource reads rows from inline arguments or a data file, converted to the table's column
// types. scan and rescan call fn for each row, numbered from 1, with its problems (bad values,
// unknown columns) described with their line or row number.
type rowSource struct {
	name   string
	scan   func(fn rowFunc) error
	rescan func(fn rowFunc) error
	close  func()
}

type rowFunc func(n int, row map[string]any, problems []string) error

func rowSourceOf(d Deps, a addRowsArgs, t pbiclient.PushTable) (*rowSource, error) {
	conv := newRowConverter(t)
	if a.File == "" {
		scan := func(fn rowFunc) error {
			for i, r := range a.Rows {
				row, problems := conv.object(r, fmt.Sprintf("row %d", i+1))
				if err := fn(i+1, row, problems); err != nil {
					return err
				}
			}
			return nil
		}
		return &rowSource{name: "inline rows", scan: scan, rescan: scan, close: func() {}}, nil
	}
	format := a.FileFormat
	if format == "" {
		format = strings.TrimPrefix(strings.ToLower(path.Ext(a.File)), ".")
	}
	if format != "csv" && format != "json" {
		return nil, userErrorf("Cannot tell the format of %q: name a .csv or .json file, or set file_format.", a.File)
	}
	f, _, err := openDataFile(d, a.File)
	if err != nil {
		return nil, err
	}
	read := func(fn rowFunc) error {
		if format == "csv" {
			return conv.csv(f, a.File, fn)
		}
		return conv.json(f, a.File, fn)
	}
	return &rowSource{
		name: a.File,
		scan: read,
		rescan: func(fn rowFunc) error {
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return err
			}
			return read(fn)
		},
		close: func() { f.Close() },
	}, nil
}

// rowConverter converts values to the column types of a table. When Power BI reports no
// columns for it, values go as they are (CSV text as numbers or booleans where it reads as one).
type rowConverter struct {
	table   string
	columns map[string]pbiclient.PushColumn // by lower-case name
}

func newRowConverter(t pbiclient.PushTable) *rowConverter {
	c := &rowConverter{table: t.Name, columns: map[string]pbiclient.PushColumn{}}
	for _, col := range t.Columns {
		c.columns[strings.ToLower(col.Name)] = col
	}
	return c
}

func (c *rowConverter) column(name string) (pbiclient.PushColumn, bool) {
	if len(c.columns) == 0 {
		return pbiclient.PushColumn{Name: name}, true
	}
	col, ok := c.columns[strings.ToLower(name)]
	return col, ok
}

// object converts an inline or JSON row.
func (c *rowConverter) object(in map[string]any, where string) (map[string]any, []string) {
	out := make(map[string]any, len(in))
	var problems []string
	for name, v := range in {
		col, ok := c.column(name)
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: table %s has no column %q", where, c.table, name))
			continue
		}
		cv, err := convertValue(v, col.DataType)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s, column %s: %v", where, col.Name, err))
			continue
		}
		out[col.Name] = cv
	}
	return out, problems
}

// csv streams a CSV file with a header row; only one record is held at a time.
func (c *rowConverter) csv(r io.Reader, name string, fn rowFunc) error {
	cr := csv.NewReader(bufio.NewReaderSize(r, 64<<10))
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return userErrorf("%s is empty: a CSV file needs a header row naming the columns.", name)
	}
	if err != nil {
		return userErrorf("%s is not valid CSV: %v.", name, err)
	}
	cols := make([]pbiclient.PushColumn, len(header))
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, "\uFEFF") // a byte order mark some spreadsheets write
		}
		h = strings.TrimSpace(h)
		col, ok := c.column(h)
		if !ok {
			names := make([]string, 0, len(c.columns))
			for _, col := range c.columns {
				names = append(names, col.Name)
			}
			slices.Sort(names)
			return userErrorf("Nothing was sent: the header of %s names %q, which is not a column of table %s (its columns: %s).", name, h, c.table, strings.Join(names, ", "))
		}
		if slices.ContainsFunc(cols[:i], func(p pbiclient.PushColumn) bool { return strings.EqualFold(p.Name, col.Name) }) {
			return userErrorf("Nothing was sent: the header of %s names the column %s twice.", name, col.Name)
		}
		cols[i] = col
	}
	for n := 1; ; n++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return userErrorf("Nothing was sent: %s is not valid CSV: %v.", name, err)
		}
		line, _ := cr.FieldPos(0)
		row := make(map[string]any, len(rec))
		var problems []string
		for i, text := range rec {
			v, err := convertText(text, cols[i].DataType)
			if err != nil {
				problems = append(problems, fmt.Sprintf("line %d, column %s: %v", line, cols[i].Name, err))
				continue
			}
			if v != nil {
				row[cols[i].Name] = v
			}
		}
		if err := fn(n, row, problems); err != nil {
			return err
		}
	}
}

// json streams a JSON array of row objects, or an object whose "rows" member is one.
func (c *rowConverter) json(r io.Reader, name string, fn rowFunc) error {
	dec := json.NewDecoder(bufio.NewReaderSize(r, 64<<10))
	dec.UseNumber()
	invalid := func(err error) error {
		return userErrorf("Nothing was sent: %s is not a JSON array of rows or an object with a rows array: %v.", name, err)
	}
	tok, err := dec.Token()
	if err != nil {
		return invalid(err)
	}
	if tok == json.Delim('{') {
		for {
			if !dec.More() {
				return invalid(errors.New("no rows member"))
			}
			key, err := dec.Token()
			if err != nil {
				return invalid(err)
			}
			if key == "rows" {
				break
			}
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return invalid(err)
			}
		}
		if tok, err = dec.Token(); err != nil {
			return invalid(err)
		}
	}
	if tok != json.Delim('[') {
		return invalid(errors.New("no array of rows"))
	}
	for n := 1; dec.More(); n++ {
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			return invalid(fmt.Errorf("row %d: %w", n, err))
		}
		row, problems := c.object(obj, fmt.Sprintf("row %d", n))
		if err := fn(n, row, problems); err != nil {
			return err
		}
	}
	return nil
}

// dateLayouts are the date and time forms CSV values may take; Power BI documents the US
// month/day order for its own examples.
var dateLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02", "01/02/2006 15:04:05", "01/02/2006"}

// convertText converts CSV text to a column type; an empty cell is blank (nil) except for
// String columns, where it is the empty string.
func convertText(s, dataType string) (any, error) {
	t := strings.TrimSpace(s)
	switch strings.ToLower(dataType) {
	case "", "string":
		if dataType == "" && t != "" {
			// No column types known: send what reads as a number or boolean as one.
			if n, err := strconv.ParseInt(t, 10, 64); err == nil {
				return n, nil
			}
			if f, err := strconv.ParseFloat(t, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
				return f, nil
			}
			if b, err := strconv.ParseBool(t); err == nil {
				return b, nil
			}
		}
		if utf8.RuneCountInString(s) > pushMaxStringLength {
			return nil, fmt.Errorf("the text has %d characters; Power BI accepts at most %d", utf8.RuneCountInString(s), pushMaxStringLength)
		}
		return s, nil
	}
	if t == "" {
		return nil, nil
	}
	switch strings.ToLower(dataType) {
	case "int64":
		n, err := strconv.ParseInt(t, 10, 64)
		if err != nil || n == math.MaxInt64 || n == math.MinInt64 {
			return nil, fmt.Errorf("%q is not a whole number (Int64)", t)
		}
		return n, nil
	case "double", "decimal":
		f, err := strconv.ParseFloat(t, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Errorf("%q is not a number (%s)", t, dataType)
		}
		return f, nil
	case "boolean", "bool":
		switch strings.ToLower(t) {
		case "true", "1", "yes":
			return true, nil
		case "false", "0", "no":
			return false, nil
		}
		return nil, fmt.Errorf("%q is not a boolean (true/false)", t)
	case "datetime":
		for _, layout := range dateLayouts {
			if d, err := time.Parse(layout, t); err == nil {
				return d.UTC().Format("2006-01-02T15:04:05.000Z"), nil
			}
		}
		return nil, fmt.Errorf("%q is not a date or time (e.g. 2024-07-30 or 2024-07-30T14:05:00Z)", t)
	}
	return nil, fmt.Errorf("the column type %s is unknown", dataType)
}

// convertValue converts a JSON value (numbers as json.Number or float64) to a column type.
func convertValue(v any, dataType string) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		if dataType == "" {
			return x, nil
		}
		if strings.EqualFold(dataType, "string") {
			return convertText(x, dataType)
		}
		if strings.TrimSpace(x) == "" {
			return nil, fmt.Errorf("an empty text is not a %s; use null for a blank", dataType)
		}
		return convertText(x, dataType)
	case json.Number, float64:
		switch strings.ToLower(dataType) {
		case "string", "boolean", "bool":
			return nil, fmt.Errorf("%v is a number, not a %s", x, dataType)
		case "":
			dataType = "Double"
		}
		text := fmt.Sprint(x)
		if f, ok := x.(float64); ok {
			text = strconv.FormatFloat(f, 'f', -1, 64) // never an exponent, which Int64 would refuse
		}
		return convertText(text, dataType)
	case bool:
		switch strings.ToLower(dataType) {
		case "", "boolean", "bool":
			return x, nil
		}
		return nil, fmt.Errorf("%v is not a %s", x, dataType)
	}
	return nil, fmt.Errorf("a %T value cannot go in a %s column", v, dataType)
}

// pushPacer keeps add_rows within the per-dataset request and row rates across calls, so
// requests wait here rather than being refused with 429.
type pushPacer struct {
	mu    sync.Mutex
	sent  map[string][]pushSend // by client and dataset, the last hour
	now   func() time.Time
	sleep func(context.Context, time.Duration) error
}

type pushSend struct {
	at   time.Time
	rows int
}

var pushPace = &pushPacer{sent: map[string][]pushSend{}, now: time.Now, sleep: sleepCtx}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// reserve waits until a request with rows may be sent for key, and records it. A wait longer
// than pushMaxPacingWait is not started: the error says how long it would be.
func (p *pushPacer) reserve(ctx context.Context, key string, rows int) error {
	for {
		p.mu.Lock()
		now := p.now()
		sent := p.sent[key]
		hourAgo, minuteAgo := now.Add(-time.Hour), now.Add(-time.Minute)
		for len(sent) > 0 && !sent[0].at.After(hourAgo) {
			sent = sent[1:]
		}
		var wait time.Duration
		recent := 0
		for _, s := range sent {
			if s.at.After(minuteAgo) {
				recent++
			}
		}
		if recent >= pushPostsPerMinute {
			wait = sent[len(sent)-pushPostsPerMinute].at.Sub(minuteAgo)
		}
		total := rows
		for _, s := range sent {
			total += s.rows
		}
		for _, s := range sent {
			if total <= pushRowsPerHour {
				break
			}
			wait = max(wait, s.at.Sub(hourAgo))
			total -= s.rows
		}
		if wait <= 0 {
			p.sent[key] = append(sent, pushSend{at: now, rows: rows})
			p.mu.Unlock()
			return nil
		}
		p.sent[key] = sent
		p.mu.Unlock()
		if wait > pushMaxPacingWait {
			return userErrorf("Power BI accepts at most %d rows per dataset per hour and %d requests a minute; this server sent enough to reach that, so the next rows can go in %d seconds.",
				pushRowsPerHour, pushPostsPerMinute, int(wait.Seconds()+0.5))
		}
		if err := p.sleep(ctx, wait); err != nil {
			return err
		}
	}
}
