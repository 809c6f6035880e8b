package doctor

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// doctorOutcome is one doctor run: the checklist, the checks as WriteJSON wrote them, and
// whether it failed, which is the command's exit code.
type doctorOutcome struct {
	failed bool
	text   string
	checks map[string]Result
}

// doctorEnv configures the doctor for tenant exactly as a user configures the server for Power
// BI: the Azure SDK's variables and the API base URL.
func doctorEnv(tenant *pbitest.Server) map[string]string {
	return map[string]string{
		"AZURE_AUTHORITY_HOST":    tenant.AuthorityHost(),
		"AZURE_TENANT_ID":         tenant.TenantID(),
		"AZURE_CLIENT_ID":         tenant.ClientID(),
		"AZURE_CLIENT_SECRET":     tenant.ClientSecret(),
		"PBI_MCP_BASE_URL":        tenant.APIBaseURL(),
		"PBI_MCP_FABRIC_BASE_URL": tenant.FabricBaseURL(),
	}
}

// doctorRun runs the doctor against the fake tenant, reaching it through client (as --sandbox
// does; nil: the system's trust store), with the sign-in env configures and the server's
// options as set changes them. Logs go to a buffer at trace level, so a secret that reached
// any log line would show: the test fails if any of secrets appears in the checklist, the JSON
// or the log.
func doctorRun(t *testing.T, client *http.Client, env map[string]string, secrets []string, set ...func(*Options)) doctorOutcome {
	t.Helper()
	var log bytes.Buffer
	o := Options{
		Auth:          auth.ConfigFromEnv(func(name string) string { return env[name] }),
		HTTPClient:    client,
		BaseURL:       env["PBI_MCP_BASE_URL"],
		FabricBaseURL: env["PBI_MCP_FABRIC_BASE_URL"],
		Version:       "test",
		Logger:        zerolog.New(&log).Level(zerolog.TraceLevel),
	}
	for _, f := range set {
		f(&o)
	}
	results := Run(context.Background(), o)

	var text, js bytes.Buffer
	WriteChecklist(&text, results)
	t.Logf("doctor:\n%s", text.String())
	if err := WriteJSON(&js, results); err != nil {
		t.Fatal(err)
	}
	var list []Result
	if err := json.Unmarshal(js.Bytes(), &list); err != nil {
		t.Fatalf("the JSON is not an array of checks: %v\n%s", err, js.String())
	}
	if len(list) != len(allChecks) {
		t.Fatalf("%d checks, want %d:\n%s", len(list), len(allChecks), js.String())
	}
	out := doctorOutcome{failed: Failed(results), text: text.String(), checks: map[string]Result{}}
	for i, c := range list {
		if c.Check != allChecks[i] {
			t.Fatalf("check %d is %q, want %q", i, c.Check, allChecks[i])
		}
		out.checks[c.Check] = c
	}
	for _, secret := range secrets {
		for _, printed := range []string{text.String(), js.String(), log.String()} {
			if secret != "" && strings.Contains(printed, secret) {
				t.Fatalf("a secret appeared in the doctor's output:\n%s", printed)
			}
		}
	}
	return out
}

// wantCheck asserts one check's status and that its fix says what a user must read, in the
// JSON and in the checklist.
func wantCheck(t *testing.T, out doctorOutcome, check, status string, fixSays ...string) {
	t.Helper()
	c := out.checks[check]
	if c.Status != status {
		t.Fatalf("%s: status %q, want %q: %s\nfix: %s\n\n%s", check, c.Status, status, c.Detail, c.Fix, out.text)
	}
	for _, want := range fixSays {
		if !strings.Contains(c.Fix, want) {
			t.Errorf("%s: the fix does not say %q: %s", check, want, c.Fix)
		}
		if !strings.Contains(out.text, want) {
			t.Errorf("%s: the checklist does not say %q:\n%s", check, want, out.text)
		}
	}
	mark := map[string]string{StatusOK: "✓", StatusFail: "✗", StatusWarn: "!", StatusSkip: "–"}[status]
	if !strings.Contains(out.text, mark+" "+checkTitles[check]+": ") {
		t.Errorf("the checklist has no line %q:\n%s", mark+" "+checkTitles[check], out.text)
	}
}

// wantSkippedAfter asserts that every check after the named one was skipped.
func wantSkippedAfter(t *testing.T, out doctorOutcome, check string) {
	t.Helper()
	after := false
	for _, name := range allChecks {
		if after && out.checks[name].Status != StatusSkip {
			t.Errorf("%s ran after %s failed: %+v", name, check, out.checks[name])
		}
		after = after || name == check
	}
}

