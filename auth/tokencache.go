package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/cache"
	"github.com/rs/zerolog"
)

// The persistent token cache of user sign-ins (device code,
// username-password): MSAL's serialized cache in one JSON file, so that a
// restarted server, or `powerbi-mcp login` ahead of it, spares the user a new
// sign-in. Service principals do not use it: their tokens are cheap to get
// again and a secret on disk is a liability.
//
// The file holds access and refresh tokens in plain text, like the Azure
// CLI's, so it is private to the user: mode 0600 in a 0700 directory. It is
// replaced atomically (a temporary file renamed over it), so a reader never
// sees half a file, and writers in different processes take turns through a
// lock file beside it, so two servers sharing a cache cannot interleave
// their writes.

// tokenCacheFileName is the cache file's name in Config.TokenCacheDir.
const tokenCacheFileName = "token_cache.json"

// TokenCachePath returns the file user sign-ins keep their tokens in:
// token_cache.json in cfg.TokenCacheDir, by default the powerbi-mcp folder
// of the user cache directory (e.g. ~/.cache/powerbi-mcp on Linux).
func TokenCachePath(cfg Config) (string, error) {
	dir := cfg.TokenCacheDir
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("user sign-ins keep their tokens in a file, and the user cache directory is unknown (%v): set %s to a private directory",
				err, EnvTokenCacheDir)
		}
		dir = filepath.Join(base, "powerbi-mcp")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("%s: %w", EnvTokenCacheDir, err)
	}
	return filepath.Join(abs, tokenCacheFileName), nil
}

// Account is a signed-in user as the token cache knows it.
type Account struct {
	Username string // the UPN
	TenantID string // the user's home tenant
	HomeID   string // MSAL's home account id: "<object id>.<tenant id>"
}

// fileCache is the MSAL cache accessor (public.WithCache) over the cache
// file. MSAL calls Replace before it reads its cache and Export after it
// changed it (see forgettableCache), so every lookup sees what other
// processes wrote, and every new token reaches the file.
//
// A file that cannot be read or parsed is reported once, with what to do,
// and otherwise ignored: the user signs in again, and the next write
// replaces the file. A file that cannot be written is reported once too;
// the sign-in then lasts as long as the process.
type fileCache struct {
	path     string
	clientID string
	log      zerolog.Logger

	mu sync.Mutex
	// mem is what MSAL's in-memory cache was last given or gave: after a
	// failed read, forget still needs it to drop the access tokens.
	mem []byte
	// dropAccessTokens makes Replace hand MSAL the cache without this
	// client's access tokens, so that MSAL redeems the refresh token (see
	// forget). It holds until MSAL exports its cache with a new token:
	// MSAL calls Replace more than once per lookup, and the file still
	// holds the rejected token until then.
	dropAccessTokens atomic.Bool
}

func newFileCache(path, clientID string, log zerolog.Logger) *fileCache {
	return &fileCache{path: path, clientID: clientID, log: log}
}

// forget makes MSAL drop this client's access tokens, keeping the refresh
// tokens: after Power BI rejected a user's token, a refresh-token
// redemption gets a new one without a new sign-in.
func (f *fileCache) forget() { f.dropAccessTokens.Store(true) }

func (f *fileCache) Replace(_ context.Context, u cache.Unmarshaler, _ cache.ReplaceHints) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	data, err := readCacheFile(f.path, f.log)
	if err != nil || data == nil {
		// Unreadable (reported) or not there yet: keep what MSAL has.
		data = f.mem
	}
	if f.dropAccessTokens.Load() && data != nil {
		data = withoutAccessTokens(data, f.clientID)
	}
	if data == nil {
		return nil
	}
	if err := u.Unmarshal(data); err != nil {
		// readCacheFile checked the JSON; MSAL's schema did not fit.
		warnBadCacheFile(f.log, f.path, "its contents are not a token cache")
		return nil
	}
	f.mem = data
	return nil
}

func (f *fileCache) Export(_ context.Context, m cache.Marshaler, _ cache.ExportHints) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	data, err := m.Marshal()
	if err != nil {
		return err
	}
	f.mem = data
	f.dropAccessTokens.Store(false)
	if err := mergeIntoCacheFile(f.path, data); err != nil {
		// The tokens still work in this process; only persistence failed.
		warnOnce(f.path+"\x00write", func() {
			f.log.Warn().Str("file", f.path).Err(err).
				Msg("cannot save the sign-in to the token cache file; it lasts until this process ends. Check the directory's permissions or set " + EnvTokenCacheDir)
		})
	}
	return nil
}

// warned records the problems already reported, per file and kind of
// problem, so that each is reported once per process however many sources
// and calls run into it.
var warned sync.Map

