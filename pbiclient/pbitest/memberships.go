package pbitest

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
)

// Power BI answers a signed-in user according to the user's own workspace
// memberships: GET /groups lists only the workspaces where the user has a
// role, directly or through an Entra group, and every other workspace answers
// 404 PowerBIEntityNotFound, as one that does not exist (writeGroupNotFound).
// App-only tokens keep seeing every workspace, since the service principal
// is Admin of the demo workspaces and tests add workspaces without members.
// A workspace nobody is a member of (AddWorkspace without AddWorkspaceUser)
// is open to every user as well: in Power BI every workspace has an admin,
// and tests that add a bare workspace mean one the caller can use.

// delegatedUser is who a delegated (user) token was issued to.
type delegatedUser struct {
	upn, oid string
}

// delegatedUserOf returns the user of the request's token, already accepted
// by authorize; ok is false for app-only tokens, which carry no scp.
func delegatedUserOf(r *http.Request) (u delegatedUser, ok bool) {
	_, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	parts := strings.Split(strings.TrimSpace(token), ".")
	if len(parts) != 3 {
		return u, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return u, false
	}
	var c struct {
		Scp        string `json:"scp"`
		UPN        string `json:"upn"`
		UniqueName string `json:"unique_name"`
		OID        string `json:"oid"`
	}
	if json.Unmarshal(payload, &c) != nil || c.Scp == "" {
		return u, false
	}
	u.upn, u.oid = c.UPN, c.OID
	if u.upn == "" {
		u.upn = c.UniqueName
	}
	return u, true
}

// AddGroupMember makes the user upn a member of the Entra security group
// groupID, so that the user has whatever role the group has in a workspace
// (WorkspaceUser with PrincipalType "Group").
func (s *Server) AddGroupMember(groupID, upn string) {
	st := s.signIn()
	st.mu.Lock()
	defer st.mu.Unlock()
	key := strings.ToLower(groupID)
	st.groups[key] = append(st.groups[key], upn)
}

// inGroup reports whether upn is a member of the Entra group groupID.
func (s *Server) inGroup(groupID, upn string) bool {
	st := s.signIn()
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, m := range st.groups[strings.ToLower(groupID)] {
		if strings.EqualFold(m, upn) {
			return true
		}
	}
	return false
}

// visibleTo reports whether the user has a role in the workspace: as a user,
// by UPN, email address or object id, or through a group. s.mu is held.
func (s *Server) visibleTo(ws *workspace, u delegatedUser) bool {
	if len(ws.users) == 0 || ws == s.state.myWorkspace {
		return true
	}
	for _, m := range ws.users {
		switch m.PrincipalType {
		case "", "User":
			if strings.EqualFold(m.Identifier, u.upn) || strings.EqualFold(m.EmailAddress, u.upn) ||
				(u.oid != "" && strings.EqualFold(m.Identifier, u.oid)) {
				return true
			}
		case "Group":
			if s.inGroup(m.Identifier, u.upn) {
				return true
			}
		}
	}
	return false
}

// workspaceRoute is the prefix of the per-workspace routes (the admin
// routes, under /admin/groups, see every workspace by design).
const workspaceRoute = apiPrefix + "/groups/{groupId}"

// refuseNonMember answers 404 to a user who asks for a workspace they have
// no role in, and reports whether it answered. A workspace that does not
// exist is left to the handler, which answers the same.
func (s *Server) refuseNonMember(w http.ResponseWriter, r *http.Request) bool {
	if !strings.Contains(r.Pattern, workspaceRoute) {
		return false
	}
	u, ok := delegatedUserOf(r)
	if !ok {
		return false
	}
	s.mu.Lock()
	ws := s.state.workspace(r.PathValue("groupId"))
	hidden := ws != nil && !s.visibleTo(ws, u)
	s.mu.Unlock()
	if hidden {
		writeGroupNotFound(w)
	}
	return hidden
}

// workspaceFor finds a workspace a request names in its body (a clone's
// target, an embed token's target workspaces): nil when it does not exist or
// the user has no role in it, which Power BI does not tell apart. s.mu is
// held.
func (s *Server) workspaceFor(r *http.Request, groupID string) *workspace {
	ws := s.state.workspace(groupID)
	if ws == nil {
		return nil
	}
	if u, ok := delegatedUserOf(r); ok && !s.visibleTo(ws, u) {
		return nil
	}
	return ws
}

// listedFor reports whether GET /groups lists ws to the request's caller.
// s.mu is held.
func (s *Server) listedFor(r *http.Request, ws *workspace) bool {
	u, ok := delegatedUserOf(r)
	return !ok || s.visibleTo(ws, u)
}

// creatorOf is the first member of a workspace the request creates: the
// signed-in user, or the service principal.
func creatorOf(r *http.Request) WorkspaceUser {
	if u, ok := delegatedUserOf(r); ok && u.upn != "" {
		return WorkspaceUser{Identifier: u.upn, EmailAddress: u.upn, PrincipalType: "User", AccessRight: "Admin", DisplayName: u.upn}
	}
	return WorkspaceUser{Identifier: servicePrincipalObjectID, PrincipalType: "App", AccessRight: "Admin", DisplayName: DemoServicePrincipalName}
}
