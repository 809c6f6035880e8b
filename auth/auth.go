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
	"os"
	"strings"

	"github.com/rs/zerolog"
)

// PowerBIScope is the scope of app-only Power BI tokens. Client credentials
// accept only a resource's ".default" scope.
const PowerBIScope = "https://analysis.windows.net/powerbi/api/.default"

// DefaultAuthorityHost is Entra ID's host in Azure's public cloud.
const DefaultAuthorityHost = "https://login.microsoftonline.com"

// Environment variables read by ConfigFromEnv. Error messages name them,
// because that is where users fix their configuration. The AZURE_* names are
// the Azure SDK's, so a configuration written for it works here unchanged.
const (
	EnvAuthorityHost        = "AZURE_AUTHORITY_HOST"
	EnvTenantID             = "AZURE_TENANT_ID"
	EnvClientID             = "AZURE_CLIENT_ID"
	EnvClientSecret         = "AZURE_CLIENT_SECRET"
	EnvCertificatePath      = "AZURE_CLIENT_CERTIFICATE_PATH"
	EnvCertificatePassword  = "AZURE_CLIENT_CERTIFICATE_PASSWORD"
	EnvSendCertificateChain = "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN"
	EnvFederatedTokenFile   = "AZURE_FEDERATED_TOKEN_FILE"
	EnvUsername             = "AZURE_USERNAME"
	EnvPassword             = "AZURE_PASSWORD"
	EnvAccessToken          = "PBI_MCP_ACCESS_TOKEN"
	EnvAccessTokenFile      = "PBI_MCP_ACCESS_TOKEN_FILE"
	EnvAuth                 = "PBI_MCP_AUTH"
	EnvCloud                = "PBI_MCP_CLOUD"
	EnvTokenCacheDir        = "PBI_MCP_TOKEN_CACHE_DIR"
	// A user-assigned managed identity is named by AZURE_CLIENT_ID (its
	// client id, as in the Azure SDK) or by one of these.
	EnvManagedIdentityObjectID   = "PBI_MCP_MANAGED_IDENTITY_OBJECT_ID"
	EnvManagedIdentityResourceID = "PBI_MCP_MANAGED_IDENTITY_RESOURCE_ID"
)

// The credential kinds, as --auth and PBI_MCP_AUTH name them.
const (
	KindAuto             = "auto" // the default: the first kind the environment configures (see New)
	KindClientSecret     = "client-secret"
	KindCertificate      = "certificate"
	KindWorkloadIdentity = "workload-identity"
	KindManagedIdentity  = "managed-identity"
	KindDeviceCode       = "device-code"
	KindUsernamePassword = "username-password"
	KindAzureCLI         = "azure-cli"
	KindToken            = "token"
)

// Kinds lists every credential kind in the order auto considers them, for
// help texts and validation.
var Kinds = []string{KindAuto, KindClientSecret, KindCertificate, KindUsernamePassword, KindWorkloadIdentity,
	KindManagedIdentity, KindDeviceCode, KindAzureCLI, KindToken}

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
	Kind          string // PBI_MCP_AUTH / --auth: one of Kinds; default KindAuto
	Cloud         string // PBI_MCP_CLOUD / --cloud: one of CloudNames; default public. Sets AuthorityHost and Scope when they are empty
	AuthorityHost string // AZURE_AUTHORITY_HOST; default DefaultAuthorityHost (or the cloud's); must be https
	TenantID      string // AZURE_TENANT_ID; user sign-ins also accept organizations (their default) and common
	ClientID      string // AZURE_CLIENT_ID: the app registration (for user sign-ins, a public client; see README)

	ClientSecret         string // AZURE_CLIENT_SECRET
	CertificatePath      string // AZURE_CLIENT_CERTIFICATE_PATH: PEM (certificate and unencrypted RSA key) or PKCS#12 (.pfx/.p12)
	CertificatePassword  string // AZURE_CLIENT_CERTIFICATE_PASSWORD: of a PKCS#12 file
	SendCertificateChain bool   // AZURE_CLIENT_SEND_CERTIFICATE_CHAIN: send x5c, for subject name/issuer authentication
	FederatedTokenFile   string // AZURE_FEDERATED_TOKEN_FILE: workload identity; re-read on each acquisition

	ManagedIdentityObjectID   string // PBI_MCP_MANAGED_IDENTITY_OBJECT_ID
	ManagedIdentityResourceID string // PBI_MCP_MANAGED_IDENTITY_RESOURCE_ID

	Username string // AZURE_USERNAME: username-password (ROPC)
	Password string // AZURE_PASSWORD

	AccessToken     string // PBI_MCP_ACCESS_TOKEN: a pre-acquired token (e.g. from Get-PowerBIAccessToken)
	AccessTokenFile string // PBI_MCP_ACCESS_TOKEN_FILE: a file holding one, re-read when it changes

	// TokenCacheDir is where user sign-ins (device code, username-password)
	// keep their tokens across restarts; default the user cache directory's
	// powerbi-mcp folder. PBI_MCP_TOKEN_CACHE_DIR.
	TokenCacheDir string

	Scope      string       // default PowerBIScope (the cloud's Power BI scope)
	HTTPClient *http.Client // nil = MSAL's default; tests and --sandbox inject the fake tenant's client
	Logger     zerolog.Logger
	// Observer, if set, hears of every token handed out from the cache and every token
	// request, for metrics.
	Observer Observer
	// Getenv reads the environment for the parts of sign-in that the
	// credential libraries read from it themselves (managed identity
	// endpoints, az's configuration); nil = os.Getenv.
	Getenv func(string) string
}

