package tools

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
)

const (
	// About as many events as the default result budget holds: reading more than fits would spend
	// requests of the hourly limit on events the answer cannot show.
	defaultActivityLimit = 50
	maxActivityLimit     = 100_000
	maxScanWorkspaces    = 1000
	// maxWorkspacesPerScan is the scanner's limit, named here for admin_scan_workspaces' schema.
	maxWorkspacesPerScan = pbiclient.MaxWorkspacesPerScan
)

type activityEventsArgs struct {
	StartDateTime     string `json:"start_date_time" jsonschema:"Start of the window, ISO 8601 UTC, e.g. 2026-01-15T00:00:00Z. Required unless continuation_token is given." pattern:"$adminDateTimePattern"`
	EndDateTime       string `json:"end_date_time" jsonschema:"End of the window, ISO 8601 UTC, on the same UTC day as the start, e.g. 2026-01-15T23:59:59.999Z. Required unless continuation_token is given." pattern:"$adminDateTimePattern"`
	Activity          string `json:"activity" jsonschema:"Only events of this activity, e.g. ViewReport, ViewDashboard, ExportReport, ShareReport, RefreshDataset (case-insensitive)." minLength:"1" maxLength:"128"`
	UserID            string `json:"user_id" jsonschema:"Only events of this user, by user principal name (e.g. john@contoso.com)." minLength:"1"`
	Limit             int    `json:"limit" jsonschema:"The most events to return (default {defaultActivityLimit}, at most {maxActivityLimit})." minimum:"1" maximum:"$maxActivityLimit" default:"$defaultActivityLimit"`
	ContinuationToken string `json:"continuation_token" jsonschema:"continuationToken of an earlier truncated answer, unchanged: resumes that query (window and filters included), so the other query arguments are ignored." minLength:"1" maxLength:"16384"`
}

// ActivityEventsResult is the answer of admin_get_activity_events.
type ActivityEventsResult struct {
	ActivityEventEntities []map[string]any `json:"activityEventEntities" jsonschema:"The events, oldest first, as Power BI sends them: PascalCase fields such as Id, CreationTime, Activity, UserId, WorkspaceId, ItemName"`
	Count                 int              `json:"count"`
	Requests              int              `json:"requests" jsonschema:"Calls made to Power BI, each counting against its limit of 200 an hour"`
	Truncated             bool             `json:"truncated" jsonschema:"The limit was reached and more events may follow: call again with continuation_token to get them"`
	ContinuationToken     string           `json:"continuationToken,omitempty" jsonschema:"When truncated: pass it as continuation_token to resume exactly after the last event returned"`
	// starts has, for each page of the log the events came from, where that page's events
	// begin in ActivityEventEntities and the page's query: continueAfter needs them when the
	// result budget cuts the events short.
	starts []activityStart
}

type activityStart struct {
	first int
	at    activityResume // at.Skip: the page's first event sent
}

// continueAfter is the continuation token that resumes after the first n events (resultFit).
func (r ActivityEventsResult) continueAfter(n int) string {
	if n >= len(r.ActivityEventEntities) {
		return r.ContinuationToken
	}
	var s activityStart
	for _, st := range r.starts {
		if st.first <= n {
			s = st
		}
	}
	next := s.at
	next.Skip += n - s.first
	return next.encode()
}

// activityResume is what the tool's continuation token stands for: the page the limit cut,
// named by the query that fetched it (Power BI's own continuation token, or the first page's
// times and filter), and how many of its events were already returned. Power BI's tokens are
// kept exactly as received, so they are never encoded twice.
type activityResume struct {
	Token  string `json:"t,omitempty"`
	Start  string `json:"s,omitempty"`
	End    string `json:"e,omitempty"`
	Filter string `json:"f,omitempty"`
	Skip   int    `json:"o,omitempty"`
}

