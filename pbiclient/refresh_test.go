package pbiclient_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// lastRequestOn returns the last request Power BI received on route.
func lastRequestOn(t *testing.T, srv *pbitest.Server, route string) pbitest.Request {
	t.Helper()
	reqs := srv.Requests()
	for i := len(reqs) - 1; i >= 0; i-- {
		if reqs[i].Route == route {
			return reqs[i]
		}
	}
	t.Fatalf("no request on %s", route)
	return pbitest.Request{}
}

func TestEnhancedRefreshFollowedThroughDetails(t *testing.T) {
	srv := newTenant(t, pbitest.Options{RefreshDuration: 1500 * time.Millisecond})
	ws := srv.AddWorkspace(pbitest.Workspace{Name: "Premium", IsOnDedicatedCapacity: true})
	ds := srv.AddDataset(ws.ID, pbitest.Dataset{Name: "Model", IsRefreshable: true})
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()

	two, off := 2, false
	started, err := c.RefreshDataset(ctx, ws.ID, ds.ID, pbiclient.RefreshRequest{Type: "Full", CommitMode: "PartialBatch",
		ApplyRefreshPolicy: &off, MaxParallelism: &two, Timeout: "01:00:00",
		Objects: []pbiclient.RefreshObject{{Table: "Sales", Partition: "2025"}, {Table: "Customers"}}})
	if err != nil {
		t.Fatal(err)
	}
	sent := lastRequestOn(t, srv, refreshRoute)
	want := `{"type":"Full","commitMode":"PartialBatch","maxParallelism":2,"objects":[{"table":"Sales","partition":"2025"},{"table":"Customers"}],"applyRefreshPolicy":false,"timeout":"01:00:00"}`
	if string(sent.Body) != want {
		t.Fatalf("body sent:\n%s\nwant\n%s", sent.Body, want)
	}
	if started.RefreshID == "" || !strings.HasSuffix(started.Location, "/refreshes/"+started.RefreshID) {
		t.Fatalf("started = %+v", started)
	}

	var polls []pbiclient.RefreshDetails
	final, err := c.WaitRefreshDetails(ctx, ws.ID, ds.ID, started.RefreshID, func(d pbiclient.RefreshDetails) { polls = append(polls, d) })
	if err != nil {
		t.Fatal(err)
	}
	if final.ExtendedStatus != "Completed" || final.EndTime == "" || len(final.Objects) != 2 || final.Objects[1].Status != "Completed" {
		t.Fatalf("final = %+v", final)
	}
	if len(polls) < 2 || !polls[0].Running() || polls[0].Objects[0].Table != "Sales" {
		t.Fatalf("polls = %+v", polls)
	}
	got := lastRequestOn(t, srv, "GET "+apiPrefix+"/groups/{groupId}/datasets/{datasetId}/refreshes/{refreshId}")
	if got.Path != apiPrefix+"/groups/"+ws.ID+"/datasets/"+ds.ID+"/refreshes/"+started.RefreshID {
		t.Errorf("details path %s", got.Path)
	}
}

