package pbiclient

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// The admin access operations: who can reach which item across the tenant, what is shared
// beyond its workspace, unused items, subscriptions, and an administrator's changes to any
// workspace's access. The reads need what the other admin reads need (see admin.go); the
// changes (restore, add and remove users) need a Fabric administrator signed in as a user and
// the Tenant.ReadWrite.All scope. Each allows 200 requests an hour per tenant.

// ItemUser is a principal with access to an item, as the admin per-item user lists return it.
// AccessRight is the right under whichever name the item kind uses (reportUserAccessRight,
// datasetUserAccessRight, capacityUserAccessRight, ... or a pipeline's accessRight).
type ItemUser struct {
	Identifier    string `json:"identifier"`
	PrincipalType string `json:"principalType,omitempty"`
	DisplayName   string `json:"displayName,omitempty"`
	EmailAddress  string `json:"emailAddress,omitempty"`
	GraphID       string `json:"graphId,omitempty"`
	UserType      string `json:"userType,omitempty"`
	AccessRight   string `json:"-"`
}

// UnmarshalJSON reads the access right under any of the kinds' names.
func (u *ItemUser) UnmarshalJSON(b []byte) error {
	type plain ItemUser
	var rights struct {
		App       string `json:"appUserAccessRight"`
		Capacity  string `json:"capacityUserAccessRight"`
		Dashboard string `json:"dashboardUserAccessRight"`
		Dataflow  string `json:"dataflowUserAccessRight"`
		Dataset   string `json:"datasetUserAccessRight"`
		Report    string `json:"reportUserAccessRight"`
		Pipeline  string `json:"accessRight"`
	}
	if err := json.Unmarshal(b, (*plain)(u)); err != nil {
		return err
	}
	if err := json.Unmarshal(b, &rights); err != nil {
		return err
	}
	u.AccessRight = cmp.Or(rights.App, rights.Capacity, rights.Dashboard, rights.Dataflow, rights.Dataset, rights.Report, rights.Pipeline)
	return nil
}

// AdminItemKinds are the kinds AdminItemUsers accepts: the path segment of each admin list.
var AdminItemKinds = []string{"apps", "capacities", "dashboards", "dataflows", "datasets", "pipelines", "reports"}

