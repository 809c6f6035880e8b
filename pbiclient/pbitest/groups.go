package pbitest

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

func (s *Server) groupRoutes() {
	s.handleAPI("GET "+apiPrefix+"/groups", s.listGroups)
	s.handleAPI("POST "+apiPrefix+"/groups", s.createGroup)
	s.handleAPI("GET "+apiPrefix+"/groups/{groupId}", s.getGroup)
	s.handleAPI("PATCH "+apiPrefix+"/groups/{groupId}", s.updateGroup)
	s.handleAPI("DELETE "+apiPrefix+"/groups/{groupId}", s.deleteGroup)
	s.handleAPI("GET "+apiPrefix+"/groups/{groupId}/users", s.listGroupUsers)
	s.handleAPI("POST "+apiPrefix+"/groups/{groupId}/users", s.addGroupUser)
	s.handleAPI("PUT "+apiPrefix+"/groups/{groupId}/users", s.updateGroupUser)
	s.handleAPI("DELETE "+apiPrefix+"/groups/{groupId}/users/{user}", s.deleteGroupUser)
}

// groupJSON is a Group as the service sends it, fields in its order.
type groupJSON struct {
	ID                          string `json:"id"`
	IsReadOnly                  bool   `json:"isReadOnly"`
	IsOnDedicatedCapacity       bool   `json:"isOnDedicatedCapacity"`
	CapacityID                  string `json:"capacityId,omitempty"`
	DefaultDatasetStorageFormat string `json:"defaultDatasetStorageFormat,omitempty"`
	Type                        string `json:"type"`
	Name                        string `json:"name"`
	DataflowStorageID           string `json:"dataflowStorageId,omitempty"`
}

func toGroupJSON(w Workspace) groupJSON {
	// Only capacity workspaces have a storage format setting; AddWorkspace
	// leaves it empty on shared capacity.
	return groupJSON{
		ID:                          w.ID,
		IsReadOnly:                  w.IsReadOnly,
		IsOnDedicatedCapacity:       w.IsOnDedicatedCapacity,
		CapacityID:                  w.CapacityID,
		DefaultDatasetStorageFormat: w.DefaultDatasetStorageFormat,
		Type:                        w.Type,
		Name:                        w.Name,
		DataflowStorageID:           w.DataflowStorageID,
	}
}

func (w Workspace) filterFields() filterFields {
	return filterFields{
		"id":                    w.ID,
		"name":                  w.Name,
		"type":                  w.Type,
		"isReadOnly":            strconv.FormatBool(w.IsReadOnly),
		"isOnDedicatedCapacity": strconv.FormatBool(w.IsOnDedicatedCapacity),
		"capacityId":            w.CapacityID,
	}
}

var groupFilterFields = map[string]bool{
	"id": true, "name": true, "type": true, "isReadOnly": true, "isOnDedicatedCapacity": true, "capacityId": true,
}

// writeQueryError answers an OData query option the service rejects, in the
// error format of its OData stack.
func writeQueryError(w http.ResponseWriter, detail string) {
	writeError(w, http.StatusBadRequest, "", "The query specified in the URI is not valid. "+detail)
}

// pageOptions reads $top and $skip. ok is false after a 400 was answered.
func pageOptions(w http.ResponseWriter, r *http.Request) (top, skip int, ok bool) {
	top, skip = -1, 0
	q := r.URL.Query()
	for _, opt := range []struct {
		name string
		dst  *int
	}{{"$top", &top}, {"$skip", &skip}} {
		if !q.Has(opt.name) {
			continue
		}
		v := q.Get(opt.name)
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n < 0 {
			writeQueryError(w, fmt.Sprintf("Invalid value '%s' for %s query option found. The %s query option requires a non-negative integer value.", v, opt.name, opt.name))
			return 0, 0, false
		}
		*opt.dst = int(n)
	}
	return top, skip, true
}

// page applies $skip then $top.
func page[T any](items []T, top, skip int) []T {
	if skip >= len(items) {
		return []T{}
	}
	items = items[skip:]
	if top >= 0 && top < len(items) {
		items = items[:top]
	}
	return items
}

