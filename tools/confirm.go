package tools

import (
	"context"
	"crypto/sha256"
	"encoding/hex"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// Destructive tools (deletes, removals, rebinding, take-overs, parameter changes) act only with
// the user's agreement. A client that declared MCP elicitation is asked to show the user a
// confirmation, and the user's answer decides; any other client must pass confirm: true, which
// the argument's description tells the model to do only after asking the user.
//
// How the client is asked depends on its protocol era. Up to MCP 2025-11-25 the server sends an
// elicitation/create request in the middle of the call. From 2026-07-28 on, servers may no
// longer do that: the call ends with an "input required" result carrying the question, and the
// client calls again with the user's answer (a multi round-trip request). ask hides the
// difference from the tools.

// confirmParam is the argument every destructive tool declares.
func confirmParam() mcp.ToolOption {
	return mcp.WithBoolean("confirm")
}

// confirmed returns nil when the user agreed to the change what describes (one sentence, e.g.
// "Delete the report Sales Overview (id ...) from the workspace Finance."), and otherwise an
// error result saying that nothing was changed and why.
func confirmed(ctx context.Context, confirmArg bool, what string) error {
	res, err := ask(ctx, "confirm", mcp.ElicitationParams{
		Message: what + " This cannot be undone. Go ahead?",
		RequestedSchema: map[string]any{
			"type": "object",
			"properties": map[string]any{
				"confirm": map[string]any{"type": "boolean", "title": "Go ahead", "description": what},
			},
			"required": []string{"confirm"},
		},
	})
	switch {
	case err != nil:
		return err // the question goes back to the client with the result
	case res == nil:
		// The client cannot be asked: the confirm argument decides.
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
	if confirmArg {
		return nil
	}
	return userErrorf("Not done: %s This cannot be undone, so it needs the user's agreement: ask the user, and if they agree, call again with confirm: true. Nothing was changed.", what)
}

// ask puts a question to the user through the client. It returns the user's answer; nil when
// the client cannot be asked (it did not declare elicitation, or the request could not be
// delivered); or, for a client of MCP 2026-07-28 or later that has not answered yet, an
// *inputRequired error whose result carries the question back to it.
func ask(ctx context.Context, id string, question mcp.ElicitationParams) (*mcp.ElicitationResult, error) {
	if elicitationOf(ctx) == nil {
		return nil, nil
	}
	if server.IsModernRequest(ctx) {
		// The answer counts only for the question it was given to: the state names the
		// question, so an answer to another one (another call's, or an earlier version of
		// this one) is asked again rather than taken.
		state := questionState(id, question.Message)
		rt := roundTripOf(ctx)
		if ans := server.ElicitationResponse(rt.InputResponses, id); ans != nil && rt.RequestState == state {
			return ans, nil
		}
		return nil, &inputRequired{server.NewInputRequestBuilder(state).Elicit(id, question).ToolResult()}
	}
	srv := server.ServerFromContext(ctx)
	if srv == nil {
		return nil, nil
	}
	res, err := srv.RequestElicitation(ctx, mcp.ElicitationRequest{Params: question})
	if err != nil {
		return nil, nil
	}
	return res, nil
}

// inputRequired ends a call with a result that asks the client for the user's input; the
// client calls again with the answer. handle returns its result as it is.
type inputRequired struct{ result *mcp.CallToolResult }

func (e *inputRequired) Error() string { return "the user's input is required" }

func questionState(id, message string) string {
	sum := sha256.Sum256([]byte(id + "\x00" + message))
	return id + "-" + hex.EncodeToString(sum[:12])
}

type roundTripKey struct{}

// withRoundTrip makes the answers a retried call carries (multi round-trip requests) available
// to ask, however deep in the tool it is called.
func withRoundTrip(ctx context.Context, req mcp.CallToolRequest) context.Context {
	if len(req.Params.InputResponses) == 0 {
		return ctx
	}
	return context.WithValue(ctx, roundTripKey{}, req.Params.MultiRoundTripParams)
}

func roundTripOf(ctx context.Context) mcp.MultiRoundTripParams {
	rt, _ := ctx.Value(roundTripKey{}).(mcp.MultiRoundTripParams)
	return rt
}

// elicitationOf returns the elicitation capability the client declared, or nil when it cannot
// be asked. A request of MCP 2026-07-28 or later declares its capabilities itself, and only
// those count: the session may hold another request's. An older client declared them once,
// for its session; on stateless HTTP no session carries them, and none could carry a question.
func elicitationOf(ctx context.Context) *mcp.ElicitationCapability {
	if info := server.RequestProtocolInfoFromContext(ctx); info != nil && info.Modern {
		if info.ClientCapabilities == nil {
			return nil
		}
		return info.ClientCapabilities.Elicitation
	}
	if session, ok := server.ClientSessionFromContext(ctx).(server.SessionWithClientInfo); ok {
		return session.GetClientCapabilities().Elicitation
	}
	return nil
}
