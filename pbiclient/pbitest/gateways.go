package pbitest

import (
	"crypto/rsa"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Gateway is an on-premises data gateway (cluster) the caller administers.
type Gateway struct {
	ID   string // filled with a random GUID when empty
	Name string
	// Unreachable gateways answer every datasource status check with
	// DM_GWPipeline_Client_GatewayUnreachable, as an offline gateway does.
	Unreachable bool
	// KeyBits is the size of the RSA key data source credentials are encrypted
	// with: 2048 (the default) or 1024, which older gateways have.
	KeyBits     int
	Datasources []GatewayDatasource
}

// GatewayDatasource is a data source defined on a gateway. The credentials a
// client set are kept decrypted for GatewayDatasourceCredentials, and never
// returned on the wire: the service never returns them either.
type GatewayDatasource struct {
	ID             string // filled with a random GUID when empty
	DatasourceName string
	DatasourceType string // e.g. "Sql", "File", "AnalysisServices"
	// ConnectionDetails are what the service sends as a JSON string, e.g.
	// {"server":"localSQL","database":"salesDB"}.
	ConnectionDetails DatasourceConnectionDetails
	CredentialType    string // Basic, Windows, Anonymous, OAuth2, Key or SAS; default "Windows"
	Users             []GatewayDatasourceUser

	credentials *GatewayCredentials // nil until a client sets them
}

// GatewayDatasourceUser is a principal allowed to use a gateway data source.
type GatewayDatasourceUser struct {
	EmailAddress          string // users; the identifier for them too
	DisplayName           string
	Identifier            string // default EmailAddress
	PrincipalType         string // "User" (default) or "App"
	DatasourceAccessRight string // "Read" or "ReadOverrideEffectiveIdentity"
}

// Ids of the demo gateways SeedDemo adds. Forecast in Finance is bound to
// DemoFinanceGatewayDatasourceID from the start.
const (
	DemoGatewayID                  = "c3e5a7b9-6d8f-4b0c-9e2a-4f6b8d0a2ad7" // "Contoso HQ Gateway", reachable
	DemoFinanceGatewayDatasourceID = "b2d4f6a8-5c7e-4a9b-8d1f-3e5a7c9e1fc6" // "Finance Planning SQL" on it
	DemoFinanceReportingSourceID   = "a7c9e1f3-0b2d-4e4f-9a6c-8d0f2b4d6e71" // "Finance Planning SQL (reporting login)": same database, other credentials
	DemoSalesGatewayDatasourceID   = "d4f6a8b0-7e9a-4c1d-8f3b-5a7c9e1b3de8" // "Sales DW SQL" on it: matches the Sales model's SQL source
	DemoUnreachableGatewayID       = "e5a7c9d1-8f0b-4d2e-9a4c-6b8d0f2c4ef9" // "Branch Office Gateway", offline
	DemoBranchGatewayDatasourceID  = "f6b8d0e2-9a1c-4e3f-8b5d-7c9e1a3d5fa0" // "Branch Files" on the offline gateway
	DemoRemovableGatewayUser       = "old.analyst@contoso.com"              // a user of Sales DW SQL, kept for removal examples
)

// Rights a user can have on a gateway data source ("None" takes it away).
const (
	gatewayDatasourceUserRightRead  = "Read"
	gatewayDatasourceUserRightOvEff = "ReadOverrideEffectiveIdentity"
)

type gateway struct {
	info        Gateway // Datasources is not kept here: datasources holds them
	datasources []*GatewayDatasource
}

// key is the gateway's key pair, made when first needed: a server that never shows a
// gateway starts without generating one.
func (g *gateway) key() *rsa.PrivateKey { return gatewayKey(g.info.KeyBits) }

// AddGateway adds a gateway with its data sources and returns it as stored.
func (s *Server) AddGateway(g Gateway) Gateway {
	if g.ID == "" {
		g.ID = newGUID()
	}
	switch g.KeyBits {
	case 0:
		g.KeyBits = 2048
	case 1024, 2048:
	default:
		panic(fmt.Sprintf("pbitest: gateway keys are 1024 or 2048 bits, not %d", g.KeyBits))
	}
	g.Datasources = slices.Clone(g.Datasources)
	stored := &gateway{info: g}
	stored.info.Datasources = nil
	for i := range g.Datasources {
		ds := &g.Datasources[i]
		if ds.ID == "" {
			ds.ID = newGUID()
		}
		if ds.CredentialType == "" {
			ds.CredentialType = "Windows"
		}
		ds.Users = slices.Clone(ds.Users)
		for j := range ds.Users {
			ds.Users[j] = withGatewayUserDefaults(ds.Users[j])
		}
		c := *ds
		c.Users = slices.Clone(ds.Users)
		stored.datasources = append(stored.datasources, &c)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state.gateways = append(s.state.gateways, stored)
	return g
}

func withGatewayUserDefaults(u GatewayDatasourceUser) GatewayDatasourceUser {
	if u.PrincipalType == "" {
		u.PrincipalType = "User"
	}
	if u.Identifier == "" {
		u.Identifier = u.EmailAddress
	}
	if u.DisplayName == "" {
		u.DisplayName = u.EmailAddress
	}
	return u
}

func (s *Server) gatewayRoutes() {
	p := apiPrefix + "/gateways"
	s.handleAPI("GET "+p, s.listGateways)
	s.handleAPI("GET "+p+"/{gatewayId}", s.getGateway)
	s.handleAPI("GET "+p+"/{gatewayId}/datasources", s.listGatewayDatasources)
	s.handleAPI("GET "+p+"/{gatewayId}/datasources/{datasourceId}", s.getGatewayDatasource)
	s.handleAPI("POST "+p+"/{gatewayId}/datasources", s.createGatewayDatasource)
	s.handleAPI("PATCH "+p+"/{gatewayId}/datasources/{datasourceId}", s.updateGatewayDatasource)
	s.handleAPI("DELETE "+p+"/{gatewayId}/datasources/{datasourceId}", s.deleteGatewayDatasource)
	s.handleAPI("GET "+p+"/{gatewayId}/datasources/{datasourceId}/status", s.getGatewayDatasourceStatus)
	s.handleAPI("GET "+p+"/{gatewayId}/datasources/{datasourceId}/users", s.listGatewayDatasourceUsers)
	s.handleAPI("POST "+p+"/{gatewayId}/datasources/{datasourceId}/users", s.addGatewayDatasourceUser)
	s.handleAPI("DELETE "+p+"/{gatewayId}/datasources/{datasourceId}/users/{emailAddress}", s.deleteGatewayDatasourceUser)
	s.handleBoth("POST", "/datasets/{datasetId}/Default.BindToGateway", s.bindToGateway)
	s.handleBoth("GET", "/datasets/{datasetId}/Default.DiscoverGateways", s.discoverGateways)
	s.handleBoth("GET", "/datasets/{datasetId}/Default.GetBoundGatewayDatasources", s.boundGatewayDatasources)
}

// gatewayJSON is a Gateway as the service sends it. The public key is the
// one data source credentials are encrypted with.
type gatewayJSON struct {
	ID                string           `json:"id"`
	Name              string           `json:"name"`
	Type              string           `json:"type"`
	PublicKey         gatewayPublicKey `json:"publicKey"`
	GatewayStatus     string           `json:"gatewayStatus"`
	GatewayAnnotation string           `json:"gatewayAnnotation"`
}

type gatewayPublicKey struct {
	Exponent string `json:"exponent"`
	Modulus  string `json:"modulus"`
}

type gatewayDatasourceJSON struct {
	ID                string `json:"id"`
	GatewayID         string `json:"gatewayId"`
	DatasourceType    string `json:"datasourceType"`
	ConnectionDetails string `json:"connectionDetails"` // a JSON document in a string
	CredentialType    string `json:"credentialType"`
	DatasourceName    string `json:"datasourceName"`
}

type gatewayUserJSON struct {
	DatasourceAccessRight string `json:"datasourceAccessRight"`
	DisplayName           string `json:"displayName,omitempty"`
	EmailAddress          string `json:"emailAddress,omitempty"`
	Identifier            string `json:"identifier"`
	PrincipalType         string `json:"principalType"`
}

func toGatewayJSON(gw *gateway) gatewayJSON {
	g := gw.info
	status := "Live"
	if g.Unreachable {
		status = "Offline"
	}
	annotation := marshal(map[string]any{"gatewayContactInformation": []string{defaultConfiguredBy},
		"gatewayVersion": "3000.246.5", "isAutoSelect": false, "gatewayMachine": strings.ReplaceAll(g.Name, " ", "-")})
	return gatewayJSON{ID: g.ID, Name: g.Name, Type: "Resource", GatewayStatus: status, GatewayAnnotation: string(annotation),
		PublicKey: publicKeyJSON(&gw.key().PublicKey)}
}

func toGatewayDatasourceJSON(gatewayID string, ds *GatewayDatasource) gatewayDatasourceJSON {
	return gatewayDatasourceJSON{ID: ds.ID, GatewayID: gatewayID, DatasourceType: ds.DatasourceType,
		ConnectionDetails: string(marshal(ds.ConnectionDetails)), CredentialType: ds.CredentialType, DatasourceName: ds.DatasourceName}
}

func (t *tenantState) gateway(id string) *gateway {
	for _, g := range t.gateways {
		if strings.EqualFold(g.info.ID, id) {
			return g
		}
	}
	return nil
}

func (g *gateway) datasource(id string) *GatewayDatasource {
	for _, ds := range g.datasources {
		if strings.EqualFold(ds.ID, id) {
			return ds
		}
	}
	return nil
}

// gatewayOf finds the request's gateway, answering 404 when there is none.
// The caller must hold s.mu.
func (s *Server) gatewayOf(w http.ResponseWriter, r *http.Request) *gateway {
	g := s.state.gateway(r.PathValue("gatewayId"))
	if g == nil {
		writeError(w, http.StatusNotFound, "ItemNotFound",
			fmt.Sprintf("Gateway %s is not found or the caller is not one of its admins", r.PathValue("gatewayId")))
	}
	return g
}

// gatewayDatasourceOf finds the request's gateway and data source.
func (s *Server) gatewayDatasourceOf(w http.ResponseWriter, r *http.Request) (*gateway, *GatewayDatasource) {
	g := s.gatewayOf(w, r)
	if g == nil {
		return nil, nil
	}
	ds := g.datasource(r.PathValue("datasourceId"))
	if ds == nil {
		writeError(w, http.StatusNotFound, "ItemNotFound",
			fmt.Sprintf("Datasource %s is not found on gateway %s", r.PathValue("datasourceId"), g.info.ID))
	}
	return g, ds
}

func (s *Server) listGateways(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	items := []gatewayJSON{}
	for _, g := range s.state.gateways {
		items = append(items, toGatewayJSON(g))
	}
	s.mu.Unlock()
	writeList(s, w, "", "gateways", items)
}

func (s *Server) getGateway(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	g := s.gatewayOf(w, r)
	if g == nil {
		s.mu.Unlock()
		return
	}
	out := toGatewayJSON(g)
	s.mu.Unlock()
	s.writeEntity(w, http.StatusOK, "", "gateways", out)
}

func (s *Server) listGatewayDatasources(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	g := s.gatewayOf(w, r)
	if g == nil {
		s.mu.Unlock()
		return
	}
	items := []gatewayDatasourceJSON{}
	for _, ds := range g.datasources {
		items = append(items, toGatewayDatasourceJSON(g.info.ID, ds))
	}
	s.mu.Unlock()
	writeList(s, w, "", "gatewayDatasources", items)
}

func (s *Server) getGatewayDatasource(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	g, ds := s.gatewayDatasourceOf(w, r)
	if ds == nil {
		s.mu.Unlock()
		return
	}
	out := toGatewayDatasourceJSON(g.info.ID, ds)
	s.mu.Unlock()
	s.writeEntity(w, http.StatusOK, "", "gatewayDatasources", out)
}

// getGatewayDatasourceStatus answers 200 with no body when the gateway can
// reach the source and the pbi.error shape otherwise (api-notes §2.7).
func (s *Server) getGatewayDatasourceStatus(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	g, ds := s.gatewayDatasourceOf(w, r)
	if ds == nil {
		s.mu.Unlock()
		return
	}
	unreachable := g.info.Unreachable
	s.mu.Unlock()
	if unreachable {
		writePBIError(w, http.StatusBadRequest, "DM_GWPipeline_Client_GatewayUnreachable",
			detailsMessage("The gateway is either offline or could not be reached."))
		return
	}
	writeEmptyOK(w)
}

func (s *Server) listGatewayDatasourceUsers(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	_, ds := s.gatewayDatasourceOf(w, r)
	if ds == nil {
		s.mu.Unlock()
		return
	}
	items := []gatewayUserJSON{}
	for _, u := range ds.Users {
		items = append(items, gatewayUserJSON{DatasourceAccessRight: u.DatasourceAccessRight, DisplayName: u.DisplayName,
			EmailAddress: u.EmailAddress, Identifier: u.Identifier, PrincipalType: u.PrincipalType})
	}
	s.mu.Unlock()
	writeList(s, w, "", "datasourceUsers", items)
}

// addGatewayDatasourceUser grants a user or service principal access to a
// data source, or changes its right. Groups are not supported, and
// ReadOverrideEffectiveIdentity applies only to Analysis Services sources
// (swagger DatasourceUser).
func (s *Server) addGatewayDatasourceUser(w http.ResponseWriter, r *http.Request) {
	var body struct {
		EmailAddress          string `json:"emailAddress"`
		Identifier            string `json:"identifier"`
		PrincipalType         string `json:"principalType"`
		DatasourceAccessRight string `json:"datasourceAccessRight"`
		DisplayName           string `json:"displayName"`
	}
	if _, ok := readJSON(w, r, &body); !ok {
		return
	}
	right, ok := canonical(body.DatasourceAccessRight, []string{"None", gatewayDatasourceUserRightRead, gatewayDatasourceUserRightOvEff})
	switch {
	case !ok:
		writeError(w, http.StatusBadRequest, "InvalidRequest", fmt.Sprintf("Invalid datasourceAccessRight '%s'", body.DatasourceAccessRight))
		return
	case strings.EqualFold(body.PrincipalType, "Group"):
		writeError(w, http.StatusBadRequest, "InvalidRequest", "Adding a group to a gateway data source is not supported")
		return
	case body.EmailAddress == "" && body.Identifier == "":
		writeError(w, http.StatusBadRequest, "InvalidRequest", "emailAddress or identifier is required")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ds := s.gatewayDatasourceOf(w, r)
	if ds == nil {
		return
	}
	if right == gatewayDatasourceUserRightOvEff && !strings.EqualFold(ds.DatasourceType, "AnalysisServices") {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "ReadOverrideEffectiveIdentity applies only to Analysis Services data sources")
		return
	}
	id := body.EmailAddress
	if id == "" {
		id = body.Identifier
	}
	i := slices.IndexFunc(ds.Users, func(u GatewayDatasourceUser) bool {
		return strings.EqualFold(u.Identifier, id) || (u.EmailAddress != "" && strings.EqualFold(u.EmailAddress, id))
	})
	switch {
	case right == "None" && i >= 0: // None takes the access away
		ds.Users = slices.Delete(ds.Users, i, i+1)
	case right == "None":
	case i >= 0:
		ds.Users[i].DatasourceAccessRight = right
	default:
		pt := "User"
		if body.EmailAddress == "" {
			pt = "App"
		}
		ds.Users = append(ds.Users, withGatewayUserDefaults(GatewayDatasourceUser{EmailAddress: body.EmailAddress,
			Identifier: body.Identifier, DisplayName: body.DisplayName, PrincipalType: pt, DatasourceAccessRight: right}))
	}
	writeEmptyOK(w)
}

func (s *Server) deleteGatewayDatasourceUser(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ds := s.gatewayDatasourceOf(w, r)
	if ds == nil {
		return
	}
	id := r.PathValue("emailAddress")
	i := slices.IndexFunc(ds.Users, func(u GatewayDatasourceUser) bool {
		return strings.EqualFold(u.Identifier, id) || strings.EqualFold(u.EmailAddress, id)
	})
	if i < 0 {
		writeError(w, http.StatusNotFound, "ItemNotFound", fmt.Sprintf("User %s has no access to data source %s", id, ds.ID))
		return
	}
	ds.Users = slices.Delete(ds.Users, i, i+1)
	writeEmptyOK(w)
}

// matches reports whether a gateway data source serves a model's data
// source: same type and the same connection.
func (ds *GatewayDatasource) matches(m Datasource) bool {
	return strings.EqualFold(ds.DatasourceType, m.DatasourceType) &&
		strings.EqualFold(string(marshal(ds.ConnectionDetails)), string(marshal(m.ConnectionDetails)))
}

// bindToGateway binds every data source of a model to the first matching
// data source of the gateway (among datasourceObjectIds when given). A model
// with a source no gateway data source matches cannot be bound, nor can one
// whose gateway data source the caller is not a user of.
func (s *Server) bindToGateway(w http.ResponseWriter, r *http.Request) {
	var body struct {
		GatewayObjectID     string   `json:"gatewayObjectId"`
		DatasourceObjectIDs []string `json:"datasourceObjectIds"`
	}
	if _, ok := readJSON(w, r, &body); !ok {
		return
	}
	if body.GatewayObjectID == "" {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "gatewayObjectId is required")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, _ := s.datasetOf(w, r)
	if d == nil {
		return
	}
	g := s.state.gateway(body.GatewayObjectID)
	if g == nil {
		writeError(w, http.StatusNotFound, "ItemNotFound", fmt.Sprintf("Gateway %s is not found or the caller is not one of its admins", body.GatewayObjectID))
		return
	}
	candidates := g.datasources
	if len(body.DatasourceObjectIDs) > 0 {
		candidates = nil
		for _, id := range body.DatasourceObjectIDs {
			ds := g.datasource(id)
			if ds == nil {
				writeError(w, http.StatusBadRequest, "InvalidRequest", fmt.Sprintf("Datasource %s is not on gateway %s", id, g.info.ID))
				return
			}
			candidates = append(candidates, ds)
		}
	}
	bound := slices.Clone(d.info.Datasources)
	for i, m := range bound {
		j := slices.IndexFunc(candidates, func(ds *GatewayDatasource) bool { return ds.matches(m) })
		if j < 0 {
			writeError(w, http.StatusBadRequest, "InvalidRequest",
				fmt.Sprintf("The gateway has no data source for the model's %s source %s", m.DatasourceType, marshal(m.ConnectionDetails)))
			return
		}
		// "Add the API caller principal as a data source user on the gateway"
		// (Learn, Datasets - Bind To Gateway In Group).
		if !slices.ContainsFunc(candidates[j].Users, func(u GatewayDatasourceUser) bool {
			return strings.EqualFold(u.Identifier, servicePrincipalObjectID)
		}) {
			writeError(w, http.StatusBadRequest, "InvalidRequest",
				fmt.Sprintf("The caller is not a user of gateway data source %s: add it with the datasource users API first", candidates[j].ID))
			return
		}
		bound[i].GatewayID, bound[i].DatasourceID = g.info.ID, candidates[j].ID
	}
	d.info.Datasources = bound
	writeEmptyOK(w)
}

// discoverGateways lists the gateways that have a data source for one of
// the model's sources.
func (s *Server) discoverGateways(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	d, groupID := s.datasetOf(w, r)
	if d == nil {
		s.mu.Unlock()
		return
	}
	items := []gatewayJSON{}
	for _, g := range s.state.gateways {
		if slices.ContainsFunc(g.datasources, func(ds *GatewayDatasource) bool {
			return slices.ContainsFunc(d.info.Datasources, ds.matches)
		}) {
			items = append(items, toGatewayJSON(g))
		}
	}
	s.mu.Unlock()
	writeList(s, w, groupID, "gateways", items)
}

// sandboxGatewayUser is the service principal the sandbox signs in as, a
// user of the demo gateway's data sources so that it can bind models to them.
var sandboxGatewayUser = GatewayDatasourceUser{Identifier: servicePrincipalObjectID, PrincipalType: "App",
	DisplayName: DemoServicePrincipalName, DatasourceAccessRight: gatewayDatasourceUserRightRead}

// seedGateways adds the demo gateways: a reachable one serving the Finance
// and Sales SQL sources, and an offline one.
func (s *Server) seedGateways() {
	s.AddGateway(Gateway{ID: DemoGatewayID, Name: "Contoso HQ Gateway", Datasources: []GatewayDatasource{
		{ID: DemoFinanceGatewayDatasourceID, DatasourceName: "Finance Planning SQL", DatasourceType: "Sql",
			ConnectionDetails: DatasourceConnectionDetails{Server: "contoso-finance.database.windows.net", Database: "Planning"},
			Users: []GatewayDatasourceUser{
				{EmailAddress: "alex.wilber@contoso.com", DisplayName: "Alex Wilber", DatasourceAccessRight: gatewayDatasourceUserRightRead},
				sandboxGatewayUser,
			}},
		{ID: DemoSalesGatewayDatasourceID, DatasourceName: "Sales DW SQL", DatasourceType: "Sql",
			ConnectionDetails: DatasourceConnectionDetails{Server: "contoso-sales.database.windows.net", Database: "SalesDW"},
			CredentialType:    "Basic",
			Users: []GatewayDatasourceUser{
				{EmailAddress: "megan.bowen@contoso.com", DisplayName: "Megan Bowen", DatasourceAccessRight: gatewayDatasourceUserRightRead},
				{EmailAddress: DemoRemovableGatewayUser, DisplayName: "Old Analyst", DatasourceAccessRight: gatewayDatasourceUserRightRead},
				sandboxGatewayUser,
			}},
		// The same database under a second login, so a model can be moved
		// from one gateway data source to another and the move read back.
		{ID: DemoFinanceReportingSourceID, DatasourceName: "Finance Planning SQL (reporting login)", DatasourceType: "Sql",
			ConnectionDetails: DatasourceConnectionDetails{Server: "contoso-finance.database.windows.net", Database: "Planning"},
			Users:             []GatewayDatasourceUser{sandboxGatewayUser}},
	}})
	s.AddGateway(Gateway{ID: DemoUnreachableGatewayID, Name: "Branch Office Gateway", Unreachable: true, KeyBits: 1024, Datasources: []GatewayDatasource{
		{ID: DemoBranchGatewayDatasourceID, DatasourceName: "Branch Files", DatasourceType: "File",
			ConnectionDetails: DatasourceConnectionDetails{Path: `\\branch-fs01\reports`}},
	}})
}
