package pbiclient

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// The admin audit operations: the activity log, modified workspaces and the metadata scanner.
// They need a Fabric administrator, or a service principal allowed by the tenant setting
// "Service principals can access read-only admin APIs" that holds no admin-consent Power BI
// permissions; otherwise Power BI answers 401 PowerBINotAuthorizedException.

// ActivityQuery selects activity events: either Start and End (same UTC day) with an optional
// Filter, or a ContinuationToken from an earlier page alone.
type ActivityQuery struct {
	Start, End time.Time
	// Filter is an OData filter on Activity and UserId with eq and and, e.g.
	// "Activity eq 'viewreport' and UserId eq 'john@contoso.com'".
	Filter string
	// ContinuationToken is continuationToken of a previous page, exactly as Power BI sent it:
	// it is already percent-encoded and is sent without being encoded again.
	ContinuationToken string
}

// ActivityPage is one answer of the activity log. Events are free-form JSON objects with
// PascalCase keys (Microsoft 365 audit schema).
type ActivityPage struct {
	Events            []map[string]any `json:"activityEventEntities"`
	ContinuationURI   string           `json:"continuationUri"`
	ContinuationToken string           `json:"continuationToken"`
	LastResultSet     bool             `json:"lastResultSet"`
}

// Last reports whether no page follows. The service ends on lastResultSet, but its documented
// final page can also be lastResultSet false with a null continuation, so either ends.
func (p ActivityPage) Last() bool { return p.LastResultSet || p.ContinuationToken == "" }

// activityTime is the form the service documents for startDateTime and endDateTime.
const activityTime = "2006-01-02T15:04:05.000Z"

// GetActivityEvents reads one page of the tenant's activity log (GET admin/activityevents).
func (c *Client) GetActivityEvents(ctx context.Context, q ActivityQuery) (ActivityPage, error) {
	var query string
	if q.ContinuationToken != "" {
		// Sent as the service's own continuationUri does: quoted, and not encoded again.
		query = "continuationToken='" + q.ContinuationToken + "'"
	} else {
		if q.Start.IsZero() || q.End.IsZero() {
			return ActivityPage{}, errors.New("pbiclient: activity events need a start and end time or a continuation token")
		}
		v := url.Values{
			"startDateTime": {"'" + q.Start.UTC().Format(activityTime) + "'"},
			"endDateTime":   {"'" + q.End.UTC().Format(activityTime) + "'"},
		}
		if q.Filter != "" {
			v.Set("$filter", q.Filter)
		}
		query = encodeQuery(v)
	}
	cl, err := newCall(http.MethodGet, pathOf("admin", "activityevents"), query)
	if err != nil {
		return ActivityPage{}, err
	}
	resp, err := c.do(ctx, cl)
	if err != nil {
		return ActivityPage{}, err
	}
	defer closeBody(resp)
	var page ActivityPage
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		return ActivityPage{}, fmt.Errorf("pbiclient: GET /admin/activityevents: decode response (RequestId %s): %w", resp.Header.Get("RequestId"), err)
	}
	return page, nil
}

// ModifiedWorkspacesQuery selects workspaces for GET admin/workspaces/modified.
type ModifiedWorkspacesQuery struct {
	Since                     time.Time // zero: every workspace; else 30 minutes to 30 days ago
	ExcludePersonalWorkspaces bool
	ExcludeInactiveWorkspaces bool
}

// ModifiedWorkspaces lists the ids of the workspaces changed since q.Since.
func (c *Client) ModifiedWorkspaces(ctx context.Context, q ModifiedWorkspacesQuery) ([]string, error) {
	v := url.Values{}
	if !q.Since.IsZero() {
		v.Set("modifiedSince", q.Since.UTC().Format(activityTime))
	}
	if q.ExcludePersonalWorkspaces {
		v.Set("excludePersonalWorkspaces", "true")
	}
	if q.ExcludeInactiveWorkspaces {
		v.Set("excludeInActiveWorkspaces", "true")
	}
	// The answer is a bare array, not an OData list.
	var out []struct {
		ID string `json:"id"`
	}
	if _, err := c.getJSON(ctx, pathOf("admin", "workspaces", "modified"), v, &out); err != nil {
		return nil, err
	}
	ids := make([]string, len(out))
	for i, w := range out {
		ids[i] = w.ID
	}
	return ids, nil
}

// ScanOptions are the getInfo query flags: what the scan result includes.
type ScanOptions struct {
	Lineage            bool
	DatasourceDetails  bool
	DatasetSchema      bool
	DatasetExpressions bool
	ArtifactUsers      bool
}

