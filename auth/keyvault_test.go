package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// Key Vault references are read with the fake resource's managed identity
// (IDENTITY_ENDPOINT in the process environment, see miTenant), so these
// tests cannot run in parallel either.

const (
	testVault  = "pbi-vault"
	testSecret = "powerbi-mcp-secret"
)

// kvTenant is a tenant whose app's client secret is in a vault that the
// resource's system-assigned identity reads, and the configuration that
// references it.
func kvTenant(t *testing.T) (*pbitest.Server, auth.Config) {
	t.Helper()
	s, _ := miTenant(t)
	t.Setenv(auth.EnvKeyVaultAuth, "")
	s.SetSecret(testVault, testSecret, s.ClientSecret())
	cfg := tenantConfig(s)
	cfg.ClientSecret = s.SecretReference(testVault, testSecret)
	return s, cfg
}

func TestKeyVaultSecretSignsIn(t *testing.T) {
	s, cfg := kvTenant(t)
	logger, logs := traceLogger()
	cfg.Logger = logger
	src := newSource(t, cfg)
	listWorkspaces(t, s, src)
	if info := tokenOf(t, src); info.ClientID != s.ClientID() {
		t.Errorf("token for client %s, want the service principal %s", info.ClientID, s.ClientID())
	}
	if n := s.KeyVaultReads(); n != 1 {
		t.Errorf("%d Key Vault reads, want 1", n)
	}
	if d := src.Describe(); !strings.Contains(d, "client secret from Key Vault "+s.KeyVaultURL(testVault)) || !strings.Contains(d, "managed identity") {
		t.Errorf("Describe() = %q, want the vault and the identity that reads it", d)
	}
	tok, _ := src.Token(context.Background())
	checkNoLeak(t, map[string]string{"client secret": s.ClientSecret(), "token": tok}, src.Describe(), logs.String())
}

// One vault read serves every token request: concurrent callers on a cold
// cache share it, and a token Power BI rejected is renewed with the secret
// already read.
func TestKeyVaultOneReadForManyTokenRequests(t *testing.T) {
	s, cfg := kvTenant(t)
	src := newSource(t, cfg)
	checkOneRequestPerAcquisition(t, s, src, s.TokenRequests)
	for range 3 {
		tok, err := src.Token(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		src.Invalidate(tok)
	}
	if n := s.KeyVaultReads(); n != 1 {
		t.Errorf("%d Key Vault reads for %d token requests, want 1", n, s.TokenRequests())
	}
}

// After a rotation, the old secret is refused (expired or deleted); the next
// token request reads the vault again and signs in, with the same source.
func TestKeyVaultRotatedSecretNeedsNoRestart(t *testing.T) {
	for _, tc := range []struct {
		name   string
		retire func(s *pbitest.Server, old string)
	}{
		{"expired AADSTS7000222", (*pbitest.Server).ExpireClientSecret},
		{"deleted AADSTS7000215", (*pbitest.Server).DeleteClientSecret},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, cfg := kvTenant(t)
			logger, logs := traceLogger()
			cfg.Logger = logger
			src := newSource(t, cfg)
			old, err := src.Token(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			rotated := s.RotateSecret(testVault, testSecret)
			tc.retire(s, s.ClientSecret())
			src.Invalidate(old)
			listWorkspaces(t, s, src)
			if n := s.KeyVaultReads(); n != 2 {
				t.Errorf("%d Key Vault reads, want 2 (one at sign-in, one after the refusal)", n)
			}
			checkNoLeak(t, map[string]string{"old secret": s.ClientSecret(), "new secret": rotated}, logs.String())
		})
	}
}

// A vault that still holds the refused secret gets a fix that names the
// vault's secret, and the next request after updating it succeeds.
func TestKeyVaultStaleSecretSaysToUpdateTheVault(t *testing.T) {
	s, cfg := kvTenant(t)
	src := newSource(t, cfg)
	s.RotateSecret("other-vault", "unused") // the app has a new secret the vault does not
	s.ExpireClientSecret(s.ClientSecret())
	_, err := src.Token(context.Background())
	var e *auth.Error
	if !errors.As(err, &e) || e.AADSTS != "AADSTS7000222" || !strings.Contains(e.Fix, "Key Vault secret "+testSecret) {
		t.Fatalf("Token = %v, want AADSTS7000222 with a fix naming the vault's secret", err)
	}
	if n := s.KeyVaultReads(); n != 2 {
		t.Errorf("%d Key Vault reads, want 2 (the refusal reads again)", n)
	}
	fresh := s.RotateSecret(testVault, testSecret)
	listWorkspaces(t, s, src)
	checkNoLeak(t, map[string]string{"secret": s.ClientSecret(), "new secret": fresh}, err.Error())
}

