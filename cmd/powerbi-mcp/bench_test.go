package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// BenchmarkStartupToToolsList measures what a desktop agent waits for: from spawning the binary
// to the answer to tools/list over stdio, configured for the real Power BI with a client secret.
// Start-up does no network I/O, so no tenant is needed. It also reports the resident memory of
// the idle server right after that answer.
func BenchmarkStartupToToolsList(b *testing.B) {
	bin, err := binary()
	if err != nil {
		b.Fatal(err)
	}
	var rssMiB float64
	for b.Loop() {
		cmd := exec.Command(bin)
		cmd.Env = append(os.Environ(), "AZURE_TENANT_ID=00000000-0000-0000-0000-000000000001",
			"AZURE_CLIENT_ID=00000000-0000-0000-0000-000000000002", "AZURE_CLIENT_SECRET=not-used", "PBI_MCP_LOG_LEVEL=warn")
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		out := bufio.NewReader(stdout)
		send(b, stdin, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"0"}}}`)
		await(b, out, 1)
		send(b, stdin, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
		send(b, stdin, `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
		await(b, out, 2)
		b.StopTimer()
		time.Sleep(50 * time.Millisecond) // let the idle server settle before reading its memory
		rssMiB = float64(rss(b, cmd.Process.Pid)) / (1 << 20)
		stdin.Close()
		cmd.Wait()
		b.StartTimer()
	}
	b.ReportMetric(rssMiB, "MiB-idle-RSS")
}

func send(b *testing.B, w io.Writer, msg string) {
	if _, err := io.WriteString(w, msg+"\n"); err != nil {
		b.Fatal(err)
	}
}

// await reads protocol lines until the response with the given id.
func await(b *testing.B, r *bufio.Reader, id int) {
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			b.Fatal(err)
		}
		var m struct {
			ID    *int            `json:"id"`
			Error json.RawMessage `json:"error"`
		}
		if json.Unmarshal(line, &m) == nil && m.ID != nil && *m.ID == id {
			if m.Error != nil {
				b.Fatalf("error answer: %s", line)
			}
			return
		}
	}
}

// rss returns a process's resident set size in bytes, from /proc.
func rss(b *testing.B, pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Skipf("no /proc on this system: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkStdioListWorkspaces measures what an agent waits for list_workspaces over stdio, the
// binary against a fake tenant on loopback: first with nothing else in flight, then while eight
// export_report calls follow exports that Power BI keeps running. It reports the median of each,
// and for the second its ratio to the first, measured in the same run.
func BenchmarkStdioListWorkspaces(b *testing.B) {
	tenant := pbitest.NewServer(pbitest.Options{})
	b.Cleanup(tenant.Close)
	tenant.SeedDemo()
	release := tenant.HoldExports()
	b.Cleanup(release)
	srv := startStdio(b, append(tenantEnv(b, tenant), "PBI_MCP_EXPORT_DIR="+b.TempDir(), "PBI_MCP_LOG_LEVEL=warn"))
	callTool(b, srv.client, "list_workspaces", nil) // signed in from here on

	measure := func(b *testing.B) time.Duration {
		var took []time.Duration
		for b.Loop() {
			start := time.Now()
			if res := callTool(b, srv.client, "list_workspaces", nil); res.IsError {
				b.Fatal(resultText(res))
			}
			took = append(took, time.Since(start))
		}
		slices.Sort(took)
		median := took[len(took)/2]
		b.ReportMetric(float64(median.Microseconds())/1000, "ms-median")
		return median
	}
	var idle time.Duration
	b.Run("idle", func(b *testing.B) { idle = measure(b) })
	b.Run("8-exports-in-flight", func(b *testing.B) {
		if tenant.Count(routeExportTo) == 0 {
			for range 8 {
				srv.call(context.Background(), "export_report", map[string]any{"workspace": pbitest.DemoSalesWorkspaceID, "report": pbitest.DemoSalesReportID, "format": "PDF"})
			}
			waitFor(b, "the exports to reach Power BI", func() bool { return tenant.Count(routeExportTo) == 8 })
		}
		busy := measure(b)
		if idle > 0 {
			b.ReportMetric(float64(busy)/float64(idle), "x-idle-median")
		}
	})
}
