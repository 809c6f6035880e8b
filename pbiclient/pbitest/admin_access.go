package pbitest

import (
	"cmp"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The admin access area: who can reach what across the tenant, and the admin changes to a
// workspace's access.
//   - POST admin/groups/{id}/restore, POST admin/groups/{id}/users and DELETE
//     admin/groups/{id}/users/{user}: for a Fabric administrator signed in as a user; a service
//     principal is refused with 401 PowerBINotAuthorizedException (the operations' Permissions
//     section names a user only, and read-only admin API access does not extend to them).
//   - GET admin/{apps|capacities|dashboards|dataflows|datasets|pipelines|reports}/{id}/users:
//     a workspace item's users are the workspace's principals with the right their role gives
//     (itemRight) plus those the item was shared with directly; an app's are its audience; a
//     capacity's its admins and those granted Assign; a pipeline's those set on it.
//   - GET admin/users/{user}/artifactAccess, admin/users/{user}/subscriptions,
//     admin/groups/{id}/unused and admin/widelySharedArtifacts/*: lists in chunks with a
//     continuationToken, like the service (chunk size SetAdminChunkSize).
//   - GET admin/{reports|dashboards}/{id}/subscriptions.

// ItemUser is a principal an item was shared with directly, or an app's audience member, or
// a capacity user granted Assign.
type ItemUser struct {
	Identifier    string // UPN for users, object id otherwise
	PrincipalType string // "User" (default), "Group" or "App"
	AccessRight   string // in the item kind's terms: "Read", "ReadWrite", "ReadExplore", "Assign"...
	DisplayName   string
}

// WideShare is a report or dashboard shared beyond its workspace: published to the web
// (anyone with the link, no sign-in) or by a link for the whole organization.
type WideShare struct {
	ItemID string
	// PublishToWeb, or else a link shared with everyone in the organization.
	PublishToWeb bool
	Sharer       string // UPN of the user who shared it
	AccessRight  string // of an organization link: "Read" (default) or "ReadWrite"
}

// Subscription is an email subscription to a report or dashboard.
type Subscription struct {
	ID               string // filled with a random GUID when empty
	Title            string
	ArtifactID       string // a report or dashboard of the tenant
	Page             string // the report page sent, if any
	Enabled          bool
	Frequency        string // default "Daily"
	Start, End       time.Time
	AttachmentFormat string   // e.g. "PNG", "PDF"
	Owner            string   // UPN of the user who made it
	Recipients       []string // UPNs it is sent to; default the owner
}

// unusedAfter is how long an item must go unopened to count as unused (the REST reference:
// "not used within 30 days").
const unusedAfter = 30 * 24 * time.Hour

// defaultAdminChunk is how many entries a continuation list answers at once. [INFER] the
// service's chunk size is not documented; its example token decodes to ",1,100000,0".
const defaultAdminChunk = 100

// ShareItem gives a principal direct access to an item (report, dashboard, dataflow), makes it
// part of an app's audience, or grants it Assign on a capacity.
func (s *Server) ShareItem(itemID string, u ItemUser) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.state.adminState()
	if a.itemUsers == nil {
		a.itemUsers = map[string][]ItemUser{}
	}
	k := strings.ToLower(itemID)
	a.itemUsers[k] = append(a.itemUsers[k], u)
}

// AddWideShare records that a report or dashboard was published to the web or shared with the
// whole organization.
func (s *Server) AddWideShare(sh WideShare) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.state.adminState()
	a.shares = append(a.shares, sh)
}

// SetLastAccessed records when an item (dataset, report, dashboard) was last opened; one
// unopened for 30 days is listed by admin/groups/{id}/unused. Items with no record count as used.
func (s *Server) SetLastAccessed(itemID string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.state.adminState()
	if a.lastAccess == nil {
		a.lastAccess = map[string]time.Time{}
	}
	a.lastAccess[strings.ToLower(itemID)] = at.UTC()
}

