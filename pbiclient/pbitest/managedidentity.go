package pbitest

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Managed identities: Azure resources (App Service, Functions, VMs) get
// tokens for their identity from a local endpoint of the platform instead of
// the token endpoint. This server plays App Service's endpoint (api-version
// 2019-08-01), which MSAL uses when IDENTITY_ENDPOINT and IDENTITY_HEADER
// are set:
//
//	GET {IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=https://analysis.windows.net/powerbi/api
//	    [&client_id=|object_id=|principal_id=|mi_res_id= for a user-assigned identity]
//	X-IDENTITY-HEADER: {IDENTITY_HEADER}
//
// answered with {"access_token","expires_on" (Unix seconds, a string),
// "resource","token_type","client_id"}. Power BI accepts the tokens like any
// other of this tenant; they carry the identity's appid and oid.

// managedIdentityRoute is the endpoint's pattern, for Count.
const managedIdentityRoute = "GET /msi/token"

// appServiceAPIVersion is the only api-version served.
const appServiceAPIVersion = "2019-08-01"

// ManagedIdentity is a managed identity of the fake Azure resource: the
// service principal Entra keeps for it.
type ManagedIdentity struct {
	ClientID   string // its application (client) id: appid in tokens
	ObjectID   string // its service principal's object id: oid in tokens
	ResourceID string // its Azure resource id (user-assigned ones; the resource's own id for the system-assigned one)
}

// newManagedIdentity makes up an identity. Each server has its own ids,
// which also keeps MSAL's process-wide managed identity cache from handing
// one test's token to another.
func newManagedIdentity(name string) ManagedIdentity {
	sub := "/subscriptions/0b5c4d3e-2f1a-4b6c-8d7e-9f0a1b2c3d4e/resourceGroups/pbitest/providers/"
	return ManagedIdentity{ClientID: newGUID(), ObjectID: newGUID(),
		ResourceID: sub + "Microsoft.ManagedIdentity/userAssignedIdentities/" + name}
}

// SystemAssignedIdentity is the resource's system-assigned identity, the
// one the endpoint answers for when the request names none.
func (s *Server) SystemAssignedIdentity() ManagedIdentity {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.identities[0]
}

// AddUserAssignedIdentity assigns a new user-assigned identity named name
// to the resource and returns it.
func (s *Server) AddUserAssignedIdentity(name string) ManagedIdentity {
	id := newManagedIdentity(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.identities = append(s.identities, id)
	return id
}

// ManagedIdentityEndpoint is the value for IDENTITY_ENDPOINT.
func (s *Server) ManagedIdentityEndpoint() string { return s.URL() + "/msi/token" }

// ManagedIdentityHeader is the value for IDENTITY_HEADER: the endpoint
// refuses requests without it in X-IDENTITY-HEADER.
func (s *Server) ManagedIdentityHeader() string { return s.identityHeader }

// ManagedIdentityRequests returns how many requests reached the managed
// identity endpoint.
func (s *Server) ManagedIdentityRequests() int { return s.Count(managedIdentityRoute) }

func (s *Server) managedIdentityRoutes() {
	s.handleEntra(managedIdentityRoute, s.managedIdentityToken)
}

// appServiceError is the endpoint's error body.
func appServiceError(w http.ResponseWriter, status int, message string) {
	writeBody(w, status, contentTypeJSON, marshal(orderedObject{
		{"statusCode", status},
		{"message", message},
		{"correlationId", newGUID()},
	}))
}

func (s *Server) managedIdentityToken(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-IDENTITY-HEADER") != s.identityHeader {
		// The header guards against server-side request forgery; the
		// endpoint gives nothing away to a request without it.
		appServiceError(w, http.StatusUnauthorized, "Unauthorized: the X-IDENTITY-HEADER header is missing or does not match.")
		return
	}
	q := r.URL.Query()
	if v := q.Get("api-version"); v != appServiceAPIVersion {
		appServiceError(w, http.StatusBadRequest, "The api-version '"+v+"' could not be found. Supported are 2017-09-01 2019-08-01")
		return
	}
	resource := q.Get("resource")
	if resource == "" {
		appServiceError(w, http.StatusBadRequest, "The 'resource' query parameter is required.")
		return
	}
	fabric := strings.EqualFold(strings.TrimSuffix(resource, "/"), fabricResource)
	if !strings.EqualFold(strings.TrimSuffix(resource, "/"), powerBIResource) && !fabric && keyVaultAudience(resource) == "" {
		appServiceError(w, http.StatusBadRequest, "AADSTS500011: The resource principal named "+resource+" was not found in the tenant named "+tenantDisplayName+".")
		return
	}
	id, ok := s.lookUpIdentity(q.Get("client_id"), firstOf(q.Get("object_id"), q.Get("principal_id")), q.Get("mi_res_id"))
	if !ok {
		appServiceError(w, http.StatusBadRequest, "Unable to load the proper Managed Identity.")
		return
	}
	p := appPrincipal{appID: id.ClientID, objectID: id.ObjectID, acr: "2", resourceID: id.ResourceID, aud: keyVaultAudience(resource)}
	if fabric {
		p.aud = fabricResource
	}
	expires := time.Now().Add(s.opts.TokenLifetime)
	writeBody(w, http.StatusOK, contentTypeJSON, marshal(orderedObject{
		{"access_token", s.issueAppToken(p, s.opts.TokenLifetime)},
		{"expires_on", strconv.FormatInt(expires.Unix(), 10)},
		{"resource", resource},
		{"token_type", "Bearer"},
		{"client_id", id.ClientID},
	}))
}

// lookUpIdentity finds the identity a request names (at most one of the
// selectors), the system-assigned one when it names none.
func (s *Server) lookUpIdentity(clientID, objectID, resourceID string) (ManagedIdentity, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if clientID == "" && objectID == "" && resourceID == "" {
		return s.identities[0], true
	}
	for _, id := range s.identities[1:] {
		if (clientID != "" && strings.EqualFold(id.ClientID, clientID)) ||
			(objectID != "" && strings.EqualFold(id.ObjectID, objectID)) ||
			(resourceID != "" && strings.EqualFold(id.ResourceID, resourceID)) {
			return id, true
		}
	}
	return ManagedIdentity{}, false
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
