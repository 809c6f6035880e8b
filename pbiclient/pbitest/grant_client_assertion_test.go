package pbitest

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
)

// testKeys caches RSA keys: generating them is slow, and tests need only a
// few distinct ones.
var testKeys = func() []*rsa.PrivateKey {
	keys := make([]*rsa.PrivateKey, 3)
	for i := range keys {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		keys[i] = k
	}
	return keys
}()

// newCert makes a certificate for key valid for a day, self-signed or
// issued by parent.
func newCert(t *testing.T, cn string, key *rsa.PrivateKey, parent *x509.Certificate, parentKey *rsa.PrivateKey, ca bool) *x509.Certificate {
	t.Helper()
	return newCertUntil(t, cn, key, parent, parentKey, ca, time.Now().Add(24*time.Hour))
}

func newCertUntil(t *testing.T, cn string, key *rsa.PrivateKey, parent *x509.Certificate, parentKey *rsa.PrivateKey, ca bool, notAfter time.Time) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-48 * time.Hour),
		NotAfter:              notAfter,
		IsCA:                  ca,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var pbiScopes = []string{"https://analysis.windows.net/powerbi/api/.default"}

func msalClient(t *testing.T, s *Server, cred confidential.Credential, opts ...confidential.Option) confidential.Client {
	t.Helper()
	opts = append(opts, confidential.WithHTTPClient(s.Client()), confidential.WithInstanceDiscovery(false))
	c, err := confidential.New(s.AuthorityHost()+"/"+s.TenantID(), s.ClientID(), cred, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func tokenClaims(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT")
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

// TestMSALCertificateCredential: MSAL's PS256 assertion, signed with the
// key of an uploaded certificate, is accepted; Power BI takes the token.
func TestMSALCertificateCredential(t *testing.T) {
	s := newTestServer(t, Options{})
	cert := newCert(t, "powerbi-mcp", testKeys[0], nil, nil, false)
	s.AddClientCertificate(cert)
	cred, err := confidential.NewCredFromCert([]*x509.Certificate{cert}, testKeys[0])
	if err != nil {
		t.Fatal(err)
	}
	res, err := msalClient(t, s, cred).AcquireTokenByCredential(context.Background(), pbiScopes)
	if err != nil {
		t.Fatalf("AcquireTokenByCredential: %v", err)
	}
	wantStatus(t, do(t, s, "GET", apiPrefix+"/groups", res.AccessToken, nil), http.StatusOK)
	if c := tokenClaims(t, res.AccessToken); c["appid"] != s.ClientID() || c["appidacr"] != "2" {
		t.Errorf("token claims %v, want the app with appidacr 2 (certificate)", c)
	}
	got := s.ClientAssertions()
	if len(got) != 1 || got[0].Federated || got[0].X5C || got[0].Subject != s.ClientID() || got[0].JTI == "" || len(got[0].Thumbprint) != 40 {
		t.Errorf("recorded assertions %+v", got)
	}

	// An uploaded certificate past its end date.
	expired := newCertUntil(t, "powerbi-mcp", testKeys[2], nil, nil, false, time.Now().Add(-time.Minute))
	s.AddClientCertificate(expired)
	cred, _ = confidential.NewCredFromCert([]*x509.Certificate{expired}, testKeys[2])
	_, err = msalClient(t, s, cred).AcquireTokenByCredential(context.Background(), pbiScopes)
	if err == nil || !strings.Contains(err.Error(), "AADSTS700027: Client assertion contains an invalid signature. [Reason - The key used is expired.") {
		t.Errorf("expired certificate: err = %v", err)
	}

	// A certificate the app registration does not have.
	other := newCert(t, "powerbi-mcp", testKeys[1], nil, nil, false)
	cred, _ = confidential.NewCredFromCert([]*x509.Certificate{other}, testKeys[1])
	_, err = msalClient(t, s, cred).AcquireTokenByCredential(context.Background(), pbiScopes)
	if err == nil || !strings.Contains(err.Error(), "AADSTS700027: Client assertion contains an invalid signature. [Reason - The key was not found.") ||
		!strings.Contains(err.Error(), `"error":"invalid_client"`) || !strings.Contains(err.Error(), "401") {
		t.Errorf("unknown certificate: err = %v", err)
	}
}

// TestMSALCertificateSubjectNameIssuer: with subject name and issuer
// authentication the certificate itself is not uploaded, so the assertion
// must carry it (x5c).
func TestMSALCertificateSubjectNameIssuer(t *testing.T) {
	s := newTestServer(t, Options{})
	ca := newCert(t, "Contoso CA", testKeys[2], nil, nil, true)
	leaf := newCert(t, "powerbi-mcp.contoso.com", testKeys[0], ca, testKeys[2], false)
	s.AddClientCertificateSubject("powerbi-mcp.contoso.com", ca)
	cred, err := confidential.NewCredFromCert([]*x509.Certificate{leaf, ca}, testKeys[0])
	if err != nil {
		t.Fatal(err)
	}
	_, err = msalClient(t, s, cred).AcquireTokenByCredential(context.Background(), pbiScopes)
	if err == nil || !strings.Contains(err.Error(), "AADSTS700027") {
		t.Fatalf("without x5c: err = %v, want AADSTS700027", err)
	}
	if _, err := msalClient(t, s, cred, confidential.WithX5C()).AcquireTokenByCredential(context.Background(), pbiScopes); err != nil {
		t.Fatalf("with x5c: %v", err)
	}
	if got := s.ClientAssertions(); len(got) != 1 || !got[0].X5C {
		t.Errorf("recorded assertions %+v, want one with x5c", got)
	}
	// The same subject from another issuer is not trusted.
	rogue := newCert(t, "powerbi-mcp.contoso.com", testKeys[1], nil, nil, false)
	cred, _ = confidential.NewCredFromCert([]*x509.Certificate{rogue}, testKeys[1])
	if _, err := msalClient(t, s, cred, confidential.WithX5C()).AcquireTokenByCredential(context.Background(), pbiScopes); err == nil ||
		!strings.Contains(err.Error(), "AADSTS700027") {
		t.Errorf("self-signed certificate with the trusted subject: err = %v", err)
	}
}

// signAssertion builds a certificate assertion by hand, to send what MSAL
// never would.
func signAssertion(t *testing.T, key *rsa.PrivateKey, cert *x509.Certificate, claims map[string]any) string {
	t.Helper()
	sum := sha256.Sum256(cert.Raw)
	header, _ := json.Marshal(map[string]string{"alg": "PS256", "typ": "JWT", "x5t#S256": base64.StdEncoding.EncodeToString(sum[:])})
	payload, _ := json.Marshal(claims)
	input := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
	digest := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPSS(rand.Reader, key, crypto.SHA256, digest[:], nil)
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func TestClientAssertionErrors(t *testing.T) {
	s := newTestServer(t, Options{})
	cert := newCert(t, "powerbi-mcp", testKeys[0], nil, nil, false)
	s.AddClientCertificate(cert)
	endpoint := s.URL() + "/" + s.TenantID() + "/oauth2/v2.0/token"
	now := time.Now()
	good := func() map[string]any {
		return map[string]any{"aud": endpoint, "iss": s.ClientID(), "sub": s.ClientID(), "jti": newGUID(),
			"nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()}
	}
	with := func(k string, v any) map[string]any { c := good(); c[k] = v; return c }
	cases := []struct {
		name      string
		assertion string
		status    int
		code      string
		prefix    string
	}{
		{"valid", signAssertion(t, testKeys[0], cert, good()), 200, "", ""},
		{"wrong key", signAssertion(t, testKeys[1], cert, good()), 401, "invalid_client",
			"AADSTS700027: Client assertion contains an invalid signature. [Reason - The provided signature value did not match the expected signature value."},
		{"expired", signAssertion(t, testKeys[0], cert, with("exp", now.Add(-time.Minute).Unix())), 401, "invalid_client",
			"AADSTS700024: Client assertion is not within its valid time range."},
		{"audience", signAssertion(t, testKeys[0], cert, with("aud", "https://login.microsoftonline.com/other/oauth2/v2.0/token")), 401, "invalid_client",
			"AADSTS700023: Client assertion audience claim does not match Realm issuer."},
		{"subject", signAssertion(t, testKeys[0], cert, with("sub", "someone-else")), 401, "invalid_client",
			"AADSTS700021: Client assertion application identifier doesn't match 'client_id' parameter."},
		{"garbage", "not-a-jwt", 401, "invalid_client", "AADSTS50027: JWT token is invalid or malformed."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := postForm(t, s, s.TenantID(), url.Values{
				"grant_type": {"client_credentials"}, "client_id": {s.ClientID()}, "scope": {pbiScopes[0]},
				"client_assertion_type": {clientAssertionType}, "client_assertion": {c.assertion},
			})
			wantStatus(t, r, c.status)
			if c.status == 200 {
				return
			}
			e := r.json(t)
			if e["error"] != c.code || !strings.HasPrefix(e["error_description"].(string), c.prefix) {
				t.Errorf("answer %s", r.body)
			}
		})
	}
}

// TestMSALFederatedCredential: a token of the external issuer, matching a
// federated credential, signs the app in; others are refused as Entra does.
func TestMSALFederatedCredential(t *testing.T) {
	s := newTestServer(t, Options{})
	const subject = "system:serviceaccount:default:powerbi-mcp"
	s.AddFederatedCredential(FederatedCredential{Subject: subject})
	acquire := func(assertion string) (confidential.AuthResult, error) {
		cred := confidential.NewCredFromAssertionCallback(func(context.Context, confidential.AssertionRequestOptions) (string, error) {
			return assertion, nil
		})
		return msalClient(t, s, cred).AcquireTokenByCredential(context.Background(), pbiScopes)
	}
	res, err := acquire(s.IssueFederatedToken(subject, time.Hour))
	if err != nil {
		t.Fatalf("AcquireTokenByCredential: %v", err)
	}
	wantStatus(t, do(t, s, "GET", apiPrefix+"/groups", res.AccessToken, nil), http.StatusOK)
	if got := s.ClientAssertions(); len(got) != 1 || !got[0].Federated || got[0].Subject != subject || got[0].Issuer != s.FederatedIssuer() {
		t.Errorf("recorded assertions %+v", got)
	}

	for _, c := range []struct {
		name, assertion, want string
	}{
		{"unknown subject", s.IssueFederatedToken("system:serviceaccount:default:other", time.Hour),
			"AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: '" + s.FederatedIssuer() + "'. Assertion Subject: 'system:serviceaccount:default:other'."},
		{"expired", s.IssueFederatedToken(subject, -time.Minute), "AADSTS700024: Client assertion is not within its valid time range."},
		{"unknown issuer", newTestServer(t, Options{}).IssueFederatedToken(subject, time.Hour), "AADSTS700211: No matching federated identity record found for presented assertion issuer"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := acquire(c.assertion)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want %q", err, c.want)
			}
		})
	}
}
