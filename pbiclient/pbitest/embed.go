package pbitest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Embed tokens ("embed for your customers"): the multi-resource
// POST /GenerateToken and the single-item V1 variants. The rules are those
// of generate-embed-token.md and the swagger:
//   - a token lives as long as the caller's access token still does;
//     lifetimeInMinutes can only shorten that;
//   - at most 50 reports, 50 datasets and 50 target workspaces;
//   - no My workspace content;
//   - a service principal must pass an effective identity for a model with
//     row-level security, and may not pass one for a model without;
//   - content on shared capacity gets trial tokens, of which a tenant can
//     generate only a few: then 403.

// embedLimit is the documented cap on reports, datasets and target
// workspaces in one GenerateToken request.
const embedLimit = 50

// defaultSharedEmbedTokenLimit is how many trial tokens the fake issues for
// shared capacity content. The service does not document the number;
// community reports speak of about a hundred.
const defaultSharedEmbedTokenLimit = 100

// sharedEmbedTokenMessage is the observed 403 message once the trial tokens
// are used up (Fabric community thread 4589915).
const sharedEmbedTokenMessage = "You have exceeded the amount of embed token that can be generated on a shared or ProPlus capacity. You need to purchase Azure capacities to generate embed tokens. See https://go.microsoft.com/fwlink/?linkid=868976"

// SetSharedEmbedTokenLimit sets how many more embed tokens may be generated
// for content on shared capacity before the service answers 403 (n <= 0:
// none). Content on a dedicated capacity is not limited.
func (s *Server) SetSharedEmbedTokenLimit(n int) {
	if n <= 0 {
		n = -1 // 0 would mean the default
	}
	s.mu.Lock()
	s.state.sharedEmbedTokens, s.state.sharedEmbedLimit = 0, n
	s.mu.Unlock()
}

func (s *Server) embedRoutes() {
	s.handleAPI("POST "+apiPrefix+"/GenerateToken", s.generateTokenV2)
	s.handleAPI("POST "+apiPrefix+"/groups/{groupId}/reports/{reportId}/GenerateToken", s.generateTokenV1)
	s.handleAPI("POST "+apiPrefix+"/groups/{groupId}/reports/GenerateToken", s.generateTokenV1)
	s.handleAPI("POST "+apiPrefix+"/groups/{groupId}/datasets/{datasetId}/GenerateToken", s.generateTokenV1)
	s.handleAPI("POST "+apiPrefix+"/groups/{groupId}/dashboards/{dashboardId}/GenerateToken", s.generateTokenV1)
	s.handleAPI("POST "+apiPrefix+"/groups/{groupId}/dashboards/{dashboardId}/tiles/{tileId}/GenerateToken", s.generateTokenV1)
}

// effectiveIdentity is the swagger's EffectiveIdentity.
type effectiveIdentity struct {
	Username         string          `json:"username"`
	Roles            []string        `json:"roles"`
	Datasets         []string        `json:"datasets"`
	Reports          []string        `json:"reports"`
	CustomData       string          `json:"customData"`
	AuditableContext string          `json:"auditableContext"`
	IdentityBlob     json.RawMessage `json:"identityBlob"`
}

type idRef struct {
	ID string `json:"id"`
}

type generateTokenV2Request struct {
	Datasets []struct {
		ID              string `json:"id"`
		XmlaPermissions string `json:"xmlaPermissions"`
	} `json:"datasets"`
	Reports []struct {
		ID        string `json:"id"`
		AllowEdit bool   `json:"allowEdit"`
	} `json:"reports"`
	TargetWorkspaces  []idRef             `json:"targetWorkspaces"`
	Identities        []effectiveIdentity `json:"identities"`
	LifetimeInMinutes *int                `json:"lifetimeInMinutes"`
}

type generateTokenV1Request struct {
	AccessLevel       string              `json:"accessLevel"`
	DatasetID         string              `json:"datasetId"`
	AllowSaveAs       bool                `json:"allowSaveAs"`
	Identities        []effectiveIdentity `json:"identities"`
	LifetimeInMinutes *int                `json:"lifetimeInMinutes"`
}

