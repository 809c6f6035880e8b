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

func TestListDatasets(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	ws := srv.AddWorkspace(pbitest.Workspace{Name: "Sales"})
	created := time.Date(2024, 7, 23, 23, 44, 55, 707e6, time.UTC)
	sales := srv.AddDataset(ws.ID, pbitest.Dataset{Name: "Sales model", IsRefreshable: true, CreatedDate: created})
	mine := srv.AddDataset("", pbitest.Dataset{Name: "My model", TargetStorageMode: "PremiumFiles"})
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()

	got, err := c.ListDatasets(ctx, ws.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("datasets = %+v", got)
	}
	d := got[0]
	if d.ID != sales.ID || d.Name != "Sales model" || !d.IsRefreshable || d.ConfiguredBy == "" ||
		d.TargetStorageMode != "Abf" || d.CreatedDate != "2024-07-23T23:44:55.707Z" || d.WebURL == "" {
		t.Errorf("dataset = %+v", d)
	}

	got, err = c.ListDatasets(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != mine.ID || got[0].TargetStorageMode != "PremiumFiles" || got[0].IsRefreshable {
		t.Errorf("My workspace datasets = %+v", got)
	}

	if n := srv.Count("GET " + apiPrefix + "/groups/{groupId}/datasets"); n != 1 {
		t.Errorf("workspace route count = %d, want 1", n)
	}
	if n := srv.Count("GET " + apiPrefix + "/datasets"); n != 1 {
		t.Errorf("My workspace route count = %d, want 1", n)
	}
}

const refreshRoute = "POST " + apiPrefix + "/groups/{groupId}/datasets/{datasetId}/refreshes"

func TestRefreshAndWait(t *testing.T) {
	srv := newTenant(t, pbitest.Options{RefreshDuration: 300 * time.Millisecond})
	ws := srv.AddWorkspace(pbitest.Workspace{Name: "Sales"})
	ds := srv.AddDataset(ws.ID, pbitest.Dataset{Name: "Sales model", IsRefreshable: true})
	mine := srv.AddDataset("", pbitest.Dataset{Name: "My model", IsRefreshable: true})
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()

	started, err := c.RefreshDataset(ctx, ws.ID, ds.ID, pbiclient.RefreshRequest{NotifyOption: "NoNotification"})
	if err != nil {
		t.Fatal(err)
	}
	reqs := apiRequests(srv)
	post := reqs[len(reqs)-1]
	if post.Route != refreshRoute || string(post.Body) != `{"notifyOption":"NoNotification"}` || post.RequestID != started.RequestID {
		t.Errorf("request = %s %q (RequestId %s), started = %+v", post.Route, post.Body, post.RequestID, started)
	}
	if started.RefreshID != "" || started.Location != "" {
		t.Errorf("a standard refresh got enhanced-refresh headers: %+v", started)
	}

	var polls []pbiclient.Refresh
	final, err := c.WaitRefresh(ctx, ws.ID, ds.ID, started.RequestID, func(r pbiclient.Refresh) { polls = append(polls, r) })
	if err != nil {
		t.Fatal(err)
	}
	if final.RequestID != started.RequestID || final.Status != "Completed" || final.RefreshType != "ViaApi" ||
		final.StartTime == "" || final.EndTime == "" {
		t.Errorf("final = %+v", final)
	}
	if len(polls) == 0 || polls[len(polls)-1].Status != "Completed" {
		t.Errorf("onPoll saw %+v", polls)
	}

	history, err := c.ListRefreshes(ctx, ws.ID, ds.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(history) != 1 || history[0].RequestID != started.RequestID {
		t.Errorf("history = %+v", history)
	}
	reqs = apiRequests(srv)
	if last := reqs[len(reqs)-1]; last.RawQuery != "$top=1" {
		t.Errorf("history query = %q, want $top=1", last.RawQuery)
	}

	t.Run("My workspace", func(t *testing.T) {
		started, err := c.RefreshDataset(ctx, "", mine.ID, pbiclient.RefreshRequest{})
		if err != nil {
			t.Fatal(err)
		}
		reqs := apiRequests(srv)
		if post := reqs[len(reqs)-1]; post.Route != "POST "+apiPrefix+"/datasets/{datasetId}/refreshes" || string(post.Body) != "{}" {
			t.Errorf("request = %s %q", post.Route, post.Body)
		}
		final, err := c.WaitRefresh(ctx, "", mine.ID, started.RequestID, nil)
		if err != nil || final.Status != "Completed" {
			t.Errorf("WaitRefresh = %+v, %v", final, err)
		}
	})
}

func TestRefreshErrors(t *testing.T) {
	srv := newTenant(t, pbitest.Options{RefreshDuration: time.Hour})
	ws := srv.AddWorkspace(pbitest.Workspace{Name: "Sales"})
	ds := srv.AddDataset(ws.ID, pbitest.Dataset{Name: "Sales model", IsRefreshable: true})
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()

	t.Run("already running", func(t *testing.T) {
		if _, err := c.RefreshDataset(ctx, ws.ID, ds.ID, pbiclient.RefreshRequest{}); err != nil {
			t.Fatal(err)
		}
		_, err := c.RefreshDataset(ctx, ws.ID, ds.ID, pbiclient.RefreshRequest{})
		apiErr := asAPIError(t, err)
		if apiErr.StatusCode != http.StatusBadRequest || apiErr.Code != "InvalidRequest" ||
			!strings.Contains(apiErr.Message, "Another refresh request is already executing") || apiErr.OutcomeUnknown {
			t.Errorf("APIError = %+v", apiErr)
		}
		if n := srv.Count(refreshRoute); n != 2 {
			t.Errorf("refresh requests = %d, want 2 (a 400 is not retried)", n)
		}
	})

	t.Run("unknown dataset", func(t *testing.T) {
		missing := "0b6f1c9e-3a52-4d7e-9f10-2c8b7a6d5e41"
		_, err := c.RefreshDataset(ctx, ws.ID, missing, pbiclient.RefreshRequest{})
		apiErr := asAPIError(t, err)
		if apiErr.StatusCode != http.StatusNotFound || apiErr.Code != "ItemNotFound" || apiErr.Message == "" ||
			apiErr.Method != http.MethodPost || apiErr.Path != "/groups/"+ws.ID+"/datasets/"+missing+"/refreshes" {
			t.Errorf("APIError = %+v", apiErr)
		}
		if !pbiclient.IsNotFound(err) {
			t.Error("IsNotFound = false")
		}
	})
}

// A refresh request that may have reached the service is never sent again.
func TestRefreshNeverResent(t *testing.T) {
	for _, tt := range []struct {
		name       string
		faults     pbitest.Faults
		wantStatus int
	}{
		{"500", pbitest.Faults{ServerErrorEvery: 1}, http.StatusInternalServerError},
		{"dropped connection", pbitest.Faults{DropEvery: 1}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTenant(t, pbitest.Options{})
			ws := srv.AddWorkspace(pbitest.Workspace{Name: "Sales"})
			ds := srv.AddDataset(ws.ID, pbitest.Dataset{Name: "Sales model", IsRefreshable: true})
			c := newClient(t, srv, newTenantTokens(srv))
			srv.SetFaults(tt.faults)

			_, err := c.RefreshDataset(context.Background(), ws.ID, ds.ID, pbiclient.RefreshRequest{})
			apiErr := asAPIError(t, err)
			if apiErr.StatusCode != tt.wantStatus || !apiErr.OutcomeUnknown {
				t.Errorf("APIError = %+v", apiErr)
			}
			if tt.wantStatus != 0 && apiErr.RequestID == "" {
				t.Error("no RequestId in the error")
			}
			if !strings.Contains(err.Error(), "outcome unknown") {
				t.Errorf("Error() = %q does not say the outcome is unknown", err)
			}
			if n := srv.Count(refreshRoute); n != 1 {
				t.Errorf("refresh requests = %d, want exactly 1", n)
			}
		})
	}
}

// A throttled POST was not processed, so it is retried.
func TestThrottledRefreshRetried(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	ws := srv.AddWorkspace(pbitest.Workspace{Name: "Sales"})
	ds := srv.AddDataset(ws.ID, pbitest.Dataset{Name: "Sales model", IsRefreshable: true})
	c := newClient(t, srv, newTenantTokens(srv))
	srv.SetFaults(pbitest.Faults{ThrottleEvery: 2})
	ctx := context.Background()

	if _, err := c.ListDatasets(ctx, ws.ID); err != nil { // request 1 of the fault counter
		t.Fatal(err)
	}
	started, err := c.RefreshDataset(ctx, ws.ID, ds.ID, pbiclient.RefreshRequest{}) // 2 is throttled, 3 passes
	if err != nil {
		t.Fatal(err)
	}
	if n := srv.Count(refreshRoute); n != 2 {
		t.Errorf("refresh requests = %d, want 2", n)
	}
	history, err := c.ListRefreshes(ctx, ws.ID, ds.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(history) != 1 || history[0].RequestID != started.RequestID {
		t.Errorf("history = %+v, want the one accepted refresh", history)
	}
}

// A refresh that ends other than Completed comes back with a *JobFailedError. The test
// starts and cancels an enhanced refresh (the only kind the service can cancel) with plain
// requests, as another tool would, and follows it through the history.
func TestWaitRefreshCancelled(t *testing.T) {
	srv := newTenant(t, pbitest.Options{RefreshDuration: time.Hour})
	ws := srv.AddWorkspace(pbitest.Workspace{Name: "Sales", IsOnDedicatedCapacity: true})
	ds := srv.AddDataset(ws.ID, pbitest.Dataset{Name: "Sales model", IsRefreshable: true})
	c := newClient(t, srv, newTenantTokens(srv))

	refreshes := srv.APIBaseURL() + "/groups/" + ws.ID + "/datasets/" + ds.ID + "/refreshes"
	resp := rawRequest(t, srv, http.MethodPost, refreshes, `{"type":"Full"}`)
	refreshID := resp.Header.Get("x-ms-request-id")
	if resp.StatusCode != http.StatusAccepted || refreshID == "" {
		t.Fatalf("enhanced refresh: %d, x-ms-request-id %q", resp.StatusCode, refreshID)
	}
	if resp := rawRequest(t, srv, http.MethodDelete, refreshes+"/"+refreshID, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("cancel: %d", resp.StatusCode)
	}

	final, err := c.WaitRefresh(context.Background(), ws.ID, ds.ID, refreshID, nil)
	var failed *pbiclient.JobFailedError
	if !errors.As(err, &failed) || failed.Status != "Cancelled" || failed.ID != refreshID || failed.Operation != "refresh" {
		t.Fatalf("WaitRefresh error = %v", err)
	}
	if final.Status != "Cancelled" || final.RefreshType != "ViaEnhancedApi" {
		t.Errorf("final = %+v", final)
	}
}

func rawRequest(t *testing.T, srv *pbitest.Server, method, url, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+srv.IssueToken(time.Hour))
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}
