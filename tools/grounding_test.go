package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/rs/zerolog"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

const (
	getDefinitionRoute = "POST /fabric/v1/workspaces/{workspaceId}/semanticModels/{semanticModelId}/getDefinition"
	executeQueryRoute  = "POST /v1.0/myorg/groups/{groupId}/datasets/{datasetId}/executeQueries"
)

// fastFabric makes the tenant answer getDefinition at once, as Fabric does for small models,
// so that a schema does not wait seconds for its definition.
func fastFabric(st *stack) *stack {
	st.tenant.SetFabricOperations(0, 0)
	return st
}

func TestGetDatasetSchemaReturnsTheModelsCopilotGrounding(t *testing.T) {
	st := fastFabric(newStack(t, stackOptions{}))
	var res DatasetSchemaResult
	st.ok(t, "get_dataset_schema", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales"}, &res)
	g := res.Copilot
	if g == nil {
		t.Fatalf("no copilot section: %+v", res)
	}
	if !strings.Contains(g.Instructions, `Bikes are Product[Category] = "Bikes"; use [Bike Sales]`) || strings.HasPrefix(g.Instructions, "\n") {
		t.Errorf("instructions %q", g.Instructions)
	}
	want := []VerifiedAnswer{
		{Question: "How many orders were placed each year?", Answer: `EVALUATE SUMMARIZECOLUMNS(Date[Year], "Orders", [Order Count])`},
		{Question: "What are total sales by product category?", Answer: `EVALUATE SUMMARIZECOLUMNS(Product[Category], "Total Sales", [Total Sales])`},
	}
	if !slices.Equal(g.VerifiedAnswers, want) {
		t.Errorf("verified answers %+v", g.VerifiedAnswers)
	}
	if !slices.Equal(g.Synonyms["Sales"], []string{"orders", "revenue"}) || !slices.Equal(g.Synonyms["Product[Category]"], []string{"product line"}) ||
		!slices.Equal(g.Synonyms["[Total Sales]"], []string{"sales", "turnover"}) {
		t.Errorf("synonyms %v", g.Synonyms)
	}
	// The AI data schema leaves Order Lines out; Customer is in scope whole.
	if _, ok := g.AISchema["Order Lines"]; ok || len(g.AISchema) != 4 || len(g.AISchema["Customer"]) != 0 ||
		!slices.Equal(g.AISchema["Product"], []string{"Product", "Category", "Color"}) || !slices.Contains(g.AISchema["Sales"], "[Total Sales]") {
		t.Errorf("AI data schema %v", g.AISchema)
	}
	if res.Message != "" {
		t.Errorf("message %q", res.Message)
	}
	if n := st.tenant.Count(getDefinitionRoute); n != 1 {
		t.Errorf("%d getDefinition requests, want 1", n)
	}
	// Only the Copilot folder comes back, not the model's TMDL.
	b, _ := json.Marshal(res.Copilot)
	if strings.Contains(string(b), "tmdl") || strings.Contains(string(b), "isPreparedForAI") {
		t.Errorf("copilot section holds other parts: %s", b)
	}
}

func TestGetDatasetSchemaWithoutCopilotFolder(t *testing.T) {
	st := fastFabric(newStack(t, stackOptions{}))
	res := st.call(t, "get_dataset_schema", map[string]any{"workspace": "Finance", "dataset": "Finance KPIs"})
	if res.IsError {
		t.Fatal(text(res))
	}
	var out DatasetSchemaResult
	if err := json.Unmarshal([]byte(text(res)), &out); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(text(res), `"copilot"`) || strings.Contains(out.Message, "AI instructions") {
		t.Fatalf("a model without a Copilot folder: %s", text(res))
	}
	if st.tenant.Count(getDefinitionRoute) != 1 {
		t.Fatal("the definition was not asked for")
	}
}

// newGroundingStack is a server whose credential is a pre-acquired Power BI token, with no
// Fabric API access (fabric false) or with that same token offered to Fabric, which refuses a
// token for another audience.
func newGroundingStack(t *testing.T, fabric bool) *stack {
	t.Helper()
	tenant := pbitest.NewServer(pbitest.Options{})
	t.Cleanup(tenant.Close)
	tenant.SeedDemo()
	tenant.SetFabricOperations(0, 0)
	token := tenant.IssueUserToken("", time.Hour)
	cfg := pbiclient.Config{BaseURL: tenant.APIBaseURL(), Tokens: auth.NewStaticToken(token),
		Transport: tenant.Client().Transport, UserAgent: "powerbi-mcp/test"}
	if fabric {
		cfg.FabricBaseURL, cfg.FabricTokens = tenant.FabricBaseURL(), auth.NewStaticToken(token)
	}
	pc, err := pbiclient.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewServer(Deps{Client: pc, ExportDir: t.TempDir(), Logger: zerolog.Nop()}, Options{Version: "test", Toolsets: []string{"dax"}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.NewInProcessClient(s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	var init mcp.InitializeRequest
	init.Params.ClientInfo = mcp.Implementation{Name: "tools-test", Version: "0"}
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatal(err)
	}
	return &stack{tenant: tenant, client: c}
}

func TestGetDatasetSchemaWithoutFabricSaysWhy(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fabric bool
		note   string
	}{
		{"not configured", false, "the server has no access to the Fabric API"},
		{"token not accepted", true, "the credential has no token the Fabric API accepts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newGroundingStack(t, tc.fabric)
			var res DatasetSchemaResult
			st.ok(t, "get_dataset_schema", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales"}, &res)
			if res.Copilot != nil || len(res.Tables) != 5 || len(res.Relationships) != 5 {
				t.Fatalf("schema %+v", res)
			}
			if !strings.HasPrefix(res.Message, "No AI instructions or verified answers: ") || !strings.Contains(res.Message, tc.note) {
				t.Errorf("message %q, want it to say %q", res.Message, tc.note)
			}
			if got, want := st.tenant.Count(getDefinitionRoute) > 0, tc.fabric; got != want {
				t.Errorf("getDefinition asked: %v, want %v", got, want)
			}
		})
	}
}

// Fabric not giving the definition costs the schema its Copilot parts, and the message says
// what Fabric answered: here a token that is not for Fabric, and a model Fabric does not know.
func TestGetDatasetSchemaWhenFabricRefuses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*http.Request)
		want   string
	}{
		{"token for another audience", func(r *http.Request) { r.Header.Set("Authorization", "Bearer not-a-fabric-token") },
			"the Fabric API refused to read the model's definition (HTTP 401 Unauthorized); it needs read and write permission on the model and a credential Fabric accepts."},
		{"unknown model", func(r *http.Request) {
			r.URL.Path = strings.Replace(r.URL.Path, pbitest.DemoSalesDatasetID, "00000000-0000-4000-8000-000000000000", 1)
		}, "the Fabric API did not give the model's definition (HTTP 404 ItemNotFound)."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := fastFabric(newStack(t, stackOptions{transport: func(rt http.RoundTripper) http.RoundTripper {
				return roundTripFunc(func(r *http.Request) (*http.Response, error) {
					if strings.HasPrefix(r.URL.Path, "/fabric/") {
						r = r.Clone(r.Context())
						tc.change(r)
					}
					return rt.RoundTrip(r)
				})
			}}))
			var res DatasetSchemaResult
			st.ok(t, "get_dataset_schema", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales"}, &res)
			if want := "No AI instructions or verified answers: " + tc.want; res.Copilot != nil || res.Message != want || len(res.Tables) != 5 {
				t.Fatalf("copilot %+v, message %q, want %q", res.Copilot, res.Message, want)
			}
		})
	}
}

