package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/xoneharness/xoneharness/internal/sandbox"
)

const sandboxUsage = `
Usage: xoneharness sandbox [flags]

Serves the embedded XONE sandbox: the token endpoint (POST /api/oauth/token,
JSON body) and Confirm offer, with knobs for latency, faults and named drift
modes that break the contract on purpose. It runs until interrupted (Ctrl-C).

It binds exactly the address it prints. --addr must be a loopback address
(127.0.0.1, ::1 or localhost): the sandbox hands out fixed demo credentials
and books anything. To serve other machines, give one specific interface
address with --allow-remote (e.g. --addr 10.0.0.5:18080 --allow-remote);
an unspecified address (0.0.0.0, ::, or no host) is always refused, as it
would listen on every interface.

Examples:
  xoneharness sandbox --addr 127.0.0.1:18080
  xoneharness sandbox --latency 20ms --error-rate 0.01
  xoneharness sandbox --latency-median 15ms --latency-p99 120ms --throttle-rate 0.05 --retry-after 2s
  xoneharness sandbox --drift price-as-string,html-401
  xoneharness sandbox --every-member          (exercise every documented member)
  xoneharness sandbox --drift list

  curl -s -X POST http://127.0.0.1:18080/api/oauth/token -H 'Content-Type: application/json' \
    -d '{"grant_type":"client_credentials","client_id":"sandbox-client","client_secret":"sandbox-secret"}'
`

// sandboxFlags are the sandbox command's knobs.
type sandboxFlags struct {
	addr, stall, drift                 string
	latency, latencyMedian, latencyP99 time.Duration
	retryAfter, tokenTTL               time.Duration
	errorRate, throttleRate, resetRate float64
	seed                               int64
	everyMember, allowRemote           bool
}

func (s *sandboxFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.addr, "addr", "127.0.0.1:18080", "listen address (loopback host:port); use port 0 for any free port")
	fs.BoolVar(&s.allowRemote, "allow-remote", false, "allow --addr to be one specific non-loopback interface address (never 0.0.0.0 or ::)")
	fs.DurationVar(&s.latency, "latency", 0, "fixed latency added to every confirm, e.g. 20ms")
	fs.DurationVar(&s.latencyMedian, "latency-median", 0, "median of a log-normal confirm latency (with --latency-p99)")
	fs.DurationVar(&s.latencyP99, "latency-p99", 0, "99th percentile of the log-normal confirm latency (with --latency-median)")
	fs.StringVar(&s.stall, "stall", "", "hold every confirm arriving in a window until it ends: FROM-TO after start, e.g. 2s-3s")
	fs.Float64Var(&s.errorRate, "error-rate", 0, "fraction of confirms answered with a 5xx (0..1)")
	fs.Float64Var(&s.throttleRate, "throttle-rate", 0, "fraction of confirms answered 429 with Retry-After (0..1)")
	fs.DurationVar(&s.retryAfter, "retry-after", time.Second, "Retry-After sent with 429 answers")
	fs.Float64Var(&s.resetRate, "reset-rate", 0, "fraction of confirms whose connection is reset (0..1)")
	fs.DurationVar(&s.tokenTTL, "token-ttl", time.Hour, "lifetime (expires_in) of issued tokens")
	fs.Int64Var(&s.seed, "seed", 1, "seed for ids and fault selection")
	fs.StringVar(&s.drift, "drift", "", "comma-separated drift modes that break the contract on purpose; \"list\" prints them")
	fs.BoolVar(&s.everyMember, "every-member", false, "send every member the document lists: nullable 200 members non-null, every array non-empty, every 401 header")
}

