package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/rs/zerolog"

	"github.com/powerbi-mcp/powerbi-mcp/tools"
)

// selectionServer serves the streamable HTTP transport on the sandbox with cfg's flags.
func selectionServer(t *testing.T, cfg config) string {
	t.Helper()
	cfg.Transport = "http"
	ts := httptest.NewServer(sandboxHandler(t, cfg))
	t.Cleanup(ts.Close)
	return ts.URL
}

// connectTo starts and initializes a client of url with the given headers, and returns it
// with the instructions the server gave it.
func connectTo(t *testing.T, url string, header map[string]string) (*client.Client, string) {
	t.Helper()
	c, err := client.NewStreamableHttpClient(url, transport.WithHTTPHeaders(header))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	var init mcp.InitializeRequest
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "selection-test", Version: "0"}
	res, err := c.Initialize(context.Background(), init)
	if err != nil {
		t.Fatal(err)
	}
	return c, res.Instructions
}

// refusedCall calls name and returns the error the server refused it with.
func refusedCall(t *testing.T, c *client.Client, name string, args map[string]any) string {
	t.Helper()
	res, err := c.CallTool(context.Background(), mcp.CallToolRequest{Params: mcp.CallToolParams{Name: name, Arguments: args}})
	if err == nil {
		t.Fatalf("%s was run: %s", name, resultText(res))
	}
	return err.Error()
}

func wantTools(t *testing.T, c *client.Client, opts tools.Options) {
	t.Helper()
	if got, want := toolNames(t, c), registryTools(opts); got != want {
		t.Errorf("tools:\n got %s\nwant %s", got, want)
	}
}

func TestSelectionHeadersNarrowTheTools(t *testing.T) {
	url := selectionServer(t, config{Toolsets: []string{"default", "workspace_admin"}}) + "/mcp"

	c, instructions := connectTo(t, url, map[string]string{"X-MCP-Toolsets": "dax, reports"})
	wantTools(t, c, tools.Options{Toolsets: []string{"dax", "reports"}})
	if !strings.Contains(instructions, "- dax:") || strings.Contains(instructions, "Toolsets on:\n- workspaces") {
		t.Errorf("instructions do not describe the toolsets of this connection:\n%s", instructions)
	}
	if !strings.Contains(instructions, "workspaces: find workspaces and see who has access to them; left out by this client's X-MCP-Toolsets") {
		t.Errorf("instructions do not say what the header left out:\n%s", instructions)
	}
	if msg := refusedCall(t, c, "list_workspaces", nil); !strings.Contains(msg, "X-MCP-Toolsets: dax,reports,workspaces") {
		t.Errorf("refusal does not say what to change: %s", msg)
	}

	// A single tool, alone or on top of toolsets.
	c, _ = connectTo(t, url, map[string]string{"X-MCP-Tools": "list_workspaces,execute_dax_query"})
	wantTools(t, c, tools.Options{Tools: []string{"list_workspaces", "execute_dax_query"}})
	if res := callTool(t, c, "list_workspaces", nil); res.IsError || !strings.Contains(resultText(res), "Sales Analytics") {
		t.Errorf("list_workspaces: %s", resultText(res))
	}
	c, _ = connectTo(t, url, map[string]string{"X-MCP-Toolsets": "dax", "X-MCP-Tools": "list_workspaces"})
	wantTools(t, c, tools.Options{Toolsets: []string{"dax"}, Tools: []string{"list_workspaces"}})

	// Read-only: the tools that change nothing, and a call of another is not run.
	c, instructions = connectTo(t, url, map[string]string{"X-MCP-Readonly": "true"})
	wantTools(t, c, tools.Options{Toolsets: []string{"default", "workspace_admin"}, ReadOnly: true})
	if !strings.Contains(instructions, "This connection asked for read-only tools") {
		t.Errorf("instructions do not say the connection is read-only:\n%s", instructions)
	}
	msg := refusedCall(t, c, "create_workspace", map[string]any{"name": "Made Anyway"})
	if !strings.Contains(msg, "read-only") || !strings.Contains(msg, "X-MCP-Readonly") {
		t.Errorf("refusal: %s", msg)
	}
	c, _ = connectTo(t, url, nil)
	if res := callTool(t, c, "list_workspaces", nil); strings.Contains(resultText(res), "Made Anyway") {
		t.Errorf("the refused call created the workspace: %s", resultText(res))
	}
	wantTools(t, c, tools.Options{Toolsets: []string{"default", "workspace_admin"}})
}

