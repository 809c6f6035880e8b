package pbitest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Limits of push datasets [DOC push-datasets-limitations.md, api-notes §2.2.9].
const (
	pushMaxTables         = 75
	pushMaxColumns        = 75
	pushMaxRelationships  = 75
	pushMaxRowsPerRequest = 10_000
	pushMaxStringLength   = 4_000
	pushMaxRowsPerHour    = 1_000_000
	pushMaxPending        = 5
	pushMaxPostsPerMinute = 120
	// Once a table holds this many rows, the request limit becomes 120 per hour.
	pushLargeTableRows       = 250_000
	pushMaxPostsPerHourLarge = 120
	pushFIFORows             = 200_000   // basicFIFO keeps the newest rows
	pushNoneRows             = 5_000_000 // None refuses rows beyond this
)

// Retention policies of push datasets (defaultRetentionPolicy).
const (
	RetentionNone      = "None"
	RetentionBasicFIFO = "basicFIFO"
)

// Ids of the demo push datasets SeedDemo creates.
const (
	// DemoSensorReadingsDatasetID is "Sensor Readings" in Sales Analytics, a
	// basicFIFO push dataset with a table Readings, kept for delete_rows
	// examples. (Live Orders, DemoLiveOrdersDatasetID, gets a table Orders.)
	DemoSensorReadingsDatasetID = "b3d5f7a9-1c2e-4f40-8a6b-9c1d3e5f7a21"
)

// pushState is what the service keeps for a push dataset beyond its model:
// the retention policy and what its rate limits count.
type pushState struct {
	retention string
	posts     []time.Time // accepted POST rows requests of the last hour
	added     []pushBatch // rows accepted in the last hour
	pending   int         // POST rows requests being received or processed
}

type pushBatch struct {
	at   time.Time
	rows int
}

// SetPushClock replaces the clock the push rate limits read, so tests can
// move time on instead of waiting; nil restores the real clock.
func (s *Server) SetPushClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state.pushClock = now
}

func (s *Server) pushNow() time.Time {
	if s.state.pushClock != nil {
		return s.state.pushClock()
	}
	return time.Now()
}

// CountPushedRows counts requests POST rows requests adding rows in all
// against a push dataset's rate limits, now, as if another client had just
// sent them, so tests reach the limits without sending a million rows.
func (s *Server) CountPushedRows(datasetID string, requests, rows int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, _ := s.state.findDataset(datasetID)
	if d == nil || !d.info.AddRowsAPIEnabled {
		panic(fmt.Sprintf("pbitest: CountPushedRows: no push dataset %s", datasetID))
	}
	ps, now := d.pushState(), s.pushNow()
	for range requests {
		ps.posts = append(ps.posts, now)
	}
	ps.added = append(ps.added, pushBatch{at: now, rows: rows})
}

// PushRetention returns a push dataset's retention policy, or "" when the
// dataset does not exist or is not a push dataset.
func (s *Server) PushRetention(datasetID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, _ := s.state.findDataset(datasetID)
	if d == nil || !d.info.AddRowsAPIEnabled {
		return ""
	}
	return d.pushState().retention
}

// TableRows returns the rows of a dataset's table as stored, or nil.
func (s *Server) TableRows(datasetID, table string) [][]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, _ := s.state.findDataset(datasetID)
	if d == nil || d.model == nil || d.model.table(table) == nil {
		return nil
	}
	var out [][]any
	for _, r := range d.model.table(table).Rows {
		out = append(out, append([]any(nil), r...))
	}
	return out
}

// pushState returns the push bookkeeping of a push dataset, creating it
// for push datasets added through AddDataset (retention None, as when the
// query parameter is omitted).
func (d *dataset) pushState() *pushState {
	if d.push == nil {
		d.push = &pushState{retention: RetentionNone}
	}
	if d.model == nil {
		d.model = &Model{}
	}
	return d.push
}

