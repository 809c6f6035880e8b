package auth_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// The environment of a helper process: this test binary run again to act as
// another server sharing the token cache.
const (
	helperEnv      = "PBI_MCP_TEST_CACHE_WRITER"
	helperURL      = "PBI_MCP_TEST_AUTHORITY"
	helperCert     = "PBI_MCP_TEST_CERT"
	helperRounds   = "PBI_MCP_TEST_ROUNDS"
	helperUsername = "PBI_MCP_TEST_USERNAME"
)

// TestCacheWriterProcess is not a test on its own: run by
// TestTwoProcessesShareTheTokenCache in a child process, it renews a user's
// token again and again, writing the shared cache file each time.
func TestCacheWriterProcess(t *testing.T) {
	if os.Getenv(helperEnv) == "" {
		t.Skip("helper process for TestTwoProcessesShareTheTokenCache")
	}
	pemBytes, err := os.ReadFile(os.Getenv(helperCert))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemBytes)
	user := os.Getenv(helperUsername)
	src, err := auth.New(auth.Config{
		Kind:          auth.KindUsernamePassword,
		AuthorityHost: os.Getenv(helperURL),
		ClientID:      pbitest.DefaultClientID,
		Username:      user,
		Password:      "pw-" + user,
		TokenCacheDir: os.Getenv(auth.EnvTokenCacheDir),
		HTTPClient:    &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	rounds, _ := strconv.Atoi(os.Getenv(helperRounds))
	for range rounds {
		tok, err := src.Token(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		src.Invalidate(tok)
	}
}

func TestTwoProcessesShareTheTokenCache(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	s := newTenant(t, pbitest.Options{})
	dir := t.TempDir()
	certFile := filepath.Join(t.TempDir(), "tenant.pem")
	if err := os.WriteFile(certFile, s.CertificatePEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	users := []string{"adele.vance@contoso.com", "alex.wilber@contoso.com"}
	var cmds []*exec.Cmd
	for _, u := range users {
		s.AddUser(u, "pw-"+u)
		cmd := exec.Command(os.Args[0], "-test.run=^TestCacheWriterProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), helperEnv+"=1", helperURL+"="+s.AuthorityHost(), helperCert+"="+certFile,
			helperRounds+"=20", helperUsername+"="+u, auth.EnvTokenCacheDir+"="+dir)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	// Meanwhile this process reads the file as a third server would.
	path := filepath.Join(dir, "token_cache.json")
	running := len(cmds)
	done := make(chan error, len(cmds))
	for _, cmd := range cmds {
		go func() { done <- cmd.Wait() }()
	}
	for running > 0 {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("writer process: %v", err)
			}
			running--
		default:
			if data, err := os.ReadFile(path); err == nil && !json.Valid(data) {
				t.Fatalf("a reader saw invalid JSON in the cache file")
			}
		}
	}
	if n := s.TokenRequests(); n < 2*20 {
		t.Fatalf("the writers made %d token requests, want at least 40", n)
	}
	data, err := os.ReadFile(path)
	if err != nil || !json.Valid(data) {
		t.Fatalf("cache file after both writers: %v", err)
	}
	// Each process's sign-in is in the file: neither write lost the other's.
	removed, err := auth.Logout(auth.Config{ClientID: s.ClientID(), TokenCacheDir: dir})
	if err != nil || len(removed) != len(users) {
		t.Errorf("Logout removed %v, %v; want both users", removed, err)
	}
}
