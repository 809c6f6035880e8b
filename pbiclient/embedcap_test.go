package pbiclient_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

func TestCapacityOperations(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	srv.SeedDemo()
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()

	caps, err := c.ListCapacities(ctx)
	if err != nil || len(caps) != 4 || caps[2].ID != pbitest.DemoEmbeddedCapacityID || caps[2].CapacityUserAccessRight != "Assign" {
		t.Fatalf("ListCapacities = %+v, %v", caps, err)
	}
	wl, err := c.ListWorkloads(ctx, pbitest.DemoCapacityID)
	if err != nil || len(wl) != 3 || wl[0].Name != "Dataflows" || wl[0].MaxMemoryPercentageSetByUser != 20 {
		t.Fatalf("ListWorkloads = %+v, %v", wl, err)
	}
	if _, err := c.ListRefreshables(ctx, "", pbiclient.RefreshablesOptions{}); err == nil {
		t.Error("ListRefreshables without Top succeeded")
	}
	rs, err := c.ListRefreshables(ctx, pbitest.DemoCapacityID, pbiclient.RefreshablesOptions{Top: 5, Skip: 1, Filter: "kind eq 'Dataset'", Expand: []string{"capacity", "group"}})
	if err != nil || len(rs) == 0 || rs[0].Group == nil || rs[0].Capacity == nil {
		t.Fatalf("ListRefreshables = %+v, %v", rs, err)
	}
	if err := c.AssignToCapacity(ctx, pbitest.DemoScratchWorkspaceID, pbitest.DemoCapacityID); err != nil {
		t.Fatal(err)
	}
	var statuses []string
	st, err := c.WaitCapacityAssignment(ctx, pbitest.DemoScratchWorkspaceID, func(a pbiclient.CapacityAssignment) { statuses = append(statuses, a.Status) })
	if err != nil || st.Status != "CompletedSuccessfully" || !strings.EqualFold(st.CapacityID, pbitest.DemoCapacityID) {
		t.Fatalf("WaitCapacityAssignment = %+v, %v (seen %v)", st, err, statuses)
	}
	if err := c.AssignToCapacity(ctx, pbitest.DemoScratchWorkspaceID, pbitest.DemoSuspendedCapacityID); err != nil {
		t.Fatal(err)
	}
	var job *pbiclient.JobFailedError
	if _, err := c.WaitCapacityAssignment(ctx, pbitest.DemoScratchWorkspaceID, nil); !errors.As(err, &job) || job.Status != "AssignmentFailed" {
		t.Errorf("suspended capacity: %v", err)
	}

	var got []string
	var assignBody string
	for _, r := range apiRequests(srv) {
		got = append(got, r.Method+" "+r.Path+"?"+r.RawQuery)
		if strings.HasSuffix(r.Path, "/AssignToCapacity") && assignBody == "" {
			assignBody = string(r.Body)
		}
	}
	want := []string{
		"GET /v1.0/myorg/capacities?",
		"GET /v1.0/myorg/capacities/" + pbitest.DemoCapacityID + "/Workloads?",
		"GET /v1.0/myorg/capacities/" + pbitest.DemoCapacityID + "/refreshables?$expand=capacity%2Cgroup&$filter=kind%20eq%20%27Dataset%27&$skip=1&$top=5",
		"POST /v1.0/myorg/groups/" + pbitest.DemoScratchWorkspaceID + "/AssignToCapacity?",
	}
	for i, w := range want {
		if i >= len(got) || got[i] != w {
			t.Errorf("request %d = %q, want %q", i, got[i], w)
		}
	}
	if assignBody != `{"capacityId":"`+pbitest.DemoCapacityID+`"}` {
		t.Errorf("assign body %s", assignBody)
	}
}

