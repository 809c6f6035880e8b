package pbiclient

import (
	"context"
	"time"
)

// Wait is a pause of a request between two attempts: Power BI asked for it with Retry-After
// (429), or the client backs off after a failure it may retry. A caller that wants to tell
// someone (a progress bar, a client that gives up on silent calls) installs a hook with
// WithWaitHook.
type Wait struct {
	Method, Path string        // the request, as in APIError
	Status       int           // the status that caused the pause (429, 5xx), or 0 for a connection failure
	RetryAfter   time.Duration // what Power BI asked for, as in APIError; 0 when the pause is the client's own backoff
	Attempt      int           // the attempt that failed, from 1

	Total time.Duration // the whole pause
	Left  time.Duration // what remains of it
}

// waitReportInterval is how often a hook hears of a pause that goes on.
const waitReportInterval = 5 * time.Second

type waitHookKey struct{}

// WithWaitHook returns a context whose requests call hook when they pause between attempts:
// once as the pause starts, then every 5 seconds until it ends. The hook runs on the
// requesting goroutine, so it must return quickly; requests running at once (a scan's
// batches) may call it concurrently.
func WithWaitHook(ctx context.Context, hook func(Wait)) context.Context {
	return context.WithValue(ctx, waitHookKey{}, hook)
}

// pause waits w's length d, or until ctx is done, telling the context's hook as it goes.
func (c *Client) pause(ctx context.Context, d time.Duration, w Wait) error {
	hook, _ := ctx.Value(waitHookKey{}).(func(Wait))
	if hook == nil {
		return sleep(ctx, d)
	}
	w.Total = d
	end := time.Now().Add(d)
	for {
		w.Left = max(time.Until(end), 0)
		if w.Left == 0 {
			return nil
		}
		hook(w)
		if err := sleep(ctx, min(w.Left, waitReportInterval)); err != nil {
			return err
		}
	}
}
