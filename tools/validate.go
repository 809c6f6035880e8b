package tools

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// compileInputSchema compiles a tool's declared input schema once, at registration, and returns
// a validator whose messages name the argument and the rule ("/top: must be <= 1000"), so a model
// can correct its call. The same schema the client sees is the one enforced: there is no second
// list of rules to drift from it. Unknown arguments are refused (additionalProperties: false).
// args is the request's arguments as sent: anything but an object (or none) is refused, since
// the handler could not bind it.
func compileInputSchema(t mcp.Tool) (func(args any) string, error) {
	raw, err := inputSchemaJSON(t)
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	const url = "tool-input.json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, err
	}
	sch, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("input schema does not compile: %w", err)
	}
	return func(args any) string {
		// Round-trip through JSON so every value has the types the validator expects.
		b, err := json.Marshal(args)
		if err != nil {
			return "arguments are not valid JSON"
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return "arguments are not valid JSON"
		}
		switch inst.(type) {
		case nil:
			inst = map[string]any{}
		case map[string]any:
		default:
			return "arguments: must be an object of named arguments"
		}
		err = sch.Validate(inst)
		if err == nil {
			return ""
		}
		verr, ok := err.(*jsonschema.ValidationError)
		if !ok {
			return err.Error()
		}
		var msgs []string
		for _, u := range verr.BasicOutput().Errors {
			if u.Error == nil {
				continue
			}
			where := u.InstanceLocation
			if where == "" {
				where = "arguments"
			}
			msgs = append(msgs, oneLine(where+": "+u.Error.String(), maxRuleMessage))
		}
		if len(msgs) > maxRuleMessages {
			msgs = append(msgs[:maxRuleMessages], fmt.Sprintf("and %d more", len(msgs)-maxRuleMessages))
		}
		return strings.Join(msgs, "; ")
	}, nil
}

// A refusal names the broken rules, not the arguments: the validator quotes the value it
// refused, which may be long, and an array can break a rule in every item. The model needs the
// first few rules to fix its call, not its arguments sent back.
const (
	maxRuleMessage  = 200 // bytes of one broken rule
	maxRuleMessages = 5   // broken rules listed; the rest are counted
)

// oneLine makes s a single line of at most n bytes, cut on a rune boundary.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// normalizeArgs makes a call's arguments say what the model plainly meant before they are
// validated, so that a near miss costs no second call: an enum value that matches one allowed
// value ignoring case becomes that value ("pdf" -> "PDF"), and a string of decimal digits given
// for an integer becomes the number ("5" -> 5). It follows the schema into arrays and objects.
// Nothing ambiguous is changed: "5.5" or " 5" for an integer, or a value matching two allowed
// values, stay as sent and fail validation with its usual message. args is changed in place
// (and returned), so the handler binds what was validated.
func normalizeArgs(schema func() (inputSchemaDoc, error), args any) any {
	obj, ok := args.(map[string]any)
	if !ok {
		return args
	}
	doc, err := schema()
	if err != nil {
		return args // the caller reports the schema's error
	}
	for name, v := range obj {
		if prop, ok := doc.Properties[name]; ok {
			obj[name] = normalizeValue(prop, v)
		}
	}
	return args
}

// normalizeValue is normalizeArgs for one value and the schema that describes it.
func normalizeValue(schema map[string]any, v any) any {
	switch v := v.(type) {
	case string:
		if enum, ok := schema["enum"].([]any); ok {
			return canonicalEnum(enum, v)
		}
		if schemaAllows(schema, "integer") && !schemaAllows(schema, "string") && integerText.MatchString(v) {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > -maxExactInt && n < maxExactInt {
				return float64(n) // what a JSON number decodes to
			}
		}
	case []any:
		if items, ok := schema["items"].(map[string]any); ok {
			for i, item := range v {
				v[i] = normalizeValue(items, item)
			}
		}
	case map[string]any:
		props, _ := schema["properties"].(map[string]any)
		extra, _ := schema["additionalProperties"].(map[string]any)
		for name, item := range v {
			if prop, ok := props[name].(map[string]any); ok {
				v[name] = normalizeValue(prop, item)
			} else if extra != nil {
				v[name] = normalizeValue(extra, item)
			}
		}
	}
	return v
}

// canonicalEnum returns the allowed value v spells: itself when it is one, else the only one
// equal to it ignoring case, else v unchanged for validation to refuse.
func canonicalEnum(enum []any, v string) any {
	var match any
	for _, e := range enum {
		s, ok := e.(string)
		switch {
		case !ok:
		case s == v:
			return v
		case strings.EqualFold(s, v):
			if match != nil {
				return v // two allowed values differ only in case: the model must choose
			}
			match = s
		}
	}
	if match == nil {
		return v
	}
	return match
}

// schemaAllows reports whether schema's type is typ or a list of types holding it.
func schemaAllows(schema map[string]any, typ string) bool {
	switch t := schema["type"].(type) {
	case string:
		return t == typ
	case []any:
		for _, x := range t {
			if x == typ {
				return true
			}
		}
	}
	return false
}

// integerText is an integer as a model writes it in a string: optional minus, digits only.
var integerText = regexp.MustCompile(`^-?[0-9]{1,16}$`)

// maxExactInt bounds the integers a float64, what a JSON number decodes to, holds exactly.
const maxExactInt = 1 << 53
