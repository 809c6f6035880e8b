package pbiclient

import (
	"context"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
)

// Caller is who the client's requests run as, as their access token says.
type Caller struct {
	// App is true for an app-only token: a service principal or a managed identity. Power BI
	// refuses such callers some operations, e.g. DAX queries on models with row-level security.
	App bool
	// UserPrincipalName is the signed-in user's name; "" for an app.
	UserPrincipalName string
}

// Caller reads who the client signs in as from the token its next request would carry, which
// the token source usually has at hand. ok is false when the token's claims cannot be read (a
// token that is not a JWT); a failure to get a token is a *TokenError, as for a request.
func (c *Client) Caller(ctx context.Context) (caller Caller, ok bool, err error) {
	token, err := c.tokens.Token(ctx)
	if err != nil {
		return Caller{}, false, &TokenError{Err: err}
	}
	info, ok := auth.Inspect(token)
	if !ok {
		return Caller{}, false, nil
	}
	if info.PrincipalType == "app" {
		return Caller{App: true}, true, nil
	}
	return Caller{UserPrincipalName: info.Username}, true, nil
}
