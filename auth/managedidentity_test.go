package auth_test

import (
	"context"
	"strings"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// MSAL's managed identity client reads IDENTITY_ENDPOINT and IDENTITY_HEADER
// from the process environment, so these tests set it (t.Setenv) and cannot
// run in parallel.

// miTenant is a seeded tenant playing the App Service the process runs on,
// and the configuration of its system-assigned identity.
func miTenant(t *testing.T) (*pbitest.Server, auth.Config) {
	t.Helper()
	s := newTenant(t, pbitest.Options{})
	t.Setenv("IDENTITY_ENDPOINT", s.ManagedIdentityEndpoint())
	t.Setenv("IDENTITY_HEADER", s.ManagedIdentityHeader())
	for _, v := range []string{"IDENTITY_SERVER_THUMBPRINT", "MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT"} {
		t.Setenv(v, "")
	}
	return s, auth.Config{Kind: auth.KindManagedIdentity, HTTPClient: s.Client()}
}

func tokenOf(t *testing.T, src auth.TokenSource) auth.TokenInfo {
	t.Helper()
	tok, err := src.Token(context.Background())
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	info, ok := auth.Inspect(tok)
	if !ok {
		t.Fatal("not a JWT")
	}
	return info
}

func TestManagedIdentitySystemAssignedSignsIn(t *testing.T) {
	s, cfg := miTenant(t)
	logger, logs := traceLogger()
	cfg.Logger = logger
	src := newSource(t, cfg)
	listWorkspaces(t, s, src)
	system := s.SystemAssignedIdentity()
	if info := tokenOf(t, src); info.ClientID != system.ClientID || info.ObjectID != system.ObjectID || info.PrincipalType != "app" {
		t.Errorf("token for %+v, want the system-assigned identity %+v", info, system)
	}
	if n := s.ManagedIdentityRequests(); n != 1 {
		t.Errorf("%d requests to the managed identity endpoint, want 1", n)
	}
	if d := src.Describe(); !strings.Contains(d, "managed identity (system-assigned, App Service endpoint "+s.ManagedIdentityEndpoint()) {
		t.Errorf("Describe() = %q", d)
	}
	tok, _ := src.Token(context.Background())
	checkNoLeak(t, map[string]string{"token": tok, "IDENTITY_HEADER": s.ManagedIdentityHeader()}, src.Describe(), logs.String())
}

func TestManagedIdentityUserAssigned(t *testing.T) {
	s, base := miTenant(t)
	user := s.AddUserAssignedIdentity("powerbi-mcp")
	s.AddUserAssignedIdentity("another")
	for name, set := range map[string]func(*auth.Config){
		"client id":   func(c *auth.Config) { c.ClientID = user.ClientID },
		"object id":   func(c *auth.Config) { c.ManagedIdentityObjectID = user.ObjectID },
		"resource id": func(c *auth.Config) { c.ManagedIdentityResourceID = user.ResourceID },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := base
			set(&cfg)
			src := newSource(t, cfg)
			listWorkspaces(t, s, src)
			if info := tokenOf(t, src); info.ClientID != user.ClientID || info.ObjectID != user.ObjectID {
				t.Errorf("token for %+v, want the user-assigned identity %+v", info, user)
			}
			if d := src.Describe(); !strings.Contains(d, "user-assigned, "+name) {
				t.Errorf("Describe() = %q", d)
			}
		})
	}
}

func TestManagedIdentityOneRequestPerAcquisition(t *testing.T) {
	s, cfg := miTenant(t)
	checkOneRequestPerAcquisition(t, s, newSource(t, cfg), s.ManagedIdentityRequests)
}

// TestManagedIdentityNewSourceAsksTheEndpoint: MSAL's managed identity
// cache is shared by the whole process, so it can hold a token that an
// earlier source got from elsewhere; a new source asks the endpoint.
func TestManagedIdentityNewSourceAsksTheEndpoint(t *testing.T) {
	s, cfg := miTenant(t)
	first := newSource(t, cfg)
	if _, err := first.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The resource moves to another tenant: same identity selector
	// (system-assigned), other endpoint, other Power BI.
	s2, cfg2 := miTenant(t)
	second := newSource(t, cfg2)
	listWorkspaces(t, s2, second)
	if s.ManagedIdentityRequests() != 1 || s2.ManagedIdentityRequests() != 1 {
		t.Errorf("endpoint requests %d and %d, want 1 each", s.ManagedIdentityRequests(), s2.ManagedIdentityRequests())
	}
}

func TestManagedIdentityErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("two selectors", func(t *testing.T) {
		_, err := auth.New(auth.Config{Kind: auth.KindManagedIdentity, ClientID: "a", ManagedIdentityResourceID: "/subscriptions/x"})
		if err == nil || !strings.Contains(err.Error(), auth.EnvClientID+" and "+auth.EnvManagedIdentityResourceID+" are set, but") ||
			!strings.Contains(err.Error(), "set only one of") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("unknown user-assigned identity", func(t *testing.T) {
		s, cfg := miTenant(t)
		cfg.ClientID = "00000000-0000-0000-0000-000000000001"
		_, err := newSource(t, cfg).Token(ctx)
		if err == nil || !strings.Contains(err.Error(), "HTTP 400): Unable to load the proper Managed Identity.") ||
			!strings.Contains(err.Error(), "(user-assigned, client id "+cfg.ClientID) || !strings.Contains(err.Error(), "Fix: check that "+auth.EnvClientID+" names a user-assigned identity") {
			t.Errorf("err = %v", err)
		}
		if s.TokenRequests() != 0 {
			t.Errorf("a managed identity went to the token endpoint")
		}
	})
	t.Run("wrong IDENTITY_HEADER", func(t *testing.T) {
		_, cfg := miTenant(t)
		t.Setenv("IDENTITY_HEADER", "stale-header-value")
		_, err := newSource(t, cfg).Token(ctx)
		if err == nil || !strings.Contains(err.Error(), "HTTP 401") || !strings.Contains(err.Error(), "IDENTITY_HEADER") ||
			strings.Contains(err.Error(), "stale-header-value") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("no endpoint", func(t *testing.T) {
		s, cfg := miTenant(t)
		s.Close()
		_, err := newSource(t, cfg).Token(ctx)
		if err == nil || !strings.Contains(err.Error(), "cannot reach the managed identity endpoint") || !strings.Contains(err.Error(), "--auth") {
			t.Errorf("err = %v", err)
		}
	})
}
