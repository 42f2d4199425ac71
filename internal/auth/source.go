package auth

import (
	"context"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
)

// reuseDelta is the early-expiry margin given to x/oauth2's reuse cache: none, as each token's
// Expiry is already shortened (0 would mean x/oauth2's 10 s default).
const reuseDelta = time.Nanosecond

// Prefetch retry delays after a failed fetch: first, and the most.
const (
	prefetchRetryMin = 100 * time.Millisecond
	prefetchRetryMax = 5 * time.Second
)

// Source is a cached client-credentials token source for one credential. It implements
// oauth2.TokenSource and is safe for concurrent use. Build it with [New].
type Source struct {
	cfg         Config
	redact      *Redactor
	redactedURL string
	cur         atomic.Pointer[cache] // never nil after New; Invalidate and Prefetch swap it

	blockingFetches atomic.Int64 // fetches made for a Token caller (tests read it)
	statsMu         sync.Mutex
	stats           Stats
}

// cache is one generation of the token cache: x/oauth2's reuse cache around its own Token.
type cache struct {
	s        *Source
	reuse    oauth2.TokenSource   // x/oauth2 reuse cache around c
	held     atomic.Pointer[held] // what reuse currently serves; nil before its first fetch
	replaced chan struct{}        // closed when the Source stops using this cache

	failMu  sync.Mutex
	failErr error     // last failed fetch, held for FailureHold
	failAt  time.Time // monotonic
}

// held is a token as handed out, with its Prefetch time.
type held struct {
	tok       *oauth2.Token // Expiry already shortened by the effective margin
	refreshAt time.Time     // when Prefetch replaces it, by Config.Now
}

// Token is the raw fetcher c.reuse calls: a new token, or the last failure while it is held.
func (c *cache) Token() (*oauth2.Token, error) {
	c.failMu.Lock()
	defer c.failMu.Unlock()
	if c.failErr != nil && time.Since(c.failAt) < c.s.cfg.FailureHold {
		return nil, c.failErr
	}
	c.s.blockingFetches.Add(1)
	h, err := c.s.fetch(context.Background())
	if err != nil {
		c.failErr, c.failAt = err, time.Now()
		return nil, err
	}
	c.failErr = nil
	c.held.Store(h)
	return h.tok, nil
}

// Stats are a Source's counters since New, durations measured with the monotonic clock.
type Stats struct {
	Fetches        int64         // requests to the token endpoint, failed or not
	Failures       int64         // fetches that failed, not counting those Prefetch's end cut short
	TotalFetchTime time.Duration // the time spent in all fetches
	MaxFetchTime   time.Duration // the longest single fetch
}

// New validates cfg, applies the defaults documented on [Config] and returns a Source with an empty
// cache; it does not contact the token endpoint. An error names the missing or bad field.
func New(cfg Config) (*Source, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	u, _ := url.Parse(cfg.TokenURL) // withDefaults parsed it already
	red := cfg.Redactor
	if red == nil {
		red = NewRedactor()
	}
	red.Add(cfg.ClientSecret)
	s := &Source{cfg: cfg, redact: red, redactedURL: u.Redacted()}
	s.cur.Store(s.newCache(nil))
	return s, nil
}

// newCache builds a cache generation, seeded with h when h is not nil.
func (s *Source) newCache(h *held) *cache {
	c := &cache{s: s, replaced: make(chan struct{})}
	var seed *oauth2.Token
	if h != nil {
		c.held.Store(h)
		seed = h.tok // not yet handed out: ReuseTokenSourceWithExpiry sets a field on it
	}
	c.reuse = oauth2.ReuseTokenSourceWithExpiry(seed, c, reuseDelta)
	return c
}

// Token returns a valid token, fetching one only when the cached token is missing or within its
// refresh margin; concurrent callers share one fetch. The token is shared: do not modify it. Its
// Expiry is when this Source stops handing it out; ExpiresIn is the server's value. Errors are
// *FetchError; within FailureHold of a failed fetch, Token returns the same error without a fetch.
func (s *Source) Token() (*oauth2.Token, error) {
	return s.cur.Load().reuse.Token()
}

// Invalidate drops the cached token after the server refused bad (a 401), so that the next Token
// call fetches a new one, but only if bad (by access token) is still the cached token: 100 calls
// for one refused token cause one refetch. A nil bad does nothing. Safe for concurrent use.
func (s *Source) Invalidate(bad *oauth2.Token) {
	if bad == nil || bad.AccessToken == "" {
		return
	}
	c := s.cur.Load()
	if h := c.held.Load(); h != nil && h.tok.AccessToken == bad.AccessToken {
		s.install(c, nil)
	}
}

// install replaces the cache old, unless already replaced, with one seeded with h (nil: empty).
func (s *Source) install(old *cache, h *held) {
	if s.cur.CompareAndSwap(old, s.newCache(h)) {
		close(old.replaced)
	}
}

// Prefetch keeps the cache warm until ctx is done; run it in its own goroutine. It fetches a token
// at once if none is cached, then replaces each one (see hold) outside the cache, so that no Token
// caller waits on the endpoint. Failed fetches are retried after 100 ms, doubling up to 5 s;
// refreshes are at least 100 ms apart. One Prefetch per Source is enough; more are safe.
func (s *Source) Prefetch(ctx context.Context) {
	var retry time.Duration
	var last time.Time // start of the last refresh, monotonic
	for ctx.Err() == nil {
		c := s.cur.Load()
		h := c.held.Load()
		var err error
		switch {
		case h == nil: // cold or invalidated: fetch through the cache, shared with waiting callers
			_, err = c.reuse.Token()
		case s.cfg.Now().Before(h.refreshAt):
			sleep(ctx, c, h.refreshAt.Sub(s.cfg.Now()))
			continue
		case time.Since(last) < prefetchRetryMin:
			// A token due as soon as it arrives (a very short life, a slow endpoint, a clock far
			// off) must not turn this loop into a flood of requests.
			sleep(ctx, c, prefetchRetryMin-time.Since(last))
			continue
		default:
			last = time.Now()
			var nh *held
			if nh, err = s.fetch(ctx); err == nil {
				s.install(c, nh)
			}
		}
		if err == nil {
			retry = 0
			continue
		}
		retry = min(max(2*retry, prefetchRetryMin), prefetchRetryMax)
		sleep(ctx, c, retry)
	}
}

// sleep waits for d, ctx's end, or c's replacement, whichever comes first.
func sleep(ctx context.Context, c *cache, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-c.replaced:
	case <-t.C:
	}
}

// Redactor returns the Source's redactor (Config.Redactor, or the one New made).
func (s *Source) Redactor() *Redactor { return s.redact }

// Stats returns the counters so far. Safe for concurrent use.
func (s *Source) Stats() Stats {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	return s.stats
}

// record counts one fetch of duration d.
func (s *Source) record(d time.Duration, failed bool) {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	s.stats.Fetches++
	if failed {
		s.stats.Failures++
	}
	s.stats.TotalFetchTime += d
	s.stats.MaxFetchTime = max(s.stats.MaxFetchTime, d)
}
