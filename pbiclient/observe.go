package pbiclient

import "context"

// Response is what one attempt of a request got from Power BI: the parts that tell an operator
// or an auditor what happened, never a header value beyond the RequestId, nor a body.
type Response struct {
	Method    string
	Status    int    // the HTTP status; 0 when no answer came (connection failure, timeout)
	RequestID string // Power BI's RequestId header, which its support asks for
	Code      string // the Power BI error code of an error answer; "" otherwise
}

type responseHookKey struct{}

// WithResponseHook returns a context whose requests call hook with every attempt's Response,
// retries included, so a caller can tell which Power BI requests one operation made (an audit
// record's RequestIds). A hook already in ctx still hears of them. Hooks run on the requesting
// goroutine and must return quickly; requests running at once may call one concurrently.
func WithResponseHook(ctx context.Context, hook func(Response)) context.Context {
	if outer, ok := ctx.Value(responseHookKey{}).(func(Response)); ok {
		inner := hook
		hook = func(r Response) { inner(r); outer(r) }
	}
	return context.WithValue(ctx, responseHookKey{}, hook)
}

// observe tells the client's Config.OnResponse and ctx's hook of one attempt's answer.
func (c *Client) observe(ctx context.Context, r Response) {
	if c.onResponse != nil {
		c.onResponse(r)
	}
	if hook, ok := ctx.Value(responseHookKey{}).(func(Response)); ok {
		hook(r)
	}
}
