package tools

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
)

func listPrompts(t *testing.T, st *stack) map[string]mcp.Prompt {
	t.Helper()
	res, err := st.client.ListPrompts(context.Background(), mcp.ListPromptsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]mcp.Prompt{}
	for _, p := range res.Prompts {
		out[p.Name] = p
	}
	return out
}

// getPrompt renders a prompt and returns its one user message.
func getPrompt(t *testing.T, st *stack, name string, args map[string]string) string {
	t.Helper()
	res, err := st.client.GetPrompt(context.Background(), mcp.GetPromptRequest{Params: mcp.GetPromptParams{Name: name, Arguments: args}})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(res.Messages) != 1 || res.Messages[0].Role != mcp.RoleUser {
		t.Fatalf("%s: messages %+v, want one user message", name, res.Messages)
	}
	tc, ok := res.Messages[0].Content.(mcp.TextContent)
	if !ok {
		t.Fatalf("%s: content %T", name, res.Messages[0].Content)
	}
	return tc.Text
}

func promptFails(t *testing.T, st *stack, name string, args map[string]string) string {
	t.Helper()
	_, err := st.client.GetPrompt(context.Background(), mcp.GetPromptRequest{Params: mcp.GetPromptParams{Name: name, Arguments: args}})
	if err == nil {
		t.Fatalf("%s(%v) rendered, want an error", name, args)
	}
	// Invalid params, not an internal error: the request was what was wrong.
	if !errors.Is(err, mcp.ErrInvalidParams) {
		t.Errorf("%s(%v): %v is not invalid params", name, args, err)
	}
	return err.Error()
}

func TestPromptsList(t *testing.T) {
	st := newStack(t, stackOptions{tools: Options{Toolsets: []string{"default"}}})
	prompts := listPrompts(t, st)
	for _, name := range []string{"explore_semantic_model", "diagnose_refresh_failure", "tenant_inventory", "export_report"} {
		if _, ok := prompts[name]; !ok {
			t.Errorf("prompts/list lacks %s: %v", name, prompts)
		}
	}
	explore := prompts["explore_semantic_model"]
	if strings.HasPrefix(explore.Description, "Not available") || len(explore.Arguments) != 2 ||
		explore.Arguments[1].Name != "dataset" || !explore.Arguments[1].Required || explore.Arguments[0].Required {
		t.Errorf("explore_semantic_model %+v", explore)
	}
	// The admin toolset is off by default: the inventory says how to turn it on.
	if d := prompts["tenant_inventory"].Description; !strings.HasPrefix(d, "Not available here") || !strings.Contains(d, "--toolsets default,admin") {
		t.Errorf("tenant_inventory on default toolsets: %q", d)
	}
	if msg := promptFails(t, st, "tenant_inventory", nil); !strings.Contains(msg, "admin_list_workspaces") || !strings.Contains(msg, "--toolsets default,admin") {
		t.Errorf("tenant_inventory without admin: %s", msg)
	}

	st = newStack(t, stackOptions{tools: Options{Toolsets: []string{"default", "admin"}}})
	for name, p := range listPrompts(t, st) {
		if strings.HasPrefix(p.Description, "Not available") {
			t.Errorf("%s: %s", name, p.Description)
		}
	}
	inventory := getPrompt(t, st, "tenant_inventory", map[string]string{"focus": "refresh failures"})
	if !strings.Contains(inventory, "Look most closely at: refresh failures.") || !inOrder(inventory, "admin_list_workspaces", "admin_list_datasets", "admin_get_activity_events") {
		t.Errorf("tenant_inventory:\n%s", inventory)
	}
}

// inOrder reports whether each of words appears in s after the one before it.
func inOrder(s string, words ...string) bool {
	at := 0
	for _, w := range words {
		i := strings.Index(s[at:], w)
		if i < 0 {
			return false
		}
		at += i + len(w)
	}
	return true
}

