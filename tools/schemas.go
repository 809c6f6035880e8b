package tools

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

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
			root := map[string]any{"properties": t.OutputSchema.Properties, "required": t.OutputSchema.Required}
			portable(root, 0)
			t.OutputSchema.Defs = shareSubschemas(root)
			// The result's text and the tool's description say what each member means, and
			// which members are present is plain from the result: describing it again here
			// costs context in every tools/list, for every tool, and tells a model nothing new.
			t.OutputSchema.Required = nil
			dropKeyword(root, "description")
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

// scalarSchema is the schema of a value typed any in a result: the cells of a DAX query's rows,
// which are strings, numbers, booleans or null. A bare true (any value at all) is not portable:
// clients that map schemas onto a narrower dialect reject it.
var scalarSchema = map[string]any{"anyOf": []any{
	map[string]any{"type": "string"}, map[string]any{"type": "number"},
	map[string]any{"type": "boolean"}, map[string]any{"type": "null"},
}}

// portable rewrites a derived output schema into the subset every client reads: the reflector
// spells a nil-able Go slice, map or pointer as type ["null", X], which clients that map schemas
// onto a single-type dialect (Gemini's OpenAPI subset) reject. Such a member is sent without
// null (the server drops null members from structured content), so it becomes type X and is not
// required. A bare true (a field typed any) becomes scalarSchema.
func portable(schema map[string]any, depth int) {
	props, _ := schema["properties"].(map[string]any)
	var optional []string
	for name, p := range props {
		switch ps := p.(type) {
		case bool:
			props[name] = scalarSchema
		case map[string]any:
			if dropNull(ps) {
				optional = append(optional, name)
			}
			props[name] = collapse(ps, depth+1)
			portable(ps, depth+1)
		}
	}
	if len(optional) > 0 {
		req, _ := schema["required"].([]string)
		if r, ok := schema["required"].([]any); ok {
			for _, v := range r {
				req = append(req, v.(string))
			}
		}
		req = slices.DeleteFunc(slices.Clone(req), func(n string) bool { return slices.Contains(optional, n) })
		if len(req) == 0 {
			delete(schema, "required")
		} else {
			schema["required"] = req
		}
	}
	switch items := schema["items"].(type) {
	case bool:
		schema["items"] = scalarSchema
	case map[string]any:
		dropNull(items)
		schema["items"] = collapse(items, depth)
		portable(items, depth)
	}
}

// resultSchemaDepth is how deep a result's schema describes its members: the members of the
// result, and no further. Below them an object is declared as an object and an array of
// objects as such; the result itself shows their fields. Every level deeper costs more context
// in every tools/list than the whole of the rest of a tool's definition.
const resultSchemaDepth = 1

// collapse returns an object schema below resultSchemaDepth as a plain object, keeping its
// description.
func collapse(schema map[string]any, depth int) map[string]any {
	if _, ok := schema["properties"]; !ok || depth < resultSchemaDepth {
		return schema
	}
	short := map[string]any{"type": "object"}
	if d, ok := schema["description"]; ok {
		short["description"] = d
	}
	return short
}

// dropKeyword removes a keyword from a schema and every schema in it.
func dropKeyword(schema any, keyword string) {
	switch s := schema.(type) {
	case map[string]any:
		delete(s, keyword)
		for k, v := range s {
			if k == "properties" {
				for _, p := range v.(map[string]any) {
					dropKeyword(p, keyword)
				}
				continue
			}
			dropKeyword(v, keyword)
		}
	case []any:
		for _, v := range s {
			dropKeyword(v, keyword)
		}
	}
}

// dropNull turns type ["null", X] into type X and reports whether it did.
func dropNull(schema map[string]any) bool {
	types, ok := schema["type"].([]any)
	if !ok {
		return false
	}
	rest := slices.DeleteFunc(slices.Clone(types), func(t any) bool { return t == "null" })
	if len(rest) != 1 {
		return false
	}
	schema["type"] = rest[0]
	return len(rest) < len(types)
}

