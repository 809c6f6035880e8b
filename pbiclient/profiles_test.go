package pbiclient_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

func TestServicePrincipalProfiles(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()

	contoso, err := c.CreateProfile(ctx, "Contoso")
	if err != nil || contoso.ID == "" || contoso.DisplayName != "Contoso" {
		t.Fatalf("CreateProfile = %+v, %v", contoso, err)
	}
	if _, err := c.CreateProfile(ctx, "Fabrikam"); err != nil {
		t.Fatal(err)
	}
	reqs := apiRequests(srv)
	if r := reqs[len(reqs)-1]; r.Method != "POST" || r.Path != apiPrefix+"/profiles" || string(r.Body) != `{"displayName":"Fabrikam"}` {
		t.Errorf("sent %s %s %s", r.Method, r.Path, r.Body)
	}
	if ae := asAPIError(t, func() error { _, err := c.CreateProfile(ctx, "contoso"); return err }()); ae.StatusCode != 409 || ae.Code != "PowerBIEntityAlreadyExists" {
		t.Errorf("duplicate name: %d %s", ae.StatusCode, ae.Code)
	}

	renamed, err := c.RenameProfile(ctx, contoso.ID, "Contoso Ltd")
	if err != nil || renamed.DisplayName != "Contoso Ltd" {
		t.Fatalf("RenameProfile = %+v, %v", renamed, err)
	}
	if got, err := c.GetProfile(ctx, contoso.ID); err != nil || got.DisplayName != "Contoso Ltd" {
		t.Errorf("GetProfile = %+v, %v", got, err)
	}
	if got, err := c.ListProfiles(ctx, pbiclient.ProfileQuery{Filter: "displayName eq 'Contoso Ltd'"}); err != nil || len(got) != 1 || got[0].ID != contoso.ID {
		t.Errorf("ListProfiles filtered = %+v, %v", got, err)
	}
	if got, err := c.ListProfiles(ctx, pbiclient.ProfileQuery{Top: 1, Skip: 1}); err != nil || len(got) != 1 || got[0].DisplayName != "Fabrikam" {
		t.Errorf("ListProfiles paged = %+v, %v", got, err)
	}

	if err := c.DeleteProfile(ctx, contoso.ID); err != nil {
		t.Fatal(err)
	}
	if ae := asAPIError(t, func() error { _, err := c.GetProfile(ctx, contoso.ID); return err }()); ae.StatusCode != 404 {
		t.Errorf("deleted profile: %d", ae.StatusCode)
	}

	// Only a service principal may manage profiles.
	user := newClient(t, srv, userTokens{srv})
	if ae := asAPIError(t, func() error { _, err := user.ListProfiles(ctx, pbiclient.ProfileQuery{}); return err }()); ae.StatusCode != 401 {
		t.Errorf("a user listing profiles: %d", ae.StatusCode)
	}
}

func TestRefreshUserPermissionsOncePerHour(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	c := newClient(t, srv, newTenantTokens(srv), func(cfg *pbiclient.Config) { cfg.MaxRetryWait = time.Second })
	ctx := context.Background()
	if err := c.RefreshUserPermissions(ctx); err != nil {
		t.Fatal(err)
	}
	reqs := apiRequests(srv)
	if r := reqs[len(reqs)-1]; r.Method != "POST" || r.Path != apiPrefix+"/RefreshUserPermissions" {
		t.Errorf("sent %s %s", r.Method, r.Path)
	}
	ae := asAPIError(t, c.RefreshUserPermissions(ctx))
	if ae.StatusCode != 429 || ae.RetryAfter < 59*time.Minute {
		t.Errorf("second call within the hour: %d, retry after %v", ae.StatusCode, ae.RetryAfter)
	}
	// Another user has an hour of their own.
	if err := newClient(t, srv, userTokens{srv}).RefreshUserPermissions(ctx); err != nil {
		t.Errorf("another user: %v", err)
	}
}

func TestAvailableFeatures(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	c := newClient(t, srv, newTenantTokens(srv))
	got, err := c.ListAvailableFeatures(context.Background())
	if err != nil || len(got) != 1 || got[0].Name != "embedTrial" || got[0].State != "Enabled" || got[0].AdditionalInfo == nil || got[0].AdditionalInfo.Usage != 0 {
		t.Fatalf("ListAvailableFeatures = %+v, %v", got, err)
	}
	one, err := c.GetAvailableFeature(context.Background(), "embedTrial")
	if err != nil || one.Name != "embedTrial" || one.ExtendedState != "Enabled" {
		t.Fatalf("GetAvailableFeature = %+v, %v", one, err)
	}
	reqs := srv.Requests()
	if r := reqs[len(reqs)-1]; r.Path != apiPrefix+"/availableFeatures(featureName='embedTrial')" || r.Status != 200 {
		t.Errorf("sent %s, answered %d", r.Path, r.Status)
	}
	_, err = c.GetAvailableFeature(context.Background(), "noSuchFeature")
	if ae := asAPIError(t, err); ae.StatusCode != 404 {
		t.Errorf("unknown feature: %d", ae.StatusCode)
	}
	sent := len(srv.Requests())
	var bad *pbiclient.InvalidIDError
	if _, err := c.GetAvailableFeature(context.Background(), "../groups"); !errors.As(err, &bad) || len(srv.Requests()) != sent {
		t.Errorf("a name with a slash: %v, %d requests sent", err, len(srv.Requests())-sent)
	}
}
