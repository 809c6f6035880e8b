package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// BenchmarkStartupToToolsList measures what a desktop agent waits for: from spawning the binary
// to the answer to tools/list over stdio, and the resident memory of the idle server right
// after that answer. "default" is configured for the real Power BI with a client secret (start-up
// does no network I/O, so no tenant is needed); "sandbox" also starts the demo tenant and offers
// every tool.
//
// Each one is measured against its reference in the same run, spawn for spawn: baremcp
// (testdata/baremcp), a bare mcp-go server answering with the same definitions and
// instructions. The ratio of the medians is the figure to compare across machines.
func BenchmarkStartupToToolsList(b *testing.B) {
	bin, err := binary()
	if err != nil {
		b.Fatal(err)
	}
	bare := filepath.Join(filepath.Dir(bin), "baremcp")
	if out, err := releaseBuild(bare, "./testdata/baremcp"); err != nil {
		b.Fatalf("%v\n%s", err, out)
	}
	for _, c := range []struct {
		name string
		args []string
	}{{"default", nil}, {"sandbox", []string{"--sandbox"}}} {
		b.Run(c.name, func(b *testing.B) {
			ours := func() *exec.Cmd {
				cmd := exec.Command(bin, c.args...)
				cmd.Env = append(os.Environ(), "AZURE_TENANT_ID=00000000-0000-0000-0000-000000000001",
					"AZURE_CLIENT_ID=00000000-0000-0000-0000-000000000002", "AZURE_CLIENT_SECRET=not-used", "PBI_MCP_LOG_LEVEL=warn")
				return cmd
			}
			_, _, answers := startToToolsList(b, ours())
			defs := filepath.Join(b.TempDir(), "definitions.json")
			if err := os.WriteFile(defs, answers, 0o600); err != nil {
				b.Fatal(err)
			}
			reference := func() *exec.Cmd { return exec.Command(bare, defs) }
			if _, _, same := startToToolsList(b, reference()); !bytes.Equal(same, answers) {
				b.Fatalf("the reference answers differently:\n%s\n%s", same, answers)
			}
			var oursTimes, refTimes []time.Duration
			var oursRSS, refRSS int64
			for b.Loop() {
				d, rss, _ := startToToolsList(b, ours())
				oursTimes, oursRSS = append(oursTimes, d), rss
				d, rss, _ = startToToolsList(b, reference())
				refTimes, refRSS = append(refTimes, d), rss
			}
			b.ReportMetric(median(oursTimes).Seconds()*1000, "ms-median")
			b.ReportMetric(median(refTimes).Seconds()*1000, "ms-reference")
			b.ReportMetric(float64(median(oursTimes))/float64(median(refTimes)), "x-reference")
			b.ReportMetric(float64(oursRSS)/(1<<20), "MiB-idle-RSS")
			b.ReportMetric(float64(refRSS)/(1<<20), "MiB-reference-RSS")
		})
	}
}

// startToToolsList starts cmd, initializes and lists the tools over stdio, and returns the time
// from spawn to the tools/list answer, the idle server's RSS after it, and the instructions and
// tools it answered, as {"instructions":…,"tools":…}.
func startToToolsList(b *testing.B, cmd *exec.Cmd) (time.Duration, int64, []byte) {
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	out := bufio.NewReader(stdout)
	send(b, stdin, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"0"}}}`)
	initialized := await(b, out, 1)
	send(b, stdin, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	send(b, stdin, `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
	list := await(b, out, 2)
	took := time.Since(start)
	b.StopTimer()
	time.Sleep(50 * time.Millisecond) // let the idle server settle before reading its memory
	mem := rss(b, cmd.Process.Pid)
	stdin.Close()
	cmd.Wait()
	b.StartTimer()
	var init struct {
		Instructions string `json:"instructions"`
	}
	var tools struct {
		Tools json.RawMessage `json:"tools"`
	}
	_ = json.Unmarshal(initialized, &init)
	_ = json.Unmarshal(list, &tools)
	answers, _ := json.Marshal(map[string]any{"instructions": init.Instructions, "tools": tools.Tools})
	return took, mem, answers
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func send(b *testing.B, w io.Writer, msg string) {
	if _, err := io.WriteString(w, msg+"\n"); err != nil {
		b.Fatal(err)
	}
}

// await reads protocol lines until the response with the given id, and returns its result.
func await(b *testing.B, r *bufio.Reader, id int) json.RawMessage {
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			b.Fatal(err)
		}
		var m struct {
			ID     *int            `json:"id"`
			Error  json.RawMessage `json:"error"`
			Result json.RawMessage `json:"result"`
		}
		if json.Unmarshal(line, &m) == nil && m.ID != nil && *m.ID == id {
			if m.Error != nil {
				b.Fatalf("error answer: %s", line)
			}
			return m.Result
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
