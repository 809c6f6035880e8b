package auth_test

import (
	"context"
	"sync"
	"testing"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/powerbi-mcp/powerbi-mcp/auth"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// BenchmarkTokenConcurrent is a burst of 100 callers on a cold cache: each
// iteration builds a fresh source (so MSAL also discovers the tenant's
// endpoints) against the fake tenant over TLS. idp-token-requests/op must
// stay 1.
func BenchmarkTokenConcurrent(b *testing.B) {
	s := pbitest.NewServer(pbitest.Options{})
	defer s.Close()
	cfg := tenantConfig(s)
	ctx := context.Background()
	iterations := 0
	for b.Loop() {
		iterations++
		src, err := auth.New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 100 {
			wg.Go(func() {
				if _, err := src.Token(ctx); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
	}
	b.ReportMetric(float64(s.TokenRequests())/float64(iterations), "idp-token-requests/op")
}

// BenchmarkTokenWarm is Token with a current token, the cost added to every
// Power BI request. "msal" is MSAL's own cache lookup, what Token would cost
// without the source's fast path.
func BenchmarkTokenWarm(b *testing.B) {
	s := pbitest.NewServer(pbitest.Options{})
	defer s.Close()
	ctx := context.Background()

	src, err := auth.New(tenantConfig(s))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := src.Token(ctx); err != nil {
		b.Fatal(err)
	}
	b.Run("source", func(b *testing.B) {
		for b.Loop() {
			if _, err := src.Token(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("source-parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := src.Token(ctx); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})

	cred, err := confidential.NewCredFromSecret(s.ClientSecret())
	if err != nil {
		b.Fatal(err)
	}
	client, err := confidential.New(s.AuthorityHost()+"/"+s.TenantID(), s.ClientID(), cred,
		confidential.WithHTTPClient(s.Client()), confidential.WithInstanceDiscovery(false))
	if err != nil {
		b.Fatal(err)
	}
	scopes := []string{auth.PowerBIScope}
	if _, err := client.AcquireTokenByCredential(ctx, scopes); err != nil {
		b.Fatal(err)
	}
	b.Run("msal", func(b *testing.B) {
		for b.Loop() {
			if _, err := client.AcquireTokenByCredential(ctx, scopes); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkTokenFromPersistentCache is a restarted server's first token for
// a user who signed in earlier: each iteration builds a fresh device-code
// source (a new MSAL client, as in a new process) on the same token cache
// file and takes a token from it. idp-token-requests/op must stay 0.
func BenchmarkTokenFromPersistentCache(b *testing.B) {
	s := pbitest.NewServer(pbitest.Options{})
	defer s.Close()
	cfg := auth.Config{Kind: auth.KindDeviceCode, AuthorityHost: s.AuthorityHost(), ClientID: s.ClientID(),
		HTTPClient: s.Client(), TokenCacheDir: b.TempDir()}
	ctx := context.Background()
	if _, err := auth.Login(ctx, cfg, func(sir *auth.SignInRequired) {
		if err := s.ApproveDeviceCode(sir.UserCode, ""); err != nil {
			b.Error(err)
		}
	}); err != nil {
		b.Fatal(err)
	}
	before := s.TokenRequests()
	iterations := 0
	for b.Loop() {
		iterations++
		src, err := auth.New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := src.Token(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(s.TokenRequests()-before)/float64(iterations), "idp-token-requests/op")
}
