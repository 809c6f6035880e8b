package pbitest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

const groupsRoute = "GET /v1.0/myorg/groups"

func TestThrottleFirst(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SetFaults(Faults{ThrottleFirst: 2, RetryAfter: 5})
	for i, want := range []int{http.StatusTooManyRequests, http.StatusTooManyRequests, http.StatusOK, http.StatusOK} {
		r := api(t, s, "GET", "/groups", nil)
		wantStatus(t, r, want)
		if want == http.StatusTooManyRequests && r.header.Get("Retry-After") != "5" {
			t.Errorf("request %d: Retry-After %q", i, r.header.Get("Retry-After"))
		}
	}
}

func TestThrottleEvery(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SetFaults(Faults{ThrottleEvery: 3, RetryAfter: 7})
	wantStatus(t, api(t, s, "GET", "/groups", nil), http.StatusOK)
	// Entra requests do not count.
	wantStatus(t, postForm(t, s, s.TenantID(), clientCredentials(s)), http.StatusOK)
	wantStatus(t, api(t, s, "GET", "/reports", nil), http.StatusOK)
	r := api(t, s, "GET", "/groups", nil)
	wantStatus(t, r, http.StatusTooManyRequests)
	if r.header.Get("Retry-After") != "7" || r.header.Get("RequestId") == "" {
		t.Errorf("headers %v", r.header)
	}
	if string(r.body) != `{"message":"You have exceeded the amount of requests allowed in the current time frame and further requests will fail. Retry in 7 seconds."}` {
		t.Errorf("body %s", r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if n := s.Count(groupsRoute); n != 2 {
		t.Errorf("Count includes faulted requests: got %d, want 2", n)
	}

	// SetFaults restarts the count; RetryAfter 0 is sent as is.
	s.SetFaults(Faults{ThrottleEvery: 1})
	r = api(t, s, "GET", "/groups", nil)
	wantStatus(t, r, http.StatusTooManyRequests)
	if r.header.Get("Retry-After") != "0" {
		t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
	}
	s.SetFaults(Faults{})
	wantStatus(t, api(t, s, "GET", "/groups", nil), http.StatusOK)
}

func TestServerErrorEvery(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SetFaults(Faults{ServerErrorEvery: 2})
	wantStatus(t, api(t, s, "GET", "/groups", nil), http.StatusOK)
	r := api(t, s, "GET", "/groups", nil)
	wantStatus(t, r, http.StatusInternalServerError)
	if string(r.body) != `{"Message":"An error has occurred."}` {
		t.Errorf("body %s", r.body)
	}
	wantStatus(t, api(t, s, "GET", "/groups", nil), http.StatusOK)
}

func TestDropEvery(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SetFaults(Faults{DropEvery: 2})
	// A fresh connection per request: net/http would otherwise quietly
	// resend a GET whose reused connection died, hiding the drop.
	tr := s.Client().Transport.(*http.Transport).Clone()
	tr.DisableKeepAlives = true
	client := &http.Client{Transport: tr}
	get := func() (*http.Response, error) {
		req, _ := http.NewRequest("GET", s.APIBaseURL()+"/groups", nil)
		req.Header.Set("Authorization", "Bearer "+s.IssueToken(time.Hour))
		return client.Do(req)
	}
	resp, err := get()
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp, err := get(); err == nil {
		resp.Body.Close()
		t.Fatalf("dropped request got a response: %d", resp.StatusCode)
	}
	reqs := s.Requests()
	if len(reqs) != 2 || reqs[1].Status != 0 || reqs[1].Route != groupsRoute {
		t.Errorf("recorded %+v", reqs)
	}
}

func TestLatencyHonoursContext(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SetFaults(Faults{Latency: time.Hour})
	for _, path := range []string{apiPrefix + "/groups", "/" + s.TenantID() + "/v2.0/.well-known/openid-configuration"} {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		req, _ := http.NewRequestWithContext(ctx, "GET", s.URL()+path, nil)
		req.Header.Set("Authorization", "Bearer "+s.IssueToken(time.Hour))
		_, err := s.Client().Do(req)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: err = %v, want the client's deadline", path, err)
		}
	}
	// Both handlers gave up without answering; Close does not wait an hour.
	eventually(t, "handlers to return", func() bool {
		reqs := s.Requests()
		return len(reqs) == 2 && reqs[0].Status == 0 && reqs[1].Status == 0
	})
}

// TestConcurrentClients runs refreshes, exports, lists and token requests
// in parallel; the race detector checks the state's locking.
func TestConcurrentClients(t *testing.T) {
	s := newTestServer(t, Options{RefreshDuration: time.Millisecond, ExportDuration: time.Millisecond})
	s.SeedDemo()
	// send must not stop the test from another goroutine, so it only
	// reports errors.
	send := func(method, path, body string) {
		req, _ := http.NewRequest(method, s.URL()+path, strings.NewReader(body))
		if strings.HasPrefix(path, apiPrefix) {
			req.Header.Set("Authorization", "Bearer "+s.IssueToken(time.Hour))
			req.Header.Set("Content-Type", "application/json")
		} else {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := s.Client().Do(req)
		if err != nil {
			t.Errorf("%s %s: %v", method, path, err)
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	dataset := apiPrefix + "/groups/" + DemoSalesWorkspaceID + "/datasets/" + DemoSalesDatasetID
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 5 {
				send("GET", apiPrefix+"/groups?$filter=contains(name,'a')", "")
				send("POST", dataset+"/refreshes", "")
				send("GET", dataset+"/refreshes", "")
				send("POST", apiPrefix+"/groups/"+DemoFinanceWorkspaceID+"/reports/"+DemoFinanceReportID+"/ExportTo", `{"format":"PNG"}`)
				send("POST", "/"+s.TenantID()+"/oauth2/v2.0/token", clientCredentials(s).Encode())
				if i == 0 {
					s.SetFaults(Faults{ThrottleEvery: 5})
					s.ExpireTokens()
				}
			}
		})
	}
	wg.Wait()
	if n := s.TokenRequests(); n != 40 {
		t.Errorf("TokenRequests = %d, want 40", n)
	}
	if n := len(s.Requests()); n != 200 {
		t.Errorf("%d requests recorded, want 200", n)
	}
}
