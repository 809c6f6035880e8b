package tools

import (
	"bytes"
	"encoding/json"
	"fmt"
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
