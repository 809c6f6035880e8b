package pbitest

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// QueryScaleOut is a model's query scale-out setting.
type QueryScaleOut struct {
	AutoSyncReadOnlyReplicas bool `json:"autoSyncReadOnlyReplicas"`
	// MaxReadOnlyReplicas is 0 to 64, or -1 for as many as the capacity allows.
	MaxReadOnlyReplicas int `json:"maxReadOnlyReplicas"`
}

// Datasource is a data source a model reads from, as the datasources
// endpoint reports it. GatewayID and DatasourceID are empty when the
// source is not bound to a gateway.
type Datasource struct {
	DatasourceType    string                      `json:"datasourceType"`
	ConnectionDetails DatasourceConnectionDetails `json:"connectionDetails"`
	DatasourceID      string                      `json:"datasourceId,omitempty"`
	GatewayID         string                      `json:"gatewayId,omitempty"`
}

// DatasourceConnectionDetails holds the connection fields the service
// sends; each kind of source fills only its own.
type DatasourceConnectionDetails struct {
	Server       string `json:"server,omitempty"`
	Database     string `json:"database,omitempty"`
	URL          string `json:"url,omitempty"`
	Path         string `json:"path,omitempty"`
	Kind         string `json:"kind,omitempty"`
	Account      string `json:"account,omitempty"`
	Domain       string `json:"domain,omitempty"`
	EmailAddress string `json:"emailAddress,omitempty"`
	LoginServer  string `json:"loginServer,omitempty"`
	ClassInfo    string `json:"classInfo,omitempty"`
}

// Parameter is a Power Query (mashup) parameter of a model. Type is the
// service's name for it: Text, Number, DateTime, Date, Time, Logical,
// Duration, Any, Binary, ...
type Parameter struct {
	Name            string   `json:"name"`
	Type            string   `json:"type"`
	IsRequired      bool     `json:"isRequired"`
	CurrentValue    string   `json:"currentValue"`
	SuggestedValues []string `json:"suggestedValues,omitempty"`
}

// DatasetUser is a principal's permission on a model. PrincipalType is
// User, Group, App or None; DatasetUserAccessRight combines Read with
// Write, Reshare and Explore (Build), e.g. "ReadReshareExplore".
type DatasetUser struct {
	Identifier             string `json:"identifier"`
	PrincipalType          string `json:"principalType"`
	DatasetUserAccessRight string `json:"datasetUserAccessRight"`
}

// UpstreamDataflow is a dataflow a model reads from.
type UpstreamDataflow struct {
	DataflowID  string
	WorkspaceID string
}

// UpstreamDataset is a semantic model a composite model reads from.
type UpstreamDataset struct {
	DatasetID   string
	WorkspaceID string
}

// clone copies a Dataset deeply enough that no slice or pointer is shared.
func (d Dataset) clone() Dataset {
	if d.QueryScaleOut != nil {
		q := *d.QueryScaleOut
		d.QueryScaleOut = &q
	}
	d.Datasources = slices.Clone(d.Datasources)
	d.Parameters = slices.Clone(d.Parameters)
	for i := range d.Parameters {
		d.Parameters[i].SuggestedValues = slices.Clone(d.Parameters[i].SuggestedValues)
	}
	d.Users = slices.Clone(d.Users)
	d.UpstreamDataflows = slices.Clone(d.UpstreamDataflows)
	d.UpstreamDatasets = slices.Clone(d.UpstreamDatasets)
	return d
}

// callerAsOwner is how the service names the signed-in service principal
// as an owner (configuredBy): by its application id.
func (s *Server) callerAsOwner() string { return s.opts.ClientID }

// Limits of the UpdateParameters operation, from its documentation.
const maxParameterUpdates = 100

