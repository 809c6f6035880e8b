package pbitest

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func groupNames(t *testing.T, r response) []string {
	t.Helper()
	body := r.json(t)
	var names []string
	for _, g := range body["value"].([]any) {
		names = append(names, g.(map[string]any)["name"].(string))
	}
	if count := body["@odata.count"]; count != float64(len(names)) {
		t.Errorf("@odata.count = %v for %d groups", count, len(names))
	}
	return names
}

func TestListGroups(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	s.AddWorkspace(Workspace{Name: "Marketing Archive", IsReadOnly: true})
	s.AddWorkspace(Workspace{Name: "Admin monitoring", Type: "AdminInsights"})

	r := api(t, s, "GET", "/groups", nil)
	wantStatus(t, r, http.StatusOK)
	if ct := r.header.Get("Content-Type"); ct != "application/json; odata.metadata=minimal; odata.streaming=true" {
		t.Errorf("Content-Type %q", ct)
	}
	if !strings.HasPrefix(string(r.body), `{"@odata.context":"`+s.URL()+`/v1.0/myorg/$metadata#groups","@odata.count":8,"value":[`) {
		t.Errorf("list wrapper: %.120s", r.body)
	}
	first := r.json(t)["value"].([]any)[0].(map[string]any)
	want := map[string]any{"id": DemoSalesWorkspaceID, "name": "Sales Analytics", "type": "Workspace",
		"isReadOnly": false, "isOnDedicatedCapacity": true, "capacityId": DemoCapacityID, "defaultDatasetStorageFormat": "Small"}
	for k, v := range want {
		if first[k] != v {
			t.Errorf("%s = %v, want %v", k, first[k], v)
		}
	}

	tests := []struct {
		query string
		want  []string
	}{
		{"$filter=name eq 'Finance'", []string{"Finance"}},
		{"$filter=contains(name,'market')", []string{"Marketing", "Marketing Archive"}},
		{"$filter=startswith(name,'Sales')", []string{"Sales Analytics", "Sales Analytics [Test]", "Sales Analytics [Production]"}},
		{"$filter=type eq 'AdminInsights'", []string{"Admin monitoring"}},
		{"$filter=contains(name,'marketing') or name eq 'Finance'", []string{"Finance", "Marketing", "Marketing Archive"}},
		{"$filter=(contains(name,'a') and isOnDedicatedCapacity eq true) or isReadOnly eq true", []string{"Sales Analytics", "Finance", "Sales Analytics [Test]", "Sales Analytics [Production]", "Marketing Archive"}},
		{"$filter=not contains(name,'a')", nil},
		{"$filter=name eq 'O''Brien'", nil},
		{"$filter=id eq " + DemoFinanceWorkspaceID, []string{"Finance"}},
		{"$top=2", []string{"Sales Analytics", "Finance"}},
		{"$top=2&$skip=1", []string{"Finance", "Marketing"}},
		{"$skip=10", nil},
		{"$filter=contains(name,'a')&$top=1&$skip=1", []string{"Finance"}},
	}
	for _, tc := range tests {
		q, err := url.ParseQuery(tc.query)
		if err != nil {
			t.Fatal(err)
		}
		r := api(t, s, "GET", "/groups?"+q.Encode(), nil)
		wantStatus(t, r, http.StatusOK)
		if got := groupNames(t, r); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.query, got, tc.want)
		}
	}

	for _, bad := range []string{"$top=-1", "$top=abc", "$skip=x", "$filter=owner eq 'x'", "$filter=name gt 'a'", "$filter=contains(name,'a'", "$filter=name eq 'open"} {
		q, _ := url.ParseQuery(bad)
		r := api(t, s, "GET", "/groups?"+q.Encode(), nil)
		wantStatus(t, r, http.StatusBadRequest)
		if msg, _ := r.json(t)["error"].(map[string]any)["message"].(string); !strings.HasPrefix(msg, "The query specified in the URI is not valid.") {
			t.Errorf("%s: message %q", bad, msg)
		}
	}
}

func TestGetGroup(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	r := api(t, s, "GET", "/groups/"+strings.ToUpper(DemoMarketingWorkspaceID), nil)
	wantStatus(t, r, http.StatusOK)
	g := r.json(t)
	if g["@odata.context"] != s.URL()+"/v1.0/myorg/$metadata#groups/$entity" || g["name"] != "Marketing" || g["isOnDedicatedCapacity"] != false {
		t.Errorf("group %s", r.body)
	}
	if _, has := g["capacityId"]; has {
		t.Error("shared capacity workspace has a capacityId")
	}
	wantStatus(t, api(t, s, "GET", "/groups/"+newGUID(), nil), http.StatusNotFound)
}