func (r activityResume) encode() string {
	b, _ := json.Marshal(r)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeActivityResume(s string) (activityResume, error) {
	var r activityResume
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &r)
	}
	if err != nil || r.Skip < 0 || (r.Token == "" && r.Start == "") {
		return activityResume{}, userErrorf("continuation_token is not one this tool returned. Pass the continuationToken of an earlier admin_get_activity_events answer unchanged, or start again with start_date_time and end_date_time.")
	}
	return r, nil
}

func (r activityResume) query() (pbiclient.ActivityQuery, error) {
	if r.Token != "" {
		return pbiclient.ActivityQuery{ContinuationToken: r.Token}, nil
	}
	start, err1 := time.Parse(time.RFC3339Nano, r.Start)
	end, err2 := time.Parse(time.RFC3339Nano, r.End)
	if err1 != nil || err2 != nil {
		return pbiclient.ActivityQuery{}, userErrorf("continuation_token is damaged; start again with start_date_time and end_date_time.")
	}
	return pbiclient.ActivityQuery{Start: start, End: end, Filter: r.Filter}, nil
}

// odataString quotes a value for an OData filter, doubling single quotes.
func odataString(v string) string { return "'" + strings.ReplaceAll(v, "'", "''") + "'" }

// newActivityResume checks the window of a first call and names its first page.
func newActivityResume(a activityEventsArgs) (activityResume, error) {
	if a.StartDateTime == "" || a.EndDateTime == "" {
		return activityResume{}, userErrorf("Give start_date_time and end_date_time (UTC, the same day), or continuation_token to resume.")
	}
	start, err1 := time.Parse(time.RFC3339Nano, a.StartDateTime)
	end, err2 := time.Parse(time.RFC3339Nano, a.EndDateTime)
	if err1 != nil || err2 != nil {
		return activityResume{}, userErrorf("start_date_time and end_date_time must be ISO 8601 date-times such as 2026-01-15T00:00:00Z.")
	}
	start, end = start.UTC(), end.UTC()
	if end.Before(start) {
		return activityResume{}, userErrorf("end_date_time is before start_date_time.")
	}
	if start.Format(time.DateOnly) != end.Format(time.DateOnly) {
		return activityResume{}, userErrorf("Power BI returns activity events for one UTC day per query: start_date_time (%s) and end_date_time (%s) must fall on the same UTC day. Query each day separately, e.g. %sT00:00:00Z to %sT23:59:59.999Z.",
			start.Format(time.RFC3339), end.Format(time.RFC3339), start.Format(time.DateOnly), start.Format(time.DateOnly))
	}
	var filter []string
	if a.Activity != "" {
		filter = append(filter, "Activity eq "+odataString(a.Activity))
	}
	if a.UserID != "" {
		filter = append(filter, "UserId eq "+odataString(a.UserID))
	}
	return activityResume{Start: start.Format(time.RFC3339Nano), End: end.Format(time.RFC3339Nano), Filter: strings.Join(filter, " and ")}, nil
}

// getActivityEvents follows the continuation pages until the log ends or limit events are
// collected. A page may be empty and still carry a continuation, so only lastResultSet or a
// missing continuation ends the log.
func getActivityEvents(ctx context.Context, c *pbiclient.Client, at activityResume, limit int, report func(done, total float64, msg string)) (ActivityEventsResult, error) {
	res := ActivityEventsResult{ActivityEventEntities: []map[string]any{}}
	base := activityResume{Start: at.Start, End: at.End, Filter: at.Filter}
	for {
		q, err := at.query()
		if err != nil {
			return ActivityEventsResult{}, err
		}
		page, err := c.GetActivityEvents(ctx, q)
		if err != nil {
			return ActivityEventsResult{}, err
		}
		res.Requests++
		events := page.Events[min(at.Skip, len(page.Events)):]
		res.starts = append(res.starts, activityStart{first: len(res.ActivityEventEntities), at: at})
		if room := limit - len(res.ActivityEventEntities); len(events) > room {
			res.ActivityEventEntities = append(res.ActivityEventEntities, events[:room]...)
			next := at
			next.Skip += room
			res.Truncated, res.ContinuationToken = true, next.encode()
			break
		}
		res.ActivityEventEntities = append(res.ActivityEventEntities, events...)
		report(float64(len(res.ActivityEventEntities)), float64(limit), fmt.Sprintf("%d events read in %d requests", len(res.ActivityEventEntities), res.Requests))
		if page.Last() {
			break
		}
		at = base
		at.Token = page.ContinuationToken
		if len(res.ActivityEventEntities) == limit {
			res.Truncated, res.ContinuationToken = true, at.encode()
			break
		}
	}
	res.Count = len(res.ActivityEventEntities)
	return res, nil
}

