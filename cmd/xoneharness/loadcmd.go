package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/xoneharness/xoneharness/internal/auth"
	"github.com/xoneharness/xoneharness/internal/egress"
	"github.com/xoneharness/xoneharness/internal/race"
	"github.com/xoneharness/xoneharness/internal/xone"
	"github.com/xoneharness/xoneharness/ledger"
	"github.com/xoneharness/xoneharness/load"
	"github.com/xoneharness/xoneharness/reports"
)

const loadUsage = `
Usage: xoneharness load [flags]

Drives authenticated confirm traffic at a configured rate and reports latency
(from each request's intended send time, so a stalled target cannot hide),
service time, status codes, errors and schema violations. Every run is
bounded by --duration (at most --max-duration) and optionally --max-requests.
Against a target other than the embedded sandbox, --offers is required (a
confirmed offer is consumed: each row is used once), and a host that is not
loopback is capped at --max-rate.

The safety gates error_rate<1% and schema_violations==0 always apply:
--threshold adds to them (name a gate's metric to loosen it, e.g.
error_rate<5%), and --no-default-thresholds turns them off, which the verdict
line says. A threshold with no sample, or too few to mean anything (p99
needs 100 requests, a rate 2 requests over 1 s), is "no data": the run is
incomplete, never a pass; so is a run with no successful confirm.

Every confirm is written to bookings.csv as "pending" before it leaves and
resolved when answered, so a killed run's offers can be looked up. A plan
cut short (Retry-After pauses that leave requests unsent, the offer feed
running out, an interrupt) is incomplete, never a pass.

Grammars:
  rate       = number [ "/" [ number ] unit ]         50/s, 3000/1m, 50 (per second)
  stages     = stage { "," stage } ;  stage = duration ":" rate     30s:10/s,1m:50/s,30s:0/s
  threshold  = metric op value [unit]                 p99<800ms, error_rate<1%, throughput>=45
             metrics: min mean p50 p90 p95 p99 p999 p100 max (latency; p100 is max),
             error_rate, success_ratio, throughput, rate_achieved, schema_violations,
             status_undocumented, late_sends, transport_errors, status_5xx, status_429, status_401;
             op: < <= > >= ==

Exit codes: 0 pass, 1 findings (a threshold failed), 2 usage or configuration
error (credentials refused included), 3 target or token endpoint unreachable,
4 incomplete (interrupted, stopped before the end of the plan, nothing sent,
a threshold without data).

Examples:
  xoneharness load                                   # 10s at 50/s against the embedded sandbox
  xoneharness load --rate 500/s --duration 30s --threshold 'p99<200ms' --threshold 'error_rate<1%'
  xoneharness load --stages '30s:10/s,1m:50/s,30s:0/s' --metrics-addr 127.0.0.1:9464
  xoneharness load --race-fraction 0.1 --race 3 --drift racy-double-book   # groups of 3 simultaneous confirms
  xoneharness load --dry-run --rate 20/s --duration 2m --offers offers.csv --base-url https://partner-sandbox.example
  XONE_BASE_URL=https://partner-sandbox.example XONE_CLIENT_ID=abc XONE_CLIENT_SECRET=… XONE_PARTNER_ID=P-1 \
    xoneharness load --offers offers.csv --rate 5/s --duration 1m --report-dir out/load
`

// loadFlags are the load engine's flags, shared with run; p holds the plan
// fields as given, which load.Plan.Explicit reads.
type loadFlags struct {
	p                                              load.Plan
	stages, shard, shardRate, offers, policyholder string
	metricsAddr, cpuProfile                        string
	maxRate                                        float64
	noDefaultThresholds, quiet, dryRun             bool
	extraDefaults                                  []string   // thresholds besides the gates when none is given: run's p99
	sh                                             load.Shard // --shard, set by plan
}

