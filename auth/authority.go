package auth

import (
	"fmt"
	"net/url"
	"strings"
)

// microsoftAuthorityHosts are Entra ID's hosts in Microsoft's clouds (public,
// US Government, China). For them MSAL's instance discovery stays on: it
// validates the authority and learns the host's aliases. Instance discovery
// asks login.microsoftonline.com about the host, which cannot vouch for any
// other host (a private test authority, the fake tenant), so for those it is
// turned off and MSAL reads the host's OpenID configuration directly.
var microsoftAuthorityHosts = map[string]bool{
	"login.microsoftonline.com":        true,
	"login.microsoftonline.us":         true,
	"login.chinacloudapi.cn":           true,
	"login.partner.microsoftonline.cn": true,
}

// authorityHost checks AZURE_AUTHORITY_HOST and returns it as
// "https://host[:port]", the default when raw is empty.
func authorityHost(raw string) (string, error) {
	if raw == "" {
		return DefaultAuthorityHost, nil
	}
	u, err := url.Parse(strings.TrimSuffix(raw, "/"))
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil ||
		u.Path != "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%s must be an https URL with only a host, such as %s or https://login.microsoftonline.us, not %q",
			EnvAuthorityHost, DefaultAuthorityHost, raw)
	}
	return "https://" + strings.ToLower(u.Host), nil
}

// isMicrosoftAuthority reports whether host (as returned by authorityHost)
// is one of Microsoft's Entra ID hosts.
func isMicrosoftAuthority(host string) bool {
	u, err := url.Parse(host)
	return err == nil && microsoftAuthorityHosts[u.Hostname()]
}

// checkServicePrincipalTenant rejects tenant values that cannot work for an
// app signing in as itself. A service principal exists in specific tenants,
// so the multi-tenant aliases do not name one; and the value becomes a path
// segment of the authority URL, so it must not need escaping.
func checkServicePrincipalTenant(tenant string) error {
	switch strings.ToLower(tenant) {
	case "common", "organizations", "consumers":
		return fmt.Errorf("%s must name one tenant, by its Directory (tenant) ID or a verified domain such as contoso.onmicrosoft.com, not %q: a service principal signs in to a specific tenant",
			EnvTenantID, tenant)
	}
	if url.PathEscape(tenant) != tenant {
		return fmt.Errorf("%s %q is not a tenant ID or domain name", EnvTenantID, tenant)
	}
	return nil
}
