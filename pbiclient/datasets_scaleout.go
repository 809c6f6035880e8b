package pbiclient

import (
	"context"
	"net/http"
)

// QueryScaleOutSyncStatus says how far a model's read-only replicas have caught up with its
// read-write copy. Versions are commit times in .NET ticks; times are kept as sent.
type QueryScaleOutSyncStatus struct {
	CommitVersion          int64  `json:"commitVersion"`
	CommitTimestamp        string `json:"commitTimestamp,omitempty"`
	TargetSyncVersion      int64  `json:"targetSyncVersion"`
	TargetSyncTimestamp    string `json:"targetSyncTimestamp,omitempty"`
	TriggerReason          string `json:"triggerReason,omitempty"` // "explicit", "automatic" or "system"
	SyncStartTime          string `json:"syncStartTime,omitempty"`
	SyncEndTime            string `json:"syncEndTime,omitempty"` // empty while a sync runs
	MinActiveReadVersion   int64  `json:"minActiveReadVersion"`
	MinActiveReadTimestamp string `json:"minActiveReadTimestamp,omitempty"`
	// ScaleOutStatus is "Enabled", or why scale-out does not work: "TenantSettingDisabled",
	// "StorageModeNotSupported" (needs the large storage format) or
	// "ReadOnlyReplicasDisabled" (maxReadOnlyReplicas is 0).
	ScaleOutStatus string `json:"scaleOutStatus,omitempty"`
}

// Synced reports whether the replicas answer from the latest commit.
func (s QueryScaleOutSyncStatus) Synced() bool {
	return s.SyncEndTime != "" && s.MinActiveReadVersion >= s.CommitVersion
}

// TriggerQueryScaleOutSync starts syncing a model's read-only replicas with its read-write
// copy, for models whose replicas do not sync automatically after each refresh.
func (c *Client) TriggerQueryScaleOutSync(ctx context.Context, groupID, datasetID string) (QueryScaleOutSyncStatus, error) {
	var out QueryScaleOutSyncStatus
	if err := needID("dataset", datasetID); err != nil {
		return out, err
	}
	_, err := c.sendJSON(ctx, http.MethodPost, workspacePath(groupID, "datasets", datasetID, "queryScaleOut", "sync"), nil, nil, &out)
	return out, err
}

// GetQueryScaleOutSyncStatus reads where a model's read-only replicas stand.
func (c *Client) GetQueryScaleOutSyncStatus(ctx context.Context, groupID, datasetID string) (QueryScaleOutSyncStatus, error) {
	var out QueryScaleOutSyncStatus
	if err := needID("dataset", datasetID); err != nil {
		return out, err
	}
	_, err := c.getJSON(ctx, workspacePath(groupID, "datasets", datasetID, "queryScaleOut", "syncStatus"), nil, &out)
	return out, err
}
