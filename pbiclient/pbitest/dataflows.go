package pbitest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Dataflow is a Power BI dataflow (Gen1) in a workspace.
type Dataflow struct {
	ObjectID     string // filled with a random GUID when empty
	Name         string
	Description  string
	ConfiguredBy string // default "admin@contoso.onmicrosoft.com"
	ModifiedTime time.Time
	Entities     []DataflowEntity
	// Datasources are what GET .../datasources answers.
	Datasources []Datasource
	// Upstream are the dataflows this one reads from.
	Upstream []UpstreamDataflow
	// AllowNativeQueries and ComputeEngineBehavior ("computeOptimized", "computeOn" or
	// "computeDisabled"; empty is the service's default) are what PATCH sets.
	AllowNativeQueries    bool
	ComputeEngineBehavior string
}

// DataflowEntity is a table of a dataflow, as model.json describes it.
type DataflowEntity struct {
	Name        string
	Description string
	Attributes  []DataflowAttribute
}

// DataflowAttribute is a column of a dataflow entity.
type DataflowAttribute struct {
	Name, DataType string // dataType as model.json names it: string, int64, double, dateTime, boolean, decimal
}

// Ids of the demo dataflows SeedDemo adds, all in Sales Analytics.
const (
	// DemoSalesDataflowID ("Sales Pipeline") is declared in seed.go: the Sales model reads from it.
	DemoSalesStagingDataflowID  = "b2d4f6a8-5c7e-4a9b-9d1f-3e5a7c9e1fd7" // "Sales Staging": Sales Pipeline reads from it; kept for refresh examples
	DemoInventoryFeedDataflowID = "c3e5a7b9-6d8f-4b0c-8e2a-4f6b8d0a2ae8" // "Inventory Feed": a refresh runs on it from the start
	// DemoInventoryFeedTransactionID is that running refresh, for cancelling.
	DemoInventoryFeedTransactionID = "2024-03-21T08:15:02.1234567Z@c3e5a7b9-6d8f-4b0c-8e2a-4f6b8d0a2ae8$1"
)

// Dataflow transaction statuses as the service reports them.
const (
	txInProgress = "InProgress"
	txSuccess    = "Success"
	txFailed     = "Failed"
	txCancelled  = "Cancelled"
)

type dataflow struct {
	info         Dataflow
	transactions []*dataflowTransaction // oldest first
	schedule     *refreshSchedule       // nil until set
	seq          int                    // numbers the dataflow's transactions
}

type dataflowTransaction struct {
	id          string
	refreshType string // "OnDemand" or "Scheduled"
	start, end  time.Time
	failed      bool
	cancelled   time.Time // zero unless cancelled
}

func (t *dataflowTransaction) status(now time.Time) string {
	switch {
	case !t.cancelled.IsZero():
		return txCancelled
	case now.Before(t.end):
		return txInProgress
	case t.failed:
		return txFailed
	}
	return txSuccess
}

// AddDataflow adds a dataflow to a workspace and returns it as stored. It
// panics if the workspace does not exist or is My workspace, which has no
// dataflows.
func (s *Server) AddDataflow(workspaceID string, df Dataflow) Dataflow {
	if df.ObjectID == "" {
		df.ObjectID = newGUID()
	}
	if df.ConfiguredBy == "" {
		df.ConfiguredBy = defaultConfiguredBy
	}
	if df.ModifiedTime.IsZero() {
		df.ModifiedTime = time.Now()
	}
	df.ModifiedTime = df.ModifiedTime.UTC().Truncate(time.Millisecond)
	df.Entities = slices.Clone(df.Entities)
	df.Datasources = slices.Clone(df.Datasources)
	df.Upstream = slices.Clone(df.Upstream)
	s.mu.Lock()
	defer s.mu.Unlock()
	if workspaceID == "" {
		panic("pbitest: AddDataflow: My workspace has no dataflows")
	}
	ws := s.mustWorkspace("AddDataflow", workspaceID)
	ws.dataflows = append(ws.dataflows, &dataflow{info: df})
	return df
}

