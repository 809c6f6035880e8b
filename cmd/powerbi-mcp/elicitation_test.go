package main

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// Destructive tools ask the user through the client, whichever protocol era the client speaks:
// a client of MCP 2026-07-28 or later gets the question in an "input required" result and calls
// again with the answer; an older one gets an elicitation request in the middle of the call.
// Only over real transports does the difference show: in-process sessions may always be asked.

// draftReport is the sandbox's deletable report in the Marketing workspace.
const draftReport = "9c1e3a5b-4c6e-4f27-8bc2-5d7e9f1a3be6"

// asker is a user who answers every question the same way and remembers them.
type asker struct {
	accept bool

	mu        sync.Mutex
	questions []string
}

func (a *asker) Elicit(_ context.Context, req mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	a.mu.Lock()
	a.questions = append(a.questions, req.Params.Message)
	a.mu.Unlock()
	if !a.accept {
		return &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionDecline}}, nil
	}
	return &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionAccept,
		Content: map[string]any{"confirm": true}}}, nil
}

func (a *asker) asked() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.questions...)
}

// eraClient connects to the sandbox over transport, speaking the given era, as a client that
// can ask its user.
func eraClient(t *testing.T, transportName string, modern bool, user *asker) *client.Client {
	t.Helper()
	opts := []client.ClientOption{client.WithElicitationHandler(user)}
	if !modern {
		opts = append(opts, client.WithProtocolVersion(mcp.LATEST_LEGACY_PROTOCOL_VERSION))
	}
	var tr transport.Interface
	switch transportName {
	case "stdio":
		bin, err := binary()
		if err != nil {
			t.Fatal(err)
		}
		tr = transport.NewStdio(bin, []string{"PBI_MCP_EXPORT_DIR=" + t.TempDir()}, "--sandbox", "--toolsets", "all")
	case "sse":
		ts := httptest.NewServer(sandboxHandler(t, config{Transport: "sse", Toolsets: []string{"all"}}))
		t.Cleanup(ts.Close)
		sse, err := transport.NewSSE(ts.URL + "/sse")
		if err != nil {
			t.Fatal(err)
		}
		tr = sse
	case "http":
		ts := httptest.NewServer(sandboxHandler(t, config{Transport: "http", Toolsets: []string{"all"}}))
		t.Cleanup(ts.Close)
		h, err := transport.NewStreamableHTTP(ts.URL + "/mcp")
		if err != nil {
			t.Fatal(err)
		}
		tr = h
	}
	c := client.NewClient(tr, opts...)
	t.Cleanup(func() { c.Close() })
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var init mcp.InitializeRequest
	init.Params.ClientInfo = mcp.Implementation{Name: "era-test", Version: "0"}
	init.Params.Capabilities.Elicitation = &mcp.ElicitationCapability{}
	res, err := c.Initialize(ctx, init)
	if err != nil {
		t.Fatal(err)
	}
	if got := mcp.IsModernProtocol(res.ProtocolVersion); got != modern {
		t.Fatalf("%s: negotiated %s, want modern=%v", transportName, res.ProtocolVersion, modern)
	}
	return c
}

func reportExists(t *testing.T, c *client.Client) bool {
	t.Helper()
	res := callTool(t, c, "get_report", map[string]any{"workspace": "Marketing", "report": draftReport})
	return !res.IsError
}

