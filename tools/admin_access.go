package tools

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
)

// The admin access tools: who can reach what across the tenant, unused items, subscriptions,
// and an administrator's changes to any workspace's access.

// chunk is where a list Power BI answers in chunks goes on. When the result budget cuts a chunk
// short, the token says so: Power BI's token of the chunk, "#", and how many of its items were
// returned already (continueAfter), so that the next call reads the same chunk and skips them.
type chunk struct {
	ContinuationToken string `json:"continuationToken,omitempty"`
	from              string // Power BI's token that read this chunk
	skipped           int    // leading items of the chunk an earlier answer returned
}

func (c chunk) continueAfter(n int) string { return c.from + "#" + strconv.Itoa(c.skipped+n) }

// readChunk reads a continuation_token: Power BI's token, and the chunk's items to skip.
func readChunk(tok string) (chunk, error) {
	c := chunk{from: tok}
	if i := strings.LastIndexByte(tok, '#'); i >= 0 {
		n, err := strconv.Atoi(tok[i+1:])
		if err != nil || n < 0 {
			return chunk{}, userErrorf("continuation_token is not one this tool returned: pass it unchanged.")
		}
		c.from, c.skipped = tok[:i], n
	}
	return c, nil
}

// rest is the chunk's items after those already returned, and the chunk's place in the list.
func rest[T any](items []T, c chunk, next string) ([]T, chunk) {
	c.ContinuationToken = next
	return items[min(c.skipped, len(items)):], c
}

type adminAccessArgs struct {
	Kind         string `json:"kind" required:"true" enum:"app,capacity,dashboard,dataflow,dataset,pipeline,report,user,published_to_web,shared_to_org"`
	ID           string `json:"id" jsonschema:"The item's id, or the user's UPN or object id; none for published_to_web and shared_to_org." minLength:"1" pattern:"$pathSegment"`
	Types        string `json:"artifact_types" jsonschema:"kind user: only these, e.g. Report,Dataset,Workspace." minLength:"1"`
	Continuation string `json:"continuation_token" schema:"$adminContinuation"`
}

// AdminAccessUser is a principal with access to an item.
type AdminAccessUser struct {
	Identifier    string `json:"identifier"`
	PrincipalType string `json:"principalType,omitempty"`
	AccessRight   string `json:"accessRight"`
	DisplayName   string `json:"displayName,omitempty"`
}

// AdminArtifact is an item a user reaches, or one shared beyond its workspace.
type AdminArtifact struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Type        string `json:"type"`
	AccessRight string `json:"accessRight,omitempty"`
	ShareType   string `json:"shareType,omitempty"`
	SharedBy    string `json:"sharedBy,omitempty"`
}

// AdminAccessResult is the answer of admin_list_access.
type AdminAccessResult struct {
	Users []AdminAccessUser `json:"users,omitempty"`
	Items []AdminArtifact   `json:"items,omitempty"`
	Count int               `json:"count"`
	chunk
}

type adminSubscriptionsArgs struct {
	Kind         string `json:"kind" required:"true" enum:"report,dashboard,user"`
	ID           string `json:"id" required:"true" jsonschema:"The report's or dashboard's id, or the user's UPN or object id." minLength:"1" pattern:"$pathSegment"`
	Continuation string `json:"continuation_token" schema:"$adminContinuation"`
}

// AdminSubscription is an email subscription.
type AdminSubscription struct {
	ID         string   `json:"id"`
	Title      string   `json:"title,omitempty"`
	ItemID     string   `json:"itemId,omitempty"`
	ItemName   string   `json:"itemName,omitempty"`
	ItemType   string   `json:"itemType,omitempty"`
	Page       string   `json:"page,omitempty"`
	Enabled    bool     `json:"enabled"`
	Frequency  string   `json:"frequency,omitempty"`
	Start      string   `json:"start,omitempty"`
	End        string   `json:"end,omitempty"`
	Attachment string   `json:"attachment,omitempty"`
	Recipients []string `json:"recipients,omitempty"`
}

