package swaggercheck

import (
	"embed"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// Fabric's REST definitions (fabric/, from microsoft/fabric-rest-api-specs; see README.md):
// the semantic model operations and the long-running operation ones, which pbitest serves under
// fabricPrefix. They are checked like Power BI's, each file's definitions a schema resource of
// its own, so that the specs' references between files resolve as written.

//go:embed fabric
var fabricFiles embed.FS

// fabricPrefix is where pbitest serves the Fabric API, the stand-in for
// https://api.fabric.microsoft.com/v1.
const fabricPrefix = "/fabric/v1"

const fabricBase = "mem:///fabric/"

// fabricDefinitionFiles hold the schemas the operations refer to.
var fabricDefinitionFiles = []string{"semanticModel/definitions.json", "common/definitions.json", "platform/definitions/platform.json"}

// The operations checked: a semantic model's definition, and the long-running operations that
// deliver it (the platform definition holds all of Fabric's core API besides).
var (
	fabricModelPaths    = []string{"/workspaces/{workspaceId}/semanticModels/{semanticModelId}/getDefinition", "/workspaces/{workspaceId}/semanticModels/{semanticModelId}/updateDefinition"}
	fabricPlatformPaths = []string{"/operations/{operationId}", "/operations/{operationId}/result"}
)

// FabricOperations is how many Fabric operations the checker holds besides Power BI's.
const FabricOperations = 4

// pick returns the paths of doc named in names.
func pick(doc map[string]any, names []string) map[string]any {
	all, _ := doc["paths"].(map[string]any)
	out := map[string]any{}
	for _, p := range names {
		out[p] = all[p]
	}
	return out
}

func readFabric(name string) (map[string]any, error) {
	b, err := fabricFiles.ReadFile("fabric/" + name)
	if err != nil {
		return nil, fmt.Errorf("swaggercheck: %w", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("swaggercheck: fabric/%s: %w", name, err)
	}
	absoluteRefs(doc, fabricBase+name)
	return doc, nil
}

// absoluteRefs makes every $ref in v absolute against the URL of the file it is in, so that a
// schema copied into another resource still names what it meant.
func absoluteRefs(v any, base string) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if s, ok := e.(string); ok && k == "$ref" {
				b, _ := url.Parse(base)
				if r, err := url.Parse(s); err == nil {
					v[k] = b.ResolveReference(r).String()
				}
				continue
			}
			absoluteRefs(e, base)
		}
	case []any:
		for _, e := range v {
			absoluteRefs(e, base)
		}
	}
}

// addFabric adds Fabric's operations and returns the definitions of each file by its URL.
func (c *Checker) addFabric(opDefs map[mode]map[string]any) (map[string]map[string]any, error) {
	defs := map[string]map[string]any{}
	for _, name := range fabricDefinitionFiles {
		doc, err := readFabric(name)
		if err != nil {
			return nil, err
		}
		d, _ := doc["definitions"].(map[string]any)
		defs[fabricBase+name] = d
	}
	sm, err := readFabric("semanticModel/swagger.json")
	if err != nil {
		return nil, err
	}
	params, _ := sm["parameters"].(map[string]any)
	c.addOperations(pick(sm, fabricModelPaths), params, fabricPrefix, opDefs)

	pl, err := readFabric("platform/swagger.json")
	if err != nil {
		return nil, err
	}
	params, _ = pl["parameters"].(map[string]any)
	c.addOperations(pick(pl, fabricPlatformPaths), params, fabricPrefix, opDefs)
	return defs, nil
}

// fabricResource is one Fabric file's definitions as a JSON Schema resource for mode m.
func fabricResource(defs map[string]any, m mode) map[string]any {
	bases := map[string]bool{}
	collectAllOfBases(defs, bases)
	out := map[string]any{}
	for name, d := range defs {
		lenient := false
		for b := range bases {
			lenient = lenient || strings.HasSuffix(b, "#/definitions/"+name)
		}
		out[name] = convert(d, m, lenient)
	}
	return map[string]any{"$schema": "https://json-schema.org/draft/2020-12/schema", "$defs": out}
}
