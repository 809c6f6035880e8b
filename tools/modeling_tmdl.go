package tools

import (
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"strings"
)

// TMDL, as far as editing measures needs it: a table file's measures with the lines they span,
// written back the way the service writes them, and a check that an edited definition still
// reads as TMDL, so that a broken edit is refused before anything is sent. Indentation is by
// tabs. A measure is
//
//	/// description, one line of it per comment
//	measure 'Name' = <one-line DAX>
//		formatString: ...
//		displayFolder: ...
//
// or, for DAX of several lines, "measure 'Name' =" with the lines below it, three tabs in.

// plainName is a name TMDL writes without quotes.
var plainName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// quoteName is a name as TMDL writes it: quoted with ' (doubled inside) unless plain.
func quoteName(name string) string {
	if plainName.MatchString(name) {
		return name
	}
	return "'" + strings.ReplaceAll(name, "'", "''") + "'"
}

// readName reads a name, quoted or plain, at the start of s and returns the rest. A plain name
// runs to a space, '=' or ':'.
func readName(s string) (name, rest string, err error) {
	s = strings.TrimLeft(s, " ")
	if !strings.HasPrefix(s, "'") {
		end := strings.IndexAny(s, " =:")
		if end < 0 {
			end = len(s)
		}
		if end == 0 {
			return "", "", fmt.Errorf("a name is missing")
		}
		return s[:end], strings.TrimLeft(s[end:], " "), nil
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch {
		case s[i] != '\'':
			b.WriteByte(s[i])
		case i+1 < len(s) && s[i+1] == '\'':
			b.WriteByte('\'')
			i++
		case b.Len() == 0:
			return "", "", fmt.Errorf("an empty name ''")
		default:
			return b.String(), strings.TrimLeft(s[i+1:], " "), nil
		}
	}
	return "", "", fmt.Errorf("the quoted name %s is not closed with '", s)
}

// tmdlLine is one line of a TMDL file: its tab indentation (-1 for a blank line) and the rest.
type tmdlLine struct {
	indent int
	text   string
}

func tmdlLines(src string) []tmdlLine {
	raw := strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n")
	out := make([]tmdlLine, len(raw))
	for i, r := range raw {
		text := strings.TrimLeft(r, "\t")
		if strings.TrimSpace(text) == "" {
			out[i] = tmdlLine{indent: -1}
			continue
		}
		out[i] = tmdlLine{indent: len(r) - len(text), text: strings.TrimRight(text, " \t")}
	}
	return out
}

// tmdlMeasure is a measure of a table file.
type tmdlMeasure struct {
	Name, Expression                         string
	FormatString, DisplayFolder, Description string
	// start and end are the lines [start, end) the measure spans, its /// comments included;
	// props are its property lines other than formatString and displayFolder (lineageTag,
	// annotations, isHidden...), as written.
	start, end int
	props      []string
}

// tmdlTable is a table file read for editing.
type tmdlTable struct {
	Name     string
	path     string // the part it was read from
	Measures []tmdlMeasure
	lines    []string // the file's lines, as written
	// firstObject is the line of the table's first object (column, partition...) that is not a
	// measure, where a table without measures gets its first one; -1 when it has none.
	firstObject int
}

// tmdlSyntaxError is a definition part that does not read as TMDL.
type tmdlSyntaxError struct {
	path string
	line int // from 1; 0 for the whole part
	msg  string
}

func (e *tmdlSyntaxError) Error() string {
	if e.line == 0 {
		return fmt.Sprintf("%s: %s", e.path, e.msg)
	}
	return fmt.Sprintf("%s, line %d: %s", e.path, e.line, e.msg)
}

