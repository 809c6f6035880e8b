package auth

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// When the HTTP transport is an OAuth protected resource (--http-auth entra), every request
// carries an Entra access token issued for the server's own app registration. A
// CallerValidator checks it as Entra documents for resource servers: the signature against
// the tenant's published keys, the issuer and audience as a pair, the token's lifetime, the
// tenant and the delegated scope. What it accepts becomes a Caller.

// Defaults of CallerValidatorConfig.
const (
	// DefaultClockSkew is how far the server's clock and Entra's may disagree when checking a
	// token's lifetime.
	DefaultClockSkew = 2 * time.Minute
	// DefaultKeysRefetch is the least time between two fetches of the signing keys caused by
	// tokens with a key id the server has not seen: Entra publishes a new key well before it
	// signs with it, and forged tokens with random key ids must not make the server hammer
	// Entra.
	DefaultKeysRefetch = time.Minute
	// keysMaxAge is how long fetched keys are used before they are fetched again, so that a
	// key Entra withdrew stops being accepted.
	keysMaxAge = 24 * time.Hour
	// keysFetchTimeout bounds one fetch of the discovery document or the keys.
	keysFetchTimeout = 10 * time.Second
	// maxKeysBody bounds what is read of either document; Entra's are a few kilobytes.
	maxKeysBody = 1 << 20
)

// CallerValidatorConfig describes the app whose tokens a CallerValidator accepts.
type CallerValidatorConfig struct {
	AuthorityHost string // Entra's host, e.g. https://login.microsoftonline.com (the cloud's or AZURE_AUTHORITY_HOST)
	V1Issuer      string // the cloud's Cloud.V1Issuer; default that of the public cloud
	TenantID      string // the app's home tenant (a GUID), whose discovery document names the keys
	// AllowedTenants are the tenants whose users may call (tid), for an app registered as
	// multi-tenant; TenantID is always allowed.
	AllowedTenants []string
	ClientID       string // the app's client id: the audience of v2.0 tokens
	// AppIDURIs are the app's Application ID URIs, the audiences of v1.0 tokens; default
	// api://{ClientID}.
	AppIDURIs []string
	Scope     string // the delegated scope every token must carry in scp, e.g. user_impersonation

	HTTPClient  *http.Client  // reaches AuthorityHost; nil: http.DefaultClient
	ClockSkew   time.Duration // default DefaultClockSkew
	KeysRefetch time.Duration // default DefaultKeysRefetch
}

// CallerValidator checks callers' access tokens. It is safe for concurrent use, and built
// once: it caches the tenant's signing keys.
type CallerValidator struct {
	cfg     CallerValidatorConfig
	parser  *jwt.Parser
	v2Host  string // AuthorityHost without a trailing slash
	allowed []string

	mu          sync.Mutex
	jwksURI     string
	keys        map[string]*rsa.PublicKey // by key id
	fetched     time.Time                 // when keys were fetched
	lastAttempt time.Time                 // when a fetch last started
	lastErr     error                     // why the last fetch failed
	fetching    chan struct{}             // closed when the fetch in progress ends; nil if none
}

// NewCallerValidator checks cfg and returns a validator for it. It does no network I/O: the
// keys are fetched when the first token arrives.
func NewCallerValidator(cfg CallerValidatorConfig) (*CallerValidator, error) {
	host, err := url.Parse(cfg.AuthorityHost)
	if err != nil || host.Scheme != "https" || host.Host == "" {
		return nil, fmt.Errorf("the authority host %q is not an https URL", cfg.AuthorityHost)
	}
	if cfg.TenantID == "" || cfg.ClientID == "" || cfg.Scope == "" {
		return nil, errors.New("a caller token validator needs the tenant id, the client id and the scope")
	}
	if cfg.V1Issuer == "" {
		cfg.V1Issuer = publicV1Issuer
	}
	if len(cfg.AppIDURIs) == 0 {
		cfg.AppIDURIs = []string{"api://" + cfg.ClientID}
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	if cfg.ClockSkew <= 0 {
		cfg.ClockSkew = DefaultClockSkew
	}
	if cfg.KeysRefetch <= 0 {
		cfg.KeysRefetch = DefaultKeysRefetch
	}
	allowed := []string{strings.ToLower(cfg.TenantID)}
	for _, t := range cfg.AllowedTenants {
		allowed = append(allowed, strings.ToLower(t))
	}
	return &CallerValidator{
		cfg: cfg,
		// RS256 only: Entra signs access tokens with it, and accepting whatever the token's
		// header names would let a forger pick "none" or an HMAC keyed with the public key.
		parser: jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithLeeway(cfg.ClockSkew),
			jwt.WithExpirationRequired()),
		v2Host:  strings.TrimSuffix(cfg.AuthorityHost, "/"),
		allowed: allowed,
	}, nil
}

// ScopeURI is the full name of the required scope, as clients ask for it when they sign in:
// api://{client id}/{scope}.
func (v *CallerValidator) ScopeURI() string { return "api://" + v.cfg.ClientID + "/" + v.cfg.Scope }