func TestPromptRendersItsArguments(t *testing.T) {
	st := newStack(t, stackOptions{tools: Options{Toolsets: []string{"default"}}})
	msg := getPrompt(t, st, "diagnose_refresh_failure", map[string]string{"workspace": "Marketing", "dataset": "Web Traffic"})
	if !strings.Contains(msg, `"Web Traffic" in the workspace "Marketing"`) ||
		!inOrder(msg, "get_refresh_history", "get_refresh_details", "list_datasources", "get_refresh_schedule") {
		t.Errorf("diagnose_refresh_failure:\n%s", msg)
	}
	// A step whose tool is not offered (the gateways toolset is off) is left out.
	if strings.Contains(msg, "get_gateway_datasource_status") {
		t.Errorf("names a tool the server does not offer:\n%s", msg)
	}
	msg = getPrompt(t, st, "explore_semantic_model", map[string]string{"dataset": "Personal Budget"})
	if !strings.Contains(msg, `"Personal Budget" in My workspace`) || !inOrder(msg, "get_dataset", "get_dataset_schema", "execute_dax_query") {
		t.Errorf("explore_semantic_model:\n%s", msg)
	}
	msg = getPrompt(t, st, "export_report", map[string]string{"workspace": "Sales Analytics", "report": "Sales Overview", "format": "pptx"})
	if !strings.Contains(msg, `"Sales Overview" in the workspace "Sales Analytics" to PPTX`) || !strings.Contains(msg, "export_report with format PPTX") {
		t.Errorf("export_report:\n%s", msg)
	}

	st = newStack(t, stackOptions{}) // every toolset
	msg = getPrompt(t, st, "diagnose_refresh_failure", map[string]string{"workspace": "Finance", "dataset": "Forecast"})
	if !inOrder(msg, "list_datasources", "get_gateway_datasource_status", "get_refresh_schedule") {
		t.Errorf("with the gateways toolset:\n%s", msg)
	}
}

func TestPromptArgumentErrors(t *testing.T) {
	st := newStack(t, stackOptions{tools: Options{Toolsets: []string{"default"}}})
	for _, c := range []struct {
		name string
		args map[string]string
		want []string
	}{
		{"explore_semantic_model", map[string]string{"workspace": "Sales Analytics"}, []string{`needs the argument "dataset"`, "Semantic model (dataset) name or id"}},
		{"diagnose_refresh_failure", map[string]string{"dataset": "  "}, []string{`needs the argument "dataset"`}},
		{"export_report", map[string]string{"report": "Sales Overview"}, []string{`needs the argument "format"`, "PDF, PPTX, PNG"}},
		{"export_report", map[string]string{"report": "Sales Overview", "format": "gif"}, []string{`"format" is "gif"`, "PDF, PPTX, PNG"}},
		{"explore_semantic_model", map[string]string{"dataset": "Sales", "model": "Sales"}, []string{`no argument "model"`, "workspace, dataset"}},
	} {
		msg := promptFails(t, st, c.name, c.args)
		for _, w := range c.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s(%v): %q lacks %q", c.name, c.args, msg, w)
			}
		}
	}
}

// Every snake_case name a prompt shows is a tool, one of its arguments, or a prompt argument,
// and the tools a prompt needs belong to the toolsets it names: a renamed tool fails here.
func TestPromptsNameRealTools(t *testing.T) {
	known := map[string]bool{}
	toolsetOf := map[string]string{}
	for _, tool := range All(Deps{}) {
		known[tool.Definition.Name] = true
		toolsetOf[tool.Definition.Name] = tool.Toolset
		in, err := parseInputSchema(tool.Definition)
		if err != nil {
			t.Fatal(err)
		}
		for arg := range in.Properties {
			known[arg] = true
		}
	}
	all := func(string) bool { return true }
	snake := regexp.MustCompile(`\b[a-z]+(?:_[a-z]+)+\b`)
	for _, r := range recipes {
		for _, need := range r.needs {
			if !slices.Contains(r.toolsets, toolsetOf[need]) {
				t.Errorf("%s needs %s of toolset %q, not among %v", r.name, need, toolsetOf[need], r.toolsets)
			}
		}
		args := map[string]string{}
		for _, a := range r.args {
			args[a.name] = "X"
			known[a.name] = true
		}
		for _, w := range snake.FindAllString(r.steps(args, all), -1) {
			if !known[w] {
				t.Errorf("%s names %q, which is no tool or argument", r.name, w)
			}
		}
	}
}
