package auth

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // the thumbprint the Azure portal shows, not a security check
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"software.sslmate.com/src/go-pkcs12"
)

// NewCertificate returns a source that signs in as a service principal with
// a certificate: MSAL signs a client assertion with the certificate's
// private key and Entra ID checks it against the certificate uploaded to the
// app registration. CertificatePath names a PEM file (the certificate and an
// unencrypted RSA key, PKCS#1 or PKCS#8) or a PKCS#12 file (.pfx/.p12, as
// Windows exports certificates) opened with CertificatePassword. With
// SendCertificateChain the assertion carries the chain (x5c), which
// subject name and issuer authentication requires. The file is read here,
// so that its problems surface at start-up; there is no network I/O.
func NewCertificate(cfg Config) (TokenSource, error) {
	if err := missingVars("a service principal with a certificate",
		setting{EnvTenantID, cfg.TenantID},
		setting{EnvClientID, cfg.ClientID},
		setting{EnvCertificatePath, cfg.CertificatePath}); err != nil {
		return nil, err
	}
	certs, key, err := loadCertificate(cfg.CertificatePath, cfg.CertificatePassword)
	if err != nil {
		return nil, err
	}
	cred, err := confidential.NewCredFromCert(certs, key)
	if err != nil {
		// loadCertificate has checked the key type and found the key's
		// certificate, so this is not expected.
		return nil, fmt.Errorf("%s: %w", EnvCertificatePath, err)
	}
	leaf := certs[0]
	thumbprint := certificateThumbprint(leaf)
	if now := time.Now(); now.After(leaf.NotAfter) {
		// Entra ID decides: it checks the uploaded certificate's dates, and
		// its answer (AADSTS700027) names the fix. The warning says why
		// ahead of that.
		cfg.Logger.Warn().Str("certificate", thumbprint).Time("not_after", leaf.NotAfter).
			Msg("the certificate in " + EnvCertificatePath + " has expired; Entra ID will likely refuse it: upload a new certificate to the app registration's Certificates & secrets page and point " + EnvCertificatePath + " at it")
	}
	var opts []confidential.Option
	if cfg.SendCertificateChain {
		opts = append(opts, confidential.WithX5C())
	}
	sp, err := newServicePrincipal(cfg, "certificate "+thumbprint, cred, nil, opts...)
	if err != nil {
		return nil, err
	}
	return newCachedSource(sp, cfg), nil
}

// certificateThumbprint is the SHA-1 thumbprint in the form the app
// registration's Certificates & secrets page lists it, so that a user can
// tell which uploaded certificate this is.
func certificateThumbprint(cert *x509.Certificate) string {
	sum := sha1.Sum(cert.Raw) //nolint:gosec // see import
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// loadCertificate reads a PEM or PKCS#12 file and returns its certificates,
// the one belonging to the private key first, and the RSA private key. Its
// errors name the variable to change and how; they never contain the
// password or key material.
func loadCertificate(path, password string) ([]*x509.Certificate, *rsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, fmt.Errorf("%s names %q, which does not exist; set it to the path of a PEM or PKCS#12 (.pfx/.p12) file holding the app registration's certificate and its private key",
				EnvCertificatePath, path)
		}
		return nil, nil, fmt.Errorf("cannot read %s %q (check the file's permissions): %w", EnvCertificatePath, path, fileReason(err))
	}
	var certs []*x509.Certificate
	var key crypto.PrivateKey
	if bytes.Contains(data, []byte("-----BEGIN")) {
		certs, key, err = parsePEMCertificate(path, data)
	} else {
		certs, key, err = parsePKCS12Certificate(path, data, password)
	}
	if err != nil {
		return nil, nil, err
	}
	rsaKey, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, nil, fmt.Errorf("the private key in %s %q is %s, but a certificate credential for Entra ID must have an RSA key: create an RSA certificate (e.g. openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 365 -subj /CN=powerbi-mcp), upload cert.pem to the app registration's Certificates & secrets page and set %s to a file holding both",
			EnvCertificatePath, path, keyKind(key), EnvCertificatePath)
	}
	// Put the key's certificate first: it is the one Entra ID knows, the
	// others are its chain.
	for i, c := range certs {
		if pub, ok := c.PublicKey.(*rsa.PublicKey); ok && pub.Equal(rsaKey.Public()) {
			certs[0], certs[i] = certs[i], certs[0]
			return certs, rsaKey, nil
		}
	}
	return nil, nil, fmt.Errorf("none of the certificates in %s %q belongs to its private key; put the certificate uploaded to the app registration into the file together with its own private key",
		EnvCertificatePath, path)
}

