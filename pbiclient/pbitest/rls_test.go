package pbitest

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

const regionalSales = "/groups/" + DemoSalesWorkspaceID + "/datasets/" + DemoRegionalSalesDatasetID

// queryAs runs query on Regional Sales with token, as impersonated when set.
func queryAs(t *testing.T, s *Server, token, query, impersonated string) response {
	t.Helper()
	body := map[string]any{"queries": []map[string]string{{"query": query}}}
	if impersonated != "" {
		body["impersonatedUserName"] = impersonated
	}
	return do(t, s, "POST", apiPrefix+regionalSales+"/executeQueries", token, body)
}

// regionsSeen is the sorted set of regions of the Sales lines a caller sees.
func regionsSeen(t *testing.T, r response) []string {
	t.Helper()
	wantStatus(t, r, http.StatusOK)
	rows, tableErr, resultErr := resultRows(t, r)
	if tableErr != nil || resultErr != nil {
		t.Fatalf("errors %v %v", tableErr, resultErr)
	}
	var out []string
	for _, row := range rows {
		if region := strings.Trim(string(row["Sales[Region]"]), `"`); !slices.Contains(out, region) {
			out = append(out, region)
		}
	}
	slices.Sort(out)
	return out
}

func TestExecuteQueriesAppliesRowLevelSecurity(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	west, east := s.IssueUserToken(DemoWestUser, time.Hour), s.IssueUserToken(DemoEastUser, time.Hour)

	if got := regionsSeen(t, queryAs(t, s, west, "EVALUATE Sales", "")); !slices.Equal(got, []string{"West"}) {
		t.Errorf("West role member sees %v", got)
	}
	if got := regionsSeen(t, queryAs(t, s, east, "EVALUATE Sales", "")); !slices.Equal(got, []string{"East"}) {
		t.Errorf("East role member sees %v", got)
	}
	// The filter on Region reaches Sales through the relationship, so measures see it too.
	r := queryAs(t, s, west, `EVALUATE ROW("Total", [Total Amount])`, "")
	wantStatus(t, r, http.StatusOK)
	if rows, _, _ := resultRows(t, r); len(rows) != 1 || string(rows[0]["[Total]"]) != "2200" { // 100+400+700+1000
		t.Errorf("West total: %s", r.body)
	}

	// The model's owner, Admin of the workspace, sees every region, and may look as another user.
	owner := s.IssueUserToken(DefaultUserPrincipalName, time.Hour)
	if got := regionsSeen(t, queryAs(t, s, owner, "EVALUATE Sales", "")); !slices.Equal(got, []string{"Central", "East", "West"}) {
		t.Errorf("owner sees %v", got)
	}
	if got := regionsSeen(t, queryAs(t, s, owner, "EVALUATE Sales", DemoEastUser)); !slices.Equal(got, []string{"East"}) {
		t.Errorf("owner impersonating the East user sees %v", got)
	}
	// A user restricted by RLS cannot lift it by impersonating someone else.
	wantStatus(t, queryAs(t, s, west, "EVALUATE Sales", DemoEastUser), http.StatusUnauthorized)

	// A Viewer of the workspace in no role, directly or impersonated, is refused as the service
	// refuses them.
	s.AddGroupMember(DemoSalesTeamGroupID, "no.role@contoso.com")
	for _, r := range []response{
		queryAs(t, s, s.IssueUserToken("no.role@contoso.com", time.Hour), "EVALUATE Sales", ""),
		queryAs(t, s, owner, "EVALUATE Sales", "no.role@contoso.com"),
	} {
		wantStatus(t, r, http.StatusUnauthorized)
		if code := errorCode(t, r); code != "RLSNotAuthorizedForModel" {
			t.Errorf("code %s: %s", code, r.body)
		}
	}
}

func TestExecuteQueriesRefusesServicePrincipalOnRLSModel(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	ds := api(t, s, "GET", regionalSales, nil).json(t)
	if ds["isEffectiveIdentityRequired"] != true || ds["isEffectiveIdentityRolesRequired"] != true {
		t.Fatalf("Regional Sales flags: %v", ds)
	}
	for _, impersonated := range []string{"", DemoWestUser} {
		r := queryAs(t, s, s.IssueToken(time.Hour), "EVALUATE Sales", impersonated)
		wantStatus(t, r, http.StatusUnauthorized)
		if code := errorCode(t, r); code != "PowerBINotAuthorizedException" {
			t.Errorf("impersonating %q: code %s", impersonated, code)
		}
	}

	// Sales, the model the sandbox's service principal demonstrates DAX with, has no RLS, and
	// ignores an impersonated user as the service does.
	sales := "/groups/" + DemoSalesWorkspaceID + "/datasets/" + DemoSalesDatasetID
	if ds := api(t, s, "GET", sales, nil).json(t); ds["isEffectiveIdentityRequired"] != false {
		t.Fatalf("Sales requires an effective identity: %v", ds)
	}
	r := api(t, s, "POST", sales+"/executeQueries", map[string]any{
		"queries": []map[string]string{{"query": `EVALUATE ROW("n", COUNTROWS(Sales))`}}, "impersonatedUserName": DemoWestUser})
	wantStatus(t, r, http.StatusOK)
	if rows, _, _ := resultRows(t, r); string(rows[0]["[n]"]) != "300" {
		t.Errorf("Sales as the service principal: %s", r.body)
	}
}
