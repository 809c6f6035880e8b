package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/server"
	"github.com/rs/zerolog"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// How HTTP callers authenticate (--http-auth):
//   - entra: the transport is an OAuth protected resource (the MCP authorization spec, RFC
//     9728). Callers bring Entra ID access tokens for this server's app registration; each
//     request names its caller, who the tools act for.
//   - token: every caller sends the one static token of PBI_MCP_HTTP_TOKEN.
//   - none: no authentication, so only on loopback.
const (
	httpAuthEntra = "entra"
	httpAuthToken = "token"
	httpAuthNone  = "none"
)

// keysRetryAfter is the Retry-After, in seconds, of a 503 sent while Entra's signing keys
// cannot be fetched.
const keysRetryAfter = 30

// httpAuthConfig is what the --http-auth family of flags and the app's AZURE_* variables
// decide.
type httpAuthConfig struct {
	HTTPAuth       string // entra, token or none; validate fills in the default
	PublicURL      string // the URL clients reach the MCP endpoint at: the resource identifier
	AllowedTenants []string
	OAuthScope     string

	allowedTenants string // --allowed-tenants before it is split
	// The app registration, from the Azure SDK's variables, as for the server's own sign-in.
	tenantID, clientID, authorityHost string

	// For tests: the client that reaches the authority (pbitest's TLS), and the least time
	// between two key fetches. Zero values: the defaults.
	entraHTTP   *http.Client
	keysRefetch time.Duration
}

func (c *config) registerHTTPAuth(fs *flag.FlagSet) {
	fs.StringVar(&c.HTTPAuth, "http-auth", "", "how HTTP callers authenticate: entra (each caller's own Entra ID access token for this server's app; see docs/http.md), "+
		"token (the one token in "+envPrefix+"HTTP_TOKEN) or none (loopback only); default token when "+envPrefix+"HTTP_TOKEN is set, else none")
	fs.StringVar(&c.PublicURL, "public-url", "", "with --http-auth entra: the URL clients reach the MCP endpoint at, e.g. https://pbi.contoso.com/mcp; "+
		"also an Application ID URI of the app registration")
	fs.StringVar(&c.allowedTenants, "allowed-tenants", "", "with --http-auth entra: comma-separated tenant ids whose users may call, besides AZURE_TENANT_ID (a multi-tenant app)")
	fs.StringVar(&c.OAuthScope, "oauth-scope", "user_impersonation", "with --http-auth entra: the scope the app exposes that every caller's token must carry")
}

// readHTTPAuthEnv reads the app registration's variables.
func (c *config) readHTTPAuthEnv(getenv func(string) string) {
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }
	c.tenantID, c.clientID, c.authorityHost = get(auth.EnvTenantID), get(auth.EnvClientID), get(auth.EnvAuthorityHost)
	c.AllowedTenants = splitList(c.allowedTenants)
}

var guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// validateHTTPAuth checks the --http-auth family for the HTTP transports, and fills in the
// mode's default.
func (c *config) validateHTTPAuth() error {
	set := c.from.setting
	if c.HTTPAuth == "" {
		c.HTTPAuth = httpAuthNone
		if c.HTTPToken != "" {
			c.HTTPAuth = httpAuthToken
		}
	}
	switch c.HTTPAuth {
	case httpAuthNone:
		if c.HTTPToken != "" {
			return fmt.Errorf("%s, but %sHTTP_TOKEN is set: unset it, or use --http-auth token", set("http-auth"), envPrefix)
		}
		if !isLoopback(c.Addr) {
			return fmt.Errorf("%s is reachable from other machines, so callers must authenticate\n"+
				"  Set %sHTTP_TOKEN to a long random value; callers send it as 'Authorization: Bearer <token>'\n"+
				"  or use --http-auth entra (see docs/http.md), or listen on 127.0.0.1", set("addr"), envPrefix)
		}
	case httpAuthToken:
		if c.HTTPToken == "" {
			return fmt.Errorf("%s needs %sHTTP_TOKEN: set it to a long random value; callers send it as 'Authorization: Bearer <token>'", set("http-auth"), envPrefix)
		}
	case httpAuthEntra:
		return c.validateEntra()
	default:
		return fmt.Errorf("%s: use entra, token or none", set("http-auth"))
	}
	return nil
}

func (c *config) validateEntra() error {
	set := c.from.setting
	if c.Transport == "sse" {
		return fmt.Errorf("%s needs --transport http: the SSE transport's messages are posted apart from its stream, "+
			"and the MCP authorization specification defines no way to authenticate them", set("http-auth"))
	}
	if c.HTTPToken != "" {
		return fmt.Errorf("%s, but %sHTTP_TOKEN is set: callers bring Entra ID tokens instead; unset it", set("http-auth"), envPrefix)
	}
	if c.PublicURL == "" {
		return fmt.Errorf("%s needs --public-url (%s): the URL clients reach the MCP endpoint at, e.g. https://pbi.contoso.com/mcp",
			set("http-auth"), envName("public-url"))
	}
	u, err := url.Parse(c.PublicURL)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return fmt.Errorf("%s: want an absolute URL without query or fragment, e.g. https://pbi.contoso.com/mcp", set("public-url"))
	case u.Scheme == "http" && !isLoopback(net.JoinHostPort(u.Hostname(), "80")):
		return fmt.Errorf("%s: want https: clients send their tokens there, and Entra ID accepts only https Application ID URIs "+
			"(http only on localhost, for tests)", set("public-url"))
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Errorf("%s: want an https URL", set("public-url"))
	}
	if c.Sandbox {
		// The demo tenant is the authority, and its app the server's: it issues the callers'
		// tokens and takes them for on-behalf-of. Its address is known once it has started.
		c.tenantID, c.clientID = pbitest.DefaultTenantID, pbitest.DefaultClientID
	}
	if c.tenantID == "" || !guidPattern.MatchString(c.tenantID) {
		return fmt.Errorf("%s needs %s: the directory (tenant) id of the app registration, a GUID (tokens name their tenant by id)",
			set("http-auth"), auth.EnvTenantID)
	}
	if c.clientID == "" {
		return fmt.Errorf("%s needs %s: the application (client) id of the server's app registration", set("http-auth"), auth.EnvClientID)
	}
	for _, t := range c.AllowedTenants {
		if !guidPattern.MatchString(t) {
			return fmt.Errorf("%s: %q is not a tenant id; want directory (tenant) ids, GUIDs, separated by commas", set("allowed-tenants"), t)
		}
	}
	if c.OAuthScope == "" || strings.ContainsAny(c.OAuthScope, " \"\\/") {
		return fmt.Errorf("%s: want the name of one scope the app exposes, e.g. user_impersonation", set("oauth-scope"))
	}
	if _, err := auth.NewCallerValidator(c.callerValidatorConfig()); err != nil && !c.Sandbox {
		return fmt.Errorf("%s: %v (set %s, or --cloud)", set("http-auth"), err, auth.EnvAuthorityHost)
	}
	// The public host is the one clients name; mcp-go refuses other Host headers once the list
	// has an entry (loopback names always pass).
	c.AllowedHosts = append(c.AllowedHosts, u.Hostname())
	return nil
}

