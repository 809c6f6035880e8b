package main

// powerbi-mcp doctor walks through every step of the Power BI setup a user must get right, in
// the order they depend on each other, and says for each failure exactly what to change. It
// reads the same configuration the server reads, so what it finds is what the server would meet.

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

	"github.com/rs/zerolog"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/tools"
)

// The states of a check, as --json writes them.
const (
	statusOK   = "ok"
	statusFail = "fail"
	statusWarn = "warn" // works, but something the user may need is missing
	statusSkip = "skip" // not applicable, or an earlier check failed
)

// checkResult is one line of the checklist. Detail and Fix never hold a secret or a token.
type checkResult struct {
	Check  string `json:"check"`
	Status string `json:"status"`
	Detail string `json:"detail"`
	Fix    string `json:"fix"` // "" when there is nothing to fix
}

// The checks, in the order they run. The names are stable: scripts read them from --json.
const (
	checkConfiguration = "configuration"
	checkAuthority     = "authority"
	checkToken         = "token"
	checkClaims        = "claims"
	checkWorkspaces    = "workspaces"
	checkAdminAPIs     = "admin-apis"
	checkDAX           = "dax"
	checkCapacity      = "capacity"
)

var checkTitles = map[string]string{
	checkConfiguration: "Sign-in configuration",
	checkAuthority:     "Entra ID authority reachable",
	checkToken:         "Access token acquired",
	checkClaims:        "Token is for Power BI",
	checkWorkspaces:    "Power BI API (GET groups)",
	checkAdminAPIs:     "Admin APIs (GET admin/groups)",
	checkDAX:           "DAX queries (executeQueries)",
	checkCapacity:      "Capacity for report exports",
}

// checkTimeout bounds each network check, so a silent firewall cannot hang the doctor.
const checkTimeout = 30 * time.Second

// powerBIServiceAppID is the Power BI Service's application id, which some tokens carry as
// their audience instead of its URI.
const powerBIServiceAppID = "00000009-0000-0000-c000-000000000000"

// runDoctor is `powerbi-mcp doctor`: it prints the checklist to stdout and returns 0 when
// every check passed (warnings included), 1 when one failed and 2 for a usage error.
func init() {
	subcommands["doctor"] = subcommand{"doctor [--json]", "check every step of the Power BI setup and say how to fix what fails", runDoctor}
}

func runDoctor(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	return runDoctorWith(ctx, args, getenv, nil, stdout, stderr)
}

// runDoctorWith is runDoctor with the HTTP client that reaches Entra ID and Power BI; nil means
// the defaults, which trust the system's certificates. Tests pass the fake tenant's client,
// as --sandbox does.
func runDoctorWith(ctx context.Context, args []string, getenv func(string) string, httpClient *http.Client, stdout, stderr io.Writer) int {
	asJSON, rest, help := doctorArgs(args)
	if help {
		doctorUsage(stderr)
		return 0
	}
	// The server's own flags and PBI_MCP_* variables, so --base-url, --toolsets and the rest
	// mean here what they mean to the server.
	cfg, err := parseConfig(rest, getenv, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "powerbi-mcp doctor:", err)
		return 2
	}
	if !logLevelChosen(rest, getenv) {
		cfg.LogLevel = "warn" // the checklist says it all; logs only for trouble
	}
	logger := newLogger(cfg, stderr)

	authCfg := cfg.authConfig(getenv, logger)
	if cfg.Sandbox && cfg.Auth == auth.KindDeviceCode {
		// The sandbox's token cache lives as long as one process, so a sign-in made for the
		// doctor could not be checked by it, nor one made by login.
		fmt.Fprintln(stderr, "powerbi-mcp doctor: --sandbox checks the demo tenant's service principal (the default) or, with --auth username-password, its demo user; "+
			"try the device-code sign-in in the server itself: powerbi-mcp --sandbox --auth device-code")
		return 2
	}
	if cfg.Sandbox {
		sb, err := startSandbox(cfg.Auth, logger)
		if err != nil {
			fmt.Fprintln(stderr, "powerbi-mcp doctor:", err)
			return 2
		}
		defer sb.close()
		authCfg, httpClient, cfg.BaseURL = sb.auth, sb.tenant.Client(), sb.tenant.APIBaseURL()
	}
	authCfg.HTTPClient = httpClient
	authCfg.Logger = logger
	// The authority check asks the host sign-in will use: --cloud's unless AZURE_AUTHORITY_HOST
	// says otherwise. An unknown cloud was refused with the flags.
	if resolved, err := authCfg.WithCloud(); err == nil {
		authCfg = resolved
	}

	d := &doctor{cfg: cfg, auth: authCfg, http: httpClient, logger: logger, sandbox: cfg.Sandbox}
	d.secrets = nonEmpty(authCfg.ClientSecret, authCfg.Password, authCfg.CertificatePassword, authCfg.AccessToken)
	results := d.run(ctx)

	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(results)
	} else {
		writeChecklist(stdout, results)
	}
	for _, r := range results {
		if r.Status == statusFail {
			return 1
		}
	}
	return 0
}

