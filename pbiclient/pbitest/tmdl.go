package pbitest

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// A small TMDL writer and reader, for the definitions the Fabric API serves and accepts
// (fabric.go). It covers what the seeded models hold: model.tmdl, one tables/<Table>.tmdl per
// table with its columns and measures, measure expressions on one line, as an indented
// multi-line block or fenced with ```, and /// descriptions. Indentation is by tabs, as the
// service writes it. Partitions, hierarchies, annotations and other objects are read past.

const definitionPBISM = `{
  "version": "4.0",
  "settings": {}
}
`

// plainTMDLName matches the names TMDL writes without quotes.
var plainTMDLName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func quoteTMDLName(name string) string {
	if plainTMDLName.MatchString(name) {
		return name
	}
	return "'" + strings.ReplaceAll(name, "'", "''") + "'"
}

var tmdlDataTypes = map[string]string{
	TypeInt64: "int64", TypeDouble: "double", TypeDecimal: "decimal",
	TypeString: "string", TypeBoolean: "boolean", TypeDateTime: "dateTime",
}

// tablePartPath is where a table's TMDL lives in a definition.
func tablePartPath(table string) string { return "definition/tables/" + table + ".tmdl" }

// modelTMDL writes a model as the files of a TMDL definition, by part path.
func modelTMDL(m *Model, name string) map[string][]byte {
	if m == nil {
		m = &Model{}
	}
	files := map[string][]byte{"definition.pbism": []byte(definitionPBISM)}
	var b strings.Builder
	b.WriteString("model Model\n\tculture: en-US\n\tdefaultPowerBIDataSourceVersion: powerBI_V3\n")
	fmt.Fprintf(&b, "\n\tannotation PBI_QueryOrder = [%s]\n\n", quoteList(m.Tables))
	for _, t := range m.Tables {
		fmt.Fprintf(&b, "ref table %s\n", quoteTMDLName(t.Name))
	}
	files["definition/model.tmdl"] = []byte(b.String())
	for _, t := range m.Tables {
		b.Reset()
		fmt.Fprintf(&b, "table %s\n", quoteTMDLName(t.Name))
		if t.IsHidden {
			b.WriteString("\tisHidden\n")
		}
		for _, ms := range m.Measures {
			if !strings.EqualFold(ms.Table, t.Name) {
				continue
			}
			b.WriteString("\n")
			for _, line := range splitLines(ms.Description) {
				fmt.Fprintf(&b, "\t/// %s\n", line)
			}
			lines := splitLines(ms.Expression)
			if len(lines) <= 1 {
				fmt.Fprintf(&b, "\tmeasure %s = %s\n", quoteTMDLName(ms.Name), strings.TrimSpace(ms.Expression))
			} else {
				fmt.Fprintf(&b, "\tmeasure %s =\n", quoteTMDLName(ms.Name))
				for _, line := range lines {
					fmt.Fprintf(&b, "\t\t\t%s\n", line)
				}
			}
			if ms.FormatString != "" {
				fmt.Fprintf(&b, "\t\tformatString: %s\n", ms.FormatString)
			}
			if ms.DisplayFolder != "" {
				fmt.Fprintf(&b, "\t\tdisplayFolder: %s\n", ms.DisplayFolder)
			}
		}
		for _, c := range t.Columns {
			fmt.Fprintf(&b, "\n\tcolumn %s\n\t\tdataType: %s\n", quoteTMDLName(c.Name), tmdlDataTypes[c.DataType])
			if c.IsHidden {
				b.WriteString("\t\tisHidden\n")
			}
			fmt.Fprintf(&b, "\t\tsourceColumn: %s\n", c.Name)
		}
		fmt.Fprintf(&b, "\n\tpartition %s = m\n\t\tmode: import\n\t\tsource =\n\t\t\t\tlet\n\t\t\t\t\tSource = #table({}, {})\n\t\t\t\tin\n\t\t\t\t\tSource\n",
			quoteTMDLName(t.Name))
		files[tablePartPath(t.Name)] = []byte(b.String())
	}
	return files
}

func quoteList(tables []*Table) string {
	names := make([]string, len(tables))
	for i, t := range tables {
		names[i] = `"` + t.Name + `"`
	}
	return strings.Join(names, ",")
}

