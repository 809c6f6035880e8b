package pbitest

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

func (s *Server) reportRoutes() {
	s.handleBoth("GET", "/reports", s.listReports)
	s.handleBoth("GET", "/reports/{reportId}", s.getReport)
	s.handleBoth("GET", "/reports/{reportId}/pages", s.listPages)
	s.handleBoth("GET", "/reports/{reportId}/pages/{pageName}", s.getPage)
	s.handleBoth("DELETE", "/reports/{reportId}", s.deleteReport)
	s.handleBoth("POST", "/reports/{reportId}/Clone", s.cloneReport)
	s.handleBoth("POST", "/reports/{reportId}/Rebind", s.rebindReport)
	s.handleBoth("POST", "/reports/{reportId}/UpdateReportContent", s.updateReportContent)
	s.handleBoth("GET", "/reports/{reportId}/datasources", s.listReportDatasources)
	s.handleBoth("POST", "/reports/{reportId}/Default.UpdateDatasources", s.updateReportDatasources)
	s.handleBoth("GET", "/reports/{reportId}/Export", s.downloadReport)
	// Take over exists only for workspaces.
	s.handleAPI("POST "+apiPrefix+"/groups/{groupId}/reports/{reportId}/Default.TakeOver", s.takeOverReport)
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
	writeList(s, w, groupID, "reports", items)
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
	writeList(s, w, groupID, "pages", items)
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

// Report returns a report as the tenant holds it now, for tests that check
// what a call changed. ok is false when the workspace ("" = My workspace)
// has no such report.
func (s *Server) Report(workspaceID, reportID string) (r Report, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ws := s.state.workspace(workspaceID)
	if ws == nil {
		return Report{}, false
	}
	rep := ws.report(reportID)
	if rep == nil {
		return Report{}, false
	}
	r = rep.info
	r.Pages = append([]Page(nil), r.Pages...)
	r.Datasources = append([]ReportDatasource(nil), r.Datasources...)
	return r, true
}

func (s *Server) deleteReport(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ws, _ := s.workspaceOf(w, r)
	if ws == nil {
		return
	}
	rep := ws.report(r.PathValue("reportId"))
	if rep == nil {
		writePBIError(w, http.StatusNotFound, "PowerBIEntityNotFound")
		return
	}
	for i, x := range ws.reports {
		if x == rep {
			ws.reports = append(ws.reports[:i], ws.reports[i+1:]...)
			break
		}
	}
	writeEmptyOK(w)
}

// cloneReport copies a report into its workspace or targetWorkspaceId (the
// empty GUID is My workspace), bound to targetModelId or the same model.
func (s *Server) cloneReport(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name              string `json:"name"`
		TargetWorkspaceID string `json:"targetWorkspaceId"`
		TargetModelID     string `json:"targetModelId"`
	}
	if _, ok := readJSON(w, r, &req); !ok {
		return
	}
	if strings.TrimSpace(req.Name) == "" {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "Clone report request is missing the new report name")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rep, groupID := s.reportOf(w, r)
	if rep == nil {
		return
	}
	target, targetID := s.state.workspace(groupID), groupID
	switch req.TargetWorkspaceID {
	case "":
	case myWorkspaceGUID:
		target, targetID = s.state.myWorkspace, ""
	default:
		if target = s.workspaceFor(r, req.TargetWorkspaceID); target == nil {
			writeGroupNotFound(w)
			return
		}
		targetID = target.info.ID
	}
	clone := rep.info
	clone.ID = newGUID()
	clone.Name = req.Name
	if req.TargetModelID != "" && clone.ReportType == reportTypePowerBI {
		ds, _ := s.state.findDataset(req.TargetModelID)
		if ds == nil {
			writePBIError(w, http.StatusNotFound, "PowerBIEntityNotFound")
			return
		}
		clone.DatasetID = ds.info.ID
	}
	clone.Pages = append([]Page(nil), clone.Pages...)
	clone.Datasources = append([]ReportDatasource(nil), clone.Datasources...)
	target.reports = append(target.reports, &report{info: clone, exports: make(map[string]*exportJob)})
	s.writeEntity(w, http.StatusOK, targetID, "reports", s.toReportJSON(clone, targetID))
}

// myWorkspaceGUID is how request bodies name My workspace.
const myWorkspaceGUID = "00000000-0000-0000-0000-000000000000"

// powerBIReportOf is reportOf for operations paginated reports do not
// support; they answer 400. The caller must hold s.mu.
func (s *Server) powerBIReportOf(w http.ResponseWriter, r *http.Request, operation string) (*report, string) {
	rep, groupID := s.reportOf(w, r)
	if rep != nil && rep.info.ReportType == reportTypePaginated {
		writeError(w, http.StatusBadRequest, "InvalidRequest", operation+" is not supported for paginated reports")
		return nil, ""
	}
	return rep, groupID
}

func (s *Server) rebindReport(w http.ResponseWriter, r *http.Request) {
	var req struct {
		DatasetID string `json:"datasetId"`
	}
	if _, ok := readJSON(w, r, &req); !ok {
		return
	}
	if req.DatasetID == "" {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "Rebind report request is missing the dataset id")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rep, _ := s.powerBIReportOf(w, r, "Rebind")
	if rep == nil {
		return
	}
	ds, _ := s.state.findDataset(req.DatasetID)
	if ds == nil {
		writePBIError(w, http.StatusNotFound, "PowerBIEntityNotFound")
		return
	}
	rep.info.DatasetID = ds.info.ID
	writeEmptyOK(w)
}

