package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	msalerrors "github.com/AzureAD/microsoft-authentication-library-for-go/apps/errors"
	mi "github.com/AzureAD/microsoft-authentication-library-for-go/apps/managedidentity"
)

// NewManagedIdentity returns a source that signs in as the managed identity
// of the Azure resource it runs on (App Service, Functions, Container Apps,
// a VM, Azure Arc, ...), through MSAL's managed identity client. Without
// further settings that is the resource's system-assigned identity; a
// user-assigned one is named by exactly one of ClientID, ManagedIdentityObjectID
// and ManagedIdentityResourceID. MSAL finds the resource's token endpoint
// from the process environment (IDENTITY_ENDPOINT and IDENTITY_HEADER,
// MSI_ENDPOINT, or the instance metadata service). No network I/O here.
func NewManagedIdentity(cfg Config) (TokenSource, error) {
	id, which, setting, err := managedIdentityID(cfg)
	if err != nil {
		return nil, err
	}
	scope := cfg.Scope
	if scope == "" {
		scope = PowerBIScope
	}
	var opts []mi.ClientOption
	if cfg.HTTPClient != nil {
		opts = append(opts, mi.WithHTTPClient(cfg.HTTPClient))
	}
	client, err := mi.New(id, opts...)
	if err != nil {
		// MSAL refuses user-assigned identities where the platform has
		// none (Cloud Shell, Service Fabric) and limits Azure ML to client ids.
		return nil, fmt.Errorf("managed identity (%s): %w", which, err)
	}
	source, _ := mi.GetSource()
	m := &managedIdentity{
		client:   client,
		resource: strings.TrimSuffix(scope, "/.default"),
		which:    which,
		setting:  setting,
		desc:     fmt.Sprintf("managed identity (%s, %s)", which, managedIdentitySourceName(source)),
	}
	// The first acquisition skips MSAL's cache too: it is shared by the
	// whole process, so it may hold a token that another source of this
	// process got earlier and that this source never vouched for.
	m.fresh.Store(true)
	return newCachedSource(m, cfg), nil
}

// managedIdentityID reads which identity to use, and names it for Describe
// and errors: which, e.g. "user-assigned, client id ...", and the setting
// that chose it (empty for the system-assigned identity).
func managedIdentityID(cfg Config) (mi.ID, string, string, error) {
	var set []string
	for _, s := range []setting{{EnvClientID, cfg.ClientID}, {EnvManagedIdentityObjectID, cfg.ManagedIdentityObjectID},
		{EnvManagedIdentityResourceID, cfg.ManagedIdentityResourceID}} {
		if s.value != "" {
			set = append(set, s.name)
		}
	}
	if len(set) > 1 {
		return nil, "", "", fmt.Errorf("%s are set, but each names a user-assigned managed identity: set only one of %s and %s (none for the system-assigned identity)",
			joinNames(set), EnvClientID+", "+EnvManagedIdentityObjectID, EnvManagedIdentityResourceID)
	}
	switch {
	case cfg.ClientID != "":
		return mi.UserAssignedClientID(cfg.ClientID), "user-assigned, client id " + cfg.ClientID, EnvClientID, nil
	case cfg.ManagedIdentityObjectID != "":
		return mi.UserAssignedObjectID(cfg.ManagedIdentityObjectID), "user-assigned, object id " + cfg.ManagedIdentityObjectID, EnvManagedIdentityObjectID, nil
	case cfg.ManagedIdentityResourceID != "":
		return mi.UserAssignedResourceID(cfg.ManagedIdentityResourceID), "user-assigned, resource id " + cfg.ManagedIdentityResourceID, EnvManagedIdentityResourceID, nil
	default:
		return mi.SystemAssigned(), "system-assigned", "", nil
	}
}

func managedIdentitySourceName(s mi.Source) string {
	switch s {
	case mi.AppService:
		return "App Service endpoint " + os.Getenv("IDENTITY_ENDPOINT")
	case mi.DefaultToIMDS:
		return "instance metadata service"
	default:
		return string(s) + " endpoint"
	}
}

