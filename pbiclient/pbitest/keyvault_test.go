package pbitest

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// kvGet reads a secret as Key Vault's clients do, with token ("" for none).
func kvGet(t *testing.T, s *Server, vault, path, token string) response {
	t.Helper()
	req, err := http.NewRequest("GET", s.KeyVaultURL(vault)+path+"?api-version=7.5", nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: body}
}

// vaultToken gets a Key Vault token for the system-assigned identity from
// the managed identity endpoint.
func vaultToken(t *testing.T, s *Server) string {
	t.Helper()
	r := miGet(t, s, s.ManagedIdentityHeader(), url.Values{"api-version": {"2019-08-01"}, "resource": {"https://vault.azure.net"}})
	wantStatus(t, r, http.StatusOK)
	return r.json(t)["access_token"].(string)
}

func kvErrorCodes(t *testing.T, r response) (code, inner string) {
	t.Helper()
	e, _ := r.json(t)["error"].(map[string]any)
	code, _ = e["code"].(string)
	if ie, ok := e["innererror"].(map[string]any); ok {
		inner, _ = ie["code"].(string)
	}
	return code, inner
}

func TestKeyVaultGetSecret(t *testing.T) {
	s := newTestServer(t, Options{})
	version := s.SetSecret("pbi-vault", "app-secret", "value-1")
	tok := vaultToken(t, s)

	r := kvGet(t, s, "pbi-vault", "/secrets/app-secret", "")
	wantStatus(t, r, http.StatusUnauthorized)
	if got, want := r.header.Get("WWW-Authenticate"), `Bearer authorization="`+s.AuthorityHost()+"/"+s.TenantID()+`", resource="https://vault.azure.net"`; got != want {
		t.Errorf("challenge %q, want %q", got, want)
	}
	r = kvGet(t, s, "pbi-vault", "/secrets/app-secret", s.IssueToken(time.Hour))
	wantStatus(t, r, http.StatusUnauthorized)
	if !strings.Contains(string(r.body), "AKV10022: Invalid audience") {
		t.Errorf("a Power BI token: %s, want Key Vault's invalid audience", r.body)
	}

	r = kvGet(t, s, "pbi-vault", "/secrets/app-secret", tok)
	wantStatus(t, r, http.StatusOK)
	b := r.json(t)
	if b["value"] != "value-1" || b["id"] != s.KeyVaultURL("pbi-vault")+"/secrets/app-secret/"+version ||
		b["attributes"].(map[string]any)["enabled"] != true {
		t.Errorf("secret bundle %s", r.body)
	}
	s.SetSecret("pbi-vault", "app-secret", "value-2")
	if b := kvGet(t, s, "pbi-vault", "/secrets/app-secret", tok).json(t); b["value"] != "value-2" {
		t.Errorf("latest version %v, want value-2", b["value"])
	}
	if b := kvGet(t, s, "pbi-vault", "/secrets/app-secret/"+version, tok).json(t); b["value"] != "value-1" {
		t.Errorf("version %s gave %v, want value-1", version, b["value"])
	}

	r = kvGet(t, s, "pbi-vault", "/secrets/missing", tok)
	wantStatus(t, r, http.StatusNotFound)
	if code, _ := kvErrorCodes(t, r); code != "SecretNotFound" {
		t.Errorf("missing secret: %s", r.body)
	}
	s.DisableSecret("pbi-vault", "app-secret")
	r = kvGet(t, s, "pbi-vault", "/secrets/app-secret", tok)
	wantStatus(t, r, http.StatusForbidden)
	if code, inner := kvErrorCodes(t, r); code != "Forbidden" || inner != "SecretDisabled" {
		t.Errorf("disabled secret: %s", r.body)
	}
	s.RevokeVaultAccess("pbi-vault", s.SystemAssignedIdentity().ObjectID)
	r = kvGet(t, s, "pbi-vault", "/secrets/app-secret/"+version, tok)
	wantStatus(t, r, http.StatusForbidden)
	if code, inner := kvErrorCodes(t, r); code != "Forbidden" || inner != "ForbiddenByRbac" {
		t.Errorf("no access: %s", r.body)
	}
	if n := s.KeyVaultReads(); n != 8 {
		t.Errorf("KeyVaultReads() = %d, want 8", n)
	}
}

// After RotateSecret the app accepts both secrets until the old one is
// expired (AADSTS7000222) or deleted (AADSTS7000215).
func TestRotateSecretRetiresTheOldOne(t *testing.T) {
	s := newTestServer(t, Options{})
	old := s.ClientSecret()
	fresh := s.RotateSecret("pbi-vault", "app-secret")
	tok := vaultToken(t, s)
	if b := kvGet(t, s, "pbi-vault", "/secrets/app-secret", tok).json(t); b["value"] != fresh {
		t.Errorf("the vault holds %v, want the rotated secret", b["value"])
	}
	ask := func(secret string) response {
		return postForm(t, s, s.TenantID(), url.Values{"grant_type": {"client_credentials"}, "client_id": {s.ClientID()},
			"client_secret": {secret}, "scope": {"https://analysis.windows.net/powerbi/api/.default"}})
	}
	wantStatus(t, ask(old), http.StatusOK)
	wantStatus(t, ask(fresh), http.StatusOK)
	s.ExpireClientSecret(old)
	if r := ask(old); !strings.Contains(string(r.body), "AADSTS7000222") {
		t.Errorf("expired secret: %s", r.body)
	}
	s.DeleteClientSecret(old)
	if r := ask(old); !strings.Contains(string(r.body), "AADSTS7000215") {
		t.Errorf("deleted secret: %s", r.body)
	}
	wantStatus(t, ask(fresh), http.StatusOK)
}