// My workspace has no workspace id to give Fabric: the schema says so and asks nothing of it.
func TestGetDatasetSchemaInMyWorkspace(t *testing.T) {
	st := fastFabric(newStack(t, stackOptions{}))
	var res DatasetSchemaResult
	st.ok(t, "get_dataset_schema", map[string]any{"dataset": "Personal Budget"}, &res)
	if res.Copilot != nil || !strings.Contains(res.Message, "My workspace") || len(res.Tables) == 0 {
		t.Fatalf("schema %+v", res)
	}
	if st.tenant.Count(getDefinitionRoute) != 0 {
		t.Error("getDefinition was asked for without a workspace id")
	}
}

func TestGetDatasetSchemaRelationships(t *testing.T) {
	st := fastFabric(newStack(t, stackOptions{}))
	ds := st.tenant.AddDataset(pbitest.DemoSalesWorkspaceID, pbitest.Dataset{Name: "Links"})
	st.tenant.SetModel(ds.ID, pbitest.Model{
		Tables: []*pbitest.Table{
			{Name: "Fact's", Columns: []pbitest.Column{{Name: "Key]", DataType: pbitest.TypeInt64}}},
			{Name: "Dim", Columns: []pbitest.Column{{Name: "Key", DataType: pbitest.TypeInt64}}},
		},
		Relationships: []pbitest.Relationship{{FromTable: "Fact's", FromColumn: "Key]", ToTable: "Dim", ToColumn: "Key"}},
	})
	var res DatasetSchemaResult
	st.ok(t, "get_dataset_schema", map[string]any{"workspace": "Sales Analytics", "dataset": "Links"}, &res)
	want := []string{"'Fact''s'[Key]]] → 'Dim'[Key] (many-to-one, single)"}
	if !slices.Equal(res.Relationships, want) {
		t.Fatalf("relationships %q, want %q", res.Relationships, want)
	}

	var sales DatasetSchemaResult
	st.ok(t, "get_dataset_schema", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales"}, &sales)
	if !slices.Contains(sales.Relationships, "'Sales'[ProductKey] → 'Product'[ProductKey] (many-to-one, single)") || len(sales.Relationships) != 5 {
		t.Fatalf("Sales relationships %q", sales.Relationships)
	}
}

func TestGetDatasetSchemaSampleValues(t *testing.T) {
	st := fastFabric(newStack(t, stackOptions{}))
	ds := st.tenant.AddDataset(pbitest.DemoSalesWorkspaceID, pbitest.Dataset{Name: "Samples"})
	st.tenant.SetModel(ds.ID, pbitest.Model{Tables: []*pbitest.Table{{
		Name: "Product",
		Columns: []pbitest.Column{{Name: "Key", DataType: pbitest.TypeInt64, IsHidden: true},
			{Name: "Category", DataType: pbitest.TypeString}, {Name: "Price", DataType: pbitest.TypeDecimal}, {Name: "Photo", DataType: "Binary"}},
		Rows: [][]any{{int64(1), "Bikes", 10.5, nil}, {int64(2), "Bikes", nil, nil}, {int64(3), nil, 2.25, nil},
			{int64(4), "Accessories", 2.25, nil}, {int64(5), "Clothing, misc", 7.0, nil}, {int64(6), "Toys", 1.0, nil}},
	}}})
	st.tenant.ResetRequests()

	var res DatasetSchemaResult
	st.ok(t, "get_dataset_schema", map[string]any{"workspace": "Sales Analytics", "dataset": "Samples", "sample_values": 3}, &res)
	got := res.Tables[0].Samples
	// The smallest distinct non-blank values; a comma inside a value stays in it; hidden and
	// binary columns have none.
	if !slices.Equal(got["Category"], []string{"Accessories", "Bikes", "Clothing, misc"}) || !slices.Equal(got["Price"], []string{"1", "2.25", "7"}) ||
		got["Key"] != nil || len(got) != 2 {
		t.Fatalf("samples %q", got)
	}
	// One query read them, and it named each visible column.
	var queries []string
	for _, r := range st.tenant.Requests() {
		if r.Route == executeQueryRoute && strings.Contains(string(r.Body), "CONCATENATEX") {
			var body struct {
				Queries []struct {
					Query string `json:"query"`
				} `json:"queries"`
			}
			if err := json.Unmarshal(r.Body, &body); err != nil || len(body.Queries) != 1 {
				t.Fatalf("body %s: %v", r.Body, err)
			}
			queries = append(queries, body.Queries[0].Query)
		}
	}
	want := "EVALUATE ROW(" +
		`"c0", CONCATENATEX(TOPN(3, FILTER(DISTINCT('Product'[Category]), NOT(ISBLANK('Product'[Category]))), 'Product'[Category], ASC), 'Product'[Category], "` + sampleDelimiter + `", 'Product'[Category], ASC), ` +
		`"c1", CONCATENATEX(TOPN(3, FILTER(DISTINCT('Product'[Price]), NOT(ISBLANK('Product'[Price]))), 'Product'[Price], ASC), 'Product'[Price], "` + sampleDelimiter + `", 'Product'[Price], ASC))`
	if len(queries) != 1 || queries[0] != want {
		t.Fatalf("sample queries %q, want one: %q", queries, want)
	}

	// Without sample_values, no values and no such query.
	st.tenant.ResetRequests()
	var plain DatasetSchemaResult
	st.ok(t, "get_dataset_schema", map[string]any{"workspace": "Sales Analytics", "dataset": "Samples"}, &plain)
	if plain.Tables[0].Samples != nil || st.tenant.Count(executeQueryRoute) != 4 {
		t.Fatalf("samples %v after %d queries", plain.Tables[0].Samples, st.tenant.Count(executeQueryRoute))
	}
	// More than the cap is refused by the schema.
	st.fails(t, "get_dataset_schema", map[string]any{"workspace": "Sales Analytics", "dataset": "Samples", "sample_values": maxSampleValues + 1})
}

// Verified answers and the AI data schema are read by the names their fields are known by, as
// Microsoft publishes no shape for them; a part that does not parse is left out.
func TestGetDatasetSchemaReadsCopilotPartsLeniently(t *testing.T) {
	st := fastFabric(newStack(t, stackOptions{}))
	ds := st.tenant.AddDataset(pbitest.DemoSalesWorkspaceID, pbitest.Dataset{Name: "Lenient"})
	st.tenant.SetModel(ds.ID, pbitest.Model{Tables: []*pbitest.Table{{Name: "T", Columns: []pbitest.Column{{Name: "C", DataType: pbitest.TypeString}}}}})
	st.tenant.SetDefinitionParts(ds.ID, map[string][]byte{
		"Copilot/VerifiedAnswers/by-region/definition.json": []byte(`{"triggerPhrases":[{"text":"Sales by region?"},{"text":"Revenue per region"}],"visual":{"visualType":"barChart","fields":["T[C]"]}}`),
		"Copilot/VerifiedAnswers/broken.json":               []byte(`{"question":`),
		"Copilot/VerifiedAnswers/unnamed.json":              []byte(`{"answer":"Ask finance."}`),
		"Copilot/schema.json":                               []byte(`{"entities":[{"name":"T","fields":[{"name":"C","synonyms":[{"text":"code"}]}]}]}`),
	})
	var res DatasetSchemaResult
	st.ok(t, "get_dataset_schema", map[string]any{"workspace": "Sales Analytics", "dataset": "Lenient"}, &res)
	g := res.Copilot
	if g == nil || g.Instructions != "" {
		t.Fatalf("copilot %+v", g)
	}
	want := []VerifiedAnswer{
		{Question: "Sales by region?", Answer: `visual {"fields":["T[C]"],"visualType":"barChart"}`},
		{Question: "unnamed", Answer: "Ask finance."},
	}
	if !slices.Equal(g.VerifiedAnswers, want) {
		t.Errorf("verified answers %+v", g.VerifiedAnswers)
	}
	if !slices.Equal(g.AISchema["T"], []string{"C"}) || !slices.Equal(g.Synonyms["T[C]"], []string{"code"}) {
		t.Errorf("schema %v synonyms %v", g.AISchema, g.Synonyms)
	}
}

// Sample values are read for a bounded number of columns, and the message says how many lack them.
func TestGetDatasetSchemaSampleValuesOfAWideModel(t *testing.T) {
	st := fastFabric(newStack(t, stackOptions{}))
	ds := st.tenant.AddDataset(pbitest.DemoSalesWorkspaceID, pbitest.Dataset{Name: "Wide"})
	wide := &pbitest.Table{Name: "Wide"}
	row := []any{}
	for i := range maxSampledColumns + 2 {
		wide.Columns = append(wide.Columns, pbitest.Column{Name: fmt.Sprintf("C%03d", i), DataType: pbitest.TypeInt64})
		row = append(row, int64(i))
	}
	wide.Rows = [][]any{row}
	st.tenant.SetModel(ds.ID, pbitest.Model{Tables: []*pbitest.Table{wide}})
	var res DatasetSchemaResult
	st.ok(t, "get_dataset_schema", map[string]any{"workspace": "Sales Analytics", "dataset": "Wide", "sample_values": 1}, &res)
	samples := res.Tables[0].Samples
	if len(samples) != maxSampledColumns || !slices.Equal(samples["C099"], []string{"99"}) || samples["C100"] != nil {
		t.Fatalf("%d columns with samples: %v", len(samples), samples)
	}
	if want := "Sample values are given for the first 100 visible columns; 2 more have none here"; !strings.Contains(res.Message, want) {
		t.Errorf("message %q, want it to say %q", res.Message, want)
	}
}