// datasetInfoRoutes are the model operations beyond list and get.
func (s *Server) datasetInfoRoutes() {
	s.handleBoth("PATCH", "/datasets/{datasetId}", s.updateDataset)
	s.handleBoth("DELETE", "/datasets/{datasetId}", s.deleteDataset)
	// Take over exists only for workspaces.
	s.handleAPI("POST "+apiPrefix+"/groups/{groupId}/datasets/{datasetId}/Default.TakeOver", s.takeOverDataset)
	s.handleBoth("GET", "/datasets/{datasetId}/datasources", s.listDatasources)
	s.handleBoth("GET", "/datasets/{datasetId}/parameters", s.listParameters)
	s.handleBoth("POST", "/datasets/{datasetId}/Default.UpdateParameters", s.updateParameters)
	s.handleBoth("GET", "/datasets/{datasetId}/users", s.listDatasetUsers)
	s.handleBoth("POST", "/datasets/{datasetId}/users", s.grantDatasetUser)
	// Only for workspaces; it is more specific than /datasets/{datasetId},
	// which would otherwise take it.
	s.handleAPI("GET "+apiPrefix+"/groups/{groupId}/datasets/upstreamDataflows", s.listUpstreamDataflows)
}

// writeNotOwner answers a change only the model's owner may make. The
// service refuses it as an invalid request; the message is ours.
func writeNotOwner(w http.ResponseWriter, d *dataset) {
	writeError(w, http.StatusBadRequest, "InvalidRequest",
		fmt.Sprintf("Only the owner of dataset %s (%s) can change it; take over the dataset first.", d.info.ID, d.info.ConfiguredBy))
}

func (s *Server) isOwner(d *dataset) bool {
	return strings.EqualFold(d.info.ConfiguredBy, s.callerAsOwner())
}

// updateDataset changes the storage mode or the query scale-out settings.
// Both need the model on a Premium (dedicated) capacity, and scale-out the
// large storage format.
func (s *Server) updateDataset(w http.ResponseWriter, r *http.Request) {
	var body struct {
		TargetStorageMode     *string        `json:"targetStorageMode"`
		QueryScaleOutSettings *QueryScaleOut `json:"queryScaleOutSettings"`
	}
	// raw tells which scale-out fields the request set: those left out
	// keep their value.
	var raw struct {
		Q map[string]any `json:"queryScaleOutSettings"`
	}
	present, ok := readJSON(w, r, &body, &raw)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, groupID := s.datasetOf(w, r)
	if d == nil {
		return
	}
	ws := s.state.workspace(groupID)
	switch {
	case !present || (body.TargetStorageMode == nil && body.QueryScaleOutSettings == nil):
		writeError(w, http.StatusBadRequest, "InvalidRequest", "The request must set targetStorageMode or queryScaleOutSettings.")
		return
	case !s.isOwner(d):
		writeNotOwner(w, d)
		return
	case !ws.info.IsOnDedicatedCapacity:
		writeError(w, http.StatusBadRequest, "InvalidRequest",
			"Changing the storage format or query scale-out needs the workspace on a Premium, Embedded or Fabric capacity.")
		return
	}
	mode := d.info.TargetStorageMode
	if body.TargetStorageMode != nil {
		mode = *body.TargetStorageMode
		if mode != "Abf" && mode != "PremiumFiles" {
			writeError(w, http.StatusBadRequest, "InvalidRequest",
				fmt.Sprintf("targetStorageMode %q is not valid; use Abf or PremiumFiles.", mode))
			return
		}
	}
	if q := body.QueryScaleOutSettings; q != nil {
		if q.MaxReadOnlyReplicas < -1 || q.MaxReadOnlyReplicas > 64 {
			writeError(w, http.StatusBadRequest, "InvalidRequest", "maxReadOnlyReplicas must be between -1 and 64.")
			return
		}
		if mode != "PremiumFiles" {
			writeError(w, http.StatusBadRequest, "InvalidRequest",
				"Query scale-out needs the large semantic model storage format (targetStorageMode PremiumFiles).")
			return
		}
	}
	d.info.TargetStorageMode = mode
	if q := body.QueryScaleOutSettings; q != nil {
		merged := *d.info.QueryScaleOut
		if _, set := raw.Q["autoSyncReadOnlyReplicas"]; set {
			merged.AutoSyncReadOnlyReplicas = q.AutoSyncReadOnlyReplicas
		}
		if _, set := raw.Q["maxReadOnlyReplicas"]; set {
			merged.MaxReadOnlyReplicas = q.MaxReadOnlyReplicas
		}
		d.info.QueryScaleOut = &merged
	}
	writeEmptyOK(w)
}

