package tools

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
)

// Refresh is one entry of a model's refresh history.
type Refresh struct {
	RequestID       string  `json:"requestId,omitempty" jsonschema:"Identifies the refresh; refresh_dataset returns it"`
	RefreshType     string  `json:"refreshType,omitempty" jsonschema:"Scheduled, OnDemand, ViaApi, ViaEnhancedApi, ViaXmlaEndpoint"`
	Status          string  `json:"status" jsonschema:"InProgress, Completed, Failed, Cancelled or Disabled"`
	StartTime       string  `json:"startTime,omitempty"`
	EndTime         string  `json:"endTime,omitempty"`
	DurationSeconds float64 `json:"durationSeconds,omitempty"`
	Error           string  `json:"error,omitempty" jsonschema:"Why the refresh failed, as Power BI reported it"`
}

type refreshArgs struct {
	Workspace      string `json:"workspace" schema:"$workspace"`
	Dataset        string `json:"dataset" schema:"$dataset" required:"true"`
	NotifyOption   string `json:"notify_option" jsonschema:"Email when a standard refresh ends; only NoNotification for a service principal or an enhanced refresh." enum:"NoNotification,MailOnFailure,MailOnCompletion" default:"NoNotification"`
	Wait           bool   `json:"wait" jsonschema:"Follow the refresh until it ends or timeout_seconds pass."`
	TimeoutSeconds int    `json:"timeout_seconds" jsonschema:"With wait: how long to follow it; the refresh goes on." minimum:"1" maximum:"3600" default:"$defaultRefreshWait"`
	// Enhanced refresh; pointers tell an argument given from one left out.
	Type               string                    `json:"type" jsonschema:"Enhanced: Full reloads and recalculates, DataOnly reloads, Calculate recalculates, ClearValues empties, Automatic (default) refreshes what needs it, Defragment cleans dictionaries." enum:"Full,ClearValues,Calculate,DataOnly,Automatic,Defragment"`
	CommitMode         string                    `json:"commit_mode" jsonschema:"Enhanced: Transactional (default) commits all or nothing; PartialBatch commits as it goes and needs apply_refresh_policy false." enum:"Transactional,PartialBatch"`
	Objects            []pbiclient.RefreshObject `json:"objects" jsonschema:"Enhanced: only these tables or partitions." minItems:"1" maxItems:"500" schema:"$refreshObjects"`
	MaxParallelism     *int                      `json:"max_parallelism" jsonschema:"Enhanced: most objects processed at once (default 10)." minimum:"1" maximum:"100"`
	RetryCount         *int                      `json:"retry_count" jsonschema:"Enhanced: retries of a failed refresh (default 0)." minimum:"0" maximum:"10"`
	ApplyRefreshPolicy *bool                     `json:"apply_refresh_policy" jsonschema:"Enhanced: apply incremental refresh policies (default true)."`
	EffectiveDate      string                    `json:"effective_date" jsonschema:"Enhanced: the date incremental refresh takes for today, e.g. 2025-06-30." pattern:"^\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:\\d{2})?)?$"`
	Timeout            string                    `json:"timeout" jsonschema:"Enhanced: Power BI's limit per attempt, hh:mm:ss (default 05:00:00, 24 hours in all); it stops the refresh." pattern:"^(([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]|24:00:00)$"`
}

// request builds the refresh request: enhanced as soon as one enhanced argument is given.
func (a refreshArgs) request() (pbiclient.RefreshRequest, error) {
	r := pbiclient.RefreshRequest{Type: a.Type, CommitMode: a.CommitMode, Objects: a.Objects,
		MaxParallelism: a.MaxParallelism, RetryCount: a.RetryCount, ApplyRefreshPolicy: a.ApplyRefreshPolicy,
		EffectiveDate: a.EffectiveDate, Timeout: a.Timeout}
	if !r.Enhanced() {
		r.NotifyOption = a.NotifyOption
		if r.NotifyOption == "" {
			r.NotifyOption = "NoNotification"
		}
		return r, nil
	}
	// Power BI refuses notifyOption in an enhanced refresh; the default is simply not sent.
	if a.NotifyOption != "" && a.NotifyOption != "NoNotification" {
		return r, userErrorf("notify_option works only for a standard refresh, and type, commit_mode, objects, max_parallelism, retry_count, apply_refresh_policy, effective_date or timeout make this an enhanced refresh. Leave notify_option out, or drop the enhanced arguments.")
	}
	return r, nil
}

