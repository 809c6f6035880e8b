package pbitest

import (
	"slices"
	"strconv"
	"strings"
)

// Syntax tree of a DAX query.

type expr interface{ at() token }

type (
	numberLit struct {
		tok token
		v   any // int64 or float64
	}
	stringLit struct {
		tok token
		v   string
	}
	// columnRef is Table[Column], or [Name] (table "") for a measure or a
	// column the query computed.
	columnRef struct {
		tok           token
		table, column string
	}
	// identExpr is a bare name: a table, or a keyword argument such as ASC.
	identExpr struct {
		tok  token
		name string
	}
	callExpr struct {
		tok  token
		name string // upper case
		args []expr
	}
	binaryExpr struct {
		tok  token
		op   string
		l, r expr
	}
	negExpr struct {
		tok token
		x   expr
	}
	// tableCtor is { value, value, ... }: a one-column table.
	tableCtor struct {
		tok    token
		values []expr
	}
)

func (e *numberLit) at() token  { return e.tok }
func (e *stringLit) at() token  { return e.tok }
func (e *columnRef) at() token  { return e.tok }
func (e *identExpr) at() token  { return e.tok }
func (e *callExpr) at() token   { return e.tok }
func (e *binaryExpr) at() token { return e.tok }
func (e *negExpr) at() token    { return e.tok }
func (e *tableCtor) at() token  { return e.tok }

type daxQuery struct {
	measures  []definedMeasure // DEFINE MEASURE, visible to this query only
	evaluates []evaluateStmt
}

type definedMeasure struct {
	ref  *columnRef // Table[Name] as written
	body expr
}

type evaluateStmt struct {
	table   expr
	orderBy []orderKey
}

type orderKey struct {
	e    expr
	desc bool
}

type parser struct {
	toks []token
	i    int
}

func parseQuery(src string) (*daxQuery, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	q := &daxQuery{}
	if p.keyword("DEFINE") {
		for p.keyword("MEASURE") {
			ref, err := p.primary()
			if err != nil {
				return nil, err
			}
			col, ok := ref.(*columnRef)
			if !ok || col.table == "" {
				return nil, errAt(ref.at(), "A measure must be defined as Table[Measure name] = expression.")
			}
			if err := p.expect("="); err != nil {
				return nil, err
			}
			body, err := p.expr()
			if err != nil {
				return nil, err
			}
			q.measures = append(q.measures, definedMeasure{ref: col, body: body})
		}
		if len(q.measures) == 0 {
			return nil, errAt(p.peek(), "The syntax for '%s' is incorrect: DEFINE must be followed by MEASURE.", p.peek().text)
		}
	}
	for {
		if !p.keyword("EVALUATE") {
			if p.peek().kind == tokEOF && len(q.evaluates) > 0 {
				return q, nil
			}
			return nil, errAt(p.peek(), "The syntax for '%s' is incorrect. A query must be EVALUATE followed by a table expression.", tokenText(p.peek()))
		}
		t, err := p.expr()
		if err != nil {
			return nil, err
		}
		ev := evaluateStmt{table: t}
		if p.keyword("ORDER") {
			if !p.keyword("BY") {
				return nil, errAt(p.peek(), "The syntax for '%s' is incorrect: ORDER must be followed by BY.", tokenText(p.peek()))
			}
			for {
				e, err := p.expr()
				if err != nil {
					return nil, err
				}
				k := orderKey{e: e}
				if p.keyword("DESC") {
					k.desc = true
				} else {
					p.keyword("ASC")
				}
				ev.orderBy = append(ev.orderBy, k)
				if !p.op(",") {
					break
				}
			}
		}
		q.evaluates = append(q.evaluates, ev)
	}
}

func tokenText(t token) string {
	if t.kind == tokEOF {
		return "end of query"
	}
	return t.text
}