// AddSubscription adds an email subscription.
func (s *Server) AddSubscription(sub Subscription) Subscription {
	if sub.ID == "" {
		sub.ID = newGUID()
	}
	sub.Frequency = cmp.Or(sub.Frequency, "Daily")
	if len(sub.Recipients) == 0 && sub.Owner != "" {
		sub.Recipients = []string{sub.Owner}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.state.adminState()
	a.subscriptions = append(a.subscriptions, sub)
	return sub
}

// SetAdminChunkSize sets how many entries the continuation lists answer at once (0: the default).
func (s *Server) SetAdminChunkSize(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state.adminState().chunk = n
}

func (s *Server) adminAccessRoutes() {
	p := apiPrefix + "/admin/"
	s.handleAPI("POST "+p+"groups/{groupId}/restore", s.admin("restore", s.adminUpdate(s.adminRestoreGroup)))
	s.handleAPI("POST "+p+"groups/{groupId}/users", s.admin("addUser", s.adminUpdate(s.adminAddGroupUser)))
	s.handleAPI("DELETE "+p+"groups/{groupId}/users/{user}", s.admin("deleteUser", s.adminUpdate(s.adminDeleteGroupUser)))
	s.handleAPI("GET "+p+"groups/{groupId}/unused", s.admin("unused", s.adminUnused))
	s.handleAPI("GET "+p+"widelySharedArtifacts/publishedToWeb", s.admin("publishedToWeb", s.adminWideShares(true)))
	s.handleAPI("GET "+p+"widelySharedArtifacts/linksSharedToWholeOrganization", s.admin("linksShared", s.adminWideShares(false)))
	for _, kind := range []string{"apps", "capacities", "dashboards", "dataflows", "datasets", "pipelines", "reports"} {
		param := strings.TrimSuffix(strings.TrimSuffix(kind, "s"), "ie") + "Id"
		if kind == "capacities" {
			param = "capacityId"
		}
		s.handleAPI("GET "+p+kind+"/{"+param+"}/users", s.admin(kind+"Users", s.adminItemUsers(kind, param)))
	}
	s.handleAPI("GET "+p+"users/{userId}/artifactAccess", s.admin("artifactAccess", s.adminArtifactAccess))
	s.handleAPI("GET "+p+"reports/{reportId}/subscriptions", s.admin("reportSubscriptions", s.adminItemSubscriptions("reportId")))
	s.handleAPI("GET "+p+"dashboards/{dashboardId}/subscriptions", s.admin("dashboardSubscriptions", s.adminItemSubscriptions("dashboardId")))
	s.handleAPI("GET "+p+"users/{userId}/subscriptions", s.admin("userSubscriptions", s.adminUserSubscriptions))
}

// adminUpdate refuses service principals: the admin operations that change the tenant need a
// Fabric administrator signed in as a user.
func (s *Server) adminUpdate(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !callerIsUser(r) {
			writePBIError(w, http.StatusUnauthorized, "PowerBINotAuthorizedException")
			return
		}
		h(w, r)
	}
}

// workspaceUsersRef finds the users of any workspace of the tenant, for changing them, and the
// workspace when only the admin APIs see it. The caller holds s.mu.
func (s *Server) workspaceUsersRef(id string) (*[]WorkspaceUser, *AdminWorkspace) {
	if ws := s.state.workspace(id); ws != nil && id != "" {
		return &ws.users, nil
	}
	for _, w := range s.state.adminState().workspaces {
		if strings.EqualFold(w.ID, id) {
			return &w.Users, w
		}
	}
	return nil, nil
}

// adminRestoreGroup serves POST admin/groups/{groupId}/restore: a deleted workspace is active
// again, under a new name if one is given, with emailAddress as an Admin.
func (s *Server) adminRestoreGroup(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name         string `json:"name"`
		EmailAddress string `json:"emailAddress"`
	}
	if present, ok := readJSON(w, r, &body); !ok {
		return
	} else if !present || strings.TrimSpace(body.EmailAddress) == "" {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "emailAddress, the owner of the restored workspace, is required")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	users, aw := s.workspaceUsersRef(r.PathValue("groupId"))
	if users == nil {
		writeGroupNotFound(w)
		return
	}
	if aw == nil || aw.State != "Deleted" {
		// [INFER] the service's answer for a workspace that is not deleted is not documented.
		writeError(w, http.StatusBadRequest, "InvalidRequest", "The workspace is not deleted")
		return
	}
	aw.State = "Active"
	if n := strings.TrimSpace(body.Name); n != "" {
		aw.Name = n
	}
	owner := strings.TrimSpace(body.EmailAddress)
	i := slices.IndexFunc(aw.Users, func(u WorkspaceUser) bool { return strings.EqualFold(u.Identifier, owner) })
	if i >= 0 {
		aw.Users[i].AccessRight = "Admin"
	} else {
		aw.Users = append(aw.Users, withUserDefaults(WorkspaceUser{Identifier: owner, AccessRight: "Admin"}))
	}
	writeEmptyOK(w)
}