// parseTableTMDL reads a table file: its name, and its measures with the lines they span. A
// measure's DAX must be well formed (checkDAX).
func parseTableTMDL(partPath, src string) (*tmdlTable, error) {
	lines := tmdlLines(src)
	t := &tmdlTable{lines: strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n"), firstObject: -1}
	fail := func(i int, format string, args ...any) error {
		return &tmdlSyntaxError{path: partPath, line: i + 1, msg: fmt.Sprintf(format, args...)}
	}
	doc := -1 // the first line of the /// comments just read, or -1
	seen := map[string]bool{}
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if l.indent < 0 {
			continue
		}
		if l.indent <= 2 && strings.HasPrefix(l.text, " ") {
			return nil, fail(i, "indentation must be tabs, not spaces")
		}
		switch {
		case l.indent == 0:
			if strings.HasPrefix(l.text, "///") {
				continue
			}
			word, rest, _ := strings.Cut(l.text, " ")
			if word != "table" || t.Name != "" {
				return nil, fail(i, "unexpected %q: a table file holds one table, declared as: table Name", l.text)
			}
			name, after, err := readName(rest)
			if err == nil && after != "" {
				err = fmt.Errorf("unexpected %q after the table's name", after)
			}
			if err != nil {
				return nil, fail(i, "%v", err)
			}
			t.Name = name
		case t.Name == "":
			return nil, fail(i, "indented line before the table declaration")
		case l.indent == 1 && strings.HasPrefix(l.text, "///"):
			if doc < 0 {
				doc = i
			}
		case l.indent == 1 && strings.HasPrefix(l.text, "measure "):
			m, end, err := readMeasure(lines, i)
			if err != nil {
				return nil, fail(i, "%v", err)
			}
			if seen[strings.ToLower(m.Name)] {
				return nil, fail(i, "the measure %s is defined twice", quoteName(m.Name))
			}
			seen[strings.ToLower(m.Name)] = true
			m.start, m.end = i, end
			if doc >= 0 {
				m.start = doc
				var d []string
				for _, c := range lines[doc:i] {
					d = append(d, strings.TrimPrefix(strings.TrimPrefix(c.text, "///"), " "))
				}
				if m.Description == "" {
					m.Description = strings.Join(d, "\n")
				}
			}
			t.Measures = append(t.Measures, m)
			doc = -1
			i = end - 1
		case l.indent == 1:
			doc = -1
			if err := checkObjectLine(l.text); err != nil {
				return nil, fail(i, "%v", err)
			}
			if t.firstObject < 0 && !strings.Contains(l.text, ":") && !plainName.MatchString(l.text) {
				t.firstObject = i
			}
			if strings.HasSuffix(l.text, "```") {
				if i = closingFence(lines, i); i < 0 {
					return nil, fail(len(lines)-1, "a ``` block is not closed")
				}
			}
		default:
			// Properties and children of columns, partitions and other objects.
			if strings.HasSuffix(l.text, "```") {
				if i = closingFence(lines, i); i < 0 {
					return nil, fail(len(lines)-1, "a ``` block is not closed")
				}
			}
		}
	}
	if t.Name == "" {
		return nil, &tmdlSyntaxError{path: partPath, msg: "no table declaration (table Name)"}
	}
	return t, nil
}

// closingFence is the line that closes the ``` block opened at line i, or -1.
func closingFence(lines []tmdlLine, i int) int {
	for j := i + 1; j < len(lines); j++ {
		if lines[j].indent >= 0 && lines[j].text == "```" {
			return j
		}
	}
	return -1
}

