package pbitest

import (
	"net/http"
	"slices"
	"testing"
	"time"
)

// workspacesOf lists, sorted, the workspaces GET /groups answers to token.
func workspacesOf(t *testing.T, s *Server, token string) []string {
	t.Helper()
	r := do(t, s, "GET", apiPrefix+"/groups", token, nil)
	wantStatus(t, r, http.StatusOK)
	names := groupNames(t, r)
	slices.Sort(names)
	return names
}

func TestUsersSeeTheirOwnWorkspaces(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	megan := s.IssueUserToken(DefaultUserPrincipalName, time.Hour)
	adele := s.IssueUserToken(DemoMarketingUser, time.Hour)

	// Megan: Admin of Sales Analytics and its pipeline's workspaces, Finance through Finance
	// Analysts. Adele: Member of Marketing, Sales Analytics through Sales Team. The service
	// principal, Admin everywhere, sees them all.
	for _, c := range []struct {
		who, token string
		want       []string
	}{
		{"megan", megan, []string{"Finance", "Sales Analytics", "Sales Analytics [Production]", "Sales Analytics [Test]"}},
		{"adele", adele, []string{"Marketing", "Sales Analytics"}},
		{"app", s.IssueToken(time.Hour), []string{"Finance", "Marketing", "Sales Analytics", "Sales Analytics [Production]", "Sales Analytics [Test]", "Scratch"}},
	} {
		if got := workspacesOf(t, s, c.token); !slices.Equal(got, c.want) {
			t.Errorf("%s sees %v, want %v", c.who, got, c.want)
		}
	}

	// A workspace the user has no role in answers as one that does not exist, on every route.
	for _, path := range []string{
		"/groups/" + DemoFinanceWorkspaceID,
		"/groups/" + DemoFinanceWorkspaceID + "/datasets",
		"/groups/" + DemoFinanceWorkspaceID + "/reports/" + DemoFinanceReportID,
		"/groups/" + DemoFinanceWorkspaceID + "/datasets/" + DemoFinanceKPIsDatasetID + "/refreshes",
		"/groups/" + DemoFinanceWorkspaceID + "/users",
	} {
		r := do(t, s, "GET", apiPrefix+path, adele, nil)
		wantStatus(t, r, http.StatusNotFound)
		if code := errorCode(t, r); code != "PowerBIEntityNotFound" {
			t.Errorf("%s: code %s", path, code)
		}
		// The member sees it.
		wantStatus(t, do(t, s, "GET", apiPrefix+path, megan, nil), http.StatusOK)
	}
	r := do(t, s, "POST", apiPrefix+"/groups/"+DemoFinanceWorkspaceID+"/datasets/"+DemoFinanceKPIsDatasetID+"/refreshes", adele, map[string]any{})
	wantStatus(t, r, http.StatusNotFound)
	wantStatus(t, do(t, s, "GET", apiPrefix+"/groups/"+DemoMarketingWorkspaceID+"/reports", megan, nil), http.StatusNotFound)
	wantStatus(t, do(t, s, "GET", apiPrefix+"/groups/"+DemoMarketingWorkspaceID+"/reports", adele, nil), http.StatusOK)

	// A workspace named in a body is no way around it: a clone into Finance fails for Adele
	// as if Finance did not exist, and works for Megan.
	clone := func(token string) response {
		return do(t, s, "POST", apiPrefix+"/groups/"+DemoSalesWorkspaceID+"/reports/"+DemoSalesReportID+"/Clone", token,
			map[string]any{"name": "Sales Copy", "targetWorkspaceId": DemoFinanceWorkspaceID})
	}
	wantStatus(t, clone(adele), http.StatusNotFound)
	wantStatus(t, clone(megan), http.StatusOK)

	// A user added to the workspace sees it at once; by object id works as by email.
	s.AddWorkspaceUser(DemoFinanceWorkspaceID, WorkspaceUser{Identifier: userOID(DemoMarketingUser), AccessRight: "Viewer"})
	wantStatus(t, do(t, s, "GET", apiPrefix+"/groups/"+DemoFinanceWorkspaceID+"/datasets", adele, nil), http.StatusOK)
}

func TestWorkspaceCreatedByAUserIsTheirs(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	megan := s.IssueUserToken(DefaultUserPrincipalName, time.Hour)
	r := do(t, s, "POST", apiPrefix+"/groups?workspaceV2=true", megan, map[string]any{"name": "Megan's Lab"})
	wantStatus(t, r, http.StatusOK)
	id := r.json(t)["id"].(string)
	if got := workspacesOf(t, s, megan); !slices.Contains(got, "Megan's Lab") {
		t.Errorf("the creator sees %v", got)
	}
	if got := workspacesOf(t, s, s.IssueUserToken(DemoMarketingUser, time.Hour)); slices.Contains(got, "Megan's Lab") {
		t.Errorf("another user sees %v", got)
	}
	users := do(t, s, "GET", apiPrefix+"/groups/"+id+"/users", megan, nil).json(t)["value"].([]any)
	if len(users) != 1 || users[0].(map[string]any)["emailAddress"] != DefaultUserPrincipalName ||
		users[0].(map[string]any)["groupUserAccessRight"] != "Admin" {
		t.Errorf("members of the new workspace: %v", users)
	}
}

func TestWorkspaceWithoutMembersIsOpen(t *testing.T) {
	s := newTestServer(t, Options{})
	ws := s.AddWorkspace(Workspace{Name: "Bare"})
	user := s.IssueUserToken("", time.Hour)
	if got := workspacesOf(t, s, user); !slices.Equal(got, []string{"Bare"}) {
		t.Errorf("user sees %v", got)
	}
	wantStatus(t, do(t, s, "GET", apiPrefix+"/groups/"+ws.ID+"/datasets", user, nil), http.StatusOK)
}
