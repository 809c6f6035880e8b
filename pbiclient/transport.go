package pbiclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
	"time"
)

// This file is the whole transport chain. Every request goes through Client.do, which per
// attempt takes a token from the TokenSource, sends the request with the standard headers,
// logs one line, and decides from the outcome whether to return, renew the token or retry.
// One loop rather than stacked RoundTrippers because the decisions share state: the retry
// count, the time budget, whether the token was already renewed, and whether the request
// may have been applied.

// call is one logical request; do may send it several times.
type call struct {
	method string
	path   string // escaped, relative to the base URL, e.g. "/groups/{g}/datasets"
	query  string // encoded, without '?'
	body   []byte // JSON; nil sends no body
	accept string // "" means application/json

	// stream, when set, is the body instead of body: each attempt calls it for a fresh reader,
	// so a large upload is sent from its source (a file) and never held in memory, and a retry
	// (a renewed token, a 429) sends it again from the start. streamLength is its exact length
	// in bytes and streamType its Content-Type.
	stream       func() io.ReadCloser
	streamLength int64
	streamType   string
}

const (
	firstBackoff = 200 * time.Millisecond
	maxBackoff   = 10 * time.Second
)

// do sends cl until it succeeds or a retry is not allowed. A 2xx response is returned with its
// body open; any other outcome is an error, an *APIError when the request reached the wire.
func (c *Client) do(ctx context.Context, cl call) (*http.Response, error) {
	idempotent := cl.method == http.MethodGet || cl.method == http.MethodHead ||
		cl.method == http.MethodPut || cl.method == http.MethodDelete
	var (
		retries int           // counted against MaxRetries
		waited  time.Duration // counted against MaxRetryWait
		renewed bool          // the token was already renewed once for this call
	)
	for attempt := 1; ; attempt++ {
		// A call whose context is already done is not sent, nor a token asked for it. The HTTP
		// client would refuse it too, but with an error that cannot tell "never sent" from
		// "lost on the way", so a POST would be reported as outcome unknown.
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("pbiclient: %s %s not sent: %w", cl.method, cl.path, err)
		}
		token, err := c.tokens.Token(ctx)
		if err != nil {
			return nil, &TokenError{Err: err}
		}
		resp, sent, err := c.send(ctx, cl, token, attempt)
		if err == nil && resp.StatusCode < 300 {
			c.observe(ctx, Response{Method: cl.method, Status: resp.StatusCode, RequestID: resp.Header.Get("RequestId")})
			return resp, nil
		}

		var apiErr *APIError
		var delay time.Duration
		if err != nil {
			apiErr = &APIError{Method: cl.method, Path: cl.path, Err: err, OutcomeUnknown: !idempotent && sent}
			c.observe(ctx, Response{Method: cl.method})
			// A stalled answer is not sent again, even for a read: the service is in trouble,
			// and another attempt would most likely stall as long again.
			var timeout *ResponseTimeoutError
			if ctx.Err() != nil || apiErr.OutcomeUnknown || errors.As(err, &timeout) {
				return nil, apiErr
			}
			delay = backoff(retries)
		} else {
			apiErr = newAPIError(cl.method, cl.path, resp)
			c.observe(ctx, Response{Method: cl.method, Status: resp.StatusCode, RequestID: apiErr.RequestID, Code: apiErr.Code})
			switch {
			case resp.StatusCode == http.StatusUnauthorized,
				resp.StatusCode == http.StatusForbidden && apiErr.Code == "TokenExpired":
				// The service did not process the request, so even a POST may be re-sent.
				if renewed {
					return nil, apiErr
				}
				renewed = true
				c.tokens.Invalidate(token)
				continue
			case resp.StatusCode == http.StatusTooManyRequests:
				// The service did not process a throttled request: retried whatever the method.
			case resp.StatusCode >= 500:
				if !idempotent {
					apiErr.OutcomeUnknown = true
					return nil, apiErr
				}
			default:
				return nil, apiErr
			}
			delay = apiErr.RetryAfter
			if delay == 0 {
				delay = backoff(retries)
			}
		}

		// A wait longer than the budget left is not started: the caller gets the error with
		// its RetryAfter and can decide (a Power BI 429 may ask for an hour). Nor is one that
		// would outlast the caller's deadline: the caller would only hear of the throttling
		// after giving up.
		if retries >= c.maxRetries || waited+delay > c.maxRetryWait || pastDeadline(ctx, delay) {
			return nil, apiErr
		}
		if err := c.pause(ctx, delay, Wait{Method: cl.method, Path: cl.path, Status: apiErr.StatusCode,
			RetryAfter: apiErr.RetryAfter, Attempt: attempt}); err != nil {
			return nil, fmt.Errorf("pbiclient: gave up waiting to retry: %w; last error: %v", err, apiErr)
		}
		retries++
		waited += delay
	}
}

// pastDeadline reports whether waiting d would take ctx past its deadline.
func pastDeadline(ctx context.Context, d time.Duration) bool {
	deadline, ok := ctx.Deadline()
	return ok && time.Until(deadline) < d
}

