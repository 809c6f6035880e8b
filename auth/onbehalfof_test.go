package auth_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// jwtClaims decodes a token's payload without checking it.
func jwtClaims(t testing.TB, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %.20q", token)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

// upnOf is the upn claim of a token, "" if it has none.
func upnOf(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return ""
	}
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var c struct{ UPN string }
	_ = json.Unmarshal(payload, &c)
	return c.UPN
}

// callerContext is a request's context once the resource server has
// validated the caller's token: the Caller made from that token's claims.
func callerContext(t testing.TB, token string) context.Context {
	t.Helper()
	c := jwtClaims(t, token)
	str := func(k string) string { s, _ := c[k].(string); return s }
	caller := auth.Caller{TenantID: str("tid"), ObjectID: str("oid"), Username: str("upn") + str("preferred_username"),
		Scopes: strings.Fields(str("scp"))}
	return auth.WithCaller(context.Background(), auth.CallerWithAssertion(caller, token))
}

// userContext signs user in to the server's API at s.
func userContext(t *testing.T, s *pbitest.Server, user string) context.Context {
	t.Helper()
	return callerContext(t, s.IssueCallerToken(pbitest.CallerTokenOptions{User: user}))
}

func newOnBehalfOf(t *testing.T, cfg auth.Config, size int) *auth.OnBehalfOf {
	t.Helper()
	o, err := auth.NewOnBehalfOf(cfg, size)
	if err != nil {
		t.Fatalf("NewOnBehalfOf: %v", err)
	}
	return o
}

// oboToken is Token for a call that must succeed.
func oboToken(t *testing.T, o *auth.OnBehalfOf, ctx context.Context) string {
	t.Helper()
	tok, err := o.Token(ctx)
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	return tok
}

// Each caller's Power BI calls carry a Power BI token of that caller, never
// the caller's own token, and Power BI takes it.
func TestOnBehalfOfActsForEachCaller(t *testing.T) {
	s := newTenant(t, pbitest.Options{})
	o := newOnBehalfOf(t, tenantConfig(s), 0)
	pbi, err := pbiclient.New(pbiclient.Config{BaseURL: s.APIBaseURL(), Tokens: o, Transport: s.Client().Transport})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, user := range []string{"adele@contoso.com", "alex@contoso.com"} {
		ctx := userContext(t, s, user)
		caller, _ := auth.CallerFrom(ctx)
		tok := oboToken(t, o, ctx)
		if tok == caller.Assertion() {
			t.Fatalf("the caller's own token was handed out")
		}
		c := jwtClaims(t, tok)
		if c["upn"] != user || c["oid"] != caller.ObjectID || c["tid"] != s.TenantID() || c["aud"] != "https://analysis.windows.net/powerbi/api" {
			t.Errorf("%s got a token with upn %v, oid %v, tid %v, aud %v; want that user's Power BI token", user, c["upn"], c["oid"], c["tid"], c["aud"])
		}
		seen[user] = tok
		if _, err := pbi.ListGroups(ctx, pbiclient.ListGroupsOptions{}); err != nil {
			t.Errorf("Power BI refused %s's token: %v", user, err)
		}
	}
	if seen["adele@contoso.com"] == seen["alex@contoso.com"] {
		t.Errorf("two users got the same token")
	}
	if n := s.OBORequests(); n != 2 {
		t.Errorf("OBORequests() = %d, want one exchange per user", n)
	}
	if !strings.HasPrefix(o.Describe(), "on behalf of each caller, as client secret") {
		t.Errorf("Describe() = %q", o.Describe())
	}
}

