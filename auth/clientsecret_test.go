package auth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

func TestClientSecretReusesToken(t *testing.T) {
	s := newTenant(t, pbitest.Options{})
	src := newSource(t, tenantConfig(s))

	first, err := src.Token(context.Background())
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	for range 3 {
		tok, err := src.Token(context.Background())
		if err != nil {
			t.Fatalf("Token: %v", err)
		}
		if tok != first {
			t.Fatalf("a warm source returned a different token")
		}
	}
	if n := s.TokenRequests(); n != 1 {
		t.Errorf("token endpoint saw %d requests for 4 Token calls, want 1", n)
	}
}

func TestClientSecretConcurrentColdCacheSharesOneRequest(t *testing.T) {
	s := newTenant(t, pbitest.Options{})
	// Latency keeps the first request open while the other callers arrive.
	s.SetFaults(pbitest.Faults{Latency: 100 * time.Millisecond})
	src := newSource(t, tenantConfig(s))

	tokens := callConcurrently(t, 100, func() (string, error) { return src.Token(context.Background()) })
	for _, tok := range tokens {
		if tok != tokens[0] {
			t.Fatalf("concurrent callers got different tokens")
		}
	}
	if n := s.TokenRequests(); n != 1 {
		t.Errorf("token endpoint saw %d requests for 100 concurrent callers, want 1", n)
	}
}

func TestInvalidateFetchesOneNewTokenFromTheIdP(t *testing.T) {
	s := newTenant(t, pbitest.Options{})
	src := newSource(t, tenantConfig(s))
	ctx := context.Background()

	old, err := src.Token(ctx)
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	// Power BI now answers 403 TokenExpired to old, though MSAL's cache
	// still holds it as valid for the better part of an hour.
	s.ExpireTokens()
	before := s.TokenRequests()

	// Every request that failed with old reports it.
	callConcurrently(t, 100, func() (string, error) { src.Invalidate(old); return "", nil })
	// A request that had read the Authorization header reports it with the
	// scheme; that must be the same token.
	src.Invalidate("Bearer " + old)

	fresh := callConcurrently(t, 100, func() (string, error) { return src.Token(ctx) })
	for _, tok := range fresh {
		if tok == old {
			t.Fatalf("Token returned the invalidated token")
		}
		if tok != fresh[0] {
			t.Fatalf("callers after Invalidate got different tokens")
		}
	}
	if n := s.TokenRequests() - before; n != 1 {
		t.Errorf("token endpoint saw %d more requests after 101 Invalidate calls, want 1", n)
	}

	// A late report of the old token must not throw away the new one.
	src.Invalidate(old)
	tok, err := src.Token(ctx)
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if tok != fresh[0] || s.TokenRequests()-before != 1 {
		t.Errorf("Invalidate of a superseded token changed the current one or asked the IdP")
	}
}

func TestInvalidateUnknownTokenIsIgnored(t *testing.T) {
	s := newTenant(t, pbitest.Options{})
	src := newSource(t, tenantConfig(s))
	ctx := context.Background()
	tok, err := src.Token(ctx)
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	src.Invalidate(s.IssueToken(time.Hour)) // a valid token, but not this source's
	src.Invalidate("")
	again, err := src.Token(ctx)
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if again != tok || s.TokenRequests() != 1 {
		t.Errorf("Invalidate of a foreign token dropped the current one")
	}
}

func TestTokenIsRenewedFiveMinutesBeforeExpiry(t *testing.T) {
	// 301 s: valid for one second longer than the 5-minute buffer.
	s := newTenant(t, pbitest.Options{TokenLifetime: 301 * time.Second})
	src := newSource(t, tenantConfig(s))
	ctx := context.Background()

	first, err := src.Token(ctx)
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if again, _ := src.Token(ctx); again != first || s.TokenRequests() != 1 {
		t.Fatalf("a token with more than 5 minutes left was not reused")
	}
	time.Sleep(1100 * time.Millisecond)
	renewed, err := src.Token(ctx)
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if renewed == first || s.TokenRequests() != 2 {
		t.Errorf("a token with less than 5 minutes left was handed out (token requests: %d)", s.TokenRequests())
	}
}

