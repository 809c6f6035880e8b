package pbitest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// Content types as the service sends them: OData for successful JSON
// answers, plain JSON for errors.
const (
	contentTypeOData = "application/json; odata.metadata=minimal; odata.streaming=true"
	contentTypeJSON  = "application/json; charset=utf-8"
)

// marshal encodes v the way .NET services do: no HTML escaping of <, > and
// &, no trailing newline.
func marshal(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Every value passed here is built by this package.
		panic("pbitest: encoding response: " + err.Error())
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func writeBody(w http.ResponseWriter, status int, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeJSON answers a JSON body with the OData content type.
func writeJSON(w http.ResponseWriter, status int, v any) {
	writeBody(w, status, contentTypeOData, marshal(v))
}

// odataList is the wrapper of every Power BI list answer.
type odataList struct {
	Context string `json:"@odata.context"`
	Count   *int   `json:"@odata.count,omitempty"`
	Value   any    `json:"value"`
}

// metadataURL is the @odata.context of an answer: the service points it at
// $metadata under the workspace when the route has one.
func (s *Server) metadataURL(groupID, fragment string) string {
	base := s.URL() + apiPrefix
	if groupID != "" {
		base += "/groups/" + groupID
	}
	return base + "/$metadata#" + fragment
}

// writeList answers {"@odata.context": ..., "value": items}. An empty list is
// [] on the wire, never null, as in the service, whatever slice it came from.
func writeList[T any](s *Server, w http.ResponseWriter, groupID, fragment string, items []T) {
	if items == nil {
		items = []T{}
	}
	writeJSON(w, http.StatusOK, odataList{Context: s.metadataURL(groupID, fragment), Value: items})
}

// writeEntity answers a single object with "@odata.context" as its first
// property, as the service does for single-entity GETs.
func (s *Server) writeEntity(w http.ResponseWriter, status int, groupID, fragment string, v any) {
	obj := marshal(v)
	ctx := marshal(map[string]string{"@odata.context": s.metadataURL(groupID, fragment+"/$entity")})
	body := make([]byte, 0, len(ctx)+len(obj))
	body = append(body, ctx[:len(ctx)-1]...) // drop the closing brace
	if len(obj) > 2 {
		body = append(body, ',')
	}
	body = append(body, obj[1:]...) // drop the opening brace
	writeBody(w, status, contentTypeOData, body)
}

// writeError answers the simple error shape
// {"error":{"code":"...","message":"..."}}.
func writeError(w http.ResponseWriter, status int, code, message string) {
	type detail struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	writeBody(w, status, contentTypeJSON, marshal(map[string]detail{"error": {code, message}}))
}

// pbiDetail is one entry of pbi.error.details.
type pbiDetail struct {
	Code   string          `json:"code"`
	Detail pbiDetailDetail `json:"detail"`
}

type pbiDetailDetail struct {
	Type  int    `json:"type"`
	Value string `json:"value"`
}

// detailsMessage is the details entry the service uses for a human readable
// explanation.
func detailsMessage(msg string) pbiDetail {
	return pbiDetail{Code: "DetailsMessage", Detail: pbiDetailDetail{Type: 1, Value: msg}}
}

// writePBIError answers the "pbi.error" shape:
// {"error":{"code":C,"pbi.error":{"code":C,"parameters":{},"details":[...],"exceptionCulprit":1}}}.
func writePBIError(w http.ResponseWriter, status int, code string, details ...pbiDetail) {
	type pbiError struct {
		Code             string            `json:"code"`
		Parameters       map[string]string `json:"parameters"`
		Details          []pbiDetail       `json:"details"`
		ExceptionCulprit int               `json:"exceptionCulprit"`
	}
	type envelope struct {
		Code     string   `json:"code"`
		PBIError pbiError `json:"pbi.error"`
	}
	if details == nil {
		details = []pbiDetail{}
	}
	body := map[string]envelope{"error": {Code: code, PBIError: pbiError{
		Code: code, Parameters: map[string]string{}, Details: details, ExceptionCulprit: 1,
	}}}
	writeBody(w, status, contentTypeJSON, marshal(body))
}

// writeThrottled answers a 429 in the service's third error shape, which has
// no "error" wrapper.
func writeThrottled(w http.ResponseWriter, retryAfter int) {
	w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	msg := fmt.Sprintf("You have exceeded the amount of requests allowed in the current time frame and further requests will fail. Retry in %d seconds.", retryAfter)
	writeBody(w, http.StatusTooManyRequests, contentTypeJSON, marshal(map[string]string{"message": msg}))
}

// writeServerError answers the generic 500 the service's web stack sends.
func writeServerError(w http.ResponseWriter) {
	writeBody(w, http.StatusInternalServerError, contentTypeJSON, []byte(`{"Message":"An error has occurred."}`))
}

// notFoundRoute answers a path the API does not have, with the message of
// the ASP.NET Web API stack the service runs on.
func (s *Server) notFoundRoute(w http.ResponseWriter, r *http.Request) {
	if s.availableFeatureByName(w, r) {
		return // a path segment with a parameter inside, which no route pattern can take
	}
	msg := fmt.Sprintf("No HTTP resource was found that matches the request URI '%s%s'.", s.URL(), r.URL.RequestURI())
	writeBody(w, http.StatusNotFound, contentTypeJSON, marshal(map[string]string{"Message": msg}))
}

// newGUID returns a random (version 4) GUID in the lowercase form the
// service uses.
func newGUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("pbitest: reading random bytes: " + err.Error())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// readJSON decodes an optional JSON request body into each of targets. It
// reports whether there was a body, and false for ok after answering 400
// when the body is not valid JSON for them.
func readJSON(w http.ResponseWriter, r *http.Request, targets ...any) (present, ok bool) {
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, 1<<20)); err != nil {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "Request body is too large or unreadable")
		return false, false
	}
	if len(bytes.TrimSpace(buf.Bytes())) == 0 {
		return false, true
	}
	for _, v := range targets {
		if err := json.Unmarshal(buf.Bytes(), v); err != nil {
			writeError(w, http.StatusBadRequest, "InvalidRequest", "Request body is not valid JSON for this operation")
			return true, false
		}
	}
	return true, true
}

// orderedObject is a JSON object that keeps its fields in the given order,
// for documents whose real field order is worth keeping.
type orderedObject []struct {
	key   string
	value any
}

func (o orderedObject) MarshalJSON() ([]byte, error) {
	buf := []byte{'{'}
	for i, f := range o {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, marshal(f.key)...)
		buf = append(buf, ':')
		buf = append(buf, marshal(f.value)...)
	}
	return append(buf, '}'), nil
}

// writeEmptyOK answers 200 with no body, as the service does for most writes.
func writeEmptyOK(w http.ResponseWriter) {
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}
