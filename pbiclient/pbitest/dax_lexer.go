package pbitest

import (
	"fmt"
	"strings"
	"unicode"
)

// The DAX engine of the fake tenant: a lexer (this file), a parser
// (dax_parser.go) and an evaluator (dax_eval.go, with the filter context in
// dax_filter.go and values in dax_values.go) for the part of DAX that
// agents use most. Anything outside it is a query error, which the
// executeQueries route answers as the service answers a DAX error.

type tokenKind int

const (
	tokEOF    tokenKind = iota
	tokIdent            // EVALUATE, SUM, Sales, INFO.VIEW.TABLES
	tokTable            // 'Table Name'
	tokColumn           // [Column] or [Measure]
	tokString           // "text"
	tokNumber           // 12, 3.5
	tokOp               // ( ) , = <> < <= > >= && || + - * / &
)

type token struct {
	kind      tokenKind
	text      string // identifiers and names without their quotes or brackets
	line, col int
}

// daxError is a query the engine cannot run; its message is the text the
// service puts in the error's DetailsMessage.
type daxError struct{ msg string }

func (e *daxError) Error() string { return e.msg }

func errAt(t token, format string, args ...any) error {
	return &daxError{msg: fmt.Sprintf("Query (%d, %d) ", t.line, t.col) + fmt.Sprintf(format, args...)}
}

func lex(src string) ([]token, error) {
	var out []token
	rs := []rune(src)
	line, col := 1, 1
	i := 0
	advance := func(n int) {
		for ; n > 0 && i < len(rs); n-- {
			if rs[i] == '\n' {
				line, col = line+1, 1
			} else {
				col++
			}
			i++
		}
	}
	peek := func(k int) rune {
		if i+k < len(rs) {
			return rs[i+k]
		}
		return 0
	}
	for i < len(rs) {
		c := rs[i]
		start := token{line: line, col: col}
		switch {
		case unicode.IsSpace(c):
			advance(1)
		case c == '/' && peek(1) == '/', c == '-' && peek(1) == '-':
			for i < len(rs) && rs[i] != '\n' {
				advance(1)
			}
		case c == '/' && peek(1) == '*':
			advance(2)
			for i < len(rs) && (rs[i] != '*' || peek(1) != '/') {
				advance(1)
			}
			advance(2)
		case c == '\'' || c == '[' || c == '"':
			closer := map[rune]rune{'\'': '\'', '[': ']', '"': '"'}[c]
			kind := map[rune]tokenKind{'\'': tokTable, '[': tokColumn, '"': tokString}[c]
			advance(1)
			var b strings.Builder
			for {
				if i >= len(rs) {
					return nil, errAt(start, "The syntax for '%c' is incorrect: the closing '%c' is missing.", c, closer)
				}
				if rs[i] == closer {
					if peek(1) == closer { // doubled closer escapes itself
						b.WriteRune(closer)
						advance(2)
						continue
					}
					advance(1)
					break
				}
				b.WriteRune(rs[i])
				advance(1)
			}
			start.kind, start.text = kind, b.String()
			out = append(out, start)
		case unicode.IsDigit(c) || c == '.' && unicode.IsDigit(peek(1)):
			j := i
			for j < len(rs) && (unicode.IsDigit(rs[j]) || rs[j] == '.') {
				j++
			}
			start.kind, start.text = tokNumber, string(rs[i:j])
			advance(j - i)
			out = append(out, start)
		case unicode.IsLetter(c) || c == '_':
			j := i
			for j < len(rs) && (unicode.IsLetter(rs[j]) || unicode.IsDigit(rs[j]) || rs[j] == '_' || rs[j] == '.') {
				j++
			}
			start.kind, start.text = tokIdent, string(rs[i:j])
			advance(j - i)
			out = append(out, start)
		default:
			two := string(c) + string(peek(1))
			switch two {
			case "<>", "<=", ">=", "&&", "||", "==":
				start.kind, start.text = tokOp, two
				advance(2)
			default:
				if !strings.ContainsRune("(),=<>+-*/&{}", c) {
					return nil, errAt(start, "The syntax for '%c' is incorrect.", c)
				}
				start.kind, start.text = tokOp, string(c)
				advance(1)
			}
			out = append(out, start)
		}
	}
	return append(out, token{kind: tokEOF, line: line, col: col}), nil
}
