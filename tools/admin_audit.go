package tools

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
)

const (
	defaultActivityLimit = 1000
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
	Workspaces         []string `json:"workspaces" required:"true" jsonschema:"Ids (GUIDs) of the workspaces to scan, e.g. from admin_modified_workspaces." minItems:"1" maxItems:"$maxScanWorkspaces" itemPattern:"$guid"`
	WorkspacesPerScan  int      `json:"workspaces_per_scan" jsonschema:"Workspaces per scan (default and most 100). Smaller scans finish sooner but count more against the hourly limit." minimum:"1" maximum:"$maxWorkspacesPerScan" default:"$maxWorkspacesPerScan"`
	Lineage            bool     `json:"lineage" jsonschema:"Include lineage: upstream dataflows and which data sources each item uses." default:"false"`
	DatasourceDetails  bool     `json:"datasource_details" jsonschema:"Include data source details (server, database, gateway)." default:"false"`
	DatasetSchema      bool     `json:"dataset_schema" jsonschema:"Include models' tables, columns and measures." default:"true"`
	DatasetExpressions bool     `json:"dataset_expressions" jsonschema:"Include DAX and M expressions (measures, calculated columns, table sources)." default:"true"`
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
	Workspaces []pbiclient.ScanWorkspace `json:"workspaces" jsonschema:"The scanned workspaces with their reports, dashboards, semantic models (tables, columns, measures) and users, as requested; ids Power BI does not know are left out"`
	Count      int                       `json:"count"`
	Scans      int                       `json:"scans" jsonschema:"Scans run (one per workspaces_per_scan workspaces), each counting against Power BI's 500 an hour"`
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
			mcp.WithDescription("Scan workspaces with Power BI's metadata scanner: reports, dashboards, semantic models with tables, columns and measures (with DAX), optionally lineage, data source details and access. "+
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
	for _, id := range a.Workspaces {
		if !guidPattern.MatchString(id) {
			return ScanWorkspacesResult{}, userErrorf("%q is not a workspace id: the scanner takes workspace ids (GUIDs), as list_workspaces or admin_modified_workspaces return them.", id)
		}
	}
	perScan := defaultInt(a.WorkspacesPerScan, pbiclient.MaxWorkspacesPerScan)
	scans := (len(a.Workspaces) + perScan - 1) / perScan
	report := progressOf(ctx)
	report(0, float64(scans), fmt.Sprintf("starting %d scans", scans))
	got, err := d.Client.ScanWorkspaces(ctx, a.Workspaces, perScan, pbiclient.ScanOptions{
		Lineage: a.Lineage, DatasourceDetails: a.DatasourceDetails, ArtifactUsers: a.ArtifactUsers,
		DatasetSchema: a.DatasetSchema, DatasetExpressions: a.DatasetExpressions,
	}, func(p pbiclient.ScanProgress) {
		report(float64(p.ScansDone), float64(p.Scans), fmt.Sprintf("%d of %d scans done", p.ScansDone, p.Scans))
	})
	if err != nil {
		return ScanWorkspacesResult{}, err
	}
	if got.Workspaces == nil {
		got.Workspaces = []pbiclient.ScanWorkspace{}
	}
	return ScanWorkspacesResult{Workspaces: got.Workspaces, Count: len(got.Workspaces), Scans: scans}, nil
}
