package doctor

// The sign-in checks: configuration, authority, token and claims.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
)

// 1. Configuration.

// credentialVars are the variables that select a credential kind (beyond tenant and client
// ids), by kind. Only names are ever shown, never values.
var credentialVars = []struct {
	kind string
	vars []string
}{
	{auth.KindToken, []string{auth.EnvAccessToken, auth.EnvAccessTokenFile}},
	{auth.KindClientSecret, []string{auth.EnvClientSecret}},
	{auth.KindCertificate, []string{auth.EnvCertificatePath}},
	{auth.KindUsernamePassword, []string{auth.EnvUsername, auth.EnvPassword}},
	{auth.KindWorkloadIdentity, []string{auth.EnvFederatedTokenFile}},
}

func credentialValues(c auth.Config) map[string]string {
	return map[string]string{
		auth.EnvAccessToken: c.AccessToken, auth.EnvAccessTokenFile: c.AccessTokenFile,
		auth.EnvClientSecret: c.ClientSecret, auth.EnvCertificatePath: c.CertificatePath,
		auth.EnvUsername: c.Username, auth.EnvPassword: c.Password,
		auth.EnvFederatedTokenFile: c.FederatedTokenFile,
	}
}

// chosenKind says which credential kind the configuration selects and why. For auto it
// names the first kind whose variables are set, in auto's order; with none set, auto's
// choice depends on the machine (managed identity, a cached user) and kind is "".
func chosenKind(c auth.Config) (kind, why string) {
	if k := strings.ToLower(c.Kind); k != "" && k != auth.KindAuto {
		return k, "chosen by " + auth.EnvAuth + " (--auth)"
	}
	values := credentialValues(c)
	for _, group := range credentialVars {
		var set []string
		for _, v := range group.vars {
			if values[v] != "" {
				set = append(set, v)
			}
		}
		if len(set) > 0 {
			return group.kind, "chosen automatically because " + strings.Join(set, " and ") + " " + plural(len(set), "is", "are") + " set"
		}
	}
	return "", "chosen automatically"
}

