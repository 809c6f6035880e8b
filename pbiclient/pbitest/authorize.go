package pbitest

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// The authorization code grant with PKCE, as an OAuth client of the server's
// own API signs a user in (an MCP client such as VS Code, Claude or the
// TypeScript SDK): the client sends the user's browser to the authorize
// endpoint, Entra signs the user in and redirects back with a one-time code,
// and the client redeems the code at the token endpoint
// (grant_authorization_code.go) for an access token to the API. There is no
// browser here: the authorize endpoint signs in the login_hint, or the user
// SignInAs names, and answers the redirect at once.

// authCodeLifetime is how long an authorization code can be redeemed. Entra
// documents codes as short lived, "typically about 10 minutes".
const authCodeLifetime = 10 * time.Minute

// signInState is the app registrations and sign-ins of the authorization
// code grant. It has its own lock, never held while taking s.mu.
type signInState struct {
	mu sync.Mutex
	// publicClients maps a lower-case client id to its redirect URIs.
	publicClients map[string][]string
	// appIDURIs are the API's Application ID URIs besides api://{ClientID}.
	appIDURIs []string
	// signInAs is who signs in when the request has no login_hint.
	signInAs string
	// tokenVersion is the API manifest's requestedAccessTokenVersion (1 or 2).
	tokenVersion int
	codes        map[string]*authCode
	// refreshTokens are those issued to API sign-ins (grant_authorization_code.go).
	refreshTokens map[string]apiGrant
	// groups maps a lower-case Entra group object id to its members' UPNs
	// (memberships.go).
	groups map[string][]string
}

// authCode is one authorization code and what it was issued for.
type authCode struct {
	apiGrant
	redirectURI string
	challenge   string
	method      string // S256 or plain
	nonce       string
	expiresOn   time.Time
	redeemed    bool
}

// apiGrant is a user's sign-in to the server's API: what a code or a refresh
// token stands for.
type apiGrant struct {
	upn      string
	clientID string
	scope    string // as requested, for the answer's scope and the token's scp
	resource string // the RFC 8707 resource the sign-in named, if any
}

func (s *Server) signIn() *signInState {
	s.signInOnce.Do(func() {
		s.signInSt = &signInState{
			publicClients: map[string][]string{
				// VS Code and MSAL register the bare loopback URIs and listen on
				// a port of their choosing, which Entra ignores for loopback.
				strings.ToLower(PublicClientID): {"http://localhost", "http://127.0.0.1"},
			},
			signInAs:      DefaultUserPrincipalName,
			tokenVersion:  1,
			codes:         map[string]*authCode{},
			refreshTokens: map[string]apiGrant{},
			groups:        map[string][]string{},
		}
	})
	return s.signInSt
}

// AddPublicClient registers a public client app ("Mobile and desktop
// applications" platform) that may sign users in to the server's API, with
// its redirect URIs; for an app already registered it adds the URIs.
// PublicClientID is registered from the start with http://localhost and
// http://127.0.0.1. As in Entra, a loopback redirect URI matches whatever port
// the request names, but its path must match.
func (s *Server) AddPublicClient(clientID string, redirectURIs ...string) {
	st := s.signIn()
	st.mu.Lock()
	defer st.mu.Unlock()
	key := strings.ToLower(clientID)
	st.publicClients[key] = append(st.publicClients[key], redirectURIs...)
}

// AddAppIDURI adds an Application ID URI to the server's API app, besides
// api://{ClientID}. Entra accepts an RFC 8707 resource parameter only when it
// is one of them: an MCP client sends the server's public URL, so that URL
// must be added (in Entra it must be https on a verified domain).
func (s *Server) AddAppIDURI(uri string) {
	st := s.signIn()
	st.mu.Lock()
	defer st.mu.Unlock()
	st.appIDURIs = append(st.appIDURIs, uri)
}

// SignInAs sets who signs in at the authorize endpoint when the request
// carries no login_hint, as if that user had a browser session; default
// DefaultUserPrincipalName.
func (s *Server) SignInAs(upn string) {
	st := s.signIn()
	st.mu.Lock()
	defer st.mu.Unlock()
	st.signInAs = upn
}

