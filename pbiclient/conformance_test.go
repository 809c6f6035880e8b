package pbiclient_test

import (
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest/swaggercheck"
)

// TestMain checks every Power BI exchange of this package's tests against
// Microsoft's REST definition (swaggercheck.Main).
func TestMain(m *testing.M) {
	swaggercheck.Main(m, "pbiclient", func(add func(swaggercheck.Exchange)) func() {
		pbitest.Observe(func(r pbitest.Request) {
			add(swaggercheck.Exchange{Method: r.Method, Path: r.Path, Route: r.Route, RawQuery: r.RawQuery,
				Body: r.Body, Status: r.Status, ResponseBody: r.ResponseBody})
		})
		return func() { pbitest.Observe(nil) }
	})
}
