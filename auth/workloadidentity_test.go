package auth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

const serviceAccount = "system:serviceaccount:default:powerbi-mcp"

// workloadTenant is a seeded tenant whose app trusts serviceAccount's
// tokens, and a configuration whose token file holds one.
func workloadTenant(t *testing.T) (*pbitest.Server, auth.Config) {
	t.Helper()
	s := newTenant(t, pbitest.Options{})
	s.AddFederatedCredential(pbitest.FederatedCredential{Subject: serviceAccount})
	cfg := appConfig(s)
	cfg.Kind = auth.KindWorkloadIdentity
	cfg.FederatedTokenFile = writeFile(t, "token", []byte(s.IssueFederatedToken(serviceAccount, time.Hour)+"\n"))
	return s, cfg
}

func jti(t *testing.T, jwt string) string {
	t.Helper()
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(jwt, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		JTI string `json:"jti"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	return c.JTI
}

func TestWorkloadIdentitySignsIn(t *testing.T) {
	s, cfg := workloadTenant(t)
	logger, logs := traceLogger()
	cfg.Logger = logger
	src := newSource(t, cfg)
	listWorkspaces(t, s, src)
	got := s.ClientAssertions()
	if len(got) != 1 || !got[0].Federated || got[0].Subject != serviceAccount {
		t.Errorf("assertions accepted: %+v", got)
	}
	d := src.Describe()
	for _, want := range []string{"workload identity", s.TenantID(), s.ClientID()} {
		if !strings.Contains(d, want) {
			t.Errorf("Describe() = %q, want it to mention %q", d, want)
		}
	}
	assertion, _ := os.ReadFile(cfg.FederatedTokenFile)
	tok, _ := src.Token(context.Background())
	checkNoLeak(t, map[string]string{"assertion": strings.TrimSpace(string(assertion)), "token": tok}, d, logs.String())
}

func TestWorkloadIdentityOneRequestPerAcquisition(t *testing.T) {
	s, cfg := workloadTenant(t)
	checkOneRequestPerAcquisition(t, s, newSource(t, cfg), s.TokenRequests)
}

// TestWorkloadIdentityRereadsTheFile: the kubelet replaces the token before
// it expires; a new acquisition presents the file's current token.
func TestWorkloadIdentityRereadsTheFile(t *testing.T) {
	s, cfg := workloadTenant(t)
	src := newSource(t, cfg)
	ctx := context.Background()
	first, err := src.Token(ctx)
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	rotated := s.IssueFederatedToken(serviceAccount, time.Hour)
	if err := os.WriteFile(cfg.FederatedTokenFile, []byte(rotated), 0o600); err != nil {
		t.Fatal(err)
	}
	// A cached token needs no assertion.
	if tok, _ := src.Token(ctx); tok != first || len(s.ClientAssertions()) != 1 {
		t.Fatalf("a warm source asked for a new token")
	}
	src.Invalidate(first)
	if _, err := src.Token(ctx); err != nil {
		t.Fatalf("Token after rotation: %v", err)
	}
	got := s.ClientAssertions()
	if len(got) != 2 || got[1].JTI != jti(t, rotated) {
		t.Errorf("assertions accepted: %+v, want the rotated token (jti %s) second", got, jti(t, rotated))
	}
}

func TestWorkloadIdentityErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("missing settings", func(t *testing.T) {
		_, err := auth.New(auth.Config{Kind: auth.KindWorkloadIdentity, TenantID: "t", ClientID: "c"})
		if err == nil || !strings.Contains(err.Error(), auth.EnvFederatedTokenFile+" is not set") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		s, cfg := workloadTenant(t)
		cfg.FederatedTokenFile = t.TempDir() + "/azure-identity-token"
		_, err := newSource(t, cfg).Token(ctx)
		if err == nil || !strings.Contains(err.Error(), auth.EnvFederatedTokenFile+` names "`+cfg.FederatedTokenFile+`", which does not exist`) ||
			!strings.Contains(err.Error(), "azure.workload.identity/use") || strings.Contains(err.Error(), "token request") {
			t.Errorf("err = %v", err)
		}
		if s.TokenRequests() != 0 {
			t.Errorf("a token request was sent without an assertion")
		}
	})
	t.Run("empty file", func(t *testing.T) {
		_, cfg := workloadTenant(t)
		cfg.FederatedTokenFile = writeFile(t, "token", []byte("\n"))
		_, err := newSource(t, cfg).Token(ctx)
		if err == nil || !strings.Contains(err.Error(), auth.EnvFederatedTokenFile) || !strings.Contains(err.Error(), "is empty") {
			t.Errorf("err = %v", err)
		}
	})
	for _, c := range []struct {
		name, subject string
		lifetime      time.Duration
		aadsts, fix   string
	}{
		{"unknown subject", "system:serviceaccount:default:other", time.Hour, "AADSTS70021", "Federated credentials"},
		{"expired token", serviceAccount, -time.Minute, "AADSTS700024", "must renew the token"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, cfg := workloadTenant(t)
			assertion := s.IssueFederatedToken(c.subject, c.lifetime)
			cfg.FederatedTokenFile = writeFile(t, "token", []byte(assertion))
			logger, logs := traceLogger()
			cfg.Logger = logger
			_, err := newSource(t, cfg).Token(ctx)
			var e *auth.Error
			if !errorsAs(err, &e) || e.AADSTS != c.aadsts || !strings.Contains(e.Fix, c.fix) || !strings.Contains(e.Fix, auth.EnvFederatedTokenFile) {
				t.Fatalf("err = %v, want %s with a fix saying %q and naming %s", err, c.aadsts, c.fix, auth.EnvFederatedTokenFile)
			}
			checkNoLeak(t, map[string]string{"assertion": assertion}, err.Error(), logs.String())
		})
	}
}