// listGroups serves GET /groups: $filter, $top, $skip, and @odata.count
// holding the number of groups returned.
func (s *Server) listGroups(w http.ResponseWriter, r *http.Request) {
	top, skip, ok := pageOptions(w, r)
	if !ok {
		return
	}
	var filter odataFilter
	if src := r.URL.Query().Get("$filter"); strings.TrimSpace(src) != "" {
		f, err := parseFilter(src, groupFilterFields)
		if err != nil {
			writeQueryError(w, err.Error())
			return
		}
		filter = f
	}
	s.mu.Lock()
	groups := []groupJSON{}
	for _, ws := range s.state.workspaces {
		if (filter == nil || filter(ws.info.filterFields())) && s.listedFor(r, ws) {
			groups = append(groups, toGroupJSON(ws.info))
		}
	}
	s.mu.Unlock()
	groups = page(groups, top, skip)
	n := len(groups)
	writeJSON(w, http.StatusOK, odataList{Context: s.metadataURL("", "groups"), Count: &n, Value: groups})
}

func (s *Server) getGroup(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	ws, _ := s.workspaceOf(w, r)
	if ws == nil {
		s.mu.Unlock()
		return
	}
	info := ws.info
	s.mu.Unlock()
	s.writeEntity(w, http.StatusOK, "", "groups", toGroupJSON(info))
}

// writeGroupNotFound answers a workspace id that does not exist or that the
// caller is not a member of; the service does not tell the two apart.
func writeGroupNotFound(w http.ResponseWriter) {
	writePBIError(w, http.StatusNotFound, "PowerBIEntityNotFound")
}

// nameTaken reports whether another workspace already has the name. The
// service keeps workspace names unique in the organization, ignoring case.
// The caller must hold s.mu.
func (s *Server) nameTaken(name string, except *workspace) bool {
	for _, ws := range s.state.workspaces {
		if ws != except && strings.EqualFold(strings.TrimSpace(ws.info.Name), strings.TrimSpace(name)) {
			return true
		}
	}
	return false
}

// writeNameTaken answers a create or rename to a name in use with the body
// public clients quote for POST /groups: 400 PowerBIEntityAlreadyExists in
// the pbi.error shape, without exceptionCulprit.
func writeNameTaken(w http.ResponseWriter) {
	writeBody(w, http.StatusBadRequest, contentTypeJSON,
		[]byte(`{"error":{"code":"PowerBIEntityAlreadyExists","pbi.error":{"code":"PowerBIEntityAlreadyExists","parameters":{},"details":[]}}}`))
}

// createGroup serves POST /groups: a new workspace whose only member is its
// creator, as Admin. The answer is the Group itself, not a list (the
// swagger example is wrong there).
func (s *Server) createGroup(w http.ResponseWriter, r *http.Request) {
	if v := r.URL.Query().Get("workspaceV2"); r.URL.Query().Has("workspaceV2") && !strings.EqualFold(v, "true") {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "The only supported value of workspaceV2 is true")
		return
	}
	var body struct {
		Name *string `json:"name"`
	}
	if _, ok := readJSON(w, r, &body); !ok {
		return
	}
	if body.Name == nil || strings.TrimSpace(*body.Name) == "" {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "The workspace name is required")
		return
	}
	s.mu.Lock()
	if s.nameTaken(*body.Name, nil) {
		s.mu.Unlock()
		writeNameTaken(w)
		return
	}
	// Checked and added under one lock, so concurrent creates of one name
	// cannot both succeed. New workspaces are on shared capacity.
	info := Workspace{ID: newGUID(), Name: *body.Name, Type: "Workspace"}
	ws := &workspace{info: info, users: []WorkspaceUser{creatorOf(r)}}
	s.state.workspaces = append(s.state.workspaces, ws)
	s.state.byID[strings.ToLower(info.ID)] = ws
	s.mu.Unlock()
	s.writeEntity(w, http.StatusOK, "", "groups", toGroupJSON(info))
}