type modifiedWorkspacesArgs struct {
	ModifiedSince             string `json:"modified_since" jsonschema:"Only workspaces changed after this moment, ISO 8601 UTC, between 30 minutes and 30 days ago. Omit it for every workspace." pattern:"$adminDateTimePattern"`
	ExcludePersonalWorkspaces bool   `json:"exclude_personal_workspaces" jsonschema:"Leave out users' My workspaces." default:"false"`
	ExcludeInactiveWorkspaces bool   `json:"exclude_inactive_workspaces" jsonschema:"Leave out deleted and otherwise inactive workspaces." default:"false"`
	Top                       int    `json:"top" minimum:"1" maximum:"10000" default:"1000"`
	Skip                      int    `json:"skip" schema:"$skip"`
}

// ModifiedWorkspace names one workspace.
type ModifiedWorkspace struct {
	ID string `json:"id"`
}

// ModifiedWorkspacesResult is the answer of admin_modified_workspaces.
type ModifiedWorkspacesResult struct {
	Workspaces []ModifiedWorkspace `json:"workspaces"`
	Page
}

type scanWorkspacesArgs struct {
	Workspaces         []string `json:"workspaces" required:"true" jsonschema:"Workspace ids (GUIDs) or exact names, e.g. from admin_modified_workspaces or admin_list_workspaces. Names are looked up in the tenant's list of workspaces (GET admin/groups, about one request per 100 names)." minItems:"1" maxItems:"$maxScanWorkspaces" itemMinLength:"1" itemMaxLength:"256"`
	WorkspacesPerScan  int      `json:"workspaces_per_scan" jsonschema:"Workspaces per scan (default and most 100). Smaller scans finish sooner but count more against the hourly limit." minimum:"1" maximum:"$maxWorkspacesPerScan" default:"$maxWorkspacesPerScan"`
	Lineage            bool     `json:"lineage" jsonschema:"Include lineage: the dataflows and models each model or dataflow reads from, and the data sources each uses (datasourceUsages)." default:"false"`
	DatasourceDetails  bool     `json:"datasource_details" jsonschema:"Include the data sources (datasourceInstances: type, connection details, gateway); implies lineage." default:"false"`
	DatasetSchema      bool     `json:"dataset_schema" jsonschema:"Include models' tables, columns and measures." default:"true"`
	DatasetExpressions bool     `json:"dataset_expressions" jsonschema:"Include DAX and M expressions (measures, calculated columns, table sources, parameters)." default:"true"`
	ArtifactUsers      bool     `json:"artifact_users" jsonschema:"Include who has access to each workspace and item." default:"false"`
}

// UnmarshalJSON binds the arguments over the defaults the schema declares, so that
// dataset_schema and dataset_expressions left out are true.
func (a *scanWorkspacesArgs) UnmarshalJSON(b []byte) error {
	type plain scanWorkspacesArgs // the same fields, without this method
	v := plain{DatasetSchema: true, DatasetExpressions: true}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*a = scanWorkspacesArgs(v)
	return nil
}