// 50 concurrent calls by one user make one exchange; calls within the
// token's lifetime make none; near its expiry, one renewal.
func TestOnBehalfOfOneExchangePerUser(t *testing.T) {
	s := newTenant(t, pbitest.Options{})
	o := newOnBehalfOf(t, tenantConfig(s), 0)
	ctx := userContext(t, s, "adele@contoso.com")
	// Latency keeps the first exchange open while the others arrive.
	s.SetFaults(pbitest.Faults{Latency: 100 * time.Millisecond})
	tokens := callConcurrently(t, 50, func() (string, error) { return o.Token(ctx) })
	s.SetFaults(pbitest.Faults{})
	for _, tok := range tokens {
		if tok != tokens[0] {
			t.Fatal("concurrent calls by one user got different tokens")
		}
	}
	if n := s.OBORequests(); n != 1 {
		t.Fatalf("OBORequests() = %d for 50 concurrent calls by one user, want 1", n)
	}

	// Later, with a new token of the same user (clients renew theirs):
	// still the cached Power BI token.
	again := oboToken(t, o, userContext(t, s, "adele@contoso.com"))
	if again != tokens[0] || s.OBORequests() != 1 {
		t.Errorf("a call within the token's lifetime made an exchange (%d requests)", s.OBORequests())
	}

	// Five minutes before expiry (the margin every source keeps) the
	// token is renewed, once for any number of calls.
	expires := time.Unix(int64(jwtClaims(t, tokens[0])["exp"].(float64)), 0)
	o.SetClock(func() time.Time { return expires.Add(-5*time.Minute + time.Second) })
	s.SetFaults(pbitest.Faults{Latency: 100 * time.Millisecond})
	renewed := callConcurrently(t, 50, func() (string, error) { return o.Token(ctx) })
	s.SetFaults(pbitest.Faults{})
	if n := s.OBORequests(); n != 2 {
		t.Fatalf("OBORequests() = %d after renewal, want 2", n)
	}
	if renewed[0] == tokens[0] {
		t.Errorf("renewal handed out the old token")
	}
	if st := o.Stats(); st.Exchanges != 2 || st.Hits < 1 || st.Cached != 1 {
		t.Errorf("Stats() = %+v", st)
	}
}

// The cache holds at most its size in users and drops the least recently
// used one; Invalidate drops only that user's token.
func TestOnBehalfOfCacheBound(t *testing.T) {
	s := newTenant(t, pbitest.Options{})
	o := newOnBehalfOf(t, tenantConfig(s), 2)
	a, b, c := userContext(t, s, "a@contoso.com"), userContext(t, s, "b@contoso.com"), userContext(t, s, "c@contoso.com")
	tokA := oboToken(t, o, a)
	oboToken(t, o, b)
	oboToken(t, o, a) // a is now the most recently used
	oboToken(t, o, c) // evicts b
	if n := s.OBORequests(); n != 3 {
		t.Fatalf("OBORequests() = %d, want 3", n)
	}
	if oboToken(t, o, a) != tokA || s.OBORequests() != 3 {
		t.Errorf("the most recently used user was evicted")
	}
	oboToken(t, o, b)
	if n := s.OBORequests(); n != 4 {
		t.Errorf("OBORequests() = %d, want 4: the least recently used user was not evicted", n)
	}
	if st := o.Stats(); st.Cached != 2 {
		t.Errorf("%d users cached, want the bound 2", st.Cached)
	}

	// Power BI rejects b's token: b's next call exchanges again, a's not.
	tokB := oboToken(t, o, b)
	o.Invalidate("Bearer " + tokB)
	before := s.OBORequests()
	if oboToken(t, o, b) == tokB || s.OBORequests() != before+1 {
		t.Errorf("after Invalidate the user's next call did not exchange again")
	}
	if oboToken(t, o, a) != tokA || s.OBORequests() != before+1 {
		t.Errorf("Invalidate of one user's token dropped another's")
	}
}

// Without a validated caller the source refuses, and asks Entra nothing.
func TestOnBehalfOfNoCaller(t *testing.T) {
	s := newTenant(t, pbitest.Options{})
	o := newOnBehalfOf(t, tenantConfig(s), 0)
	for name, ctx := range map[string]context.Context{
		"no caller":            context.Background(),
		"caller without token": auth.WithCaller(context.Background(), auth.Caller{TenantID: s.TenantID(), ObjectID: "x", Username: "a@contoso.com"}),
	} {
		_, err := o.Token(ctx)
		if !errors.Is(err, auth.ErrNoCaller) || !strings.Contains(err.Error(), "misconfigured") {
			t.Errorf("%s: err = %v, want ErrNoCaller", name, err)
		}
	}
	app := auth.CallerWithAssertion(auth.Caller{TenantID: s.TenantID(), ObjectID: "x", AppID: "y"}, "token")
	if _, err := o.Token(auth.WithCaller(context.Background(), app)); err == nil || !strings.Contains(err.Error(), "not a user") {
		t.Errorf("an app as the caller: err = %v", err)
	}
	if n := s.TokenRequests(); n != 0 {
		t.Errorf("%d token requests without a user as the caller, want 0", n)
	}
}