func TestDestructiveToolsAskTheUserInBothProtocolEras(t *testing.T) {
	cases := []struct {
		transport string
		modern    bool
		// canAsk is false where no question can reach the client, and the confirm argument
		// decides: a legacy client on stateless HTTP has no session that could carry one, and
		// the SSE transport (deprecated, and only in the older protocol) carries no requests
		// from the server at all.
		canAsk bool
	}{
		{"stdio", true, true},
		{"stdio", false, true},
		{"http", true, true},
		{"http", false, false},
		{"sse", false, false},
	}
	for _, tc := range cases {
		era := "2025-11-25"
		if tc.modern {
			era = "2026-07-28"
		}
		t.Run(tc.transport+"/"+era, func(t *testing.T) {
			t.Parallel()
			del := map[string]any{"workspace": "Marketing", "report": draftReport}

			declines := &asker{}
			c := eraClient(t, tc.transport, tc.modern, declines)
			res := callTool(t, c, "delete_report", del)
			if !res.IsError {
				t.Fatalf("deleted without the user's agreement: %s", resultText(res))
			}
			q := declines.asked()
			switch {
			case tc.canAsk && (len(q) != 1 || !strings.Contains(q[0], "Draft") && !strings.Contains(q[0], draftReport)):
				t.Fatalf("the user was asked %q; want one question naming the report", q)
			case tc.canAsk && !strings.Contains(resultText(res), "did not agree"):
				t.Fatalf("after a decline: %s", resultText(res))
			case !tc.canAsk && (len(q) != 0 || !strings.Contains(resultText(res), "confirm: true")):
				t.Fatalf("asked %q; result %s", q, resultText(res))
			}
			if !reportExists(t, c) {
				t.Fatal("the report is gone although the user declined")
			}

			accepts := &asker{accept: true}
			c = eraClient(t, tc.transport, tc.modern, accepts)
			if !tc.canAsk {
				del["confirm"] = true // the user agreed through the model
			}
			res = callTool(t, c, "delete_report", del)
			if res.IsError {
				t.Fatalf("the user agreed, yet: %s", resultText(res))
			}
			if n := len(accepts.asked()); tc.canAsk && n != 1 {
				t.Fatalf("the user was asked %d times, want once", n)
			}
			if reportExists(t, c) {
				t.Fatal("the report is still there after the user agreed")
			}
		})
	}
}

// signsIn is a user who, shown the sign-in link and code, signs in on the page and says so.
type signsIn struct {
	t      *testing.T
	tenant *pbitest.Server

	mu    sync.Mutex
	shown []string
}

func (u *signsIn) Elicit(_ context.Context, req mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	u.mu.Lock()
	u.shown = append(u.shown, req.Params.Message)
	u.mu.Unlock()
	m := signInCode.FindStringSubmatch(req.Params.Message)
	if m == nil {
		return &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionDecline}}, nil
	}
	signInInBrowser(u.t, u.tenant, m[1], m[2])
	return &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionAccept}}, nil
}

func (u *signsIn) times() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.shown)
}

// The sign-in link and code reach the user through the client in both eras. A client of MCP
// 2026-07-28 or later shows them and calls again once the user is done, so the very call that
// needed the sign-in succeeds. An older client is shown them while the call answers with the
// instructions, and the next call succeeds.
func TestSignInIsShownToTheUserInBothProtocolEras(t *testing.T) {
	for _, modern := range []bool{true, false} {
		name := "2025-11-25"
		if modern {
			name = "2026-07-28"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tenant := pbitest.NewServer(pbitest.Options{})
			defer tenant.Close()
			tenant.SeedDemo()
			user := &signsIn{t: t, tenant: tenant}
			opts := []client.ClientOption{client.WithElicitationHandler(user)}
			if !modern {
				opts = append(opts, client.WithProtocolVersion(mcp.LATEST_LEGACY_PROTOCOL_VERSION))
			}
			bin, err := binary()
			if err != nil {
				t.Fatal(err)
			}
			c := client.NewClient(transport.NewStdio(bin, userEnv(t, tenant, tenant.TenantID(), t.TempDir()), "--auth", "device-code"), opts...)
			defer c.Close()
			if err := c.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			var init mcp.InitializeRequest
			init.Params.ClientInfo = mcp.Implementation{Name: "era-test", Version: "0"}
			init.Params.Capabilities.Elicitation = &mcp.ElicitationCapability{}
			if _, err := c.Initialize(context.Background(), init); err != nil {
				t.Fatal(err)
			}

			res := callTool(t, c, "list_workspaces", nil)
			if modern {
				if res.IsError {
					t.Fatalf("the user signed in when shown the code, yet the call answered: %s", resultText(res))
				}
			} else {
				signInInstructions(t, tenant, res)
				deadline := time.Now().Add(20 * time.Second)
				for res.IsError && time.Now().Before(deadline) {
					time.Sleep(200 * time.Millisecond)
					res = callTool(t, c, "list_workspaces", nil)
				}
			}
			listsDemoWorkspaces(t, res)
			if n := user.times(); n != 1 {
				t.Fatalf("the sign-in was shown %d times, want once", n)
			}
		})
	}
}
