package swaggercheck

// Operations pbitest serves that no published definition holds yet. Each is pbitest's model of a
// preview operation, written in the definition's own terms so that its exchanges are checked
// like the others; the model and its reasons are documented beside the handler.

// PreviewOperations is how many such operations the checker holds.
const PreviewOperations = 2

// previewPaths returns them as Swagger 2.0 paths.
//
// Execute DAX Queries with Arrow results (pbitest/dax_arrow.go), as the Power BI REST reference
// documents it: a body of one query string and its options, answered 200 with Arrow IPC streams,
// which the definition's "file" type stands for.
func previewPaths() map[string]any {
	op := func(id string, groupID bool) map[string]any {
		params := []any{
			map[string]any{"name": "datasetId", "in": "path", "required": true, "type": "string"},
			map[string]any{"name": "requestMessage", "in": "body", "required": true, "schema": executeDaxQueriesRequest},
		}
		if groupID {
			params = append(params, map[string]any{"name": "groupId", "in": "path", "required": true, "type": "string", "format": "uuid"})
		}
		return map[string]any{"post": map[string]any{
			"operationId": id,
			"parameters":  params,
			"responses":   map[string]any{"200": map[string]any{"description": "OK", "schema": map[string]any{"type": "file"}}},
		}}
	}
	return map[string]any{
		"/v1.0/myorg/datasets/{datasetId}/executeDaxQueries":                  op("Datasets_ExecuteDaxQueries_Preview", false),
		"/v1.0/myorg/groups/{groupId}/datasets/{datasetId}/executeDaxQueries": op("Datasets_ExecuteDaxQueriesInGroup_Preview", true),
	}
}

// executeDaxQueriesRequest is the body of Execute DAX Queries, from the REST reference.
var executeDaxQueriesRequest = map[string]any{
	"type":     "object",
	"required": []any{"query"},
	"properties": map[string]any{
		"query":                  map[string]any{"type": "string"},
		"applicationContext":     map[string]any{"type": "string"},
		"culture":                map[string]any{"type": "string"},
		"customData":             map[string]any{"type": "string"},
		"effectiveUsername":      map[string]any{"type": "string"},
		"memoryLimit":            map[string]any{"type": "number"},
		"queryTimeout":           map[string]any{"type": "integer"},
		"resultSetRowCountLimit": map[string]any{"type": "integer"},
		"roles":                  map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
		"schemaOnly":             map[string]any{"type": "boolean"},
		"executionMetrics":       map[string]any{"type": "boolean"},
	},
}
