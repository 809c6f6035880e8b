package main

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
)

// The sandbox server, wired as the binary wires it (Fabric tokens with Fabric's scope, the
// sandbox's Fabric base URL), adds a measure through upsert_measures, backs the definition up
// in its export directory, and DAX evaluates the measure right after.
func TestSandboxServesUpsertMeasures(t *testing.T) {
	cfg := config{Transport: "http", HTTPToken: "caller-secret", Toolsets: []string{"default"}}
	ts := httptest.NewServer(sandboxHandler(t, cfg))
	defer ts.Close()
	c, err := client.NewStreamableHttpClient(ts.URL+"/mcp", transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer caller-secret"}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	initialize(t, c)

	res := callTool(t, c, "upsert_measures", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales", "confirm": true,
		"measures": []any{map[string]any{"table": "Sales", "name": "Orders x2", "expression": "[Order Count] * 2"}}})
	if res.IsError {
		t.Fatal(resultText(res))
	}
	var edit struct {
		Applied bool   `json:"applied"`
		Diff    string `json:"diff"`
		Backup  string `json:"backup"`
	}
	if err := json.Unmarshal([]byte(resultText(res)), &edit); err != nil {
		t.Fatal(err)
	}
	if !edit.Applied || !strings.Contains(edit.Diff, "+\tmeasure 'Orders x2' = [Order Count] * 2\n") {
		t.Fatalf("%s", resultText(res))
	}
	if saved, err := os.ReadFile(filepath.Join(edit.Backup, "definition", "tables", "Sales.tmdl")); err != nil || strings.Contains(string(saved), "Orders x2") {
		t.Fatalf("backup: %v\n%s", err, saved)
	}

	res = callTool(t, c, "execute_dax_query", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales",
		"query": `EVALUATE ROW("a", [Orders x2], "b", [Order Count] * 2)`})
	var dax struct {
		Rows [][]float64 `json:"rows"`
	}
	if res.IsError || json.Unmarshal([]byte(resultText(res)), &dax) != nil || len(dax.Rows) != 1 || dax.Rows[0][0] == 0 || dax.Rows[0][0] != dax.Rows[0][1] {
		t.Fatalf("%s", resultText(res))
	}
}
