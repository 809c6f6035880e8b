package auth

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// NewToken offers a pre-acquired access token: PBI_MCP_ACCESS_TOKEN, or the
// file PBI_MCP_ACCESS_TOKEN_FILE names. The file is read again whenever it
// changes, so a user (or a script) can drop a fresh token in without
// restarting the server. The token's expiry comes from its exp claim; once it
// has passed, or Power BI has rejected the token, calls fail with what to do,
// naming the variable or the file.
func NewToken(cfg Config) (TokenSource, error) {
	switch {
	case cfg.AccessToken != "" && cfg.AccessTokenFile != "":
		return nil, fmt.Errorf("set %s or %s, not both", EnvAccessToken, EnvAccessTokenFile)
	case cfg.AccessToken != "":
		return NewStaticToken(cfg.AccessToken), nil
	case cfg.AccessTokenFile != "":
		return &fileToken{path: cfg.AccessTokenFile}, nil
	}
	return nil, fmt.Errorf("the token credential needs %s (a Power BI access token) or %s (a file holding one); neither is set (%s)",
		EnvAccessToken, EnvAccessTokenFile, getTokenHint)
}

// fileToken is a token kept in a file. It checks the file's size and
// modification time on each Token call (one stat, no read), and reads it
// again when either changed or when the token it holds can no longer be used.
type fileToken struct {
	path string

	mu      sync.Mutex
	modTime time.Time
	size    int64
	cur     *staticToken
}

func (f *fileToken) where() string { return "the file " + f.path + " (" + EnvAccessTokenFile + ")" }

func (f *fileToken) Token(ctx context.Context) (string, error) {
	st, err := os.Stat(f.path)
	if err != nil {
		return "", noRestart{fmt.Errorf("cannot read the access token file %s (%s): %v", f.path, EnvAccessTokenFile, errors.Unwrap(err))}
	}
	f.mu.Lock()
	cur := f.cur
	changed := cur == nil || !st.ModTime().Equal(f.modTime) || st.Size() != f.size
	if !changed {
		// A file rewritten within the file system's timestamp resolution
		// with a token of the same length looks unchanged: when the token
		// held cannot be used, look at the content.
		if _, err := cur.Token(ctx); err != nil {
			changed = true
		}
	}
	if changed {
		data, err := os.ReadFile(f.path)
		if err != nil {
			f.mu.Unlock()
			return "", noRestart{fmt.Errorf("cannot read the access token file %s (%s): %v", f.path, EnvAccessTokenFile, errors.Unwrap(err))}
		}
		if next := newStaticToken(string(data), f.where()); cur == nil || next.value != cur.value {
			cur = next
		}
		f.cur, f.modTime, f.size = cur, st.ModTime(), st.Size()
	}
	f.mu.Unlock()
	token, err := cur.Token(ctx)
	if err != nil {
		// A fresh token in the file is picked up by the next call.
		return "", noRestart{err}
	}
	return token, nil
}

func (f *fileToken) Invalidate(token string) {
	f.mu.Lock()
	cur := f.cur
	f.mu.Unlock()
	if cur != nil {
		cur.Invalidate(token)
	}
}

func (f *fileToken) Describe() string {
	f.mu.Lock()
	cur := f.cur
	f.mu.Unlock()
	if cur == nil {
		return "access token file " + f.path
	}
	return "access token file " + f.path + " " + cur.Describe()[len("access token "):]
}