// deleteDataset removes a model and, as the service does, the reports
// built on it, in whichever workspace they are.
func (s *Server) deleteDataset(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, groupID := s.datasetOf(w, r)
	if d == nil {
		return
	}
	ws := s.state.workspace(groupID)
	ws.datasets = slices.DeleteFunc(ws.datasets, func(x *dataset) bool { return x == d })
	for _, other := range append([]*workspace{s.state.myWorkspace}, s.state.workspaces...) {
		other.reports = slices.DeleteFunc(other.reports, func(rp *report) bool {
			return strings.EqualFold(rp.info.DatasetID, d.info.ID)
		})
	}
	writeEmptyOK(w)
}

// takeOverDataset makes the caller the model's owner.
func (s *Server) takeOverDataset(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, _ := s.datasetOf(w, r)
	if d == nil {
		return
	}
	d.info.ConfiguredBy = s.callerAsOwner()
	writeEmptyOK(w)
}

func (s *Server) listDatasources(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	d, groupID := s.datasetOf(w, r)
	if d == nil {
		s.mu.Unlock()
		return
	}
	items := slices.Clone(d.info.Datasources)
	s.mu.Unlock()
	writeList(s, w, groupID, "datasources", items)
}

func (s *Server) listParameters(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	d, groupID := s.datasetOf(w, r)
	if d == nil {
		s.mu.Unlock()
		return
	}
	items := d.info.clone().Parameters
	s.mu.Unlock()
	writeList(s, w, groupID, "parameters", items)
}

// updateParameters applies the documented rules: owner only, a non-empty
// list of at most 100, no duplicates, every name an existing parameter
// (case-sensitive), Any and Binary parameters not updatable, required
// parameters not emptied, values of the parameter's type. All or nothing.
func (s *Server) updateParameters(w http.ResponseWriter, r *http.Request) {
	var body struct {
		UpdateDetails []struct {
			Name     string `json:"name"`
			NewValue string `json:"newValue"`
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
	switch n := len(body.UpdateDetails); {
	case !s.isOwner(d):
		writeNotOwner(w, d)
		return
	case n == 0:
		bad("updateDetails must list at least one parameter.")
		return
	case n > maxParameterUpdates:
		bad(fmt.Sprintf("updateDetails lists %d parameters; at most %d can be updated per request.", n, maxParameterUpdates))
		return
	}
	seen := map[string]bool{}
	index := make([]int, len(body.UpdateDetails))
	for i, u := range body.UpdateDetails {
		if seen[u.Name] {
			bad(fmt.Sprintf("Parameter %q appears more than once in updateDetails.", u.Name))
			return
		}
		seen[u.Name] = true
		j := slices.IndexFunc(d.info.Parameters, func(p Parameter) bool { return p.Name == u.Name })
		if j < 0 {
			bad(fmt.Sprintf("Parameter %q does not exist in the dataset (names are case-sensitive).", u.Name))
			return
		}
		p := d.info.Parameters[j]
		if msg := checkParameterValue(p, u.NewValue); msg != "" {
			bad(msg)
			return
		}
		index[i] = j
	}
	for i, u := range body.UpdateDetails {
		d.info.Parameters[index[i]].CurrentValue = u.NewValue
	}
	writeEmptyOK(w)
}

// checkParameterValue says what is wrong with a new value for p, or "".
func checkParameterValue(p Parameter, v string) string {
	switch {
	case p.Type == "Any" || p.Type == "Binary":
		return fmt.Sprintf("Parameter %q is of type %s, which cannot be updated.", p.Name, p.Type)
	case p.IsRequired && v == "":
		return fmt.Sprintf("Parameter %q is required and cannot be set to an empty value.", p.Name)
	case v == "":
		return ""
	case p.Type == "Number":
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return fmt.Sprintf("Parameter %q is a Number; %q is not a number.", p.Name, v)
		}
	case p.Type == "Logical":
		if !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false") {
			return fmt.Sprintf("Parameter %q is Logical; use TRUE or FALSE, not %q.", p.Name, v)
		}
	}
	return ""
}