// RefreshResult is the answer of refresh_dataset.
type RefreshResult struct {
	Workspace WorkspaceRef    `json:"workspace"`
	Dataset   ItemRef         `json:"dataset"`
	RequestID string          `json:"requestId,omitempty" jsonschema:"Identifies this refresh in get_refresh_history; for an enhanced refresh also the refresh_id of get_refresh_details and cancel_refresh"`
	Enhanced  bool            `json:"enhanced" jsonschema:"True for an enhanced refresh (any enhanced argument given)"`
	Status    string          `json:"status" jsonschema:"Started (not waited for), InProgress (still running when the wait ended) or Completed; a refresh that failed, timed out or was cancelled is reported as an error"`
	Refresh   *Refresh        `json:"refresh,omitempty" jsonschema:"The history entry, when the call waited for a standard refresh"`
	Details   *RefreshDetails `json:"details,omitempty" jsonschema:"The refresh details, when the call waited for an enhanced refresh"`
	Message   string          `json:"message"`
}

// RefreshDetails is the progress of an enhanced refresh.
type RefreshDetails struct {
	RefreshID        string                          `json:"refreshId"`
	Status           string                          `json:"status" jsonschema:"InProgress while running (Power BI says Unknown), then Completed, Failed, Cancelled or Disabled"`
	ExtendedStatus   string                          `json:"extendedStatus" jsonschema:"NotStarted, InProgress, Completed, TimedOut, Failed, Cancelled or Disabled"`
	Type             string                          `json:"type,omitempty" jsonschema:"Full, ClearValues, Calculate, DataOnly, Automatic or Defragment"`
	CommitMode       string                          `json:"commitMode,omitempty" jsonschema:"Transactional or PartialBatch"`
	StartTime        string                          `json:"startTime,omitempty" jsonschema:"UTC, as Power BI sends it (no zone designator)"`
	EndTime          string                          `json:"endTime,omitempty"`
	NumberOfAttempts int                             `json:"numberOfAttempts"`
	Objects          []pbiclient.RefreshObjectStatus `json:"objects" jsonschema:"Each table or partition refreshed, with its status (NotStarted, InProgress, Completed, Failed, ...); empty when Power BI lists none"`
	ObjectsCompleted int                             `json:"objectsCompleted" jsonschema:"How many of objects have completed"`
	Messages         []pbiclient.EngineMessage       `json:"messages" jsonschema:"Errors and warnings of the engine"`
}

func refreshDetailsOf(id string, d pbiclient.RefreshDetails) RefreshDetails {
	out := RefreshDetails{RefreshID: id, Status: shownStatus(d.Status, d.EndTime), ExtendedStatus: d.ExtendedStatus, Type: d.Type,
		CommitMode: d.CommitMode, StartTime: d.StartTime, EndTime: d.EndTime, NumberOfAttempts: d.NumberOfAttempts,
		Objects: d.Objects, Messages: d.Messages}
	if out.Objects == nil {
		out.Objects = []pbiclient.RefreshObjectStatus{}
	}
	if out.Messages == nil {
		out.Messages = []pbiclient.EngineMessage{}
	}
	for _, o := range d.Objects {
		if o.Status == "Completed" {
			out.ObjectsCompleted++
		}
	}
	return out
}

type historyArgs struct {
	Workspace string `json:"workspace" schema:"$workspace"`
	Dataset   string `json:"dataset" schema:"$dataset" required:"true"`
	Top       int    `json:"top" minimum:"1" maximum:"60" default:"10"`
}

// RefreshHistoryResult is the answer of get_refresh_history.
type RefreshHistoryResult struct {
	Workspace WorkspaceRef `json:"workspace"`
	Dataset   ItemRef      `json:"dataset"`
	Refreshes []Refresh    `json:"refreshes" jsonschema:"Newest first"`
	Count     int          `json:"count"`
}

const defaultRefreshWait = 300

