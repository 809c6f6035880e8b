// Package auth gets the bearer tokens that Power BI requests carry.
//
// A TokenSource hides which credential is in use. New picks one from
// configuration that follows the Azure SDK's environment variables, so people
// can reuse what they already have. Sources that sign in to Microsoft Entra ID
// do so through MSAL Go and share one caching layer: a cheap in-memory fast
// path, one in-flight token request for any number of concurrent callers,
// and Invalidate for tokens Power BI has rejected, which also empties MSAL's
// cache.
//
// auth knows nothing about Power BI beyond the scope string, and never puts a
// secret or a token into an error, a log line or Describe.
package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/rs/zerolog"
)

// PowerBIScope is the scope of app-only Power BI tokens. Client credentials
// accept only a resource's ".default" scope.
const PowerBIScope = "https://analysis.windows.net/powerbi/api/.default"

// DefaultAuthorityHost is Entra ID's host in Azure's public cloud.
const DefaultAuthorityHost = "https://login.microsoftonline.com"

// Environment variables read by ConfigFromEnv. Error messages name them,
// because that is where users fix their configuration.
const (
	EnvAuthorityHost = "AZURE_AUTHORITY_HOST"
	EnvTenantID      = "AZURE_TENANT_ID"
	EnvClientID      = "AZURE_CLIENT_ID"
	EnvClientSecret  = "AZURE_CLIENT_SECRET"
	EnvAccessToken   = "PBI_MCP_ACCESS_TOKEN"
)

// TokenSource supplies bearer tokens. Implementations are safe for concurrent
// use.
type TokenSource interface {
	// Token returns a bearer token (without the "Bearer " prefix) that is
	// valid for at least five more minutes, as far as the identity provider's
	// answer allows.
	Token(ctx context.Context) (string, error)
	// Invalidate reports that Power BI rejected token (401, or 403
	// TokenExpired). The next Token call fetches a new token from the
	// identity provider instead of returning this one from any cache.
	// Invalidating a token that is no longer current does nothing, so many
	// callers reporting the same dead token cause one new token request.
	Invalidate(token string)
	// Describe names the credential for logs and diagnostics: its kind,
	// tenant and client id. It never contains secrets or tokens.
	Describe() string
}

// Config selects and configures a credential. The zero value of each field
// means "not set" or the documented default.
type Config struct {
	AuthorityHost string       // AZURE_AUTHORITY_HOST; default DefaultAuthorityHost; must be https
	TenantID      string       // AZURE_TENANT_ID
	ClientID      string       // AZURE_CLIENT_ID
	ClientSecret  string       // AZURE_CLIENT_SECRET
	AccessToken   string       // PBI_MCP_ACCESS_TOKEN: a pre-acquired token (e.g. from Get-PowerBIAccessToken)
	Scope         string       // default PowerBIScope
	HTTPClient    *http.Client // nil = MSAL's default; tests and --sandbox inject the fake tenant's client
	Logger        zerolog.Logger
}

// ConfigFromEnv reads the credential variables through getenv (os.Getenv in
// production). Surrounding whitespace is dropped: a value pasted with a
// trailing newline or space is a common, invisible mistake.
func ConfigFromEnv(getenv func(string) string) Config {
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }
	return Config{
		AuthorityHost: get(EnvAuthorityHost),
		TenantID:      get(EnvTenantID),
		ClientID:      get(EnvClientID),
		ClientSecret:  get(EnvClientSecret),
		AccessToken:   get(EnvAccessToken),
	}
}

// errNoCredential is what New says when nothing is configured.
var errNoCredential = errors.New("auth: no credential configured: set " + EnvTenantID + ", " + EnvClientID +
	" and " + EnvClientSecret + " to sign in as a service principal, or set " + EnvAccessToken +
	" to a pre-acquired Power BI access token")

// New chooses the credential that cfg configures: a pre-acquired access token
// if AccessToken is set, otherwise a service principal with a client secret.
// It does no network I/O; the first Token call contacts the identity
// provider.
func New(cfg Config) (TokenSource, error) {
	switch {
	case cfg.AccessToken != "":
		if cfg.TenantID != "" || cfg.ClientID != "" || cfg.ClientSecret != "" {
			cfg.Logger.Info().Msg("auth: " + EnvAccessToken + " is set, so the AZURE_* service principal variables are ignored")
		}
		return NewStaticToken(cfg.AccessToken), nil
	case cfg.TenantID != "" || cfg.ClientID != "" || cfg.ClientSecret != "":
		// A partial service principal configuration: NewClientSecret names
		// whatever is missing.
		return NewClientSecret(cfg)
	default:
		return nil, errNoCredential
	}
}

// setting is a configuration variable's name and value.
type setting struct{ name, value string }

// missingVars returns an error naming the settings a credential kind needs
// that are not set, or nil if all are.
func missingVars(kind string, settings ...setting) error {
	var names, missing []string
	for _, s := range settings {
		names = append(names, s.name)
		if s.value == "" {
			missing = append(missing, s.name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	verb := "is"
	if len(missing) > 1 {
		verb = "are"
	}
	return fmt.Errorf("auth: %s needs %s; %s %s not set", kind, joinNames(names), joinNames(missing), verb)
}

// joinNames writes "A", "A and B" or "A, B and C".
func joinNames(names []string) string {
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
