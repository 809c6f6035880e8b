package auth

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/cache"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
)

// NewClientSecret returns a source that signs in as a service principal (an
// app registration) with a client secret, through an MSAL confidential
// client. It needs TenantID, ClientID and ClientSecret and does no network
// I/O: the first Token call discovers the tenant's endpoints.
func NewClientSecret(cfg Config) (TokenSource, error) {
	if err := missingVars("a service principal with a client secret",
		setting{EnvTenantID, cfg.TenantID},
		setting{EnvClientID, cfg.ClientID},
		setting{EnvClientSecret, cfg.ClientSecret}); err != nil {
		return nil, err
	}
	if isKeyVaultReference(cfg.ClientSecret) {
		return newKeyVaultClientSecret(cfg)
	}
	cred, err := confidential.NewCredFromSecret(cfg.ClientSecret)
	if err != nil {
		// Only an empty secret is refused, and that was checked above.
		return nil, fmt.Errorf("%s: %w", EnvClientSecret, err)
	}
	secret := cfg.ClientSecret
	sp, err := newServicePrincipal(cfg, "client secret", cred, func() string { return secret })
	if err != nil {
		return nil, err
	}
	return newCachedSource(sp, cfg), nil
}

// servicePrincipal is the acquirer of every kind that signs in as an app
// registration through an MSAL confidential client (client secret,
// certificate, workload identity); they differ only in the credential.
type servicePrincipal struct {
	client confidential.Client
	cache  *forgettableCache
	scopes []string
	// secret returns text to scrub from what comes back from the authority
	// (a client secret, the last federated assertion), in case something on
	// the way echoes the request; nil when there is none. MSAL holds the
	// credential itself.
	secret func() string
	host   string
	desc   string
}

// newServicePrincipal checks what every service-principal kind shares
// (authority host, tenant) and builds the confidential client: MSAL's cache
// through a forgettableCache, the injected HTTP client, and instance
// discovery only for Microsoft's hosts. kind names the credential in
// Describe.
func newServicePrincipal(cfg Config, kind string, cred confidential.Credential, secret func() string, opts ...confidential.Option) (*servicePrincipal, error) {
	host, err := authorityHost(cfg.AuthorityHost)
	if err != nil {
		return nil, err
	}
	if err := checkServicePrincipalTenant(cfg.TenantID); err != nil {
		return nil, err
	}
	scope := cfg.Scope
	if scope == "" {
		scope = PowerBIScope
	}
	forgettable := &forgettableCache{}
	opts = append(opts, confidential.WithCache(forgettable))
	if cfg.HTTPClient != nil {
		opts = append(opts, confidential.WithHTTPClient(cfg.HTTPClient))
	}
	if !isMicrosoftAuthority(host) {
		opts = append(opts, confidential.WithInstanceDiscovery(false))
	}
	client, err := confidential.New(host+"/"+cfg.TenantID, cfg.ClientID, cred, opts...)
	if err != nil {
		return nil, err
	}
	return &servicePrincipal{
		client: client,
		cache:  forgettable,
		scopes: []string{scope},
		secret: secret,
		host:   host,
		desc:   describeServicePrincipal(kind, host, cfg.TenantID, cfg.ClientID),
	}, nil
}

func (c *servicePrincipal) acquire(ctx context.Context) (accessToken, error) {
	// AcquireTokenByCredential looks in MSAL's app-token cache first and
	// asks the token endpoint only on a miss.
	res, err := c.client.AcquireTokenByCredential(ctx, c.scopes)
	if err != nil {
		return accessToken{}, c.failure(err)
	}
	return accessToken{value: res.AccessToken, expiresOn: res.ExpiresOn, refreshOn: res.Metadata.RefreshOn}, nil
}

// failure turns an error of the confidential client into one a person can
// act on, free of the credential.
func (c *servicePrincipal) failure(err error) error {
	var fileErr *credentialFileError
	if errors.As(err, &fileErr) {
		return fileErr
	}
	var secret string
	if c.secret != nil {
		secret = c.secret()
	}
	return authorityError(err, c.host, secret)
}

func (c *servicePrincipal) forget() { c.cache.forget() }

func (c *servicePrincipal) describe() string { return c.desc }

// describeServicePrincipal is Describe for the service-principal kinds.
func describeServicePrincipal(kind, host, tenantID, clientID string) string {
	s := fmt.Sprintf("%s (tenant %s, client %s", kind, tenantID, clientID)
	if host != DefaultAuthorityHost {
		s += ", authority " + host
	}
	return s + ")"
}

// forgettableCache is the MSAL cache accessor (confidential.WithCache) that
// lets a source make MSAL forget its tokens. MSAL offers no call to remove an
// app token, so this uses the accessor contract instead: MSAL calls Replace
// before every cache read and before every write
// (base.Client.AcquireTokenSilent and AuthResultFromToken in MSAL's
// apps/internal/base), and storage.Manager.Unmarshal replaces the whole
// in-memory cache with what it is given. Replace hands MSAL an empty cache
// once after forget and otherwise leaves the in-memory cache alone; Export
// keeps nothing, because app tokens are cheap to get again after a restart.
//
// Emptying the whole cache is right here: a confidential client used by one
// source holds only that source's app token. Instance and endpoint discovery
// results live outside the token cache, so they survive.
type forgettableCache struct {
	pending atomic.Bool
}

// emptyCache is MSAL's serialized cache with no entries.
var emptyCache = []byte("{}")

func (f *forgettableCache) forget() { f.pending.Store(true) }

func (f *forgettableCache) Replace(_ context.Context, u cache.Unmarshaler, _ cache.ReplaceHints) error {
	if f.pending.CompareAndSwap(true, false) {
		return u.Unmarshal(emptyCache)
	}
	return nil
}

func (f *forgettableCache) Export(context.Context, cache.Marshaler, cache.ExportHints) error {
	return nil
}
