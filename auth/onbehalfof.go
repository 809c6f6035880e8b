package auth

import (
	"cmp"
	"container/list"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/rs/zerolog"
	"golang.org/x/sync/singleflight"
)

// DefaultOnBehalfOfCacheSize is how many users' Power BI tokens an
// OnBehalfOf source keeps by default.
const DefaultOnBehalfOfCacheSize = 1000

// ErrNoCaller is what an OnBehalfOf source answers for a request that carries
// no validated caller. It means the server is misconfigured: on-behalf-of
// is for the Entra resource server mode, where every request is validated
// before a tool runs. The source never falls back to the server's own
// identity, which could see more than the caller may.
var ErrNoCaller = errors.New("the server is misconfigured: a Power BI call on behalf of the caller came with no signed-in caller " +
	"(on-behalf-of needs --http-auth entra, which validates every request's token); the call was refused rather than made as the server's own identity")

// errAppCaller is the answer to a caller that is an app signed in as itself:
// there is no user to act for, and the server's own identity is no stand-in.
var errAppCaller = errors.New("the caller is an application signed in with its own credential, not a user; " +
	"Power BI calls through this server act on behalf of a signed-in user, so the client must sign a user in")

// OnBehalfOf is the TokenSource of a server that acts for its callers: for
// the caller in the request's context (WithCaller) it exchanges the caller's
// access token for a Power BI token of the same user with MSAL's
// AcquireTokenOnBehalfOf, authenticating as the server's app registration
// (client secret, certificate or workload identity). The caller's own token
// never goes to Power BI.
//
// Power BI tokens are cached per user (Caller.Key: tenant and object id) in
// a bounded LRU, reused until expiryBuffer before they expire, and renewed
// then; concurrent calls by one user share one exchange.
//
// Each exchange runs on a confidential client of its own, so MSAL's cache
// never outlives one exchange and this LRU is the only cache. MSAL Go
// (v1.10) keeps on-behalf-of tokens in a separate in-memory cache keyed by
// a hash of the caller's token, with no eviction: every token a client
// renews (hourly) would add an entry for good. Nothing can empty it:
// RemoveAccount works on the other cache, and its Unmarshal, which a cache
// accessor would call to reset it, fails for every input. A long-lived
// client would also hand back a token Power BI had rejected (Invalidate)
// for as long as the caller kept the same token. The price of a fresh
// client is the authority's metadata fetched again for each exchange, at
// most once per user per token lifetime.
type OnBehalfOf struct {
	// newClient builds the service principal's confidential client.
	newClient func(context.Context) (*servicePrincipal, error)
	// vault, for a client secret in Key Vault, reads it again when Entra
	// refuses it, as after a rotation; nil otherwise.
	vault    *keyVaultSecret
	desc     string
	tenantID string // the app's home tenant
	clientID string
	log      zerolog.Logger
	observer Observer // nil: nobody listens
	size     int
	now      func() time.Time

	mu      sync.Mutex
	order   *list.List               // of *oboEntry, most recently used first
	entries map[string]*list.Element // by Caller.Key
	flight  singleflight.Group

	hits, exchanges, failures atomic.Int64
}

type oboEntry struct {
	key   string
	token accessToken
}

// OnBehalfOfStats are an OnBehalfOf source's counters since it was made.
type OnBehalfOfStats struct {
	Hits      int64 // Token calls answered from the cache
	Exchanges int64 // on-behalf-of requests to Entra ID that succeeded
	Failures  int64 // on-behalf-of requests that failed
	Cached    int   // users whose tokens are cached now
}

