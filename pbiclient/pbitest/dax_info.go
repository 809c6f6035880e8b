package pbitest

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// errInfoRefused is how the service fails INFO functions it does not allow
// for a model or caller: the generic DAX failure, observed for INFO and
// DMV queries through executeQueries (gbrueckl/PowerBI-VSCode#45).
var errInfoRefused = &daxError{msg: "Failed to execute the DAX query."}

// rowNumberColumn is the hidden column every table has, which
// COLUMNSTATISTICS lists.
const rowNumberColumn = "RowNumber-2662979B-1795-4F74-8F37-6A1BA8059B61"

// infoTable answers INFO.VIEW.TABLES(), INFO.VIEW.COLUMNS(),
// INFO.VIEW.MEASURES(), INFO.VIEW.RELATIONSHIPS() and COLUMNSTATISTICS().
func (e *engine) infoTable(x *callExpr) (*resultTable, error) {
	if len(x.args) != 0 {
		return nil, argCount(x, "no arguments")
	}
	m := e.model
	if m.RefuseInfoFunctions && x.name != "COLUMNSTATISTICS" {
		return nil, errInfoRefused
	}
	computed := func(names ...string) []resultCol {
		cols := make([]resultCol, len(names))
		for i, n := range names {
			cols[i] = resultCol{name: n}
		}
		return cols
	}
	out := &resultTable{}
	id := int64(0)
	nextID := func() int64 { id++; return id }
	switch x.name {
	case "INFO.VIEW.TABLES":
		out.cols = computed("ID", "Name", "Model", "Description", "IsHidden", "DataCategory")
		for _, t := range m.Tables {
			out.rows = append(out.rows, []any{nextID(), t.Name, "Model", nil, t.IsHidden, "Regular"})
		}
	case "INFO.VIEW.COLUMNS":
		out.cols = computed("ID", "Name", "Table", "DataType", "IsHidden", "Description", "FormatString")
		for _, t := range m.Tables {
			for _, c := range t.Columns {
				out.rows = append(out.rows, []any{nextID(), c.Name, t.Name, c.DataType, c.IsHidden, nil, nil})
			}
		}
	case "INFO.VIEW.MEASURES":
		out.cols = computed("ID", "Name", "Table", "Description", "DataType", "Expression", "FormatString", "IsHidden")
		for _, ms := range m.Measures {
			out.rows = append(out.rows, []any{nextID(), ms.Name, ms.Table, blankIfEmpty(ms.Description), "Variant",
				ms.Expression, blankIfEmpty(ms.FormatString), false})
		}
	case "INFO.VIEW.RELATIONSHIPS":
		// The columns of the service's view; every relationship here is an active many-to-one
		// one with a single cross-filter direction, as Model.Relationships says.
		out.cols = computed("ID", "Name", "Relationship", "Model", "IsActive", "CrossFilteringBehavior",
			"RelyOnReferentialIntegrity", "FromTable", "FromColumn", "FromCardinality", "ToTable", "ToColumn",
			"ToCardinality", "State", "SecurityFilteringBehavior")
		for _, r := range m.Relationships {
			desc := fmt.Sprintf("'%s'[%s] *-1 '%s'[%s]", r.FromTable, r.FromColumn, r.ToTable, r.ToColumn)
			out.rows = append(out.rows, []any{nextID(), newGUID(), desc, "Model", true, "OneDirection", false,
				r.FromTable, r.FromColumn, "Many", r.ToTable, r.ToColumn, "One", "Ready", "OneDirection"})
		}
	case "COLUMNSTATISTICS":
		out.cols = computed("Table Name", "Column Name", "Min", "Max", "Cardinality", "Max Length")
		for _, t := range m.Tables {
			out.rows = append(out.rows, []any{t.Name, rowNumberColumn, nil, nil, int64(len(t.Rows)), int64(0)})
			for ci, c := range t.Columns {
				out.rows = append(out.rows, columnStats(t, ci, c))
			}
		}
	}
	return out, nil
}

func columnStats(t *Table, ci int, c Column) []any {
	var lo, hi any
	seen := map[any]bool{}
	maxLen := int64(0)
	for _, row := range t.Rows {
		v := row[ci]
		seen[normalizeKey(v)] = true
		if v == nil {
			continue
		}
		if lo == nil || order(v, lo) < 0 {
			lo = v
		}
		if hi == nil || order(v, hi) > 0 {
			hi = v
		}
		if s, ok := v.(string); ok {
			maxLen = max(maxLen, int64(utf8.RuneCountInString(s)))
		}
	}
	return []any{t.Name, c.Name, lo, hi, int64(len(seen)), maxLen}
}

func blankIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// sampleFunction answers NOT(x), ISBLANK(x) and CONCATENATEX(table, expression[, delimiter[,
// orderBy[, ASC|DESC]...]]), which a query reading a few values of each column uses:
// CONCATENATEX joins the expression's text in each row of the table, in the order given.
func (c *evalCtx) sampleFunction(x *callExpr) (any, error) {
	switch x.name {
	case "NOT", "ISBLANK":
		if len(x.args) != 1 {
			return nil, argCount(x, "1 argument")
		}
		v, err := c.scalar(x.args[0])
		if err != nil {
			return nil, err
		}
		if x.name == "ISBLANK" {
			return v == nil, nil
		}
		b, err := truthy(x.args[0], v)
		return !b, err
	}
	if len(x.args) < 2 {
		return nil, argCount(x, "at least 2 arguments")
	}
	t, err := c.table(x.args[0])
	if err != nil {
		return nil, err
	}
	delim := ""
	if len(x.args) > 2 {
		d, err := c.scalar(x.args[2])
		if err != nil {
			return nil, err
		}
		delim = text(d)
	}
	var keys []orderKey
	for i := 3; i < len(x.args); i++ {
		k := orderKey{e: x.args[i]}
		if i+1 < len(x.args) {
			if desc, ok := sortDirection(x.args[i+1]); ok {
				k.desc = desc
				i++
			}
		}
		keys = append(keys, k)
	}
	if t, err = c.sorted(t, keys); err != nil {
		return nil, err
	}
	parts := make([]string, 0, len(t.rows))
	for _, row := range t.rows {
		v, err := c.withRow(t, row).scalar(x.args[1])
		if err != nil {
			return nil, err
		}
		parts = append(parts, text(v))
	}
	if len(parts) == 0 {
		return nil, nil
	}
	return strings.Join(parts, delim), nil
}
