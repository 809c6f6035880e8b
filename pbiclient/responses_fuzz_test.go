package pbiclient_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

const fuzzToken = "fuzz-access-token-never-shown"

// FuzzResponses has a server answer with an arbitrary status and body, and reads the answer
// with the client's own calls: a list (OData value), a page of the activity log and a DAX
// query. Nothing may panic; a failure status is an *APIError with that status (or, for 401,
// the token being dropped); a success either decodes or is a decode error; what decodes is
// consistent (one list item per value element, every DAX row as wide as the columns); and no
// error text carries the token.
func FuzzResponses(f *testing.F) {
	for _, s := range []struct {
		status uint16
		body   string
	}{
		{200, `{"@odata.context":"x","value":[{"id":"9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d","name":"Sales","isReadOnly":false,"isOnDedicatedCapacity":true}]}`},
		{200, `{"value":[]}`},
		{200, `{"value":null}`},
		{200, `[]`},
		{200, `{"activityEventEntities":[{"Id":"1","Activity":"ViewReport"}],"continuationUri":"https://x/?continuationToken='abc'","continuationToken":"abc","lastResultSet":false}`},
		{200, `{"results":[{"tables":[{"rows":[{"Sales[Amount]":1.5,"[Total]":2},{"[Total]":3,"Sales[Region]":"West"}]}]}]}`},
		{200, `{"results":[{"tables":[{"rows":[{"[x]":1}],"error":{"code":"DatasetExecuteQueriesError","message":"More than 100000 rows in a query result"}}]}]}`},
		{200, `{"error":{"code":"DatasetExecuteQueriesError","message":"bad"}}`},
		{200, `{"results":[{"tables":[{"rows":[1,[2]]}]}]}`},
		{200, `{"results":[{"tables":[{"rows":[{"a":1,"a":2.5e3,"":null},{"b":{"c":[1]},"a":"x"},{}]}]}]}`},
		{200, `{"results":[{"error":{"code":"x","message":"y"}}]}`},
		{200, `{"value":[{"id":1}]}`},
		{400, `{"error":{"code":"InvalidRequest","message":"bad"}}`},
		{401, ``},
		{403, `{"error":{"code":"TokenExpired","message":"expired"}}`},
		{429, `{"message":"Rate limit is exceeded."}`},
		{500, `An error has occurred`},
	} {
		f.Add(s.status, []byte(s.body))
	}

	var (
		mu     sync.Mutex
		status int
		body   []byte
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		st, b := status, body
		mu.Unlock()
		w.Header().Set("RequestId", "fuzz-request")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(st)
		_, _ = w.Write(b)
	}))
	f.Cleanup(srv.Close)
	newClient := func() *pbiclient.Client {
		// No retries and no waiting: one request per call keeps the loop fast. The clients
		// share the server's transport, so its connections are reused, not piled up.
		c, err := pbiclient.New(pbiclient.Config{BaseURL: srv.URL + "/v1.0/myorg", Tokens: auth.NewStaticToken(fuzzToken),
			Transport: srv.Client().Transport, MaxRetries: -1, MaxRetryWait: -1})
		if err != nil {
			f.Fatal(err)
		}
		return c
	}
	ctx := context.Background()

	f.Fuzz(func(t *testing.T, st uint16, b []byte) {
		mu.Lock()
		status, body = 200+int(st)%400, b // 1xx are interim answers, not ones a client reads
		mu.Unlock()
		ok := status < 300
		// A fresh client per input: a 401 drops the static token for good.
		c := newClient()
		check := func(call string, err error) {
			t.Helper()
			if err == nil {
				if !ok {
					t.Fatalf("%s: status %d answered as a success", call, status)
				}
				return
			}
			if strings.Contains(err.Error(), fuzzToken) {
				t.Fatalf("%s: the error shows the token: %v", call, err)
			}
			var apiErr *pbiclient.APIError
			var tokErr *pbiclient.TokenError
			switch {
			case errors.As(err, &apiErr):
				if ok || apiErr.StatusCode != status || apiErr.RequestID != "fuzz-request" {
					t.Fatalf("%s: status %d gave %v", call, status, err)
				}
			case errors.As(err, &tokErr):
				if status != http.StatusUnauthorized && status != http.StatusForbidden {
					t.Fatalf("%s: status %d gave %v", call, status, err)
				}
			default:
				var qe *pbiclient.QueryError
				if !ok || (!strings.Contains(err.Error(), "decode") && !errors.As(err, &qe)) {
					t.Fatalf("%s: status %d gave %v", call, status, err)
				}
			}
		}

		groups, err := c.ListGroups(ctx, pbiclient.ListGroupsOptions{})
		check("ListGroups", err)
		if err == nil {
			var l struct{ Value []json.RawMessage }
			if json.NewDecoder(bytes.NewReader(b)).Decode(&l) != nil || len(l.Value) != len(groups) {
				t.Fatalf("ListGroups: %d workspaces from %s", len(groups), b)
			}
		}

		_, err = c.GetActivityEvents(ctx, pbiclient.ActivityQuery{ContinuationToken: "abc"})
		check("GetActivityEvents", err)

		res, err := c.ExecuteQuery(ctx, "", "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d", "EVALUATE Sales", pbiclient.QueryOptions{})
		check("ExecuteQuery", err)
		seen := map[string]bool{}
		for _, col := range res.Columns {
			if seen[col] {
				t.Fatalf("ExecuteQuery: column %q twice in %q", col, res.Columns)
			}
			seen[col] = true
		}
		for i, row := range res.Rows {
			if len(row) != len(res.Columns) {
				t.Fatalf("ExecuteQuery: row %d has %d values for %d columns", i, len(row), len(res.Columns))
			}
		}
	})
}

// What FuzzAPIError found, as the client meets it: a Retry-After beyond what a Duration holds
// is a wait beyond any budget, so the 429 comes back at once with its wait, instead of the
// wait wrapping round to a fraction of a second and the client retrying.
func TestRetryAfterBeyondADuration(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	c := newClient(t, srv, newTenantTokens(srv))
	srv.SetFaults(pbitest.Faults{ThrottleEvery: 1, RetryAfter: 18446744074}) // 2^64 ns + 0.29 s

	_, err := c.ListGroups(context.Background(), pbiclient.ListGroupsOptions{})
	apiErr := asAPIError(t, err)
	if apiErr.StatusCode != http.StatusTooManyRequests || apiErr.RetryAfter < 100*365*24*time.Hour {
		t.Fatalf("got %v, want the 429 with its wait of centuries", err)
	}
	if n := len(apiRequests(srv)); n != 1 {
		t.Errorf("Power BI received %d requests, want 1: the client must not retry", n)
	}
}
