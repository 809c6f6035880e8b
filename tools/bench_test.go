package tools

import (
	"bufio"
	"context"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// BenchmarkListWorkspacesTool is one list_workspaces call through the MCP protocol (in-process
// client), the tools layer, pbiclient and TLS to the fake tenant. Compare with pbiclient's
// BenchmarkListGroups (the client alone) and BenchmarkRawGet (net/http alone).
func BenchmarkListWorkspacesTool(b *testing.B) {
	st := newStack(b, stackOptions{})
	ctx := context.Background()
	req := mcp.CallToolRequest{Params: mcp.CallToolParams{Name: "list_workspaces"}}
	for b.Loop() {
		res, err := st.client.CallTool(ctx, req)
		if err != nil || res.IsError {
			b.Fatal(err, res)
		}
	}
}

// BenchmarkExportLargeFile exports a 200 MB report through export_report and reports how much
// the process's peak resident memory grew: the file must stream to disk, never sit in memory.
// Run it with -benchtime=1x; the fake tenant generates the file while streaming, in-process.
func BenchmarkExportLargeFile(b *testing.B) {
	const size = 200 << 20
	st := newStack(b, stackOptions{tenant: pbitest.Options{ExportFileSize: size, ExportDuration: 10 * time.Millisecond}})
	args := map[string]any{"workspace": "Sales Analytics", "report": "Sales Overview", "format": "PDF"}
	var growth float64
	for b.Loop() {
		runtime.GC()
		debug.FreeOSMemory()
		before := resetPeakRSS(b)
		var res ExportResult
		st.ok(b, "export_report", args, &res)
		growth = float64(procStatus(b, "VmHWM")-before) / (1 << 20)
		if res.File.Bytes < size {
			b.Fatalf("exported %d bytes, want %d", res.File.Bytes, size)
		}
		os.Remove(res.File.Path)
	}
	b.ReportMetric(growth, "MB-peak-RSS-growth")
	b.ReportMetric(float64(size)/(1<<20), "MB-exported")
}

// resetPeakRSS clears the kernel's peak-RSS mark of this process and returns the current RSS.
func resetPeakRSS(b *testing.B) int64 {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Skipf("cannot reset the peak RSS on this system: %v", err)
	}
	return procStatus(b, "VmRSS")
}

// procStatus reads a memory figure (in bytes) from /proc/self/status.
func procStatus(b *testing.B, field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Skipf("no /proc on this system: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Fatalf("%s not in /proc/self/status", field)
	return 0
}