func refreshTools(d Deps) []Tool {
	return []Tool{
		tool(d, "refresh", "refresh the semantic model", refreshDataset, mcp.NewTool("refresh_dataset",
			mcp.WithDescription("Start a refresh of a semantic model (Power BI reloads its data); returns its requestId, as get_refresh_history shows it. "+
				"With wait, the call follows it with progress until it ends or timeout_seconds pass (then InProgress). "+
				"An argument marked Enhanced makes it an enhanced refresh (Premium, PPU or Fabric capacity): it can refresh single tables or partitions, and get_refresh_details and cancel_refresh take its requestId. "+
				"Limits: one refresh at a time per model; 8 a day on shared (Pro) capacity, scheduled ones included. Never sent twice, even when the connection fails."),
			annotations("Refresh a semantic model", false, false, false))).followsJobs(),
		tool(d, "refresh", "read the refresh history", getRefreshHistory, mcp.NewTool("get_refresh_history",
			mcp.WithDescription("Read a semantic model's refresh history, newest first (Power BI keeps the last 60): type, status, start and end, and why failed ones failed. "+
				"A refresh_dataset refresh is the entry with its requestId."),
			annotations("Refresh history", true, false, true))),
		tool(d, "refresh", "read the refresh details", getRefreshDetails, mcp.NewTool("get_refresh_details",
			mcp.WithDescription("Read the progress of an enhanced refresh: its status, each table or partition with its status, the attempts, and the engine's errors and warnings, e.g. to find which table failed. "+
				"Other refreshes have none (get_refresh_history). Needs a Premium, PPU or Fabric capacity."),
			annotations("Enhanced refresh details", true, false, true))),
		tool(d, "refresh", "cancel the refresh", cancelRefresh, mcp.NewTool("cancel_refresh",
			mcp.WithDescription("Cancel a running enhanced refresh; the model keeps the data it had (with PartialBatch, what was committed stays). "+
				"Other refreshes cannot be stopped through the API. Needs a Premium, PPU or Fabric capacity."),
			annotations("Cancel an enhanced refresh", false, false, true))),
		tool(d, "refresh", "read the refresh schedule", getRefreshSchedule, mcp.NewTool("get_refresh_schedule",
			mcp.WithDescription("Read a semantic model's scheduled refresh: enabled, days and times, time zone, failure email. "+
				"With direct_query, the cache refresh of a DirectQuery or LiveConnection model instead: every frequency minutes, or on days at times."),
			annotations("Refresh schedule", true, false, true))),
		tool(d, "dataset_admin", "change the refresh schedule", updateRefreshSchedule, mcp.NewTool("update_refresh_schedule",
			mcp.WithDescription("Change a semantic model's scheduled refresh, or with direct_query the cache refresh of a DirectQuery or LiveConnection model; only the arguments given change. "+
				"Power BI's rules: only the owner can (a service principal must own the model, e.g. after take_over_dataset); enabled=false comes alone; at least one day; without times Power BI picks one a day; "+
				"at most 8 times a day on shared (Pro) capacity, 48 on Premium, PPU or Fabric. "+
				"A cache refresh is a frequency or days and times, each replacing the other."),
			annotations("Change the refresh schedule", false, false, true))),
	}
}

// refreshDataset is refresh_dataset.
func refreshDataset(ctx context.Context, d Deps, a refreshArgs) (RefreshResult, error) {
	body, err := a.request()
	if err != nil {
		return RefreshResult{}, err
	}
	ws, err := resolveWorkspace(ctx, d.Client, a.Workspace)
	if err != nil {
		return RefreshResult{}, err
	}
	if body.Enhanced() && ws.sharedCapacity {
		return RefreshResult{}, userErrorf("Nothing was sent to Power BI: %s", enhancedNeedsCapacity)
	}
	ds, err := resolveDataset(ctx, d.Client, ws, a.Dataset)
	if err != nil {
		return RefreshResult{}, err
	}
	started, err := d.Client.RefreshDataset(ctx, ws.ID, ds.ID, body)
	if err != nil {
		return RefreshResult{}, err
	}
	res := RefreshResult{Workspace: ws, Dataset: ds, RequestID: started.RequestID, Status: "Started",
		Message: "The refresh started. Follow it with get_refresh_history."}
	if body.Enhanced() {
		// The history and the details endpoint know an enhanced refresh by x-ms-request-id.
		res.Enhanced, res.RequestID = true, started.RefreshID
		res.Message = "The enhanced refresh started. Follow it with get_refresh_details (refresh_id = requestId); cancel_refresh stops it."
	}
	if !a.Wait {
		return res, nil
	}
	timeout := defaultInt(a.TimeoutSeconds, defaultRefreshWait)
	if res.Enhanced {
		return waitForEnhancedRefresh(ctx, d.Client, res, timeout)
	}
	return waitForRefresh(ctx, d.Client, res, timeout)
}

