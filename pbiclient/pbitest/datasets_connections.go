package pbitest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// The operations that change where a model's data comes from besides its parameters:
// Default.UpdateDatasources (replace the connection details of sources) and the deprecated
// Default.SetAllConnections (one connection string for a DirectQuery model). Both are the
// owner's to call, as UpdateParameters is.

func (s *Server) datasetConnectionRoutes() {
	s.handleBoth("POST", "/datasets/{datasetId}/Default.UpdateDatasources", s.updateDatasources)
	s.handleBoth("POST", "/datasets/{datasetId}/Default.SetAllConnections", s.setAllConnections)
}

// updatableSourceTypes are the source kinds UpdateDatasources supports, per its
// documentation: SQL Server, Azure SQL and Azure Synapse (all "Sql"), Azure Analysis
// Services, OData, SharePoint, Teradata and SAP HANA.
var updatableSourceTypes = []string{"Sql", "AnalysisServices", "OData", "SharePoint", "SharePointList", "SharePointDocLib", "Teradata", "SAPHana"}

// sourceDetailKeys says which connection fields a source kind is named by; a
// replacement must set them and nothing else.
func sourceDetailKeys(datasourceType string) (required, allowed []string) {
	switch datasourceType {
	case "Sql", "AnalysisServices":
		return []string{"server", "database"}, []string{"server", "database"}
	case "Teradata", "SAPHana":
		return []string{"server"}, []string{"server", "database"}
	default: // OData and SharePoint sources are a URL
		return []string{"url"}, []string{"url"}
	}
}

// detailFields lists the fields a DatasourceConnectionDetails sets, by wire name.
func detailFields(c DatasourceConnectionDetails) map[string]string {
	out := map[string]string{}
	for k, v := range map[string]string{"server": c.Server, "database": c.Database, "url": c.URL, "path": c.Path,
		"kind": c.Kind, "account": c.Account, "domain": c.Domain, "emailAddress": c.EmailAddress,
		"loginServer": c.LoginServer, "classInfo": c.ClassInfo} {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

// sameConnection compares connection details as the service matches a selector: field by
// field, server and database names without regard to case.
func sameConnection(a, b DatasourceConnectionDetails) bool {
	fa, fb := detailFields(a), detailFields(b)
	if len(fa) != len(fb) {
		return false
	}
	for k, v := range fa {
		if !strings.EqualFold(v, fb[k]) {
			return false
		}
	}
	return true
}

// updateDatasources applies the documented rules: owner only; a non-empty list; a selector
// whenever the model has more than one source, matching one of them (the service answers
// 404 when none matches, as client libraries found); only the supported source kinds; new
// details of the source's own kind. All or nothing. A source bound to a gateway stays bound:
// the binding is by gateway data source, which the caller rebinds if it must.
func (s *Server) updateDatasources(w http.ResponseWriter, r *http.Request) {
	var body struct {
		UpdateDetails []struct {
			ConnectionDetails  *DatasourceConnectionDetails `json:"connectionDetails"`
			DatasourceSelector *Datasource                  `json:"datasourceSelector"`
		} `json:"updateDetails"`
	}
	if _, ok := readJSON(w, r, &body); !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, _ := s.datasetOf(w, r)
	if d == nil {
		return
	}
	bad := func(msg string) { writeError(w, http.StatusBadRequest, "InvalidRequest", msg) }
	switch {
	case !s.isOwner(d):
		writeNotOwner(w, d)
		return
	case len(body.UpdateDetails) == 0:
		bad("updateDetails must list at least one data source.")
		return
	}
	next := slices.Clone(d.info.Datasources)
	for i, u := range body.UpdateDetails {
		n := i + 1
		if u.ConnectionDetails == nil {
			bad(fmt.Sprintf("The given connection details for selector #%d are invalid", n))
			return
		}
		j := -1
		switch {
		case u.DatasourceSelector != nil:
			j = slices.IndexFunc(d.info.Datasources, func(ds Datasource) bool {
				return strings.EqualFold(ds.DatasourceType, u.DatasourceSelector.DatasourceType) &&
					sameConnection(ds.ConnectionDetails, u.DatasourceSelector.ConnectionDetails)
			})
		case len(d.info.Datasources) == 1:
			j = 0
		case len(d.info.Datasources) > 1:
			bad(fmt.Sprintf("Selector #%d is missing: the dataset has %d data sources.", n, len(d.info.Datasources)))
			return
		}
		if j < 0 {
			writeError(w, http.StatusNotFound, "ItemNotFound", fmt.Sprintf("Dataset doesn't contain a datasource that matches selector #%d", n))
			return
		}
		typ := d.info.Datasources[j].DatasourceType
		if !slices.Contains(updatableSourceTypes, typ) {
			bad(fmt.Sprintf("Operation is not supported for selector #%d", n))
			return
		}
		required, allowed := sourceDetailKeys(typ)
		fields := detailFields(*u.ConnectionDetails)
		for k := range fields {
			if !slices.Contains(allowed, k) {
				bad(fmt.Sprintf("The given connection details for selector #%d are invalid", n))
				return
			}
		}
		for _, k := range required {
			if fields[k] == "" {
				bad(fmt.Sprintf("The given connection details for selector #%d are invalid", n))
				return
			}
		}
		next[j].ConnectionDetails = *u.ConnectionDetails
	}
	d.info.Datasources = next
	writeEmptyOK(w)
}

// connectionStringParts reads the server and database of a connection string
// ("Data Source=srv;Initial Catalog=db;..."); keys are matched without regard to case.
func connectionStringParts(cs string) (server, database string) {
	for part := range strings.SplitSeq(cs, ";") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "data source", "server", "address", "addr":
			server = v
		case "initial catalog", "database":
			database = v
		}
	}
	return server, database
}

// setAllConnections points every source of a DirectQuery model at the server and database
// of a connection string. The documentation supports it for SQL DirectQuery models (and
// live connections to Analysis Services); import models are refused.
func (s *Server) setAllConnections(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ConnectionString string `json:"connectionString"`
	}
	if _, ok := readJSON(w, r, &body); !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, _ := s.datasetOf(w, r)
	if d == nil {
		return
	}
	bad := func(msg string) { writeError(w, http.StatusBadRequest, "InvalidRequest", msg) }
	server, database := connectionStringParts(body.ConnectionString)
	switch {
	case !s.isOwner(d):
		writeNotOwner(w, d)
		return
	case server == "":
		bad("connectionString must name a Data Source.")
		return
	case !d.info.DirectQuery || len(d.info.Datasources) == 0 || slices.ContainsFunc(d.info.Datasources, func(ds Datasource) bool {
		return ds.DatasourceType != "Sql" && ds.DatasourceType != "AnalysisServices"
	}):
		bad("SetAllConnections is only supported for DirectQuery datasets on SQL or Analysis Services data sources; use Default.UpdateDatasources or Default.UpdateParameters.")
		return
	}
	for i := range d.info.Datasources {
		c := &d.info.Datasources[i].ConnectionDetails
		c.Server = server
		if database != "" {
			c.Database = database
		}
	}
	writeEmptyOK(w)
}
