package pbitest

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

func init() { grantTypes["client_credentials"] = grantClientCredentials }

// grantClientCredentials serves grant_type=client_credentials: the service
// principal signs in as itself. Only Power BI's .default scope is granted;
// the OIDC scopes MSAL appends are ignored, as Entra does.
func grantClientCredentials(s *Server, w http.ResponseWriter, r *http.Request, form url.Values) {
	if !form.Has("client_id") {
		if _, _, basic := r.BasicAuth(); !basic {
			writeEntraError(w, r, missingParameter("client_id"))
			return
		}
	}
	if strings.TrimSpace(form.Get("scope")) == "" {
		writeEntraError(w, r, missingParameter("scope"))
		return
	}
	if e := s.authenticateClient(r, form); e != nil {
		writeEntraError(w, r, *e)
		return
	}
	if e := checkAppScope(form.Get("scope")); e != nil {
		writeEntraError(w, r, *e)
		return
	}
	writeBody(w, http.StatusOK, contentTypeJSON, marshal(s.newAppTokenResponse(form)))
}

// checkAppScope validates the scope of an app-only request: one resource,
// asked for as "<resource>/.default", and that resource must be Power BI
// (the only resource in the fake directory).
func checkAppScope(scope string) *entraError {
	resources := resourceScopes(scope)
	switch {
	case len(resources) == 0:
		// Only OIDC scopes: Entra names the first one.
		return &entraError{status: http.StatusBadRequest, code: "invalid_scope", aadsts: 1002012,
			message: fmt.Sprintf("The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", strings.Fields(scope)[0])}
	case len(resources) > 1:
		return &entraError{status: http.StatusBadRequest, code: "invalid_scope", aadsts: 70011,
			message: fmt.Sprintf("The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope %s is not valid.", strings.Join(resources, " "))}
	}
	sc := resources[0]
	resource, isDefault := strings.CutSuffix(sc, "/.default")
	if !isDefault {
		return &entraError{status: http.StatusBadRequest, code: "invalid_scope", aadsts: 1002012,
			message: fmt.Sprintf("The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", sc)}
	}
	if r := strings.TrimSuffix(resource, "/"); !strings.EqualFold(r, powerBIResource) && !strings.EqualFold(r, fabricResource) {
		return &entraError{status: http.StatusBadRequest, code: "invalid_resource", aadsts: 500011,
			message: fmt.Sprintf("The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", resource, tenantDisplayName)}
	}
	return nil
}
