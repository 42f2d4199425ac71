package load

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/xoneharness/xoneharness/internal/egress"
)

// DefaultMaxRate is the default cap, per second, on the rate sent to a host that
// is not loopback, for the whole job (all shards together).
const DefaultMaxRate = egress.DefaultMaxRate

// CheckTarget is CheckShardTarget for a job of one shard.
func CheckTarget(baseURL string, rate float64, maxRate float64, allowProduction bool) error {
	return CheckShardTarget(baseURL, rate, maxRate, 1, allowProduction)
}

// CheckShardTarget applies the plan-time safety rules to one shard of a load
// job (shards >= 1) against baseURL at rate (the shard's peak requests per
// second): the production host family, in any spelling, is refused unless
// allowProduction (error names --allow-production); maxRate (per second, the
// whole job's; 0 means DefaultMaxRate) must be valid; and a host that is not
// loopback gets maxRate/shards per shard (error names --max-rate). Only
// loopback IP literals and "localhost" count as loopback here; the egress gate
// enforces the ceiling on every send at run time whatever this check says.
func CheckShardTarget(baseURL string, rate, maxRate float64, shards int, allowProduction bool) error {
	u, err := url.Parse(baseURL)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("load: target: want an http(s) URL with a host")
	}
	host, err := egress.CanonicalHost(u.Hostname())
	if err != nil {
		return fmt.Errorf("load: target: %w", err)
	}
	if !allowProduction && egress.IsProduction(host) {
		return fmt.Errorf("load: target %s is the XONE production API: refused without --allow-production", host)
	}
	if maxRate == 0 {
		maxRate = DefaultMaxRate
	}
	if err := egress.CheckMaxRate(maxRate); err != nil {
		return fmt.Errorf("load: --max-rate: %w", err)
	}
	if egress.LiteralLoopback(host) {
		return nil
	}
	shards = max(shards, 1)
	if share := maxRate / float64(shards); rate > share {
		if shards == 1 {
			return fmt.Errorf("load: rate %g/s to non-loopback host %s is above --max-rate %g/s: raise --max-rate explicitly to send more", rate, host, maxRate)
		}
		return fmt.Errorf("load: rate %g/s per shard to non-loopback host %s is above its share of --max-rate %g/s over %d shards (%g/s each): --max-rate is the whole job's; raise it explicitly to send more",
			rate, host, maxRate, shards, share)
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
