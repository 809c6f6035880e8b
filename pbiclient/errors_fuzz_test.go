package pbiclient

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzAPIError reads arbitrary failed responses (status, Retry-After, body) as newAPIError
// does for every failure. Whatever the body, what reaches the model stays bounded and on one
// line: never a whole upstream body. A Retry-After in seconds is honoured as given, however
// large.
func FuzzAPIError(f *testing.F) {
	for _, s := range []struct {
		status     int
		retryAfter string
		body       string
	}{
		{400, "", `{"error":{"code":"DatasetExecuteQueriesError","pbi.error":{"code":"DatasetExecuteQueriesError","parameters":{},"details":[{"code":"DetailsMessage","detail":{"type":1,"value":"Failed to execute the DAX query."}},{"code":"AnalysisServicesErrorCode","detail":{"type":1,"value":"3239575574"}}]}}}`},
		{400, "", `{"error":{"code":"InvalidRequest","message":"Invalid dataset refresh request. Another refresh request is already executing"}}`},
		{429, "30", `{"message":"Rate limit is exceeded. Try again in 30 seconds."}`},
		{429, "Wed, 21 Oct 2015 07:28:00 GMT", `{"message":"throttled"}`},
		{403, "", `{"error":{"code":"TokenExpired","message":"Access token has expired, resubmit with a new access token"}}`},
		{404, "", `{"error":{"code":"PowerBIEntityNotFound","pbi.error":{"code":"PowerBIEntityNotFound","details":[]}}}`},
		{500, "", "An error has occurred"},
		{502, "", "<html><body>Bad Gateway</body></html>"},
		{503, "-1", ""},
		{400, "", `{"error":"a string"}`},
		{400, "", `null`},
	} {
		f.Add(s.status, s.retryAfter, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, status int, retryAfter string, body []byte) {
		resp := &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body))}
		resp.Header.Set("RequestId", "4b8a3d0c-0000-4000-8000-000000000001")
		resp.Header.Set("Retry-After", retryAfter)
		e := newAPIError("GET", "/groups", resp)

		if e.StatusCode != status || e.RequestID != "4b8a3d0c-0000-4000-8000-000000000001" {
			t.Fatalf("status %d, RequestId %q: got %d, %q", status, resp.Header.Get("RequestId"), e.StatusCode, e.RequestID)
		}
		if e.RetryAfter < 0 {
			t.Fatalf("Retry-After %q: negative wait %v", retryAfter, e.RetryAfter)
		}
		if secs, err := strconv.ParseInt(strings.TrimSpace(retryAfter), 10, 64); (err == nil || errors.Is(err, strconv.ErrRange)) && secs >= 0 {
			if want := min(secs, math.MaxInt64/int64(time.Second)); e.RetryAfter != time.Duration(want)*time.Second {
				t.Fatalf("Retry-After %q: wait %v, want %d seconds", retryAfter, e.RetryAfter, want)
			}
		}

		oneLine(t, "code", e.Code, maxCodeLen)
		oneLine(t, "message", e.Message, maxMessageLen)
		if len(e.Details) > maxDetails {
			t.Fatalf("%d details, at most %d", len(e.Details), maxDetails)
		}
		for _, d := range e.Details {
			oneLine(t, "detail", d, maxDetailLen)
		}
		if msg := e.Error(); strings.ContainsAny(msg, "\r\n") {
			t.Fatalf("Error() is not one line: %q", msg)
		}
	})
}

// oneLine fails unless s is a single line of at most n bytes (plus the ellipsis bound adds).
func oneLine(t *testing.T, what, s string, n int) {
	t.Helper()
	if len(s) > n+len("…") {
		t.Fatalf("%s of %d bytes, at most %d: %.80q…", what, len(s), n, s)
	}
	if strings.ContainsAny(s, "\r\n\t") {
		t.Fatalf("%s is not one line: %q", what, s)
	}
}

// FuzzErrorShapes writes code, message and detail into each of the three error shapes of
// Power BI and checks that parsing gives them back (bounded as bound makes them).
func FuzzErrorShapes(f *testing.F) {
	f.Add("InvalidRequest", "Invalid dataset refresh request.", "3239575574")
	f.Add("PowerBIEntityNotFound", "", "")
	f.Add("", "Rate limit is exceeded. Try again in 30 seconds.", "")
	f.Add("DatasetExecuteQueriesError", "Query (1, 10) The syntax for 'x' is incorrect.\n", "")
	f.Add("a\tb", strings.Repeat("é", 600), "\x00")
	f.Fuzz(func(t *testing.T, code, message, detail string) {
		if !utf8.ValidString(code) || !utf8.ValidString(message) || !utf8.ValidString(detail) {
			return // encoding/json would change them on the way
		}
		type d = map[string]any
		parse := func(body any) *APIError {
			b, err := json.Marshal(body)
			if err != nil {
				t.Fatal(err)
			}
			e := &APIError{}
			e.parseBody(b)
			return e
		}
		want := func(shape string, e *APIError, code, message string, details []string) {
			t.Helper()
			if e.Code != bound(code, maxCodeLen) || e.Message != bound(message, maxMessageLen) || strings.Join(e.Details, "\n") != strings.Join(details, "\n") {
				t.Fatalf("%s: got code %q, message %q, details %q; want %q, %q, %q", shape, e.Code, e.Message, e.Details,
					bound(code, maxCodeLen), bound(message, maxMessageLen), details)
			}
		}

		e := parse(d{"error": d{"code": code, "message": message}})
		want("code and message", e, code, message, nil)

		e = parse(d{"message": message})
		want("message alone", e, "", message, nil)

		e = parse(d{"error": d{"code": code, "pbi.error": d{"code": code + "x", "details": []d{
			{"code": "DetailsMessage", "detail": d{"type": 1, "value": message}},
			{"code": "AnalysisServicesErrorCode", "detail": d{"type": 1, "value": detail}},
		}}}})
		wantCode := code
		if bound(code, maxCodeLen) == "" {
			wantCode = code + "x" // the pbi.error code stands in for a missing outer one
		}
		want("pbi.error", e, wantCode, message, []string{bound("AnalysisServicesErrorCode: "+detail, maxDetailLen)})
	})
}