// Authority is the home tenant's v2.0 authority, the authorization server clients sign in at.
func (v *CallerValidator) Authority() string { return v.v2Host + "/" + v.cfg.TenantID + "/v2.0" }

// CallerTokenError is why a caller's token was refused, in the terms of RFC 6750 §3.1.
// Description is safe to show the caller: it never contains the token or any of its claims.
type CallerTokenError struct {
	// Status is 401 (no token, or an invalid one), 403 (a valid token short of the scope) or
	// 503 (the signing keys could not be fetched: not the caller's fault).
	Status int
	// Code is "invalid_token", "insufficient_scope", or "" when no token was sent or the
	// server could not check it.
	Code        string
	Description string
	// Detail says more for the server's log: which claim did not match and its value. It
	// never holds the token itself.
	Detail string
}

func (e *CallerTokenError) Error() string {
	if e.Detail != "" {
		return e.Description + " (" + e.Detail + ")"
	}
	return e.Description
}

func invalidToken(description, detail string) *CallerTokenError {
	return &CallerTokenError{Status: http.StatusUnauthorized, Code: "invalid_token", Description: description, Detail: detail}
}

// ErrNoCallerToken is the refusal of a request that carried no token.
var ErrNoCallerToken = &CallerTokenError{Status: http.StatusUnauthorized, Description: "this server requires an Entra ID access token"}

// callerClaims are the claims of an Entra access token that the validator reads, v1.0 or v2.0.
type callerClaims struct {
	jwt.RegisteredClaims
	Ver               string   `json:"ver"`
	TID               string   `json:"tid"`
	OID               string   `json:"oid"`
	Scp               string   `json:"scp"`
	Roles             []string `json:"roles"`
	AppID             string   `json:"appid"` // v1.0
	Azp               string   `json:"azp"`   // v2.0
	UPN               string   `json:"upn"`
	UniqueName        string   `json:"unique_name"`
	PreferredUsername string   `json:"preferred_username"`
}

// errUnknownKey is a token signed with a key the tenant does not publish.
var errUnknownKey = errors.New("unknown signing key")

// Validate checks raw, the token of a request's Authorization header, and returns the caller
// it names. Its errors are *CallerTokenError.
func (v *CallerValidator) Validate(ctx context.Context, raw string) (Caller, error) {
	if raw == "" {
		return Caller{}, ErrNoCallerToken
	}
	var claims callerClaims
	var kid string
	_, err := v.parser.ParseWithClaims(raw, &claims, func(t *jwt.Token) (any, error) {
		kid, _ = t.Header["kid"].(string)
		if kid == "" {
			return nil, errUnknownKey
		}
		return v.key(ctx, kid)
	})
	if err != nil {
		return Caller{}, v.parseError(err, kid)
	}

	// The tenant first: the issuer is checked against it.
	tid := strings.ToLower(claims.TID)
	if !slices.Contains(v.allowed, tid) {
		return Caller{}, invalidToken("the token was issued by a tenant this server does not accept", "tid "+claims.TID)
	}
	// Issuer and audience as a pair: each format has its own issuer, and its own way of
	// naming the app. A token whose pair does not match is not one Entra issued for this app.
	var iss string
	var auds []string
	switch claims.Ver {
	case "1.0":
		iss, auds = v.cfg.V1Issuer+claims.TID+"/", v.cfg.AppIDURIs
	case "2.0":
		iss, auds = v.v2Host+"/"+claims.TID+"/v2.0", []string{v.cfg.ClientID}
	default:
		return Caller{}, invalidToken("the token is not an Entra ID access token", fmt.Sprintf("ver %q", claims.Ver))
	}
	if claims.Issuer != iss {
		return Caller{}, invalidToken("the token's issuer is not Entra ID for its tenant",
			fmt.Sprintf("v%s token with iss %q, want %q", claims.Ver, claims.Issuer, iss))
	}
	if len(claims.Audience) != 1 || !slices.Contains(auds, claims.Audience[0]) {
		return Caller{}, invalidToken("the token was issued for another application",
			fmt.Sprintf("v%s token with aud %q, want one of %q", claims.Ver, strings.Join(claims.Audience, " "), auds))
	}
	if claims.OID == "" {
		return Caller{}, invalidToken("the token names no user or app (no oid claim)", "")
	}
	// The delegated scope. An app-only token (roles, no scp) is refused too: the server acts
	// on behalf of a signed-in user, and Entra's on-behalf-of exchange needs a user's token.
	// So is an ID token issued to this app, which has the same issuer and audience but no scp.
	scopes := strings.Fields(claims.Scp)
	if !slices.Contains(scopes, v.cfg.Scope) {
		desc := "the token does not carry the scope " + v.ScopeURI()
		if len(scopes) == 0 {
			desc = "the token is not a user's delegated token with the scope " + v.ScopeURI() + ": sign a user in"
		}
		return Caller{}, &CallerTokenError{Status: http.StatusForbidden, Code: "insufficient_scope", Description: desc,
			Detail: fmt.Sprintf("scp %q", claims.Scp)}
	}

	c := Caller{
		TenantID: claims.TID, ObjectID: claims.OID, Scopes: scopes, Roles: claims.Roles,
		Username:  firstNonEmpty(claims.UPN, claims.UniqueName, claims.PreferredUsername),
		AppID:     firstNonEmpty(claims.AppID, claims.Azp),
		assertion: raw,
	}
	if claims.ExpiresAt != nil {
		c.ExpiresOn = claims.ExpiresAt.Time
	}
	return c, nil
}

