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
		echoes := echoMembers(reflect.TypeFor[T]())
		return func(t *mcp.Tool) {
			derive(t)
			t.OutputSchema.AdditionalProperties, t.OutputSchema.Required = nil, nil
			props := t.OutputSchema.Properties
			for name, p := range props {
				props[name] = resultMember(p)
			}
			if len(props) > len(echoes) {
				for name := range echoes {
					delete(props, name)
				}
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

// An output schema describes what this server itself sends, to a model that reads the result
// anyway and pays for the schema in every tools/list. So it says only what a result holds: its
// members and their types. Left out, as the reflector derives them:
//   - additionalProperties: "no other properties" tells a client nothing about a result;
//   - required: members that are empty or null are dropped from structured content;
//   - descriptions: the tool's description and the result's text say what members mean;
//   - the fields of nested objects: below a result's members an object is {"type": "object"}
//     and an array of objects {"type": "array"}; the result shows them. Describing them cost
//     more context than everything else a tool declares, and "items": {"type": "object"} on
//     every list told a client only that a list holds objects, which its first item shows.
//   - the members that echo the items the call named (a WorkspaceRef or ItemRef: which
//     workspace, model or report a name was read as): the caller named them, the server
//     instructions say once that results tell which item was used, and they were a fifth of
//     every output schema. They stay in structured content, which still validates: an output
//     schema here never closes its object (no additionalProperties: false).
// What is kept is what a client programs against: each member the tool produced, by name and
// type (a list's items and its paging members, an export's file, a refresh's requestId). No
// output schema at all would save a little more, but structured content would then be typed
// for no client, and a schema keeps every result honest: the e2e run checks each
// structuredContent against it.
// And it is portable: a nil-able Go slice, map or pointer, which the reflector types
// ["null", X], is typed X (clients that map schemas onto a single-type dialect, such as
// Gemini's OpenAPI subset, reject a type union), and a field typed any, a bare true, is
// scalarSchema.

// echoMembers are the members of a result of type t that echo the items the call named, as
// WorkspaceRef and ItemRef carry them: which workspace or item a name was read as. The output
// schema leaves them out (see above), unless they are all the result holds.
func echoMembers(t reflect.Type) map[string]bool {
	echoes := map[string]bool{}
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case f.Anonymous && name == "" && ft.Kind() == reflect.Struct:
			maps.Copy(echoes, echoMembers(ft))
		case name != "" && name != "-" && (ft == reflect.TypeFor[WorkspaceRef]() || ft == reflect.TypeFor[ItemRef]()):
			echoes[name] = true
		}
	}
	return echoes
}

// scalarSchema is the schema of a value typed any in a result: the cells of a DAX query's rows,
// which are strings, numbers, booleans or null.
var scalarSchema = map[string]any{"anyOf": []any{
	map[string]any{"type": "string"}, map[string]any{"type": "number"},
	map[string]any{"type": "boolean"}, map[string]any{"type": "null"},
}}

// resultMember is the schema of one member of a result, as the comment above says.
func resultMember(schema any) any {
	s, ok := schema.(map[string]any)
	if !ok {
		return scalarSchema // a bare true
	}
	out := map[string]any{}
	if t, ok := s["type"].([]any); ok {
		rest := slices.DeleteFunc(slices.Clone(t), func(t any) bool { return t == "null" })
		if len(rest) == 1 {
			out["type"] = rest[0]
		} else {
			out["type"] = rest
		}
	} else if t, ok := s["type"]; ok {
		out["type"] = t
	}
	switch items := s["items"].(type) {
	case bool:
		out["items"] = scalarSchema
	case map[string]any:
		item := resultMember(items)
		if m, ok := item.(map[string]any); !ok || len(m) != 1 || m["type"] != "object" {
			out["items"] = item
		}
	}
	for _, k := range []string{"enum", "format", "anyOf"} {
		if v, ok := s[k]; ok {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return scalarSchema
	}
	return out
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
		"paginatedReport":   param(itemParam("report")), // the tool says which kind of report it takes

		// dax.go
		"defaultDAXRows":  defaultDAXRows,
		"maxDAXRows":      maxDAXRows,
		"maxSampleValues": maxSampleValues, // grounding.go

		// Each file's own entries go below its name.

		// admin.go
		"maxAdminWorkspaces":      maxAdminWorkspaces,
		"adminGroupsMaxTop":       adminGroupsMaxTop,
		"maxAdminTop":             maxAdminTop,
		"adminWorkspace":          param(adminWorkspaceParam()),
		"adminWorkspaceExpand":    param(adminExpandParam("workspace", workspaceExpands...)),
		"adminRefreshableExpand":  param(adminExpandParam("refreshable", "capacity", "group")),
		"adminWorkspacesFilter":   param(adminFilterParam("\"state eq 'Deleted'\", \"type eq 'Workspace'\" or \"contains(name,'Sales')\"")),
		"adminDatasetsFilter":     param(adminFilterParam("\"configuredBy eq 'megan.bowen@contoso.com'\" or \"workspaceId eq '<guid>'\"")),
		"adminReportsFilter":      param(adminFilterParam("\"reportType eq 'PaginatedReport'\" or \"datasetId eq '<guid>'\"")),
		"adminDashboardsFilter":   param(adminFilterParam("\"workspaceId eq '<guid>'\" or \"contains(displayName,'Pulse')\"")),
		"adminRefreshablesFilter": param(adminFilterParam("\"name eq 'Sales'\"")),

		// admin_access.go
		"pathSegment":       pathSegmentPattern,
		"adminContinuation": map[string]any{"type": "string", "minLength": 1, "description": "continuationToken of the previous answer, unchanged, with the same other arguments."},

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
		"datasetsGroupWorkspace": param(requiredWorkspaceParam()),
		"datasetsPathSegment":    pathSegmentPattern,

		// embed.go
		"embedWorkspace":  param(embedWorkspaceParam()),
		"embedIdentities": param(identitiesParam()),
		"embedLifetime":   param(lifetimeParam()),

		// gateways.go
		"gateway":           param(gatewayParam()),
		"gatewayDatasource": param(gatewayDatasourceParam()),
		"principal":         principalPattern,

		// gateways_datasources.go
		"secretEnv": param(secretEnvParam()),

		// imports.go
		"defaultImportWait": defaultImportWait,

		// pipelines.go
		"pipeline":            param(pipelineParam()),
		"pipelineStage":       param(stageParam("stage", "The stage to list")),
		"pipelineSourceStage": param(stageParam("source_stage", "The stage to deploy from")),
		"defaultDeployWait":   defaultDeployWait,
		"maxDeployItems":      maxDeployItems,

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
		"directQuerySchedule": param(mcp.WithBoolean("direct_query",
			mcp.Description("The cache refresh of a DirectQuery or LiveConnection model, instead of an import model's scheduled refresh."))),
		"defaultRefreshWait": defaultRefreshWait,
		// The items of objects are pbiclient.RefreshObject, which carries no schema tags.
		"refreshObjects": map[string]any{"items": map[string]any{
			"type": "object",
			"properties": map[string]any{
				"table":     map[string]any{"type": "string", "minLength": 1},
				"partition": map[string]any{"type": "string", "minLength": 1, "description": "Omit for the whole table"},
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
		"accessRightToGive": param(accessRightParam(workspaceRoles)),
		"newAccessRight":    param(accessRightParam("")),
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