// getRefreshHistory is get_refresh_history.
func getRefreshHistory(ctx context.Context, d Deps, a historyArgs) (RefreshHistoryResult, error) {
	ws, err := resolveWorkspace(ctx, d.Client, a.Workspace)
	if err != nil {
		return RefreshHistoryResult{}, err
	}
	ds, err := resolveDataset(ctx, d.Client, ws, a.Dataset)
	if err != nil {
		return RefreshHistoryResult{}, err
	}
	history, err := d.Client.ListRefreshes(ctx, ws.ID, ds.ID, defaultInt(a.Top, 10))
	if err != nil {
		return RefreshHistoryResult{}, err
	}
	res := RefreshHistoryResult{Workspace: ws, Dataset: ds, Refreshes: make([]Refresh, 0, len(history)), Count: len(history)}
	for _, r := range history {
		res.Refreshes = append(res.Refreshes, refreshOf(r))
	}
	return res, nil
}

// waitForRefresh follows a started refresh until it ends or the timeout passes. Running out of
// time is not a failure: the refresh goes on in Power BI, and the answer says how to follow it.
func waitForRefresh(ctx context.Context, c *pbiclient.Client, res RefreshResult, timeoutSeconds int) (RefreshResult, error) {
	if res.RequestID == "" {
		res.Message = "The refresh started, but Power BI returned no request id to follow it by. Check get_refresh_history."
		return res, nil
	}
	wctx, cancel := context.WithTimeout(ctx, time.Duration(timeoutSeconds)*time.Second)
	defer cancel()
	report := progressOf(ctx)
	start := time.Now()
	final, err := c.WaitRefresh(wctx, res.Workspace.ID, res.Dataset.ID, res.RequestID, func(r pbiclient.Refresh) {
		report(time.Since(start).Seconds(), float64(timeoutSeconds), "refresh "+refreshOf(r).Status)
	})
	if err != nil {
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			res.Status = "InProgress"
			res.Message = fmt.Sprintf("The refresh is still running after %d seconds and goes on in Power BI. Follow it with get_refresh_history.", timeoutSeconds)
			return res, nil
		}
		return RefreshResult{}, err
	}
	// WaitRefresh reports any other end than Completed as an error the model is shown.
	r := refreshOf(final)
	res.Refresh, res.Status, res.Message = &r, r.Status, "The refresh completed."
	return res, nil
}

// waitForEnhancedRefresh follows an enhanced refresh through its details, reporting how many
// objects are done. As with a standard refresh, running out of time is not a failure.
func waitForEnhancedRefresh(ctx context.Context, c *pbiclient.Client, res RefreshResult, timeoutSeconds int) (RefreshResult, error) {
	if res.RequestID == "" {
		res.Message = "The enhanced refresh started, but Power BI returned no refresh id to follow it by. Check get_refresh_history."
		return res, nil
	}
	wctx, cancel := context.WithTimeout(ctx, time.Duration(timeoutSeconds)*time.Second)
	defer cancel()
	report := progressOf(ctx)
	start := time.Now()
	final, err := c.WaitRefreshDetails(wctx, res.Workspace.ID, res.Dataset.ID, res.RequestID, func(r pbiclient.RefreshDetails) {
		det := refreshDetailsOf(res.RequestID, r)
		msg := "refresh " + det.ExtendedStatus
		if len(det.Objects) > 0 {
			msg += fmt.Sprintf(": %d of %d objects completed", det.ObjectsCompleted, len(det.Objects))
		}
		report(time.Since(start).Seconds(), float64(timeoutSeconds), msg)
	})
	if err != nil {
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			res.Status = "InProgress"
			res.Message = fmt.Sprintf("The refresh is still running after %d seconds and goes on in Power BI. Follow it with get_refresh_details; cancel_refresh stops it.", timeoutSeconds)
			return res, nil
		}
		return RefreshResult{}, err
	}
	det := refreshDetailsOf(res.RequestID, final)
	res.Details, res.Status, res.Message = &det, "Completed", "The refresh completed."
	return res, nil
}

