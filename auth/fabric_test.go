package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// The Fabric configuration is the same credential with Fabric's scope: Entra issues its token
// for Fabric's audience, and the Power BI configuration it came from is unchanged.
func TestForFabricAsksEntraForAFabricToken(t *testing.T) {
	s := newTenant(t, pbitest.Options{})
	cfg := tenantConfig(s)
	cfg.Kind = auth.KindClientSecret
	fc, err := cfg.ForFabric()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		cfg  auth.Config
		want string
	}{{cfg, "https://analysis.windows.net/powerbi/api"}, {fc, auth.FabricResource}} {
		tok, err := newSource(t, c.cfg).Token(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if info, ok := auth.Inspect(tok); !ok || info.Audience != c.want {
			t.Errorf("scope %q: token for %q, want %q", c.cfg.Scope, info.Audience, c.want)
		}
	}
}

// Where no Fabric token can be had, ForFabric says why instead of handing out a configuration
// whose tokens Fabric would refuse.
func TestForFabricRefusesWhatCannotWork(t *testing.T) {
	for _, c := range []struct {
		cfg  auth.Config
		want string
	}{
		{auth.Config{Cloud: "usgov", Kind: auth.KindClientSecret}, "the usgov cloud has no Fabric REST API"},
		{auth.Config{Kind: auth.KindToken}, "--auth token brings a Power BI token only"},
	} {
		_, err := c.cfg.ForFabric()
		if !errors.Is(err, auth.ErrNoFabric) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.cfg, err, c.want)
		}
	}
}

// A user who signed in once for Power BI gets Fabric tokens from the same cache with no second
// sign-in: one refresh-token request, and the token is for Fabric's audience.
func TestForFabricUsesTheSignedInUser(t *testing.T) {
	s := newTenant(t, pbitest.Options{})
	cfg := userConfig(t, s)
	login(t, s, cfg)
	fc, err := cfg.ForFabric()
	if err != nil {
		t.Fatal(err)
	}
	before := s.TokenRequests()
	tok, err := newSource(t, fc).Token(context.Background())
	if err != nil {
		t.Fatalf("Fabric token after a Power BI sign-in: %v", err)
	}
	if info, ok := auth.Inspect(tok); !ok || info.Audience != auth.FabricResource || info.Username != pbitest.DefaultUserPrincipalName {
		t.Errorf("Fabric token: %+v", info)
	}
	if n := s.TokenRequests() - before; n != 1 {
		t.Errorf("%d token requests for the Fabric token, want 1 (the refresh token's)", n)
	}
}
