package auth

import (
	"errors"
	"fmt"
	"strings"
)

// Cloud is one of Microsoft's Power BI clouds: where its users sign in, where
// its REST API answers, and the resource its tokens must be issued for. The
// three belong together: a token for one cloud's resource is refused by
// another cloud's API.
type Cloud struct {
	Name          string // as --cloud and PBI_MCP_CLOUD name it
	AuthorityHost string // Entra ID's host for the cloud's tenants
	APIBaseURL    string // the Power BI REST API, up to and including /v1.0/myorg
	Resource      string // the Power BI resource (token audience); the scope is Resource + "/.default"
	// V1Issuer is the issuer of Entra's v1.0 access tokens, before the tenant id: v1 tokens
	// name a security token service host of their own, not AuthorityHost. The US Government
	// cloud keeps the public one; China has its own.
	V1Issuer string
	// FabricResource is the Fabric REST API's resource, whose tokens the semantic model
	// definition tools need; "" in the clouds where Fabric's API is not published.
	FabricResource string
}

// Scope is the .default scope of the cloud's Power BI resource.
func (c Cloud) Scope() string { return c.Resource + "/.default" }

// The clouds, from Microsoft's "Embed content for national clouds" guide.
// US Government Community Cloud (GCC) tenants sign in to the public Entra
// ID; GCC High and DoD tenants to the US Government one.
var clouds = []Cloud{
	{"public", DefaultAuthorityHost, "https://api.powerbi.com/v1.0/myorg", "https://analysis.windows.net/powerbi/api", publicV1Issuer, FabricResource},
	{"usgov", DefaultAuthorityHost, "https://api.powerbigov.us/v1.0/myorg", "https://analysis.usgovcloudapi.net/powerbi/api", publicV1Issuer, ""},
	{"usgovhigh", "https://login.microsoftonline.us", "https://api.high.powerbigov.us/v1.0/myorg", "https://high.analysis.usgovcloudapi.net/powerbi/api", publicV1Issuer, ""},
	{"usdod", "https://login.microsoftonline.us", "https://api.mil.powerbigov.us/v1.0/myorg", "https://mil.analysis.usgovcloudapi.net/powerbi/api", publicV1Issuer, ""},
	{"china", "https://login.chinacloudapi.cn", "https://api.powerbi.cn/v1.0/myorg", "https://analysis.chinacloudapi.cn/powerbi/api", "https://sts.chinacloudapi.cn/", ""},
}

// FabricResource is the public cloud's Fabric REST API resource; its scope is FabricScope.
const FabricResource = "https://api.fabric.microsoft.com"

// FabricScope is the scope of app-only Fabric REST API tokens.
const FabricScope = FabricResource + "/.default"

// ErrNoFabric is ForFabric's answer where no Fabric token can be had.
var ErrNoFabric = errors.New("no Fabric REST API tokens")

// publicV1Issuer is the v1.0 token issuer of the public and US Government clouds.
const publicV1Issuer = "https://sts.windows.net/"

// CloudNames lists the clouds --cloud accepts, for help texts.
func CloudNames() []string {
	names := make([]string, len(clouds))
	for i, c := range clouds {
		names[i] = c.Name
	}
	return names
}

// LookupCloud returns the cloud named name (any case); "" is the public cloud.
func LookupCloud(name string) (Cloud, error) {
	if name == "" {
		return clouds[0], nil
	}
	for _, c := range clouds {
		if strings.EqualFold(c.Name, name) {
			return c, nil
		}
	}
	return Cloud{}, fmt.Errorf("%s %q is not a Power BI cloud; use one of %s", EnvCloud, name, strings.Join(CloudNames(), ", "))
}

// WithCloud fills the authority host and scope that cfg leaves empty from
// its cloud. Explicit settings win, so each part stays overridable.
func (cfg Config) WithCloud() (Config, error) {
	c, err := LookupCloud(cfg.Cloud)
	if err != nil {
		return cfg, err
	}
	if cfg.AuthorityHost == "" {
		cfg.AuthorityHost = c.AuthorityHost
	}
	if cfg.Scope == "" {
		cfg.Scope = c.Scope()
	}
	return cfg, nil
}

// ForFabric is cfg for tokens of the Fabric REST API in cfg's cloud: the same credential, the
// same cache, another scope. It wraps ErrNoFabric when the cloud has no Fabric API or the
// credential is a pre-acquired Power BI token, which cannot be turned into another resource's.
func (cfg Config) ForFabric() (Config, error) {
	c, err := LookupCloud(cfg.Cloud)
	if err != nil {
		return cfg, err
	}
	switch {
	case c.FabricResource == "":
		return cfg, fmt.Errorf("%w: the %s cloud has no Fabric REST API this server knows", ErrNoFabric, c.Name)
	case strings.EqualFold(cfg.Kind, KindToken):
		return cfg, fmt.Errorf("%w: --auth %s brings a Power BI token only; sign in with another credential kind", ErrNoFabric, KindToken)
	}
	cfg.Scope = c.FabricResource + "/.default"
	return cfg, nil
}

// resource is the resource of cfg's scope, for credentials that ask for a
// resource rather than a scope (the Azure CLI).
func (cfg Config) resource() string {
	scope := cfg.Scope
	if scope == "" {
		scope = PowerBIScope
	}
	return strings.TrimSuffix(scope, "/.default")
}