// adminAddGroupUser serves POST admin/groups/{groupId}/users for any workspace of the tenant.
func (s *Server) adminAddGroupUser(w http.ResponseWriter, r *http.Request) {
	u, ok := readGroupUser(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	users, _ := s.workspaceUsersRef(r.PathValue("groupId"))
	if users == nil {
		writeGroupNotFound(w)
		return
	}
	if userIndex(*users, u.Identifier) >= 0 {
		writePBIError(w, http.StatusBadRequest, "AddingAlreadyExistsGroupUserNotSupportedError")
		return
	}
	*users = append(*users, withUserDefaults(u))
	writeEmptyOK(w)
}

// adminDeleteGroupUser serves DELETE admin/groups/{groupId}/users/{user}. A group is removed
// only with isGroup=true, as the reference says the parameter is required for groups.
func (s *Server) adminDeleteGroupUser(w http.ResponseWriter, r *http.Request) {
	isGroup, _ := strconv.ParseBool(r.URL.Query().Get("isGroup"))
	s.mu.Lock()
	defer s.mu.Unlock()
	users, _ := s.workspaceUsersRef(r.PathValue("groupId"))
	if users == nil {
		writeGroupNotFound(w)
		return
	}
	i := userIndex(*users, r.PathValue("user"))
	// [INFER] the service's answer to a group named without isGroup is not documented: it
	// looks for a user of that name and finds none.
	if i < 0 || ((*users)[i].PrincipalType == "Group") != isGroup {
		writePBIError(w, http.StatusNotFound, "PowerBIEntityNotFound")
		return
	}
	*users = slices.Delete(*users, i, i+1)
	writeEmptyOK(w)
}

// userIndex finds a principal among users by identifier or email address, ignoring case; -1
// when absent.
func userIndex(users []WorkspaceUser, id string) int {
	return slices.IndexFunc(users, func(u WorkspaceUser) bool {
		return strings.EqualFold(u.Identifier, id) || (u.EmailAddress != "" && strings.EqualFold(u.EmailAddress, id))
	})
}

// chunkCursor is what a continuation token of the chunked lists stands for. Like the service's
// ("LDEsMTAwMDAwLDA=" is ",1,100000,0") it is base64 and sent percent-encoded in the body.
type chunkCursor struct {
	offset int
	query  string // what else the first request asked for (artifactTypes)
}

func (c chunkCursor) token() string {
	return url.QueryEscape(base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf(",%d,0,%s", c.offset, c.query))))
}

// readChunkCursor reads continuationToken, sent quoted as in the service's continuationUri.
// ok is false after a 400 was answered.
func readChunkCursor(w http.ResponseWriter, r *http.Request) (chunkCursor, bool, bool) {
	tok := r.URL.Query().Get("continuationToken")
	if tok == "" {
		return chunkCursor{}, false, true
	}
	if q, ok := quoted(tok); ok {
		tok = q
	}
	raw, err := base64.StdEncoding.DecodeString(tok)
	parts := strings.SplitN(string(raw), ",", 4)
	var c chunkCursor
	if err == nil && len(parts) == 4 && parts[0] == "" {
		c.offset, err = strconv.Atoi(parts[1])
		c.query = parts[3]
	}
	if err != nil || len(parts) != 4 || c.offset < 0 {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "Invalid continuation token.")
		return chunkCursor{}, false, false
	}
	return c, true, true
}

// writeChunk answers one chunk of entries under key, with a continuation when more follow.
func writeChunk[T any](s *Server, w http.ResponseWriter, r *http.Request, key string, items []T, cur chunkCursor) {
	s.mu.Lock()
	size := cmp.Or(s.state.adminState().chunk, defaultAdminChunk)
	s.mu.Unlock()
	start := min(cur.offset, len(items))
	end := min(start+size, len(items))
	body := orderedObject{{key, append([]T{}, items[start:end]...)}}
	if key != "unusedArtifactEntities" {
		// The unused items' answer has no @odata.context (UnusedArtifactsResponse and the
		// REST reference's example); the others have.
		body = append(orderedObject{{"@odata.context", s.metadataURL("", key)}}, body...)
	}
	if end < len(items) {
		tok := chunkCursor{offset: end, query: cur.query}.token()
		body = append(body, orderedField{"continuationUri", s.URL() + r.URL.Path + "?continuationToken='" + tok + "'"},
			orderedField{"continuationToken", tok})
	}
	writeJSON(w, http.StatusOK, body)
}

