package auth

import (
	"context"
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

	cred, err := confidential.NewCredFromSecret(cfg.ClientSecret)
	if err != nil {
		// Only an empty secret is refused, and that was checked above.
		return nil, fmt.Errorf("auth: %s: %w", EnvClientSecret, err)
	}
	forgettable := &forgettableCache{}
	opts := []confidential.Option{confidential.WithCache(forgettable)}
	if cfg.HTTPClient != nil {
		opts = append(opts, confidential.WithHTTPClient(cfg.HTTPClient))
	}
	if !isMicrosoftAuthority(host) {
		opts = append(opts, confidential.WithInstanceDiscovery(false))
	}
	client, err := confidential.New(host+"/"+cfg.TenantID, cfg.ClientID, cred, opts...)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	cs := &clientSecret{
		client: client,
		cache:  forgettable,
		scopes: []string{scope},
		secret: cfg.ClientSecret,
		host:   host,
		desc:   describeServicePrincipal("client secret", host, cfg.TenantID, cfg.ClientID),
	}
	return newCachedSource(cs, cfg.Logger), nil
}

// clientSecret is the acquirer for a service principal with a client secret.
type clientSecret struct {
	client confidential.Client
	cache  *forgettableCache
	scopes []string
	// secret is kept only to scrub it from text that comes back from the
	// authority; MSAL holds the credential itself.
	secret string
	host   string
	desc   string
}

func (c *clientSecret) acquire(ctx context.Context) (accessToken, error) {
	// AcquireTokenByCredential looks in MSAL's app-token cache first and
	// asks the token endpoint only on a miss.
	res, err := c.client.AcquireTokenByCredential(ctx, c.scopes)
	if err != nil {
		return accessToken{}, authorityError(err, c.host, c.secret)
	}
	return accessToken{value: res.AccessToken, expiresOn: res.ExpiresOn, refreshOn: res.Metadata.RefreshOn}, nil
}

func (c *clientSecret) forget() { c.cache.forget() }

func (c *clientSecret) describe() string { return c.desc }

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
