package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// doctorOutcome is one doctor run: its exit code, both streams and, from --json, the checks.
type doctorOutcome struct {
	code           int
	stdout, stderr string
	checks         map[string]checkResult
}

// tenantEnv configures the server for tenant exactly as a user configures it for Power BI:
// the Azure SDK's variables and the API base URL. Logs at trace level, so a secret that
// reached any log line would show.
func doctorEnv(tenant *pbitest.Server) map[string]string {
	return map[string]string{
		"AZURE_AUTHORITY_HOST": tenant.AuthorityHost(),
		"AZURE_TENANT_ID":      tenant.TenantID(),
		"AZURE_CLIENT_ID":      tenant.ClientID(),
		"AZURE_CLIENT_SECRET":  tenant.ClientSecret(),
		"PBI_MCP_BASE_URL":     tenant.APIBaseURL(),
		"PBI_MCP_LOG_LEVEL":    "trace",
	}
}

// doctorRun runs the doctor in-process against the fake tenant (through its HTTP client, as
// --sandbox does), once for the checklist and once with --json. It fails the test if any of
// secrets appears in any output, and if the two runs disagree on the exit code.
func doctorRun(t *testing.T, client *http.Client, env map[string]string, secrets []string, args ...string) (text, js doctorOutcome) {
	t.Helper()
	getenv := func(name string) string { return env[name] }
	run := func(args []string) doctorOutcome {
		var stdout, stderr bytes.Buffer
		code := runDoctorWith(context.Background(), args, getenv, client, &stdout, &stderr)
		return doctorOutcome{code: code, stdout: stdout.String(), stderr: stderr.String()}
	}
	text = run(args)
	t.Logf("powerbi-mcp doctor %s\n%s", strings.Join(args, " "), text.stdout)
	js = run(append([]string{"--json"}, args...))
	var list []checkResult
	if err := json.Unmarshal([]byte(js.stdout), &list); err != nil {
		t.Fatalf("--json output is not a JSON array of checks: %v\n%s", err, js.stdout)
	}
	if len(list) != len(allChecks) {
		t.Fatalf("%d checks, want %d:\n%s", len(list), len(allChecks), js.stdout)
	}
	js.checks = map[string]checkResult{}
	for i, c := range list {
		if c.Check != allChecks[i] {
			t.Fatalf("check %d is %q, want %q", i, c.Check, allChecks[i])
		}
		js.checks[c.Check] = c
	}
	for _, secret := range secrets {
		for _, out := range []string{text.stdout, text.stderr, js.stdout, js.stderr} {
			if secret != "" && strings.Contains(out, secret) {
				t.Fatalf("a secret appeared in the doctor's output:\n%s", out)
			}
		}
	}
	if text.code != js.code {
		t.Fatalf("exit code %d with the checklist, %d with --json", text.code, js.code)
	}
	return text, js
}

// wantCheck asserts one check's status and that its fix (or detail, for passing checks)
// says what a user must read, in both outputs.
func wantCheck(t *testing.T, text, js doctorOutcome, check, status string, fixSays ...string) {
	t.Helper()
	c := js.checks[check]
	if c.Status != status {
		t.Fatalf("%s: status %q, want %q: %s\nfix: %s\n\n%s", check, c.Status, status, c.Detail, c.Fix, text.stdout)
	}
	for _, want := range fixSays {
		if !strings.Contains(c.Fix, want) {
			t.Errorf("%s: the fix does not say %q: %s", check, want, c.Fix)
		}
		if !strings.Contains(text.stdout, want) {
			t.Errorf("%s: the checklist does not say %q:\n%s", check, want, text.stdout)
		}
	}
	mark := map[string]string{statusOK: "✓", statusFail: "✗", statusWarn: "!", statusSkip: "–"}[status]
	if !strings.Contains(text.stdout, mark+" "+checkTitles[check]+": ") {
		t.Errorf("the checklist has no line %q:\n%s", mark+" "+checkTitles[check], text.stdout)
	}
}

