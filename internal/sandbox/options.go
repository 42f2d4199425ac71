package sandbox

import (
	"fmt"
	"math"
	"time"
)

// Option configures a sandbox built by New, Start or StartTB. Options are applied in order; a later
// option of the same kind replaces an earlier one (Drift accumulates). An option given an invalid
// value makes New return an error that names the option.
type Option func(*config)

// config is the sandbox configuration assembled from Options.
type config struct {
	latency      time.Duration // fixed latency added to every confirm
	distMedian   time.Duration // log-normal latency median; 0 = off
	distSigma    float64       // log-normal sigma derived from median and p99
	stallFrom    time.Duration // stall window, relative to server start
	stallTo      time.Duration // end of the window (exclusive); stallTo > stallFrom when set
	errorRate    float64
	throttleRate float64
	retryAfter   time.Duration
	resetRate    float64
	tokenTTL     time.Duration
	seed         int64
	seeded       bool
	drift        driftSet
	everyMember  bool
	addr         string
	now          func() time.Time // time.Now; tests replace it
	errs         []error
}

func (c *config) fail(format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf(format, args...))
}

// ratio records an error naming option unless f is in [0, 1], and reports whether it is.
func (c *config) ratio(option string, f float64) bool {
	if math.IsNaN(f) || f < 0 || f > 1 {
		c.fail("%s(%v): ratio must be between 0 and 1", option, f)
		return false
	}
	return true
}

// Latency adds a fixed delay d to every confirm request, before the request is authenticated or
// answered. It adds to a LatencyDist sample when both are given. Default 0.
func Latency(d time.Duration) Option {
	return func(c *config) {
		if d < 0 {
			c.fail("Latency(%v): duration must not be negative", d)
			return
		}
		c.latency = d
	}
}

// z99 is the 99th percentile of the standard normal distribution.
const z99 = 2.3263478740408408

// LatencyDist adds a log-normally distributed delay to every confirm request, with the given median
// and 99th percentile (0 < median <= p99). Samples are capped at 10×p99. The draw is deterministic
// under Seed. It adds to Latency when both are given.
func LatencyDist(median, p99 time.Duration) Option {
	return func(c *config) {
		if median <= 0 || p99 < median {
			c.fail("LatencyDist(%v, %v): need 0 < median <= p99", median, p99)
			return
		}
		c.distMedian = median
		c.distSigma = math.Log(float64(p99)/float64(median)) / z99
	}
}

// Stall holds every confirm request that arrives in the window [start+from, start+to), where start
// is the moment the server was built (New) or began listening (Start), until start+to (plus any
// Latency/LatencyDist delay): a stop-the-world pause of the backend. Requires 0 <= from < to.
func Stall(from, to time.Duration) Option {
	return func(c *config) {
		if from < 0 || to <= from {
			c.fail("Stall(%v, %v): need 0 <= from < to", from, to)
			return
		}
		c.stallFrom, c.stallTo = from, to
	}
}

// ErrorRate answers the fraction f (0..1) of authenticated confirm requests with an injected 500,
// 502 or 503 and a JSON body {"message": ...}. Nothing is booked for such a request. Rates of
// ResetRate, ThrottleRate and ErrorRate are disjoint shares of one draw, so their sum must not
// exceed 1. Default 0.
func ErrorRate(f float64) Option {
	return func(c *config) {
		if c.ratio("ErrorRate", f) {
			c.errorRate = f
		}
	}
}

// ThrottleRate answers the fraction f (0..1) of authenticated confirm requests with 429, a
// Retry-After header of retryAfter in whole seconds (rounded up, minimum 1) and the XCover-like
// body {"message":"Request was throttled. Expected available in N second(s)."}. Default 0
// (retryAfter defaults to 1 s).
func ThrottleRate(f float64, retryAfter time.Duration) Option {
	return func(c *config) {
		if retryAfter < 0 {
			c.fail("ThrottleRate(%v, %v): duration must not be negative", f, retryAfter)
		} else if c.ratio("ThrottleRate", f) {
			c.throttleRate, c.retryAfter = f, retryAfter
		}
	}
}

// ResetRate resets the TCP connection (hijack, SO_LINGER 0, close) of the fraction f (0..1) of
// confirm requests, before authentication, as a broken load balancer would. Where the connection
// cannot be hijacked (HTTP/2, httptest.ResponseRecorder) the handler panics with
// http.ErrAbortHandler instead, which net/http turns into an aborted response. Default 0.
func ResetRate(f float64) Option {
	return func(c *config) {
		if c.ratio("ResetRate", f) {
			c.resetRate = f
		}
	}
}

// TokenTTL sets the lifetime of tokens issued by the token endpoint (default 1 h). The advertised
// expires_in is d in whole seconds, rounded up (minimum 1); the token expires after exactly d. d
// must be positive.
func TokenTTL(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			c.fail("TokenTTL(%v): duration must be positive", d)
			return
		}
		c.tokenTTL = d
	}
}

// Seed makes the sandbox's randomness deterministic: booking ids, generated values, latency samples
// and fault selection depend only on n and on the order in which requests arrive. Without Seed a
// random seed is used. Access tokens are always random and are not affected.
func Seed(n int64) Option {
	return func(c *config) { c.seed, c.seeded = n, true }
}

// Drift enables named contract-breaking modes (see DriftModes for the list). Modes combine;
// repeating Drift adds to the set. An unknown name makes New fail.
func Drift(modes ...string) Option {
	return func(c *config) {
		for _, m := range modes {
			bit, ok := driftBit(m)
			if !ok {
				c.fail("Drift(%q): unknown drift mode (known: %s)", m, driftNames())
			}
			c.drift |= bit
		}
	}
}

// Addr sets the listen address used by Start and StartTB (default "127.0.0.1:0": a free loopback
// port). New ignores it.
func Addr(addr string) Option {
	return func(c *config) {
		if addr == "" {
			c.fail("Addr(%q): address must not be empty", addr)
			return
		}
		c.addr = addr
	}
}

// EveryMember makes every answer carry every member the document lists, so that a coverage report
// can see each exercised: in each 200 body every nullable member has a value (provider_customer_id,
// payment_status, policies[].cover_amount, cancelled_at, parent_id, extra_fields.event_cost,
// policyholder.birth_date and address2) and every array has an element
// (policies[].policy_content.extra_content), and each 401 is streamed with every header the
// document lists (Transfer-Encoding: chunked and Connection: keep-alive included). The values are
// chosen for their shape, not their business sense: a confirmed policy carries a cancelled_at.
// Default off: the default sandbox answers as XONE usually does, with those members null or empty.
func EveryMember() Option {
	return func(c *config) { c.everyMember = true }
}
