package pbitest

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// resultTable is the value of a table expression.
type resultTable struct {
	cols []resultCol
	rows [][]any
	// base is set when every row is a whole row of one model table (a
	// table reference or a FILTER of one); idx then holds their row
	// numbers, so the table can act as a filter on base.
	base *Table
	idx  []int
}

// resultCol names a column of a result: Table[Column] when it comes from
// a model table, [Name] (table "") when the query computed it.
type resultCol struct{ table, name string }

func (c resultCol) key() string {
	if c.table == "" {
		return "[" + c.name + "]"
	}
	return c.table + "[" + c.name + "]"
}

// filter keeps some rows of a model table. cols lists the columns it
// constrains (nil: whole rows), so that CALCULATE can replace the filters
// on a column it sets.
type filter struct {
	table *Table
	cols  []int
	keep  func(row int) bool
}

// engine runs one query against a model.
type engine struct {
	model    *Model
	measures map[string]measureDef // by lower-case name
}

type measureDef struct {
	table, name string
	body        expr
	src         string // "" for DEFINE MEASURE bodies, which are parsed already
}

// evalCtx is the filter context and, inside iterators such as FILTER,
// the row context.
type evalCtx struct {
	e       *engine
	filters []filter
	rowTab  *resultTable
	row     []any
	depth   int // nesting of measures, against circular definitions
}

const maxMeasureDepth = 32

func newEngine(m *Model, q *daxQuery) (*engine, error) {
	e := &engine{model: m, measures: map[string]measureDef{}}
	for _, ms := range m.Measures {
		e.measures[strings.ToLower(ms.Name)] = measureDef{table: ms.Table, name: ms.Name, src: ms.Expression}
	}
	for _, d := range q.measures {
		if m.table(d.ref.table) == nil {
			return nil, errAt(d.ref.tok, "Failed to resolve name '%s'. It is not a valid table, variable, or function name.", d.ref.table)
		}
		e.measures[strings.ToLower(d.ref.column)] = measureDef{table: d.ref.table, name: d.ref.column, body: d.body}
	}
	return e, nil
}

// runQuery parses and evaluates a query. It returns the result tables,
// one per EVALUATE.
func runQuery(m *Model, src string) ([]*resultTable, error) {
	q, err := parseQuery(src)
	if err != nil {
		return nil, err
	}
	e, err := newEngine(m, q)
	if err != nil {
		return nil, err
	}
	var out []*resultTable
	for _, ev := range q.evaluates {
		c := &evalCtx{e: e}
		t, err := c.table(ev.table)
		if err != nil {
			return nil, err
		}
		if len(ev.orderBy) > 0 {
			if t, err = c.sorted(t, ev.orderBy); err != nil {
				return nil, err
			}
		}
		out = append(out, t)
	}
	return out, nil
}

// ---- table expressions ----

// tableFunctions return tables; an argument calling one of them is a
// table, not a condition.
var tableFunctions = map[string]bool{
	"FILTER": true, "TOPN": true, "SUMMARIZECOLUMNS": true, "ROW": true, "VALUES": true,
	"DISTINCT": true, "ALL": true, "CALCULATETABLE": true, "ADDCOLUMNS": true, "SELECTCOLUMNS": true, "INFO.VIEW.TABLES": true,
	"INFO.VIEW.COLUMNS": true, "INFO.VIEW.MEASURES": true, "INFO.VIEW.RELATIONSHIPS": true, "COLUMNSTATISTICS": true, "TREATAS": true,
}

func isTableExpr(x expr) bool {
	switch x := x.(type) {
	case *identExpr, *tableCtor:
		return true
	case *callExpr:
		return tableFunctions[x.name]
	}
	return false
}

