package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/rs/zerolog"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
	"github.com/powerbi-mcp/powerbi-mcp/tools"
)

// otherTenant is a tenant that is not the app's.
const otherTenant = "0d9b8a7c-6e5f-4a3b-9c2d-1e0f9a8b7c6d"

// entraServer is the HTTP transport in --http-auth entra mode, serving pbitest's tenant and
// validating tokens pbitest issues.
type entraServer struct {
	endpoint string // the MCP endpoint, also the public URL
	tenant   *pbitest.Server
	logs     *lockedBuffer
}

// serveEntra starts the server as an operator would configure it, plus args, with keys
// refetched at most once per keysRefetch.
func serveEntra(t *testing.T, keysRefetch time.Duration, args ...string) *entraServer {
	t.Helper()
	tenant := pbitest.NewServer(pbitest.Options{})
	t.Cleanup(tenant.Close)
	tenant.SeedDemo()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := "http://" + ln.Addr().String() + "/mcp"
	cfg, err := parseConfig(append([]string{"--transport", "http", "--http-auth", "entra", "--log-format", "json"}, args...),
		env(map[string]string{"PBI_MCP_PUBLIC_URL": endpoint, "AZURE_TENANT_ID": tenant.TenantID(),
			"AZURE_CLIENT_ID": tenant.ClientID(), "AZURE_AUTHORITY_HOST": tenant.AuthorityHost()}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ExportDir, cfg.DataDir = t.TempDir(), t.TempDir()
	cfg.entraHTTP, cfg.keysRefetch = tenant.Client(), keysRefetch
	// Power BI is called on behalf of each caller, with the app's own credential, as connect
	// sets it up in this mode.
	tokens, err := serverTokens(cfg, auth.Config{AuthorityHost: tenant.AuthorityHost(), TenantID: tenant.TenantID(),
		ClientID: tenant.ClientID(), ClientSecret: tenant.ClientSecret(), HTTPClient: tenant.Client()})
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	logger := zerolog.New(logs).Level(zerolog.DebugLevel)
	// The audit log, on by default for HTTP, goes to the same buffer as the logs (stderr).
	if cfg.ops, err = openOps(cfg, logger, logs); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cfg.ops.close)
	s, err := newServer(cfg, backend{tokens: tokens, baseURL: tenant.APIBaseURL(), transport: tenant.Client().Transport}, logger)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- newHTTPServer(cfg, s, logger, defaultHTTPTimeouts).serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return &entraServer{endpoint: endpoint, tenant: tenant, logs: logs}
}

// post sends an MCP ping with token (none if "") and returns the response.
func (e *entraServer) post(t *testing.T, token string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", e.endpoint, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(strings.NewReader(string(body)))
	return resp
}

func (e *entraServer) metadataURL() string {
	return strings.TrimSuffix(e.endpoint, "/mcp") + "/.well-known/oauth-protected-resource/mcp"
}

func TestEntraRefusesEachBadToken(t *testing.T) {
	e := serveEntra(t, 0)
	scope := "api://" + e.tenant.ClientID() + "/user_impersonation"
	challenge := `Bearer resource_metadata="` + e.metadataURL() + `"`
	cases := []struct {
		name   string
		opts   *pbitest.CallerTokenOptions // nil: no token
		raw    string                      // a token that is not pbitest's
		status int
		want   string // WWW-Authenticate
	}{
		{name: "missing", status: 401, want: challenge},
		{name: "not a JWT", raw: "not-a-token", status: 401, want: challenge + `, error="invalid_token", error_description="the token is not a JSON Web Token"`},
		{name: "expired", opts: &pbitest.CallerTokenOptions{Lifetime: -time.Hour}, status: 401,
			want: challenge + `, error="invalid_token", error_description="the token has expired: get a new one"`},
		{name: "wrong audience", opts: &pbitest.CallerTokenOptions{Audience: "api://3c4d5e6f-0000-4000-8000-000000000001"}, status: 401,
			want: challenge + `, error="invalid_token", error_description="the token was issued for another application"`},
		{name: "wrong audience v2", opts: &pbitest.CallerTokenOptions{Version: 2, Audience: "3c4d5e6f-0000-4000-8000-000000000001"}, status: 401,
			want: challenge + `, error="invalid_token", error_description="the token was issued for another application"`},
		{name: "badly signed", opts: &pbitest.CallerTokenOptions{UnknownKey: true}, status: 401,
			want: challenge + `, error="invalid_token", error_description="the token is not signed by a key Entra ID publishes for this tenant"`},
		{name: "another tenant", opts: &pbitest.CallerTokenOptions{TenantID: otherTenant}, status: 401,
			want: challenge + `, error="invalid_token", error_description="the token was issued by a tenant this server does not accept"`},
		// A v2 issuer with a v1 audience: not a pair Entra issues.
		{name: "v1 audience with a v2 issuer", opts: &pbitest.CallerTokenOptions{Version: 2, Audience: "api://" + e.tenant.ClientID()}, status: 401,
			want: challenge + `, error="invalid_token", error_description="the token was issued for another application"`},
		{name: "v2 audience with a v1 issuer", opts: &pbitest.CallerTokenOptions{Audience: e.tenant.ClientID()}, status: 401,
			want: challenge + `, error="invalid_token", error_description="the token was issued for another application"`},
		{name: "short of scopes", opts: &pbitest.CallerTokenOptions{Scopes: []string{"Reports.Read"}}, status: 403,
			want: challenge + `, error="insufficient_scope", error_description="the token does not carry the scope ` + scope + `", scope="` + scope + `"`},
		{name: "app only", opts: &pbitest.CallerTokenOptions{Scopes: []string{}, Roles: []string{"Tenant.Read.All"}}, status: 403,
			want: challenge + `, error="insufficient_scope", error_description="the token is not a user's delegated token with the scope ` + scope + `: sign a user in", scope="` + scope + `"`},
	}
	var tokens []string
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			token := c.raw
			if c.opts != nil {
				token = e.tenant.IssueCallerToken(*c.opts)
				tokens = append(tokens, token)
			}
			resp := e.post(t, token)
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != c.status {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, c.status, body)
			}
			if got := resp.Header.Get("WWW-Authenticate"); got != c.want {
				t.Errorf("WWW-Authenticate:\n got %s\nwant %s", got, c.want)
			}
			if token != "" && strings.Contains(string(body), token) {
				t.Errorf("the answer echoes the token: %s", body)
			}
		})
	}
	for _, token := range tokens {
		if strings.Contains(e.logs.String(), token) {
			t.Fatalf("the log holds a caller's token:\n%s", e.logs.String())
		}
	}
}