// ignoredVars lists the credential variables that are set but belong to a kind other than
// the one in use: a leftover or a mistake, and a common source of "but I set it" confusion.
func ignoredVars(c auth.Config, kind string) []string {
	values := credentialValues(c)
	var out []string
	for _, group := range credentialVars {
		if group.kind == kind {
			continue
		}
		for _, v := range group.vars {
			if values[v] != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func (d *doctor) checkConfiguration() Result {
	r := Result{Check: CheckConfiguration}
	kind, why := chosenKind(d.auth)
	if d.opts.Sandbox {
		why = "the sandbox's demo tenant (--sandbox)"
	}
	tokens, err := auth.New(d.auth)
	if err != nil {
		r.Status = StatusFail
		r.Detail = withoutPackage(err.Error())
		r.Fix = "set or correct the variables named above (docs/sign-in.md, \"Set up Power BI access\", lists them), then run powerbi-mcp doctor again."
		return r
	}
	d.kind, d.tokens = kind, tokens
	r.Status = StatusOK
	r.Detail = tokens.Describe() + ", " + why
	if ignored := ignoredVars(d.auth, kind); len(ignored) > 0 && kind != "" {
		r.Status = StatusWarn
		r.Detail += "; also set but not used: " + strings.Join(ignored, ", ")
		r.Fix = "unset " + strings.Join(ignored, ", ") + ", or set " + auth.EnvAuth + " to the credential you mean (one of " +
			strings.Join(auth.Kinds[1:], ", ") + ")."
	}
	return r
}

// 2. Authority.

// usesAuthority reports whether a kind signs in at the Entra ID authority itself. A
// pre-acquired token, the Azure CLI and managed identity get their tokens elsewhere.
func usesAuthority(kind string, c auth.Config) bool {
	switch kind {
	case auth.KindToken, auth.KindAzureCLI, auth.KindManagedIdentity:
		return false
	case "":
		return c.TenantID != "" || c.ClientID != ""
	}
	return true
}

func (d *doctor) checkAuthority(ctx context.Context) Result {
	r := Result{Check: CheckAuthority}
	if !usesAuthority(d.kind, d.auth) {
		r.Status, r.Detail = StatusSkip, "this credential does not sign in at the authority itself"
		return r
	}
	host := strings.TrimSuffix(d.auth.AuthorityHost, "/")
	if host == "" {
		host = auth.DefaultAuthorityHost
	}
	tenant := d.auth.TenantID
	if tenant == "" {
		tenant = "organizations" // what user sign-ins default to
	}
	target := host + "/" + url.PathEscape(tenant) + "/v2.0/.well-known/openid-configuration"

	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		r.Status, r.Detail = StatusFail, fmt.Sprintf("%s is not a usable URL: %v", auth.EnvAuthorityHost, err)
		r.Fix = "set " + auth.EnvAuthorityHost + " to an https URL with only a host, such as " + auth.DefaultAuthorityHost + "."
		return r
	}
	client := d.opts.HTTPClient
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		r.Status = StatusFail
		r.Detail, r.Fix = explainNetError(host, auth.EnvAuthorityHost, err)
		return r
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		r.Status = StatusFail
		if e := auth.ParseEntraError(resp.StatusCode, body); e != nil {
			r.Detail, r.Fix = entraDetail(e), e.Fix
			return r
		}
		r.Detail = fmt.Sprintf("%s answered HTTP %d to %s, not Entra ID's OpenID configuration", host, resp.StatusCode, target)
		r.Fix = "check " + auth.EnvAuthorityHost + " (public cloud: " + auth.DefaultAuthorityHost + ") and any proxy between this machine and it."
		return r
	}
	var doc struct {
		TokenEndpoint string `json:"token_endpoint"`
	}
	if json.Unmarshal(body, &doc) != nil || doc.TokenEndpoint == "" {
		r.Status = StatusFail
		r.Detail = host + " answered 200 with something other than an OpenID configuration (a proxy's or captive portal's page?)"
		r.Fix = "check " + auth.EnvAuthorityHost + " and any proxy between this machine and it."
		return r
	}
	r.Status = StatusOK
	r.Detail = fmt.Sprintf("%s knows tenant %s; token endpoint %s", host, tenant, doc.TokenEndpoint)
	return r
}

// explainNetError turns a failed connection into what went wrong and what to change. setting
// names the variable holding the address.
func explainNetError(host, setting string, err error) (detail, fix string) {
	var certErr *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &certErr) || errors.As(err, &unknownCA) || errors.As(err, &hostErr):
		return fmt.Sprintf("TLS with %s failed: the certificate it presented is not trusted (%v)", host, err),
			"a proxy that inspects TLS needs its CA certificate in this machine's trust store (on Linux, SSL_CERT_FILE or SSL_CERT_DIR can add it); otherwise check " + setting + "."
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("the name %s does not resolve (%v)", dnsErr.Name, err),
			"check " + setting + " for typos, this machine's DNS, and HTTPS_PROXY if the network needs a proxy."
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		return fmt.Sprintf("no answer from %s within %s", host, checkTimeout),
			"check the network, firewalls, and HTTPS_PROXY/NO_PROXY if the network needs a proxy."
	}
	return fmt.Sprintf("cannot connect to %s: %v", host, err),
		"check " + setting + ", the network, firewalls, and HTTPS_PROXY/NO_PROXY if the network needs a proxy."
}

// entraDetail is an *auth.Error without its fix, which goes on its own line.
func entraDetail(e *auth.Error) string {
	msg := e.Error()
	if e.Fix != "" {
		msg = strings.Replace(msg, " Fix: "+e.Fix, "", 1)
	}
	return msg
}

// 3. Token.

