package tools

import (
	"fmt"

	"github.com/mark3labs/mcp-go/mcp"
)

//go:generate go test -run TestOutputSchemasAreGenerated -count=1 . -args -update

// Output schemas are derived from the result types ahead of time, by `go generate`, into
// outputschemas_gen.go. Deriving them by reflection when the server starts used to cost more
// than everything else it does before it can answer. TestOutputSchemasAreGenerated fails when
// the generated file no longer matches the types.

// deriveOutputSchemas makes outputSchema derive each schema from its type again. Only the test
// that writes outputschemas_gen.go sets it.
var deriveOutputSchemas bool

// outputSchema declares that a tool's structured result is a T. The schema the client sees is
// the one generated from T for this tool.
func outputSchema[T any]() mcp.ToolOption {
	if deriveOutputSchemas {
		derive := mcp.WithOutputSchema[T]()
		return func(t *mcp.Tool) {
			derive(t)
			// Output schemas describe what this server itself sends; "no other properties"
			// tells a client nothing and costs context in every tools/list, so it is left out.
			t.OutputSchema.AdditionalProperties = nil
			for _, p := range t.OutputSchema.Properties {
				dropAdditionalProperties(p)
			}
		}
	}
	return func(t *mcp.Tool) {
		raw, ok := outputSchemas[t.Name]
		if !ok {
			panic(fmt.Sprintf("tools: no generated output schema for %s: run go generate ./tools", t.Name))
		}
		t.RawOutputSchema = []byte(raw)
	}
}

// dropAdditionalProperties removes additionalProperties from a schema and every schema in it.
func dropAdditionalProperties(schema any) {
	switch s := schema.(type) {
	case map[string]any:
		delete(s, "additionalProperties")
		for _, v := range s {
			dropAdditionalProperties(v)
		}
	case []any:
		for _, v := range s {
			dropAdditionalProperties(v)
		}
	}
}
