package pbiclient_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

const fabricScope = "https://api.fabric.microsoft.com/.default"

// signIn returns the service principal's tokens for scope, through the auth package as the
// server signs in.
func signIn(t *testing.T, srv *pbitest.Server, scope string) auth.TokenSource {
	t.Helper()
	ts, err := auth.New(auth.Config{
		Kind: auth.KindClientSecret, AuthorityHost: srv.AuthorityHost(), TenantID: srv.TenantID(),
		ClientID: srv.ClientID(), ClientSecret: srv.ClientSecret(), Scope: scope, HTTPClient: srv.Client(),
	})
	if err != nil {
		t.Fatalf("auth.New(%s): %v", scope, err)
	}
	return ts
}

// newFabricClient is a client of both surfaces, each with tokens of its own scope.
func newFabricClient(t *testing.T, srv *pbitest.Server) *pbiclient.Client {
	return newClient(t, srv, signIn(t, srv, ""), func(c *pbiclient.Config) {
		c.FabricBaseURL = srv.FabricBaseURL()
		c.FabricTokens = signIn(t, srv, fabricScope)
	})
}

func fabricTenant(t *testing.T) *pbitest.Server {
	srv := pbitest.NewServer(pbitest.Options{})
	t.Cleanup(srv.Close)
	srv.SeedDemo()
	srv.SetFabricOperations(200*time.Millisecond, 1)
	return srv
}

func getSales(t *testing.T, c *pbiclient.Client) *pbiclient.SemanticModelDefinition {
	t.Helper()
	def, err := c.GetSemanticModelDefinition(context.Background(), pbitest.DemoSalesWorkspaceID, pbitest.DemoSalesDatasetID, "")
	if err != nil {
		t.Fatalf("GetSemanticModelDefinition: %v", err)
	}
	return def
}

func TestFabricGetDefinition(t *testing.T) {
	srv := fabricTenant(t)
	c := newFabricClient(t, srv)
	var polls []pbiclient.FabricOperation
	ctx := pbiclient.WithFabricOperationHook(context.Background(), func(op pbiclient.FabricOperation) { polls = append(polls, op) })
	def, err := c.GetSemanticModelDefinition(ctx, pbitest.DemoSalesWorkspaceID, pbitest.DemoSalesDatasetID, "TMDL")
	if err != nil {
		t.Fatalf("GetSemanticModelDefinition: %v", err)
	}
	for _, p := range []string{"definition.pbism", "definition/model.tmdl", "definition/tables/Sales.tmdl",
		"definition/tables/Product.tmdl", "Copilot/Instructions/instructions.md"} {
		if def.Part(p) == nil {
			t.Errorf("no part %s", p)
		}
	}
	sales := string(def.Part("definition/tables/Sales.tmdl").Payload)
	for _, want := range []string{"table Sales\n", "\tmeasure 'Total Sales' = SUM(Sales[Sales Amount])\n", "\t/// Sales amount per unit sold\n",
		"\tcolumn 'Sales Amount'\n\t\tdataType: decimal\n"} {
		if !strings.Contains(sales, want) {
			t.Errorf("Sales.tmdl lacks %q:\n%s", want, sales)
		}
	}
	if len(polls) == 0 || polls[len(polls)-1].Status != "Succeeded" {
		t.Errorf("progress hook heard %+v, want polls ending in Succeeded", polls)
	}
}

func TestFabricUpdateDefinitionAddsMeasureDAXSees(t *testing.T) {
	srv := fabricTenant(t)
	c := newFabricClient(t, srv)
	def := getSales(t, c)
	part := def.Part("definition/tables/Sales.tmdl")
	part.Payload = []byte(strings.Replace(string(part.Payload), "\n\tcolumn ",
		"\n\tmeasure 'Big Orders' =\n\t\t\tCALCULATE(\n\t\t\t\t[Order Count],\n\t\t\t\tSales[Quantity] >= 4)\n\t\tformatString: #,0\n\n\tcolumn ", 1))
	if err := c.UpdateSemanticModelDefinition(context.Background(), pbitest.DemoSalesWorkspaceID, pbitest.DemoSalesDatasetID, *def); err != nil {
		t.Fatalf("UpdateSemanticModelDefinition: %v", err)
	}
	back := string(getSales(t, c).Part("definition/tables/Sales.tmdl").Payload)
	if !strings.Contains(back, "\tmeasure 'Big Orders' =\n\t\t\tCALCULATE(\n\t\t\t\t[Order Count],\n\t\t\t\tSales[Quantity] >= 4)\n\t\tformatString: #,0\n") {
		t.Errorf("the new measure is not read back:\n%s", back)
	}
	if getSales(t, c).Part("Copilot/Instructions/instructions.md") == nil {
		t.Error("the Copilot folder was lost by the update")
	}
	res, err := c.ExecuteQuery(context.Background(), pbitest.DemoSalesWorkspaceID, pbitest.DemoSalesDatasetID,
		`EVALUATE ROW("big", [Big Orders], "all", [Order Count])`, pbiclient.QueryOptions{})
	if err != nil {
		t.Fatalf("ExecuteQuery: %v", err)
	}
	big, all := res.Rows[0][0], res.Rows[0][1]
	if b, ok := big.(int64); !ok || b <= 0 || b >= all.(int64) {
		t.Errorf("[Big Orders] = %v (of %v orders), want a positive part of them", big, all)
	}
}

