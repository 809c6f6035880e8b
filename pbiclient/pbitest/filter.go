package pbitest

import (
	"fmt"
	"strings"
	"unicode"
)

// The OData $filter subset the service's list endpoints are called with in
// practice:
//
//	expr    = and { "or" and }
//	and     = unary { "and" unary }
//	unary   = "not" unary | "(" expr ")" | call | compare
//	call    = ("contains" | "startswith" | "endswith") "(" field "," literal ")"
//	compare = field ("eq" | "ne") literal
//	literal = 'text' (with '' for a quote) | true | false | null | a bare GUID
//
// String comparisons ignore case, as the service's store does for names.

// filterFields maps the filterable property names of an item to their
// values; booleans are "true"/"false", absent values "".
type filterFields map[string]string

// odataFilter is a parsed $filter.
type odataFilter func(filterFields) bool

// filterError is a $filter the fake cannot evaluate; the service would
// answer it with 400 too.
type filterError struct{ msg string }

func (e *filterError) Error() string { return e.msg }

// parseFilter parses src; known lists the property names items have.
func parseFilter(src string, known map[string]bool) (odataFilter, error) {
	p := &filterParser{toks: tokenize(src), known: known}
	if p.toks == nil {
		return nil, &filterError{fmt.Sprintf("Syntax error in '%s'.", src)}
	}
	f, err := p.expr()
	if err != nil {
		return nil, err
	}
	if !p.done() {
		return nil, &filterError{fmt.Sprintf("Syntax error at position %d in '%s'.", p.toks[p.pos].at, src)}
	}
	return f, nil
}

type filterToken struct {
	text   string
	quoted bool // a 'string' literal; text is unescaped
	at     int  // position in the source, for messages
}

// tokenize splits a $filter into identifiers, literals and punctuation. It
// returns nil for an unterminated string.
func tokenize(src string) []filterToken {
	toks := []filterToken{}
	for i := 0; i < len(src); {
		c := rune(src[i])
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '(' || c == ')' || c == ',':
			toks = append(toks, filterToken{text: string(c), at: i})
			i++
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(src) {
					return nil
				}
				if src[j] == '\'' {
					if j+1 < len(src) && src[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(src[j])
				j++
			}
			toks = append(toks, filterToken{text: b.String(), quoted: true, at: i})
			i = j + 1
		default:
			j := i
			for j < len(src) && !strings.ContainsRune(" \t\r\n(),'", rune(src[j])) {
				j++
			}
			toks = append(toks, filterToken{text: src[i:j], at: i})
			i = j
		}
	}
	return toks
}

type filterParser struct {
	toks  []filterToken
	pos   int
	known map[string]bool
}

func (p *filterParser) done() bool { return p.pos >= len(p.toks) }

func (p *filterParser) peekWord(w string) bool {
	return !p.done() && !p.toks[p.pos].quoted && strings.EqualFold(p.toks[p.pos].text, w)
}

func (p *filterParser) next() (filterToken, error) {
	if p.done() {
		return filterToken{}, &filterError{"Expression expected at the end of the filter."}
	}
	t := p.toks[p.pos]
	p.pos++
	return t, nil
}

func (p *filterParser) expect(text string) error {
	t, err := p.next()
	if err != nil {
		return err
	}
	if t.quoted || t.text != text {
		return &filterError{fmt.Sprintf("'%s' expected at position %d.", text, t.at)}
	}
	return nil
}

func (p *filterParser) expr() (odataFilter, error) {
	left, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.peekWord("or") {
		p.pos++
		right, err := p.and()
		if err != nil {
			return nil, err
		}
		l := left
		left = func(f filterFields) bool { return l(f) || right(f) }
	}
	return left, nil
}

func (p *filterParser) and() (odataFilter, error) {
	left, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.peekWord("and") {
		p.pos++
		right, err := p.unary()
		if err != nil {
			return nil, err
		}
		l := left
		left = func(f filterFields) bool { return l(f) && right(f) }
	}
	return left, nil
}

func (p *filterParser) unary() (odataFilter, error) {
	if p.peekWord("not") {
		p.pos++
		inner, err := p.unary()
		if err != nil {
			return nil, err
		}
		return func(f filterFields) bool { return !inner(f) }, nil
	}
	t, err := p.next()
	if err != nil {
		return nil, err
	}
	if !t.quoted && t.text == "(" {
		inner, err := p.expr()
		if err != nil {
			return nil, err
		}
		return inner, p.expect(")")
	}
	if t.quoted {
		return nil, &filterError{fmt.Sprintf("A property name was expected at position %d.", t.at)}
	}
	switch strings.ToLower(t.text) {
	case "contains", "startswith", "endswith":
		return p.call(strings.ToLower(t.text))
	}
	return p.compare(t)
}

func (p *filterParser) field() (string, error) {
	t, err := p.next()
	if err != nil {
		return "", err
	}
	if t.quoted || !p.known[t.text] {
		return "", &filterError{fmt.Sprintf("Could not find a property named '%s'.", t.text)}
	}
	return t.text, nil
}

func (p *filterParser) literal() (string, error) {
	t, err := p.next()
	if err != nil {
		return "", err
	}
	if t.quoted {
		return t.text, nil
	}
	switch lower := strings.ToLower(t.text); {
	case lower == "true" || lower == "false":
		return lower, nil
	case lower == "null":
		return "", nil
	case isGUID(t.text):
		return t.text, nil
	}
	if r := []rune(t.text); len(r) > 0 && (unicode.IsLetter(r[0]) || r[0] == '_') {
		// OData reads a bare word as a property path, so text a caller forgot to quote
		// (name eq Sales) is refused as the service refuses it: as an unknown property.
		return "", &filterError{fmt.Sprintf("Could not find a property named '%s'.", t.text)}
	}
	return "", &filterError{fmt.Sprintf("Unsupported literal '%s' at position %d.", t.text, t.at)}
}

func (p *filterParser) call(fn string) (odataFilter, error) {
	if err := p.expect("("); err != nil {
		return nil, err
	}
	name, err := p.field()
	if err != nil {
		return nil, err
	}
	if err := p.expect(","); err != nil {
		return nil, err
	}
	lit, err := p.literal()
	if err != nil {
		return nil, err
	}
	if err := p.expect(")"); err != nil {
		return nil, err
	}
	lit = strings.ToLower(lit)
	match := map[string]func(string, string) bool{
		"contains":   strings.Contains,
		"startswith": strings.HasPrefix,
		"endswith":   strings.HasSuffix,
	}[fn]
	return func(f filterFields) bool { return match(strings.ToLower(f[name]), lit) }, nil
}

func (p *filterParser) compare(first filterToken) (odataFilter, error) {
	p.pos-- // first is the field name
	name, err := p.field()
	if err != nil {
		return nil, err
	}
	op, err := p.next()
	if err != nil {
		return nil, err
	}
	negate := false
	switch strings.ToLower(op.text) {
	case "eq":
	case "ne":
		negate = true
	default:
		return nil, &filterError{fmt.Sprintf("Operator '%s' is not supported on property '%s'.", op.text, first.text)}
	}
	lit, err := p.literal()
	if err != nil {
		return nil, err
	}
	return func(f filterFields) bool { return strings.EqualFold(f[name], lit) != negate }, nil
}

// isGUID reports whether s has the 8-4-4-4-12 hex form.
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
	}
	return true
}
