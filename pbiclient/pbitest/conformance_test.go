package pbitest

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest/swaggercheck"
)

// TestMain checks every Power BI exchange of this package's tests against
// Microsoft's REST definition, as the pbiclient and tools suites do.
func TestMain(m *testing.M) {
	flag.Parse()
	if swaggercheck.Benchmarking() {
		os.Exit(m.Run())
	}
	col := swaggercheck.NewCollector()
	Observe(func(r Request) {
		col.Add(swaggercheck.Exchange{Method: r.Method, Path: r.Path, Route: r.Route, RawQuery: r.RawQuery,
			Body: r.Body, Status: r.Status, ResponseBody: r.ResponseBody})
	})
	code := m.Run()
	Observe(nil)
	if !col.Report(os.Stdout, "pbitest", testing.Verbose()) && code == 0 {
		code = 1
	}
	os.Exit(code)
}

// Every Power BI route the fake serves must be an operation of the
// definition, with the same method and path template, whether or not a test
// calls it yet.
func TestRoutesAreSwaggerOperations(t *testing.T) {
	c, err := swaggercheck.New()
	if err != nil {
		t.Fatal(err)
	}
	s := newTestServer(t, Options{})
	for _, route := range s.apiRoutes {
		method, path, ok := strings.Cut(route, " ")
		if !ok {
			continue // the catch-all for unknown paths
		}
		op := c.Find(swaggercheck.Exchange{Method: method, Path: path, Route: route})
		if op == nil {
			t.Errorf("%s: no such operation in the definition", route)
			continue
		}
		if !sameTemplate(op.Template, path) {
			t.Errorf("%s: the definition's template is %s", route, op.Template)
		}
		t.Logf("%-80s %s", route, op.ID)
	}
}

// sameTemplate reports whether two path templates have the same literal
// segments, spelt the same, and parameters in the same places.
func sameTemplate(a, b string) bool {
	as, bs := strings.Split(a, "/"), strings.Split(b, "/")
	if len(as) != len(bs) {
		return false
	}
	for i := range as {
		ap, bp := strings.HasPrefix(as[i], "{"), strings.HasPrefix(bs[i], "{")
		if ap != bp || (!ap && as[i] != bs[i]) {
			return false
		}
	}
	return true
}
