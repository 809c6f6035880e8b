package pbiclient_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// tenantTokens gets tokens from a fake tenant's token endpoint over HTTP (client
// credentials), caches one and drops it when told it was rejected. It records what it did,
// so tests can check invalidation and that no token leaks.
type tenantTokens struct {
	srv *pbitest.Server

	mu          sync.Mutex
	current     string
	issued      []string
	invalidated []string
}

func newTenantTokens(srv *pbitest.Server) *tenantTokens { return &tenantTokens{srv: srv} }

func (t *tenantTokens) Token(ctx context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.current != "" {
		return t.current, nil
	}
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {t.srv.ClientID()},
		"client_secret": {t.srv.ClientSecret()},
		"scope":         {"https://analysis.windows.net/powerbi/api/.default"},
	}
	endpoint := t.srv.AuthorityHost() + "/" + t.srv.TenantID() + "/oauth2/v2.0/token"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := t.srv.Client().Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK || body.AccessToken == "" {
		return "", fmt.Errorf("token endpoint answered %d", resp.StatusCode)
	}
	t.current = body.AccessToken
	t.issued = append(t.issued, body.AccessToken)
	return body.AccessToken, nil
}

func (t *tenantTokens) Invalidate(token string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.invalidated = append(t.invalidated, token)
	if t.current == token {
		t.current = ""
	}
}

func (t *tenantTokens) snapshot() (issued, invalidated []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.issued...), append([]string(nil), t.invalidated...)
}

// newTenant starts a fake tenant that is closed when the test ends.
func newTenant(t testing.TB, opts pbitest.Options) *pbitest.Server {
	t.Helper()
	srv := pbitest.NewServer(opts)
	t.Cleanup(srv.Close)
	return srv
}

// newClient returns a client of srv using tokens; change adjusts the config.
func newClient(t testing.TB, srv *pbitest.Server, tokens pbiclient.TokenSource, change ...func(*pbiclient.Config)) *pbiclient.Client {
	t.Helper()
	cfg := pbiclient.Config{
		BaseURL:   srv.APIBaseURL(),
		Tokens:    tokens,
		Transport: srv.Client().Transport,
		UserAgent: "powerbi-mcp-test/1.0",
	}
	for _, f := range change {
		f(&cfg)
	}
	c, err := pbiclient.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// apiRequests returns the Power BI API requests srv received (Entra ones left out).
func apiRequests(srv *pbitest.Server) []pbitest.Request {
	var out []pbitest.Request
	for _, r := range srv.Requests() {
		if strings.HasPrefix(r.Path, "/v1.0/myorg") {
			out = append(out, r)
		}
	}
	return out
}

// asAPIError fails the test unless err is an *APIError.
func asAPIError(t *testing.T, err error) *pbiclient.APIError {
	t.Helper()
	var apiErr *pbiclient.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error %v (%T) is not an *APIError", err, err)
	}
	return apiErr
}

const apiPrefix = "/v1.0/myorg"