// ConfigFromEnv reads the credential variables through getenv (os.Getenv in
// production). Surrounding whitespace is dropped: a value pasted with a
// trailing newline or space is a common, invisible mistake.
func ConfigFromEnv(getenv func(string) string) Config {
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }
	return Config{
		Kind:                      get(EnvAuth),
		Cloud:                     get(EnvCloud),
		AuthorityHost:             get(EnvAuthorityHost),
		TenantID:                  get(EnvTenantID),
		ClientID:                  get(EnvClientID),
		ClientSecret:              get(EnvClientSecret),
		CertificatePath:           get(EnvCertificatePath),
		CertificatePassword:       getenv(EnvCertificatePassword), // a password may end in a space
		SendCertificateChain:      isTrue(get(EnvSendCertificateChain)),
		FederatedTokenFile:        get(EnvFederatedTokenFile),
		ManagedIdentityObjectID:   get(EnvManagedIdentityObjectID),
		ManagedIdentityResourceID: get(EnvManagedIdentityResourceID),
		Username:                  get(EnvUsername),
		Password:                  getenv(EnvPassword),
		AccessToken:               get(EnvAccessToken),
		AccessTokenFile:           get(EnvAccessTokenFile),
		TokenCacheDir:             get(EnvTokenCacheDir),
		Getenv:                    getenv,
	}
}

// isTrue reads a boolean variable the way the Azure SDK does: "true" or "1".
func isTrue(v string) bool { return strings.EqualFold(v, "true") || v == "1" }

// ErrNoCredential is what New says when nothing is configured: a headline, then every way to
// sign in with the variables each needs, one a line, so a terminal shows it at a glance. Callers
// may add a line of their own (the demo tenant to try) below it.
var ErrNoCredential = errors.New("no credential configured\n  Set one of:\n" + columns([][2]string{
	{EnvTenantID + ", " + EnvClientID + ", " + EnvClientSecret, "service principal, secret"},
	{EnvTenantID + ", " + EnvClientID + ", " + EnvCertificatePath, "service principal, certificate"},
	{EnvTenantID + ", " + EnvClientID + ", " + EnvFederatedTokenFile, "workload identity"},
	{EnvClientID + " alone", "device code: powerbi-mcp login"},
	{EnvClientID + ", " + EnvUsername + ", " + EnvPassword, "a user's password (no MFA)"},
	{EnvAccessToken + " or " + EnvAccessTokenFile, "an access token you have"},
	{EnvAuth + "=" + KindManagedIdentity, "an Azure managed identity"},
	{EnvAuth + "=" + KindAzureCLI, "the Azure CLI's az login"},
}, "    "))

// columns writes rows of two columns, the first padded to the widest, each line indented.
func columns(rows [][2]string, indent string) string {
	width := 0
	for _, r := range rows {
		width = max(width, len(r[0]))
	}
	var b strings.Builder
	for i, r := range rows {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%s%-*s  %s", indent, width, r[0], r[1])
	}
	return b.String()
}

// New chooses the credential that cfg configures. With Kind empty or auto
// it follows newAuto's order; otherwise it builds that kind and reports what
// the kind is missing. The first Token call contacts the identity provider;
// New itself does no network I/O, except that auto, when it gets as far as
// managed identity without the environment announcing an endpoint, probes
// the instance metadata service (at most a second) as the Azure SDK does.
func New(cfg Config) (TokenSource, error) {
	if cfg.Getenv == nil {
		cfg.Getenv = os.Getenv
	}
	cfg, err := cfg.WithCloud()
	if err != nil {
		return nil, err
	}
	switch strings.ToLower(cfg.Kind) {
	case "", KindAuto:
		return newAuto(cfg)
	case KindClientSecret:
		return NewClientSecret(cfg)
	case KindCertificate:
		return NewCertificate(cfg)
	case KindWorkloadIdentity:
		return NewWorkloadIdentity(cfg)
	case KindManagedIdentity:
		return NewManagedIdentity(cfg)
	case KindDeviceCode:
		return NewDeviceCode(cfg)
	case KindUsernamePassword:
		return NewUsernamePassword(cfg)
	case KindAzureCLI:
		return NewAzureCLI(cfg)
	case KindToken:
		return NewToken(cfg)
	default:
		return nil, fmt.Errorf("%s %q is not a credential kind; use one of %s", EnvAuth, cfg.Kind, strings.Join(Kinds, ", "))
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
	if len(missing) == len(names) && len(names) > 1 {
		return fmt.Errorf("%s needs %s; none of them is set", kind, joinNames(names))
	}
	verb := "is"
	if len(missing) > 1 {
		verb = "are"
	}
	return fmt.Errorf("%s needs %s; %s %s not set", kind, joinNames(names), joinNames(missing), verb)
}

// joinNames writes "A", "A and B" or "A, B and C".
func joinNames(names []string) string {
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