// readMeasure reads the measure declared at line i and returns it with the line past its end.
func readMeasure(lines []tmdlLine, i int) (tmdlMeasure, int, error) {
	var m tmdlMeasure
	name, after, err := readName(strings.TrimPrefix(lines[i].text, "measure "))
	if err != nil {
		return m, 0, err
	}
	m.Name = name
	expr, ok := strings.CutPrefix(after, "=")
	if !ok {
		return m, 0, fmt.Errorf("the measure %s has no expression (want: measure %s = <DAX>)", quoteName(name), quoteName(name))
	}
	expr = strings.TrimSpace(expr)
	j := i + 1
	switch expr {
	case "```":
		end := closingFence(lines, i)
		if end < 0 {
			return m, 0, fmt.Errorf("the measure %s: its ``` block is not closed", quoteName(name))
		}
		var block []string
		for _, l := range lines[i+1 : end] {
			block = append(block, blockText(l, 2))
		}
		expr, j = strings.TrimSpace(strings.Join(block, "\n")), end+1
	case "":
		var block []string
		for j < len(lines) && (lines[j].indent < 0 || lines[j].indent >= 3) {
			block = append(block, blockText(lines[j], 3))
			j++
		}
		expr = strings.TrimSpace(strings.Join(block, "\n"))
		// Blank lines at the end belong to what follows.
		for j > i+1 && lines[j-1].indent < 0 {
			j--
		}
	}
	if expr == "" {
		return m, 0, fmt.Errorf("the measure %s has an empty expression", quoteName(name))
	}
	if err := checkDAX(expr); err != nil {
		return m, 0, fmt.Errorf("the measure %s: %v", quoteName(name), err)
	}
	m.Expression = expr
	// Its properties: lines two tabs in, with their own children, up to the next line at most
	// one tab in.
	end := j
	for k := j; k < len(lines); k++ {
		if lines[k].indent < 0 {
			continue
		}
		if lines[k].indent < 2 {
			break
		}
		end = k + 1
	}
	for k := j; k < end; k++ {
		l := lines[k]
		if l.indent < 0 {
			m.props = append(m.props, "")
			continue
		}
		if l.indent == 2 {
			if err := checkObjectLine(l.text); err != nil {
				return m, 0, fmt.Errorf("the measure %s: line %d: %v", quoteName(name), k+1, err)
			}
			key, value, isProp := strings.Cut(l.text, ":")
			switch {
			case isProp && key == "formatString":
				m.FormatString = strings.TrimSpace(value)
				continue
			case isProp && key == "displayFolder":
				m.DisplayFolder = strings.TrimSpace(value)
				continue
			case isProp && key == "description":
				// Written back as /// comments, TMDL's other way of saying it.
				m.Description = strings.TrimSpace(value)
				continue
			}
		}
		m.props = append(m.props, strings.Repeat("\t", l.indent)+l.text)
	}
	return m, end, nil
}

// blockText is a line of a multi-line expression without the block's indentation.
func blockText(l tmdlLine, depth int) string {
	if l.indent < 0 {
		return ""
	}
	return strings.Repeat("\t", max(l.indent-depth, 0)) + l.text
}

// checkObjectLine checks a line one tab into a table that is not a measure: an object
// ("column Name", "partition Name = m"), a property ("lineageTag: ...") or a flag ("isHidden").
func checkObjectLine(text string) error {
	word, rest, _ := strings.Cut(text, " ")
	switch {
	case strings.HasSuffix(word, ":"), rest == "" && plainName.MatchString(word):
		return nil
	case !plainName.MatchString(word):
		if key, _, ok := strings.Cut(text, ":"); ok && plainName.MatchString(key) {
			return nil // a property with its value: "formatString:0"
		}
		return fmt.Errorf("unexpected %q", text)
	case strings.HasPrefix(rest, "="):
		return nil // an expression property: "formatStringDefinition = ..."
	}
	_, _, err := readName(rest)
	return err
}