// updateGroup serves PATCH /groups/{groupId} (UpdateGroupRequest). On
// shared capacity only the name can change.
func (s *Server) updateGroup(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name                        *string `json:"name"`
		DefaultDatasetStorageFormat *string `json:"defaultDatasetStorageFormat"`
	}
	if _, ok := readJSON(w, r, &body); !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ws, _ := s.workspaceOf(w, r)
	if ws == nil {
		return
	}
	if body.Name != nil {
		if strings.TrimSpace(*body.Name) == "" {
			writeError(w, http.StatusBadRequest, "InvalidRequest", "The workspace name must not be empty")
			return
		}
		if s.nameTaken(*body.Name, ws) {
			writeNameTaken(w)
			return
		}
	}
	if f := body.DefaultDatasetStorageFormat; f != nil {
		if *f != "Small" && *f != "Large" {
			writeError(w, http.StatusBadRequest, "InvalidRequest", "defaultDatasetStorageFormat must be Small or Large")
			return
		}
		if !ws.info.IsOnDedicatedCapacity {
			writeError(w, http.StatusBadRequest, "InvalidRequest", "For workspaces on shared capacity only the name can be updated")
			return
		}
		ws.info.DefaultDatasetStorageFormat = *f
	}
	if body.Name != nil {
		ws.info.Name = *body.Name
	}
	writeEmptyOK(w)
}

// deleteGroup serves DELETE /groups/{groupId}: the workspace and its
// content are gone.
func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ws, _ := s.workspaceOf(w, r)
	if ws == nil {
		return
	}
	s.state.workspaces = slices.DeleteFunc(s.state.workspaces, func(x *workspace) bool { return x == ws })
	delete(s.state.byID, strings.ToLower(ws.info.ID))
	writeEmptyOK(w)
}

// groupUserJSON is a GroupUser as the service sends it, fields in its order.
type groupUserJSON struct {
	DisplayName          string `json:"displayName,omitempty"`
	EmailAddress         string `json:"emailAddress,omitempty"`
	GroupUserAccessRight string `json:"groupUserAccessRight"`
	Identifier           string `json:"identifier"`
	PrincipalType        string `json:"principalType"`
}

func toGroupUserJSON(u WorkspaceUser) groupUserJSON {
	return groupUserJSON{DisplayName: u.DisplayName, EmailAddress: u.EmailAddress,
		GroupUserAccessRight: u.AccessRight, Identifier: u.Identifier, PrincipalType: u.PrincipalType}
}

// listGroupUsers serves GET /groups/{groupId}/users with $top and $skip.
func (s *Server) listGroupUsers(w http.ResponseWriter, r *http.Request) {
	top, skip, ok := pageOptions(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	ws, groupID := s.workspaceOf(w, r)
	if ws == nil {
		s.mu.Unlock()
		return
	}
	users := make([]groupUserJSON, 0, len(ws.users))
	for _, u := range ws.users {
		users = append(users, toGroupUserJSON(u))
	}
	s.mu.Unlock()
	writeList(s, w, groupID, "users", page(users, top, skip))
}

// Access rights a workspace user can be given. "None" is in the REST
// definition's enum but grants nothing, so the service refuses it here.
var accessRights = []string{"Admin", "Member", "Contributor", "Viewer"}

var principalTypes = []string{"User", "Group", "App"}

// readGroupUser reads and checks a GroupUser body of POST or PUT
// /groups/{groupId}/users. ok is false after a 400 was answered.
func readGroupUser(w http.ResponseWriter, r *http.Request) (WorkspaceUser, bool) {
	var body struct {
		Identifier           string `json:"identifier"`
		EmailAddress         string `json:"emailAddress"`
		PrincipalType        string `json:"principalType"`
		GroupUserAccessRight string `json:"groupUserAccessRight"`
		DisplayName          string `json:"displayName"`
	}
	if present, ok := readJSON(w, r, &body); !ok {
		return WorkspaceUser{}, false
	} else if !present {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "The request body is required")
		return WorkspaceUser{}, false
	}
	u := WorkspaceUser{Identifier: strings.TrimSpace(body.Identifier), EmailAddress: strings.TrimSpace(body.EmailAddress),
		PrincipalType: body.PrincipalType, AccessRight: body.GroupUserAccessRight, DisplayName: body.DisplayName}
	if u.Identifier == "" {
		// Users may be named by emailAddress alone, as in Microsoft's examples.
		u.Identifier = u.EmailAddress
	}
	if u.PrincipalType == "" && u.EmailAddress != "" {
		u.PrincipalType = "User"
	}
	switch {
	case u.Identifier == "":
		writeError(w, http.StatusBadRequest, "InvalidRequest", "identifier (or emailAddress for a user) is required")
	case !slices.Contains(principalTypes, u.PrincipalType):
		writeError(w, http.StatusBadRequest, "InvalidRequest", "principalType must be User, Group or App")
	case !slices.Contains(accessRights, u.AccessRight):
		writeError(w, http.StatusBadRequest, "InvalidRequest", "groupUserAccessRight must be Admin, Member, Contributor or Viewer")
	default:
		return u, true
	}
	return WorkspaceUser{}, false
}