func TestKeyVaultErrorsGiveTheirFix(t *testing.T) {
	for _, tc := range []struct {
		name        string
		break_, fix func(s *pbitest.Server)
		ref         string // a secret name other than testSecret
		wantStatus  int
		wantCode    string
		wantFix     string
	}{
		{name: "no access", wantStatus: 403, wantCode: "ForbiddenByRbac", wantFix: "Key Vault Secrets User",
			break_: func(s *pbitest.Server) { s.RevokeVaultAccess(testVault, s.SystemAssignedIdentity().ObjectID) },
			fix:    func(s *pbitest.Server) { s.GrantVaultAccess(testVault, s.SystemAssignedIdentity().ObjectID) }},
		{name: "not found", ref: "misspelt", wantStatus: 404, wantCode: "SecretNotFound", wantFix: "check the secret's name",
			fix: func(s *pbitest.Server) { s.SetSecret(testVault, "misspelt", s.ClientSecret()) }},
		{name: "disabled", wantStatus: 403, wantCode: "SecretDisabled", wantFix: "enable the secret",
			break_: func(s *pbitest.Server) { s.DisableSecret(testVault, testSecret) },
			fix:    func(s *pbitest.Server) { s.SetSecret(testVault, testSecret, s.ClientSecret()) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, cfg := kvTenant(t)
			logger, logs := traceLogger()
			cfg.Logger = logger
			if tc.ref != "" {
				cfg.ClientSecret = s.SecretReference(testVault, tc.ref)
			}
			if tc.break_ != nil {
				tc.break_(s)
			}
			src := newSource(t, cfg)
			_, err := src.Token(context.Background())
			var e *auth.KeyVaultError
			if !errors.As(err, &e) {
				t.Fatalf("Token = %v, want a KeyVaultError", err)
			}
			if e.StatusCode != tc.wantStatus || (e.Code != tc.wantCode && e.InnerCode != tc.wantCode) || !strings.Contains(e.Fix, tc.wantFix) {
				t.Errorf("error = %v\nwant HTTP %d %s and a fix with %q", err, tc.wantStatus, tc.wantCode, tc.wantFix)
			}
			var nr interface{ NoRestart() bool }
			if !errors.As(err, &nr) || !nr.NoRestart() {
				t.Errorf("a vault error is fixed outside the server and must say no restart is needed")
			}
			tc.fix(s)
			listWorkspaces(t, s, src)
			checkNoLeak(t, map[string]string{"client secret": s.ClientSecret()}, err.Error(), logs.String())
		})
	}
}

func TestKeyVaultReferenceCheckedAtStartUp(t *testing.T) {
	t.Setenv(auth.EnvKeyVaultAuth, auth.KindAzureCLI) // no probe of the instance metadata service
	base := auth.Config{Kind: auth.KindClientSecret, TenantID: pbitest.DefaultTenantID, ClientID: pbitest.DefaultClientID}
	for _, tc := range []struct {
		cloud, ref, want string // want: "" accepted, else part of the error
	}{
		{"", "keyvault:https://pbi-vault.vault.azure.net/secrets/powerbi-mcp", ""},
		{"", "keyvault:https://pbi-vault.vault.azure.net/secrets/powerbi-mcp/0123456789abcdef0123456789abcdef", ""},
		{"china", "keyvault:https://pbi-vault.vault.azure.cn/secrets/powerbi-mcp", ""},
		{"usgovhigh", "keyvault:https://pbi-vault.vault.usgovcloudapi.net/secrets/powerbi-mcp", ""},
		{"", "keyvault:http://pbi-vault.vault.azure.net/secrets/powerbi-mcp", "must start with https://"},
		{"", "keyvault:https://attacker.example.com/secrets/powerbi-mcp", "{vault}.vault.azure.net"},
		{"china", "keyvault:https://pbi-vault.vault.azure.net/secrets/powerbi-mcp", "{vault}.vault.azure.cn"},
		{"", "keyvault:https://pbi-vault.vault.azure.net/keys/powerbi-mcp", "/secrets/{name}"},
		{"", "keyvault:https://pbi-vault.vault.azure.net/secrets/power_bi", "secret name"},
		{"", "keyvault:https://pbi-vault.vault.azure.net/secrets/powerbi-mcp/latest", "32 hex digits"},
		{"", "keyvault:https://pbi-vault.vault.azure.net/secrets/powerbi-mcp?x=1", "query"},
		{"", "keyvault:https://pbi-vault.vault.azure.net/x/secrets/powerbi-mcp", "{vault}.vault.azure.net"},
	} {
		cfg := base
		cfg.Cloud, cfg.ClientSecret = tc.cloud, tc.ref
		_, err := auth.New(cfg)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s (cloud %q): %v", tc.ref, tc.cloud, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), auth.EnvClientSecret) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s (cloud %q): error %v, want one naming %s and %q", tc.ref, tc.cloud, err, auth.EnvClientSecret, tc.want)
		}
	}
	t.Setenv(auth.EnvKeyVaultAuth, "device-code")
	base.ClientSecret = "keyvault:https://pbi-vault.vault.azure.net/secrets/powerbi-mcp"
	if _, err := auth.New(base); err == nil || !strings.Contains(err.Error(), auth.EnvKeyVaultAuth) {
		t.Errorf("%s=device-code: error %v, want one naming the variable", auth.EnvKeyVaultAuth, err)
	}
}

