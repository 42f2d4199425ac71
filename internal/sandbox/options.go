package sandbox

import (
	"fmt"
	"math"
	"slices"
	"strings"
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
	seed         uint64 // random unless Seed is given
	drift        driftSet
	everyMember  bool
	addr         string
	now          func() time.Time // time.Now; tests replace it
	errs         []error
}

// check records the error format describes unless ok, and reports ok.
func (c *config) check(ok bool, format string, args ...any) bool {
	if !ok {
		c.errs = append(c.errs, fmt.Errorf(format, args...))
	}
	return ok
}

// ratio checks that f, given to option, is in [0, 1].
func (c *config) ratio(option string, f float64) bool {
	return c.check(!math.IsNaN(f) && f >= 0 && f <= 1, "%s(%v): ratio must be between 0 and 1", option, f)
}

// Latency adds a fixed delay d to every confirm request, before the request is authenticated or
// answered. It adds to a LatencyDist sample when both are given. Default 0.
func Latency(d time.Duration) Option {
	return func(c *config) {
		if c.check(d >= 0, "Latency(%v): duration must not be negative", d) {
			c.latency = d
		}
	}
}

// z99 is the 99th percentile of the standard normal distribution.
const z99 = 2.3263478740408408

// LatencyDist adds a log-normally distributed delay to every confirm request, with the given median
// and 99th percentile (0 < median <= p99). Samples are capped at 10×p99. The draw is deterministic
// under Seed. It adds to Latency when both are given.
func LatencyDist(median, p99 time.Duration) Option {
	return func(c *config) {
		if c.check(median > 0 && p99 >= median, "LatencyDist(%v, %v): need 0 < median <= p99", median, p99) {
			c.distMedian = median
			c.distSigma = math.Log(float64(p99)/float64(median)) / z99
		}
	}
}

// Stall holds every confirm request that arrives in [start+from, start+to) until start+to (plus
// any Latency), where start is when New built or Start began serving the sandbox: a stop-the-world
// pause of the backend. Requires 0 <= from < to.
func Stall(from, to time.Duration) Option {
	return func(c *config) {
		if c.check(from >= 0 && to > from, "Stall(%v, %v): need 0 <= from < to", from, to) {
			c.stallFrom, c.stallTo = from, to
		}
	}
}

// ErrorRate answers the fraction f (0..1) of authenticated confirm requests with an injected 500,
// 502 or 503 {"message": ...}. ResetRate, ThrottleRate and ErrorRate are disjoint shares of one
// draw, so their sum must not exceed 1. Default 0.
func ErrorRate(f float64) Option {
	return func(c *config) {
		if c.ratio("ErrorRate", f) {
			c.errorRate = f
		}
	}
}

// ThrottleRate answers the fraction f (0..1) of authenticated confirm requests with 429, a
// Retry-After of retryAfter in whole seconds (rounded up, minimum 1) and XCover's message.
// Default 0 (retryAfter 1 s).
func ThrottleRate(f float64, retryAfter time.Duration) Option {
	return func(c *config) {
		if c.check(retryAfter >= 0, "ThrottleRate(%v, %v): duration must not be negative", f, retryAfter) &&
			c.ratio("ThrottleRate", f) {
			c.throttleRate, c.retryAfter = f, retryAfter
		}
	}
}

// ResetRate resets the TCP connection (SO_LINGER 0) of the fraction f (0..1) of confirm requests
// before authentication, as a broken load balancer would; where the connection cannot be hijacked
// (HTTP/2, a ResponseRecorder) the handler panics with http.ErrAbortHandler instead. Default 0.
func ResetRate(f float64) Option {
	return func(c *config) {
		if c.ratio("ResetRate", f) {
			c.resetRate = f
		}
	}
}

// TokenTTL sets the lifetime d > 0 of issued tokens (default 1 h); expires_in is d in whole
// seconds, rounded up.
func TokenTTL(d time.Duration) Option {
	return func(c *config) {
		if c.check(d > 0, "TokenTTL(%v): duration must be positive", d) {
			c.tokenTTL = d
		}
	}
}

// Seed makes booking ids, generated values, latency samples and fault selection depend only on n
// and the order in which requests arrive (default: a random seed). Access tokens stay random.
func Seed(n int64) Option {
	return func(c *config) { c.seed = uint64(n) }
}

// Drift enables named contract-breaking modes (see DriftModes for the list). Modes combine;
// repeating Drift adds to the set. An unknown name makes New fail.
func Drift(modes ...string) Option {
	return func(c *config) {
		var names []string
		for _, d := range DriftModes() {
			names = append(names, d.Name)
		}
		for _, m := range modes {
			i := slices.Index(names, m)
			if c.check(i >= 0, "Drift(%q): unknown drift mode (known: %s)", m, strings.Join(names, ", ")) {
				c.drift |= 1 << i
			}
		}
	}
}

// Addr sets the listen address used by Start and StartTB (default "127.0.0.1:0": a free loopback
// port). New ignores it.
func Addr(addr string) Option {
	return func(c *config) {
		if c.check(addr != "", "Addr(%q): address must not be empty", addr) {
			c.addr = addr
		}
	}
}

// EveryMember makes every answer carry every member the document lists, for coverage reports: each
// 200 body gives every nullable member a value and every array an element (chosen for shape, not
// business sense), and each 401 is streamed with every documented header (Transfer-Encoding,
// Connection). Default off: those members are null or empty, as XONE usually sends them.
func EveryMember() Option {
	return func(c *config) { c.everyMember = true }
}