// updateReportContent replaces a report's pages with those of another
// report (sourceWorkspaceId, or the target's workspace when absent).
func (s *Server) updateReportContent(w http.ResponseWriter, r *http.Request) {
	var req struct {
		SourceType   string `json:"sourceType"`
		SourceReport *struct {
			SourceReportID    string `json:"sourceReportId"`
			SourceWorkspaceID string `json:"sourceWorkspaceId"`
		} `json:"sourceReport"`
	}
	if _, ok := readJSON(w, r, &req); !ok {
		return
	}
	if req.SourceType != "ExistingReport" || req.SourceReport == nil || req.SourceReport.SourceReportID == "" {
		writeError(w, http.StatusBadRequest, "InvalidRequest",
			"Update report content request needs sourceType 'ExistingReport' and sourceReport.sourceReportId")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rep, groupID := s.powerBIReportOf(w, r, "UpdateReportContent")
	if rep == nil {
		return
	}
	srcWS := s.state.workspace(groupID)
	if id := req.SourceReport.SourceWorkspaceID; id != "" {
		if id == myWorkspaceGUID {
			srcWS = s.state.myWorkspace
		} else if srcWS = s.workspaceFor(r, id); srcWS == nil {
			writeGroupNotFound(w)
			return
		}
	}
	src := srcWS.report(req.SourceReport.SourceReportID)
	if src == nil {
		writePBIError(w, http.StatusNotFound, "PowerBIEntityNotFound")
		return
	}
	if src.info.ReportType == reportTypePaginated {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "UpdateReportContent is not supported for paginated reports")
		return
	}
	rep.info.Pages = append([]Page(nil), src.info.Pages...)
	s.writeEntity(w, http.StatusOK, groupID, "reports", s.toReportJSON(rep.info, groupID))
}

// paginatedReportOf is reportOf for operations only paginated reports
// support; Power BI reports answer 400. The caller must hold s.mu.
func (s *Server) paginatedReportOf(w http.ResponseWriter, r *http.Request, operation string) (*report, string) {
	rep, groupID := s.reportOf(w, r)
	if rep != nil && rep.info.ReportType != reportTypePaginated {
		writeError(w, http.StatusBadRequest, "InvalidRequest", operation+" is only supported for paginated reports")
		return nil, ""
	}
	return rep, groupID
}

// takeOverReport makes the caller the owner of a paginated report's data
// sources. Ownership is not visible through the API, so nothing else
// changes here.
func (s *Server) takeOverReport(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rep, _ := s.paginatedReportOf(w, r, "TakeOver"); rep == nil {
		return
	}
	writeEmptyOK(w)
}

// datasourceJSON is a Datasource, fields in the service's order.
type datasourceJSON struct {
	DatasourceType    string `json:"datasourceType"`
	ConnectionDetails struct {
		Server   string `json:"server,omitempty"`
		Database string `json:"database,omitempty"`
	} `json:"connectionDetails"`
	DatasourceID string `json:"datasourceId"`
	GatewayID    string `json:"gatewayId"`
}

func (s *Server) listReportDatasources(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	rep, groupID := s.paginatedReportOf(w, r, "GetDatasources")
	if rep == nil {
		s.mu.Unlock()
		return
	}
	items := make([]datasourceJSON, 0, len(rep.info.Datasources))
	for _, d := range rep.info.Datasources {
		j := datasourceJSON{DatasourceType: d.DatasourceType, DatasourceID: d.DatasourceID, GatewayID: d.GatewayID}
		j.ConnectionDetails.Server, j.ConnectionDetails.Database = d.Server, d.Database
		items = append(items, j)
	}
	s.mu.Unlock()
	writeList(s, w, groupID, "datasources", items)
}

// downloadReport answers GET .../Export: a .pbix for a Power BI report
// (with the model, or connecting live with downloadType=LiveConnect), the
// RDL for a paginated report.
func (s *Server) downloadReport(w http.ResponseWriter, r *http.Request) {
	downloadType := r.URL.Query().Get("downloadType")
	switch downloadType {
	case "", "IncludeModel", "LiveConnect":
	default:
		writeError(w, http.StatusBadRequest, "InvalidRequest", fmt.Sprintf("Invalid downloadType '%s'", downloadType))
		return
	}
	s.mu.Lock()
	rep, _ := s.reportOf(w, r)
	if rep == nil {
		s.mu.Unlock()
		return
	}
	info := rep.info
	s.mu.Unlock()
	c := exportContent{reportName: info.Name, pages: info.Pages, created: time.Date(2024, time.March, 1, 0, 0, 0, 0, time.UTC)}
	var (
		body        bytes.Buffer
		contentType = "application/zip"
	)
	if info.ReportType == reportTypePaginated {
		body.WriteString(rdlDefinition(c, info.Datasources))
		contentType = "application/octet-stream"
	} else if err := writePBIX(&body, c, downloadType == "LiveConnect", info.DatasetID); err != nil {
		writeServerError(w)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(body.Len()))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body.Bytes())
}