// parsePEMCertificate reads CERTIFICATE blocks and one private key block.
func parsePEMCertificate(path string, data []byte) ([]*x509.Certificate, crypto.PrivateKey, error) {
	var certs []*x509.Certificate
	var key crypto.PrivateKey
	encrypted := fmt.Errorf("the private key in %s %q is encrypted, which a PEM file here must not be; either write it unencrypted (openssl pkey -in %s -out key.pem, then put key.pem and the certificate into one file, readable only by this user) or convert both to PKCS#12 (openssl pkcs12 -export -in cert.pem -inkey key.pem -out cert.pfx) and set %s to the .pfx and %s to its password",
		EnvCertificatePath, path, path, EnvCertificatePath, EnvCertificatePassword)
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		var err error
		switch block.Type {
		case "CERTIFICATE":
			var c *x509.Certificate
			if c, err = x509.ParseCertificate(block.Bytes); err == nil {
				certs = append(certs, c)
			}
		case "ENCRYPTED PRIVATE KEY":
			return nil, nil, encrypted
		case "RSA PRIVATE KEY":
			if strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED") {
				return nil, nil, encrypted
			}
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(block.Bytes)
		}
		if err != nil {
			// x509's errors describe the structure, never the bytes.
			return nil, nil, fmt.Errorf("%s %q has a %s block that cannot be read: %v", EnvCertificatePath, path, block.Type, err)
		}
	}
	if key == nil {
		return nil, nil, fmt.Errorf("%s %q holds no private key; put the certificate and its private key (\"PRIVATE KEY\" or \"RSA PRIVATE KEY\") into one PEM file, or use the .pfx exported with the private key",
			EnvCertificatePath, path)
	}
	if len(certs) == 0 {
		return nil, nil, fmt.Errorf("%s %q holds a private key but no certificate; append the certificate (the \"CERTIFICATE\" block uploaded to the app registration) to the file",
			EnvCertificatePath, path)
	}
	return certs, key, nil
}

// parsePKCS12Certificate opens a .pfx/.p12 file with password.
func parsePKCS12Certificate(path string, data []byte, password string) ([]*x509.Certificate, crypto.PrivateKey, error) {
	key, cert, chain, err := pkcs12.DecodeChain(data, password)
	switch {
	case errors.Is(err, pkcs12.ErrIncorrectPassword):
		if password == "" {
			return nil, nil, fmt.Errorf("%s %q is a password-protected PKCS#12 file; set %s to the password it was exported with",
				EnvCertificatePath, path, EnvCertificatePassword)
		}
		return nil, nil, fmt.Errorf("%s does not open %s %q: the password is wrong; set it to the password the file was exported with",
			EnvCertificatePassword, EnvCertificatePath, path)
	case err != nil && strings.Contains(err.Error(), "private key missing"):
		return nil, nil, fmt.Errorf("%s %q holds no private key; export the certificate again with its private key (Windows: 'Yes, export the private key', .pfx)",
			EnvCertificatePath, path)
	case err != nil && strings.Contains(err.Error(), "certificate missing"):
		return nil, nil, fmt.Errorf("%s %q holds a private key but no certificate; export the certificate with its private key into one .pfx",
			EnvCertificatePath, path)
	case err != nil:
		return nil, nil, fmt.Errorf("%s %q is neither a PEM file nor a PKCS#12 (.pfx/.p12) file that can be read (%v); set it to a PEM file with the certificate and an unencrypted RSA key, or to a .pfx",
			EnvCertificatePath, path, err)
	}
	return append([]*x509.Certificate{cert}, chain...), key, nil
}

// keyKind names a private key's algorithm for an error message.
func keyKind(key crypto.PrivateKey) string {
	switch key.(type) {
	case *ecdsa.PrivateKey:
		return "an EC key"
	case ed25519.PrivateKey:
		return "an Ed25519 key"
	default:
		return fmt.Sprintf("a %T key", key)
	}
}

// fileReason is why a file operation failed, without the path that the
// message around it already names.
func fileReason(err error) error {
	var pathErr *os.PathError
	if errors.As(err, &pathErr) {
		return pathErr.Err
	}
	return err
}
