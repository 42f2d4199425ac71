package sandbox

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"time"
)

// Knobs are the sandbox's settings as plain values, as the xoneharness sandbox command's flags
// give them; Options checks them and turns them into Options. TokenTTL must be positive; the
// command's defaults are RetryAfter 1 s, TokenTTL 1 h and Seed 1. Stall and Drift follow
//
//	stall = duration "-" duration   (time.ParseDuration, spaces allowed around each; 0 <= FROM < TO)
//	drift = name { "," name }       (spaces around a name are ignored; no name may be empty)
type Knobs struct {
	Latency       time.Duration // fixed latency added to every confirm; 0 = none (Latency)
	LatencyMedian time.Duration // median of a log-normal confirm latency, with LatencyP99 (LatencyDist)
	LatencyP99    time.Duration // 99th percentile of that latency, at least LatencyMedian
	Stall         string        // "FROM-TO" after start, e.g. "2s-3s"; "" = none (Stall)
	ErrorRate     float64       // fraction 0..1 of confirms answered 5xx (ErrorRate)
	ThrottleRate  float64       // fraction 0..1 of confirms answered 429 (ThrottleRate)
	RetryAfter    time.Duration // Retry-After of those 429s, not negative
	ResetRate     float64       // fraction 0..1 of confirms whose connection is reset (ResetRate)
	TokenTTL      time.Duration // lifetime of issued tokens, positive (TokenTTL)
	Seed          int64         // seed for ids and fault selection (Seed)
	EveryMember   bool          // send every documented member (EveryMember)
	Drift         string        // comma-separated drift mode names; "" = none (Drift)
}

// KnobError reports a Knobs value that Options refuses. Knob names the field as the sandbox
// command's flag without dashes ("error-rate", "latency-p99"); Other names a second knob the
// broken rule ties it to ("latency-median"), or is "".
type KnobError struct {
	Knob, Other string
	format      string // %[1]s is Knob's name, %[2]s Other's, %[3]v on the values in args
	args        []any
}

func knobErr(knob, other, format string, args ...any) *KnobError {
	return &KnobError{Knob: knob, Other: other, format: format, args: args}
}

// Error returns the problem with bare knob names, e.g. "sandbox: knobs: error-rate: want a
// fraction between 0 and 1, got 2".
func (e *KnobError) Error() string { return "sandbox: knobs: " + e.Text("") }

// Text returns the problem with every knob name prefixed by prefix: Text("--") names the flags.
func (e *KnobError) Text(prefix string) string {
	return fmt.Sprintf(e.format, append([]any{prefix + e.Knob, prefix + e.Other}, e.args...)...)
}