func TestCallerGivingUpDoesNotFailOthers(t *testing.T) {
	s := newTenant(t, pbitest.Options{})
	s.SetFaults(pbitest.Faults{Latency: 300 * time.Millisecond})
	src := newSource(t, tenantConfig(s))

	impatient, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	impatientErr := make(chan error, 1)
	go func() {
		_, err := src.Token(impatient)
		impatientErr <- err
	}()
	// Let the impatient caller start the shared request, then join it.
	time.Sleep(5 * time.Millisecond)
	if _, err := src.Token(context.Background()); err != nil {
		t.Fatalf("patient caller failed because another caller gave up: %v", err)
	}
	if err := <-impatientErr; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("impatient caller: got %v, want context.DeadlineExceeded", err)
	}
	if n := s.TokenRequests(); n != 1 {
		t.Errorf("token endpoint saw %d requests, want 1", n)
	}
}

func TestNewDoesNoNetworkIO(t *testing.T) {
	s := newTenant(t, pbitest.Options{})
	newSource(t, tenantConfig(s))
	if reqs := s.Requests(); len(reqs) != 0 {
		t.Errorf("New sent %d requests, e.g. %s %s; start-up must not wait for the network", len(reqs), reqs[0].Method, reqs[0].Path)
	}
}

func TestDescribeNamesTenantAndClient(t *testing.T) {
	s := newTenant(t, pbitest.Options{})
	d := newSource(t, tenantConfig(s)).Describe()
	for _, want := range []string{"client secret", s.TenantID(), s.ClientID(), s.AuthorityHost()} {
		if !strings.Contains(d, want) {
			t.Errorf("Describe() = %q, want it to mention %q", d, want)
		}
	}
	if strings.Contains(d, s.ClientSecret()) {
		t.Errorf("Describe() contains the secret")
	}
}

func TestEntraRejectionsBecomeErrorsWithFixes(t *testing.T) {
	const wrongSecret = "wrong-secret-Value-0123456789abcdef"
	tests := []struct {
		name       string
		change     func(*auth.Config)
		wantCode   string
		wantOAuth  string
		wantStatus int
		wantInFix  string
	}{
		{"wrong secret", func(c *auth.Config) { c.ClientSecret = wrongSecret },
			"AADSTS7000215", "invalid_client", http.StatusUnauthorized, "Value, not its Secret ID"},
		{"unknown client", func(c *auth.Config) { c.ClientID = "00000000-0000-0000-0000-000000000001" },
			"AADSTS700016", "unauthorized_client", http.StatusBadRequest, "AZURE_CLIENT_ID"},
		{"unknown tenant", func(c *auth.Config) { c.TenantID = "00000000-0000-0000-0000-000000000002" },
			"AADSTS90002", "invalid_tenant", http.StatusBadRequest, "AZURE_TENANT_ID"},
		{"scope without .default", func(c *auth.Config) { c.Scope = "https://analysis.windows.net/powerbi/api/Dataset.Read.All" },
			"AADSTS1002012", "invalid_scope", http.StatusBadRequest, auth.PowerBIScope},
		{"resource not in tenant", func(c *auth.Config) { c.Scope = "https://example.contoso.com/.default" },
			"AADSTS500011", "invalid_resource", http.StatusBadRequest, "app.powerbi.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTenant(t, pbitest.Options{})
			logger, logs := traceLogger()
			cfg := tenantConfig(s)
			cfg.Logger = logger
			tt.change(&cfg)
			src := newSource(t, cfg)

			_, err := src.Token(context.Background())
			var e *auth.Error
			if !errors.As(err, &e) {
				t.Fatalf("Token error = %v (%T), want *auth.Error", err, err)
			}
			if e.AADSTS != tt.wantCode || e.OAuthError != tt.wantOAuth || e.StatusCode != tt.wantStatus {
				t.Errorf("got %s %s HTTP %d, want %s %s HTTP %d", e.AADSTS, e.OAuthError, e.StatusCode, tt.wantCode, tt.wantOAuth, tt.wantStatus)
			}
			if !strings.Contains(e.Fix, tt.wantInFix) {
				t.Errorf("Fix = %q, want it to mention %q", e.Fix, tt.wantInFix)
			}
			if e.Description == "" || strings.Contains(e.Description, "Trace ID") || strings.HasPrefix(e.Description, "AADSTS") {
				t.Errorf("Description = %q, want Entra's first line without the code prefix or trace lines", e.Description)
			}
			if e.CorrelationID == "" {
				t.Errorf("CorrelationID is empty")
			}
			msg := err.Error()
			for _, want := range []string{tt.wantCode, e.Description, "Fix: " + e.Fix} {
				if !strings.Contains(msg, want) {
					t.Errorf("Error() = %q, want it to contain %q", msg, want)
				}
			}
			for _, secret := range []string{s.ClientSecret(), wrongSecret} {
				if strings.Contains(msg, secret) || strings.Contains(logs.String(), secret) {
					t.Errorf("the error or the trace log contains a client secret")
				}
			}
			if !strings.Contains(logs.String(), tt.wantCode) {
				t.Errorf("the failure was not logged at debug level; logs: %s", logs.String())
			}
		})
	}
}

