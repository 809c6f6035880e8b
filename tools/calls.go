package tools

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
)

// DefaultCallTimeout is Deps.CallTimeout's default: long enough for any call that does not
// follow a job, short enough that a stuck one ends with an answer the model can act on.
const DefaultCallTimeout = 5 * time.Minute

// callTimeout is d.CallTimeout with its default applied.
func callTimeout(d Deps) time.Duration {
	if d.CallTimeout == 0 {
		return DefaultCallTimeout
	}
	return d.CallTimeout
}

// callContext sets up one tool call: its deadline, and one progress channel that both the tool
// and the pauses of its Power BI requests (Retry-After, backoff) report to.
//
// The deadline is callTimeout, plus, for a tool that follows a Power BI job (refresh, export,
// import, deployment), the timeout_seconds it was given for that. The job's own wait thus always
// ends first and reports the job still running with its id, while callTimeout bounds the
// requests around it. callTimeout <= 0 sets no deadline.
func callContext(ctx context.Context, schema inputSchemaDoc, req mcp.CallToolRequest, callTimeout time.Duration) (context.Context, context.CancelFunc) {
	p := newProgress(ctx, req)
	ctx = context.WithValue(ctx, progressKey{}, p)
	ctx = pbiclient.WithWaitHook(ctx, p.pause)
	if callTimeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, callTimeout+jobWait(schema, req.GetArguments()))
}

// jobWait is how long a call may follow its job: its timeout_seconds argument or that
// parameter's default, unless its wait argument turns following off.
func jobWait(schema inputSchemaDoc, args map[string]any) time.Duration {
	// A tool with a wait argument follows the job only when asked; wait left out is false,
	// whether or not its schema says so.
	if _, ok := schema.Properties["wait"]; ok {
		if wait, _ := argOrDefault(schema, args, "wait").(bool); !wait {
			return 0
		}
	}
	var secs float64
	switch v := argOrDefault(schema, args, "timeout_seconds").(type) {
	case float64:
		secs = v
	case int:
		secs = float64(v)
	}
	return time.Duration(secs * float64(time.Second))
}

// argOrDefault is the argument name as given, else its schema default; nil when the tool has
// no such parameter.
func argOrDefault(schema inputSchemaDoc, args map[string]any, name string) any {
	prop, ok := schema.Properties[name]
	if !ok {
		return nil
	}
	if v, ok := args[name]; ok {
		return v
	}
	return prop["default"]
}

type progressKey struct{}

// progress sends one call's progress notifications, when the client asked for them (a progress
// token in the call). The protocol wants the value to increase with every notification, so the
// tool's steps and the pauses share the last value sent.
type progress struct {
	send func(done, total float64, message string) // nil: the client gave no token

	mu    sync.Mutex
	last  float64 // -1 before the first notification
	total float64
}

func newProgress(ctx context.Context, req mcp.CallToolRequest) *progress {
	p := &progress{last: -1}
	var token mcp.ProgressToken
	if req.Params.Meta != nil {
		token = req.Params.Meta.ProgressToken
	}
	srv := server.ServerFromContext(ctx)
	if token == nil || srv == nil {
		return p
	}
	p.send = func(done, total float64, message string) {
		n := map[string]any{"progressToken": token, "progress": done, "message": message}
		if total > 0 && done <= total {
			n["total"] = total
		}
		// Progress is best effort: a failed notification never fails the tool.
		_ = srv.SendNotificationToClient(ctx, string(mcp.MethodNotificationProgress), n)
	}
	return p
}

// step reports the tool's own progress; a value not above the last one sent is dropped.
func (p *progress) step(done, total float64, message string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.send == nil || done <= p.last {
		return
	}
	p.last, p.total = done, total
	p.send(done, total, message)
}

// pause tells the client that a request waits before its next attempt. The value moves by a
// hair, as it must, so the tool's own next step still shows as progress; clients that give up
// on a silent call see that this one is alive.
func (p *progress) pause(w pbiclient.Wait) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.send == nil {
		return
	}
	p.last = max(p.last, 0) + 0.001
	p.send(p.last, p.total, pauseMessage(w))
}

func pauseMessage(w pbiclient.Wait) string {
	left := w.Left.Round(time.Second)
	if w.Left < time.Second { // a short backoff
		left = w.Left.Round(100 * time.Millisecond)
	}
	switch {
	case w.RetryAfter > 0:
		return fmt.Sprintf("Power BI is throttling (HTTP %d, Retry-After %s): retrying %s %s in %s",
			w.Status, w.RetryAfter.Round(time.Second), w.Method, w.Path, left)
	case w.Status != 0:
		return fmt.Sprintf("Power BI answered HTTP %d %s: retrying %s %s in %s",
			w.Status, http.StatusText(w.Status), w.Method, w.Path, left)
	default:
		return fmt.Sprintf("No answer from Power BI: retrying %s %s in %s", w.Method, w.Path, left)
	}
}