// shareSubschemas moves an object schema that occurs more than once in a result's schema into
// $defs, each occurrence a $ref to it: a result often lists the same kind of item in several
// places (a pipeline stage's reports, models and dashboards), and each copy costs context in
// every tools/list. A definition is named after the first member it describes.
func shareSubschemas(root map[string]any) map[string]any {
	seen := map[string]int{}
	var count func(any)
	count = func(v any) {
		switch s := v.(type) {
		case map[string]any:
			if _, ok := s["properties"]; ok {
				raw, _ := json.Marshal(s)
				seen[string(raw)]++
			}
			for _, c := range s {
				count(c)
			}
		case []any:
			for _, c := range s {
				count(c)
			}
		}
	}
	for _, p := range root["properties"].(map[string]any) {
		count(p)
	}
	defs := map[string]any{}
	names := map[string]string{}
	var replace func(name string, v any) any
	replace = func(name string, v any) any {
		s, ok := v.(map[string]any)
		if !ok {
			return v
		}
		if _, ok := s["properties"]; ok {
			raw, _ := json.Marshal(s)
			if seen[string(raw)] > 1 {
				def, ok := names[string(raw)]
				if !ok {
					def = name
					for i := 2; defs[def] != nil; i++ {
						def = fmt.Sprintf("%s%d", name, i)
					}
					names[string(raw)] = def
					defs[def] = s
				}
				return map[string]any{"$ref": "#/$defs/" + def}
			}
		}
		if props, ok := s["properties"].(map[string]any); ok {
			for k, p := range props {
				props[k] = replace(k, p)
			}
		}
		if items, ok := s["items"]; ok {
			s["items"] = replace(name, items)
		}
		return s
	}
	props := root["properties"].(map[string]any)
	for _, k := range slices.Sorted(maps.Keys(props)) {
		props[k] = replace(k, props[k])
	}
	if len(defs) == 0 {
		return nil
	}
	return defs
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

// inputSchema declares that a tool's arguments are an A: A's fields, with their tags, are the
// tool's input schema, and the handler binds the arguments to an A. The schema is derived only
// by `go generate`; a server takes it from schemas_gen.go (useGeneratedInputSchema).
//
// Each field is one argument, named by its json tag, typed by its Go type (string, bool,
// integers, float64, slices of those or of structs, structs, string maps). These tags, named
// after the JSON Schema keywords they set, say the rest:
//
//	jsonschema:"what the argument is"   the description (as for result types)
//	required:"true"
//	minLength, maxLength, pattern, enum:"a,b,c", format
//	minimum, maximum
//	minItems, maxItems, uniqueItems:"true"; itemMinLength, itemMaxLength, itemPattern, itemEnum
//	for the items of a slice of strings
//	default                             read as the field's type
//	schema:"$name"                      a schema fragment merged in, for what tags cannot say
//
// A value "$name" stands for schemaRef(name): a description, pattern, enum or number that
// several tools share, or that the code declares anyway (guidPattern, a limit of pbiclient's).
func inputSchema[A any]() mcp.ToolOption {
	if !deriveSchemas {
		return func(*mcp.Tool) {}
	}
	return func(t *mcp.Tool) {
		props, required, err := structSchema(reflect.TypeFor[A]())
		if err != nil {
			panic(fmt.Sprintf("tools: %s: %v", t.Name, err))
		}
		t.InputSchema = mcp.ToolInputSchema{Type: "object", Properties: props, Required: required}
		declaredByArgs[t.Name] = true
	}
}

// declaredByArgs names the tools whose input schema inputSchema derived, in derive mode only,
// so that TestSchemasAreGenerated can tell that no tool declares its arguments another way.
var declaredByArgs = map[string]bool{}

// structSchema derives the properties of a struct's fields, and which of them are required.
func structSchema(t reflect.Type) (map[string]any, []string, error) {
	props := map[string]any{}
	var required []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			return nil, nil, fmt.Errorf("field %s has no json name", f.Name)
		}
		for _, k := range tagKeys(f.Tag) {
			if !slices.Contains(argumentTags, k) {
				return nil, nil, fmt.Errorf("%s: unknown tag %q", name, k)
			}
		}
		prop, err := fieldSchema(f.Type, f.Tag, "")
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
		props[name] = prop
		if f.Tag.Get("required") == "true" {
			required = append(required, name)
		}
	}
	return props, required, nil
}

