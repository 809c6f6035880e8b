package auth

import (
	"context"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sync/singleflight"
)

// expiryBuffer is how long a token must still be valid to be handed out. It
// matches MSAL's own buffer, so the fast path and MSAL's cache agree on when a
// token is too old, and it leaves a long-running Power BI call time to finish.
const expiryBuffer = 5 * time.Minute

// accessToken is a token and the times that govern its reuse.
type accessToken struct {
	value     string
	expiresOn time.Time
	// refreshOn is when the identity provider asked for an early refresh
	// (refresh_in); zero if it did not.
	refreshOn time.Time
}

// reusable reports whether the token may be handed out at now without asking
// the credential. Past refreshOn the credential is asked, so that its library
// can refresh proactively.
func (t *accessToken) reusable(now time.Time) bool {
	if !now.Add(expiryBuffer).Before(t.expiresOn) {
		return false
	}
	return t.refreshOn.IsZero() || now.Before(t.refreshOn)
}

// acquirer is one kind of identity-provider credential as cachedSource sees
// it. Each kind lives in its own file.
type acquirer interface {
	// acquire returns a token, from the credential library's cache if it
	// holds a usable one, otherwise from the identity provider. Failures
	// are readable errors (see Error) free of secrets.
	acquire(ctx context.Context) (accessToken, error)
	// forget makes the library's cache drop its tokens, so that the next
	// acquire asks the identity provider.
	forget()
	// describe is TokenSource.Describe.
	describe() string
}

// cachedSource is the TokenSource for every identity-provider credential.
//
// The source keeps the current token itself, for two reasons. Invalidate must
// tell whether a rejected token is still the current one, so that many
// callers reporting it cause one renewal. And Token is on the path of every
// Power BI request: reading an atomic pointer takes no lock and no
// allocation, about twenty times cheaper than MSAL's cache lookup (see
// BenchmarkTokenWarm). When there is no reusable token, concurrent callers
// share one acquire through singleflight: MSAL does not deduplicate, and a
// burst of tool calls on a cold cache would otherwise send a burst of
// identical token requests.
type cachedSource struct {
	cred    acquirer
	log     zerolog.Logger
	obs     Observer // nil: none
	current atomic.Pointer[accessToken]
	flight  singleflight.Group
}

func newCachedSource(cred acquirer, cfg Config) *cachedSource {
	return &cachedSource{cred: cred, log: cfg.Logger, obs: cfg.Observer}
}

func (s *cachedSource) Token(ctx context.Context) (string, error) {
	if t := s.current.Load(); t != nil && t.reusable(time.Now()) {
		if s.obs != nil {
			s.obs.TokenCacheHit(FlowServer)
		}
		return t.value, nil
	}
	// The shared acquire must not fail for every waiter because the caller
	// that happened to start it gave up, so it runs detached from that
	// caller's cancellation (MSAL bounds each HTTP call by 30 s when the
	// context has no deadline); each caller still stops waiting when its own
	// context ends.
	detached := context.WithoutCancel(ctx)
	ch := s.flight.DoChan("token", func() (any, error) { return s.acquire(detached) })
	select {
	case r := <-ch:
		if r.Err != nil {
			return "", r.Err
		}
		return r.Val.(*accessToken).value, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func (s *cachedSource) acquire(ctx context.Context) (*accessToken, error) {
	start := time.Now()
	t, err := s.cred.acquire(ctx)
	if s.obs != nil {
		s.obs.TokenRequested(FlowServer, err)
	}
	if err != nil {
		s.log.Debug().Err(err).Str("credential", s.cred.describe()).Msg("token request failed")
		return nil, err
	}
	s.current.Store(&t)
	s.log.Debug().Str("credential", s.cred.describe()).Time("expires_on", t.expiresOn).
		Dur("took", time.Since(start)).Msg("token acquired")
	return &t, nil
}

func (s *cachedSource) Invalidate(token string) {
	token = trimBearer(token)
	cur := s.current.Load()
	// The compare-and-swap lets exactly one of many callers reporting the
	// same token clear it; the others, and callers reporting an older token,
	// find it no longer current and do nothing.
	if cur == nil || cur.value != token || !s.current.CompareAndSwap(cur, nil) {
		return
	}
	s.cred.forget()
	s.log.Debug().Str("credential", s.cred.describe()).Msg("token rejected by the service; the next request fetches a new one")
}

func (s *cachedSource) Describe() string { return s.cred.describe() }

// trimBearer drops a leading "Bearer " (any case), which people copy along
// with a token from an Authorization header, and surrounding whitespace.
func trimBearer(token string) string {
	fields := strings.Fields(token)
	if len(fields) > 0 && strings.EqualFold(fields[0], "Bearer") {
		fields = fields[1:]
	}
	return strings.Join(fields, " ")
}
