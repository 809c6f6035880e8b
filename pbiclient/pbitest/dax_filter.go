package pbitest

import (
	"slices"
	"strings"
)

// The filter context: which rows of each model table a calculation sees.

// visible returns the rows of t that pass the filter context: the filters
// on t itself and, along each relationship from t, those on the related
// table.
func (c *evalCtx) visible(t *Table) []int {
	var keeps []func(int) bool
	for _, f := range c.filters {
		if f.table == t {
			keeps = append(keeps, f.keep)
		}
	}
	for _, rel := range c.e.model.Relationships {
		if !strings.EqualFold(rel.FromTable, t.Name) {
			continue
		}
		to := c.e.model.table(rel.ToTable)
		from := t.column(rel.FromColumn)
		if to == nil || from < 0 || to.column(rel.ToColumn) < 0 {
			continue
		}
		rows := c.visible(to)
		if len(rows) == len(to.Rows) {
			continue // nothing filters the related table
		}
		keys := map[any]bool{}
		toCol := to.column(rel.ToColumn)
		for _, i := range rows {
			keys[normalizeKey(to.Rows[i][toCol])] = true
		}
		keeps = append(keeps, func(i int) bool { return keys[normalizeKey(t.Rows[i][from])] })
	}
	var out []int
	for i := range t.Rows {
		ok := true
		for _, keep := range keeps {
			if ok = keep(i); !ok {
				break
			}
		}
		if ok {
			out = append(out, i)
		}
	}
	return out
}

// withFilter returns a context with f added after removing the filters
// that constrain any of f's columns (CALCULATE's override).
func (c *evalCtx) withFilter(f filter) *evalCtx {
	n := *c
	n.filters = nil
	for _, old := range c.filters {
		if old.table == f.table && old.cols != nil && overlaps(old.cols, f.cols) {
			continue
		}
		n.filters = append(n.filters, old)
	}
	n.filters = append(n.filters, f)
	return &n
}

func overlaps(a, b []int) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

func (c *evalCtx) withEquality(t *Table, col int, v any) *evalCtx {
	want := normalizeKey(v)
	return c.withFilter(filter{table: t, cols: []int{col}, keep: func(i int) bool {
		return normalizeKey(t.Rows[i][col]) == want
	}})
}

// transition turns the row context into filters, as CALCULATE and
// measures do (context transition), and drops it.
func (c *evalCtx) transition() *evalCtx {
	n := c
	if c.rowTab != nil {
		for i, col := range c.rowTab.cols {
			if col.table == "" {
				continue
			}
			t := c.e.model.table(col.table)
			if ci := t.column(col.name); ci >= 0 {
				n = n.withEquality(t, ci, c.row[i])
			}
		}
	}
	out := *n
	out.rowTab, out.row = nil, nil
	return &out
}

// calculateContext applies CALCULATE filter arguments: ALL/REMOVEFILTERS
// remove filters, tables filter, and a condition on the columns of one
// table replaces the filters on those columns.
func (c *evalCtx) calculateContext(args []expr) (*evalCtx, error) {
	base := c.transition()
	n := base
	for _, a := range args {
		if call, ok := a.(*callExpr); ok && (call.name == "ALL" || call.name == "REMOVEFILTERS") {
			var err error
			if n, err = n.removeFilters(call); err != nil {
				return nil, err
			}
			continue
		}
		if isTableExpr(a) {
			t, err := base.table(a)
			if err != nil {
				return nil, err
			}
			fs, err := filtersOf(c.e.model, t, a)
			if err != nil {
				return nil, err
			}
			for _, f := range fs {
				n = n.withFilter(f)
			}
			continue
		}
		f, err := base.conditionFilter(a)
		if err != nil {
			return nil, err
		}
		n = n.withFilter(f)
	}
	return n, nil
}

func (c *evalCtx) removeFilters(call *callExpr) (*evalCtx, error) {
	n := *c
	n.filters = nil
	if len(call.args) == 0 {
		return &n, nil // REMOVEFILTERS() clears every filter
	}
	var t *Table
	col := -1
	switch a := call.args[0].(type) {
	case *identExpr:
		if t = c.e.model.table(a.name); t == nil {
			return nil, errAt(a.tok, "Failed to resolve name '%s'. It is not a valid table, variable, or function name.", a.name)
		}
	case *columnRef:
		var err error
		if t, col, err = c.e.column(a); err != nil {
			return nil, err
		}
	default:
		return nil, errAt(call.tok, "%s takes a table or a column reference.", call.name)
	}
	for _, f := range c.filters {
		if f.table == t && (col < 0 || slices.Contains(f.cols, col)) {
			continue
		}
		n.filters = append(n.filters, f)
	}
	return &n, nil
}

