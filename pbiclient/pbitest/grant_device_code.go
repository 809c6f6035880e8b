package pbitest

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// The device authorization grant (RFC 8628) as Entra serves it: the app
// asks the devicecode endpoint for a code, shows the user the page and the
// code, and polls the token endpoint while the user signs in on another
// device. Here the page is this server's /devicelogin, so a test (or a
// person trying --sandbox) can complete the sign-in.

func init() {
	// MSAL Go sends the short form; RFC 8628 names the URN. Entra takes both.
	grantTypes["device_code"] = grantDeviceCode
	grantTypes["urn:ietf:params:oauth:grant-type:device_code"] = grantDeviceCode
}

// deviceCodeLifetime is how long a device code works: Entra's 15 minutes.
const deviceCodeLifetime = 15 * time.Minute

// deviceCodeInterval is the polling interval Entra asks for, in seconds.
const deviceCodeInterval = 5

// deviceAuthorization is one device-code sign-in.
type deviceAuthorization struct {
	userCode   string
	deviceCode string
	clientID   string
	scope      string
	expiresOn  time.Time
	approvedBy string // UPN, once the user signed in
	declined   bool
}

// userCodeAlphabet leaves out letters and digits people confuse.
const userCodeAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// newUserCode makes a code in Entra's current form: nine letters and digits,
// e.g. B9GQP3N2L.
func newUserCode() string {
	b := make([]byte, 9)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = userCodeAlphabet[int(b[i])%len(userCodeAlphabet)]
	}
	return string(b)
}

// normalizeUserCode reads a code as typed: Entra ignores case, spaces and
// dashes.
func normalizeUserCode(code string) string {
	return strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(strings.TrimSpace(code)))
}

// deviceCodeEndpoint serves POST /{tenant}/oauth2/v2.0/devicecode, the
// device authorization endpoint.
func (s *Server) deviceCodeEndpoint(w http.ResponseWriter, r *http.Request) {
	tenant := r.PathValue("tenant")
	if !s.isTenant(tenant) && !isMultiTenantAlias(tenant) {
		writeEntraError(w, r, entraError{status: http.StatusBadRequest, code: "invalid_request",
			aadsts: 90002, message: tenantNotFound(tenant)})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		writeEntraError(w, r, missingParameter("client_id"))
		return
	}
	form := r.PostForm
	if e := s.checkUserGrant(r, form, true); e != nil {
		writeEntraError(w, r, *e)
		return
	}
	raw := make([]byte, 96)
	_, _ = rand.Read(raw)
	a := &deviceAuthorization{
		deviceCode: base64.RawURLEncoding.EncodeToString(raw),
		clientID:   form.Get("client_id"),
		scope:      form.Get("scope"),
		expiresOn:  time.Now().Add(deviceCodeLifetime),
	}
	d := s.directory()
	d.mu.Lock()
	for a.userCode == "" || d.userCodeTaken(a.userCode) {
		a.userCode = newUserCode()
	}
	d.deviceCodes[a.deviceCode] = a
	d.mu.Unlock()

	page := s.URL() + "/devicelogin"
	body := orderedObject{
		{"user_code", a.userCode},
		{"device_code", a.deviceCode},
		{"verification_uri", page},
		{"expires_in", int(deviceCodeLifetime / time.Second)},
		{"interval", deviceCodeInterval},
		{"message", fmt.Sprintf("To sign in, use a web browser to open the page %s and enter the code %s to authenticate.", page, a.userCode)},
	}
	writeBody(w, http.StatusOK, contentTypeJSON, marshal(body))
}

// userCodeTaken reports whether a live sign-in uses code. d.mu is held.
func (d *directoryUsers) userCodeTaken(code string) bool {
	for _, a := range d.deviceCodes {
		if a.userCode == code {
			return true
		}
	}
	return false
}

// byUserCode finds the sign-in of a user code as typed. d.mu is held.
func (d *directoryUsers) byUserCode(code string) *deviceAuthorization {
	code = normalizeUserCode(code)
	for _, a := range d.deviceCodes {
		if a.userCode == code {
			return a
		}
	}
	return nil
}

// grantDeviceCode serves the polls of the device authorization grant.
func grantDeviceCode(s *Server, w http.ResponseWriter, r *http.Request, form url.Values) {
	if e := s.checkUserGrant(r, form, false, "device_code"); e != nil {
		writeEntraError(w, r, *e)
		return
	}
	code := form.Get("device_code")
	d := s.directory()
	d.mu.Lock()
	a := d.deviceCodes[code]
	slowDown := d.slowDowns > 0 && a != nil && a.approvedBy == "" && !a.declined && time.Now().Before(a.expiresOn)
	if slowDown {
		d.slowDowns--
	}
	var upn string
	if a != nil && a.approvedBy != "" && time.Now().Before(a.expiresOn) {
		// A device code is redeemed once.
		upn = a.approvedBy
		delete(d.deviceCodes, code)
	}
	d.mu.Unlock()

	switch {
	case a == nil || !strings.EqualFold(a.clientID, form.Get("client_id")):
		writeEntraError(w, r, entraError{status: http.StatusBadRequest, code: "bad_verification_code", aadsts: 70018,
			message: "Invalid verification code. The provided value for the input parameter 'device_code' is not valid."})
	case !time.Now().Before(a.expiresOn):
		writeEntraError(w, r, entraError{status: http.StatusBadRequest, code: "expired_token", aadsts: 70020,
			message: "The provided value for the input parameter 'device_code' is not valid. This device code has expired."})
	case a.declined:
		writeEntraError(w, r, entraError{status: http.StatusBadRequest, code: "authorization_declined", aadsts: 70000,
			message: "The user declined to sign in."})
	case slowDown:
		// RFC 8628 3.5; Entra documents no AADSTS code for it.
		writeEntraError(w, r, entraError{status: http.StatusBadRequest, code: "slow_down", aadsts: 70016,
			message: "OAuth 2.0 device flow error. Authorization is pending. Slow down: poll less often."})
	case upn == "":
		writeEntraError(w, r, entraError{status: http.StatusBadRequest, code: "authorization_pending", aadsts: 70016,
			message: "OAuth 2.0 device flow error. Authorization is pending. Continue polling."})
	default:
		writeBody(w, http.StatusOK, contentTypeJSON, marshal(s.userTokenResponse(upn, a.clientID, a.scope)))
	}
}

