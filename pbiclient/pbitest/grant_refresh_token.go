package pbitest

import (
	"net/http"
	"net/url"
	"strings"
)

func init() { grantTypes["refresh_token"] = grantRefreshToken }

// grantRefreshToken serves grant_type=refresh_token: a public client redeems
// a user's refresh token for a new access token and a new (rotated) refresh
// token. Like Entra, the old refresh token stays valid until revoked
// (RevokeRefreshTokens).
func grantRefreshToken(s *Server, w http.ResponseWriter, r *http.Request, form url.Values) {
	if s.redeemAPIRefreshToken(w, r, form) {
		return
	}
	if e := s.checkUserGrant(r, form, true, "refresh_token"); e != nil {
		writeEntraError(w, r, *e)
		return
	}
	rt := form.Get("refresh_token")
	d := s.directory()
	d.mu.Lock()
	g, ok := d.refreshTokens[rt]
	d.mu.Unlock()
	if !ok || !strings.EqualFold(g.clientID, form.Get("client_id")) {
		writeEntraError(w, r, entraError{status: http.StatusBadRequest, code: "invalid_grant", aadsts: 70008,
			message: "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource."})
		return
	}
	writeBody(w, http.StatusOK, contentTypeJSON, marshal(s.userTokenResponse(g.upn, g.clientID, form.Get("scope"))))
}