// userIndex finds a principal of the workspace by identifier or email
// address, ignoring case; -1 when absent.
func (ws *workspace) userIndex(id string) int { return userIndex(ws.users, id) }

// addGroupUser serves POST /groups/{groupId}/users. A principal already in
// the workspace is refused; PUT changes its access right.
func (s *Server) addGroupUser(w http.ResponseWriter, r *http.Request) {
	u, ok := readGroupUser(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ws, _ := s.workspaceOf(w, r)
	if ws == nil {
		return
	}
	if ws.userIndex(u.Identifier) >= 0 {
		writePBIError(w, http.StatusBadRequest, "AddingAlreadyExistsGroupUserNotSupportedError")
		return
	}
	ws.users = append(ws.users, withUserDefaults(u))
	writeEmptyOK(w)
}

// updateGroupUser serves PUT /groups/{groupId}/users: a new access right
// for a principal of the workspace.
func (s *Server) updateGroupUser(w http.ResponseWriter, r *http.Request) {
	u, ok := readGroupUser(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ws, _ := s.workspaceOf(w, r)
	if ws == nil {
		return
	}
	i := ws.userIndex(u.Identifier)
	if i < 0 {
		writePBIError(w, http.StatusNotFound, "PowerBIEntityNotFound")
		return
	}
	ws.users[i].AccessRight = u.AccessRight
	writeEmptyOK(w)
}

// deleteGroupUser serves DELETE /groups/{groupId}/users/{user}, where user is
// an email address or the object id of a group or service principal.
func (s *Server) deleteGroupUser(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ws, _ := s.workspaceOf(w, r)
	if ws == nil {
		return
	}
	i := ws.userIndex(r.PathValue("user"))
	if i < 0 {
		writePBIError(w, http.StatusNotFound, "PowerBIEntityNotFound")
		return
	}
	ws.users = slices.Delete(ws.users, i, i+1)
	writeEmptyOK(w)
}

func withUserDefaults(u WorkspaceUser) WorkspaceUser {
	if u.PrincipalType == "" {
		u.PrincipalType = "User"
	}
	if u.PrincipalType == "User" {
		if u.EmailAddress == "" {
			u.EmailAddress = u.Identifier
		}
		if u.DisplayName == "" {
			u.DisplayName = u.EmailAddress
		}
	}
	return u
}

// AddWorkspaceUser gives a principal access to a workspace and returns it as
// stored, with defaults filled in. It panics if the workspace does not
// exist or the principal is already in it.
func (s *Server) AddWorkspaceUser(workspaceID string, u WorkspaceUser) WorkspaceUser {
	u = withUserDefaults(u)
	s.mu.Lock()
	defer s.mu.Unlock()
	ws := s.mustWorkspace("AddWorkspaceUser", workspaceID)
	if ws.userIndex(u.Identifier) >= 0 {
		panic(fmt.Sprintf("pbitest: AddWorkspaceUser: %s is already in workspace %s", u.Identifier, workspaceID))
	}
	ws.users = append(ws.users, u)
	return u
}
