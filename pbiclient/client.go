// Package pbiclient is a typed client for the Power BI REST API.
//
// All requests go through one transport chain (see transport.go): a bearer token from a
// TokenSource per attempt, retries that honour Retry-After within a bounded count and total
// wait, RequestId capture and a debug log that never contains tokens or bodies. Failures the
// service reports are *APIError values; long-running operations (refresh, export) poll with
// backoff and report each poll to an optional callback.
//
// A groupID of "" means "My workspace" and selects the API variant without /groups/{groupId}.
package pbiclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// DefaultBaseURL is the public cloud's Power BI REST API.
const DefaultBaseURL = "https://api.powerbi.com/v1.0/myorg"

// DefaultResponseTimeout is Config.ResponseTimeout's default. Power BI starts every answer
// within seconds; a DAX query that computes for longer needs a longer limit.
const DefaultResponseTimeout = 30 * time.Second

// TokenSource supplies bearer tokens for Power BI. The auth package's sources satisfy it.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
	// Invalidate reports that Power BI rejected token; the next Token call must not return it.
	Invalidate(token string)
}

// Config configures a Client. Only Tokens is required.
type Config struct {
	BaseURL   string            // default DefaultBaseURL; must be https unless the host is loopback
	Tokens    TokenSource       // required
	Transport http.RoundTripper // nil means a clone of http.DefaultTransport
	UserAgent string            // default "powerbi-mcp"

	// MaxRetries bounds the retries after the first attempt: 0 means 4, negative means none.
	MaxRetries int
	// MaxRetryWait bounds the total time one call waits between attempts: 0 means 60s,
	// negative means no waiting. A Retry-After beyond what is left is not waited: the 429 is
	// returned as an *APIError with RetryAfter set.
	MaxRetryWait time.Duration

	// ResponseTimeout bounds how long each attempt waits for Power BI to start answering (the
	// status line and headers), from when the request is all sent (as the Transport reports it
	// through net/http/httptrace, which http.Transport does): 0 means DefaultResponseTimeout,
	// negative means no limit. A stalled answer ends as an *APIError whose Err is a
	// *ResponseTimeoutError and is not sent again. Neither sending an upload nor reading a
	// body counts: a large file may take longer. The caller's context bounds the whole
	// request, waits between attempts included.
	ResponseTimeout time.Duration

	// Logger gets one debug line per attempt: method, path and query, status, duration,
	// RequestId and attempt number. Never tokens, header values or bodies.
	Logger zerolog.Logger

	// LargeImportSize is the file size from which ImportFile goes through a temporary upload
	// location; 0 means DefaultLargeImportSize (1 GB). Tests lower it.
	LargeImportSize int64

	// OnResponse, if set, hears of every attempt's answer (see Response), for metrics. It runs
	// on the requesting goroutine, concurrently for concurrent requests, and must return quickly.
	OnResponse func(Response)

	// FabricTokens, if set, gives the client the Fabric REST API (fabric.go): tokens for the
	// Fabric scope, https://api.fabric.microsoft.com/.default in the public cloud.
	FabricTokens TokenSource
	// FabricBaseURL is the Fabric REST API; default DefaultFabricBaseURL. Same rules as BaseURL.
	FabricBaseURL string
}

// Client calls the Power BI REST API. It is safe for concurrent use.
type Client struct {
	baseURL      string
	tokens       TokenSource
	http         *http.Client
	userAgent    string
	maxRetries   int
	maxRetryWait time.Duration
	// responseTimeout: see Config.ResponseTimeout; 0 means none.
	responseTimeout time.Duration
	log             zerolog.Logger
	// largeImportSize: see Config.LargeImportSize.
	largeImportSize int64
	onResponse      func(Response)
	// fabric is the same client for the Fabric API's base URL and tokens; nil without
	// Config.FabricTokens.
	fabric *Client
}

