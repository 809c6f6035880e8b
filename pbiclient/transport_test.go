package pbiclient_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

const groupsRoute = "GET " + apiPrefix + "/groups"

func TestNewValidatesConfig(t *testing.T) {
	tokens := newTenantTokens(nil)
	for _, base := range []string{
		"http://api.powerbi.com/v1.0/myorg", // clear text beyond loopback
		"ftp://127.0.0.1/v1.0/myorg",
		"https:///v1.0/myorg",
		"https://api.powerbi.com/v1.0/myorg?x=1",
	} {
		if _, err := pbiclient.New(pbiclient.Config{BaseURL: base, Tokens: tokens}); err == nil {
			t.Errorf("New accepted base URL %q", base)
		}
	}
	for _, base := range []string{"", "https://api.powerbigov.us/v1.0/myorg/", "http://localhost:8080/v1.0/myorg", "http://[::1]:8080/v1.0/myorg"} {
		if _, err := pbiclient.New(pbiclient.Config{BaseURL: base, Tokens: tokens}); err != nil {
			t.Errorf("New rejected base URL %q: %v", base, err)
		}
	}
	if _, err := pbiclient.New(pbiclient.Config{}); err == nil {
		t.Error("New accepted a config without Tokens")
	}
}

func TestBaseURLTrailingSlash(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	c := newClient(t, srv, newTenantTokens(srv), func(cfg *pbiclient.Config) { cfg.BaseURL += "/" })
	if _, err := c.ListGroups(context.Background(), pbiclient.ListGroupsOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := srv.Count(groupsRoute); n != 1 {
		t.Errorf("GET /groups count = %d, want 1", n)
	}
}

// Retry-After is honoured: the retry of a throttled request arrives no sooner than the
// service asked.
func TestRetryAfterHonoured(t *testing.T) {
	t.Parallel()
	srv := newTenant(t, pbitest.Options{})
	srv.AddWorkspace(pbitest.Workspace{Name: "Sales"})
	c := newClient(t, srv, newTenantTokens(srv))
	srv.SetFaults(pbitest.Faults{ThrottleEvery: 3, RetryAfter: 1})

	for i := range 5 {
		if _, err := c.ListGroups(context.Background(), pbiclient.ListGroupsOptions{}); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	reqs := apiRequests(srv)
	throttled := 0
	for i, r := range reqs {
		if r.Status != http.StatusTooManyRequests {
			continue
		}
		throttled++
		if i+1 == len(reqs) {
			t.Fatal("the last request was throttled and not retried")
		}
		if gap := reqs[i+1].Time.Sub(r.Time); gap < time.Second {
			t.Errorf("retry %d came %v after the 429, want >= Retry-After (1s)", throttled, gap)
		}
	}
	if throttled != 2 {
		t.Errorf("throttled requests = %d, want 2 (every 3rd of 7)", throttled)
	}
}

func TestThrottledCallsAllSucceed(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	srv.AddWorkspace(pbitest.Workspace{Name: "Sales"})
	c := newClient(t, srv, newTenantTokens(srv))
	// Retry-After: 0 leaves the wait to the client's own backoff.
	srv.SetFaults(pbitest.Faults{ThrottleEvery: 3, RetryAfter: 0})

	for i := range 50 {
		groups, err := c.ListGroups(context.Background(), pbiclient.ListGroupsOptions{})
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if len(groups) != 1 {
			t.Fatalf("call %d: %d groups", i, len(groups))
		}
	}
	// Every 3rd request is throttled and retried: 74 requests are 50 successes and 24 429s.
	if n := srv.Count(groupsRoute); n != 74 {
		t.Errorf("requests = %d, want 74", n)
	}
}

func TestRetryBudgets(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	tokens := newTenantTokens(srv)
	ctx := context.Background()

	t.Run("Retry-After beyond MaxRetryWait is returned at once", func(t *testing.T) {
		srv.ResetRequests()
		srv.SetFaults(pbitest.Faults{ThrottleEvery: 1, RetryAfter: 3600})
		c := newClient(t, srv, tokens)
		_, err := c.ListGroups(ctx, pbiclient.ListGroupsOptions{})
		apiErr := asAPIError(t, err)
		if apiErr.StatusCode != http.StatusTooManyRequests || apiErr.RetryAfter != time.Hour || apiErr.Code != "" ||
			!strings.HasPrefix(apiErr.Message, "You have exceeded the amount of requests allowed") || apiErr.RequestID == "" {
			t.Errorf("APIError = %+v", apiErr)
		}
		if n := srv.Count(groupsRoute); n != 1 {
			t.Errorf("requests = %d, want 1", n)
		}
	})

	t.Run("total wait is bounded by MaxRetryWait", func(t *testing.T) {
		srv.ResetRequests()
		srv.SetFaults(pbitest.Faults{ThrottleEvery: 1, RetryAfter: 1})
		c := newClient(t, srv, tokens, func(cfg *pbiclient.Config) { cfg.MaxRetryWait = 1500 * time.Millisecond })
		_, err := c.ListGroups(ctx, pbiclient.ListGroupsOptions{})
		if apiErr := asAPIError(t, err); apiErr.StatusCode != http.StatusTooManyRequests || apiErr.RetryAfter != time.Second {
			t.Errorf("APIError = %+v", apiErr)
		}
		// One wait of 1s fits in 1.5s, a second does not.
		if n := srv.Count(groupsRoute); n != 2 {
			t.Errorf("requests = %d, want 2", n)
		}
	})

	t.Run("retries are bounded by MaxRetries", func(t *testing.T) {
		srv.ResetRequests()
		srv.SetFaults(pbitest.Faults{ThrottleEvery: 1, RetryAfter: 0})
		c := newClient(t, srv, tokens, func(cfg *pbiclient.Config) { cfg.MaxRetries = 2 })
		_, err := c.ListGroups(ctx, pbiclient.ListGroupsOptions{})
		if apiErr := asAPIError(t, err); apiErr.StatusCode != http.StatusTooManyRequests {
			t.Errorf("APIError = %+v", apiErr)
		}
		if n := srv.Count(groupsRoute); n != 3 {
			t.Errorf("requests = %d, want 3", n)
		}
	})
}

func TestServerErrorsRetriedForGet(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	srv.AddWorkspace(pbitest.Workspace{Name: "Sales"})
	tokens := newTenantTokens(srv)
	ctx := context.Background()

	for _, tt := range []struct {
		name   string
		faults pbitest.Faults
	}{
		{"500", pbitest.Faults{ServerErrorEvery: 2}},
		{"dropped connection", pbitest.Faults{DropEvery: 2}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv.ResetRequests()
			srv.SetFaults(tt.faults)
			c := newClient(t, srv, tokens)
			for i := range 2 {
				if groups, err := c.ListGroups(ctx, pbiclient.ListGroupsOptions{}); err != nil || len(groups) != 1 {
					t.Fatalf("call %d: %v, %d groups", i, err, len(groups))
				}
			}
			if n := srv.Count(groupsRoute); n != 3 {
				t.Errorf("requests = %d, want 3 (the second call retried once)", n)
			}
		})
	}

	t.Run("500 body", func(t *testing.T) {
		srv.SetFaults(pbitest.Faults{ServerErrorEvery: 1})
		c := newClient(t, srv, tokens, func(cfg *pbiclient.Config) { cfg.MaxRetries = -1 })
		_, err := c.ListGroups(ctx, pbiclient.ListGroupsOptions{})
		apiErr := asAPIError(t, err)
		if apiErr.StatusCode != http.StatusInternalServerError || apiErr.Message != "An error has occurred." || apiErr.OutcomeUnknown {
			t.Errorf("APIError = %+v", apiErr)
		}
	})
}

// A request that cannot connect never reached the service, so even a POST is retried.
func TestConnectionRefusedRetriedForPost(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := ln.Addr().String()
	ln.Close()

	var logs bytes.Buffer
	c := newClient(t, srv, newTenantTokens(srv), func(cfg *pbiclient.Config) {
		cfg.BaseURL = "http://" + closedAddr + "/v1.0/myorg"
		cfg.MaxRetries = 2
		cfg.Logger = zerolog.New(&logs).Level(zerolog.DebugLevel)
	})
	_, err = c.RefreshDataset(context.Background(), "", "0b6f1c9e-3a52-4d7e-9f10-2c8b7a6d5e41", pbiclient.RefreshRequest{})
	apiErr := asAPIError(t, err)
	if apiErr.StatusCode != 0 || apiErr.OutcomeUnknown || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("APIError = %+v (err %v)", apiErr, apiErr.Err)
	}
	if n := strings.Count(logs.String(), "\n"); n != 3 {
		t.Errorf("attempts logged = %d, want 3:\n%s", n, logs.String())
	}
}

