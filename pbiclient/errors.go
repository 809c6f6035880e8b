package pbiclient

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// APIError is a request that Power BI answered with a failure status, or that failed on the
// wire. Tools turn it into a result the model can act on, so it keeps what the service said
// (status, code, message, RequestId, Retry-After) but never the whole body.
type APIError struct {
	Method string // "GET", "POST", ...
	Path   string // relative to the base URL, with the real ids, without the query

	StatusCode int      // 0 when no response arrived (see Err)
	Code       string   // Power BI error code, "" when the body had none
	Message    string   // the service's message, bounded in length
	Details    []string // further pbi.error details as "code: value"
	RequestID  string   // the RequestId response header; quote it to Microsoft support
	RetryAfter time.Duration

	// OutcomeUnknown reports that a non-idempotent request (POST, PATCH) may have been
	// applied: the connection failed or the service answered 5xx after the request was sent.
	// Such a request is never re-sent; check the resource's state before trying again.
	OutcomeUnknown bool

	// Err is the transport error when no response arrived (StatusCode 0).
	Err error
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "power bi: %s %s: ", e.Method, e.Path)
	if e.StatusCode == 0 {
		fmt.Fprintf(&b, "no response: %v", e.Err)
	} else {
		fmt.Fprintf(&b, "%d %s", e.StatusCode, http.StatusText(e.StatusCode))
		if e.Code != "" {
			b.WriteString(": " + e.Code)
		}
		if e.Message != "" {
			b.WriteString(": " + e.Message)
		}
	}
	if e.RequestID != "" {
		b.WriteString(" (RequestId " + e.RequestID + ")")
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	if e.OutcomeUnknown {
		b.WriteString(" (outcome unknown: the request may have been applied)")
	}
	return b.String()
}

func (e *APIError) Unwrap() error { return e.Err }

// IsNotFound reports whether err is Power BI answering 404: the item does not exist or the
// caller cannot see it (the service does not tell the two apart).
func IsNotFound(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound
}

// TokenError is a request that was not sent because no access token could be had: sign-in is
// not configured, or Entra ID refused it. Err says why (an *auth.Error for Entra failures).
type TokenError struct{ Err error }

func (e *TokenError) Error() string { return "pbiclient: no access token: " + e.Err.Error() }
func (e *TokenError) Unwrap() error { return e.Err }

// InvalidIDError is a request that was not sent because a value given for its URL path cannot
// be one segment of it: empty, "." or "..", or holding a separator. Such a value would change
// which operation the URL names, so nothing was sent to Power BI.
type InvalidIDError struct {
	ID     string // the value as given
	Reason string // why it cannot be a path segment
}

func (e *InvalidIDError) Error() string {
	return fmt.Sprintf("pbiclient: %q cannot be an id in a request path (%s); nothing was sent", e.ID, e.Reason)
}

// JobFailedError is a long-running operation (refresh, export) that ended without success.
type JobFailedError struct {
	Operation string // "refresh" or "export"
	ID        string // the refresh requestId or the export id
	Status    string // the final status as reported, e.g. "Failed", "Cancelled"
	Detail    string // refresh: serviceExceptionJson, bounded; export: ""

	// RetryAfter is set when an export failed because the service was busy: the job will not
	// recover, but a new export started after this delay may succeed.
	RetryAfter time.Duration
}

func (e *JobFailedError) Error() string {
	msg := fmt.Sprintf("power bi: %s %s ended with status %s", e.Operation, e.ID, e.Status)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.RetryAfter > 0 {
		msg += fmt.Sprintf(" (service busy: start a new %s after %s)", e.Operation, e.RetryAfter)
	}
	return msg
}

const (
	maxErrorBody  = 64 << 10 // read no more of an error body than this
	maxCodeLen    = 128      // Power BI's codes are identifiers well under this
	maxMessageLen = 1024
	maxDetailLen  = 256
	maxDetails    = 10
)

// errorBody covers the three error shapes of Power BI and Fabric's (d):
// (a) {"error":{"code":..,"pbi.error":{"code":..,"details":[{"code":..,"detail":{"value":..}}]}}}
// (b) {"error":{"code":..,"message":..}}
// (c) {"message":..} (throttling, no wrapper)
// (d) {"errorCode":..,"message":..,"requestId":..,"moreDetails":[{"errorCode":..,"message":..}]}
type errorBody struct {
	Error *struct {
		Code     string `json:"code"`
		Message  string `json:"message"`
		PBIError *struct {
			Code    string `json:"code"`
			Details []struct {
				Code   string `json:"code"`
				Detail struct {
					Value string `json:"value"`
				} `json:"detail"`
			} `json:"details"`
		} `json:"pbi.error"`
	} `json:"error"`
	Message string `json:"message"`

	// Fabric's ErrorResponse: {"requestId", "errorCode", "message", "moreDetails": [...]}.
	ErrorCode   string `json:"errorCode"`
	RequestID   string `json:"requestId"`
	MoreDetails []struct {
		ErrorCode string `json:"errorCode"`
		Message   string `json:"message"`
	} `json:"moreDetails"`
}

// newAPIError reads a bounded part of a failed response's body and closes it.
func newAPIError(method, path string, resp *http.Response) *APIError {
	e := &APIError{
		Method:     method,
		Path:       path,
		StatusCode: resp.StatusCode,
		RequestID:  cmp.Or(resp.Header.Get("RequestId"), resp.Header.Get("x-ms-request-id")),
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
	e.parseBody(body)
	return e
}

func (e *APIError) parseBody(body []byte) {
	var eb errorBody
	if err := json.Unmarshal(body, &eb); err != nil {
		// Plain text such as "An error has occurred". An HTML page (a proxy or gateway
		// answering for the service) says nothing useful and would only add noise.
		text := strings.TrimSpace(string(body))
		if !strings.HasPrefix(text, "<") {
			e.Message = bound(text, maxMessageLen)
		}
		return
	}
	if eb.Error == nil {
		e.Message = bound(eb.Message, maxMessageLen)
		e.Code = bound(eb.ErrorCode, maxCodeLen)
		if e.RequestID == "" {
			e.RequestID = bound(eb.RequestID, maxCodeLen)
		}
		for _, d := range eb.MoreDetails {
			if len(e.Details) < maxDetails {
				e.Details = append(e.Details, bound(d.ErrorCode+": "+d.Message, maxDetailLen))
			}
		}
		return
	}
	e.Code = bound(eb.Error.Code, maxCodeLen)
	e.Message = bound(eb.Error.Message, maxMessageLen)
	if p := eb.Error.PBIError; p != nil {
		if e.Code == "" {
			e.Code = bound(p.Code, maxCodeLen)
		}
		var messages []string
		for _, d := range p.Details {
			if d.Code == "DetailsMessage" {
				messages = append(messages, d.Detail.Value)
			} else if len(e.Details) < maxDetails {
				e.Details = append(e.Details, bound(d.Code+": "+d.Detail.Value, maxDetailLen))
			}
		}
		if e.Message == "" {
			e.Message = bound(strings.Join(messages, "; "), maxMessageLen)
		}
	}
}

// bound makes s a single line of at most n bytes, cut on a rune boundary.
func bound(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// parseRetryAfter reads a Retry-After value in seconds or as an HTTP date; 0 when absent or
// unparseable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil || errors.Is(err, strconv.ErrRange) {
		// More seconds than a Duration holds is a wait beyond any budget: it saturates rather
		// than wrapping round to a short wait and a retry the service asked us not to make.
		return time.Duration(min(max(secs, 0), math.MaxInt64/int(time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}
