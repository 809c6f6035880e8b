package auth

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	msalerrors "github.com/AzureAD/microsoft-authentication-library-for-go/apps/errors"
)

// Error is a token request that Microsoft Entra ID refused, in a form a
// person (or a model) can act on. It carries Entra's own identifiers and
// description plus one sentence on what to change. An answer from the
// authority's address that is not an OAuth error (say, a proxy's error page)
// is an Error with only StatusCode, Description and Fix. It never contains
// the secret that was sent.
type Error struct {
	AADSTS        string // e.g. "AADSTS7000215"; empty if the answer had no code
	OAuthError    string // e.g. "invalid_client"
	Description   string // Entra's description, first line only, without the "AADSTSnnn: " prefix
	Fix           string // one sentence: what to change
	StatusCode    int    // HTTP status of Entra's answer
	CorrelationID string // Entra's correlation id, for the tenant's sign-in logs and support requests
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(entraSummary(e.AADSTS))
	var ids []string
	if e.AADSTS != "" {
		ids = append(ids, e.AADSTS)
	}
	if e.OAuthError != "" {
		ids = append(ids, e.OAuthError)
	}
	if len(ids) == 0 && e.StatusCode != 0 {
		ids = append(ids, "HTTP "+strconv.Itoa(e.StatusCode))
	}
	if len(ids) > 0 {
		b.WriteString(" (" + strings.Join(ids, " ") + ")")
	}
	if e.Description != "" {
		b.WriteString(": " + e.Description)
	}
	if e.Fix != "" {
		b.WriteString(" Fix: " + e.Fix)
	}
	if e.CorrelationID != "" {
		b.WriteString(" (Correlation ID: " + e.CorrelationID + ")")
	}
	return b.String()
}

// entraAdvice is what this package says about one AADSTS code.
type entraAdvice struct {
	summary string // completes "Entra ID ..." style lead-ins
	fix     string
}

// entraAdviceByCode covers the failures people hit when setting up a Power
// BI credential. Codes not listed keep Entra's text and get genericFix.
var entraAdviceByCode = map[string]entraAdvice{
	"7000215": {"Entra ID rejected the client secret",
		"copy the secret's Value, not its Secret ID, from the app registration's Certificates & secrets page into " + EnvClientSecret + "."},
	"7000222": {"The client secret has expired",
		"create a new client secret on the app registration's Certificates & secrets page and put its Value into " + EnvClientSecret + "."},
	"700016": {"Entra ID does not know this application in this tenant",
		"check that " + EnvClientID + " is the app registration's Application (client) ID and " + EnvTenantID + " the Directory (tenant) ID of the tenant it is registered or consented in."},
	"90002": {"Entra ID does not know this tenant",
		"check " + EnvTenantID + " (the Directory (tenant) ID, or a verified domain such as contoso.onmicrosoft.com) and that " + EnvAuthorityHost + " is the tenant's cloud."},
	"900023": {"The tenant identifier is malformed",
		"set " + EnvTenantID + " to the Directory (tenant) ID GUID or a verified domain such as contoso.onmicrosoft.com."},
	"700025": {"The app registration is a public client, which must not send a secret",
		"turn off 'Allow public client flows' on the app registration's Authentication page to use it as a service principal, or remove " + EnvClientSecret + " for a user sign-in."},
	"70011": {"Entra ID rejected the requested scope",
		"request the resource's .default scope, " + PowerBIScope + ", which is the only scope a service principal can ask for."},
	"1002012": {"Entra ID rejected the requested scope",
		"request the resource's .default scope, " + PowerBIScope + ", which is the only scope a service principal can ask for."},
	"500011": {"Power BI is not provisioned in this tenant",
		"have someone in the tenant sign in to https://app.powerbi.com once (this registers the Power BI service), and check that " + EnvTenantID + " names the tenant that uses Power BI."},
	"50126": {"Entra ID rejected the username or password",
		"check the username and password, and that the account is a work or school account in this tenant."},
	"50076": {"This account needs multi-factor authentication (MFA), which a password sign-in cannot do",
		"use --auth " + KindDeviceCode + " (" + EnvAuth + "=" + KindDeviceCode + ") to sign in interactively with MFA, or a service principal."},
	"50079": {"This account must register for multi-factor authentication (MFA), which a password sign-in cannot do",
		"use --auth " + KindDeviceCode + " (" + EnvAuth + "=" + KindDeviceCode + ") to sign in interactively and register MFA, or a service principal."},
	"65001": {"Nobody has consented to the application's permissions",
		"have an administrator open the app registration's API permissions page and grant admin consent for the Power BI Service permissions."},
	"53003": {"A Conditional Access policy blocked the sign-in",
		"ask a tenant administrator to look up the sign-in with this correlation ID in Entra ID's sign-in logs and allow this app or location in the policy."},
	"700027": {"Entra ID did not accept the certificate the client assertion was signed with",
		"check on the app registration's Certificates & secrets page that the certificate (compare the thumbprint) is listed and not expired; upload it or a new one (the public part, .cer or .pem, without the key) and point " + EnvCertificatePath + " at it; for subject name and issuer authentication set " + EnvSendCertificateChain + "=true."},
	"700024": {"The client assertion is outside its validity period",
		"for workload identity, whatever writes " + EnvFederatedTokenFile + " (the kubelet, the CI job) must renew the token before it expires; otherwise check this machine's clock."},
	"700023": {"The client assertion is for another token endpoint",
		"check " + EnvTenantID + " and " + EnvAuthorityHost + "."},
	"700021": {"The client assertion is for another application",
		"check that " + EnvClientID + " is the Application (client) ID of the app registration the credential belongs to."},
	"70021": {"No federated credential of the app matches the token",
		"on the app registration's Certificates & secrets > Federated credentials page, add one whose issuer, subject and audience (api://AzureADTokenExchange) are those of the token in " + EnvFederatedTokenFile + " (the error lists them), or check that " + EnvClientID + " names that app."},
	"700211": {"No federated credential of the app trusts the token's issuer",
		"add a federated credential with the token's issuer (for AKS, the cluster's OIDC issuer URL) on the app registration's Certificates & secrets > Federated credentials page."},
	"700212": {"No federated credential of the app accepts the token's audience",
		"issue the token in " + EnvFederatedTokenFile + " for the audience api://AzureADTokenExchange, or set that credential's audience to the token's."},
	"7000112": {"The application is disabled in this tenant",
		"have an administrator enable it: Entra ID > Enterprise applications > the app > Properties > 'Enabled for users to sign in?' = Yes."},
}

