package pbitest

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// updateReportDatasources points data sources of a paginated report elsewhere
// (Default.UpdateDatasources for reports). A source is named as in the report
// definition this server exports: DataSource1, DataSource2, ... in order. Only
// paginated reports, a non-empty list, known names, and a server for each; all or
// nothing. Who owns the sources is not kept (see takeOverReport), so ownership is not
// checked.
func (s *Server) updateReportDatasources(w http.ResponseWriter, r *http.Request) {
	var body struct {
		UpdateDetails []struct {
			DatasourceName    string `json:"datasourceName"`
			ConnectionDetails struct {
				Server   string `json:"server"`
				Database string `json:"database"`
			} `json:"connectionDetails"`
		} `json:"updateDetails"`
	}
	if _, ok := readJSON(w, r, &body); !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rep, _ := s.paginatedReportOf(w, r, "UpdateDatasources")
	if rep == nil {
		return
	}
	bad := func(msg string) { writeError(w, http.StatusBadRequest, "InvalidRequest", msg) }
	if len(body.UpdateDetails) == 0 {
		bad("updateDetails must list at least one data source.")
		return
	}
	next := append([]ReportDatasource(nil), rep.info.Datasources...)
	for _, u := range body.UpdateDetails {
		i := rdlDatasourceIndex(u.DatasourceName, len(next))
		switch {
		case i < 0:
			bad(fmt.Sprintf("The report has no data source named '%s'.", u.DatasourceName))
			return
		case strings.TrimSpace(u.ConnectionDetails.Server) == "":
			bad(fmt.Sprintf("The connection details for data source '%s' must name a server.", u.DatasourceName))
			return
		}
		next[i].Server, next[i].Database = u.ConnectionDetails.Server, u.ConnectionDetails.Database
	}
	rep.info.Datasources = next
	writeEmptyOK(w)
}

// rdlDatasourceIndex finds the source called name ("DataSource<n>", without regard to case),
// or -1.
func rdlDatasourceIndex(name string, n int) int {
	rest, ok := strings.CutPrefix(strings.ToLower(name), "datasource")
	if !ok {
		return -1
	}
	i, err := strconv.Atoi(rest)
	if err != nil || i < 1 || i > n || rest != strconv.Itoa(i) {
		return -1
	}
	return i - 1
}
