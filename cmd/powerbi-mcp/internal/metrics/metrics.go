// Package metrics counts what the server does, for Prometheus: tool calls, Power BI's answers,
// token requests and the audit log's failures. The packages it counts for expose plain hooks
// (tools.CallObserver, pbiclient.Config.OnResponse, auth.Observer) and know nothing of
// Prometheus, so they stay usable as libraries without it; the registry and its endpoint belong
// to the command that serves them, hence internal to it.
//
// Every label takes one of a bounded set of values (tool names, outcomes, status codes, flows),
// never an id, a user or a URL, so the number of series stays fixed whoever calls.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
)

const namespace = "powerbi_mcp"

// Metrics is the server's registry. Its methods satisfy tools.CallObserver and auth.Observer,
// and Response is a pbiclient.Config.OnResponse. The zero value is not usable; use New.
type Metrics struct {
	reg *prometheus.Registry

	calls         *prometheus.CounterVec
	callSeconds   *prometheus.HistogramVec
	inFlight      prometheus.Gauge
	responses     *prometheus.CounterVec
	tokenRequests *prometheus.CounterVec
	tokenHits     *prometheus.CounterVec
	auditFailures prometheus.Counter
}

// New returns a registry with the server's metrics and the Go runtime's and process's.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "tool_calls_total",
			Help: "Tool calls answered, by tool and outcome (ok, error, cancelled)."}, []string{"tool", "outcome"}),
		// From 10 ms (a cached lookup) to 10 minutes (an export followed to its end).
		callSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "tool_call_duration_seconds",
			Help:    "How long tool calls took, by tool.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600}}, []string{"tool"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "tool_calls_in_flight",
			Help: "Tool calls running now."}),
		responses: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "powerbi_responses_total",
			Help: "Answers from the Power BI REST API, retries included, by HTTP status (none: no answer came) and class (read: GET and HEAD; write: the rest)."},
			[]string{"code", "class"}),
		tokenRequests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "token_requests_total",
			Help: "Token requests to the credential (Entra ID, unless its library's cache answered), by flow (server: the server's own identity; obo: on behalf of a caller) and result (ok, error)."},
			[]string{"flow", "result"}),
		tokenHits: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "token_cache_hits_total",
			Help: "Tokens handed out from the server's cache without a request, by flow."}, []string{"flow"}),
		auditFailures: prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: "audit_write_failures_total",
			Help: "Audit log lines that could not be written (each is in the server's log instead)."}),
	}
	m.reg.MustRegister(m.calls, m.callSeconds, m.inFlight, m.responses, m.tokenRequests, m.tokenHits, m.auditFailures,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in Prometheus's text format (or OpenMetrics, when asked).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// CallStarted is tools.CallObserver's.
func (m *Metrics) CallStarted(string) { m.inFlight.Inc() }

// CallEnded is tools.CallObserver's.
func (m *Metrics) CallEnded(tool, outcome string, took time.Duration) {
	m.inFlight.Dec()
	m.calls.WithLabelValues(tool, outcome).Inc()
	m.callSeconds.WithLabelValues(tool).Observe(took.Seconds())
}

// Response counts one of Power BI's answers: a pbiclient.Config.OnResponse.
func (m *Metrics) Response(r pbiclient.Response) {
	code := "none"
	if r.Status > 0 {
		code = strconv.Itoa(r.Status)
	}
	class := "write"
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		class = "read"
	}
	m.responses.WithLabelValues(code, class).Inc()
}

// TokenCacheHit is auth.Observer's.
func (m *Metrics) TokenCacheHit(flow string) { m.tokenHits.WithLabelValues(flow).Inc() }

// TokenRequested is auth.Observer's.
func (m *Metrics) TokenRequested(flow string, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.tokenRequests.WithLabelValues(flow, result).Inc()
}

// AuditWriteFailed counts an audit line that could not be written.
func (m *Metrics) AuditWriteFailed() { m.auditFailures.Inc() }
