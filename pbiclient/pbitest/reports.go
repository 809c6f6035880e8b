package pbitest

import (
	"fmt"
	"net/http"
)

func (s *Server) reportRoutes() {
	s.handleBoth("GET", "/reports", s.listReports)
	s.handleBoth("GET", "/reports/{reportId}", s.getReport)
	s.handleBoth("GET", "/reports/{reportId}/pages", s.listPages)
	s.handleBoth("GET", "/reports/{reportId}/pages/{pageName}", s.getPage)
}

// reportJSON is a Report as the service sends it, fields in its order.
type reportJSON struct {
	ID                 string `json:"id"`
	ReportType         string `json:"reportType"`
	Name               string `json:"name"`
	WebURL             string `json:"webUrl"`
	EmbedURL           string `json:"embedUrl"`
	IsFromPbix         bool   `json:"isFromPbix"`
	IsOwnedByMe        bool   `json:"isOwnedByMe"`
	DatasetID          string `json:"datasetId,omitempty"`
	DatasetWorkspaceID string `json:"datasetWorkspaceId,omitempty"`
	Users              []any  `json:"users"`
	Subscriptions      []any  `json:"subscriptions"`
}

// pageJSON is a report page, fields in the service's order.
type pageJSON struct {
	DisplayName string `json:"displayName"`
	Name        string `json:"name"`
	Order       int    `json:"order"`
}

// toReportJSON renders a report of the workspace groupID. The caller must
// hold s.mu (the dataset's workspace is looked up).
func (s *Server) toReportJSON(r Report, groupID string) reportJSON {
	out := reportJSON{
		ID:            r.ID,
		ReportType:    r.ReportType,
		Name:          r.Name,
		IsFromPbix:    r.ReportType == reportTypePowerBI,
		IsOwnedByMe:   true,
		DatasetID:     r.DatasetID,
		Users:         []any{},
		Subscriptions: []any{},
	}
	// Paginated reports live under /rdlreports/ and embed with rdlEmbed.
	kind, embed := "reports", "reportEmbed"
	if r.ReportType == reportTypePaginated {
		kind, embed = "rdlreports", "rdlEmbed"
	}
	out.WebURL = fmt.Sprintf("%s/groups/%s/%s/%s", appURL, groupPath(groupID), kind, r.ID)
	out.EmbedURL = fmt.Sprintf("%s/%s?reportId=%s", appURL, embed, r.ID)
	if groupID != "" {
		out.EmbedURL += "&groupId=" + groupID
	}
	out.EmbedURL += "&w=2&config=" + s.embedConfig()
	if r.DatasetID != "" {
		if _, dsGroup := s.state.findDataset(r.DatasetID); dsGroup != "" {
			out.DatasetWorkspaceID = dsGroup
		} else if groupID != "" {
			out.DatasetWorkspaceID = groupID
		}
	}
	return out
}

func (s *Server) listReports(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	ws, groupID := s.workspaceOf(w, r)
	if ws == nil {
		s.mu.Unlock()
		return
	}
	items := make([]reportJSON, 0, len(ws.reports))
	for _, rep := range ws.reports {
		items = append(items, s.toReportJSON(rep.info, groupID))
	}
	s.mu.Unlock()
	s.writeList(w, groupID, "reports", items)
}

// reportOf resolves the report a request addresses, answering 404 when it
// does not exist. The caller must hold s.mu.
func (s *Server) reportOf(w http.ResponseWriter, r *http.Request) (*report, string) {
	ws, groupID := s.workspaceOf(w, r)
	if ws == nil {
		return nil, ""
	}
	rep := ws.report(r.PathValue("reportId"))
	if rep == nil {
		writePBIError(w, http.StatusNotFound, "PowerBIEntityNotFound")
		return nil, ""
	}
	return rep, groupID
}

func (s *Server) getReport(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	rep, groupID := s.reportOf(w, r)
	if rep == nil {
		s.mu.Unlock()
		return
	}
	item := s.toReportJSON(rep.info, groupID)
	s.mu.Unlock()
	s.writeEntity(w, http.StatusOK, groupID, "reports", item)
}

func pagesJSON(pages []Page) []pageJSON {
	out := make([]pageJSON, len(pages))
	for i, p := range pages {
		out[i] = pageJSON{DisplayName: p.DisplayName, Name: p.Name, Order: i}
	}
	return out
}

func (s *Server) listPages(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	rep, groupID := s.reportOf(w, r)
	if rep == nil {
		s.mu.Unlock()
		return
	}
	items := pagesJSON(rep.info.Pages)
	s.mu.Unlock()
	s.writeList(w, groupID, "pages", items)
}

func (s *Server) getPage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	rep, groupID := s.reportOf(w, r)
	if rep == nil {
		s.mu.Unlock()
		return
	}
	name := r.PathValue("pageName")
	var found *pageJSON
	for _, p := range pagesJSON(rep.info.Pages) {
		if p.Name == name {
			found = &p
			break
		}
	}
	s.mu.Unlock()
	if found == nil {
		writePBIError(w, http.StatusNotFound, "PowerBIEntityNotFound")
		return
	}
	s.writeEntity(w, http.StatusOK, groupID, "pages", *found)
}