// argumentTags are the tags an argument's field may have; a misspelt one would be ignored.
var argumentTags = []string{"json", "jsonschema", "required", "schema", "pattern", "format", "enum", "default",
	"minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems", "uniqueItems",
	"itemPattern", "itemFormat", "itemEnum", "itemMinLength", "itemMaxLength", "itemMinimum", "itemMaximum"}

// tagKeys lists a struct tag's keys, as reflect.StructTag reads them.
func tagKeys(tag reflect.StructTag) []string {
	var keys []string
	for s := strings.TrimSpace(string(tag)); s != ""; s = strings.TrimSpace(s) {
		key, rest, ok := strings.Cut(s, ":")
		if !ok || rest == "" || rest[0] != '"' {
			return append(keys, s) // malformed: reported as an unknown key
		}
		value, err := strconv.QuotedPrefix(rest)
		if err != nil {
			return append(keys, s)
		}
		keys = append(keys, key)
		s = rest[len(value):]
	}
	return keys
}

// fieldSchema derives the schema of a value of type t from the tags, those whose names start
// with prefix ("" for the field itself, "item" for the items of a slice of strings).
func fieldSchema(t reflect.Type, tag reflect.StructTag, prefix string) (map[string]any, error) {
	s := map[string]any{}
	if t.Kind() == reflect.Pointer {
		t = t.Elem() // an optional argument the handler must tell from its zero value
	}
	switch t.Kind() {
	case reflect.String:
		s["type"] = "string"
	case reflect.Bool:
		s["type"] = "boolean"
	case reflect.Int, reflect.Int32, reflect.Int64:
		s["type"] = "integer"
	case reflect.Float64:
		s["type"] = "number"
	case reflect.Slice:
		s["type"] = "array"
		var items map[string]any
		var err error
		if t.Elem().Kind() == reflect.Struct {
			items, err = objectSchema(t.Elem())
		} else if prefix == "" {
			items, err = fieldSchema(t.Elem(), tag, "item")
		} else {
			err = fmt.Errorf("nested slices have no tags")
		}
		if err != nil {
			return nil, err
		}
		s["items"] = items
	case reflect.Struct:
		return objectSchema(t)
	case reflect.Map:
		s["type"] = "object"
	default:
		return nil, fmt.Errorf("no schema for %s", t)
	}
	keyword := func(name string) (string, bool) {
		if prefix != "" {
			name = prefix + strings.ToUpper(name[:1]) + name[1:]
		}
		return tag.Lookup(name)
	}
	for _, k := range []string{"jsonschema", "pattern", "format", "enum", "default",
		"minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems", "uniqueItems", "schema"} {
		raw, ok := keyword(k)
		if !ok || (prefix != "" && (k == "jsonschema" || k == "schema" || k == "default")) {
			continue
		}
		v, err := keywordValue(k, raw, t)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		switch k {
		case "jsonschema":
			s["description"] = v
		case "schema":
			fragment, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("schema: %s is no schema fragment", raw)
			}
			maps.Copy(s, fragment)
		default:
			s[k] = v
		}
	}
	return s, nil
}

// objectSchema is the schema of a struct value: its fields, and nothing else.
func objectSchema(t reflect.Type) (map[string]any, error) {
	props, required, err := structSchema(t)
	if err != nil {
		return nil, err
	}
	s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		s["required"] = required
	}
	return s, nil
}

