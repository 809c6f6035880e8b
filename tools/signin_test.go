package tools

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
)

// pendingSignIn stands in for a user credential (device code) while the user
// has not signed in yet: it answers *auth.SignInRequired, as the real
// device-code source does, until signedIn holds a token. The real source is
// tested in auth; here what matters is what the agent and the user are told.
type pendingSignIn struct {
	mu       sync.Mutex
	signedIn string
}

var signIn = &auth.SignInRequired{VerificationURL: "https://microsoft.com/devicelogin", UserCode: "ABCD-EFGH",
	ExpiresOn: time.Now().Add(15 * time.Minute)}

func (p *pendingSignIn) Token(context.Context) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.signedIn == "" {
		return "", signIn
	}
	return p.signedIn, nil
}

func (p *pendingSignIn) Invalidate(string) {}

func (p *pendingSignIn) signIn(token string) {
	p.mu.Lock()
	p.signedIn = token
	p.mu.Unlock()
}

// elicitRecorder is a client's user who sees elicitations and dismisses them.
type elicitRecorder struct {
	got chan mcp.ElicitationRequest
}

func (e *elicitRecorder) Elicit(_ context.Context, req mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	e.got <- req
	return &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionDecline}}, nil
}

const wantSignInText = "Could not list workspaces: the user must sign in to Power BI first. To sign in, open https://microsoft.com/devicelogin and enter code ABCD-EFGH, then ask again."

func TestSignInRequiredTellsTheUserWhatToDo(t *testing.T) {
	src := &pendingSignIn{}
	st := newStack(t, stackOptions{tokens: src})
	msg := st.fails(t, "list_workspaces", nil)
	if !strings.HasPrefix(msg, wantSignInText) || !strings.Contains(msg, "Only the user can do this") {
		t.Fatalf("got %q", msg)
	}
	if strings.Contains(msg, "restart") {
		t.Fatalf("a sign-in needs no restart: %q", msg)
	}
	src.signIn(st.tenant.IssueUserToken("", time.Hour))
	var out struct{ Workspaces []Workspace }
	st.ok(t, "list_workspaces", nil, &out)
	if len(out.Workspaces) == 0 {
		t.Fatal("no workspaces after signing in")
	}
}

func TestSignInRequiredIsPresentedThroughElicitation(t *testing.T) {
	src := &pendingSignIn{}
	user := &elicitRecorder{got: make(chan mcp.ElicitationRequest, 4)}
	st := newStack(t, stackOptions{tokens: src, elicit: user})

	msg := st.fails(t, "list_workspaces", nil)
	if !strings.HasPrefix(msg, wantSignInText) {
		t.Fatalf("the result must say the same with elicitation: %q", msg)
	}
	select {
	case req := <-user.got:
		if !strings.Contains(req.Params.Message, "https://microsoft.com/devicelogin") || !strings.Contains(req.Params.Message, "ABCD-EFGH") {
			t.Fatalf("the elicitation does not show the link and code: %q", req.Params.Message)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no elicitation was sent")
	}

	// The user declined the dialog: nothing changes. Asking again before
	// signing in repeats the instructions but does not pester the user again.
	if msg := st.fails(t, "list_workspaces", nil); !strings.HasPrefix(msg, wantSignInText) {
		t.Fatalf("second call: %q", msg)
	}
	select {
	case req := <-user.got:
		t.Fatalf("the same code was presented twice: %q", req.Params.Message)
	case <-time.After(300 * time.Millisecond):
	}

	src.signIn(st.tenant.IssueUserToken("", time.Hour))
	var out struct{ Workspaces []Workspace }
	st.ok(t, "list_workspaces", nil, &out)
	if len(out.Workspaces) == 0 {
		t.Fatal("no workspaces after signing in")
	}
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
