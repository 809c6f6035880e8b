package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/rs/zerolog"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// stack is the whole server as an agent meets it, every layer real: an MCP client talks to the
// tools, which call pbiclient, which signs in with MSAL and talks TLS to the fake tenant.
type stack struct {
	tenant    *pbitest.Server
	server    *server.MCPServer // what client talks to; serve it over a transport to test one
	client    *client.Client
	exportDir string
	dataDir   string // the data directory tools read files from (see openDataFile)
	logs      *syncBuffer
	tokens    pbiclient.TokenSource // the server's credential

	mu       sync.Mutex
	progress []mcp.JSONRPCNotification
}

type stackOptions struct {
	tenant pbitest.Options
	tools  Options
	secret string // the secret the server is configured with; default the tenant's own
	// elicit, when set, answers the server's questions to the user (MCP elicitation), and the
	// client declares the capability; otherwise the client cannot be asked.
	elicit client.ElicitationHandler
	// tokens, when set, replaces the tenant's service principal as the server's credential.
	tokens pbiclient.TokenSource
	// userSignIn makes the credential the tenant's demo user signing in with a device code,
	// with a token cache of the test's own.
	userSignIn bool
	// transport, when set, wraps the connection to the tenant's Power BI API, e.g. to hold
	// requests until the test releases them.
	transport func(http.RoundTripper) http.RoundTripper
	// callTimeout and responseTimeout are the server's limits (Deps.CallTimeout and
	// pbiclient.Config.ResponseTimeout); 0 leaves their defaults.
	callTimeout, responseTimeout time.Duration
	// maxResultBytes is the server's result budget (Deps.MaxResultBytes); 0 leaves the default.
	maxResultBytes int
	// deps, when set, changes the server's Deps before it is built.
	deps func(*Deps)
}

func newStack(t testing.TB, o stackOptions) *stack {
	t.Helper()
	if o.tenant.RefreshDuration == 0 {
		o.tenant.RefreshDuration = 300 * time.Millisecond
	}
	if o.tenant.ExportDuration == 0 {
		o.tenant.ExportDuration = 300 * time.Millisecond
	}
	tenant := pbitest.NewServer(o.tenant)
	t.Cleanup(tenant.Close)
	tenant.SeedDemo()
	// Fabric's long-running operations still answer 202 and are polled, but briefly: every
	// get_dataset_schema reads the model's definition.
	tenant.SetFabricOperations(50*time.Millisecond, 0)

	logs := &syncBuffer{}
	logger := zerolog.New(logs).Level(zerolog.TraceLevel)
	secret := o.secret
	if secret == "" {
		secret = tenant.ClientSecret()
	}
	// fabric is the Fabric REST API's token source: the same credential with Fabric's scope, as
	// the server builds it; with tokens given by the test, the test's own (as the server would
	// send them, a wrong audience is Fabric's 401).
	var tokens, fabric pbiclient.TokenSource = o.tokens, o.tokens
	if tokens == nil {
		cfg := auth.Config{Kind: auth.KindClientSecret, AuthorityHost: tenant.AuthorityHost(), TenantID: tenant.TenantID(),
			ClientID: tenant.ClientID(), ClientSecret: secret, HTTPClient: tenant.Client(), Logger: logger}
		if o.userSignIn {
			cfg.Kind, cfg.ClientSecret, cfg.TokenCacheDir = auth.KindDeviceCode, "", t.TempDir()
		}
		var err error
		if tokens, err = auth.New(cfg); err != nil {
			t.Fatal(err)
		}
		fc, err := cfg.ForFabric()
		if err != nil {
			t.Fatal(err)
		}
		if fabric, err = auth.New(fc); err != nil {
			t.Fatal(err)
		}
	}
	rt := tenant.Client().Transport
	if o.transport != nil {
		rt = o.transport(rt)
	}
	pc, err := pbiclient.New(pbiclient.Config{BaseURL: tenant.APIBaseURL(), Tokens: tokens,
		FabricBaseURL: tenant.FabricBaseURL(), FabricTokens: fabric, Transport: rt, UserAgent: "powerbi-mcp/test", Logger: logger, ResponseTimeout: o.responseTimeout})
	if err != nil {
		t.Fatal(err)
	}
	st := &stack{tenant: tenant, exportDir: t.TempDir(), dataDir: t.TempDir(), logs: logs, tokens: tokens}
	if o.tools.Version == "" {
		o.tools.Version = "test"
	}
	if len(o.tools.Toolsets) == 0 && len(o.tools.Tools) == 0 {
		o.tools.Toolsets = []string{"all"} // tests reach every tool; the registry tests cover selection
	}
	deps := Deps{Client: pc, ExportDir: st.exportDir, DataDir: st.dataDir, Logger: logger, CallTimeout: o.callTimeout, MaxResultBytes: o.maxResultBytes}
	if o.deps != nil {
		o.deps(&deps)
	}
	s, err := NewServer(deps, o.tools)
	if err != nil {
		t.Fatal(err)
	}
	var copts []client.ClientOption
	if o.elicit != nil {
		copts = append(copts, client.WithElicitationHandler(o.elicit))
	}
	c, err := client.NewInProcessClientWithOptions(s, copts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.OnNotification(func(n mcp.JSONRPCNotification) {
		if n.Method == string(mcp.MethodNotificationProgress) {
			st.mu.Lock()
			st.progress = append(st.progress, n)
			st.mu.Unlock()
		}
	})
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	var init mcp.InitializeRequest
	init.Params.ClientInfo = mcp.Implementation{Name: "tools-test", Version: "0"}
	if o.elicit != nil {
		init.Params.Capabilities.Elicitation = &mcp.ElicitationCapability{}
	}
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatal(err)
	}
	st.server, st.client = s, c
	return st
}

