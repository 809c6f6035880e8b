package pbitest

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// DAX values: blank (nil), int64, float64, string, bool and time.Time, and
// the conversions and comparisons between them.

func toFloat(v any) (float64, bool) {
	switch v := v.(type) {
	case int64:
		return float64(v), true
	case float64:
		return v, true
	case bool:
		if v {
			return 1, true
		}
		return 0, true
	case nil:
		return 0, true
	}
	return 0, false
}

func typeName(v any) string {
	switch v.(type) {
	case int64:
		return "Integer"
	case float64:
		return "Number"
	case string:
		return "Text"
	case bool:
		return "True/False"
	case time.Time:
		return "Date"
	}
	return "Blank"
}

func truthy(at expr, v any) (bool, error) {
	switch v := v.(type) {
	case bool:
		return v, nil
	case string:
		return false, errAt(at.at(), "Cannot convert value '%s' of type Text to type True/False.", v)
	case time.Time:
		return !v.IsZero(), nil
	}
	f, _ := toFloat(v)
	return f != 0, nil
}

func text(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case time.Time:
		return v.Format("1/2/2006")
	case bool:
		return strings.ToUpper(fmt.Sprint(v))
	}
	return fmt.Sprint(v)
}

// arithmetic applies + - * / as DAX does: blank counts as zero (blank op
// blank is blank), whole numbers stay whole except for division.
func arithmetic(at token, op string, l, r any) (any, error) {
	if l == nil && r == nil {
		return nil, nil
	}
	li, lInt := l.(int64)
	ri, rInt := r.(int64)
	if l == nil {
		lInt = rInt
	}
	if r == nil {
		rInt = lInt
	}
	if lInt && rInt && op != "/" {
		switch op {
		case "+":
			return li + ri, nil
		case "-":
			return li - ri, nil
		case "*":
			return li * ri, nil
		}
	}
	lf, ok1 := toFloat(l)
	rf, ok2 := toFloat(r)
	if !ok1 || !ok2 {
		return nil, errAt(at, "Cannot convert value '%s' of type %s to type Number.", text(firstNonNumber(l, r)), typeName(firstNonNumber(l, r)))
	}
	var out float64
	switch op {
	case "+":
		out = lf + rf
	case "-":
		out = lf - rf
	case "*":
		out = lf * rf
	case "/":
		if rf == 0 {
			// DAX answers infinity, which JSON cannot carry; blank is
			// what DIVIDE would give.
			return nil, nil
		}
		out = lf / rf
	}
	if math.IsNaN(out) || math.IsInf(out, 0) {
		return nil, nil
	}
	return out, nil
}

func firstNonNumber(l, r any) any {
	if _, ok := toFloat(l); !ok {
		return l
	}
	return r
}

// compare orders two values for comparison operators: blank equals zero
// and empty text, text compares without regard to case, and text never
// compares with numbers.
func compare(at token, l, r any) (int, error) {
	if l == nil && r == nil {
		return 0, nil
	}
	if l == nil {
		l = zeroLike(r)
	}
	if r == nil {
		r = zeroLike(l)
	}
	lf, lNum := toFloat(l)
	rf, rNum := toFloat(r)
	switch {
	case lNum && rNum:
		return cmpFloat(lf, rf), nil
	}
	switch lv := l.(type) {
	case string:
		if rv, ok := r.(string); ok {
			return strings.Compare(strings.ToLower(lv), strings.ToLower(rv)), nil
		}
	case time.Time:
		if rv, ok := r.(time.Time); ok {
			return lv.Compare(rv), nil
		}
	}
	return 0, errAt(at, "DAX comparison operations do not support comparing values of type %s with values of type %s. Consider using the VALUE or FORMAT function to convert one of the values.", typeName(l), typeName(r))
}

func zeroLike(v any) any {
	switch v.(type) {
	case string:
		return ""
	case time.Time:
		return time.Time{}
	}
	return int64(0)
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// order is a total order for sorting: blanks first, then numbers, dates
// and text (case-insensitive), then booleans.
func order(a, b any) int {
	rank := func(v any) int {
		switch v.(type) {
		case nil:
			return 0
		case int64, float64:
			return 1
		case time.Time:
			return 2
		case string:
			return 3
		}
		return 4
	}
	if ra, rb := rank(a), rank(b); ra != rb {
		return ra - rb
	}
	if a == nil {
		return 0
	}
	if c, err := compare(token{}, a, b); err == nil {
		return c
	}
	return strings.Compare(text(a), text(b))
}