func newDoctorTenant(t *testing.T, seed bool) *pbitest.Server {
	t.Helper()
	tenant := pbitest.NewServer(pbitest.Options{})
	t.Cleanup(tenant.Close)
	if seed {
		tenant.SeedDemo()
	}
	return tenant
}

func TestDoctorAllGood(t *testing.T) {
	tenant := newDoctorTenant(t, true)
	out := doctorRun(t, tenant.Client(), doctorEnv(tenant), []string{tenant.ClientSecret()})
	if out.failed {
		t.Fatalf("failed:\n%s", out.text)
	}
	for _, name := range allChecks {
		wantCheck(t, out, name, StatusOK)
	}
	if !strings.Contains(out.checks[CheckWorkspaces].Detail, "Sales Analytics") {
		t.Errorf("the workspaces the principal sees are not named: %s", out.checks[CheckWorkspaces].Detail)
	}
	if !strings.Contains(out.text, "Ready: powerbi-mcp can use Power BI") {
		t.Errorf("no verdict:\n%s", out.text)
	}
}

func TestDoctorWrongSecret(t *testing.T) {
	tenant := newDoctorTenant(t, true)
	const wrong = "Wr0ng~Secret.Value-that-must-not-leak"
	env := doctorEnv(tenant)
	env["AZURE_CLIENT_SECRET"] = wrong
	out := doctorRun(t, tenant.Client(), env, []string{wrong, tenant.ClientSecret()})
	if !out.failed {
		t.Fatal("a wrong secret did not fail the doctor")
	}
	wantCheck(t, out, CheckConfiguration, StatusOK)
	wantCheck(t, out, CheckAuthority, StatusOK)
	wantCheck(t, out, CheckToken, StatusFail, "the secret's Value, not its Secret ID", "AZURE_CLIENT_SECRET")
	if !strings.Contains(out.checks[CheckToken].Detail, "AADSTS7000215") {
		t.Errorf("detail does not name the AADSTS code: %s", out.checks[CheckToken].Detail)
	}
	wantSkippedAfter(t, out, CheckToken)
	if !strings.Contains(out.text, "1 check failed: fix the first one") {
		t.Errorf("no verdict:\n%s", out.text)
	}
}

func TestDoctorExpiredSecret(t *testing.T) {
	tenant := newDoctorTenant(t, true)
	tenant.SetClientSecretExpired(true)
	out := doctorRun(t, tenant.Client(), doctorEnv(tenant), []string{tenant.ClientSecret()})
	wantCheck(t, out, CheckToken, StatusFail, "create a new client secret", "AZURE_CLIENT_SECRET")
	if !strings.Contains(out.checks[CheckToken].Detail, "AADSTS7000222") {
		t.Errorf("detail does not name the AADSTS code: %s", out.checks[CheckToken].Detail)
	}
	wantSkippedAfter(t, out, CheckToken)
}

func TestDoctorUnknownClientID(t *testing.T) {
	tenant := newDoctorTenant(t, true)
	env := doctorEnv(tenant)
	env["AZURE_CLIENT_ID"] = "0b5e9a52-6c1d-4f7e-8a3b-2d4c6e8f0a1b"
	out := doctorRun(t, tenant.Client(), env, []string{tenant.ClientSecret()})
	wantCheck(t, out, CheckToken, StatusFail, "AZURE_CLIENT_ID is the app registration's Application (client) ID")
	if !strings.Contains(out.checks[CheckToken].Detail, "AADSTS700016") {
		t.Errorf("detail does not name the AADSTS code: %s", out.checks[CheckToken].Detail)
	}
}

func TestDoctorTenantNotFound(t *testing.T) {
	tenant := newDoctorTenant(t, true)
	env := doctorEnv(tenant)
	env["AZURE_TENANT_ID"] = "contoso-typo.onmicrosoft.com"
	out := doctorRun(t, tenant.Client(), env, []string{tenant.ClientSecret()})
	wantCheck(t, out, CheckAuthority, StatusFail, "check AZURE_TENANT_ID")
	if !strings.Contains(out.checks[CheckAuthority].Detail, "AADSTS90002") {
		t.Errorf("detail does not name the AADSTS code: %s", out.checks[CheckAuthority].Detail)
	}
	wantSkippedAfter(t, out, CheckAuthority)
}