func TestExpiredTokenRenewed(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	tokens := newTenantTokens(srv)
	c := newClient(t, srv, tokens)
	ctx := context.Background()

	if _, err := c.ListGroups(ctx, pbiclient.ListGroupsOptions{}); err != nil {
		t.Fatal(err)
	}
	srv.ExpireTokens()
	if _, err := c.ListGroups(ctx, pbiclient.ListGroupsOptions{}); err != nil {
		t.Fatalf("after ExpireTokens: %v", err)
	}

	issued, invalidated := tokens.snapshot()
	if len(issued) != 2 || len(invalidated) != 1 || invalidated[0] != issued[0] {
		t.Errorf("issued %d tokens, invalidated %d (first invalidated is the first issued: %v)",
			len(issued), len(invalidated), len(invalidated) > 0 && invalidated[0] == issued[0])
	}
	var statuses []int
	for _, r := range apiRequests(srv) {
		statuses = append(statuses, r.Status)
	}
	if want := []int{200, 403, 200}; !slices.Equal(statuses, want) {
		t.Errorf("statuses = %v, want %v", statuses, want)
	}
}

// A 401 (here: tokens signed by another tenant) renews the token once, then gives up with
// the pbi.error shape parsed.
func TestUnauthorizedRenewsOnce(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	other := newTenant(t, pbitest.Options{})
	tokens := newTenantTokens(other)
	c := newClient(t, srv, tokens)

	_, err := c.ListGroups(context.Background(), pbiclient.ListGroupsOptions{})
	apiErr := asAPIError(t, err)
	if apiErr.StatusCode != http.StatusUnauthorized || apiErr.Code != "PowerBINotAuthorizedException" || apiErr.RequestID == "" {
		t.Errorf("APIError = %+v", apiErr)
	}
	if n := srv.Count(groupsRoute); n != 2 {
		t.Errorf("requests = %d, want 2", n)
	}
	if _, invalidated := tokens.snapshot(); len(invalidated) != 1 {
		t.Errorf("Invalidate calls = %d, want 1", len(invalidated))
	}
}

