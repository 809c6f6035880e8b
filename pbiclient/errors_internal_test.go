package pbiclient

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// Error bodies the fake tenant does not produce, captured from the service (see
// shared/powerbi/api-notes.md §1.4).
func TestParseErrorBody(t *testing.T) {
	tests := []struct {
		name        string
		body        string
		wantCode    string
		wantMessage string
		wantDetails []string
	}{
		{
			name:        "pbi.error with details",
			body:        `{"error":{"code":"DatasetExecuteQueriesError","pbi.error":{"code":"DatasetExecuteQueriesError","parameters":{},"details":[{"code":"DetailsMessage","detail":{"type":1,"value":"Failed to execute the DAX query."}},{"code":"AnalysisServicesErrorCode","detail":{"type":1,"value":"3239575574"}}]}}}`,
			wantCode:    "DatasetExecuteQueriesError",
			wantMessage: "Failed to execute the DAX query.",
			wantDetails: []string{"AnalysisServicesErrorCode: 3239575574"},
		},
		{
			name:        "code and message",
			body:        `{"error":{"code":"InvalidRequest","message":"Invalid dataset refresh request. Another refresh request is already executing"}}`,
			wantCode:    "InvalidRequest",
			wantMessage: "Invalid dataset refresh request. Another refresh request is already executing",
		},
		{
			name:        "bare message",
			body:        `{"message":"You have exceeded the amount of requests allowed in the current time frame and further requests will fail. Retry in 3392 seconds."}`,
			wantMessage: "You have exceeded the amount of requests allowed in the current time frame and further requests will fail. Retry in 3392 seconds.",
		},
		{
			name:        "plain text",
			body:        "An error has occurred\r\n",
			wantMessage: "An error has occurred",
		},
		{
			name: "HTML page from a proxy",
			body: "<html><body><h1>502 Bad Gateway</h1></body></html>",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e APIError
			e.parseBody([]byte(tt.body))
			if e.Code != tt.wantCode || e.Message != tt.wantMessage || !slices.Equal(e.Details, tt.wantDetails) {
				t.Errorf("got code %q message %q details %q", e.Code, e.Message, e.Details)
			}
		})
	}
}

func TestErrorMessageIsBounded(t *testing.T) {
	var e APIError
	e.parseBody([]byte(`{"error":{"code":"X","message":"` + strings.Repeat("é", 5000) + "\\nsecond line" + `"}}`))
	if len(e.Message) > maxMessageLen+len("…") || strings.ContainsRune(e.Message, '\n') || !strings.HasSuffix(e.Message, "é…") {
		t.Errorf("message of %d bytes: %q...", len(e.Message), e.Message[:20])
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":     0,
		"3392": 3392 * time.Second,
		"-5":   0,
		"soon": 0,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Minute).Format(http.TimeFormat):     0,
	} {
		if got := parseRetryAfter(v, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestEscape(t *testing.T) {
	id := "Mi9C5419i/+x=PS4="
	if got, want := escape(id), "Mi9C5419i%2F%2Bx%3DPS4%3D"; got != want {
		t.Errorf("escape(%q) = %q, want %q", id, got, want)
	}
}

func TestJobFailedErrorSaysWhenToRetry(t *testing.T) {
	busy := &JobFailedError{Operation: "export", ID: "abc=", Status: "Failed", RetryAfter: 30 * time.Second}
	if got := busy.Error(); !strings.Contains(got, "service busy: start a new export after 30s") {
		t.Errorf("Error() = %q", got)
	}
	final := &JobFailedError{Operation: "export", ID: "abc=", Status: "Failed"}
	if got := final.Error(); strings.Contains(got, "busy") {
		t.Errorf("Error() of a permanent failure = %q", got)
	}
}