func TestCommonHeadersAndCounters(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	a := api(t, s, "GET", "/groups", nil)
	b := api(t, s, "GET", "/groups", nil)
	for _, r := range []response{a, b} {
		if r.header.Get("RequestId") == "" || r.header.Get("Access-Control-Expose-Headers") != "RequestId" || r.header.Get("home-cluster-uri") == "" {
			t.Errorf("headers %v", r.header)
		}
	}
	if a.header.Get("RequestId") == b.header.Get("RequestId") {
		t.Error("RequestId not fresh per request")
	}
	api(t, s, "GET", "/groups/"+DemoSalesWorkspaceID+"/datasets", nil)
	wantStatus(t, api(t, s, "GET", "/nothing/here", nil), http.StatusNotFound)

	if n := s.Count("GET /v1.0/myorg/groups"); n != 2 {
		t.Errorf("Count(groups) = %d", n)
	}
	if n := s.Count("GET /v1.0/myorg/groups/{groupId}/datasets"); n != 1 {
		t.Errorf("Count(datasets) = %d", n)
	}
	reqs := s.Requests()
	if len(reqs) != 4 {
		t.Fatalf("%d requests", len(reqs))
	}
	if reqs[0].RequestID != a.header.Get("RequestId") || reqs[0].Status != 200 || reqs[0].UserAgent == "" || reqs[0].Time.IsZero() {
		t.Errorf("first request %+v", reqs[0])
	}
	if reqs[3].Route != "/v1.0/myorg/" || reqs[3].Status != 404 {
		t.Errorf("unknown route recorded as %+v", reqs[3])
	}
	s.ResetRequests()
	if len(s.Requests()) != 0 || s.Count("GET /v1.0/myorg/groups") != 0 {
		t.Error("ResetRequests kept something")
	}
}

func wantEmptyOK(t *testing.T, r response) {
	t.Helper()
	wantStatus(t, r, http.StatusOK)
	if len(r.body) != 0 || r.header.Get("Content-Length") != "0" {
		t.Fatalf("want an empty 200, got %q (Content-Length %q)", r.body, r.header.Get("Content-Length"))
	}
}

func TestCreateGroup(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()

	r := api(t, s, "POST", "/groups?workspaceV2=true", map[string]string{"name": "Budget 2025"})
	wantStatus(t, r, http.StatusOK)
	g := r.json(t)
	if g["@odata.context"] != s.URL()+"/v1.0/myorg/$metadata#groups/$entity" || g["name"] != "Budget 2025" ||
		g["type"] != "Workspace" || g["isOnDedicatedCapacity"] != false || g["isReadOnly"] != false {
		t.Fatalf("created group %s", r.body)
	}
	if _, isList := g["value"]; isList {
		t.Fatal("the answer is the group itself, not a list")
	}
	id := g["id"].(string)
	wantStatus(t, api(t, s, "GET", "/groups/"+id, nil), http.StatusOK)

	// The creator is the workspace's only Admin.
	users := api(t, s, "GET", "/groups/"+id+"/users", nil)
	wantStatus(t, users, http.StatusOK)
	if want := `{"@odata.context":"` + s.URL() + `/v1.0/myorg/groups/` + id + `/$metadata#users","value":[{"displayName":"` + DemoServicePrincipalName +
		`","groupUserAccessRight":"Admin","identifier":"` + DemoServicePrincipalObjectID + `","principalType":"App"}]}`; string(users.body) != want {
		t.Errorf("users of the new workspace:\n got %s\nwant %s", users.body, want)
	}

	// Names are unique, ignoring case, without workspaceV2 too.
	dup := api(t, s, "POST", "/groups", map[string]string{"name": "sales analytics"})
	wantStatus(t, dup, http.StatusBadRequest)
	if want := `{"error":{"code":"PowerBIEntityAlreadyExists","pbi.error":{"code":"PowerBIEntityAlreadyExists","parameters":{},"details":[]}}}`; string(dup.body) != want {
		t.Errorf("duplicate name: %s", dup.body)
	}
	for _, body := range []any{map[string]string{}, map[string]string{"name": "  "}, "{not json"} {
		wantStatus(t, api(t, s, "POST", "/groups", body), http.StatusBadRequest)
	}
	wantStatus(t, api(t, s, "POST", "/groups?workspaceV2=false", map[string]string{"name": "V1"}), http.StatusBadRequest)
	if n := len(groupNames(t, api(t, s, "GET", "/groups", nil))); n != 7 {
		t.Errorf("%d workspaces after one successful create, want 7", n)
	}
}