func TestDoctorServicePrincipalsNotAllowed(t *testing.T) {
	tenant := newDoctorTenant(t, true)
	tenant.SetServicePrincipalsAllowed(false)
	out := doctorRun(t, tenant.Client(), doctorEnv(tenant), []string{tenant.ClientSecret()})
	if !out.failed {
		t.Fatal("did not fail")
	}
	wantCheck(t, out, CheckClaims, StatusOK)
	wantCheck(t, out, CheckWorkspaces, StatusFail, `"Service principals can use Fabric APIs"`,
		`"Allow service principals to use Power BI APIs"`, "security group")
	if !strings.Contains(out.checks[CheckWorkspaces].Detail, "PowerBINotAuthorizedException") {
		t.Errorf("detail does not quote Power BI's answer: %s", out.checks[CheckWorkspaces].Detail)
	}
	wantSkippedAfter(t, out, CheckWorkspaces)
}

func TestDoctorPrincipalInNoWorkspace(t *testing.T) {
	tenant := newDoctorTenant(t, false) // a tenant nobody added the app to anything in
	info, _ := auth.Inspect(tenant.IssueToken(time.Hour))
	out := doctorRun(t, tenant.Client(), doctorEnv(tenant), []string{tenant.ClientSecret()})
	if !out.failed {
		t.Fatal("did not fail")
	}
	// The one tool call that fixes it, with the service principal's object id filled in.
	wantCheck(t, out, CheckWorkspaces, StatusFail, "Manage access",
		`add_workspace_user with {"workspace": "<workspace name>", "identifier": "`+info.ObjectID+`", "principal_type": "App", "access_right": "Member"}`)
	wantCheck(t, out, CheckDAX, StatusSkip)
	wantCheck(t, out, CheckCapacity, StatusSkip)
}

func TestDoctorAdminAPIsDisabled(t *testing.T) {
	tenant := newDoctorTenant(t, true)
	tenant.SetServicePrincipalAdminAPIs(false)
	const fix = `"Service principals can access read-only admin APIs"`

	// Offering the admin tools, the server needs the admin APIs: a failure.
	allToolsets := func(o *Options) { o.Toolsets = []string{"all"} }
	out := doctorRun(t, tenant.Client(), doctorEnv(tenant), []string{tenant.ClientSecret()}, allToolsets)
	if !out.failed {
		t.Fatal("did not fail")
	}
	wantCheck(t, out, CheckAdminAPIs, StatusFail, fix, "Tenant.Read.All")
	wantCheck(t, out, CheckDAX, StatusOK) // the rest still runs

	// The default toolsets do not offer them: the same finding is only a warning.
	out = doctorRun(t, tenant.Client(), doctorEnv(tenant), []string{tenant.ClientSecret()})
	if out.failed {
		t.Fatalf("failed:\n%s", out.text)
	}
	wantCheck(t, out, CheckAdminAPIs, StatusWarn, fix)
	if !strings.Contains(out.text, "Ready, with 1 warning.") {
		t.Errorf("no verdict:\n%s", out.text)
	}
}

func TestDoctorExecuteQueriesDisabled(t *testing.T) {
	tenant := newDoctorTenant(t, true)
	tenant.SetExecuteQueriesAPI(false)
	out := doctorRun(t, tenant.Client(), doctorEnv(tenant), []string{tenant.ClientSecret()})
	wantCheck(t, out, CheckDAX, StatusFail, `"Dataset Execute Queries REST API"`, "Build permission")
}

func TestDoctorUserWithoutAdminRights(t *testing.T) {
	tenant := newDoctorTenant(t, true)
	tenant.SetServicePrincipalAdminAPIs(false) // refuses apps only; the user is served
	token := tenant.IssueUserToken("", time.Hour)
	env := map[string]string{"PBI_MCP_ACCESS_TOKEN": token, "PBI_MCP_BASE_URL": tenant.APIBaseURL()}
	out := doctorRun(t, tenant.Client(), env, []string{token})
	if out.failed {
		t.Fatalf("failed:\n%s", out.text)
	}
	wantCheck(t, out, CheckAuthority, StatusSkip)
	wantCheck(t, out, CheckClaims, StatusOK)
	if d := out.checks[CheckClaims].Detail; !strings.Contains(d, "delegated token: user "+pbitest.DefaultUserPrincipalName) || !strings.Contains(d, "Dataset.ReadWrite.All") {
		t.Errorf("claims not shown: %s", d)
	}
	wantCheck(t, out, CheckWorkspaces, StatusOK)

	// A pre-acquired token about to lapse is not renewed: a warning says so.
	env["PBI_MCP_ACCESS_TOKEN"] = tenant.IssueUserToken("", 5*time.Minute)
	out = doctorRun(t, tenant.Client(), env, []string{env["PBI_MCP_ACCESS_TOKEN"]})
	wantCheck(t, out, CheckClaims, StatusWarn, "not renewed")
}

