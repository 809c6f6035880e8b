package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
)

// NewStaticToken returns a source that always offers one pre-acquired token,
// for people who already have one (PowerShell's Get-PowerBIAccessToken,
// az account get-access-token, Postman) and no app registration. It cannot
// renew the token, so instead of sending a dead one it fails with what to do:
// when the token's exp claim has passed (read without checking the signature,
// which only Power BI can do), or once Power BI has rejected it. A leading
// "Bearer " is dropped.
func NewStaticToken(token string) TokenSource {
	return newStaticToken(token, EnvAccessToken)
}

// newStaticToken is NewStaticToken with where the token came from, which its
// errors name: the variable, or the token file.
func newStaticToken(token, where string) *staticToken {
	s := &staticToken{value: trimBearer(token), where: where}
	if c, ok := jwtClaims(s.value); ok {
		s.tenantID, s.clientID = c.TenantID, c.AppID
		if s.clientID == "" {
			s.clientID = c.AuthorizedParty
		}
		s.expiresOn = claimTime(c.Exp)
	}
	return s
}

type staticToken struct {
	value     string
	where     string    // the setting to put a fresh token into
	expiresOn time.Time // zero when the token does not say
	tenantID  string
	clientID  string
	rejected  atomic.Bool
}

const getTokenHint = "for example with Get-PowerBIAccessToken in PowerShell or " +
	"az account get-access-token --resource https://analysis.windows.net/powerbi/api"

func (s *staticToken) Token(context.Context) (string, error) {
	switch {
	case s.value == "":
		return "", errors.New("the access token is empty; put a Power BI access token in " + s.where + " (" + getTokenHint + ")")
	case s.rejected.Load():
		return "", errors.New("Power BI rejected the access token (expired, revoked, or issued for another resource); provide a fresh one in " +
			s.where + " (" + getTokenHint + ")")
	case !s.expiresOn.IsZero() && !time.Now().Before(s.expiresOn):
		return "", fmt.Errorf("the access token expired at %s; get a new one (%s) and set it in %s",
			s.expiresOn.Format(time.RFC3339), getTokenHint, s.where)
	}
	return s.value, nil
}

func (s *staticToken) Invalidate(token string) {
	if s.value != "" && trimBearer(token) == s.value {
		s.rejected.Store(true)
	}
}

func (s *staticToken) Describe() string {
	var parts []string
	if s.tenantID != "" {
		parts = append(parts, "tenant "+s.tenantID)
	}
	if s.clientID != "" {
		parts = append(parts, "client "+s.clientID)
	}
	if s.expiresOn.IsZero() {
		parts = append(parts, "expiry unknown")
	} else {
		parts = append(parts, "expires "+s.expiresOn.Format(time.RFC3339))
	}
	return "access token (" + strings.Join(parts, ", ") + ")"
}

// accessTokenClaims are the claims Describe and the expiry check use.
type accessTokenClaims struct {
	Exp             float64 `json:"exp"`
	TenantID        string  `json:"tid"`
	AppID           string  `json:"appid"` // v1.0 tokens, which Power BI's are
	AuthorizedParty string  `json:"azp"`   // v2.0 tokens
}

// jwtClaims decodes a JWT's payload. It reports false for anything that is
// not a JWT; such a token is still passed on, since Power BI is the judge.
func jwtClaims(token string) (accessTokenClaims, bool) {
	var c accessTokenClaims
	return c, decodeJWTPayload(token, &c)
}

// claimTime reads a time claim (exp, iat: seconds since 1970). Zero, negative
// or beyond the year 9999 is no time anyone issues: it reads as absent,
// rather than overflowing into a time that cannot be written out.
func claimTime(secs float64) time.Time {
	const maxSecs = 253402300799 // 9999-12-31T23:59:59Z
	if !(secs > 0 && secs <= maxSecs) {
		return time.Time{}
	}
	return time.Unix(int64(secs), 0).UTC()
}

// decodeJWTPayload decodes the claims of a JWT into v, without checking the
// signature.
func decodeJWTPayload(token string, v any) bool {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return false
	}
	return json.Unmarshal(payload, v) == nil
}