// register adds the load flags with the command's default rate and
// duration. shared is true in run, whose contract flags hold --race,
// --offers and --policyholder; run registers --quiet and has no --dry-run.
func (l *loadFlags) register(fs *flag.FlagSet, defRate string, defDuration time.Duration, shared bool) {
	p := &l.p
	fs.StringVar(&p.Rate, "rate", defRate, "constant request rate, e.g. 50/s or 3000/1m")
	fs.DurationVar(&p.Duration, "duration", defDuration, "how long to send (required; at most --max-duration)")
	fs.StringVar(&l.stages, "stages", "", "ramp profile instead of --rate, e.g. 30s:10/s,1m:50/s,30s:0/s")
	fs.Uint64Var(&p.MaxRequests, "max-requests", 0, "stop after this many requests (0: no limit)")
	fs.DurationVar(&p.MaxDuration, "max-duration", load.DefaultMaxDuration, "upper bound on --duration")
	fs.DurationVar(&p.Timeout, "timeout", load.DefaultTimeout, "per-request timeout")
	fs.Uint64Var(&p.Workers, "workers", load.DefaultWorkers, "initial attack workers")
	fs.Uint64Var(&p.MaxWorkers, "max-workers", load.DefaultMaxWorkers, "cap on concurrent requests")
	fs.Uint64Var(&p.Connections, "connections", 0, "idle keep-alive connections (default --max-workers)")
	fs.StringVar(&p.IdempotencyHeader, "idempotency-header", "", "send a unique value per request in this header, e.g. Idempotency-Key")
	fs.Float64Var(&p.ValidateSample, "validate-sample", 1, "fraction of responses validated against the spec (0..1)")
	fs.BoolVar(&p.IgnoreRetryAfter, "ignore-retry-after", false, "keep pacing through 429 Retry-After instead of pausing")
	fs.Var((*stringsFlag)(&p.Thresholds), "threshold", "pass/fail threshold, e.g. 'p99<800ms' (repeatable)")
	fs.BoolVar(&p.AbortOnFail, "abort-on-fail", false, "stop as soon as a threshold can no longer pass")
	fs.IntVar(&p.Evidence, "evidence", load.DefaultEvidence, "list the K slowest requests, with their send time and correlation headers (CF-RAY, Server-Timing, ...), in evidence.csv and the reports (0: none)")
	fs.Var((*stringsFlag)(&p.EvidenceHeaders), "evidence-header", "another response header to keep as evidence, e.g. X-Amzn-Trace-Id (repeatable)")
	fs.BoolVar(&l.noDefaultThresholds, "no-default-thresholds", false, "turn off the safety gates ("+strings.Join(load.DefaultThresholds(), ", ")+", and double_bookings==0 with --race-fraction), which --threshold adds to; the verdict says so")
	fs.Float64Var(&p.Race.Fraction, "race-fraction", 0, "make this fraction (0 to 1) of the planned confirms each a group of --race simultaneous confirms of one offer; a double booking fails the run")
	fs.Float64Var(&l.maxRate, "max-rate", load.DefaultMaxRate, "ceiling on sends per second to a host that is not loopback, for the whole job: with --shard I/N the shards take turns in wall-clock slots (above 0, at most 100000)")
	fs.StringVar(&l.shard, "shard", "", "run shard I of N (0-based, e.g. 0/3): 1/N of the rate profile and rows k with k mod N == I of --offers")
	fs.StringVar(&l.shardRate, "shard-rate", "", "this shard's own constant rate instead of 1/N of --rate (with --shard)")
	fs.StringVar(&l.metricsAddr, "metrics-addr", "", "serve live Prometheus metrics on this address; a bare :PORT binds loopback (e.g. :9464 is 127.0.0.1:9464), another interface only when its host is spelled out")
	fs.StringVar(&l.cpuProfile, "cpuprofile", "", "write a CPU profile of the load stage to this file, for 'go tool pprof' (where the harness spends its time)")
	if !shared {
		fs.IntVar(&p.Race.N, "race", race.DefaultN, fmt.Sprintf("simultaneous confirms of one offer in each --race-fraction group (2 to %d)", race.MaxN))
		fs.StringVar(&l.offers, "offers", "", "CSV of offer_id,quote_id (header optional), each row used once; required unless the target is the embedded sandbox")
		fs.StringVar(&l.policyholder, "policyholder", "", "JSON file with the policyholder to send (default: a demo policyholder)")
		fs.BoolVar(&l.quiet, "quiet", false, "no progress lines")
		fs.BoolVar(&l.dryRun, "dry-run", false, "print the plan (rate profile, request count, target, offers needed) and send nothing")
	}
}