func (o ScanOptions) query() url.Values {
	v := url.Values{}
	set := func(name string, on bool) {
		if on {
			v.Set(name, "true")
		}
	}
	set("lineage", o.Lineage)
	set("datasourceDetails", o.DatasourceDetails)
	set("datasetSchema", o.DatasetSchema)
	set("datasetExpressions", o.DatasetExpressions)
	set("getArtifactUsers", o.ArtifactUsers)
	return v
}

// ScanRequest is the state of a scan.
type ScanRequest struct {
	ID              string `json:"id"`
	CreatedDateTime string `json:"createdDateTime,omitempty"`
	Status          string `json:"status"` // NotStarted, Running, Succeeded or Failed
	Error           *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
	// next is where the service says to go next (Location), relative to the base URL; zero
	// when it said nothing usable.
	next apiPath
	// retryAfter is the service's pacing hint for the next status poll.
	retryAfter time.Duration
}

// MaxWorkspacesPerScan is the most workspaces one getInfo call may name.
const MaxWorkspacesPerScan = 100

// MaxConcurrentScans is how many scans Power BI runs at once per tenant.
const MaxConcurrentScans = 16

// StartScan starts a metadata scan of 1 to 100 workspaces (POST admin/workspaces/getInfo).
func (c *Client) StartScan(ctx context.Context, workspaceIDs []string, o ScanOptions) (ScanRequest, error) {
	if len(workspaceIDs) == 0 || len(workspaceIDs) > MaxWorkspacesPerScan {
		return ScanRequest{}, fmt.Errorf("pbiclient: a scan takes 1 to %d workspaces, not %d", MaxWorkspacesPerScan, len(workspaceIDs))
	}
	var out ScanRequest
	h, err := c.sendJSON(ctx, http.MethodPost, pathOf("admin", "workspaces", "getInfo"), o.query(),
		map[string][]string{"workspaces": workspaceIDs}, &out)
	if err != nil {
		return ScanRequest{}, err
	}
	out.next = c.relative(h.Get("Location"))
	return out, nil
}

// ScanStatus reads a scan's state (GET admin/workspaces/scanStatus/{scanId}).
func (c *Client) ScanStatus(ctx context.Context, scanID string) (ScanRequest, error) {
	return c.scanStatusAt(ctx, pathOf("admin", "workspaces", "scanStatus", scanID))
}

func (c *Client) scanStatusAt(ctx context.Context, path apiPath) (ScanRequest, error) {
	var out ScanRequest
	h, err := c.getJSON(ctx, path, nil, &out)
	if err != nil {
		return ScanRequest{}, err
	}
	out.next = c.relative(h.Get("Location"))
	out.retryAfter = parseRetryAfter(h.Get("Retry-After"), time.Now())
	return out, nil
}

// relative turns a Location under the base URL into a path; anything else is ignored (the
// zero apiPath), so that the token is never sent to another host. Its segments go through
// pathOf like any id: a Location with a dot segment, a query or an undecodable escape is
// ignored too, and the caller builds the path from the id instead.
func (c *Client) relative(loc string) apiPath {
	rest, ok := strings.CutPrefix(loc, c.baseURL)
	if !ok || !strings.HasPrefix(rest, "/") || strings.ContainsAny(rest, "?#") {
		return apiPath{}
	}
	var segments []string
	for raw := range strings.SplitSeq(rest[1:], "/") {
		s, err := url.PathUnescape(raw)
		if err != nil {
			return apiPath{}
		}
		segments = append(segments, s)
	}
	if p := pathOf(segments...); p.err == nil {
		return p
	}
	return apiPath{}
}

// ScanResult is what a scan found (WorkspaceInfoResponse). The data source instances come
// with datasourceDetails; items name the ones they use in their datasourceUsages (lineage).
type ScanResult struct {
	Workspaces                       []ScanWorkspace `json:"workspaces"`
	DatasourceInstances              []Datasource    `json:"datasourceInstances,omitempty"`
	MisconfiguredDatasourceInstances []Datasource    `json:"misconfiguredDatasourceInstances,omitempty"`
}

// ScanWorkspace is one scanned workspace.
type ScanWorkspace struct {
	ID                    string          `json:"id"`
	Name                  string          `json:"name,omitempty"`
	Description           string          `json:"description,omitempty"`
	Type                  string          `json:"type,omitempty"`
	State                 string          `json:"state,omitempty"`
	IsOnDedicatedCapacity bool            `json:"isOnDedicatedCapacity"`
	CapacityID            string          `json:"capacityId,omitempty"`
	Reports               []ScanReport    `json:"reports,omitempty"`
	Dashboards            []ScanDashboard `json:"dashboards,omitempty"`
	Datasets              []ScanDataset   `json:"datasets,omitempty"`
	Dataflows             []ScanDataflow  `json:"dataflows,omitempty"`
	Users                 []ScanUser      `json:"users,omitempty"`
}