// NewOnBehalfOf returns an on-behalf-of source for the app registration cfg
// configures with a credential of its own: a client secret, a certificate
// or workload identity (cfg.Kind one of those, or auto, which takes the
// first configured in that order). cacheSize bounds the users whose tokens
// are kept; <= 0 means DefaultOnBehalfOfCacheSize. There is no network I/O.
func NewOnBehalfOf(cfg Config, cacheSize int) (*OnBehalfOf, error) {
	cfg, err := cfg.WithCloud()
	if err != nil {
		return nil, err
	}
	kind := strings.ToLower(cfg.Kind)
	if kind == "" || kind == KindAuto {
		switch {
		case cfg.ClientSecret != "":
			kind = KindClientSecret
		case cfg.CertificatePath != "":
			kind = KindCertificate
		case cfg.FederatedTokenFile != "":
			kind = KindWorkloadIdentity
		default:
			return nil, fmt.Errorf("acting on behalf of callers needs the server's app registration (%s, %s) with a credential of its own: %s, %s or %s; none is set",
				EnvTenantID, EnvClientID, EnvClientSecret, EnvCertificatePath, EnvFederatedTokenFile)
		}
	}
	var build func(Config) (TokenSource, error)
	var vault *keyVaultSecret
	switch kind {
	case KindClientSecret:
		if isKeyVaultReference(cfg.ClientSecret) {
			if vault, err = newKeyVaultSecret(cfg); err != nil {
				return nil, err
			}
		}
		build = NewClientSecret
	case KindCertificate:
		build = NewCertificate
	case KindWorkloadIdentity:
		build = NewWorkloadIdentity
	default:
		return nil, fmt.Errorf("%s=%s cannot act on behalf of callers: the on-behalf-of exchange needs a confidential app registration, so use %s, %s or %s",
			EnvAuth, cfg.Kind, KindClientSecret, KindCertificate, KindWorkloadIdentity)
	}
	// The service-principal constructors check the settings and build the
	// confidential client; this source uses the client directly.
	newClient := func(context.Context) (*servicePrincipal, error) {
		src, err := build(cfg)
		if err != nil {
			return nil, err
		}
		return src.(*cachedSource).cred.(*servicePrincipal), nil
	}
	var desc string
	if vault != nil {
		// The vault is read on the first exchange: start-up does no network I/O.
		newClient, desc = vault.freshClient, vault.describe()
	} else {
		// Built once here so that configuration errors surface at start-up.
		sp, err := newClient(context.Background())
		if err != nil {
			return nil, err
		}
		desc = sp.describe()
	}
	if cacheSize <= 0 {
		cacheSize = DefaultOnBehalfOfCacheSize
	}
	return &OnBehalfOf{
		newClient: newClient,
		vault:     vault,
		desc:      desc,
		tenantID:  cfg.TenantID,
		clientID:  cfg.ClientID,
		log:       cfg.Logger,
		observer:  cfg.Observer,
		size:      cacheSize,
		now:       time.Now,
		order:     list.New(),
		entries:   make(map[string]*list.Element),
	}, nil
}