func (s *Server) pushRoutes() {
	s.handleBoth("POST", "/datasets", s.postDataset)
	s.handleBoth("GET", "/datasets/{datasetId}/tables", s.getTables)
	s.handleBoth("PUT", "/datasets/{datasetId}/tables/{tableName}", s.putTable)
	s.handleBoth("POST", "/datasets/{datasetId}/tables/{tableName}/rows", s.postRows)
	s.handleBoth("DELETE", "/datasets/{datasetId}/tables/{tableName}/rows", s.deleteRows)
}

// Wire shapes of CreateDatasetRequest, Table, Column, Measure and
// Relationship (swagger), fields in the service's order.
type pushColumnJSON struct {
	Name         string `json:"name"`
	DataType     string `json:"dataType"`
	FormatString string `json:"formatString,omitempty"`
	IsHidden     bool   `json:"isHidden,omitempty"`
}

type pushMeasureJSON struct {
	Name         string `json:"name"`
	Expression   string `json:"expression"`
	FormatString string `json:"formatString,omitempty"`
	Description  string `json:"description,omitempty"`
	IsHidden     bool   `json:"isHidden,omitempty"`
}

type pushTableJSON struct {
	Name     string            `json:"name"`
	Columns  []pushColumnJSON  `json:"columns"`
	Measures []pushMeasureJSON `json:"measures,omitempty"`
	IsHidden bool              `json:"isHidden,omitempty"`
}

type pushRelationshipJSON struct {
	Name                   string `json:"name"`
	FromTable              string `json:"fromTable"`
	FromColumn             string `json:"fromColumn"`
	ToTable                string `json:"toTable"`
	ToColumn               string `json:"toColumn"`
	CrossFilteringBehavior string `json:"crossFilteringBehavior,omitempty"`
}

type createDatasetRequest struct {
	Name          string                 `json:"name"`
	DefaultMode   string                 `json:"defaultMode"`
	Tables        []pushTableJSON        `json:"tables"`
	Relationships []pushRelationshipJSON `json:"relationships"`
}

// pushDataTypes maps the accepted spellings (case-insensitive) of the EDM
// types to the model's types.
var pushDataTypes = map[string]string{
	"int64": TypeInt64, "double": TypeDouble, "decimal": TypeDecimal,
	"boolean": TypeBoolean, "bool": TypeBoolean,
	"datetime": TypeDateTime, "string": TypeString,
}

func badPushRequest(w http.ResponseWriter, format string, args ...any) {
	writeError(w, http.StatusBadRequest, "InvalidRequest", fmt.Sprintf(format, args...))
}

// modelTable checks a table definition and builds the model table and its
// measures; it answers 400 and returns nil when the definition is invalid.
func modelTable(w http.ResponseWriter, t pushTableJSON) (*Table, []Measure) {
	if strings.TrimSpace(t.Name) == "" || len(t.Name) > 100 {
		badPushRequest(w, "Every table needs a name of 1 to 100 characters")
		return nil, nil
	}
	if len(t.Columns) == 0 {
		badPushRequest(w, "Table %s has no columns", t.Name)
		return nil, nil
	}
	if len(t.Columns) > pushMaxColumns {
		badPushRequest(w, "Table %s has %d columns; a push dataset table can have at most %d", t.Name, len(t.Columns), pushMaxColumns)
		return nil, nil
	}
	out := &Table{Name: t.Name, IsHidden: t.IsHidden}
	for _, c := range t.Columns {
		typ, ok := pushDataTypes[strings.ToLower(c.DataType)]
		switch {
		case strings.TrimSpace(c.Name) == "":
			badPushRequest(w, "Every column of table %s needs a name", t.Name)
			return nil, nil
		case out.column(c.Name) >= 0:
			badPushRequest(w, "Table %s has two columns named %s", t.Name, c.Name)
			return nil, nil
		case !ok:
			badPushRequest(w, "Column %s of table %s has the data type %q; valid types are Int64, Double, Decimal, Boolean, DateTime and String", c.Name, t.Name, c.DataType)
			return nil, nil
		}
		out.Columns = append(out.Columns, Column{Name: c.Name, DataType: typ, IsHidden: c.IsHidden})
	}
	var measures []Measure
	for _, m := range t.Measures {
		if strings.TrimSpace(m.Name) == "" || strings.TrimSpace(m.Expression) == "" {
			badPushRequest(w, "Every measure of table %s needs a name and an expression", t.Name)
			return nil, nil
		}
		measures = append(measures, Measure{Table: t.Name, Name: m.Name, Expression: m.Expression, FormatString: m.FormatString, Description: m.Description})
	}
	return out, measures
}

