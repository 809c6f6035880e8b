package pbitest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// Refresh schedule limits of the service.
const (
	// sharedScheduleSlots and dedicatedScheduleSlots bound the refresh
	// times per day on shared and on Premium/Fabric capacity.
	sharedScheduleSlots    = 8
	dedicatedScheduleSlots = 48
)

var (
	weekDays       = []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}
	scheduleNotify = []string{"NoNotification", "MailOnFailure"}
	// dqFrequencies are the minutes a DirectQuery cache refresh may recur at.
	dqFrequencies = []int{15, 30, 60, 120, 180}
	// scheduleTime is a time of day on the half hour, as the schedule takes it.
	scheduleTime = regexp.MustCompile(`^([01][0-9]|2[0-3]):(00|30)$`)
)

// refreshSchedule is the scheduled refresh of an import model, fields in the
// service's order.
type refreshSchedule struct {
	Days            []string `json:"days"`
	Times           []string `json:"times"`
	Enabled         bool     `json:"enabled"`
	LocalTimeZoneID string   `json:"localTimeZoneId"`
	NotifyOption    string   `json:"notifyOption"`
}

// dqRefreshSchedule is the cache refresh of a DirectQuery model: frequency
// (minutes) or days and times.
type dqRefreshSchedule struct {
	Frequency       int      `json:"frequency,omitempty"`
	Days            []string `json:"days"`
	Times           []string `json:"times"`
	LocalTimeZoneID string   `json:"localTimeZoneId"`
}

// defaultSchedule is what the service reports for a model whose schedule
// was never set: off, no days or times, UTC.
func defaultSchedule() refreshSchedule {
	return refreshSchedule{Days: []string{}, Times: []string{}, LocalTimeZoneID: "UTC", NotifyOption: "MailOnFailure"}
}

// defaultDQSchedule: DirectQuery caches refresh hourly unless set otherwise.
func defaultDQSchedule() dqRefreshSchedule {
	return dqRefreshSchedule{Frequency: 60, Days: []string{}, Times: []string{}, LocalTimeZoneID: "UTC"}
}

func (s *Server) scheduleRoutes() {
	s.handleBoth("GET", "/datasets/{datasetId}/refreshSchedule", s.getRefreshSchedule)
	s.handleBoth("PATCH", "/datasets/{datasetId}/refreshSchedule", s.updateRefreshSchedule)
	s.handleBoth("GET", "/datasets/{datasetId}/directQueryRefreshSchedule", s.getDQRefreshSchedule)
	s.handleBoth("PATCH", "/datasets/{datasetId}/directQueryRefreshSchedule", s.updateDQRefreshSchedule)
}

func invalidSchedule(w http.ResponseWriter, msg string) {
	writeError(w, http.StatusBadRequest, "InvalidRequest", msg)
}

func (s *Server) getRefreshSchedule(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	d, groupID := s.datasetOf(w, r)
	if d == nil {
		s.mu.Unlock()
		return
	}
	out := defaultSchedule()
	if d.schedule != nil {
		out = *d.schedule
	}
	id := d.info.ID
	s.mu.Unlock()
	s.writeEntity(w, http.StatusOK, groupID, "datasets('"+id+"')/refreshSchedule", out)
}

func (s *Server) getDQRefreshSchedule(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	d, groupID := s.datasetOf(w, r)
	if d == nil {
		s.mu.Unlock()
		return
	}
	if !d.info.DirectQuery {
		s.mu.Unlock()
		invalidSchedule(w, notDirectQuery)
		return
	}
	out := defaultDQSchedule()
	if d.dqSchedule != nil {
		out = *d.dqSchedule
	}
	id := d.info.ID
	s.mu.Unlock()
	s.writeEntity(w, http.StatusOK, groupID, "datasets('"+id+"')/directQueryRefreshSchedule", out)
}