// doctorArgs takes the doctor's own flags out of args and leaves the server's.
func doctorArgs(args []string) (asJSON bool, rest []string, help bool) {
	for _, a := range args {
		switch a {
		case "--json", "-json", "--json=true", "-json=true":
			asJSON = true
		case "--json=false", "-json=false":
			asJSON = false
		case "-h", "--help", "-help":
			help = true
		default:
			rest = append(rest, a)
		}
	}
	return asJSON, rest, help
}

func logLevelChosen(args []string, getenv func(string) string) bool {
	for _, a := range args {
		if strings.HasPrefix(strings.TrimLeft(a, "-"), "log-level") {
			return true
		}
	}
	return getenv(envName("log-level")) != ""
}

func doctorUsage(w io.Writer) {
	fmt.Fprintf(w, `powerbi-mcp doctor: check every step of the Power BI setup and say how to fix what fails.

Usage:
  powerbi-mcp doctor [--json] [server flags]

It reads the same variables and flags as the server (AZURE_*, PBI_MCP_*, --base-url, --toolsets,
--sandbox ...) and checks, in order: the sign-in configuration, the Entra ID authority, the token,
the token's claims, the Power BI API, the admin APIs, DAX queries and capacity for exports.

  --json   print the checks as a JSON array of {check, status (ok|fail|warn|skip), detail, fix}

Exit status: 0 when nothing failed (warnings allowed), 1 when a check failed, 2 for usage errors.
Secrets and tokens are never printed.
`)
}

// doctor carries what one check finds to the next.
type doctor struct {
	cfg     config
	auth    auth.Config
	http    *http.Client
	logger  zerolog.Logger
	sandbox bool     // the built-in demo tenant stands in for Power BI
	secrets []string // values to scrub from anything printed, should a message ever echo one

	kind     string // the credential kind in use; "" when auto's choice is not known here
	tokens   auth.TokenSource
	token    string
	info     auth.TokenInfo
	isApp    bool
	client   *pbiclient.Client
	groups   []pbiclient.Group
	groupsOK bool
}

// run runs the checks in order. A check whose prerequisite failed is skipped with the reason,
// so the first failure is the one to fix.
func (d *doctor) run(ctx context.Context) []checkResult {
	var results []checkResult
	add := func(r checkResult) bool {
		r.Detail, r.Fix = d.scrub(r.Detail), d.scrub(r.Fix)
		results = append(results, r)
		return r.Status != statusFail
	}
	skipRest := func(from int, why string) []checkResult {
		for _, name := range allChecks[from:] {
			results = append(results, checkResult{Check: name, Status: statusSkip, Detail: why})
		}
		return results
	}

	if !add(d.checkConfiguration()) {
		return skipRest(1, "needs a complete sign-in configuration")
	}
	if !add(d.checkAuthority(ctx)) {
		return skipRest(2, "needs a reachable Entra ID authority")
	}
	if !add(d.checkToken(ctx)) {
		return skipRest(3, "needs an access token")
	}
	if !add(d.checkClaims()) {
		return skipRest(4, "needs a token for Power BI")
	}
	if err := d.newClient(); err != nil {
		add(checkResult{Check: checkWorkspaces, Status: statusFail, Detail: err.Error(),
			Fix: "set " + envName("base-url") + " (or --base-url) to the Power BI REST API, e.g. " + pbiclient.DefaultBaseURL + "."})
		return skipRest(5, "needs the Power BI API")
	}
	if !add(d.checkWorkspaces(ctx)) && !d.groupsOK {
		// Power BI refused or could not be reached: the other API checks would only repeat it.
		return skipRest(5, "needs the Power BI API to answer")
	}
	add(d.checkAdminAPIs(ctx))
	add(d.checkDAX(ctx))
	add(d.checkCapacity())
	return results
}

