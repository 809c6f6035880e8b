package tools

import (
	"strings"
	"testing"
	"time"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

func TestGenerateEmbedToken(t *testing.T) {
	st := newStack(t, stackOptions{})
	var res EmbedTokenResult
	st.ok(t, "generate_embed_token", map[string]any{
		"workspace":           "Finance",
		"reports":             []any{map[string]any{"report": "Monthly Close", "allow_edit": true}},
		"datasets":            []any{map[string]any{"dataset": "Forecast", "xmla_permissions": "ReadOnly"}},
		"target_workspaces":   []any{"Finance"},
		"lifetime_in_minutes": 5,
	}, &res)
	if res.Token == "" || res.TokenID == "" || !strings.HasPrefix(res.Secret, "SECRET") {
		t.Fatalf("result %+v", res)
	}
	if res.ExpiresInMinutes > 5 {
		t.Errorf("expires in %d minutes, want at most 5", res.ExpiresInMinutes)
	}
	var report *EmbedItem
	for i := range res.Items {
		if res.Items[i].Type == "report" {
			report = &res.Items[i]
		}
	}
	if report == nil || report.ID != pbitest.DemoFinanceReportID || report.Access != "Edit" || !strings.Contains(report.EmbedURL, "reportEmbed?reportId="+pbitest.DemoFinanceReportID) {
		t.Errorf("items %+v", res.Items)
	}
	// The report's model was added to the request for the embedded report to read it.
	var body string
	for _, r := range st.tenant.Requests() {
		if r.Path == "/v1.0/myorg/GenerateToken" {
			body = string(r.Body)
		}
	}
	if !strings.Contains(body, pbitest.DemoFinanceKPIsDatasetID) || !strings.Contains(body, `"xmlaPermissions":"ReadOnly"`) {
		t.Errorf("request body %s", body)
	}

	first := res.Token
	// An identity without datasets is applied to the token's RLS models: Regional Sales here.
	var rls EmbedTokenResult
	st.ok(t, "generate_embed_token", map[string]any{"workspace": "Sales Analytics",
		"datasets":   []any{map[string]any{"dataset": "Regional Sales"}},
		"identities": []any{map[string]any{"username": "anna@contoso.com", "roles": []any{"West"}}}}, &rls)
	if rls.Token == "" {
		t.Errorf("RLS token %+v", rls)
	}

	// The token is a secret: nothing at any log level carries it.
	st.ok(t, "generate_embed_token", map[string]any{"workspace": "Sales Analytics", "datasets": []any{map[string]any{"dataset": "Regional Sales"}},
		"identities": []any{map[string]any{"username": "anna@contoso.com", "roles": []any{"West"}, "custom_data": "eu"}}}, &res)
	if res.Items[0].EmbedURL == "" || res.Items[0].QnaEmbedURL == "" {
		t.Errorf("model token %+v", res.Items)
	}
	logs := st.logs.String()
	if logs == "" {
		t.Fatal("no logs captured: the check below would prove nothing")
	}
	for _, tok := range []string{first, rls.Token, res.Token} {
		if strings.Contains(logs, tok) || strings.Contains(logs, tok[:40]) {
			t.Error("an embed token appears in the logs")
		}
	}
}

func TestEmbedTokenErrors(t *testing.T) {
	st := newStack(t, stackOptions{})
	// A service principal must pass an identity for a model with row-level security.
	msg := st.fails(t, "generate_embed_token", map[string]any{"workspace": "Sales Analytics", "datasets": []any{map[string]any{"dataset": "Regional Sales"}}})
	if !strings.Contains(msg, "requires effective identity") {
		t.Errorf("message %q", msg)
	}
	msg = st.fails(t, "generate_embed_token", map[string]any{"datasets": []any{map[string]any{"dataset": "Personal Budget"}}})
	if !strings.Contains(msg, "workspace") {
		t.Errorf("My workspace: %q", msg)
	}
	msg = st.fails(t, "generate_embed_token", map[string]any{"workspace": "Finance"})
	if !strings.Contains(msg, "Name what to embed") {
		t.Errorf("nothing named: %q", msg)
	}
	msg = st.fails(t, "generate_embed_token", map[string]any{"workspace": "Finance", "datasets": []any{map[string]any{"dataset": "Finance KPIs"}},
		"identities": []any{map[string]any{"username": "anna@contoso.com", "roles": []any{"West"}}}})
	if !strings.Contains(msg, "without identities") {
		t.Errorf("identities for a model without RLS: %q", msg)
	}
	// Shared capacity: trial tokens run out with a 403.
	st.tenant.SetSharedEmbedTokenLimit(1)
	var res EmbedTokenResult
	campaign := map[string]any{"workspace": "Marketing", "reports": []any{map[string]any{"report": "Campaign Performance"}}}
	st.ok(t, "generate_embed_token", campaign, &res)
	msg = st.fails(t, "generate_embed_token", campaign)
	if !strings.Contains(msg, "403") || !strings.Contains(msg, "shared or ProPlus capacity") {
		t.Errorf("trial limit: %q", msg)
	}
}

// TestDashboardEmbedTokens: a dashboard or one of its tiles gets a token of its own, from the
// single-item API, the only one that embeds them.
func TestDashboardEmbedTokens(t *testing.T) {
	st := newStack(t, stackOptions{})
	cases := []struct {
		args map[string]any
		typ  string
		path string
		url  string
	}{
		{map[string]any{"dashboard": "Finance Board"}, "dashboard", "/dashboards/" + pbitest.DemoFinanceDashboardID + "/GenerateToken",
			"/dashboardEmbed?dashboardId=" + pbitest.DemoFinanceDashboardID},
		{map[string]any{"dashboard": "Finance Board", "tile": "Net Income"}, "tile", "/tiles/" + pbitest.DemoNetIncomeTileID + "/GenerateToken",
			"tileId=" + pbitest.DemoNetIncomeTileID},
	}
	for _, c := range cases {
		c.args["workspace"] = "Finance"
		c.args["lifetime_in_minutes"] = 3
		before := len(st.tenant.Requests())
		var res EmbedTokenResult
		st.ok(t, "generate_embed_token", c.args, &res)
		if res.Token == "" || len(res.Items) != 1 || res.Items[0].Type != c.typ || res.Items[0].Access != "View" || !strings.Contains(res.Items[0].EmbedURL, c.url) {
			t.Errorf("%v: %+v", c.args, res)
		}
		exp, err := time.Parse(time.RFC3339, res.Expiration)
		if err != nil || time.Until(exp) > 3*time.Minute+time.Second {
			t.Errorf("%v: expiration %s", c.args, res.Expiration)
		}
		asked := false
		for _, r := range st.tenant.Requests()[before:] {
			asked = asked || strings.HasSuffix(r.Path, c.path)
		}
		if !asked {
			t.Errorf("%v: no request to %s", c.args, c.path)
		}
	}
}

// TestEmbedTokenToCreateReports: a model with target workspaces is a token to create reports
// on it there, with the model's create-report URL and its Q&A URL.
func TestEmbedTokenToCreateReports(t *testing.T) {
	st := newStack(t, stackOptions{})
	var res EmbedTokenResult
	st.ok(t, "generate_embed_token", map[string]any{"workspace": "Finance",
		"datasets": []any{map[string]any{"dataset": "Finance KPIs"}}, "target_workspaces": []any{"Finance"}}, &res)
	var types []string
	for _, it := range res.Items {
		types = append(types, it.Type+" "+it.Access)
	}
	if len(res.Items) != 2 || !strings.Contains(res.Items[0].EmbedURL, "/reportEmbed?config=") || res.Items[0].QnaEmbedURL == "" ||
		strings.Join(types, ",") != "dataset XMLA Off,targetWorkspace Create" {
		t.Errorf("items %+v", res.Items)
	}
}

// TestDashboardEmbedTokenAlone: a dashboard or tile token covers nothing else, and a tile is
// found on its dashboard; both are said before anything is asked of Power BI.
func TestDashboardEmbedTokenAlone(t *testing.T) {
	st := newStack(t, stackOptions{})
	for _, c := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"tile": "Net Income"}, "tile needs the dashboard"},
		{map[string]any{"dashboard": "Finance Board", "reports": []any{map[string]any{"report": "Monthly Close"}}}, "covers that item alone"},
		{map[string]any{"dashboard": "Finance Board", "target_workspaces": []any{"Finance"}}, "covers that item alone"},
	} {
		c.args["workspace"] = "Finance"
		before := len(st.tenant.Requests())
		if msg := st.fails(t, "generate_embed_token", c.args); !strings.Contains(msg, c.want) {
			t.Errorf("%v: %q, want %q", c.args, msg, c.want)
		}
		if n := len(st.tenant.Requests()) - before; n != 0 {
			t.Errorf("%v: %d requests sent", c.args, n)
		}
	}
}