// AdminSubscriptionsResult is the answer of admin_list_subscriptions.
type AdminSubscriptionsResult struct {
	Subscriptions []AdminSubscription `json:"subscriptions"`
	Count         int                 `json:"count"`
	chunk
}

type adminUnusedArgs struct {
	Workspace    string `json:"workspace" schema:"$adminWorkspace" required:"true"`
	Continuation string `json:"continuation_token" schema:"$adminContinuation"`
}

// AdminUnusedItem is an item not opened for 30 days.
type AdminUnusedItem struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Type         string `json:"type"`
	LastAccessed string `json:"lastAccessed,omitempty"`
	Created      string `json:"created,omitempty"`
	SizeMB       *int   `json:"sizeMB,omitempty"`
}

// AdminUnusedResult is the answer of admin_list_unused_items.
type AdminUnusedResult struct {
	Workspace ItemRef           `json:"workspace"`
	Items     []AdminUnusedItem `json:"items"`
	Count     int               `json:"count"`
	chunk
}

type adminWorkspaceUserArgs struct {
	Workspace     string `json:"workspace" schema:"$adminWorkspace" required:"true"`
	Identifier    string `json:"identifier" required:"true" jsonschema:"A user's email, or a group's or service principal's object id." minLength:"3"`
	Role          string `json:"role" enum:"Admin,Member,Contributor,Viewer"`
	PrincipalType string `json:"principal_type" jsonschema:"For a new principal named by object id." enum:"Group,App"`
	Remove        bool   `json:"remove"`
	Confirm       bool   `json:"confirm" schema:"$confirm"`
}

// AdminWorkspaceUserResult is the answer of admin_update_workspace_user.
type AdminWorkspaceUserResult struct {
	Workspace    ItemRef `json:"workspace"`
	Identifier   string  `json:"identifier"`
	Role         string  `json:"role,omitempty"`
	PreviousRole string  `json:"previousRole,omitempty"`
	Removed      bool    `json:"removed,omitempty"`
}

type adminUpdateWorkspaceArgs struct {
	Workspace    string `json:"workspace" schema:"$adminWorkspace" required:"true"`
	Name         string `json:"name" minLength:"1" maxLength:"256"`
	Description  string `json:"description" maxLength:"4000"`
	RestoreOwner string `json:"restore_owner" jsonschema:"Restore the deleted workspace with this user (email) as its Admin." minLength:"3"`
}

// AdminUpdateWorkspaceResult is the answer of admin_update_workspace: the workspace as Power BI
// has it afterwards.
type AdminUpdateWorkspaceResult struct {
	Workspace   ItemRef `json:"workspace"`
	Description string  `json:"description,omitempty"`
	State       string  `json:"state"`
	Restored    bool    `json:"restored,omitempty"`
}

func adminAccessTools(d Deps) []Tool {
	return []Tool{
		tool(d, "admin", "list the access", adminListAccess, mcp.NewTool("admin_list_access",
			mcp.WithDescription("Who has access to an item (kind app...report, workspace roles included), what a user can reach (kind user), "+
				"or what is shared widely: published_to_web (public on the internet), shared_to_org (a link for the whole organization)."),
			annotations("List access (admin)", true, false, true))),
		tool(d, "admin", "list the subscriptions", adminListSubscriptions, mcp.NewTool("admin_list_subscriptions",
			mcp.WithDescription("Email subscriptions to a report or dashboard, or those a user made or receives."),
			annotations("List subscriptions (admin)", true, false, true))),
		tool(d, "admin", "list the unused items", adminListUnused, mcp.NewTool("admin_list_unused_items",
			mcp.WithDescription("A workspace's semantic models, reports and dashboards not opened for 30 days: candidates for clean-up."),
			annotations("List unused items (admin)", true, false, true))),
		tool(d, "admin", "change the workspace user", adminUpdateWorkspaceUser, mcp.NewTool("admin_update_workspace_user",
			mcp.WithDescription("Give a principal a role in any workspace, e.g. an Admin for an orphaned one, or remove it (remove, confirm). "+
				"A role change removes and re-adds the principal (confirm). Needs a Fabric administrator signed in as a user."),
			annotations("Change any workspace's users (admin)", false, true, true))),
		tool(d, "admin", "update the workspace", adminUpdateWorkspace, mcp.NewTool("admin_update_workspace",
			mcp.WithDescription("Rename any workspace or change its description, or restore a deleted one. Needs a Fabric administrator signed in as a user."),
			annotations("Update or restore any workspace (admin)", false, false, false))),
	}
}