// Each refusal of the exchange says who fixes what, and carries neither the
// caller's token nor the server's secret.
func TestOnBehalfOfErrors(t *testing.T) {
	s := newTenant(t, pbitest.Options{})
	o := newOnBehalfOf(t, tenantConfig(s), 0)
	for _, c := range []struct {
		name   string
		token  pbitest.CallerTokenOptions
		setup  func()
		aadsts string
		fix    string
	}{
		{"bad signature", pbitest.CallerTokenOptions{User: "u1@contoso.com", UnknownKey: true}, nil, "AADSTS50013", "sign in again"},
		{"expired", pbitest.CallerTokenOptions{User: "u2@contoso.com", Lifetime: -time.Minute}, nil, "AADSTS500133", "sign in again"},
		{"other audience", pbitest.CallerTokenOptions{User: "u3@contoso.com", Audience: "api://some-other-api"}, nil, "AADSTS500131",
			"sign in for this server's API (audience api://" + s.ClientID()},
		{"no consent", pbitest.CallerTokenOptions{User: "u4@contoso.com"}, func() { s.SetAdminConsent(false) }, "AADSTS65001",
			s.AuthorityHost() + "/" + s.TenantID() + "/adminconsent?client_id=" + s.ClientID()},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.setup != nil {
				c.setup()
				defer s.SetAdminConsent(true)
			}
			assertion := s.IssueCallerToken(c.token)
			_, err := o.Token(callerContext(t, assertion))
			var e *auth.Error
			if !errors.As(err, &e) || e.AADSTS != c.aadsts || !strings.Contains(e.Fix, c.fix) {
				t.Fatalf("err = %v, want %s with a fix containing %q", err, c.aadsts, c.fix)
			}
			checkNoLeak(t, map[string]string{"caller's token": assertion, "client secret": s.ClientSecret()}, err.Error())
		})
	}
}

// The server's app may prove itself with a certificate or a federated
// token; when the federated token has expired, the error says it is the
// server's, not the caller's.
func TestOnBehalfOfCredentialKinds(t *testing.T) {
	s := newTenant(t, pbitest.Options{})
	key := rsaKeys()[0]
	cert := newCertificate(t, "powerbi-mcp", key, time.Now().Add(24*time.Hour), nil, nil)
	s.AddClientCertificate(cert)
	cfg := appConfig(s)
	cfg.CertificatePath = writeFile(t, "cert.pem", append(pemBlock("CERTIFICATE", cert.Raw), pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key))...))
	ctx := userContext(t, s, "adele@contoso.com")
	if c := jwtClaims(t, oboToken(t, newOnBehalfOf(t, cfg, 0), ctx)); c["upn"] != "adele@contoso.com" {
		t.Errorf("certificate: token of %v", c["upn"])
	}

	const subject = "system:serviceaccount:default:powerbi-mcp"
	s.AddFederatedCredential(pbitest.FederatedCredential{Subject: subject})
	cfg = appConfig(s)
	cfg.FederatedTokenFile = writeFile(t, "token", []byte(s.IssueFederatedToken(subject, time.Hour)))
	o := newOnBehalfOf(t, cfg, 0)
	if c := jwtClaims(t, oboToken(t, o, ctx)); c["upn"] != "adele@contoso.com" {
		t.Errorf("workload identity: token of %v", c["upn"])
	}
	if got := s.ClientAssertions(); len(got) != 2 || !got[1].Federated {
		t.Errorf("client assertions %+v, want the certificate's and the federated one", got)
	}

	cfg.FederatedTokenFile = writeFile(t, "expired", []byte(s.IssueFederatedToken(subject, -time.Minute)))
	_, err := newOnBehalfOf(t, cfg, 0).Token(ctx)
	var e *auth.Error
	if !errors.As(err, &e) || e.AADSTS != "AADSTS700024" || !strings.Contains(e.Fix, "server's own client assertion") ||
		!strings.Contains(e.Fix, auth.EnvFederatedTokenFile) {
		t.Errorf("expired federated token: err = %v", err)
	}

	for _, kind := range []string{auth.KindManagedIdentity, auth.KindDeviceCode, auth.KindToken} {
		cfg := tenantConfig(s)
		cfg.Kind = kind
		if _, err := auth.NewOnBehalfOf(cfg, 0); err == nil || !strings.Contains(err.Error(), "cannot act on behalf of callers") {
			t.Errorf("kind %s: err = %v", kind, err)
		}
	}
	if _, err := auth.NewOnBehalfOf(appConfig(s), 0); err == nil || !strings.Contains(err.Error(), auth.EnvClientSecret) {
		t.Errorf("no credential: err = %v", err)
	}
}

