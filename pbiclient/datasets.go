package pbiclient

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Dataset is a Power BI semantic model.
type Dataset struct {
	ID                               string `json:"id"`
	Name                             string `json:"name"`
	WebURL                           string `json:"webUrl,omitempty"`
	ConfiguredBy                     string `json:"configuredBy,omitempty"`
	TargetStorageMode                string `json:"targetStorageMode,omitempty"` // "Abf" (small) or "PremiumFiles" (large)
	CreatedDate                      string `json:"createdDate,omitempty"`       // as sent, RFC 3339
	IsRefreshable                    bool   `json:"isRefreshable"`
	IsEffectiveIdentityRequired      bool   `json:"isEffectiveIdentityRequired"`
	IsEffectiveIdentityRolesRequired bool   `json:"isEffectiveIdentityRolesRequired"`
	IsOnPremGatewayRequired          bool   `json:"isOnPremGatewayRequired"`
	AddRowsAPIEnabled                bool   `json:"addRowsAPIEnabled"` // true for push datasets
	Description                      string `json:"description,omitempty"`
	ContentProviderType              string `json:"contentProviderType,omitempty"`
	// QueryScaleOutSettings is nil when the service did not send it.
	QueryScaleOutSettings *QueryScaleOutSettings `json:"queryScaleOutSettings,omitempty"`
	UpstreamDataflows     []DependentDataflow    `json:"upstreamDataflows,omitempty"`
	// CreateReportEmbedURL and QnaEmbedURL are where an embedding app creates a report on the
	// model or asks it Q&A questions, with an embed token.
	CreateReportEmbedURL string `json:"createReportEmbedURL,omitempty"`
	QnaEmbedURL          string `json:"qnaEmbedURL,omitempty"`
}

