package pbitest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// The user side of the fake directory: the accounts that sign in through a
// public client (device code, username and password), and the refresh tokens
// they are given. The app registration ClientID doubles as that public client
// ("Allow public client flows" = Yes), so user grants must not send its
// secret, as with a public client in Entra.

// DemoUserPassword is the password of DefaultUserPrincipalName for the
// password grant (ROPC). Like every identity here, it is made up.
const DemoUserPassword = "pbitest-demo-user-password-not-a-real-one"

// directoryUsers holds the users and the state of their sign-ins. It has its
// own lock: Entra requests never touch the Power BI state.
type directoryUsers struct {
	mu            sync.Mutex
	passwords     map[string]string // by lower-case UPN
	names         map[string]string // lower-case UPN -> UPN as added
	mfa           map[string]bool
	refreshTokens map[string]refreshGrant
	deviceCodes   map[string]*deviceAuthorization // by device_code
	slowDowns     int                             // device-code polls still to answer slow_down
}

// refreshGrant is what a refresh token stands for.
type refreshGrant struct {
	upn      string
	clientID string
}

func newDirectoryUsers() *directoryUsers {
	return &directoryUsers{
		passwords:     map[string]string{strings.ToLower(DefaultUserPrincipalName): DemoUserPassword},
		names:         map[string]string{strings.ToLower(DefaultUserPrincipalName): DefaultUserPrincipalName},
		mfa:           map[string]bool{},
		refreshTokens: map[string]refreshGrant{},
		deviceCodes:   map[string]*deviceAuthorization{},
	}
}

// directory returns the user directory, created on first use so that
// NewServer need not know about it.
func (s *Server) directory() *directoryUsers {
	s.usersOnce.Do(func() { s.users = newDirectoryUsers() })
	return s.users
}

// AddUser adds a user who can sign in with password (or with a device code,
// where the password is not asked). Adding an existing user changes the
// password.
func (s *Server) AddUser(upn, password string) {
	d := s.directory()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.passwords[strings.ToLower(upn)] = password
	d.names[strings.ToLower(upn)] = upn
}

// RequireMFA makes the user's password sign-ins fail as Entra answers when
// Conditional Access demands multi-factor authentication: AADSTS50076,
// which a password grant cannot satisfy. Device-code sign-ins still work,
// since the user completes MFA in the browser.
func (s *Server) RequireMFA(upn string) {
	d := s.directory()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.mfa[strings.ToLower(upn)] = true
}

// RevokeRefreshTokens revokes the refresh tokens issued so far to upn (every
// user's if upn is ""), as "Revoke sessions" in Entra does: redeeming one
// then fails with AADSTS70008.
func (s *Server) RevokeRefreshTokens(upn string) {
	s.revokeAPIRefreshTokens(upn)
	d := s.directory()
	d.mu.Lock()
	defer d.mu.Unlock()
	for rt, g := range d.refreshTokens {
		if upn == "" || strings.EqualFold(g.upn, upn) {
			delete(d.refreshTokens, rt)
		}
	}
}

// lookupUser returns the user's UPN as added, if the user exists.
func (d *directoryUsers) lookupUser(upn string) (string, bool) {
	name, ok := d.names[strings.ToLower(upn)]
	return name, ok
}

