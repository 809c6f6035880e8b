package pbitest

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

func init() {
	grantTypes["authorization_code"] = grantAuthorizationCode
	// A multi-tenant client signs users in through organizations or common,
	// like the other user grants.
	userGrantTypes["authorization_code"] = true
}

// authenticateAPIClient checks the client of a sign-in to the API: a
// registered public client, which presents no credential.
func (s *Server) authenticateAPIClient(r *http.Request, form url.Values) *entraError {
	clientID := form.Get("client_id")
	if clientID == "" {
		e := missingParameter("client_id")
		return &e
	}
	st := s.signIn()
	st.mu.Lock()
	_, known := st.publicClients[strings.ToLower(clientID)]
	st.mu.Unlock()
	if !known {
		return unknownApplication(clientID)
	}
	return refuseClientCredential(r, form)
}

// invalidCode is Entra's answer to a code that is unknown, expired, or was
// issued to another client.
func invalidCode() entraError {
	return entraError{status: http.StatusBadRequest, code: "invalid_grant", aadsts: 70008,
		message: "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource."}
}

// grantAuthorizationCode serves grant_type=authorization_code: the client
// redeems a code from the authorize endpoint, once, with the redirect URI it
// was issued to and the PKCE verifier of its challenge.
func grantAuthorizationCode(s *Server, w http.ResponseWriter, r *http.Request, form url.Values) {
	if e := s.authenticateAPIClient(r, form); e != nil {
		writeEntraError(w, r, *e)
		return
	}
	for _, name := range []string{"code", "redirect_uri"} {
		if form.Get(name) == "" {
			writeEntraError(w, r, missingParameter(name))
			return
		}
	}
	st := s.signIn()
	st.mu.Lock()
	c := st.codes[form.Get("code")]
	var e *entraError
	switch {
	case c == nil || !strings.EqualFold(c.clientID, form.Get("client_id")) || !time.Now().Before(c.expiresOn):
		e = ptr(invalidCode())
	case c.redeemed:
		e = &entraError{status: http.StatusBadRequest, code: "invalid_grant", aadsts: 54005,
			message: "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token."}
	case c.redirectURI != form.Get("redirect_uri"):
		e = &entraError{status: http.StatusBadRequest, code: "invalid_client", aadsts: 500112,
			message: fmt.Sprintf("The reply address '%s' does not match the reply address '%s' provided when requesting Authorization code.", form.Get("redirect_uri"), c.redirectURI)}
	default:
		e = checkVerifier(c, form)
		if e == nil {
			e = s.checkResource(st, form.Get("resource"))
		}
	}
	if e == nil {
		// Redeemed even if what follows fails: a code works once.
		c.redeemed = true
	}
	var grant apiGrant
	var nonce string
	if c != nil {
		grant, nonce = c.apiGrant, c.nonce
	}
	st.mu.Unlock()
	if e != nil {
		writeEntraError(w, r, *e)
		return
	}
	writeBody(w, http.StatusOK, contentTypeJSON, marshal(s.apiTokenResponse(grant, nonce, form.Get("client_info") == "1")))
}

func ptr[T any](v T) *T { return &v }

