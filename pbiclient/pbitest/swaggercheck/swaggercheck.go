// Package swaggercheck checks HTTP exchanges against Microsoft's Power BI REST
// definition (powerbi-swagger.json, a copy of sdk/swaggers/swagger.json from
// microsoft/PowerBI-CSharp; see README.md). Given what a client sent and what
// a server answered, it finds the operation by method and path template and
// checks the query parameters, the request body, the status and the response
// body against the operation's declared parameters, responses and schemas.
//
// The definition is read the way the real service speaks it (api-notes §0.1):
// property names match case-insensitively (the swagger has PascalCase names
// the service sends in camelCase), the swagger's "odata.context" is
// "@odata.context" on the wire, and responses may carry undocumented fields.
// Request bodies are held to a stricter standard: a property the operation
// does not define is an error, because the service ignores or rejects it and
// it is usually a misspelt field.
package swaggercheck

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

//go:embed powerbi-swagger.json
var swaggerJSON []byte

// MaxBody is how much of a body a recorder may keep. A body of this length
// that is not valid JSON is taken as cut short and not checked.
const MaxBody = 64 << 10

// Exchange is one request and its answer.
type Exchange struct {
	Method string
	// Path is the URL path as received, e.g. /v1.0/myorg/groups/<id>/datasets.
	Path string
	// Route is the server's route pattern when known, e.g.
	// "GET /v1.0/myorg/groups/{groupId}/datasets". It identifies the
	// operation more reliably than Path when an id contains an escaped "/".
	Route        string
	RawQuery     string
	Body         []byte
	Status       int
	ResponseBody []byte
}

// Operation is one operation of the definition.
type Operation struct {
	ID        string
	Method    string // upper case
	Template  string // e.g. /v1.0/myorg/groups/{groupId}/datasets
	segments  []string
	query     map[string]param // by name
	path      map[string]param // by name, without braces
	hasBody   bool
	bodyReq   bool
	multipart bool         // the operation also consumes multipart/form-data (imports)
	responses map[int]body // by status code
}

// param is a query or path parameter.
type param struct {
	required    bool
	typ, format string // "integer", "boolean", "string"; "uuid"…
	enum        []string
}

// check returns why value does not fit the parameter, or "".
func (p param) check(value string) string {
	switch {
	case p.typ == "integer":
		if _, err := strconv.ParseInt(value, 10, 64); err != nil {
			return "not an integer"
		}
	case p.typ == "boolean":
		if !strings.EqualFold(value, "true") && !strings.EqualFold(value, "false") {
			return "not true or false"
		}
	case p.format == "uuid":
		if !guid.MatchString(value) {
			return "not a GUID"
		}
	}
	if len(p.enum) > 0 && !slices.ContainsFunc(p.enum, func(e string) bool { return strings.EqualFold(e, value) }) {
		return fmt.Sprintf("not one of %v", p.enum)
	}
	return ""
}

// guid is the form of ids typed "uuid" (the service sends some upper case).
var guid = regexp.MustCompile(`^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$`)

// body is what a response declares.
type body int

const (
	noBody body = iota
	jsonBody
	binaryBody // "type": "file", e.g. an exported report
)

// Checker checks exchanges. It is safe for concurrent use.
type Checker struct {
	ops []*Operation

	mu       sync.Mutex
	compiler map[mode]*jsonschema.Compiler
	schemas  map[string]*jsonschema.Schema
}

type mode string

const (
	requestMode  mode = "request"
	responseMode mode = "response"
	// documentedMode is responseMode closed to undocumented properties:
	// it tells which fields of an answer the definition does not list.
	documentedMode mode = "documented"
)