func warnOnce(key string, warn func()) {
	if _, loaded := warned.LoadOrStore(key, true); !loaded {
		warn()
	}
}

func warnBadCacheFile(log zerolog.Logger, path, why string) {
	warnOnce(path+"\x00read", func() {
		log.Warn().Str("file", path).
			Msgf("ignoring the token cache file: %s. Sign in again (powerbi-mcp login, or the next request's sign-in); that replaces the file", why)
	})
}

// pathLocks serialises this process's users of one cache file; the lock
// file does the same across processes.
var pathLocks sync.Map // path -> *sync.Mutex

func pathLock(path string) *sync.Mutex {
	mu, _ := pathLocks.LoadOrStore(path, &sync.Mutex{})
	return mu.(*sync.Mutex)
}

// withFileLock runs fn holding the cache file's lock, shared or exclusive.
// The lock file lives beside the cache file; the directory is created
// (0700) for writers.
func withFileLock(path string, exclusive bool, fn func() error) error {
	mu := pathLock(path)
	mu.Lock()
	defer mu.Unlock()
	dir := filepath.Dir(path)
	if exclusive {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
	} else if _, err := os.Stat(dir); err != nil {
		// Nothing was ever written: no file to read, and nothing to
		// lock against.
		return fn()
	}
	unlock, err := lockFile(path+".lock", exclusive)
	if err != nil {
		return err
	}
	defer unlock()
	return fn()
}

// readCacheFile returns the cache file's contents, nil if there is no file.
// A file that cannot be read or is not JSON is reported (once) and returned
// as an error.
func readCacheFile(path string, log zerolog.Logger) ([]byte, error) {
	var data []byte
	err := withFileLock(path, false, func() error {
		var err error
		data, err = os.ReadFile(path)
		return err
	})
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		warnBadCacheFile(log, path, "it cannot be read ("+err.Error()+")")
		return nil, err
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(data, &obj) != nil {
		warnBadCacheFile(log, path, "it is not valid JSON")
		return nil, errors.New("token cache file is not valid JSON")
	}
	return data, nil
}

// mergeIntoCacheFile writes MSAL's cache, data, to the file, atomically: a
// reader sees the old file or the new one, never a mix. MSAL read the file
// just before it changed its cache (Replace), but another process may have
// written since; so entries the file has and data lacks are kept, and for
// the same key data wins. MSAL never deletes an entry it has just read (a
// new token replaces the old under the same key), so nothing is revived that
// should stay gone; Logout edits the file itself, under the lock.
func mergeIntoCacheFile(path string, data []byte) error {
	return withFileLock(path, true, func() error {
		if current, err := os.ReadFile(path); err == nil {
			data = mergeCaches(current, data)
		}
		return replaceFile(path, data)
	})
}

// mergeCaches returns ours with the entries of theirs it lacks, or ours
// alone if either cannot be parsed.
func mergeCaches(theirs, ours []byte) []byte {
	t, err := parseCache(theirs)
	if err != nil {
		return ours
	}
	o, err := parseCache(ours)
	if err != nil {
		return ours
	}
	for name, section := range t {
		if o[name] == nil {
			o[name] = map[string]cacheEntry{}
		}
		for key, e := range section {
			if _, ok := o[name][key]; !ok {
				o[name][key] = e
			}
		}
	}
	out, err := json.Marshal(o)
	if err != nil {
		return ours
	}
	return out
}

// replaceFile writes data to a temporary file in path's directory (so the
// rename stays on one file system) and renames it over path. The caller
// holds the lock.
func replaceFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".token_cache-*.tmp") // mode 0600
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing left to remove
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// cacheEntry is one entry of MSAL's serialized cache (the cross-MSAL
// "unified cache" schema). Only the fields this package reads are named.
type cacheEntry map[string]any

func (e cacheEntry) str(key string) string { s, _ := e[key].(string); return s }

// cacheFile is MSAL's serialized cache, section by section (AccessToken,
// RefreshToken, IdToken, Account, AppMetadata), each a map of entries.
type cacheFile map[string]map[string]cacheEntry

// parseCache reads data as a cacheFile; sections of other shapes are kept
// out of reach of edits rather than failing.
func parseCache(data []byte) (cacheFile, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	c := cacheFile{}
	for name, section := range raw {
		var entries map[string]cacheEntry
		if json.Unmarshal(section, &entries) == nil {
			c[name] = entries
		}
	}
	return c, nil
}

