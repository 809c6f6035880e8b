package pbitest

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"strings"
	"testing"
)

// verifyWithJWKS checks token's RS256 signature with the key the tenant's keys endpoint
// publishes under the token's kid, as a resource server does, and returns its claims.
func verifyWithJWKS(t *testing.T, s *Server, token string) (claims map[string]any, ok bool) {
	t.Helper()
	r := do(t, s, "GET", "/"+s.TenantID()+"/discovery/v2.0/keys", "", nil)
	wantStatus(t, r, http.StatusOK)
	var set struct {
		Keys []struct{ Kty, Use, Kid, N, E string }
	}
	if err := json.Unmarshal(r.body, &set); err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	var header struct{ Alg, Kid string }
	decode(t, parts[0], &header)
	decode(t, parts[1], &claims)
	if header.Alg != "RS256" || header.Kid == "" {
		t.Fatalf("header %+v, want RS256 with a kid", header)
	}
	for _, k := range set.Keys {
		if k.Kid != header.Kid {
			continue
		}
		n, _ := base64.RawURLEncoding.DecodeString(k.N)
		e, _ := base64.RawURLEncoding.DecodeString(k.E)
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
		digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
		return claims, k.Kty == "RSA" && k.Use == "sig" && rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) == nil
	}
	return claims, false
}

func decode(t *testing.T, part string, v any) {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func TestCallerTokensVerifyWithThePublishedKeys(t *testing.T) {
	s := newTestServer(t, Options{})
	v1, ok := verifyWithJWKS(t, s, s.IssueCallerToken(CallerTokenOptions{}))
	if !ok {
		t.Fatal("a v1 caller token does not verify with the published key")
	}
	for k, want := range map[string]any{"aud": "api://" + s.ClientID(), "iss": "https://sts.windows.net/" + s.TenantID() + "/",
		"ver": "1.0", "scp": APIScope, "upn": DefaultUserPrincipalName, "appid": PublicClientID, "tid": s.TenantID(), "oid": userObjectID} {
		if v1[k] != want {
			t.Errorf("v1 %s = %v, want %v", k, v1[k], want)
		}
	}
	v2, ok := verifyWithJWKS(t, s, s.IssueCallerToken(CallerTokenOptions{Version: 2, User: "alex@contoso.com", Roles: []string{"Admin"}}))
	if !ok {
		t.Fatal("a v2 caller token does not verify with the published key")
	}
	for k, want := range map[string]any{"aud": s.ClientID(), "iss": s.AuthorityHost() + "/" + s.TenantID() + "/v2.0",
		"ver": "2.0", "preferred_username": "alex@contoso.com", "azp": PublicClientID, "oid": userOID("alex@contoso.com")} {
		if v2[k] != want {
			t.Errorf("v2 %s = %v, want %v", k, v2[k], want)
		}
	}
	if roles, _ := v2["roles"].([]any); len(roles) != 1 || roles[0] != "Admin" {
		t.Errorf("roles = %v", v2["roles"])
	}
	if _, ok := verifyWithJWKS(t, s, s.IssueCallerToken(CallerTokenOptions{UnknownKey: true})); ok {
		t.Error("a token signed with an unpublished key verifies")
	}
	if got := s.KeysRequests(); got != 3 {
		t.Errorf("KeysRequests = %d, want 3", got)
	}
}

func TestRotateSigningKeyPublishesTheNewKeyOnly(t *testing.T) {
	s := newTestServer(t, Options{})
	before := s.IssueCallerToken(CallerTokenOptions{})
	s.RotateSigningKey()
	if _, ok := verifyWithJWKS(t, s, before); ok {
		t.Error("a token signed before the rollover still verifies")
	}
	if _, ok := verifyWithJWKS(t, s, s.IssueCallerToken(CallerTokenOptions{})); !ok {
		t.Error("a token signed after the rollover does not verify")
	}
	r := do(t, s, "GET", "/nowhere/discovery/v2.0/keys", "", nil)
	wantStatus(t, r, http.StatusBadRequest)
}
