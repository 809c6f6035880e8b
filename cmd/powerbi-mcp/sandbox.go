package main

import (
	"fmt"
	"os"

	"github.com/rs/zerolog"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// sandbox is the built-in demo tenant --sandbox serves, with the sign-in it was asked for.
type sandbox struct {
	tenant *pbitest.Server
	auth   auth.Config
	close  func()
}

// startSandbox starts the demo tenant and configures the sign-in --auth chooses: the tenant's
// service principal by default, or its demo user through a device code (the sign-in page is
// the tenant's own /devicelogin) or a password. Users' tokens go to a cache of the sandbox's
// own, removed when it stops: they are only good for this tenant, and must not land in the
// user's real token cache.
func startSandbox(kind string, logger zerolog.Logger) (*sandbox, error) {
	tenant := pbitest.NewServer(pbitest.Options{})
	tenant.SeedDemo()
	cfg := auth.Config{Kind: kind, AuthorityHost: tenant.AuthorityHost(), TenantID: tenant.TenantID(),
		ClientID: tenant.ClientID(), HTTPClient: tenant.Client(), Logger: logger}
	closeAll := tenant.Close
	switch kind {
	case "", auth.KindAuto, auth.KindClientSecret:
		cfg.Kind, cfg.ClientSecret = auth.KindClientSecret, tenant.ClientSecret()
	case auth.KindDeviceCode, auth.KindUsernamePassword:
		dir, err := os.MkdirTemp("", "powerbi-mcp-sandbox-")
		if err != nil {
			tenant.Close()
			return nil, err
		}
		cfg.TokenCacheDir = dir
		closeAll = func() { tenant.Close(); os.RemoveAll(dir) }
		if kind == auth.KindUsernamePassword {
			cfg.Username, cfg.Password = pbitest.DefaultUserPrincipalName, pbitest.DemoUserPassword
		}
	default:
		tenant.Close()
		return nil, fmt.Errorf("--sandbox signs in with --auth %s, %s or %s, not %s",
			auth.KindClientSecret, auth.KindDeviceCode, auth.KindUsernamePassword, kind)
	}
	return &sandbox{tenant: tenant, auth: cfg, close: closeAll}, nil
}
