package auth

import "time"

// CallerWithAssertion gives c the caller's own access token, as the
// resource server's validator does.
func CallerWithAssertion(c Caller, token string) Caller {
	c.assertion = token
	return c
}

// SetClock makes o read the time from now, so that a test can move past a
// token's renewal time without waiting for it.
func (o *OnBehalfOf) SetClock(now func() time.Time) { o.now = now }
