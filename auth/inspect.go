package auth

import (
	"sort"
	"strings"
	"time"
)

// TokenInfo is what an access token says about who holds it, read without
// checking the signature (only the resource can). whoami and doctor show it;
// it never includes the token itself.
type TokenInfo struct {
	Audience      string    `json:"audience"`
	TenantID      string    `json:"tenantId"`
	ClientID      string    `json:"clientId"`      // appid (v1.0 tokens) or azp (v2.0)
	PrincipalType string    `json:"principalType"` // "app" (a service principal or managed identity) or "user"
	ObjectID      string    `json:"objectId"`
	Name          string    `json:"name,omitempty"`     // the user's display name
	Username      string    `json:"username,omitempty"` // the user's UPN
	AppName       string    `json:"appName,omitempty"`  // app_displayname, when Entra includes it
	Roles         []string  `json:"roles,omitempty"`    // app permissions (app tokens)
	Scopes        []string  `json:"scopes,omitempty"`   // delegated permissions (user tokens)
	IssuedAt      time.Time `json:"issuedAt"`
	ExpiresOn     time.Time `json:"expiresOn"`
}

// Inspect decodes an access token's claims. It reports false for a token
// that is not a JWT.
func Inspect(token string) (TokenInfo, bool) {
	var c struct {
		Aud        string   `json:"aud"`
		TID        string   `json:"tid"`
		AppID      string   `json:"appid"`
		AZP        string   `json:"azp"`
		IDTyp      string   `json:"idtyp"`
		OID        string   `json:"oid"`
		Name       string   `json:"name"`
		UPN        string   `json:"upn"`
		UniqueName string   `json:"unique_name"`
		Preferred  string   `json:"preferred_username"`
		AppName    string   `json:"app_displayname"`
		Roles      []string `json:"roles"`
		Scp        string   `json:"scp"`
		Iat        float64  `json:"iat"`
		Exp        float64  `json:"exp"`
	}
	if !decodeJWTPayload(trimBearer(token), &c) {
		return TokenInfo{}, false
	}
	info := TokenInfo{
		Audience: c.Aud, TenantID: c.TID, ClientID: firstNonEmpty(c.AppID, c.AZP), ObjectID: c.OID,
		Name: c.Name, Username: firstNonEmpty(c.UPN, c.Preferred, c.UniqueName), AppName: c.AppName,
		Roles: c.Roles, Scopes: strings.Fields(c.Scp),
	}
	sort.Strings(info.Scopes)
	// App-only tokens say idtyp "app" when asked to, and never carry scp;
	// delegated tokens always carry scp.
	info.PrincipalType = "user"
	if c.IDTyp == "app" || (c.Scp == "" && info.Username == "") {
		info.PrincipalType = "app"
	}
	info.IssuedAt, info.ExpiresOn = claimTime(c.Iat), claimTime(c.Exp)
	return info, true
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
