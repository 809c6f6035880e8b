package pbitest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // x5t is defined as the SHA-1 thumbprint
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// A confidential client may prove who it is with a signed JWT, the client
// assertion (RFC 7523), instead of a secret:
//
//   - a certificate credential: the app signs the assertion itself (MSAL:
//     PS256, header x5t#S256, iss = sub = client id, aud = the token
//     endpoint, jti, nbf, exp ten minutes on) with the key of a certificate
//     uploaded to the app registration, or, for subject name and issuer
//     authentication, of any certificate with the registered subject from
//     the registered issuer, sent along in the x5c header;
//   - a federated credential (workload identity federation): the assertion
//     is a token of another identity provider (a Kubernetes service account
//     token, a GitHub Actions OIDC token) whose issuer, subject and audience
//     match a federated credential of the app.
//
// Entra tells the two apart by the issuer: the app's own assertions have
// iss = client id.

// clientAssertionType is the only client_assertion_type Entra accepts.
const clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// FederatedAudience is the audience Entra requires of federated assertions
// unless a federated credential says otherwise.
const FederatedAudience = "api://AzureADTokenExchange"

// certificateDocs is the link Entra's certificate assertion errors end with.
const certificateDocs = " Review the documentation at https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials ."

// FederatedCredential is a federated identity credential of the app: Entra
// accepts an assertion from Issuer about Subject for Audience.
type FederatedCredential struct {
	Issuer   string // default FederatedIssuer()
	Subject  string // e.g. "system:serviceaccount:default:powerbi-mcp"
	Audience string // default FederatedAudience
}

// ClientAssertion is a client assertion the token endpoint accepted, for
// tests to check what the client sent. It holds no signature.
type ClientAssertion struct {
	Federated  bool   // a federated credential's token, not the app's own assertion
	Issuer     string // iss
	Subject    string // sub
	JTI        string // jti
	Thumbprint string // certificate assertions: the SHA-1 thumbprint (hex) of the certificate used
	X5C        bool   // certificate assertions: the header carried the chain
}

// certSubject is a subject name and issuer registration.
type certSubject struct {
	subject string
	issuer  *x509.Certificate
}

// AddClientCertificate uploads cert to the app registration: assertions
// signed with its key authenticate the service principal while the
// certificate is valid (Entra keeps its validity period with the key).
func (s *Server) AddClientCertificate(cert *x509.Certificate) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clientCerts = append(s.clientCerts, cert)
}

// AddClientCertificateSubject sets up subject name and issuer authentication
// (the manifest's trustedCertificateSubjects): an assertion signed with any
// certificate whose subject common name is subject, issued by issuer and
// sent in the x5c header, authenticates the service principal. Without x5c
// Entra cannot find such a certificate.
func (s *Server) AddClientCertificateSubject(subject string, issuer *x509.Certificate) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.certSubjects = append(s.certSubjects, certSubject{subject, issuer})
}

// AddFederatedCredential adds a federated identity credential to the app.
func (s *Server) AddFederatedCredential(fc FederatedCredential) {
	if fc.Issuer == "" {
		fc.Issuer = s.FederatedIssuer()
	}
	if fc.Audience == "" {
		fc.Audience = FederatedAudience
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.federated = append(s.federated, fc)
}

// FederatedIssuer is the issuer of the tokens IssueFederatedToken makes,
// the stand-in for e.g. an AKS cluster's OIDC issuer URL.
func (s *Server) FederatedIssuer() string { return s.URL() + "/federation" }

// IssueFederatedToken returns a token of the external identity provider
// FederatedIssuer for subject, audience FederatedAudience, valid for
// lifetime (<= 0: already expired), signed with a key only this server
// knows: what the kubelet writes to AZURE_FEDERATED_TOKEN_FILE. Each call
// gives a token with a new jti.
func (s *Server) IssueFederatedToken(subject string, lifetime time.Duration) string {
	now := time.Now()
	claims := map[string]any{
		"aud": []string{FederatedAudience},
		"exp": now.Add(lifetime).Unix(),
		"iat": now.Add(-time.Minute).Unix(),
		"iss": s.FederatedIssuer(),
		"jti": newGUID(),
		"nbf": now.Add(-time.Minute).Unix(),
		"sub": subject,
	}
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "kid": "pbitest-federation", "typ": "JWT"})
	payload, _ := json.Marshal(claims)
	input := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
	digest := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.federationKey(), crypto.SHA256, digest[:])
	if err != nil {
		panic("pbitest: signing a federated token: " + err.Error())
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// federationKey is made on first use: RSA key generation takes a while,
// and most tests never need it.
func (s *Server) federationKey() *rsa.PrivateKey {
	s.federationOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic("pbitest: generating the federation key: " + err.Error())
		}
		s.federationSigner = k
	})
	return s.federationSigner
}