func (s *Server) listDatasetUsers(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	d, groupID := s.datasetOf(w, r)
	if d == nil {
		s.mu.Unlock()
		return
	}
	items := slices.Clone(d.info.Users)
	s.mu.Unlock()
	writeList(s, w, groupID, "users", items)
}

// datasetGrantRights are the rights POST .../users may grant (the
// swagger's PostDatasetUserAccess): never Write.
var datasetGrantRights = []string{"Read", "ReadReshare", "ReadExplore", "ReadReshareExplore"}

var datasetPrincipalTypes = []string{"User", "Group", "App", "None"}

// readDatasetUser reads and checks the principal and right of a request that adds (POST) or
// sets (PUT) a permission on a model: rights are the ones the operation takes, doing names it
// in the refusal of service principals.
func readDatasetUser(w http.ResponseWriter, r *http.Request, doing string, rights []string) (DatasetUser, bool) {
	var body DatasetUser
	present, ok := readJSON(w, r, &body)
	if !ok {
		return body, false
	}
	bad := func(msg string) (DatasetUser, bool) {
		writeError(w, http.StatusBadRequest, "InvalidRequest", msg)
		return body, false
	}
	switch {
	case !present || body.Identifier == "":
		return bad("identifier, principalType and datasetUserAccessRight are required.")
	case !slices.Contains(datasetPrincipalTypes, body.PrincipalType):
		return bad(fmt.Sprintf("principalType %q is not valid; use User, Group, App or None.", body.PrincipalType))
	case body.PrincipalType == "App":
		return bad(doing + " permissions of service principals (principalType App) is not supported.")
	case !slices.Contains(rights, body.DatasetUserAccessRight):
		return bad(fmt.Sprintf("datasetUserAccessRight %q is not valid; use %s.", body.DatasetUserAccessRight, strings.Join(rights, ", ")))
	}
	return body, true
}

// grantDatasetUser adds a permission. A principal that already has access
// keeps what it had and gains what was granted: the operation grants, it
// never takes away.
func (s *Server) grantDatasetUser(w http.ResponseWriter, r *http.Request) {
	body, ok := readDatasetUser(w, r, "Adding", datasetGrantRights)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, _ := s.datasetOf(w, r)
	if d == nil {
		return
	}
	i := slices.IndexFunc(d.info.Users, func(u DatasetUser) bool {
		return strings.EqualFold(u.Identifier, body.Identifier) && u.PrincipalType == body.PrincipalType
	})
	if i < 0 {
		d.info.Users = append(d.info.Users, body)
	} else {
		d.info.Users[i].DatasetUserAccessRight = unionRights(d.info.Users[i].DatasetUserAccessRight, body.DatasetUserAccessRight)
	}
	writeEmptyOK(w)
}

// unionRights combines two access rights such as "ReadWrite" and
// "ReadExplore" into "ReadWriteExplore", in the service's word order.
func unionRights(a, b string) string {
	out := "Read"
	for _, part := range []string{"Write", "Reshare", "Explore"} {
		if strings.Contains(a, part) || strings.Contains(b, part) {
			out += part
		}
	}
	return out
}

// upstreamDataflowLink is one entry of the upstreamDataflows answer.
type upstreamDataflowLink struct {
	DatasetObjectID   string `json:"datasetObjectId"`
	DataflowObjectID  string `json:"dataflowObjectId"`
	WorkspaceObjectID string `json:"workspaceObjectId"`
}

func (s *Server) listUpstreamDataflows(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	ws, groupID := s.workspaceOf(w, r)
	if ws == nil {
		s.mu.Unlock()
		return
	}
	items := []upstreamDataflowLink{}
	for _, d := range ws.datasets {
		for _, u := range d.info.UpstreamDataflows {
			items = append(items, upstreamDataflowLink{DatasetObjectID: d.info.ID, DataflowObjectID: u.DataflowID, WorkspaceObjectID: u.WorkspaceID})
		}
	}
	s.mu.Unlock()
	writeList(s, w, groupID, "datasetToDataflowLinks", items)
}