// options turns the flags into sandbox options; errors name the flag.
func (s *sandboxFlags) options() ([]sandbox.Option, error) {
	var opts []sandbox.Option
	for _, r := range []struct {
		name string
		v    float64
	}{{"error-rate", s.errorRate}, {"throttle-rate", s.throttleRate}, {"reset-rate", s.resetRate}} {
		if !(r.v >= 0 && r.v <= 1) { // NaN too
			return nil, usagef("--%s: want a fraction between 0 and 1, got %v", r.name, r.v)
		}
	}
	if s.latency < 0 {
		return nil, usagef("--latency: must not be negative, got %s", s.latency)
	}
	if s.latency > 0 {
		opts = append(opts, sandbox.Latency(s.latency))
	}
	if (s.latencyMedian > 0) != (s.latencyP99 > 0) {
		return nil, usagef("--latency-median and --latency-p99: give both or neither")
	}
	if s.latencyMedian > 0 {
		if s.latencyP99 < s.latencyMedian {
			return nil, usagef("--latency-p99 (%s) must be at least --latency-median (%s)", s.latencyP99, s.latencyMedian)
		}
		opts = append(opts, sandbox.LatencyDist(s.latencyMedian, s.latencyP99))
	}
	if s.stall != "" {
		from, to, ok := strings.Cut(s.stall, "-")
		f, err1 := time.ParseDuration(strings.TrimSpace(from))
		t, err2 := time.ParseDuration(strings.TrimSpace(to))
		if !ok || err1 != nil || err2 != nil || f < 0 || t <= f {
			return nil, usagef("--stall: want FROM-TO durations with FROM < TO, e.g. 2s-3s; got %q", s.stall)
		}
		opts = append(opts, sandbox.Stall(f, t))
	}
	if s.errorRate > 0 {
		opts = append(opts, sandbox.ErrorRate(s.errorRate))
	}
	if s.retryAfter < 0 {
		return nil, usagef("--retry-after: must not be negative, got %s", s.retryAfter)
	}
	if s.throttleRate > 0 {
		opts = append(opts, sandbox.ThrottleRate(s.throttleRate, s.retryAfter))
	}
	if s.resetRate > 0 {
		opts = append(opts, sandbox.ResetRate(s.resetRate))
	}
	if s.tokenTTL <= 0 {
		return nil, usagef("--token-ttl: must be positive, got %s", s.tokenTTL)
	}
	opts = append(opts, sandbox.TokenTTL(s.tokenTTL), sandbox.Seed(s.seed))
	if s.everyMember {
		opts = append(opts, sandbox.EveryMember())
	}
	if s.drift != "" {
		var modes []string
		for _, m := range strings.Split(s.drift, ",") {
			if m = strings.TrimSpace(m); m == "" {
				return nil, usagef("--drift: empty mode name in %q (want comma-separated names; \"list\" prints them)", s.drift)
			}
			modes = append(modes, m)
		}
		opts = append(opts, sandbox.Drift(modes...))
	}
	return opts, nil
}

// checkAddr refuses a listen address that would serve more than the one
// address printed: no host, an unspecified IP (every interface), and, without
// --allow-remote, anything that is not loopback.
func (s *sandboxFlags) checkAddr() error {
	host, _, err := net.SplitHostPort(s.addr)
	if err != nil {
		return usagef("--addr: want host:port, got %q", s.addr)
	}
	ip, ipErr := netip.ParseAddr(strings.TrimSpace(host))
	switch {
	case host == "" || ipErr == nil && ip.IsUnspecified():
		return usagef("--addr: %q listens on every interface; give one address, e.g. 127.0.0.1:18080", s.addr)
	case ipErr == nil && ip.Unmap().IsLoopback(), strings.EqualFold(host, "localhost"):
		return nil
	case s.allowRemote:
		return nil
	default:
		return usagef("--addr: %q is not a loopback address; the sandbox hands out fixed demo credentials, so it serves other machines only with --allow-remote", s.addr)
	}
}

func cmdSandbox(ctx context.Context, a *app, args []string) error {
	fs := newFlagSet(a, "sandbox", sandboxUsage)
	var sf sandboxFlags
	sf.register(fs)
	if err := parseOnlyFlags(fs, args); err != nil {
		return err
	}
	if sf.drift == "list" {
		for _, m := range sandbox.DriftModes() {
			kind := "fail"
			if m.DriftOnly {
				kind = "drift"
			}
			fmt.Fprintf(a.stdout, "%-22s %-5s %s\n", m.Name, kind, m.Description)
		}
		return nil
	}
	if err := sf.checkAddr(); err != nil {
		return err
	}
	opts, err := sf.options()
	if err != nil {
		return err
	}
	srv, err := sandbox.Start(append(opts, sandbox.Addr(sf.addr))...)
	if err != nil {
		// An unknown drift mode, a bad knob or a busy port: the user's
		// configuration.
		return usageError{err}
	}
	defer srv.Close()
	fmt.Fprintf(a.stdout, `XONE sandbox listening on %s
  token:    POST %s   (JSON body)
  confirm:  POST %s/api/partners/%s/offers/{offer_id}/confirm
  client:   %s / %s   (scope offers:update)
  readonly: %s / %s   (scope offers:view)
Try:
  xoneharness run --base-url %s --client-id %s   (secret via XONE_CLIENT_SECRET=%s)
Ctrl-C stops it.
`, srv.URL(), srv.TokenURL(), srv.URL(), sandbox.PartnerID,
		sandbox.ClientID, sandbox.ClientSecret, sandbox.ReadOnlyClientID, sandbox.ReadOnlyClientSecret,
		srv.URL(), sandbox.ClientID, sandbox.ClientSecret)
	<-ctx.Done()
	st := srv.Stats()
	fmt.Fprintf(a.stdout, "sandbox stopped: %d tokens issued, %d confirms (%d confirmed, %d duplicate)\n",
		st.TokensIssued, st.Confirms, st.Confirmed, st.DuplicateConfirms)
	return nil
}