// checkDAX checks what can be checked of DAX without the model: that strings ("..."), quoted
// table names ('...'), column and measure references ([...]) and comments end, and that
// parentheses and braces pair up. It names the line and column of the first fault.
func checkDAX(expr string) error {
	// pos is the line and column of expr[i], worked out only for a fault.
	pos := func(i int) (int, int) {
		l, c := 1, 1
		for _, ch := range expr[:i] {
			if ch == '\n' {
				l, c = l+1, 1
			} else {
				c++
			}
		}
		return l, c
	}
	invalid := func(i int, format string, args ...any) error {
		l, c := pos(i)
		return fmt.Errorf("the DAX is not valid: "+format, append(args, l, c)...)
	}
	var stack []int // where each open ( and { is
	closer := map[byte]byte{')': '(', '}': '{'}
	for i := 0; i < len(expr); i++ {
		c := expr[i]
		switch {
		case c == '"' || c == '\'' || c == '[':
			end := c
			if c == '[' {
				end = ']'
			}
			j := i + 1
			for ; j < len(expr); j++ {
				if expr[j] == end {
					if j+1 < len(expr) && expr[j+1] == end {
						j++ // doubled: escaped
						continue
					}
					break
				}
				if c == '[' && expr[j] == '\n' {
					j = len(expr)
					break
				}
			}
			if j >= len(expr) {
				what := map[byte]string{'"': "the string", '\'': "the quoted table name", '[': "the column or measure reference"}[c]
				return invalid(i, "%s opened with %c at line %d, column %d is not closed", what, c)
			}
			i = j
		case c == '/' && i+1 < len(expr) && expr[i+1] == '/', c == '-' && i+1 < len(expr) && expr[i+1] == '-':
			for i < len(expr) && expr[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(expr) && expr[i+1] == '*':
			end := strings.Index(expr[i+2:], "*/")
			if end < 0 {
				return invalid(i, "the comment opened at line %d, column %d is not closed with */")
			}
			i += end + 3
		case c == '(' || c == '{':
			stack = append(stack, i)
		case c == ')' || c == '}':
			if len(stack) == 0 || expr[stack[len(stack)-1]] != closer[c] {
				return invalid(i, "%c at line %d, column %d closes nothing that is open", c)
			}
			stack = stack[:len(stack)-1]
		case c == ']':
			return invalid(i, "] at line %d, column %d closes no [")
		}
	}
	if len(stack) > 0 {
		o := stack[len(stack)-1]
		return invalid(o, "%c at line %d, column %d is never closed", expr[o])
	}
	return nil
}

// checkPart checks that a definition part reads as what its path says: a table file as a
// table with well-formed measures, any other .tmdl file as TMDL declarations, JSON as JSON.
func checkPart(partPath string, b []byte) error {
	src := string(b)
	switch {
	case strings.HasPrefix(partPath, "definition/tables/") && strings.HasSuffix(partPath, ".tmdl"):
		_, err := parseTableTMDL(partPath, src)
		return err
	case strings.HasSuffix(partPath, ".tmdl"):
		return checkTMDLDeclarations(partPath, src)
	case strings.HasSuffix(partPath, ".json"), strings.HasSuffix(partPath, ".pbism"), path.Base(partPath) == ".platform":
		if !json.Valid(b) {
			return &tmdlSyntaxError{path: partPath, msg: "not valid JSON"}
		}
	}
	return nil
}

// checkTMDLDeclarations checks a .tmdl file other than a table's: tab indentation, and each
// declaration at the top level a keyword with what follows (model Model, ref table X,
// relationship ..., expression X = ...).
func checkTMDLDeclarations(partPath, src string) error {
	lines := tmdlLines(src)
	sawDecl := false
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		fail := func(format string, args ...any) error {
			return &tmdlSyntaxError{path: partPath, line: i + 1, msg: fmt.Sprintf(format, args...)}
		}
		switch {
		case l.indent < 0, strings.HasPrefix(l.text, "///"):
		case l.indent <= 2 && strings.HasPrefix(l.text, " "):
			return fail("indentation must be tabs, not spaces")
		case l.indent == 0:
			word, _, _ := strings.Cut(l.text, " ")
			if !plainName.MatchString(word) {
				return fail("unexpected %q: expected a declaration such as model, table, relationship or expression", l.text)
			}
			sawDecl = true
		case !sawDecl:
			return fail("indented line before any declaration")
		}
		if l.indent >= 0 && strings.HasSuffix(l.text, "```") {
			if i = closingFence(lines, i); i < 0 {
				return &tmdlSyntaxError{path: partPath, line: len(lines), msg: "a ``` block is not closed"}
			}
		}
	}
	if partPath == "definition/model.tmdl" && !strings.HasPrefix(strings.TrimLeft(firstDeclaration(lines), "\t"), "model ") {
		return &tmdlSyntaxError{path: partPath, msg: "no model declaration (model Model)"}
	}
	return nil
}

