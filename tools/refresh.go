package tools

import (
	"context"
	"errors"
	"fmt"
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
	Workspace      string `json:"workspace"`
	Dataset        string `json:"dataset"`
	NotifyOption   string `json:"notify_option"`
	Wait           bool   `json:"wait"`
	TimeoutSeconds int    `json:"timeout_seconds"`
}

// RefreshResult is the answer of refresh_dataset.
type RefreshResult struct {
	Workspace WorkspaceRef `json:"workspace"`
	Dataset   ItemRef      `json:"dataset"`
	RequestID string       `json:"requestId,omitempty" jsonschema:"Identifies this refresh in get_refresh_history"`
	Status    string       `json:"status" jsonschema:"Started (not waited for), InProgress (still running when the wait ended) or Completed; a refresh that failed or was cancelled is reported as an error"`
	Refresh   *Refresh     `json:"refresh,omitempty" jsonschema:"The history entry, when the call waited"`
	Message   string       `json:"message"`
}

type historyArgs struct {
	Workspace string `json:"workspace"`
	Dataset   string `json:"dataset"`
	Top       int    `json:"top"`
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
	return []Tool{{
		Toolset: "refresh",
		Definition: mcp.NewTool("refresh_dataset",
			mcp.WithDescription("Start a refresh of a semantic model (dataset): Power BI reloads its data from the sources. "+
				"Returns the requestId that identifies the refresh in get_refresh_history. "+
				"With wait=true the call follows the refresh until it ends or timeout_seconds pass, sending progress notifications; "+
				"a refresh still running then keeps running in Power BI and is reported as InProgress. "+
				"Limits: one refresh at a time per model; 8 a day on shared (Pro) capacity, scheduled ones included. "+
				"A service principal can only use notify_option NoNotification. "+
				"Each call starts a new refresh; the request is never sent twice, even when the connection fails."),
			annotations("Refresh a semantic model", false, false, false),
			workspaceParam(),
			itemParam("dataset", "Semantic model (dataset)", "list_datasets"),
			mcp.WithString("notify_option",
				mcp.Description("Email sent by Power BI when the refresh ends. Service principals must use NoNotification."),
				mcp.Enum("NoNotification", "MailOnFailure", "MailOnCompletion"), mcp.DefaultString("NoNotification")),
			mcp.WithBoolean("wait",
				mcp.Description("Wait until the refresh ends (or timeout_seconds pass) and report its outcome."),
				mcp.DefaultBool(false)),
			mcp.WithInteger("timeout_seconds",
				mcp.Description(fmt.Sprintf("With wait: the longest time to wait (default %d).", defaultRefreshWait)),
				mcp.Min(1), mcp.Max(3600), mcp.DefaultNumber(defaultRefreshWait)),
			mcp.WithOutputSchema[RefreshResult](),
		),
		Handler: handle("refresh the semantic model", func(ctx context.Context, req mcp.CallToolRequest, a refreshArgs) (RefreshResult, error) {
			ws, err := resolveWorkspace(ctx, d.Client, a.Workspace)
			if err != nil {
				return RefreshResult{}, err
			}
			ds, err := resolveDataset(ctx, d.Client, ws, a.Dataset)
			if err != nil {
				return RefreshResult{}, err
			}
			notify := a.NotifyOption
			if notify == "" {
				notify = "NoNotification"
			}
			started, err := d.Client.RefreshDataset(ctx, ws.ID, ds.ID, pbiclient.RefreshRequest{NotifyOption: notify})
			if err != nil {
				return RefreshResult{}, err
			}
			res := RefreshResult{Workspace: ws, Dataset: ds, RequestID: started.RequestID, Status: "Started",
				Message: "The refresh started. Follow it with get_refresh_history."}
			if !a.Wait {
				return res, nil
			}
			return waitForRefresh(ctx, d.Client, req, res, defaultInt(a.TimeoutSeconds, defaultRefreshWait))
		}),
	}, {
		Toolset: "refresh",
		Definition: mcp.NewTool("get_refresh_history",
			mcp.WithDescription("Read the refresh history of a semantic model (dataset), newest first: type, status, start and end time, and the error of failed refreshes. "+
				"Use it to follow a refresh started by refresh_dataset (match its requestId) or to find out why scheduled refreshes fail. "+
				"Power BI keeps at most the last 60 refreshes."),
			annotations("Refresh history", true, false, true),
			workspaceParam(),
			itemParam("dataset", "Semantic model (dataset)", "list_datasets"),
			topParam(10, 60, "refreshes"),
			mcp.WithOutputSchema[RefreshHistoryResult](),
		),
		Handler: handle("read the refresh history", func(ctx context.Context, _ mcp.CallToolRequest, a historyArgs) (RefreshHistoryResult, error) {
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
		}),
	}}
}

// waitForRefresh follows a started refresh until it ends or the timeout passes. Running out of
// time is not a failure: the refresh goes on in Power BI, and the answer says how to follow it.
func waitForRefresh(ctx context.Context, c *pbiclient.Client, req mcp.CallToolRequest, res RefreshResult, timeoutSeconds int) (RefreshResult, error) {
	if res.RequestID == "" {
		res.Message = "The refresh started, but Power BI returned no request id to follow it by. Check get_refresh_history."
		return res, nil
	}
	wctx, cancel := context.WithTimeout(ctx, time.Duration(timeoutSeconds)*time.Second)
	defer cancel()
	report := progressReporter(ctx, req)
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

// refreshOf shapes a history entry. Power BI reports a running refresh as status "Unknown";
// the tools say InProgress, which a model will not misread.
func refreshOf(r pbiclient.Refresh) Refresh {
	out := Refresh{RequestID: r.RequestID, RefreshType: r.RefreshType, Status: r.Status, StartTime: r.StartTime, EndTime: r.EndTime, Error: r.ServiceExceptionJSON}
	if out.Status == "Unknown" && out.EndTime == "" {
		out.Status = "InProgress"
	}
	if start, err := time.Parse(time.RFC3339, r.StartTime); err == nil {
		if end, err := time.Parse(time.RFC3339, r.EndTime); err == nil {
			out.DurationSeconds = end.Sub(start).Round(time.Second).Seconds()
		}
	}
	return out
}
