package auth_test

import (
	"bytes"
	"sync"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
	"github.com/rs/zerolog"
)

// newTenant starts a fake tenant for one test.
func newTenant(t testing.TB, opts pbitest.Options) *pbitest.Server {
	t.Helper()
	s := pbitest.NewServer(opts)
	t.Cleanup(s.Close)
	// Seeded, so that a token Power BI accepts also shows workspaces.
	s.SeedDemo()
	return s
}

// tenantConfig is the service principal configuration for s, with its
// HTTP client so MSAL trusts the fake's certificate.
func tenantConfig(s *pbitest.Server) auth.Config {
	return auth.Config{
		AuthorityHost: s.AuthorityHost(),
		TenantID:      s.TenantID(),
		ClientID:      s.ClientID(),
		ClientSecret:  s.ClientSecret(),
		HTTPClient:    s.Client(),
	}
}

// newSource builds the source cfg selects and fails the test on error.
func newSource(t testing.TB, cfg auth.Config) auth.TokenSource {
	t.Helper()
	src, err := auth.New(cfg)
	if err != nil {
		t.Fatalf("auth.New: %v", err)
	}
	return src
}

// logBuffer collects log output from concurrent goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// traceLogger logs everything, so a test can check that no level leaks a
// secret.
func traceLogger() (zerolog.Logger, *logBuffer) {
	buf := &logBuffer{}
	return zerolog.New(buf).Level(zerolog.TraceLevel), buf
}