// conditionFilter turns a condition such as Product[Color] = "Red" into a
// filter on the columns it reads, which must be of one table.
func (c *evalCtx) conditionFilter(cond expr) (filter, error) {
	var refs []*columnRef
	collectColumns(cond, &refs)
	if len(refs) == 0 {
		return filter{}, errAt(cond.at(), "The True/False expression does not specify a column. Each True/False expressions used as a table filter expression must refer to exactly one column.")
	}
	var t *Table
	var cols []int
	for _, r := range refs {
		rt, ci, err := c.e.column(r)
		if err != nil {
			return filter{}, err
		}
		if t != nil && rt != t {
			return filter{}, errAt(cond.at(), "The expression contains columns from multiple tables, but only columns from a single table can be used in a True/False expression that is used as a table filter expression.")
		}
		t = rt
		cols = append(cols, ci)
	}
	view := c.modelRows(t, nil)
	keep := make([]bool, len(t.Rows))
	for i, row := range t.Rows {
		v, err := c.withRow(view, row).scalar(cond)
		if err != nil {
			return filter{}, err
		}
		if keep[i], err = truthy(cond, v); err != nil {
			return filter{}, err
		}
	}
	return filter{table: t, cols: cols, keep: func(i int) bool { return keep[i] }}, nil
}

func collectColumns(x expr, out *[]*columnRef) {
	switch x := x.(type) {
	case *columnRef:
		if x.table != "" {
			*out = append(*out, x)
		}
	case *binaryExpr:
		collectColumns(x.l, out)
		collectColumns(x.r, out)
	case *negExpr:
		collectColumns(x.x, out)
	case *callExpr:
		for _, a := range x.args {
			collectColumns(a, out)
		}
	}
}

// filtersOf turns a table used as a filter into filters: rows of a model
// table filter that table; other tables filter their columns' values.
func filtersOf(m *Model, t *resultTable, at expr) ([]filter, error) {
	if t.base != nil {
		keep := map[int]bool{}
		for _, i := range t.idx {
			keep[i] = true
		}
		return []filter{{table: t.base, keep: func(i int) bool { return keep[i] }}}, nil
	}
	byTable := map[string][]int{} // table name -> result column positions
	var names []string
	for i, col := range t.cols {
		if col.table == "" {
			return nil, errAt(at.at(), "The table used as a filter has the computed column [%s]; only columns of model tables can filter.", col.name)
		}
		if _, ok := byTable[col.table]; !ok {
			names = append(names, col.table)
		}
		byTable[col.table] = append(byTable[col.table], i)
	}
	var out []filter
	for _, name := range names {
		mt := m.table(name)
		positions := byTable[name]
		var cols []int
		for _, p := range positions {
			cols = append(cols, mt.column(t.cols[p].name))
		}
		allowed := map[string]bool{}
		for _, row := range t.rows {
			tuple := make([]any, len(positions))
			for j, p := range positions {
				tuple[j] = row[p]
			}
			allowed[tupleKey(tuple)] = true
		}
		out = append(out, filter{table: mt, cols: cols, keep: func(i int) bool {
			tuple := make([]any, len(cols))
			for j, ci := range cols {
				tuple[j] = mt.Rows[i][ci]
			}
			return allowed[tupleKey(tuple)]
		}})
	}
	return out, nil
}

// column resolves Table[Column] in the model.
func (e *engine) column(r *columnRef) (*Table, int, error) {
	t := e.model.table(r.table)
	if t == nil {
		return nil, -1, errAt(r.tok, "Failed to resolve name '%s'. It is not a valid table, variable, or function name.", r.table)
	}
	ci := t.column(r.column)
	if ci < 0 {
		return nil, -1, errAt(r.tok, "Column '%s' in table '%s' cannot be found or may not be used in this expression.", r.column, t.Name)
	}
	return t, ci, nil
}