// plan builds and validates the load plan, with the safety gates unless
// --no-default-thresholds, and sets l.sh; errors name the flag.
func (l *loadFlags) plan(fs *flag.FlagSet) (load.Plan, error) {
	if err := egress.CheckMaxRate(l.maxRate); err != nil {
		return load.Plan{}, usagef("--max-rate: %v", err)
	} else if l.stages != "" && flagSet(fs, "rate") {
		return load.Plan{}, usagef("--stages and --rate: give one rate profile, not both")
	}
	p := l.p
	if len(p.Thresholds) == 0 {
		p.Thresholds = l.extraDefaults
	}
	if l.stages != "" {
		p.Rate = ""
	}
	p, err := p.Explicit()
	if err != nil {
		return p, planError("", err)
	} else if _, err := load.ParseRate(l.shardRate); l.shardRate != "" && err != nil {
		return p, usagef("--shard-rate: %v", err)
	}
	if l.stages != "" {
		if p.Stages, err = load.ParseStages(l.stages); err != nil {
			return p, usagef("--stages: %v", err)
		}
		if !flagSet(fs, "duration") {
			p.Duration = 0 // the stages' total
		}
	}
	l.sh = load.Shard{Index: 0, Count: 1}
	if l.shard != "" {
		if l.sh, err = load.ParseShard(l.shard); err != nil {
			return p, usagef("--shard: %v", err)
		}
	} else if l.shardRate != "" {
		return p, usagef("--shard-rate: needs --shard")
	}
	if l.shardRate != "" {
		p.Rate, p.Stages = l.shardRate, nil
	} else if p, err = l.sh.Plan(p); err != nil {
		return p, usagef("--shard: %v", err)
	}
	p = p.WithGates(l.noDefaultThresholds).WithDefaults()
	return p, planError("plan: ", p.Validate())
}

// planFlags are the flags behind the plan fields a load.PlanError names
// whose flag is not "--" and the field with dashes.
var planFlags = map[string]string{"evidence_headers": "--evidence-header", "thresholds": "--threshold",
	"race.fraction": "--race-fraction", "race.n": "--race"}

// planError turns a load.PlanError into a usage error naming the flag after
// prefix ("plan: " for Validate's); other errors are returned as they are.
func planError(prefix string, err error) error {
	var pe *load.PlanError
	if !errors.As(err, &pe) {
		return err
	}
	name := cmp.Or(planFlags[pe.Field], "--"+strings.ReplaceAll(pe.Field, "_", "-"))
	return usageError{fmt.Errorf("%s%s%s", prefix, name, strings.TrimPrefix(pe.Error(), "plan: "+pe.Field))}
}

// flagSet reports whether the named flag was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	return found
}

// checkTarget applies the load stage's plan-time safety rules: the
// production host family and the shard's share of --max-rate off loopback.
// The embedded sandbox passes: in a dry run it is not started, and its
// BaseURL is a description, not a URL to check.
func (l *loadFlags) checkTarget(tg *target, p load.Plan, allowProduction bool) error {
	if tg.Embedded {
		return nil
	}
	err := load.CheckTarget(tg.BaseURL, p.PeakRate(), l.maxRate, l.sh.Count, allowProduction)
	switch {
	case errors.Is(err, load.ErrProduction):
		return usagef("%v: add --allow-production if you really mean to confirm real offers there", err)
	case errors.Is(err, load.ErrAboveCeiling):
		return usagef("--rate above --max-rate %g/s: %v (--max-rate)", l.maxRate, err)
	case err != nil:
		return usageError{err}
	}
	return nil
}

// openOffers opens the offers of the load stage (load.OffersFor):
// generated ones against the embedded sandbox without path, else path (a
// file, a named pipe, or "-") checked against claims (nil in a dry run). n
// is the rows this shard takes, load.OffersStream or OffersGenerated.
func (l *loadFlags) openOffers(ctx context.Context, a *app, tg *target, path string, claims *ledger.Claims) (load.Feed, int, error) {
	feed, n, err := load.OffersFor(ctx, path, a.stdin, tg.Embedded, load.OfferOptions{Shard: l.sh, Claims: claims, Waiting: a.waiting})
	switch {
	case err == nil:
		return feed, n, nil
	case errors.Is(err, load.ErrOffersRequired):
		return nil, 0, usagef("--offers: required against %s (a confirmed offer is consumed; the harness cannot invent real offers)", tg.BaseURL)
	case ctx.Err() != nil:
		return nil, 0, errIncomplete
	}
	return nil, 0, usagef("--offers: %v", err)
}