type embedTokenJSON struct {
	Token      string `json:"token"`
	TokenID    string `json:"tokenId"`
	Expiration string `json:"expiration"`
}

// badEmbedRequest answers 400 InvalidRequest with message.
func badEmbedRequest(w http.ResponseWriter, format string, args ...any) {
	writeError(w, http.StatusBadRequest, "InvalidRequest", fmt.Sprintf(format, args...))
}

// embedScope collects what a token request covers, to check the rules that
// apply to every variant.
type embedScope struct {
	datasets map[string]*dataset // by lowercase id
	shared   bool                // some content is on shared capacity
}

func newEmbedScope() *embedScope { return &embedScope{datasets: map[string]*dataset{}} }

func (e *embedScope) addWorkspace(ws *workspace) {
	if !ws.info.IsOnDedicatedCapacity {
		e.shared = true
	}
}

func (e *embedScope) addDataset(d *dataset, ws *workspace) {
	e.datasets[strings.ToLower(d.info.ID)] = d
	e.addWorkspace(ws)
}

// findReport looks a report up in every workspace (not My workspace).
func (t *tenantState) findReport(id string) (*report, *workspace) {
	for _, w := range t.workspaces {
		if r := w.report(id); r != nil {
			return r, w
		}
	}
	return nil, nil
}

func (t *tenantState) workspaceOfDataset(id string) *workspace {
	for _, w := range t.workspaces {
		if w.dataset(id) != nil {
			return w
		}
	}
	return nil
}

