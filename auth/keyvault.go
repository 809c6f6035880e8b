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
	"regexp"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
)

// A client secret kept in Azure Key Vault: AZURE_CLIENT_SECRET holds
// keyvault:https://{vault}.vault.azure.net/secrets/{name}[/{version}] and
// the secret's value is read with an identity of its own (managed identity,
// workload identity or the Azure CLI), so the secret itself is never in the
// environment and a rotation needs no restart.

// keyVaultPrefix marks AZURE_CLIENT_SECRET as a Key Vault reference.
const keyVaultPrefix = "keyvault:"

// EnvKeyVaultAuth chooses the identity that reads a Key Vault reference:
// managed-identity, workload-identity or azure-cli; default auto (in that
// order of preference: workload identity when AZURE_FEDERATED_TOKEN_FILE is
// set, managed identity where the machine offers it, else the Azure CLI).
const EnvKeyVaultAuth = "PBI_MCP_KEYVAULT_AUTH"

// keyVaultAPIVersion is Key Vault's data-plane API version used.
const keyVaultAPIVersion = "7.5"

// keyVaultClouds maps a cloud to its vaults' DNS suffix and Key Vault's
// resource (the token audience); the US Government clouds share one.
var keyVaultClouds = map[string]struct{ suffix, resource string }{
	"public":    {".vault.azure.net", "https://vault.azure.net"},
	"usgov":     {".vault.usgovcloudapi.net", "https://vault.usgovcloudapi.net"},
	"usgovhigh": {".vault.usgovcloudapi.net", "https://vault.usgovcloudapi.net"},
	"usdod":     {".vault.usgovcloudapi.net", "https://vault.usgovcloudapi.net"},
	"china":     {".vault.azure.cn", "https://vault.azure.cn"},
}

