package pbitest

import (
	"fmt"
	"net/http"
	"net/url"
)

func init() { grantTypes["password"] = grantPassword }

// grantPassword serves grant_type=password (Resource Owner Password
// Credentials): a public client sends the user's name and password.
func grantPassword(s *Server, w http.ResponseWriter, r *http.Request, form url.Values) {
	if e := s.checkUserGrant(r, form, true, "username", "password"); e != nil {
		writeEntraError(w, r, *e)
		return
	}
	d := s.directory()
	d.mu.Lock()
	upn, known := d.lookupUser(form.Get("username"))
	password := d.passwords[lowerUPN(upn)]
	mfa := d.mfa[lowerUPN(upn)]
	d.mu.Unlock()
	switch {
	case !known:
		writeEntraError(w, r, entraError{status: http.StatusBadRequest, code: "invalid_grant", aadsts: 50034,
			message: fmt.Sprintf("The user account {EmailHidden} does not exist in the %s directory. To sign into this application, the account must be added to the directory.", s.opts.TenantID)})
	case form.Get("password") != password:
		writeEntraError(w, r, entraError{status: http.StatusBadRequest, code: "invalid_grant", aadsts: 50126,
			message: "Error validating credentials due to invalid username or password."})
	case mfa:
		writeEntraError(w, r, mfaRequired())
	default:
		writeBody(w, http.StatusOK, contentTypeJSON, marshal(s.userTokenResponse(upn, form.Get("client_id"), form.Get("scope"))))
	}
}

// mfaRequired is Entra's answer when Conditional Access wants MFA on a sign-in
// that cannot do it (observed body, api-notes 3.7).
func mfaRequired() entraError {
	return entraError{status: http.StatusBadRequest, code: "invalid_grant", aadsts: 50076, suberror: "basic_action",
		message: "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '00000009-0000-0000-c000-000000000000'."}
}
