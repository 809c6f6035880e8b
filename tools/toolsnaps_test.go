package tools

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
)

// TestToolSnapshots keeps one golden file per toolset, testdata/toolsnaps/<toolset>.json, with
// its tools' definitions as tools/list sends them: a change to a name, description, annotation
// or schema shows up in review as a change to these files, or fails here.
func TestToolSnapshots(t *testing.T) {
	byToolset := map[string][]mcp.Tool{}
	for _, tool := range All(Deps{}) {
		byToolset[tool.Toolset] = append(byToolset[tool.Toolset], tool.Definition)
	}
	dir := filepath.Join("testdata", "toolsnaps")
	if *updateSnapshots {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, ts := range toolsets {
		got, err := json.MarshalIndent(byToolset[ts.Name], "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, '\n')
		path := filepath.Join(dir, ts.Name+".json")
		if *updateSnapshots {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("no snapshot of the %s toolset (%v): run go test ./tools -run TestToolSnapshots -update and review %s", ts.Name, err, path)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("the %s toolset's tool definitions changed; review the difference, then run go test ./tools -run TestToolSnapshots -update\n%s", ts.Name, firstDiff(string(want), string(got)))
		}
	}
	// A snapshot whose toolset is gone would be reviewed as current.
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) != len(toolsets) {
		t.Errorf("%s holds %d snapshots for %d toolsets: run go test ./tools -run TestToolSnapshots -update", dir, len(files), len(toolsets))
	}
}
