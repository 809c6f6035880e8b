package auth_test

import (
	"context"
	"sync"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// countingObserver counts what an auth.Observer hears, by flow.
type countingObserver struct {
	mu                    sync.Mutex
	hits, requests, fails map[string]int
}

func newCountingObserver() *countingObserver {
	return &countingObserver{hits: map[string]int{}, requests: map[string]int{}, fails: map[string]int{}}
}

func (o *countingObserver) TokenCacheHit(flow string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.hits[flow]++
}

func (o *countingObserver) TokenRequested(flow string, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.requests[flow]++
	if err != nil {
		o.fails[flow]++
	}
}

// The observer hears one request for a cold cache, however many callers share it, a cache hit
// for each token handed out warm, and a failed request as failed.
func TestObserverCountsRequestsAndCacheHits(t *testing.T) {
	s := newTenant(t, pbitest.Options{})
	obs := newCountingObserver()
	cfg := tenantConfig(s)
	cfg.Observer = obs
	src := newSource(t, cfg)
	for range 4 {
		if _, err := src.Token(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if obs.requests[auth.FlowServer] != 1 || obs.hits[auth.FlowServer] != 3 || obs.fails[auth.FlowServer] != 0 {
		t.Errorf("requests %v, hits %v, failures %v; want 1 request and 3 hits for %q", obs.requests, obs.hits, obs.fails, auth.FlowServer)
	}

	bad := tenantConfig(s)
	bad.ClientSecret = "wrong"
	bad.Observer = obs
	if _, err := newSource(t, bad).Token(context.Background()); err == nil {
		t.Fatal("a wrong client secret got a token")
	}
	if obs.fails[auth.FlowServer] != 1 {
		t.Errorf("failures = %v, want 1", obs.fails)
	}

	// On behalf of a caller: one exchange, then the per-user cache answers.
	obo := newOnBehalfOf(t, cfg, 0)
	for range 3 {
		if _, err := obo.Token(userContext(t, s, "adele@contoso.com")); err != nil {
			t.Fatal(err)
		}
	}
	if obs.requests[auth.FlowOnBehalfOf] != 1 || obs.hits[auth.FlowOnBehalfOf] != 2 {
		t.Errorf("requests %v, hits %v; want 1 request and 2 hits for %q", obs.requests, obs.hits, auth.FlowOnBehalfOf)
	}
}
