package pbitest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"time"
)

// apiPrefix is the path every Power BI REST operation lives under.
const apiPrefix = "/v1.0/myorg"

// maxRecordedBody bounds how much of a request body Requests() keeps.
const maxRecordedBody = 64 << 10

// handleAPI registers a Power BI REST route. Every request through it is
// recorded, delayed by Faults.Latency, possibly faulted, given the headers
// the service sends on every answer and checked for a valid access token
// before h runs. h finds the request's RequestId in w.Header().
func (s *Server) handleAPI(pattern string, h http.HandlerFunc) {
	s.apiRoutes = append(s.apiRoutes, pattern)
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		rec := s.begin(w, r, true)
		defer rec.finish()
		if !s.delay(r.Context()) {
			return
		}
		setServiceHeaders(rec.Header(), rec.requestID, s.URL())
		switch f, settings := s.nextFault(); f {
		case faultDrop:
			dropConnection(rec)
			return
		case faultServerError:
			writeServerError(rec)
			return
		case faultThrottle:
			writeThrottled(rec, settings.RetryAfter)
			return
		}
		if !s.authorize(rec, r) || s.refuseServicePrincipal(rec, r) || s.refuseNonMember(rec, r) {
			return
		}
		h(rec, r)
	})
}

// handleEntra registers an Entra ID route. Token requests carry secrets, so
// their bodies are never recorded.
func (s *Server) handleEntra(pattern string, h http.HandlerFunc) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		rec := s.begin(w, r, false)
		if !s.delay(r.Context()) {
			return
		}
		// Entra names its request id x-ms-request-id and echoes the
		// client's client-request-id (MSAL sends one).
		rec.Header().Set("x-ms-request-id", rec.requestID)
		if id := r.Header.Get("client-request-id"); id != "" {
			rec.Header().Set("client-request-id", id)
		}
		rec.Header().Set("Cache-Control", "no-store, no-cache")
		rec.Header().Set("Pragma", "no-cache")
		h(rec, r)
	})
}

// recorder logs a request at arrival and its status as soon as it is
// written, so a client that has read an answer always finds its request in
// Requests and Count.
type recorder struct {
	http.ResponseWriter
	s         *Server
	entry     *Request
	requestID string
	wrote     bool
	// keepBody records the first maxRecordedBody bytes of the answer.
	keepBody bool
}

func (rw *recorder) WriteHeader(code int) {
	if !rw.wrote {
		rw.wrote = true
		rw.s.logMu.Lock()
		rw.entry.Status = code
		rw.s.logMu.Unlock()
	}
	rw.ResponseWriter.WriteHeader(code)
}

func (rw *recorder) Write(p []byte) (int, error) {
	if !rw.wrote {
		rw.WriteHeader(http.StatusOK)
	}
	if rw.keepBody {
		rw.s.logMu.Lock()
		if room := maxRecordedBody - len(rw.entry.ResponseBody); room > 0 {
			rw.entry.ResponseBody = append(rw.entry.ResponseBody, p[:min(room, len(p))]...)
		}
		rw.s.logMu.Unlock()
	}
	return rw.ResponseWriter.Write(p)
}

// finish hands the finished exchange to the observer, if any.
func (rw *recorder) finish() {
	f := observer.Load()
	if f == nil {
		return
	}
	rw.s.logMu.Lock()
	entry := *rw.entry
	entry.Body = bytes.Clone(rw.entry.Body)
	entry.ResponseBody = bytes.Clone(rw.entry.ResponseBody)
	rw.s.logMu.Unlock()
	(*f)(entry)
}

// Unwrap lets http.ResponseController reach Flush and Hijack.
func (rw *recorder) Unwrap() http.ResponseWriter { return rw.ResponseWriter }

// begin records a request. withBody keeps up to maxRecordedBody bytes of the
// body while leaving the whole body readable for the handler.
func (s *Server) begin(w http.ResponseWriter, r *http.Request, withBody bool) *recorder {
	entry := &Request{
		Method:    r.Method,
		Path:      r.URL.Path,
		RawQuery:  r.URL.RawQuery,
		Route:     r.Pattern,
		RequestID: newGUID(),
		UserAgent: r.UserAgent(),
		Time:      time.Now(),
	}
	if withBody && r.Body != nil && r.Body != http.NoBody {
		head, _ := io.ReadAll(io.LimitReader(r.Body, maxRecordedBody))
		entry.Body = head
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(head), r.Body), r.Body}
	}
	s.logMu.Lock()
	s.requests = append(s.requests, entry)
	s.counts[r.Pattern]++
	s.logMu.Unlock()
	return &recorder{ResponseWriter: w, s: s, entry: entry, requestID: entry.RequestID, keepBody: withBody}
}

// delay waits Faults.Latency. It reports false when the client gave up first,
// in which case nothing is answered.
func (s *Server) delay(ctx context.Context) bool {
	s.mu.Lock()
	d := s.faults.Latency
	s.mu.Unlock()
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.closing:
		return false
	}
}

// setServiceHeaders adds what Power BI sends on every answer.
func setServiceHeaders(h http.Header, requestID, baseURL string) {
	h.Set("RequestId", requestID)
	h.Set("Access-Control-Expose-Headers", "RequestId")
	h.Set("home-cluster-uri", baseURL+"/")
	h.Set("Cache-Control", "no-store, must-revalidate, no-cache")
	h.Set("Pragma", "no-cache")
	h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
	h.Set("X-Frame-Options", "deny")
	h.Set("X-Content-Type-Options", "nosniff")
}

// dropConnection closes the connection without answering, as a reset by a
// load balancer would look to the client.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Only HTTP/2 cannot hijack, and httptest's TLS server speaks
		// HTTP/1.1 unless told otherwise. Aborting the handler also
		// ends the exchange with no answer.
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}
