package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/mark3labs/mcp-go/server"
)

// notOfferedHooks answers a call of a tool this server knows but does not offer with what the
// model can tell the user: which toolset the tool is in and how to turn it on, or that the
// server is read-only. mcp-go resolves tools/call names itself and has no not-found handler,
// and its answer is a bare "tool not found"; a request hook is the one place that sees the
// call first. Its error becomes the JSON-RPC error of the call (code -32600).
//
// A tool the server offers but a request does not get (its selection, or the admin app role:
// access) is refused here too, with what the user changes to get it; it is never run.
func notOfferedHooks(selected []Tool, opts Options, access access) *server.Hooks {
	hooks := &server.Hooks{}
	hooks.AddOnRequestInitialization(func(ctx context.Context, _ any, message any) error {
		raw, ok := message.(json.RawMessage)
		if !ok || !bytes.Contains(raw, []byte(`"tools/call"`)) {
			return nil
		}
		var req struct {
			Method string `json:"method"`
			Params struct {
				Name string `json:"name"`
			} `json:"params"`
		}
		if json.Unmarshal(raw, &req) != nil || req.Method != "tools/call" {
			return nil
		}
		if t, ok := access.offered[req.Params.Name]; ok {
			if why := access.refusal(ctx, t); why != "" {
				return errors.New(why)
			}
			return nil
		}
		t, known := allTools()[req.Params.Name]
		if !known {
			return nil // mcp-go's own answer: no such tool
		}
		return errors.New(notOfferedMessage(t, opts))
	})
	return hooks
}

// notOfferedMessage says why t is not offered and how the user turns it on.
func notOfferedMessage(t Tool, opts Options) string {
	name := t.Definition.Name
	sets, _ := chosenToolsets(opts)
	if sets[t.Toolset] && opts.ReadOnly && !isReadOnly(t.Definition) {
		return fmt.Sprintf("Tool %s is not offered: this server runs read-only (--read-only) and %s changes Power BI. "+
			"Tell the user; it needs a server started without --read-only.", name, name)
	}
	chosen := opts.Toolsets
	if len(chosen) == 0 && len(opts.Tools) == 0 {
		chosen = []string{"default"}
	}
	with := strings.Join(append(slices.Clone(chosen), t.Toolset), ",")
	return fmt.Sprintf("Tool %s is not offered: it is in the %s toolset, which this server was not started with. "+
		"Tell the user; they turn it on by restarting the server with --toolsets %s (or PBI_MCP_TOOLSETS=%s), or this tool alone with --tools %s.",
		name, t.Toolset, with, with, name)
}