func TestFabricUpdateDefinitionRefusesMalformedTMDL(t *testing.T) {
	for name, edit := range map[string]func(string) string{
		"no expression": func(s string) string {
			return strings.Replace(s, "\n\tcolumn ", "\n\tmeasure Broken\n\n\tcolumn ", 1)
		},
		"bad DAX": func(s string) string {
			return strings.Replace(s, "= SUM(Sales[Sales Amount])", "= SUM(Sales[Sales Amount]", 1)
		},
		"unterminated name": func(s string) string {
			return strings.Replace(s, "measure 'Total Sales'", "measure 'Total Sales", 1)
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := fabricTenant(t)
			c := newFabricClient(t, srv)
			before := getSales(t, c)
			def := getSales(t, c)
			part := def.Part("definition/tables/Sales.tmdl")
			part.Payload = []byte(edit(string(part.Payload)))
			// A measure that would be new, to show that nothing of the update is applied.
			part.Payload = append(part.Payload, []byte("\n\tmeasure Extra = 1\n")...)
			err := c.UpdateSemanticModelDefinition(context.Background(), pbitest.DemoSalesWorkspaceID, pbitest.DemoSalesDatasetID, *def)
			var apiErr *pbiclient.APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest || apiErr.Code != "CorruptedPayload" ||
				apiErr.RequestID == "" || len(apiErr.Details) == 0 || !strings.Contains(apiErr.Details[0], "Sales.tmdl, line") {
				t.Fatalf("err = %#v, want 400 CorruptedPayload with a RequestId and the line at fault", err)
			}
			after := getSales(t, c)
			if string(after.Part("definition/tables/Sales.tmdl").Payload) != string(before.Part("definition/tables/Sales.tmdl").Payload) {
				t.Error("a refused definition changed the model")
			}
		})
	}
}

func TestFabricOperationHonoursRetryAfter(t *testing.T) {
	srv := fabricTenant(t)
	// The operation ends after 1.5 s and every answer asks for 2 s: a client that waits as told
	// polls once; one that polls on its own schedule (from 1 s) polls twice or more.
	srv.SetFabricOperations(1500*time.Millisecond, 2)
	c := newFabricClient(t, srv)
	start := time.Now()
	getSales(t, c)
	if took := time.Since(start); took < 2*time.Second {
		t.Errorf("the definition came after %s, before the 2 s Retry-After", took)
	}
	if n := srv.FabricOperationPolls(); n != 1 {
		t.Errorf("operation polled %d times, want 1", n)
	}
}

func TestFabricOperationStopsWithContext(t *testing.T) {
	srv := fabricTenant(t)
	srv.SetFabricOperations(time.Minute, 30)
	c := newFabricClient(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.GetSemanticModelDefinition(ctx, pbitest.DemoSalesWorkspaceID, pbitest.DemoSalesDatasetID, "")
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Errorf("err = %v after %s, want the context's deadline promptly", err, time.Since(start))
	}
}

func TestFabricRefusesPowerBIToken(t *testing.T) {
	srv := fabricTenant(t)
	// The Power BI token on the Fabric API: both the first attempt and the renewed token are
	// refused, and the error is Fabric's.
	c := newClient(t, srv, signIn(t, srv, ""), func(c *pbiclient.Config) {
		c.FabricBaseURL = srv.FabricBaseURL()
		c.FabricTokens = signIn(t, srv, "")
	})
	_, err := c.GetSemanticModelDefinition(context.Background(), pbitest.DemoSalesWorkspaceID, pbitest.DemoSalesDatasetID, "")
	var apiErr *pbiclient.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnauthorized || apiErr.Code != "Unauthorized" || apiErr.RequestID == "" {
		t.Fatalf("err = %#v, want 401 Unauthorized with a RequestId", err)
	}
	// And a Fabric token on Power BI.
	pbi := newClient(t, srv, signIn(t, srv, fabricScope))
	if _, err := pbi.ListGroups(context.Background(), pbiclient.ListGroupsOptions{}); err == nil {
		t.Error("Power BI accepted a Fabric token")
	}
}