func (s *Server) postDataset(w http.ResponseWriter, r *http.Request) {
	retention := RetentionNone
	if v := r.URL.Query().Get("defaultRetentionPolicy"); v != "" {
		switch strings.ToLower(v) {
		case "none":
		case "basicfifo":
			retention = RetentionBasicFIFO
		default:
			badPushRequest(w, "defaultRetentionPolicy must be None or basicFIFO")
			return
		}
	}
	var body createDatasetRequest
	present, ok := readJSON(w, r, &body)
	if !ok {
		return
	}
	switch {
	case !present || strings.TrimSpace(body.Name) == "":
		badPushRequest(w, "The dataset name is required")
		return
	case len(body.Tables) == 0:
		badPushRequest(w, "A push dataset needs at least one table")
		return
	case len(body.Tables) > pushMaxTables:
		badPushRequest(w, "The dataset has %d tables; a push dataset can have at most %d", len(body.Tables), pushMaxTables)
		return
	case len(body.Relationships) > pushMaxRelationships:
		badPushRequest(w, "The dataset has %d relationships; a push dataset can have at most %d", len(body.Relationships), pushMaxRelationships)
		return
	}
	switch strings.ToLower(body.DefaultMode) {
	case "", "push", "pushstreaming", "streaming", "asazure", "asonprem":
	default:
		badPushRequest(w, "defaultMode must be one of AsAzure, AsOnPrem, Push, Streaming, PushStreaming")
		return
	}
	model := &Model{}
	for _, t := range body.Tables {
		mt, measures := modelTable(w, t)
		if mt == nil {
			return
		}
		if model.table(t.Name) != nil {
			badPushRequest(w, "The dataset has two tables named %s", t.Name)
			return
		}
		model.Tables = append(model.Tables, mt)
		model.Measures = append(model.Measures, measures...)
	}
	for _, rel := range body.Relationships {
		from, to := model.table(rel.FromTable), model.table(rel.ToTable)
		switch {
		case strings.TrimSpace(rel.Name) == "":
			badPushRequest(w, "Every relationship needs a name")
			return
		case from == nil || from.column(rel.FromColumn) < 0:
			badPushRequest(w, "Relationship %s: no column %s in table %s", rel.Name, rel.FromColumn, rel.FromTable)
			return
		case to == nil || to.column(rel.ToColumn) < 0:
			badPushRequest(w, "Relationship %s: no column %s in table %s", rel.Name, rel.ToColumn, rel.ToTable)
			return
		}
		switch strings.ToLower(rel.CrossFilteringBehavior) {
		case "", "onedirection", "bothdirections", "automatic":
		default:
			badPushRequest(w, "Relationship %s: crossFilteringBehavior must be OneDirection, BothDirections or Automatic", rel.Name)
			return
		}
		model.Relationships = append(model.Relationships, Relationship{FromTable: from.Name, FromColumn: rel.FromColumn, ToTable: to.Name, ToColumn: rel.ToColumn})
	}

	s.mu.Lock()
	ws, groupID := s.workspaceOf(w, r)
	if ws == nil {
		s.mu.Unlock()
		return
	}
	// Push datasets are created by the caller and cannot be refreshed.
	info := Dataset{ID: newGUID(), Name: body.Name, ConfiguredBy: defaultConfiguredBy, TargetStorageMode: defaultTargetStorageMode,
		CreatedDate: time.Now().UTC().Truncate(time.Millisecond), AddRowsAPIEnabled: true,
		QueryScaleOut: &QueryScaleOut{AutoSyncReadOnlyReplicas: true}}
	ws.datasets = append(ws.datasets, &dataset{info: info, model: model, push: &pushState{retention: retention}})
	s.mu.Unlock()
	// The shape of a real capture: the new dataset's id and name, the
	// deprecated empty arrays, and the retention policy the documentation's
	// example shows.
	s.writeEntity(w, http.StatusCreated, groupID, "datasets", struct {
		ID                     string `json:"id"`
		Name                   string `json:"name"`
		DefaultRetentionPolicy string `json:"defaultRetentionPolicy"`
		UpstreamDatasets       []any  `json:"upstreamDatasets"`
		Users                  []any  `json:"users"`
	}{info.ID, info.Name, retention, []any{}, []any{}})
}

