package auth_test

import (
	"strings"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
)

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{
		"AZURE_AUTHORITY_HOST": "https://login.microsoftonline.us",
		"AZURE_TENANT_ID":      " contoso.onmicrosoft.com\n",
		"AZURE_CLIENT_ID":      "11111111-2222-3333-4444-555555555555",
		"AZURE_CLIENT_SECRET":  "secret-value\n",
		"PBI_MCP_ACCESS_TOKEN": "eyJ0eXAi.eyJleHAi.sig",
	}
	cfg := auth.ConfigFromEnv(func(k string) string { return env[k] })
	want := auth.Config{
		AuthorityHost: "https://login.microsoftonline.us",
		TenantID:      "contoso.onmicrosoft.com",
		ClientID:      "11111111-2222-3333-4444-555555555555",
		ClientSecret:  "secret-value",
		AccessToken:   "eyJ0eXAi.eyJleHAi.sig",
	}
	if cfg.AuthorityHost != want.AuthorityHost || cfg.TenantID != want.TenantID || cfg.ClientID != want.ClientID ||
		cfg.ClientSecret != want.ClientSecret || cfg.AccessToken != want.AccessToken {
		t.Errorf("ConfigFromEnv = %+v, want %+v", cfg, want)
	}
}

func TestNewChoosesCredential(t *testing.T) {
	const secret = "do-not-print-this-secret"
	sp := auth.Config{TenantID: "contoso.onmicrosoft.com", ClientID: "11111111-2222-3333-4444-555555555555", ClientSecret: secret}
	tests := []struct {
		name         string
		cfg          auth.Config
		wantDescribe string // prefix of Describe on success
		wantErr      []string
		notInErr     []string
	}{
		{name: "service principal", cfg: sp, wantDescribe: "client secret (tenant contoso.onmicrosoft.com, client 11111111-2222-3333-4444-555555555555)"},
		{name: "access token wins over service principal",
			cfg:          auth.Config{AccessToken: "opaque", TenantID: sp.TenantID, ClientID: sp.ClientID, ClientSecret: secret},
			wantDescribe: "access token"},
		{name: "nothing configured", cfg: auth.Config{},
			wantErr: []string{"AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "PBI_MCP_ACCESS_TOKEN",
				"AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_FEDERATED_TOKEN_FILE", "PBI_MCP_ACCESS_TOKEN_FILE", "azure-cli"}},
		{name: "secret missing", cfg: auth.Config{Kind: auth.KindClientSecret, TenantID: sp.TenantID, ClientID: sp.ClientID},
			wantErr: []string{"AZURE_CLIENT_SECRET is not set"}, notInErr: []string{"AZURE_TENANT_ID is", "AZURE_CLIENT_ID is"}},
		{name: "client secret with nothing set", cfg: auth.Config{Kind: auth.KindClientSecret},
			wantErr: []string{"needs AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET; none of them is set"}},
		{name: "only secret", cfg: auth.Config{ClientSecret: secret},
			wantErr: []string{"AZURE_TENANT_ID and AZURE_CLIENT_ID are not set"}, notInErr: []string{secret}},
		{name: "http authority", cfg: withHost(sp, "http://login.microsoftonline.com"),
			wantErr: []string{"AZURE_AUTHORITY_HOST must be an https URL"}, notInErr: []string{secret}},
		{name: "authority with a tenant path", cfg: withHost(sp, "https://login.microsoftonline.com/contoso.onmicrosoft.com"),
			wantErr: []string{"AZURE_AUTHORITY_HOST must be an https URL with only a host"}},
		{name: "authority with trailing slash", cfg: withHost(sp, "https://login.microsoftonline.us/"),
			wantDescribe: "client secret (tenant contoso.onmicrosoft.com, client 11111111-2222-3333-4444-555555555555, authority https://login.microsoftonline.us)"},
		{name: "multi-tenant alias", cfg: withTenant(sp, "common"),
			wantErr: []string{`AZURE_TENANT_ID must name one tenant`, `"common"`}},
		{name: "tenant that needs escaping", cfg: withTenant(sp, "contoso/evil"),
			wantErr: []string{`AZURE_TENANT_ID "contoso/evil" is not a tenant ID or domain name`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := auth.New(tt.cfg)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				if d := src.Describe(); !strings.HasPrefix(d, tt.wantDescribe) {
					t.Errorf("Describe() = %q, want prefix %q", d, tt.wantDescribe)
				}
				return
			}
			if err == nil {
				t.Fatalf("New succeeded, want an error mentioning %q", tt.wantErr)
			}
			// The user reads this after the command's name: a package name would be noise.
			if strings.HasPrefix(err.Error(), "auth:") {
				t.Errorf("error %q starts with the package's name", err)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			for _, not := range tt.notInErr {
				if strings.Contains(err.Error(), not) {
					t.Errorf("error %q mentions %q", err, not)
				}
			}
		})
	}
}

func withHost(c auth.Config, host string) auth.Config {
	c.AuthorityHost = host
	return c
}

func withTenant(c auth.Config, tenant string) auth.Config {
	c.TenantID = tenant
	return c
}