var allChecks = []string{checkConfiguration, checkAuthority, checkToken, checkClaims, checkWorkspaces,
	checkAdminAPIs, checkDAX, checkCapacity}

// scrub replaces every configured secret and the token in s.
func (d *doctor) scrub(s string) string {
	for _, secret := range append(slices.Clone(d.secrets), d.token) {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	return s
}

func nonEmpty(vs ...string) []string {
	var out []string
	for _, v := range vs {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

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

func (d *doctor) checkConfiguration() checkResult {
	r := checkResult{Check: checkConfiguration}
	kind, why := chosenKind(d.auth)
	if d.sandbox {
		why = "the sandbox's demo tenant (--sandbox)"
	}
	tokens, err := auth.New(d.auth)
	if err != nil {
		r.Status = statusFail
		r.Detail = strings.TrimPrefix(err.Error(), "auth: ")
		r.Fix = "set or correct the variables named above (README, \"Set up Power BI access\", lists them), then run powerbi-mcp doctor again."
		return r
	}
	d.kind, d.tokens = kind, tokens
	r.Status = statusOK
	r.Detail = tokens.Describe() + ", " + why
	if ignored := ignoredVars(d.auth, kind); len(ignored) > 0 && kind != "" {
		r.Status = statusWarn
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

func (d *doctor) checkAuthority(ctx context.Context) checkResult {
	r := checkResult{Check: checkAuthority}
	if !usesAuthority(d.kind, d.auth) {
		r.Status, r.Detail = statusSkip, "this credential does not sign in at the authority itself"
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
		r.Status, r.Detail = statusFail, fmt.Sprintf("%s is not a usable URL: %v", auth.EnvAuthorityHost, err)
		r.Fix = "set " + auth.EnvAuthorityHost + " to an https URL with only a host, such as " + auth.DefaultAuthorityHost + "."
		return r
	}
	client := d.http
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		r.Status = statusFail
		r.Detail, r.Fix = explainNetError(host, auth.EnvAuthorityHost, err)
		return r
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		r.Status = statusFail
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
		r.Status = statusFail
		r.Detail = host + " answered 200 with something other than an OpenID configuration (a proxy's or captive portal's page?)"
		r.Fix = "check " + auth.EnvAuthorityHost + " and any proxy between this machine and it."
		return r
	}
	r.Status = statusOK
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

func (d *doctor) checkToken(ctx context.Context) checkResult {
	r := checkResult{Check: checkToken}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	token, err := d.tokens.Token(ctx)
	var entraErr *auth.Error
	var signIn *auth.SignInRequired
	switch {
	case errors.As(err, &entraErr):
		r.Status, r.Detail, r.Fix = statusFail, entraDetail(entraErr), entraErr.Fix
		if entraErr.Fix == "" {
			r.Fix = "check the AZURE_* sign-in settings."
		}
		return r
	case errors.As(err, &signIn):
		r.Status, r.Detail = statusFail, "no signed-in user yet"
		r.Fix = "run powerbi-mcp login, sign in with the code it shows, then run powerbi-mcp doctor again."
		return r
	case err != nil:
		r.Status, r.Detail = statusFail, strings.TrimPrefix(err.Error(), "auth: ")
		r.Fix = "correct what the message names, then run powerbi-mcp doctor again."
		return r
	}
	d.token = token
	r.Status, r.Detail = statusOK, "got a token"
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

func (d *doctor) checkClaims() checkResult {
	r := checkResult{Check: checkClaims}
	info, ok := auth.Inspect(d.token)
	if !ok {
		// Power BI is the judge of a token that is not a JWT.
		r.Status, r.Detail = statusWarn, "the token is not a JWT, so who it belongs to cannot be read here; the next checks show whether Power BI accepts it"
		d.isApp = true
		return r
	}
	d.info, d.isApp = info, info.PrincipalType == "app"
	aud := strings.TrimSuffix(info.Audience, "/")
	if !strings.HasSuffix(aud, "/powerbi/api") && aud != powerBIServiceAppID {
		r.Status = statusFail
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
	r.Status = statusOK
	r.Detail = fmt.Sprintf("%s, tenant %s, audience %s", who, info.TenantID, info.Audience)
	if !info.ExpiresOn.IsZero() {
		r.Detail += ", expires " + info.ExpiresOn.Format(time.RFC3339)
	}
	// A pre-acquired token is not renewed: when it lapses, every call fails.
	if left := time.Until(info.ExpiresOn); d.kind == auth.KindToken && !info.ExpiresOn.IsZero() && left < staticTokenMargin {
		r.Status = statusWarn
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
			r.Status = statusWarn
			r.Fix = "remove the Power BI Service application permission " + strings.Join(held, " and ") +
				" from the app registration (API permissions) and revoke its admin consent: the admin APIs refuse a service principal that holds it, and nothing else needs it."
		}
	}
	return r
}

// 5. Workspaces.

func (d *doctor) newClient() error {
	var transport http.RoundTripper
	if d.http != nil {
		transport = d.http.Transport
	}
	c, err := pbiclient.New(pbiclient.Config{
		BaseURL:   d.cfg.BaseURL,
		Tokens:    d.tokens,
		Transport: transport,
		UserAgent: "powerbi-mcp/" + currentVersion() + " doctor",
		Logger:    d.logger,
		// A diagnosis answers quickly; the server's patience would hide a throttled tenant.
		MaxRetries:   1,
		MaxRetryWait: 5 * time.Second,
	})
	d.client = c
	return err
}

// fixServicePrincipalsAllowed is what to do when Power BI refuses a service principal
// outright.
const fixServicePrincipalsAllowed = "a Fabric administrator must turn on the tenant setting \"Service principals can use Fabric APIs\" " +
	"(formerly \"Allow service principals to use Power BI APIs\"; Admin portal > Tenant settings > Developer settings) " +
	"for a security group, and the app must be a member of that group (Entra ID > Groups > the group > Members > Add members). " +
	"Changes take up to 15 minutes."

func (d *doctor) checkWorkspaces(ctx context.Context) checkResult {
	r := checkResult{Check: checkWorkspaces}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	groups, err := d.client.ListGroups(ctx, pbiclient.ListGroupsOptions{Top: 5000})
	if err != nil {
		r.Status = statusFail
		r.Detail, r.Fix = d.explainAPIError(err)
		var apiErr *pbiclient.APIError
		if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusUnauthorized {
			if d.isApp {
				r.Detail = "Power BI refused the service principal: " + apiErr.Error()
				r.Fix = fixServicePrincipalsAllowed
			} else {
				r.Fix = "the account needs a Power BI license, and the app registration the Power BI Service delegated permissions (at least Workspace.Read.All) with consent."
			}
		}
		return r
	}
	d.groups, d.groupsOK = groups, true
	if len(groups) == 0 {
		if !d.isApp {
			r.Status = statusWarn
			r.Detail = "Power BI answers, but the user belongs to no workspace besides My workspace"
			r.Fix = "ask a workspace Admin to add the user (workspace > Manage access), if the agent should see shared workspaces."
			return r
		}
		r.Status = statusFail
		r.Detail = "Power BI accepts the service principal, but it is a member of no workspace, so every tool finds nothing"
		id := d.info.ObjectID
		if id == "" {
			id = "<the service principal's object id: Entra ID > Enterprise applications > the app > Object ID>"
		}
		r.Fix = "add the service principal to each workspace it should use, as Member (or Contributor; a Viewer cannot run DAX queries): " +
			"in Power BI open the workspace > Manage access > Add people or groups, search the app's name, pick Member. " +
			"Or have an identity that is Admin of the workspace call the tool add_workspace_user with " +
			fmt.Sprintf(`{"workspace": "<workspace name>", "identifier": "%s", "principal_type": "App", "access_right": "Member"}`, id) + "."
		return r
	}
	r.Status = statusOK
	r.Detail = fmt.Sprintf("the %s sees %d %s: %s", d.principalNoun(), len(groups), plural(len(groups), "workspace", "workspaces"), groupNames(groups, 5))
	return r
}

func (d *doctor) principalNoun() string {
	if d.isApp {
		return "service principal"
	}
	return "user"
}

func groupNames(groups []pbiclient.Group, max int) string {
	var names []string
	for i, g := range groups {
		if i == max {
			names = append(names, fmt.Sprintf("and %d more", len(groups)-max))
			break
		}
		names = append(names, g.Name)
	}
	return strings.Join(names, ", ")
}

// explainAPIError says what a failed Power BI call means when nothing more specific applies.
func (d *doctor) explainAPIError(err error) (detail, fix string) {
	var apiErr *pbiclient.APIError
	if !errors.As(err, &apiErr) {
		return err.Error(), "correct what the message names, then run powerbi-mcp doctor again."
	}
	switch {
	case apiErr.StatusCode == 0:
		return explainNetError(d.cfg.BaseURL, envName("base-url"), apiErr.Err)
	case apiErr.Code == "TokenExpired":
		return apiErr.Error(), "the token has expired or this machine's clock is wrong: check the clock, and for a pre-acquired token get a new one."
	case apiErr.StatusCode == http.StatusForbidden && apiErr.Code == "":
		return apiErr.Error(), "Power BI did not accept the token: check that " + auth.EnvTenantID + " is the tenant that uses Power BI and that " +
			envName("base-url") + " is its cloud's API (public cloud: " + pbiclient.DefaultBaseURL + ")."
	case apiErr.StatusCode == http.StatusNotFound:
		return apiErr.Error(), "check " + envName("base-url") + " (public cloud: " + pbiclient.DefaultBaseURL + ")."
	case apiErr.StatusCode == http.StatusTooManyRequests:
		return apiErr.Error(), "Power BI is throttling this principal; wait the time it names and run powerbi-mcp doctor again."
	}
	return apiErr.Error(), "quote the RequestId above if you ask Microsoft support."
}

// 6. Admin APIs.

func (d *doctor) checkAdminAPIs(ctx context.Context) checkResult {
	r := checkResult{Check: checkAdminAPIs}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	_, err := d.client.AdminListGroups(ctx, pbiclient.AdminQuery{Top: 1})
	if err == nil {
		r.Status, r.Detail = statusOK, "the admin APIs answer the "+d.principalNoun()
		return r
	}
	var apiErr *pbiclient.APIError
	refused := errors.As(err, &apiErr) && (apiErr.StatusCode == http.StatusUnauthorized || apiErr.StatusCode == http.StatusForbidden)
	switch {
	case refused && !d.isApp:
		r.Status = statusSkip
		r.Detail = "the signed-in user is not a Fabric administrator (the admin APIs answered " + apiErr.Error() + "); only the admin tools need one"
	case refused:
		r.Status = statusFail
		r.Detail = "the admin APIs refused the service principal: " + apiErr.Error()
		if !d.adminToolsOffered() {
			r.Status = statusWarn
			r.Detail += "; only the admin tools need them, and this configuration does not offer them"
		}
		r.Fix = "a Fabric administrator must turn on \"Service principals can access read-only admin APIs\" " +
			"(Admin portal > Tenant settings > Admin API settings) for a security group the app is a member of; " +
			"and the app must not hold Power BI permissions that need admin consent (Tenant.Read.All, Tenant.ReadWrite.All): " +
			"remove them from the app registration's API permissions. Changes take up to 15 minutes."
	default:
		r.Status = statusFail
		r.Detail, r.Fix = d.explainAPIError(err)
	}
	return r
}

// adminToolsOffered reports whether the server, configured as it is, offers the admin tools.
func (d *doctor) adminToolsOffered() bool {
	selected, err := tools.Select(tools.All(tools.Deps{}),
		tools.Options{ReadOnly: d.cfg.ReadOnly, Toolsets: d.cfg.Toolsets, Tools: d.cfg.Tools})
	if err != nil {
		return true
	}
	for _, t := range selected {
		if t.Toolset == "admin" {
			return true
		}
	}
	return false
}

// 7. DAX.

// maxWorkspacesSearched bounds the requests spent looking for a semantic model to query.
const maxWorkspacesSearched = 10

func (d *doctor) checkDAX(ctx context.Context) checkResult {
	r := checkResult{Check: checkDAX}
	if !d.groupsOK {
		r.Status, r.Detail = statusSkip, "needs the workspace list"
		return r
	}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	ws, ds, found := d.findDataset(ctx)
	if !found {
		r.Status, r.Detail = statusSkip, "no semantic model in the workspaces the "+d.principalNoun()+" sees, so nothing to query"
		return r
	}
	const query = `EVALUATE ROW("x", 1)`
	_, err := d.client.ExecuteQuery(ctx, ws.ID, ds.ID, query, pbiclient.QueryOptions{})
	if err == nil {
		r.Status, r.Detail = statusOK, fmt.Sprintf("%s ran on the semantic model %q in %q", query, ds.Name, ws.Name)
		return r
	}
	r.Status = statusFail
	r.Detail, r.Fix = d.explainAPIError(err)
	var apiErr *pbiclient.APIError
	if errors.As(err, &apiErr) && (apiErr.StatusCode == http.StatusUnauthorized || apiErr.StatusCode == http.StatusForbidden) {
		r.Detail = fmt.Sprintf("Power BI refused a DAX query on %q in %q: %s", ds.Name, ws.Name, apiErr.Error())
		r.Fix = "a Fabric administrator must turn on the tenant setting \"Dataset Execute Queries REST API\" " +
			"(Admin portal > Tenant settings > Integration settings) for this principal, and the principal needs Build permission " +
			"on the semantic model (workspace Contributor or higher has it; otherwise grant Build on the model's Manage permissions page)."
	}
	return r
}

// findDataset picks a semantic model to query: one that is not a push dataset and needs no
// effective identity (row-level security refuses service principals without one).
func (d *doctor) findDataset(ctx context.Context) (pbiclient.Group, pbiclient.Dataset, bool) {
	var fallbackWS pbiclient.Group
	var fallback *pbiclient.Dataset
	for i, g := range d.groups {
		if i == maxWorkspacesSearched {
			break
		}
		datasets, err := d.client.ListDatasets(ctx, g.ID)
		if err != nil {
			continue
		}
		for _, ds := range datasets {
			if !ds.AddRowsAPIEnabled && !ds.IsEffectiveIdentityRequired {
				return g, ds, true
			}
			if fallback == nil {
				fallbackWS, fallback = g, &ds
			}
		}
	}
	if fallback != nil {
		return fallbackWS, *fallback, true
	}
	return pbiclient.Group{}, pbiclient.Dataset{}, false
}

// 8. Capacity.

func (d *doctor) checkCapacity() checkResult {
	r := checkResult{Check: checkCapacity}
	if !d.groupsOK || len(d.groups) == 0 {
		r.Status, r.Detail = statusSkip, "needs at least one workspace"
		return r
	}
	var dedicated []pbiclient.Group
	for _, g := range d.groups {
		if g.IsOnDedicatedCapacity {
			dedicated = append(dedicated, g)
		}
	}
	if len(dedicated) == 0 {
		r.Status = statusWarn
		r.Detail = fmt.Sprintf("none of the %d workspaces is on a Premium, Embedded or Fabric capacity; everything works except export_report (PDF, PowerPoint, PNG), which needs one", len(d.groups))
		r.Fix = "to export, assign a workspace to a capacity: workspace settings > License info, or the tool assign_workspace_to_capacity with a capacity you may assign to."
		return r
	}
	r.Status = statusOK
	r.Detail = fmt.Sprintf("%d of %d workspaces on dedicated capacity, where exports work: %s", len(dedicated), len(d.groups), groupNames(dedicated, 5))
	return r
}

// writeChecklist prints one line per check and, under each failure or warning, its fix.
func writeChecklist(w io.Writer, results []checkResult) {
	marks := map[string]string{statusOK: "✓", statusFail: "✗", statusWarn: "!", statusSkip: "–"}
	failed, warned := 0, 0
	for _, r := range results {
		fmt.Fprintf(w, "%s %s: %s\n", marks[r.Status], checkTitles[r.Check], r.Detail)
		if r.Fix != "" && (r.Status == statusFail || r.Status == statusWarn) {
			fmt.Fprintf(w, "    fix: %s\n", r.Fix)
		}
		switch r.Status {
		case statusFail:
			failed++
		case statusWarn:
			warned++
		}
	}
	switch {
	case failed > 0:
		fmt.Fprintf(w, "\n%d %s failed: fix the first one, then run powerbi-mcp doctor again.\n", failed, plural(failed, "check", "checks"))
	case warned > 0:
		fmt.Fprintf(w, "\nReady, with %d %s.\n", warned, plural(warned, "warning", "warnings"))
	default:
		fmt.Fprintln(w, "\nReady: powerbi-mcp can use Power BI with this configuration.")
	}
}