// accessEntryJSON is an ArtifactAccessEntry.
type accessEntryJSON struct {
	ArtifactID   string         `json:"artifactId"`
	DisplayName  string         `json:"displayName"`
	ArtifactType string         `json:"artifactType"`
	AccessRight  string         `json:"accessRight"`
	ShareType    string         `json:"shareType,omitempty"`
	Sharer       *principalJSON `json:"sharer,omitempty"`
}

// tenantItem is a report, dashboard, dataset or dataflow with its workspace.
type tenantItem struct {
	id, name, kind string // kind as ArtifactType: Report, PaginatedReport, Dashboard, Dataset, Dataflow
	ws             tenantWorkspace
	dataset        *Dataset
	created        time.Time
}

// tenantItems lists the items of one workspace. The caller holds s.mu.
func (s *Server) tenantItems(tw tenantWorkspace) []tenantItem {
	var out []tenantItem
	for i, d := range tw.datasets {
		out = append(out, tenantItem{id: d.ID, name: d.Name, kind: "Dataset", ws: tw, dataset: &tw.datasets[i], created: d.CreatedDate})
	}
	for _, r := range tw.reports {
		kind := "Report"
		if r.ReportType == reportTypePaginated {
			kind = "PaginatedReport"
		}
		out = append(out, tenantItem{id: r.ID, name: r.Name, kind: kind, ws: tw})
	}
	for _, d := range tw.dashboards {
		out = append(out, tenantItem{id: d.ID, name: d.DisplayName, kind: "Dashboard", ws: tw})
	}
	if ws := s.state.workspace(tw.info.ID); ws != nil {
		for _, df := range ws.dataflows {
			out = append(out, tenantItem{id: df.info.ObjectID, name: df.info.Name, kind: "Dataflow", ws: tw})
		}
	}
	return out
}

// findTenantItem finds an item of the tenant by id. The caller holds s.mu.
func (s *Server) findTenantItem(id string) (tenantItem, bool) {
	for _, tw := range s.tenantWorkspaces() {
		for _, it := range s.tenantItems(tw) {
			if strings.EqualFold(it.id, id) {
				return it, true
			}
		}
	}
	return tenantItem{}, false
}

// itemRight is the right a workspace role gives on the workspace's items, in each kind's
// terms. [INFER] the service's mapping is not documented; this follows the roles' meaning.
func itemRight(kind, role string) string {
	switch {
	case kind == "Dataset" && role == "Viewer":
		return "Read"
	case kind == "Dataset":
		return "ReadWriteReshareExplore"
	case role == "Admin" || role == "Member":
		return "Owner"
	case role == "Contributor":
		return "ReadWrite"
	default:
		return "Read"
	}
}

// principalJSON is a User: any principal the admin APIs name, with no access right of its own.
type principalJSON struct {
	DisplayName   string `json:"displayName,omitempty"`
	EmailAddress  string `json:"emailAddress,omitempty"`
	Identifier    string `json:"identifier"`
	GraphID       string `json:"graphId,omitempty"`
	PrincipalType string `json:"principalType"`
}

func principal(identifier, principalType, displayName string) principalJSON {
	u := toAdminUserJSON(withUserDefaults(WorkspaceUser{Identifier: identifier, PrincipalType: principalType, DisplayName: displayName}))
	return principalJSON{DisplayName: u.DisplayName, EmailAddress: u.EmailAddress, Identifier: u.Identifier, GraphID: u.GraphID, PrincipalType: u.PrincipalType}
}

// itemUserJSON is a ReportUser, DashboardUser, DatasetUser, DataflowUser, AppUser or
// CapacityUser: a User with the access right under the kind's own name.
type itemUserJSON struct {
	principalJSON
	right, rightKey string
}

