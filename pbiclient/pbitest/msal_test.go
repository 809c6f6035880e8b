package pbitest

import (
	"context"
	"strings"
	"testing"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
)

// TestMSALClientCredentials signs in with MSAL Go itself, the library the
// auth package is built on, so the Entra side is checked against what MSAL
// really sends and requires.
func TestMSALClientCredentials(t *testing.T) {
	s := newTestServer(t, Options{})
	newClient := func(secret string) confidential.Client {
		cred, err := confidential.NewCredFromSecret(secret)
		if err != nil {
			t.Fatal(err)
		}
		c, err := confidential.New(s.AuthorityHost()+"/"+s.TenantID(), s.ClientID(), cred,
			confidential.WithHTTPClient(s.Client()),
			confidential.WithInstanceDiscovery(false))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	scopes := []string{"https://analysis.windows.net/powerbi/api/.default"}

	c := newClient(s.ClientSecret())
	res, err := c.AcquireTokenByCredential(context.Background(), scopes)
	if err != nil {
		t.Fatalf("AcquireTokenByCredential: %v", err)
	}
	wantStatus(t, do(t, s, "GET", apiPrefix+"/groups", res.AccessToken, nil), 200)
	// A second call is served from MSAL's cache: the token's expires_in is
	// long enough for MSAL to keep it.
	if _, err := c.AcquireTokenByCredential(context.Background(), scopes); err != nil {
		t.Fatal(err)
	}
	if n := s.TokenRequests(); n != 1 {
		t.Errorf("token endpoint called %d times, want 1", n)
	}

	_, err = newClient("wrong-secret").AcquireTokenByCredential(context.Background(), scopes)
	if err == nil || !strings.Contains(err.Error(), "AADSTS7000215") {
		t.Fatalf("wrong secret: err = %v, want AADSTS7000215", err)
	}
}