func firstDeclaration(lines []tmdlLine) string {
	for _, l := range lines {
		if l.indent == 0 && !strings.HasPrefix(l.text, "///") {
			return l.text
		}
	}
	return ""
}

// renderMeasure writes a measure as TMDL lines, as the service writes one: its description as
// /// comments, the DAX on the declaration's line or, when it has several lines, three tabs in
// below it, then formatString, displayFolder and its other properties.
func renderMeasure(m tmdlMeasure) []string {
	var out []string
	for _, d := range splitNonEmpty(m.Description) {
		out = append(out, "\t/// "+d)
	}
	expr := splitNonEmpty(m.Expression)
	if len(expr) == 1 {
		out = append(out, "\tmeasure "+quoteName(m.Name)+" = "+strings.TrimSpace(expr[0]))
	} else {
		out = append(out, "\tmeasure "+quoteName(m.Name)+" =")
		for _, l := range strings.Split(strings.TrimSpace(strings.ReplaceAll(m.Expression, "\r\n", "\n")), "\n") {
			if strings.TrimSpace(l) == "" {
				out = append(out, "")
				continue
			}
			out = append(out, "\t\t\t"+tabIndent(l))
		}
	}
	if m.FormatString != "" {
		out = append(out, "\t\tformatString: "+m.FormatString)
	}
	if m.DisplayFolder != "" {
		out = append(out, "\t\tdisplayFolder: "+m.DisplayFolder)
	}
	props := m.props
	for len(props) > 0 && props[len(props)-1] == "" {
		props = props[:len(props)-1]
	}
	return append(out, props...)
}

// tabIndent turns a line's leading spaces into tabs (four to a tab), since TMDL indents with
// tabs and an expression's own indentation must stay inside its block.
func tabIndent(l string) string {
	l = strings.TrimRight(l, " \t")
	rest := strings.TrimLeft(l, " \t")
	lead := l[:len(l)-len(rest)]
	tabs := strings.Count(lead, "\t") + (strings.Count(lead, " ")+3)/4
	return strings.Repeat("\t", tabs) + rest
}

func splitNonEmpty(s string) []string {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// measureByName finds a table's measure, case-insensitively as the engine matches names.
func (t *tmdlTable) measureByName(name string) int {
	for i, m := range t.Measures {
		if strings.EqualFold(m.Name, name) {
			return i
		}
	}
	return -1
}

// setMeasure replaces the measure at i (or adds m when i < 0) and returns the file's new text.
// The table is read again by the caller for the next change.
func (t *tmdlTable) setMeasure(i int, m *tmdlMeasure) string {
	var out []string
	switch {
	case i >= 0 && m == nil: // delete, with the blank line before it
		start := t.Measures[i].start
		if start > 0 && strings.TrimSpace(t.lines[start-1]) == "" {
			start--
		}
		out = append(append(out, t.lines[:start]...), t.lines[t.Measures[i].end:]...)
	case i >= 0:
		out = append(append(append(out, t.lines[:t.Measures[i].start]...), renderMeasure(*m)...), t.lines[t.Measures[i].end:]...)
	default:
		at := len(t.lines)
		for at > 0 && strings.TrimSpace(t.lines[at-1]) == "" {
			at--
		}
		if n := len(t.Measures); n > 0 {
			at = t.Measures[n-1].end
		} else if t.firstObject >= 0 {
			at = t.firstObject
			for at > 0 && strings.HasPrefix(strings.TrimLeft(t.lines[at-1], "\t"), "///") {
				at-- // the object's own description stays with it
			}
			for at > 0 && strings.TrimSpace(t.lines[at-1]) == "" {
				at--
			}
		}
		block := append([]string{""}, renderMeasure(*m)...)
		if at < len(t.lines) && strings.TrimSpace(t.lines[at]) != "" {
			block = append(block, "")
		}
		out = append(append(append(out, t.lines[:at]...), block...), t.lines[at:]...)
	}
	return strings.Join(out, "\n")
}