func (s *Server) dataflowRoutes() {
	p := apiPrefix + "/groups/{groupId}/dataflows"
	s.handleAPI("GET "+p, s.listDataflows)
	s.handleAPI("GET "+p+"/{dataflowId}", s.getDataflow)
	s.handleAPI("POST "+p+"/{dataflowId}/refreshes", s.refreshDataflow)
	s.handleAPI("GET "+p+"/{dataflowId}/transactions", s.listDataflowTransactions)
	s.handleAPI("POST "+p+"/transactions/{transactionId}/cancel", s.cancelDataflowTransaction)
	s.handleAPI("GET "+p+"/{dataflowId}/datasources", s.listDataflowDatasources)
	s.handleAPI("GET "+p+"/{dataflowId}/upstreamDataflows", s.listUpstreamDataflowsOfDataflow)
	s.handleAPI("PATCH "+p+"/{dataflowId}/refreshSchedule", s.updateDataflowRefreshSchedule)
	s.handleAPI("PATCH "+p+"/{dataflowId}", s.updateDataflow)
	s.handleAPI("DELETE "+p+"/{dataflowId}", s.deleteDataflow)
	s.dataflowStorageRoutes()
}

type dataflowJSON struct {
	ObjectID     string `json:"objectId"`
	Name         string `json:"name"`
	Description  string `json:"description,omitempty"`
	ModelURL     string `json:"modelUrl"`
	ConfiguredBy string `json:"configuredBy"`
}

func (ws *workspace) dataflow(id string) *dataflow {
	for _, df := range ws.dataflows {
		if strings.EqualFold(df.info.ObjectID, id) {
			return df
		}
	}
	return nil
}

// dataflowOf finds the request's dataflow, answering 404 when there is none.
// The caller must hold s.mu.
func (s *Server) dataflowOf(w http.ResponseWriter, r *http.Request) (*dataflow, string) {
	ws, groupID := s.workspaceOf(w, r)
	if ws == nil {
		return nil, ""
	}
	df := ws.dataflow(r.PathValue("dataflowId"))
	if df == nil {
		writeError(w, http.StatusNotFound, "ItemNotFound",
			fmt.Sprintf("Dataflow %s is not found! please verify dataflowId is correct and user have sufficient permissions.", r.PathValue("dataflowId")))
		return nil, ""
	}
	return df, groupID
}

func (s *Server) listDataflows(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	ws, groupID := s.workspaceOf(w, r)
	if ws == nil {
		s.mu.Unlock()
		return
	}
	items := []dataflowJSON{}
	for _, df := range ws.dataflows {
		items = append(items, dataflowJSON{ObjectID: df.info.ObjectID, Name: df.info.Name, Description: df.info.Description,
			ModelURL:     fmt.Sprintf("%s/groups/%s/dataflows/%s/model.json", s.APIBaseURL(), groupID, df.info.ObjectID),
			ConfiguredBy: df.info.ConfiguredBy})
	}
	s.mu.Unlock()
	writeList(s, w, groupID, "dataflows", items)
}

// getDataflow answers the dataflow's definition, its model.json (CDM
// folder format), as a file rather than an OData entity.
func (s *Server) getDataflow(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	df, _ := s.dataflowOf(w, r)
	if df == nil {
		s.mu.Unlock()
		return
	}
	info := df.info
	s.mu.Unlock()
	entities := []any{}
	var sections []string
	for _, e := range info.Entities {
		attrs := []any{}
		for _, a := range e.Attributes {
			attrs = append(attrs, orderedObject{{"name", a.Name}, {"dataType", a.DataType}})
		}
		entities = append(entities, orderedObject{{"$type", "LocalEntity"}, {"name", e.Name},
			{"description", e.Description}, {"attributes", attrs},
			{"partitions", []any{orderedObject{{"name", "FullDataPartition"},
				{"refreshTime", info.ModifiedTime.Format("2006-01-02T15:04:05.0000000+00:00")},
				{"location", fmt.Sprintf("https://contosodataflows.dfs.core.windows.net/powerbi/%s/%s/%s.csv", info.Name, e.Name, e.Name)}}}}})
		sections = append(sections, fmt.Sprintf("shared #\"%s\" = let Source = ... in Source;", e.Name))
	}
	doc := orderedObject{{"name", info.Name}, {"description", info.Description}, {"version", "1.0"},
		{"culture", "en-US"}, {"modifiedTime", info.ModifiedTime.Format("2006-01-02T15:04:05.0000000+00:00")},
		{"pbi:mashup", orderedObject{{"fastCombine", false}, {"allowNativeQueries", info.AllowNativeQueries},
			{"document", "section Section1;\r\n" + strings.Join(sections, "\r\n")}}},
		{"annotations", []any{}}, {"entities", entities}}
	writeBody(w, http.StatusOK, "application/json", marshal(doc))
}