// ScanWorkspacesResult is the answer of admin_scan_workspaces.
type ScanWorkspacesResult struct {
	Workspaces          []ScannedWorkspace  `json:"workspaces" jsonschema:"The scanned workspaces, with what was asked for; ids Power BI does not know are left out"`
	DatasourceInstances []ScannedDatasource `json:"datasourceInstances,omitempty" jsonschema:"With datasource_details: the data sources that items' datasourceUsages name by datasourceId; misconfigured: its gateway binding is broken"`
	Count               int                 `json:"count"`
	Scans               int                 `json:"scans" jsonschema:"Scans run (one per workspaces_per_scan workspaces), each counting against Power BI's 500 an hour"`
}

// ScannedWorkspace is a workspace as the scanner describes it.
type ScannedWorkspace struct {
	ID                    string             `json:"id"`
	Name                  string             `json:"name,omitempty"`
	Type                  string             `json:"type,omitempty"`
	State                 string             `json:"state,omitempty"`
	IsOnDedicatedCapacity bool               `json:"isOnDedicatedCapacity"`
	CapacityID            string             `json:"capacityId,omitempty"`
	Reports               []ScannedReport    `json:"reports,omitempty"`
	Dashboards            []ScannedDashboard `json:"dashboards,omitempty"`
	Datasets              []ScannedDataset   `json:"datasets,omitempty"`
	Dataflows             []ScannedDataflow  `json:"dataflows,omitempty"`
	Users                 []string           `json:"users,omitempty" jsonschema:"With artifact_users, here and on items: access right, principal type, identifier (display name)"`
}

// ScannedReport is a report of a scanned workspace.
type ScannedReport struct {
	ID         string   `json:"id"`
	Name       string   `json:"name,omitempty"`
	ReportType string   `json:"reportType,omitempty"`
	DatasetID  string   `json:"datasetId,omitempty"`
	Users      []string `json:"users,omitempty"`
}

// ScannedDashboard is a dashboard of a scanned workspace.
type ScannedDashboard struct {
	ID          string   `json:"id"`
	DisplayName string   `json:"displayName,omitempty"`
	Users       []string `json:"users,omitempty"`
}

// ScannedDataset is a semantic model of a scanned workspace.
type ScannedDataset struct {
	ID                   string                       `json:"id"`
	Name                 string                       `json:"name,omitempty"`
	ConfiguredBy         string                       `json:"configuredBy,omitempty"`
	TargetStorageMode    string                       `json:"targetStorageMode,omitempty"`
	Tables               []pbiclient.ScanTable        `json:"tables,omitempty"`
	Expressions          []pbiclient.ScanExpression   `json:"expressions,omitempty"`
	SchemaRetrievalError string                       `json:"schemaRetrievalError,omitempty"`
	UpstreamDataflows    []DependentDataflow          `json:"upstreamDataflows,omitempty"`
	UpstreamDatasets     []pbiclient.DependentDataset `json:"upstreamDatasets,omitempty"`
	DatasourceUsages     []string                     `json:"datasourceUsages,omitempty"`
	Users                []string                     `json:"users,omitempty"`
}

// ScannedDataflow is a dataflow of a scanned workspace.
type ScannedDataflow struct {
	ObjectID          string              `json:"objectId"`
	Name              string              `json:"name,omitempty"`
	Description       string              `json:"description,omitempty"`
	ConfiguredBy      string              `json:"configuredBy,omitempty"`
	UpstreamDataflows []DependentDataflow `json:"upstreamDataflows,omitempty"`
	DatasourceUsages  []string            `json:"datasourceUsages,omitempty"`
	Users             []string            `json:"users,omitempty"`
}

// ScannedDatasource is a data source instance of a scan.
type ScannedDatasource struct {
	DatasourceID      string            `json:"datasourceId"`
	DatasourceType    string            `json:"datasourceType,omitempty"`
	ConnectionDetails map[string]string `json:"connectionDetails,omitempty"`
	GatewayID         string            `json:"gatewayId,omitempty"`
	Misconfigured     bool              `json:"misconfigured,omitempty"`
}

