package doctor

import (
	"strings"
	"testing"
)

// A client secret in Key Vault, read with the fake resource's managed identity: the doctor
// goes through the same sign-in as the server, and a vault that refuses the identity fails
// the token check with the role to grant. MSAL reads the managed identity endpoint from the
// process environment, hence t.Setenv (and no t.Parallel).
func TestDoctorKeyVaultReference(t *testing.T) {
	tenant := newDoctorTenant(t, true)
	t.Setenv("IDENTITY_ENDPOINT", tenant.ManagedIdentityEndpoint())
	t.Setenv("IDENTITY_HEADER", tenant.ManagedIdentityHeader())
	tenant.SetSecret("pbi-vault", "powerbi-mcp", tenant.ClientSecret())
	env := doctorEnv(tenant)
	env["AZURE_CLIENT_SECRET"] = tenant.SecretReference("pbi-vault", "powerbi-mcp")
	env["IDENTITY_ENDPOINT"], env["IDENTITY_HEADER"] = tenant.ManagedIdentityEndpoint(), tenant.ManagedIdentityHeader()

	out := doctorRun(t, tenant.Client(), env, []string{tenant.ClientSecret()})
	if out.failed {
		t.Fatalf("failed:\n%s", out.text)
	}
	if d := out.checks[CheckConfiguration].Detail; !strings.Contains(d, "client secret from Key Vault") {
		t.Errorf("the configuration check does not say where the secret comes from: %s", d)
	}

	tenant.RevokeVaultAccess("pbi-vault", tenant.SystemAssignedIdentity().ObjectID)
	out = doctorRun(t, tenant.Client(), env, []string{tenant.ClientSecret()})
	wantCheck(t, out, CheckToken, StatusFail)
	if d := out.checks[CheckToken].Detail; !strings.Contains(d, "ForbiddenByRbac") || !strings.Contains(d, "Key Vault Secrets User") {
		t.Errorf("the token check does not name Key Vault's refusal and its fix: %s", d)
	}
	wantSkippedAfter(t, out, CheckToken)
}
