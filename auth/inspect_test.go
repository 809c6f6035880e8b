package auth_test

import (
	"strings"
	"testing"
	"time"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

func TestInspectTellsAppFromUser(t *testing.T) {
	tenant := pbitest.NewServer(pbitest.Options{})
	defer tenant.Close()

	app, ok := auth.Inspect(tenant.IssueToken(time.Hour))
	if !ok || app.PrincipalType != "app" || app.ClientID != tenant.ClientID() || app.TenantID != tenant.TenantID() ||
		app.Audience != "https://analysis.windows.net/powerbi/api" || len(app.Scopes) != 0 || time.Until(app.ExpiresOn) < 50*time.Minute {
		t.Fatalf("app token: %+v %v", app, ok)
	}
	user, ok := auth.Inspect("Bearer " + tenant.IssueUserToken("", time.Hour))
	if !ok || user.PrincipalType != "user" || user.Username != pbitest.DefaultUserPrincipalName ||
		!strings.Contains(strings.Join(user.Scopes, " "), "Dataset.ReadWrite.All") {
		t.Fatalf("user token: %+v %v", user, ok)
	}
	if _, ok := auth.Inspect("not-a-jwt"); ok {
		t.Fatal("a token that is not a JWT was decoded")
	}
}
