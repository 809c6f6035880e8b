package auth

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

// FuzzTokenCacheFile puts arbitrary bytes in the token cache file and runs what reads it:
// the reader MSAL's cache goes through, the lookup of the signed-in user, the merge of a write
// with the file, dropping a client's access tokens, and sign-out. Nothing may panic; the
// reader either returns the file as it is, a JSON object, or refuses it with an error; and
// after sign-out the file is gone or still a cache, without the client's sign-ins.
func FuzzTokenCacheFile(f *testing.F) {
	const client = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
	home := "uid.72f988bf-86f1-41af-91ab-2d7cd011db47"
	for _, s := range []string{
		`{"AccessToken":{"k1":{"home_account_id":"` + home + `","client_id":"` + client + `","secret":"at","target":"https://analysis.windows.net/powerbi/api/.default"}},` +
			`"RefreshToken":{"k2":{"home_account_id":"` + home + `","client_id":"` + client + `","secret":"rt"}},` +
			`"IdToken":{"k3":{"home_account_id":"` + home + `","client_id":"` + client + `"}},` +
			`"Account":{"k4":{"home_account_id":"` + home + `","username":"ann@contoso.com"}},` +
			`"AppMetadata":{"k5":{"client_id":"` + client + `"}}}`,
		`{"RefreshToken":{"k":{"home_account_id":"x","client_id":"OTHER"}},"Account":{"a":{"home_account_id":"x"}}}`,
		`{"AccessToken":null,"RefreshToken":{"k":null},"Account":[]}`,
		`{"Account":{"a":{"home_account_id":7,"username":["x"]}}}`,
		`{}`,
		`[]`,
		`null`,
		``,
		`{"AccessToken":`,
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	path := filepath.Join(dir, tokenCacheFileName)
	cfg := Config{ClientID: client, TenantID: "72f988bf-86f1-41af-91ab-2d7cd011db47", TokenCacheDir: dir, Logger: zerolog.Nop()}

	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := readCacheFile(path, zerolog.Nop())
		var obj map[string]json.RawMessage
		switch {
		case err != nil && got != nil:
			t.Fatalf("refused %q with %v, and returned %q", data, err, got)
		case err == nil && string(got) != string(data):
			t.Fatalf("read %q as %q", data, got)
		case err == nil && json.Unmarshal(got, &obj) != nil:
			t.Fatalf("accepted %q, which is not a JSON object", data)
		}

		cachedUser(cfg)
		merged := mergeCaches(data, data)
		if err == nil && !json.Valid(merged) {
			t.Fatalf("merging %q with itself gave %q", data, merged)
		}
		if c, err := parseCache(withoutAccessTokens(data, client)); err == nil {
			for _, e := range c["AccessToken"] {
				if strings.EqualFold(e.str("client_id"), client) {
					t.Fatalf("an access token of the client is left in %q", data)
				}
			}
		}

		if _, err := signOut(path, client, ""); err != nil {
			t.Fatalf("sign-out of %q: %v", data, err)
		}
		after, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			return // a file that was no cache is removed
		}
		if err != nil {
			t.Fatal(err)
		}
		c, err := parseCache(after)
		if err != nil {
			t.Fatalf("sign-out of %q left %q", data, after)
		}
		if accounts := c.clientAccounts(client); len(accounts) > 0 {
			t.Fatalf("after sign-out of %q, still signed in: %v", data, accounts)
		}
	})
}