func TestEntraAcceptsV1AndV2Tokens(t *testing.T) {
	e := serveEntra(t, 0, "--allowed-tenants", otherTenant)
	for _, o := range []pbitest.CallerTokenOptions{
		{Version: 1}, {Version: 2},
		// A v1 token for the Application ID URI that is the public URL, as clients that send
		// the metadata's resource get.
		{Version: 1, Audience: e.endpoint},
		// A guest tenant's user, allowed by --allowed-tenants.
		{Version: 2, TenantID: otherTenant}, {Version: 1, TenantID: otherTenant},
		// More scopes than the one required.
		{Scopes: []string{"Reports.Read", "user_impersonation"}},
	} {
		resp := e.post(t, e.tenant.IssueCallerToken(o))
		if resp.StatusCode != 200 {
			body, _ := io.ReadAll(resp.Body)
			t.Errorf("%+v: status %d: %s (%s)", o, resp.StatusCode, body, resp.Header.Get("WWW-Authenticate"))
		}
	}
}

// TestEntraMetadata reads the protected resource metadata as an OAuth client does: from the
// URL the 401 names, and at the well-known path of the server's root.
func TestEntraMetadata(t *testing.T) {
	e := serveEntra(t, 0)
	challenge := e.post(t, "").Header.Get("WWW-Authenticate")
	_, named, ok := strings.Cut(challenge, `resource_metadata="`)
	if !ok {
		t.Fatalf("WWW-Authenticate %q names no metadata", challenge)
	}
	named = strings.TrimSuffix(named, `"`)
	root := strings.TrimSuffix(e.endpoint, "/mcp") + "/.well-known/oauth-protected-resource"
	for _, u := range []string{named, root} {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Resource               string   `json:"resource"`
			AuthorizationServers   []string `json:"authorization_servers"`
			ScopesSupported        []string `json:"scopes_supported"`
			BearerMethodsSupported []string `json:"bearer_methods_supported"`
		}
		err = json.NewDecoder(resp.Body).Decode(&doc)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %d %v", u, resp.StatusCode, err)
		}
		want := []string{e.endpoint, e.tenant.AuthorityHost() + "/" + e.tenant.TenantID() + "/v2.0",
			"api://" + e.tenant.ClientID() + "/user_impersonation", "header"}
		got := []string{doc.Resource, strings.Join(doc.AuthorizationServers, " "), strings.Join(doc.ScopesSupported, " "),
			strings.Join(doc.BearerMethodsSupported, " ")}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s:\n got %q\nwant %q", u, got, want)
		}
	}
	// The authorization server it names is one a client can discover.
	resp, err := e.tenant.Client().Get(e.tenant.AuthorityHost() + "/" + e.tenant.TenantID() + "/v2.0/.well-known/openid-configuration")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("the authorization server's discovery: %v", err)
	}
	resp.Body.Close()
}

