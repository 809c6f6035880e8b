package swaggercheck

import "encoding/json"

// applyAuditDeviations records where the admin audit operations are documented to differ from
// the swagger.
func applyAuditDeviations(defs map[string]any) {
	// The activity log's final page carries "continuationUri":null and
	// "continuationToken":null (the example final page of learn.microsoft.com
	// enterprise/service-admin-auditing, api-notes §2.11); the swagger types them as plain
	// strings.
	if resp, ok := defs["ActivityEventResponse"].(map[string]any); ok {
		if props, ok := resp["properties"].(map[string]any); ok {
			for _, name := range []string{"continuationUri", "continuationToken"} {
				if p, ok := props[name].(map[string]any); ok {
					p["type"] = []any{"string", "null"}
				}
			}
		}
	}
	// The scanner returns measures' DAX expressions only when getInfo asked for
	// datasetExpressions=true (learn.microsoft.com metadata-scanning-overview, api-notes §2.12);
	// the swagger's Measure, shared with push datasets, requires expression. Scan results get
	// their own copies of Table and Measure without that requirement, so push datasets keep it.
	schemaProps, _ := defs["DatasetSchemaProperties"].(map[string]any)
	table, _ := defs["Table"].(map[string]any)
	measure, _ := defs["Measure"].(map[string]any)
	if schemaProps == nil || table == nil || measure == nil {
		return
	}
	scanMeasure := deepCopy(measure)
	scanMeasure["required"] = []any{"name"}
	scanTable := deepCopy(table)
	if props, ok := scanTable["properties"].(map[string]any); ok {
		if m, ok := props["measures"].(map[string]any); ok {
			m["items"] = map[string]any{"$ref": "#/definitions/ScanResultMeasure"}
		}
	}
	defs["ScanResultMeasure"] = scanMeasure
	defs["ScanResultTable"] = scanTable
	if props, ok := schemaProps["properties"].(map[string]any); ok {
		if t, ok := props["tables"].(map[string]any); ok {
			t["items"] = map[string]any{"$ref": "#/definitions/ScanResultTable"}
		}
	}
}

func deepCopy(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}
