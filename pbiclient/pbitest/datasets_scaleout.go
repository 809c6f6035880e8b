package pbitest

import (
	"net/http"
	"time"
)

// Query scale-out sync: a model with read-only replicas serves queries from them, and the
// replicas catch up with the read-write copy (the latest commit: a refresh or a change) by a
// sync, automatic after each commit unless autoSyncReadOnlyReplicas is off, or triggered
// with POST .../queryScaleOut/sync. GET .../queryScaleOut/syncStatus reports where they
// stand. Versions are the commit times in .NET ticks, as the service's example shows.

func (s *Server) datasetScaleOutRoutes() {
	s.handleBoth("POST", "/datasets/{datasetId}/queryScaleOut/sync", s.triggerScaleOutSync)
	s.handleBoth("GET", "/datasets/{datasetId}/queryScaleOut/syncStatus", s.scaleOutSyncStatus)
}

// qsoSync is an explicit sync: the commit it brought the replicas to, and when it ran.
type qsoSync struct {
	target     time.Time
	start, end time.Time
}

// qsoSyncDuration is how long a sync takes.
const qsoSyncDuration = 200 * time.Millisecond

type qsoStatusJSON struct {
	CommitVersion          int64  `json:"commitVersion"`
	CommitTimestamp        string `json:"commitTimestamp"`
	TargetSyncVersion      int64  `json:"targetSyncVersion"`
	TargetSyncTimestamp    string `json:"targetSyncTimestamp"`
	TriggerReason          string `json:"triggerReason"`
	SyncStartTime          string `json:"syncStartTime"`
	SyncEndTime            string `json:"syncEndTime,omitempty"` // not while a sync runs
	MinActiveReadVersion   int64  `json:"minActiveReadVersion"`
	MinActiveReadTimestamp string `json:"minActiveReadTimestamp"`
	ScaleOutStatus         string `json:"scaleOutStatus"`
}

// dotnetTicks is t as a .NET DateTime's ticks (100 ns since 0001-01-01).
func dotnetTicks(t time.Time) int64 { return t.UnixNano()/100 + 621355968000000000 }

// qsoTime formats a sync timestamp with the seven fractional digits the service sends.
func qsoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.0000000Z") }

// lastCommit is when the model's read-write copy last changed: its last finished refresh,
// or its creation.
func lastCommit(d *dataset, now time.Time) time.Time {
	commit := d.info.CreatedDate
	for _, j := range d.refreshes {
		if end, done := j.finished(now); done && j.status(now) == "Completed" && end.After(commit) {
			commit = end
		}
	}
	return commit
}

// scaleOutStatus says whether query scale-out works for the model, and if not why.
func scaleOutStatus(d *dataset) string {
	switch {
	case d.info.TargetStorageMode != "PremiumFiles":
		return "StorageModeNotSupported"
	case d.info.QueryScaleOut == nil || d.info.QueryScaleOut.MaxReadOnlyReplicas == 0:
		return "ReadOnlyReplicasDisabled"
	}
	return "Enabled"
}

// qsoStatus is the model's sync status now. The caller must hold s.mu.
func (s *Server) qsoStatus(d *dataset, now time.Time) qsoStatusJSON {
	commit := lastCommit(d, now)
	out := qsoStatusJSON{CommitVersion: dotnetTicks(commit), CommitTimestamp: qsoTime(commit), ScaleOutStatus: scaleOutStatus(d)}
	target, reason, start, end := d.info.CreatedDate, "system", d.info.CreatedDate, d.info.CreatedDate
	if d.info.QueryScaleOut == nil || d.info.QueryScaleOut.AutoSyncReadOnlyReplicas {
		// Replicas follow each commit.
		target, reason, start, end = commit, "automatic", commit, commit
	}
	if x := s.state.qsoSyncs[d]; x != nil && !x.start.Before(start) {
		target, reason, start, end = x.target, "explicit", x.start, x.end
	}
	out.TargetSyncVersion, out.TargetSyncTimestamp = dotnetTicks(target), qsoTime(target)
	out.TriggerReason, out.SyncStartTime = reason, qsoTime(start)
	read := target
	if now.Before(end) {
		// Replicas still answer from what they held before the sync.
		read = d.info.CreatedDate
	} else {
		out.SyncEndTime = qsoTime(end)
	}
	out.MinActiveReadVersion, out.MinActiveReadTimestamp = dotnetTicks(read), qsoTime(read)
	return out
}

// triggerScaleOutSync starts a sync of the read-only replicas to the latest commit and
// answers the status it starts. A model for which scale-out does not work gets its status
// and no sync [INFER: what the scaleOutStatus values are for].
func (s *Server) triggerScaleOutSync(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	s.mu.Lock()
	d, _ := s.datasetOf(w, r)
	if d == nil {
		s.mu.Unlock()
		return
	}
	if scaleOutStatus(d) == "Enabled" {
		if s.state.qsoSyncs == nil {
			s.state.qsoSyncs = map[*dataset]*qsoSync{}
		}
		s.state.qsoSyncs[d] = &qsoSync{target: lastCommit(d, now), start: now, end: now.Add(qsoSyncDuration)}
	}
	out := s.qsoStatus(d, now)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) scaleOutSyncStatus(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	d, _ := s.datasetOf(w, r)
	if d == nil {
		s.mu.Unlock()
		return
	}
	out := s.qsoStatus(d, time.Now())
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}
