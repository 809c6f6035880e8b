package pbiclient_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// The two benchmarks hit the same URL of the same fake tenant, so the difference between
// them is the client's own cost (token lookup, retry bookkeeping, logging, JSON decoding).

func benchTenant(b *testing.B) *pbitest.Server {
	srv := newTenant(b, pbitest.Options{})
	srv.SeedDemo()
	return srv
}

func BenchmarkListGroups(b *testing.B) {
	srv := benchTenant(b)
	c := newClient(b, srv, newTenantTokens(srv))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.ListGroups(ctx, pbiclient.ListGroupsOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRawGet(b *testing.B) {
	srv := benchTenant(b)
	client := srv.Client()
	token := srv.IssueToken(time.Hour)
	url := srv.APIBaseURL() + "/groups"
	b.ReportAllocs()
	for b.Loop() {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d, %v", resp.StatusCode, err)
		}
	}
}
