package tools

import (
	"context"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/rs/zerolog"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
)

// The outcomes of a tool call, as the audit log and the metrics name them.
const (
	OutcomeOK        = "ok"
	OutcomeError     = "error"
	OutcomeCancelled = "cancelled"
)

// CallObserver hears of every tool call, for metrics: when it starts and how it ended. tool is
// the tool's name and outcome one of the Outcome constants, so labels made of them stay few.
// The methods run on the call's path and must return quickly.
type CallObserver interface {
	CallStarted(tool string)
	CallEnded(tool, outcome string, took time.Duration)
}

// AuditLog writes one JSON line per tool call (see docs/operations.md for the format): who
// called which tool on which Power BI items, how it ended, with Power BI's RequestIds and how
// long it took. It never holds argument values other than the targets' ids and names: no
// tokens, no secrets, no DAX, no rows.
type AuditLog struct {
	mu sync.Mutex
	w  io.Writer
	// log and failed report a line that could not be written: the record goes to the log
	// instead, and the failure is counted.
	log    zerolog.Logger
	failed func()
}

// NewAuditLog returns an audit log writing to w, which gets each line in one Write. A failed
// write is logged with the record, at error level, and reported to onFailure (nil: not
// counted). It does not fail the call: by the time the line is written Power BI has acted,
// and an error result would tell the agent the call failed when it did not.
func NewAuditLog(w io.Writer, log zerolog.Logger, onFailure func()) *AuditLog {
	if onFailure == nil {
		onFailure = func() {}
	}
	return &AuditLog{w: w, log: log, failed: onFailure}
}

// auditRecord is one line of the audit log.
type auditRecord struct {
	Time       string            `json:"time"`
	Event      string            `json:"event"` // always "tool_call": tells audit lines from log lines on a shared stream
	Tool       string            `json:"tool"`
	Caller     auditCaller       `json:"caller"`
	Client     *auditClient      `json:"client,omitempty"`
	Targets    map[string]string `json:"targets,omitempty"`
	Outcome    string            `json:"outcome"`
	Error      *auditError       `json:"error,omitempty"`
	RequestIDs []string          `json:"requestIds,omitempty"`
	DurationMS int64             `json:"durationMs"`
}

type auditCaller struct {
	Type     string `json:"type"` // user, app, or "server identity" (no caller in the request)
	TenantID string `json:"tenantId,omitempty"`
	ObjectID string `json:"objectId,omitempty"`
	UPN      string `json:"upn,omitempty"`
	AppID    string `json:"appId,omitempty"`
}

type auditClient struct {
	Name      string `json:"name,omitempty"`
	Version   string `json:"version,omitempty"`
	UserAgent string `json:"userAgent,omitempty"`
}

type auditError struct {
	Status int    `json:"status,omitempty"` // of Power BI's last answer, when it was an error
	Code   string `json:"code,omitempty"`   // Power BI's error code
}

// auditTimeFormat is RFC 3339 with milliseconds, in UTC.
const auditTimeFormat = "2006-01-02T15:04:05.000Z07:00"

// maxAuditText bounds what a caller chose (a name, a User-Agent) in a line, so no request can
// make a line large.
const maxAuditText = 200

// maxAuditRequestIDs bounds the RequestIds of one line: a scan or a paced upload sends many
// requests; the first ones and the count tell support where to look.
const maxAuditRequestIDs = 20

// targetArgs are the arguments that name what a call acts on: Power BI items, jobs and the
// principals given access. Only these argument values reach the audit log.
var targetArgs = []string{
	"workspace", "dataset", "report", "dashboard", "tile", "dataflow", "app", "gateway", "datasource",
	"capacity", "pipeline", "source_workspace", "source_report", "target_workspace", "target_report",
	"target_dashboard", "target_model", "dataset_workspace", "new_workspace_capacity_id",
	"refresh_id", "export_id", "import_id", "identifier", "email_address", "user_id",
}

func (a *AuditLog) write(rec auditRecord) {
	line, err := json.Marshal(rec)
	if err != nil { // cannot happen: strings, ints and maps of strings
		a.log.Error().Err(err).Str("tool", rec.Tool).Msg("audit record not encoded")
		a.failed()
		return
	}
	line = append(line, '\n')
	a.mu.Lock()
	n, err := a.w.Write(line)
	a.mu.Unlock()
	if err == nil && n < len(line) {
		err = io.ErrShortWrite
	}
	if err != nil {
		a.log.Error().Err(err).RawJSON("record", line[:len(line)-1]).Msg("audit log write failed; the record is in this log line instead")
		a.failed()
	}
}

// callRecord gathers what a call's Power BI requests answered.
type callRecord struct {
	mu         sync.Mutex
	requestIDs []string
	requests   int
	last       pbiclient.Response
}

func (r *callRecord) add(resp pbiclient.Response) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests++
	r.last = resp
	if resp.RequestID != "" && len(r.requestIDs) < maxAuditRequestIDs && !slices.Contains(r.requestIDs, resp.RequestID) {
		r.requestIDs = append(r.requestIDs, resp.RequestID)
	}
}