func TestErrorsAreNotCached(t *testing.T) {
	s := newTenant(t, pbitest.Options{})
	cfg := tenantConfig(s)
	cfg.Scope = "https://example.contoso.com/.default"
	src := newSource(t, cfg)
	for range 2 {
		if _, err := src.Token(context.Background()); err == nil {
			t.Fatalf("Token succeeded for a resource the tenant does not have")
		}
	}
	if n := s.TokenRequests(); n != 2 {
		t.Errorf("token endpoint saw %d requests for 2 failing calls, want 2 (a failure must not be remembered)", n)
	}
}

func TestSecretNeverLogged(t *testing.T) {
	s := newTenant(t, pbitest.Options{})
	logger, logs := traceLogger()
	cfg := tenantConfig(s)
	cfg.Logger = logger
	src := newSource(t, cfg)
	ctx := context.Background()
	tok, err := src.Token(ctx)
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	src.Invalidate(tok)
	if _, err := src.Token(ctx); err != nil {
		t.Fatalf("Token: %v", err)
	}
	out := logs.String()
	if !strings.Contains(out, "token acquired") || !strings.Contains(out, "rejected") {
		t.Fatalf("expected acquisition and invalidation to be logged, got: %s", out)
	}
	if strings.Contains(out, s.ClientSecret()) {
		t.Errorf("the log contains the client secret")
	}
	if strings.Contains(out, tok) {
		t.Errorf("the log contains an access token")
	}
}

func TestUnreachableAuthorityIsNamed(t *testing.T) {
	s := pbitest.NewServer(pbitest.Options{})
	cfg := tenantConfig(s)
	s.Close()
	src := newSource(t, cfg)

	_, err := src.Token(context.Background())
	if err == nil {
		t.Fatal("Token succeeded against a closed authority")
	}
	var e *auth.Error
	if errors.As(err, &e) {
		t.Errorf("a network failure became an Entra rejection: %v", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "cannot reach") || !strings.Contains(msg, cfg.AuthorityHost) {
		t.Errorf("error = %q, want it to say the authority %s cannot be reached", msg, cfg.AuthorityHost)
	}
}

func TestUntrustedAuthorityCertificateIsNamed(t *testing.T) {
	s := newTenant(t, pbitest.Options{})
	cfg := tenantConfig(s)
	cfg.HTTPClient = &http.Client{} // system roots: the fake's certificate is not trusted
	src := newSource(t, cfg)

	_, err := src.Token(context.Background())
	if err == nil {
		t.Fatal("Token succeeded over an untrusted TLS connection")
	}
	if msg := err.Error(); !strings.Contains(msg, "TLS") || !strings.Contains(msg, cfg.AuthorityHost) {
		t.Errorf("error = %q, want it to name TLS and the authority %s", msg, cfg.AuthorityHost)
	}
}

// recordingTransport records the URL of each request and fails it, so a test
// can see where MSAL goes first without any network.
type recordingTransport struct {
	mu   sync.Mutex
	urls []string
}

func (rt *recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rt.mu.Lock()
	rt.urls = append(rt.urls, r.URL.String())
	rt.mu.Unlock()
	return nil, errors.New("recordingTransport: no network in tests")
}

func TestInstanceDiscoveryOnlyForMicrosoftHosts(t *testing.T) {
	tests := []struct {
		host      string
		wantFirst string
	}{
		{"https://login.microsoftonline.us", "/common/discovery/instance?"},
		{"https://login.microsoftonline.com", "/common/discovery/instance?"},
		// Any other host cannot be vouched for by Microsoft's instance
		// discovery, so MSAL goes straight to its OpenID configuration.
		{"https://login.contoso.test:8443", "https://login.contoso.test:8443/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration"},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			rt := &recordingTransport{}
			src := newSource(t, auth.Config{AuthorityHost: tt.host, TenantID: "contoso.onmicrosoft.com",
				ClientID: "11111111-2222-3333-4444-555555555555", ClientSecret: "s", HTTPClient: &http.Client{Transport: rt}})
			if _, err := src.Token(context.Background()); err == nil {
				t.Fatal("Token succeeded without a network")
			}
			rt.mu.Lock()
			defer rt.mu.Unlock()
			if len(rt.urls) == 0 || !strings.Contains(rt.urls[0], tt.wantFirst) {
				t.Errorf("requests %q, want the first to contain %q", rt.urls, tt.wantFirst)
			}
		})
	}
}