// managedIdentity is the acquirer for a managed identity.
type managedIdentity struct {
	client   mi.Client
	resource string
	which    string
	setting  string // the variable naming a user-assigned identity; empty for the system-assigned one
	desc     string
	// fresh makes the next acquisition skip MSAL's cache (see forget).
	fresh atomic.Bool
}

func (m *managedIdentity) acquire(ctx context.Context) (accessToken, error) {
	var opts []mi.AcquireTokenOption
	fresh := m.fresh.Swap(false)
	if fresh {
		opts = append(opts, mi.WithClaims(notBeforeClaims(time.Now())))
	}
	res, err := m.client.AcquireToken(ctx, m.resource, opts...)
	if err != nil {
		if fresh {
			// The cache may still hold the rejected token.
			m.fresh.Store(true)
		}
		return accessToken{}, managedIdentityError(err, m.which, m.setting)
	}
	return accessToken{value: res.AccessToken, expiresOn: res.ExpiresOn, refreshOn: res.Metadata.RefreshOn}, nil
}

// forget makes the next acquisition ask the endpoint. MSAL's managed
// identity cache is process-wide and has no accessor to empty it, but a
// request with claims bypasses it (AcquireToken in MSAL's
// apps/managedidentity: "ignore cached access tokens when given claims"),
// and the new token then replaces the old one in that cache.
func (m *managedIdentity) forget() { m.fresh.Store(true) }

func (m *managedIdentity) describe() string { return m.desc }

// notBeforeClaims is a claims request for a token issued at or after t, the
// form Entra ID's claims challenges take when a token was revoked. MSAL
// v1.10 sends no claims to managed identity endpoints; it only skips its
// cache for them, which is what forget needs.
func notBeforeClaims(t time.Time) string {
	return `{"access_token":{"nbf":{"essential":true,"value":"` + strconv.FormatInt(t.Unix(), 10) + `"}}}`
}

// managedIdentityError explains a failed managed identity request. Only the
// message field of the endpoint's answer is quoted: the body of a failure
// never holds a token, but quoting a field keeps that true whatever the
// endpoint sends.
func managedIdentityError(err error, which, setting string) error {
	var call msalerrors.CallErr
	if errors.As(err, &call) && call.Resp != nil {
		_, body, _ := strings.Cut(call.Error(), ":\n")
		msg := managedIdentityMessage(body)
		var fix string
		switch {
		case call.Resp.StatusCode == http.StatusUnauthorized || call.Resp.StatusCode == http.StatusForbidden:
			fix = "the endpoint refused IDENTITY_HEADER: it is set by the platform and rotated; do not set it yourself, and restart the app to get the current one."
		case setting != "":
			fix = "check that " + setting + " names a user-assigned identity added to this resource (portal: the resource > Identity > User assigned), or unset it to use the system-assigned identity."
		default:
			fix = "turn the resource's system-assigned identity on (portal: the resource > Identity > System assigned > Status On), or name a user-assigned identity with " + EnvClientID + "."
		}
		return fmt.Errorf("the managed identity endpoint refused the token request (%s, HTTP %d)%s Fix: %s",
			which, call.Resp.StatusCode, msg, fix)
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return fmt.Errorf("cannot reach the managed identity endpoint (%s): %w; a managed identity exists only on an Azure resource that has one (App Service, Functions, Container Apps, VM, AKS, Arc): elsewhere choose another --auth",
			which, urlErr.Err)
	}
	var jsonErr msalerrors.InvalidJsonErr
	if errors.As(err, &jsonErr) {
		return fmt.Errorf("the managed identity endpoint (%s) sent a response that is not valid JSON", which)
	}
	return fmt.Errorf("managed identity (%s): %w", which, err)
}

