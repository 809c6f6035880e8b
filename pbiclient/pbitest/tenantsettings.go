package pbitest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
)

// Setting up Power BI API access goes wrong in a few well-known ways. These
// knobs reproduce them, each answering as the real services do, so that a
// diagnosis (powerbi-mcp doctor) can be tested against what users meet:
//
//   - SetClientSecretExpired(true): the service principal's secret has
//     expired. The token endpoint answers the right secret with 401
//     invalid_client AADSTS7000222; a wrong one still gets AADSTS7000215.
//   - SetServicePrincipalsAllowed(false): the tenant setting "Service
//     principals can use Fabric APIs" (formerly "Allow service principals to
//     use Power BI APIs") is off, or the app is not in its security group.
//     Power BI answers every request with an app-only token 401
//     PowerBINotAuthorizedException, the only thing the service says.
//   - SetExecuteQueriesAPI(false): the tenant setting "Dataset Execute
//     Queries REST API" is off; executeQueries answers every caller 401
//     PowerBINotAuthorizedException.
//   - RequireMFA(true): a Conditional Access policy demands multi-factor
//     authentication of every user. A password (ROPC) sign-in cannot do
//     MFA, so the password grant answers 400 invalid_grant AADSTS50076.
//   - A service principal in no workspace: a server that was never seeded
//     (or SetServicePrincipalAdminAPIs in admin.go for the admin APIs).
//
// The settings belong to the tenant, not its content: seeding leaves them.

// tenantSettings are the knobs above; the Server's mutex guards them.
type tenantSettings struct {
	secretExpired     bool
	refuseApps        bool
	refuseExecQueries bool
	mfaRequired       bool
}

// SetClientSecretExpired makes the service principal's client secret count
// as expired (true) or valid again (false).
func (s *Server) SetClientSecretExpired(expired bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settings.secretExpired = expired
}

// SetServicePrincipalsAllowed turns the tenant setting "Service principals
// can use Fabric APIs" on (the default) or off for the service principal.
// Off, every Power BI request with an app-only token is refused with 401
// PowerBINotAuthorizedException; users are still served.
func (s *Server) SetServicePrincipalsAllowed(allowed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settings.refuseApps = !allowed
}

// SetExecuteQueriesAPI turns the tenant setting "Dataset Execute Queries
// REST API" on (the default) or off. Off, executeQueries answers 401
// PowerBINotAuthorizedException to everyone.
func (s *Server) SetExecuteQueriesAPI(enabled bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settings.refuseExecQueries = !enabled
}

// RequireMFA makes every user sign-in need multi-factor authentication, as a
// Conditional Access policy does. The password grant, which cannot prompt,
// then answers a sign-in that would have succeeded 400 invalid_grant
// AADSTS50076 with suberror basic_action (see demandMFA); a device code
// sign-in is unaffected, since the user completes MFA in the browser.
func (s *Server) RequireMFA(required bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settings.mfaRequired = required
}

func (s *Server) tenantSettings() tenantSettings {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.settings
}

// expiredSecretError is Entra's answer to a secret that matches a key whose
// end date has passed (InvalidClientSecretExpiredKeysProvided).
func (s *Server) expiredSecretError() *entraError {
	return &entraError{status: http.StatusUnauthorized, code: "invalid_client", aadsts: 7000222,
		message: fmt.Sprintf("The provided client secret keys for app '%s' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.", s.opts.ClientID)}
}

// mfaRequiredError is Entra's answer to a sign-in that needs MFA it cannot
// perform. The resource named is the Power BI Service application.
func mfaRequiredError() entraError {
	return entraError{status: http.StatusBadRequest, code: "invalid_grant", aadsts: 50076, suberror: "basic_action",
		message: "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '00000009-0000-0000-c000-000000000000'."}
}

// refuseServicePrincipal answers 401 PowerBINotAuthorizedException when the
// tenant does not let service principals use the APIs and the caller is one.
// It reports whether it answered.
func (s *Server) refuseServicePrincipal(w http.ResponseWriter, r *http.Request) bool {
	if !s.tenantSettings().refuseApps || callerIsUser(r) {
		return false
	}
	writePBIError(w, http.StatusUnauthorized, "PowerBINotAuthorizedException")
	return true
}

// demandMFA wraps the password grant while RequireMFA is on. Entra checks the
// password first and asks for MFA only of a sign-in that would succeed, so
// the grant runs as usual and only its success is replaced by AADSTS50076.
func demandMFA(h grantHandler) grantHandler {
	return func(s *Server, w http.ResponseWriter, r *http.Request, form url.Values) {
		answer := httptest.NewRecorder()
		h(s, answer, r, form)
		if answer.Code == http.StatusOK {
			writeEntraError(w, r, mfaRequiredError())
			return
		}
		for k, v := range answer.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(answer.Code)
		_, _ = w.Write(answer.Body.Bytes())
	}
}
