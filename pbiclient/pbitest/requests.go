package pbitest

import (
	"bytes"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// Request is one request the server received.
type Request struct {
	Method, Path, RawQuery string
	// Route is the ServeMux pattern that matched, e.g.
	// "POST /v1.0/myorg/groups/{groupId}/datasets/{datasetId}/refreshes".
	// Unknown Power BI paths match "/v1.0/myorg/", anything else "/".
	Route     string
	Body      []byte // first 64 KiB of the request body (never kept for Entra endpoints: they carry secrets)
	Status    int    // status answered (0 for a dropped connection or a client that gave up)
	RequestID string // the RequestId header sent back (x-ms-request-id for Entra)
	UserAgent string
	Time      time.Time // arrival

	// ResponseBody is the first 64 KiB of the answer's body (never kept
	// for Entra endpoints: they carry tokens).
	ResponseBody []byte
}

// Requests returns every request received since the start or the last
// ResetRequests, in arrival order, Entra ones included.
func (s *Server) Requests() []Request {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		out[i] = *r
		out[i].Body = bytes.Clone(r.Body)
		out[i].ResponseBody = bytes.Clone(r.ResponseBody)
	}
	return out
}

// WirePaths returns the path of every request the server received, Entra
// ones included, in arrival order, as it came on the wire: escaped and
// before routing. Unlike Requests it also has the requests the router
// answered itself, such as a path with a ".." segment, which the router
// redirects to the cleaned path without running any handler.
func (s *Server) WirePaths() []string {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return slices.Clone(s.wirePaths)
}

// HasDotSegment reports whether a request path, as WirePaths gives it,
// holds a "." or ".." segment once decoded the way the most lenient server
// or proxy would: every %XX decoded (%2e is a dot, %2F a separator) and "\"
// read as "/". Such a path names another resource than it seems to once
// normalised.
func HasDotSegment(path string) bool {
	if p, err := url.PathUnescape(path); err == nil {
		path = p
	}
	for seg := range strings.FieldsFuncSeq(path, func(r rune) bool { return r == '/' || r == '\\' }) {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

// serveHTTP records the wire path of every request before the router sees it.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	path, _, _ := strings.Cut(r.RequestURI, "?")
	s.logMu.Lock()
	s.wirePaths = append(s.wirePaths, path)
	s.logMu.Unlock()
	s.mux.ServeHTTP(w, r)
}

// Count returns how many requests matched the route pattern, faulted ones
// included.
func (s *Server) Count(route string) int {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return s.counts[route]
}

// ResetRequests forgets the recorded requests and client assertions and
// zeroes Count, TokenRequests and OBORequests.
func (s *Server) ResetRequests() {
	s.logMu.Lock()
	s.requests = nil
	s.wirePaths = nil
	s.counts = make(map[string]int)
	s.tokenCalls = 0
	s.oboCalls = 0
	s.assertions = nil
	s.logMu.Unlock()
}

// observer receives every finished Power BI API exchange of every Server.
var observer atomic.Pointer[func(Request)]

// Observe makes every Server of the process pass each Power BI API exchange
// to f once it is answered (Entra ones excluded), from the goroutine that
// served it; nil stops. It serves checks over a whole test suite, such as
// conformance with Microsoft's REST definition, from a TestMain: a Server
// waits for its handlers in Close, so when every test has cleaned up, f has
// seen every exchange.
func Observe(f func(Request)) {
	if f == nil {
		observer.Store(nil)
		return
	}
	observer.Store(&f)
}