// New loads the embedded definition.
func New() (*Checker, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(swaggerJSON))
	if err != nil {
		return nil, fmt.Errorf("swaggercheck: reading definition: %w", err)
	}
	sw, _ := doc.(map[string]any)
	paths, _ := sw["paths"].(map[string]any)
	defs, _ := sw["definitions"].(map[string]any)
	globalParams, _ := sw["parameters"].(map[string]any)
	c := &Checker{compiler: map[mode]*jsonschema.Compiler{}, schemas: map[string]*jsonschema.Schema{}}

	// Each mode's document holds every definition plus each operation's
	// body and response schemas under $defs, named after the operation.
	opDefs := map[mode]map[string]any{requestMode: {}, responseMode: {}}
	c.addOperations(paths, globalParams, "", opDefs)
	c.addOperations(previewPaths(), globalParams, "", opDefs) // preview.go
	fabricDefs, err := c.addFabric(opDefs)
	if err != nil {
		return nil, err
	}
	sort.Slice(c.ops, func(i, j int) bool { return c.ops[i].ID < c.ops[j].ID })

	applyDeviations(defs)
	allOfBases := map[string]bool{}
	collectAllOfBases(sw, allOfBases)
	opDefs[documentedMode] = opDefs[responseMode]
	for _, m := range []mode{requestMode, responseMode, documentedMode} {
		all := map[string]any{}
		for name, d := range defs {
			all[name] = convert(d, m, allOfBases[name])
		}
		for name, d := range opDefs[m] {
			all[name] = convert(d, m, false)
		}
		comp := jsonschema.NewCompiler()
		comp.DefaultDraft(jsonschema.Draft2020)
		for url, defs := range fabricDefs {
			if err := comp.AddResource(url, fabricResource(defs, m)); err != nil {
				return nil, fmt.Errorf("swaggercheck: %w", err)
			}
		}
		if err := comp.AddResource(resourceURL(m), map[string]any{
			"$schema": "https://json-schema.org/draft/2020-12/schema",
			"$defs":   all,
		}); err != nil {
			return nil, fmt.Errorf("swaggercheck: %w", err)
		}
		c.compiler[m] = comp
	}
	return c, nil
}

// addOperations adds the operations of a definition's paths, their templates under prefix, and
// their request and response schemas to opDefs.
func (c *Checker) addOperations(paths, globalParams map[string]any, prefix string, opDefs map[mode]map[string]any) {
	for tmpl, v := range paths {
		item, _ := v.(map[string]any)
		shared, _ := item["parameters"].([]any)
		for method, v := range item {
			if method == "parameters" {
				continue
			}
			o, _ := v.(map[string]any)
			op := &Operation{
				Method:    strings.ToUpper(method),
				Template:  prefix + tmpl,
				segments:  strings.Split(strings.TrimPrefix(prefix+tmpl, "/"), "/"),
				query:     map[string]param{},
				path:      map[string]param{},
				responses: map[int]body{},
			}
			op.ID, _ = o["operationId"].(string)
			consumes, _ := o["consumes"].([]any)
			for _, ct := range consumes {
				op.multipart = op.multipart || ct == "multipart/form-data"
			}
			params, _ := o["parameters"].([]any)
			for _, p := range append(append([]any(nil), shared...), params...) {
				pm, _ := p.(map[string]any)
				if ref, ok := pm["$ref"].(string); ok {
					pm, _ = globalParams[strings.TrimPrefix(ref, "#/parameters/")].(map[string]any)
				}
				name, _ := pm["name"].(string)
				pp := param{}
				pp.required, _ = pm["required"].(bool)
				pp.typ, _ = pm["type"].(string)
				pp.format, _ = pm["format"].(string)
				enum, _ := pm["enum"].([]any)
				for _, e := range enum {
					if s, ok := e.(string); ok {
						pp.enum = append(pp.enum, s)
					}
				}
				switch pm["in"] {
				case "query":
					op.query[name] = pp
				case "path":
					op.path[name] = pp
				case "body":
					op.hasBody, op.bodyReq = true, pp.required
					opDefs[requestMode]["op."+op.ID+".request"] = requestSchema(op.ID, pm["schema"])
				}
			}
			applyParameterDeviations(op)
			responses, _ := o["responses"].(map[string]any)
			for code, v := range responses {
				n, err := strconv.Atoi(code)
				if err != nil {
					continue // "default": none in this definition
				}
				r, _ := v.(map[string]any)
				switch schema, ok := r["schema"].(map[string]any); {
				case !ok:
					op.responses[n] = noBody
				case schema["type"] == "file":
					op.responses[n] = binaryBody
				default:
					op.responses[n] = jsonBody
					opDefs[responseMode]["op."+op.ID+".response."+code] = schema
				}
			}
			c.ops = append(c.ops, op)
		}
	}
}

func resourceURL(m mode) string { return "mem:///powerbi-" + string(m) + ".json" }

// Operations lists every operation of the definition, by operationId.
func (c *Checker) Operations() []*Operation { return c.ops }

