package auth_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// fakeAz puts a stand-in az first on PATH. It records its arguments, counts
// its runs, and prints stdout (or, with a non-zero exit, stderr) as the real
// az account get-access-token does.
type fakeAz struct {
	dir string
}

func newFakeAz(t *testing.T) *fakeAz {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the stand-in az is a shell script")
	}
	dir := t.TempDir()
	script := `#!/bin/sh
echo run >> "` + dir + `/runs"
echo "$@" > "` + dir + `/args"
sleep 0.2
if [ -f "` + dir + `/stderr" ]; then cat "` + dir + `/stderr" >&2; exit 1; fi
cat "` + dir + `/stdout"
`
	if err := os.WriteFile(filepath.Join(dir, "az"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return &fakeAz{dir: dir}
}

// answer makes az print token the way az 2.54 and later do: both expiry
// fields.
func (f *fakeAz) answer(t *testing.T, token string, expires time.Time) {
	t.Helper()
	out, _ := json.Marshal(map[string]any{
		"accessToken": token, "expiresOn": expires.Local().Format("2006-01-02 15:04:05.000000"),
		"expires_on": expires.Unix(), "subscription": "sub", "tenant": "tenant", "tokenType": "Bearer",
	})
	f.write(t, "stdout", string(out))
}

func (f *fakeAz) write(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(f.dir, name), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func (f *fakeAz) runs() int {
	b, _ := os.ReadFile(filepath.Join(f.dir, "runs"))
	return strings.Count(string(b), "run")
}

func (f *fakeAz) args() string {
	b, _ := os.ReadFile(filepath.Join(f.dir, "args"))
	return strings.TrimSpace(string(b))
}

func TestAzureCLITokenListsWorkspaces(t *testing.T) {
	az := newFakeAz(t)
	tenant := newTenant(t, pbitest.Options{})
	az.answer(t, tenant.IssueUserToken("", time.Hour), time.Now().Add(time.Hour))

	log, logs := traceLogger()
	src := newSource(t, auth.Config{Kind: auth.KindAzureCLI, Logger: log})
	listWorkspaces(t, tenant, src)
	if want := "account get-access-token --resource https://analysis.windows.net/powerbi/api --output json"; az.args() != want {
		t.Fatalf("az ran with %q, want %q", az.args(), want)
	}
	if d := src.Describe(); !strings.HasPrefix(d, "Azure CLI") {
		t.Fatalf("Describe() = %q", d)
	}
	if strings.Contains(logs.String(), "eyJ") || !strings.Contains(logs.String(), "token acquired") {
		t.Fatalf("the logs must say a token was acquired, never show it:\n%s", logs)
	}
}

func TestAzureCLIConcurrentCallsShareOneRun(t *testing.T) {
	az := newFakeAz(t)
	tenant := newTenant(t, pbitest.Options{})
	token := tenant.IssueToken(time.Hour)
	az.answer(t, token, time.Now().Add(time.Hour))
	src := newSource(t, auth.Config{Kind: auth.KindAzureCLI})

	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := src.Token(context.Background())
			if err == nil && got != token {
				err = fmt.Errorf("got another token")
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := src.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := az.runs(); n != 1 {
		t.Fatalf("az ran %d times for 101 calls, want 1", n)
	}
}

func TestAzureCLITokenNearExpiryIsRenewed(t *testing.T) {
	az := newFakeAz(t)
	tenant := newTenant(t, pbitest.Options{})
	// Four minutes left: inside the five-minute margin, so every call asks az.
	az.answer(t, tenant.IssueToken(4*time.Minute), time.Now().Add(4*time.Minute))
	src := newSource(t, auth.Config{Kind: auth.KindAzureCLI})
	for range 2 {
		if _, err := src.Token(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if n := az.runs(); n != 2 {
		t.Fatalf("az ran %d times, want 2 (a token about to expire is not reused)", n)
	}
}

func TestAzureCLIOldExpiryFormatCloudAndTenant(t *testing.T) {
	az := newFakeAz(t)
	tenant := newTenant(t, pbitest.Options{})
	token := tenant.IssueToken(time.Hour)
	// az before 2.54 printed only expiresOn, in local time without a zone.
	exp := time.Now().Add(time.Hour)
	az.write(t, "stdout", `{"accessToken":"`+token+`","expiresOn":"`+exp.Format("2006-01-02 15:04:05.000000")+`","tokenType":"Bearer"}`)
	src, err := auth.NewAzureCLI(auth.Config{Cloud: "usgovhigh", TenantID: "contoso.onmicrosoft.us"})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if got, err := src.Token(context.Background()); err != nil || got != token {
			t.Fatalf("Token: %v", err)
		}
	}
	if n := az.runs(); n != 1 {
		t.Fatalf("az ran %d times, want 1: the expiry was not understood", n)
	}
	want := "account get-access-token --resource https://high.analysis.usgovcloudapi.net/powerbi/api --output json --tenant contoso.onmicrosoft.us"
	if az.args() != want {
		t.Fatalf("az ran with %q, want %q", az.args(), want)
	}
}

func TestAzureCLIErrorsSayWhatToDo(t *testing.T) {
	const token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
	tests := []struct {
		name, stderr string
		want         []string
	}{
		{"not signed in", "ERROR: Please run 'az login' to setup account.\n", []string{"the user must run az login"}},
		{"other failure", "ERROR: AADSTS70043: The refresh token has expired " + token + "\nTraceback...\n",
			[]string{"az account get-access-token failed: AADSTS70043: The refresh token has expired [token]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			az := newFakeAz(t)
			az.write(t, "stderr", tt.stderr)
			_, err := newSource(t, auth.Config{Kind: auth.KindAzureCLI}).Token(context.Background())
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), token) || strings.Contains(err.Error(), "Traceback") {
				t.Errorf("error carries more than az's first line: %q", err)
			}
		})
	}
}

func TestAzureCLINotInstalled(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := newSource(t, auth.Config{Kind: auth.KindAzureCLI}).Token(context.Background())
	if err == nil || !strings.Contains(err.Error(), "not on PATH") || !strings.Contains(err.Error(), "install-azure-cli") {
		t.Fatalf("error %v does not say to install az", err)
	}
}