// New checks cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	if cfg.Tokens == nil {
		return nil, errors.New("pbiclient: Config.Tokens is required")
	}
	base, err := checkBaseURL(orDefault(cfg.BaseURL, DefaultBaseURL))
	if err != nil {
		return nil, err
	}
	transport := cfg.Transport
	if transport == nil {
		transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	c := &Client{
		baseURL:      base,
		tokens:       cfg.Tokens,
		http:         &http.Client{Transport: transport},
		userAgent:    orDefault(cfg.UserAgent, "powerbi-mcp"),
		maxRetries:   cfg.MaxRetries,
		maxRetryWait: cfg.MaxRetryWait,
		log:          cfg.Logger,
		onResponse:   cfg.OnResponse,
	}
	c.largeImportSize = cfg.LargeImportSize
	if c.largeImportSize <= 0 {
		c.largeImportSize = DefaultLargeImportSize
	}
	switch {
	case c.maxRetries == 0:
		c.maxRetries = 4
	case c.maxRetries < 0:
		c.maxRetries = 0
	}
	switch {
	case c.maxRetryWait == 0:
		c.maxRetryWait = 60 * time.Second
	case c.maxRetryWait < 0:
		c.maxRetryWait = 0
	}
	switch {
	case cfg.ResponseTimeout == 0:
		c.responseTimeout = DefaultResponseTimeout
	case cfg.ResponseTimeout > 0:
		c.responseTimeout = cfg.ResponseTimeout
	}
	if cfg.FabricTokens != nil {
		fabricBase, err := checkBaseURL(orDefault(cfg.FabricBaseURL, DefaultFabricBaseURL))
		if err != nil {
			return nil, err
		}
		f := *c
		f.baseURL, f.tokens = fabricBase, cfg.FabricTokens
		c.fabric = &f
	}
	return c, nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// checkBaseURL returns the base URL without a trailing slash. Plain http is refused except
// on loopback, where the fake tenant and local proxies live, so tokens never cross a network
// in clear text.
func checkBaseURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil {
		return "", fmt.Errorf("pbiclient: base URL: %w", err)
	}
	if u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("pbiclient: base URL %q: want scheme://host/path without query, fragment or user info", raw)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	default:
		return "", fmt.Errorf("pbiclient: base URL %q: must be https (plain http only for loopback hosts)", raw)
	}
	return u.String(), nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// apiPath is an escaped request path relative to the base URL, e.g. "/groups/{g}/datasets".
// Every request path is made by pathOf and join, which check each segment, ids and fixed names
// alike, so no id can change the path's shape: ".." after ".../users" would make a proxy that
// normalises paths send the request to the parent, another operation (DELETE a data source
// instead of one of its users). A refused segment is kept in err, and newCall returns it before
// anything is sent.
type apiPath struct {
	escaped string
	err     error
}

// pathOf builds a path from its segments, e.g. pathOf("gateways", gatewayID, "datasources").
func pathOf(segments ...string) apiPath { return apiPath{}.join(segments...) }

// join appends segments. A segment may hold any character but "/" and "\" (escaped as .NET's
// Uri.EscapeDataString does); it may not be empty, "." or "..".
func (p apiPath) join(segments ...string) apiPath {
	for _, s := range segments {
		if p.err != nil {
			return p
		}
		if p.err = checkSegment(s, false); p.err == nil {
			p.escaped += "/" + escape(s)
		}
	}
	return p
}

// joinOpaque appends an id the service issued that may hold "/": export ids are base64
// ("Mi9C5419i....PS4="). The "/" is escaped as %2F, so the id stays one segment on the wire.
// Even a proxy that decodes %2F must not find a dot segment in it, so no part between its
// slashes may be "." or ".." (base64 has no dots, so a real export id is never refused).
func (p apiPath) joinOpaque(id string) apiPath {
	if p.err == nil {
		if p.err = checkSegment(id, true); p.err == nil {
			p.escaped += "/" + escape(id)
		}
	}
	return p
}

