package pbitest

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Service principal profiles (multi-tenancy for Power BI Embedded): profiles belong to the
// service principal that creates them and only a service principal may manage them. And
// RefreshUserPermissions, which a caller may run once an hour.

// ServicePrincipalProfile is a profile of the tenant's service principal.
type ServicePrincipalProfile struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
}

// permissionRefreshInterval is how often a caller may refresh its permissions.
const permissionRefreshInterval = time.Hour

// profileFilterFields are what $filter may name on profiles.
var profileFilterFields = map[string]bool{"id": true, "displayName": true}

func (s *Server) profileRoutes() {
	p := apiPrefix + "/profiles"
	s.handleAPI("GET "+p, s.listProfiles)
	s.handleAPI("POST "+p, s.createProfile)
	s.handleAPI("GET "+p+"/{profileId}", s.getProfile)
	s.handleAPI("PUT "+p+"/{profileId}", s.updateProfile)
	s.handleAPI("DELETE "+p+"/{profileId}", s.deleteProfile)
	s.handleAPI("POST "+apiPrefix+"/RefreshUserPermissions", s.refreshUserPermissions)
}

// refuseUser answers a user's call to what only a service principal may call
// [INFER: the not-authorized shape the service uses for permission failures].
func refuseUser(w http.ResponseWriter, r *http.Request) bool {
	if !callerIsUser(r) {
		return false
	}
	writePBIError(w, http.StatusUnauthorized, "PowerBINotAuthorizedException",
		detailsMessage("Service principal profiles can only be managed by a service principal."))
	return true
}

// profileOf finds the request's profile, answering 404 when there is none. The caller must
// hold s.mu.
func (s *Server) profileOf(w http.ResponseWriter, r *http.Request) *ServicePrincipalProfile {
	id := r.PathValue("profileId")
	for _, p := range s.state.profiles {
		if strings.EqualFold(p.ID, id) {
			return p
		}
	}
	writeError(w, http.StatusNotFound, "PowerBIEntityNotFound", fmt.Sprintf("Profile %s was not found.", id))
	return nil
}

// profileNameTaken reports whether another profile has the name (names are unique per
// service principal, without regard to case). The caller must hold s.mu.
func (s *Server) profileNameTaken(name string, except *ServicePrincipalProfile) bool {
	return slices.ContainsFunc(s.state.profiles, func(p *ServicePrincipalProfile) bool {
		return p != except && strings.EqualFold(p.DisplayName, name)
	})
}

func writeProfileExists(w http.ResponseWriter) {
	writePBIError(w, http.StatusConflict, "PowerBIEntityAlreadyExists")
}

// readProfileName reads a create or update request's displayName, which must not be empty.
func readProfileName(w http.ResponseWriter, r *http.Request) (string, bool) {
	var body struct {
		DisplayName string `json:"displayName"`
	}
	if _, ok := readJSON(w, r, &body); !ok {
		return "", false
	}
	if strings.TrimSpace(body.DisplayName) == "" {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "displayName is required.")
		return "", false
	}
	return body.DisplayName, true
}

func (s *Server) listProfiles(w http.ResponseWriter, r *http.Request) {
	if refuseUser(w, r) {
		return
	}
	top, skip, ok := pageOptions(w, r)
	if !ok {
		return
	}
	var filter odataFilter
	if src := r.URL.Query().Get("$filter"); strings.TrimSpace(src) != "" {
		f, err := parseFilter(src, profileFilterFields)
		if err != nil {
			writeQueryError(w, err.Error())
			return
		}
		filter = f
	}
	s.mu.Lock()
	items := []ServicePrincipalProfile{}
	for _, p := range s.state.profiles {
		if filter == nil || filter(filterFields{"id": p.ID, "displayName": p.DisplayName}) {
			items = append(items, *p)
		}
	}
	s.mu.Unlock()
	if top <= 0 {
		top = math.MaxInt32
	}
	writeList(s, w, "", "profiles", page(items, top, skip))
}

func (s *Server) createProfile(w http.ResponseWriter, r *http.Request) {
	if refuseUser(w, r) {
		return
	}
	name, ok := readProfileName(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	if s.profileNameTaken(name, nil) {
		s.mu.Unlock()
		writeProfileExists(w)
		return
	}
	p := &ServicePrincipalProfile{ID: newGUID(), DisplayName: name}
	s.state.profiles = append(s.state.profiles, p)
	out := *p
	s.mu.Unlock()
	s.writeEntity(w, http.StatusOK, "", "profiles", out)
}

func (s *Server) getProfile(w http.ResponseWriter, r *http.Request) {
	if refuseUser(w, r) {
		return
	}
	s.mu.Lock()
	p := s.profileOf(w, r)
	if p == nil {
		s.mu.Unlock()
		return
	}
	out := *p
	s.mu.Unlock()
	s.writeEntity(w, http.StatusOK, "", "profiles", out)
}

func (s *Server) updateProfile(w http.ResponseWriter, r *http.Request) {
	if refuseUser(w, r) {
		return
	}
	name, ok := readProfileName(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	p := s.profileOf(w, r)
	if p == nil {
		s.mu.Unlock()
		return
	}
	if s.profileNameTaken(name, p) {
		s.mu.Unlock()
		writeProfileExists(w)
		return
	}
	p.DisplayName = name
	out := *p
	s.mu.Unlock()
	s.writeEntity(w, http.StatusOK, "", "profiles", out)
}

func (s *Server) deleteProfile(w http.ResponseWriter, r *http.Request) {
	if refuseUser(w, r) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.profileOf(w, r)
	if p == nil {
		return
	}
	s.state.profiles = slices.DeleteFunc(s.state.profiles, func(x *ServicePrincipalProfile) bool { return x == p })
	writeEmptyOK(w)
}

// refreshUserPermissions accepts one call per caller an hour and throttles the rest, as
// documented. Permissions change at once in this tenant, so there is nothing else to do.
func (s *Server) refreshUserPermissions(w http.ResponseWriter, r *http.Request) {
	caller := s.callerAsOwner()
	if u, ok := delegatedUserOf(r); ok {
		caller = u.upn
	}
	now := time.Now()
	s.mu.Lock()
	last, seen := s.state.permissionRefreshes[caller]
	if seen && now.Sub(last) < permissionRefreshInterval {
		s.mu.Unlock()
		writeThrottled(w, int(math.Ceil(permissionRefreshInterval.Seconds()-now.Sub(last).Seconds())))
		return
	}
	if s.state.permissionRefreshes == nil {
		s.state.permissionRefreshes = map[string]time.Time{}
	}
	s.state.permissionRefreshes[caller] = now
	s.mu.Unlock()
	writeEmptyOK(w)
}
