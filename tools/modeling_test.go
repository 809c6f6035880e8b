package tools

import (
	"context"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

const (
	routeUpdateDefinition = "POST /fabric/v1/workspaces/{workspaceId}/semanticModels/{semanticModelId}/updateDefinition"
	salesTablePart        = "definition/tables/Sales.tmdl"
)

// modelingStack is a stack whose Fabric operations answer at once, so that a test of edits
// does not wait a poll interval for each.
func modelingStack(t *testing.T, o stackOptions) *stack {
	st := newStack(t, o)
	st.tenant.SetFabricOperations(0, 0)
	return st
}

func salesArgs(extra map[string]any) map[string]any {
	args := map[string]any{"workspace": "Sales Analytics", "dataset": "Sales"}
	for k, v := range extra {
		args[k] = v
	}
	return args
}

// daxValue evaluates one DAX scalar on the Sales model.
func daxValue(t *testing.T, st *stack, expr string) float64 {
	t.Helper()
	var res DAXQueryResult
	st.ok(t, "execute_dax_query", salesArgs(map[string]any{"query": `EVALUATE ROW("v", ` + expr + `)`}), &res)
	v, ok := res.Rows[0][0].(float64)
	if !ok {
		t.Fatalf("%s = %v", expr, res.Rows)
	}
	return v
}

func salesTMDL(t *testing.T, st *stack) string {
	t.Helper()
	var def DatasetDefinitionResult
	st.ok(t, "get_dataset_definition", salesArgs(map[string]any{"part": salesTablePart}), &def)
	return def.Text
}

func findMeasure(ms []Measure, name string) *Measure {
	for i := range ms {
		if ms[i].Name == name {
			return &ms[i]
		}
	}
	return nil
}

// The case: a measure added with confirm is evaluated by DAX at once; the result has
// the diff, the backup of the definition as it was, and the measure as read back.
func TestUpsertMeasureAddsAMeasureDAXEvaluates(t *testing.T) {
	st := newStack(t, stackOptions{})
	st.tenant.SetFabricOperations(50*time.Millisecond, 0) // a long-running operation, with progress
	before := salesTMDL(t, st)

	var res ModelEditResult
	st.ok(t, "upsert_measures", salesArgs(map[string]any{"confirm": true, "measures": []any{map[string]any{
		"table": "Sales", "name": "Big Order Sales", "expression": "CALCULATE([Total Sales], Sales[Quantity] >= 4)",
		"format_string": `\$#,0`, "description": "Sales of orders of four or more", "display_folder": "KPIs",
	}}}), &res)
	if !res.Applied {
		t.Fatalf("not applied: %+v", res)
	}
	wantDiff := "--- a/definition/tables/Sales.tmdl\n+++ b/definition/tables/Sales.tmdl\n"
	added := "+\t/// Sales of orders of four or more\n+\tmeasure 'Big Order Sales' = CALCULATE([Total Sales], Sales[Quantity] >= 4)\n+\t\tformatString: \\$#,0\n+\t\tdisplayFolder: KPIs\n"
	if !strings.HasPrefix(res.Diff, wantDiff) || !strings.Contains(res.Diff, added) {
		t.Fatalf("diff:\n%s", res.Diff)
	}
	m := findMeasure(res.Measures, "Big Order Sales")
	if m == nil || m.Table != "Sales" || m.DisplayFolder != "KPIs" || m.FormatString != `\$#,0` || m.Description != "Sales of orders of four or more" {
		t.Fatalf("measures read back: %+v", res.Measures)
	}
	if findMeasure(res.Measures, "Total Sales") == nil {
		t.Fatalf("the table's other measures are missing: %+v", res.Measures)
	}

	// The backup holds the definition as it was, and the whole diff.
	if !strings.HasPrefix(res.Backup, filepath.Join(st.exportDir, "definitions", "Sales-")) {
		t.Fatalf("backup %s is not under the export directory", res.Backup)
	}
	saved, err := os.ReadFile(filepath.Join(res.Backup, filepath.FromSlash(salesTablePart)))
	if err != nil || string(saved) != before {
		t.Fatalf("backup of %s: %v\n%s", salesTablePart, err, saved)
	}
	if _, err := os.Stat(filepath.Join(res.Backup, "Copilot", "Instructions", "instructions.md")); err != nil {
		t.Fatalf("the backup must hold every part: %v", err)
	}
	if d, err := os.ReadFile(filepath.Join(res.Backup, "changes.diff")); err != nil || string(d) != res.Diff {
		t.Fatalf("changes.diff: %v\n%s", err, d)
	}

	want := daxValue(t, st, "CALCULATE([Total Sales], Sales[Quantity] >= 4)")
	if got := daxValue(t, st, "[Big Order Sales]"); want == 0 || math.Abs(got-want) > 1e-9 {
		t.Fatalf("[Big Order Sales] = %v, want %v", got, want)
	}
	if len(st.progressFor("p-upsert_measures")) == 0 {
		t.Fatal("no progress notifications while the update ran")
	}
}

// Changing a measure keeps what the call leaves out; a multi-line expression is written as TMDL
// writes it; deleting takes the measure away.
func TestUpsertMeasureChangesAndDeleteMeasuresDeletes(t *testing.T) {
	st := modelingStack(t, stackOptions{})
	expr := "DIVIDE(\n    [Total Sales],\n    [Total Quantity]\n)"
	var res ModelEditResult
	st.ok(t, "upsert_measures", salesArgs(map[string]any{"confirm": true, "measures": []any{map[string]any{
		"table": "sales", "name": "Average Price", "expression": expr}}}), &res)
	m := findMeasure(res.Measures, "Average Price")
	if !res.Applied || m == nil || m.Expression != "DIVIDE(\n\t[Total Sales],\n\t[Total Quantity]\n)" || m.FormatString != `\$#,0.00` {
		t.Fatalf("changed measure: %+v\n%s", m, res.Diff)
	}
	if !strings.Contains(res.Diff, "+\tmeasure 'Average Price' =\n+\t\t\tDIVIDE(\n+\t\t\t\t[Total Sales],\n") {
		t.Fatalf("diff:\n%s", res.Diff)
	}
	if got := daxValue(t, st, "[Average Price]"); math.Abs(got-daxValue(t, st, "DIVIDE([Total Sales], [Total Quantity])")) > 1e-9 {
		t.Fatalf("[Average Price] = %v", got)
	}

	st.ok(t, "delete_measures", salesArgs(map[string]any{"confirm": true, "measures": []any{map[string]any{"table": "Sales", "name": "Bike Sales"}}}), &res)
	if !res.Applied || findMeasure(res.Measures, "Bike Sales") != nil || findMeasure(res.Measures, "Total Sales") == nil {
		t.Fatalf("after delete: %+v", res.Measures)
	}
	if !strings.Contains(res.Diff, "-\tmeasure 'Bike Sales' = ") {
		t.Fatalf("diff:\n%s", res.Diff)
	}
	msg := st.fails(t, "execute_dax_query", salesArgs(map[string]any{"query": `EVALUATE ROW("v", [Bike Sales])`}))
	if !strings.Contains(msg, "Bike Sales") {
		t.Fatalf("the deleted measure still evaluates: %s", msg)
	}
}

// Without confirm, a client that cannot ask gets the diff and nothing is sent.
func TestModelEditWithoutConfirmSendsNothing(t *testing.T) {
	st := modelingStack(t, stackOptions{})
	before := salesTMDL(t, st)
	var res ModelEditResult
	st.ok(t, "upsert_measures", salesArgs(map[string]any{"measures": []any{map[string]any{
		"table": "Sales", "name": "Orders x2", "expression": "[Order Count] * 2"}}}), &res)
	if res.Applied || !strings.Contains(res.Message, "confirm: true") || !strings.Contains(res.Diff, "+\tmeasure 'Orders x2' = [Order Count] * 2\n") {
		t.Fatalf("%+v", res)
	}
	if n := st.tenant.Count(routeUpdateDefinition); n != 0 {
		t.Fatalf("%d updateDefinition requests without confirm", n)
	}
	if after := salesTMDL(t, st); after != before {
		t.Fatalf("the definition changed:\n%s", after)
	}
}

// A client that can ask is shown the diff, and the user's answer decides.
func TestModelEditAsksTheUser(t *testing.T) {
	args := salesArgs(map[string]any{"confirm": true, "measures": []any{map[string]any{"table": "Sales", "name": "Order Count"}}})
	declines := &user{}
	st := modelingStack(t, stackOptions{elicit: declines})
	msg := st.fails(t, "delete_measures", args)
	if !strings.Contains(msg, "did not agree") || st.tenant.Count(routeUpdateDefinition) != 0 {
		t.Fatalf("%s (%d updates)", msg, st.tenant.Count(routeUpdateDefinition))
	}
	if !strings.Contains(declines.question, "-\tmeasure 'Order Count' = ") || !strings.Contains(declines.question, "definitions") {
		t.Fatalf("the question must show the diff and the backup: %q", declines.question)
	}

	accepts := &user{accept: true}
	st = modelingStack(t, stackOptions{elicit: accepts})
	delete(args, "confirm")
	var res ModelEditResult
	st.ok(t, "delete_measures", args, &res)
	if !res.Applied || st.tenant.Count(routeUpdateDefinition) != 1 {
		t.Fatalf("%+v", res)
	}
}

// A malformed expression is caught before anything is sent; one only the service finds
// wrong is its parse error, and the model is unchanged either way.
func TestModelEditRefusesMalformedDefinitions(t *testing.T) {
	st := modelingStack(t, stackOptions{})
	before := salesTMDL(t, st)
	upsert := func(expr string) string {
		return st.fails(t, "upsert_measures", salesArgs(map[string]any{"confirm": true, "measures": []any{map[string]any{
			"table": "Sales", "name": "Broken", "expression": expr}}}))
	}
	if msg := upsert("SUM(Sales[Quantity]"); !strings.Contains(msg, "( at line 1, column 4 is never closed") || !strings.Contains(msg, "Nothing was changed") {
		t.Fatalf("unbalanced: %s", msg)
	}
	if msg := upsert("SUM(Sales[Quantity)"); !strings.Contains(msg, "reference opened with [") {
		t.Fatalf("unclosed bracket: %s", msg)
	}
	if n := st.tenant.Count(routeUpdateDefinition); n != 0 {
		t.Fatalf("%d updates sent for malformed DAX", n)
	}
	// Balanced, but not DAX: the service refuses it.
	msg := upsert("SUM(Sales[Quantity]) +")
	for _, want := range []string{"HTTP 400 CorruptedPayload", "TMDLParseError", "Broken", "Nothing was changed"} {
		if !strings.Contains(msg, want) {
			t.Fatalf("service parse error: %s\nwant %q", msg, want)
		}
	}
	msg = st.fails(t, "update_dataset_definition", salesArgs(map[string]any{"confirm": true, "parts": []any{map[string]any{
		"path": salesTablePart, "text": "table Sales\n    measure X = 1\n"}}}))
	if !strings.Contains(msg, "line 2: indentation must be tabs") {
		t.Fatalf("spaces: %s", msg)
	}
	if after := salesTMDL(t, st); after != before {
		t.Fatalf("the definition changed:\n%s", after)
	}
	if got := daxValue(t, st, "[Total Sales]"); got <= 0 {
		t.Fatalf("[Total Sales] = %v", got)
	}
}

func TestModelEditNamesWhatExists(t *testing.T) {
	st := modelingStack(t, stackOptions{})
	msg := st.fails(t, "upsert_measures", salesArgs(map[string]any{"confirm": true, "measures": []any{map[string]any{
		"table": "Orders", "name": "X", "expression": "1"}}}))
	if !strings.Contains(msg, "no table Orders") || !strings.Contains(msg, "Customer") || !strings.Contains(msg, "Nothing was sent") {
		t.Fatalf("unknown table: %s", msg)
	}
	msg = st.fails(t, "delete_measures", salesArgs(map[string]any{"confirm": true, "measures": []any{map[string]any{"table": "Sales", "name": "Nope"}}}))
	if !strings.Contains(msg, "no measure Nope") || !strings.Contains(msg, "'Total Sales'") {
		t.Fatalf("unknown measure: %s", msg)
	}
	msg = st.fails(t, "upsert_measures", salesArgs(map[string]any{"confirm": true, "measures": []any{map[string]any{
		"table": "Product", "name": "Total Sales", "expression": "1"}}}))
	if !strings.Contains(msg, "is in the table Sales") {
		t.Fatalf("a name taken in another table: %s", msg)
	}
	msg = st.fails(t, "upsert_measures", salesArgs(map[string]any{"confirm": true, "measures": []any{map[string]any{
		"table": "Sales", "name": "Two\nLines", "expression": "1"}}}))
	if !strings.Contains(msg, "does not read as TMDL") {
		t.Fatalf("a name over two lines: %s", msg)
	}
	for _, p := range []string{"../x.tmdl", "definition/../../x.tmdl", "model.bim", "/definition/model.tmdl", "definition/tables/a/b.tmdl"} {
		msg = st.fails(t, "update_dataset_definition", salesArgs(map[string]any{"confirm": true, "parts": []any{map[string]any{"path": p, "text": "x"}}}))
		if !strings.Contains(msg, "outside a TMDL definition's layout") {
			t.Fatalf("%s: %s", p, msg)
		}
	}
	if n := st.tenant.Count(routeUpdateDefinition); n != 0 {
		t.Fatalf("%d updates sent", n)
	}
}

func TestUpdateDatasetDefinitionReplacesAPart(t *testing.T) {
	st := modelingStack(t, stackOptions{})
	const path = "Copilot/Instructions/instructions.md"
	text := "# Sales\n\n- Sales means [Total Sales].\n"
	var res ModelEditResult
	st.ok(t, "update_dataset_definition", salesArgs(map[string]any{"confirm": true, "parts": []any{map[string]any{"path": path, "text": text}}}), &res)
	if !res.Applied || !strings.HasPrefix(res.Diff, "--- a/"+path+"\n+++ b/"+path+"\n") {
		t.Fatalf("%+v", res)
	}
	var def DatasetDefinitionResult
	st.ok(t, "get_dataset_definition", salesArgs(map[string]any{"part": path}), &def)
	if def.Text != text {
		t.Fatalf("read back: %q", def.Text)
	}
	// The same text again changes nothing, and sends nothing.
	st.ok(t, "update_dataset_definition", salesArgs(map[string]any{"confirm": true, "parts": []any{map[string]any{"path": path, "text": text}}}), &res)
	if res.Applied || res.Diff != "" || st.tenant.Count(routeUpdateDefinition) != 1 {
		t.Fatalf("%+v", res)
	}
}

func TestGetDatasetDefinition(t *testing.T) {
	st := modelingStack(t, stackOptions{maxResultBytes: 2048})
	var def DatasetDefinitionResult
	st.ok(t, "get_dataset_definition", salesArgs(nil), &def)
	paths := map[string]bool{}
	for _, p := range def.Parts {
		paths[p.Path] = p.Bytes > 0
	}
	if def.Format != "TMDL" || !paths["definition/model.tmdl"] || !paths[salesTablePart] || !paths["Copilot/Instructions/instructions.md"] {
		t.Fatalf("parts: %+v", def.Parts)
	}
	var sales *TableMeasures
	for i := range def.Tables {
		if def.Tables[i].Table == "Sales" {
			sales = &def.Tables[i]
		}
	}
	if sales == nil || !strings.Contains(strings.Join(sales.Measures, ","), "Total Sales") || def.Text != "" {
		t.Fatalf("tables: %+v", def.Tables)
	}

	// A part larger than the result budget is a file too, readable as a resource.
	res := st.call(t, "get_dataset_definition", salesArgs(map[string]any{"part": salesTablePart}))
	if res.IsError {
		t.Fatal(text(res))
	}
	var link *mcp.ResourceLink
	for _, c := range res.Content {
		if l, ok := c.(mcp.ResourceLink); ok {
			link = &l
		}
	}
	if link == nil {
		t.Fatalf("no resource link: %s", text(res))
	}
	read, err := st.client.ReadResource(context.Background(), mcp.ReadResourceRequest{Params: mcp.ReadResourceParams{URI: link.URI}})
	if err != nil {
		t.Fatal(err)
	}
	if tc, ok := read.Contents[0].(mcp.TextResourceContents); !ok || !strings.HasPrefix(tc.Text, "table Sales\n") {
		t.Fatalf("resource: %+v", read.Contents)
	}
	if msg := st.fails(t, "get_dataset_definition", salesArgs(map[string]any{"part": "model.bim"})); !strings.Contains(msg, "no part \"model.bim\"") {
		t.Fatal(msg)
	}
}

// Fabric refusing the token explains the tenant setting and the workspace role; a server with
// no Fabric credential says which one it needs.
func TestModelingExplainsFabricAccess(t *testing.T) {
	st := modelingStack(t, stackOptions{transport: func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if strings.HasPrefix(r.URL.Path, "/fabric/") {
				r = r.Clone(r.Context())
				r.Header.Set("Authorization", "Bearer not-a-fabric-token")
			}
			return rt.RoundTrip(r)
		})
	}})
	msg := st.fails(t, "get_dataset_definition", salesArgs(nil))
	if !strings.Contains(msg, "HTTP 401") || !strings.Contains(msg, "'Service principals can use Fabric APIs'") || !strings.Contains(msg, "Contributor") {
		t.Fatal(msg)
	}

	src, err := auth.New(auth.Config{Kind: auth.KindToken, AccessToken: "a-power-bi-token"})
	if err != nil {
		t.Fatal(err)
	}
	st = modelingStack(t, stackOptions{deps: func(d *Deps) {
		c, err := pbiclient.New(pbiclient.Config{BaseURL: "https://127.0.0.1:9/v1.0/myorg", Tokens: src})
		if err != nil {
			t.Fatal(err)
		}
		d.Client = c
	}})
	msg = st.fails(t, "upsert_measures", map[string]any{"workspace": pbitest.DemoSalesWorkspaceID, "dataset": pbitest.DemoSalesDatasetID,
		"confirm": true, "measures": []any{map[string]any{"table": "Sales", "name": "X", "expression": "1"}}})
	if !strings.Contains(msg, "https://api.fabric.microsoft.com/.default") || !strings.Contains(msg, "no credential") {
		t.Fatal(msg)
	}

	// The server gives a pre-acquired Power BI token's pbiclient Fabric tokens that answer why
	// there are none (cmd/powerbi-mcp's fabricTokens).
	_, noFabric := auth.Config{Kind: auth.KindToken, AccessToken: "a-power-bi-token"}.ForFabric()
	st = modelingStack(t, stackOptions{deps: func(d *Deps) {
		c, err := pbiclient.New(pbiclient.Config{BaseURL: "https://127.0.0.1:9/v1.0/myorg", Tokens: src, FabricTokens: failingTokens{noFabric}})
		if err != nil {
			t.Fatal(err)
		}
		d.Client = c
	}})
	msg = st.fails(t, "get_dataset_definition", map[string]any{"workspace": pbitest.DemoSalesWorkspaceID, "dataset": pbitest.DemoSalesDatasetID})
	if !strings.Contains(msg, "https://api.fabric.microsoft.com/.default") || !strings.Contains(msg, "--auth token brings a Power BI token only") {
		t.Fatal(msg)
	}
}