func (u itemUserJSON) MarshalJSON() ([]byte, error) {
	o := orderedObject{{"displayName", u.DisplayName}, {"emailAddress", u.EmailAddress}, {u.rightKey, u.right},
		{"identifier", u.Identifier}, {"graphId", u.GraphID}, {"principalType", u.PrincipalType}}
	if u.EmailAddress == "" {
		o = slices.Delete(o, 1, 2)
	}
	return o.MarshalJSON()
}

// users of a workspace item: the workspace's principals, then those it was shared with. The
// caller holds s.mu.
func (s *Server) workspaceItemUsers(it tenantItem) []ItemUser {
	var out []ItemUser
	for _, u := range it.ws.users {
		out = append(out, ItemUser{Identifier: u.Identifier, PrincipalType: u.PrincipalType,
			AccessRight: itemRight(it.kind, u.AccessRight), DisplayName: u.DisplayName})
	}
	if it.dataset != nil {
		for _, u := range it.dataset.Users {
			out = append(out, ItemUser{Identifier: u.Identifier, PrincipalType: u.PrincipalType, AccessRight: u.DatasetUserAccessRight})
		}
	}
	out = append(out, s.state.adminState().itemUsers[strings.ToLower(it.id)]...)
	// One entry per principal: the first, which comes from the workspace role, wins.
	seen := map[string]bool{}
	return slices.DeleteFunc(out, func(u ItemUser) bool {
		k := strings.ToLower(u.Identifier)
		dup := seen[k]
		seen[k] = true
		return dup
	})
}

// adminItemUsers serves GET admin/{kind}/{id}/users.
func (s *Server) adminItemUsers(kind, param string) http.HandlerFunc {
	rightKey := map[string]string{"apps": "appUserAccessRight", "capacities": "capacityUserAccessRight",
		"dashboards": "dashboardUserAccessRight", "dataflows": "dataflowUserAccessRight", "datasets": "datasetUserAccessRight",
		"pipelines": "accessRight", "reports": "reportUserAccessRight"}[kind]
	artifact := map[string]string{"dashboards": "Dashboard", "dataflows": "Dataflow", "datasets": "Dataset", "reports": "Report"}[kind]
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue(param)
		s.mu.Lock()
		a := s.state.adminState()
		var (
			users []ItemUser
			found bool
		)
		switch kind {
		case "apps":
			for _, tw := range s.tenantWorkspaces() {
				if tw.app != nil && strings.EqualFold(tw.app.ID, id) {
					users, found = a.itemUsers[strings.ToLower(id)], true
				}
			}
		case "capacities":
			if c := s.state.capacity(id); c != nil {
				found = true
				for _, admin := range c.Admins {
					users = append(users, ItemUser{Identifier: admin, AccessRight: "Admin"})
				}
				users = append(users, a.itemUsers[strings.ToLower(id)]...)
			}
		case "pipelines":
			if p := s.state.pipeline(id); p != nil {
				users, found = p.itemUsers(), true
			}
		default:
			it, ok := s.findTenantItem(id)
			if ok && (it.kind == artifact || (artifact == "Report" && it.kind == "PaginatedReport")) {
				users, found = s.workspaceItemUsers(it), true
			}
		}
		s.mu.Unlock()
		if !found {
			writePBIError(w, http.StatusNotFound, "PowerBIEntityNotFound")
			return
		}
		if kind == "pipelines" {
			out := []orderedObject{}
			for _, u := range users {
				out = append(out, orderedObject{{"identifier", u.Identifier}, {"accessRight", cmp.Or(u.AccessRight, "Admin")},
					{"principalType", cmp.Or(u.PrincipalType, "User")}})
			}
			writeList(s, w, "", "users", out)
			return
		}
		out := []itemUserJSON{}
		for _, u := range users {
			out = append(out, itemUserJSON{principalJSON: principal(u.Identifier, u.PrincipalType, u.DisplayName), right: u.AccessRight, rightKey: rightKey})
		}
		writeList(s, w, "", "users", out)
	}
}

// UserGraphID is the Entra object id the admin APIs give the user with this UPN (graphId).
func UserGraphID(upn string) string { return deterministicGUID("user:" + strings.ToLower(upn)) }

// sameUser reports whether a principal is the user named by a UPN or a graph id.
func sameUser(identifier, user string) bool {
	return strings.EqualFold(identifier, user) || strings.EqualFold(UserGraphID(identifier), user)
}