// TestEntraSigningKeys: the keys are fetched once, again once for a key rollover, and a burst
// of tokens with unknown key ids does not make a fetch per request.
func TestEntraSigningKeys(t *testing.T) {
	const refetch = 500 * time.Millisecond
	e := serveEntra(t, refetch)
	old := e.tenant.IssueCallerToken(pbitest.CallerTokenOptions{})
	for range 3 {
		if resp := e.post(t, old); resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	if n := e.tenant.KeysRequests(); n != 1 {
		t.Fatalf("%d key fetches for three requests, want 1", n)
	}

	// Each forged token has a key of its own; making them takes longer than sending them.
	forged := make([]string, 10)
	for i := range forged {
		forged[i] = e.tenant.IssueCallerToken(pbitest.CallerTokenOptions{UnknownKey: true})
	}
	var wg sync.WaitGroup
	for range 5 {
		for _, token := range forged {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if resp := e.post(t, token); resp.StatusCode != 401 {
					t.Errorf("a forged token: status %d", resp.StatusCode)
				}
			}()
		}
	}
	wg.Wait()
	if n := e.tenant.KeysRequests(); n > 2 {
		t.Fatalf("%d key fetches after 50 requests with 10 unknown keys, want at most one more", n)
	}

	time.Sleep(refetch)
	before := e.tenant.KeysRequests()
	e.tenant.RotateSigningKey()
	rolled := e.tenant.IssueCallerToken(pbitest.CallerTokenOptions{})
	for range 3 {
		if resp := e.post(t, rolled); resp.StatusCode != 200 {
			t.Fatalf("a token signed with the new key: status %d", resp.StatusCode)
		}
	}
	if n := e.tenant.KeysRequests() - before; n != 1 {
		t.Fatalf("%d key fetches for a key rollover, want 1", n)
	}
	if resp := e.post(t, old); resp.StatusCode != 401 {
		t.Fatalf("a token signed with the withdrawn key: status %d", resp.StatusCode)
	}
}

// TestEntraToolCallRunsAsTheCaller: a tool call with a valid token reaches the tool with the
// caller in its context, which the log names.
func TestEntraToolCallRunsAsTheCaller(t *testing.T) {
	e := serveEntra(t, 0)
	const user = "megan@contoso.example"
	token := e.tenant.IssueCallerToken(pbitest.CallerTokenOptions{User: user, Version: 2})
	c, err := client.NewStreamableHttpClient(e.endpoint, transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + token}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	initialize(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	res, err := c.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: "list_workspaces"}})
	if err != nil || res.IsError {
		t.Fatalf("%v %+v", err, res)
	}
	// The audit line names the caller.
	var found bool
	for _, line := range strings.Split(e.logs.String(), "\n") {
		var l struct {
			Event, Tool string
			Caller      struct{ Type, TenantID, UPN string }
		}
		if json.Unmarshal([]byte(line), &l) == nil && l.Event == "tool_call" {
			found = l.Tool == "list_workspaces" && l.Caller.Type == "user" && l.Caller.UPN == user && l.Caller.TenantID == e.tenant.TenantID()
		}
	}
	if !found {
		t.Errorf("no audit line names %s calling list_workspaces:\n%s", user, e.logs.String())
	}
	if strings.Contains(e.logs.String(), token) {
		t.Errorf("the log holds the caller's token")
	}
	// Power BI took the call on behalf of the caller: one exchange of the caller's token for a
	// Power BI token (pbitest refuses the caller's own token, whose audience is this server).
	if n := e.tenant.OBORequests(); n != 1 {
		t.Errorf("%d on-behalf-of requests, want 1", n)
	}
}

