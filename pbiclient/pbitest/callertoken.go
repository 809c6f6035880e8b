package pbitest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"strings"
	"time"
)

// A server that acts for its callers (an MCP server run for a team) is an API
// registered in Entra: the app whose client id is ClientID exposes the scope
// APIScope under the Application ID URI api://{ClientID}, and client apps sign
// users in to it. Entra then issues access tokens for that API, signed with
// RS256 by keys it publishes at the tenant's jwks_uri, which the API checks
// on every request. pbitest does the same: IssueCallerToken makes such tokens
// and the keys endpoint publishes the key that signs them. (Power BI's own
// tokens are not checked by anyone but pbitest, so they keep their HMAC.)

// APIScope is the delegated scope the server's app exposes, the one the
// Azure portal suggests for "Expose an API".
const APIScope = "user_impersonation"

// CallerTokenOptions describe an access token for the server's API. The zero
// value is what a new app registration issues to a signed-in user: a v1.0
// token for api://{ClientID} with the APIScope scope, valid for an hour.
type CallerTokenOptions struct {
	// User is the signed-in user's UPN; default DefaultUserPrincipalName.
	User string
	// Version is the token format: 1 (default) or 2. Entra issues v1 tokens
	// unless the API's manifest sets requestedAccessTokenVersion to 2.
	Version int
	// Audience overrides aud; by default api://{ClientID} for v1 tokens and
	// the bare ClientID for v2, as Entra sets them.
	Audience string
	// TenantID is the user's tenant (tid, and the issuer's tenant); default
	// the server's.
	TenantID string
	// Scopes is scp; default [APIScope]. An empty, non-nil slice leaves scp out.
	Scopes []string
	// Roles are app roles assigned to the user (roles).
	Roles []string
	// ClientApp is the client application the user signed in with (appid or
	// azp); default PublicClientID.
	ClientApp string
	// Lifetime is how long the token is valid; default an hour. A negative
	// lifetime gives a token that has already expired.
	Lifetime time.Duration
	// UnknownKey signs with a key the keys endpoint does not publish, as a
	// forged token would be.
	UnknownKey bool
}

// PublicClientID is the client app registration a test client (an MCP
// client such as VS Code) signs users in with: a public client, no secret.
const PublicClientID = "4a1aa1d5-c567-49d0-ad0b-cd957a47f842"

// callerClaims are the claims of an access token for the server's API, v1 or
// v2; fields one version lacks stay empty and are left out.
type callerClaims struct {
	Aud               string   `json:"aud"`
	Iss               string   `json:"iss"`
	Iat               int64    `json:"iat"`
	Nbf               int64    `json:"nbf"`
	Exp               int64    `json:"exp"`
	AppID             string   `json:"appid,omitempty"`
	AppIDAcr          string   `json:"appidacr,omitempty"`
	Azp               string   `json:"azp,omitempty"`
	AzpAcr            string   `json:"azpacr,omitempty"`
	Name              string   `json:"name"`
	OID               string   `json:"oid"`
	PreferredUsername string   `json:"preferred_username,omitempty"`
	Roles             []string `json:"roles,omitempty"`
	Scp               string   `json:"scp,omitempty"`
	Sub               string   `json:"sub"`
	TID               string   `json:"tid"`
	UniqueName        string   `json:"unique_name,omitempty"`
	UPN               string   `json:"upn,omitempty"`
	UTI               string   `json:"uti"`
	Ver               string   `json:"ver"`
}