func TestCancelEnhancedRefresh(t *testing.T) {
	srv := newTenant(t, pbitest.Options{RefreshDuration: time.Hour})
	ws := srv.AddWorkspace(pbitest.Workspace{Name: "Premium", IsOnDedicatedCapacity: true})
	ds := srv.AddDataset(ws.ID, pbitest.Dataset{Name: "Model", IsRefreshable: true})
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()

	zero := 0
	started, err := c.RefreshDataset(ctx, ws.ID, ds.ID, pbiclient.RefreshRequest{RetryCount: &zero})
	if err != nil {
		t.Fatal(err)
	}
	if b := string(lastRequestOn(t, srv, refreshRoute).Body); b != `{"retryCount":0}` {
		t.Fatalf("a zero retry count must still be sent (it makes the refresh enhanced): %s", b)
	}
	if err := c.CancelRefresh(ctx, ws.ID, ds.ID, started.RefreshID); err != nil {
		t.Fatal(err)
	}
	if n := srv.Count("DELETE " + apiPrefix + "/groups/{groupId}/datasets/{datasetId}/refreshes/{refreshId}"); n != 1 {
		t.Fatalf("DELETE count %d", n)
	}
	final, err := c.WaitRefreshDetails(ctx, ws.ID, ds.ID, started.RefreshID, nil)
	var failed *pbiclient.JobFailedError
	if !errors.As(err, &failed) || failed.Status != "Cancelled" || final.Status != "Cancelled" {
		t.Fatalf("err = %v, final = %+v", err, final)
	}

	// A standard refresh has no details: the service answers 404.
	std, err := c.RefreshDataset(ctx, ws.ID, srv.AddDataset(ws.ID, pbitest.Dataset{Name: "Other", IsRefreshable: true}).ID, pbiclient.RefreshRequest{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetRefreshDetails(ctx, ws.ID, ds.ID, std.RequestID)
	var apiErr *pbiclient.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound {
		t.Fatalf("details of a standard refresh: %v", err)
	}
}

func TestEnhancedRefreshFailureDetail(t *testing.T) {
	srv := newTenant(t, pbitest.Options{RefreshDuration: 100 * time.Millisecond})
	ws := srv.AddWorkspace(pbitest.Workspace{Name: "Premium", IsOnDedicatedCapacity: true})
	ds := srv.AddDataset(ws.ID, pbitest.Dataset{Name: "Model", IsRefreshable: true, RefreshError: "ModelRefreshFailed_CredentialsNotSpecified"})
	c := newClient(t, srv, newTenantTokens(srv))
	started, err := c.RefreshDataset(context.Background(), ws.ID, ds.ID, pbiclient.RefreshRequest{Type: "DataOnly"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.WaitRefreshDetails(context.Background(), ws.ID, ds.ID, started.RefreshID, nil)
	var failed *pbiclient.JobFailedError
	if !errors.As(err, &failed) || failed.Status != "Failed" || !strings.Contains(failed.Detail, "CredentialsNotSpecified") {
		t.Fatalf("err = %v", err)
	}
}

func TestRefreshSchedules(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	srv.SeedDemo()
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()
	ws := pbitest.DemoSalesWorkspaceID

	sch, err := c.GetRefreshSchedule(ctx, ws, pbitest.DemoSalesDatasetID)
	if err != nil {
		t.Fatal(err)
	}
	if !sch.Enabled || len(sch.Days) != 5 || sch.LocalTimeZoneID != "W. Europe Standard Time" || sch.NotifyOption != "MailOnFailure" {
		t.Fatalf("schedule = %+v", sch)
	}

	on := true
	err = c.UpdateRefreshSchedule(ctx, ws, pbitest.DemoInventoryDatasetID, pbiclient.RefreshScheduleUpdate{
		Days: []string{"Monday"}, Times: []string{"07:00"}, Enabled: &on})
	if err != nil {
		t.Fatal(err)
	}
	sent := lastRequestOn(t, srv, "PATCH "+apiPrefix+"/groups/{groupId}/datasets/{datasetId}/refreshSchedule")
	if string(sent.Body) != `{"value":{"days":["Monday"],"times":["07:00"],"enabled":true}}` {
		t.Errorf("PATCH body %s", sent.Body)
	}
	if sch, err = c.GetRefreshSchedule(ctx, ws, pbitest.DemoInventoryDatasetID); err != nil || !sch.Enabled || sch.Times[0] != "07:00" {
		t.Fatalf("after update: %+v %v", sch, err)
	}
	// Only the owner may change a schedule; the service says so.
	err = c.UpdateRefreshSchedule(ctx, ws, pbitest.DemoSalesDatasetID, pbiclient.RefreshScheduleUpdate{Days: []string{"Monday"}})
	var apiErr *pbiclient.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest || !strings.Contains(apiErr.Message, "dataset owner") {
		t.Fatalf("not the owner: %v", err)
	}

	dq, err := c.GetDirectQueryRefreshSchedule(ctx, ws, pbitest.DemoInventoryLiveDatasetID)
	if err != nil || dq.Frequency != 30 {
		t.Fatalf("DirectQuery schedule = %+v %v", dq, err)
	}
	if err := c.UpdateDirectQueryRefreshSchedule(ctx, ws, pbitest.DemoInventoryLiveDatasetID, pbiclient.DirectQueryRefreshScheduleUpdate{Frequency: 120}); err != nil {
		t.Fatal(err)
	}
	sent = lastRequestOn(t, srv, "PATCH "+apiPrefix+"/groups/{groupId}/datasets/{datasetId}/directQueryRefreshSchedule")
	if string(sent.Body) != `{"value":{"frequency":120}}` {
		t.Errorf("PATCH body %s", sent.Body)
	}
	if dq, _ = c.GetDirectQueryRefreshSchedule(ctx, ws, pbitest.DemoInventoryLiveDatasetID); dq.Frequency != 120 {
		t.Errorf("after update: %+v", dq)
	}
	// My workspace variant has no /groups segment.
	if _, err := c.GetRefreshSchedule(ctx, "", pbitest.DemoPersonalBudgetDatasetID); err != nil {
		t.Fatal(err)
	}
	if n := srv.Count("GET " + apiPrefix + "/datasets/{datasetId}/refreshSchedule"); n != 1 {
		t.Errorf("My workspace route count %d", n)
	}
}
