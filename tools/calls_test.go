package tools

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// stall makes Power BI stop answering, once the server holds a token (Entra stalls too).
func stall(t *testing.T, st *stack) {
	t.Helper()
	if _, err := st.tokens.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	st.tenant.SetFaults(pbitest.Faults{Latency: time.Hour}) // until the client gives up
	st.tenant.ResetRequests()
}

// guard bounds a call that must end on its own, so that a server that ignores its limits fails
// the test instead of hanging it.
func guard(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func wantAll(t *testing.T, msg string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(msg, want) {
			t.Errorf("the answer lacks %q: %s", want, msg)
		}
	}
}

// A Power BI answer that does not start within the response timeout ends the call with an
// error that says so and whether the request may have been applied; nothing is sent twice.
func TestStalledAnswerEndsTheCall(t *testing.T) {
	st := newStack(t, stackOptions{responseTimeout: time.Second})
	ws, ds := salesIDs(t, st)
	stall(t, st)

	res := st.callCtx(t, guard(t), "refresh_dataset", map[string]any{"workspace": ws, "dataset": ds})
	if !res.IsError {
		t.Fatalf("refresh_dataset succeeded: %s", text(res))
	}
	wantAll(t, text(res), "did not start answering POST", "within 1s", "outcome is unknown",
		"may have reached Power BI", "get_refresh_history")
	if n := st.tenant.Count(routeRefreshInGroup); n != 1 {
		t.Errorf("the refresh POST reached Power BI %d times, want 1", n)
	}

	res = st.callCtx(t, guard(t), "list_workspaces", nil)
	if !res.IsError {
		t.Fatalf("list_workspaces succeeded: %s", text(res))
	}
	wantAll(t, text(res), "did not start answering GET /groups within 1s", "Nothing was changed", "Try again")
	if n := st.tenant.Count(routeGroups); n != 1 {
		t.Errorf("GET /groups reached Power BI %d times, want 1 (a stalled answer is not asked again)", n)
	}
}

// A call that reaches its time limit while a request is out ends with an error that says so
// and whether the request may have been applied.
func TestCallTimeoutEndsTheCall(t *testing.T) {
	st := newStack(t, stackOptions{callTimeout: 2 * time.Second, responseTimeout: time.Hour})
	ws, ds := salesIDs(t, st)
	stall(t, st)

	res := st.callCtx(t, guard(t), "refresh_dataset", map[string]any{"workspace": ws, "dataset": ds})
	if !res.IsError {
		t.Fatalf("refresh_dataset succeeded: %s", text(res))
	}
	wantAll(t, text(res), "reached its time limit (PBI_MCP_CALL_TIMEOUT) while waiting for Power BI to answer POST",
		"outcome is unknown", "get_refresh_history")
	if n := st.tenant.Count(routeRefreshInGroup); n != 1 {
		t.Errorf("the refresh POST reached Power BI %d times, want 1", n)
	}
}

// A tool that follows a job gets its timeout_seconds on top of the call timeout: the job's own
// wait ends first and reports the job running, instead of the call failing.
func TestCallTimeoutLeavesTheJobWait(t *testing.T) {
	st := newStack(t, stackOptions{callTimeout: 2 * time.Second, tenant: pbitest.Options{RefreshDuration: time.Hour}})
	ws, ds := salesIDs(t, st)
	var res RefreshResult
	st.ok(t, "refresh_dataset", map[string]any{"workspace": ws, "dataset": ds, "wait": true, "timeout_seconds": 3}, &res)
	if res.Status != "InProgress" || res.RequestID == "" {
		t.Fatalf("refresh: %+v", res)
	}
}