func (c *evalCtx) table(x expr) (*resultTable, error) {
	switch x := x.(type) {
	case *identExpr:
		t := c.e.model.table(x.name)
		if t == nil {
			return nil, errAt(x.tok, "Failed to resolve name '%s'. It is not a valid table, variable, or function name.", x.name)
		}
		return c.modelRows(t, c.visible(t)), nil
	case *tableCtor:
		out := &resultTable{cols: []resultCol{{name: "Value"}}}
		for _, v := range x.values {
			val, err := c.scalar(v)
			if err != nil {
				return nil, err
			}
			out.rows = append(out.rows, []any{val})
		}
		return out, nil
	case *callExpr:
		if !tableFunctions[x.name] {
			break
		}
		if strings.HasPrefix(x.name, "INFO.") || x.name == "COLUMNSTATISTICS" {
			return c.e.infoTable(x)
		}
		switch x.name {
		case "FILTER":
			return c.filterTable(x)
		case "TOPN":
			return c.topN(x)
		case "SUMMARIZECOLUMNS":
			return c.summarizeColumns(x)
		case "ROW":
			return c.rowTable(x)
		case "ADDCOLUMNS", "SELECTCOLUMNS":
			return c.addColumns(x)
		case "VALUES", "DISTINCT", "ALL":
			return c.values(x)
		case "TREATAS":
			return c.treatAs(x)
		case "CALCULATETABLE":
			if len(x.args) == 0 {
				return nil, argCount(x, "at least 1")
			}
			inner, err := c.calculateContext(x.args[1:])
			if err != nil {
				return nil, err
			}
			return inner.table(x.args[0])
		}
	}
	if c, ok := x.(*callExpr); ok && !scalarFunctions[c.name] {
		return nil, unknownFunction(c)
	}
	return nil, errAt(x.at(), "The expression specified in the query is not a valid table expression.")
}

func (c *evalCtx) modelRows(t *Table, idx []int) *resultTable {
	out := &resultTable{base: t, idx: idx}
	for _, col := range t.Columns {
		out.cols = append(out.cols, resultCol{table: t.Name, name: col.Name})
	}
	for _, i := range idx {
		out.rows = append(out.rows, t.Rows[i])
	}
	return out
}

func argCount(x *callExpr, want string) error {
	return errAt(x.tok, "Too few or too many arguments were passed to the %s function: it takes %s.", x.name, want)
}

func unknownFunction(x *callExpr) error {
	return errAt(x.tok, "The function '%s' is not supported by the pbitest DAX engine (EVALUATE with FILTER, TOPN, SUMMARIZECOLUMNS, ADDCOLUMNS, SELECTCOLUMNS, ROW, VALUES, TREATAS, CALCULATETABLE, CALCULATE, SUM, COUNT, COUNTROWS, AVERAGE, MIN, MAX, DISTINCTCOUNT, DIVIDE, IF, DATE).", x.name)
}

// withRow returns a context whose row context is one row of t.
func (c *evalCtx) withRow(t *resultTable, row []any) *evalCtx {
	n := *c
	n.rowTab, n.row = t, row
	return &n
}

func (c *evalCtx) filterTable(x *callExpr) (*resultTable, error) {
	if len(x.args) != 2 {
		return nil, argCount(x, "2 arguments")
	}
	t, err := c.table(x.args[0])
	if err != nil {
		return nil, err
	}
	out := &resultTable{cols: t.cols, base: t.base}
	for i, row := range t.rows {
		v, err := c.withRow(t, row).scalar(x.args[1])
		if err != nil {
			return nil, err
		}
		if ok, err := truthy(x.args[1], v); err != nil {
			return nil, err
		} else if ok {
			out.rows = append(out.rows, row)
			if t.base != nil {
				out.idx = append(out.idx, t.idx[i])
			}
		}
	}
	return out, nil
}

