package auth

import "time"

// CachedUser exposes cachedUser to the external tests.
var CachedUser = cachedUser

// SetSignInWait changes how long a call waits for a pending device-code
// sign-in, for tests that check what pending calls answer; it returns a
// function that restores the default.
func SetSignInWait(d time.Duration) (restore func()) {
	old := signInWait
	signInWait = d
	return func() { signInWait = old }
}