// Many users at once, each with concurrent calls: one exchange per user,
// and every call gets its own user's token.
func TestOnBehalfOfManyUsers(t *testing.T) {
	s := newTenant(t, pbitest.Options{})
	o := newOnBehalfOf(t, tenantConfig(s), 0)
	users := []string{"a@contoso.com", "b@contoso.com", "c@contoso.com", "d@contoso.com"}
	ctxs := make([]context.Context, len(users))
	for i, u := range users {
		ctxs[i] = userContext(t, s, u)
	}
	s.SetFaults(pbitest.Faults{Latency: 50 * time.Millisecond})
	defer s.SetFaults(pbitest.Faults{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	wrong := 0
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u := i % len(users)
			tok, err := o.Token(ctxs[u])
			mu.Lock()
			defer mu.Unlock()
			if err != nil || upnOf(tok) != users[u] {
				wrong++
			}
		}()
	}
	wg.Wait()
	if wrong != 0 {
		t.Errorf("%d calls got an error or another user's token", wrong)
	}
	if n := s.OBORequests(); n != len(users) {
		t.Errorf("OBORequests() = %d, want %d", n, len(users))
	}
}

// A caller from another tenant (a guest of a multi-tenant app) is exchanged
// in that tenant, where the fake knows no such tenant.
func TestOnBehalfOfCallerTenant(t *testing.T) {
	s := newTenant(t, pbitest.Options{})
	o := newOnBehalfOf(t, tenantConfig(s), 0)
	const other = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"
	_, err := o.Token(callerContext(t, s.IssueCallerToken(pbitest.CallerTokenOptions{TenantID: other})))
	var e *auth.Error
	if !errors.As(err, &e) || e.AADSTS != "AADSTS90002" {
		t.Fatalf("err = %v, want the other tenant's AADSTS90002", err)
	}
	var asked bool
	for _, r := range s.Requests() {
		// MSAL reads that tenant's OpenID configuration first.
		asked = asked || strings.HasPrefix(r.Path, "/"+other+"/")
	}
	if !asked {
		t.Errorf("the exchange was not sent to the caller's tenant")
	}
}

// BenchmarkOnBehalfOfWarm is Token for users whose tokens are cached, the
// cost added to every Power BI request of a caller, with 1000 users cached
// and calls from many goroutines.
func BenchmarkOnBehalfOfWarm(b *testing.B) {
	s := pbitest.NewServer(pbitest.Options{})
	defer s.Close()
	o, err := auth.NewOnBehalfOf(tenantConfig(s), 0)
	if err != nil {
		b.Fatal(err)
	}
	ctxs := make([]context.Context, auth.DefaultOnBehalfOfCacheSize)
	for i := range ctxs {
		ctxs[i] = callerContext(b, s.IssueCallerToken(pbitest.CallerTokenOptions{User: fmt.Sprintf("user%d@contoso.com", i)}))
		if _, err := o.Token(ctxs[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	var n atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := o.Token(ctxs[n.Add(1)%int64(len(ctxs))]); err != nil {
				b.Error(err)
			}
		}
	})
	if st := o.Stats(); st.Exchanges != int64(len(ctxs)) {
		b.Errorf("%d exchanges, want one per user", st.Exchanges)
	}
}

// BenchmarkOnBehalfOfExchange is a new user's first call: one exchange
// against the fake tenant over TLS, on a fresh confidential client.
// entra-requests/op counts every request to Entra it takes.
func BenchmarkOnBehalfOfExchange(b *testing.B) {
	s := pbitest.NewServer(pbitest.Options{})
	defer s.Close()
	o, err := auth.NewOnBehalfOf(tenantConfig(s), 0)
	if err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		b.StopTimer()
		ctx := callerContext(b, s.IssueCallerToken(pbitest.CallerTokenOptions{User: fmt.Sprintf("user%d@contoso.com", i)}))
		i++
		b.StartTimer()
		if _, err := o.Token(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(s.Requests()))/float64(i), "entra-requests/op")
}

// Acting for a caller on the Fabric API is the same exchange for Fabric's scope: the caller's
// Fabric token, apart from their Power BI one.
func TestOnBehalfOfForFabric(t *testing.T) {
	s := newTenant(t, pbitest.Options{})
	fc, err := tenantConfig(s).ForFabric()
	if err != nil {
		t.Fatal(err)
	}
	o := newOnBehalfOf(t, fc, 0)
	ctx := userContext(t, s, "adele@contoso.com")
	c := jwtClaims(t, oboToken(t, o, ctx))
	if c["upn"] != "adele@contoso.com" || c["aud"] != auth.FabricResource {
		t.Errorf("got a token with upn %v, aud %v; want adele's Fabric token", c["upn"], c["aud"])
	}
}