// ScanReport is a report in a scan result.
type ScanReport struct {
	ID         string     `json:"id"`
	Name       string     `json:"name,omitempty"`
	ReportType string     `json:"reportType,omitempty"`
	DatasetID  string     `json:"datasetId,omitempty"`
	Users      []ScanUser `json:"users,omitempty"`
}

// ScanDashboard is a dashboard in a scan result.
type ScanDashboard struct {
	ID          string     `json:"id"`
	DisplayName string     `json:"displayName,omitempty"`
	Users       []ScanUser `json:"users,omitempty"`
}

// ScanDataset is a semantic model in a scan result: Tables with datasetSchema, Expressions
// with datasetExpressions, the upstream items and data source usages with lineage.
type ScanDataset struct {
	ID                            string              `json:"id"`
	Name                          string              `json:"name,omitempty"`
	ConfiguredBy                  string              `json:"configuredBy,omitempty"`
	TargetStorageMode             string              `json:"targetStorageMode,omitempty"`
	Tables                        []ScanTable         `json:"tables,omitempty"`
	Expressions                   []ScanExpression    `json:"expressions,omitempty"`
	SchemaRetrievalError          string              `json:"schemaRetrievalError,omitempty"`
	UpstreamDataflows             []DependentDataflow `json:"upstreamDataflows,omitempty"`
	UpstreamDatasets              []DependentDataset  `json:"upstreamDatasets,omitempty"`
	DatasourceUsages              []DatasourceUsage   `json:"datasourceUsages,omitempty"`
	MisconfiguredDatasourceUsages []DatasourceUsage   `json:"misconfiguredDatasourceUsages,omitempty"`
	Users                         []ScanUser          `json:"users,omitempty"`
}

// ScanDataflow is a dataflow in a scan result; its lineage only with lineage.
type ScanDataflow struct {
	ObjectID                      string              `json:"objectId"`
	Name                          string              `json:"name,omitempty"`
	Description                   string              `json:"description,omitempty"`
	ConfiguredBy                  string              `json:"configuredBy,omitempty"`
	UpstreamDataflows             []DependentDataflow `json:"upstreamDataflows,omitempty"`
	DatasourceUsages              []DatasourceUsage   `json:"datasourceUsages,omitempty"`
	MisconfiguredDatasourceUsages []DatasourceUsage   `json:"misconfiguredDatasourceUsages,omitempty"`
	Users                         []ScanUser          `json:"users,omitempty"`
}

// DependentDataset is a semantic model a composite model reads from.
type DependentDataset struct {
	TargetDatasetID string `json:"targetDatasetId"`
	GroupID         string `json:"groupId"`
}

// DatasourceUsage names the data source instance (ScanResult.DatasourceInstances) an item uses.
type DatasourceUsage struct {
	DatasourceInstanceID string `json:"datasourceInstanceId"`
}

// ScanTable is a model table in a scan result; Source (its M query) with datasetExpressions.
type ScanTable struct {
	Name     string           `json:"name"`
	IsHidden bool             `json:"isHidden,omitempty"`
	Columns  []ScanColumn     `json:"columns,omitempty"`
	Measures []ScanMeasure    `json:"measures,omitempty"`
	Source   []ScanExpression `json:"source,omitempty"`
}

// ScanColumn is a table column in a scan result.
type ScanColumn struct {
	Name       string `json:"name"`
	DataType   string `json:"dataType,omitempty"`
	IsHidden   bool   `json:"isHidden,omitempty"`
	Expression string `json:"expression,omitempty"` // calculated columns, with datasetExpressions
}

// ScanMeasure is a measure in a scan result; Expression only with datasetExpressions.
type ScanMeasure struct {
	Name        string `json:"name"`
	Expression  string `json:"expression,omitempty"`
	Description string `json:"description,omitempty"`
	IsHidden    bool   `json:"isHidden,omitempty"`
}

// ScanExpression is an M (Power Query) expression: a shared query or parameter of a model, or
// a table's source.
type ScanExpression struct {
	Name       string `json:"name,omitempty"`
	Expression string `json:"expression"`
}

// ScanUser is a principal with access to a workspace or an item, with getArtifactUsers. The
// service names the access right after the kind of thing: AccessRight returns whichever it sent.
type ScanUser struct {
	Identifier               string `json:"identifier"`
	DisplayName              string `json:"displayName,omitempty"`
	EmailAddress             string `json:"emailAddress,omitempty"`
	PrincipalType            string `json:"principalType,omitempty"`
	GroupUserAccessRight     string `json:"groupUserAccessRight,omitempty"`
	ReportUserAccessRight    string `json:"reportUserAccessRight,omitempty"`
	DashboardUserAccessRight string `json:"dashboardUserAccessRight,omitempty"`
	DatasetUserAccessRight   string `json:"datasetUserAccessRight,omitempty"`
	DataflowUserAccessRight  string `json:"dataflowUserAccessRight,omitempty"`
	AppUserAccessRight       string `json:"appUserAccessRight,omitempty"`
}