func TestFabricSemanticModelNotFound(t *testing.T) {
	srv := fabricTenant(t)
	c := newFabricClient(t, srv)
	_, err := c.GetSemanticModelDefinition(context.Background(), pbitest.DemoSalesWorkspaceID, "00000000-0000-0000-0000-000000000000", "")
	var apiErr *pbiclient.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound || apiErr.Code != "ItemNotFound" {
		t.Fatalf("err = %#v, want 404 ItemNotFound", err)
	}
	_, err = c.GetSemanticModelDefinition(context.Background(), "00000000-0000-0000-0000-000000000000", pbitest.DemoSalesDatasetID, "")
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound || apiErr.Code != "EntityNotFound" {
		t.Fatalf("unknown workspace: err = %#v, want 404 EntityNotFound", err)
	}
}

func TestFabricUpdateDefinitionChangesAndDeletesMeasures(t *testing.T) {
	srv := fabricTenant(t)
	c := newFabricClient(t, srv)
	ctx := context.Background()
	query := func(q string) (pbiclient.QueryResult, error) {
		return c.ExecuteQuery(ctx, pbitest.DemoSalesWorkspaceID, pbitest.DemoSalesDatasetID, q, pbiclient.QueryOptions{})
	}
	before, err := query(`EVALUATE ROW("q", [Total Quantity])`)
	if err != nil {
		t.Fatal(err)
	}
	def := getSales(t, c)
	part := def.Part("definition/tables/Sales.tmdl")
	text := strings.Replace(string(part.Payload), "measure 'Total Quantity' = SUM(Sales[Quantity])", "measure 'Total Quantity' = SUM(Sales[Quantity]) * 10", 1)
	text = strings.Replace(text, "\tmeasure 'Bike Sales' = CALCULATE([Total Sales], Product[Category] = \"Bikes\")\n\t\tformatString: \\$#,0.00\n", "", 1)
	if text == string(part.Payload) || strings.Contains(text, "Bike Sales") {
		t.Fatalf("the edit did not apply to:\n%s", part.Payload)
	}
	part.Payload = []byte(text)
	if err := c.UpdateSemanticModelDefinition(ctx, pbitest.DemoSalesWorkspaceID, pbitest.DemoSalesDatasetID, *def); err != nil {
		t.Fatalf("UpdateSemanticModelDefinition: %v", err)
	}
	after, err := query(`EVALUATE ROW("q", [Total Quantity])`)
	if err != nil {
		t.Fatal(err)
	}
	if after.Rows[0][0] != before.Rows[0][0].(int64)*10 {
		t.Errorf("[Total Quantity] = %v after the change, want 10 × %v", after.Rows[0][0], before.Rows[0][0])
	}
	if _, err := query(`EVALUATE ROW("b", [Bike Sales])`); err == nil {
		t.Error("the deleted measure [Bike Sales] still evaluates")
	}
}

// A throttled Fabric request is retried by the transport chain after its Retry-After.
func TestFabricThrottledRequestIsRetried(t *testing.T) {
	srv := fabricTenant(t)
	c := newFabricClient(t, srv)
	srv.SetFaults(pbitest.Faults{ThrottleFirst: 1, RetryAfter: 1})
	start := time.Now()
	getSales(t, c)
	if took := time.Since(start); took < time.Second {
		t.Errorf("answered after %s, before the 1 s Retry-After of the 429", took)
	}
	var statuses []int
	for _, r := range srv.Requests() {
		if strings.HasSuffix(r.Path, "/getDefinition") {
			statuses = append(statuses, r.Status)
		}
	}
	if len(statuses) != 2 || statuses[0] != http.StatusTooManyRequests || statuses[1] != http.StatusAccepted {
		t.Errorf("getDefinition answered %v, want [429 202]", statuses)
	}
}

// Fabric answers small models at once with 200: no operation is polled.
func TestFabricDefinitionWithoutOperation(t *testing.T) {
	srv := fabricTenant(t)
	srv.SetFabricOperations(0, 0)
	c := newFabricClient(t, srv)
	def := getSales(t, c)
	part := def.Part("definition/tables/Sales.tmdl")
	part.Payload = append(part.Payload, []byte("\n\tmeasure Lines = COUNTROWS(Sales)\n")...)
	if err := c.UpdateSemanticModelDefinition(context.Background(), pbitest.DemoSalesWorkspaceID, pbitest.DemoSalesDatasetID, *def); err != nil {
		t.Fatalf("UpdateSemanticModelDefinition: %v", err)
	}
	if !strings.Contains(string(getSales(t, c).Part("definition/tables/Sales.tmdl").Payload), "\tmeasure Lines = COUNTROWS(Sales)\n") {
		t.Error("the measure added without an operation is not read back")
	}
	if n := srv.FabricOperationPolls(); n != 0 {
		t.Errorf("%d operation polls, want none", n)
	}
}
