package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"
)

// SignInRequired is the answer of a user credential that has no usable token
// and has started an interactive sign-in: the user must act, then ask again.
// Until the sign-in completes or its code expires, every Token call answers
// the same SignInRequired.
type SignInRequired struct {
	VerificationURL string    // the page to open
	UserCode        string    // the code to enter there
	ExpiresOn       time.Time // when the code stops working
	// Message is Entra's own instruction, e.g. "To sign in, use a web
	// browser to open the page https://microsoft.com/devicelogin and enter
	// the code B9GQP3N2L to authenticate."
	Message string
}

func (e *SignInRequired) Error() string {
	return fmt.Sprintf("sign-in required: to sign in, open %s and enter the code %s, then ask again (the code expires at %s)",
		e.VerificationURL, e.UserCode, e.ExpiresOn.Format(time.RFC3339))
}

// NewDeviceCode returns a source that signs a user in with a device code
// (OAuth device authorization grant) through an MSAL public client. It needs
// ClientID, a public client app registration; TenantID defaults to
// organizations. Tokens persist in the token cache (TokenCachePath), so a
// restart or `powerbi-mcp login` ahead of time spares a new sign-in.
//
// Without a usable cached token, Token starts the sign-in and at once
// returns a *SignInRequired with the page and code for the user, while the
// sign-in is awaited in the background. A call made while it is pending
// waits a few seconds for it (signInWait), then answers the same
// *SignInRequired: never a second sign-in. Once the user has signed in, the
// next Token call succeeds. If the code expires or the user declines, the
// next call starts a new sign-in. Nothing is printed: the sign-in is logged
// at info level and carried by the error.
func NewDeviceCode(cfg Config) (TokenSource, error) {
	u, err := newUserClient(cfg, "signing in with a device code")
	if err != nil {
		return nil, err
	}
	d := &deviceCode{user: u, desc: u.describe("device code", "")}
	return newCachedSource(d, cfg), nil
}

// deviceCode is the acquirer of the device-code kind. cachedSource's
// singleflight already runs acquire for one caller at a time; the mutex
// keeps flow safe without relying on that. The background wait touches only
// its own deviceFlow, which it publishes by closing done.
type deviceCode struct {
	user *userClient
	desc string

	mu   sync.Mutex
	flow *deviceFlow // the sign-in under way or just finished; nil if none
}

// deviceFlow is one device-code sign-in, awaited by a goroutine.
type deviceFlow struct {
	signIn *SignInRequired
	done   chan struct{} // closed when res and err are set
	res    public.AuthResult
	err    error
	cancel context.CancelFunc
}

// signInWait is how long a call made while the sign-in is pending waits for
// it to finish. MSAL polls Entra at most every 5 seconds, so a user who asks
// again right after signing in gets the token rather than the same code.
var signInWait = 6 * time.Second

func (d *deviceCode) acquire(ctx context.Context) (accessToken, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if f := d.flow; f != nil {
		if !f.finished() {
			// A sign-in made meanwhile by `powerbi-mcp login` (another
			// process) counts too.
			if tok, ok := d.user.silent(ctx, d.user.inTenant); ok {
				f.cancel()
				d.flow = nil
				return tok, nil
			}
			t := time.NewTimer(signInWait)
			select {
			case <-f.done:
			case <-t.C:
			}
			t.Stop()
		}
		if !f.finished() {
			return accessToken{}, f.signIn
		}
		d.flow = nil
		if f.err == nil {
			d.user.log.Info().Str("user", f.res.Account.PreferredUsername).Msg("signed in")
			return resultToken(f.res), nil
		}
		if !errors.Is(f.err, errSignInEnded) {
			// Entra refused the sign-in itself (consent, policy, app
			// configuration): a new code would fail alike, so the user
			// hears why, once; the next call starts over.
			return accessToken{}, f.err
		}
		d.user.log.Info().Msg("the sign-in code expired or was declined; starting a new sign-in")
	}
	if tok, ok := d.user.silent(ctx, d.user.inTenant); ok {
		return tok, nil
	}
	return accessToken{}, d.start(ctx)
}

// finished reports whether the wait for the user has ended.
func (f *deviceFlow) finished() bool {
	select {
	case <-f.done:
		return true
	default:
		return false
	}
}

// start begins a sign-in and returns the *SignInRequired for the user, or
// the error that prevented it. d.mu is held.
func (d *deviceCode) start(ctx context.Context) error {
	dc, signIn, err := d.user.startDeviceCode(ctx)
	if err != nil {
		return err
	}
	// The wait outlives the Token call that started it; it ends when the
	// user signs in, the code expires (MSAL stops polling then), Entra
	// refuses, or a cached sign-in makes it moot.
	wait, cancel := context.WithCancel(context.WithoutCancel(ctx))
	f := &deviceFlow{signIn: signIn, done: make(chan struct{}), cancel: cancel}
	d.flow = f
	go func() {
		defer cancel()
		res, err := dc.AuthenticationResult(wait)
		if err != nil {
			err = deviceCodeError(err, d.user.host)
		}
		f.res, f.err = res, err
		close(f.done)
	}()
	return signIn
}

// startDeviceCode asks Entra for a device code, logs the instruction for the
// user and returns it.
func (u *userClient) startDeviceCode(ctx context.Context) (public.DeviceCode, *SignInRequired, error) {
	dc, err := u.client.AcquireTokenByDeviceCode(ctx, u.scopes)
	if err != nil {
		return public.DeviceCode{}, nil, authorityError(err, u.host, "")
	}
	r := dc.Result
	signIn := &SignInRequired{VerificationURL: r.VerificationURL, UserCode: r.UserCode, ExpiresOn: r.ExpiresOn, Message: r.Message}
	// Info, on stderr like every log line: in a stdio server stdout is the
	// protocol's.
	u.log.Info().Str("url", r.VerificationURL).Str("code", r.UserCode).Time("expires_on", r.ExpiresOn).
		Msg(r.Message)
	return dc, signIn, nil
}

// deviceCodeError classifies how a device-code wait ended: errSignInEnded
// when the user let the code expire or declined (MSAL stops at the code's
// expiry with the context's deadline error), otherwise the authority's
// error, readable.
func deviceCodeError(err error, host string) error {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return errSignInEnded
	}
	var e *Error
	if errors.As(authorityError(err, host, ""), &e) {
		switch e.OAuthError {
		case "expired_token", "authorization_declined", "bad_verification_code":
			return errSignInEnded
		}
		return e
	}
	return authorityError(err, host, "")
}

// forget drops the user's access tokens so that the next acquire redeems the
// refresh token: Power BI rejected the current one.
func (d *deviceCode) forget() { d.user.cache.forget() }

func (d *deviceCode) describe() string { return d.desc }