// wantSkippedAfter asserts that every check after the named one was skipped.
func wantSkippedAfter(t *testing.T, js doctorOutcome, check string) {
	t.Helper()
	after := false
	for _, name := range allChecks {
		if after && js.checks[name].Status != statusSkip {
			t.Errorf("%s ran after %s failed: %+v", name, check, js.checks[name])
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
	text, js := doctorRun(t, tenant.Client(), doctorEnv(tenant), []string{tenant.ClientSecret()})
	if text.code != 0 {
		t.Fatalf("exit code %d:\n%s", text.code, text.stdout)
	}
	for _, name := range allChecks {
		wantCheck(t, text, js, name, statusOK)
	}
	if !strings.Contains(js.checks[checkWorkspaces].Detail, "Sales Analytics") {
		t.Errorf("the workspaces the principal sees are not named: %s", js.checks[checkWorkspaces].Detail)
	}
	if !strings.Contains(text.stdout, "Ready: powerbi-mcp can use Power BI") {
		t.Errorf("no verdict:\n%s", text.stdout)
	}
}

func TestDoctorWrongSecret(t *testing.T) {
	tenant := newDoctorTenant(t, true)
	const wrong = "Wr0ng~Secret.Value-that-must-not-leak"
	env := doctorEnv(tenant)
	env["AZURE_CLIENT_SECRET"] = wrong
	text, js := doctorRun(t, tenant.Client(), env, []string{wrong, tenant.ClientSecret()})
	if text.code != 1 {
		t.Fatalf("exit code %d, want 1", text.code)
	}
	wantCheck(t, text, js, checkConfiguration, statusOK)
	wantCheck(t, text, js, checkAuthority, statusOK)
	wantCheck(t, text, js, checkToken, statusFail, "the secret's Value, not its Secret ID", "AZURE_CLIENT_SECRET")
	if !strings.Contains(js.checks[checkToken].Detail, "AADSTS7000215") {
		t.Errorf("detail does not name the AADSTS code: %s", js.checks[checkToken].Detail)
	}
	wantSkippedAfter(t, js, checkToken)
}

func TestDoctorExpiredSecret(t *testing.T) {
	tenant := newDoctorTenant(t, true)
	tenant.SetClientSecretExpired(true)
	text, js := doctorRun(t, tenant.Client(), doctorEnv(tenant), []string{tenant.ClientSecret()})
	wantCheck(t, text, js, checkToken, statusFail, "create a new client secret", "AZURE_CLIENT_SECRET")
	if !strings.Contains(js.checks[checkToken].Detail, "AADSTS7000222") {
		t.Errorf("detail does not name the AADSTS code: %s", js.checks[checkToken].Detail)
	}
	wantSkippedAfter(t, js, checkToken)
}

func TestDoctorUnknownClientID(t *testing.T) {
	tenant := newDoctorTenant(t, true)
	env := doctorEnv(tenant)
	env["AZURE_CLIENT_ID"] = "0b5e9a52-6c1d-4f7e-8a3b-2d4c6e8f0a1b"
	text, js := doctorRun(t, tenant.Client(), env, []string{tenant.ClientSecret()})
	wantCheck(t, text, js, checkToken, statusFail, "AZURE_CLIENT_ID is the app registration's Application (client) ID")
	if !strings.Contains(js.checks[checkToken].Detail, "AADSTS700016") {
		t.Errorf("detail does not name the AADSTS code: %s", js.checks[checkToken].Detail)
	}
}

func TestDoctorTenantNotFound(t *testing.T) {
	tenant := newDoctorTenant(t, true)
	env := doctorEnv(tenant)
	env["AZURE_TENANT_ID"] = "contoso-typo.onmicrosoft.com"
	text, js := doctorRun(t, tenant.Client(), env, []string{tenant.ClientSecret()})
	wantCheck(t, text, js, checkAuthority, statusFail, "check AZURE_TENANT_ID")
	if !strings.Contains(js.checks[checkAuthority].Detail, "AADSTS90002") {
		t.Errorf("detail does not name the AADSTS code: %s", js.checks[checkAuthority].Detail)
	}
	wantSkippedAfter(t, js, checkAuthority)
}

func TestDoctorServicePrincipalsNotAllowed(t *testing.T) {
	tenant := newDoctorTenant(t, true)
	tenant.SetServicePrincipalsAllowed(false)
	text, js := doctorRun(t, tenant.Client(), doctorEnv(tenant), []string{tenant.ClientSecret()})
	if text.code != 1 {
		t.Fatalf("exit code %d, want 1", text.code)
	}
	wantCheck(t, text, js, checkClaims, statusOK)
	wantCheck(t, text, js, checkWorkspaces, statusFail, `"Service principals can use Fabric APIs"`,
		`"Allow service principals to use Power BI APIs"`, "security group")
	if !strings.Contains(js.checks[checkWorkspaces].Detail, "PowerBINotAuthorizedException") {
		t.Errorf("detail does not quote Power BI's answer: %s", js.checks[checkWorkspaces].Detail)
	}
	wantSkippedAfter(t, js, checkWorkspaces)
}

func TestDoctorPrincipalInNoWorkspace(t *testing.T) {
	tenant := newDoctorTenant(t, false) // a tenant nobody added the app to anything in
	info, _ := auth.Inspect(tenant.IssueToken(time.Hour))
	text, js := doctorRun(t, tenant.Client(), doctorEnv(tenant), []string{tenant.ClientSecret()})
	if text.code != 1 {
		t.Fatalf("exit code %d, want 1", text.code)
	}
	// The one tool call that fixes it, with the service principal's object id filled in.
	wantCheck(t, text, js, checkWorkspaces, statusFail, "Manage access",
		`add_workspace_user with {"workspace": "<workspace name>", "identifier": "`+info.ObjectID+`", "principal_type": "App", "access_right": "Member"}`)
	wantCheck(t, text, js, checkDAX, statusSkip)
	wantCheck(t, text, js, checkCapacity, statusSkip)
}

func TestDoctorAdminAPIsDisabled(t *testing.T) {
	tenant := newDoctorTenant(t, true)
	tenant.SetServicePrincipalAdminAPIs(false)
	const fix = `"Service principals can access read-only admin APIs"`

	// Offering the admin tools, the server needs the admin APIs: a failure.
	text, js := doctorRun(t, tenant.Client(), doctorEnv(tenant), []string{tenant.ClientSecret()}, "--toolsets", "all")
	if text.code != 1 {
		t.Fatalf("exit code %d, want 1", text.code)
	}
	wantCheck(t, text, js, checkAdminAPIs, statusFail, fix, "Tenant.Read.All")
	wantCheck(t, text, js, checkDAX, statusOK) // the rest still runs

	// The default toolsets do not offer them: the same finding is only a warning.
	text, js = doctorRun(t, tenant.Client(), doctorEnv(tenant), []string{tenant.ClientSecret()})
	if text.code != 0 {
		t.Fatalf("exit code %d, want 0:\n%s", text.code, text.stdout)
	}
	wantCheck(t, text, js, checkAdminAPIs, statusWarn, fix)
}

func TestDoctorExecuteQueriesDisabled(t *testing.T) {
	tenant := newDoctorTenant(t, true)
	tenant.SetExecuteQueriesAPI(false)
	text, js := doctorRun(t, tenant.Client(), doctorEnv(tenant), []string{tenant.ClientSecret()})
	wantCheck(t, text, js, checkDAX, statusFail, `"Dataset Execute Queries REST API"`, "Build permission")
}

func TestDoctorUserWithoutAdminRights(t *testing.T) {
	tenant := newDoctorTenant(t, true)
	tenant.SetServicePrincipalAdminAPIs(false) // refuses apps only; the user is served
	token := tenant.IssueUserToken("", time.Hour)
	env := map[string]string{"PBI_MCP_ACCESS_TOKEN": token, "PBI_MCP_BASE_URL": tenant.APIBaseURL()}
	text, js := doctorRun(t, tenant.Client(), env, []string{token})
	if text.code != 0 {
		t.Fatalf("exit code %d:\n%s", text.code, text.stdout)
	}
	wantCheck(t, text, js, checkAuthority, statusSkip)
	wantCheck(t, text, js, checkClaims, statusOK)
	if d := js.checks[checkClaims].Detail; !strings.Contains(d, "delegated token: user "+pbitest.DefaultUserPrincipalName) || !strings.Contains(d, "Dataset.ReadWrite.All") {
		t.Errorf("claims not shown: %s", d)
	}
	wantCheck(t, text, js, checkWorkspaces, statusOK)

	// A pre-acquired token about to lapse is not renewed: a warning says so.
	env["PBI_MCP_ACCESS_TOKEN"] = tenant.IssueUserToken("", 5*time.Minute)
	text, js = doctorRun(t, tenant.Client(), env, []string{env["PBI_MCP_ACCESS_TOKEN"]})
	wantCheck(t, text, js, checkClaims, statusWarn, "not renewed")
}

func TestDoctorMFARequiredForPassword(t *testing.T) {
	tenant := newDoctorTenant(t, true)
	password := pbitest.DemoUserPassword
	env := doctorEnv(tenant)
	delete(env, "AZURE_CLIENT_SECRET")
	env["PBI_MCP_AUTH"] = auth.KindUsernamePassword
	env["AZURE_USERNAME"] = pbitest.DefaultUserPrincipalName
	env["AZURE_PASSWORD"] = password
	tenant.RequireMFA(pbitest.DefaultUserPrincipalName)
	text, js := doctorRun(t, tenant.Client(), env, []string{password, tenant.ClientSecret()})
	wantCheck(t, text, js, checkToken, statusFail, "--auth device-code")
	if !strings.Contains(js.checks[checkToken].Detail, "AADSTS50076") {
		t.Errorf("detail does not name the AADSTS code: %s", js.checks[checkToken].Detail)
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
		{"secret missing", map[string]string{"PBI_MCP_AUTH": "client-secret", "AZURE_CLIENT_SECRET": ""}, statusFail, "AZURE_CLIENT_SECRET is not set"},
		{"multi-tenant alias for a service principal", map[string]string{"AZURE_TENANT_ID": "organizations"}, statusFail, "must name one tenant"},
		{"plain http authority", map[string]string{"AZURE_AUTHORITY_HOST": "http://login.microsoftonline.com"}, statusFail, "must be an https URL"},
		{"certificate set beside the secret", map[string]string{"AZURE_CLIENT_CERTIFICATE_PATH": "/etc/ssl/private/app.pem"}, statusWarn,
			"also set but not used: AZURE_CLIENT_CERTIFICATE_PATH"},
		{"nothing set", map[string]string{"AZURE_TENANT_ID": "", "AZURE_CLIENT_ID": "", "AZURE_CLIENT_SECRET": ""}, statusFail, "no credential configured"},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := doctorEnv(tenant)
			for k, v := range c.change {
				env[k] = v
			}
			text, js := doctorRun(t, tenant.Client(), env, []string{tenant.ClientSecret()})
			wantCheck(t, text, js, checkConfiguration, c.status)
			if d := js.checks[checkConfiguration].Detail; !strings.Contains(d, c.says) {
				t.Errorf("detail does not say %q: %s", c.says, d)
			}
			if c.status == statusFail {
				wantSkippedAfter(t, js, checkConfiguration)
			}
		})
	}
}