func TestCancelDuringBackoff(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	c := newClient(t, srv, newTenantTokens(srv), func(cfg *pbiclient.Config) { cfg.MaxRetryWait = time.Hour })
	srv.SetFaults(pbitest.Faults{ThrottleEvery: 1, RetryAfter: 600})

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.ListGroups(ctx, pbiclient.ListGroupsOptions{})
		done <- err
	}()
	for srv.Count(groupsRoute) == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the call kept waiting out Retry-After after its context was cancelled")
	}
	if n := srv.Count(groupsRoute); n != 1 {
		t.Errorf("requests = %d, want 1", n)
	}
}

func TestDebugLogNeverContainsToken(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	tokens := newTenantTokens(srv)
	var logs bytes.Buffer
	c := newClient(t, srv, tokens, func(cfg *pbiclient.Config) {
		cfg.Logger = zerolog.New(&logs).Level(zerolog.TraceLevel)
	})
	ctx := context.Background()

	if _, err := c.ListGroups(ctx, pbiclient.ListGroupsOptions{Filter: "name eq 'x'"}); err != nil {
		t.Fatal(err)
	}
	srv.ExpireTokens()
	srv.SetFaults(pbitest.Faults{ThrottleEvery: 2})
	if _, err := c.ListGroups(ctx, pbiclient.ListGroupsOptions{}); err != nil {
		t.Fatal(err)
	}

	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	reqs := apiRequests(srv)
	if len(lines) != len(reqs) {
		t.Fatalf("%d log lines for %d requests:\n%s", len(lines), len(reqs), logs.String())
	}
	for i, line := range lines {
		var entry struct {
			Level, Method, Path, RequestID string
			Status, Attempt                int
			Duration                       *float64
		}
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		want := reqs[i]
		if entry.Level != "debug" || entry.Method != want.Method || entry.Status != want.Status ||
			entry.RequestID != want.RequestID || entry.Attempt < 1 || entry.Duration == nil ||
			entry.Path != strings.TrimPrefix(want.Path, apiPrefix)+queryPart(want.RawQuery) {
			t.Errorf("line %d = %s\nwant request %+v", i, line, want)
		}
	}
	issued, _ := tokens.snapshot()
	for _, tok := range issued {
		if strings.Contains(logs.String(), tok) {
			t.Fatal("the log contains a bearer token")
		}
	}
	if strings.Contains(strings.ToLower(logs.String()), "bearer") {
		t.Fatal("the log mentions an Authorization header")
	}
}

func queryPart(raw string) string {
	if raw == "" {
		return ""
	}
	return "?" + raw
}