func entraSummary(aadsts string) string {
	if a, ok := entraAdviceByCode[strings.TrimPrefix(aadsts, "AADSTS")]; ok {
		return a.summary
	}
	return "Entra ID refused the token request"
}

func genericFix(code string) string {
	if code == "" {
		return "check the AZURE_* credential settings."
	}
	return "look the code up at https://login.microsoftonline.com/error?code=" + code + " and check the AZURE_* credential settings."
}

// entraBody is Entra's OAuth error body (RFC 6749 section 5.2 plus Entra's
// additions).
type entraBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorCodes       []int  `json:"error_codes"`
	CorrelationID    string `json:"correlation_id"`
}

var aadstsPrefix = regexp.MustCompile(`^AADSTS(\d+):\s*`)

// parseEntraError reads an error body from Entra's token or discovery
// endpoints. It returns nil if body is not such an error. secret, if not
// empty, is scrubbed from the description in case something on the way
// echoed the request.
func parseEntraError(status int, body []byte, secret string) *Error {
	var eb entraBody
	if json.Unmarshal(body, &eb) != nil || eb.Error == "" {
		return nil
	}
	// Entra's description is "AADSTSnnn: message" followed by Trace ID,
	// Correlation ID and Timestamp lines, which are noise to a reader and
	// partly repeated in correlation_id.
	desc, _, _ := strings.Cut(eb.ErrorDescription, "\n")
	desc = strings.TrimSpace(desc)
	var code string
	if m := aadstsPrefix.FindStringSubmatch(desc); m != nil {
		code = m[1]
		desc = desc[len(m[0]):]
	}
	if len(eb.ErrorCodes) > 0 {
		code = strconv.Itoa(eb.ErrorCodes[0])
	}
	if secret != "" {
		desc = strings.ReplaceAll(desc, secret, "[redacted]")
	}
	e := &Error{
		OAuthError:    eb.Error,
		Description:   desc,
		StatusCode:    status,
		CorrelationID: eb.CorrelationID,
		Fix:           genericFix(code),
	}
	if code != "" {
		e.AADSTS = "AADSTS" + code
	}
	if a, ok := entraAdviceByCode[code]; ok {
		e.Fix = a.fix
	}
	return e
}

// authorityError turns an error from MSAL into one a person can act on:
// *Error when Entra answered with an OAuth error, otherwise an error that
// names the authority host. The result never contains secret, and never the
// raw body of a response, which could hold a token.
func authorityError(err error, host, secret string) error {
	var call msalerrors.CallErr
	if errors.As(err, &call) && call.Resp != nil {
		// MSAL puts the body after the first ":\n" of the message
		// (comm.Client.do); the message survives where the body reader
		// may already have been drained by MSAL.
		_, body, _ := strings.Cut(call.Error(), ":\n")
		if e := parseEntraError(call.Resp.StatusCode, []byte(body), secret); e != nil {
			return e
		}
		return &Error{
			StatusCode:  call.Resp.StatusCode,
			Description: fmt.Sprintf("%s answered HTTP %d without an OAuth error.", host, call.Resp.StatusCode),
			Fix:         "check " + EnvAuthorityHost + " and any proxy between this machine and the authority.",
		}
	}
	var jsonErr msalerrors.InvalidJsonErr
	if errors.As(err, &jsonErr) {
		return fmt.Errorf("the Entra ID authority %s sent a response that is not valid JSON; check %s and any proxy between this machine and the authority",
			host, EnvAuthorityHost)
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		var certErr *tls.CertificateVerificationError
		if errors.As(urlErr.Err, &certErr) {
			return fmt.Errorf("TLS with the Entra ID authority %s failed; a proxy that inspects TLS needs its CA certificate in this machine's trust store: %w",
				host, urlErr.Err)
		}
		// Refused connections, DNS failures and MSAL's 30 s timeout alike.
		return fmt.Errorf("cannot reach the Entra ID authority %s (check %s, the network and any proxy): %w",
			host, EnvAuthorityHost, urlErr.Err)
	}
	return fmt.Errorf("token request to %s failed: %w", host, err)
}

// noRestart marks a token error that the user fixes outside the server (run
// az login, put a fresh token in the token file), after which the next call
// succeeds without restarting it. Callers test for the NoRestart method, so
// that they need no type from this package:
//
//	var nr interface{ NoRestart() bool }
//	if errors.As(err, &nr) && nr.NoRestart() { ... }
type noRestart struct{ error }

func (noRestart) NoRestart() bool { return true }
func (e noRestart) Unwrap() error { return e.error }