// observed makes next, a tool's handler, report each call to d.Calls and d.Audit. It sits
// outside wrap, so calls refused before they start (invalid arguments, cancelled, busy) are
// recorded too.
func observed(d Deps, t Tool, next server.ToolHandlerFunc) server.ToolHandlerFunc {
	if d.Audit == nil && d.Calls == nil {
		return next
	}
	name := t.Definition.Name
	return func(ctx context.Context, req mcp.CallToolRequest) (res *mcp.CallToolResult, err error) {
		start := time.Now()
		if d.Calls != nil {
			d.Calls.CallStarted(name)
		}
		rec := &callRecord{}
		// Deferred, so a call that panics (mcp-go recovers it) is still counted and logged.
		defer func() {
			took := time.Since(start)
			outcome := callOutcome(ctx, res, err)
			if d.Calls != nil {
				d.Calls.CallEnded(name, outcome, took)
			}
			if d.Audit != nil {
				d.Audit.write(auditLine(ctx, req, name, outcome, rec, res, start, took))
			}
		}()
		return next(pbiclient.WithResponseHook(ctx, rec.add), req)
	}
}

// callOutcome classifies how a call ended; ctx is the call's own, so a call the client
// cancelled (or a shutdown stopped) is told from one that failed.
func callOutcome(ctx context.Context, res *mcp.CallToolResult, err error) string {
	switch {
	case err == nil && res != nil && !res.IsError:
		return OutcomeOK
	case ctx.Err() != nil:
		return OutcomeCancelled
	default:
		return OutcomeError
	}
}

func auditLine(ctx context.Context, req mcp.CallToolRequest, tool, outcome string, rec *callRecord, res *mcp.CallToolResult, start time.Time, took time.Duration) auditRecord {
	line := auditRecord{
		Time:       start.UTC().Format(auditTimeFormat),
		Event:      "tool_call",
		Tool:       tool,
		Caller:     callerOf(ctx),
		Client:     clientOf(ctx, req),
		Targets:    targetsOf(req.GetArguments(), res),
		Outcome:    outcome,
		DurationMS: took.Milliseconds(),
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	line.RequestIDs = rec.requestIDs
	if outcome == OutcomeError && rec.last.Status >= 300 {
		line.Error = &auditError{Status: rec.last.Status, Code: rec.last.Code}
	}
	return line
}

func callerOf(ctx context.Context) auditCaller {
	c, ok := auth.CallerFrom(ctx)
	if !ok {
		return auditCaller{Type: "server identity"}
	}
	kind := "user"
	if c.IsApp() {
		kind = "app"
	}
	return auditCaller{Type: kind, TenantID: c.TenantID, ObjectID: c.ObjectID, UPN: c.Username, AppID: c.AppID}
}

// clientOf names the MCP client: what a request of MCP 2026-07-28 or later says of itself,
// else what the session's initialize said, else (stateless HTTP, where no initialize reaches
// the request) the HTTP User-Agent. nil when nothing says.
func clientOf(ctx context.Context, req mcp.CallToolRequest) *auditClient {
	if info := server.RequestProtocolInfoFromContext(ctx); info != nil && info.ClientInfo != nil && info.ClientInfo.Name != "" {
		return &auditClient{Name: bounded(info.ClientInfo.Name), Version: bounded(info.ClientInfo.Version)}
	}
	if s, ok := server.ClientSessionFromContext(ctx).(server.SessionWithClientInfo); ok {
		if info := s.GetClientInfo(); info.Name != "" {
			return &auditClient{Name: bounded(info.Name), Version: bounded(info.Version)}
		}
	}
	if ua := req.Header.Get("User-Agent"); ua != "" {
		return &auditClient{UserAgent: bounded(ua)}
	}
	return nil
}

// targetsOf returns the target arguments of a call, each as the id the call used: the
// argument itself, or, where it named an item that the call looked up, the id the result
// reports for it (a member of the same name with an id). A name that was not resolved stays
// as given.
func targetsOf(args map[string]any, res *mcp.CallToolResult) map[string]string {
	var out map[string]string
	var names []string // targets given as something other than an id
	for _, arg := range targetArgs {
		v, ok := args[arg].(string)
		if v = strings.TrimSpace(v); !ok || v == "" {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[arg] = bounded(v)
		if !guidPattern.MatchString(v) {
			names = append(names, arg)
		}
	}
	if len(names) == 0 || res == nil || res.IsError {
		return out
	}
	raw, ok := res.StructuredContent.(json.RawMessage)
	if !ok {
		return out
	}
	var members map[string]json.RawMessage
	if json.Unmarshal(raw, &members) != nil {
		return out
	}
	for _, arg := range names {
		var ref struct {
			ID string `json:"id"`
		}
		if m, ok := members[arg]; ok && json.Unmarshal(m, &ref) == nil && ref.ID != "" {
			out[arg] = bounded(ref.ID)
		}
	}
	return out
}

// bounded cuts s to maxAuditText bytes, on a rune boundary.
func bounded(s string) string {
	if len(s) <= maxAuditText {
		return s
	}
	// A rune cut in two is invalid UTF-8, which ToValidUTF8 drops.
	return strings.ToValidUTF8(s[:maxAuditText], "") + "…"
}