// shownStatus is a refresh's status as every tool shows it. Power BI reports a running refresh
// as "Unknown", in the history and in the details alike; the tools say InProgress, which a model
// will not misread as an outcome nobody knows.
func shownStatus(status, endTime string) string {
	if status == "Unknown" && endTime == "" {
		return "InProgress"
	}
	return status
}

// refreshOf shapes a history entry.
func refreshOf(r pbiclient.Refresh) Refresh {
	out := Refresh{RequestID: r.RequestID, RefreshType: r.RefreshType, Status: shownStatus(r.Status, r.EndTime), StartTime: r.StartTime, EndTime: r.EndTime, Error: r.ServiceExceptionJSON}
	if start, err := time.Parse(time.RFC3339, r.StartTime); err == nil {
		if end, err := time.Parse(time.RFC3339, r.EndTime); err == nil {
			out.DurationSeconds = end.Sub(start).Round(time.Second).Seconds()
		}
	}
	return out
}

type refreshIDArgs struct {
	Workspace string `json:"workspace" schema:"$workspace"`
	Dataset   string `json:"dataset" schema:"$dataset" required:"true"`
	RefreshID string `json:"refresh_id" schema:"$refreshID" required:"true"`
}

func refreshIDParam() mcp.ToolOption {
	return mcp.WithString("refresh_id", mcp.Required(),
		mcp.Description("requestId of an enhanced refresh (refresh_dataset, or ViaEnhancedApi in get_refresh_history)."),
		mcp.Pattern(guidPattern.String()))
}

// RefreshDetailsResult is the answer of get_refresh_details.
type RefreshDetailsResult struct {
	Workspace WorkspaceRef   `json:"workspace"`
	Dataset   ItemRef        `json:"dataset"`
	Running   bool           `json:"running" jsonschema:"True while the refresh has not ended"`
	Refresh   RefreshDetails `json:"refresh"`
}

// CancelRefreshResult is the answer of cancel_refresh.
type CancelRefreshResult struct {
	Workspace WorkspaceRef `json:"workspace"`
	Dataset   ItemRef      `json:"dataset"`
	RefreshID string       `json:"refreshId"`
	Status    string       `json:"status" jsonschema:"The refresh's extendedStatus after the request: Cancelled, or how it ended if it was over already"`
	Message   string       `json:"message"`
}

// getRefreshDetails is get_refresh_details.
func getRefreshDetails(ctx context.Context, d Deps, a refreshIDArgs) (RefreshDetailsResult, error) {
	ws, err := resolveWorkspace(ctx, d.Client, a.Workspace)
	if err != nil {
		return RefreshDetailsResult{}, err
	}
	ds, err := resolveDataset(ctx, d.Client, ws, a.Dataset)
	if err != nil {
		return RefreshDetailsResult{}, err
	}
	det, err := d.Client.GetRefreshDetails(ctx, ws.ID, ds.ID, a.RefreshID)
	if err != nil {
		return RefreshDetailsResult{}, explainMissingRefresh(ctx, d.Client, ws, ds, a.RefreshID, err)
	}
	return RefreshDetailsResult{Workspace: ws, Dataset: ds, Running: det.Running(), Refresh: refreshDetailsOf(a.RefreshID, det)}, nil
}

// cancelRefresh is cancel_refresh.
func cancelRefresh(ctx context.Context, d Deps, a refreshIDArgs) (CancelRefreshResult, error) {
	ws, err := resolveWorkspace(ctx, d.Client, a.Workspace)
	if err != nil {
		return CancelRefreshResult{}, err
	}
	ds, err := resolveDataset(ctx, d.Client, ws, a.Dataset)
	if err != nil {
		return CancelRefreshResult{}, err
	}
	if err := d.Client.CancelRefresh(ctx, ws.ID, ds.ID, a.RefreshID); err != nil {
		return CancelRefreshResult{}, explainMissingRefresh(ctx, d.Client, ws, ds, a.RefreshID, err)
	}
	res := CancelRefreshResult{Workspace: ws, Dataset: ds, RefreshID: a.RefreshID, Status: "Cancelled",
		Message: "The refresh was cancelled."}
	// Read it back: a refresh that ended before the request keeps its outcome.
	if det, err := d.Client.GetRefreshDetails(ctx, ws.ID, ds.ID, a.RefreshID); err == nil && det.ExtendedStatus != "" {
		res.Status = det.ExtendedStatus
		switch {
		case det.Running():
			res.Message = "Cancellation was requested and the refresh is stopping. get_refresh_details shows when it is Cancelled."
		case det.ExtendedStatus != "Cancelled":
			res.Message = "The refresh had already ended with status " + det.ExtendedStatus + "; nothing was cancelled."
		}
	}
	return res, nil
}