// topN keeps the first n rows in the order given (descending unless ASC
// follows an expression); rows tied with the last one are kept too, as
// DAX does.
func (c *evalCtx) topN(x *callExpr) (*resultTable, error) {
	if len(x.args) < 2 {
		return nil, argCount(x, "at least 2 arguments")
	}
	nv, err := c.scalar(x.args[0])
	if err != nil {
		return nil, err
	}
	n, ok := toFloat(nv)
	if !ok {
		return nil, errAt(x.args[0].at(), "The first argument of TOPN must be a number.")
	}
	t, err := c.table(x.args[1])
	if err != nil {
		return nil, err
	}
	var keys []orderKey
	for i := 2; i < len(x.args); i++ {
		k := orderKey{e: x.args[i], desc: true}
		if i+1 < len(x.args) {
			if dir, ok := sortDirection(x.args[i+1]); ok {
				k.desc = dir
				i++
			}
		}
		keys = append(keys, k)
	}
	sorted, err := c.sorted(t, keys)
	if err != nil {
		return nil, err
	}
	limit := int(n)
	if limit < 0 {
		limit = 0
	}
	if limit == 0 || limit >= len(sorted.rows) || len(keys) == 0 {
		limit = min(limit, len(sorted.rows))
		return sorted.slice(limit), nil
	}
	last, err := c.sortKeys(sorted, sorted.rows[limit-1], keys)
	if err != nil {
		return nil, err
	}
	for limit < len(sorted.rows) {
		next, err := c.sortKeys(sorted, sorted.rows[limit], keys)
		if err != nil {
			return nil, err
		}
		if slices.CompareFunc(last, next, order) != 0 {
			break
		}
		limit++
	}
	return sorted.slice(limit), nil
}

// sortDirection reads ASC/DESC (or 1/0) as TOPN takes them.
func sortDirection(x expr) (desc, ok bool) {
	switch x := x.(type) {
	case *identExpr:
		switch strings.ToUpper(x.name) {
		case "ASC":
			return false, true
		case "DESC":
			return true, true
		}
	case *numberLit:
		n, _ := toFloat(x.v)
		return n == 0, true
	}
	return false, false
}

func (t *resultTable) slice(n int) *resultTable {
	out := &resultTable{cols: t.cols, rows: t.rows[:n], base: t.base}
	if t.base != nil {
		out.idx = t.idx[:n]
	}
	return out
}

