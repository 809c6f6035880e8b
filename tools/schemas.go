package tools

import (
	"encoding/json"
	"fmt"

	"github.com/mark3labs/mcp-go/mcp"
)

//go:generate go test -run TestSchemasAreGenerated -count=1 . -args -update

// Every tool's input and output schemas are derived ahead of time, by `go generate`, into
// schemas_gen.go, and a server starts from those. Building the schemas when the server starts
// (output schemas by reflection on the result types, input schemas through mcp-go's builders,
// which mcp-go then encodes and decodes again for every tool it adds) cost more than everything
// else it does before it can answer. TestSchemasAreGenerated fails when schemas_gen.go no longer
// matches the definitions.

// deriveSchemas makes the tools build their schemas from their declarations again. Only the
// test that writes schemas_gen.go sets it.
var deriveSchemas bool

// outputSchema declares that a tool's structured result is a T. The schema the client sees is
// the one generated from T for this tool.
func outputSchema[T any]() mcp.ToolOption {
	if deriveSchemas {
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
	return func(t *mcp.Tool) { t.RawOutputSchema = generated(outputSchemas, t.Name) }
}

// useGeneratedInputSchema gives a tool its generated input schema in place of the one its
// declaration built. In derive mode it completes the declared one instead: unknown arguments
// are refused, in the schema the client sees and in validation, so that a misspelt argument is
// reported instead of silently ignored.
func useGeneratedInputSchema(t *mcp.Tool) {
	if deriveSchemas {
		t.InputSchema.AdditionalProperties = false
		return
	}
	t.InputSchema, t.RawInputSchema = mcp.ToolInputSchema{}, generated(inputSchemas, t.Name)
}

func generated(schemas map[string]string, tool string) json.RawMessage {
	raw, ok := schemas[tool]
	if !ok {
		panic(fmt.Sprintf("tools: no generated schema for %s: run go generate ./tools", tool))
	}
	return json.RawMessage(raw)
}

// inputSchemaJSON is a tool's input schema as the client sees it.
func inputSchemaJSON(t mcp.Tool) (json.RawMessage, error) {
	if t.RawInputSchema != nil {
		return t.RawInputSchema, nil
	}
	return json.Marshal(t.InputSchema)
}

// inputSchemaDoc is the part of an input schema the server reads at run time.
type inputSchemaDoc struct {
	Properties map[string]map[string]any `json:"properties"`
	Required   []string                  `json:"required"`
}

func parseInputSchema(t mcp.Tool) (inputSchemaDoc, error) {
	var doc inputSchemaDoc
	raw, err := inputSchemaJSON(t)
	if err == nil {
		err = json.Unmarshal(raw, &doc)
	}
	return doc, err
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