// call invokes a tool with a progress token and returns its result; a protocol error fails the test.
func (s *stack) call(t testing.TB, name string, args map[string]any) *mcp.CallToolResult {
	t.Helper()
	return s.callCtx(t, context.Background(), name, args)
}

// callCtx is call with a context of the caller's.
func (s *stack) callCtx(t testing.TB, ctx context.Context, name string, args map[string]any) *mcp.CallToolResult {
	t.Helper()
	res, err := s.client.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{
		Name: name, Arguments: args, Meta: &mcp.Meta{ProgressToken: "p-" + name}}})
	if err != nil {
		t.Fatalf("%s: protocol error: %v", name, err)
	}
	return res
}

// ok calls a tool that must succeed and decodes its structured content into out.
func (s *stack) ok(t testing.TB, name string, args map[string]any, out any) {
	t.Helper()
	res := s.call(t, name, args)
	if res.IsError {
		t.Fatalf("%s(%v) failed: %s", name, args, text(res))
	}
	b, err := json.Marshal(res.StructuredContent)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("%s: structured content %s: %v", name, b, err)
	}
	// The text form must carry the same facts for clients that read only text.
	var fromText, fromStructured any
	if err := json.Unmarshal([]byte(text(res)), &fromText); err != nil {
		t.Fatalf("%s: text content is not JSON: %v", name, err)
	}
	_ = json.Unmarshal(b, &fromStructured)
	if !reflect.DeepEqual(fromText, fromStructured) {
		t.Fatalf("%s: text content differs from structured content:\n%s\n%s", name, text(res), b)
	}
}

// fails calls a tool that must answer with isError and returns its text.
func (s *stack) fails(t *testing.T, name string, args map[string]any) string {
	t.Helper()
	res := s.call(t, name, args)
	if !res.IsError {
		t.Fatalf("%s(%v) succeeded, want an error result: %s", name, args, text(res))
	}
	return text(res)
}

func (s *stack) progressFor(token string) []mcp.JSONRPCNotification {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []mcp.JSONRPCNotification
	for _, n := range s.progress {
		if n.Params.AdditionalFields["progressToken"] == token {
			out = append(out, n)
		}
	}
	return out
}

func text(res *mcp.CallToolResult) string { return firstText(res) }

// syncBuffer is a log sink safe for the concurrent writes of parallel tool calls.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