// keywordValue reads a tag's value as the keyword's JSON value: a "$name" reference, or the
// literal read as the keyword (and, for default, the field's type) wants it.
func keywordValue(keyword, raw string, t reflect.Type) (any, error) {
	if name, ok := strings.CutPrefix(raw, "$"); ok {
		v, ok := schemaRef(name)
		if !ok {
			return nil, fmt.Errorf("no schemaRef %q", name)
		}
		return v, nil
	}
	switch keyword {
	case "jsonschema":
		return expandRefs(raw)
	case "pattern", "format":
		return raw, nil
	case "enum":
		return strings.Split(raw, ","), nil
	case "uniqueItems":
		return strconv.ParseBool(raw)
	case "minLength", "maxLength", "minItems", "maxItems":
		return strconv.Atoi(raw)
	case "minimum", "maximum":
		return strconv.ParseFloat(raw, 64)
	case "default":
		switch t.Kind() {
		case reflect.String:
			return raw, nil
		case reflect.Bool:
			return strconv.ParseBool(raw)
		default:
			return strconv.ParseFloat(raw, 64)
		}
	}
	return nil, fmt.Errorf("unknown keyword")
}

// expandRefs replaces each {name} in a description with schemaRef(name), so that a limit the
// code declares is written into the text from the same declaration.
func expandRefs(s string) (string, error) {
	var b strings.Builder
	for {
		before, rest, ok := strings.Cut(s, "{")
		if !ok {
			return b.String() + s, nil
		}
		name, after, ok := strings.Cut(rest, "}")
		v, found := schemaRef(name)
		if !ok || !found {
			// Not a reference: descriptions may show JSON, e.g. {"OutputFormat": "PNG"}.
			b.WriteString(before + "{")
			s = rest
			continue
		}
		fmt.Fprintf(&b, "%s%v", before, v)
		s = after
	}
}