// explainMissingRefresh turns Power BI's 404 for a refresh id into what the model needs to know:
// whether the id is a standard refresh (which has no details and cannot be cancelled) or not in
// the history at all. Any other error, or a failing look-up, is returned as it was.
func explainMissingRefresh(ctx context.Context, c *pbiclient.Client, ws WorkspaceRef, ds ItemRef, refreshID string, err error) error {
	var ae *pbiclient.APIError
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusNotFound {
		return err
	}
	history, herr := c.ListRefreshes(ctx, ws.ID, ds.ID, 0)
	if herr != nil {
		return err
	}
	for _, r := range history {
		if strings.EqualFold(r.RequestID, refreshID) {
			if r.RefreshType == "ViaEnhancedApi" {
				return err
			}
			return userErrorf("Refresh %s of %q is a %s refresh, not an enhanced one: Power BI has no details for it and cannot cancel it. get_refresh_history shows its status.", refreshID, ds.Name, r.RefreshType)
		}
	}
	return userErrorf("No refresh %s in the history of %q (Power BI keeps the last 60). Find the requestId of an enhanced (ViaEnhancedApi) refresh with get_refresh_history.", refreshID, ds.Name)
}

var weekDays = []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}

// scheduleTimePattern is a time of day on the hour or half hour, the only times Power BI schedules.
const scheduleTimePattern = `^([01][0-9]|2[0-3]):(00|30)$`

func daysParam() mcp.ToolOption {
	return mcp.WithArray("days", mcp.Description("Replaces the current days."),
		mcp.WithStringItems(mcp.Enum(weekDays...)), mcp.MinItems(1), mcp.MaxItems(7), mcp.UniqueItems(true))
}

func timesParam(desc string, max int) mcp.ToolOption {
	return mcp.WithArray("times", mcp.Description(desc),
		mcp.WithStringItems(mcp.Pattern(scheduleTimePattern)), mcp.MinItems(1), mcp.MaxItems(max), mcp.UniqueItems(true))
}

func timeZoneParam() mcp.ToolOption {
	return mcp.WithString("local_time_zone_id", mcp.MinLength(1), mcp.MaxLength(100),
		mcp.Description("Windows time zone id, e.g. UTC, W. Europe Standard Time."))
}

type scheduleArgs struct {
	Workspace   string `json:"workspace" schema:"$workspace"`
	Dataset     string `json:"dataset" schema:"$dataset" required:"true"`
	DirectQuery bool   `json:"direct_query" schema:"$directQuerySchedule"`
}

type updateScheduleArgs struct {
	Workspace       string   `json:"workspace" schema:"$workspace"`
	Dataset         string   `json:"dataset" schema:"$dataset" required:"true"`
	DirectQuery     bool     `json:"direct_query" schema:"$directQuerySchedule"`
	Frequency       int      `json:"frequency" jsonschema:"Cache refresh: minutes between refreshes." schema:"$directQueryFrequency"`
	Days            []string `json:"days" schema:"$scheduleDays"`
	Times           []string `json:"times" jsonschema:"Replaces the current times." minItems:"1" maxItems:"48" uniqueItems:"true" itemPattern:"$scheduleTime"`
	LocalTimeZoneID string   `json:"local_time_zone_id" schema:"$scheduleTimeZone"`
	Enabled         *bool    `json:"enabled" jsonschema:"Not for a cache refresh."`
	NotifyOption    string   `json:"notify_option" jsonschema:"Email to the owner when a scheduled refresh fails; a service principal only NoNotification. Not for a cache refresh." enum:"NoNotification,MailOnFailure"`
}

// RefreshScheduleResult is the answer of get_refresh_schedule and update_refresh_schedule:
// one of the two schedules, as direct_query chose.
type RefreshScheduleResult struct {
	Workspace           WorkspaceRef                          `json:"workspace"`
	Dataset             ItemRef                               `json:"dataset"`
	Schedule            *pbiclient.RefreshSchedule            `json:"schedule,omitempty"`
	DirectQuerySchedule *pbiclient.DirectQueryRefreshSchedule `json:"directQuerySchedule,omitempty"`
	Message             string                                `json:"message,omitempty"`
}