// While a call waits out a Retry-After, the client hears progress; then the call goes on.
func TestRetryAfterSendsProgress(t *testing.T) {
	st := newStack(t, stackOptions{})
	st.tenant.SetFaults(pbitest.Faults{ThrottleFirst: 1, RetryAfter: 2})
	var mu sync.Mutex
	seen := -1 // requests Power BI had received when the first progress arrived
	st.client.OnNotification(func(n mcp.JSONRPCNotification) {
		mu.Lock()
		defer mu.Unlock()
		if n.Method == string(mcp.MethodNotificationProgress) && seen < 0 {
			seen = st.tenant.Count(routeGroups)
		}
	})

	var res ListWorkspacesResult
	st.ok(t, "list_workspaces", nil, &res)
	progress := st.progressFor("p-list_workspaces")
	if len(progress) == 0 {
		t.Fatal("no progress notification while waiting out Retry-After")
	}
	msg, _ := progress[0].Params.AdditionalFields["message"].(string)
	wantAll(t, msg, "throttling", "Retry-After 2s", "retrying GET /groups")
	mu.Lock()
	defer mu.Unlock()
	if seen != 1 {
		t.Errorf("the first progress came when Power BI had seen %d requests, want 1 (during the wait)", seen)
	}
	if n := st.tenant.Count(routeGroups); n != 2 {
		t.Errorf("GET /groups sent %d times, want 2", n)
	}
}

// A Retry-After the call cannot wait out within its time limit is reported at once: how long to
// wait, and until when.
func TestRetryAfterBeyondCallTimeout(t *testing.T) {
	st := newStack(t, stackOptions{callTimeout: 10 * time.Second, tools: Options{Toolsets: []string{"admin"}}})
	st.tenant.SetAdminRateLimits(pbitest.AdminRateLimits{Off: true})
	st.tenant.SetFaults(pbitest.Faults{ThrottleEvery: 1, RetryAfter: 60})

	before := time.Now()
	res := st.callCtx(t, guard(t), "admin_list_capacities", nil)
	after := time.Now()
	if !res.IsError {
		t.Fatalf("admin_list_capacities succeeded: %s", text(res))
	}
	wantAll(t, text(res), "HTTP 429", "Retry after 60 seconds (at ", "do not loop")
	// When to retry: a minute after Power BI answered, which was between before and after.
	m := regexp.MustCompile(`\(at (\d\d:\d\d:\d\d) UTC\)`).FindStringSubmatch(text(res))
	if m == nil {
		t.Fatalf("no time to retry at: %s", text(res))
	}
	ok := false
	for at := before.Add(time.Minute).Truncate(time.Second); !at.After(after.Add(time.Minute)); at = at.Add(time.Second) {
		ok = ok || at.UTC().Format("15:04:05") == m[1]
	}
	if !ok {
		t.Errorf("retry at %s, want a minute after %s", m[1], before.UTC().Format("15:04:05"))
	}
	if n := st.tenant.Count("GET /v1.0/myorg/admin/capacities"); n != 1 {
		t.Errorf("GET /admin/capacities sent %d times, want 1", n)
	}
}

// A call gets its job's wait on top of the call timeout only when it follows the job: a tool
// with a wait argument follows it when wait is true (given, or its default), and a tool
// without one always does.
func TestJobWaitOnlyWhenFollowingTheJob(t *testing.T) {
	followers := 0
	for _, tl := range All(Deps{}) {
		in, err := parseInputSchema(tl.Definition)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := in.Properties["timeout_seconds"]; !ok {
			continue
		}
		followers++
		if wait, ok := in.Properties["wait"]; ok {
			// wait left out is its default: false unless the schema says true.
			if d := jobWait(in, map[string]any{}); (d != 0) != (wait["default"] == true) {
				t.Errorf("%s without wait (default %v): %v added to the call timeout", tl.Definition.Name, wait["default"], d)
			}
			if d := jobWait(in, map[string]any{"wait": true, "timeout_seconds": float64(7)}); d != 7*time.Second {
				t.Errorf("%s with wait: %v added, want 7s", tl.Definition.Name, d)
			}
		} else if d := jobWait(in, map[string]any{"timeout_seconds": float64(7)}); d != 7*time.Second {
			t.Errorf("%s: %v added, want 7s", tl.Definition.Name, d)
		}
	}
	if followers < 3 {
		t.Errorf("%d tools follow a job, expected refresh, export and import at least", followers)
	}
}
