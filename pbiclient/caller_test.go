package pbiclient_test

import (
	"context"
	"testing"
	"time"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

func TestCallerReadsTheToken(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		tokens pbiclient.TokenSource
		want   pbiclient.Caller
		known  bool
	}{
		{"service principal", newTenantTokens(srv), pbiclient.Caller{App: true}, true},
		{"user", auth.NewStaticToken(srv.IssueUserToken(pbitest.DemoWestUser, time.Hour)), pbiclient.Caller{UserPrincipalName: pbitest.DemoWestUser}, true},
		{"opaque token", auth.NewStaticToken("not-a-jwt"), pbiclient.Caller{}, false},
	} {
		got, known, err := newClient(t, srv, tc.tokens).Caller(ctx)
		if err != nil || known != tc.known || got != tc.want {
			t.Errorf("%s: Caller = %+v, %v, %v; want %+v, %v", tc.name, got, known, err, tc.want, tc.known)
		}
	}
	if n := len(apiRequests(srv)); n != 0 {
		t.Errorf("Caller sent %d requests to Power BI", n)
	}
}

// BenchmarkCaller is the cost execute_dax_query adds to every query to learn who it runs as.
func BenchmarkCaller(b *testing.B) {
	srv := newTenant(b, pbitest.Options{})
	c := newClient(b, srv, newTenantTokens(srv))
	ctx := context.Background()
	for b.Loop() {
		if _, _, err := c.Caller(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
