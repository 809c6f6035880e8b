package pbiclient

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
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
	parts := strings.Split(strings.TrimPrefix(token, "Bearer "), ".")
	if len(parts) != 3 {
		return Caller{}, false, nil
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return Caller{}, false, nil
	}
	var claims struct {
		IDTyp      string `json:"idtyp"`
		Scp        string `json:"scp"`
		UPN        string `json:"upn"`
		UniqueName string `json:"unique_name"`
		Preferred  string `json:"preferred_username"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return Caller{}, false, nil
	}
	caller.UserPrincipalName = claims.UPN
	for _, name := range []string{claims.Preferred, claims.UniqueName} {
		if caller.UserPrincipalName == "" {
			caller.UserPrincipalName = name
		}
	}
	// The rule of auth.Inspect, which pbiclient does not import: app-only tokens say idtyp
	// "app" when asked to and never carry scp; delegated tokens always carry scp.
	caller.App = claims.IDTyp == "app" || (claims.Scp == "" && caller.UserPrincipalName == "")
	if caller.App {
		caller.UserPrincipalName = ""
	}
	return caller, true, nil
}
