package pbitest

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The on-behalf-of flow (OAuth 2.0 JWT bearer grant with
// requested_token_use=on_behalf_of): a server that callers reach with tokens
// for its own API (IssueCallerToken) exchanges such a token, the assertion,
// for a Power BI token of the same user, authenticating as itself with its
// secret, certificate or federated credential. Entra checks the client
// first, then the assertion (signature, lifetime, audience), then that the
// user or an administrator consented to the app's Power BI permissions.

// jwtBearerGrant is the grant_type of the on-behalf-of flow.
const jwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// appDisplayName is the server's app registration's name, as Entra quotes it.
const appDisplayName = "powerbi-mcp"

func init() { grantTypes[jwtBearerGrant] = grantOnBehalfOf }

// OBORequests returns how many on-behalf-of requests reached the token
// endpoint, whatever their outcome.
func (s *Server) OBORequests() int {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return s.oboCalls
}

// SetAdminConsent grants (true, the default) or revokes (false) the consent
// to the app's delegated Power BI permissions. Without it, on-behalf-of
// exchanges fail with AADSTS65001 consent_required, as in a tenant where
// nobody clicked "Grant admin consent" on the app's API permissions page.
func (s *Server) SetAdminConsent(granted bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settings.noOBOConsent = !granted
}

func invalidGrant(aadsts int, message string) *entraError {
	return &entraError{status: http.StatusBadRequest, code: "invalid_grant", aadsts: aadsts, message: message}
}

// entraTime is how Entra writes instants in its error messages.
func entraTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.0000000Z") }

// grantOnBehalfOf serves the on-behalf-of exchange.
func grantOnBehalfOf(s *Server, w http.ResponseWriter, r *http.Request, form url.Values) {
	s.logMu.Lock()
	s.oboCalls++
	s.logMu.Unlock()
	if e := s.checkOnBehalfOf(r, form); e != nil {
		writeEntraError(w, r, *e)
		return
	}
	claims, e := s.verifyUserAssertion(form.Get("assertion"))
	if e != nil {
		writeEntraError(w, r, *e)
		return
	}
	if s.tenantSettings().noOBOConsent {
		writeEntraError(w, r, entraError{status: http.StatusBadRequest, code: "invalid_grant", aadsts: 65001, suberror: "consent_required",
			message: fmt.Sprintf("The user or administrator has not consented to use the application with ID '%s' named '%s'. Send an interactive authorization request for this user and resource.", s.opts.ClientID, appDisplayName)})
		return
	}
	writeBody(w, http.StatusOK, contentTypeJSON, marshal(s.onBehalfOfResponse(claims, form)))
}

// checkOnBehalfOf checks the request before its assertion: the parameters,
// the confidential client's credential and the scope.
func (s *Server) checkOnBehalfOf(r *http.Request, form url.Values) *entraError {
	for _, name := range []string{"requested_token_use", "assertion", "scope"} {
		if strings.TrimSpace(form.Get(name)) == "" {
			e := missingParameter(name)
			return &e
		}
	}
	if use := form.Get("requested_token_use"); use != "on_behalf_of" {
		return &entraError{status: http.StatusBadRequest, code: "invalid_request", aadsts: 50111,
			message: fmt.Sprintf("The requested_token_use value '%s' is not supported.", use)}
	}
	if !form.Has("client_id") {
		if _, _, basic := r.BasicAuth(); !basic {
			e := missingParameter("client_id")
			return &e
		}
	}
	// The client's own credential: secret, certificate or federated
	// assertion, checked as for client credentials (an expired federated
	// assertion gets AADSTS700024 there).
	if e := s.authenticateClient(r, form); e != nil {
		return e
	}
	return checkUserScope(form.Get("scope"))
}

// verifyUserAssertion checks the caller's token as Entra does: signed with
// the published key, not expired, and issued for this app (api://{ClientID}
// or ClientID). It returns the token's claims.
func (s *Server) verifyUserAssertion(assertion string) (*callerClaims, *entraError) {
	parts := strings.Split(assertion, ".")
	malformed := invalidGrant(50027, "JWT token is invalid or malformed.")
	if len(parts) != 3 {
		return nil, malformed
	}
	var header struct{ Alg, Kid string }
	var claims callerClaims
	h, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	p, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || json.Unmarshal(h, &header) != nil || json.Unmarshal(p, &claims) != nil {
		return nil, malformed
	}
	key := s.apiSigningKey()
	if header.Kid != key.kid {
		return nil, invalidGrant(50013, fmt.Sprintf("Assertion failed signature validation. [Reason - The key was not found., Thumbprint of key used by client: '%s']", header.Kid))
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if header.Alg != "RS256" || rsa.VerifyPKCS1v15(&key.priv.PublicKey, crypto.SHA256, digest[:], sig) != nil {
		return nil, invalidGrant(50013, fmt.Sprintf("Assertion failed signature validation. [Reason - The provided signature value did not match the expected signature value., Thumbprint of key used by client: '%s']", header.Kid))
	}
	if now := time.Now(); claims.Exp == 0 || now.Unix() >= claims.Exp {
		return nil, invalidGrant(500133, fmt.Sprintf("Assertion is not within its valid time range. Ensure that the access token is not expired before using it for user assertion, or request a new token. Current time: %s, expiry time of assertion %s.",
			entraTime(now), entraTime(time.Unix(claims.Exp, 0))))
	}
	if !strings.EqualFold(claims.Aud, "api://"+s.opts.ClientID) && !strings.EqualFold(claims.Aud, s.opts.ClientID) {
		return nil, invalidGrant(500131, fmt.Sprintf("Assertion audience does not match the Client app presenting the assertion. The audience in the assertion was '%s' and the expected audience is '%s' or one of the Application Uris of this application with App ID '%s'(%s). The downstream client must request a token for the expected audience (the application that made the OBO request) and this application should use that token as the assertion.",
			claims.Aud, s.opts.ClientID, s.opts.ClientID, appDisplayName))
	}
	return &claims, nil
}

// onBehalfOfResponse is the answer to an exchange that succeeded: a Power BI
// delegated token for the assertion's user, with a refresh token when
// offline_access was asked for, an id_token with openid and client_info when
// the client asked for it, as Entra answers.
func (s *Server) onBehalfOfResponse(c *callerClaims, form url.Values) tokenResponse {
	// v1 tokens name the user in upn and unique_name, v2 in
	// preferred_username.
	upn := c.UPN
	for _, alt := range []string{c.UniqueName, c.PreferredUsername} {
		if upn == "" {
			upn = alt
		}
	}
	lifetime := int(s.opts.TokenLifetime / time.Second)
	resp := tokenResponse{
		TokenType: "Bearer",
		// The requested scopes echoed, as for the other user grants
		// (userTokenResponse): MSAL Go fails a response whose scope lacks
		// one it asked for.
		Scope:        form.Get("scope"),
		ExpiresIn:    lifetime,
		ExtExpiresIn: lifetime,
		AccessToken:  s.issueUserToken(upn, scopeAudience(form.Get("scope")), s.opts.TokenLifetime),
	}
	asked := map[string]bool{}
	for _, sc := range strings.Fields(form.Get("scope")) {
		asked[strings.ToLower(sc)] = true
	}
	if asked["offline_access"] {
		resp.RefreshToken = s.newRefreshToken(upn, s.opts.ClientID)
	}
	if asked["openid"] {
		resp.IDToken = s.idToken(upn, s.opts.ClientID)
	}
	if form.Get("client_info") == "1" {
		resp.ClientInfo = base64.RawURLEncoding.EncodeToString(marshal(map[string]string{"uid": c.OID, "utid": c.TID}))
	}
	return resp
}
