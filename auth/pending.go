package auth

// The credential kinds being built. Each constructor moves to its own file
// as its kind lands; until then it says so.

import (
	"errors"
	"fmt"
)

func notYet(kind string) error {
	return fmt.Errorf("auth: the %s credential is not available in this build", kind)
}

// NewCertificate signs in as a service principal with a certificate.
func NewCertificate(Config) (TokenSource, error) { return nil, notYet(KindCertificate) }

// NewWorkloadIdentity signs in as a service principal with a federated token file.
func NewWorkloadIdentity(Config) (TokenSource, error) { return nil, notYet(KindWorkloadIdentity) }

// NewManagedIdentity signs in as the Azure resource's managed identity.
func NewManagedIdentity(Config) (TokenSource, error) { return nil, notYet(KindManagedIdentity) }

// NewAzureCLI takes the Azure CLI's token.
func NewAzureCLI(Config) (TokenSource, error) { return nil, notYet(KindAzureCLI) }

// NewToken offers a pre-acquired token from AccessToken or AccessTokenFile.
func NewToken(cfg Config) (TokenSource, error) {
	if cfg.AccessToken == "" {
		return nil, errors.New("auth: set " + EnvAccessToken)
	}
	return NewStaticToken(cfg.AccessToken), nil
}

// newAuto picks the first configured kind.
func newAuto(cfg Config) (TokenSource, error) {
	switch {
	case cfg.AccessToken != "":
		return NewStaticToken(cfg.AccessToken), nil
	case cfg.TenantID != "" || cfg.ClientID != "" || cfg.ClientSecret != "":
		return NewClientSecret(cfg)
	default:
		return nil, errNoCredential
	}
}

// managedIdentityAvailable reports whether this machine offers a managed
// identity endpoint, and if not, why not (for auto's log).
func managedIdentityAvailable(getenv func(string) string) (why string, ok bool) {
	return "managed identity is not available in this build", false
}
