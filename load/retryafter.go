package load

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxRetryAfter caps one Retry-After pause: a run stays bounded whatever a
// server asks for.
const maxRetryAfter = time.Minute

// ParseRetryAfter parses a Retry-After header value (RFC 9110 §10.2.3): either
// delay-seconds (a non-negative integer) or an HTTP-date, taken relative to now.
// It returns the delay, capped at one minute and never negative, and false when v
// is neither form.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if allDigits(v) {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n > uint64(maxRetryAfter/time.Second) {
			return maxRetryAfter, true // all digits but huge: cap
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d := t.Sub(now)
	return min(max(d, 0), maxRetryAfter), true
}