// adminArtifactAccess serves GET admin/users/{userId}/artifactAccess: what the user reaches
// through workspace roles and direct shares, optionally of the artifactTypes given.
func (s *Server) adminArtifactAccess(w http.ResponseWriter, r *http.Request) {
	cur, resumed, ok := readChunkCursor(w, r)
	if !ok {
		return
	}
	if !resumed {
		cur.query = r.URL.Query().Get("artifactTypes")
	}
	types := map[string]bool{}
	for _, t := range strings.Split(cur.query, ",") {
		if t = strings.TrimSpace(t); t != "" {
			types[strings.ToLower(t)] = true
		}
	}
	user := r.PathValue("userId")
	var out []accessEntryJSON
	add := func(id, name, kind, right string) {
		if len(types) == 0 || types[strings.ToLower(kind)] {
			out = append(out, accessEntryJSON{ArtifactID: id, DisplayName: name, ArtifactType: kind, AccessRight: right})
		}
	}
	s.mu.Lock()
	a := s.state.adminState()
	for _, tw := range s.tenantWorkspaces() {
		if i := slices.IndexFunc(tw.users, func(u WorkspaceUser) bool { return sameUser(u.Identifier, user) }); i >= 0 {
			kind := "Workspace"
			if tw.info.Type == "PersonalGroup" {
				kind = "PersonalGroup"
			}
			add(tw.info.ID, tw.info.Name, kind, tw.users[i].AccessRight)
		}
		for _, it := range s.tenantItems(tw) {
			for _, u := range s.workspaceItemUsers(it) {
				if sameUser(u.Identifier, user) {
					add(it.id, it.name, it.kind, u.AccessRight)
				}
			}
		}
		if tw.app != nil {
			for _, u := range a.itemUsers[strings.ToLower(tw.app.ID)] {
				if sameUser(u.Identifier, user) {
					add(tw.app.ID, tw.app.Name, "App", u.AccessRight)
				}
			}
		}
	}
	for _, c := range s.state.capacities {
		if slices.ContainsFunc(c.Admins, func(admin string) bool { return sameUser(admin, user) }) {
			add(c.ID, c.DisplayName, "Capacity", "Admin")
		}
	}
	s.mu.Unlock()
	writeChunk(s, w, r, "artifactAccessEntities", out, cur)
}

// adminWideShares serves GET admin/widelySharedArtifacts/publishedToWeb and
// linksSharedToWholeOrganization.
func (s *Server) adminWideShares(publishToWeb bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		cur, _, ok := readChunkCursor(w, r)
		if !ok {
			return
		}
		s.mu.Lock()
		out := []accessEntryJSON{}
		for _, sh := range s.state.adminState().shares {
			if sh.PublishToWeb != publishToWeb {
				continue
			}
			it, found := s.findTenantItem(sh.ItemID)
			if !found {
				continue // deleted since
			}
			e := accessEntryJSON{ArtifactID: it.id, DisplayName: it.name, ArtifactType: it.kind, AccessRight: "None", ShareType: "PublishToWeb"}
			if !publishToWeb {
				e.AccessRight, e.ShareType = cmp.Or(sh.AccessRight, "Read"), "Link"
			}
			sharer := principal(sh.Sharer, "User", "")
			e.Sharer = &sharer
			out = append(out, e)
		}
		s.mu.Unlock()
		writeChunk(s, w, r, "artifactAccessEntities", out, cur)
	}
}

// unusedEntityJSON is an UnusedArtifactEntity.
type unusedEntityJSON struct {
	ArtifactID           string `json:"artifactId"`
	DisplayName          string `json:"displayName"`
	ArtifactType         string `json:"artifactType"`
	ArtifactSizeInMB     *int   `json:"artifactSizeInMB,omitempty"`
	CreatedDateTime      string `json:"createdDateTime,omitempty"`
	LastAccessedDateTime string `json:"lastAccessedDateTime"`
}