// pushDatasetOf resolves the push dataset a request addresses, answering
// 404 when it does not exist and 400 when it is not a push dataset. The
// caller must hold s.mu.
func (s *Server) pushDatasetOf(w http.ResponseWriter, r *http.Request) (*dataset, string) {
	d, groupID := s.datasetOf(w, r)
	if d == nil {
		return nil, ""
	}
	if !d.info.AddRowsAPIEnabled {
		badPushRequest(w, "Dataset %s is not a Push API dataset: tables and rows can only be read and changed through the API for push datasets", d.info.ID)
		return nil, ""
	}
	d.pushState()
	return d, groupID
}

// pushTableOf resolves the push dataset table a request addresses. The
// caller must hold s.mu.
func (s *Server) pushTableOf(w http.ResponseWriter, r *http.Request) (*dataset, *Table) {
	d, _ := s.pushDatasetOf(w, r)
	if d == nil {
		return nil, nil
	}
	name := r.PathValue("tableName")
	t := d.model.table(name)
	if t == nil {
		writeError(w, http.StatusNotFound, "ItemNotFound", fmt.Sprintf("Table %s is not found in dataset %s", name, d.info.ID))
		return nil, nil
	}
	return d, t
}

func tableJSON(m *Model, t *Table) pushTableJSON {
	out := pushTableJSON{Name: t.Name, Columns: []pushColumnJSON{}, IsHidden: t.IsHidden}
	for _, c := range t.Columns {
		out.Columns = append(out.Columns, pushColumnJSON{Name: c.Name, DataType: c.DataType, IsHidden: c.IsHidden})
	}
	for _, ms := range m.Measures {
		if strings.EqualFold(ms.Table, t.Name) {
			out.Measures = append(out.Measures, pushMeasureJSON{Name: ms.Name, Expression: ms.Expression, FormatString: ms.FormatString, Description: ms.Description})
		}
	}
	return out
}

func (s *Server) getTables(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	d, groupID := s.pushDatasetOf(w, r)
	if d == nil {
		s.mu.Unlock()
		return
	}
	items := make([]pushTableJSON, 0, len(d.model.Tables))
	for _, t := range d.model.Tables {
		items = append(items, tableJSON(d.model, t))
	}
	s.mu.Unlock()
	writeList(s, w, groupID, "tables", items)
}