func TestUpdateGroup(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	path := "/groups/" + DemoFinanceWorkspaceID

	wantEmptyOK(t, api(t, s, "PATCH", path, map[string]string{"name": "Finance EMEA", "defaultDatasetStorageFormat": "Large"}))
	g := api(t, s, "GET", path, nil).json(t)
	if g["name"] != "Finance EMEA" || g["defaultDatasetStorageFormat"] != "Large" {
		t.Fatalf("after PATCH: %v", g)
	}
	// The old name is free again, the new one taken.
	wantStatus(t, api(t, s, "POST", "/groups", map[string]string{"name": "Finance"}), http.StatusOK)
	r := api(t, s, "PATCH", "/groups/"+DemoMarketingWorkspaceID, map[string]string{"name": "FINANCE EMEA"})
	wantStatus(t, r, http.StatusBadRequest)
	if errorCode(t, r) != "PowerBIEntityAlreadyExists" {
		t.Errorf("rename to a taken name: %s", r.body)
	}
	// Renaming to its own name is no conflict.
	wantEmptyOK(t, api(t, s, "PATCH", path, map[string]string{"name": "Finance EMEA"}))

	// Shared capacity: only the name can change.
	wantStatus(t, api(t, s, "PATCH", "/groups/"+DemoMarketingWorkspaceID, map[string]string{"defaultDatasetStorageFormat": "Large"}), http.StatusBadRequest)
	wantStatus(t, api(t, s, "PATCH", path, map[string]string{"defaultDatasetStorageFormat": "Huge"}), http.StatusBadRequest)
	if g := api(t, s, "GET", "/groups/"+DemoMarketingWorkspaceID, nil).json(t); g["name"] != "Marketing" || g["defaultDatasetStorageFormat"] != nil {
		t.Errorf("a refused PATCH changed the workspace: %v", g)
	}
	wantStatus(t, api(t, s, "PATCH", "/groups/"+newGUID(), map[string]string{"name": "x"}), http.StatusNotFound)
}

func TestDeleteGroup(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	wantEmptyOK(t, api(t, s, "DELETE", "/groups/"+strings.ToUpper(DemoScratchWorkspaceID), nil))
	wantStatus(t, api(t, s, "GET", "/groups/"+DemoScratchWorkspaceID, nil), http.StatusNotFound)
	wantStatus(t, api(t, s, "GET", "/groups/"+DemoScratchWorkspaceID+"/users", nil), http.StatusNotFound)
	if got := groupNames(t, api(t, s, "GET", "/groups", nil)); slices.Contains(got, "Scratch") || len(got) != 5 {
		t.Errorf("after delete: %q", got)
	}
	// Its name can be used again.
	wantStatus(t, api(t, s, "POST", "/groups", map[string]string{"name": "Scratch"}), http.StatusOK)
	wantStatus(t, api(t, s, "DELETE", "/groups/"+DemoScratchWorkspaceID, nil), http.StatusNotFound)
}

