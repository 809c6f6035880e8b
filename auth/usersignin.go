package auth

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"
	"github.com/rs/zerolog"
)

// What the user sign-ins (device code, username-password) share: an MSAL
// public client over the persistent token cache, and silent sign-in from it.

// defaultUserTenant is the tenant of user sign-ins when AZURE_TENANT_ID is
// not set: any work or school account, in whichever tenant it lives.
const defaultUserTenant = "organizations"

// publicClientHelp is how to make an app registration usable for user
// sign-ins, one step a line: errors about the client id end with it, below
// their headline.
const publicClientHelp = "\n  To get one: register an app in the Entra admin center (App registrations > New registration)." +
	"\n  On its Authentication page, set 'Allow public client flows' to Yes." +
	"\n  Under API permissions, add Power BI Service delegated permissions (e.g. Workspace.Read.All)." +
	"\n  Put its Application (client) ID in " + EnvClientID + "." +
	"\n  " + EnvTenantID + " may be the tenant's ID, or organizations (the default), or common for a" +
	"\n  multi-tenant app."

// userClient is an MSAL public client signing users in to cfg's app.
type userClient struct {
	client   public.Client
	cache    *fileCache
	scopes   []string
	host     string
	tenant   string
	clientID string
	log      zerolog.Logger
}

// newUserClient checks what every user sign-in needs and builds the client.
// It does no network I/O.
func newUserClient(cfg Config, what string) (*userClient, error) {
	if cfg.ClientID == "" {
		return nil, fmt.Errorf("%s needs %s, an app registration users can sign in to%s", what, EnvClientID, publicClientHelp)
	}
	host, err := authorityHost(cfg.AuthorityHost)
	if err != nil {
		return nil, err
	}
	tenant := cfg.TenantID
	if tenant == "" {
		tenant = defaultUserTenant
	}
	if url.PathEscape(tenant) != tenant {
		return nil, fmt.Errorf("%s %q is not a tenant ID or domain name", EnvTenantID, tenant)
	}
	scope := cfg.Scope
	if scope == "" {
		scope = PowerBIScope
	}
	path, err := TokenCachePath(cfg)
	if err != nil {
		return nil, err
	}
	fc := newFileCache(path, cfg.ClientID, cfg.Logger)
	opts := []public.Option{public.WithAuthority(host + "/" + tenant), public.WithCache(fc)}
	if cfg.HTTPClient != nil {
		opts = append(opts, public.WithHTTPClient(cfg.HTTPClient))
	}
	if !isMicrosoftAuthority(host) {
		opts = append(opts, public.WithInstanceDiscovery(false))
	}
	client, err := public.New(cfg.ClientID, opts...)
	if err != nil {
		return nil, err
	}
	return &userClient{client: client, cache: fc, scopes: []string{scope}, host: host, tenant: tenant,
		clientID: cfg.ClientID, log: cfg.Logger}, nil
}

// silent returns a token for a cached account that want accepts, from
// MSAL's cache or by redeeming the account's refresh token. ok is false when
// no cached sign-in can give one (no account, or Entra refused the refresh
// token, say because it was revoked or MFA is now required): then the user
// must sign in again.
func (u *userClient) silent(ctx context.Context, want func(public.Account) bool) (tok accessToken, ok bool) {
	accounts, err := u.client.Accounts(ctx)
	if err != nil {
		return accessToken{}, false
	}
	for _, acct := range accounts {
		if !want(acct) {
			continue
		}
		res, err := u.client.AcquireTokenSilent(ctx, u.scopes, public.WithSilentAccount(acct))
		if err != nil {
			// Usually "no refresh token for this app" or a revoked one;
			// never fatal, since a new sign-in fixes both.
			err = authorityError(err, u.host, "")
			u.log.Debug().Err(err).Str("user", acct.PreferredUsername).
				Msg("the cached sign-in cannot give a token; a new sign-in is needed")
			var refused *Error
			if errors.As(err, &refused) && refused.OAuthError != "" {
				// Entra refused the refresh token (revoked, expired, MFA
				// now required): drop it from the file, or every later
				// lookup would ask Entra again, and auto would still take
				// the user for signed in. Network failures keep it.
				if _, err := signOut(u.cache.path, u.clientID, acct.HomeAccountID); err != nil {
					u.log.Debug().Err(err).Msg("cannot remove the refused sign-in from the token cache")
				}
			}
			continue
		}
		return resultToken(res), true
	}
	return accessToken{}, false
}

// inTenant accepts the accounts that may serve u's tenant.
func (u *userClient) inTenant(acct public.Account) bool {
	_, home, _ := strings.Cut(acct.HomeAccountID, ".")
	return tenantMatches(u.tenant, home)
}

func resultToken(res public.AuthResult) accessToken {
	return accessToken{value: res.AccessToken, expiresOn: res.ExpiresOn, refreshOn: res.Metadata.RefreshOn}
}

func accountOf(a public.Account) Account {
	_, tenant, _ := strings.Cut(a.HomeAccountID, ".")
	return Account{Username: a.PreferredUsername, TenantID: tenant, HomeID: a.HomeAccountID}
}

// describe is Describe for the user sign-ins: kind, user if configured,
// tenant, client and a non-default authority.
func (u *userClient) describe(kind, user string) string {
	s := kind + " (user sign-in"
	if user != "" {
		s += " as " + user
	}
	s += ", tenant " + u.tenant + ", client " + u.clientID
	if u.host != DefaultAuthorityHost {
		s += ", authority " + u.host
	}
	return s + ")"
}

// Login signs a user in ahead of time, blocking until done, and keeps the
// tokens in the token cache, where servers started later find them. It uses
// username-password when cfg.Kind says so (or, with Kind auto or empty, when
// a username and password are configured), otherwise a device code: prompt
// is then given the page and code to show the user. It returns the
// signed-in user.
func Login(ctx context.Context, cfg Config, prompt func(*SignInRequired)) (Account, error) {
	switch kind := strings.ToLower(cfg.Kind); {
	case kind == KindUsernamePassword || ((kind == "" || kind == KindAuto) && cfg.Username != "" && cfg.Password != ""):
		src, err := newUsernamePassword(cfg)
		if err != nil {
			return Account{}, err
		}
		res, err := src.signIn(ctx)
		if err != nil {
			return Account{}, err
		}
		return accountOf(res.Account), nil
	case kind == "" || kind == KindAuto || kind == KindDeviceCode:
		u, err := newUserClient(cfg, "signing in with a device code")
		if err != nil {
			return Account{}, err
		}
		dc, signIn, err := u.startDeviceCode(ctx)
		if err != nil {
			return Account{}, err
		}
		if prompt != nil {
			prompt(signIn)
		}
		res, err := dc.AuthenticationResult(ctx)
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return Account{}, ctxErr
			}
			return Account{}, deviceCodeError(err, u.host)
		}
		u.log.Info().Str("user", res.Account.PreferredUsername).Msg("signed in")
		return accountOf(res.Account), nil
	default:
		return Account{}, fmt.Errorf("login signs a user in (%s or %s); %s %q signs in without one", KindDeviceCode, KindUsernamePassword, EnvAuth, cfg.Kind)
	}
}

// errSignInEnded is a device-code sign-in that ended without the user: the
// code expired or the user declined.
var errSignInEnded = errors.New("the sign-in code expired or the sign-in was declined; sign in again")