// putTable replaces a table's schema. Rows keep the values of columns that
// remain (converted when the type changed, blank when they cannot be).
func (s *Server) putTable(w http.ResponseWriter, r *http.Request) {
	var body pushTableJSON
	present, ok := readJSON(w, r, &body)
	if !ok {
		return
	}
	if !present {
		badPushRequest(w, "The table definition is required")
		return
	}
	if body.Name == "" {
		body.Name = r.PathValue("tableName")
	}
	if !strings.EqualFold(body.Name, r.PathValue("tableName")) {
		badPushRequest(w, "The table name in the body (%s) differs from the one in the URL (%s)", body.Name, r.PathValue("tableName"))
		return
	}
	nt, measures := modelTable(w, body)
	if nt == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, t := s.pushTableOf(w, r)
	if d == nil {
		return
	}
	for _, rel := range d.model.Relationships {
		if strings.EqualFold(rel.FromTable, t.Name) && nt.column(rel.FromColumn) < 0 ||
			strings.EqualFold(rel.ToTable, t.Name) && nt.column(rel.ToColumn) < 0 {
			badPushRequest(w, "The new schema of table %s drops a column a relationship uses", t.Name)
			return
		}
	}
	for _, old := range t.Rows {
		row := make([]any, len(nt.Columns))
		for i, c := range nt.Columns {
			if j := t.column(c.Name); j >= 0 {
				row[i], _ = convertCell(old[j], c.DataType)
			}
		}
		nt.Rows = append(nt.Rows, row)
	}
	nt.Name = t.Name
	*t = *nt
	kept := d.model.Measures[:0]
	for _, m := range d.model.Measures {
		if !strings.EqualFold(m.Table, t.Name) {
			kept = append(kept, m)
		}
	}
	for i := range measures {
		measures[i].Table = t.Name
	}
	d.model.Measures = append(kept, measures...)
	writeJSON(w, http.StatusOK, tableJSON(d.model, t))
}

type postRowsRequest struct {
	Rows []map[string]any `json:"rows"`
}

// postRows adds rows, within the per-dataset limits. The body is read
// while the request counts as pending, as the service counts requests it
// has not finished.
func (s *Server) postRows(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	d, _ := s.pushTableOf(w, r)
	if d == nil {
		s.mu.Unlock()
		return
	}
	ps := d.push
	if ps.pending >= pushMaxPending {
		s.mu.Unlock()
		writeThrottled(w, 1)
		return
	}
	ps.pending++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		ps.pending--
		s.mu.Unlock()
	}()

	var body postRowsRequest
	// Rows of 10,000 with long strings exceed readJSON's 1 MiB cap, so the
	// body is decoded here with a cap that fits the largest valid request.
	if !readRows(w, r, &body) {
		return
	}
	if body.Rows == nil {
		badPushRequest(w, "The request body must contain rows")
		return
	}
	if len(body.Rows) > pushMaxRowsPerRequest {
		badPushRequest(w, "The request has %d rows; at most %d rows can be added in one request", len(body.Rows), pushMaxRowsPerRequest)
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	d, t := s.pushTableOf(w, r)
	if d == nil {
		return
	}
	now := s.pushNow()
	if wait := ps.throttle(now, len(t.Rows), len(body.Rows)); wait > 0 {
		writeThrottled(w, int((wait+time.Second-1)/time.Second))
		return
	}
	// Every row is checked before any is stored: a bad row fails the request.
	scratch := &Table{Name: t.Name, Columns: t.Columns}
	for i, row := range body.Rows {
		for col, v := range row {
			if str, ok := v.(string); ok && len([]rune(str)) > pushMaxStringLength {
				badPushRequest(w, "Row %d: the value of column %s has %d characters; at most %d are allowed", i, col, len([]rune(str)), pushMaxStringLength)
				return
			}
		}
		if err := scratch.AddRow(row); err != nil {
			badPushRequest(w, "Row %d: %v", i, err)
			return
		}
	}
	if ps.retention == RetentionNone && len(t.Rows)+len(scratch.Rows) > pushNoneRows {
		badPushRequest(w, "Table %s would hold more than %d rows, the limit of push datasets without a retention policy; delete rows first", t.Name, pushNoneRows)
		return
	}
	t.Rows = append(t.Rows, scratch.Rows...)
	if ps.retention == RetentionBasicFIFO && len(t.Rows) > pushFIFORows {
		// basicFIFO drops the oldest rows.
		t.Rows = append([][]any(nil), t.Rows[len(t.Rows)-pushFIFORows:]...)
	}
	ps.posts = append(ps.posts, now)
	ps.added = append(ps.added, pushBatch{at: now, rows: len(scratch.Rows)})
	w.WriteHeader(http.StatusOK)
}

