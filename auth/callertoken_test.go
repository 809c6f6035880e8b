package auth_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

func callerValidator(t *testing.T, s *pbitest.Server, edit func(*auth.CallerValidatorConfig)) *auth.CallerValidator {
	t.Helper()
	cfg := auth.CallerValidatorConfig{AuthorityHost: s.AuthorityHost(), TenantID: s.TenantID(), ClientID: s.ClientID(),
		Scope: pbitest.APIScope, HTTPClient: s.Client()}
	if edit != nil {
		edit(&cfg)
	}
	v, err := auth.NewCallerValidator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestCallerValidatorNamesTheCaller(t *testing.T) {
	s := newTenant(t, pbitest.Options{})
	v := callerValidator(t, s, nil)
	for _, version := range []int{1, 2} {
		const user = "adele@contoso.example"
		token := s.IssueCallerToken(pbitest.CallerTokenOptions{User: user, Version: version, Roles: []string{"PowerBI.Admin"}})
		c, err := v.Validate(context.Background(), token)
		if err != nil {
			t.Fatalf("v%d: %v", version, err)
		}
		if c.Username != user || c.TenantID != s.TenantID() || c.ObjectID == "" || c.AppID != pbitest.PublicClientID ||
			!slices.Equal(c.Scopes, []string{pbitest.APIScope}) || !slices.Equal(c.Roles, []string{"PowerBI.Admin"}) ||
			c.Assertion() != token || c.IsApp() || time.Until(c.ExpiresOn) < 50*time.Minute {
			t.Errorf("v%d: %+v", version, c)
		}
	}
}

// TestCallerValidatorSharesOneKeyFetch: the first requests, arriving together, wait for one
// fetch of the keys.
func TestCallerValidatorSharesOneKeyFetch(t *testing.T) {
	s := newTenant(t, pbitest.Options{})
	v := callerValidator(t, s, nil)
	token := s.IssueCallerToken(pbitest.CallerTokenOptions{})
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := v.Validate(context.Background(), token); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := s.KeysRequests(); n != 1 {
		t.Errorf("%d key fetches, want 1", n)
	}
}

// TestCallerValidatorWithoutKeys: when Entra's keys cannot be fetched, the refusal is the
// server's (503), not the caller's token's.
func TestCallerValidatorWithoutKeys(t *testing.T) {
	s := newTenant(t, pbitest.Options{})
	down := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
	}))
	defer down.Close()
	v := callerValidator(t, s, func(c *auth.CallerValidatorConfig) { c.AuthorityHost, c.HTTPClient = down.URL, down.Client() })
	_, err := v.Validate(context.Background(), s.IssueCallerToken(pbitest.CallerTokenOptions{}))
	var refusal *auth.CallerTokenError
	if !errors.As(err, &refusal) || refusal.Status != http.StatusServiceUnavailable || refusal.Code != "" {
		t.Fatalf("%#v", err)
	}
}

// TestCallerValidatorV1IssuerIsTheClouds: v1.0 tokens are checked against the issuer of the
// configured cloud, not the public one.
func TestCallerValidatorV1IssuerIsTheClouds(t *testing.T) {
	china, err := auth.LookupCloud("china")
	if err != nil || china.V1Issuer != "https://sts.chinacloudapi.cn/" {
		t.Fatalf("%+v %v", china, err)
	}
	s := newTenant(t, pbitest.Options{})
	v := callerValidator(t, s, func(c *auth.CallerValidatorConfig) { c.V1Issuer = china.V1Issuer })
	_, err = v.Validate(context.Background(), s.IssueCallerToken(pbitest.CallerTokenOptions{})) // iss https://sts.windows.net/...
	var refusal *auth.CallerTokenError
	if !errors.As(err, &refusal) || refusal.Code != "invalid_token" {
		t.Fatalf("a public-cloud v1 token in the China cloud: %v", err)
	}
	if _, err := v.Validate(context.Background(), s.IssueCallerToken(pbitest.CallerTokenOptions{Version: 2})); err != nil {
		t.Fatalf("a v2 token: %v", err)
	}
}

// BenchmarkCallerValidator is what every request pays in --http-auth entra mode once the keys
// are cached: parsing the token, an RS256 verification and the claim checks. The reference,
// rs256-alone, is the signature check by itself, the floor for any validator.
func BenchmarkCallerValidator(b *testing.B) {
	s := newTenant(b, pbitest.Options{})
	v, err := auth.NewCallerValidator(auth.CallerValidatorConfig{AuthorityHost: s.AuthorityHost(), TenantID: s.TenantID(),
		ClientID: s.ClientID(), Scope: pbitest.APIScope, HTTPClient: s.Client()})
	if err != nil {
		b.Fatal(err)
	}
	token := s.IssueCallerToken(pbitest.CallerTokenOptions{Version: 2})
	if _, err := v.Validate(context.Background(), token); err != nil {
		b.Fatal(err)
	}
	b.Run("validate", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Validate(context.Background(), token); err != nil {
				b.Fatal(err)
			}
		}
	})

	resp, err := s.Client().Get(s.AuthorityHost() + "/" + s.TenantID() + "/discovery/v2.0/keys")
	if err != nil {
		b.Fatal(err)
	}
	var set struct{ Keys []struct{ N, E string } }
	err = json.NewDecoder(resp.Body).Decode(&set)
	resp.Body.Close()
	if err != nil || len(set.Keys) != 1 {
		b.Fatal(err, set)
	}
	n, _ := base64.RawURLEncoding.DecodeString(set.Keys[0].N)
	e, _ := base64.RawURLEncoding.DecodeString(set.Keys[0].E)
	key := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	dot := strings.LastIndexByte(token, '.')
	sig, _ := base64.RawURLEncoding.DecodeString(token[dot+1:])
	b.Run("rs256-alone", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			digest := sha256.Sum256([]byte(token[:dot]))
			if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], sig); err != nil {
				b.Fatal(err)
			}
		}
	})
}
