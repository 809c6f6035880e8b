package tools

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/rs/zerolog"
)

// fuzzTools are the tools FuzzToolArguments calls. Between them they take every kind of
// argument the tools declare: strings with lengths and patterns, integers with ranges, enums,
// booleans and optional (pointer) values, arrays of strings and of objects, and free-form
// objects. bind is handle, the binding every tool uses, around a function that returns the
// arguments it was given.
var fuzzTools = []struct {
	name string
	bind server.ToolHandlerFunc
}{
	{"list_workspaces", echoArgs[listWorkspacesArgs]()},
	{"execute_dax_query", echoArgs[daxQueryArgs]()},
	{"refresh_dataset", echoArgs[refreshArgs]()},
	{"update_refresh_schedule", echoArgs[updateScheduleArgs]()},
	{"add_rows", echoArgs[addRowsArgs]()},
	{"generate_embed_token", echoArgs[generateEmbedTokenArgs]()},
}

// maxRefusal bounds the text of a refused call: room for a few broken rules with their
// locations, in one line.
const maxRefusal = 2048

func echoArgs[A any]() server.ToolHandlerFunc {
	return handle("bind the arguments", math.MaxInt32, func(_ context.Context, _ mcp.CallToolRequest, a A) (A, error) { return a, nil })
}

// FuzzToolArguments sends arbitrary JSON as a tool's arguments through what a call meets
// before its handler runs: the request decoded as the server decodes it off the wire, then
// wrap (the validator compiled from the tool's input schema) and handle (the typed binding).
// Nothing may panic, and what the validator accepts must bind, every argument arriving in the
// args struct with the value given: otherwise the model gets an error for a call its schema
// allows, or an argument is silently lost.
func FuzzToolArguments(f *testing.F) {
	defs := map[string]mcp.Tool{}
	for _, t := range All(Deps{}) {
		defs[t.Definition.Name] = t.Definition
	}
	handlers := make([]server.ToolHandlerFunc, len(fuzzTools))
	for i, ft := range fuzzTools {
		def, ok := defs[ft.name]
		if !ok {
			f.Fatalf("no tool %s", ft.name)
		}
		handlers[i] = wrap(Tool{Definition: def, Handler: ft.bind}, zerolog.Nop(), DefaultCallTimeout, nil)
	}
	const guid = "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d"
	seeds := []struct {
		tool uint8
		args string
	}{
		{0, `{}`},
		{0, `{"filter":"contains(name,'Sales')","top":10,"skip":20}`},
		{0, `{"top":0}`},
		{0, `{"top":1001,"unknown":true}`},
		{1, `{"workspace":"Sales","dataset":"Sales","query":"EVALUATE Sales","max_rows":100,"impersonated_user_name":"ann@contoso.com"}`},
		{1, `{"dataset":"` + guid + `","query":""}`},
		{2, `{"dataset":"Sales","notify_option":"MailOnFailure","wait":true,"timeout_seconds":60}`},
		{2, `{"dataset":"Sales","type":"Full","commit_mode":"PartialBatch","objects":[{"table":"Sales","partition":"2024"},{"table":"Date"}],"max_parallelism":4,"retry_count":0,"apply_refresh_policy":false,"effective_date":"2025-06-30T00:00:00Z"}`},
		{3, `{"dataset":"Sales","days":["Monday","Friday"],"times":["07:00","19:30"],"local_time_zone_id":"UTC","enabled":true,"notify_option":"NoNotification"}`},
		{3, `{"dataset":"Sales","days":["Monday","Monday"]}`},
		{4, `{"dataset":"Pushed","table":"Orders","rows":[{"ID":1,"Name":"Road Bike","Price":1.5,"Shipped":null,"Tags":["a"]}],"start_row":1}`},
		{4, `{"dataset":"Pushed","table":"Orders","file":"orders.csv","file_format":"csv"}`},
		{5, `{"workspace":"Sales","reports":[{"report":"Sales"}],"datasets":[{"dataset":"Sales","xmla_permissions":"ReadOnly"}],"identities":[{"username":"ann@contoso.com","roles":["Region"],"datasets":["` + guid + `"],"custom_data":"x"}],"lifetime_in_minutes":30}`},
		{5, `[]`},
		{5, `null`},
	}
	for _, s := range seeds {
		f.Add(s.tool, []byte(s.args))
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, tool uint8, args []byte) {
		i := int(tool) % len(fuzzTools)
		ft := fuzzTools[i]
		if !json.Valid(args) {
			return // not JSON: the protocol layer answers a parse error before any tool sees it
		}
		var params mcp.CallToolParams
		wire := append(append([]byte(`{"name":"`+ft.name+`","arguments":`), args...), '}')
		if err := json.Unmarshal(wire, &params); err != nil {
			return
		}
		req := mcp.CallToolRequest{Params: params}
		res, err := handlers[i](ctx, req)
		if err != nil {
			t.Fatalf("%s(%s): %v", ft.name, args, err)
		}
		if res.IsError {
			msg := firstText(res)
			if !strings.HasPrefix(msg, "Invalid arguments for "+ft.name+": ") {
				t.Fatalf("%s: the validator accepted %s, and binding failed: %s", ft.name, args, msg)
			}
			// Refused, with what to fix: the rules broken, not the arguments sent back.
			if len(msg) > maxRefusal || strings.ContainsAny(msg, "\r\n") {
				t.Fatalf("%s: refusal of %d bytes for %d bytes of arguments: %.300q", ft.name, len(msg), len(args), msg)
			}
			return
		}
		b, err := json.Marshal(res.StructuredContent)
		if err != nil {
			t.Fatal(err)
		}
		var bound map[string]any
		if err := json.Unmarshal(b, &bound); err != nil {
			t.Fatal(err)
		}
		for k, v := range req.GetArguments() {
			if !sameArgument(v, bound[k]) {
				t.Fatalf("%s: argument %s of %s was bound as %v", ft.name, k, args, bound[k])
			}
		}
	})
}

