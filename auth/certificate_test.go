package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // the certificate thumbprint
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
	"software.sslmate.com/src/go-pkcs12"
)

// certTenant is a seeded tenant whose app has a certificate uploaded, and
// the certificate with its key in PEM form.
func certTenant(t *testing.T) (*pbitest.Server, *x509.Certificate, []byte, []byte) {
	t.Helper()
	s := newTenant(t, pbitest.Options{})
	key := rsaKeys()[0]
	cert := newCertificate(t, "powerbi-mcp", key, time.Now().Add(24*time.Hour), nil, nil)
	s.AddClientCertificate(cert)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return s, cert, pemBlock("CERTIFICATE", cert.Raw), pemBlock("PRIVATE KEY", pkcs8)
}

func thumbprint(c *x509.Certificate) string {
	sum := sha1.Sum(c.Raw) //nolint:gosec // see import
	return fmt.Sprintf("%X", sum[:])
}

// keyExcerpt is a line from the middle of a PEM key: if it shows up in
// output, key material leaked.
func keyExcerpt(keyPEM []byte) string {
	lines := strings.Split(string(keyPEM), "\n")
	return lines[len(lines)/2]
}

func TestCertificatePEMSignsIn(t *testing.T) {
	s, cert, certPEM, keyPEM := certTenant(t)
	pkcs1 := pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKeys()[0]))
	for name, file := range map[string][]byte{
		"PKCS#8 key after the certificate":  append(append([]byte{}, certPEM...), keyPEM...),
		"PKCS#1 key before the certificate": append(append([]byte{}, pkcs1...), certPEM...),
	} {
		t.Run(name, func(t *testing.T) {
			s.ResetRequests()
			logger, logs := traceLogger()
			cfg := appConfig(s)
			cfg.Kind = auth.KindCertificate
			cfg.CertificatePath = writeFile(t, "cert.pem", file)
			cfg.Logger = logger
			src := newSource(t, cfg)
			listWorkspaces(t, s, src)

			got := s.ClientAssertions()
			if len(got) != 1 || got[0].Thumbprint != thumbprint(cert) || got[0].X5C {
				t.Errorf("assertions the token endpoint accepted: %+v, want one for %s without x5c", got, thumbprint(cert))
			}
			d := src.Describe()
			for _, want := range []string{"certificate", thumbprint(cert), s.TenantID(), s.ClientID()} {
				if !strings.Contains(d, want) {
					t.Errorf("Describe() = %q, want it to mention %q", d, want)
				}
			}
			tok, _ := src.Token(context.Background())
			checkNoLeak(t, map[string]string{"key": keyExcerpt(keyPEM), "PKCS#1 key": keyExcerpt(pkcs1), "token": tok}, d, logs.String())
		})
	}
}

func TestCertificatePFXSignsIn(t *testing.T) {
	s, cert, _, _ := certTenant(t)
	const password = "pfx-Passw0rd-from-Windows-export"
	pfx, err := pkcs12.Modern.Encode(rsaKeys()[0], cert, nil, password)
	if err != nil {
		t.Fatal(err)
	}
	cfg := appConfig(s)
	cfg.Kind = auth.KindCertificate
	cfg.CertificatePath = writeFile(t, "cert.pfx", pfx)
	cfg.CertificatePassword = password
	logger, logs := traceLogger()
	cfg.Logger = logger
	src := newSource(t, cfg)
	listWorkspaces(t, s, src)
	if got := s.ClientAssertions(); len(got) != 1 || got[0].Thumbprint != thumbprint(cert) {
		t.Errorf("assertions accepted: %+v", got)
	}
	checkNoLeak(t, map[string]string{"password": password}, src.Describe(), logs.String())
}

func TestCertificateOneRequestPerAcquisition(t *testing.T) {
	s, _, certPEM, keyPEM := certTenant(t)
	cfg := appConfig(s)
	cfg.Kind = auth.KindCertificate
	cfg.CertificatePath = writeFile(t, "cert.pem", append(certPEM, keyPEM...))
	checkOneRequestPerAcquisition(t, s, newSource(t, cfg), s.TokenRequests)
}