var dataflowNotify = []string{"NoNotification", "MailOnFailure", "MailOnCompletion"}

// refreshDataflow starts a refresh: notifyOption is required, the answer is
// 200 with no body, and a dataflow refreshes once at a time.
func (s *Server) refreshDataflow(w http.ResponseWriter, r *http.Request) {
	var body struct {
		NotifyOption string `json:"notifyOption"`
	}
	if _, ok := readJSON(w, r, &body); !ok {
		return
	}
	if _, ok := canonical(body.NotifyOption, dataflowNotify); !ok {
		writeError(w, http.StatusBadRequest, "InvalidRequest", fmt.Sprintf("Invalid notifyOption '%s': use NoNotification, MailOnFailure or MailOnCompletion", body.NotifyOption))
		return
	}
	if pt := r.URL.Query().Get("processType"); pt != "" {
		if _, ok := canonical(pt, []string{"default", "processFull"}); !ok {
			writeError(w, http.StatusBadRequest, "InvalidRequest", fmt.Sprintf("Invalid processType '%s'", pt))
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	df, groupID := s.dataflowOf(w, r)
	if df == nil {
		return
	}
	now := time.Now().UTC()
	switch {
	case slices.ContainsFunc(df.transactions, func(t *dataflowTransaction) bool { return t.status(now) == txInProgress }):
		writeError(w, http.StatusBadRequest, "InvalidRequest", "Invalid dataflow refresh request. A refresh of this dataflow is already in progress")
		return
	case !s.state.workspace(groupID).info.IsOnDedicatedCapacity && df.startedSince(now.Add(-24*time.Hour)) >= sharedDailyRefreshes:
		// Shared capacity allows 8 refreshes a day, scheduled ones included, as for models.
		writeError(w, http.StatusBadRequest, "InvalidRequest", "Invalid dataflow refresh request. Number of refresh requests in last 24 hours exceeded limit")
		return
	}
	df.addTransaction(&dataflowTransaction{refreshType: "OnDemand", start: now, end: now.Add(s.opts.RefreshDuration)})
	writeEmptyOK(w)
}

// startedSince counts the refreshes started after t.
func (df *dataflow) startedSince(t time.Time) int {
	n := 0
	for _, tx := range df.transactions {
		if tx.start.After(t) {
			n++
		}
	}
	return n
}

// maxDataflowTransactions bounds the kept history; it is above the daily
// limit of shared capacity, which counts from it.
const maxDataflowTransactions = 50

func (df *dataflow) addTransaction(t *dataflowTransaction) {
	df.seq++
	if t.id == "" {
		t.id = fmt.Sprintf("%s@%s$%d", t.start.Format("2006-01-02T15:04:05.0000000Z"), newGUID(), df.seq)
	}
	df.transactions = append(df.transactions, t)
	if len(df.transactions) > maxDataflowTransactions {
		df.transactions = df.transactions[len(df.transactions)-maxDataflowTransactions:]
	}
}

type dataflowTransactionJSON struct {
	ID          string `json:"id"`
	RefreshType string `json:"refreshType"`
	StartTime   string `json:"startTime"`
	EndTime     string `json:"endTime,omitempty"`
	Status      string `json:"status"`
}

// listDataflowTransactions lists the refreshes, newest first.
func (s *Server) listDataflowTransactions(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	df, groupID := s.dataflowOf(w, r)
	if df == nil {
		s.mu.Unlock()
		return
	}
	now := time.Now().UTC()
	items := []dataflowTransactionJSON{}
	for i := len(df.transactions) - 1; i >= 0; i-- {
		t := df.transactions[i]
		j := dataflowTransactionJSON{ID: t.id, RefreshType: t.refreshType, StartTime: serviceTime(t.start), Status: t.status(now)}
		switch {
		case !t.cancelled.IsZero():
			j.EndTime = serviceTime(t.cancelled)
		case j.Status != txInProgress:
			j.EndTime = serviceTime(t.end)
		}
		items = append(items, j)
	}
	s.mu.Unlock()
	writeList(s, w, groupID, "transactions", items)
}

// cancelDataflowTransaction marks a running refresh cancelled. The answer
// is always 200: its status says what happened (SuccessfullyMarked,
// AlreadyConcluded, NotFound or Invalid), in the casing of the
// definition's example rather than its enum (api-notes §2.5).
func (s *Server) cancelDataflowTransaction(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("transactionId")
	s.mu.Lock()
	defer s.mu.Unlock()
	ws, _ := s.workspaceOf(w, r)
	if ws == nil {
		return
	}
	status := "NotFound"
	if !strings.Contains(id, "@") {
		status = "Invalid"
	}
	now := time.Now().UTC()
	for _, df := range ws.dataflows {
		for _, t := range df.transactions {
			if t.id != id {
				continue
			}
			if t.status(now) == txInProgress {
				t.cancelled = now
				status = "SuccessfullyMarked"
			} else {
				status = "AlreadyConcluded"
			}
		}
	}
	writeJSON(w, http.StatusOK, orderedObject{{"transactionId", id}, {"status", status}})
}

func (s *Server) listDataflowDatasources(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	df, groupID := s.dataflowOf(w, r)
	if df == nil {
		s.mu.Unlock()
		return
	}
	items := slices.Clone(df.info.Datasources)
	s.mu.Unlock()
	writeList(s, w, groupID, "datasources", items)
}

func (s *Server) listUpstreamDataflowsOfDataflow(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	df, groupID := s.dataflowOf(w, r)
	if df == nil {
		s.mu.Unlock()
		return
	}
	items := []dependentDataflow{}
	for _, u := range df.info.Upstream {
		items = append(items, dependentDataflow{TargetDataflowID: u.DataflowID, GroupID: u.WorkspaceID})
	}
	s.mu.Unlock()
	writeList(s, w, groupID, "dependentDataflows", items)
}

// updateDataflowRefreshSchedule applies the schedule rules of the service,
// the same as for a model's schedule (see applyScheduleUpdate).
func (s *Server) updateDataflowRefreshSchedule(w http.ResponseWriter, r *http.Request) {
	var v scheduleUpdate
	raw := scheduleBody(w, r, &v)
	if raw == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	df, groupID := s.dataflowOf(w, r)
	if df == nil {
		return
	}
	next, msg := applyScheduleUpdate(df.schedule, raw, v, s.state.workspace(groupID).info.IsOnDedicatedCapacity)
	if msg != "" {
		invalidSchedule(w, msg)
		return
	}
	df.schedule = next
	writeEmptyOK(w)
}

// DataflowSchedule returns the refresh schedule of a dataflow, which the
// API has no GET for, so that tests can see what an update did.
func (s *Server) DataflowSchedule(workspaceID, dataflowID string) (days, times []string, enabled bool, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ws := s.state.workspace(workspaceID)
	if ws == nil {
		return nil, nil, false, false
	}
	df := ws.dataflow(dataflowID)
	if df == nil || df.schedule == nil {
		return nil, nil, false, df != nil
	}
	return slices.Clone(df.schedule.Days), slices.Clone(df.schedule.Times), df.schedule.Enabled, true
}

// seedDataflows adds the demo dataflows of Sales Analytics and their
// refresh history, relative to the time of seeding.
func (s *Server) seedDataflows() {
	modified := time.Date(2024, time.March, 3, 7, 12, 5, 0, time.UTC)
	s.AddDataflow(DemoSalesWorkspaceID, Dataflow{ObjectID: DemoSalesStagingDataflowID, Name: "Sales Staging",
		Description: "Raw orders from the sales database", ConfiguredBy: "megan.bowen@contoso.com", ModifiedTime: modified,
		Entities: []DataflowEntity{{Name: "RawOrders", Attributes: []DataflowAttribute{
			{"OrderID", "int64"}, {"OrderDate", "dateTime"}, {"CustomerID", "int64"}, {"Amount", "decimal"}}}},
		Datasources: []Datasource{{DatasourceType: "Sql",
			ConnectionDetails: DatasourceConnectionDetails{Server: "contoso-sales.database.windows.net", Database: "SalesDW"},
			DatasourceID:      DemoSalesGatewayDatasourceID, GatewayID: DemoGatewayID}}})
	s.AddDataflow(DemoSalesWorkspaceID, Dataflow{ObjectID: DemoSalesDataflowID, Name: "Sales Pipeline",
		Description: "Cleaned orders, customers and products for the Sales model", ConfiguredBy: "megan.bowen@contoso.com", ModifiedTime: modified.Add(time.Hour),
		Entities: []DataflowEntity{
			{Name: "Orders", Description: "One row per order line", Attributes: []DataflowAttribute{
				{"OrderID", "int64"}, {"OrderDate", "dateTime"}, {"CustomerID", "int64"}, {"ProductID", "int64"}, {"Quantity", "int64"}, {"Revenue", "decimal"}}},
			{Name: "Customers", Attributes: []DataflowAttribute{{"CustomerID", "int64"}, {"Name", "string"}, {"Region", "string"}}},
			{Name: "Products", Attributes: []DataflowAttribute{{"ProductID", "int64"}, {"Name", "string"}, {"Category", "string"}, {"ListPrice", "double"}}},
		},
		Datasources: []Datasource{{DatasourceType: "SharePointList", ConnectionDetails: DatasourceConnectionDetails{URL: "https://contoso.sharepoint.com/sites/sales"}}},
		Upstream:    []UpstreamDataflow{{DataflowID: DemoSalesStagingDataflowID, WorkspaceID: DemoSalesWorkspaceID}}})
	s.AddDataflow(DemoSalesWorkspaceID, Dataflow{ObjectID: DemoInventoryFeedDataflowID, Name: "Inventory Feed",
		Description: "Stock levels from the warehouse system", ModifiedTime: modified.Add(2 * time.Hour),
		Entities:    []DataflowEntity{{Name: "Stock", Attributes: []DataflowAttribute{{"SKU", "string"}, {"Warehouse", "string"}, {"OnHand", "int64"}}}},
		Datasources: []Datasource{{DatasourceType: "Web", ConnectionDetails: DatasourceConnectionDetails{URL: "https://wms.contoso.com/api/stock"}}}})

	now := time.Now().UTC().Truncate(time.Second)
	s.mu.Lock()
	defer s.mu.Unlock()
	sales := s.state.workspace(DemoSalesWorkspaceID)
	pipeline := sales.dataflow(DemoSalesDataflowID)
	pipeline.addTransaction(&dataflowTransaction{refreshType: "Scheduled", start: now.Add(-26 * time.Hour), end: now.Add(-26*time.Hour + 3*time.Minute), failed: true})
	pipeline.addTransaction(&dataflowTransaction{refreshType: "Scheduled", start: now.Add(-2 * time.Hour), end: now.Add(-2*time.Hour + 4*time.Minute)})
	pipeline.schedule = &refreshSchedule{Days: []string{"Monday", "Wednesday", "Friday"}, Times: []string{"05:00"},
		Enabled: true, LocalTimeZoneID: "W. Europe Standard Time", NotifyOption: "MailOnFailure"}
	sales.dataflow(DemoInventoryFeedDataflowID).addTransaction(&dataflowTransaction{id: DemoInventoryFeedTransactionID,
		refreshType: "OnDemand", start: now.Add(-5 * time.Minute), end: now.Add(24 * time.Hour)})
}

// seedGatewaysAndDataflows adds the demo gateways and dataflows; the
// dataflows' sources are bound to the demo gateway.
func (s *Server) seedGatewaysAndDataflows() {
	s.seedGateways()
	s.seedDataflows()
}
