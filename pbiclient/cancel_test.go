package pbiclient_test

import (
	"context"
	"errors"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// TestCallCancelledBeforeItStartsIsNotSent: a call whose context is already done sends nothing,
// not even a token request, and its error is the context's. In particular a POST that never
// left is not reported as "outcome unknown", which would send the agent checking for a refresh
// that never started.
func TestCallCancelledBeforeItStartsIsNotSent(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	srv.SeedDemo()
	c := newClient(t, srv, newTenantTokens(srv))
	if _, err := c.ListGroups(context.Background(), pbiclient.ListGroupsOptions{}); err != nil {
		t.Fatal(err) // signed in: the token is cached from here on
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	srv.ResetRequests()

	_, err := c.RefreshDataset(cancelled, pbitest.DemoSalesWorkspaceID, pbitest.DemoSalesDatasetID, pbiclient.RefreshRequest{})
	var apiErr *pbiclient.APIError
	if !errors.Is(err, context.Canceled) || errors.As(err, &apiErr) {
		t.Fatalf("want the context's error, got %#v", err)
	}

	// Before any token was taken: the token is not asked for either.
	fresh := newTenantTokens(srv)
	_, err = newClient(t, srv, fresh).ListGroups(cancelled, pbiclient.ListGroupsOptions{})
	var tokErr *pbiclient.TokenError
	if !errors.Is(err, context.Canceled) || errors.As(err, &tokErr) {
		t.Fatalf("want the context's error, got %#v", err)
	}
	if reqs := srv.Requests(); len(reqs) != 0 {
		t.Fatalf("a cancelled call reached the tenant: %+v", reqs[0])
	}
}