// TestCertificateSendsChainWhenAsked: subject name and issuer
// authentication needs the chain in the assertion (x5c), which
// AZURE_CLIENT_SEND_CERTIFICATE_CHAIN turns on.
func TestCertificateSendsChainWhenAsked(t *testing.T) {
	s := newTenant(t, pbitest.Options{})
	keys := rsaKeys()
	ca := newCertificate(t, "Contoso Issuing CA", keys[2], time.Now().Add(48*time.Hour), nil, nil)
	leaf := newCertificate(t, "powerbi-mcp.contoso.com", keys[1], time.Now().Add(24*time.Hour), ca, keys[2])
	s.AddClientCertificateSubject("powerbi-mcp.contoso.com", ca)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(keys[1])
	file := append(append(pemBlock("CERTIFICATE", leaf.Raw), pemBlock("CERTIFICATE", ca.Raw)...), pemBlock("PRIVATE KEY", pkcs8)...)
	cfg := appConfig(s)
	cfg.Kind = auth.KindCertificate
	cfg.CertificatePath = writeFile(t, "chain.pem", file)

	_, err := newSource(t, cfg).Token(context.Background())
	var e *auth.Error
	if !errorsAs(err, &e) || e.AADSTS != "AADSTS700027" || !strings.Contains(e.Fix, auth.EnvSendCertificateChain+"=true") {
		t.Fatalf("without the chain: err = %v, want AADSTS700027 with a fix naming %s", err, auth.EnvSendCertificateChain)
	}

	cfg.SendCertificateChain = true
	listWorkspaces(t, s, newSource(t, cfg))
	if got := s.ClientAssertions(); len(got) != 1 || !got[0].X5C || got[0].Thumbprint != thumbprint(leaf) {
		t.Errorf("assertions accepted: %+v, want one with x5c", got)
	}
}

func TestCertificateNotUploadedIsExplained(t *testing.T) {
	s, _, _, _ := certTenant(t)
	other := newCertificate(t, "powerbi-mcp", rsaKeys()[1], time.Now().Add(time.Hour), nil, nil)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(rsaKeys()[1])
	cfg := appConfig(s)
	cfg.Kind = auth.KindCertificate
	cfg.CertificatePath = writeFile(t, "other.pem", append(pemBlock("CERTIFICATE", other.Raw), pemBlock("PRIVATE KEY", pkcs8)...))
	_, err := newSource(t, cfg).Token(context.Background())
	var e *auth.Error
	if !errorsAs(err, &e) || e.AADSTS != "AADSTS700027" || e.StatusCode != 401 ||
		!strings.Contains(e.Fix, "Certificates & secrets") || !strings.Contains(e.Fix, auth.EnvCertificatePath) {
		t.Fatalf("err = %v, want AADSTS700027 with a fix naming the portal page and %s", err, auth.EnvCertificatePath)
	}
	if !strings.Contains(err.Error(), "Entra ID did not accept the certificate") {
		t.Errorf("err = %v", err)
	}
}

// TestExpiredCertificateWarns: an expired certificate is Entra's to refuse
// (it knows the uploaded certificate's dates); the source warns at start
// and lets it answer.
func TestExpiredCertificateWarns(t *testing.T) {
	s := newTenant(t, pbitest.Options{})
	expired := newCertificate(t, "powerbi-mcp", rsaKeys()[0], time.Now().Add(-time.Hour), nil, nil)
	s.AddClientCertificate(expired)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(rsaKeys()[0])
	logger, logs := traceLogger()
	cfg := appConfig(s)
	cfg.Kind = auth.KindCertificate
	cfg.CertificatePath = writeFile(t, "expired.pem", append(pemBlock("CERTIFICATE", expired.Raw), pemBlock("PRIVATE KEY", pkcs8)...))
	cfg.Logger = logger
	src := newSource(t, cfg)
	if out := logs.String(); !strings.Contains(out, `"level":"warn"`) || !strings.Contains(out, "has expired") ||
		!strings.Contains(out, auth.EnvCertificatePath) || !strings.Contains(out, thumbprint(expired)) {
		t.Errorf("no warning naming the expired certificate: %s", out)
	}
	_, err := src.Token(context.Background())
	var e *auth.Error
	if !errorsAs(err, &e) || e.AADSTS != "AADSTS700027" || !strings.Contains(e.Description, "The key used is expired.") || s.TokenRequests() != 1 {
		t.Errorf("err = %v (%d token requests), want Entra's AADSTS700027 'The key used is expired.'", err, s.TokenRequests())
	}
}