// AccessRight is the user's access right, whatever the kind of item.
func (u ScanUser) AccessRight() string {
	return cmp.Or(u.GroupUserAccessRight, u.ReportUserAccessRight, u.DashboardUserAccessRight,
		u.DatasetUserAccessRight, u.DataflowUserAccessRight, u.AppUserAccessRight)
}

// GetScanResult reads a finished scan's result (GET admin/workspaces/scanResult/{scanId}). It is
// kept for 24 hours.
func (c *Client) GetScanResult(ctx context.Context, scanID string) (ScanResult, error) {
	return c.scanResultAt(ctx, pathOf("admin", "workspaces", "scanResult", scanID))
}

func (c *Client) scanResultAt(ctx context.Context, path apiPath) (ScanResult, error) {
	var out ScanResult
	_, err := c.getJSON(ctx, path, nil, &out)
	return out, err
}

// ScanProgress is reported after each scan of a ScanWorkspaces call finishes.
type ScanProgress struct {
	ScansDone, Scans int
}

// ScanWorkspaces scans any number of workspaces: in scans of at most perScan (1 to 100)
// workspaces, with at most MaxConcurrentScans running at any moment, each polled at the
// service's pace until it ends. The result holds the workspaces in the order of the scans.
// progress, when not nil, is called after each scan, from one goroutine at a time.
func (c *Client) ScanWorkspaces(ctx context.Context, workspaceIDs []string, perScan int, o ScanOptions, progress func(ScanProgress)) (ScanResult, error) {
	if perScan <= 0 || perScan > MaxWorkspacesPerScan {
		perScan = MaxWorkspacesPerScan
	}
	var batches [][]string
	for i := 0; i < len(workspaceIDs); i += perScan {
		batches = append(batches, workspaceIDs[i:min(i+perScan, len(workspaceIDs))])
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make([]ScanResult, len(batches))
	var (
		mu       sync.Mutex
		firstErr error
		done     int
		wg       sync.WaitGroup
	)
	// A slot is held from getInfo until the scan has ended, so no more than the service's
	// limit are ever running.
	slots := make(chan struct{}, MaxConcurrentScans)
	for i, batch := range batches {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := c.runScan(ctx, batch, o)
			<-slots
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
					cancel()
				}
				return
			}
			results[i] = res
			done++
			if progress != nil {
				progress(ScanProgress{ScansDone: done, Scans: len(batches)})
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return ScanResult{}, firstErr
	}
	if err := ctx.Err(); err != nil {
		return ScanResult{}, err
	}
	var all ScanResult
	// Scans are separate answers, so a source used in two of them is listed by each.
	seen := map[string]bool{}
	merge := func(into []Datasource, from []Datasource) []Datasource {
		for _, d := range from {
			if key := strings.ToLower(d.DatasourceID); key == "" || !seen[key] {
				seen[key] = true
				into = append(into, d)
			}
		}
		return into
	}
	for _, r := range results {
		all.Workspaces = append(all.Workspaces, r.Workspaces...)
		all.DatasourceInstances = merge(all.DatasourceInstances, r.DatasourceInstances)
		all.MisconfiguredDatasourceInstances = merge(all.MisconfiguredDatasourceInstances, r.MisconfiguredDatasourceInstances)
	}
	return all, nil
}

// runScan starts one scan, follows it until it ends and reads its result.
func (c *Client) runScan(ctx context.Context, ids []string, o ScanOptions) (ScanResult, error) {
	st, err := c.StartScan(ctx, ids, o)
	if err != nil {
		return ScanResult{}, err
	}
	statusPath := st.next
	if statusPath.escaped == "" {
		statusPath = pathOf("admin", "workspaces", "scanStatus", st.ID)
	}
	for n := 0; st.Status != "Succeeded"; n++ {
		if st.Status == "Failed" {
			msg := ""
			if st.Error != nil {
				msg = strings.TrimSpace(st.Error.Code + " " + st.Error.Message)
			}
			return ScanResult{}, &JobFailedError{Operation: "scan", ID: st.ID, Status: st.Status, Detail: msg}
		}
		if err := sleep(ctx, pollDelay(n, st.retryAfter)); err != nil {
			return ScanResult{}, err
		}
		if st, err = c.scanStatusAt(ctx, statusPath); err != nil {
			return ScanResult{}, err
		}
	}
	resultPath := st.next
	if resultPath.escaped == "" {
		resultPath = pathOf("admin", "workspaces", "scanResult", st.ID)
	}
	return c.scanResultAt(ctx, resultPath)
}