// joinKey appends an OData key segment, name(param='value'), as availableFeatures takes: only
// the value is escaped (as the .NET SDK fills its template), after the checks of any segment.
func (p apiPath) joinKey(name, param, value string) apiPath {
	if p.err == nil {
		if p.err = checkSegment(value, false); p.err == nil {
			p.escaped += "/" + name + "(" + param + "='" + escape(value) + "')"
		}
	}
	return p
}

// checkSegment reports why s cannot be a path segment, or nil. "\" is refused like "/"
// because Microsoft's web servers read it as one.
func checkSegment(s string, slashes bool) error {
	switch {
	case s == "":
		return &InvalidIDError{ID: s, Reason: "it is empty"}
	case strings.Contains(s, "\\"):
		return &InvalidIDError{ID: s, Reason: `"\" would split the URL path like "/"`}
	case !slashes && strings.Contains(s, "/"):
		return &InvalidIDError{ID: s, Reason: `"/" would split the URL path`}
	}
	for part := range strings.SplitSeq(s, "/") {
		if part == "." || part == ".." {
			return &InvalidIDError{ID: s, Reason: `"." and ".." are dot segments, which would make the URL name another operation`}
		}
	}
	return nil
}

// workspacePath is the path of an item under a workspace, or under My workspace when
// groupID is "".
func workspacePath(groupID string, segments ...string) apiPath {
	p := apiPath{}
	if groupID != "" {
		p = pathOf("groups", groupID)
	}
	return p.join(segments...)
}

// newCall is the only way a call gets its path: a path with a refused segment is an error
// here, before any request.
func newCall(method string, p apiPath, query string) (call, error) {
	if p.err != nil {
		return call{}, p.err
	}
	if p.escaped == "" {
		return call{}, errors.New("pbiclient: empty request path")
	}
	return call{method: method, path: p.escaped, query: query}, nil
}

// escape escapes a path segment or query value the way .NET's Uri.EscapeDataString does:
// everything but RFC 3986 unreserved characters. Export ids carry '/', '+' and '=', and Go's
// url.PathEscape would leave '+' and '=' alone, which the service's front end may reject.
func escape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if 'a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || '0' <= ch && ch <= '9' ||
			ch == '-' || ch == '.' || ch == '_' || ch == '~' {
			b.WriteByte(ch)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[ch>>4])
		b.WriteByte(hex[ch&15])
	}
	return b.String()
}

// encodeQuery encodes OData query options. Keys are written as they are ("$filter", not
// url.Values' "%24filter"); values are escaped, with spaces as %20 since OData parsers do not
// all read '+' as a space.
func encodeQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		for _, v := range q[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(k + "=" + escape(v))
		}
	}
	return b.String()
}

func needID(kind, id string) error {
	if strings.TrimSpace(id) == "" {
		return fmt.Errorf("pbiclient: %s id is required", kind)
	}
	return nil
}

// getJSON sends a GET and decodes the JSON answer into out.
func (c *Client) getJSON(ctx context.Context, path apiPath, query url.Values, out any) (http.Header, error) {
	return c.sendJSON(ctx, http.MethodGet, path, query, nil, out)
}

// sendJSON sends a request with an optional JSON body and decodes the JSON answer into out
// (skipped when out is nil). It returns the response headers.
func (c *Client) sendJSON(ctx context.Context, method string, path apiPath, query url.Values, in, out any) (http.Header, error) {
	cl, err := newCall(method, path, encodeQuery(query))
	if err != nil {
		return nil, err
	}
	if in != nil {
		body, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("pbiclient: %s %s: encode request: %w", method, cl.path, err)
		}
		cl.body = body
	}
	resp, err := c.do(ctx, cl)
	if err != nil {
		return nil, err
	}
	defer closeBody(resp)
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return resp.Header, fmt.Errorf("pbiclient: %s %s: decode response (RequestId %s): %w",
				method, cl.path, resp.Header.Get("RequestId"), err)
		}
	}
	return resp.Header, nil
}

// list is the OData wrapper of every collection response.
type list[T any] struct {
	Value []T `json:"value"`
}