// The service documents these rules but not its messages for them (except
// the owner rule's text); the messages say what is wrong.
const (
	notDirectQuery  = "DirectQuery refresh schedule is only supported for DirectQuery or LiveConnection datasets"
	notOwner        = "This operation is only supported for the dataset owner"
	notRefreshable  = "Refresh schedule is not supported for this dataset: it is not refreshable"
	disableAlone    = "A request that disables the refresh schedule should contain no other changes"
	needOneDay      = "At least one day must be specified"
	frequencyOrDays = "Specify either a frequency or days and times, not both"
)

// scheduleBody reads {"value": {...}}: the fields sent (raw) and their
// values (into v). It answers 400 and returns nil when the body is not that.
func scheduleBody(w http.ResponseWriter, r *http.Request, v any) map[string]json.RawMessage {
	var body struct {
		Value json.RawMessage `json:"value"`
	}
	if _, ok := readJSON(w, r, &body); !ok {
		return nil
	}
	var raw map[string]json.RawMessage
	if len(body.Value) == 0 || json.Unmarshal(body.Value, &raw) != nil || raw == nil {
		invalidSchedule(w, "The request body needs a 'value' object")
		return nil
	}
	if json.Unmarshal(body.Value, v) != nil {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "Request body is not valid JSON for this operation")
		return nil
	}
	return raw
}

// scheduleDays checks and orders days as the week does; "" means valid.
func scheduleDays(days []string) ([]string, string) {
	out := []string{}
	for _, day := range days {
		c, ok := canonical(day, weekDays)
		if !ok {
			return nil, fmt.Sprintf("Invalid day '%s'", day)
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b string) int { return slices.Index(weekDays, a) - slices.Index(weekDays, b) })
	return out, ""
}

