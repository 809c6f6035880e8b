package pbitest

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// tenantDisplayName is the directory name Entra quotes in some errors.
const tenantDisplayName = "Contoso"

// TokenRequests returns how many requests reached the token endpoint.
func (s *Server) TokenRequests() int {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return s.tokenCalls
}

// entraRoutes registers the Entra ID v2.0 endpoints MSAL uses.
func (s *Server) entraRoutes() {
	s.handleEntra("GET /{tenant}/v2.0/.well-known/openid-configuration", s.openIDConfiguration)
	s.handleEntra("POST /{tenant}/oauth2/v2.0/token", s.token)
	s.handleEntra(keysRoute, s.keys)
	s.userSignInRoutes()
	s.handleEntra("GET /{tenant}/oauth2/v2.0/authorize", s.authorizeEndpoint)
	// Anything else outside the Power BI API is unknown to both services.
	s.handleEntra("/", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
}

// grantHandler serves one OAuth grant type at the token endpoint, once the
// tenant and grant_type have been checked. Grants register themselves in
// grantTypes from their own files.
type grantHandler func(s *Server, w http.ResponseWriter, r *http.Request, form url.Values)

// grantTypes maps a grant_type value to its handler.
var grantTypes = map[string]grantHandler{}

// entraError is an error answer of the Entra token service.
type entraError struct {
	status   int
	code     string // OAuth error, e.g. invalid_client
	aadsts   int    // AADSTS number
	message  string // text after "AADSTSnnn: "
	suberror string
}

// writeEntraError answers in Entra's error format: the description carries
// the AADSTS code followed by Trace ID, Correlation ID and Timestamp lines.
func writeEntraError(w http.ResponseWriter, r *http.Request, e entraError) {
	traceID := w.Header().Get("x-ms-request-id")
	correlationID := r.Header.Get("client-request-id")
	if correlationID == "" {
		correlationID = newGUID()
	}
	ts := time.Now().UTC().Format("2006-01-02 15:04:05Z")
	body := struct {
		Error         string `json:"error"`
		Description   string `json:"error_description"`
		Codes         []int  `json:"error_codes"`
		Timestamp     string `json:"timestamp"`
		TraceID       string `json:"trace_id"`
		CorrelationID string `json:"correlation_id"`
		URI           string `json:"error_uri"`
		Suberror      string `json:"suberror,omitempty"`
	}{
		Error: e.code,
		Description: fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s",
			e.aadsts, e.message, traceID, correlationID, ts),
		Codes:         []int{e.aadsts},
		Timestamp:     ts,
		TraceID:       traceID,
		CorrelationID: correlationID,
		URI:           fmt.Sprintf("https://login.microsoftonline.com/error?code=%d", e.aadsts),
		Suberror:      e.suberror,
	}
	writeBody(w, e.status, contentTypeJSON, marshal(body))
}

func tenantNotFound(tenant string) string {
	return fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", tenant)
}

func missingParameter(name string) entraError {
	return entraError{status: http.StatusBadRequest, code: "invalid_request", aadsts: 900144,
		message: fmt.Sprintf("The request body must contain the following parameter: '%s'.", name)}
}

// isTenant reports whether the path segment names this server's tenant.
func (s *Server) isTenant(segment string) bool {
	return strings.EqualFold(segment, s.opts.TenantID)
}

// openIDConfiguration serves the OIDC discovery document. Its endpoints and
// issuer point at this server, because MSAL requires the issuer's host to be
// the authority's.
func (s *Server) openIDConfiguration(w http.ResponseWriter, r *http.Request) {
	tenant := r.PathValue("tenant")
	issuerTenant := tenant
	switch {
	case s.isTenant(tenant):
	case tenant == "common" || tenant == "organizations":
		// The multi-tenant documents carry a placeholder issuer.
		issuerTenant = "{tenantid}"
	default:
		writeEntraError(w, r, entraError{status: http.StatusBadRequest, code: "invalid_tenant",
			aadsts: 90002, message: tenantNotFound(tenant)})
		return
	}
	authority := s.URL() + "/" + tenant
	// The fields in the order Entra sends them.
	doc := orderedObject{
		{"token_endpoint", authority + "/oauth2/v2.0/token"},
		{"token_endpoint_auth_methods_supported", []string{"client_secret_post", "private_key_jwt", "client_secret_basic"}},
		{"jwks_uri", authority + "/discovery/v2.0/keys"},
		{"response_modes_supported", []string{"query", "fragment", "form_post"}},
		{"subject_types_supported", []string{"pairwise"}},
		{"id_token_signing_alg_values_supported", []string{"RS256"}},
		{"response_types_supported", []string{"code", "id_token", "code id_token", "id_token token"}},
		{"scopes_supported", []string{"openid", "profile", "email", "offline_access"}},
		{"issuer", s.URL() + "/" + issuerTenant + "/v2.0"},
		{"request_uri_parameter_supported", false},
		{"userinfo_endpoint", "https://graph.microsoft.com/oidc/userinfo"},
		{"authorization_endpoint", authority + "/oauth2/v2.0/authorize"},
		{"device_authorization_endpoint", authority + "/oauth2/v2.0/devicecode"},
		{"http_logout_supported", true},
		{"frontchannel_logout_supported", true},
		{"end_session_endpoint", authority + "/oauth2/v2.0/logout"},
		{"claims_supported", []string{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name",
			"cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce",
			"preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"}},
		{"kerberos_endpoint", authority + "/kerberos"},
		{"tenant_region_scope", "NA"},
		{"cloud_instance_name", "microsoftonline.com"},
		{"cloud_graph_host_name", "graph.windows.net"},
		{"msgraph_host", "graph.microsoft.com"},
		{"rbac_url", "https://pas.windows.net"},
	}
	writeBody(w, http.StatusOK, contentTypeJSON, marshal(doc))
}