// TestDoctorUntrustedCertificate runs the doctor with the default HTTP client, which does not
// trust the fake tenant's certificate: as behind a TLS-inspecting proxy, it explains.
func TestDoctorUntrustedCertificate(t *testing.T) {
	tenant := newDoctorTenant(t, true)
	text, js := doctorRun(t, nil, doctorEnv(tenant), []string{tenant.ClientSecret()})
	wantCheck(t, text, js, checkAuthority, statusFail, "CA certificate")
	if !strings.Contains(js.checks[checkAuthority].Detail, "not trusted") {
		t.Errorf("detail: %s", js.checks[checkAuthority].Detail)
	}
}

func TestDoctorUnreachableAuthority(t *testing.T) {
	tenant := newDoctorTenant(t, true)
	env := doctorEnv(tenant)
	env["AZURE_AUTHORITY_HOST"] = "https://127.0.0.1:1"
	text, js := doctorRun(t, tenant.Client(), env, []string{tenant.ClientSecret()})
	wantCheck(t, text, js, checkAuthority, statusFail, "AZURE_AUTHORITY_HOST")
	if !strings.Contains(js.checks[checkAuthority].Detail, "cannot connect") {
		t.Errorf("detail: %s", js.checks[checkAuthority].Detail)
	}
}

// TestDoctorBinary runs `powerbi-mcp doctor` as a user does, configured only by the
// environment and trusting the fake tenant's certificate like a corporate CA.
func TestDoctorBinary(t *testing.T) {
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	tenant := newDoctorTenant(t, true)
	certFile := tenantCertFile(t, tenant)
	run := func(secret string, args ...string) (int, string) {
		cmd := exec.Command(bin, append([]string{"doctor"}, args...)...)
		cmd.Env = []string{"SSL_CERT_FILE=" + certFile, "HOME=" + t.TempDir()}
		for k, v := range doctorEnv(tenant) {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		cmd.Env = append(cmd.Env, "AZURE_CLIENT_SECRET="+secret)
		out, err := cmd.CombinedOutput()
		code := 0
		if exit, ok := err.(*exec.ExitError); ok {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(out), secret) {
			t.Fatalf("the secret appeared in the output:\n%s", out)
		}
		return code, string(out)
	}
	if code, out := run(tenant.ClientSecret()); code != 0 || !strings.Contains(out, "✓ Capacity for report exports") {
		t.Fatalf("exit code %d:\n%s", code, out)
	}
	code, out := run("Wr0ng~Secret.Value-that-must-not-leak", "--json")
	if code != 1 || !strings.Contains(out, `"check": "token"`) || !strings.Contains(out, "AADSTS7000215") {
		t.Fatalf("exit code %d:\n%s", code, out)
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
	if r.Status != statusWarn || !strings.Contains(r.Fix, "Tenant.Read.All") || strings.Contains(r.Fix, "Dataset.Read.All") ||
		!strings.Contains(r.Fix, "admin APIs refuse") {
		t.Errorf("admin-consent role: %+v", r)
	}

	delete(app, "roles")
	app["aud"] = "https://graph.microsoft.com"
	d = &doctor{token: unsignedJWT(t, app)}
	if r := d.checkClaims(); r.Status != statusFail || !strings.Contains(r.Fix, "https://analysis.windows.net/powerbi/api") {
		t.Errorf("token for Graph: %+v", r)
	}

	app["aud"] = "00000009-0000-0000-c000-000000000000" // Power BI by its application id
	d = &doctor{token: unsignedJWT(t, app)}
	if r := d.checkClaims(); r.Status != statusOK {
		t.Errorf("Power BI's application id as audience: %+v", r)
	}
}
