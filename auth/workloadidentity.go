package auth

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
)

// NewWorkloadIdentity returns a source that signs in as a service principal
// with workload identity federation: instead of a secret, it presents a
// token that another identity provider issued (a Kubernetes service account
// token on AKS, GitHub Actions' OIDC token), which Entra ID accepts because
// the app registration has a federated credential for that issuer and
// subject. The token is read from FederatedTokenFile on every token request,
// because whatever writes it (the kubelet, the CI runner) replaces it before
// it expires. It needs TenantID, ClientID and FederatedTokenFile, the
// variables AKS's workload identity webhook sets.
func NewWorkloadIdentity(cfg Config) (TokenSource, error) {
	if err := missingVars("workload identity",
		setting{EnvTenantID, cfg.TenantID},
		setting{EnvClientID, cfg.ClientID},
		setting{EnvFederatedTokenFile, cfg.FederatedTokenFile}); err != nil {
		return nil, err
	}
	f := &federatedTokenFile{path: cfg.FederatedTokenFile}
	cred := confidential.NewCredFromAssertionCallback(f.read)
	sp, err := newServicePrincipal(cfg, "workload identity", cred, f.lastRead)
	if err != nil {
		return nil, err
	}
	return newCachedSource(sp, cfg), nil
}

// federatedTokenFile is the assertion callback: MSAL calls it each time it
// asks the token endpoint, never for a cached token.
type federatedTokenFile struct {
	path string
	// last is the last assertion read, kept only to scrub it from text that
	// comes back from the authority.
	last atomic.Pointer[string]
}

func (f *federatedTokenFile) read(context.Context, confidential.AssertionRequestOptions) (string, error) {
	b, err := os.ReadFile(f.path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fileErrorf("%s names %q, which does not exist; on AKS, check that the pod's service account has the azure.workload.identity/client-id annotation and the pod the label azure.workload.identity/use: \"true\"; elsewhere, write the identity provider's token to that file",
				EnvFederatedTokenFile, f.path)
		}
		return "", fileErrorf("cannot read %s %q (check the file's permissions): %v", EnvFederatedTokenFile, f.path, fileReason(err))
	}
	assertion := strings.TrimSpace(string(b))
	if assertion == "" {
		return "", fileErrorf("%s %q is empty; it must hold the token of the identity provider trusted by the app registration's federated credential",
			EnvFederatedTokenFile, f.path)
	}
	f.last.Store(&assertion)
	return assertion, nil
}

func (f *federatedTokenFile) lastRead() string {
	if p := f.last.Load(); p != nil {
		return *p
	}
	return ""
}

// credentialFileError is a problem with a file a credential reads while
// MSAL acquires a token. servicePrincipal.acquire passes it on as it is:
// it is about local configuration, not the authority.
type credentialFileError struct{ msg string }

func (e *credentialFileError) Error() string { return e.msg }

func fileErrorf(format string, args ...any) error {
	return &credentialFileError{fmt.Sprintf(format, args...)}
}