// callConcurrently runs f in n goroutines released at once and returns their
// results.
func callConcurrently(t *testing.T, n int, f func() (string, error)) []string {
	t.Helper()
	results := make([]string, n)
	errs := make([]error, n)
	var ready, done sync.WaitGroup
	release := make(chan struct{})
	for i := range n {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-release
			results[i], errs[i] = f()
		}()
	}
	ready.Wait()
	close(release)
	done.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("concurrent call: %v", err)
		}
	}
	return results
}

// newAuthority starts a TLS authority that serves a valid OpenID
// configuration and answers the token endpoint with token, standing in for
// an authority behind a misbehaving proxy.
func newAuthority(t *testing.T, token http.HandlerFunc) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		base := srv.URL + "/" + r.PathValue("tenant")
		fmt.Fprintf(w, `{"authorization_endpoint":%q,"token_endpoint":%q,"issuer":%q}`,
			base+"/oauth2/v2.0/authorize", base+"/oauth2/v2.0/token", base+"/v2.0")
	})
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", token)
	srv = httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestNonOAuthAnswerIsReportedWithoutTheBody(t *testing.T) {
	srv := newAuthority(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprint(w, "<html><body>proxy page with internal details</body></html>")
	})
	src := newSource(t, auth.Config{AuthorityHost: srv.URL, TenantID: "contoso.onmicrosoft.com",
		ClientID: "11111111-2222-3333-4444-555555555555", ClientSecret: "s3cret-value", HTTPClient: srv.Client()})

	_, err := src.Token(context.Background())
	var e *auth.Error
	if !errors.As(err, &e) || e.StatusCode != http.StatusBadGateway || e.AADSTS != "" {
		t.Fatalf("Token error = %v, want *auth.Error with HTTP 502 and no AADSTS code", err)
	}
	if msg := err.Error(); strings.Contains(msg, "internal details") || !strings.Contains(msg, srv.URL) || !strings.Contains(msg, "AZURE_AUTHORITY_HOST") {
		t.Errorf("error = %q, want the authority and what to check, without the body", msg)
	}
}

func TestMalformedTokenResponseIsReportedWithoutTheBody(t *testing.T) {
	const partialToken = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.partial"
	srv := newAuthority(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"token_type":"Bearer","access_token":"`+partialToken) // cut short
	})
	src := newSource(t, auth.Config{AuthorityHost: srv.URL, TenantID: "contoso.onmicrosoft.com",
		ClientID: "11111111-2222-3333-4444-555555555555", ClientSecret: "s3cret-value", HTTPClient: srv.Client()})

	_, err := src.Token(context.Background())
	if err == nil {
		t.Fatal("Token succeeded on a truncated response")
	}
	if msg := err.Error(); strings.Contains(msg, partialToken) || !strings.Contains(msg, "not valid JSON") {
		t.Errorf("error = %q, want 'not valid JSON' without the response body", msg)
	}
}
