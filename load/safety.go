package load

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/xoneharness/xoneharness/internal/xone"
)

// ProductionHost is the XONE production API host, refused by CheckTarget unless
// production traffic is allowed explicitly.
const ProductionHost = "api.xone.xcover.com"

// DefaultMaxRate is the default cap, per second, on the rate sent to a host that
// is not loopback (XCover's testing keys allow 2/s, create/confirm 50/s).
const DefaultMaxRate = 20.0

// CheckTarget applies the safety rules to a load run against baseURL at rate
// (peak requests per second): the production host is refused unless
// allowProduction (error names --allow-production), and a host that is not
// loopback is capped at maxRate per second (DefaultMaxRate when maxRate <= 0;
// error names --max-rate). Loopback hosts (127.0.0.0/8, ::1, localhost) are not
// capped.
func CheckTarget(baseURL string, rate float64, maxRate float64, allowProduction bool) error {
	u, err := url.Parse(baseURL)
	if err != nil {
		return fmt.Errorf("load: target %q: %w", baseURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("load: target %q: want an http(s) URL with a host", baseURL)
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == ProductionHost && !allowProduction {
		return fmt.Errorf("load: target %s is the XONE production API: refused without --allow-production", host)
	}
	if xone.IsLoopback(host) {
		return nil
	}
	if maxRate <= 0 {
		maxRate = DefaultMaxRate
	}
	if rate > maxRate {
		return fmt.Errorf("load: rate %g/s to non-loopback host %s is above --max-rate %g/s: raise --max-rate explicitly to send more", rate, host, maxRate)
	}
	return nil
}
