package pbitest

import (
	"cmp"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// Power BI's resource: the audience of its access tokens and the resource
// part of the only scope the token endpoint grants.
const (
	powerBIResource = "https://analysis.windows.net/powerbi/api"
	powerBIScope    = powerBIResource + "/.default"
	// fabricResource is the Fabric REST API's audience (fabric.go): the token
	// endpoint grants it to the service principal as a second resource.
	fabricResource = "https://api.fabric.microsoft.com"
)

// servicePrincipalObjectID is the object id (oid) of the service principal
// in the fake directory. Like the other identities, it is made up.
const servicePrincipalObjectID = "b8e2c4a6-9d1f-4e3b-a7c5-0f6e8d2b4a19"

// tokenBackdate is how far Entra puts iat and nbf before the moment of
// issue, to absorb clock skew between it and resource servers.
const tokenBackdate = 5 * time.Minute

// accessClaims are the claims of a v1.0 app-only access token as Entra
// issues them for Power BI.
type accessClaims struct {
	Aud      string `json:"aud"`
	Iss      string `json:"iss"`
	Iat      int64  `json:"iat"`
	Nbf      int64  `json:"nbf"`
	Exp      int64  `json:"exp"`
	AppID    string `json:"appid"`
	AppIDAcr string `json:"appidacr"`
	IDP      string `json:"idp"`
	IDTyp    string `json:"idtyp"`
	OID      string `json:"oid"`
	Sub      string `json:"sub"`
	TID      string `json:"tid"`
	UTI      string `json:"uti"`
	Ver      string `json:"ver"`
	// MIRID is a managed identity's Azure resource id.
	MIRID string `json:"xms_mirid,omitempty"`
}

var jwtHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"typ":"JWT","alg":"HS256"}`))

// IssueToken returns an access token for the service principal, as the token
// endpoint would issue it, valid for lifetime. A lifetime <= 0 gives a token
// that is already expired.
func (s *Server) IssueToken(lifetime time.Duration) string {
	return s.issueAppToken(appPrincipal{appID: s.opts.ClientID, objectID: servicePrincipalObjectID, acr: "1"}, lifetime)
}

// appPrincipal is who an app-only token is for: the app registration's
// service principal or a managed identity.
type appPrincipal struct {
	appID, objectID string
	acr             string // appidacr: 1 = client secret, 2 = certificate or assertion
	resourceID      string // xms_mirid, managed identities only
	aud             string // the audience; empty for Power BI
}

func (s *Server) issueAppToken(p appPrincipal, lifetime time.Duration) string {
	s.mu.Lock()
	s.tokenSeq++
	seq := s.tokenSeq
	s.mu.Unlock()

	now := time.Now()
	issuer := "https://sts.windows.net/" + s.opts.TenantID + "/"
	claims := accessClaims{
		Aud:      cmp.Or(p.aud, powerBIResource),
		Iss:      issuer,
		Iat:      now.Add(-tokenBackdate).Unix(),
		Nbf:      now.Add(-tokenBackdate).Unix(),
		Exp:      now.Add(lifetime).Unix(),
		AppID:    p.appID,
		AppIDAcr: p.acr,
		IDP:      issuer,
		IDTyp:    "app",
		OID:      p.objectID,
		Sub:      p.objectID,
		TID:      s.opts.TenantID,
		UTI:      newUTI(seq),
		Ver:      "1.0",
		MIRID:    p.resourceID,
	}
	return s.sign(claims)
}

// ExpireTokens makes every token issued so far count as expired: Power BI
// answers 403 TokenExpired to them from now on. Tokens issued afterwards
// are unaffected.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	s.expiredUpTo = s.tokenSeq
	s.mu.Unlock()
}

func (s *Server) sign(claims accessClaims) string {
	payload, _ := json.Marshal(claims)
	signingInput := jwtHeader + "." + base64.RawURLEncoding.EncodeToString(payload)
	return signingInput + "." + base64.RawURLEncoding.EncodeToString(s.mac(signingInput))
}

func (s *Server) mac(signingInput string) []byte {
	m := hmac.New(sha256.New, s.signingKey)
	m.Write([]byte(signingInput))
	return m.Sum(nil)
}

// newUTI makes the token's unique identifier. Real ones are 16 opaque bytes
// in base64url; here the first 8 carry the issue sequence number, which lets
// ExpireTokens revoke every earlier token without remembering each one. The
// signature protects it like any other claim.
func newUTI(seq uint64) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], seq)
	_, _ = rand.Read(b[8:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func utiSeq(uti string) (uint64, bool) {
	b, err := base64.RawURLEncoding.DecodeString(uti)
	if err != nil || len(b) != 16 {
		return 0, false
	}
	return binary.BigEndian.Uint64(b[:8]), true
}

// tokenVerdict is what Power BI makes of a request's Authorization header.
type tokenVerdict int

const (
	tokenValid     tokenVerdict = iota
	tokenMalformed              // missing header, not a bearer token, or not a JWT
	tokenRejected               // a JWT, but not one this tenant's Power BI accepts
	tokenExpired
)

func (s *Server) checkToken(authorization string) tokenVerdict {
	return s.checkTokenFor(authorization, powerBIResource)
}

// checkTokenFor checks a token meant for audience: Power BI's or Fabric's.
func (s *Server) checkTokenFor(authorization, audience string) tokenVerdict {
	scheme, token, ok := strings.Cut(authorization, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return tokenMalformed
	}
	parts := strings.Split(strings.TrimSpace(token), ".")
	if len(parts) != 3 {
		return tokenMalformed
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return tokenMalformed
	}
	var claims accessClaims
	if err := json.Unmarshal(payload, &claims); err != nil {
		return tokenMalformed
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, s.mac(parts[0]+"."+parts[1])) {
		return tokenRejected
	}
	if claims.Aud != audience || claims.TID != s.opts.TenantID {
		return tokenRejected
	}
	seq, ok := utiSeq(claims.UTI)
	if !ok {
		return tokenRejected
	}
	s.mu.Lock()
	revoked := seq <= s.expiredUpTo
	s.mu.Unlock()
	now := time.Now().Unix()
	if revoked || now >= claims.Exp {
		return tokenExpired
	}
	if now < claims.Nbf {
		return tokenRejected
	}
	return tokenValid
}

// authorize answers as Power BI does when a request's token is unusable and
// reports whether the request may go on.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) bool {
	switch s.checkToken(r.Header.Get("Authorization")) {
	case tokenValid:
		return true
	case tokenExpired:
		writeError(w, http.StatusForbidden, "TokenExpired", "Access token has expired, resubmit with a new access token")
	case tokenRejected:
		writePBIError(w, http.StatusUnauthorized, "PowerBINotAuthorizedException")
	default:
		// The service answers a missing or garbled Authorization header
		// with a bare 403.
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusForbidden)
	}
	return false
}
