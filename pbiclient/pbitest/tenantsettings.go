package pbitest

import (
	"fmt"
	"net/http"
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
//   - RequireMFA(upn) (users.go): Conditional Access demands multi-factor
//     authentication of the user, which a password sign-in cannot do.
//   - A service principal in no workspace: a server that was never seeded
//     (or SetServicePrincipalAdminAPIs in admin.go for the admin APIs).
//
// The settings belong to the tenant, not its content: seeding leaves them.

// tenantSettings are the knobs above; the Server's mutex guards them.
type tenantSettings struct {
	secretExpired     bool
	refuseApps        bool
	refuseExecQueries bool
	noOBOConsent      bool // SetAdminConsent(false), grant_obo.go
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