// collectAllOfBases adds to bases every definition that some schema, however
// deeply nested, extends by allOf.
func collectAllOfBases(v any, bases map[string]bool) {
	switch v := v.(type) {
	case map[string]any:
		if parts, ok := v["allOf"].([]any); ok {
			for _, p := range parts {
				if pm, ok := p.(map[string]any); ok {
					if ref, ok := pm["$ref"].(string); ok {
						bases[strings.TrimPrefix(ref, "#/definitions/")] = true
					}
				}
			}
		}
		for _, e := range v {
			collectAllOfBases(e, bases)
		}
	case []any:
		for _, e := range v {
			collectAllOfBases(e, bases)
		}
	}
}

// convert turns a Swagger 2.0 schema into JSON Schema 2020-12 for mode m.
// Property names become lower case (instances are lower-cased too), so they
// match case-insensitively. lenient leaves an object open to properties it
// does not define, which a schema must be when another extends it by allOf.
func convert(v any, m mode, lenient bool) any {
	switch v := v.(type) {
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = convert(e, m, false)
		}
		return out
	case map[string]any:
		out := map[string]any{}
		readOnly := map[string]bool{}
		for k, e := range v {
			switch {
			case strings.HasPrefix(k, "x-"), k == "example", k == "discriminator", k == "format", k == "description":
				// Swagger-only or annotation keywords.
			case k == "$ref":
				out[k] = strings.Replace(e.(string), "#/definitions/", "#/$defs/", 1)
			case k == "type" && e == "file":
				// A binary body: nothing to check.
			case k == "pattern":
				if re, ok := goPattern(e.(string)); ok {
					out[k] = re
				}
			case k == "properties":
				props := map[string]any{}
				for name, p := range e.(map[string]any) {
					if name == "odata.context" {
						name = "@odata.context"
					}
					name = strings.ToLower(name)
					if pm, ok := p.(map[string]any); ok && pm["readOnly"] == true {
						readOnly[name] = true
					}
					props[name] = convert(p, m, false)
				}
				out[k] = props
			case k == "allOf" || k == "anyOf":
				parts := make([]any, 0, len(e.([]any)))
				for _, p := range e.([]any) {
					parts = append(parts, convert(p, m, true))
				}
				out[k] = parts
			case k == "enum" && m == requestMode:
				// The service reads enum values in requests without
				// regard to case ("full" for "Full", api-notes §2.2.2).
				out[k] = e
				if alts := enumAlternatives(e.([]any)); alts != "" {
					delete(out, k)
					out["pattern"] = "^(?i:" + alts + ")$"
				}
			case k == "additionalProperties" || k == "items":
				out[k] = convert(e, m, false)
			default:
				out[k] = e
			}
		}
		if props, ok := out["properties"].(map[string]any); ok && m != requestMode && props["@odata.context"] != nil && props["value"] != nil {
			// An OData list wrapper: the service always sends both
			// (api-notes §0.1), though the definition requires neither.
			req, _ := out["required"].([]any)
			out["required"] = append(req, "@odata.context", "value")
		}
		if req, ok := out["required"].([]any); ok {
			var names []any
			for _, n := range req {
				name := strings.ToLower(n.(string))
				// A response-only property is never required in a request.
				if !(m == requestMode && readOnly[name]) {
					names = append(names, name)
				}
			}
			out["required"] = names
			if len(names) == 0 {
				delete(out, "required")
			}
		}
		_, hasProps := out["properties"]
		_, hasAllOf := out["allOf"]
		_, hasAdditional := out["additionalProperties"]
		if m != responseMode && !lenient && (hasProps || hasAllOf) && !hasAdditional {
			out["unevaluatedProperties"] = false
		}
		return out
	default:
		return v
	}
}