func TestGroupUsers(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	path := "/groups/" + DemoMarketingWorkspaceID + "/users"
	users := func() []map[string]any {
		t.Helper()
		r := api(t, s, "GET", path, nil)
		wantStatus(t, r, http.StatusOK)
		var out []map[string]any
		for _, u := range r.json(t)["value"].([]any) {
			out = append(out, u.(map[string]any))
		}
		return out
	}
	find := func(id string) map[string]any {
		for _, u := range users() {
			if strings.EqualFold(u["identifier"].(string), id) {
				return u
			}
		}
		return nil
	}

	seeded := users()
	if len(seeded) != 3 || seeded[0]["identifier"] != DemoServicePrincipalObjectID || seeded[0]["groupUserAccessRight"] != "Admin" || seeded[0]["principalType"] != "App" {
		t.Fatalf("seeded users %v", seeded)
	}
	if u := find("adele.vance@contoso.com"); u["emailAddress"] != "adele.vance@contoso.com" || u["displayName"] != "Adele Vance" || u["principalType"] != "User" {
		t.Errorf("user entry %v", u)
	}

	// Add: a service principal by object id, a user by emailAddress alone (Microsoft's example).
	sp := "1f69e798-5852-4fdd-ab01-33bb14b6e934"
	wantEmptyOK(t, api(t, s, "POST", path, map[string]string{"identifier": sp, "groupUserAccessRight": "Member", "principalType": "App"}))
	wantEmptyOK(t, api(t, s, "POST", path, map[string]string{"emailAddress": "john@contoso.com", "groupUserAccessRight": "Viewer"}))
	if u := find(sp); u["groupUserAccessRight"] != "Member" || u["principalType"] != "App" {
		t.Errorf("added service principal %v", u)
	}
	if u := find("john@contoso.com"); u["groupUserAccessRight"] != "Viewer" || u["principalType"] != "User" || u["emailAddress"] != "john@contoso.com" {
		t.Errorf("added user %v", u)
	}

	// Adding again, in any case, is refused; PUT changes the access right.
	again := api(t, s, "POST", path, map[string]string{"identifier": strings.ToUpper(sp), "groupUserAccessRight": "Admin", "principalType": "App"})
	wantStatus(t, again, http.StatusBadRequest)
	if errorCode(t, again) != "AddingAlreadyExistsGroupUserNotSupportedError" {
		t.Errorf("second add: %s", again.body)
	}
	if find(sp)["groupUserAccessRight"] != "Member" {
		t.Error("a refused add changed the access right")
	}
	wantEmptyOK(t, api(t, s, "PUT", path, map[string]string{"identifier": sp, "groupUserAccessRight": "Admin", "principalType": "App"}))
	if find(sp)["groupUserAccessRight"] != "Admin" {
		t.Error("PUT did not change the access right")
	}
	wantStatus(t, api(t, s, "PUT", path, map[string]string{"identifier": "nobody@contoso.com", "groupUserAccessRight": "Admin", "principalType": "User"}), http.StatusNotFound)

	// Bodies the service refuses.
	for _, body := range []any{
		map[string]string{"identifier": "x@contoso.com", "principalType": "User"},
		map[string]string{"identifier": "x@contoso.com", "principalType": "User", "groupUserAccessRight": "None"},
		map[string]string{"identifier": "x@contoso.com", "principalType": "Robot", "groupUserAccessRight": "Viewer"},
		map[string]string{"principalType": "User", "groupUserAccessRight": "Viewer"},
		map[string]string{"identifier": sp, "groupUserAccessRight": "Viewer"},
		"",
	} {
		wantStatus(t, api(t, s, "POST", path, body), http.StatusBadRequest)
	}

	// Delete by email address (escaped in the path) or object id.
	wantEmptyOK(t, api(t, s, "DELETE", path+"/"+url.PathEscape("John@Contoso.com"), nil))
	wantEmptyOK(t, api(t, s, "DELETE", path+"/"+sp, nil))
	if find("john@contoso.com") != nil || find(sp) != nil || len(users()) != 3 {
		t.Errorf("after deletes: %v", users())
	}
	wantStatus(t, api(t, s, "DELETE", path+"/"+sp, nil), http.StatusNotFound)

	// Paging and unknown workspaces.
	r := api(t, s, "GET", path+"?$top=1&$skip=1", nil)
	wantStatus(t, r, http.StatusOK)
	if v := r.json(t)["value"].([]any); len(v) != 1 || v[0].(map[string]any)["identifier"] != "adele.vance@contoso.com" {
		t.Errorf("$top=1&$skip=1: %s", r.body)
	}
	wantStatus(t, api(t, s, "GET", path+"?$top=x", nil), http.StatusBadRequest)
	wantStatus(t, api(t, s, "GET", "/groups/"+newGUID()+"/users", nil), http.StatusNotFound)
	wantStatus(t, api(t, s, "POST", "/groups/"+newGUID()+"/users", map[string]string{"identifier": sp, "groupUserAccessRight": "Admin", "principalType": "App"}), http.StatusNotFound)
}

func TestAddWorkspaceUserPanicsOnDuplicate(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	defer func() {
		if recover() == nil {
			t.Error("adding the service principal twice did not panic")
		}
	}()
	s.AddWorkspaceUser(DemoSalesWorkspaceID, WorkspaceUser{Identifier: DemoServicePrincipalObjectID, PrincipalType: "App", AccessRight: "Member"})
}

func TestConcurrentCreatesOfOneName(t *testing.T) {
	s := newTestServer(t, Options{})
	statuses := make(chan int, 8)
	for range cap(statuses) {
		go func() {
			resp, err := s.Client().Do(func() *http.Request {
				req, _ := http.NewRequest("POST", s.URL()+apiPrefix+"/groups", strings.NewReader(`{"name":"Race"}`))
				req.Header.Set("Authorization", "Bearer "+s.IssueToken(time.Hour))
				return req
			}())
			if err != nil {
				statuses <- 0
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		}()
	}
	created := 0
	for range cap(statuses) {
		switch st := <-statuses; st {
		case http.StatusOK:
			created++
		case http.StatusBadRequest:
		default:
			t.Errorf("status %d", st)
		}
	}
	if created != 1 {
		t.Fatalf("%d workspaces named Race were created, want 1", created)
	}
}