func adminAuditTools(d Deps) []Tool {
	return []Tool{
		tool(d, "admin", "read the activity log", adminGetActivityEvents, mcp.NewTool("admin_get_activity_events",
			mcp.WithDescription("Read the tenant's activity log (who viewed, exported, shared, refreshed or changed what, when) for a window within ONE UTC day, optionally for one activity (e.g. "+
				"ViewReport, ExportReport) and/or one user. Events appear 30-60 minutes after they happen and are kept 30 days. "+
				"Returns at most limit events; when truncated is true, call again with continuation_token = continuationToken to resume after the last one. "+
				"Each call reads about one page per hour of the window, and each page counts against Power BI's 200 requests an hour."),
			annotations("Read the activity log", true, false, true))).followsJobs(),
		tool(d, "admin", "list modified workspaces", adminModifiedWorkspaces, mcp.NewTool("admin_modified_workspaces",
			mcp.WithDescription("List the ids of the workspaces in the tenant that changed since a moment 30 minutes to 30 days ago (or every workspace, without modified_since), "+
				"to choose what admin_scan_workspaces should scan. Power BI allows 30 of these requests an hour, and each call makes one, paging included."),
			annotations("List modified workspaces", true, false, true))),
		tool(d, "admin", "scan the workspaces", adminScanWorkspaces, mcp.NewTool("admin_scan_workspaces",
			mcp.WithDescription("Scan workspaces with Power BI's metadata scanner: reports, dashboards, dataflows, semantic models with tables, columns and measures (with DAX), optionally lineage, data source details and access. Works on any workspace in the tenant, without being a member. "+
				"Runs scans of up to 100 workspaces, at most 16 at once, and waits for them with progress notifications; a scan takes seconds to minutes. "+
				"Power BI allows 500 scans an hour. admin_modified_workspaces finds what to scan. "+
				"Tables and expressions also need the tenant settings 'Enhance admin APIs responses with detailed metadata' and '... with DAX and mashup expressions'."),
			annotations("Scan workspaces' metadata", true, false, true))).followsJobs(),
	}
}

// adminGetActivityEvents is admin_get_activity_events.
func adminGetActivityEvents(ctx context.Context, d Deps, a activityEventsArgs) (ActivityEventsResult, error) {
	var (
		at  activityResume
		err error
	)
	if a.ContinuationToken != "" {
		at, err = decodeActivityResume(a.ContinuationToken)
	} else {
		at, err = newActivityResume(a)
	}
	if err != nil {
		return ActivityEventsResult{}, err
	}
	return getActivityEvents(ctx, d.Client, at, defaultInt(a.Limit, defaultActivityLimit), progressOf(ctx))
}

// adminModifiedWorkspaces is admin_modified_workspaces.
func adminModifiedWorkspaces(ctx context.Context, d Deps, a modifiedWorkspacesArgs) (ModifiedWorkspacesResult, error) {
	q := pbiclient.ModifiedWorkspacesQuery{ExcludePersonalWorkspaces: a.ExcludePersonalWorkspaces, ExcludeInactiveWorkspaces: a.ExcludeInactiveWorkspaces}
	if a.ModifiedSince != "" {
		t, err := time.Parse(time.RFC3339Nano, a.ModifiedSince)
		if err != nil {
			return ModifiedWorkspacesResult{}, userErrorf("modified_since must be an ISO 8601 date-time such as 2026-01-15T08:00:00Z.")
		}
		if ago := time.Since(t); ago < 30*time.Minute || ago > 30*24*time.Hour {
			return ModifiedWorkspacesResult{}, userErrorf("modified_since must be between 30 minutes and 30 days ago (it is %s ago). Omit it to list every workspace.", ago.Round(time.Minute))
		}
		q.Since = t
	}
	ids, err := d.Client.ModifiedWorkspaces(ctx, q)
	if err != nil {
		return ModifiedWorkspacesResult{}, err
	}
	items, page := pageOf(ids, defaultInt(a.Top, 1000), a.Skip)
	res := ModifiedWorkspacesResult{Workspaces: make([]ModifiedWorkspace, 0, len(items)), Page: page}
	for _, id := range items {
		res.Workspaces = append(res.Workspaces, ModifiedWorkspace{ID: id})
	}
	return res, nil
}