// ClientAssertions returns the client assertions the token endpoint
// accepted, oldest first.
func (s *Server) ClientAssertions() []ClientAssertion {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return append([]ClientAssertion(nil), s.assertions...)
}

// jwtParts is a decoded compact JWT.
type jwtParts struct {
	header       map[string]any
	claims       assertionClaims
	signingInput string
	signature    []byte
}

// assertionClaims are the claims Entra checks in a client assertion. aud
// may be a string or an array.
type assertionClaims struct {
	Aud audience `json:"aud"`
	Iss string   `json:"iss"`
	Sub string   `json:"sub"`
	JTI string   `json:"jti"`
	Exp int64    `json:"exp"`
	Nbf int64    `json:"nbf"`
}

type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	err := json.Unmarshal(b, &many)
	*a = many
	return err
}

func parseJWT(token string) (*jwtParts, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, false
	}
	h, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	c, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, false
	}
	j := &jwtParts{signingInput: parts[0] + "." + parts[1], signature: sig}
	if json.Unmarshal(h, &j.header) != nil || json.Unmarshal(c, &j.claims) != nil {
		return nil, false
	}
	return j, true
}

func invalidClient(aadsts int, message string) *entraError {
	return &entraError{status: http.StatusUnauthorized, code: "invalid_client", aadsts: aadsts, message: message}
}

// authenticateAssertion checks a client_assertion for the app clientID,
// which the caller has checked is this server's.
func (s *Server) authenticateAssertion(r *http.Request, form url.Values, clientID string) *entraError {
	if form.Get("client_assertion_type") != clientAssertionType {
		e := missingParameter("client_assertion_type")
		if form.Has("client_assertion_type") {
			e.message = fmt.Sprintf("The client_assertion_type '%s' is not supported. Use '%s'.", form.Get("client_assertion_type"), clientAssertionType)
		}
		return &e
	}
	j, ok := parseJWT(form.Get("client_assertion"))
	if !ok {
		return invalidClient(50027, "JWT token is invalid or malformed.")
	}
	now := time.Now()
	if j.claims.Exp == 0 || now.Unix() >= j.claims.Exp || (j.claims.Nbf != 0 && now.Add(5*time.Minute).Unix() < j.claims.Nbf) {
		return invalidClient(700024, fmt.Sprintf("Client assertion is not within its valid time range. Current time: %s, assertion valid from %s, expiry time of assertion %s.%s",
			now.UTC().Format("2006-01-02T15:04:05.0000000Z"), time.Unix(j.claims.Nbf, 0).UTC().Format("2006-01-02T15:04:05.0000000Z"),
			time.Unix(j.claims.Exp, 0).UTC().Format("2006-01-02T15:04:05.0000000Z"), certificateDocs))
	}
	if strings.EqualFold(j.claims.Iss, clientID) {
		return s.authenticateCertificate(r, clientID, j)
	}
	return s.authenticateFederated(j)
}