// useSandboxAuthority points the caller-token validator at the demo tenant --sandbox started.
func (c *config) useSandboxAuthority(tenant *pbitest.Server) {
	c.authorityHost, c.entraHTTP = tenant.AuthorityHost(), tenant.Client()
}

func (c *config) callerValidatorConfig() auth.CallerValidatorConfig {
	host := c.authorityHost
	if host == "" {
		host = c.cloud.AuthorityHost
	}
	return auth.CallerValidatorConfig{
		AuthorityHost: host, V1Issuer: c.cloud.V1Issuer, TenantID: c.tenantID, AllowedTenants: c.AllowedTenants,
		ClientID: c.clientID, AppIDURIs: []string{"api://" + c.clientID, c.PublicURL}, Scope: c.OAuthScope,
		HTTPClient: c.entraHTTP, KeysRefetch: c.keysRefetch,
	}
}

// entraAuth makes the streamable HTTP transport an OAuth protected resource.
type entraAuth struct {
	callers *auth.CallerValidator
	prm     server.ProtectedResourceMetadataConfig
	// metadataURL is where clients read the metadata, named in every 401.
	metadataURL string
	logger      zerolog.Logger
}

func newEntraAuth(cfg config, logger zerolog.Logger) *entraAuth {
	callers, err := auth.NewCallerValidator(cfg.callerValidatorConfig())
	if err != nil {
		// validateEntra built one from the same configuration.
		panic("the configuration was validated: " + err.Error())
	}
	u, _ := url.Parse(cfg.PublicURL) // validated
	return &entraAuth{
		callers: callers,
		prm: server.ProtectedResourceMetadataConfig{
			Resource:               cfg.PublicURL,
			AuthorizationServers:   []string{callers.Authority()},
			ScopesSupported:        []string{callers.ScopeURI()},
			BearerMethodsSupported: []string{"header"},
			ResourceName:           "powerbi-mcp",
		},
		metadataURL: u.Scheme + "://" + u.Host + server.ProtectedResourceMetadataPath(cfg.PublicURL),
		logger:      logger,
	}
}

// mount serves the protected resource metadata (RFC 9728 §3) at the well-known path and at its
// form suffixed with the resource's path, outside the token check: clients read it to learn
// where to sign in.
func (e *entraAuth) mount(mux *http.ServeMux) {
	h := server.NewProtectedResourceMetadataHandler(e.prm)
	mux.Handle(server.WellKnownProtectedResourcePath, h)
	if p := server.ProtectedResourceMetadataPath(e.prm.Resource); p != server.WellKnownProtectedResourcePath {
		mux.Handle(p, h)
	}
}

// check validates the request's token and passes the request on with its caller in the
// context; mcp-go hands the request's context to the tools. A refusal says why in
// WWW-Authenticate (RFC 6750 §3), names the metadata, and never echoes the token.
func (e *entraAuth) check(w http.ResponseWriter, r *http.Request, next http.Handler) {
	raw, _ := bearerToken(r.Header.Get("Authorization"))
	caller, err := e.callers.Validate(r.Context(), raw)
	if err != nil {
		var refusal *auth.CallerTokenError
		if !errors.As(err, &refusal) {
			refusal = &auth.CallerTokenError{Status: http.StatusUnauthorized, Code: "invalid_token", Description: "the token is not valid"}
		}
		challenge := `Bearer resource_metadata="` + e.metadataURL + `"`
		if refusal.Code != "" {
			challenge += `, error="` + refusal.Code + `", error_description="` + refusal.Description + `"`
		}
		if refusal.Code == "insufficient_scope" {
			challenge += `, scope="` + e.callers.ScopeURI() + `"`
		}
		ev := e.logger.Warn()
		if refusal.Status == http.StatusUnauthorized && refusal.Code == "" {
			ev = e.logger.Debug() // a client's first request, before it signs in
		}
		ev.Str("remote", r.RemoteAddr).Int("status", refusal.Status).Str("reason", refusal.Error()).Msg("refused a caller's token")
		if refusal.Status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", strconv.Itoa(keysRetryAfter))
		} else {
			w.Header().Set("WWW-Authenticate", challenge)
		}
		refuse(w, refusal.Status, refusal.Description)
		return
	}
	next.ServeHTTP(w, r.WithContext(auth.WithCaller(r.Context(), caller)))
}