// adminScanWorkspaces is admin_scan_workspaces.
func adminScanWorkspaces(ctx context.Context, d Deps, a scanWorkspacesArgs) (ScanWorkspacesResult, error) {
	ids, err := resolveAdminWorkspaces(ctx, d.Client, a.Workspaces)
	if err != nil {
		return ScanWorkspacesResult{}, err
	}
	perScan := defaultInt(a.WorkspacesPerScan, pbiclient.MaxWorkspacesPerScan)
	scans := (len(ids) + perScan - 1) / perScan
	report := progressOf(ctx)
	report(0, float64(scans), fmt.Sprintf("starting %d scans", scans))
	got, err := d.Client.ScanWorkspaces(ctx, ids, perScan, pbiclient.ScanOptions{
		// Data source details without the usages could not be tied to any item.
		Lineage: a.Lineage || a.DatasourceDetails, DatasourceDetails: a.DatasourceDetails, ArtifactUsers: a.ArtifactUsers,
		DatasetSchema: a.DatasetSchema, DatasetExpressions: a.DatasetExpressions,
	}, func(p pbiclient.ScanProgress) {
		report(float64(p.ScansDone), float64(p.Scans), fmt.Sprintf("%d of %d scans done", p.ScansDone, p.Scans))
	})
	if err != nil {
		return ScanWorkspacesResult{}, err
	}
	res := ScanWorkspacesResult{Workspaces: make([]ScannedWorkspace, 0, len(got.Workspaces)), Count: len(got.Workspaces), Scans: scans,
		DatasourceInstances: append(scannedDatasources(got.DatasourceInstances, false), scannedDatasources(got.MisconfiguredDatasourceInstances, true)...)}
	for _, w := range got.Workspaces {
		res.Workspaces = append(res.Workspaces, scannedWorkspaceOf(w))
	}
	return res, nil
}

// adminNamesFilterBytes bounds the $filter of one name lookup, so that its URL stays well
// within what Power BI accepts.
const adminNamesFilterBytes = 3000