func TestSelectionCannotWidenTheServer(t *testing.T) {
	url := selectionServer(t, config{Toolsets: []string{"dax"}, ReadOnly: true}) + "/mcp"

	// "all" is all the server offers; a toolset or tool it does not offer is simply not there.
	c, _ := connectTo(t, url, map[string]string{"X-MCP-Toolsets": "all", "X-MCP-Readonly": "false"})
	wantTools(t, c, tools.Options{Toolsets: []string{"dax"}, ReadOnly: true})
	c, _ = connectTo(t, url, map[string]string{"X-MCP-Toolsets": "dax,admin", "X-MCP-Tools": "create_workspace"})
	wantTools(t, c, tools.Options{Toolsets: []string{"dax"}, ReadOnly: true})
	if msg := refusedCall(t, c, "admin_list_workspaces", nil); !strings.Contains(msg, "this server was not started with") {
		t.Errorf("refusal of a tool the server does not offer: %s", msg)
	}
	c, _ = connectTo(t, strings.Replace(url, "/mcp", "/mcp/x/all", 1), nil)
	wantTools(t, c, tools.Options{Toolsets: []string{"dax"}, ReadOnly: true})
}

func TestSelectionURLForms(t *testing.T) {
	base := selectionServer(t, config{Toolsets: []string{"all"}})

	c, instructions := connectTo(t, base+"/mcp/x/dax,reports", nil)
	wantTools(t, c, tools.Options{Toolsets: []string{"dax", "reports"}})
	if !strings.Contains(instructions, "left out by the URL this client connected to") {
		t.Errorf("instructions:\n%s", instructions)
	}
	if msg := refusedCall(t, c, "list_workspaces", nil); !strings.Contains(msg, "connect to /mcp/x/dax,reports,workspaces instead") {
		t.Errorf("refusal: %s", msg)
	}

	c, _ = connectTo(t, base+"/mcp/x/workspace_admin/readonly", nil)
	wantTools(t, c, tools.Options{Toolsets: []string{"workspace_admin"}, ReadOnly: true})
	if msg := refusedCall(t, c, "create_workspace", map[string]any{"name": "x"}); !strings.Contains(msg, "without /readonly") {
		t.Errorf("refusal: %s", msg)
	}

	for _, tc := range []struct {
		path   string
		header map[string]string
		status int
		says   string
	}{
		{"/mcp/x/dax,reprots", nil, http.StatusBadRequest, `the URL /mcp/x/dax,reprots: unknown toolset "reprots"; valid toolsets: all, default, workspaces,`},
		{"/mcp/x/,", nil, http.StatusBadRequest, "names no toolset"},
		{"/mcp/x/dax/readwrite", nil, http.StatusNotFound, "/mcp/x/{toolsets}/readonly"},
		{"/mcp/x/dax", map[string]string{"X-MCP-Toolsets": "reports"}, http.StatusBadRequest, "use one of them"},
		{"/mcp", map[string]string{"X-MCP-Toolsets": "daxx"}, http.StatusBadRequest, `X-MCP-Toolsets: unknown toolset "daxx"`},
		{"/mcp", map[string]string{"X-MCP-Tools": "list_workspace"}, http.StatusBadRequest, `X-MCP-Tools: unknown tool "list_workspace"; did you mean list_workspaces`},
		{"/mcp/x/dax", map[string]string{"X-MCP-Tools": "nope"}, http.StatusBadRequest, `X-MCP-Tools: unknown tool "nope"`},
		{"/mcp", map[string]string{"X-MCP-Readonly": "maybe"}, http.StatusBadRequest, "want true or false"},
	} {
		status, body := post(t, base+tc.path, tc.header, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
		if status != tc.status || !strings.Contains(body, tc.says) {
			t.Errorf("%s %v: %d %q, want %d saying %q", tc.path, tc.header, status, body, tc.status, tc.says)
		}
	}
}

func TestAdminRoleFlag(t *testing.T) {
	entra := []string{"--sandbox", "--transport", "http", "--http-auth", "entra"}
	publicURL := map[string]string{"PBI_MCP_PUBLIC_URL": "http://127.0.0.1:8080/mcp"}
	cfg, err := parseConfig(entra, env(map[string]string{"PBI_MCP_ADMIN_ROLE": "PowerBI.Admin", "PBI_MCP_PUBLIC_URL": publicURL["PBI_MCP_PUBLIC_URL"]}), io.Discard)
	if err != nil || cfg.AdminRole != "PowerBI.Admin" {
		t.Fatalf("%v %+v", err, cfg.AdminRole)
	}
	if _, err := parseConfig(append(entra, "--admin-role", "Power BI Admin"), env(publicURL), io.Discard); err == nil || !strings.Contains(err.Error(), `--admin-role "Power BI Admin"`) {
		t.Errorf("an app role value with spaces: %v", err)
	}
	// Without Entra callers no request carries roles: the gate would let everyone through.
	_, err = parseConfig(nil, env(map[string]string{"PBI_MCP_ADMIN_ROLE": "PowerBI.Admin"}), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "PBI_MCP_ADMIN_ROLE=PowerBI.Admin needs --http-auth entra") {
		t.Errorf("--admin-role on stdio: %v", err)
	}
}

// post sends body to url with the headers and returns the status and body of the answer.
func post(t *testing.T, url string, header map[string]string, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestSelectionHeadersOnSSE: the SSE transport's clients send the headers with each message.
func TestSelectionHeadersOnSSE(t *testing.T) {
	ts := httptest.NewServer(sandboxHandler(t, config{Transport: "sse", Toolsets: []string{"default"}}))
	t.Cleanup(ts.Close)
	c, err := client.NewSSEMCPClient(ts.URL+"/sse", transport.WithHeaders(map[string]string{"X-MCP-Toolsets": "dax", "X-MCP-Readonly": "1"}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	initialize(t, c)
	wantTools(t, c, tools.Options{Toolsets: []string{"dax"}, ReadOnly: true})
	if msg := refusedCall(t, c, "list_workspaces", nil); !strings.Contains(msg, "X-MCP-Toolsets: dax,workspaces") {
		t.Errorf("refusal: %s", msg)
	}
}

// TestSelectionInstructionsInBothEras: a legacy client reads the instructions from initialize,
// one of MCP 2026-07-28 from server/discover; both describe the toolsets the request gets.
func TestSelectionInstructionsInBothEras(t *testing.T) {
	url := selectionServer(t, config{Toolsets: []string{"default"}}) + "/mcp/x/dax"
	_, legacy := post(t, url, nil, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}`)
	c, modern := connectTo(t, url, nil) // the client's default, MCP 2026-07-28
	wantTools(t, c, tools.Options{Toolsets: []string{"dax"}})
	for era, text := range map[string]string{"legacy": legacy, "modern": modern} {
		if !strings.Contains(text, `Toolsets on:\n- dax:`) && !strings.Contains(text, "Toolsets on:\n- dax:") {
			t.Errorf("%s instructions do not put dax alone on:\n%s", era, text)
		}
		if !strings.Contains(text, "left out by the URL") {
			t.Errorf("%s instructions do not say what the URL left out:\n%s", era, text)
		}
	}
}

// BenchmarkToolsListPerRequest measures tools/list over streamable HTTP with every toolset on,
// as a team server runs, without a selection and with one: what per-request selection and the
// binding of cancellations cost each request.
func BenchmarkToolsListPerRequest(b *testing.B) {
	cfg := config{Transport: "http", Sandbox: true, ExportDir: b.TempDir(), Toolsets: []string{"all"}}
	be, err := connect(cfg, env(nil), zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	defer be.close()
	s, err := newServer(cfg, be, zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	h := httpHandler(cfg, s, zerolog.Nop())
	for _, bc := range []struct {
		name   string
		path   string
		header map[string]string
	}{
		{"all", "/mcp", nil},
		{"header dax", "/mcp", map[string]string{headerToolsets: "dax"}},
		{"url dax readonly", "/mcp/x/dax/readonly", nil},
		{"header tools", "/mcp", map[string]string{headerTools: "list_workspaces,execute_dax_query"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest("POST", bc.path, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", "application/json, text/event-stream")
				for k, v := range bc.header {
					req.Header.Set(k, v)
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%d %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