// schemaRef holds what argument tags name with "$name" or {name}: values that several tools
// share, or that the code declares anyway. It is read only by `go generate`.
//
// An argument that many tools share is one entry here, a whole schema fragment, and each tool's
// field names it with schema:"$name" (plus required:"true" where the tool requires it). The
// fragments are taken from the builders that declare them (param), so each is declared once.
func schemaRef(name string) (any, bool) {
	v, ok := map[string]any{
		// Shared by many files.
		"guid":              guidPattern.String(),
		"workspace":         param(workspaceParam()),
		"requiredWorkspace": param(requiredWorkspaceParam()),
		"skip":              param(skipParam()),
		"confirm":           param(confirmParam()),
		"dataset":           param(itemParam("dataset")),
		"report":            param(itemParam("report")),
		"paginatedReport":   param(itemParam("report")),

		// dax.go
		"defaultDAXRows": defaultDAXRows,
		"maxDAXRows":     maxDAXRows,

		// Each file's own entries go below its name.

		// admin.go
		"maxAdminWorkspaces":      maxAdminWorkspaces,
		"adminGroupsMaxTop":       adminGroupsMaxTop,
		"adminWorkspace":          param(adminWorkspaceParam()),
		"adminWorkspaceExpand":    param(adminExpandParam("workspace", workspaceExpands...)),
		"adminRefreshableExpand":  param(adminExpandParam("refreshable", "capacity", "group")),
		"adminWorkspacesFilter":   param(adminFilterParam("\"state eq 'Deleted'\", \"type eq 'Workspace'\" or \"contains(name,'Sales')\"")),
		"adminDatasetsFilter":     param(adminFilterParam("\"configuredBy eq 'megan.bowen@contoso.com'\" or \"workspaceId eq '<guid>'\"")),
		"adminReportsFilter":      param(adminFilterParam("\"reportType eq 'PaginatedReport'\" or \"datasetId eq '<guid>'\"")),
		"adminDashboardsFilter":   param(adminFilterParam("\"workspaceId eq '<guid>'\" or \"contains(displayName,'Pulse')\"")),
		"adminRefreshablesFilter": param(adminFilterParam("\"name eq 'Sales'\"")),

		// admin_audit.go
		"adminDateTimePattern": `^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$`,
		"defaultActivityLimit": defaultActivityLimit,
		"maxActivityLimit":     maxActivityLimit,
		"maxScanWorkspaces":    maxScanWorkspaces,
		"maxWorkspacesPerScan": maxWorkspacesPerScan,

		// apps.go
		"app": param(appParam()),

		// capacities.go
		"refreshablesMax":  refreshablesMax,
		"sharedCapacityID": sharedCapacityID,

		// dashboards.go
		"dashboard": param(dashboardParam()),

		// dataflows.go
		"dataflowWorkspace": param(dataflowWorkspaceParam()),
		"dataflow":          param(dataflowParam()),
		"transactionID":     transactionIDPattern,
		"dataflowDays":      param(daysParam()),
		"dataflowTimes":     param(timesParam("Times of day (hh:mm, minutes 00 or 30) to refresh at; replaces the current times.", 48)),
		"dataflowTimeZone":  param(timeZoneParam()),

		// datasets.go
		"datasetsGroupWorkspace": param(mcp.WithString("workspace")),
		"datasetsPathSegment":    pathSegmentPattern,

		// embed.go
		"embedWorkspace":  param(embedWorkspaceParam()),
		"embedIdentities": param(identitiesParam()),
		"embedLifetime":   param(lifetimeParam()),

		// gateways.go
		"gateway":           param(gatewayParam()),
		"gatewayDatasource": param(gatewayDatasourceParam()),
		"principal":         principalPattern,

		// imports.go
		"defaultImportWait": defaultImportWait,

		// pipelines.go
		"pipeline":            param(pipelineParam()),
		"pipelineStage":       param(stageParam("stage", "The stage to list")),
		"pipelineSourceStage": param(stageParam("source_stage", "The stage to deploy from")),
		"defaultDeployWait":   defaultDeployWait,

		// push.go
		"pushDataset":          param(pushDatasetParam()),
		"pushTable":            param(pushTableParam()),
		"pushTableNamePattern": pathSegmentPattern,
		"pushDataTypes":        pushDataTypes,
		"maxPushTables":        maxPushTables,
		"maxPushColumns":       maxPushColumns,
		"maxPushRelships":      maxPushRelships,

		// pushrows.go
		"maxInlineRows": maxInlineRows,

		// refresh.go
		"refreshID":            param(refreshIDParam()),
		"scheduleDays":         param(daysParam()),
		"scheduleTime":         scheduleTimePattern,
		"scheduleTimeZone":     param(timeZoneParam()),
		"directQueryFrequency": map[string]any{"enum": []int{15, 30, 60, 120, 180}},
		"defaultRefreshWait":   defaultRefreshWait,
		// The items of objects are pbiclient.RefreshObject, which carries no schema tags.
		"refreshObjects": map[string]any{"items": map[string]any{
			"type": "object",
			"properties": map[string]any{
				"table":     map[string]any{"type": "string", "minLength": 1, "description": "Table name"},
				"partition": map[string]any{"type": "string", "minLength": 1, "description": "Partition of the table; omit for the whole table"},
			},
			"required":             []string{"table"},
			"additionalProperties": false,
		}},

		// reports.go
		"exportFormats":     append(append([]string{}, powerBIFormats...), paginatedOnlyFormats...),
		"exportIDPattern":   exportIDPattern,
		"defaultExportWait": defaultExportWait,
		"formatSettings": param(mcp.WithObject("format_settings",
			mcp.AdditionalProperties(map[string]any{"type": "string", "maxLength": 1024}), mcp.MaxProperties(50))),
		"downloadTypes": downloadTypes,

		// workspaces.go
		"identifier":        param(identifierParam()),
		"accessRightToGive": param(accessRightParam("The role to give.")),
		"newAccessRight":    param(accessRightParam("The new role.")),
	}[name]
	return v, ok
}

// param is the schema of the one argument a builder declares, without whether it is required
// (the field's required tag says that).
func param(opt mcp.ToolOption) map[string]any {
	t := mcp.NewTool("param", opt)
	for _, prop := range t.InputSchema.Properties {
		return prop.(map[string]any)
	}
	panic("tools: param: the option declares no argument")
}
