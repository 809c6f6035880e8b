package tools

import (
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

const (
	routeRefreshSchedule   = "PATCH /v1.0/myorg/groups/{groupId}/datasets/{datasetId}/refreshSchedule"
	routeDQRefreshSchedule = "PATCH /v1.0/myorg/groups/{groupId}/datasets/{datasetId}/directQueryRefreshSchedule"
)

// lastBody is the body of the last request on route.
func lastBody(t *testing.T, st *stack, route string) string {
	t.Helper()
	reqs := st.tenant.Requests()
	for i := len(reqs) - 1; i >= 0; i-- {
		if reqs[i].Route == route {
			return string(reqs[i].Body)
		}
	}
	t.Fatalf("no request on %s", route)
	return ""
}

func TestEnhancedRefreshWaitsThroughDetails(t *testing.T) {
	st := newStack(t, stackOptions{tenant: pbitest.Options{RefreshDuration: 1500 * time.Millisecond}})
	var res RefreshResult
	st.ok(t, "refresh_dataset", map[string]any{"workspace": "Finance", "dataset": "Finance KPIs", "type": "Full",
		"objects": []map[string]any{{"table": "Ledger"}, {"table": "Budget", "partition": "2026"}}, "wait": true, "timeout_seconds": 60}, &res)
	if !res.Enhanced || res.Status != "Completed" || res.Details == nil || res.Details.ObjectsCompleted != 2 ||
		res.Details.RefreshID != res.RequestID || res.Details.Objects[1].Partition != "2026" {
		t.Fatalf("%+v %+v", res, res.Details)
	}
	// notify_option has a default, but an enhanced refresh must not carry it.
	if body := lastBody(t, st, routeRefreshInGroup); body != `{"type":"Full","objects":[{"table":"Ledger"},{"table":"Budget","partition":"2026"}]}` {
		t.Fatalf("body sent: %s", body)
	}
	var sawObjects bool
	for _, n := range st.progressFor("p-refresh_dataset") {
		if strings.Contains(fmt.Sprint(n.Params.AdditionalFields["message"]), "of 2 objects completed") {
			sawObjects = true
		}
	}
	if !sawObjects {
		t.Error("progress never said how many objects were done")
	}
	var hist RefreshHistoryResult
	st.ok(t, "get_refresh_history", map[string]any{"workspace": "Finance", "dataset": "Finance KPIs", "top": 1}, &hist)
	if hist.Refreshes[0].RequestID != res.RequestID || hist.Refreshes[0].RefreshType != "ViaEnhancedApi" {
		t.Fatalf("history %+v", hist.Refreshes[0])
	}

	// A standard refresh is unchanged: it still says NoNotification.
	st.ok(t, "refresh_dataset", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales"}, &res)
	if body := lastBody(t, st, routeRefreshInGroup); res.Enhanced || body != `{"notifyOption":"NoNotification"}` {
		t.Fatalf("standard refresh sent %s (%+v)", body, res)
	}
}

func TestEnhancedRefreshRules(t *testing.T) {
	st := newStack(t, stackOptions{})
	msg := st.fails(t, "refresh_dataset", map[string]any{"workspace": "Finance", "dataset": "Finance KPIs", "type": "Full", "notify_option": "MailOnFailure"})
	if !strings.Contains(msg, "notify_option works only for a standard refresh") {
		t.Errorf("notify_option with enhanced arguments: %s", msg)
	}
	msg = st.fails(t, "refresh_dataset", map[string]any{"workspace": "Finance", "dataset": "Finance KPIs", "timeout": "5h"})
	if !strings.Contains(msg, "Invalid arguments") || !strings.Contains(msg, "timeout") {
		t.Errorf("bad timeout: %s", msg)
	}
	if n := st.tenant.Count(routeRefreshInGroup); n != 0 {
		t.Fatalf("refused arguments reached Power BI %d times", n)
	}
	// Shared capacity has no enhanced refresh; Power BI's refusal is passed on. By id: a
	// workspace found by name is known to be on shared capacity, and nothing is sent.
	msg = st.fails(t, "refresh_dataset", map[string]any{"workspace": pbitest.DemoMarketingWorkspaceID, "dataset": "Web Traffic", "retry_count": 2})
	for _, want := range []string{"HTTP 400", "Premium", "RequestId: "} {
		if !strings.Contains(msg, want) {
			t.Errorf("enhanced refresh on shared capacity lacks %q: %s", want, msg)
		}
	}
	// PartialBatch without apply_refresh_policy false is refused by Power BI.
	msg = st.fails(t, "refresh_dataset", map[string]any{"workspace": "Finance", "dataset": "Finance KPIs", "commit_mode": "PartialBatch"})
	if !strings.Contains(msg, "applyRefreshPolicy must be false") {
		t.Errorf("PartialBatch: %s", msg)
	}
	var res RefreshResult
	st.ok(t, "refresh_dataset", map[string]any{"workspace": "Finance", "dataset": "Finance KPIs", "commit_mode": "PartialBatch",
		"apply_refresh_policy": false, "max_parallelism": 4, "retry_count": 0, "effective_date": "2025-06-30", "timeout": "01:30:00"}, &res)
	want := `{"commitMode":"PartialBatch","maxParallelism":4,"retryCount":0,"applyRefreshPolicy":false,"effectiveDate":"2025-06-30","timeout":"01:30:00"}`
	if body := lastBody(t, st, routeRefreshInGroup); body != want || res.Status != "Started" || !guidPattern.MatchString(res.RequestID) {
		t.Fatalf("sent %s, answer %+v", body, res)
	}
}

func TestRefreshDetailsAndCancel(t *testing.T) {
	st := newStack(t, stackOptions{})
	inventory := map[string]any{"workspace": "Sales Analytics", "dataset": "Inventory", "refresh_id": pbitest.DemoInventoryRefreshID}
	var det RefreshDetailsResult
	st.ok(t, "get_refresh_details", inventory, &det)
	if !det.Running || det.Refresh.ExtendedStatus != "InProgress" || len(det.Refresh.Objects) != 3 ||
		det.Refresh.Objects[0].Status != "InProgress" || det.Refresh.Objects[2].Status != "NotStarted" || det.Refresh.ObjectsCompleted != 0 {
		t.Fatalf("running details %+v", det)
	}

	var cancelled CancelRefreshResult
	st.ok(t, "cancel_refresh", inventory, &cancelled)
	if cancelled.Status != "Cancelled" || cancelled.Message != "The refresh was cancelled." {
		t.Fatalf("cancel %+v", cancelled)
	}
	st.ok(t, "get_refresh_details", inventory, &det)
	if det.Running || det.Refresh.Status != "Cancelled" || det.Refresh.EndTime == "" {
		t.Fatalf("after cancel %+v", det)
	}
	var hist RefreshHistoryResult
	st.ok(t, "get_refresh_history", map[string]any{"workspace": "Sales Analytics", "dataset": "Inventory"}, &hist)
	if hist.Refreshes[0].Status != "Cancelled" {
		t.Fatalf("history after cancel %+v", hist.Refreshes[0])
	}

	// A refresh that is over keeps its outcome.
	finance := map[string]any{"workspace": "Finance", "dataset": "Finance KPIs", "refresh_id": pbitest.DemoFinanceRefreshID}
	st.ok(t, "cancel_refresh", finance, &cancelled)
	if cancelled.Status != "Completed" || !strings.Contains(cancelled.Message, "already ended") {
		t.Fatalf("cancel of a completed refresh %+v", cancelled)
	}

	// Standard refreshes have no details; Power BI answers 404 and the model learns where to look.
	var started RefreshResult
	st.ok(t, "refresh_dataset", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales"}, &started)
	msg := st.fails(t, "get_refresh_details", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales", "refresh_id": started.RequestID})
	if !strings.Contains(msg, "is a ViaApi refresh, not an enhanced one") {
		t.Errorf("details of a standard refresh: %s", msg)
	}
	msg = st.fails(t, "cancel_refresh", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales", "refresh_id": pbitest.DemoFinanceRefreshID})
	if !strings.Contains(msg, "No refresh "+pbitest.DemoFinanceRefreshID+` in the history of "Sales"`) {
		t.Errorf("cancel of an unknown refresh: %s", msg)
	}
	msg = st.fails(t, "cancel_refresh", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales", "refresh_id": "not-a-guid"})
	if !strings.Contains(msg, "Invalid arguments") {
		t.Errorf("bad refresh id: %s", msg)
	}
}

func TestRefreshScheduleTools(t *testing.T) {
	st := newStack(t, stackOptions{})
	var sch RefreshScheduleResult
	st.ok(t, "get_refresh_schedule", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales"}, &sch)
	if !sch.Schedule.Enabled || strings.Join(sch.Schedule.Times, ",") != "06:00,18:00" || sch.Schedule.NotifyOption != "MailOnFailure" {
		t.Fatalf("seeded schedule %+v", sch.Schedule)
	}

	inventory := map[string]any{"workspace": "Sales Analytics", "dataset": "Inventory"}
	with := func(extra map[string]any) map[string]any {
		out := map[string]any{}
		for k, v := range inventory {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	msg := st.fails(t, "update_refresh_schedule", with(map[string]any{"enabled": false, "days": []string{"Monday"}}))
	if !strings.Contains(msg, "enabled=false alone") {
		t.Errorf("disable with a change: %s", msg)
	}
	msg = st.fails(t, "update_refresh_schedule", inventory)
	if !strings.Contains(msg, "Nothing to change") {
		t.Errorf("no change: %s", msg)
	}
	msg = st.fails(t, "update_refresh_schedule", with(map[string]any{"days": []string{"Monday"}, "times": []string{"07:15"}}))
	if !strings.Contains(msg, "Invalid arguments") {
		t.Errorf("time off the half hour: %s", msg)
	}
	if n := st.tenant.Count(routeRefreshSchedule); n != 0 {
		t.Fatalf("refused arguments reached Power BI %d times", n)
	}

	st.ok(t, "update_refresh_schedule", with(map[string]any{"days": []string{"Saturday", "Monday"}, "times": []string{"22:30", "05:00"},
		"local_time_zone_id": "Eastern Standard Time", "enabled": true, "notify_option": "NoNotification"}), &sch)
	if !sch.Schedule.Enabled || strings.Join(sch.Schedule.Days, ",") != "Monday,Saturday" || strings.Join(sch.Schedule.Times, ",") != "05:00,22:30" ||
		sch.Schedule.LocalTimeZoneID != "Eastern Standard Time" {
		t.Fatalf("updated schedule %+v", sch.Schedule)
	}
	st.ok(t, "update_refresh_schedule", with(map[string]any{"enabled": false}), &sch)
	if body := lastBody(t, st, routeRefreshSchedule); body != `{"value":{"enabled":false}}` || sch.Schedule.Enabled {
		t.Fatalf("disable sent %s, schedule %+v", body, sch.Schedule)
	}
	st.ok(t, "get_refresh_schedule", inventory, &sch)
	if sch.Schedule.Enabled || len(sch.Schedule.Days) != 2 {
		t.Fatalf("read back %+v", sch.Schedule)
	}

	// Power BI's rules the schema cannot express come back as its errors, with a next step.
	msg = st.fails(t, "update_refresh_schedule", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales", "times": []string{"08:00"}})
	for _, want := range []string{"HTTP 400", "only supported for the dataset owner", "Next: "} {
		if !strings.Contains(msg, want) {
			t.Errorf("not the owner: lacks %q: %s", want, msg)
		}
	}
	msg = st.fails(t, "update_refresh_schedule", with(map[string]any{"notify_option": "MailOnFailure"}))
	if !strings.Contains(msg, "app only owner") {
		t.Errorf("mail for a service principal: %s", msg)
	}
}

func TestDirectQueryRefreshSchedule(t *testing.T) {
	st := newStack(t, stackOptions{})
	live := map[string]any{"workspace": "Sales Analytics", "dataset": "Inventory Live", "direct_query": true}
	with := func(extra map[string]any) map[string]any {
		out := map[string]any{"workspace": "Sales Analytics", "dataset": "Inventory Live"}
		maps.Copy(out, extra)
		return out
	}
	var sch RefreshScheduleResult
	st.ok(t, "get_refresh_schedule", live, &sch)
	if sch.DirectQuerySchedule == nil || sch.DirectQuerySchedule.Frequency != 30 || sch.Schedule != nil {
		t.Fatalf("seeded %+v", sch)
	}
	for _, c := range []struct {
		args map[string]any
		want string
	}{
		{with(map[string]any{"frequency": 15, "days": []string{"Monday"}}), "not both"},
		{with(map[string]any{"frequency": 45}), "Invalid arguments"},
		{with(map[string]any{"direct_query": true, "enabled": false}), "has no enabled or notify_option"},
		{with(map[string]any{"frequency": 60, "notify_option": "NoNotification"}), "has no enabled or notify_option"},
		{with(map[string]any{"direct_query": true}), "Nothing to change"},
	} {
		if msg := st.fails(t, "update_refresh_schedule", c.args); !strings.Contains(msg, c.want) {
			t.Errorf("%v: %s, want %q", c.args, msg, c.want)
		}
	}
	if n := st.tenant.Count(routeDQRefreshSchedule) + st.tenant.Count(routeRefreshSchedule); n != 0 {
		t.Fatalf("refused arguments reached Power BI %d times", n)
	}
	var byDays, byFrequency RefreshScheduleResult
	st.ok(t, "update_refresh_schedule", with(map[string]any{"direct_query": true, "days": []string{"Tuesday"}, "times": []string{"09:00", "17:30"}}), &byDays)
	if s := byDays.DirectQuerySchedule; s == nil || s.Frequency != 0 || strings.Join(s.Times, ",") != "09:00,17:30" {
		t.Fatalf("days and times %+v", byDays)
	}
	// A frequency is a cache refresh's alone: it needs no direct_query.
	st.ok(t, "update_refresh_schedule", with(map[string]any{"frequency": 60}), &byFrequency)
	if s := byFrequency.DirectQuerySchedule; s == nil || s.Frequency != 60 || len(s.Days) != 0 {
		t.Fatalf("frequency %+v", byFrequency)
	}
	if n := st.tenant.Count(routeRefreshSchedule); n != 0 {
		t.Errorf("the import schedule was changed %d times", n)
	}
	msg := st.fails(t, "get_refresh_schedule", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales", "direct_query": true})
	if !strings.Contains(msg, "DirectQuery") {
		t.Errorf("import model: %s", msg)
	}
}

// A running refresh has one status in every tool: Power BI says Unknown in the history and in
// the details; both tools say InProgress.
func TestRunningRefreshHasOneStatusInEveryTool(t *testing.T) {
	st := newStack(t, stackOptions{})
	args := map[string]any{"workspace": "Sales Analytics", "dataset": "Inventory"}
	var hist RefreshHistoryResult
	st.ok(t, "get_refresh_history", args, &hist)
	var running *Refresh
	for i := range hist.Refreshes {
		if hist.Refreshes[i].RequestID == pbitest.DemoInventoryRefreshID {
			running = &hist.Refreshes[i]
		}
	}
	if running == nil || running.Status != "InProgress" {
		t.Fatalf("history of Inventory: %+v", hist.Refreshes)
	}
	var det RefreshDetailsResult
	st.ok(t, "get_refresh_details", map[string]any{"workspace": "Sales Analytics", "dataset": "Inventory", "refresh_id": pbitest.DemoInventoryRefreshID}, &det)
	if !det.Running || det.Refresh.Status != running.Status {
		t.Fatalf("details say %q (running %v), the history %q", det.Refresh.Status, det.Running, running.Status)
	}
}
