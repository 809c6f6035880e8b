package pbiclient

import (
	"context"
	"net/http"
)

// RefreshSchedule is the scheduled refresh of an import model. Times are "hh:mm" in the
// time zone LocalTimeZoneID (a Windows time zone id such as "UTC" or "W. Europe Standard Time").
type RefreshSchedule struct {
	Days            []string `json:"days"`
	Times           []string `json:"times"`
	Enabled         bool     `json:"enabled"`
	LocalTimeZoneID string   `json:"localTimeZoneId,omitempty"`
	NotifyOption    string   `json:"notifyOption,omitempty"` // "NoNotification" or "MailOnFailure"
}

// RefreshScheduleUpdate changes some settings of a refresh schedule; unset fields keep
// their value. The service refuses a request that disables the schedule and changes
// anything else.
type RefreshScheduleUpdate struct {
	Days            []string `json:"days,omitempty"`
	Times           []string `json:"times,omitempty"`
	Enabled         *bool    `json:"enabled,omitempty"`
	LocalTimeZoneID string   `json:"localTimeZoneId,omitempty"`
	NotifyOption    string   `json:"notifyOption,omitempty"`
}

// DirectQueryRefreshSchedule is how often Power BI refreshes the caches of a DirectQuery or
// LiveConnection model: every Frequency minutes, or on Days at Times.
type DirectQueryRefreshSchedule struct {
	Frequency       int      `json:"frequency,omitempty"`
	Days            []string `json:"days"`
	Times           []string `json:"times"`
	LocalTimeZoneID string   `json:"localTimeZoneId,omitempty"`
}

// DirectQueryRefreshScheduleUpdate sets either Frequency or Days and Times, not both.
type DirectQueryRefreshScheduleUpdate struct {
	Frequency       int      `json:"frequency,omitempty"`
	Days            []string `json:"days,omitempty"`
	Times           []string `json:"times,omitempty"`
	LocalTimeZoneID string   `json:"localTimeZoneId,omitempty"`
}

// GetRefreshSchedule reads the refresh schedule of an import model.
func (c *Client) GetRefreshSchedule(ctx context.Context, groupID, datasetID string) (RefreshSchedule, error) {
	var out RefreshSchedule
	if err := needID("dataset", datasetID); err != nil {
		return out, err
	}
	_, err := c.getJSON(ctx, workspacePath(groupID, "datasets", datasetID, "refreshSchedule"), nil, &out)
	return out, err
}

// UpdateRefreshSchedule changes the refresh schedule of an import model. Only the model's
// owner may.
func (c *Client) UpdateRefreshSchedule(ctx context.Context, groupID, datasetID string, u RefreshScheduleUpdate) error {
	if err := needID("dataset", datasetID); err != nil {
		return err
	}
	body := struct {
		Value RefreshScheduleUpdate `json:"value"`
	}{u}
	_, err := c.sendJSON(ctx, http.MethodPatch, workspacePath(groupID, "datasets", datasetID, "refreshSchedule"), nil, body, nil)
	return err
}

// GetDirectQueryRefreshSchedule reads the cache refresh schedule of a DirectQuery or
// LiveConnection model.
func (c *Client) GetDirectQueryRefreshSchedule(ctx context.Context, groupID, datasetID string) (DirectQueryRefreshSchedule, error) {
	var out DirectQueryRefreshSchedule
	if err := needID("dataset", datasetID); err != nil {
		return out, err
	}
	_, err := c.getJSON(ctx, workspacePath(groupID, "datasets", datasetID, "directQueryRefreshSchedule"), nil, &out)
	return out, err
}

// UpdateDirectQueryRefreshSchedule changes the cache refresh schedule of a DirectQuery or
// LiveConnection model. Only the model's owner may.
func (c *Client) UpdateDirectQueryRefreshSchedule(ctx context.Context, groupID, datasetID string, u DirectQueryRefreshScheduleUpdate) error {
	if err := needID("dataset", datasetID); err != nil {
		return err
	}
	body := struct {
		Value DirectQueryRefreshScheduleUpdate `json:"value"`
	}{u}
	_, err := c.sendJSON(ctx, http.MethodPatch, workspacePath(groupID, "datasets", datasetID, "directQueryRefreshSchedule"), nil, body, nil)
	return err
}
