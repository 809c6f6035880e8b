package pbitest

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest/swaggercheck"
)

// TestMain checks every Power BI exchange of this package's tests against
// Microsoft's REST definition (swaggercheck.Main).
func TestMain(m *testing.M) {
	swaggercheck.Main(m, "pbitest", func(add func(swaggercheck.Exchange)) func() {
		Observe(func(r Request) {
			add(swaggercheck.Exchange{Method: r.Method, Path: r.Path, Route: r.Route, RawQuery: r.RawQuery,
				Body: r.Body, Status: r.Status, ResponseBody: r.ResponseBody})
		})
		return func() { Observe(nil) }
	})
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

// Requests keeps the start of each Power BI answer, never an Entra one
// (it carries a token), and the observer sees the same exchange.
func TestResponseBodyRecorded(t *testing.T) {
	s := newTestServer(t, Options{ExportDuration: time.Millisecond, ExportFileSize: 1 << 20})
	s.SeedDemo()
	list := api(t, s, "GET", "/groups", nil)
	wantStatus(t, list, http.StatusOK)
	report := "/groups/" + DemoFinanceWorkspaceID + "/reports/" + DemoFinanceReportID
	id := startExport(t, s, report, map[string]string{"format": "PDF"})
	waitExport(t, s, report, id)
	file := api(t, s, "GET", report+"/exports/"+url.PathEscape(id)+"/file", nil)
	wantStatus(t, file, http.StatusOK)
	token := postForm(t, s, s.TenantID(), url.Values{"grant_type": {"client_credentials"}, "client_id": {s.ClientID()},
		"client_secret": {s.ClientSecret()}, "scope": {"https://analysis.windows.net/powerbi/api/.default"}})
	wantStatus(t, token, http.StatusOK)

	var sawList, sawFile, sawToken bool
	for _, r := range s.Requests() {
		switch {
		case r.Route == "GET "+apiPrefix+"/groups":
			sawList = true
			if !bytes.Equal(r.ResponseBody, list.body) {
				t.Errorf("groups: recorded %q, answered %q", r.ResponseBody, list.body)
			}
		case strings.HasSuffix(r.Route, "/file"):
			sawFile = true
			if len(r.ResponseBody) != 64<<10 || !bytes.Equal(r.ResponseBody, file.body[:64<<10]) {
				t.Errorf("export file: recorded %d bytes, want the first 64 KiB of %d", len(r.ResponseBody), len(file.body))
			}
		case strings.HasSuffix(r.Path, "/token"):
			sawToken = true
			if len(r.ResponseBody) != 0 || len(r.Body) != 0 {
				t.Errorf("token endpoint: recorded request %q, answer %q", r.Body, r.ResponseBody)
			}
		}
	}
	if !sawList || !sawFile || !sawToken {
		t.Errorf("requests seen: groups %v, file %v, token %v", sawList, sawFile, sawToken)
	}
}

// The observer sees every Power BI exchange once answered, with its body,
// and no Entra exchange.
func TestObserve(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	var mu sync.Mutex
	var seen []Request
	// TestMain's observer is restored afterwards, so that this package's
	// other exchanges are still checked.
	prev := observer.Load()
	Observe(func(r Request) {
		if r.Path == apiPrefix+"/groups/"+DemoSalesWorkspaceID {
			mu.Lock()
			seen = append(seen, r)
			mu.Unlock()
		}
		if prev != nil {
			(*prev)(r)
		}
	})
	t.Cleanup(func() { observer.Store(prev) })
	got := api(t, s, "GET", "/groups/"+DemoSalesWorkspaceID, nil)
	wantStatus(t, got, http.StatusOK)
	s.Close() // waits for the handler, and so for the observer
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 || seen[0].Status != http.StatusOK || !bytes.Equal(seen[0].ResponseBody, got.body) {
		t.Errorf("observed %+v", seen)
	}
}