func splitLines(s string) []string {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// tmdlError is a definition that does not parse: the part, the line (from 1) and why.
type tmdlError struct {
	path string
	line int
	msg  string
}

func (e *tmdlError) Error() string {
	if e.line == 0 {
		return fmt.Sprintf("%s: %s", e.path, e.msg)
	}
	return fmt.Sprintf("%s, line %d: %s", e.path, e.line, e.msg)
}

// parseModelTMDL reads a TMDL definition against the model it would replace and returns the
// measures it defines. Every table of the model must keep its file: tables are not added or
// removed here, and a table file for a table the model lacks is refused.
func parseModelTMDL(files map[string][]byte, current *Model) ([]Measure, error) {
	if current == nil {
		current = &Model{}
	}
	model, ok := files["definition/model.tmdl"]
	if !ok {
		return nil, &tmdlError{path: "definition/model.tmdl", msg: "the part is missing"}
	}
	if err := parseModelFile(string(model)); err != nil {
		return nil, err
	}
	var paths []string
	for p := range files {
		if strings.HasPrefix(p, "definition/tables/") {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	seenTables := map[string]bool{}
	seenMeasures := map[string]bool{}
	var measures []Measure
	for _, p := range paths {
		table, ms, err := parseTableFile(p, string(files[p]))
		if err != nil {
			return nil, err
		}
		t := current.table(table)
		if t == nil {
			return nil, &tmdlError{path: p, line: 1, msg: fmt.Sprintf("table %s is not in the model (adding tables is not supported)", table)}
		}
		seenTables[strings.ToLower(t.Name)] = true
		for _, m := range ms {
			m.Table = t.Name
			key := strings.ToLower(m.Name)
			if seenMeasures[key] {
				return nil, &tmdlError{path: p, msg: fmt.Sprintf("measure %s is defined more than once in the model", m.Name)}
			}
			seenMeasures[key] = true
			measures = append(measures, m)
		}
	}
	for _, t := range current.Tables {
		if !seenTables[strings.ToLower(t.Name)] {
			return nil, &tmdlError{path: tablePartPath(t.Name), msg: "the part is missing (removing tables is not supported)"}
		}
	}
	return measures, nil
}

type tmdlLine struct {
	num    int
	indent int
	text   string // without the indentation
}

// tmdlLines splits a file into lines with their tab indentation. Leading spaces are refused:
// this reader follows the service's own tab indentation only.
func tmdlLines(path, src string) ([]tmdlLine, error) {
	var out []tmdlLine
	for i, raw := range strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n") {
		text := strings.TrimLeft(raw, "\t")
		indent := len(raw) - len(text)
		if strings.TrimSpace(text) == "" {
			out = append(out, tmdlLine{num: i + 1, indent: -1})
			continue
		}
		if strings.HasPrefix(text, " ") {
			return nil, &tmdlError{path: path, line: i + 1, msg: "indentation must be tabs"}
		}
		out = append(out, tmdlLine{num: i + 1, indent: indent, text: strings.TrimRight(text, " \t")})
	}
	return out, nil
}

func parseModelFile(src string) error {
	const path = "definition/model.tmdl"
	lines, err := tmdlLines(path, src)
	if err != nil {
		return err
	}
	sawModel := false
	for _, l := range lines {
		if l.indent < 0 || strings.HasPrefix(l.text, "///") {
			continue
		}
		if l.indent > 0 {
			if !sawModel {
				return &tmdlError{path: path, line: l.num, msg: "unexpected indentation before the model"}
			}
			continue
		}
		word, rest, _ := strings.Cut(l.text, " ")
		switch {
		case word == "model" && !sawModel:
			if _, _, err := readTMDLName(rest); err != nil {
				return &tmdlError{path: path, line: l.num, msg: err.Error()}
			}
			sawModel = true
		case sawModel && (word == "ref" || word == "annotation" || word == "expression" || word == "relationship" ||
			word == "role" || word == "cultureInfo" || word == "perspective" || word == "queryGroup" || word == "dataSource"):
		default:
			return &tmdlError{path: path, line: l.num, msg: fmt.Sprintf("unexpected %q", l.text)}
		}
	}
	if !sawModel {
		return &tmdlError{path: path, msg: "no model declaration"}
	}
	return nil
}

// readTMDLName reads a name, quoted or plain, from the start of s, and returns the rest.
func readTMDLName(s string) (name, rest string, err error) {
	s = strings.TrimLeft(s, " ")
	if strings.HasPrefix(s, "'") {
		var b strings.Builder
		for i := 1; i < len(s); i++ {
			if s[i] != '\'' {
				b.WriteByte(s[i])
				continue
			}
			if i+1 < len(s) && s[i+1] == '\'' {
				b.WriteByte('\'')
				i++
				continue
			}
			if b.Len() == 0 {
				return "", "", fmt.Errorf("empty name")
			}
			return b.String(), strings.TrimLeft(s[i+1:], " "), nil
		}
		return "", "", fmt.Errorf("unterminated quoted name %s", s)
	}
	end := strings.IndexAny(s, " =:")
	if end < 0 {
		end = len(s)
	}
	name = s[:end]
	if !plainTMDLName.MatchString(name) {
		return "", "", fmt.Errorf("invalid name %q (names with spaces or symbols are quoted with ')", name)
	}
	return name, strings.TrimLeft(s[end:], " "), nil
}

// parseTableFile reads a table's file: its name and its measures (Table left empty).
func parseTableFile(path, src string) (string, []Measure, error) {
	lines, err := tmdlLines(path, src)
	if err != nil {
		return "", nil, err
	}
	fail := func(l tmdlLine, format string, args ...any) error {
		return &tmdlError{path: path, line: l.num, msg: fmt.Sprintf(format, args...)}
	}
	table := ""
	var measures []Measure
	var doc []string
	// measure is the measure whose properties follow, or -1 inside another object.
	measure := -1
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if l.indent < 0 {
			continue
		}
		switch {
		case l.indent == 0:
			word, rest, _ := strings.Cut(l.text, " ")
			if word != "table" || table != "" {
				return "", nil, fail(l, "unexpected %q (a table file holds one table)", l.text)
			}
			name, after, err := readTMDLName(rest)
			if err != nil || after != "" {
				if err == nil {
					err = fmt.Errorf("unexpected %q after the table name", after)
				}
				return "", nil, fail(l, "%v", err)
			}
			table = name
		case table == "":
			return "", nil, fail(l, "unexpected indentation before the table")
		case l.indent == 1:
			measure = -1
			if strings.HasPrefix(l.text, "///") {
				doc = append(doc, strings.TrimSpace(strings.TrimPrefix(l.text, "///")))
				continue
			}
			word, rest, _ := strings.Cut(l.text, " ")
			if word != "measure" {
				doc = nil
				if err := checkTMDLObjectLine(word, rest); err != nil {
					return "", nil, fail(l, "%v", err)
				}
				continue
			}
			name, after, err := readTMDLName(rest)
			if err != nil {
				return "", nil, fail(l, "%v", err)
			}
			expr, ok := strings.CutPrefix(after, "=")
			if !ok {
				return "", nil, fail(l, "measure %s has no expression (want: measure %s = <DAX>)", name, quoteTMDLName(name))
			}
			expr = strings.TrimSpace(expr)
			switch {
			case expr == "```":
				var block []string
				closed := false
				for i++; i < len(lines); i++ {
					if lines[i].indent >= 0 && lines[i].text == "```" {
						closed = true
						break
					}
					block = append(block, blockLine(lines[i], 2))
				}
				if !closed {
					return "", nil, fail(l, "measure %s: the ``` block is not closed", name)
				}
				expr = strings.TrimSpace(strings.Join(block, "\n"))
			case expr == "":
				var block []string
				for i+1 < len(lines) && (lines[i+1].indent < 0 || lines[i+1].indent >= 3) {
					i++
					block = append(block, blockLine(lines[i], 3))
				}
				expr = strings.TrimSpace(strings.Join(block, "\n"))
			}
			if expr == "" {
				return "", nil, fail(l, "measure %s has an empty expression", name)
			}
			if _, err := parseExpr(expr); err != nil {
				return "", nil, fail(l, "measure %s: the expression is not valid DAX: %v", name, err)
			}
			measures = append(measures, Measure{Name: name, Expression: expr, Description: strings.Join(doc, "\n")})
			doc = nil
			measure = len(measures) - 1
		case l.indent == 2 && measure >= 0:
			key, value, ok := strings.Cut(l.text, ":")
			switch {
			case ok && key == "formatString":
				measures[measure].FormatString = strings.TrimSpace(value)
			case ok && key == "description":
				measures[measure].Description = strings.TrimSpace(value)
			case ok && key == "displayFolder":
				measures[measure].DisplayFolder = strings.TrimSpace(value)
			case ok, plainTMDLName.MatchString(l.text):
				// Other properties (lineageTag) and flags (isHidden).
			default:
				word, rest, _ := strings.Cut(l.text, " ")
				if err := checkTMDLObjectLine(word, rest); err != nil {
					return "", nil, fail(l, "%v", err)
				}
				measure = -1 // an annotation or the like: its children are not the measure's
			}
		default:
			// Properties and children of columns, partitions and other objects.
		}
	}
	if table == "" {
		return "", nil, &tmdlError{path: path, msg: "no table declaration"}
	}
	return table, measures, nil
}

// checkTMDLObjectLine checks a line that declares an object other than a measure, or sets a
// property: "column Name", "partition Name = m", "lineageTag: ...", "isHidden".
func checkTMDLObjectLine(word, rest string) error {
	if strings.HasSuffix(word, ":") || rest == "" && plainTMDLName.MatchString(word) {
		return nil
	}
	switch word {
	case "column", "partition", "hierarchy", "annotation", "calculationGroup", "changedProperty", "extendedProperty":
		if _, _, err := readTMDLName(rest); err != nil {
			return err
		}
		return nil
	}
	return fmt.Errorf("unexpected %q", strings.TrimSpace(word+" "+rest))
}

// blockLine is a line of a multi-line expression without its block indentation.
func blockLine(l tmdlLine, depth int) string {
	if l.indent < 0 {
		return ""
	}
	return strings.Repeat("\t", max(l.indent-depth, 0)) + l.text
}