func TestEmbedTokenOperations(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	srv.SeedDemo()
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()
	fin := pbitest.DemoFinanceWorkspaceID

	tok, err := c.GenerateToken(ctx, pbiclient.GenerateTokenRequestV2{
		Reports:           []pbiclient.EmbedTokenReport{{ID: pbitest.DemoFinanceReportID, AllowEdit: true}},
		Datasets:          []pbiclient.EmbedTokenDataset{{ID: pbitest.DemoFinanceKPIsDatasetID, XmlaPermissions: "Off"}},
		TargetWorkspaces:  []pbiclient.EmbedTokenWorkspace{{ID: fin}},
		LifetimeInMinutes: 15,
	})
	if err != nil || tok.Token == "" || tok.TokenID == "" || tok.Expiration == "" {
		t.Fatalf("GenerateToken = %v, %v", tok, err)
	}
	if s := tok.String(); strings.Contains(s, tok.Token) {
		t.Errorf("String() shows the token: %s", s)
	}
	id := []pbiclient.EffectiveIdentity{{Username: "anna@contoso.com", Roles: []string{"West"}, Datasets: []string{pbitest.DemoRegionalSalesDatasetID}, CustomData: "eu"}}
	calls := []func() (pbiclient.EmbedToken, error){
		func() (pbiclient.EmbedToken, error) {
			return c.GenerateReportToken(ctx, pbitest.DemoSalesWorkspaceID, pbitest.DemoSalesReportID, pbiclient.GenerateTokenRequest{AccessLevel: "View"})
		},
		func() (pbiclient.EmbedToken, error) {
			return c.GenerateReportCreateToken(ctx, fin, pbiclient.GenerateTokenRequest{AccessLevel: "Create", DatasetID: pbitest.DemoFinanceKPIsDatasetID})
		},
		func() (pbiclient.EmbedToken, error) {
			return c.GenerateDatasetToken(ctx, pbitest.DemoSalesWorkspaceID, pbitest.DemoRegionalSalesDatasetID, pbiclient.GenerateTokenRequest{AccessLevel: "View", Identities: id})
		},
		func() (pbiclient.EmbedToken, error) {
			return c.GenerateDashboardToken(ctx, fin, pbitest.DemoFinanceDashboardID, pbiclient.GenerateTokenRequest{AccessLevel: "View"})
		},
		func() (pbiclient.EmbedToken, error) {
			return c.GenerateTileToken(ctx, fin, pbitest.DemoFinanceDashboardID, pbitest.DemoNetIncomeTileID, pbiclient.GenerateTokenRequest{})
		},
	}
	for i, call := range calls {
		if tok, err := call(); err != nil || tok.Token == "" {
			t.Errorf("call %d: %v, %v", i, tok, err)
		}
	}
	if _, err := c.GenerateReportCreateToken(ctx, fin, pbiclient.GenerateTokenRequest{}); err == nil {
		t.Error("report creation without a dataset id was sent")
	}

	reqs := apiRequests(srv)
	wantPaths := []string{
		"/v1.0/myorg/GenerateToken",
		"/v1.0/myorg/groups/" + pbitest.DemoSalesWorkspaceID + "/reports/" + pbitest.DemoSalesReportID + "/GenerateToken",
		"/v1.0/myorg/groups/" + fin + "/reports/GenerateToken",
		"/v1.0/myorg/groups/" + pbitest.DemoSalesWorkspaceID + "/datasets/" + pbitest.DemoRegionalSalesDatasetID + "/GenerateToken",
		"/v1.0/myorg/groups/" + fin + "/dashboards/" + pbitest.DemoFinanceDashboardID + "/GenerateToken",
		"/v1.0/myorg/groups/" + fin + "/dashboards/" + pbitest.DemoFinanceDashboardID + "/tiles/" + pbitest.DemoNetIncomeTileID + "/GenerateToken",
	}
	if len(reqs) != len(wantPaths) {
		t.Fatalf("%d requests, want %d", len(reqs), len(wantPaths))
	}
	for i, r := range reqs {
		if r.Method != "POST" || r.Path != wantPaths[i] {
			t.Errorf("request %d: %s %s, want POST %s", i, r.Method, r.Path, wantPaths[i])
		}
	}
	var v2 map[string]any
	if err := json.Unmarshal(reqs[0].Body, &v2); err != nil {
		t.Fatal(err)
	}
	if v2["lifetimeInMinutes"] != 15.0 || v2["reports"].([]any)[0].(map[string]any)["allowEdit"] != true ||
		v2["datasets"].([]any)[0].(map[string]any)["xmlaPermissions"] != "Off" || v2["targetWorkspaces"].([]any)[0].(map[string]any)["id"] != fin {
		t.Errorf("V2 body %s", reqs[0].Body)
	}
	if got := string(reqs[3].Body); got != `{"accessLevel":"View","identities":[{"username":"anna@contoso.com","roles":["West"],"datasets":["`+pbitest.DemoRegionalSalesDatasetID+`"],"customData":"eu"}]}` {
		t.Errorf("V1 body %s", got)
	}
}