// adminItemKind maps admin_list_access's item kinds to pbiclient's.
var adminItemKind = map[string]string{"app": "apps", "capacity": "capacities", "dashboard": "dashboards",
	"dataflow": "dataflows", "dataset": "datasets", "pipeline": "pipelines", "report": "reports"}

// adminListAccess is admin_list_access.
func adminListAccess(ctx context.Context, d Deps, a adminAccessArgs) (AdminAccessResult, error) {
	id := strings.TrimSpace(a.ID)
	wide := a.Kind == "published_to_web" || a.Kind == "shared_to_org"
	if id == "" && !wide {
		return AdminAccessResult{}, userErrorf("kind %s needs id.", a.Kind)
	}
	at, err := readChunk(a.Continuation)
	if err != nil {
		return AdminAccessResult{}, err
	}
	var res AdminAccessResult
	if kind, ok := adminItemKind[a.Kind]; ok {
		// One answer, which continues only where the result budget cut it.
		users, err := d.Client.AdminItemUsers(ctx, kind, id)
		if err != nil {
			return AdminAccessResult{}, err
		}
		users, res.chunk = rest(users, at, "")
		res.Users = make([]AdminAccessUser, 0, len(users))
		for _, u := range users {
			res.Users = append(res.Users, AdminAccessUser{Identifier: u.Identifier, PrincipalType: u.PrincipalType,
				AccessRight: u.AccessRight, DisplayName: u.DisplayName})
		}
		res.Count = len(res.Users)
		return res, nil
	}
	var page pbiclient.ArtifactAccessPage
	if wide {
		page, err = d.Client.AdminWidelyShared(ctx, a.Kind == "published_to_web", at.from)
	} else {
		var types []string
		if t := strings.ReplaceAll(a.Types, " ", ""); t != "" {
			types = strings.Split(t, ",")
		}
		page, err = d.Client.AdminUserArtifactAccess(ctx, id, types, at.from)
	}
	if err != nil {
		return AdminAccessResult{}, err
	}
	var entities []pbiclient.ArtifactAccess
	entities, res.chunk = rest(page.Entities, at, page.ContinuationToken)
	res.Items = make([]AdminArtifact, 0, len(entities))
	for _, e := range entities {
		it := AdminArtifact{ID: e.ArtifactID, Name: e.DisplayName, Type: e.ArtifactType, AccessRight: e.AccessRight, ShareType: e.ShareType}
		if e.Sharer != nil {
			it.SharedBy = e.Sharer.Identifier
		}
		res.Items = append(res.Items, it)
	}
	res.Count = len(res.Items)
	return res, nil
}

// adminListSubscriptions is admin_list_subscriptions.
func adminListSubscriptions(ctx context.Context, d Deps, a adminSubscriptionsArgs) (AdminSubscriptionsResult, error) {
	at, err := readChunk(a.Continuation)
	if err != nil {
		return AdminSubscriptionsResult{}, err
	}
	var (
		subs []pbiclient.Subscription
		res  AdminSubscriptionsResult
	)
	if a.Kind == "user" {
		var page pbiclient.SubscriptionsPage
		if page, err = d.Client.AdminUserSubscriptions(ctx, strings.TrimSpace(a.ID), at.from); err == nil {
			subs, res.chunk = rest(page.Entities, at, page.ContinuationToken)
		}
	} else if subs, err = d.Client.AdminItemSubscriptions(ctx, a.Kind+"s", strings.TrimSpace(a.ID)); err == nil {
		subs, res.chunk = rest(subs, at, "")
	}
	if err != nil {
		return AdminSubscriptionsResult{}, err
	}
	res.Subscriptions, res.Count = make([]AdminSubscription, 0, len(subs)), len(subs)
	for _, s := range subs {
		as := AdminSubscription{ID: s.ID, Title: s.Title, ItemID: s.ArtifactID, ItemName: s.ArtifactDisplayName, ItemType: s.ArtifactType,
			Page: s.SubArtifactDisplayName, Enabled: s.IsEnabled, Frequency: s.Frequency, Start: s.StartDate, End: s.EndDate, Attachment: s.AttachmentFormat}
		for _, u := range s.Users {
			as.Recipients = append(as.Recipients, u.Identifier)
		}
		res.Subscriptions = append(res.Subscriptions, as)
	}
	return res, nil
}