// applyDeviations corrects the definition where the service is documented
// to depart from it:
//   - an enhanced refresh must leave out notifyOption, which the definition
//     marks required, and may send timeout ("hh:mm:ss"), which it lacks; the
//     docs' own example sends applyRefreshPolicy as the string "false"
//     (api-notes §2.2.2, from Learn's asynchronous-refresh.md, newer than the
//     swagger copy);
//   - refresh details report status InProgress and Cancelled besides the
//     four values listed (api-notes §2.2.4, from Learn);
//   - a workspace user may be named by emailAddress alone, as the
//     definition's own example for POST groups/{groupId}/users does
//     (api-notes §2.1);
//   - cancelling a dataflow transaction answers its status in PascalCase,
//     "SuccessfullyMarked" in the definition's own example for POST
//     groups/{groupId}/dataflows/transactions/{transactionId}/cancel, while
//     its enum is camelCase (api-notes §2.5).
func applyDeviations(defs map[string]any) {
	applyAuditDeviations(defs)
	applyAccessDeviations(defs)
	if txStatus, ok := defs["DataflowTransactionStatus"].(map[string]any); ok {
		if props, ok := txStatus["properties"].(map[string]any); ok {
			if status, ok := props["status"].(map[string]any); ok {
				status["enum"] = append(status["enum"].([]any), "Invalid", "SuccessfullyMarked", "AlreadyConcluded", "NotFound")
			}
		}
	}
	if detail, ok := defs["DatasetRefreshDetail"].(map[string]any); ok {
		if props, ok := detail["properties"].(map[string]any); ok {
			if status, ok := props["status"].(map[string]any); ok {
				status["enum"] = append(status["enum"].([]any), "InProgress", "Cancelled")
			}
		}
	}
	if user, ok := defs["User"].(map[string]any); ok {
		delete(user, "required")
		user["anyOf"] = []any{
			map[string]any{"required": []any{"principalType", "identifier"}},
			map[string]any{"required": []any{"emailAddress"}},
		}
	}
	// CreateOrUpdateProfileRequest requires an "id" it does not declare; its own examples
	// (Profiles_CreateProfile, Profiles_UpdateProfile) send only displayName.
	if profile, ok := defs["CreateOrUpdateProfileRequest"].(map[string]any); ok {
		profile["required"] = []any{"displayName"}
	}
	refresh, _ := defs["DatasetRefreshRequest"].(map[string]any)
	if refresh == nil {
		return
	}
	var required []any
	req, _ := refresh["required"].([]any)
	for _, n := range req {
		if n != "notifyOption" {
			required = append(required, n)
		}
	}
	refresh["required"] = required
	if props, ok := refresh["properties"].(map[string]any); ok {
		props["timeout"] = map[string]any{"type": "string", "pattern": `^([0-1]?[0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$`}
		props["applyRefreshPolicy"] = map[string]any{"anyOf": []any{
			map[string]any{"type": "boolean"},
			map[string]any{"type": "string", "enum": []any{"true", "false"}},
		}}
	}
}

// applyParameterDeviations corrects parameters the definition types wrongly,
// as its own examples show: a dataflow transaction id is not a GUID but
// "2020-09-11T19:21:52.8778432Z@9cc7a369-...$1374282" (example of
// Dataflows_CancelDataflowTransaction, api-notes §0.1 item 5), and
// processType of Dataflows_RefreshDataflow is the enum default|processFull,
// not a GUID (its example sends "default").
func applyParameterDeviations(op *Operation) {
	switch op.ID {
	case "Dataflows_CancelDataflowTransaction":
		p := op.path["transactionId"]
		p.format = ""
		op.path["transactionId"] = p
	case "Dataflows_RefreshDataflow":
		p := op.query["processType"]
		p.format = ""
		op.query["processType"] = p
	}
}

// Find returns the operation an exchange was for, or nil. A literal segment
// beats a parameter, so /datasets/upstreamDataflows is not taken for
// /datasets/{datasetId}.
func (c *Checker) Find(x Exchange) *Operation {
	method := strings.ToUpper(x.Method)
	var best *Operation
	bestScore := -1
	for _, op := range c.ops {
		if op.Method != method {
			continue
		}
		if score := op.match(x); score > bestScore {
			best, bestScore = op, score
		}
	}
	return best
}

// routeTemplate returns the path of a route pattern such as
// "GET /v1.0/myorg/groups/{groupId}", or "" for a pattern that is not an
// operation template (no method, or a subtree such as "/v1.0/myorg/").
func routeTemplate(route string) string {
	_, path, ok := strings.Cut(route, " ")
	if !ok || strings.HasSuffix(path, "/") {
		return ""
	}
	return path
}

// match scores how well op's template matches the exchange: -1 for no
// match, else the number of literal segments.
func (op *Operation) match(x Exchange) int {
	templated := routeTemplate(x.Route)
	path := x.Path
	if templated != "" {
		path = templated
	}
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if len(segs) != len(op.segments) {
		return -1
	}
	score := 0
	for i, s := range op.segments {
		param := strings.HasPrefix(s, "{")
		switch {
		case templated != "" && param != strings.HasPrefix(segs[i], "{"):
			return -1
		case param:
			if segs[i] == "" {
				return -1
			}
		case strings.EqualFold(s, segs[i]), embeddedParam(s, segs[i]):
			score++
		default:
			return -1
		}
	}
	return score
}