type failingTokens struct{ err error }

func (f failingTokens) Token(context.Context) (string, error) { return "", f.err }
func (f failingTokens) Invalidate(string)                     {}

// A diff longer than the result holds is cut at a line in the result; the whole of it is in the
// backup folder and in a file linked as a resource.
func TestModelEditCutsALongDiff(t *testing.T) {
	st := modelingStack(t, stackOptions{maxResultBytes: 4096})
	var lines []string
	for i := range 200 {
		lines = append(lines, "    + SUM(Sales[Quantity]) * "+strings.Repeat("1", i%7+1))
	}
	expr := "0\n" + strings.Join(lines, "\n")
	var res ModelEditResult
	st.ok(t, "upsert_measures", salesArgs(map[string]any{"confirm": true, "measures": []any{map[string]any{
		"table": "Sales", "name": "Long", "expression": expr}}}), &res)
	if !res.Applied || res.DiffFile == nil || !strings.Contains(res.Diff, "[diff cut: the whole diff is in diffFile") {
		t.Fatalf("%+v", res)
	}
	whole, err := os.ReadFile(res.DiffFile.Path)
	if err != nil {
		t.Fatal(err)
	}
	saved, err := os.ReadFile(filepath.Join(res.Backup, "changes.diff"))
	if err != nil || string(saved) != string(whole) || strings.Count(string(whole), "\n+\t\t\t\t+ SUM(Sales[Quantity]) * 1") != 200 {
		t.Fatalf("changes.diff (%v) and the diff file differ, or are not whole:\n%s", err, whole)
	}
	if cut := strings.TrimSuffix(res.Diff, "[diff cut: the whole diff is in diffFile and in the backup folder]\n"); !strings.HasPrefix(string(whole), strings.TrimSuffix(cut, "\n")) {
		t.Fatalf("the diff shown is not the start of the whole diff:\n%s", res.Diff)
	}
}
