package auth

// The credential kinds being built. Each constructor moves to its own file
// as its kind lands; until then it says so.

import (
	"context"
	"fmt"
	"time"
)

func notYet(kind string) error {
	return fmt.Errorf("auth: the %s credential is not available in this build", kind)
}

// NewDeviceCode signs a user in with a device code.
func NewDeviceCode(Config) (TokenSource, error) { return nil, notYet(KindDeviceCode) }

// NewUsernamePassword signs a user in with a username and password (ROPC).
func NewUsernamePassword(Config) (TokenSource, error) { return nil, notYet(KindUsernamePassword) }

// SignInRequired is the answer of a user credential that has no usable token
// and has started an interactive sign-in: the user must act, then ask again.
type SignInRequired struct {
	VerificationURL string    // the page to open
	UserCode        string    // the code to enter there
	ExpiresOn       time.Time // when the code stops working
}

func (e *SignInRequired) Error() string {
	return fmt.Sprintf("sign-in required: to sign in, open %s and enter the code %s, then ask again (the code expires at %s)",
		e.VerificationURL, e.UserCode, e.ExpiresOn.Format(time.RFC3339))
}

// Login signs a user in ahead of time (device code or username-password) and
// keeps the tokens in the token cache. prompt is told the device code.
func Login(context.Context, Config, func(*SignInRequired)) (Account, error) {
	return Account{}, notYet("login")
}

// Logout removes the signed-in user's tokens from the token cache.
func Logout(Config) ([]Account, error) { return nil, notYet("logout") }

// Account is a signed-in user as the token cache knows it.
type Account struct {
	Username string // the UPN
	TenantID string
	HomeID   string // MSAL's home account id
}

// cachedUser returns the user the token cache holds a sign-in of for cfg's
// client and tenant, if any.
func cachedUser(cfg Config) (Account, bool) { return Account{}, false }