// adminListUnused is admin_list_unused_items.
func adminListUnused(ctx context.Context, d Deps, a adminUnusedArgs) (AdminUnusedResult, error) {
	at, err := readChunk(a.Continuation)
	if err != nil {
		return AdminUnusedResult{}, err
	}
	ref, err := resolveAdminWorkspace(ctx, d.Client, a.Workspace)
	if err != nil {
		return AdminUnusedResult{}, err
	}
	page, err := d.Client.AdminUnusedArtifacts(ctx, ref.ID, at.from)
	if err != nil {
		return AdminUnusedResult{}, err
	}
	res := AdminUnusedResult{Workspace: ref}
	var entities []pbiclient.UnusedArtifact
	entities, res.chunk = rest(page.Entities, at, page.ContinuationToken)
	res.Items, res.Count = make([]AdminUnusedItem, 0, len(entities)), len(entities)
	for _, e := range entities {
		res.Items = append(res.Items, AdminUnusedItem{ID: e.ArtifactID, Name: e.DisplayName, Type: e.ArtifactType,
			LastAccessed: e.LastAccessedDateTime, Created: e.CreatedDateTime, SizeMB: e.ArtifactSizeInMB})
	}
	return res, nil
}

// adminChangeRefused explains a refused admin change: unlike the admin reads, these need a
// Fabric administrator signed in as a user (Tenant.ReadWrite.All); a service principal cannot.
func adminChangeRefused(err error) error {
	var ae *pbiclient.APIError
	if errors.As(err, &ae) && ae.StatusCode == http.StatusUnauthorized {
		return userErrorf("Power BI refused the change (HTTP 401 %s, RequestId %s): it needs a Fabric administrator signed in as a user; "+
			"service principals may only read the admin APIs. Sign the server in as a Fabric administrator.", ae.Code, ae.RequestID)
	}
	return err
}