// ListDatasets lists the semantic models of a workspace ("" = My workspace).
func (c *Client) ListDatasets(ctx context.Context, groupID string) ([]Dataset, error) {
	var out list[Dataset]
	if _, err := c.getJSON(ctx, workspacePath(groupID, "datasets"), nil, &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// RefreshRequest is the body of a refresh request. With only NotifyOption set (or nothing)
// the service runs a standard refresh; any other field makes it an enhanced refresh, which
// needs a Premium, PPU or Fabric capacity and must not carry NotifyOption. Unset fields are
// omitted, so the service applies its defaults.
type RefreshRequest struct {
	// NotifyOption is "NoNotification", "MailOnFailure" or "MailOnCompletion". Service
	// principals may only use NoNotification or leave it empty. Standard refresh only.
	NotifyOption string `json:"notifyOption,omitempty"`

	// Type is "Full", "ClearValues", "Calculate", "DataOnly", "Automatic" (the default) or
	// "Defragment".
	Type string `json:"type,omitempty"`
	// CommitMode is "Transactional" (the default) or "PartialBatch".
	CommitMode string `json:"commitMode,omitempty"`
	// MaxParallelism bounds the threads processing in parallel (service default 10).
	MaxParallelism *int `json:"maxParallelism,omitempty"`
	// RetryCount is how often a failed refresh is retried (service default 0).
	RetryCount *int `json:"retryCount,omitempty"`
	// Objects limits the refresh to these tables or partitions (default: the whole model).
	Objects []RefreshObject `json:"objects,omitempty"`
	// ApplyRefreshPolicy applies the incremental refresh policy (service default true); it
	// must be false with PartialBatch.
	ApplyRefreshPolicy *bool `json:"applyRefreshPolicy,omitempty"`
	// EffectiveDate overrides "today" for an incremental refresh policy (RFC 3339).
	EffectiveDate string `json:"effectiveDate,omitempty"`
	// Timeout bounds one attempt, "hh:mm:ss" (service default 05:00:00).
	Timeout string `json:"timeout,omitempty"`
}

// Enhanced reports whether the request asks for an enhanced refresh.
func (r RefreshRequest) Enhanced() bool {
	return r.Type != "" || r.CommitMode != "" || r.MaxParallelism != nil || r.RetryCount != nil ||
		len(r.Objects) > 0 || r.ApplyRefreshPolicy != nil || r.EffectiveDate != "" || r.Timeout != ""
}

// RefreshObject names a table, or one partition of it, to refresh.
type RefreshObject struct {
	Table     string `json:"table"`
	Partition string `json:"partition,omitempty"`
}

// RefreshStarted identifies a refresh the service accepted.
type RefreshStarted struct {
	// RequestID is the RequestId response header; the refresh history entry carries the same
	// value as its requestId, so WaitRefresh can find it.
	RequestID string `json:"requestId"`
	// RefreshID (x-ms-request-id) and Location are sent for enhanced refreshes only; the
	// history entry and the details endpoint know the refresh by RefreshID.
	RefreshID string `json:"refreshId,omitempty"`
	Location  string `json:"location,omitempty"`
}

// RefreshDataset asks the service to refresh a semantic model. The request is sent at most
// once per call apart from answers that prove it was not processed (429, 401): if the
// connection fails or the service answers 5xx after sending, the error is an *APIError with
// OutcomeUnknown set; check ListRefreshes before asking again.
func (c *Client) RefreshDataset(ctx context.Context, groupID, datasetID string, req RefreshRequest) (RefreshStarted, error) {
	if err := needID("dataset", datasetID); err != nil {
		return RefreshStarted{}, err
	}
	path := workspacePath(groupID, "datasets", datasetID, "refreshes")
	h, err := c.sendJSON(ctx, http.MethodPost, path, nil, req, nil)
	if err != nil {
		return RefreshStarted{}, err
	}
	return RefreshStarted{
		RequestID: h.Get("RequestId"),
		RefreshID: h.Get("x-ms-request-id"),
		Location:  h.Get("Location"),
	}, nil
}

// Refresh is one refresh history entry. Times are kept as sent.
type Refresh struct {
	RequestID   string `json:"requestId"`
	RefreshType string `json:"refreshType,omitempty"` // "Scheduled", "OnDemand", "ViaApi", "ViaEnhancedApi", ...
	// Status is "Unknown" while in progress, then "Completed", "Failed", "Cancelled" or "Disabled".
	Status         string `json:"status"`
	ExtendedStatus string `json:"extendedStatus,omitempty"` // enhanced refreshes
	StartTime      string `json:"startTime,omitempty"`
	EndTime        string `json:"endTime,omitempty"` // empty while in progress
	// ServiceExceptionJSON is a JSON document in a string, e.g. {"errorCode":"..."}; empty
	// unless the refresh failed.
	ServiceExceptionJSON string           `json:"serviceExceptionJson,omitempty"`
	RefreshAttempts      []RefreshAttempt `json:"refreshAttempts,omitempty"`
}

// RefreshAttempt is one of the attempts the service made within a refresh.
type RefreshAttempt struct {
	AttemptID            int    `json:"attemptId"`
	Type                 string `json:"type,omitempty"` // "Data" or "Query"
	StartTime            string `json:"startTime,omitempty"`
	EndTime              string `json:"endTime,omitempty"`
	ServiceExceptionJSON string `json:"serviceExceptionJson,omitempty"`
}

// ListRefreshes returns the refresh history of a semantic model, newest first. top <= 0
// leaves the number to the service (the last 60 entries).
func (c *Client) ListRefreshes(ctx context.Context, groupID, datasetID string, top int) ([]Refresh, error) {
	if err := needID("dataset", datasetID); err != nil {
		return nil, err
	}
	q := url.Values{}
	if top > 0 {
		q.Set("$top", strconv.Itoa(top))
	}
	var out list[Refresh]
	if _, err := c.getJSON(ctx, workspacePath(groupID, "datasets", datasetID, "refreshes"), q, &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// refreshWindow is how many history entries WaitRefresh reads: enough for the refresh
// it waits for to stay in view while others start after it.
const refreshWindow = 20

// WaitRefresh follows a standard refresh: it polls the refresh history with backoff until the entry with requestID (from
// RefreshStarted.RequestID) has ended, calling onPoll (if not nil) with each sighting. It
// returns the final entry; a status other than Completed also returns a *JobFailedError.
// An entry not yet in the history is waited for; ctx bounds the whole wait.
func (c *Client) WaitRefresh(ctx context.Context, groupID, datasetID, requestID string, onPoll func(Refresh)) (Refresh, error) {
	if err := needID("refresh request", requestID); err != nil {
		return Refresh{}, err
	}
	var last Refresh
	for n := 0; ; n++ {
		history, err := c.ListRefreshes(ctx, groupID, datasetID, refreshWindow)
		if err != nil {
			return last, err
		}
		if i := slices.IndexFunc(history, func(r Refresh) bool { return strings.EqualFold(r.RequestID, requestID) }); i >= 0 {
			last = history[i]
			if onPoll != nil {
				onPoll(last)
			}
			switch last.Status {
			case "Unknown", "NotStarted", "InProgress", "":
			case "Completed":
				return last, nil
			default:
				return last, &JobFailedError{
					Operation: "refresh",
					ID:        requestID,
					Status:    last.Status,
					Detail:    bound(last.ServiceExceptionJSON, maxMessageLen),
				}
			}
		}
		if err := sleep(ctx, pollDelay(n, 0)); err != nil {
			return last, fmt.Errorf("pbiclient: waiting for refresh %s: %w", requestID, err)
		}
	}
}

// RefreshDetails is the state of an enhanced refresh, as GET .../refreshes/{refreshId} sends
// it. Times are kept as sent: the service writes them without a zone designator (UTC).
type RefreshDetails struct {
	StartTime          string                `json:"startTime,omitempty"`
	EndTime            string                `json:"endTime,omitempty"`
	Type               string                `json:"type,omitempty"`
	CommitMode         string                `json:"commitMode,omitempty"`
	Status             string                `json:"status"`         // "Unknown" while running, "Completed", "Failed", "Disabled", "Cancelled"
	ExtendedStatus     string                `json:"extendedStatus"` // "NotStarted", "InProgress", "Completed", "TimedOut", "Failed", "Cancelled", ...
	CurrentRefreshType string                `json:"currentRefreshType,omitempty"`
	NumberOfAttempts   int                   `json:"numberOfAttempts"`
	Objects            []RefreshObjectStatus `json:"objects,omitempty"`
	Messages           []EngineMessage       `json:"messages,omitempty"`
	RefreshAttempts    []RefreshAttempt      `json:"refreshAttempts,omitempty"`
}

// Running reports whether the refresh has not ended yet.
func (d RefreshDetails) Running() bool {
	switch d.ExtendedStatus {
	case "", "Unknown", "NotStarted", "InProgress":
		return d.EndTime == ""
	}
	return false
}

// RefreshObjectStatus is the progress of one table or partition of an enhanced refresh.
type RefreshObjectStatus struct {
	Table     string `json:"table"`
	Partition string `json:"partition,omitempty"`
	Status    string `json:"status"` // "NotStarted", "InProgress", "Completed", "Failed", ...
}

// EngineMessage is an error or warning of the Analysis Services engine during a refresh.
type EngineMessage struct {
	Code    string `json:"code,omitempty"`
	Message string `json:"message"`
	Type    string `json:"type,omitempty"` // "Error" or "Warning"
}

// GetRefreshDetails reads the details of an enhanced refresh (refreshID from
// RefreshStarted.RefreshID). The service answers 202 while the refresh runs and 200 after;
// both carry the details. Standard refreshes have none.
func (c *Client) GetRefreshDetails(ctx context.Context, groupID, datasetID, refreshID string) (RefreshDetails, error) {
	if err := needID("dataset", datasetID); err != nil {
		return RefreshDetails{}, err
	}
	if err := needID("refresh", refreshID); err != nil {
		return RefreshDetails{}, err
	}
	var out RefreshDetails
	_, err := c.getJSON(ctx, workspacePath(groupID, "datasets", datasetID, "refreshes", refreshID), nil, &out)
	return out, err
}

// CancelRefresh cancels a running enhanced refresh. The service cannot cancel standard ones.
func (c *Client) CancelRefresh(ctx context.Context, groupID, datasetID, refreshID string) error {
	if err := needID("dataset", datasetID); err != nil {
		return err
	}
	if err := needID("refresh", refreshID); err != nil {
		return err
	}
	_, err := c.sendJSON(ctx, http.MethodDelete, workspacePath(groupID, "datasets", datasetID, "refreshes", refreshID), nil, nil, nil)
	return err
}

// WaitRefreshDetails follows an enhanced refresh through its details until it ends,
// calling onPoll (if not nil) with each reading. It returns the final details; an end other
// than Completed also returns a *JobFailedError with the engine's first error message.
func (c *Client) WaitRefreshDetails(ctx context.Context, groupID, datasetID, refreshID string, onPoll func(RefreshDetails)) (RefreshDetails, error) {
	var last RefreshDetails
	for n := 0; ; n++ {
		d, err := c.GetRefreshDetails(ctx, groupID, datasetID, refreshID)
		if err != nil {
			return last, err
		}
		last = d
		if onPoll != nil {
			onPoll(d)
		}
		if !d.Running() {
			if d.ExtendedStatus == "Completed" || d.Status == "Completed" {
				return d, nil
			}
			status := d.ExtendedStatus
			if status == "" {
				status = d.Status
			}
			var detail string
			for _, m := range d.Messages {
				if m.Type != "Warning" {
					detail = strings.TrimSpace(m.Code + " " + m.Message)
					break
				}
			}
			return d, &JobFailedError{Operation: "refresh", ID: refreshID, Status: status, Detail: bound(detail, maxMessageLen)}
		}
		if err := sleep(ctx, pollDelay(n, 0)); err != nil {
			return last, fmt.Errorf("pbiclient: waiting for refresh %s: %w", refreshID, err)
		}
	}
}
