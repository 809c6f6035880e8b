package tools

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// pathProbes are the values that would change a URL path's shape if an argument went into it
// as a segment of its own: dot segments, a separator, and a dot segment escaped.
var pathProbes = []string{"..", ".", "a/b", "%2e%2e"}

// samples are argument values that are valid in the demo tenant, by argument name, so that a
// call fails only because of the one argument a test changed. Ids rather than names, so that a
// call that renames something does not spoil the next.
var samples = map[string]any{
	"workspace":        pbitest.DemoSalesWorkspaceID,
	"dataset":          pbitest.DemoSalesDatasetID,
	"report":           pbitest.DemoSalesReportID,
	"source_report":    pbitest.DemoSalesReportID,
	"dashboard":        pbitest.DemoSalesDashboardID,
	"target_dashboard": pbitest.DemoSalesDashboardID,
	"tile":             pbitest.DemoRevenueTileID,
	"app":              pbitest.DemoSalesAppID,
	"gateway":          pbitest.DemoGatewayID,
	"datasource":       pbitest.DemoSalesGatewayDatasourceID,
	"email_address":    pbitest.DemoRemovableGatewayUser,
	"identifier":       pbitest.DemoRemovableUser,
	"pipeline":         pbitest.DemoSalesPipelineID,
	"operation":        pbitest.DemoSalesDeploymentOpID,
	"capacity":         pbitest.DemoCapacityID,
	"dataflow":         pbitest.DemoInventoryFeedDataflowID,
	"transaction_id":   pbitest.DemoInventoryFeedTransactionID,
	"refresh_id":       pbitest.DemoInventoryRefreshID,
	"import_id":        pbitest.DemoSalesImportID,
	"workspaces":       []any{pbitest.DemoSalesWorkspaceID},
	"name":             "Probe",
	"query":            `EVALUATE ROW("x", 1)`,
	"file":             "probe.pbix",
	"table":            "Orders",
	"confirm":          true,
}

// toolSamples are the values that differ for one tool, and optional arguments it gets.
var toolSamples = map[string]map[string]any{
	"deploy_pipeline_stage": {"wait": false}, // the deployment itself is not what is probed
	"get_app_report":        {"report": pbitest.DemoSalesAppReportID},
	"get_app_dashboard":     {"dashboard": pbitest.DemoSalesAppDashboardID},
	"list_tables":           {"dataset": pbitest.DemoLiveOrdersDatasetID},
	"update_table_schema":   {"dataset": pbitest.DemoLiveOrdersDatasetID},
	"add_rows":              {"dataset": pbitest.DemoLiveOrdersDatasetID, "rows": []any{map[string]any{"OrderId": 1}}},
	"delete_rows":           {"dataset": pbitest.DemoLiveOrdersDatasetID},
	"get_refresh_details":   {"dataset": pbitest.DemoInventoryDatasetID},
	"cancel_refresh":        {"dataset": pbitest.DemoInventoryDatasetID},

	"admin_list_subscriptions": {"kind": "report", "id": pbitest.DemoSalesReportID},
}

// inPath are the arguments that go into a URL path as they are given; the others are looked
// up by name or id first, or go into a query or a body. Each probe must be refused, by the
// schema or by pbiclient, before anything is sent; except "a/b" as an export id, which is
// base64 and may hold "/": that is sent escaped, as one segment.
var inPath = map[string][]string{
	"remove_gateway_datasource_user": {"email_address"},
	"cancel_dataflow_transaction":    {"transaction_id"},
	"export_report":                  {"export_id"},
	"get_refresh_details":            {"refresh_id"},
	"cancel_refresh":                 {"refresh_id"},
	"get_import":                     {"import_id"},
	"get_pipeline_operation":         {"operation"},
}