// errUnknownUserCode is what the knobs answer for a code no pending sign-in
// has.
var errUnknownUserCode = errors.New("pbitest: no pending device-code sign-in has this user code")

// ApproveDeviceCode completes the device-code sign-in of userCode (as typed:
// case, spaces and dashes do not matter) as the user upn (default
// DefaultUserPrincipalName), as if the user had signed in on the page. The
// app's next poll gets the user's tokens.
func (s *Server) ApproveDeviceCode(userCode, upn string) error {
	if upn == "" {
		upn = DefaultUserPrincipalName
	}
	d := s.directory()
	d.mu.Lock()
	defer d.mu.Unlock()
	name, ok := d.lookupUser(upn)
	if !ok {
		return fmt.Errorf("pbitest: no user %s in the directory (AddUser adds one)", upn)
	}
	a := d.byUserCode(userCode)
	if a == nil || a.approvedBy != "" || a.declined || !time.Now().Before(a.expiresOn) {
		return errUnknownUserCode
	}
	a.approvedBy = name
	return nil
}

// DeclineDeviceCode ends the device-code sign-in of userCode as if the user
// had refused it: the app's next poll gets authorization_declined.
func (s *Server) DeclineDeviceCode(userCode string) error {
	d := s.directory()
	d.mu.Lock()
	defer d.mu.Unlock()
	a := d.byUserCode(userCode)
	if a == nil || a.approvedBy != "" || a.declined {
		return errUnknownUserCode
	}
	a.declined = true
	return nil
}

// ExpireDeviceCodes makes every device code issued so far expire now: polls
// get expired_token and the codes can no longer be entered.
func (s *Server) ExpireDeviceCodes() {
	d := s.directory()
	d.mu.Lock()
	defer d.mu.Unlock()
	past := time.Now().Add(-time.Second)
	for _, a := range d.deviceCodes {
		a.expiresOn = past
	}
}

// PendingDeviceCodes returns the user codes of the device-code sign-ins that
// wait for the user, sorted.
func (s *Server) PendingDeviceCodes() []string {
	d := s.directory()
	d.mu.Lock()
	defer d.mu.Unlock()
	var codes []string
	now := time.Now()
	for _, a := range d.deviceCodes {
		if a.approvedBy == "" && !a.declined && now.Before(a.expiresOn) {
			codes = append(codes, a.userCode)
		}
	}
	sort.Strings(codes)
	return codes
}

// SlowDownDeviceCodePolls makes the next n polls of pending device codes
// answer slow_down (RFC 8628), as a server does when polled too often.
func (s *Server) SlowDownDeviceCodePolls(n int) {
	d := s.directory()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.slowDowns = n
}

// deviceLoginForm is the sign-in page: the code and, optionally, who signs in.
const deviceLoginForm = `<!DOCTYPE html>
<html><head><title>Enter code</title></head>
<body><h1>Enter code</h1>
<p>Enter the code displayed on your app or device.</p>
<form method="post" action="/devicelogin">
<input name="code" placeholder="Code" autofocus>
<input name="username" placeholder="%s">
<button type="submit">Next</button>
</form></body></html>
`

// deviceLoginPage serves GET /devicelogin, the stand-in for
// https://microsoft.com/devicelogin.
func (s *Server) deviceLoginPage(w http.ResponseWriter, r *http.Request) {
	writeBody(w, http.StatusOK, "text/html; charset=utf-8",
		[]byte(fmt.Sprintf(deviceLoginForm, html.EscapeString(DefaultUserPrincipalName))))
}

// deviceLoginSubmit serves POST /devicelogin: form field code (the user
// code) and optional username. It signs the user in at once: the fake
// directory asks for no password here, as a browser with a session would.
func (s *Server) deviceLoginSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		writeDeviceLoginPage(w, http.StatusBadRequest, "The form could not be read.")
		return
	}
	user := strings.TrimSpace(r.PostForm.Get("username"))
	if err := s.ApproveDeviceCode(r.PostForm.Get("code"), user); err != nil {
		msg := "That code didn't work. Check the code and try again."
		if !errors.Is(err, errUnknownUserCode) {
			msg = "We couldn't find an account with that username."
		}
		writeDeviceLoginPage(w, http.StatusBadRequest, msg)
		return
	}
	if user == "" {
		user = DefaultUserPrincipalName
	}
	writeDeviceLoginPage(w, http.StatusOK, "You have signed in to the application on your device as "+user+". You may now close this window.")
}

func writeDeviceLoginPage(w http.ResponseWriter, status int, text string) {
	title := "You have signed in"
	if status != http.StatusOK {
		title = "Sign-in failed"
	}
	page := fmt.Sprintf("<!DOCTYPE html>\n<html><head><title>%s</title></head><body><h1>%s</h1><p>%s</p></body></html>\n",
		title, title, html.EscapeString(text))
	writeBody(w, status, "text/html; charset=utf-8", []byte(page))
}
