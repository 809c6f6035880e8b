package pbitest

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestGenerateTokenV2(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	token := s.IssueToken(30 * time.Minute)
	body := map[string]any{
		"reports":  []map[string]any{{"id": DemoFinanceReportID, "allowEdit": true}},
		"datasets": []map[string]any{{"id": DemoFinanceKPIsDatasetID, "xmlaPermissions": "ReadOnly"}},
	}
	r := do(t, s, "POST", apiPrefix+"/GenerateToken", token, body)
	wantStatus(t, r, http.StatusOK)
	m := r.json(t)
	if !strings.HasPrefix(m["token"].(string), "H4sI") || !isGUID(m["tokenId"].(string)) {
		t.Errorf("token %v", m)
	}
	// The embed token lives as long as the access token, no longer.
	exp, err := time.Parse(time.RFC3339, m["expiration"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(exp); d < 28*time.Minute || d > 31*time.Minute {
		t.Errorf("expiration in %v, want the access token's remaining 30 minutes", d)
	}
	// lifetimeInMinutes shortens it; it cannot lengthen it.
	body["lifetimeInMinutes"] = 10
	exp, _ = time.Parse(time.RFC3339, do(t, s, "POST", apiPrefix+"/GenerateToken", token, body).json(t)["expiration"].(string))
	if d := time.Until(exp); d > 11*time.Minute {
		t.Errorf("lifetime 10: expires in %v", d)
	}
	body["lifetimeInMinutes"] = 600
	exp, _ = time.Parse(time.RFC3339, do(t, s, "POST", apiPrefix+"/GenerateToken", token, body).json(t)["expiration"].(string))
	if d := time.Until(exp); d > 31*time.Minute {
		t.Errorf("lifetime 600 lengthened the token: expires in %v", d)
	}

	// The report's model must be in the request.
	wantStatus(t, api(t, s, "POST", "/GenerateToken", map[string]any{"reports": []map[string]any{{"id": DemoFinanceReportID}}}), http.StatusBadRequest)
	// Limits: 50 of each.
	many := make([]map[string]any, 51)
	for i := range many {
		many[i] = map[string]any{"id": DemoFinanceKPIsDatasetID}
	}
	r = api(t, s, "POST", "/GenerateToken", map[string]any{"datasets": many})
	wantStatus(t, r, http.StatusBadRequest)
	if !strings.Contains(string(r.body), "at most 50 datasets") {
		t.Errorf("limit message %s", r.body)
	}
	// No My workspace content.
	wantStatus(t, api(t, s, "POST", "/GenerateToken", map[string]any{"datasets": []map[string]any{{"id": DemoPersonalBudgetDatasetID}}}), http.StatusBadRequest)
	wantStatus(t, api(t, s, "POST", "/GenerateToken", map[string]any{"datasets": []map[string]any{{"id": DemoFinanceKPIsDatasetID}},
		"targetWorkspaces": []map[string]any{{"id": emptyGUID}}}), http.StatusBadRequest)
	wantStatus(t, api(t, s, "POST", "/GenerateToken", map[string]any{"datasets": []map[string]any{{"id": "0f0f0f0f-0000-4000-8000-000000000000"}}}), http.StatusNotFound)
}

func TestGenerateTokenRLS(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	if ds := api(t, s, "GET", "/groups/"+DemoSalesWorkspaceID+"/datasets/"+DemoRegionalSalesDatasetID, nil).json(t); ds["isEffectiveIdentityRequired"] != true {
		t.Fatalf("Regional Sales should require an effective identity: %v", ds)
	}
	path := "/groups/" + DemoSalesWorkspaceID + "/datasets/" + DemoRegionalSalesDatasetID + "/GenerateToken"
	// A service principal must give an identity for an RLS model.
	r := api(t, s, "POST", path, map[string]any{"accessLevel": "View"})
	wantStatus(t, r, http.StatusBadRequest)
	if !strings.Contains(string(r.body), "requires effective identity") {
		t.Errorf("body %s", r.body)
	}
	ok := map[string]any{"accessLevel": "View", "identities": []map[string]any{{"username": "anna@contoso.com", "roles": []string{"West"}, "datasets": []string{DemoRegionalSalesDatasetID}, "customData": "x"}}}
	wantStatus(t, api(t, s, "POST", path, ok), http.StatusOK)
	// V1 identities must name their datasets; roles cannot contain commas.
	wantStatus(t, api(t, s, "POST", path, map[string]any{"identities": []map[string]any{{"username": "anna@contoso.com", "roles": []string{"West"}}}}), http.StatusBadRequest)
	wantStatus(t, api(t, s, "POST", path, map[string]any{"identities": []map[string]any{{"username": "a", "roles": []string{"a,b"}, "datasets": []string{DemoRegionalSalesDatasetID}}}}), http.StatusBadRequest)
	// A model without RLS refuses identities.
	r = api(t, s, "POST", "/groups/"+DemoFinanceWorkspaceID+"/datasets/"+DemoFinanceKPIsDatasetID+"/GenerateToken",
		map[string]any{"identities": []map[string]any{{"username": "a", "roles": []string{"r"}, "datasets": []string{DemoFinanceKPIsDatasetID}}}})
	wantStatus(t, r, http.StatusBadRequest)
	if !strings.Contains(string(r.body), "shouldn't have effective identity") {
		t.Errorf("body %s", r.body)
	}
	// A signed-in user sees the model as its owner would: no identity needed.
	wantStatus(t, do(t, s, "POST", apiPrefix+path, s.IssueUserToken("megan.bowen@contoso.com", time.Hour), map[string]any{}), http.StatusOK)
}

func TestGenerateTokenV1Variants(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	fin := "/groups/" + DemoFinanceWorkspaceID
	wantStatus(t, api(t, s, "POST", fin+"/reports/"+DemoFinanceReportID+"/GenerateToken", map[string]any{"accessLevel": "Edit", "allowSaveAs": true}), http.StatusOK)
	wantStatus(t, api(t, s, "POST", fin+"/reports/"+DemoFinanceReportID+"/GenerateToken", map[string]any{"accessLevel": "Create"}), http.StatusBadRequest)
	wantStatus(t, api(t, s, "POST", fin+"/reports/GenerateToken", map[string]any{"accessLevel": "Create", "datasetId": DemoFinanceKPIsDatasetID}), http.StatusOK)
	wantStatus(t, api(t, s, "POST", fin+"/reports/GenerateToken", map[string]any{"accessLevel": "Create"}), http.StatusBadRequest)
	wantStatus(t, api(t, s, "POST", fin+"/datasets/"+DemoFinanceKPIsDatasetID+"/GenerateToken", map[string]any{}), http.StatusOK)
	wantStatus(t, api(t, s, "POST", fin+"/dashboards/"+DemoFinanceDashboardID+"/GenerateToken", map[string]any{"accessLevel": "View"}), http.StatusOK)
	wantStatus(t, api(t, s, "POST", fin+"/dashboards/"+DemoFinanceDashboardID+"/tiles/"+DemoNetIncomeTileID+"/GenerateToken", map[string]any{}), http.StatusOK)
	wantStatus(t, api(t, s, "POST", fin+"/dashboards/"+DemoFinanceDashboardID+"/GenerateToken", map[string]any{"accessLevel": "Edit"}), http.StatusBadRequest)
	wantStatus(t, api(t, s, "POST", fin+"/dashboards/"+DemoFinanceDashboardID+"/tiles/"+DemoRevenueTileID+"/GenerateToken", map[string]any{}), http.StatusNotFound)
}

func TestGenerateTokenSharedCapacityLimit(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	s.SetSharedEmbedTokenLimit(2)
	path := "/groups/" + DemoMarketingWorkspaceID + "/reports/" + DemoMarketingReportID + "/GenerateToken"
	for range 2 {
		wantStatus(t, api(t, s, "POST", path, map[string]any{}), http.StatusOK)
	}
	r := api(t, s, "POST", path, map[string]any{})
	wantStatus(t, r, http.StatusForbidden)
	if !strings.Contains(string(r.body), "shared or ProPlus capacity") {
		t.Errorf("body %s", r.body)
	}
	// Content on a capacity is not limited.
	wantStatus(t, api(t, s, "POST", "/groups/"+DemoFinanceWorkspaceID+"/datasets/"+DemoFinanceKPIsDatasetID+"/GenerateToken", map[string]any{}), http.StatusOK)
}