// AdminItemUsers lists who has access to an item of the tenant
// (GET admin/{kind}/{id}/users, kind one of AdminItemKinds).
func (c *Client) AdminItemUsers(ctx context.Context, kind, id string) ([]ItemUser, error) {
	if !slices.Contains(AdminItemKinds, kind) {
		return nil, fmt.Errorf("pbiclient: AdminItemUsers: unknown kind %q", kind)
	}
	if err := needID(strings.TrimSuffix(kind, "s"), id); err != nil {
		return nil, err
	}
	var out list[ItemUser]
	if _, err := c.getJSON(ctx, pathOf("admin", kind, id, "users"), nil, &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// ArtifactAccess is an item a user can reach, or an item shared beyond its workspace.
type ArtifactAccess struct {
	ArtifactID   string `json:"artifactId"`
	DisplayName  string `json:"displayName"`
	ArtifactType string `json:"artifactType"` // Report, PaginatedReport, Dashboard, Dataset, Dataflow, Workspace, PersonalGroup, Capacity, App...
	AccessRight  string `json:"accessRight"`
	ShareType    string `json:"shareType,omitempty"` // widely shared lists: "PublishToWeb" or "Link"
	Sharer       *struct {
		Identifier   string `json:"identifier"`
		DisplayName  string `json:"displayName,omitempty"`
		EmailAddress string `json:"emailAddress,omitempty"`
	} `json:"sharer,omitempty"`
}

// ArtifactAccessPage is one chunk of an artifact access list; ContinuationToken, when set,
// reads the next.
type ArtifactAccessPage struct {
	Entities          []ArtifactAccess `json:"artifactAccessEntities"`
	ContinuationToken string           `json:"continuationToken,omitempty"`
}

// AdminUserArtifactAccess lists what a user (UPN or Entra object id) can reach, optionally
// only items of the given artifact types (GET admin/users/{userId}/artifactAccess). A
// continuation token from an earlier chunk reads the next; the types are then not sent again.
func (c *Client) AdminUserArtifactAccess(ctx context.Context, user string, types []string, token string) (ArtifactAccessPage, error) {
	if err := needID("user", user); err != nil {
		return ArtifactAccessPage{}, err
	}
	var q url.Values
	if token == "" && len(types) > 0 {
		q = url.Values{"artifactTypes": {strings.Join(types, ",")}}
	}
	var out ArtifactAccessPage
	err := c.getChunk(ctx, pathOf("admin", "users", user, "artifactAccess"), q, token, &out)
	return out, err
}

// AdminWidelyShared lists the reports and dashboards shared beyond their workspace: published
// to the web (publishedToWeb true), or by a link for the whole organization
// (GET admin/widelySharedArtifacts/publishedToWeb or linksSharedToWholeOrganization).
func (c *Client) AdminWidelyShared(ctx context.Context, publishedToWeb bool, token string) (ArtifactAccessPage, error) {
	what := "linksSharedToWholeOrganization"
	if publishedToWeb {
		what = "publishedToWeb"
	}
	var out ArtifactAccessPage
	err := c.getChunk(ctx, pathOf("admin", "widelySharedArtifacts", what), nil, token, &out)
	return out, err
}

// UnusedArtifact is a semantic model, report or dashboard not opened for 30 days.
type UnusedArtifact struct {
	ArtifactID           string `json:"artifactId"`
	DisplayName          string `json:"displayName"`
	ArtifactType         string `json:"artifactType"`
	ArtifactSizeInMB     *int   `json:"artifactSizeInMB,omitempty"`
	CreatedDateTime      string `json:"createdDateTime,omitempty"`
	LastAccessedDateTime string `json:"lastAccessedDateTime,omitempty"`
}

// UnusedArtifactsPage is one chunk of a workspace's unused items.
type UnusedArtifactsPage struct {
	Entities          []UnusedArtifact `json:"unusedArtifactEntities"`
	ContinuationToken string           `json:"continuationToken,omitempty"`
}

// AdminUnusedArtifacts lists a workspace's items not used within 30 days
// (GET admin/groups/{groupId}/unused).
func (c *Client) AdminUnusedArtifacts(ctx context.Context, groupID, token string) (UnusedArtifactsPage, error) {
	if err := needID("workspace", groupID); err != nil {
		return UnusedArtifactsPage{}, err
	}
	var out UnusedArtifactsPage
	err := c.getChunk(ctx, pathOf("admin", "groups", groupID, "unused"), nil, token, &out)
	return out, err
}

// Subscription is an email subscription to a report or dashboard. Dates come as the service
// writes them ("10/13/2021 12:00:00 AM").
type Subscription struct {
	ID                     string     `json:"id"`
	Title                  string     `json:"title,omitempty"`
	ArtifactID             string     `json:"artifactId,omitempty"`
	ArtifactDisplayName    string     `json:"artifactDisplayName,omitempty"`
	SubArtifactDisplayName string     `json:"subArtifactDisplayName,omitempty"`
	ArtifactType           string     `json:"artifactType,omitempty"`
	IsEnabled              bool       `json:"isEnabled"`
	Frequency              string     `json:"frequency,omitempty"`
	StartDate              string     `json:"startDate,omitempty"`
	EndDate                string     `json:"endDate,omitempty"`
	LinkToContent          bool       `json:"linkToContent"`
	PreviewImage           bool       `json:"previewImage"`
	AttachmentFormat       string     `json:"attachmentFormat,omitempty"`
	Users                  []ItemUser `json:"users,omitempty"` // empty in a user's list
}

// AdminItemSubscriptions lists the email subscriptions to a report or dashboard
// (GET admin/{reports|dashboards}/{id}/subscriptions).
func (c *Client) AdminItemSubscriptions(ctx context.Context, kind, id string) ([]Subscription, error) {
	if kind != "reports" && kind != "dashboards" {
		return nil, fmt.Errorf("pbiclient: AdminItemSubscriptions: kind is reports or dashboards, not %q", kind)
	}
	if err := needID(strings.TrimSuffix(kind, "s"), id); err != nil {
		return nil, err
	}
	var out list[Subscription]
	if _, err := c.getJSON(ctx, pathOf("admin", kind, id, "subscriptions"), nil, &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// SubscriptionsPage is one chunk of a user's subscriptions.
type SubscriptionsPage struct {
	Entities          []Subscription `json:"subscriptionEntities"`
	ContinuationToken string         `json:"continuationToken,omitempty"`
}

// AdminUserSubscriptions lists the subscriptions a user (UPN or Entra object id) made or
// receives (GET admin/users/{userId}/subscriptions).
func (c *Client) AdminUserSubscriptions(ctx context.Context, user, token string) (SubscriptionsPage, error) {
	if err := needID("user", user); err != nil {
		return SubscriptionsPage{}, err
	}
	var out SubscriptionsPage
	err := c.getChunk(ctx, pathOf("admin", "users", user, "subscriptions"), nil, token, &out)
	return out, err
}

// getChunk reads one chunk of a continuation list. The token goes back as the service's own
// continuationUri carries it: in single quotes and, being percent-encoded already, not
// encoded again.
func (c *Client) getChunk(ctx context.Context, path apiPath, q url.Values, token string, out any) error {
	query := encodeQuery(q)
	if token != "" {
		if strings.ContainsAny(token, "&#'? ") {
			return &InvalidIDError{ID: token, Reason: "a continuation token is sent as Power BI returned it, percent-encoded"}
		}
		query = "continuationToken='" + token + "'"
	}
	cl, err := newCall(http.MethodGet, path, query)
	if err != nil {
		return err
	}
	resp, err := c.do(ctx, cl)
	if err != nil {
		return err
	}
	defer closeBody(resp)
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("pbiclient: GET %s: decode response (RequestId %s): %w", cl.path, resp.Header.Get("RequestId"), err)
	}
	return nil
}

// AdminRestoreGroup restores a deleted workspace with ownerEmail as its Admin, renamed to
// name unless name is "" (POST admin/groups/{groupId}/restore).
func (c *Client) AdminRestoreGroup(ctx context.Context, groupID, name, ownerEmail string) error {
	if err := needID("workspace", groupID); err != nil {
		return err
	}
	if strings.TrimSpace(ownerEmail) == "" {
		return fmt.Errorf("pbiclient: AdminRestoreGroup: the owner's email address is required")
	}
	body := struct {
		Name         string `json:"name,omitempty"`
		EmailAddress string `json:"emailAddress"`
	}{name, ownerEmail}
	_, err := c.sendJSON(ctx, http.MethodPost, pathOf("admin", "groups", groupID, "restore"), nil, body, nil)
	return err
}

// AdminAddGroupUser gives a principal access to any workspace of the tenant
// (POST admin/groups/{groupId}/users).
func (c *Client) AdminAddGroupUser(ctx context.Context, groupID string, u GroupUser) error {
	if err := needID("workspace", groupID); err != nil {
		return err
	}
	if u.Identifier == "" || u.PrincipalType == "" || u.GroupUserAccessRight == "" {
		return fmt.Errorf("pbiclient: AdminAddGroupUser: Identifier, PrincipalType and GroupUserAccessRight are required")
	}
	_, err := c.sendJSON(ctx, http.MethodPost, pathOf("admin", "groups", groupID, "users"), nil, u, nil)
	return err
}

// AdminDeleteGroupUser removes a principal from any workspace of the tenant
// (DELETE admin/groups/{groupId}/users/{user}): a user by UPN, a group (isGroup) or service
// principal by object id.
func (c *Client) AdminDeleteGroupUser(ctx context.Context, groupID, user string, isGroup bool) error {
	if err := needID("workspace", groupID); err != nil {
		return err
	}
	if err := needID("user", user); err != nil {
		return err
	}
	var q url.Values
	if isGroup {
		q = url.Values{"isGroup": {"true"}}
	}
	_, err := c.sendJSON(ctx, http.MethodDelete, pathOf("admin", "groups", groupID, "users", user), q, nil, nil)
	return err
}