// TestNoArgumentChangesTheShapeOfAPath walks every tool's input schema and calls the tool once
// per string argument (and array of strings) and probe value, its other arguments valid. Power
// BI must receive no request whose path has a dot segment, however a server decodes it.
func TestNoArgumentChangesTheShapeOfAPath(t *testing.T) {
	fast := stackOptions{tenant: pbitest.Options{ExportDuration: time.Millisecond, ImportDuration: time.Millisecond}}
	readOnly := newStack(t, fast) // shared by the tools that change nothing
	list, err := readOnly.client.ListTools(context.Background(), mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	probed := 0
	for _, tool := range list.Tools {
		var schema struct {
			Properties map[string]map[string]any `json:"properties"`
			Required   []string                  `json:"required"`
		}
		raw, _ := json.Marshal(tool.InputSchema)
		if err := json.Unmarshal(raw, &schema); err != nil {
			t.Fatal(err)
		}
		t.Run(tool.Name, func(t *testing.T) {
			st := readOnly
			if !isReadOnly(tool) {
				// A tenant of its own: the calls may change what the next tool's calls find.
				st = newStack(t, fast)
				writeDataFile(t, st, "probe.pbix", 1<<10)
			}
			base := map[string]any{}
			for name, prop := range schema.Properties {
				if slices.Contains(schema.Required, name) || name == "confirm" {
					base[name] = sampleFor(t, tool.Name, name, prop)
				}
			}
			maps.Copy(base, toolSamples[tool.Name])
			// The samples must satisfy the schema, or every probe below would be refused for them.
			if res := st.call(t, tool.Name, base); res.IsError && strings.Contains(text(res), "Invalid arguments") {
				t.Fatalf("the sample arguments %v are invalid: %s", base, text(res))
			}
			for _, name := range slices.Sorted(maps.Keys(schema.Properties)) {
				prop := schema.Properties[name]
				items, _ := prop["items"].(map[string]any)
				if prop["type"] != "string" && (prop["type"] != "array" || items["type"] != "string") {
					continue
				}
				if _, isEnum := prop["enum"]; isEnum {
					continue
				}
				for _, v := range pathProbes {
					args := maps.Clone(base)
					args[name] = v
					if prop["type"] == "array" {
						args[name] = []any{v}
					}
					before := len(st.tenant.WirePaths())
					res := st.call(t, tool.Name, args)
					probed++
					for _, p := range st.tenant.WirePaths()[before:] {
						if pbitest.HasDotSegment(p) {
							t.Errorf("%s=%q: Power BI received a path with a dot segment: %s", name, v, p)
						}
					}
					if !slices.Contains(inPath[tool.Name], name) {
						continue
					}
					if name == "export_id" && v == "a/b" {
						if sent := strings.Join(st.tenant.WirePaths()[before:], " "); !strings.Contains(sent, "/exports/a%2Fb") {
							t.Errorf("export_id=%q must be sent escaped in one segment; sent %s", v, sent)
						}
						continue
					}
					msg := text(res)
					refused := strings.Contains(msg, "Invalid arguments for "+tool.Name) ||
						strings.Contains(msg, "Nothing was sent to Power BI")
					if !res.IsError || !refused {
						t.Errorf("%s=%q must be refused before anything is sent; got: %s", name, v, msg)
					}
				}
			}
		})
	}
	if probed == 0 {
		t.Fatal("no string argument was probed")
	}
}

// sampleFor returns a valid value for a tool's argument: from samples, else from its schema.
func sampleFor(t *testing.T, tool, name string, prop map[string]any) any {
	if v, ok := toolSamples[tool][name]; ok {
		return v
	}
	if v, ok := samples[name]; ok {
		return v
	}
	if v, ok := prop["default"]; ok {
		return v
	}
	if e, ok := prop["enum"].([]any); ok && len(e) > 0 {
		return e[0]
	}
	switch prop["type"] {
	case "integer", "number":
		if m, ok := prop["minimum"]; ok {
			return m
		}
		return 1
	case "boolean":
		return false
	case "array":
		items, _ := prop["items"].(map[string]any)
		return []any{sampleFor(t, tool, name, items)}
	case "object":
		obj := map[string]any{}
		props, _ := prop["properties"].(map[string]any)
		req, _ := prop["required"].([]any)
		for _, r := range req {
			sub, _ := props[r.(string)].(map[string]any)
			obj[r.(string)] = sampleFor(t, tool, r.(string), sub)
		}
		return obj
	case "string":
		if _, ok := prop["pattern"]; ok {
			t.Fatalf("%s.%s has a pattern and no sample: add one to samples", tool, name)
		}
		return "probe"
	}
	t.Fatalf("%s.%s: no sample for %v", tool, name, prop)
	return nil
}

// TestAnIDThatWouldChangeThePathIsExplained: ids Power BI itself returns go into paths too. One
// that is a dot segment is refused before anything is sent, and the model learns which value,
// why, and that nothing happened.
func TestAnIDThatWouldChangeThePathIsExplained(t *testing.T) {
	st := newStack(t, stackOptions{})
	st.tenant.AddDataset(pbitest.DemoSalesWorkspaceID, pbitest.Dataset{ID: "..", Name: "Dots"})
	before := len(st.tenant.WirePaths())
	msg := st.fails(t, "delete_dataset", map[string]any{"workspace": "Sales Analytics", "dataset": "Dots", "confirm": true})
	for _, want := range []string{`Could not delete the semantic model: the value ".." cannot be an id in a Power BI URL`, "dot segment", "Nothing was sent to Power BI", "Next:"} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing %q in: %s", want, msg)
		}
	}
	for _, p := range st.tenant.WirePaths()[before:] {
		if pbitest.HasDotSegment(p) {
			t.Errorf("Power BI received %s", p)
		}
	}
}