// IssueCallerToken returns an access token for the server's API, signed as
// Entra signs them (RS256, with the key id in the header).
func (s *Server) IssueCallerToken(o CallerTokenOptions) string {
	if o.User == "" {
		o.User = DefaultUserPrincipalName
	}
	if o.TenantID == "" {
		o.TenantID = s.opts.TenantID
	}
	if o.Scopes == nil {
		o.Scopes = []string{APIScope}
	}
	if o.ClientApp == "" {
		o.ClientApp = PublicClientID
	}
	if o.Lifetime == 0 {
		o.Lifetime = time.Hour
	}
	s.mu.Lock()
	s.tokenSeq++
	seq := s.tokenSeq
	s.mu.Unlock()

	now := time.Now()
	name, _, _ := strings.Cut(o.User, "@")
	c := callerClaims{
		Iat: now.Add(-tokenBackdate).Unix(), Nbf: now.Add(-tokenBackdate).Unix(), Exp: now.Add(o.Lifetime).Unix(),
		Name: name, OID: userOID(o.User), Roles: o.Roles, Scp: strings.Join(o.Scopes, " "),
		Sub: userOID(o.User), TID: o.TenantID, UTI: newUTI(seq),
	}
	if o.Version == 2 {
		c.Aud, c.Iss, c.Ver = s.opts.ClientID, s.URL()+"/"+o.TenantID+"/v2.0", "2.0"
		c.Azp, c.AzpAcr, c.PreferredUsername = o.ClientApp, "0", o.User
	} else {
		c.Aud, c.Iss, c.Ver = "api://"+s.opts.ClientID, "https://sts.windows.net/"+o.TenantID+"/", "1.0"
		c.AppID, c.AppIDAcr, c.UniqueName, c.UPN = o.ClientApp, "0", o.User, o.User
	}
	if o.Audience != "" {
		c.Aud = o.Audience
	}
	key := s.apiSigningKey()
	if o.UnknownKey {
		key = newSigningKey()
	}
	return key.sign(c)
}

// RotateSigningKey replaces the key that signs caller tokens, as Entra rolls
// its keys over: tokens issued from now on carry a key id that a resource
// server which cached the old keys has not seen, and tokens issued before are
// no longer valid.
func (s *Server) RotateSigningKey() {
	key := newSigningKey()
	s.mu.Lock()
	s.apiKey = key
	s.mu.Unlock()
}

// KeysRequests returns how many requests reached the keys (JWKS) endpoint.
func (s *Server) KeysRequests() int { return s.Count(keysRoute) }

func (s *Server) apiSigningKey() *signingKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.apiKey == nil {
		// Made on first use: most servers never issue a caller token, and an
		// RSA key takes tens of milliseconds to generate.
		s.apiKey = newSigningKey()
	}
	return s.apiKey
}

// signingKey is an RSA key with the key id Entra would publish for it.
type signingKey struct {
	priv *rsa.PrivateKey
	kid  string
}

func newSigningKey() *signingKey {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic("pbitest: generating an RSA key: " + err.Error())
	}
	// Entra's key ids are the base64url SHA-1 thumbprint of the key's
	// certificate; any stable value unique to the key serves here.
	sum := sha256.Sum256(priv.N.Bytes())
	return &signingKey{priv: priv, kid: base64.RawURLEncoding.EncodeToString(sum[:15])}
}

func (k *signingKey) sign(claims any) string {
	header, _ := json.Marshal(map[string]string{"typ": "JWT", "alg": "RS256", "kid": k.kid})
	payload, _ := json.Marshal(claims)
	input := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
	digest := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k.priv, crypto.SHA256, digest[:])
	if err != nil {
		panic("pbitest: signing a token: " + err.Error())
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// keysRoute is the tenant's JSON Web Key Set, the jwks_uri of its OpenID
// configuration.
const keysRoute = "GET /{tenant}/discovery/v2.0/keys"

// keys serves the JWKS. Entra publishes the same keys for every tenant and
// for the multi-tenant aliases; so does pbitest, for a tenant it knows.
func (s *Server) keys(w http.ResponseWriter, r *http.Request) {
	if tenant := r.PathValue("tenant"); !s.isTenant(tenant) && !isMultiTenantAlias(tenant) {
		writeEntraError(w, r, entraError{status: http.StatusBadRequest, code: "invalid_tenant",
			aadsts: 90002, message: tenantNotFound(tenant)})
		return
	}
	k := s.apiSigningKey()
	type jwk struct {
		Kty string `json:"kty"`
		Use string `json:"use"`
		Kid string `json:"kid"`
		N   string `json:"n"`
		E   string `json:"e"`
	}
	set := struct {
		Keys []jwk `json:"keys"`
	}{Keys: []jwk{{Kty: "RSA", Use: "sig", Kid: k.kid,
		N: base64.RawURLEncoding.EncodeToString(k.priv.N.Bytes()),
		E: base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.priv.E)).Bytes())}}}
	writeBody(w, http.StatusOK, contentTypeJSON, marshal(set))
}
