package tools

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

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
	raw, err := json.Marshal(t.InputSchema)
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
			msgs = append(msgs, where+": "+u.Error.String())
		}
		return strings.Join(msgs, "; ")
	}, nil
}