// TestEntraSandbox runs the Entra mode against the demo tenant, as .ci/run and a newcomer can:
// the sandbox is the authority that signs the callers' tokens and the app that exchanges them.
// serveEntraSandbox serves the demo tenant in Entra mode, with args added to the command
// line, the way run does: the tenant signs the callers' tokens and is the app that exchanges
// them. It returns the MCP endpoint and the tenant.
func serveEntraSandbox(t *testing.T, args ...string) (string, *pbitest.Server) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := "http://" + ln.Addr().String() + "/mcp"
	cfg, err := parseConfig(append([]string{"--sandbox", "--transport", "http", "--http-auth", "entra"}, args...),
		env(map[string]string{"PBI_MCP_PUBLIC_URL": endpoint}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ExportDir, cfg.DataDir = t.TempDir(), t.TempDir()
	b, err := connect(cfg, env(nil), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.close)
	cfg.useSandboxAuthority(b.sandbox)
	s, err := newServer(cfg, b, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- newHTTPServer(cfg, s, zerolog.Nop(), defaultHTTPTimeouts).serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	return endpoint, b.sandbox
}

// signedIn connects to endpoint with token as an Entra caller's client does.
func signedIn(t *testing.T, endpoint, token string) (*client.Client, string) {
	t.Helper()
	return connectTo(t, endpoint, map[string]string{"Authorization": "Bearer " + token})
}

func TestEntraSandbox(t *testing.T) {
	endpoint, tenant := serveEntraSandbox(t)
	call := func(token string) *mcp.CallToolResult {
		c, err := client.NewStreamableHttpClient(endpoint, transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + token}))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		initialize(t, c)
		ctx, cancel := context.WithTimeout(context.Background(), patience)
		defer cancel()
		res, err := c.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: "list_workspaces"}})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	// Each caller sees their own workspaces: the call reached Power BI as that user.
	workspaces := func(user string) []string {
		res := call(tenant.IssueCallerToken(pbitest.CallerTokenOptions{User: user, Version: 2}))
		if res.IsError {
			t.Fatalf("%s: %+v", user, res)
		}
		var out struct{ Workspaces []struct{ Name string } }
		raw, _ := json.Marshal(res.StructuredContent)
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, w := range out.Workspaces {
			names = append(names, w.Name)
		}
		return names
	}
	megan, adele := workspaces(pbitest.DefaultUserPrincipalName), workspaces(pbitest.DemoMarketingUser)
	if !slices.Contains(megan, "Finance") || slices.Contains(megan, "Marketing") ||
		!slices.Contains(adele, "Marketing") || slices.Contains(adele, "Finance") {
		t.Errorf("Megan sees %q, Adele sees %q: each should see only their own", megan, adele)
	}
	if n := tenant.OBORequests(); n != 2 {
		t.Errorf("%d on-behalf-of requests for two users, want 2", n)
	}
	// A forged token never reaches a tool.
	if res := (&entraServer{endpoint: endpoint}).post(t, tenant.IssueCallerToken(pbitest.CallerTokenOptions{UnknownKey: true})); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("a badly signed token: %d, want 401", res.StatusCode)
	}
}

// TestEntraAdminRole: the admin toolset goes only to callers whose token carries the app role
// --admin-role names, whatever they select.
func TestEntraAdminRole(t *testing.T) {
	endpoint, tenant := serveEntraSandbox(t, "--toolsets", "workspaces,admin", "--admin-role", "PowerBI.Admin")
	admin := tools.Options{Toolsets: []string{"workspaces", "admin"}}
	token := func(user string, roles ...string) string {
		return tenant.IssueCallerToken(pbitest.CallerTokenOptions{User: user, Version: 2, Roles: roles})
	}

	c, _ := signedIn(t, endpoint, token(pbitest.DefaultUserPrincipalName, "Reader", "PowerBI.Admin"))
	wantTools(t, c, admin)
	if res := callTool(t, c, "admin_list_workspaces", nil); res.IsError || !strings.Contains(resultText(res), "Sales Analytics") {
		t.Errorf("admin_list_workspaces with the role: %s", resultText(res))
	}

	c, instructions := signedIn(t, endpoint, token(pbitest.DemoMarketingUser, "Reader"))
	wantTools(t, c, tools.Options{Toolsets: []string{"workspaces"}})
	if msg := refusedCall(t, c, "admin_list_workspaces", nil); !strings.Contains(msg, `app role "PowerBI.Admin"`) || !strings.Contains(msg, "sign in again") {
		t.Errorf("refusal without the role: %s", msg)
	}
	if !strings.Contains(instructions, `admin: tenant administration`) || !strings.Contains(instructions, `offered only to callers holding the app role "PowerBI.Admin"`) {
		t.Errorf("instructions without the role:\n%s", instructions)
	}
	// A selection cannot get round it.
	c, _ = connectTo(t, endpoint, map[string]string{"Authorization": "Bearer " + token(pbitest.DemoMarketingUser), "X-MCP-Toolsets": "admin"})
	if got := toolNames(t, c); got != "" {
		t.Errorf("tools of a caller without the role who asks for admin: %s", got)
	}
}