// embeddedParam reports whether seg fills a template segment that has a parameter inside
// literal text, such as availableFeatures(featureName='{featureName}').
func embeddedParam(tmpl, seg string) bool {
	before, rest, ok := strings.Cut(tmpl, "{")
	if !ok || before == "" {
		return false
	}
	_, after, ok := strings.Cut(rest, "}")
	return ok && len(seg) > len(before)+len(after) && strings.HasPrefix(seg, before) && strings.HasSuffix(seg, after)
}

// Check returns the operation x was for ("" when none) and what in x departs
// from the definition. Requests are held to the definition only when the
// server accepted them (2xx): tests send bad requests on purpose to see them
// refused. A response is checked against the schema declared for its
// status, when there is one.
func (c *Checker) Check(x Exchange) (opID string, problems []string) {
	op := c.Find(x)
	if op == nil {
		where := x.Path
		if t := routeTemplate(x.Route); t != "" {
			where = t
		}
		if c.pathKnown(x) {
			return "", []string{fmt.Sprintf("%s %s: the definition has no %s operation on this path", x.Method, where, x.Method)}
		}
		if x.Status >= 200 && x.Status < 300 {
			return "", []string{fmt.Sprintf("%s %s: answered %d but the definition has no such path", x.Method, where, x.Status)}
		}
		return "", nil // an unknown path answered as unknown
	}
	success := x.Status >= 200 && x.Status < 300
	add := func(format string, args ...any) {
		problems = append(problems, op.ID+": "+fmt.Sprintf(format, args...))
	}
	if success {
		q, err := url.ParseQuery(x.RawQuery)
		if err != nil {
			add("query %q: %v", x.RawQuery, err)
		}
		for name, p := range op.query {
			if p.required && !q.Has(name) {
				add("required query parameter %s missing", name)
			}
		}
		for name, values := range q {
			p, ok := op.query[name]
			if !ok {
				add("query parameter %s is not defined", name)
				continue
			}
			for _, v := range values {
				if why := p.check(v); why != "" {
					add("query parameter %s=%q: %s", name, v, why)
				}
			}
		}
		// Path parameters: the recorded path is decoded, so only a path
		// with as many segments as the template can be read.
		if segs := strings.Split(strings.TrimPrefix(x.Path, "/"), "/"); len(segs) == len(op.segments) {
			for i, s := range op.segments {
				name := strings.Trim(s, "{}")
				if p, ok := op.path[name]; ok && name != s {
					if why := p.check(segs[i]); why != "" {
						add("path parameter %s=%q: %s", name, segs[i], why)
					}
				}
			}
		}
		switch {
		case op.multipart && bytes.HasPrefix(x.Body, []byte("--")):
			// A file upload: multipart framing, not the JSON body schema.
			if !bytes.Contains(x.Body, []byte("\r\nContent-Disposition: form-data")) {
				add("multipart request body without a form-data part: %.200q", x.Body)
			}
		case op.hasBody && len(bytes.TrimSpace(x.Body)) > 0:
			if msg := c.validate(requestMode, "op."+op.ID+".request", x.Body); msg != "" {
				add("request body: %s", msg)
			}
		case op.bodyReq:
			add("request body missing")
		case !op.hasBody && len(bytes.TrimSpace(x.Body)) > 0:
			add("request body sent but the operation takes none: %.200s", x.Body)
		}
	}
	declaredBody, declared := op.responses[x.Status]
	switch {
	case success && !declared:
		add("status %d is not a declared response (declared: %v)", x.Status, op.statuses())
	case declared && declaredBody == jsonBody:
		if msg := c.validate(responseMode, "op."+op.ID+".response."+strconv.Itoa(x.Status), x.ResponseBody); msg != "" {
			add("%d response body: %s", x.Status, msg)
		}
	case declared && declaredBody == noBody && len(bytes.TrimSpace(x.ResponseBody)) > 0:
		add("%d response has a body but the definition declares none: %.200s", x.Status, x.ResponseBody)
	}
	return op.ID, problems
}