// SetAccessTokenVersion sets the requestedAccessTokenVersion of the API's app
// manifest: 1 (the default of a new registration) or 2. It decides the format
// of the access tokens the authorization code grant issues (see
// CallerTokenOptions.Version).
func (s *Server) SetAccessTokenVersion(v int) {
	if v != 1 && v != 2 {
		panic(fmt.Sprintf("pbitest: SetAccessTokenVersion(%d): the version is 1 or 2", v))
	}
	st := s.signIn()
	st.mu.Lock()
	defer st.mu.Unlock()
	st.tokenVersion = v
}

// redirectAllowed reports whether uri is a registered redirect URI of the
// client. st.mu is held.
func (st *signInState) redirectAllowed(clientID, uri string) bool {
	for _, registered := range st.publicClients[strings.ToLower(clientID)] {
		if redirectMatches(registered, uri) {
			return true
		}
	}
	return false
}

// redirectMatches compares a requested redirect URI with a registered one.
// Scheme and host ignore case; the path must match, "" and "/" alike; the
// port must match except on loopback hosts, where Entra ignores it for
// public clients.
func redirectMatches(registered, requested string) bool {
	a, errA := url.Parse(registered)
	b, errB := url.Parse(requested)
	if errA != nil || errB != nil || !b.IsAbs() || b.Fragment != "" {
		return false
	}
	if !strings.EqualFold(a.Scheme, b.Scheme) || !strings.EqualFold(a.Hostname(), b.Hostname()) {
		return false
	}
	if a.Port() != b.Port() && !isLoopbackHost(a.Hostname()) {
		return false
	}
	pathA, pathB := strings.TrimSuffix(a.Path, "/"), strings.TrimSuffix(b.Path, "/")
	return pathA == pathB && a.RawQuery == b.RawQuery
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// isAppIDURI reports whether uri is an Application ID URI of the server's
// API app. st.mu is held.
func (s *Server) isAppIDURI(st *signInState, uri string) bool {
	uri = strings.TrimSuffix(uri, "/")
	if strings.EqualFold(uri, "api://"+s.opts.ClientID) {
		return true
	}
	for _, u := range st.appIDURIs {
		if strings.EqualFold(strings.TrimSuffix(u, "/"), uri) {
			return true
		}
	}
	return false
}

// apiScopes checks the resource scopes of a sign-in to the API: each must be
// a permission of the API, named by one of its Application ID URIs or its
// bare client id. It returns the permissions (for scp), or the error.
// st.mu is held.
func (s *Server) apiScopes(st *signInState, clientID, scope string) ([]string, *entraError) {
	requested := resourceScopes(scope)
	if len(requested) == 0 {
		// Only OpenID scopes: a sign-in, but no token for the API. Real
		// clients of the API always ask for its scope.
		e := entraError{status: http.StatusBadRequest, code: "invalid_scope", aadsts: 70011,
			message: fmt.Sprintf("The provided value for the input parameter 'scope' is not valid. The scope %s is not valid.", scope)}
		return nil, &e
	}
	var perms []string
	for _, sc := range requested {
		i := strings.LastIndex(sc, "/")
		if i < 0 {
			e := entraError{status: http.StatusBadRequest, code: "invalid_scope", aadsts: 70011,
				message: fmt.Sprintf("The provided value for the input parameter 'scope' is not valid. The scope %s is not valid.", scope)}
			return nil, &e
		}
		resource, perm := sc[:i], sc[i+1:]
		if !strings.EqualFold(resource, s.opts.ClientID) && !s.isAppIDURI(st, resource) {
			e := entraError{status: http.StatusBadRequest, code: "invalid_resource", aadsts: 500011,
				message: fmt.Sprintf("The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", resource, tenantDisplayName)}
			return nil, &e
		}
		switch {
		case perm == ".default":
			perm = APIScope
		case !strings.EqualFold(perm, APIScope):
			e := entraError{status: http.StatusBadRequest, code: "invalid_client", aadsts: 650053,
				message: fmt.Sprintf("The application '%s' asked for scope '%s' that doesn't exist on the resource '%s'. Contact the app vendor.", clientID, perm, s.opts.ClientID)}
			return nil, &e
		}
		perms = append(perms, perm)
	}
	return perms, nil
}

// resourceMismatch is Entra v2's answer to an RFC 8707 resource parameter
// that is not an Application ID URI of the app whose scopes are requested.
func resourceMismatch() *entraError {
	return &entraError{status: http.StatusBadRequest, code: "invalid_target", aadsts: 9010010,
		message: "The resource parameter provided in the request doesn't match with the requested scopes."}
}

// checkResource applies the resource rule. st.mu is held.
func (s *Server) checkResource(st *signInState, resource string) *entraError {
	if resource != "" && !s.isAppIDURI(st, resource) {
		return resourceMismatch()
	}
	return nil
}

// authorizeEndpoint serves GET /{tenant}/oauth2/v2.0/authorize. Errors found
// before the redirect URI is known to be the client's are shown as Entra's
// error page, since sending them there would make an open redirector;
// later ones go to the redirect URI as error and error_description.
func (s *Server) authorizeEndpoint(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	tenant := r.PathValue("tenant")
	if !s.isTenant(tenant) && !isMultiTenantAlias(tenant) {
		writeSignInErrorPage(w, r, entraError{status: http.StatusBadRequest, code: "invalid_tenant",
			aadsts: 90002, message: tenantNotFound(tenant)})
		return
	}
	clientID, redirectURI := q.Get("client_id"), q.Get("redirect_uri")
	st := s.signIn()
	st.mu.Lock()
	_, known := st.publicClients[strings.ToLower(clientID)]
	allowed := known && st.redirectAllowed(clientID, redirectURI)
	st.mu.Unlock()
	switch {
	case clientID == "":
		writeSignInErrorPage(w, r, missingParameter("client_id"))
		return
	case !known:
		writeSignInErrorPage(w, r, *unknownApplication(clientID))
		return
	case !allowed:
		writeSignInErrorPage(w, r, entraError{status: http.StatusBadRequest, code: "invalid_request", aadsts: 50011,
			message: fmt.Sprintf("The redirect URI '%s' specified in the request does not match the redirect URIs configured for the application '%s'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.", redirectURI, clientID)})
		return
	}
	state, mode := q.Get("state"), q.Get("response_mode")
	code, e := s.newAuthCode(q)
	if e != nil {
		redirectWithError(w, r, redirectURI, mode, state, *e)
		return
	}
	if code == "" {
		// The user is not in the directory: Entra stays on its sign-in page.
		writeSignInErrorPage(w, r, entraError{status: http.StatusBadRequest, code: "invalid_request", aadsts: 50034,
			message: fmt.Sprintf("The user account {EmailHidden} does not exist in the %s directory. To sign into this application, the account must be added to the directory.", s.opts.TenantID)})
		return
	}
	v := url.Values{"code": {code}}
	if state != "" {
		v.Set("state", state)
	}
	// Entra adds session_state; clients ignore it.
	v.Set("session_state", newGUID())
	respondToClient(w, r, redirectURI, mode, v)
}

// formPostPage is how Entra answers in response_mode=form_post: a page that
// posts the answer to the redirect URI at once (MSAL's loopback listener
// takes only that).
const formPostPage = `<html><head><title>Working...</title></head><body><form method="POST" name="hiddenform" action="%s">%s<noscript><p>Script is disabled. Click Submit to continue.</p><input type="submit" value="Submit" /></noscript></form><script language="javascript">document.forms[0].submit();</script></body></html>
`

// respondToClient sends the authorization answer v to the client's redirect
// URI in the response mode it asked for: query (the default of the code
// flow), fragment, or form_post.
func respondToClient(w http.ResponseWriter, r *http.Request, redirectURI, mode string, v url.Values) {
	switch mode {
	case "form_post":
		var inputs strings.Builder
		for _, k := range sortedKeys(v) {
			fmt.Fprintf(&inputs, `<input type="hidden" name="%s" value="%s" />`, html.EscapeString(k), html.EscapeString(v.Get(k)))
		}
		writeBody(w, http.StatusOK, "text/html; charset=utf-8",
			[]byte(fmt.Sprintf(formPostPage, html.EscapeString(redirectURI), inputs.String())))
	case "fragment":
		http.Redirect(w, r, redirectURI+"#"+v.Encode(), http.StatusFound)
	default:
		http.Redirect(w, r, appendQuery(redirectURI, v), http.StatusFound)
	}
}

func sortedKeys(v url.Values) []string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// newAuthCode checks the authorization request past the client and redirect
// URI, signs the user in and stores a code. It returns "" and no error when
// the user is unknown to the directory.
func (s *Server) newAuthCode(q url.Values) (string, *entraError) {
	for _, name := range []string{"response_type", "scope"} {
		if q.Get(name) == "" {
			e := missingParameter(name)
			return "", &e
		}
	}
	if rt := q.Get("response_type"); rt != "code" {
		return "", &entraError{status: http.StatusBadRequest, code: "unsupported_response_type", aadsts: 700054,
			message: fmt.Sprintf("response_type '%s' is not enabled for the application.", rt)}
	}
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	if challenge != "" {
		// RFC 7636: a challenge without a method is plain; Entra takes both.
		if method == "" {
			method = "plain"
		}
		if method != "S256" && method != "plain" {
			return "", &entraError{status: http.StatusBadRequest, code: "invalid_request", aadsts: 50149,
				message: "Invalid Code_Challenge_method parameter."}
		}
		// An S256 challenge is a base64url SHA-256 (43 characters); a plain
		// one is a verifier (43 to 128).
		if n := len(challenge); (method == "S256" && n != 43) || (method == "plain" && (n < 43 || n > 128)) {
			return "", &entraError{status: http.StatusBadRequest, code: "invalid_request", aadsts: 501491,
				message: "Invalid size of Code_Challenge parameter."}
		}
	}
	st := s.signIn()
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, e := s.apiScopes(st, q.Get("client_id"), q.Get("scope")); e != nil {
		return "", e
	}
	if e := s.checkResource(st, q.Get("resource")); e != nil {
		return "", e
	}
	user := q.Get("login_hint")
	if user == "" {
		user = st.signInAs
	}
	d := s.directory()
	d.mu.Lock()
	upn, ok := d.lookupUser(user)
	d.mu.Unlock()
	if !ok {
		return "", nil
	}
	b := make([]byte, 48)
	_, _ = rand.Read(b)
	code := "1.pbitest-code." + base64.RawURLEncoding.EncodeToString(b)
	st.codes[code] = &authCode{
		apiGrant:    apiGrant{upn: upn, clientID: q.Get("client_id"), scope: q.Get("scope"), resource: q.Get("resource")},
		redirectURI: q.Get("redirect_uri"),
		challenge:   challenge,
		method:      method,
		nonce:       q.Get("nonce"),
		expiresOn:   time.Now().Add(authCodeLifetime),
	}
	return code, nil
}

// ExpireAuthorizationCodes makes every authorization code issued so far
// expire now: redeeming one fails with AADSTS70008.
func (s *Server) ExpireAuthorizationCodes() {
	st := s.signIn()
	st.mu.Lock()
	defer st.mu.Unlock()
	past := time.Now().Add(-time.Second)
	for _, c := range st.codes {
		c.expiresOn = past
	}
}

// appendQuery adds v to a URI's query.
func appendQuery(uri string, v url.Values) string {
	sep := "?"
	if strings.Contains(uri, "?") {
		sep = "&"
	}
	return uri + sep + v.Encode()
}

// redirectWithError sends an authorization error back to the client, as
// Entra does once the redirect URI is known to be the client's.
func redirectWithError(w http.ResponseWriter, r *http.Request, redirectURI, mode, state string, e entraError) {
	v := url.Values{
		"error": {e.code},
		"error_description": {fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s",
			e.aadsts, e.message, w.Header().Get("x-ms-request-id"), newGUID(), time.Now().UTC().Format("2006-01-02 15:04:05Z"))},
		"error_uri": {fmt.Sprintf("https://login.microsoftonline.com/error?code=%d", e.aadsts)},
	}
	if state != "" {
		v.Set("state", state)
	}
	respondToClient(w, r, redirectURI, mode, v)
}

// writeSignInErrorPage is Entra's "Sorry, but we're having trouble signing
// you in" page, for errors it cannot send to the client.
func writeSignInErrorPage(w http.ResponseWriter, r *http.Request, e entraError) {
	msg := fmt.Sprintf("AADSTS%d: %s", e.aadsts, e.message)
	page := fmt.Sprintf("<!DOCTYPE html>\n<html><head><title>Sign in to your account</title></head><body>"+
		"<h1>Sorry, but we're having trouble signing you in.</h1><p>%s</p><p>Request Id: %s</p></body></html>\n",
		html.EscapeString(msg), html.EscapeString(w.Header().Get("x-ms-request-id")))
	writeBody(w, e.status, "text/html; charset=utf-8", []byte(page))
}