// send makes one attempt and logs it. sent reports whether the request may have reached the
// service; it matters only when err is set.
func (c *Client) send(ctx context.Context, cl call, token string, attempt int) (resp *http.Response, sent bool, err error) {
	target := cl.path
	if cl.query != "" {
		target += "?" + cl.query
	}
	var body io.Reader
	if cl.body != nil {
		// A fresh reader per attempt; NewRequest also sets GetBody from it, so redirects
		// can replay the body too.
		body = bytes.NewReader(cl.body)
	}
	if cl.stream != nil {
		body = cl.stream()
	}

	// The attempt has a context of its own, so that an answer that does not start within the
	// response timeout can be abandoned, whatever the Transport. The trace tells whether the
	// request was written, which decides whether a POST may have been applied, and starts the
	// response timeout once the request (an upload may take minutes) is all sent.
	attemptCtx, cancel := context.WithCancelCause(ctx)
	// answer moves from waiting to answered or timedOut exactly once, so a response that
	// arrives as the timer fires is either used whole or abandoned whole.
	const (
		waiting int32 = iota
		answered
		timedOut
	)
	var (
		traced, wrote atomic.Bool
		answer        atomic.Int32
		timer         atomic.Pointer[time.Timer]
	)
	defer func() {
		if t := timer.Load(); t != nil {
			t.Stop()
		}
	}()
	attemptCtx = httptrace.WithClientTrace(attemptCtx, &httptrace.ClientTrace{
		GetConn:      func(string) { traced.Store(true) },
		WroteHeaders: func() { wrote.Store(true) },
		WroteRequest: func(httptrace.WroteRequestInfo) {
			if c.responseTimeout <= 0 || timer.Load() != nil {
				return // no limit, or armed by the first write already (a redirect writes again)
			}
			t := time.AfterFunc(c.responseTimeout, func() {
				if answer.CompareAndSwap(waiting, timedOut) {
					cancel(nil)
				}
			})
			if !timer.CompareAndSwap(nil, t) {
				t.Stop()
			}
		},
	})

	req, err := http.NewRequestWithContext(attemptCtx, cl.method, c.baseURL+target, body)
	if err != nil {
		cancel(nil)
		if rc, ok := body.(io.Closer); ok && cl.stream != nil {
			rc.Close()
		}
		return nil, false, err
	}
	if cl.stream != nil {
		// A known length avoids chunked encoding, and GetBody lets a redirect (307 to the
		// home cluster, api-notes §1.1) send the upload again from its source.
		req.ContentLength = cl.streamLength
		req.GetBody = func() (io.ReadCloser, error) { return cl.stream(), nil }
		req.Header.Set("Content-Type", cl.streamType)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("User-Agent", c.userAgent)
	if cl.accept == "" {
		req.Header.Set("Accept", "application/json")
	} else {
		req.Header.Set("Accept", cl.accept)
	}
	if cl.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}

	start := time.Now()
	resp, err = c.http.Do(req)
	if !answer.CompareAndSwap(waiting, answered) {
		if err == nil {
			resp.Body.Close()
		}
		err = &ResponseTimeoutError{After: c.responseTimeout}
	}
	// Without a trace (a Transport that does not report one) the request may have been sent
	// unless it failed to connect.
	sent = wrote.Load() || !traced.Load() && !beforeSend(err)
	ev := c.log.Debug().
		Str("method", cl.method).
		Str("path", target).
		Int("attempt", attempt).
		Dur("duration", time.Since(start))
	if err != nil {
		cancel(nil)
		ev.Err(err).Msg("power bi request failed")
		return nil, sent, err
	}
	// The body is read after send returns: the attempt's context lives until it is closed.
	resp.Body = &closeCancels{ReadCloser: resp.Body, cancel: cancel}
	ev.Int("status", resp.StatusCode).Str("requestId", resp.Header.Get("RequestId")).Msg("power bi request")
	return resp, true, nil
}

// closeCancels ends an attempt's context when its response body is closed.
type closeCancels struct {
	io.ReadCloser
	cancel context.CancelCauseFunc
}

func (b *closeCancels) Close() error {
	err := b.ReadCloser.Close()
	b.cancel(nil)
	return err
}

// ResponseTimeoutError is an attempt that Power BI did not start answering (status line and
// headers) within Config.ResponseTimeout. It is the Err of an *APIError; such a request is not
// sent again.
type ResponseTimeoutError struct {
	After time.Duration
}

func (e *ResponseTimeoutError) Error() string {
	return fmt.Sprintf("no answer started within %s", e.After)
}

// Timeout marks it as a timeout for callers that check net.Error.
func (e *ResponseTimeoutError) Timeout() bool { return true }

// beforeSend reports whether a transport error happened while connecting (refused, DNS), so
// the service cannot have seen the request.
func beforeSend(err error) bool {
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "dial"
}

// backoff is the wait before retry n (0-based) when the service gave no Retry-After:
// exponential from firstBackoff, with jitter so that many callers throttled together do not
// come back together.
func backoff(n int) time.Duration {
	d := min(firstBackoff<<min(n, 16), maxBackoff)
	return d/2 + rand.N(d/2+1)
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// closeBody drains a little of a finished body so the connection can be reused, then closes it.
func closeBody(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
}