// Key Vault's naming rules: vault names 3-24 letters, digits and hyphens;
// secret names 1-127 of them; versions 32 hex digits.
var (
	vaultNameRE     = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{1,22}[A-Za-z0-9]$`)
	secretNameRE    = regexp.MustCompile(`^[A-Za-z0-9-]{1,127}$`)
	secretVersionRE = regexp.MustCompile(`^[0-9A-Fa-f]{32}$`)
)

// isKeyVaultReference reports whether a client secret is a Key Vault reference.
func isKeyVaultReference(secret string) bool { return strings.HasPrefix(secret, keyVaultPrefix) }

// keyVaultRef is a parsed reference.
type keyVaultRef struct {
	vault, name, version string // vault: scheme, host and any base path
	text                 string // the reference as written, for messages
}

func (r keyVaultRef) url() string {
	u := r.vault + "/secrets/" + r.name
	if r.version != "" {
		u += "/" + r.version
	}
	return u + "?api-version=" + keyVaultAPIVersion
}

// parseKeyVaultRef checks a reference's form. A vault of one of Microsoft's
// clouds must be {vault}{suffix} of the configured cloud. With an authority
// that is not Microsoft's (a test tenant, the sandbox) the cloud's hosts are
// unknown, so any https URL before /secrets/ is taken as the vault.
func parseKeyVaultRef(ref string, cfg Config) (keyVaultRef, error) {
	form := fmt.Sprintf("write it as %shttps://{vault}%s/secrets/{name} or .../secrets/{name}/{version}", keyVaultPrefix, keyVaultCloud(cfg).suffix)
	bad := func(why string) (keyVaultRef, error) {
		return keyVaultRef{}, fmt.Errorf("%s %q is not a Key Vault secret reference: %s; %s", EnvClientSecret, ref, why, form)
	}
	u, err := url.Parse(strings.TrimPrefix(ref, keyVaultPrefix))
	switch {
	case err != nil:
		return bad("it is not a URL")
	case u.Scheme != "https":
		return bad("the vault URL must start with https://")
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return bad("it has a user, query or fragment")
	}
	base, rest, ok := strings.Cut(u.Path, "/secrets/")
	if !ok {
		return bad("the path must be /secrets/{name}")
	}
	name, version, _ := strings.Cut(strings.TrimSuffix(rest, "/"), "/")
	switch {
	case !secretNameRE.MatchString(name):
		return bad("the secret name must be 1 to 127 letters, digits and hyphens")
	case version != "" && !secretVersionRE.MatchString(version):
		return bad("the version must be the 32 hex digits Key Vault shows as the version's ID")
	}
	if isMicrosoftAuthority(cfg.AuthorityHost) || cfg.AuthorityHost == "" {
		suffix := keyVaultCloud(cfg).suffix
		vault, isVault := strings.CutSuffix(strings.ToLower(u.Hostname()), suffix)
		if !isVault || !vaultNameRE.MatchString(vault) || base != "" || u.Port() != "" {
			return bad("the host must be a vault of the " + cloudName(cfg) + " cloud, {vault}" + suffix)
		}
	}
	return keyVaultRef{vault: "https://" + u.Host + base, name: name, version: version, text: ref}, nil
}

func cloudName(cfg Config) string {
	if cfg.Cloud == "" {
		return "public"
	}
	return strings.ToLower(cfg.Cloud)
}

func keyVaultCloud(cfg Config) struct{ suffix, resource string } {
	if c, ok := keyVaultClouds[cloudName(cfg)]; ok {
		return c
	}
	return keyVaultClouds["public"]
}

// newKeyVaultClientSecret is NewClientSecret for a Key Vault reference. It
// checks the reference and chooses the vault's reader; no network I/O,
// except auto's probe of the instance metadata service.
func newKeyVaultClientSecret(cfg Config) (TokenSource, error) {
	k, err := newKeyVaultSecret(cfg)
	if err != nil {
		return nil, err
	}
	return newCachedSource(k, cfg), nil
}

// newKeyVaultSecret checks cfg's Key Vault reference and builds what reads it.
func newKeyVaultSecret(cfg Config) (*keyVaultSecret, error) {
	ref, err := parseKeyVaultRef(cfg.ClientSecret, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := authorityHost(cfg.AuthorityHost); err != nil {
		return nil, err
	}
	if err := checkServicePrincipalTenant(cfg.TenantID); err != nil {
		return nil, err
	}
	reader, err := newKeyVaultReader(cfg)
	if err != nil {
		return nil, err
	}
	httpClient := cfg.HTTPClient
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	host, _ := authorityHost(cfg.AuthorityHost)
	return &keyVaultSecret{ref: ref, cfg: cfg, reader: reader, http: httpClient,
		desc: describeServicePrincipal("client secret from Key Vault "+strings.TrimPrefix(ref.text, keyVaultPrefix)+" read with "+reader.Describe(), host, cfg.TenantID, cfg.ClientID)}, nil
}

// newKeyVaultReader builds the token source for Key Vault that
// PBI_MCP_KEYVAULT_AUTH chooses. AZURE_CLIENT_ID names the app whose secret
// is read, so a managed identity is never chosen by it: a user-assigned one
// is named by PBI_MCP_MANAGED_IDENTITY_OBJECT_ID or _RESOURCE_ID.
func newKeyVaultReader(cfg Config) (TokenSource, error) {
	getenv := cfg.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	kind := strings.ToLower(strings.TrimSpace(getenv(EnvKeyVaultAuth)))
	v := Config{
		Cloud: cfg.Cloud, AuthorityHost: cfg.AuthorityHost, TenantID: cfg.TenantID,
		ManagedIdentityObjectID: cfg.ManagedIdentityObjectID, ManagedIdentityResourceID: cfg.ManagedIdentityResourceID,
		FederatedTokenFile: cfg.FederatedTokenFile,
		Scope:              keyVaultCloud(cfg).resource + "/.default",
		HTTPClient:         cfg.HTTPClient, Logger: cfg.Logger, Getenv: cfg.Getenv,
	}
	if kind == "" || kind == KindAuto {
		switch {
		case cfg.FederatedTokenFile != "":
			kind = KindWorkloadIdentity
		default:
			if _, ok := managedIdentityFromEnv(getenv); ok {
				kind = KindManagedIdentity
			} else if _, ok := imdsProbe(); ok {
				kind = KindManagedIdentity
			} else {
				kind = KindAzureCLI
			}
		}
	}
	switch kind {
	case KindManagedIdentity:
		return NewManagedIdentity(v)
	case KindWorkloadIdentity:
		v.ClientID = cfg.ClientID
		return NewWorkloadIdentity(v)
	case KindAzureCLI:
		return NewAzureCLI(v)
	}
	return nil, fmt.Errorf("%s %q is not an identity that can read Key Vault; use %s, %s or %s (or unset it to choose by the environment)",
		EnvKeyVaultAuth, kind, KindManagedIdentity, KindWorkloadIdentity, KindAzureCLI)
}

// keyVaultSecret is the acquirer for a client secret in Key Vault: a
// service principal built from the secret last read. cachedSource runs one
// acquire at a time for any number of callers, and mu keeps it so for the
// secret's state.
type keyVaultSecret struct {
	ref    keyVaultRef
	cfg    Config
	reader TokenSource
	http   *http.Client
	desc   string

	mu sync.Mutex
	sp atomic.Pointer[servicePrincipal] // nil until the first read succeeds
}

func (k *keyVaultSecret) acquire(ctx context.Context) (accessToken, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	sp := k.sp.Load()
	if sp == nil {
		var err error
		if sp, _, err = k.load(ctx, ""); err != nil {
			return accessToken{}, err
		}
	}
	t, err := sp.acquire(ctx)
	if !secretRefused(err) {
		return t, err
	}
	// The app may have a new secret that the vault already holds: read
	// it again, and retry once if it changed.
	k.cfg.Logger.Info().Str("reference", k.ref.text).Err(err).Msg("Entra ID refused the client secret; reading it from Key Vault again")
	sp, changed, lerr := k.load(ctx, sp.secret())
	if lerr != nil {
		return accessToken{}, lerr
	}
	if changed {
		if t, err = sp.acquire(ctx); !secretRefused(err) {
			return t, err
		}
	}
	return accessToken{}, k.stale(err)
}

// secretRefused reports whether Entra refused the secret itself: expired
// (AADSTS7000222) or not the app's (AADSTS7000215), as after a rotation.
func secretRefused(err error) bool {
	var e *Error
	return errors.As(err, &e) && (e.AADSTS == "AADSTS7000222" || e.AADSTS == "AADSTS7000215")
}

// stale rewrites the fix of Entra's refusal: the secret to change is the
// vault's.
func (k *keyVaultSecret) stale(err error) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	c := *e
	if k.ref.version != "" {
		c.Fix = fmt.Sprintf("%s names version %s of the Key Vault secret %s, which holds the secret Entra refused: store the app registration's new client secret Value as a new version and put that version (or none, for the latest) into %s.",
			EnvClientSecret, k.ref.version, k.ref.name, EnvClientSecret)
		return &c
	}
	c.Fix = fmt.Sprintf("the vault holds the secret Entra refused: create a new client secret on the app registration's Certificates & secrets page and store its Value as a new version of the Key Vault secret %s (az keyvault secret set); the next request reads it, no restart needed.", k.ref.name)
	return &c
}

// load reads the secret and, when it differs from previous, builds the
// service principal that signs in with it.
func (k *keyVaultSecret) load(ctx context.Context, previous string) (*servicePrincipal, bool, error) {
	value, err := k.read(ctx)
	if err != nil {
		return nil, false, err
	}
	if value == previous {
		return k.sp.Load(), false, nil
	}
	cred, err := confidential.NewCredFromSecret(value)
	if err != nil {
		return nil, false, err
	}
	sp, err := newServicePrincipal(k.cfg, "client secret", cred, func() string { return value })
	if err != nil {
		return nil, false, err
	}
	k.sp.Store(sp)
	return sp, true, nil
}

// read gets the secret's value from Key Vault, retrying once with a new
// token when the vault refuses the token.
func (k *keyVaultSecret) read(ctx context.Context) (string, error) {
	for attempt := 0; ; attempt++ {
		tok, err := k.reader.Token(ctx)
		if err != nil {
			return "", noRestart{fmt.Errorf("reading %s from Key Vault needs a token for the vault from %s: %w", EnvClientSecret, k.reader.Describe(), err)}
		}
		value, status, err := k.get(ctx, tok)
		if status == http.StatusUnauthorized && attempt == 0 {
			k.reader.Invalidate(tok)
			continue
		}
		if err == nil {
			k.cfg.Logger.Debug().Str("reference", k.ref.text).Msg("read the client secret from Key Vault")
		}
		return value, err
	}
}

// keyVaultBody is Key Vault's answer: the secret bundle or an error.
type keyVaultBody struct {
	Value      string `json:"value"`
	Attributes struct {
		Enabled *bool `json:"enabled"`
	} `json:"attributes"`
	Error *struct {
		Code       string `json:"code"`
		Message    string `json:"message"`
		InnerError *struct {
			Code string `json:"code"`
		} `json:"innererror"`
	} `json:"error"`
}

func (k *keyVaultSecret) get(ctx context.Context, token string) (string, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.ref.url(), nil)
	if err != nil {
		return "", 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := k.http.Do(req)
	if err != nil {
		return "", 0, noRestart{fmt.Errorf("cannot reach the key vault %s (check the reference in %s, the network and any proxy): %w", k.ref.vault, EnvClientSecret, errors.Unwrap(err))}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", resp.StatusCode, err
	}
	var b keyVaultBody
	jsonErr := json.Unmarshal(raw, &b)
	if resp.StatusCode == http.StatusOK && jsonErr == nil {
		if b.Attributes.Enabled != nil && !*b.Attributes.Enabled {
			return "", resp.StatusCode, k.vaultError(resp.StatusCode, "Forbidden", "SecretDisabled", "")
		}
		if b.Value == "" {
			return "", resp.StatusCode, k.vaultError(resp.StatusCode, "", "", "the secret is empty.")
		}
		return b.Value, resp.StatusCode, nil
	}
	var code, inner, msg string
	if jsonErr == nil && b.Error != nil {
		code, msg = b.Error.Code, b.Error.Message
		if b.Error.InnerError != nil {
			inner = b.Error.InnerError.Code
		}
	}
	return "", resp.StatusCode, k.vaultError(resp.StatusCode, code, inner, msg)
}

// KeyVaultError is Key Vault's refusal to hand out the client secret, with
// the fix. It quotes the first line of Key Vault's message, which names the
// caller and the secret but never holds a value. The next token request
// reads the vault again, so fixing the vault needs no restart.
type KeyVaultError struct {
	Secret     string // the reference
	StatusCode int
	Code       string // e.g. Forbidden, SecretNotFound
	InnerCode  string // e.g. ForbiddenByRbac, SecretDisabled
	Message    string
	Fix        string
}

func (e *KeyVaultError) Error() string {
	ids := []string{fmt.Sprintf("HTTP %d", e.StatusCode)}
	for _, c := range []string{e.Code, e.InnerCode} {
		if c != "" {
			ids = append(ids, c)
		}
	}
	s := fmt.Sprintf("Key Vault did not give the client secret %s (%s)", strings.TrimPrefix(e.Secret, keyVaultPrefix), strings.Join(ids, " "))
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s + " Fix: " + e.Fix
}

// NoRestart: see noRestart.
func (e *KeyVaultError) NoRestart() bool { return true }

func (k *keyVaultSecret) vaultError(status int, code, inner, msg string) error {
	msg, _, _ = strings.Cut(strings.ReplaceAll(msg, "\r", ""), "\n")
	msg = strings.TrimSpace(msg)
	e := &KeyVaultError{Secret: k.ref.text, StatusCode: status, Code: code, InnerCode: inner, Message: msg}
	who := k.reader.Describe()
	switch {
	case inner == "SecretDisabled" || strings.Contains(msg, "disabled secret"):
		e.Fix = "enable the secret's current version (portal: the key vault > Secrets > " + k.ref.name + " > the version > Enabled), or reference an enabled version in " + EnvClientSecret + "."
	case status == http.StatusForbidden:
		e.Fix = "grant the identity that reads the vault, " + who + ", the role Key Vault Secrets User on the vault (portal: the key vault > Access control (IAM) > Add role assignment), or with access policies the Get permission on secrets."
	case status == http.StatusNotFound:
		e.Fix = "check the secret's name (and version) in " + EnvClientSecret + " against the vault's Secrets page; a deleted secret can be recovered from Manage deleted secrets."
	case status == http.StatusUnauthorized:
		e.Fix = "Key Vault refused the token of " + who + ": check that the identity belongs to the vault's tenant (" + EnvTenantID + ") and cloud, or choose another identity with " + EnvKeyVaultAuth + "."
	default:
		e.Fix = "check the reference in " + EnvClientSecret + " and that it names a Key Vault secret; retry later if Key Vault is unavailable."
	}
	return e
}

func (k *keyVaultSecret) forget() {
	if sp := k.sp.Load(); sp != nil {
		sp.forget()
	}
}

func (k *keyVaultSecret) describe() string { return k.desc }

// freshClient is the on-behalf-of source's client: a new confidential client
// (see OnBehalfOf on why new) with the secret last read, reading the vault
// the first time.
func (k *keyVaultSecret) freshClient(ctx context.Context) (*servicePrincipal, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	sp := k.sp.Load()
	if sp == nil {
		var err error
		if sp, _, err = k.load(ctx, ""); err != nil {
			return nil, err
		}
	}
	secret := sp.secret()
	cred, err := confidential.NewCredFromSecret(secret)
	if err != nil {
		return nil, err
	}
	return newServicePrincipal(k.cfg, "client secret", cred, func() string { return secret })
}

// reread reads the vault again after Entra refused refused's secret and
// reports whether the vault holds another one now.
func (k *keyVaultSecret) reread(ctx context.Context, refused *servicePrincipal) (bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.cfg.Logger.Info().Str("reference", k.ref.text).Msg("Entra ID refused the client secret; reading it from Key Vault again")
	_, changed, err := k.load(ctx, refused.secret())
	return changed, err
}