// adminUpdateWorkspaceUser is admin_update_workspace_user.
func adminUpdateWorkspaceUser(ctx context.Context, d Deps, a adminWorkspaceUserArgs) (AdminWorkspaceUserResult, error) {
	if !a.Remove && a.Role == "" {
		return AdminWorkspaceUserResult{}, userErrorf("Give role, or remove to take the principal's access away.")
	}
	ref, err := resolveAdminWorkspace(ctx, d.Client, a.Workspace)
	if err != nil {
		return AdminWorkspaceUserResult{}, err
	}
	id := strings.TrimSpace(a.Identifier)
	users, err := d.Client.AdminListGroupUsers(ctx, ref.ID)
	if err != nil {
		return AdminWorkspaceUserResult{}, err
	}
	var had *pbiclient.AdminUser
	for i, u := range users {
		if strings.EqualFold(u.Identifier, id) || (u.EmailAddress != "" && strings.EqualFold(u.EmailAddress, id)) {
			had = &users[i]
		}
	}
	res := AdminWorkspaceUserResult{Workspace: ref, Identifier: id}
	label := ref.ID
	if ref.Name != "" {
		label = fmt.Sprintf("%s (%s)", ref.Name, ref.ID)
	}
	if had != nil {
		res.Identifier, res.PreviousRole = had.Identifier, had.GroupUserAccessRight
	}
	switch {
	case had == nil && a.Remove:
		return res, userErrorf("%q has no access to the workspace %s: admin_list_workspace_users shows who has.", id, label)
	case had != nil && !a.Remove && strings.EqualFold(had.GroupUserAccessRight, a.Role):
		res.Role = had.GroupUserAccessRight
		return res, nil // nothing to change
	case had != nil:
		what := fmt.Sprintf("Remove %s, now %s, from the workspace %s.", had.Identifier, had.GroupUserAccessRight, label)
		if !a.Remove {
			what = fmt.Sprintf("Change %s from %s to %s in the workspace %s: Power BI's admin API removes and adds the principal again.",
				had.Identifier, had.GroupUserAccessRight, a.Role, label)
		}
		if err := confirmed(ctx, a.Confirm, what); err != nil {
			return res, err
		}
		// Users are named by email address, everyone else by object id.
		key := had.Identifier
		if had.PrincipalType == "User" && had.EmailAddress != "" {
			key = had.EmailAddress
		}
		if err := d.Client.AdminDeleteGroupUser(ctx, ref.ID, key, had.PrincipalType == "Group"); err != nil {
			return res, adminChangeRefused(err)
		}
		if a.Remove {
			res.Removed = true
			return res, nil
		}
		if err := d.Client.AdminAddGroupUser(ctx, ref.ID, pbiclient.GroupUser{Identifier: had.Identifier, PrincipalType: had.PrincipalType,
			GroupUserAccessRight: a.Role, EmailAddress: had.EmailAddress}); err != nil {
			return res, fmt.Errorf("%s was removed but not added again as %s; add them with this tool once the cause is fixed: %w", had.Identifier, a.Role, adminChangeRefused(err))
		}
		res.Role = a.Role
		return res, nil
	}
	u := pbiclient.GroupUser{Identifier: id, PrincipalType: a.PrincipalType, GroupUserAccessRight: a.Role}
	if u.PrincipalType == "" {
		if !strings.Contains(id, "@") {
			return res, userErrorf("%q is not a user's email: give principal_type Group or App for an object id.", id)
		}
		u.PrincipalType, u.EmailAddress = "User", id
	}
	if err := d.Client.AdminAddGroupUser(ctx, ref.ID, u); err != nil {
		return res, adminChangeRefused(err)
	}
	res.Role = a.Role
	return res, nil
}

// adminUpdateWorkspace is admin_update_workspace.
func adminUpdateWorkspace(ctx context.Context, d Deps, a adminUpdateWorkspaceArgs) (AdminUpdateWorkspaceResult, error) {
	name, owner := strings.TrimSpace(a.Name), strings.TrimSpace(a.RestoreOwner)
	if name == "" && a.Description == "" && owner == "" {
		return AdminUpdateWorkspaceResult{}, userErrorf("Nothing to change: give name, description or restore_owner.")
	}
	ref, err := resolveAdminWorkspace(ctx, d.Client, a.Workspace)
	if err != nil {
		return AdminUpdateWorkspaceResult{}, err
	}
	if owner != "" {
		// The restore request names the workspace anew; a description needs the update after it.
		err = d.Client.AdminRestoreGroup(ctx, ref.ID, name, owner)
		name = ""
	}
	if err == nil && (name != "" || a.Description != "") {
		u := pbiclient.AdminGroupUpdate{}
		if name != "" {
			u.Name = &name
		}
		if a.Description != "" {
			u.Description = &a.Description
		}
		err = d.Client.AdminUpdateGroup(ctx, ref.ID, u)
	}
	if err != nil {
		return AdminUpdateWorkspaceResult{}, adminChangeRefused(err)
	}
	// Read back what Power BI made of it.
	g, err := d.Client.AdminGetGroup(ctx, ref.ID, nil)
	if err != nil {
		return AdminUpdateWorkspaceResult{}, err
	}
	ref.Name = g.Name
	return AdminUpdateWorkspaceResult{Workspace: ref, Description: g.Description, State: g.State, Restored: owner != ""}, nil
}