// An answer that does not start within ResponseTimeout ends the request with an error that
// says so, and is not sent again: a read because the service is stalling, a POST because it
// may have been applied.
func TestResponseTimeout(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	ws := srv.AddWorkspace(pbitest.Workspace{Name: "Sales"})
	ds := srv.AddDataset(ws.ID, pbitest.Dataset{Name: "Revenue"})
	tokens := newTenantTokens(srv)
	// The token, fetched before the stall, also leaves a connection open for the requests.
	if _, err := tokens.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, srv, tokens, func(cfg *pbiclient.Config) { cfg.ResponseTimeout = time.Second })
	srv.SetFaults(pbitest.Faults{Latency: time.Hour}) // Power BI stalls until the client gives up
	// Only a guard against hanging on a client that ignores ResponseTimeout.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	_, err := c.ListGroups(ctx, pbiclient.ListGroupsOptions{})
	apiErr := asAPIError(t, err)
	var timeout *pbiclient.ResponseTimeoutError
	if !errors.As(err, &timeout) || timeout.After != time.Second || apiErr.StatusCode != 0 || apiErr.OutcomeUnknown {
		t.Errorf("GET: err = %v (%+v)", err, apiErr)
	}
	if n := srv.Count(groupsRoute); n != 1 {
		t.Errorf("GET /groups sent %d times, want 1", n)
	}

	_, err = c.RefreshDataset(ctx, ws.ID, ds.ID, pbiclient.RefreshRequest{})
	apiErr = asAPIError(t, err)
	if !errors.As(err, &timeout) || !apiErr.OutcomeUnknown || !strings.Contains(err.Error(), "no answer started within 1s") {
		t.Errorf("POST: err = %v (%+v)", err, apiErr)
	}
	if n := srv.Count("POST " + apiPrefix + "/groups/{groupId}/datasets/{datasetId}/refreshes"); n != 1 {
		t.Errorf("POST refreshes sent %d times, want 1", n)
	}
}

// A Retry-After that would outlast the caller's deadline is not waited: the 429 comes back at
// once, with its Retry-After, after one request.
func TestRetryAfterBeyondDeadline(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	c := newClient(t, srv, newTenantTokens(srv))
	srv.SetFaults(pbitest.Faults{ThrottleEvery: 1, RetryAfter: 30}) // within MaxRetryWait (60s)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := c.ListGroups(ctx, pbiclient.ListGroupsOptions{})
	if apiErr := asAPIError(t, err); apiErr.StatusCode != http.StatusTooManyRequests || apiErr.RetryAfter != 30*time.Second {
		t.Errorf("APIError = %+v", apiErr)
	}
	if ctx.Err() != nil {
		t.Error("the call ran into its deadline instead of returning the 429")
	}
	if n := srv.Count(groupsRoute); n != 1 {
		t.Errorf("requests = %d, want 1", n)
	}
}

// A wait hook hears of a Retry-After pause as it starts and every 5 seconds while it lasts,
// before the retry is sent.
func TestWaitHookDuringRetryAfter(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	srv.AddWorkspace(pbitest.Workspace{Name: "Sales"})
	c := newClient(t, srv, newTenantTokens(srv))
	srv.SetFaults(pbitest.Faults{ThrottleFirst: 1, RetryAfter: 6})

	type heard struct {
		wait pbiclient.Wait
		sent int // requests Power BI had received when the hook ran
	}
	var waits []heard
	ctx := pbiclient.WithWaitHook(context.Background(), func(w pbiclient.Wait) {
		waits = append(waits, heard{w, srv.Count(groupsRoute)})
	})
	if _, err := c.ListGroups(ctx, pbiclient.ListGroupsOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(waits) != 2 {
		t.Fatalf("hook called %d times, want 2 (at the start, then 5s on): %+v", len(waits), waits)
	}
	for i, w := range waits {
		if w.wait.RetryAfter != 6*time.Second || w.wait.Status != http.StatusTooManyRequests || w.wait.Total != 6*time.Second ||
			w.wait.Attempt != 1 || w.wait.Method != http.MethodGet || w.wait.Path != "/groups" || w.sent != 1 {
			t.Errorf("call %d heard %+v", i, w)
		}
	}
	if first, second := waits[0].wait.Left, waits[1].wait.Left; first <= 5*time.Second || second <= 0 || second > first-5*time.Second {
		t.Errorf("time left: %s, then %s", first, second)
	}
	if n := srv.Count(groupsRoute); n != 2 {
		t.Errorf("requests = %d, want 2", n)
	}
}
