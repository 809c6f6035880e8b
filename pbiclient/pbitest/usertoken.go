package pbitest

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// Some Power BI operations (installed apps, for one) refuse service
// principals. To test their success path a caller needs the token of a
// signed-in user: a delegated token, which carries the scopes the user
// consented to (scp) and the user's names, where an app-only token has none.

// DefaultUserPrincipalName is the user IssueUserToken signs in when given
// no name.
const DefaultUserPrincipalName = "megan.bowen@contoso.com"

// userObjectID is the object id (oid) of DefaultUserPrincipalName. Like the
// other identities, it is made up; other users get one derived from their
// name (userOID), so that each user is a distinct account to MSAL.
const userObjectID = "d4f6a8c0-2e4b-4d6f-8a0c-3e5b7d9f1a2c"

// delegatedScopes are the Power BI permissions a user token carries: the
// read and write scopes the REST reference names for the operations pbitest
// serves.
const delegatedScopes = "App.Read.All Content.Create Dashboard.ReadWrite.All Dataset.ReadWrite.All " +
	"Report.ReadWrite.All Workspace.ReadWrite.All"

// userClaims are the claims of a v1.0 delegated access token for Power BI.
type userClaims struct {
	Aud        string   `json:"aud"`
	Iss        string   `json:"iss"`
	Iat        int64    `json:"iat"`
	Nbf        int64    `json:"nbf"`
	Exp        int64    `json:"exp"`
	Amr        []string `json:"amr"`
	AppID      string   `json:"appid"`
	AppIDAcr   string   `json:"appidacr"`
	Name       string   `json:"name"`
	OID        string   `json:"oid"`
	Scp        string   `json:"scp"`
	Sub        string   `json:"sub"`
	TID        string   `json:"tid"`
	UniqueName string   `json:"unique_name"`
	UPN        string   `json:"upn"`
	UTI        string   `json:"uti"`
	Ver        string   `json:"ver"`
}

// IssueUserToken returns an access token for the user upn (default
// DefaultUserPrincipalName), as Entra issues one to a public client app
// signing a user in, valid for lifetime. Power BI accepts it like any token
// of this tenant; operations that refuse service principals accept it too.
// A lifetime <= 0 gives a token that is already expired.
func (s *Server) IssueUserToken(upn string, lifetime time.Duration) string {
	return s.issueUserToken(upn, powerBIResource, lifetime)
}

// issueUserToken is IssueUserToken for the resource aud: Power BI's or Fabric's.
func (s *Server) issueUserToken(upn, aud string, lifetime time.Duration) string {
	if upn == "" {
		upn = DefaultUserPrincipalName
	}
	s.mu.Lock()
	s.tokenSeq++
	seq := s.tokenSeq
	s.mu.Unlock()

	now := time.Now()
	name, _, _ := strings.Cut(upn, "@")
	claims := userClaims{
		Aud:        aud,
		Iss:        "https://sts.windows.net/" + s.opts.TenantID + "/",
		Iat:        now.Add(-tokenBackdate).Unix(),
		Nbf:        now.Add(-tokenBackdate).Unix(),
		Exp:        now.Add(lifetime).Unix(),
		Amr:        []string{"pwd"},
		AppID:      s.opts.ClientID,
		AppIDAcr:   "0", // a public client: no client secret
		Name:       name,
		OID:        userOID(upn),
		Scp:        delegatedScopes,
		Sub:        userOID(upn),
		TID:        s.opts.TenantID,
		UniqueName: upn,
		UPN:        upn,
		UTI:        newUTI(seq),
		Ver:        "1.0",
	}
	payload, _ := json.Marshal(claims)
	signingInput := jwtHeader + "." + base64.RawURLEncoding.EncodeToString(payload)
	return signingInput + "." + base64.RawURLEncoding.EncodeToString(s.mac(signingInput))
}

// callerIsUser reports whether the request's token, already accepted by
// authorize, is a delegated (user) token: only those carry scp.
func callerIsUser(r *http.Request) bool {
	_, ok := delegatedUserOf(r)
	return ok
}

// refuseApplication answers as Power BI does when a service principal calls
// an operation that works only for users: 403 with a bare Message
// (observed: "API is not accessible for application"). It reports whether
// it answered.
func refuseApplication(w http.ResponseWriter, r *http.Request) bool {
	if callerIsUser(r) {
		return false
	}
	writeBody(w, http.StatusForbidden, contentTypeJSON, []byte(`{"Message":"API is not accessible for application"}`))
	return true
}