// checkVerifier checks the PKCE code_verifier against the code's challenge.
// Entra answers 50148 when the verifier is missing and 501481 when it does
// not match (as observed in the errors clients report).
func checkVerifier(c *authCode, form url.Values) *entraError {
	if c.challenge == "" {
		return nil
	}
	verifier := form.Get("code_verifier")
	if verifier == "" {
		return &entraError{status: http.StatusBadRequest, code: "invalid_grant", aadsts: 50148,
			message: "The code_verifier does not match the code_challenge supplied in the authorization request for PKCE."}
	}
	want := verifier
	if c.method == "S256" {
		sum := sha256.Sum256([]byte(verifier))
		want = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	if subtle.ConstantTimeCompare([]byte(want), []byte(c.challenge)) != 1 {
		return &entraError{status: http.StatusBadRequest, code: "invalid_grant", aadsts: 501481,
			message: "The Code_Verifier does not match the code_challenge supplied in the authorization request."}
	}
	return nil
}

// apiTokenResponse signs a user in to the server's API: an access token in
// the manifest's version, a refresh token when offline_access was asked for
// and an id_token when openid was.
func (s *Server) apiTokenResponse(g apiGrant, nonce string, clientInfo bool) tokenResponse {
	st := s.signIn()
	st.mu.Lock()
	perms, _ := s.apiScopes(st, g.clientID, g.scope)
	version := st.tokenVersion
	st.mu.Unlock()
	scopes := map[string]bool{}
	for _, sc := range strings.Fields(strings.ToLower(g.scope)) {
		scopes[sc] = true
	}
	lifetime := int(s.opts.TokenLifetime / time.Second)
	resp := tokenResponse{
		TokenType:    "Bearer",
		Scope:        g.scope,
		ExpiresIn:    lifetime,
		ExtExpiresIn: lifetime,
		AccessToken: s.IssueCallerToken(CallerTokenOptions{User: g.upn, Version: version,
			Scopes: dedupe(perms), ClientApp: g.clientID, Lifetime: s.opts.TokenLifetime}),
	}
	if scopes["offline_access"] {
		b := make([]byte, 48)
		_, _ = rand.Read(b)
		rt := "1.pbitest-rt." + base64.RawURLEncoding.EncodeToString(b)
		st.mu.Lock()
		st.refreshTokens[rt] = g
		st.mu.Unlock()
		resp.RefreshToken = rt
	}
	if scopes["openid"] {
		resp.IDToken = s.idTokenWithNonce(g.upn, g.clientID, nonce)
	}
	if clientInfo {
		resp.ClientInfo = base64.RawURLEncoding.EncodeToString(marshal(map[string]string{"uid": userOID(g.upn), "utid": s.opts.TenantID}))
	}
	return resp
}

// idTokenWithNonce is idToken with the nonce of the authorization request,
// which OpenID Connect clients check.
func (s *Server) idTokenWithNonce(upn, clientID, nonce string) string {
	if nonce == "" {
		return s.idToken(upn, clientID)
	}
	parts := strings.Split(s.idToken(upn, clientID), ".")
	var claims map[string]any
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	_ = json.Unmarshal(raw, &claims)
	claims["nonce"] = nonce
	signingInput := jwtHeader + "." + base64.RawURLEncoding.EncodeToString(marshal(claims))
	return signingInput + "." + base64.RawURLEncoding.EncodeToString(s.mac(signingInput))
}

func dedupe(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range in {
		if !seen[strings.ToLower(v)] {
			seen[strings.ToLower(v)] = true
			out = append(out, v)
		}
	}
	return out
}

// redeemAPIRefreshToken serves grant_type=refresh_token for a refresh token
// of an API sign-in, or from a client of the API; it reports false, answering
// nothing, for any other, which the refresh grant then handles as before. Like Entra, the old token stays
// valid and a new one is issued.
func (s *Server) redeemAPIRefreshToken(w http.ResponseWriter, r *http.Request, form url.Values) bool {
	clientID := form.Get("client_id")
	st := s.signIn()
	st.mu.Lock()
	g, ok := st.refreshTokens[form.Get("refresh_token")]
	_, apiClient := st.publicClients[strings.ToLower(clientID)]
	st.mu.Unlock()
	// The server's own app keeps its Power BI sign-ins (users.go); a client
	// of the API whose token is unknown or revoked is answered here.
	if !ok && (!apiClient || strings.EqualFold(clientID, s.opts.ClientID)) {
		return false
	}
	if e := s.authenticateAPIClient(r, form); e != nil {
		writeEntraError(w, r, *e)
		return true
	}
	if !ok || !strings.EqualFold(g.clientID, clientID) {
		writeEntraError(w, r, invalidCode())
		return true
	}
	// A refresh may narrow the scope; without one it keeps the sign-in's.
	st.mu.Lock()
	e := s.checkResource(st, form.Get("resource"))
	if sc := form.Get("scope"); sc != "" && e == nil {
		_, e = s.apiScopes(st, clientID, sc)
		g.scope = sc
	}
	st.mu.Unlock()
	if e != nil {
		writeEntraError(w, r, *e)
		return true
	}
	writeBody(w, http.StatusOK, contentTypeJSON, marshal(s.apiTokenResponse(g, "", form.Get("client_info") == "1")))
	return true
}

// revokeAPIRefreshTokens is RevokeRefreshTokens for API sign-ins.
func (s *Server) revokeAPIRefreshTokens(upn string) {
	st := s.signIn()
	st.mu.Lock()
	defer st.mu.Unlock()
	for rt, g := range st.refreshTokens {
		if upn == "" || strings.EqualFold(g.upn, upn) {
			delete(st.refreshTokens, rt)
		}
	}
}
