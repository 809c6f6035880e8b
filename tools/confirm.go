package tools

import (
	"context"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// Destructive tools (deletes, removals, rebinding, take-overs, parameter changes) act only with
// the user's agreement. A client that declared MCP elicitation is asked to show the user a
// confirmation, and the user's answer decides; any other client must pass confirm: true, which
// the argument's description tells the model to do only after asking the user.

// confirmParam is the argument every destructive tool declares.
func confirmParam() mcp.ToolOption {
	return mcp.WithBoolean("confirm",
		mcp.Description("Set to true only after the user has agreed to this change. Clients that can ask the user themselves (MCP elicitation) are asked instead."),
		mcp.DefaultBool(false))
}

// confirmed returns nil when the user agreed to the change what describes (one sentence, e.g.
// "Delete the report Sales Overview (id ...) from the workspace Finance."), and otherwise an
// error result saying that nothing was changed and why.
func confirmed(ctx context.Context, confirmArg bool, what string) error {
	if srv := server.ServerFromContext(ctx); srv != nil && clientCanBeAsked(ctx) {
		res, err := srv.RequestElicitation(ctx, mcp.ElicitationRequest{Params: mcp.ElicitationParams{
			Message: what + " This cannot be undone. Go ahead?",
			RequestedSchema: map[string]any{
				"type": "object",
				"properties": map[string]any{
					"confirm": map[string]any{"type": "boolean", "title": "Go ahead", "description": what},
				},
				"required": []string{"confirm"},
			},
		}})
		switch {
		case err != nil:
			// The client could not be asked after all: the confirm argument decides.
		case res.Action == mcp.ElicitationResponseActionAccept:
			if content, ok := res.Content.(map[string]any); ok && content["confirm"] == true {
				return nil
			}
			return userErrorf("Not done: the user did not agree to this change (%s). Nothing was changed.", what)
		case res.Action == mcp.ElicitationResponseActionDecline:
			return userErrorf("Not done: the user did not agree to this change (%s). Nothing was changed.", what)
		default:
			// Cancelled: the client showed nothing or the user dismissed it without
			// choosing (command-line clients answer so). The confirm argument decides.
		}
		// The request could not be delivered: the confirm argument decides.
	}
	if confirmArg {
		return nil
	}
	return userErrorf("Not done: %s This cannot be undone, so it needs the user's agreement: ask the user, and if they agree, call again with confirm: true. Nothing was changed.", what)
}

// clientCanBeAsked reports whether the client declared elicitation in this session. Asking one
// that did not would fail, or on stateless HTTP, where no session carries server requests, wait
// for an answer that never comes.
func clientCanBeAsked(ctx context.Context) bool {
	session, ok := server.ClientSessionFromContext(ctx).(server.SessionWithClientInfo)
	return ok && session.GetClientCapabilities().Elicitation != nil
}
