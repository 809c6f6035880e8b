package pbitest

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
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
	if !strings.HasPrefix(string(r.body), `{"@odata.context":"`+s.URL()+`/v1.0/myorg/$metadata#groups","@odata.count":6,"value":[`) {
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
		{"$filter=startswith(name,'Sales')", []string{"Sales Analytics"}},
		{"$filter=type eq 'AdminInsights'", []string{"Admin monitoring"}},
		{"$filter=contains(name,'marketing') or name eq 'Finance'", []string{"Finance", "Marketing", "Marketing Archive"}},
		{"$filter=(contains(name,'a') and isOnDedicatedCapacity eq true) or isReadOnly eq true", []string{"Sales Analytics", "Finance", "Marketing Archive"}},
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