// adminUnused serves GET admin/groups/{groupId}/unused: the workspace's semantic models,
// reports and dashboards last opened more than 30 days ago.
func (s *Server) adminUnused(w http.ResponseWriter, r *http.Request) {
	cur, _, ok := readChunkCursor(w, r)
	if !ok {
		return
	}
	now := time.Now()
	s.mu.Lock()
	tw, found := s.tenantWorkspace(r.PathValue("groupId"))
	out := []unusedEntityJSON{}
	if found {
		last := s.state.adminState().lastAccess
		for _, it := range s.tenantItems(tw) {
			at, seen := last[strings.ToLower(it.id)]
			if it.kind == "Dataflow" || !seen || now.Sub(at) < unusedAfter {
				continue
			}
			kind := it.kind
			if kind == "PaginatedReport" {
				kind = "Report"
			}
			e := unusedEntityJSON{ArtifactID: it.id, DisplayName: it.name, ArtifactType: kind, LastAccessedDateTime: serviceTime(at)}
			if !it.created.IsZero() {
				e.CreatedDateTime = serviceTime(it.created)
			}
			if it.dataset != nil {
				// [INFER] the fake has no model sizes; a small model is 1 MB.
				size := 1
				e.ArtifactSizeInMB = &size
			}
			out = append(out, e)
		}
	}
	s.mu.Unlock()
	if !found {
		writeGroupNotFound(w)
		return
	}
	writeChunk(s, w, r, "unusedArtifactEntities", out, cur)
}

// subscriptionDate is the form of the service's subscription dates (the REST reference's
// examples: "10/13/2021 12:00:00 AM").
const subscriptionDate = "1/2/2006 3:04:05 PM"

// subscriptionJSON is a Subscription; users lists the recipients, except in a user's list,
// where the service sends it empty.
func (s *Server) subscriptionJSON(sub Subscription, withUsers bool) orderedObject {
	it, _ := s.findTenantItem(sub.ArtifactID)
	kind := it.kind
	if kind == "PaginatedReport" {
		kind = "Report"
	}
	users := []principalJSON{}
	if withUsers {
		for _, u := range sub.Recipients {
			users = append(users, principal(u, "User", ""))
		}
	}
	o := orderedObject{{"id", sub.ID}, {"title", sub.Title}, {"artifactId", sub.ArtifactID}, {"artifactDisplayName", it.name}}
	if sub.Page != "" {
		o = append(o, orderedField{"subArtifactDisplayName", sub.Page})
	}
	o = append(o, orderedObject{{"artifactType", kind}, {"isEnabled", sub.Enabled}, {"frequency", sub.Frequency},
		{"startDate", sub.Start.UTC().Format(subscriptionDate)}, {"endDate", sub.End.UTC().Format(subscriptionDate)},
		{"linkToContent", true}, {"previewImage", sub.AttachmentFormat == ""}}...)
	if sub.AttachmentFormat != "" {
		o = append(o, orderedField{"attachmentFormat", sub.AttachmentFormat})
	}
	return append(o, orderedField{"users", users})
}

// adminItemSubscriptions serves GET admin/{reports|dashboards}/{id}/subscriptions.
func (s *Server) adminItemSubscriptions(param string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue(param)
		s.mu.Lock()
		it, found := s.findTenantItem(id)
		if found && (it.kind == "Dashboard") != (param == "dashboardId") {
			found = false
		}
		out := []orderedObject{}
		for _, sub := range s.state.adminState().subscriptions {
			if found && strings.EqualFold(sub.ArtifactID, id) {
				out = append(out, s.subscriptionJSON(sub, true))
			}
		}
		s.mu.Unlock()
		if !found {
			writePBIError(w, http.StatusNotFound, "PowerBIEntityNotFound")
			return
		}
		writeList(s, w, "", "subscriptions", out)
	}
}

// adminUserSubscriptions serves GET admin/users/{userId}/subscriptions: those the user made or
// receives.
func (s *Server) adminUserSubscriptions(w http.ResponseWriter, r *http.Request) {
	cur, _, ok := readChunkCursor(w, r)
	if !ok {
		return
	}
	user := r.PathValue("userId")
	s.mu.Lock()
	out := []orderedObject{}
	for _, sub := range s.state.adminState().subscriptions {
		if sameUser(sub.Owner, user) || slices.ContainsFunc(sub.Recipients, func(u string) bool { return sameUser(u, user) }) {
			out = append(out, s.subscriptionJSON(sub, false))
		}
	}
	s.mu.Unlock()
	writeChunk(s, w, r, "subscriptionEntities", out, cur)
}
