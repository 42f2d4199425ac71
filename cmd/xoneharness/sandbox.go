package main

import (
	"context"
	"errors"
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

func cmdSandbox(ctx context.Context, a *app, args []string) error {
	fs := newFlagSet(a, "sandbox", sandboxUsage)
	var k sandbox.Knobs
	addr := fs.String("addr", "127.0.0.1:18080", "listen address (loopback host:port); use port 0 for any free port")
	allowRemote := fs.Bool("allow-remote", false, "allow --addr to be one specific non-loopback interface address (never 0.0.0.0 or ::)")
	fs.DurationVar(&k.Latency, "latency", 0, "fixed latency added to every confirm, e.g. 20ms")
	fs.DurationVar(&k.LatencyMedian, "latency-median", 0, "median of a log-normal confirm latency (with --latency-p99)")
	fs.DurationVar(&k.LatencyP99, "latency-p99", 0, "99th percentile of the log-normal confirm latency (with --latency-median)")
	fs.StringVar(&k.Stall, "stall", "", "hold every confirm arriving in a window until it ends: FROM-TO after start, e.g. 2s-3s")
	fs.Float64Var(&k.ErrorRate, "error-rate", 0, "fraction of confirms answered with a 5xx (0..1)")
	fs.Float64Var(&k.ThrottleRate, "throttle-rate", 0, "fraction of confirms answered 429 with Retry-After (0..1)")
	fs.DurationVar(&k.RetryAfter, "retry-after", time.Second, "Retry-After sent with 429 answers")
	fs.Float64Var(&k.ResetRate, "reset-rate", 0, "fraction of confirms whose connection is reset (0..1)")
	fs.DurationVar(&k.TokenTTL, "token-ttl", time.Hour, "lifetime (expires_in) of issued tokens")
	fs.Int64Var(&k.Seed, "seed", 1, "seed for ids and fault selection")
	fs.StringVar(&k.Drift, "drift", "", "comma-separated drift modes that break the contract on purpose; \"list\" prints them")
	fs.BoolVar(&k.EveryMember, "every-member", false, "send every member the document lists: nullable 200 members non-null, every array non-empty, every 401 header")
	if err := parseOnlyFlags(fs, args); err != nil {
		return err
	}
	// Output errors are ignored: a stdout that cannot be written does not stop the sandbox.
	if k.Drift == "list" {
		_ = sandbox.WriteDriftModes(a.stdout)
		return nil
	}
	if err := sandbox.CheckListenAddr(*addr, *allowRemote); errors.Is(err, sandbox.ErrNotLoopback) {
		return usagef("--addr: %v, so it serves other machines only with --allow-remote", err)
	} else if err != nil {
		return usagef("--addr: %v", err)
	}
	opts, err := k.Options()
	if ke := (*sandbox.KnobError)(nil); errors.As(err, &ke) {
		return usagef("%s", ke.Text("--"))
	} else if err != nil {
		return usageError{err}
	}
	srv, err := sandbox.Start(append(opts, sandbox.Addr(*addr))...)
	if err != nil {
		// An unknown drift mode, a bad knob or a busy port: the user's
		// configuration.
		return usageError{err}
	}
	defer srv.Close()
	_ = srv.WriteBanner(a.stdout)
	<-ctx.Done()
	_ = srv.WriteStopped(a.stdout)
	return nil
}