func TestDoctorMFARequiredForPassword(t *testing.T) {
	tenant := newDoctorTenant(t, true)
	password := pbitest.DemoUserPassword
	env := doctorEnv(tenant)
	delete(env, "AZURE_CLIENT_SECRET")
	env["PBI_MCP_AUTH"] = auth.KindUsernamePassword
	env["PBI_MCP_TOKEN_CACHE_DIR"] = t.TempDir() // not the user's own token cache
	env["AZURE_USERNAME"] = pbitest.DefaultUserPrincipalName
	env["AZURE_PASSWORD"] = password
	tenant.RequireMFA(pbitest.DefaultUserPrincipalName)
	out := doctorRun(t, tenant.Client(), env, []string{password, tenant.ClientSecret()})
	wantCheck(t, out, CheckToken, StatusFail, "--auth device-code")
	if !strings.Contains(out.checks[CheckToken].Detail, "AADSTS50076") {
		t.Errorf("detail does not name the AADSTS code: %s", out.checks[CheckToken].Detail)
	}
}

func TestDoctorConfiguration(t *testing.T) {
	tenant := newDoctorTenant(t, true)
	for _, c := range []struct {
		name   string
		change map[string]string
		status string
		says   string // in the detail
	}{
		{"secret missing", map[string]string{"PBI_MCP_AUTH": "client-secret", "AZURE_CLIENT_SECRET": ""}, StatusFail, "AZURE_CLIENT_SECRET is not set"},
		{"multi-tenant alias for a service principal", map[string]string{"AZURE_TENANT_ID": "organizations"}, StatusFail, "must name one tenant"},
		{"plain http authority", map[string]string{"AZURE_AUTHORITY_HOST": "http://login.microsoftonline.com"}, StatusFail, "must be an https URL"},
		{"certificate set beside the secret", map[string]string{"AZURE_CLIENT_CERTIFICATE_PATH": "/etc/ssl/private/app.pem"}, StatusWarn,
			"also set but not used: AZURE_CLIENT_CERTIFICATE_PATH"},
		{"nothing set", map[string]string{"AZURE_TENANT_ID": "", "AZURE_CLIENT_ID": "", "AZURE_CLIENT_SECRET": ""}, StatusFail, "no credential configured"},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := doctorEnv(tenant)
			for k, v := range c.change {
				env[k] = v
			}
			out := doctorRun(t, tenant.Client(), env, []string{tenant.ClientSecret()})
			wantCheck(t, out, CheckConfiguration, c.status)
			d := out.checks[CheckConfiguration].Detail
			if !strings.Contains(d, c.says) {
				t.Errorf("detail does not say %q: %s", c.says, d)
			}
			if strings.HasPrefix(d, "auth: ") {
				t.Errorf("detail starts with a Go package's name: %s", d)
			}
			if c.status == StatusFail {
				wantSkippedAfter(t, out, CheckConfiguration)
			}
		})
	}
}

// TestDoctorBadBaseURL: a base URL pbiclient refuses fails the API check with what is wrong
// with it, in the user's terms, and the variable that sets it.
func TestDoctorBadBaseURL(t *testing.T) {
	tenant := newDoctorTenant(t, true)
	env := doctorEnv(tenant)
	env["PBI_MCP_BASE_URL"] = "http://api.powerbi.example/v1.0/myorg"
	out := doctorRun(t, tenant.Client(), env, []string{tenant.ClientSecret()})
	wantCheck(t, out, CheckWorkspaces, StatusFail, "set PBI_MCP_BASE_URL (or --base-url)")
	d := out.checks[CheckWorkspaces].Detail
	if !strings.HasPrefix(d, `base URL "http://api.powerbi.example/v1.0/myorg"`) || !strings.Contains(d, "must be https") {
		t.Errorf("detail: %s", d)
	}
	wantSkippedAfter(t, out, CheckWorkspaces)
}

// TestDoctorUntrustedCertificate runs the doctor with the default HTTP client, which does not
// trust the fake tenant's certificate: as behind a TLS-inspecting proxy, it explains.
func TestDoctorUntrustedCertificate(t *testing.T) {
	tenant := newDoctorTenant(t, true)
	out := doctorRun(t, nil, doctorEnv(tenant), []string{tenant.ClientSecret()})
	wantCheck(t, out, CheckAuthority, StatusFail, "CA certificate")
	if !strings.Contains(out.checks[CheckAuthority].Detail, "not trusted") {
		t.Errorf("detail: %s", out.checks[CheckAuthority].Detail)
	}
}

