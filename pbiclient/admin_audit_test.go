package pbiclient_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

func TestActivityEventsRequests(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	day := time.Date(2026, time.March, 2, 0, 0, 0, 0, time.UTC)
	srv.SeedActivityEvents(day, 30)
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()

	page, err := c.GetActivityEvents(ctx, pbiclient.ActivityQuery{Start: day.Add(8 * time.Hour), End: day.Add(10*time.Hour - time.Millisecond),
		Filter: "Activity eq 'viewreport'"})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) == 0 || page.Last() || !strings.HasPrefix(page.ContinuationToken, "%2BRID%3A") {
		t.Fatalf("first page: %d events, token %q", len(page.Events), page.ContinuationToken)
	}
	first := apiRequests(srv)[0]
	if first.RawQuery != "$filter=Activity%20eq%20%27viewreport%27&endDateTime=%272026-03-02T09%3A59%3A59.999Z%27&startDateTime=%272026-03-02T08%3A00%3A00.000Z%27" {
		t.Errorf("query %s", first.RawQuery)
	}

	// The body's token is already encoded: it goes back exactly as received, quoted.
	next, err := c.GetActivityEvents(ctx, pbiclient.ActivityQuery{ContinuationToken: page.ContinuationToken})
	if err != nil {
		t.Fatal(err)
	}
	reqs := apiRequests(srv)
	if got := reqs[len(reqs)-1].RawQuery; got != "continuationToken='"+page.ContinuationToken+"'" {
		t.Errorf("continuation query %s", got)
	}
	if !next.Last() || next.ContinuationToken != "" || !next.LastResultSet {
		t.Errorf("second page: %+v", next)
	}
}

func TestScanWorkspacesBatches(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	srv.SeedDemo()
	srv.SetAuditOptions(pbitest.AuditOptions{ScanDuration: 300 * time.Millisecond})
	c := newClient(t, srv, newTenantTokens(srv))
	ids := []string{pbitest.DemoSalesWorkspaceID, pbitest.DemoFinanceWorkspaceID, pbitest.DemoMarketingWorkspaceID}
	var progress []pbiclient.ScanProgress
	res, err := c.ScanWorkspaces(context.Background(), ids, 2, pbiclient.ScanOptions{DatasetSchema: true, Lineage: true},
		func(p pbiclient.ScanProgress) { progress = append(progress, p) })
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Workspaces) != 3 || res.Workspaces[0].ID != pbitest.DemoSalesWorkspaceID || res.Workspaces[2].ID != pbitest.DemoMarketingWorkspaceID {
		t.Fatalf("workspaces %+v", res.Workspaces)
	}
	if len(progress) != 2 || progress[1] != (pbiclient.ScanProgress{ScansDone: 2, Scans: 2}) {
		t.Errorf("progress %+v", progress)
	}
	var posts []string
	statusPolls := 0
	for _, r := range apiRequests(srv) {
		switch {
		case r.Method == "POST":
			if r.RawQuery != "datasetSchema=true&lineage=true" {
				t.Errorf("getInfo query %s", r.RawQuery)
			}
			posts = append(posts, string(r.Body))
		case strings.Contains(r.Path, "/scanStatus/"):
			statusPolls++
		}
	}
	if len(posts) != 2 || !strings.Contains(posts[0]+posts[1], `{"workspaces":["`+pbitest.DemoMarketingWorkspaceID+`"]}`) {
		t.Errorf("getInfo bodies %v", posts)
	}
	if statusPolls == 0 {
		t.Error("scan status never polled")
	}

	if _, err := c.StartScan(context.Background(), make([]string, 101), pbiclient.ScanOptions{}); err == nil {
		t.Error("a scan of 101 workspaces was sent")
	}
}

// A data source used in two scans is one instance of the merged result, and the lineage the
// service sends reaches the typed result.
func TestScanWorkspacesLineageMerged(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	srv.SetAuditOptions(pbitest.AuditOptions{ScanDuration: 50 * time.Millisecond})
	src := pbitest.Datasource{DatasourceType: "Sql", ConnectionDetails: pbitest.DatasourceConnectionDetails{Server: "sql.contoso.com", Database: "DW"}}
	var ids []string
	for _, name := range []string{"North", "South"} {
		ws := srv.AddWorkspace(pbitest.Workspace{Name: name})
		flow := srv.AddDataflow(ws.ID, pbitest.Dataflow{Name: name + " Flow", Datasources: []pbitest.Datasource{src}})
		srv.AddDataset(ws.ID, pbitest.Dataset{Name: name + " Model", Datasources: []pbitest.Datasource{src},
			UpstreamDataflows: []pbitest.UpstreamDataflow{{DataflowID: flow.ObjectID, WorkspaceID: ws.ID}}})
		ids = append(ids, ws.ID)
	}
	c := newClient(t, srv, newTenantTokens(srv))
	res, err := c.ScanWorkspaces(context.Background(), ids, 1, pbiclient.ScanOptions{Lineage: true, DatasourceDetails: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.DatasourceInstances) != 1 || res.DatasourceInstances[0].ConnectionDetails.Server != "sql.contoso.com" {
		t.Fatalf("instances %+v", res.DatasourceInstances)
	}
	inst := res.DatasourceInstances[0].DatasourceID
	for _, w := range res.Workspaces {
		d, f := w.Datasets[0], w.Dataflows[0]
		if len(d.UpstreamDataflows) != 1 || d.UpstreamDataflows[0].TargetDataflowID != f.ObjectID ||
			len(d.DatasourceUsages) != 1 || d.DatasourceUsages[0].DatasourceInstanceID != inst ||
			len(f.DatasourceUsages) != 1 || f.DatasourceUsages[0].DatasourceInstanceID != inst {
			t.Errorf("%s: model %+v, dataflow %+v", w.Name, d, f)
		}
	}
}
