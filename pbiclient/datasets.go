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
// the service runs a standard refresh; the enhanced-refresh fields (type, commitMode,
// objects, ...) belong here too, each omitted when unset.
type RefreshRequest struct {
	// NotifyOption is "NoNotification", "MailOnFailure" or "MailOnCompletion". Service
	// principals may only use NoNotification or leave it empty.
	NotifyOption string `json:"notifyOption,omitempty"`
}

// RefreshStarted identifies a refresh the service accepted.
type RefreshStarted struct {
	// RequestID is the RequestId response header; the refresh history entry carries the same
	// value as its requestId, so WaitRefresh can find it.
	RequestID string `json:"requestId"`
	// RefreshID (x-ms-request-id) and Location are sent for enhanced refreshes only.
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

// WaitRefresh polls the refresh history with backoff until the entry with requestID (from
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