// resolveAdminWorkspaces reads a list of workspace ids and names across the whole tenant, as
// an administrator sees it: ids as they are; names with as few GET admin/groups requests as
// their $filter allows (name eq ... or name eq ...), since that list allows 15 a minute. Each
// workspace is scanned once however it was named. Names not found are reported together.
func resolveAdminWorkspaces(ctx context.Context, c *pbiclient.Client, args []string) ([]string, error) {
	var names []string
	for _, arg := range args {
		if arg = strings.TrimSpace(arg); !guidPattern.MatchString(arg) && !slices.Contains(names, arg) {
			names = append(names, arg)
		}
	}
	var groups []pbiclient.AdminGroup
	for i := 0; i < len(names); {
		filter := "name eq " + odataString(names[i])
		for i++; i < len(names); i++ {
			term := " or name eq " + odataString(names[i])
			if len(filter)+len(term) > adminNamesFilterBytes {
				break
			}
			filter += term
		}
		found, err := c.AdminListGroups(ctx, pbiclient.AdminQuery{Top: adminGroupsMaxTop, Filter: filter})
		if err != nil {
			return nil, err
		}
		groups = append(groups, found...)
	}
	idName := func(g pbiclient.AdminGroup) (string, string) { return g.ID, g.Name }
	byName := map[string]string{}
	var missing []string
	for _, n := range names {
		if !slices.ContainsFunc(groups, func(g pbiclient.AdminGroup) bool { return strings.EqualFold(g.Name, n) }) {
			missing = append(missing, strconv.Quote(n))
			continue
		}
		id, _, err := pickByName(n, "workspace", "admin_list_workspaces", "in the tenant", groups, idName)
		if err != nil {
			return nil, err
		}
		byName[n] = id
	}
	if len(missing) > 0 {
		return nil, userErrorf("No workspace named %s was found in the tenant. Names must match exactly; find them with admin_list_workspaces (e.g. filter contains(name,'...')), or pass workspace ids.",
			strings.Join(missing, " or "))
	}
	ids := make([]string, 0, len(args))
	for _, arg := range args {
		arg = strings.TrimSpace(arg)
		id, ok := byName[arg]
		if !ok {
			id = strings.ToLower(arg)
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

func scannedWorkspaceOf(w pbiclient.ScanWorkspace) ScannedWorkspace {
	out := ScannedWorkspace{ID: w.ID, Name: w.Name, Type: w.Type, State: w.State, IsOnDedicatedCapacity: w.IsOnDedicatedCapacity,
		CapacityID: w.CapacityID, Users: scannedUsers(w.Users)}
	for _, r := range w.Reports {
		out.Reports = append(out.Reports, ScannedReport{ID: r.ID, Name: r.Name, ReportType: r.ReportType, DatasetID: r.DatasetID, Users: scannedUsers(r.Users)})
	}
	for _, b := range w.Dashboards {
		out.Dashboards = append(out.Dashboards, ScannedDashboard{ID: b.ID, DisplayName: b.DisplayName, Users: scannedUsers(b.Users)})
	}
	for _, s := range w.Datasets {
		ds := ScannedDataset{ID: s.ID, Name: s.Name, ConfiguredBy: s.ConfiguredBy, TargetStorageMode: s.TargetStorageMode,
			Tables: s.Tables, Expressions: s.Expressions, SchemaRetrievalError: s.SchemaRetrievalError, UpstreamDatasets: s.UpstreamDatasets,
			DatasourceUsages: usageIDs(s.DatasourceUsages, s.MisconfiguredDatasourceUsages), Users: scannedUsers(s.Users)}
		for _, u := range s.UpstreamDataflows {
			ds.UpstreamDataflows = append(ds.UpstreamDataflows, DependentDataflow(u))
		}
		out.Datasets = append(out.Datasets, ds)
	}
	for _, f := range w.Dataflows {
		df := ScannedDataflow{ObjectID: f.ObjectID, Name: f.Name, Description: f.Description, ConfiguredBy: f.ConfiguredBy,
			DatasourceUsages: usageIDs(f.DatasourceUsages, f.MisconfiguredDatasourceUsages), Users: scannedUsers(f.Users)}
		for _, u := range f.UpstreamDataflows {
			df.UpstreamDataflows = append(df.UpstreamDataflows, DependentDataflow(u))
		}
		out.Dataflows = append(out.Dataflows, df)
	}
	return out
}

// scannedUsers writes each user in one line, "Admin User alex@contoso.com (Alex Wilber)":
// a scan of many workspaces lists many users, and objects would cost several times as much.
func scannedUsers(us []pbiclient.ScanUser) []string {
	var out []string
	for _, u := range us {
		line := strings.TrimSpace(u.AccessRight()+" "+u.PrincipalType) + " " + u.Identifier
		if u.DisplayName != "" && u.DisplayName != u.Identifier {
			line += " (" + u.DisplayName + ")"
		}
		out = append(out, strings.TrimSpace(line))
	}
	return out
}

// usageIDs lists the instance ids an item uses, the misconfigured ones included: the
// instance itself says whether it is.
func usageIDs(lists ...[]pbiclient.DatasourceUsage) []string {
	var out []string
	for _, us := range lists {
		for _, u := range us {
			out = append(out, u.DatasourceInstanceID)
		}
	}
	return out
}

func scannedDatasources(ds []pbiclient.Datasource, misconfigured bool) []ScannedDatasource {
	var out []ScannedDatasource
	for _, s := range ds {
		out = append(out, ScannedDatasource{DatasourceID: s.DatasourceID, DatasourceType: s.DatasourceType,
			ConnectionDetails: connectionDetailsOf(s.ConnectionDetails), GatewayID: s.GatewayID, Misconfigured: misconfigured})
	}
	return out
}
