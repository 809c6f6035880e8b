package pbitest

import (
	"fmt"
	"time"
)

// What the sandbox holds so that the questions people bring to it have answers: why did this
// refresh fail, who did what in the tenant last month.

const (
	// DemoWebTrafficFailedRefreshID is an on-demand refresh of Web Traffic that failed for want
	// of data source credentials a day before the tenant started. A standard refresh: it is in
	// the history, and Power BI keeps no details of it.
	DemoWebTrafficFailedRefreshID = "c4e6a8b0-1d3f-4a5c-8e7a-9b1d3f5a7c35"
	// DemoForecastFailedRefreshID is an enhanced refresh of Forecast that failed at its
	// gateway (a connection timeout) three hours before the tenant started, with details
	// (objects, engine messages).
	DemoForecastFailedRefreshID = "d5f7b9c1-2e4a-4b6d-9f8b-0c2e4a6b8d46"

	// DemoRecentActivityDays is how many days before the tenant started, today included,
	// hold activity events.
	DemoRecentActivityDays = 30
	// DemoBusyActivityEvents is how many events the busiest of them, the day before the tenant
	// started, holds: more than admin_get_activity_events returns by default, so reading it
	// whole takes a continuation.
	DemoBusyActivityEvents = 1500
)

// demoGatewayFailure is the error of the Forecast refresh: the gateway could not connect to its
// SQL source in time. The source is reachable again (get_gateway_datasource_status says so), as
// after the network faults behind many gateway failures, so the fix is to refresh again.
const (
	demoGatewayFailure     = "DM_GWPipeline_Gateway_MashupDataAccessError"
	demoGatewayFailureText = "DataSource.Error: Microsoft SQL: A network-related or instance-specific error occurred while establishing a connection to SQL Server. " +
		"The server was not found or was not accessible. (provider: TCP Provider, error: 0 - The wait operation timed out.) " +
		"Data source kind: SQL. Data source path: contoso-finance.database.windows.net;Planning."
)

// seedSandbox adds the sandbox's failed refreshes and recent activity log. Both are relative to
// the time of seeding, as the service's clock runs.
func (s *Server) seedSandbox() {
	now := time.Now().UTC().Truncate(time.Second)
	s.seedFailedRefreshes(now)
	s.seedRecentActivity(now)
}

func (s *Server) seedFailedRefreshes(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// More than a day ago, so it leaves the shared capacity's eight refreshes a day to the user.
	web := now.Add(-26 * time.Hour)
	s.state.workspace(DemoMarketingWorkspaceID).dataset(DemoWebTrafficDatasetID).addRefresh(&refreshJob{
		requestID: DemoWebTrafficFailedRefreshID, refreshType: "OnDemand",
		start: web, end: web.Add(17 * time.Second), failure: "ModelRefreshFailed_CredentialsNotSpecified",
	})
	forecast := now.Add(-3 * time.Hour)
	s.state.workspace(DemoFinanceWorkspaceID).dataset(DemoForecastDatasetID).addRefresh(&refreshJob{
		requestID: DemoForecastFailedRefreshID, refreshType: "ViaEnhancedApi", enhanced: true,
		start: forecast, end: forecast.Add(94 * time.Second), typ: "Full", commitMode: "Transactional",
		objects: []refreshObject{{Table: "Scenarios"}, {Table: "Plan"}},
		failure: demoGatewayFailure, failureText: demoGatewayFailureText,
	})
}

// Workspaces and items the recent activity log names.
var recentActivityItems = []struct{ workspace, item string }{
	{DemoSalesWorkspaceID, "Sales Overview"},
	{DemoFinanceWorkspaceID, "Monthly Close"},
	{DemoMarketingWorkspaceID, "Campaign Performance"},
	{DemoSalesWorkspaceID, "Live Orders Monitor"},
}

// seedRecentActivity fills the activity log of the last DemoRecentActivityDays days: a few dozen
// events in the working hours of each, DemoBusyActivityEvents on the day before, and on the day
// of seeding only those already past. They are made when the log is first read.
func (s *Server) seedRecentActivity(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.audit()
	a.later = append(a.later, func() []ActivityEvent { return recentActivity(now) })
}

func recentActivity(now time.Time) []ActivityEvent {
	today := now.Truncate(24 * time.Hour)
	events := make([]ActivityEvent, 0, DemoBusyActivityEvents+DemoRecentActivityDays*60)
	// Oldest day first, so the log needs no sort.
	for ago := DemoRecentActivityDays - 1; ago >= 0; ago-- {
		day := today.AddDate(0, 0, -ago)
		n := 20 + (day.YearDay()*7)%40 // fixed by the date, so a day looks the same on every run
		if ago == 1 {
			n = DemoBusyActivityEvents
		}
		start := day.Add(8 * time.Hour)
		for i := range n {
			at := start.Add(time.Duration(int64(10*time.Hour) * int64(i) / int64(n))).Truncate(time.Second)
			if !at.Before(now) {
				break
			}
			item := recentActivityItems[(i+ago)%len(recentActivityItems)]
			events = append(events, ActivityEvent{
				// The date in the id keeps ids apart from those of SeedActivityEvents.
				ID:           fmt.Sprintf("%s-5a0d-4000-8000-%012d", day.Format("20060102"), i),
				CreationTime: at,
				Activity:     seedActivities[(i+ago)%len(seedActivities)],
				UserID:       seedUsers[i%len(seedUsers)],
				WorkspaceID:  item.workspace,
				ItemName:     item.item,
			})
		}
	}
	return events
}