// authenticateCertificate checks the app's own assertion.
func (s *Server) authenticateCertificate(r *http.Request, clientID string, j *jwtParts) *entraError {
	if !strings.EqualFold(j.claims.Sub, clientID) {
		return invalidClient(700021, "Client assertion application identifier doesn't match 'client_id' parameter."+certificateDocs)
	}
	if j.claims.JTI == "" {
		return invalidClient(50027, "JWT token is invalid or malformed.")
	}
	endpoint := s.URL() + "/" + r.PathValue("tenant") + "/oauth2/v2.0/token"
	if len(j.claims.Aud) != 1 || !strings.EqualFold(j.claims.Aud[0], endpoint) {
		return invalidClient(700023, "Client assertion audience claim does not match Realm issuer."+certificateDocs)
	}
	alg, _ := j.header["alg"].(string)
	var hash crypto.Hash
	var thumbprint []byte
	x5tKey := "x5t#S256"
	switch alg {
	case "PS256":
		hash = crypto.SHA256
	case "RS256":
		hash, x5tKey = crypto.SHA256, "x5t"
	default:
		return invalidClient(5002738, fmt.Sprintf("Invalid JWT token. '%s' is not a supported signature algorithm. Supported signing algorithms are: 'RS256, RS384, RS512, PS256, PS384, PS512'", alg))
	}
	if x5t, _ := j.header[x5tKey].(string); x5t != "" {
		thumbprint = decodeBase64Either(x5t)
	}
	var chain []*x509.Certificate
	if raw, ok := j.header["x5c"].([]any); ok {
		for _, c := range raw {
			s, _ := c.(string)
			der, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return invalidClient(50027, "JWT token is invalid or malformed.")
			}
			cert, err := x509.ParseCertificate(der)
			if err != nil {
				return invalidClient(50027, "JWT token is invalid or malformed.")
			}
			chain = append(chain, cert)
		}
	}
	cert := s.assertionCertificate(x5tKey, thumbprint, chain)
	sha1Hex := ""
	if thumbprint != nil {
		sha1Hex = fmt.Sprintf("%X", thumbprint)
	}
	if cert == nil {
		return invalidClient(700027, fmt.Sprintf("Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '%s', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '%s'. Review the documentation at https://docs.microsoft.com/en-us/graph/deployments to determine the corresponding service endpoint and https://docs.microsoft.com/en-us/graph/api/application-get?view=graph-rest-1.0&tabs=http to build a query request URL, such as 'https://graph.microsoft.com/beta/applications/%s']",
			sha1Hex, clientID, clientID))
	}
	if now := time.Now(); now.After(cert.NotAfter) || now.Before(cert.NotBefore) {
		// The app registration's key credential carries the certificate's
		// validity period, and Entra stops accepting it at its end.
		return invalidClient(700027, fmt.Sprintf("Client assertion contains an invalid signature. [Reason - The key used is expired., Thumbprint of key used by client: '%s', Found key 'Start=%s, End=%s']",
			sha1Hex, cert.NotBefore.UTC().Format("01/02/2006 15:04:05"), cert.NotAfter.UTC().Format("01/02/2006 15:04:05")))
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	digest := sha256.Sum256([]byte(j.signingInput))
	var err error
	switch {
	case !ok:
		err = fmt.Errorf("not an RSA key")
	case alg == "PS256":
		err = rsa.VerifyPSS(pub, hash, digest[:], j.signature, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
	default:
		err = rsa.VerifyPKCS1v15(pub, hash, digest[:], j.signature)
	}
	if err != nil {
		return invalidClient(700027, fmt.Sprintf("Client assertion contains an invalid signature. [Reason - The provided signature value did not match the expected signature value., Thumbprint of key used by client: '%s', Found key 'Start=%s, End=%s']",
			sha1Hex, cert.NotBefore.UTC().Format("01/02/2006 15:04:05"), cert.NotAfter.UTC().Format("01/02/2006 15:04:05")))
	}
	sum := sha1.Sum(cert.Raw) //nolint:gosec // a thumbprint
	s.recordAssertion(ClientAssertion{Issuer: j.claims.Iss, Subject: j.claims.Sub, JTI: j.claims.JTI,
		Thumbprint: fmt.Sprintf("%X", sum[:]), X5C: len(chain) > 0})
	return nil
}

// assertionCertificate finds the certificate an assertion names: an
// uploaded one by thumbprint, or, for subject name and issuer
// authentication, the x5c leaf if its subject is registered and the
// registered issuer signed it. nil if none.
func (s *Server) assertionCertificate(x5tKey string, thumbprint []byte, chain []*x509.Certificate) *x509.Certificate {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.clientCerts {
		if thumbprint != nil && string(certThumbprint(c, x5tKey)) == string(thumbprint) {
			return c
		}
	}
	if len(chain) == 0 {
		return nil
	}
	leaf := chain[0]
	if thumbprint != nil && string(certThumbprint(leaf, x5tKey)) != string(thumbprint) {
		return nil
	}
	for _, cs := range s.certSubjects {
		if leaf.Subject.CommonName == cs.subject && leaf.CheckSignatureFrom(cs.issuer) == nil {
			return leaf
		}
	}
	return nil
}

func certThumbprint(c *x509.Certificate, x5tKey string) []byte {
	if x5tKey == "x5t" {
		sum := sha1.Sum(c.Raw) //nolint:gosec // a thumbprint
		return sum[:]
	}
	sum := sha256.Sum256(c.Raw)
	return sum[:]
}

// decodeBase64Either decodes standard (what MSAL sends) or URL-safe base64
// (what RFC 7515 specifies), with or without padding.
func decodeBase64Either(v string) []byte {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(v); err == nil {
			return b
		}
	}
	return nil
}

