package auth

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestManagedIdentityAnnouncedByTheEnvironment(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"IDENTITY_ENDPOINT": "http://127.0.0.1:41741/msi/token", "IDENTITY_HEADER": "h"}, "App Service"},
		{map[string]string{"MSI_ENDPOINT": "http://localhost:50342/oauth2/token"}, "Cloud Shell"},
		{map[string]string{"IDENTITY_ENDPOINT": "http://localhost:40342/metadata/identity/oauth2/token", "IMDS_ENDPOINT": "http://localhost:40342"}, "Azure Arc"},
	} {
		start := time.Now()
		why, ok := managedIdentityAvailable(func(k string) string { return c.env[k] })
		if !ok || !strings.Contains(why, c.want) {
			t.Errorf("env %v: managedIdentityAvailable = %q, %v; want true, naming %s", c.env, why, ok, c.want)
		}
		if time.Since(start) > 100*time.Millisecond {
			t.Errorf("env %v: took %s; an announced endpoint needs no probe", c.env, time.Since(start))
		}
	}
}

// TestManagedIdentityProbe: the instance metadata service counts when it
// answers with JSON, as it does to a request without its Metadata header.
func TestManagedIdentityProbe(t *testing.T) {
	imds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Metadata") != "" || r.URL.Query().Get("resource") != "https://analysis.windows.net/powerbi/api" {
			t.Errorf("probe sent Metadata %q, query %s", r.Header.Get("Metadata"), r.URL.RawQuery)
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"invalid_request","error_description":"Required metadata header not specified"}`))
	}))
	defer imds.Close()
	if why, ok := probeIMDS(t.Context(), imds.URL+"/metadata/identity/oauth2/token"); !ok {
		t.Errorf("IMDS answering 400 JSON: %q, not available", why)
	}

	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("<html>metadata</html>"))
	}))
	defer other.Close()
	if why, ok := probeIMDS(t.Context(), other.URL+"/metadata/identity/oauth2/token"); ok || !strings.Contains(why, "is not Azure's instance metadata service") {
		t.Errorf("an HTML answer: %q, %v", why, ok)
	}

	silent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer silent.Close()
	start := time.Now()
	why, ok := probeIMDS(t.Context(), silent.URL+"/metadata/identity/oauth2/token")
	if ok || !strings.Contains(why, "did not answer within 1s") {
		t.Errorf("a silent endpoint: %q, %v", why, ok)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the probe waited %s", d)
	}
}

// TestManagedIdentityAvailableOffAzure probes the real address. Off Azure
// it must give up within about a second and say why.
func TestManagedIdentityAvailableOffAzure(t *testing.T) {
	start := time.Now()
	why, ok := managedIdentityAvailable(func(string) string { return "" })
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %s", d)
	}
	if !ok && !strings.Contains(why, "IDENTITY_ENDPOINT") {
		t.Errorf("why = %q", why)
	}
	t.Logf("managedIdentityAvailable: %q, %v", why, ok)
}
