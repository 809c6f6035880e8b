package auth_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
)

// TestAutoFollowsTheAzureSDKOrder sets up environments as users do and checks
// the kind auto picks and what it logs. Kinds still being built answer that
// they are not available; auto choosing them is what is checked here.
func TestAutoFollowsTheAzureSDKOrder(t *testing.T) {
	sp := map[string]string{"AZURE_TENANT_ID": "contoso.onmicrosoft.com", "AZURE_CLIENT_ID": "11111111-2222-3333-4444-555555555555"}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range sp {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name     string
		env      map[string]string
		wantKind string // in the "chose" log line
		skipped  []string
	}{
		{"access token first", with(map[string]string{"PBI_MCP_ACCESS_TOKEN": "opaque", "AZURE_CLIENT_SECRET": "s3cret-value"}), "token", nil},
		{"access token file", map[string]string{"PBI_MCP_ACCESS_TOKEN_FILE": "/nonexistent/token"}, "token", nil},
		{"client secret", with(map[string]string{"AZURE_CLIENT_SECRET": "s3cret-value", "AZURE_CLIENT_CERTIFICATE_PATH": "/c.pem"}), "client-secret", []string{"PBI_MCP_ACCESS_TOKEN"}},
		{"certificate", with(map[string]string{"AZURE_CLIENT_CERTIFICATE_PATH": "/c.pem", "AZURE_USERNAME": "u", "AZURE_PASSWORD": "p"}), "certificate", nil},
		{"username and password", with(map[string]string{"AZURE_USERNAME": "u@contoso.com", "AZURE_PASSWORD": "p"}), "username-password", nil},
		{"workload identity", with(map[string]string{"AZURE_FEDERATED_TOKEN_FILE": "/var/run/token"}), "workload-identity",
			[]string{"AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH"}},
		{"device code", sp, "device-code", []string{"AZURE_FEDERATED_TOKEN_FILE is not set", `"kind":"managed-identity"`, "token cache"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, buf := traceLogger()
			cfg := auth.ConfigFromEnv(func(k string) string { return tt.env[k] })
			cfg.Logger = log
			auth.New(cfg) // the chosen kind may not be available in this build; the choice is what counts
			logs := buf.String()
			if !strings.Contains(logs, `"kind":"`+tt.wantKind+`","why"`) || !strings.Contains(logs, "auto chose") {
				t.Fatalf("auto did not choose %s:\n%s", tt.wantKind, logs)
			}
			for _, s := range tt.skipped {
				if !strings.Contains(logs, s) {
					t.Errorf("the log does not say why %q was skipped:\n%s", s, logs)
				}
			}
			if strings.Contains(logs, "s3cret-value") {
				t.Fatal("the secret is in the log")
			}
		})
	}
}

func TestAutoWithNothingListsEveryOption(t *testing.T) {
	log, buf := traceLogger()
	_, err := auth.New(auth.Config{Getenv: func(string) string { return "" }, Logger: log})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_FEDERATED_TOKEN_FILE",
		"device code", "PBI_MCP_ACCESS_TOKEN_FILE", "PBI_MCP_AUTH=azure-cli"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q: %v", want, err)
		}
	}
	// A headline, then one way to sign in a line, each short enough for a terminal.
	lines := strings.Split(err.Error(), "\n")
	if lines[0] != "no credential configured" || len(lines) < 9 || !errors.Is(err, auth.ErrNoCredential) {
		t.Errorf("want the headline, then the ways to sign in:\n%v", err)
	}
	for _, line := range lines {
		if len(line) > 100 {
			t.Errorf("line of %d characters: %q", len(line), line)
		}
	}
	if strings.Count(buf.String(), "auto skipped") < 5 {
		t.Errorf("the log does not say why each kind was skipped:\n%s", buf.String())
	}
}

func TestAutoMisconfiguredKindFailsRatherThanFallingThrough(t *testing.T) {
	_, err := auth.New(auth.Config{ClientSecret: "s3cret-value", Getenv: func(string) string { return "" }})
	if err == nil || !strings.Contains(err.Error(), "AZURE_TENANT_ID and AZURE_CLIENT_ID are not set") {
		t.Fatalf("got %v", err)
	}
}

func TestCloudSetsAuthorityAndScope(t *testing.T) {
	for _, name := range auth.CloudNames() {
		c, err := auth.LookupCloud(name)
		if err != nil || !strings.HasPrefix(c.AuthorityHost, "https://login.") || !strings.HasPrefix(c.APIBaseURL, "https://api.") ||
			!strings.HasSuffix(c.APIBaseURL, "/v1.0/myorg") || !strings.HasSuffix(c.Resource, "/powerbi/api") {
			t.Errorf("%s: %+v %v", name, c, err)
		}
	}
	src, err := auth.New(auth.Config{Kind: auth.KindClientSecret, Cloud: "china", TenantID: "t.partner.onmschina.cn", ClientID: "c", ClientSecret: "s"})
	if err != nil || !strings.Contains(src.Describe(), "authority https://login.chinacloudapi.cn") {
		t.Fatalf("china cloud: %v %v", src, err)
	}
	// An explicit authority host wins over the cloud's.
	src, err = auth.New(auth.Config{Kind: auth.KindClientSecret, Cloud: "china", AuthorityHost: "https://login.example.test", TenantID: "t", ClientID: "c", ClientSecret: "s"})
	if err != nil || !strings.Contains(src.Describe(), "authority https://login.example.test") {
		t.Fatalf("override: %v %v", src, err)
	}
	if _, err := auth.New(auth.Config{Cloud: "mars"}); err == nil || !strings.Contains(err.Error(), "PBI_MCP_CLOUD \"mars\" is not a Power BI cloud; use one of public, usgov, usgovhigh, usdod, china") {
		t.Fatalf("unknown cloud: %v", err)
	}
}
