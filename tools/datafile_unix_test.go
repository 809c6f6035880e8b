//go:build unix

package tools

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
)

// A FIFO in the data directory is refused at once: opening it to read would wait for a writer
// that never comes, in a call nothing can cancel. A regular file next to it still imports.
func TestImportFileRefusesAFIFO(t *testing.T) {
	st := importStack(t)
	fifo := filepath.Join(st.dataDir, "Budget.pbix")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}

	done := make(chan *mcp.CallToolResult, 1)
	go func() {
		res, err := st.client.CallTool(context.Background(), mcp.CallToolRequest{Params: mcp.CallToolParams{
			Name: "import_file", Arguments: map[string]any{"workspace": "Sales Analytics", "file": "Budget.pbix"}}})
		if err != nil {
			res = mcp.NewToolResultError("protocol error: " + err.Error())
		}
		done <- res
	}()
	var res *mcp.CallToolResult
	select {
	case res = <-done:
	case <-time.After(time.Minute): // only a guard against hanging the test run
		// A writer lets the blocked open return, so the server can be closed.
		if w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
		t.Fatal("import_file is stuck opening a FIFO in the data directory")
	}
	if !res.IsError {
		t.Fatalf("import_file read a FIFO: %s", text(res))
	}
	wantAll(t, text(res), `"Budget.pbix"`, st.dataDir, "named pipe (FIFO)", "not a regular file")
	if n := st.tenant.Count("POST /v1.0/myorg/groups/{groupId}/imports"); n != 0 {
		t.Errorf("%d imports posted, want none", n)
	}

	writeDataFile(t, st, "drop/Budget.pbix", 1000)
	var ok ImportFileResult
	st.ok(t, "import_file", map[string]any{"workspace": "Sales Analytics", "file": "drop/Budget.pbix"}, &ok)
	if ok.ImportState != "Succeeded" || !strings.HasPrefix(ok.Name, "Budget") {
		t.Errorf("regular file: %+v", ok)
	}
}
