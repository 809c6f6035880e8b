package tools

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
)

// A user credential with no usable token starts an interactive sign-in (a
// device code) and fails the call with *auth.SignInRequired. Only the user can
// sign in, so the result tells the model to hand the link and code over; a
// client that declared elicitation is also asked to show them to the user
// directly, once per code and session.

// signInText is the isError text for a sign-in the user must complete.
func signInText(action string, s *auth.SignInRequired) string {
	text := fmt.Sprintf("Could not %s: the user must sign in to Power BI first. To sign in, open %s and enter code %s, then ask again.",
		action, s.VerificationURL, s.UserCode)
	if !s.ExpiresOn.IsZero() {
		text += fmt.Sprintf(" The code expires at %s.", s.ExpiresOn.Format(time.RFC3339))
	}
	return text + " Only the user can do this: show them the link and the code exactly as given, and do not try to sign in yourself or call again before they say they are done."
}

// presented remembers the codes already shown through elicitation, by
// session, so concurrent calls failing on the same sign-in show it once.
var presented sync.Map // "session id\x00user code" -> struct{}

// presentSignIn asks the client to show the sign-in link and code to the
// user, if it declared elicitation, once per code and session.
//
// A client of MCP 2026-07-28 or later is asked with the call's result: it
// shows the link and code, and calls again when the user is done, so the
// retried call usually finds the user signed in. presentSignIn then returns
// that result, and nil once the client has answered.
//
// An older client is sent an elicitation request without waiting for the
// answer: the answer carries nothing (the sign-in happens in the browser) and
// a decline changes nothing, while the tool result must not be held up.
func presentSignIn(ctx context.Context, err error) *mcp.CallToolResult {
	var s *auth.SignInRequired
	caps := elicitationOf(ctx)
	if !errors.As(err, &s) || caps == nil {
		return nil
	}
	srv := server.ServerFromContext(ctx)
	session := server.ClientSessionFromContext(ctx)
	if srv == nil || session == nil {
		return nil
	}
	params := mcp.ElicitationParams{
		Message: fmt.Sprintf("Sign in to Power BI: open %s and enter the code %s. Then ask again.", s.VerificationURL, s.UserCode),
	}
	if caps.URL != nil {
		// URL mode is made for this: the user goes to a page, and nothing comes back.
		params.Mode, params.URL, params.ElicitationID = mcp.ElicitationModeURL, s.VerificationURL, "signin-"+s.UserCode
	} else {
		params.RequestedSchema = map[string]any{"type": "object", "properties": map[string]any{}}
	}
	modern := server.IsModernRequest(ctx)
	if modern && server.ElicitationResponse(roundTripOf(ctx).InputResponses, "signin") != nil {
		return nil // shown, and still not signed in: the result says what to do
	}
	key := session.SessionID() + "\x00" + s.UserCode
	if _, seen := presented.LoadOrStore(key, struct{}{}); seen {
		return nil
	}
	// The request outlives the tool call that triggered it, but not the code.
	until := s.ExpiresOn
	if until.IsZero() || time.Until(until) > 15*time.Minute {
		until = time.Now().Add(15 * time.Minute)
	}
	// Forget the code once it has expired, so the map does not grow.
	time.AfterFunc(time.Until(until), func() { presented.Delete(key) })
	if modern {
		return server.NewInputRequestBuilder(questionState("signin", params.Message)).Elicit("signin", params).ToolResult()
	}
	go func() {
		ctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), until)
		defer cancel()
		srv.RequestElicitation(ctx, mcp.ElicitationRequest{Params: params}) // the answer changes nothing
	}()
	return nil
}