// Undocumented lists the fields of x's response body that the definition
// does not list for the operation and status, as "operationId: path" with
// array indexes written "*". The service sends such fields too (api-notes
// §0.1), so they are allowed; the list helps to review a fake's answers.
func (c *Checker) Undocumented(x Exchange) []string {
	op := c.Find(x)
	if op == nil || op.responses[x.Status] != jsonBody {
		return nil
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(x.ResponseBody))
	if err != nil {
		return nil
	}
	sch, err := c.schema(documentedMode, "op."+op.ID+".response."+strconv.Itoa(x.Status))
	if err != nil {
		return nil
	}
	var out []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if _, ok := e.ErrorKind.(*kind.FalseSchema); ok {
			loc := make([]string, len(e.InstanceLocation))
			for i, p := range e.InstanceLocation {
				if _, err := strconv.Atoi(p); err == nil {
					p = "*"
				}
				loc[i] = p
			}
			out = append(out, op.ID+": /"+strings.Join(loc, "/"))
		}
		for _, cause := range e.Causes {
			walk(cause)
		}
	}
	var verr *jsonschema.ValidationError
	if errors.As(sch.Validate(lowerKeys(inst)), &verr) {
		walk(verr)
	}
	sort.Strings(out)
	return slices.Compact(out)
}

func (c *Checker) pathKnown(x Exchange) bool {
	for _, op := range c.ops {
		if op.match(x) >= 0 {
			return true
		}
	}
	return false
}

func (op *Operation) statuses() []int {
	var out []int
	for code := range op.responses {
		out = append(out, code)
	}
	sort.Ints(out)
	return out
}

// validate checks body against the named schema and returns "" or why not.
func (c *Checker) validate(m mode, name string, body []byte) string {
	if len(bytes.TrimSpace(body)) == 0 {
		return "empty, a JSON body is declared"
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		if len(body) >= MaxBody {
			return "" // cut short by the recorder
		}
		return fmt.Sprintf("not JSON: %v", err)
	}
	sch, err := c.schema(m, name)
	if err != nil {
		return err.Error()
	}
	if err := sch.Validate(lowerKeys(inst)); err != nil {
		return strings.ReplaceAll(err.Error(), "\n", "; ") + " in " + abbreviate(body)
	}
	return ""
}

func (c *Checker) schema(m mode, name string) (*jsonschema.Schema, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := string(m) + "#" + name
	if s, ok := c.schemas[key]; ok {
		return s, nil
	}
	s, err := c.compiler[m].Compile(resourceURL(m) + "#/$defs/" + name)
	if err != nil {
		return nil, fmt.Errorf("compiling %s: %w", name, err)
	}
	c.schemas[key] = s
	return s, nil
}

// enumAlternatives returns the values of an enum of strings as a regular
// expression alternation, or "" when a value is not a string.
func enumAlternatives(values []any) string {
	alts := make([]string, 0, len(values))
	for _, v := range values {
		s, ok := v.(string)
		if !ok {
			return ""
		}
		alts = append(alts, regexp.QuoteMeta(s))
	}
	return strings.Join(alts, "|")
}

// dotnetEscape is a .NET regular expression escape \uXXXX.
var dotnetEscape = regexp.MustCompile(`\\u([0-9A-Fa-f]{4})`)

// goPattern rewrites a .NET pattern for Go's regexp; ok is false when Go
// cannot compile it, and the pattern is then not checked.
func goPattern(p string) (string, bool) {
	p = dotnetEscape.ReplaceAllString(p, `\x{$1}`)
	_, err := regexp.Compile(p)
	return p, err == nil
}

// lowerKeys lower-cases every object key, to match the converted schemas.
func lowerKeys(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[strings.ToLower(k)] = lowerKeys(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = lowerKeys(e)
		}
		return out
	default:
		return v
	}
}

func abbreviate(body []byte) string {
	var buf bytes.Buffer
	if json.Compact(&buf, body) != nil {
		buf.Reset()
		buf.Write(body)
	}
	if buf.Len() > 300 {
		return buf.String()[:300] + "…"
	}
	return buf.String()
}

// Distinct names the operation once for its My-workspace and workspace variants: its method and
// path template without the /groups/{groupId} segment. Power BI's REST API counts 223 distinct
// operations this way.
func (op *Operation) Distinct() string {
	return op.Method + " " + strings.Replace(op.Template, "/groups/{groupId}", "", 1)
}

// IsFabric reports whether the operation is one of Fabric's (FabricOperations) rather than
// Power BI's.
func (op *Operation) IsFabric() bool { return strings.HasPrefix(op.Template, fabricPrefix) }

// IsPreview reports whether the operation is one of the preview operations the published
// definition does not hold yet (PreviewOperations, preview.go).
func (op *Operation) IsPreview() bool { return strings.HasSuffix(op.ID, "_Preview") }
