package pbitest

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// appURL is the Power BI web app, which item webUrls point to.
const appURL = "https://app.powerbi.com"

// handleBoth registers an operation that exists for a workspace
// ("/groups/{groupId}/...") and for My workspace (no groups segment).
func (s *Server) handleBoth(method, suffix string, h http.HandlerFunc) {
	s.handleAPI(method+" "+apiPrefix+"/groups/{groupId}"+suffix, h)
	s.handleAPI(method+" "+apiPrefix+suffix, h)
}

// workspaceOf resolves the workspace a request addresses, answering 404 and
// returning nil when it does not exist. The caller must hold s.mu.
func (s *Server) workspaceOf(w http.ResponseWriter, r *http.Request) (ws *workspace, groupID string) {
	if !strings.Contains(r.Pattern, "{groupId}") {
		return s.state.myWorkspace, ""
	}
	groupID = r.PathValue("groupId")
	if groupID != "" {
		ws = s.state.workspace(groupID)
	}
	if ws == nil {
		writeGroupNotFound(w)
		return nil, ""
	}
	return ws, ws.info.ID
}

func (s *Server) datasetRoutes() {
	s.handleBoth("GET", "/datasets", s.listDatasets)
	s.handleBoth("GET", "/datasets/{datasetId}", s.getDataset)
	s.datasetInfoRoutes()
	s.datasetConnectionRoutes()
	s.datasetUserRoutes()
	s.datasetScaleOutRoutes()
}

// datasetJSON is a Dataset as the service sends it, fields in its order.
type datasetJSON struct {
	ID                               string        `json:"id"`
	Name                             string        `json:"name"`
	WebURL                           string        `json:"webUrl"`
	AddRowsAPIEnabled                bool          `json:"addRowsAPIEnabled"`
	ConfiguredBy                     string        `json:"configuredBy"`
	IsRefreshable                    bool          `json:"isRefreshable"`
	IsEffectiveIdentityRequired      bool          `json:"isEffectiveIdentityRequired"`
	IsEffectiveIdentityRolesRequired bool          `json:"isEffectiveIdentityRolesRequired"`
	IsOnPremGatewayRequired          bool          `json:"isOnPremGatewayRequired"`
	TargetStorageMode                string        `json:"targetStorageMode"`
	CreatedDate                      string        `json:"createdDate"`
	CreateReportEmbedURL             string        `json:"createReportEmbedURL"`
	QnaEmbedURL                      string        `json:"qnaEmbedURL"`
	UpstreamDatasets                 []any         `json:"upstreamDatasets"`
	Users                            []any         `json:"users"`
	QueryScaleOutSettings            QueryScaleOut `json:"queryScaleOutSettings"`
	// UpstreamDataflows is sent only for models that read from dataflows.
	UpstreamDataflows []dependentDataflow `json:"upstreamDataflows,omitempty"`
}

// dependentDataflow is the swagger's DependentDataflow.
type dependentDataflow struct {
	TargetDataflowID string `json:"targetDataflowId"`
	GroupID          string `json:"groupId"`
}

// serviceTime formats a timestamp the way the service does (UTC,
// milliseconds at most, Z).
func serviceTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.999Z07:00")
}

// groupPath is the app URL segment of a workspace: its id, or "me".
func groupPath(groupID string) string {
	if groupID == "" {
		return "me"
	}
	return groupID
}

// embedConfig is the base64 config parameter of embed URLs, which names
// the cluster serving the item.
func (s *Server) embedConfig() string {
	cfg := fmt.Sprintf(`{"clusterUrl":"%s","embedFeatures":{"modernEmbed":true}}`, s.URL())
	return strings.ReplaceAll(base64.StdEncoding.EncodeToString([]byte(cfg)), "=", "%3d")
}

func (s *Server) toDatasetJSON(d Dataset, groupID string) datasetJSON {
	out := datasetJSON{
		ID:                d.ID,
		Name:              d.Name,
		WebURL:            fmt.Sprintf("%s/groups/%s/datasets/%s", appURL, groupPath(groupID), d.ID),
		AddRowsAPIEnabled: d.AddRowsAPIEnabled,
		ConfiguredBy:      d.ConfiguredBy,
		IsRefreshable:     d.IsRefreshable,
		// An RLS model requires an effective identity in embed tokens.
		IsEffectiveIdentityRequired:      d.RLS,
		IsEffectiveIdentityRolesRequired: d.RLS,
		TargetStorageMode:                d.TargetStorageMode,
		CreatedDate:                      serviceTime(d.CreatedDate),
		CreateReportEmbedURL:             appURL + "/reportEmbed?config=" + s.embedConfig(),
		QnaEmbedURL:                      appURL + "/qnaEmbed?config=" + s.embedConfig(),
		UpstreamDatasets:                 []any{},
		Users:                            []any{},
		QueryScaleOutSettings:            QueryScaleOut{AutoSyncReadOnlyReplicas: true},
	}
	if d.QueryScaleOut != nil {
		out.QueryScaleOutSettings = *d.QueryScaleOut
	}
	for _, u := range d.UpstreamDataflows {
		out.UpstreamDataflows = append(out.UpstreamDataflows, dependentDataflow{TargetDataflowID: u.DataflowID, GroupID: u.WorkspaceID})
	}
	return out
}

func (s *Server) listDatasets(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	ws, groupID := s.workspaceOf(w, r)
	if ws == nil {
		s.mu.Unlock()
		return
	}
	items := make([]datasetJSON, 0, len(ws.datasets))
	for _, d := range ws.datasets {
		items = append(items, s.toDatasetJSON(d.info, groupID))
	}
	s.mu.Unlock()
	writeList(s, w, groupID, "datasets", items)
}

func (s *Server) getDataset(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	d, groupID := s.datasetOf(w, r)
	if d == nil {
		s.mu.Unlock()
		return
	}
	item := s.toDatasetJSON(d.info, groupID)
	s.mu.Unlock()
	s.writeEntity(w, http.StatusOK, groupID, "datasets", item)
}

// datasetOf resolves the dataset a request addresses, answering 404 when it
// does not exist. The caller must hold s.mu.
func (s *Server) datasetOf(w http.ResponseWriter, r *http.Request) (*dataset, string) {
	ws, groupID := s.workspaceOf(w, r)
	if ws == nil {
		return nil, ""
	}
	id := r.PathValue("datasetId")
	d := ws.dataset(id)
	if d == nil {
		writeError(w, http.StatusNotFound, "ItemNotFound",
			fmt.Sprintf("Dataset %s is not found! please verify datasetId is correct and user have sufficient permissions.", id))
		return nil, ""
	}
	return d, groupID
}
