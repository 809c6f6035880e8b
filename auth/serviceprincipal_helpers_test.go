package auth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// rsaKeys are made once, on first use: generating RSA keys is slow.
var rsaKeys = sync.OnceValue(func() []*rsa.PrivateKey {
	keys := make([]*rsa.PrivateKey, 3)
	for i := range keys {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		keys[i] = k
	}
	return keys
})

// newCertificate makes a certificate for key valid until notAfter,
// self-signed or issued by parent.
func newCertificate(t *testing.T, cn string, key *rsa.PrivateKey, notAfter time.Time, parent *x509.Certificate, parentKey *rsa.PrivateKey) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-48 * time.Hour),
		NotAfter:              notAfter,
		IsCA:                  parent == nil,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// writeFile writes data to a new file in the test's directory.
func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// appConfig is the tenant's app without a secret.
func appConfig(s *pbitest.Server) auth.Config {
	cfg := tenantConfig(s)
	cfg.ClientSecret = ""
	return cfg
}

// listWorkspaces is what a user notices: Power BI accepted src's token.
func listWorkspaces(t *testing.T, s *pbitest.Server, src auth.TokenSource) {
	t.Helper()
	c, err := pbiclient.New(pbiclient.Config{BaseURL: s.APIBaseURL(), Tokens: src, Transport: s.Client().Transport})
	if err != nil {
		t.Fatal(err)
	}
	groups, err := c.ListGroups(context.Background(), pbiclient.ListGroupsOptions{})
	if err != nil {
		t.Fatalf("ListGroups with the %s: %v", src.Describe(), err)
	}
	if len(groups) == 0 {
		t.Fatalf("ListGroups returned no workspaces; the test seeds some")
	}
}

// checkOneRequestPerAcquisition: 100 concurrent Token calls on a cold cache
// cause one request, and Invalidate makes the next Token call one more.
// requests counts the identity provider's requests; the server's latency
// keeps the first request open while the others arrive.
func checkOneRequestPerAcquisition(t *testing.T, s *pbitest.Server, src auth.TokenSource, requests func() int) {
	t.Helper()
	s.SetFaults(pbitest.Faults{Latency: 100 * time.Millisecond})
	defer s.SetFaults(pbitest.Faults{})
	ctx := context.Background()
	tokens := callConcurrently(t, 100, func() (string, error) { return src.Token(ctx) })
	for _, tok := range tokens {
		if tok != tokens[0] {
			t.Fatalf("concurrent callers got different tokens")
		}
	}
	if n := requests(); n != 1 {
		t.Fatalf("%d requests for 100 concurrent callers on a cold cache, want 1", n)
	}
	src.Invalidate(tokens[0])
	fresh, err := src.Token(ctx)
	if err != nil {
		t.Fatalf("Token after Invalidate: %v", err)
	}
	if fresh == tokens[0] {
		t.Errorf("Token after Invalidate returned the invalidated token")
	}
	if n := requests(); n != 2 {
		t.Errorf("%d requests after Invalidate, want 2: the next Token must ask the identity provider", n)
	}
}

// checkNoLeak fails if any of the texts contains any of the secrets.
func checkNoLeak(t *testing.T, secrets map[string]string, texts ...string) {
	t.Helper()
	for name, secret := range secrets {
		if secret == "" {
			continue
		}
		for _, text := range texts {
			if strings.Contains(text, secret) {
				t.Errorf("the %s appears in output: %.200s", name, text)
			}
		}
	}
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