// Options checks k and returns the Options it stands for; a refused value is a *KnobError.
// Values that only New can judge (drift mode names, rates summing to more than 1) are left to
// New.
func (k Knobs) Options() ([]Option, error) {
	var opts []Option
	for _, r := range []struct {
		knob string
		v    float64
	}{{"error-rate", k.ErrorRate}, {"throttle-rate", k.ThrottleRate}, {"reset-rate", k.ResetRate}} {
		if !(r.v >= 0 && r.v <= 1) { // NaN too
			return nil, knobErr(r.knob, "", "%[1]s: want a fraction between 0 and 1, got %[3]v", r.v)
		}
	}
	if k.Latency < 0 {
		return nil, knobErr("latency", "", "%[1]s: must not be negative, got %[3]s", k.Latency)
	}
	if k.Latency > 0 {
		opts = append(opts, Latency(k.Latency))
	}
	if (k.LatencyMedian > 0) != (k.LatencyP99 > 0) {
		return nil, knobErr("latency-median", "latency-p99", "%[1]s and %[2]s: give both or neither")
	}
	if k.LatencyMedian > 0 {
		if k.LatencyP99 < k.LatencyMedian {
			return nil, knobErr("latency-p99", "latency-median", "%[1]s (%[3]s) must be at least %[2]s (%[4]s)", k.LatencyP99, k.LatencyMedian)
		}
		opts = append(opts, LatencyDist(k.LatencyMedian, k.LatencyP99))
	}
	if k.Stall != "" {
		from, to, ok := strings.Cut(k.Stall, "-")
		f, err1 := time.ParseDuration(strings.TrimSpace(from))
		t, err2 := time.ParseDuration(strings.TrimSpace(to))
		if !ok || err1 != nil || err2 != nil || f < 0 || t <= f {
			return nil, knobErr("stall", "", "%[1]s: want FROM-TO durations with FROM < TO, e.g. 2s-3s; got %[3]q", k.Stall)
		}
		opts = append(opts, Stall(f, t))
	}
	if k.ErrorRate > 0 {
		opts = append(opts, ErrorRate(k.ErrorRate))
	}
	if k.RetryAfter < 0 {
		return nil, knobErr("retry-after", "", "%[1]s: must not be negative, got %[3]s", k.RetryAfter)
	}
	if k.ThrottleRate > 0 {
		opts = append(opts, ThrottleRate(k.ThrottleRate, k.RetryAfter))
	}
	if k.ResetRate > 0 {
		opts = append(opts, ResetRate(k.ResetRate))
	}
	if k.TokenTTL <= 0 {
		return nil, knobErr("token-ttl", "", "%[1]s: must be positive, got %[3]s", k.TokenTTL)
	}
	opts = append(opts, TokenTTL(k.TokenTTL), Seed(k.Seed))
	if k.EveryMember {
		opts = append(opts, EveryMember())
	}
	if k.Drift != "" {
		var modes []string
		for _, m := range strings.Split(k.Drift, ",") {
			if m = strings.TrimSpace(m); m == "" {
				return nil, knobErr("drift", "", `%[1]s: empty mode name in %[3]q (want comma-separated names; "list" prints them)`, k.Drift)
			}
			modes = append(modes, m)
		}
		opts = append(opts, Drift(modes...))
	}
	return opts, nil
}

// ErrNotLoopback is wrapped by CheckListenAddr's error for a remote address not allowed.
var ErrNotLoopback = errors.New("not a loopback address; the sandbox hands out fixed demo credentials")

// CheckListenAddr refuses a listen address (host:port) that would serve more than the one
// address a started sandbox prints: no host or an unspecified IP (every interface) always and,
// unless allowRemote, anything but loopback (127.0.0.0/8, ::1, localhost), wrapping
// ErrNotLoopback.
func CheckListenAddr(addr string, allowRemote bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("want host:port, got %q", addr)
	}
	ip, ipErr := netip.ParseAddr(strings.TrimSpace(host))
	switch {
	case host == "" || ipErr == nil && ip.IsUnspecified():
		return fmt.Errorf("%q listens on every interface; give one address, e.g. 127.0.0.1:18080", addr)
	case ipErr == nil && ip.Unmap().IsLoopback(), strings.EqualFold(host, "localhost"), allowRemote:
		return nil
	default:
		return fmt.Errorf("%q is %w", addr, ErrNotLoopback)
	}
}

// WriteStopped writes the line the sandbox command prints when it stops: what s has served.
func (s *Server) WriteStopped(w io.Writer) error {
	st := s.Stats()
	if _, err := fmt.Fprintf(w, "sandbox stopped: %d tokens issued, %d confirms (%d confirmed, %d duplicate)\n",
		st.TokensIssued, st.Confirms, st.Confirmed, st.DuplicateConfirms); err != nil {
		return fmt.Errorf("sandbox: write stopped: %w", err)
	}
	return nil
}

// WriteDriftModes writes DriftModes to w as a table, one mode a line: name, "fail" or "drift"
// (DriftOnly), description.
func WriteDriftModes(w io.Writer) error {
	for _, m := range DriftModes() {
		kind := "fail"
		if m.DriftOnly {
			kind = "drift"
		}
		if _, err := fmt.Fprintf(w, "%-22s %-5s %s\n", m.Name, kind, m.Description); err != nil {
			return fmt.Errorf("sandbox: write drift modes: %w", err)
		}
	}
	return nil
}