func TestHTTPAuthFlags(t *testing.T) {
	const tid, cid = "7c1f3d5e-0a4b-4c2d-9e8f-1a2b3c4d5e6f", "3f2a8e71-5b9c-4d06-a1e4-8c7b6d5e4f30"
	app := map[string]string{"AZURE_TENANT_ID": tid, "AZURE_CLIENT_ID": cid, "PBI_MCP_PUBLIC_URL": "https://pbi.contoso.example/mcp"}
	with := func(m map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range m {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	entra := []string{"--transport", "http", "--http-auth", "entra"}

	// The defaults, and the mode the flags choose.
	for _, c := range []struct {
		args    []string
		environ map[string]string
		want    string
	}{
		{[]string{"--transport", "http"}, nil, "none"},
		{[]string{"--transport", "http", "--addr", "0.0.0.0:8080"}, map[string]string{"PBI_MCP_HTTP_TOKEN": "s3cret"}, "token"},
		{[]string{"--transport", "http", "--addr", "0.0.0.0:8080"}, with(app, "PBI_MCP_HTTP_AUTH", "entra"), "entra"},
	} {
		cfg, err := parseConfig(c.args, env(c.environ), io.Discard)
		if err != nil || cfg.HTTPAuth != c.want {
			t.Errorf("%v %v: mode %q, %v; want %s", c.args, c.environ, cfg.HTTPAuth, err, c.want)
		}
	}
	cfg, err := parseConfig(entra, env(with(app, "PBI_MCP_OAUTH_SCOPE", "mcp.call")), io.Discard)
	if err != nil || cfg.OAuthScope != "mcp.call" || cfg.PublicURL != app["PBI_MCP_PUBLIC_URL"] || !strings.Contains(strings.Join(cfg.AllowedHosts, ","), "pbi.contoso.example") {
		t.Errorf("%+v %v", cfg.httpAuthConfig, err)
	}

	// Bad combinations are refused before start-up, naming what to fix.
	for _, c := range []struct {
		args    []string
		environ map[string]string
		want    string
	}{
		{[]string{"--transport", "sse", "--http-auth", "entra"}, app, "needs --transport http"},
		{entra, with(app, "PBI_MCP_PUBLIC_URL", ""), "needs --public-url (PBI_MCP_PUBLIC_URL)"},
		{entra, with(app, "PBI_MCP_PUBLIC_URL", "http://pbi.contoso.example/mcp"), "PBI_MCP_PUBLIC_URL=http://pbi.contoso.example/mcp: want https"},
		{entra, with(app, "PBI_MCP_PUBLIC_URL", "/mcp"), "PBI_MCP_PUBLIC_URL=/mcp: want an absolute URL"},
		{entra, with(app, "AZURE_TENANT_ID", ""), "needs AZURE_TENANT_ID"},
		{entra, with(app, "AZURE_TENANT_ID", "contoso.onmicrosoft.com"), "needs AZURE_TENANT_ID: the directory (tenant) id of the app registration, a GUID"},
		{entra, with(app, "AZURE_CLIENT_ID", ""), "needs AZURE_CLIENT_ID"},
		{entra, with(app, "AZURE_AUTHORITY_HOST", "http://login.example"), "is not an https URL"},
		{append(entra, "--allowed-tenants", "contoso.com"), app, `--allowed-tenants "contoso.com": "contoso.com" is not a tenant id`},
		{append(entra, "--oauth-scope", "a b"), app, `--oauth-scope "a b": want the name of one scope`},
		{entra, with(app, "PBI_MCP_HTTP_TOKEN", "s3cret"), "PBI_MCP_HTTP_TOKEN is set"},
		{[]string{"--transport", "http", "--http-auth", "token"}, nil, "needs PBI_MCP_HTTP_TOKEN"},
		{[]string{"--transport", "http", "--addr", "0.0.0.0:8080"}, nil, `--addr "0.0.0.0:8080" is reachable from other machines`},
		{[]string{"--transport", "http"}, map[string]string{"PBI_MCP_HTTP_AUTH": "oauth"}, "PBI_MCP_HTTP_AUTH=oauth: use entra, token or none"},
		// On stdio there are no callers to act for: every call would fail, so the server does not start.
		{[]string{"--http-auth", "entra"}, app, `--http-auth "entra" applies to --transport http`},
	} {
		_, stderr, code := cli(t, c.environ, c.args...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v %v: exit %d, %q; want exit 2 and %q", c.args, c.environ, code, stderr, c.want)
		}
	}
}