func TestCertificateFileErrors(t *testing.T) {
	key := rsaKeys()[0]
	cert := newCertificate(t, "powerbi-mcp", key, time.Now().Add(time.Hour), nil, nil)
	certPEM := pemBlock("CERTIFICATE", cert.Raw)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(key)
	keyPEM := pemBlock("PRIVATE KEY", pkcs8)
	const password = "the-right-pfx-password"
	pfx, err := pkcs12.Modern.Encode(key, cert, nil, password)
	if err != nil {
		t.Fatal(err)
	}
	//nolint:staticcheck // legacy encrypted PEM, as old openssl writes it
	legacy, err := x509.EncryptPEMBlock(rand.Reader, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key), []byte(password), x509.PEMCipherAES256)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecPKCS8, _ := x509.MarshalPKCS8PrivateKey(ecKey)
	ecSEC1, _ := x509.MarshalECPrivateKey(ecKey)
	otherPKCS8, _ := x509.MarshalPKCS8PrivateKey(rsaKeys()[1])
	dir := t.TempDir()

	cases := []struct {
		name     string
		path     string
		password string
		want     []string
	}{
		{"missing file", dir + "/nope.pem", "", []string{auth.EnvCertificatePath, "does not exist", "PKCS#12"}},
		{"unreadable", dir, "", []string{"cannot read " + auth.EnvCertificatePath, "permissions"}},
		{"wrong PFX password", writeFile(t, "c.pfx", pfx), "not-it", []string{auth.EnvCertificatePassword, "password is wrong"}},
		{"PFX without password", writeFile(t, "c.pfx", pfx), "", []string{"set " + auth.EnvCertificatePassword}},
		{"encrypted PKCS#8 PEM", writeFile(t, "c.pem", append(pemBlock("ENCRYPTED PRIVATE KEY", []byte("opaque")), certPEM...)), "",
			[]string{"is encrypted", "openssl pkey", "openssl pkcs12 -export", auth.EnvCertificatePassword}},
		{"legacy encrypted PEM", writeFile(t, "c.pem", append(pem.EncodeToMemory(legacy), certPEM...)), password, []string{"is encrypted", "openssl pkey"}},
		{"EC key (PKCS#8)", writeFile(t, "c.pem", append(pemBlock("PRIVATE KEY", ecPKCS8), certPEM...)), "", []string{"an EC key", "must have an RSA key", "rsa:2048"}},
		{"EC key (SEC 1)", writeFile(t, "c.pem", append(pemBlock("EC PRIVATE KEY", ecSEC1), certPEM...)), "", []string{"an EC key", "RSA"}},
		{"no private key", writeFile(t, "c.pem", certPEM), "", []string{"holds no private key", auth.EnvCertificatePath}},
		{"no certificate", writeFile(t, "c.pem", keyPEM), "", []string{"no certificate", "append the certificate"}},
		{"key of another certificate", writeFile(t, "c.pem", append(pemBlock("PRIVATE KEY", otherPKCS8), certPEM...)), "", []string{"none of the certificates", "belongs to its private key"}},
		{"neither PEM nor PKCS#12", writeFile(t, "c.cer", []byte("this is not a certificate")), "", []string{"neither a PEM file nor a PKCS#12"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := auth.New(auth.Config{Kind: auth.KindCertificate, TenantID: "contoso.onmicrosoft.com", ClientID: "app",
				CertificatePath: c.path, CertificatePassword: c.password})
			if err == nil {
				t.Fatal("New succeeded")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			checkNoLeak(t, map[string]string{"password": password, "key": keyExcerpt(keyPEM), "wrong password": c.password}, err.Error())
		})
	}

	_, err = auth.New(auth.Config{Kind: auth.KindCertificate, TenantID: "t"})
	if err == nil || !strings.Contains(err.Error(), auth.EnvClientID+" and "+auth.EnvCertificatePath+" are not set") {
		t.Errorf("missing settings: %v", err)
	}
	if _, err := os.Stat(dir + "/nope.pem"); err == nil {
		t.Fatal("test setup")
	}
}