func (c *evalCtx) sortKeys(t *resultTable, row []any, keys []orderKey) ([]any, error) {
	out := make([]any, len(keys))
	for i, k := range keys {
		v, err := c.withRow(t, row).scalar(k.e)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// sorted orders the rows of t by keys evaluated in each row's context.
func (c *evalCtx) sorted(t *resultTable, keys []orderKey) (*resultTable, error) {
	type keyed struct {
		keys []any
		row  []any
		idx  int
	}
	items := make([]keyed, len(t.rows))
	for i, row := range t.rows {
		k, err := c.sortKeys(t, row, keys)
		if err != nil {
			return nil, err
		}
		items[i] = keyed{keys: k, row: row}
		if t.base != nil {
			items[i].idx = t.idx[i]
		}
	}
	slices.SortStableFunc(items, func(a, b keyed) int {
		for i, k := range keys {
			if r := order(a.keys[i], b.keys[i]); r != 0 {
				if k.desc {
					return -r
				}
				return r
			}
		}
		return 0
	})
	out := &resultTable{cols: t.cols, base: t.base}
	for _, it := range items {
		out.rows = append(out.rows, it.row)
		if t.base != nil {
			out.idx = append(out.idx, it.idx)
		}
	}
	return out, nil
}

// summarizeColumns groups by columns, applies filter tables and adds named
// expressions; combinations where every expression is blank are left out.
func (c *evalCtx) summarizeColumns(x *callExpr) (*resultTable, error) {
	var groups []*columnRef
	var filterArgs []expr
	var names []string
	var exprs []expr
	for i := 0; i < len(x.args); i++ {
		switch a := x.args[i].(type) {
		case *columnRef:
			if a.table == "" || len(names) > 0 || len(filterArgs) > 0 {
				return nil, errAt(a.tok, "SUMMARIZECOLUMNS takes the group-by columns first, then filter tables, then name and expression pairs.")
			}
			groups = append(groups, a)
		case *stringLit:
			if i+1 >= len(x.args) {
				return nil, errAt(a.tok, "The expression for the column '%s' is missing in SUMMARIZECOLUMNS.", a.v)
			}
			names = append(names, a.v)
			exprs = append(exprs, x.args[i+1])
			i++
		default:
			if !isTableExpr(a) || len(names) > 0 {
				return nil, errAt(a.at(), "SUMMARIZECOLUMNS takes the group-by columns first, then filter tables, then name and expression pairs.")
			}
			filterArgs = append(filterArgs, a)
		}
	}
	ctx, err := c.calculateContext(filterArgs)
	if err != nil {
		return nil, err
	}
	out := &resultTable{}
	// Combinations: per model table, the distinct values its group columns
	// take in visible rows; across tables, every combination.
	combos := [][]any{{}}
	var fixed []filterOn // per group column: the table and column index
	for _, g := range groups {
		t, ci, err := c.e.column(g)
		if err != nil {
			return nil, err
		}
		out.cols = append(out.cols, resultCol{table: t.Name, name: t.Columns[ci].Name})
		fixed = append(fixed, filterOn{t, ci})
	}
	for start := 0; start < len(groups); {
		end := start + 1
		for end < len(groups) && fixed[end].table == fixed[start].table {
			end++
		}
		local := distinctTuples(fixed[start].table, ctx.visible(fixed[start].table), fixed[start:end])
		var next [][]any
		for _, prefix := range combos {
			for _, tuple := range local {
				next = append(next, append(slices.Clone(prefix), tuple...))
			}
		}
		combos = next
		start = end
	}
	for _, name := range names {
		out.cols = append(out.cols, resultCol{name: name})
	}
	for _, combo := range combos {
		inner := ctx
		for i, f := range fixed {
			inner = inner.withEquality(f.table, f.col, combo[i])
		}
		row := append([]any(nil), combo...)
		anyValue := len(exprs) == 0
		for _, e := range exprs {
			v, err := inner.scalar(e)
			if err != nil {
				return nil, err
			}
			anyValue = anyValue || v != nil
			row = append(row, v)
		}
		if anyValue {
			out.rows = append(out.rows, row)
		}
	}
	return out, nil
}

type filterOn struct {
	table *Table
	col   int
}

// distinctTuples returns the distinct value combinations of some columns
// of one table in the given rows, sorted.
func distinctTuples(t *Table, idx []int, cols []filterOn) [][]any {
	seen := map[string]bool{}
	var out [][]any
	for _, i := range idx {
		tuple := make([]any, len(cols))
		for j, c := range cols {
			tuple[j] = t.Rows[i][c.col]
		}
		k := tupleKey(tuple)
		if !seen[k] {
			seen[k] = true
			out = append(out, tuple)
		}
	}
	slices.SortFunc(out, func(a, b []any) int { return slices.CompareFunc(a, b, order) })
	return out
}

func tupleKey(values []any) string {
	var b strings.Builder
	for _, v := range values {
		// The type of the normalised value, so 2024 and 2024.0 are one key, as in DAX.
		k := normalizeKey(v)
		fmt.Fprintf(&b, "%T:%v|", k, k)
	}
	return b.String()
}

// normalizeKey makes equal DAX values equal Go values: numbers compare as
// numbers and text without regard to case.
func normalizeKey(v any) any {
	switch v := v.(type) {
	case int64:
		return float64(v)
	case string:
		return strings.ToLower(v)
	case time.Time:
		return v.UnixNano()
	}
	return v
}

func (c *evalCtx) rowTable(x *callExpr) (*resultTable, error) {
	if len(x.args) == 0 || len(x.args)%2 != 0 {
		return nil, argCount(x, "name and expression pairs")
	}
	out := &resultTable{rows: [][]any{{}}}
	for i := 0; i < len(x.args); i += 2 {
		name, ok := x.args[i].(*stringLit)
		if !ok {
			return nil, errAt(x.args[i].at(), "ROW takes a column name in double quotes before each expression.")
		}
		v, err := c.scalar(x.args[i+1])
		if err != nil {
			return nil, err
		}
		out.cols = append(out.cols, resultCol{name: name.v})
		out.rows[0] = append(out.rows[0], v)
	}
	return out, nil
}

// addColumns answers ADDCOLUMNS (the table's columns plus named
// expressions) and SELECTCOLUMNS (the named expressions only), each
// evaluated in the row context of every row.
func (c *evalCtx) addColumns(x *callExpr) (*resultTable, error) {
	if len(x.args) < 3 || len(x.args)%2 != 1 {
		return nil, argCount(x, "a table, then name and expression pairs")
	}
	t, err := c.table(x.args[0])
	if err != nil {
		return nil, err
	}
	out := &resultTable{}
	if x.name == "ADDCOLUMNS" {
		out.cols = slices.Clone(t.cols)
	}
	for i := 1; i < len(x.args); i += 2 {
		name, ok := x.args[i].(*stringLit)
		if !ok {
			return nil, errAt(x.args[i].at(), "%s takes a column name in double quotes before each expression.", x.name)
		}
		out.cols = append(out.cols, resultCol{name: name.v})
	}
	for _, row := range t.rows {
		var vals []any
		if x.name == "ADDCOLUMNS" {
			vals = slices.Clone(row)
		}
		rc := c.withRow(t, row)
		for i := 2; i < len(x.args); i += 2 {
			v, err := rc.scalar(x.args[i])
			if err != nil {
				return nil, err
			}
			vals = append(vals, v)
		}
		out.rows = append(out.rows, vals)
	}
	return out, nil
}

// values answers VALUES, DISTINCT and ALL of a table or a column.
func (c *evalCtx) values(x *callExpr) (*resultTable, error) {
	if len(x.args) != 1 {
		return nil, argCount(x, "1 argument")
	}
	switch a := x.args[0].(type) {
	case *identExpr:
		t := c.e.model.table(a.name)
		if t == nil {
			return nil, errAt(a.tok, "Failed to resolve name '%s'. It is not a valid table, variable, or function name.", a.name)
		}
		if x.name == "ALL" {
			return c.modelRows(t, allRows(t)), nil
		}
		return c.modelRows(t, c.visible(t)), nil
	case *columnRef:
		t, ci, err := c.e.column(a)
		if err != nil {
			return nil, err
		}
		idx := c.visible(t)
		if x.name == "ALL" {
			idx = allRows(t)
		}
		out := &resultTable{cols: []resultCol{{table: t.Name, name: t.Columns[ci].Name}}}
		out.rows = distinctTuples(t, idx, []filterOn{{t, ci}})
		return out, nil
	}
	return nil, errAt(x.tok, "%s takes a table or a column reference.", x.name)
}

// treatAs answers TREATAS(table, Table[Column], ...): the rows of table, its columns taken as
// the model columns named, so that as a filter (CALCULATE's, SUMMARIZECOLUMNS') it filters
// those columns to its values. Values no row of the model holds filter everything out.
func (c *evalCtx) treatAs(x *callExpr) (*resultTable, error) {
	if len(x.args) < 2 {
		return nil, argCount(x, "a table expression and one column reference per column of the table")
	}
	t, err := c.table(x.args[0])
	if err != nil {
		return nil, err
	}
	if len(t.cols) != len(x.args)-1 {
		return nil, errAt(x.tok, "The number of columns in the table expression (%d) does not match the number of columns specified (%d) in the TREATAS function.", len(t.cols), len(x.args)-1)
	}
	out := &resultTable{rows: t.rows}
	for _, a := range x.args[1:] {
		ref, ok := a.(*columnRef)
		if !ok || ref.table == "" {
			return nil, errAt(a.at(), "TREATAS takes model columns, such as 'Product'[Category], after its table expression.")
		}
		mt, ci, err := c.e.column(ref)
		if err != nil {
			return nil, err
		}
		out.cols = append(out.cols, resultCol{table: mt.Name, name: mt.Columns[ci].Name})
	}
	return out, nil
}

func allRows(t *Table) []int {
	idx := make([]int, len(t.Rows))
	for i := range idx {
		idx[i] = i
	}
	return idx
}

var scalarFunctions = map[string]bool{
	"SUM": true, "COUNT": true, "COUNTROWS": true, "AVERAGE": true, "MIN": true, "MAX": true,
	"DISTINCTCOUNT": true, "CALCULATE": true, "DIVIDE": true, "IF": true, "BLANK": true,
	"TRUE": true, "FALSE": true, "DATE": true, "NOT": true, "ISBLANK": true, "CONCATENATEX": true,
}

func (c *evalCtx) scalar(x expr) (any, error) {
	switch x := x.(type) {
	case *numberLit:
		return x.v, nil
	case *stringLit:
		return x.v, nil
	case *columnRef:
		return c.columnValue(x)
	case *negExpr:
		v, err := c.scalar(x.x)
		if err != nil {
			return nil, err
		}
		return arithmetic(x.tok, "-", int64(0), v)
	case *binaryExpr:
		return c.binary(x)
	case *callExpr:
		if scalarFunctions[x.name] {
			return c.call(x)
		}
		if !tableFunctions[x.name] {
			return nil, unknownFunction(x)
		}
	}
	return nil, errAt(x.at(), "A table of multiple values was supplied where a single value was expected.")
}

// columnValue reads a column of the current row, a column the query
// computed ([Name] in a row context), or a measure.
func (c *evalCtx) columnValue(r *columnRef) (any, error) {
	if c.rowTab != nil {
		for i, col := range c.rowTab.cols {
			if strings.EqualFold(col.name, r.column) && (r.table == "" && col.table == "" || strings.EqualFold(col.table, r.table)) {
				return c.row[i], nil
			}
		}
	}
	if r.table == "" {
		if m, ok := c.e.measures[strings.ToLower(r.column)]; ok {
			return c.measure(r, m)
		}
		return nil, errAt(r.tok, "Column '%s' cannot be found or may not be used in this expression.", r.column)
	}
	if _, _, err := c.e.column(r); err != nil {
		return nil, err
	}
	return nil, errAt(r.tok, "A single value for column '%s' in table '%s' cannot be determined. This can happen when a measure formula refers to a column that contains many values without specifying an aggregation such as min, max, count, or sum to get a single result.", r.column, r.table)
}

func (c *evalCtx) measure(r *columnRef, m measureDef) (any, error) {
	if c.depth >= maxMeasureDepth {
		return nil, errAt(r.tok, "A circular dependency was detected: measure '%s'.", m.name)
	}
	body := m.body
	if body == nil {
		var err error
		if body, err = parseExpr(m.src); err != nil {
			return nil, &daxError{msg: fmt.Sprintf("The measure '%s'[%s] has an error: %v", m.table, m.name, err)}
		}
	}
	n := c.transition()
	n.depth++
	return n.scalar(body)
}

func (c *evalCtx) binary(x *binaryExpr) (any, error) {
	l, err := c.scalar(x.l)
	if err != nil {
		return nil, err
	}
	switch x.op {
	case "&&", "||":
		lb, err := truthy(x.l, l)
		if err != nil {
			return nil, err
		}
		if x.op == "&&" && !lb || x.op == "||" && lb {
			return lb, nil
		}
		r, err := c.scalar(x.r)
		if err != nil {
			return nil, err
		}
		return truthy(x.r, r)
	}
	r, err := c.scalar(x.r)
	if err != nil {
		return nil, err
	}
	switch x.op {
	case "=", "==", "<>", "<", "<=", ">", ">=":
		if x.op == "==" && (l == nil) != (r == nil) {
			return false, nil
		}
		cmp, err := compare(x.tok, l, r)
		if err != nil {
			return nil, err
		}
		switch x.op {
		case "=", "==":
			return cmp == 0, nil
		case "<>":
			return cmp != 0, nil
		case "<":
			return cmp < 0, nil
		case "<=":
			return cmp <= 0, nil
		case ">":
			return cmp > 0, nil
		default:
			return cmp >= 0, nil
		}
	case "&":
		return text(l) + text(r), nil
	}
	return arithmetic(x.tok, x.op, l, r)
}

func (c *evalCtx) call(x *callExpr) (any, error) {
	switch x.name {
	case "BLANK", "TRUE", "FALSE":
		if len(x.args) != 0 {
			return nil, argCount(x, "no arguments")
		}
		return map[string]any{"BLANK": nil, "TRUE": true, "FALSE": false}[x.name], nil
	case "SUM", "COUNT", "AVERAGE", "MIN", "MAX", "DISTINCTCOUNT":
		return c.aggregate(x)
	case "COUNTROWS":
		if len(x.args) != 1 {
			return nil, argCount(x, "1 argument")
		}
		t, err := c.table(x.args[0])
		if err != nil {
			return nil, err
		}
		if len(t.rows) == 0 {
			return nil, nil
		}
		return int64(len(t.rows)), nil
	case "CALCULATE":
		if len(x.args) == 0 {
			return nil, argCount(x, "at least 1 argument")
		}
		n, err := c.calculateContext(x.args[1:])
		if err != nil {
			return nil, err
		}
		return n.scalar(x.args[0])
	case "DIVIDE":
		if len(x.args) < 2 || len(x.args) > 3 {
			return nil, argCount(x, "2 or 3 arguments")
		}
		vals, err := c.scalars(x.args)
		if err != nil {
			return nil, err
		}
		if d, _ := toFloat(vals[1]); d == 0 {
			if len(vals) == 3 {
				return vals[2], nil
			}
			return nil, nil
		}
		return arithmetic(x.tok, "/", vals[0], vals[1])
	case "IF":
		if len(x.args) < 2 || len(x.args) > 3 {
			return nil, argCount(x, "2 or 3 arguments")
		}
		cond, err := c.scalar(x.args[0])
		if err != nil {
			return nil, err
		}
		ok, err := truthy(x.args[0], cond)
		if err != nil {
			return nil, err
		}
		switch {
		case ok:
			return c.scalar(x.args[1])
		case len(x.args) == 3:
			return c.scalar(x.args[2])
		}
		return nil, nil
	case "DATE":
		if len(x.args) != 3 {
			return nil, argCount(x, "3 arguments")
		}
		vals, err := c.scalars(x.args)
		if err != nil {
			return nil, err
		}
		var ymd [3]int
		for i, v := range vals {
			f, ok := toFloat(v)
			if !ok {
				return nil, errAt(x.args[i].at(), "The arguments of DATE must be numbers.")
			}
			ymd[i] = int(f)
		}
		return time.Date(ymd[0], time.Month(ymd[1]), ymd[2], 0, 0, 0, 0, time.UTC), nil
	case "NOT", "ISBLANK", "CONCATENATEX":
		return c.sampleFunction(x)
	}
	return nil, unknownFunction(x)
}

func (c *evalCtx) scalars(args []expr) ([]any, error) {
	out := make([]any, len(args))
	for i, a := range args {
		v, err := c.scalar(a)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// aggregate folds a column over the rows visible in the filter context.
// The row context does not filter (that takes CALCULATE).
func (c *evalCtx) aggregate(x *callExpr) (any, error) {
	if len(x.args) != 1 {
		return nil, argCount(x, "1 argument")
	}
	ref, ok := x.args[0].(*columnRef)
	if !ok || ref.table == "" {
		return nil, errAt(x.tok, "The %s function only accepts a column reference as an argument.", x.name)
	}
	t, ci, err := c.e.column(ref)
	if err != nil {
		return nil, err
	}
	var vals []any
	for _, i := range c.visible(t) {
		if v := t.Rows[i][ci]; v != nil {
			vals = append(vals, v)
		}
	}
	if x.name == "DISTINCTCOUNT" {
		seen := map[any]bool{}
		for _, v := range vals {
			seen[normalizeKey(v)] = true
		}
		if len(seen) == 0 {
			return nil, nil
		}
		return int64(len(seen)), nil
	}
	if len(vals) == 0 {
		return nil, nil
	}
	switch x.name {
	case "COUNT":
		return int64(len(vals)), nil
	case "MIN", "MAX":
		best := vals[0]
		for _, v := range vals[1:] {
			if r := order(v, best); x.name == "MIN" && r < 0 || x.name == "MAX" && r > 0 {
				best = v
			}
		}
		return best, nil
	}
	var sum any = int64(0)
	for _, v := range vals {
		if sum, err = arithmetic(x.tok, "+", sum, v); err != nil {
			return nil, err
		}
	}
	if x.name == "AVERAGE" {
		return arithmetic(x.tok, "/", sum, int64(len(vals)))
	}
	if f, ok := sum.(float64); ok && t.Columns[ci].DataType == TypeDecimal {
		// Fixed decimal numbers have four decimal places, so their sums are exact.
		sum = math.Round(f*1e4) / 1e4
	}
	return sum, nil
}