// Token returns a Power BI token for the caller in ctx.
func (o *OnBehalfOf) Token(ctx context.Context) (string, error) {
	c, ok := CallerFrom(ctx)
	if !ok || c.Assertion() == "" || c.ObjectID == "" {
		return "", ErrNoCaller
	}
	if c.IsApp() {
		return "", errAppCaller
	}
	key := c.Key()
	if t, ok := o.cached(key); ok {
		o.hits.Add(1)
		if o.observer != nil {
			o.observer.TokenCacheHit(FlowOnBehalfOf)
		}
		return t, nil
	}
	// As in cachedSource.Token: the shared exchange runs detached from the
	// cancellation of the call that started it; each call stops waiting
	// when its own context ends.
	detached := context.WithoutCancel(ctx)
	ch := o.flight.DoChan(key, func() (any, error) { return o.exchange(detached, c) })
	select {
	case r := <-ch:
		if r.Err != nil {
			return "", r.Err
		}
		return r.Val.(string), nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// cached returns the user's token if it may still be handed out, marking
// the user as recently used.
func (o *OnBehalfOf) cached(key string) (string, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	el, ok := o.entries[key]
	if !ok || !el.Value.(*oboEntry).token.reusable(o.now()) {
		return "", false
	}
	o.order.MoveToFront(el)
	return el.Value.(*oboEntry).token.value, true
}

func (o *OnBehalfOf) exchange(ctx context.Context, c Caller) (any, error) {
	var opts []confidential.AcquireOnBehalfOfOption
	if c.TenantID != "" && !strings.EqualFold(c.TenantID, o.tenantID) {
		// A guest of a multi-tenant app: its token comes from its own
		// tenant.
		opts = append(opts, confidential.WithTenantID(c.TenantID))
	}
	sp, err := o.newClient(ctx)
	if err != nil {
		// The certificate file went missing since start-up, say.
		o.failures.Add(1)
		return nil, err
	}
	start := time.Now()
	res, err := sp.client.AcquireTokenOnBehalfOf(ctx, c.Assertion(), sp.scopes, opts...)
	if o.observer != nil {
		o.observer.TokenRequested(FlowOnBehalfOf, err)
	}
	if err != nil && o.vault != nil && secretRefused(sp.failure(err)) {
		// The app may have a new secret that the vault already holds: read
		// it again, and exchange once more if it changed.
		changed, verr := o.vault.reread(ctx, sp)
		if verr == nil && !changed {
			verr = o.vault.stale(sp.failure(err))
		}
		if verr == nil {
			sp, verr = o.newClient(ctx)
		}
		if verr != nil {
			o.failures.Add(1)
			return nil, verr
		}
		res, err = sp.client.AcquireTokenOnBehalfOf(ctx, c.Assertion(), sp.scopes, opts...)
		if o.observer != nil {
			o.observer.TokenRequested(FlowOnBehalfOf, err)
		}
	}
	if err != nil {
		o.failures.Add(1)
		err = o.failure(sp, err, c)
		o.log.Debug().Err(err).Str("caller", c.Key()).Msg("on-behalf-of exchange failed")
		return nil, err
	}
	o.exchanges.Add(1)
	o.store(c.Key(), accessToken{value: res.AccessToken, expiresOn: res.ExpiresOn, refreshOn: res.Metadata.RefreshOn})
	o.log.Debug().Str("caller", c.Key()).Time("expires_on", res.ExpiresOn).Dur("took", time.Since(start)).
		Msg("on-behalf-of token acquired")
	return res.AccessToken, nil
}

// store keeps the user's token, dropping the least recently used user's
// when the cache is full.
func (o *OnBehalfOf) store(key string, t accessToken) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if el, ok := o.entries[key]; ok {
		el.Value.(*oboEntry).token = t
		o.order.MoveToFront(el)
		return
	}
	o.entries[key] = o.order.PushFront(&oboEntry{key: key, token: t})
	for o.order.Len() > o.size {
		oldest := o.order.Back()
		o.order.Remove(oldest)
		delete(o.entries, oldest.Value.(*oboEntry).key)
	}
}

// Invalidate drops the cached token of the user whom token belongs to, so
// that the user's next call exchanges again. A token no longer cached
// changes nothing.
func (o *OnBehalfOf) Invalidate(token string) {
	token = trimBearer(token)
	o.mu.Lock()
	defer o.mu.Unlock()
	for el := o.order.Front(); el != nil; el = el.Next() {
		if e := el.Value.(*oboEntry); e.token.value == token {
			o.order.Remove(el)
			delete(o.entries, e.key)
			o.log.Debug().Str("caller", e.key).Msg("token rejected by the service; the caller's next request exchanges again")
			return
		}
	}
}

// Describe names the credential; it never contains a token or secret.
func (o *OnBehalfOf) Describe() string { return "on behalf of each caller, as " + o.desc }

// Stats returns the source's counters.
func (o *OnBehalfOf) Stats() OnBehalfOfStats {
	o.mu.Lock()
	cached := o.order.Len()
	o.mu.Unlock()
	return OnBehalfOfStats{Hits: o.hits.Load(), Exchanges: o.exchanges.Load(), Failures: o.failures.Load(), Cached: cached}
}

// The assertion errors Entra ID answers an on-behalf-of exchange with. They
// are about the caller's token, so the caller (or the MCP client) fixes
// them by signing in again.
func init() {
	signInAgain := "sign in again: the MCP client must get a new access token for this server and send it."
	entraAdviceByCode["50013"] = entraAdvice{"Entra ID did not accept the signature of the caller's token", signInAgain}
	entraAdviceByCode["500133"] = entraAdvice{"The caller's token has expired", signInAgain}
	entraAdviceByCode["500131"] = entraAdvice{"The caller's token was issued for another API", signInAgain}
}

// failure maps an error of the exchange to one that says who fixes what.
// The caller's token never appears in it.
func (o *OnBehalfOf) failure(sp *servicePrincipal, err error, c Caller) error {
	err = sp.failure(err)
	var e *Error
	if errors.As(err, &e) {
		switch strings.TrimPrefix(e.AADSTS, "AADSTS") {
		case "65001":
			tenant := cmp.Or(c.TenantID, o.tenantID)
			e.Fix = fmt.Sprintf("an administrator of the tenant must grant consent to the app's Power BI permissions: open %s/%s/adminconsent?client_id=%s and accept, or use 'Grant admin consent' on the app registration's API permissions page.",
				sp.host, url.PathEscape(tenant), url.QueryEscape(o.clientID))
		case "500131":
			e.Fix = fmt.Sprintf("the MCP client must sign in for this server's API (audience api://%s or %s, with the scope the server's protected resource metadata names) and sign in again; if it did, %s on the server must be that app's Application (client) ID.",
				o.clientID, o.clientID, EnvClientID)
		case "700024":
			e.Fix = "this is the server's own client assertion, not the caller's sign-in: whatever writes " + EnvFederatedTokenFile +
				" (the kubelet, the CI job) must renew the token before it expires; with a certificate, check the server's clock."
		}
	}
	if a := c.Assertion(); strings.Contains(err.Error(), a) {
		// Nothing on the way is known to echo the assertion; should
		// something, the caller's token must still not reach a log.
		if e != nil {
			e.Description = strings.ReplaceAll(e.Description, a, "[caller token]")
			return e
		}
		return errors.New(strings.ReplaceAll(err.Error(), a, "[caller token]"))
	}
	return err
}