// userOID is the object id of a user.
func userOID(upn string) string {
	if strings.EqualFold(upn, DefaultUserPrincipalName) {
		return userObjectID
	}
	h := sha256.Sum256([]byte(strings.ToLower(upn)))
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// userGrantTypes are the grants that sign a user in. They alone accept the
// multi-tenant aliases organizations and common (see token).
var userGrantTypes = map[string]bool{
	"password":      true,
	"device_code":   true,
	"refresh_token": true,
	"urn:ietf:params:oauth:grant-type:device_code": true,
}

// isMultiTenantAlias reports whether a tenant path segment is one of the
// aliases a multi-tenant app signs users in through. (consumers is for
// personal Microsoft accounts, which Power BI does not take, and is left
// unknown, as is any other tenant.)
func isMultiTenantAlias(tenant string) bool {
	return strings.EqualFold(tenant, "organizations") || strings.EqualFold(tenant, "common")
}

// noTenantInformation is Entra's answer to an app-only request through
// organizations or common: those name no tenant to issue the token in.
func noTenantInformation() entraError {
	return entraError{status: http.StatusBadRequest, code: "invalid_request", aadsts: 50059,
		message: "No tenant-identifying information found in either the request or implied by any provided credentials."}
}

// checkUserGrantTenant refuses the password grant through common, as Entra
// does (api-notes 3.4): only organizations or a tenant.
func checkUserGrantTenant(grant, tenant string) *entraError {
	if grant == "password" && strings.EqualFold(tenant, "common") {
		return &entraError{status: http.StatusBadRequest, code: "invalid_request", aadsts: 9001023,
			message: "The grant type isn't supported over the /common or /consumers endpoints. Please use the /organizations or tenant-specific endpoint."}
	}
	return nil
}

// authenticatePublicClient checks the client of a user grant: the app must
// exist, and as a public client it must not present a credential.
func (s *Server) authenticatePublicClient(r *http.Request, form url.Values) *entraError {
	clientID := form.Get("client_id")
	if clientID == "" {
		e := missingParameter("client_id")
		return &e
	}
	if !strings.EqualFold(clientID, s.opts.ClientID) {
		return unknownApplication(clientID)
	}
	return refuseClientCredential(r, form)
}

// refuseClientCredential is Entra's answer to a public client that sends a
// secret or an assertion, as only confidential clients may; nil otherwise.
func refuseClientCredential(r *http.Request, form url.Values) *entraError {
	_, _, basic := r.BasicAuth()
	if form.Has("client_secret") || form.Has("client_assertion") || basic {
		return &entraError{status: http.StatusUnauthorized, code: "invalid_client", aadsts: 700025,
			message: "Client is public so neither 'client_assertion' nor 'client_secret' should be presented."}
	}
	return nil
}

// checkUserGrant does what every user grant checks first, in Entra's order:
// the public client, then the grant's own parameters, then (when the grant
// asks for a scope) the scope. It returns the error to answer, or nil.
func (s *Server) checkUserGrant(r *http.Request, form url.Values, scoped bool, params ...string) *entraError {
	if e := s.authenticatePublicClient(r, form); e != nil {
		return e
	}
	for _, name := range params {
		if form.Get(name) == "" {
			e := missingParameter(name)
			return &e
		}
	}
	if scoped {
		return checkUserScope(form.Get("scope"))
	}
	return nil
}

// checkUserScope validates the scope of a user grant: present, and naming no
// resource but Power BI or Fabric (by its .default or a delegated permission).
func checkUserScope(scope string) *entraError {
	if strings.TrimSpace(scope) == "" {
		e := missingParameter("scope")
		return &e
	}
	for _, sc := range resourceScopes(scope) {
		u, err := url.Parse(sc)
		resource := sc
		if err == nil && u.Host != "" {
			resource = u.Scheme + "://" + u.Host + strings.TrimSuffix(u.Path[:strings.LastIndex(u.Path, "/")+1], "/")
		}
		if !strings.EqualFold(resource, powerBIResource) && !strings.EqualFold(resource, fabricResource) {
			return &entraError{status: http.StatusBadRequest, code: "invalid_resource", aadsts: 500011,
				message: fmt.Sprintf("The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", resource, tenantDisplayName)}
		}
	}
	return nil
}

// userTokenResponse signs upn in: a delegated access token, a new refresh
// token, an id_token and client_info (from which MSAL builds its account),
// and the requested scope echoed, as Entra answers a public client.
func (s *Server) userTokenResponse(upn, clientID, scope string) tokenResponse {
	lifetime := int(s.opts.TokenLifetime / time.Second)
	oid := userOID(upn)
	return tokenResponse{
		TokenType:    "Bearer",
		Scope:        scope,
		ExpiresIn:    lifetime,
		ExtExpiresIn: lifetime,
		AccessToken:  s.issueUserToken(upn, scopeAudience(scope), s.opts.TokenLifetime),
		RefreshToken: s.newRefreshToken(upn, clientID),
		IDToken:      s.idToken(upn, clientID),
		ClientInfo:   base64.RawURLEncoding.EncodeToString(marshal(map[string]string{"uid": oid, "utid": s.opts.TenantID})),
	}
}

// newRefreshToken issues an opaque refresh token for upn.
func (s *Server) newRefreshToken(upn, clientID string) string {
	b := make([]byte, 48)
	_, _ = rand.Read(b)
	rt := "1.pbitest-rt." + base64.RawURLEncoding.EncodeToString(b)
	d := s.directory()
	d.mu.Lock()
	d.refreshTokens[rt] = refreshGrant{upn: upn, clientID: clientID}
	d.mu.Unlock()
	return rt
}

// idToken is a v2.0 OpenID Connect id_token for upn. MSAL reads its claims
// without checking the signature.
func (s *Server) idToken(upn, clientID string) string {
	now := time.Now()
	name, _, _ := strings.Cut(upn, "@")
	claims := map[string]any{
		"aud":                clientID,
		"iss":                s.URL() + "/" + s.opts.TenantID + "/v2.0",
		"iat":                now.Unix(),
		"nbf":                now.Unix(),
		"exp":                now.Add(time.Hour).Unix(),
		"name":               name,
		"oid":                userOID(upn),
		"preferred_username": upn,
		"sub":                userOID(upn),
		"tid":                s.opts.TenantID,
		"ver":                "2.0",
	}
	payload, _ := json.Marshal(claims)
	signingInput := jwtHeader + "." + base64.RawURLEncoding.EncodeToString(payload)
	return signingInput + "." + base64.RawURLEncoding.EncodeToString(s.mac(signingInput))
}

// userSignInRoutes registers the endpoints of user sign-in besides the token
// endpoint: the device authorization endpoint, the page where the user
// enters the code, and the user realm lookup MSAL makes before a password
// grant.
func (s *Server) userSignInRoutes() {
	s.handleEntra("POST /{tenant}/oauth2/v2.0/devicecode", s.deviceCodeEndpoint)
	s.handleEntra("GET /devicelogin", s.deviceLoginPage)
	s.handleEntra("POST /devicelogin", s.deviceLoginSubmit)
	s.handleEntra("GET /common/UserRealm/{user}", s.userRealm)
}

// userRealm answers MSAL's realm discovery: every user of the fake directory
// is a cloud-only ("Managed") account, which signs in with a password grant
// rather than through a federation server.
func (s *Server) userRealm(w http.ResponseWriter, r *http.Request) {
	user := r.PathValue("user")
	_, domain, _ := strings.Cut(user, "@")
	body := orderedObject{
		{"ver", "1.0"},
		{"account_type", "Managed"},
		{"domain_name", domain},
		{"cloud_instance_name", "microsoftonline.com"},
		{"cloud_audience_urn", "urn:federation:MicrosoftOnline"},
	}
	writeBody(w, http.StatusOK, contentTypeJSON, marshal(body))
}

func lowerUPN(upn string) string { return strings.ToLower(upn) }

// scopeAudience is the audience of a token for scope: Fabric's when it asks for Fabric, else
// Power BI's. A refresh token is good for either resource, as Entra's are.
func scopeAudience(scope string) string {
	if isFabricScope(scope) {
		return fabricResource
	}
	return powerBIResource
}
