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
