package main

import (
	"errors"
	"flag"
	"fmt"
	"net/http"
	"strings"

	"github.com/rs/zerolog"

	"github.com/powerbi-mcp/powerbi-mcp/tools"
)

// The headers a client sets to choose its tools on the HTTP transports, named as
// github-mcp-server's remote server names them, so clients configured for one work with the
// other.
const (
	headerToolsets = "X-MCP-Toolsets"
	headerTools    = "X-MCP-Tools"
	headerReadOnly = "X-MCP-Readonly"
)

// selectionPath is where the streamable HTTP endpoint takes a selection in its URL:
// /mcp/x/{toolsets} and /mcp/x/{toolsets}/readonly, for clients that cannot set headers.
const selectionPath = "/mcp/x/"

// registerSelection declares the flags of per-request tool selection.
func (c *config) registerSelection(fs *flag.FlagSet) {
	fs.StringVar(&c.AdminRole, "admin-role", "",
		"with Entra sign-in, offer the admin toolset only to callers whose token carries this app role (empty: no such check)")
}

// validateSelection checks the flags registerSelection declares.
func (c *config) validateSelection() error {
	if strings.ContainsAny(c.AdminRole, " \t,") {
		return fmt.Errorf("%s: want the value of one app role of the server's app registration, e.g. PowerBI.Admin", c.from.setting("admin-role"))
	}
	// Only a caller's Entra token carries app roles: in any other mode no request could show
	// the role, and the gate would silently let every request through.
	if c.AdminRole != "" && c.HTTPAuth != httpAuthEntra {
		return fmt.Errorf("%s needs --http-auth entra: app roles come with each caller's Entra ID token", c.from.setting("admin-role"))
	}
	return nil
}

// mountMCP routes the streamable HTTP endpoint, h, at /mcp and at the selection URLs.
func mountMCP(mux *http.ServeMux, h http.Handler) {
	mux.Handle("/mcp", h)
	mux.Handle(selectionPath, h)
}

// perRequest narrows the tools each request gets to what its headers or URL choose (see
// requestSelection), within what the server offers, and passes it on. A selection that names
// no known toolset or tool is answered 400 with the valid names and never served: a client
// would otherwise run with a tool list other than the one its user configured, and a client
// shows an HTTP error's text when it connects.
func perRequest(logger zerolog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sel, status, err := requestSelection(r)
		if err == nil && sel != nil {
			ctx, selErr := tools.WithSelection(r.Context(), *sel)
			if selErr != nil {
				status, err = http.StatusBadRequest, fmt.Errorf("%s: %w", selectionSource(r, selErr), selErr)
			}
			r = r.WithContext(ctx)
		}
		if err != nil {
			logger.Info().Str("remote", r.RemoteAddr).Str("path", r.URL.Path).Err(err).Msg("refused a request's tool selection")
			http.Error(w, err.Error(), status)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// requestSelection reads the selection of r: the toolsets of its URL (/mcp/x/{toolsets},
// optionally /readonly), or its X-MCP-Toolsets header; its X-MCP-Tools header; and read-only
// from the URL or X-MCP-Readonly. nil means r selects nothing. A URL that is not one of the
// selection forms is 404; a malformed selection 400.
func requestSelection(r *http.Request) (*tools.Selection, int, error) {
	var sel tools.Selection
	chose := false
	if rest, ok := strings.CutPrefix(r.URL.Path, selectionPath); ok {
		segments := strings.Split(strings.TrimSuffix(rest, "/"), "/")
		switch {
		case len(segments) == 2 && segments[1] == "readonly":
			sel.ReadOnly = true
		case len(segments) != 1:
			return nil, http.StatusNotFound, fmt.Errorf("no such endpoint %s: use /mcp, /mcp/x/{toolsets} or /mcp/x/{toolsets}/readonly, with toolsets comma-separated", r.URL.Path)
		}
		sel.Toolsets = splitList(segments[0])
		if len(sel.Toolsets) == 0 {
			return nil, http.StatusBadRequest, fmt.Errorf("%s names no toolset: use /mcp/x/{toolsets}, e.g. /mcp/x/default,admin", r.URL.Path)
		}
		if r.Header.Get(headerToolsets) != "" {
			return nil, http.StatusBadRequest, fmt.Errorf("both the URL %s and the %s header choose toolsets: use one of them", r.URL.Path, headerToolsets)
		}
		sel.Via, chose = tools.ViaURL, true
	}
	if v := r.Header.Get(headerToolsets); v != "" {
		if sel.Toolsets = splitList(v); len(sel.Toolsets) == 0 {
			return nil, http.StatusBadRequest, fmt.Errorf("%s: %q names no toolset; omit the header for every toolset the server offers", headerToolsets, v)
		}
		chose = true
	}
	if v := r.Header.Get(headerTools); v != "" {
		if sel.Tools = splitList(v); len(sel.Tools) == 0 {
			return nil, http.StatusBadRequest, fmt.Errorf("%s: %q names no tool", headerTools, v)
		}
		chose = true
	}
	if v, ok := r.Header[http.CanonicalHeaderKey(headerReadOnly)]; ok {
		ro, err := headerBool(strings.Join(v, ","))
		if err != nil {
			return nil, http.StatusBadRequest, fmt.Errorf("%s: %w", headerReadOnly, err)
		}
		sel.ReadOnly = sel.ReadOnly || ro
		chose = true
	}
	if !chose {
		return nil, 0, nil
	}
	return &sel, 0, nil
}

// selectionSource names what in r made tools.WithSelection fail with err: an unknown tool is
// X-MCP-Tools', an unknown toolset the URL's or X-MCP-Toolsets'.
func selectionSource(r *http.Request, err error) string {
	switch {
	case strings.HasPrefix(err.Error(), "unknown tool "):
		return headerTools
	case strings.HasPrefix(r.URL.Path, selectionPath):
		return "the URL " + r.URL.Path
	}
	return headerToolsets
}

// headerBool reads X-MCP-Readonly. A value that is neither true nor false is refused rather
// than read as either: read as false it would hand a client that asked for safety the tools
// that change Power BI.
func headerBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1", "yes", "on":
		return true, nil
	case "", "false", "0", "no", "off":
		return false, nil
	}
	return false, errors.New("want true or false (or 1 or 0), got " + fmt.Sprintf("%q", v))
}
