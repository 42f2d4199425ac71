package load

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/xoneharness/xoneharness/internal/egress"
)

// DefaultMaxRate is the default cap, per second, on the rate sent to a host that
// is not loopback, for the whole job (all shards together).
const DefaultMaxRate = egress.DefaultMaxRate

// Errors of CheckTarget, to test with errors.Is.
var (
	// ErrProduction: the target is the XONE production API, and production
	// traffic is not allowed.
	ErrProduction = egress.ErrProduction
	// ErrMaxRate: the ceiling is not a finite number of sends per second
	// above 0 and at most egress.MaxRateLimit.
	ErrMaxRate = errors.New("invalid max rate")
	// ErrAboveCeiling: the plan's rate is above the ceiling's share for
	// its shard on a host that is not loopback.
	ErrAboveCeiling = errors.New("rate above the ceiling")
)

// CheckTarget applies the plan-time safety rules to one shard of a load job
// (shards >= 1) against baseURL at rate (the shard's peak requests per
// second): the production host family, in any spelling, is refused unless
// allowProduction; maxRate (per second, the whole job's; 0 means
// DefaultMaxRate) must be valid; and a host that is not loopback gets
// maxRate/shards per shard. Only loopback IP literals and "localhost" count
// as loopback here; the egress gate enforces the ceiling on every send at
// run time whatever this check says. Errors wrap ErrProduction, ErrMaxRate or
// ErrAboveCeiling.
func CheckTarget(baseURL string, rate, maxRate float64, shards int, allowProduction bool) error {
	u, err := url.Parse(baseURL)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("load: target: want an http(s) URL with a host")
	}
	host, err := egress.CanonicalHost(u.Hostname())
	if err != nil {
		return fmt.Errorf("load: target: %w", err)
	}
	if !allowProduction && egress.IsProduction(host) {
		return fmt.Errorf("load: target %s: %w", host, ErrProduction)
	}
	if maxRate == 0 {
		maxRate = DefaultMaxRate
	}
	if err := egress.CheckMaxRate(maxRate); err != nil {
		return fmt.Errorf("load: %w: %w", ErrMaxRate, err)
	}
	if egress.LiteralLoopback(host) {
		return nil
	}
	shards = max(shards, 1)
	if share := maxRate / float64(shards); rate > share {
		if shards == 1 {
			return fmt.Errorf("load: %w: %g/s to non-loopback host %s is above the ceiling of %g/s: raise the ceiling explicitly to send more", ErrAboveCeiling, rate, host, maxRate)
		}
		return fmt.Errorf("load: %w: %g/s per shard to non-loopback host %s is above its share of the job's ceiling of %g/s over %d shards (%g/s each): raise the ceiling explicitly to send more",
			ErrAboveCeiling, rate, host, maxRate, shards, share)
	}
	return nil
}

// reservedHeaders are the header names --idempotency-header must not
// replace: hop-by-hop headers, credentials, the body's description and what
// the engine or net/http sets itself.
var reservedHeaders = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Te": true, "Trailer": true, "Transfer-Encoding": true,
	"Upgrade": true, "Authorization": true, "Cookie": true, "Host": true, "Accept": true, "User-Agent": true,
}

// reservedHeader reports whether h (any case) is a header the idempotency
// header must not be: reservedHeaders, any Proxy-* or Content-* header.
func reservedHeader(h string) bool {
	c := http.CanonicalHeaderKey(h)
	if reservedHeaders[c] {
		return true
	}
	for _, prefix := range []string{"Proxy-", "Content-"} {
		if len(c) >= len(prefix) && c[:len(prefix)] == prefix {
			return true
		}
	}
	return false
}