// authenticateFederated checks a federated credential's token.
func (s *Server) authenticateFederated(j *jwtParts) *entraError {
	s.mu.Lock()
	creds := append([]FederatedCredential(nil), s.federated...)
	s.mu.Unlock()
	aud := strings.Join(j.claims.Aud, ", ")
	noMatch := fmt.Sprintf("No matching federated identity record found for presented assertion. Assertion Issuer: '%s'. Assertion Subject: '%s'. Assertion Audience: '%s'. https://docs.microsoft.com/azure/active-directory/develop/workload-identity-federation",
		j.claims.Iss, j.claims.Sub, aud)
	var issuerKnown bool
	var match *FederatedCredential
	for i, fc := range creds {
		if fc.Issuer != j.claims.Iss {
			continue
		}
		issuerKnown = true
		if fc.Subject == j.claims.Sub {
			match = &creds[i]
			break
		}
	}
	switch {
	case !issuerKnown:
		return &entraError{status: http.StatusBadRequest, code: "invalid_request", aadsts: 700211,
			message: fmt.Sprintf("No matching federated identity record found for presented assertion issuer '%s'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation", j.claims.Iss)}
	case match == nil:
		return &entraError{status: http.StatusBadRequest, code: "invalid_request", aadsts: 70021, message: noMatch}
	}
	var audOK bool
	for _, a := range j.claims.Aud {
		audOK = audOK || a == match.Audience
	}
	if !audOK {
		return &entraError{status: http.StatusBadRequest, code: "invalid_request", aadsts: 700212,
			message: fmt.Sprintf("No matching federated identity record found for presented assertion audience '%s'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation", aud)}
	}
	// Entra verifies the token against the issuer's published keys; the
	// only issuer here is this server.
	digest := sha256.Sum256([]byte(j.signingInput))
	if j.claims.Iss != s.FederatedIssuer() ||
		rsa.VerifyPKCS1v15(&s.federationKey().PublicKey, crypto.SHA256, digest[:], j.signature) != nil {
		return invalidClient(700027, "Client assertion failed signature validation.")
	}
	s.recordAssertion(ClientAssertion{Federated: true, Issuer: j.claims.Iss, Subject: j.claims.Sub, JTI: j.claims.JTI})
	return nil
}

func (s *Server) recordAssertion(a ClientAssertion) {
	s.logMu.Lock()
	s.assertions = append(s.assertions, a)
	s.logMu.Unlock()
}
