package pbiclient_test

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

func TestListGroups(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	sales := srv.AddWorkspace(pbitest.Workspace{Name: "Sales", IsOnDedicatedCapacity: true})
	srv.AddWorkspace(pbitest.Workspace{Name: "O'Brien's team"})
	srv.AddWorkspace(pbitest.Workspace{Name: "Finance", IsReadOnly: true})
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()

	groups, err := c.ListGroups(ctx, pbiclient.ListGroupsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 3 {
		t.Fatalf("got %d groups, want 3: %+v", len(groups), groups)
	}
	got := groups[0]
	want := pbiclient.Group{
		ID: sales.ID, Name: "Sales", Type: "Workspace", CapacityID: sales.CapacityID,
		DefaultDatasetStorageFormat: "Small", IsOnDedicatedCapacity: true,
	}
	if got != want {
		t.Errorf("first group = %+v, want %+v", got, want)
	}
	if !groups[2].IsReadOnly {
		t.Errorf("Finance: IsReadOnly = false, want true")
	}

	reqs := apiRequests(srv)
	last := reqs[len(reqs)-1]
	if last.Route != "GET "+apiPrefix+"/groups" || last.RawQuery != "" || last.UserAgent != "powerbi-mcp-test/1.0" {
		t.Errorf("request = %s ?%q UA %q", last.Route, last.RawQuery, last.UserAgent)
	}
}

func TestListGroupsQueryOptions(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	for _, name := range []string{"Sales EU", "O'Brien's team", "Sales US", "Sales APAC"} {
		srv.AddWorkspace(pbitest.Workspace{Name: name})
	}
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()

	tests := []struct {
		name      string
		opts      pbiclient.ListGroupsOptions
		wantQuery string
		wantNames []string
	}{
		{
			name:      "filter with a quote",
			opts:      pbiclient.ListGroupsOptions{Filter: "name eq 'O''Brien''s team'"},
			wantQuery: "$filter=name%20eq%20%27O%27%27Brien%27%27s%20team%27",
			wantNames: []string{"O'Brien's team"},
		},
		{
			name:      "filter, top and skip",
			opts:      pbiclient.ListGroupsOptions{Filter: "contains(name,'Sales')", Top: 2, Skip: 1},
			wantQuery: "$filter=contains%28name%2C%27Sales%27%29&$skip=1&$top=2",
			wantNames: []string{"Sales US", "Sales APAC"},
		},
		{
			name:      "top only",
			opts:      pbiclient.ListGroupsOptions{Top: 1},
			wantQuery: "$top=1",
			wantNames: []string{"Sales EU"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.ResetRequests()
			groups, err := c.ListGroups(ctx, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, g := range groups {
				names = append(names, g.Name)
			}
			if !slices.Equal(names, tt.wantNames) {
				t.Errorf("names = %q, want %q", names, tt.wantNames)
			}
			reqs := apiRequests(srv)
			if len(reqs) != 1 || reqs[0].RawQuery != tt.wantQuery {
				t.Errorf("requests = %+v, want one with query %q", reqs, tt.wantQuery)
			}
		})
	}

	if _, err := c.ListGroups(ctx, pbiclient.ListGroupsOptions{Top: -1}); err == nil {
		t.Error("ListGroups with Top -1: no error")
	}
}

func TestGetGroup(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	ws := srv.AddWorkspace(pbitest.Workspace{Name: "Sales"})
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()

	g, err := c.GetGroup(ctx, ws.ID)
	if err != nil {
		t.Fatal(err)
	}
	if g.ID != ws.ID || g.Name != "Sales" || g.Type != "Workspace" {
		t.Errorf("GetGroup = %+v", g)
	}

	// Not found: the pbi.error shape with no message.
	missing := "5f0e4d3c-2b1a-4098-8765-43210fedcba9"
	_, err = c.GetGroup(ctx, missing)
	apiErr := asAPIError(t, err)
	if apiErr.StatusCode != http.StatusNotFound || apiErr.Code != "PowerBIEntityNotFound" ||
		apiErr.Method != http.MethodGet || apiErr.Path != "/groups/"+missing || apiErr.RequestID == "" {
		t.Errorf("APIError = %+v", apiErr)
	}
	if !pbiclient.IsNotFound(err) {
		t.Error("IsNotFound = false for a 404")
	}
	if n := srv.Count("GET " + apiPrefix + "/groups/{groupId}"); n != 2 {
		t.Errorf("GetGroup requests = %d, want 2 (a 404 is not retried)", n)
	}

	if _, err := c.GetGroup(ctx, ""); err == nil {
		t.Error("GetGroup(\"\"): no error")
	}
}
