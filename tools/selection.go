package tools

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
)

// Selection is what one request over HTTP asks of the tools the server offers: a team server
// is started once with the toolsets everybody may need, and each client narrows that to what
// its agent uses, so that the model pays for fewer tool definitions in every turn. The
// server's options stay the upper limit: a selection only ever takes tools away.
type Selection struct {
	// Toolsets names toolsets, "default" or "all", as --toolsets does; with no Toolsets and no
	// Tools the request keeps every toolset the server offers.
	Toolsets []string
	// Tools names single tools, kept in addition to the toolsets; alone, only these.
	Tools []string
	// ReadOnly keeps only the tools that change nothing.
	ReadOnly bool
	// Via says how the request chose, for the answers that tell the user what to change.
	Via SelectionVia
}

// SelectionVia is where a request's selection came from.
type SelectionVia int

const (
	// ViaHeaders: the X-MCP-Toolsets, X-MCP-Tools and X-MCP-Readonly headers.
	ViaHeaders SelectionVia = iota
	// ViaURL: the endpoint /mcp/x/{toolsets} or /mcp/x/{toolsets}/readonly.
	ViaURL
)

// narrowed is a request's Selection, resolved once when the request comes in.
type narrowed struct {
	Selection
	sets  map[string]bool // nil: every toolset
	names map[string]bool
}

type selectionKey struct{}

// WithSelection returns ctx carrying the request's selection. A name that is neither a
// toolset nor a tool is an error naming the valid ones, so a typo in a client's configuration
// is reported when it connects instead of leaving the agent without the tools it expected.
// A known toolset or tool the server does not offer is no error: it is simply not there,
// as the request cannot widen what the server offers.
func WithSelection(ctx context.Context, s Selection) (context.Context, error) {
	n := narrowed{Selection: s, names: map[string]bool{}}
	if len(s.Toolsets) > 0 || len(s.Tools) > 0 {
		sets, err := chosenToolsets(Options{Toolsets: s.Toolsets, Tools: s.Tools})
		if err != nil {
			return ctx, err
		}
		n.sets = sets
	}
	for _, name := range s.Tools {
		if _, ok := allTools()[name]; !ok {
			names := toolNames(slices.Collect(maps.Values(allTools())))
			if near := closestNames(name, names); len(near) > 0 {
				return ctx, fmt.Errorf("unknown tool %q; did you mean %s?", name, strings.Join(near, ", "))
			}
			return ctx, fmt.Errorf("unknown tool %q; valid tools: %s", name, strings.Join(names, ", "))
		}
		n.names[name] = true
	}
	return context.WithValue(ctx, selectionKey{}, n), nil
}

// allTools is every tool the registry knows, by name, built on first use: building every
// definition is what start-up must not pay for, and only a call of a tool not offered or a
// selection naming single tools needs them.
var allTools = sync.OnceValue(func() map[string]Tool {
	all := map[string]Tool{}
	for _, t := range All(Deps{}) {
		all[t.Definition.Name] = t
	}
	return all
})

// access decides which of the server's tools one request gets: the request's selection, and
// the admin toolset only for callers holding the admin app role.
type access struct {
	offered map[string]Tool
	opts    Options
}

func newAccess(selected []Tool, opts Options) access {
	a := access{offered: map[string]Tool{}, opts: opts}
	for _, t := range selected {
		a.offered[t.Definition.Name] = t
	}
	return a
}

// restricted reports whether ctx's request may see fewer tools than the server offers.
func (a access) restricted(ctx context.Context) bool {
	if _, ok := ctx.Value(selectionKey{}).(narrowed); ok {
		return true
	}
	_, ok := auth.CallerFrom(ctx)
	return ok && a.opts.AdminRole != ""
}

// gated reports whether toolset is kept from ctx's caller for want of the admin app role. A
// request without a caller (stdio, or HTTP without Entra sign-in) runs as the server's own
// identity, whose operator chose the toolsets.
func (a access) gated(ctx context.Context, toolset string) bool {
	if a.opts.AdminRole == "" || toolset != "admin" {
		return false
	}
	c, ok := auth.CallerFrom(ctx)
	return ok && !slices.Contains(c.Roles, a.opts.AdminRole)
}

