package pbitest

import (
	"fmt"
	"strings"
	"time"
)

// Column data types, named as the tabular model (and the push dataset
// API) names them.
const (
	TypeInt64    = "Int64"
	TypeDouble   = "Double"
	TypeDecimal  = "Decimal"
	TypeString   = "String"
	TypeBoolean  = "Boolean"
	TypeDateTime = "DateTime"
)

// Model is the queryable content of a semantic model: tables with rows,
// measures and the relationships filters flow along. Push datasets use the
// same types, so rows added through the API become queryable.
type Model struct {
	Tables        []*Table
	Measures      []Measure
	Relationships []Relationship
	// RefuseInfoFunctions makes INFO functions (INFO.VIEW.TABLES() and
	// friends) fail the way the service fails them for models and callers
	// it does not allow them for, so clients can test their fallback.
	RefuseInfoFunctions bool
	// Roles are the row-level security roles (see rls.go); they apply when
	// the dataset has RLS set.
	Roles []Role
}

// Table is a model table. A cell holds nil (blank), int64, float64,
// string, bool or time.Time, as the column's type says.
type Table struct {
	Name     string
	Columns  []Column
	Rows     [][]any
	IsHidden bool
}

// Column is a table column.
type Column struct {
	Name     string
	DataType string // one of the Type* constants
	IsHidden bool
}

// Measure is a DAX measure, home in Table.
type Measure struct {
	Table, Name, Expression string
	FormatString            string
	Description             string
	DisplayFolder           string
}

// Relationship is a many-to-one relationship: each From row has at most
// one To row with the same key. Filters flow from To to From, as with the
// default single cross-filter direction.
type Relationship struct {
	FromTable, FromColumn, ToTable, ToColumn string
}

// table finds a table by name, case-insensitively as DAX does.
func (m *Model) table(name string) *Table {
	for _, t := range m.Tables {
		if strings.EqualFold(t.Name, name) {
			return t
		}
	}
	return nil
}

// column returns the index of a column, or -1.
func (t *Table) column(name string) int {
	for i, c := range t.Columns {
		if strings.EqualFold(c.Name, name) {
			return i
		}
	}
	return -1
}

// AddRow appends a row given by column name, converting JSON-like values
// (float64 numbers, strings for dates) to the column types. Unknown
// columns are an error; missing ones are blank.
func (t *Table) AddRow(values map[string]any) error {
	row := make([]any, len(t.Columns))
	for name, v := range values {
		i := t.column(name)
		if i < 0 {
			return fmt.Errorf("table %s has no column %s", t.Name, name)
		}
		cv, err := convertCell(v, t.Columns[i].DataType)
		if err != nil {
			return fmt.Errorf("column %s: %w", name, err)
		}
		row[i] = cv
	}
	t.Rows = append(t.Rows, row)
	return nil
}

func convertCell(v any, dataType string) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch dataType {
	case TypeInt64:
		switch n := v.(type) {
		case int64:
			return n, nil
		case int:
			return int64(n), nil
		case float64:
			return int64(n), nil
		}
	case TypeDouble, TypeDecimal:
		switch n := v.(type) {
		case float64:
			return n, nil
		case int64:
			return float64(n), nil
		case int:
			return float64(n), nil
		}
	case TypeString:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case TypeBoolean:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case TypeDateTime:
		switch d := v.(type) {
		case time.Time:
			return d.UTC(), nil
		case string:
			for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02", "01/02/2006"} {
				if t, err := time.Parse(layout, d); err == nil {
					return t.UTC(), nil
				}
			}
		}
	}
	return nil, fmt.Errorf("value %v is not a valid %s", v, dataType)
}

// clone copies the model so a caller's later changes do not reach the
// tenant.
func (m Model) clone() *Model {
	out := m
	out.Tables = make([]*Table, len(m.Tables))
	for i, t := range m.Tables {
		ct := *t
		ct.Columns = append([]Column(nil), t.Columns...)
		ct.Rows = make([][]any, len(t.Rows))
		for j, r := range t.Rows {
			ct.Rows[j] = append([]any(nil), r...)
		}
		out.Tables[i] = &ct
	}
	out.Measures = append([]Measure(nil), m.Measures...)
	out.Relationships = append([]Relationship(nil), m.Relationships...)
	out.Roles = cloneRoles(m.Roles)
	return &out
}

// SetModel gives a dataset its tables, measures and relationships, which
// executeQueries then answers from. It panics if the dataset does not
// exist.
func (s *Server) SetModel(datasetID string, m Model) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, _ := s.state.findDataset(datasetID)
	if d == nil {
		panic(fmt.Sprintf("pbitest: SetModel: no dataset %s", datasetID))
	}
	d.model = m.clone()
}