// scheduleTimes checks times (hh:mm on the hour or half hour) and sorts them.
func scheduleTimes(times []string) ([]string, string) {
	out := []string{}
	for _, t := range times {
		if !scheduleTime.MatchString(t) {
			return nil, fmt.Sprintf("Invalid time '%s': use hh:mm with minutes 00 or 30", t)
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out, ""
}

// ownedByCaller reports whether the caller owns the dataset. Every caller is the
// one service principal, shown as owner by its application id.
func (s *Server) ownedByCaller(d *dataset) bool {
	return strings.EqualFold(d.info.ConfiguredBy, s.opts.ClientID)
}

// scheduleUpdate is the value of a PATCH refreshSchedule body, for models and dataflows alike.
type scheduleUpdate struct {
	Days            []string `json:"days"`
	Times           []string `json:"times"`
	Enabled         bool     `json:"enabled"`
	LocalTimeZoneID string   `json:"localTimeZoneId"`
	NotifyOption    string   `json:"notifyOption"`
}

// applyScheduleUpdate applies an update to the current schedule (nil: the
// service's default) under the service's rules (api-notes §2.2.6), which are
// the same for models and dataflows: disabling comes alone, at least one day,
// hh:mm on the half hour, at most 8 times a day on shared capacity and 48 on
// dedicated, NoNotification for a service principal. raw tells which fields
// the body set. It returns the new schedule, or the message of the 400 the
// service answers.
func applyScheduleUpdate(current *refreshSchedule, raw map[string]json.RawMessage, v scheduleUpdate, dedicated bool) (*refreshSchedule, string) {
	next := defaultSchedule()
	if current != nil {
		next = *current
	}
	if _, set := raw["enabled"]; set && !v.Enabled {
		if len(raw) > 1 {
			return nil, disableAlone
		}
		next.Enabled = false
		return &next, ""
	}
	if _, set := raw["enabled"]; set {
		next.Enabled = true
	}
	var msg string
	if _, set := raw["days"]; set {
		if next.Days, msg = scheduleDays(v.Days); msg != "" {
			return nil, msg
		}
	}
	if _, set := raw["times"]; set {
		if next.Times, msg = scheduleTimes(v.Times); msg != "" {
			return nil, msg
		}
	}
	if _, set := raw["localTimeZoneId"]; set {
		if strings.TrimSpace(v.LocalTimeZoneID) == "" {
			return nil, "Invalid localTimeZoneId ''"
		}
		next.LocalTimeZoneID = v.LocalTimeZoneID
	}
	if _, set := raw["notifyOption"]; set {
		option, ok := canonical(v.NotifyOption, scheduleNotify)
		switch {
		case !ok:
			return nil, fmt.Sprintf("Invalid NotifyOption value '%s'", v.NotifyOption)
		case option != "NoNotification":
			// The caller is a service principal, which gets no mail.
			return nil, fmt.Sprintf("Invalid NotifyOption value '%s' for app only owner requests", option)
		}
		next.NotifyOption = option
	}
	if len(next.Days) == 0 {
		return nil, needOneDay
	}
	slots := sharedScheduleSlots
	if dedicated {
		slots = dedicatedScheduleSlots
	}
	if len(next.Times) > slots {
		return nil, fmt.Sprintf("At most %d refresh times a day are allowed on this capacity, %d were given", slots, len(next.Times))
	}
	return &next, ""
}

func (s *Server) updateRefreshSchedule(w http.ResponseWriter, r *http.Request) {
	var v scheduleUpdate
	raw := scheduleBody(w, r, &v)
	if raw == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, groupID := s.datasetOf(w, r)
	if d == nil {
		return
	}
	switch {
	case !d.info.IsRefreshable || d.info.DirectQuery:
		invalidSchedule(w, notRefreshable)
		return
	case !s.ownedByCaller(d):
		invalidSchedule(w, notOwner)
		return
	}
	next, msg := applyScheduleUpdate(d.schedule, raw, v, s.state.workspace(groupID).info.IsOnDedicatedCapacity)
	if msg != "" {
		invalidSchedule(w, msg)
		return
	}
	d.schedule = next
	writeEmptyOK(w)
}

func (s *Server) updateDQRefreshSchedule(w http.ResponseWriter, r *http.Request) {
	var v struct {
		Frequency       int      `json:"frequency"`
		Days            []string `json:"days"`
		Times           []string `json:"times"`
		LocalTimeZoneID string   `json:"localTimeZoneId"`
	}
	raw := scheduleBody(w, r, &v)
	if raw == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, _ := s.datasetOf(w, r)
	if d == nil {
		return
	}
	switch {
	case !d.info.DirectQuery:
		invalidSchedule(w, notDirectQuery)
		return
	case !s.ownedByCaller(d):
		invalidSchedule(w, notOwner)
		return
	}
	_, hasFrequency := raw["frequency"]
	_, hasDays := raw["days"]
	_, hasTimes := raw["times"]
	if hasFrequency && (len(v.Days) > 0 || len(v.Times) > 0) {
		invalidSchedule(w, frequencyOrDays)
		return
	}
	next := defaultDQSchedule()
	if d.dqSchedule != nil {
		next = *d.dqSchedule
	}
	var msg string
	switch {
	case hasFrequency:
		if !slices.Contains(dqFrequencies, v.Frequency) {
			invalidSchedule(w, fmt.Sprintf("Invalid frequency '%d': use 15, 30, 60, 120 or 180 minutes", v.Frequency))
			return
		}
		// A frequency replaces days and times.
		next.Frequency, next.Days, next.Times = v.Frequency, []string{}, []string{}
	case hasDays || hasTimes:
		if hasDays {
			if next.Days, msg = scheduleDays(v.Days); msg != "" {
				invalidSchedule(w, msg)
				return
			}
		}
		if hasTimes {
			if next.Times, msg = scheduleTimes(v.Times); msg != "" {
				invalidSchedule(w, msg)
				return
			}
		}
		next.Frequency = 0
		if len(next.Days) == 0 {
			invalidSchedule(w, needOneDay)
			return
		}
	}
	if _, set := raw["localTimeZoneId"]; set {
		if strings.TrimSpace(v.LocalTimeZoneID) == "" {
			invalidSchedule(w, "Invalid localTimeZoneId ''")
			return
		}
		next.LocalTimeZoneID = v.LocalTimeZoneID
	}
	d.dqSchedule = &next
	writeEmptyOK(w)
}