// parseError words what the JWT library refused.
func (v *CallerValidator) parseError(err error, kid string) error {
	var cte *CallerTokenError
	switch {
	case errors.As(err, &cte):
		return cte
	case errors.Is(err, errUnknownKey):
		return invalidToken("the token is not signed by a key Entra ID publishes for this tenant", "kid "+kid)
	case errors.Is(err, jwt.ErrTokenExpired):
		return invalidToken("the token has expired: get a new one", "")
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return invalidToken("the token is not valid yet", "")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return invalidToken("the token's signature is not valid", "kid "+kid)
	case errors.Is(err, jwt.ErrTokenMalformed):
		return invalidToken("the token is not a JSON Web Token", "")
	}
	return invalidToken("the token is not valid", err.Error())
}

// key returns the tenant's signing key kid. The keys are fetched on first use, again once
// they are a day old, and again for a key id not seen before, but at most once per
// KeysRefetch; concurrent requests share one fetch.
func (v *CallerValidator) key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	waited := false
	for {
		v.mu.Lock()
		k, known := v.keys[kid]
		fresh := !v.fetched.IsZero() && time.Since(v.fetched) < keysMaxAge
		if known && fresh {
			v.mu.Unlock()
			return k, nil
		}
		if ch := v.fetching; ch != nil {
			v.mu.Unlock()
			select {
			case <-ch:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			waited = true
			continue
		}
		mayFetch := !waited && (v.lastAttempt.IsZero() || time.Since(v.lastAttempt) >= v.cfg.KeysRefetch)
		if !mayFetch {
			lastErr, haveKeys := v.lastErr, v.keys != nil
			v.mu.Unlock()
			switch {
			case known: // stale, but the keys cannot be fetched again yet
				return k, nil
			case !haveKeys:
				return nil, &CallerTokenError{Status: http.StatusServiceUnavailable,
					Description: "the server cannot check tokens: Entra ID's signing keys could not be fetched", Detail: errString(lastErr)}
			}
			return nil, errUnknownKey
		}
		ch := make(chan struct{})
		v.fetching, v.lastAttempt = ch, time.Now()
		v.mu.Unlock()

		// One caller's cancelled request must not fail the fetch others wait for.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), keysFetchTimeout)
		keys, err := v.fetchKeys(fctx)
		cancel()

		v.mu.Lock()
		if err == nil {
			v.keys, v.fetched = keys, time.Now()
		}
		v.lastErr = err
		v.fetching = nil
		close(ch)
		v.mu.Unlock()
		waited = true
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// fetchKeys reads the tenant's JSON Web Key Set from the jwks_uri of its OpenID
// configuration.
func (v *CallerValidator) fetchKeys(ctx context.Context) (map[string]*rsa.PublicKey, error) {
	v.mu.Lock()
	jwksURI := v.jwksURI
	v.mu.Unlock()
	if jwksURI == "" {
		var doc struct {
			JWKSURI string `json:"jwks_uri"`
		}
		if err := v.getJSON(ctx, v.Authority()+"/.well-known/openid-configuration", &doc); err != nil {
			return nil, err
		}
		if doc.JWKSURI == "" {
			return nil, errors.New("the OpenID configuration names no jwks_uri")
		}
		jwksURI = doc.JWKSURI
		v.mu.Lock()
		v.jwksURI = jwksURI
		v.mu.Unlock()
	}
	var set struct {
		Keys []struct {
			Kty string `json:"kty"`
			Use string `json:"use"`
			Kid string `json:"kid"`
			N   string `json:"n"`
			E   string `json:"e"`
		} `json:"keys"`
	}
	if err := v.getJSON(ctx, jwksURI, &set); err != nil {
		return nil, err
	}
	keys := map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		if k.Kty != "RSA" || k.Kid == "" || (k.Use != "" && k.Use != "sig") {
			continue
		}
		n, errN := base64.RawURLEncoding.DecodeString(k.N)
		e, errE := base64.RawURLEncoding.DecodeString(k.E)
		if errN != nil || errE != nil || len(e) == 0 || len(e) > 4 {
			continue
		}
		keys[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s holds no RSA signing key", jwksURI)
	}
	return keys, nil
}

func (v *CallerValidator) getJSON(ctx context.Context, u string, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := v.cfg.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("fetching %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetching %s: HTTP %d", u, resp.StatusCode)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxKeysBody)).Decode(into); err != nil {
		return fmt.Errorf("reading %s: %w", u, err)
	}
	return nil
}