// runLoad runs plan against the session's target on feed (n as openOffers
// returns it) and puts the result in rep; a failed run is written as an
// error report (session.failed).
func (l *loadFlags) runLoad(ctx context.Context, a *app, st *session, rep *reports.Report, plan load.Plan, feed load.Feed, n int, allowProduction bool) error {
	if err := l.checkTarget(st.tg, plan, allowProduction); err != nil {
		return err
	}
	tokens, err := newTokenSource(st.tg, a.red)
	if err != nil {
		return err
	}
	cfg := load.Config{Plan: plan, BaseURL: st.tg.BaseURL, PartnerID: st.tg.PartnerID, Tokens: tokens, Spec: st.spec,
		Egress: st.tg.Gate, OutDir: st.dir, Journal: st.run.Journal, Events: a.stderr, Now: a.now, Offers: feed}
	if a.interactive && !l.quiet {
		cfg.Progress = a.stderr
	}
	if l.metricsAddr != "" { // a bare :PORT binds loopback (load.ServeMetrics)
		m, err := load.ServeMetrics(l.metricsAddr)
		if err != nil {
			return usagef("--metrics-addr: %v", err)
		}
		defer func() { _ = m.Close() }()
		where := "loopback only"
		if !m.Loopback() {
			where = "reachable from other machines"
		}
		fmt.Fprintf(a.stderr, "metrics: http://%s/metrics (%s)\n", m.Addr, where)
		cfg.Registerer = m.Registry
	}
	if l.cpuProfile != "" {
		stop, err := reports.StartCPUProfile(l.cpuProfile)
		if err != nil {
			return usagef("--cpuprofile: %v", err)
		}
		defer func() {
			if err := stop(); err != nil {
				fmt.Fprintf(a.stderr, "--cpuprofile: %v\n", err)
			}
		}()
	}
	if cfg.Policyholder, err = xone.ReadPolicyholder(l.policyholder); err != nil {
		return usagef("--policyholder: %v", err)
	}
	if rep.Contract != nil {
		fmt.Fprintln(a.stdout) // after run's contract stage
	}
	if err := reports.ConsolePlan(a.stdout, plan, st.tg.Describe(), n); err != nil {
		return err
	}
	res, err := load.Run(ctx, cfg)
	if res != nil {
		rep.Load = res
		if l.sh.Count > 1 {
			rep.Shard = l.sh.String()
		}
		console(a, reports.ConsoleLoad, rep)
	}
	if err != nil {
		return st.failed(rep, loadError(st.tg, err))
	}
	return nil
}

func cmdLoad(ctx context.Context, a *app, args []string) (err error) {
	fs := newFlagSet(a, "load", loadUsage)
	var (
		tf targetFlags
		lf loadFlags
		rf reportFlags
		bf baselineFlags
		sf specFlags
	)
	tf.register(fs)
	lf.register(fs, "50/s", 10*time.Second, false)
	rf.register(fs, reports.KindLoad)
	sf.register(fs)
	bf.register(fs)
	if err := parseOnlyFlags(fs, args); err != nil {
		return err
	}
	plan, err := lf.plan(fs)
	if err != nil {
		return err
	}
	tf.maxRate, tf.shard = lf.maxRate, egress.Shard(lf.sh)
	tf.partnerInputs = map[string]string{"--offers": lf.offers}
	base, tol, err := bf.load()
	if err != nil {
		return err
	}
	if lf.dryRun {
		return lf.dryRunPlan(ctx, a, &tf, plan)
	}
	st, err := openSession(ctx, a, &rf, &tf, &sf, reports.KindLoad, false)
	if err != nil {
		return err
	}
	defer func() { err = st.close(err) }()
	feed, n, err := lf.openOffers(ctx, a, st.tg, lf.offers, st.run.Claims)
	if err != nil {
		return err
	}
	defer func() { _ = feed.Close() }()
	rep := st.report(reports.KindLoad)
	if err := lf.runLoad(ctx, a, st, rep, plan, feed, n, tf.allowProduction); err != nil {
		return err
	}
	bf.apply(a, rep, base, tol)
	return st.finish(rep)
}

// dryRunPlan prints what a run would do and sends nothing: the embedded
// sandbox is not started, and an offers file is only read.
func (l *loadFlags) dryRunPlan(ctx context.Context, a *app, tf *targetFlags, plan load.Plan) error {
	tg, err := tf.resolve(a, false)
	if err != nil {
		return err
	}
	if err := l.checkTarget(tg, plan, tf.allowProduction); err != nil {
		return err
	}
	feed, n, err := l.openOffers(ctx, a, tg, l.offers, nil)
	if err != nil {
		return err
	}
	_ = feed.Close()
	if err := reports.ConsolePlan(a.stdout, plan, tg.Describe(), n); err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, "dry run: nothing sent")
	return nil
}

// loadError classifies an error from load.Run: a bad plan or offer is usage
// (exit 2), credentials refused too; the journal, the token endpoint and the
// target are infrastructure (exit 3).
func loadError(tg *target, err error) error {
	switch {
	case errors.As(err, new(*load.PlanError)):
		return planError("plan: ", err)
	case errors.Is(err, load.ErrFeed):
		return usagef("--offers: %v", err)
	case errors.Is(err, load.ErrJournal):
		return err
	}
	if refused := credentialsRefused(tg, err); refused != nil {
		return refused
	}
	if errors.Is(err, auth.ErrUnreachable) || errors.Is(err, auth.ErrRejected) {
		return tlsHint(fmt.Errorf("token endpoint %s: %w", tg.TokenURL, err))
	}
	return tlsHint(err)
}
