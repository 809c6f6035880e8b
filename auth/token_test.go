package auth_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

func writeToken(t *testing.T, path, token string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestTokenFileIsReadAgainWhenItChanges: a user drops a fresh token into the
// file and the next call uses it, with no restart.
func TestTokenFileIsReadAgainWhenItChanges(t *testing.T) {
	tenant := newTenant(t, pbitest.Options{})
	path := filepath.Join(t.TempDir(), "token")
	writeToken(t, path, tenant.IssueUserToken("", -time.Minute)) // already expired

	src := newSource(t, auth.Config{Kind: auth.KindToken, AccessTokenFile: path})
	_, err := src.Token(context.Background())
	if err == nil || !strings.Contains(err.Error(), "expired") || !strings.Contains(err.Error(), path) ||
		!strings.Contains(err.Error(), "PBI_MCP_ACCESS_TOKEN_FILE") {
		t.Fatalf("an expired token in the file must fail naming the file: %v", err)
	}

	fresh := tenant.IssueUserToken("", time.Hour)
	writeToken(t, path, "Bearer "+fresh)
	got, err := src.Token(context.Background())
	if err != nil || got != fresh {
		t.Fatalf("the fresh token in the file was not used: %v", err)
	}
	listWorkspaces(t, tenant, src)
	if d := src.Describe(); !strings.Contains(d, path) || !strings.Contains(d, "tenant "+tenant.TenantID()) || strings.Contains(d, fresh) {
		t.Fatalf("Describe() = %q", d)
	}

	// Rejected by Power BI: the error says where to put a fresh one, until one is there.
	src.Invalidate(fresh)
	if _, err := src.Token(context.Background()); err == nil || !strings.Contains(err.Error(), "rejected") || !strings.Contains(err.Error(), path) {
		t.Fatalf("a rejected token must fail naming the file: %v", err)
	}
	fresher := tenant.IssueUserToken("", 2*time.Hour)
	writeToken(t, path, fresher)
	if got, err := src.Token(context.Background()); err != nil || got != fresher {
		t.Fatalf("the replacement was not used: %v", err)
	}
}

func TestTokenFromVariableAndSettingErrors(t *testing.T) {
	tenant := newTenant(t, pbitest.Options{})
	token := tenant.IssueToken(time.Hour)
	if got, err := newSource(t, auth.Config{Kind: auth.KindToken, AccessToken: token}).Token(context.Background()); err != nil || got != token {
		t.Fatalf("Token: %v", err)
	}
	expired := newSource(t, auth.Config{Kind: auth.KindToken, AccessToken: tenant.IssueToken(-time.Minute)})
	if _, err := expired.Token(context.Background()); err == nil || !strings.Contains(err.Error(), "PBI_MCP_ACCESS_TOKEN") {
		t.Fatalf("expired: %v", err)
	}
	if _, err := auth.New(auth.Config{Kind: auth.KindToken}); err == nil ||
		!strings.Contains(err.Error(), "PBI_MCP_ACCESS_TOKEN") || !strings.Contains(err.Error(), "PBI_MCP_ACCESS_TOKEN_FILE") {
		t.Fatalf("nothing set: %v", err)
	}
	if _, err := auth.New(auth.Config{Kind: auth.KindToken, AccessToken: token, AccessTokenFile: "/x"}); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Fatalf("both set: %v", err)
	}
	missing := newSource(t, auth.Config{Kind: auth.KindToken, AccessTokenFile: "/nonexistent/token"})
	if _, err := missing.Token(context.Background()); err == nil || !strings.Contains(err.Error(), "/nonexistent/token") {
		t.Fatalf("missing file: %v", err)
	}
}
