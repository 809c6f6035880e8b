package auth

import (
	"context"
	"time"
)

// Caller is who sent an MCP request, when the HTTP transport is an OAuth protected resource
// (--http-auth entra): the signed-in user, or an app, named by the validated Entra access token
// the request carried. The tools act on the caller's behalf: the token source exchanges the
// caller's token for a Power BI token of the same user (on-behalf-of), so each caller sees
// what their own permissions allow. Without a Caller in the context, requests run as the
// server's own identity.
type Caller struct {
	TenantID  string    // tid
	ObjectID  string    // oid: the user's (or the app's service principal's) object id
	Username  string    // upn, unique_name or preferred_username; "" for an app
	AppID     string    // the client app the token was issued to (appid or azp)
	Scopes    []string  // scp: the delegated permissions the caller consented to
	Roles     []string  // roles: the app roles assigned to the caller
	ExpiresOn time.Time // when the caller's token expires

	// assertion is the caller's own access token. It is the assertion an on-behalf-of
	// exchange presents to Entra, and nothing else: never logged, never sent to Power BI.
	assertion string
}

// Key identifies the caller across requests and token renewals: tenant and object id.
func (c Caller) Key() string { return c.TenantID + "/" + c.ObjectID }

// Assertion is the caller's access token, for an on-behalf-of exchange only.
func (c Caller) Assertion() string { return c.assertion }

// IsApp reports whether the caller is an app signed in with its own credential, not a user.
func (c Caller) IsApp() bool { return c.Username == "" && len(c.Scopes) == 0 }

type callerKey struct{}

// WithCaller returns ctx carrying the caller of the request it belongs to.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller WithCaller put in ctx; ok is false for a request that runs as
// the server's own identity (stdio, or HTTP without --http-auth entra).
func CallerFrom(ctx context.Context) (c Caller, ok bool) {
	c, ok = ctx.Value(callerKey{}).(Caller)
	return c, ok
}
