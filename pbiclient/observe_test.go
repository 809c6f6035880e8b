package pbiclient_test

import (
	"context"
	"sync"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// responses collects what a hook hears.
type responses struct {
	mu  sync.Mutex
	got []pbiclient.Response
}

func (r *responses) add(x pbiclient.Response) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, x)
}

// Every attempt is reported, retries included, to the client's OnResponse and to the hook of
// the context the request ran under, with the RequestId Power BI sent and the code of an error.
func TestResponseHooksHearEveryAttempt(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	ws := srv.AddWorkspace(pbitest.Workspace{Name: "Sales"})
	var global, perCall, outer responses
	c := newClient(t, srv, newTenantTokens(srv), func(cfg *pbiclient.Config) {
		cfg.OnResponse = global.add
	})
	srv.SetFaults(pbitest.Faults{ThrottleFirst: 1, RetryAfter: 0})

	ctx := pbiclient.WithResponseHook(context.Background(), outer.add)
	ctx = pbiclient.WithResponseHook(ctx, perCall.add)
	if _, err := c.GetGroup(ctx, ws.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetGroup(ctx, "00000000-0000-0000-0000-000000000001"); err == nil {
		t.Fatal("GetGroup of a workspace that does not exist succeeded")
	}
	if _, err := c.GetGroup(context.Background(), ws.ID); err != nil {
		t.Fatal(err)
	}

	if len(perCall.got) != 3 || len(outer.got) != 3 {
		t.Fatalf("hooks heard %d and %d responses, want 3 each (429, 200, 404): %+v", len(perCall.got), len(outer.got), perCall.got)
	}
	if s := []int{perCall.got[0].Status, perCall.got[1].Status, perCall.got[2].Status}; s[0] != 429 || s[1] != 200 || s[2] != 404 {
		t.Errorf("statuses = %v, want [429 200 404]", s)
	}
	for i, r := range perCall.got {
		if r.RequestID == "" || r.Method != "GET" {
			t.Errorf("response %d = %+v, want the GET's RequestId", i, r)
		}
	}
	if perCall.got[1].Code != "" || perCall.got[2].Code == "" {
		t.Errorf("codes = %q, %q; want none for the 200 and Power BI's for the 404", perCall.got[1].Code, perCall.got[2].Code)
	}
	if len(global.got) != 4 {
		t.Errorf("OnResponse heard %d responses, want 4 (one call ran without a hook)", len(global.got))
	}
}