func (d *doctor) checkToken(ctx context.Context) Result {
	r := Result{Check: CheckToken}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	token, err := d.tokens.Token(ctx)
	var entraErr *auth.Error
	var signIn *auth.SignInRequired
	switch {
	case errors.As(err, &entraErr):
		r.Status, r.Detail, r.Fix = StatusFail, entraDetail(entraErr), entraErr.Fix
		if entraErr.Fix == "" {
			r.Fix = "check the AZURE_* sign-in settings."
		}
		return r
	case errors.As(err, &signIn):
		r.Status, r.Detail = StatusFail, "no signed-in user yet"
		r.Fix = "run powerbi-mcp login, sign in with the code it shows, then run powerbi-mcp doctor again."
		return r
	case err != nil:
		r.Status, r.Detail = StatusFail, withoutPackage(err.Error())
		r.Fix = "correct what the message names, then run powerbi-mcp doctor again."
		return r
	}
	d.token = token
	r.Status, r.Detail = StatusOK, "got a token"
	if info, ok := auth.Inspect(token); ok && !info.ExpiresOn.IsZero() {
		r.Detail += ", valid until " + info.ExpiresOn.Format(time.RFC3339)
	}
	return r
}

// 4. Claims.

// staticTokenMargin is how close to expiry a pre-acquired token earns a warning.
const staticTokenMargin = 15 * time.Minute

// adminConsentRoles are the Power BI application permissions that need admin consent. A
// service principal holding either is refused by the admin APIs.
var adminConsentRoles = []string{"Tenant.Read.All", "Tenant.ReadWrite.All"}

func (d *doctor) checkClaims() Result {
	r := Result{Check: CheckClaims}
	info, ok := auth.Inspect(d.token)
	if !ok {
		// Power BI is the judge of a token that is not a JWT.
		r.Status, r.Detail = StatusWarn, "the token is not a JWT, so who it belongs to cannot be read here; the next checks show whether Power BI accepts it"
		d.isApp = true
		return r
	}
	d.info, d.isApp = info, info.PrincipalType == "app"
	aud := strings.TrimSuffix(info.Audience, "/")
	if !strings.HasSuffix(aud, "/powerbi/api") && aud != powerBIServiceAppID {
		r.Status = StatusFail
		r.Detail = fmt.Sprintf("the token was issued for %q, not for Power BI", info.Audience)
		r.Fix = "get a token for Power BI's resource https://analysis.windows.net/powerbi/api (scope https://analysis.windows.net/powerbi/api/.default), e.g. az account get-access-token --resource https://analysis.windows.net/powerbi/api."
		return r
	}
	var who string
	if d.isApp {
		name := info.AppName
		if name == "" {
			name = "service principal"
		}
		who = fmt.Sprintf("app-only token: %s (client id %s, object id %s)", name, info.ClientID, info.ObjectID)
		if len(info.Roles) > 0 {
			who += ", roles " + strings.Join(info.Roles, " ")
		} else {
			who += ", no roles (right: Power BI authorizes service principals by workspace membership)"
		}
	} else {
		who = fmt.Sprintf("delegated token: user %s", info.Username)
		if info.Name != "" {
			who += " (" + info.Name + ")"
		}
		who += ", scopes " + strings.Join(info.Scopes, " ")
	}
	r.Status = StatusOK
	r.Detail = fmt.Sprintf("%s, tenant %s, audience %s", who, info.TenantID, info.Audience)
	if !info.ExpiresOn.IsZero() {
		r.Detail += ", expires " + info.ExpiresOn.Format(time.RFC3339)
	}
	// A pre-acquired token is not renewed: when it lapses, every call fails.
	if left := time.Until(info.ExpiresOn); d.kind == auth.KindToken && !info.ExpiresOn.IsZero() && left < staticTokenMargin {
		r.Status = StatusWarn
		r.Detail += fmt.Sprintf(" (in %d minutes)", int(left.Minutes()))
		r.Fix = "this token is not renewed: get a fresh one before it expires, or use a credential that renews itself (a service principal, or device-code)."
	}
	if d.isApp {
		var held []string
		for _, role := range info.Roles {
			if slices.Contains(adminConsentRoles, role) {
				held = append(held, role)
			}
		}
		if len(held) > 0 {
			r.Status = StatusWarn
			r.Fix = "remove the Power BI Service application permission " + strings.Join(held, " and ") +
				" from the app registration (API permissions) and revoke its admin consent: the admin APIs refuse a service principal that holds it, and nothing else needs it."
		}
	}
	return r
}