// withoutAccessTokens returns data without clientID's access tokens, or
// data unchanged if it cannot be parsed.
func withoutAccessTokens(data []byte, clientID string) []byte {
	c, err := parseCache(data)
	if err != nil {
		return data
	}
	for key, e := range c["AccessToken"] {
		if strings.EqualFold(e.str("client_id"), clientID) {
			delete(c["AccessToken"], key)
		}
	}
	out, err := json.Marshal(c)
	if err != nil {
		return data
	}
	return out
}

// clientAccounts returns the accounts that hold a refresh token of clientID
// in c: the users signed in to this app.
func (c cacheFile) clientAccounts(clientID string) []Account {
	homes := map[string]bool{}
	for _, e := range c["RefreshToken"] {
		if strings.EqualFold(e.str("client_id"), clientID) {
			homes[e.str("home_account_id")] = true
		}
	}
	var out []Account
	for _, e := range c["Account"] {
		home := e.str("home_account_id")
		if !homes[home] {
			continue
		}
		_, tenant, _ := strings.Cut(home, ".")
		out = append(out, Account{Username: e.str("username"), TenantID: tenant, HomeID: home})
	}
	return out
}

// tenantMatches reports whether an account of home tenant accountTenant
// serves a configuration for tenant: any account for the multi-tenant
// aliases, and, for a tenant given by domain name (which the cache does not
// record), any account too; otherwise the tenant id must match.
func tenantMatches(tenant, accountTenant string) bool {
	switch strings.ToLower(tenant) {
	case "", "organizations", "common", "consumers":
		return true
	}
	if strings.Contains(tenant, ".") {
		return true
	}
	return strings.EqualFold(tenant, accountTenant)
}

// cachedUser returns the user the token cache holds a sign-in of for cfg's
// client and tenant, if any. It reads the file only: no network.
func cachedUser(cfg Config) (Account, bool) {
	if cfg.ClientID == "" {
		return Account{}, false
	}
	path, err := TokenCachePath(cfg)
	if err != nil {
		return Account{}, false
	}
	data, err := readCacheFile(path, cfg.Logger)
	if err != nil || data == nil {
		return Account{}, false
	}
	c, err := parseCache(data)
	if err != nil {
		return Account{}, false
	}
	for _, a := range c.clientAccounts(cfg.ClientID) {
		if tenantMatches(cfg.TenantID, a.TenantID) {
			return a, true
		}
	}
	return Account{}, false
}

// Logout removes the tokens of every user signed in to cfg's client (of any
// tenant) from the token cache file and returns those users. Other apps'
// sign-ins in the same file stay. Nobody to sign out is not an error. A
// server already running keeps the access token it holds until it expires.
func Logout(cfg Config) ([]Account, error) {
	if cfg.ClientID == "" {
		return nil, fmt.Errorf("logout needs %s, the app registration users signed in to", EnvClientID)
	}
	path, err := TokenCachePath(cfg)
	if err != nil {
		return nil, err
	}
	removed, err := signOut(path, cfg.ClientID, "")
	if err != nil {
		return nil, fmt.Errorf("signing out: updating the token cache %s: %w", path, err)
	}
	return removed, nil
}

// signOut removes clientID's tokens of the account homeID (of every account
// if homeID is "") from the cache file and returns the accounts signed out.
// An account entry stays while another app still holds a sign-in of it.
func signOut(path, clientID, homeID string) ([]Account, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	var removed []Account
	err := withFileLock(path, true, func() error {
		data, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		c, err := parseCache(data)
		if err != nil {
			// Nothing in a corrupt file can be used; remove it whole.
			return os.Remove(path)
		}
		homes := map[string]bool{}
		for _, a := range c.clientAccounts(clientID) {
			if homeID == "" || a.HomeID == homeID {
				removed = append(removed, a)
				homes[a.HomeID] = true
			}
		}
		if len(removed) == 0 {
			return nil
		}
		for _, section := range []string{"AccessToken", "RefreshToken", "IdToken", "AppMetadata"} {
			if section == "AppMetadata" && homeID != "" {
				continue // the app's, not an account's
			}
			for key, e := range c[section] {
				if strings.EqualFold(e.str("client_id"), clientID) && (section == "AppMetadata" || homes[e.str("home_account_id")]) {
					delete(c[section], key)
				}
			}
		}
		stillUsed := map[string]bool{}
		for _, section := range []string{"RefreshToken", "IdToken"} {
			for _, e := range c[section] {
				stillUsed[e.str("home_account_id")] = true
			}
		}
		for key, e := range c["Account"] {
			if home := e.str("home_account_id"); homes[home] && !stillUsed[home] {
				delete(c["Account"], key)
			}
		}
		out, err := json.Marshal(c)
		if err != nil {
			return err
		}
		return replaceFile(path, out)
	})
	return removed, err
}
