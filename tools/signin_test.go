package tools

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
)

// elicitRecorder is a client's user who sees elicitations and dismisses them.
type elicitRecorder struct {
	got chan mcp.ElicitationRequest
}

func (e *elicitRecorder) Elicit(_ context.Context, req mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	e.got <- req
	return &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionDecline}}, nil
}

// signInCode checks that a failed call told the user to sign in at the tenant's own sign-in
// page, as the device-code flow words it, and returns the code it gave.
func signInCode(t *testing.T, st *stack, msg string) string {
	t.Helper()
	prefix := "Could not list workspaces: the user must sign in to Power BI first. To sign in, open " +
		st.tenant.URL() + "/devicelogin and enter code "
	code, rest, ok := strings.Cut(strings.TrimPrefix(msg, prefix), ", then ask again.")
	if !strings.HasPrefix(msg, prefix) || !ok || code == "" || !strings.Contains(rest, "Only the user can do this") {
		t.Fatalf("not the sign-in instructions: %q", msg)
	}
	if strings.Contains(msg, "restart") {
		t.Fatalf("a sign-in needs no restart: %q", msg)
	}
	return code
}

// signedInCall completes the sign-in as the user would in a browser, then asks again until
// the device-code flow, which polls in the background, has the token.
func signedInCall(t *testing.T, st *stack, code string) {
	t.Helper()
	if err := st.tenant.ApproveDeviceCode(code, ""); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for st.call(t, "list_workspaces", nil).IsError {
		if time.Now().After(deadline) {
			t.Fatal("still not signed in")
		}
		time.Sleep(100 * time.Millisecond)
	}
	var out struct{ Workspaces []Workspace }
	st.ok(t, "list_workspaces", nil, &out)
	if len(out.Workspaces) == 0 {
		t.Fatal("no workspaces after signing in")
	}
}

func TestSignInRequiredTellsTheUserWhatToDo(t *testing.T) {
	st := newStack(t, stackOptions{userSignIn: true})
	code := signInCode(t, st, st.fails(t, "list_workspaces", nil))
	if again := signInCode(t, st, st.fails(t, "list_workspaces", nil)); again != code {
		t.Fatalf("a second call before signing in gave another code: %s, then %s", code, again)
	}
	signedInCall(t, st, code)
}

func TestSignInRequiredIsPresentedThroughElicitation(t *testing.T) {
	user := &elicitRecorder{got: make(chan mcp.ElicitationRequest, 4)}
	st := newStack(t, stackOptions{userSignIn: true, elicit: user})

	code := signInCode(t, st, st.fails(t, "list_workspaces", nil))
	select {
	case req := <-user.got:
		if !strings.Contains(req.Params.Message, st.tenant.URL()+"/devicelogin") || !strings.Contains(req.Params.Message, code) {
			t.Fatalf("the elicitation does not show the link and code: %q", req.Params.Message)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no elicitation was sent")
	}

	// The user declined the dialog: nothing changes. Asking again before
	// signing in repeats the instructions but does not pester the user again.
	signInCode(t, st, st.fails(t, "list_workspaces", nil))
	select {
	case req := <-user.got:
		t.Fatalf("the same code was presented twice: %q", req.Params.Message)
	case <-time.After(300 * time.Millisecond):
	}
	signedInCall(t, st, code)
}

// A token file the user can refresh while the server runs: the result says what is wrong with
// the file and that no restart is needed, and a fresh token in the file makes the next call work.
func TestTokenFileProblemNeedsNoRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token")
	src, err := auth.New(auth.Config{Kind: auth.KindToken, AccessTokenFile: path})
	if err != nil {
		t.Fatal(err)
	}
	st := newStack(t, stackOptions{tokens: src})
	msg := st.fails(t, "list_workspaces", nil)
	if !strings.Contains(msg, "cannot read the access token file "+path) || !strings.Contains(msg, "no restart is needed") ||
		strings.Contains(msg, "restart it") {
		t.Fatalf("got %q", msg)
	}
	if err := os.WriteFile(path, []byte(st.tenant.IssueUserToken("", time.Hour)), 0o600); err != nil {
		t.Fatal(err)
	}
	var out struct{ Workspaces []Workspace }
	st.ok(t, "list_workspaces", nil, &out)
}
