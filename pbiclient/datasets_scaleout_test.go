package pbiclient_test

import (
	"context"
	"testing"
	"time"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

func TestQueryScaleOutSync(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	srv.SeedDemo()
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()
	fin, forecast := pbitest.DemoFinanceWorkspaceID, pbitest.DemoForecastDatasetID

	st, err := c.GetQueryScaleOutSyncStatus(ctx, fin, forecast)
	if err != nil || st.ScaleOutStatus != "ReadOnlyReplicasDisabled" || st.CommitVersion == 0 {
		t.Fatalf("before replicas: %+v, %v", st, err)
	}
	// No replicas: nothing to sync, and the status says why.
	if st, err := c.TriggerQueryScaleOutSync(ctx, fin, forecast); err != nil || st.ScaleOutStatus != "ReadOnlyReplicasDisabled" || st.TriggerReason == "explicit" {
		t.Fatalf("trigger without replicas: %+v, %v", st, err)
	}

	replicas, manual := 2, false
	if err := c.UpdateDataset(ctx, fin, forecast, pbiclient.UpdateDatasetRequest{QueryScaleOutSettings: &pbiclient.QueryScaleOutSettingsPatch{
		MaxReadOnlyReplicas: &replicas, AutoSyncReadOnlyReplicas: &manual}}); err != nil {
		t.Fatal(err)
	}
	st, err = c.TriggerQueryScaleOutSync(ctx, fin, forecast)
	if err != nil || st.ScaleOutStatus != "Enabled" || st.TriggerReason != "explicit" || st.TargetSyncVersion != st.CommitVersion || st.Synced() {
		t.Fatalf("trigger: %+v, %v", st, err)
	}
	reqs := apiRequests(srv)
	if last := reqs[len(reqs)-1]; last.Method != "POST" || last.Path != apiPrefix+"/groups/"+fin+"/datasets/"+forecast+"/queryScaleOut/sync" {
		t.Errorf("sent %s %s", last.Method, last.Path)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !st.Synced() && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		if st, err = c.GetQueryScaleOutSyncStatus(ctx, fin, forecast); err != nil {
			t.Fatal(err)
		}
	}
	if !st.Synced() || st.TriggerReason != "explicit" {
		t.Fatalf("after the sync: %+v", st)
	}

	// My workspace has both operations; a small-format model cannot scale out.
	if st, err := c.GetQueryScaleOutSyncStatus(ctx, "", pbitest.DemoPersonalBudgetDatasetID); err != nil || st.ScaleOutStatus != "StorageModeNotSupported" {
		t.Errorf("My workspace: %+v, %v", st, err)
	}
	if _, err := c.TriggerQueryScaleOutSync(ctx, "", pbitest.DemoPersonalBudgetDatasetID); err != nil {
		t.Errorf("My workspace trigger: %v", err)
	}
}
