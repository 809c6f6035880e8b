package tools

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// The questions people bring to the sandbox have answers there, through the tools.

func TestSandboxAnswersWhyARefreshFailed(t *testing.T) {
	st := newStack(t, stackOptions{})
	var hist RefreshHistoryResult
	st.ok(t, "get_refresh_history", map[string]any{"workspace": "Marketing", "dataset": "Web Traffic"}, &hist)
	if hist.Count != 1 || hist.Refreshes[0].Status != "Failed" || hist.Refreshes[0].RequestID != pbitest.DemoWebTrafficFailedRefreshID ||
		!strings.Contains(hist.Refreshes[0].Error, "ModelRefreshFailed_CredentialsNotSpecified") {
		t.Fatalf("Web Traffic history %+v", hist.Refreshes)
	}

	st.ok(t, "get_refresh_history", map[string]any{"workspace": "Finance", "dataset": "Forecast"}, &hist)
	if hist.Count != 1 || hist.Refreshes[0].Status != "Failed" || hist.Refreshes[0].RefreshType != "ViaEnhancedApi" ||
		!strings.Contains(hist.Refreshes[0].Error, "DM_GWPipeline_Gateway_MashupDataAccessError") ||
		!strings.Contains(hist.Refreshes[0].Error, "The wait operation timed out") || hist.Refreshes[0].DurationSeconds != 94 {
		t.Fatalf("Forecast history %+v", hist.Refreshes)
	}
	var det RefreshDetailsResult
	st.ok(t, "get_refresh_details", map[string]any{"workspace": "Finance", "dataset": "Forecast", "refresh_id": hist.Refreshes[0].RequestID}, &det)
	if det.Running || det.Refresh.Status != "Failed" || det.Refresh.ExtendedStatus != "Failed" || len(det.Refresh.Messages) != 1 ||
		!strings.Contains(det.Refresh.Messages[0].Message, "The wait operation timed out") || det.Refresh.ObjectsCompleted != 1 || len(det.Refresh.Objects) != 2 {
		t.Fatalf("Forecast details %+v", det)
	}
}

func TestSandboxActivityOfYesterdayNeedsAContinuation(t *testing.T) {
	st := newStack(t, stackOptions{})
	yesterday := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -1).Format(time.DateOnly)
	var first ActivityEventsResult
	st.ok(t, "admin_get_activity_events", map[string]any{
		"start_date_time": yesterday + "T00:00:00Z", "end_date_time": yesterday + "T23:59:59.999Z"}, &first)
	if !first.Truncated || first.ContinuationToken == "" {
		t.Fatalf("first answer: %d events, truncated %v, token %q; want a continuation", first.Count, first.Truncated, first.ContinuationToken)
	}
	// Following the continuation yields every event of the day: more than one answer holds.
	total, token, answers := first.Count, first.ContinuationToken, 1
	for token != "" && answers < 200 {
		var rest ActivityEventsResult
		st.ok(t, "admin_get_activity_events", map[string]any{"continuation_token": token}, &rest)
		total, token, answers = total+rest.Count, rest.ContinuationToken, answers+1
	}
	if total != pbitest.DemoBusyActivityEvents || answers < 2 || defaultActivityLimit >= pbitest.DemoBusyActivityEvents {
		t.Fatalf("%d events in %d answers; want %d, more than the default limit %d", total, answers, pbitest.DemoBusyActivityEvents, defaultActivityLimit)
	}
}

func TestSandboxDAXTreatAs(t *testing.T) {
	st := newStack(t, stackOptions{})
	var res DAXQueryResult
	st.ok(t, "execute_dax_query", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales",
		"query": `EVALUATE ROW("Two", CALCULATE([Total Sales], TREATAS({"Bikes", "Clothing"}, 'Product'[Category])),
			"Either", CALCULATE([Total Sales], Product[Category] = "Bikes" || Product[Category] = "Clothing"), "All", [Total Sales])`}, &res)
	if len(res.Rows) != 1 {
		t.Fatalf("rows %v", res.Rows)
	}
	two, either, all := res.Rows[0][0].(float64), res.Rows[0][1].(float64), res.Rows[0][2].(float64)
	if math.Abs(two-either) > 1e-6 || two >= all {
		t.Fatalf("TREATAS of two of three categories gave %v; the same filter as a condition %v, all %v", two, either, all)
	}
}