// managedIdentityMessage picks the readable message out of an error body:
// App Service sends {"statusCode":..,"message":..}, the instance metadata
// service {"error":..,"error_description":..}.
func managedIdentityMessage(body string) string {
	var b struct {
		Message          string `json:"message"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	if json.Unmarshal([]byte(strings.TrimSpace(body)), &b) != nil {
		return "."
	}
	msg := b.Message
	if msg == "" {
		msg = strings.TrimSpace(b.Error + " " + b.ErrorDescription)
	}
	msg, _, _ = strings.Cut(msg, "\n")
	if msg == "" {
		return "."
	}
	return ": " + strings.TrimSuffix(strings.TrimSpace(msg), ".") + "."
}

// The instance metadata service, which MSAL asks when no other managed
// identity endpoint is configured, and how long auto waits for it: the
// Azure SDK's DefaultAzureCredential probes it the same way, with a short
// timeout, because off Azure the link-local address usually just drops
// packets.
const (
	imdsTokenEndpoint = "http://169.254.169.254/metadata/identity/oauth2/token"
	imdsProbeTimeout  = time.Second
)

// azureArcAgentPath is the Azure Arc agent on Linux; MSAL treats its
// presence as an Arc machine.
const azureArcAgentPath = "/opt/azcmagent/bin/himds"

// managedIdentityAvailable reports whether this machine offers a managed
// identity endpoint, and if not, why not (for auto's log). Endpoints that
// the platform announces in the environment count without a request, as
// MSAL uses them without asking; otherwise it probes the instance metadata
// service.
func managedIdentityAvailable(getenv func(string) string) (why string, ok bool) {
	if why, ok := managedIdentityFromEnv(getenv); ok {
		return why, true
	}
	return imdsProbe()
}

// imdsProbe probes this machine's instance metadata service once per process: the machine does
// not change while the server runs, and every credential built at start-up (Power BI's, then
// Fabric's, and a Key Vault reader's) would otherwise wait up to imdsProbeTimeout again.
var imdsProbe = sync.OnceValues(func() (string, bool) { return probeIMDS(context.Background(), imdsTokenEndpoint) })

// managedIdentityFromEnv mirrors MSAL's GetSource for the sources the
// environment announces.
func managedIdentityFromEnv(getenv func(string) string) (string, bool) {
	endpoint, header := getenv("IDENTITY_ENDPOINT"), getenv("IDENTITY_HEADER")
	switch {
	case endpoint != "" && header != "":
		return "IDENTITY_ENDPOINT and IDENTITY_HEADER are set (App Service, Functions, Container Apps or Service Fabric)", true
	case getenv("MSI_ENDPOINT") != "":
		return "MSI_ENDPOINT is set (Cloud Shell or Azure Machine Learning)", true
	case endpoint != "" && getenv("IMDS_ENDPOINT") != "":
		return "IDENTITY_ENDPOINT and IMDS_ENDPOINT are set (Azure Arc)", true
	}
	if _, err := os.Stat(azureArcAgentPath); err == nil {
		return "the Azure Arc agent is installed", true
	}
	return "", false
}

// probeIMDS asks endpoint whether it is there. The service answers a
// request without its Metadata header with a JSON error (400), and sending
// none keeps the probe from getting a token; so any JSON answer counts. An
// answer that is not JSON comes from something else at the link-local
// address (another cloud's metadata service, a captive portal). A proxy is
// never used, because its answer for that address would be a false yes.
func probeIMDS(ctx context.Context, endpoint string) (string, bool) {
	ctx, cancel := context.WithTimeout(ctx, imdsProbeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"?api-version=2018-02-01&resource="+url.QueryEscape(powerBIResource()), nil)
	if err != nil {
		return "no managed identity: " + err.Error(), false
	}
	client := &http.Client{Transport: &http.Transport{Proxy: nil}}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Sprintf("no managed identity: IDENTITY_ENDPOINT and MSI_ENDPOINT are not set and the instance metadata service (%s) did not answer within %s, so this is not an Azure VM with an identity",
			req.URL.Host, imdsProbeTimeout), false
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&body); err != nil {
		return fmt.Sprintf("no managed identity: IDENTITY_ENDPOINT and MSI_ENDPOINT are not set and what answers at %s (HTTP %d) is not Azure's instance metadata service",
			req.URL.Host, resp.StatusCode), false
	}
	return "the instance metadata service (" + req.URL.Host + ") answered", true
}

// powerBIResource is Power BI's resource, the scope without "/.default".
func powerBIResource() string { return strings.TrimSuffix(PowerBIScope, "/.default") }