// parseExpr parses a measure's expression.
func parseExpr(src string) (expr, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	e, err := p.expr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, errAt(t, "The syntax for '%s' is incorrect.", t.text)
	}
	return e, nil
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token { t := p.toks[p.i]; p.i++; return t }

func (p *parser) keyword(k string) bool {
	if t := p.peek(); t.kind == tokIdent && strings.EqualFold(t.text, k) {
		p.i++
		return true
	}
	return false
}

func (p *parser) op(o string) bool {
	if t := p.peek(); t.kind == tokOp && t.text == o {
		p.i++
		return true
	}
	return false
}

func (p *parser) expect(o string) error {
	if !p.op(o) {
		return errAt(p.peek(), "The syntax for '%s' is incorrect: '%s' was expected.", tokenText(p.peek()), o)
	}
	return nil
}

// Binary operators from the loosest to the tightest binding.
var precedence = [][]string{
	{"||"},
	{"&&"},
	{"=", "==", "<>", "<", "<=", ">", ">="},
	{"&"},
	{"+", "-"},
	{"*", "/"},
}

func (p *parser) expr() (expr, error) { return p.binary(0) }

func (p *parser) binary(level int) (expr, error) {
	if level == len(precedence) {
		return p.unary()
	}
	l, err := p.binary(level + 1)
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if t.kind != tokOp || !slices.Contains(precedence[level], t.text) {
			return l, nil
		}
		p.i++
		r, err := p.binary(level + 1)
		if err != nil {
			return nil, err
		}
		l = &binaryExpr{tok: t, op: t.text, l: l, r: r}
	}
}

func (p *parser) unary() (expr, error) {
	if t := p.peek(); t.kind == tokOp && (t.text == "-" || t.text == "+") {
		p.i++
		x, err := p.unary()
		if err != nil || t.text == "+" {
			return x, err
		}
		return &negExpr{tok: t, x: x}, nil
	}
	return p.primary()
}

func (p *parser) primary() (expr, error) {
	t := p.next()
	switch t.kind {
	case tokNumber:
		if n, err := strconv.ParseInt(t.text, 10, 64); err == nil {
			return &numberLit{tok: t, v: n}, nil
		}
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return nil, errAt(t, "The syntax for '%s' is incorrect.", t.text)
		}
		return &numberLit{tok: t, v: f}, nil
	case tokString:
		return &stringLit{tok: t, v: t.text}, nil
	case tokColumn:
		return &columnRef{tok: t, column: t.text}, nil
	case tokTable:
		if p.peek().kind == tokColumn {
			return &columnRef{tok: t, table: t.text, column: p.next().text}, nil
		}
		return &identExpr{tok: t, name: t.text}, nil
	case tokIdent:
		if p.op("(") {
			c := &callExpr{tok: t, name: strings.ToUpper(t.text)}
			if p.op(")") {
				return c, nil
			}
			for {
				a, err := p.expr()
				if err != nil {
					return nil, err
				}
				c.args = append(c.args, a)
				if p.op(")") {
					return c, nil
				}
				if err := p.expect(","); err != nil {
					return nil, err
				}
			}
		}
		if p.peek().kind == tokColumn {
			return &columnRef{tok: t, table: t.text, column: p.next().text}, nil
		}
		return &identExpr{tok: t, name: t.text}, nil
	case tokOp:
		if t.text == "(" {
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			return e, p.expect(")")
		}
		if t.text == "{" {
			return p.tableConstructor(t)
		}
	}
	return nil, errAt(t, "The syntax for '%s' is incorrect.", tokenText(t))
}

func (p *parser) tableConstructor(open token) (expr, error) {
	c := &tableCtor{tok: open}
	if p.op("}") {
		return c, nil
	}
	for {
		v, err := p.expr()
		if err != nil {
			return nil, err
		}
		c.values = append(c.values, v)
		if p.op("}") {
			return c, nil
		}
		if err := p.expect(","); err != nil {
			return nil, err
		}
	}
}