// token is the token endpoint. It checks what every grant shares (tenant,
// form, grant_type) and hands over to the grant's handler.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	s.logMu.Lock()
	s.tokenCalls++
	s.logMu.Unlock()

	tenant := r.PathValue("tenant")
	multiTenant := isMultiTenantAlias(tenant)
	if !s.isTenant(tenant) && !multiTenant {
		writeEntraError(w, r, entraError{status: http.StatusBadRequest, code: "invalid_request",
			aadsts: 90002, message: tenantNotFound(tenant)})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		writeEntraError(w, r, missingParameter("grant_type"))
		return
	}
	form := r.PostForm
	grant := form.Get("grant_type")
	if grant == "" {
		writeEntraError(w, r, missingParameter("grant_type"))
		return
	}
	handler, ok := grantTypes[grant]
	if !ok {
		writeEntraError(w, r, entraError{status: http.StatusBadRequest, code: "unsupported_grant_type",
			aadsts: 70003, message: fmt.Sprintf("The app requested an unsupported grant type '%s'.", grant)})
		return
	}
	// organizations and common name no tenant: only grants that sign a
	// user in, whose account says which tenant it belongs to, accept them.
	if multiTenant && !userGrantTypes[grant] {
		writeEntraError(w, r, noTenantInformation())
		return
	}
	if e := checkUserGrantTenant(grant, tenant); e != nil {
		writeEntraError(w, r, *e)
		return
	}
	handler(s, w, r, form)
}

// unknownApplication is Entra's answer to a client id the directory does not
// know.
func unknownApplication(clientID string) *entraError {
	return &entraError{status: http.StatusBadRequest, code: "unauthorized_client", aadsts: 700016,
		message: fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", clientID, tenantDisplayName)}
}

// authenticateClient checks the confidential client's credentials: a
// client_secret in the form or, per RFC 6749 section 2.3.1, in HTTP Basic
// authentication, or a client_assertion. It returns the error to answer, or
// nil.
func (s *Server) authenticateClient(r *http.Request, form url.Values) *entraError {
	clientID := form.Get("client_id")
	secret, hasSecret := form.Get("client_secret"), form.Has("client_secret")
	if user, pass, ok := r.BasicAuth(); ok {
		// Basic credentials are form-encoded before base64 (RFC 6749 2.3.1).
		u, errU := url.QueryUnescape(user)
		p, errP := url.QueryUnescape(pass)
		if errU == nil && errP == nil {
			if clientID == "" {
				clientID = u
			}
			if u == clientID && !hasSecret {
				secret, hasSecret = p, true
			}
		}
	}
	if clientID == "" {
		e := missingParameter("client_id")
		return &e
	}
	if !strings.EqualFold(clientID, s.opts.ClientID) {
		return unknownApplication(clientID)
	}
	if form.Has("client_assertion") || form.Has("client_assertion_type") {
		// A certificate or federated credential (grant_client_assertion.go).
		return s.authenticateAssertion(r, form, clientID)
	}
	if !hasSecret {
		return &entraError{status: http.StatusBadRequest, code: "invalid_client", aadsts: 7000218,
			message: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."}
	}
	if e, decided := s.appSecretVerdict(secret); decided {
		return e
	}
	if secret != s.opts.ClientSecret {
		return s.invalidSecretError()
	}
	if s.tenantSettings().secretExpired {
		return s.expiredSecretError()
	}
	return nil
}

// oidcScopes are the scopes MSAL adds to every request; they name no
// resource.
var oidcScopes = map[string]bool{"openid": true, "offline_access": true, "profile": true, "email": true}

// resourceScopes returns the scopes of a space separated list that name a
// resource.
func resourceScopes(scope string) []string {
	var out []string
	for _, sc := range strings.Fields(scope) {
		if !oidcScopes[strings.ToLower(sc)] {
			out = append(out, sc)
		}
	}
	return out
}

// tokenResponse is a successful token endpoint answer, fields in Entra's
// order. Grants that sign in users fill the optional ones.
type tokenResponse struct {
	TokenType    string `json:"token_type"`
	Scope        string `json:"scope,omitempty"`
	ExpiresIn    int    `json:"expires_in"`
	ExtExpiresIn int    `json:"ext_expires_in"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
	ClientInfo   string `json:"client_info,omitempty"`
}

// newAppTokenResponse issues an access token with the configured lifetime for
// the service principal signed in as form says: appidacr tells a secret (1)
// from a certificate or other assertion (2), as in Entra's tokens.
func (s *Server) newAppTokenResponse(form url.Values) tokenResponse {
	p := appPrincipal{appID: s.opts.ClientID, objectID: servicePrincipalObjectID, acr: "1"}
	if form.Has("client_assertion") {
		p.acr = "2"
	}
	if isFabricScope(form.Get("scope")) {
		p.aud = fabricResource
	}
	lifetime := int(s.opts.TokenLifetime / time.Second)
	return tokenResponse{
		TokenType:    "Bearer",
		ExpiresIn:    lifetime,
		ExtExpiresIn: lifetime,
		AccessToken:  s.issueAppToken(p, s.opts.TokenLifetime),
	}
}

// isFabricScope reports whether a scope asks for the Fabric API rather than Power BI: its
// .default or one of its delegated permissions.
func isFabricScope(scope string) bool {
	for _, sc := range resourceScopes(scope) {
		if strings.HasPrefix(strings.ToLower(sc), fabricResource+"/") {
			return true
		}
	}
	return false
}