// refusal says why ctx's request does not get t, an offered tool, and what the user changes
// to get it; "" when it does.
func (a access) refusal(ctx context.Context, t Tool) string {
	name := t.Definition.Name
	if a.gated(ctx, t.Toolset) {
		return fmt.Sprintf("Tool %s is not offered to you: it is in the admin toolset, which this server offers only to callers holding the app role %q, "+
			"and your sign-in does not carry it. Tell the user; an administrator of the server's app registration in Entra ID assigns them the role "+
			"(Enterprise applications > the app > Users and groups), and they sign in again so that their token carries it.", name, a.opts.AdminRole)
	}
	n, ok := ctx.Value(selectionKey{}).(narrowed)
	if !ok {
		return ""
	}
	if n.ReadOnly && !isReadOnly(t.Definition) {
		how := "remove the X-MCP-Readonly header (or set it to false)"
		if n.Via == ViaURL {
			how = "connect to the same URL without /readonly at its end"
		}
		return fmt.Sprintf("Tool %s is not offered to this connection: it asked for read-only tools and %s changes Power BI. Tell the user; they %s in the client's configuration of this server.", name, name, how)
	}
	if n.sets == nil || n.sets[t.Toolset] || n.names[name] {
		return ""
	}
	chosen := slices.Clone(n.Toolsets)
	if len(chosen) == 0 {
		return fmt.Sprintf("Tool %s is not offered to this connection: its X-MCP-Tools header names only %s. Tell the user; they add %s to that header, or add X-MCP-Toolsets: %s, in the client's configuration of this server.",
			name, strings.Join(n.Tools, ", "), name, t.Toolset)
	}
	with := strings.Join(append(chosen, t.Toolset), ",")
	if n.Via == ViaURL {
		suffix := ""
		if n.ReadOnly {
			suffix = "/readonly"
		}
		return fmt.Sprintf("Tool %s is not offered to this connection: it is in the %s toolset, and the URL the client connected to, /mcp/x/%s%s, leaves it out. "+
			"Tell the user; they connect to /mcp/x/%s%s instead in the client's configuration of this server.", name, t.Toolset, strings.Join(n.Toolsets, ","), suffix, with, suffix)
	}
	return fmt.Sprintf("Tool %s is not offered to this connection: it is in the %s toolset, and the X-MCP-Toolsets header chooses %s. "+
		"Tell the user; they set X-MCP-Toolsets: %s (or add X-MCP-Tools: %s) in the client's configuration of this server.", name, t.Toolset, strings.Join(n.Toolsets, ","), with, name)
}

// filter is the server's tool filter: tools/list shows a request only what it gets. mcp-go
// also applies it to tools/call, but notOfferedHooks refuses such a call first, with
// refusal's answer.
func (a access) filter(ctx context.Context, list []mcp.Tool) []mcp.Tool {
	if !a.restricted(ctx) {
		return list
	}
	out := list[:0:0]
	for _, def := range list {
		if t, ok := a.offered[def.Name]; !ok || a.refusal(ctx, t) == "" {
			out = append(out, def)
		}
	}
	return out
}

// view returns the tools of selected that ctx's request gets.
func (a access) view(ctx context.Context, selected []Tool) []Tool {
	var out []Tool
	for _, t := range selected {
		if a.refusal(ctx, t) == "" {
			out = append(out, t)
		}
	}
	return out
}

// instructionHooks make the instructions a restricted request gets (initialize, or
// server/discover in MCP 2026-07-28) describe the tools it gets: mcp-go's instructions are one
// string for the server, but its after-hooks see the result before it is sent.
func instructionHooks(hooks *server.Hooks, selected []Tool, a access) {
	rewrite := func(ctx context.Context) (string, bool) {
		if !a.restricted(ctx) {
			return "", false
		}
		return a.instructions(ctx, selected), true
	}
	hooks.AddAfterInitialize(func(ctx context.Context, _ any, _ *mcp.InitializeRequest, res *mcp.InitializeResult) {
		if text, ok := rewrite(ctx); ok {
			res.Instructions = text
		}
	})
	hooks.AddAfterDiscover(func(ctx context.Context, _ any, _ *mcp.DiscoverRequest, res *mcp.DiscoverResult) {
		if text, ok := rewrite(ctx); ok {
			res.Instructions = text
		}
	})
}

// instructions are the server's instructions for ctx's request: the toolsets it gets are on;
// of the others, those the server offers say why this request does not get them.
func (a access) instructions(ctx context.Context, selected []Tool) string {
	view := a.view(ctx, selected)
	n, narrowedReq := ctx.Value(selectionKey{}).(narrowed)
	serverSets := map[string]bool{}
	for _, t := range selected {
		serverSets[t.Toolset] = true
	}
	onlyFor := func(ts Toolset) (string, bool) {
		if !serverSets[ts.Name] {
			return "", false
		}
		if a.gated(ctx, ts.Name) {
			return fmt.Sprintf("offered only to callers holding the app role %q, which this caller's sign-in does not carry", a.opts.AdminRole), true
		}
		if narrowedReq && n.Via == ViaURL {
			return "left out by the URL this client connected to (/mcp/x/{toolsets})", true
		}
		return "left out by this client's X-MCP-Toolsets or X-MCP-Tools header", true
	}
	text := instructionsWith(view, a.opts.ReadOnly, onlyFor)
	if narrowedReq && n.ReadOnly && !a.opts.ReadOnly {
		text += "This connection asked for read-only tools: tools that change Power BI are not offered to it.\n"
	}
	return text
}