// throttle applies the request and row rate limits at now to a request
// adding rows to a table holding tableRows, returning how long the caller
// must wait, or 0 when the request may go ahead.
func (ps *pushState) throttle(now time.Time, tableRows, rows int) time.Duration {
	hourAgo := now.Add(-time.Hour)
	for len(ps.posts) > 0 && !ps.posts[0].After(hourAgo) {
		ps.posts = ps.posts[1:]
	}
	for len(ps.added) > 0 && !ps.added[0].at.After(hourAgo) {
		ps.added = ps.added[1:]
	}
	var wait time.Duration
	if tableRows >= pushLargeTableRows {
		if len(ps.posts) >= pushMaxPostsPerHourLarge {
			wait = ps.posts[len(ps.posts)-pushMaxPostsPerHourLarge].Sub(hourAgo)
		}
	} else {
		minuteAgo := now.Add(-time.Minute)
		recent := 0
		for _, p := range ps.posts {
			if p.After(minuteAgo) {
				recent++
			}
		}
		if recent >= pushMaxPostsPerMinute {
			wait = ps.posts[len(ps.posts)-pushMaxPostsPerMinute].Sub(minuteAgo)
		}
	}
	total := rows
	for _, b := range ps.added {
		total += b.rows
	}
	// Rows expire in the order they came: wait until enough have.
	for _, b := range ps.added {
		if total <= pushMaxRowsPerHour {
			break
		}
		wait = max(wait, b.at.Sub(hourAgo))
		total -= b.rows
	}
	return wait
}

func (s *Server) deleteRows(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, t := s.pushTableOf(w, r)
	if d == nil {
		return
	}
	t.Rows = nil
	w.WriteHeader(http.StatusOK)
}

// seedPush gives the demo push dataset Live Orders a table with a few
// orders and adds Sensor Readings, kept for delete_rows examples.
func (s *Server) seedPush() {
	orders := &Table{Name: "Orders", Columns: []Column{
		{Name: "OrderId", DataType: TypeInt64}, {Name: "Region", DataType: TypeString},
		{Name: "Amount", DataType: TypeDouble}, {Name: "OrderedAt", DataType: TypeDateTime},
	}}
	for i, region := range []string{"West", "East", "West"} {
		_ = orders.AddRow(map[string]any{"OrderId": float64(1001 + i), "Region": region, "Amount": float64(120 + 40*i),
			"OrderedAt": fmt.Sprintf("2026-01-0%dT09:30:00Z", i+1)})
	}
	s.SetModel(DemoLiveOrdersDatasetID, Model{Tables: []*Table{orders}})

	s.AddDataset(DemoSalesWorkspaceID, Dataset{ID: DemoSensorReadingsDatasetID, Name: "Sensor Readings", AddRowsAPIEnabled: true,
		CreatedDate: time.Date(2024, time.March, 9, 8, 17, 42, 417_000_000, time.UTC)})
	readings := &Table{Name: "Readings", Columns: []Column{
		{Name: "Sensor", DataType: TypeString}, {Name: "Value", DataType: TypeDouble}, {Name: "ReadAt", DataType: TypeDateTime},
	}}
	for i := range 4 {
		_ = readings.AddRow(map[string]any{"Sensor": fmt.Sprintf("S%d", i%2+1), "Value": 20.5 + float64(i), "ReadAt": fmt.Sprintf("2026-02-01T10:0%d:00Z", i)})
	}
	s.SetModel(DemoSensorReadingsDatasetID, Model{Tables: []*Table{readings}})
	s.mu.Lock()
	defer s.mu.Unlock()
	d, _ := s.state.findDataset(DemoSensorReadingsDatasetID)
	d.push = &pushState{retention: RetentionBasicFIFO}
}

// readRows decodes a POST rows body. Its cap fits 10,000 rows of typical
// width, far above readJSON's, which suits the other operations.
func readRows(w http.ResponseWriter, r *http.Request, body *postRowsRequest) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<20)).Decode(body); err != nil {
		badPushRequest(w, "Request body is too large or not valid JSON for this operation")
		return false
	}
	return true
}