// Acting for each caller with a secret in Key Vault: no vault read at
// start-up, one at the first exchange, and after a rotation the refused
// exchange reads the vault again and succeeds, with no restart.
func TestKeyVaultOnBehalfOfReadsAndRotates(t *testing.T) {
	s, cfg := kvTenant(t)
	logger, logs := traceLogger()
	cfg.Logger = logger
	o := newOnBehalfOf(t, cfg, 0)
	if n := s.KeyVaultReads(); n != 0 {
		t.Errorf("%d Key Vault reads at start-up, want none", n)
	}
	if d := o.Describe(); !strings.Contains(d, "client secret from Key Vault") {
		t.Errorf("Describe() = %q, want the vault named", d)
	}
	adele := oboToken(t, o, userContext(t, s, "adele@contoso.com"))
	if c := jwtClaims(t, adele); c["upn"] != "adele@contoso.com" {
		t.Errorf("got a token for %v, want adele's", c["upn"])
	}
	old := s.ClientSecret()
	rotated := s.RotateSecret(testVault, testSecret)
	s.ExpireClientSecret(old)
	alex := oboToken(t, o, userContext(t, s, "alex@contoso.com"))
	if c := jwtClaims(t, alex); c["upn"] != "alex@contoso.com" {
		t.Errorf("after the rotation, a token for %v, want alex's", c["upn"])
	}
	if n := s.KeyVaultReads(); n != 2 {
		t.Errorf("%d Key Vault reads, want 2 (the first exchange, and after the refusal)", n)
	}
	checkNoLeak(t, map[string]string{"old secret": old, "new secret": rotated}, o.Describe(), logs.String())

	// A vault that still holds the refused secret: the fix names the vault's secret.
	s.RotateSecret("other-vault", "unused")
	s.ExpireClientSecret(rotated)
	_, err := o.Token(userContext(t, s, "megan.bowen@contoso.com"))
	var e *auth.Error
	if !errors.As(err, &e) || e.AADSTS != "AADSTS7000222" || !strings.Contains(e.Fix, "new version of the Key Vault secret "+testSecret) {
		t.Errorf("stale vault: %v", err)
	}
}

// A vault token that Key Vault no longer accepts is renewed once, and the
// read goes on.
func TestKeyVaultRenewsARejectedVaultToken(t *testing.T) {
	s, cfg := kvTenant(t)
	src := newSource(t, cfg)
	old, err := src.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s.RotateSecret(testVault, testSecret)
	s.ExpireClientSecret(s.ClientSecret())
	s.ExpireTokens() // the vault token too
	src.Invalidate(old)
	listWorkspaces(t, s, src)
	if n := s.ManagedIdentityRequests(); n != 2 {
		t.Errorf("%d managed identity requests, want 2 (the first token, then one after Key Vault's 401)", n)
	}
	if n := s.KeyVaultReads(); n != 3 {
		t.Errorf("%d Key Vault reads, want 3 (sign-in, the refused token, the retry)", n)
	}
}

// A reference pinned to a version cannot follow a rotation: the fix says to
// change the reference.
func TestKeyVaultPinnedVersionSaysToChangeTheReference(t *testing.T) {
	s, cfg := kvTenant(t)
	version := s.SetSecret(testVault, testSecret, s.ClientSecret())
	cfg.ClientSecret = s.SecretReference(testVault, testSecret) + "/" + version
	src := newSource(t, cfg)
	listWorkspaces(t, s, src)
	s.RotateSecret(testVault, testSecret)
	s.ExpireClientSecret(s.ClientSecret())
	src.Invalidate(mustToken(t, src))
	_, err := src.Token(context.Background())
	var e *auth.Error
	if !errors.As(err, &e) || e.AADSTS != "AADSTS7000222" || !strings.Contains(e.Fix, "names version "+version) {
		t.Fatalf("Token = %v, want AADSTS7000222 with a fix naming the pinned version", err)
	}
}

func mustToken(t *testing.T, src auth.TokenSource) string {
	t.Helper()
	tok, err := src.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
