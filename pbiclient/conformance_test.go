package pbiclient_test

import (
	"flag"
	"os"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest/swaggercheck"
)

// TestMain checks every Power BI exchange the suite's fake tenants serve
// against Microsoft's REST definition: what the client sends (method, path,
// query, body) and what pbitest answers (status, body). Any departure fails
// the run; the operations covered are printed (with -v, also the
// undocumented fields pbitest sends). Benchmarks run unchecked.
func TestMain(m *testing.M) {
	flag.Parse()
	if swaggercheck.Benchmarking() {
		os.Exit(m.Run())
	}
	col := swaggercheck.NewCollector()
	pbitest.Observe(func(r pbitest.Request) {
		col.Add(swaggercheck.Exchange{Method: r.Method, Path: r.Path, Route: r.Route, RawQuery: r.RawQuery,
			Body: r.Body, Status: r.Status, ResponseBody: r.ResponseBody})
	})
	code := m.Run()
	pbitest.Observe(nil)
	if !col.Report(os.Stdout, "pbiclient", testing.Verbose()) && code == 0 {
		code = 1
	}
	os.Exit(code)
}