// sameArgument reports whether got, a field of the bound arguments re-encoded as JSON, holds
// the argument value arg. Fields the args struct leaves out when empty may be missing.
func sameArgument(arg, got any) bool {
	switch a := arg.(type) {
	case map[string]any:
		g, _ := got.(map[string]any)
		if got != nil && g == nil {
			return false
		}
		for k, v := range a {
			if !sameArgument(v, g[k]) {
				return false
			}
		}
		return true
	case []any:
		g, _ := got.([]any)
		if len(g) != len(a) {
			return false
		}
		for j := range a {
			if !sameArgument(a[j], g[j]) {
				return false
			}
		}
		return true
	case nil:
		return got == nil
	default:
		if got == nil {
			return arg == "" || arg == 0.0 || arg == false
		}
		return arg == got
	}
}

// What FuzzToolArguments found, as an agent meets it: arguments written as JSON allows reach
// the tool as its schema reads them, and arguments that are not an object are refused with
// what to fix rather than a decoding error.
func TestArgumentsBindAsTheSchemaReadsThem(t *testing.T) {
	s := newStack(t, stackOptions{})
	call := func(args string) *mcp.CallToolResult {
		t.Helper()
		res, err := s.client.CallTool(context.Background(), mcp.CallToolRequest{Params: mcp.CallToolParams{
			Name: "list_workspaces", Arguments: json.RawMessage(args)}})
		if err != nil {
			t.Fatalf("%s: protocol error: %v", args, err)
		}
		return res
	}

	res := call(`{"top":1e0,"skip":0.0}`)
	if res.IsError {
		t.Fatalf("top 1e0: %s", text(res))
	}
	var page ListWorkspacesResult
	b, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(b, &page); err != nil {
		t.Fatal(err)
	}
	if page.Count != 1 || !page.HasMore || page.NextSkip != 1 {
		t.Fatalf("top 1e0 gave %+v, want one workspace and more to come", page.Page)
	}

	for _, args := range []string{`[]`, `0`, `"top"`} {
		res := call(args)
		if msg := text(res); !res.IsError || !strings.Contains(msg, "must be an object of named arguments") || strings.Contains(msg, "unmarshal") {
			t.Errorf("arguments %s: %v %s", args, res.IsError, msg)
		}
	}
}

// What FuzzToolArguments found about refusals, as an agent meets them: a refusal names the
// first few broken rules and counts the rest, and does not send a long value back.
func TestRefusalNamesTheRulesNotTheArguments(t *testing.T) {
	s := newStack(t, stackOptions{})
	rows := make([]any, 300)
	for i := range rows {
		rows[i] = i
	}
	msg := s.fails(t, "add_rows", map[string]any{"dataset": "Sales", "table": "Sales", "rows": rows})
	if !strings.Contains(msg, "/rows/0: got number, want object;") || !strings.Contains(msg, "and 295 more") || len(msg) > maxRefusal {
		t.Errorf("300 rows that are not objects: %d bytes: %s", len(msg), msg)
	}
	msg = s.fails(t, "refresh_dataset", map[string]any{"dataset": "Sales", "effective_date": strings.Repeat("2025-06-30", 1000)})
	if !strings.Contains(msg, "/effective_date: ") || len(msg) > maxRefusal {
		t.Errorf("a 10,000-byte effective_date: %d bytes: %.300s", len(msg), msg)
	}
}
