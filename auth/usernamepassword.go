package auth

import (
	"context"
	"fmt"
	"strings"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"
)

// NewUsernamePassword returns a source that signs a user in with a username
// and password (OAuth resource owner password credentials, ROPC) through an
// MSAL public client. It needs Username, Password and ClientID; TenantID
// defaults to organizations and must not be common or consumers, which
// Entra refuses for this grant.
//
// Microsoft deprecates ROPC, and it cannot do multi-factor authentication:
// an account that needs MFA fails with AADSTS50076, and the error says to
// use device-code instead. It is here for users with no other way. Tokens
// persist in the token cache, so a restart redeems the cached refresh token
// instead of sending the password again.
func NewUsernamePassword(cfg Config) (TokenSource, error) {
	p, err := newUsernamePassword(cfg)
	if err != nil {
		return nil, err
	}
	cfg.Logger.Warn().Str("user", cfg.Username).
		Msg("signing in with a username and password (ROPC), which Microsoft deprecates and which cannot do multi-factor authentication; prefer --auth " +
			KindDeviceCode + " for users, or a service principal")
	return newCachedSource(p, cfg), nil
}

func newUsernamePassword(cfg Config) (*usernamePassword, error) {
	if err := missingVars("a username and password sign-in",
		setting{EnvUsername, cfg.Username},
		setting{EnvPassword, cfg.Password},
		setting{EnvClientID, cfg.ClientID}); err != nil {
		if cfg.ClientID == "" {
			err = fmt.Errorf("%w%s", err, publicClientHelp)
		}
		return nil, err
	}
	switch strings.ToLower(cfg.TenantID) {
	case "common", "consumers":
		return nil, fmt.Errorf("a username and password sign-in needs %s to be the tenant's ID or domain, or organizations (the default), not %q: Entra refuses passwords over common and consumers",
			EnvTenantID, cfg.TenantID)
	}
	u, err := newUserClient(cfg, "a username and password sign-in")
	if err != nil {
		return nil, err
	}
	return &usernamePassword{user: u, username: cfg.Username, password: cfg.Password,
		desc: u.describe("username and password", cfg.Username)}, nil
}

// usernamePassword is the acquirer of the username-password kind.
type usernamePassword struct {
	user     *userClient
	username string
	// password is sent to Entra, and scrubbed from anything that comes
	// back; it never reaches a log, an error or Describe.
	password string
	desc     string
}

func (p *usernamePassword) acquire(ctx context.Context) (accessToken, error) {
	if tok, ok := p.user.silent(ctx, p.isUser); ok {
		return tok, nil
	}
	res, err := p.signIn(ctx)
	if err != nil {
		return accessToken{}, err
	}
	return resultToken(res), nil
}

// signIn sends the password.
func (p *usernamePassword) signIn(ctx context.Context) (public.AuthResult, error) {
	//nolint:staticcheck // deprecated by Microsoft, and offered on purpose (see NewUsernamePassword)
	res, err := p.user.client.AcquireTokenByUsernamePassword(ctx, p.user.scopes, p.username, p.password)
	if err != nil {
		return public.AuthResult{}, authorityError(err, p.user.host, p.password)
	}
	return res, nil
}

// isUser accepts the cached accounts of the configured user.
func (p *usernamePassword) isUser(acct public.Account) bool {
	return strings.EqualFold(acct.PreferredUsername, p.username) && p.user.inTenant(acct)
}

func (p *usernamePassword) forget() { p.user.cache.forget() }

func (p *usernamePassword) describe() string { return p.desc }