// getRefreshSchedule is get_refresh_schedule.
func getRefreshSchedule(ctx context.Context, d Deps, a scheduleArgs) (RefreshScheduleResult, error) {
	ws, ds, err := resolveScheduleDataset(ctx, d.Client, a.Workspace, a.Dataset)
	if err != nil {
		return RefreshScheduleResult{}, err
	}
	return readSchedule(ctx, d.Client, RefreshScheduleResult{Workspace: ws, Dataset: ds}, a.DirectQuery)
}

// readSchedule reads the schedule direct_query chose into res.
func readSchedule(ctx context.Context, c *pbiclient.Client, res RefreshScheduleResult, directQuery bool) (RefreshScheduleResult, error) {
	var err error
	if directQuery {
		var sch pbiclient.DirectQueryRefreshSchedule
		sch, err = c.GetDirectQueryRefreshSchedule(ctx, res.Workspace.ID, res.Dataset.ID)
		res.DirectQuerySchedule = &sch
	} else {
		var sch pbiclient.RefreshSchedule
		sch, err = c.GetRefreshSchedule(ctx, res.Workspace.ID, res.Dataset.ID)
		res.Schedule = &sch
	}
	if err != nil {
		return RefreshScheduleResult{}, err
	}
	return res, nil
}

// updateRefreshSchedule is update_refresh_schedule. A frequency is only a cache refresh's, so it
// chooses that schedule as direct_query does.
func updateRefreshSchedule(ctx context.Context, d Deps, a updateScheduleArgs) (RefreshScheduleResult, error) {
	directQuery := a.DirectQuery || a.Frequency != 0
	dayOrTime := len(a.Days) > 0 || len(a.Times) > 0
	others := dayOrTime || a.LocalTimeZoneID != "" || a.NotifyOption != ""
	switch {
	case directQuery && (a.Enabled != nil || a.NotifyOption != ""):
		return RefreshScheduleResult{}, userErrorf("A cache refresh (direct_query or frequency) has no enabled or notify_option: give frequency, or days and times, or local_time_zone_id.")
	case a.Frequency != 0 && dayOrTime:
		return RefreshScheduleResult{}, userErrorf("Give either frequency or days and times, not both: Power BI refuses a request with both.")
	case a.Enabled == nil && !others && a.Frequency == 0:
		return RefreshScheduleResult{}, userErrorf("Nothing to change: give at least one of days, times, local_time_zone_id, enabled or notify_option (frequency with direct_query).")
	case a.Enabled != nil && !*a.Enabled && others:
		return RefreshScheduleResult{}, userErrorf("Power BI refuses to turn a schedule off and change it in the same request. Call update_refresh_schedule with enabled=false alone, or leave enabled out.")
	}
	ws, ds, err := resolveScheduleDataset(ctx, d.Client, a.Workspace, a.Dataset)
	if err != nil {
		return RefreshScheduleResult{}, err
	}
	if directQuery {
		u := pbiclient.DirectQueryRefreshScheduleUpdate{Frequency: a.Frequency, Days: a.Days, Times: a.Times, LocalTimeZoneID: a.LocalTimeZoneID}
		err = d.Client.UpdateDirectQueryRefreshSchedule(ctx, ws.ID, ds.ID, u)
	} else {
		u := pbiclient.RefreshScheduleUpdate{Days: a.Days, Times: a.Times, Enabled: a.Enabled,
			LocalTimeZoneID: a.LocalTimeZoneID, NotifyOption: a.NotifyOption}
		err = d.Client.UpdateRefreshSchedule(ctx, ws.ID, ds.ID, u)
	}
	if err != nil {
		return RefreshScheduleResult{}, err
	}
	return readSchedule(ctx, d.Client, RefreshScheduleResult{Workspace: ws, Dataset: ds, Message: "The schedule was updated."}, directQuery)
}

// resolveScheduleDataset resolves the workspace and dataset arguments of the schedule tools.
func resolveScheduleDataset(ctx context.Context, c *pbiclient.Client, workspace, dataset string) (WorkspaceRef, ItemRef, error) {
	ws, err := resolveWorkspace(ctx, c, workspace)
	if err != nil {
		return WorkspaceRef{}, ItemRef{}, err
	}
	ds, err := resolveDataset(ctx, c, ws, dataset)
	return ws, ds, err
}