func (s *Server) generateTokenV2(w http.ResponseWriter, r *http.Request) {
	var req generateTokenV2Request
	present, ok := readJSON(w, r, &req)
	if !ok {
		return
	}
	if !present || len(req.Datasets)+len(req.Reports) == 0 {
		badEmbedRequest(w, "The request must name at least one dataset or report.")
		return
	}
	for _, c := range []struct {
		what string
		n    int
	}{{"reports", len(req.Reports)}, {"datasets", len(req.Datasets)}, {"target workspaces", len(req.TargetWorkspaces)}} {
		if c.n > embedLimit {
			badEmbedRequest(w, "An embed token request can include at most %d %s; this one has %d.", embedLimit, c.what, c.n)
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	scope := newEmbedScope()
	for _, d := range req.Datasets {
		if d.XmlaPermissions != "" && d.XmlaPermissions != "Off" && d.XmlaPermissions != "ReadOnly" {
			badEmbedRequest(w, "xmlaPermissions must be Off or ReadOnly.")
			return
		}
		if s.state.myWorkspace.dataset(d.ID) != nil {
			badEmbedRequest(w, "Dataset %s is in My workspace: embed tokens can only be generated for content in workspaces.", d.ID)
			return
		}
		ws := s.state.workspaceOfDataset(d.ID)
		if ws == nil {
			writeEmbedItemNotFound(w, "Dataset", d.ID)
			return
		}
		scope.addDataset(ws.dataset(d.ID), ws)
	}
	for _, rep := range req.Reports {
		if s.state.myWorkspace.report(rep.ID) != nil {
			badEmbedRequest(w, "Report %s is in My workspace: embed tokens can only be generated for content in workspaces.", rep.ID)
			return
		}
		rp, ws := s.state.findReport(rep.ID)
		if rp == nil {
			writeEmbedItemNotFound(w, "Report", rep.ID)
			return
		}
		scope.addWorkspace(ws)
		// The report's model must be in the request too: the embedded
		// report reads its data with this token [DOC generate-embed-token.md].
		if rp.info.DatasetID != "" && scope.datasets[strings.ToLower(rp.info.DatasetID)] == nil {
			badEmbedRequest(w, "Report %s uses dataset %s, which is not in the request's datasets.", rp.info.ID, rp.info.DatasetID)
			return
		}
	}
	for _, tw := range req.TargetWorkspaces {
		if strings.EqualFold(tw.ID, emptyGUID) {
			badEmbedRequest(w, "My workspace cannot be a target workspace.")
			return
		}
		if s.workspaceFor(r, tw.ID) == nil {
			writeGroupNotFound(w)
			return
		}
	}
	s.issueEmbedToken(w, r, scope, req.Identities, req.LifetimeInMinutes, false)
}

// generateTokenV1 serves the single-item variants: report (View/Edit),
// report creation (Create, needs datasetId), dataset, dashboard and tile.
func (s *Server) generateTokenV1(w http.ResponseWriter, r *http.Request) {
	var req generateTokenV1Request
	if _, ok := readJSON(w, r, &req); !ok {
		return
	}
	level := req.AccessLevel
	if level == "" {
		level = "View"
	}
	if level != "View" && level != "Edit" && level != "Create" {
		badEmbedRequest(w, "accessLevel must be View, Edit or Create.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ws, _ := s.workspaceOf(w, r)
	if ws == nil {
		return
	}
	scope := newEmbedScope()
	scope.addWorkspace(ws)
	addDataset := func(id string) bool {
		dws := s.state.workspaceOfDataset(id)
		if dws == nil {
			writeEmbedItemNotFound(w, "Dataset", id)
			return false
		}
		scope.addDataset(dws.dataset(id), dws)
		return true
	}
	switch {
	case strings.HasSuffix(r.Pattern, "/tiles/{tileId}/GenerateToken"), strings.HasSuffix(r.Pattern, "/dashboards/{dashboardId}/GenerateToken"):
		if level != "View" {
			badEmbedRequest(w, "Dashboards and tiles can only be embedded with accessLevel View.")
			return
		}
		d := ws.dashboard(r.PathValue("dashboardId"))
		if d == nil {
			writeEmbedItemNotFound(w, "Dashboard", r.PathValue("dashboardId"))
			return
		}
		tiles := d.tiles
		if id := r.PathValue("tileId"); id != "" {
			tiles = nil
			for _, t := range d.tiles {
				if strings.EqualFold(t.info.ID, id) {
					tiles = []*tile{t}
				}
			}
			if tiles == nil {
				writeEmbedItemNotFound(w, "Tile", id)
				return
			}
		}
		for _, t := range tiles {
			if t.info.DatasetID != "" && !addDataset(t.info.DatasetID) {
				return
			}
		}
	case strings.HasSuffix(r.Pattern, "/datasets/{datasetId}/GenerateToken"):
		if level == "Edit" {
			badEmbedRequest(w, "accessLevel Edit applies only to reports.")
			return
		}
		d := ws.dataset(r.PathValue("datasetId"))
		if d == nil {
			writeEmbedItemNotFound(w, "Dataset", r.PathValue("datasetId"))
			return
		}
		scope.addDataset(d, ws)
	case strings.HasSuffix(r.Pattern, "/reports/GenerateToken"):
		if level != "Create" || req.DatasetID == "" {
			badEmbedRequest(w, "Creating a report needs accessLevel Create and a datasetId.")
			return
		}
		if !addDataset(req.DatasetID) {
			return
		}
	default:
		if level == "Create" {
			badEmbedRequest(w, "accessLevel Create applies only to report creation (reports/GenerateToken with a datasetId).")
			return
		}
		rp := ws.report(r.PathValue("reportId"))
		if rp == nil {
			writeEmbedItemNotFound(w, "Report", r.PathValue("reportId"))
			return
		}
		if rp.info.DatasetID != "" && !addDataset(rp.info.DatasetID) {
			return
		}
	}
	s.issueEmbedToken(w, r, scope, req.Identities, req.LifetimeInMinutes, true)
}

func writeEmbedItemNotFound(w http.ResponseWriter, kind, id string) {
	writeError(w, http.StatusNotFound, "PowerBIEntityNotFound", fmt.Sprintf("%s %s is not found or the caller has no access to it.", kind, id))
}

// issueEmbedToken checks the identities and the trial limit, then answers
// the token. The caller holds s.mu. v1 requests need every identity to name
// its datasets.
func (s *Server) issueEmbedToken(w http.ResponseWriter, r *http.Request, scope *embedScope, ids []effectiveIdentity, lifetime *int, v1 bool) {
	if lifetime != nil && *lifetime < 0 {
		badEmbedRequest(w, "lifetimeInMinutes must be a positive integer (0 for the default).")
		return
	}
	covered := map[string]bool{}
	for _, id := range ids {
		switch {
		case strings.TrimSpace(id.Username) == "":
			badEmbedRequest(w, "An effective identity needs a username.")
			return
		case len(id.Username) > 256:
			badEmbedRequest(w, "An effective identity's username can be at most 256 characters.")
			return
		case len(id.Roles) > 50:
			badEmbedRequest(w, "An effective identity can have at most 50 roles.")
			return
		case v1 && len(id.Datasets) == 0:
			badEmbedRequest(w, "An effective identity must name the datasets it applies to.")
			return
		}
		for _, role := range id.Roles {
			if len(role) > 50 || strings.Contains(role, ",") {
				badEmbedRequest(w, "Role '%s' is invalid: roles are at most 50 characters and cannot contain ','.", role)
				return
			}
		}
		for _, ds := range id.Datasets {
			d := scope.datasets[strings.ToLower(ds)]
			if d == nil {
				badEmbedRequest(w, "The effective identity names dataset %s, which the token does not cover.", ds)
				return
			}
			if !d.info.RLS {
				badEmbedRequest(w, "Creating embed token for accessing dataset %s shouldn't have effective identity", d.info.ID)
				return
			}
			if len(id.Roles) == 0 {
				badEmbedRequest(w, "Creating embed token for dataset %s requires roles to be included in provided effective identity", d.info.ID)
				return
			}
			covered[strings.ToLower(ds)] = true
		}
	}
	// A user who owns or edits the model sees all of it; a service
	// principal must always say whose data the token shows.
	if !callerIsUser(r) {
		for key, d := range scope.datasets {
			if d.info.RLS && !covered[key] {
				badEmbedRequest(w, "Creating embed token for accessing dataset %s requires effective identity to be provided", d.info.ID)
				return
			}
		}
	}
	if scope.shared {
		limit := s.state.sharedEmbedLimit
		if limit == 0 {
			limit = defaultSharedEmbedTokenLimit
		}
		if s.state.sharedEmbedTokens >= limit {
			writeError(w, http.StatusForbidden, "EmbedTokenLimitExceeded", sharedEmbedTokenMessage)
			return
		}
		s.state.sharedEmbedTokens++
	}
	now := time.Now().UTC()
	exp := accessTokenExpiry(r)
	if lifetime != nil && *lifetime > 0 {
		if short := now.Add(time.Duration(*lifetime) * time.Minute); short.Before(exp) {
			exp = short
		}
	}
	writeJSON(w, http.StatusOK, embedTokenJSON{Token: newEmbedToken(), TokenID: newGUID(), Expiration: exp.UTC().Truncate(time.Second).Format(time.RFC3339)})
}

// accessTokenExpiry is when the request's access token expires: an embed
// token never outlives it. authorize has already accepted the token.
func accessTokenExpiry(r *http.Request) time.Time {
	_, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	parts := strings.Split(strings.TrimSpace(token), ".")
	if len(parts) == 3 {
		if payload, err := base64.RawURLEncoding.DecodeString(parts[1]); err == nil {
			var c struct {
				Exp int64 `json:"exp"`
			}
			if json.Unmarshal(payload, &c) == nil && c.Exp > 0 {
				return time.Unix(c.Exp, 0).UTC()
			}
		}
	}
	return time.Now().Add(time.Hour).UTC()
}

// newEmbedToken makes an opaque token shaped like the service's: base64 of
// gzip data (it starts "H4sI").
func newEmbedToken() string {
	b := make([]byte, 180)
	_, _ = rand.Read(b)
	b[0], b[1], b[2], b[3] = 0x1f, 0x8b, 0x08, 0x00
	return base64.StdEncoding.EncodeToString(b)
}
