package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
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
)

// gatedServer serves streamable HTTP on a demo tenant whose workspace list is held until the
// returned gate releases it. With entra, callers sign in with their Entra tokens (--http-auth
// entra) and the tools act on their behalf, and as gives the headers of a user's requests;
// without, every client is the server's own identity.
func gatedServer(t *testing.T, entra bool) (url string, api *gatedAPI, as func(user string) map[string]string) {
	t.Helper()
	tenant := pbitest.NewServer(pbitest.Options{})
	t.Cleanup(tenant.Close)
	tenant.SeedDemo()
	api = newGatedAPI(tenant)
	t.Cleanup(api.Close)
	ts := httptest.NewUnstartedServer(nil)
	ts.Start()
	t.Cleanup(ts.Close)
	url = ts.URL + "/mcp"

	app := auth.Config{Kind: auth.KindClientSecret, AuthorityHost: tenant.AuthorityHost(), TenantID: tenant.TenantID(),
		ClientID: tenant.ClientID(), ClientSecret: tenant.ClientSecret(), HTTPClient: tenant.Client()}
	args := []string{"--transport", "http", "--toolsets", "default"}
	if entra {
		args = append(args, "--http-auth", "entra")
	}
	cfg, err := parseConfig(args, env(map[string]string{"PBI_MCP_PUBLIC_URL": url, "AZURE_TENANT_ID": app.TenantID,
		"AZURE_CLIENT_ID": app.ClientID, "AZURE_AUTHORITY_HOST": app.AuthorityHost}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ExportDir, cfg.entraHTTP = t.TempDir(), tenant.Client()
	tokens, err := serverTokens(cfg, app)
	if err != nil {
		t.Fatal(err)
	}
	s, err := newServer(cfg, backend{tokens: tokens, baseURL: api.URL + "/v1.0/myorg", transport: tenant.Client().Transport}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = httpHandler(cfg, s, zerolog.Nop())
	as = func(user string) map[string]string {
		return map[string]string{"Authorization": "Bearer " + tenant.IssueCallerToken(pbitest.CallerTokenOptions{User: user})}
	}
	return url, api, as
}

// The callers of the cancellation tests: both see the workspace list the gate holds.
const (
	alice = pbitest.DefaultUserPrincipalName
	bob   = pbitest.DemoMarketingUser
)

// startCall posts tools/call list_workspaces with the given id and headers, and returns where
// its answer will come.
func startCall(t *testing.T, url string, header map[string]string, id int) <-chan string {
	answer := make(chan string, 1)
	go func() {
		_, body := post(t, url, header,
			fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"list_workspaces","arguments":{}}}`, id))
		answer <- body
	}()
	return answer
}

func cancelCall(t *testing.T, url string, header map[string]string, id int) {
	t.Helper()
	status, body := post(t, url, header,
		fmt.Sprintf(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":%d,"reason":"test"}}`, id))
	if status != 202 {
		t.Fatalf("notifications/cancelled: %d %s", status, body)
	}
}

func arrived(t *testing.T, api *gatedAPI, what string) {
	t.Helper()
	select {
	case <-api.arrived:
	case <-time.After(patience):
		t.Fatalf("%s never reached Power BI", what)
	}
}

func gaveUp(t *testing.T, api *gatedAPI, what string) {
	t.Helper()
	select {
	case <-api.abandoned:
	case <-time.After(patience):
		t.Fatalf("%s went on waiting for Power BI", what)
	}
}

func completed(t *testing.T, answer <-chan string, who string) string {
	t.Helper()
	select {
	case body := <-answer:
		return body
	case <-time.After(patience):
		t.Fatalf("%s's call was never answered", who)
		return ""
	}
}

// TestCancellationIsBoundToTheCaller: over stateless HTTP every request has its own session,
// so request ids say nothing about who sent them; a cancellation must only ever reach the
// sender's own call.
func TestCancellationIsBoundToTheCaller(t *testing.T) {
	t.Run("two callers with the same id, one cancels", func(t *testing.T) {
		url, api, as := gatedServer(t, true)
		aliceCall := startCall(t, url, as(alice), 5)
		arrived(t, api, "alice's call")
		bobCall := startCall(t, url, as(bob), 5)
		arrived(t, api, "bob's call")
		cancelCall(t, url, as(alice), 5)
		gaveUp(t, api, "alice's cancelled call")
		close(api.release)
		if body := completed(t, bobCall, "bob"); !strings.Contains(body, "Sales Analytics") || strings.Contains(body, `"isError":true`) {
			t.Errorf("bob's call did not complete: %s", body)
		}
		if body := completed(t, aliceCall, "alice"); strings.Contains(body, "Sales Analytics") {
			t.Errorf("alice's cancelled call completed: %s", body)
		}
	})

	t.Run("a caller cancels an id it never used", func(t *testing.T) {
		url, api, as := gatedServer(t, true)
		aliceCall := startCall(t, url, as(alice), 7)
		arrived(t, api, "alice's call")
		cancelCall(t, url, as("mallory@contoso.com"), 7)
		// A request without a token is refused before it could cancel anything.
		if status, _ := post(t, url, nil, `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7}}`); status != http.StatusUnauthorized {
			t.Errorf("a cancellation without a token: %d, want 401", status)
		}
		close(api.release)
		if body := completed(t, aliceCall, "alice"); !strings.Contains(body, "Sales Analytics") || strings.Contains(body, `"isError":true`) {
			t.Errorf("alice's call was cancelled by another caller: %s", body)
		}
	})
}

// TestCancellationWithoutSignIn: without Entra sign-in every client is the server's one
// identity; a client's Mcp-Session-Id tells them apart, and without it a cancellation that
// could mean two calls cancels neither.
func TestCancellationWithoutSignIn(t *testing.T) {
	t.Run("sessions tell clients apart", func(t *testing.T) {
		url, api, _ := gatedServer(t, false)
		one := startCall(t, url, map[string]string{"Mcp-Session-Id": "one"}, 3)
		arrived(t, api, "the first client's call")
		two := startCall(t, url, map[string]string{"Mcp-Session-Id": "two"}, 3)
		arrived(t, api, "the second client's call")
		cancelCall(t, url, map[string]string{"Mcp-Session-Id": "one"}, 3)
		gaveUp(t, api, "the first client's cancelled call")
		close(api.release)
		if body := completed(t, two, "the second client"); !strings.Contains(body, "Sales Analytics") {
			t.Errorf("the second client's call did not complete: %s", body)
		}
		if body := completed(t, one, "the first client"); strings.Contains(body, "Sales Analytics") {
			t.Errorf("the first client's cancelled call completed: %s", body)
		}
	})
	t.Run("an ambiguous cancellation cancels neither call", func(t *testing.T) {
		url, api, _ := gatedServer(t, false)
		one, two := startCall(t, url, nil, 3), startCall(t, url, nil, 3)
		arrived(t, api, "a call")
		arrived(t, api, "a call")
		cancelCall(t, url, nil, 3)
		close(api.release)
		for _, answer := range []<-chan string{one, two} {
			if body := completed(t, answer, "a client"); !strings.Contains(body, "Sales Analytics") {
				t.Errorf("a call was cancelled: %s", body)
			}
		}
	})
}

// TestProgressGoesOnlyToTheCaller: two clients follow a refresh each with the same progress
// token at once; each gets progress notifications, and only those of its own call.
func TestProgressGoesOnlyToTheCaller(t *testing.T) {
	url, tenant := serveEntraSandbox(t)
	type seen struct {
		mu     sync.Mutex
		notes  []string
		result string
	}
	var wg sync.WaitGroup
	clients := map[string]*seen{alice: {}, bob: {}}
	// A waited refresh reports its progress out of timeout_seconds, which tells the calls apart.
	args := map[string]map[string]any{
		alice: {"workspace": "Finance", "dataset": "Finance KPIs", "wait": true, "timeout_seconds": 111},
		bob:   {"workspace": "Sales Analytics", "dataset": "Sales", "wait": true, "timeout_seconds": 222},
	}
	for who, s := range clients {
		c, err := client.NewStreamableHttpClient(url, transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + tenant.IssueCallerToken(pbitest.CallerTokenOptions{User: who})}))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		initialize(t, c)
		c.OnNotification(func(n mcp.JSONRPCNotification) {
			if n.Method == "notifications/progress" {
				s.mu.Lock()
				s.notes = append(s.notes, fmt.Sprint(n.Params.AdditionalFields["total"]))
				s.mu.Unlock()
			}
		})
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), patience)
			defer cancel()
			res, err := c.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: "refresh_dataset",
				Arguments: args[who],
				Meta:      &mcp.Meta{ProgressToken: "same-token"}}})
			s.mu.Lock()
			defer s.mu.Unlock()
			if err != nil {
				s.result = err.Error()
			} else {
				s.result = resultText(res)
			}
		}()
	}
	wg.Wait()
	for who, s := range clients {
		own := fmt.Sprint(args[who]["timeout_seconds"])
		t.Logf("%s: %d notifications; result %.200s", who, len(s.notes), s.result)
		if len(s.notes) == 0 {
			t.Errorf("%s got no progress: %s", who, s.result)
		}
		for _, n := range s.notes {
			if n != own {
				t.Errorf("%s got progress out of %s, not of its own call (%s)", who, n, own)
			}
		}
	}
}
