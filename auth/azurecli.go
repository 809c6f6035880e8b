package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"time"
)

// azTimeout bounds one az run. az starts a Python interpreter and may refresh
// its own token over the network, which takes seconds, not minutes.
const azTimeout = 30 * time.Second

const azInstallURL = "https://learn.microsoft.com/cli/azure/install-azure-cli"

// NewAzureCLI returns a source that takes the token of the user signed in to
// the Azure CLI (az login), for people who already use az. It runs
// az account get-access-token for the cloud's Power BI resource, in
// AZURE_TENANT_ID's tenant when that is set. Concurrent callers share one az
// run and the token is reused until five minutes before it expires.
func NewAzureCLI(cfg Config) (TokenSource, error) {
	cfg, err := cfg.WithCloud() // New has done this, but a direct call must get the cloud's resource too
	if err != nil {
		return nil, err
	}
	if cfg.TenantID != "" {
		if err := checkServicePrincipalTenant(cfg.TenantID); err != nil {
			// The same rule holds here: az wants one tenant.
			return nil, err
		}
	}
	return newCachedSource(&azureCLI{resource: cfg.resource(), tenant: cfg.TenantID, timeout: azTimeout}, cfg), nil
}

type azureCLI struct {
	resource string
	tenant   string
	timeout  time.Duration
}

// azToken is az account get-access-token's answer. expiresOn is local time
// without a zone ("2024-01-02 15:04:05.000000"), the only expiry before az
// 2.54; expires_on, added then, is Unix seconds.
type azToken struct {
	AccessToken string          `json:"accessToken"`
	ExpiresOn   string          `json:"expiresOn"`
	ExpiresOnTS json.RawMessage `json:"expires_on"`
}

func (a *azureCLI) acquire(ctx context.Context) (accessToken, error) {
	path, err := exec.LookPath("az")
	if err != nil {
		return accessToken{}, fmt.Errorf("the Azure CLI (az) is not on PATH; install it (%s) and run az login, or choose another credential with %s", azInstallURL, EnvAuth)
	}
	args := []string{"account", "get-access-token", "--resource", a.resource, "--output", "json"}
	if a.tenant != "" {
		args = append(args, "--tenant", a.tenant)
	}
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	if ctx.Err() != nil {
		return accessToken{}, noRestart{fmt.Errorf("az account get-access-token did not answer within %s; run it in a terminal to see what it waits for", a.timeout)}
	}
	if runErr != nil {
		return accessToken{}, noRestart{azError(stderr.String(), runErr)}
	}
	var t azToken
	if err := json.Unmarshal(stdout.Bytes(), &t); err != nil || t.AccessToken == "" {
		// The output holds the token, so it is not quoted.
		return accessToken{}, errors.New("az account get-access-token printed something other than a token; check that az is the Azure CLI and up to date (az upgrade)")
	}
	exp, err := t.expiry()
	if err != nil {
		return accessToken{}, err
	}
	return accessToken{value: t.AccessToken, expiresOn: exp}, nil
}

func (t azToken) expiry() (time.Time, error) {
	if len(t.ExpiresOnTS) > 0 {
		var secs json.Number
		raw := bytes.Trim(t.ExpiresOnTS, `"`)
		if err := json.Unmarshal(raw, &secs); err == nil {
			if n, err := secs.Int64(); err == nil && n > 0 {
				return time.Unix(n, 0), nil
			}
		}
	}
	for _, layout := range []string{"2006-01-02 15:04:05.999999", time.RFC3339Nano} {
		if exp, err := time.ParseInLocation(layout, t.ExpiresOn, time.Local); err == nil {
			return exp, nil
		}
	}
	return time.Time{}, fmt.Errorf("az account get-access-token gave an expiry this server cannot read (%q); update the Azure CLI (az upgrade)", t.ExpiresOn)
}

// jwtLike matches anything shaped like a token, so that no az message can
// carry one into an error.
var jwtLike = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*`)

// azError turns az's failure into what to do about it.
func azError(stderr string, runErr error) error {
	if strings.Contains(stderr, "az login") {
		return errors.New("the Azure CLI is not signed in (or its sign-in expired): the user must run az login")
	}
	line := ""
	for _, l := range strings.Split(stderr, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			line = l
			break
		}
	}
	if line == "" {
		line = runErr.Error()
	}
	line = jwtLike.ReplaceAllString(line, "[token]")
	return fmt.Errorf("az account get-access-token failed: %s", strings.TrimPrefix(line, "ERROR: "))
}

// forget has nothing to drop: az keeps its own cache, and the next acquire
// asks az again.
func (a *azureCLI) forget() {}

func (a *azureCLI) describe() string {
	if a.tenant != "" {
		return "Azure CLI (tenant " + a.tenant + ", resource " + a.resource + ")"
	}
	return "Azure CLI (az's default tenant, resource " + a.resource + ")"
}