func TestDoctorUnreachableAuthority(t *testing.T) {
	tenant := newDoctorTenant(t, true)
	env := doctorEnv(tenant)
	env["AZURE_AUTHORITY_HOST"] = "https://127.0.0.1:1"
	out := doctorRun(t, tenant.Client(), env, []string{tenant.ClientSecret()})
	wantCheck(t, out, CheckAuthority, StatusFail, "AZURE_AUTHORITY_HOST")
	if !strings.Contains(out.checks[CheckAuthority].Detail, "cannot connect") {
		t.Errorf("detail: %s", out.checks[CheckAuthority].Detail)
	}
}

// unsignedJWT makes a token with these claims; only its payload matters to the claims check.
func unsignedJWT(t *testing.T, claims map[string]any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"typ":"JWT","alg":"RS256"}`)) + "." + enc(payload) + "." + enc([]byte("signature"))
}

// TestDoctorClaims covers what only a real tenant's tokens show: an app holding admin-consent
// Power BI permissions, and a token for another resource.
func TestDoctorClaims(t *testing.T) {
	app := map[string]any{"aud": "https://analysis.windows.net/powerbi/api", "tid": pbitest.DefaultTenantID,
		"appid": pbitest.DefaultClientID, "idtyp": "app", "oid": "b8e2c4a6-9d1f-4e3b-a7c5-0f6e8d2b4a19"}

	app["roles"] = []string{"Tenant.Read.All", "Dataset.Read.All"}
	d := &doctor{token: unsignedJWT(t, app)}
	r := d.checkClaims()
	if r.Status != StatusWarn || !strings.Contains(r.Fix, "Tenant.Read.All") || strings.Contains(r.Fix, "Dataset.Read.All") ||
		!strings.Contains(r.Fix, "admin APIs refuse") {
		t.Errorf("admin-consent role: %+v", r)
	}

	delete(app, "roles")
	app["aud"] = "https://graph.microsoft.com"
	d = &doctor{token: unsignedJWT(t, app)}
	if r := d.checkClaims(); r.Status != StatusFail || !strings.Contains(r.Fix, "https://analysis.windows.net/powerbi/api") {
		t.Errorf("token for Graph: %+v", r)
	}

	app["aud"] = "00000009-0000-0000-c000-000000000000" // Power BI by its application id
	d = &doctor{token: unsignedJWT(t, app)}
	if r := d.checkClaims(); r.Status != StatusOK {
		t.Errorf("Power BI's application id as audience: %+v", r)
	}
}

func TestWithoutPackage(t *testing.T) {
	for in, want := range map[string]string{
		"auth: AZURE_CLIENT_SECRET is not set":                          "AZURE_CLIENT_SECRET is not set",
		"pbiclient: no access token: auth: no credential configured":    "no access token: no credential configured",
		"invalid_client: OAuth: the client secret is wrong":             "invalid_client: OAuth: the client secret is wrong",
		`power bi: GET groups: 401 Unauthorized: pbiclient: not a path`: `power bi: GET groups: 401 Unauthorized: not a path`,
	} {
		if got := withoutPackage(in); got != want {
			t.Errorf("withoutPackage(%q) = %q, want %q", in, got, want)
		}
	}
}

// A pre-acquired Power BI token cannot reach Fabric: everything else is ready, and the Fabric
// check warns which tools will not work and why.
func TestDoctorFabricWithAPowerBITokenOnly(t *testing.T) {
	tenant := newDoctorTenant(t, true)
	env := map[string]string{"PBI_MCP_AUTH": "token", "PBI_MCP_ACCESS_TOKEN": tenant.IssueToken(time.Hour),
		"PBI_MCP_BASE_URL": tenant.APIBaseURL(), "PBI_MCP_FABRIC_BASE_URL": tenant.FabricBaseURL()}
	out := doctorRun(t, tenant.Client(), env, nil)
	if out.failed {
		t.Fatalf("failed:\n%s", out.text)
	}
	wantCheck(t, out, CheckDAX, StatusOK)
	wantCheck(t, out, CheckFabric, StatusWarn)
	if d := out.checks[CheckFabric].Detail; !strings.Contains(d, "--auth token brings a Power BI token only") || !strings.Contains(d, "upsert_measures") {
		t.Errorf("the Fabric check does not say why or what is lost: %s", d)
	}
}
