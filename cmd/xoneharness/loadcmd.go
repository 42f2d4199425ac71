package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/xoneharness/xoneharness/internal/auth"
	"github.com/xoneharness/xoneharness/load"
	"github.com/xoneharness/xoneharness/reports"
	"github.com/xoneharness/xoneharness/spec"
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

Without --threshold the default gates apply: error_rate<1% and
schema_violations==0 (--no-default-thresholds turns them off). A threshold
with no sample (nothing sent, nothing validated) is "no data": the run is
incomplete, never a pass.

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
  xoneharness load --dry-run --rate 20/s --duration 2m --offers offers.csv --base-url https://partner-sandbox.example
  XONE_BASE_URL=https://partner-sandbox.example XONE_CLIENT_ID=abc XONE_CLIENT_SECRET=… XONE_PARTNER_ID=P-1 \
    xoneharness load --offers offers.csv --rate 5/s --duration 1m --report-dir out/load
`

// loadFlags are the load engine's flags, shared with run.
type loadFlags struct {
	rate              string
	duration          time.Duration
	stages            string
	maxRequests       uint64
	maxDuration       time.Duration
	timeout           time.Duration
	workers           uint64
	maxWorkers        uint64
	connections       uint64
	offers            string
	policyholder      string
	idempotencyHeader string
	validateSample    float64
	ignoreRetryAfter  bool
	thresholds        stringsFlag
	abortOnFail       bool
	// noDefaultThresholds turns off the default gates applied without
	// --threshold; defaultThresholds are those gates (run has its own).
	noDefaultThresholds bool
	defaultThresholds   []string
	maxRate             float64
	metricsAddr         string
	quiet               bool
	dryRun              bool
	shard               string
	shardRate           string
	cpuProfile          string
}

// register adds the load flags with the command's default rate and
// duration. shared is true in run, which registers --offers,
// --policyholder, --quiet and --dry-run itself.
func (l *loadFlags) register(fs *flag.FlagSet, defRate string, defDuration time.Duration, shared bool) {
	fs.StringVar(&l.rate, "rate", defRate, "constant request rate, e.g. 50/s or 3000/1m")
	fs.DurationVar(&l.duration, "duration", defDuration, "how long to send (required; at most --max-duration)")
	fs.StringVar(&l.stages, "stages", "", "ramp profile instead of --rate, e.g. 30s:10/s,1m:50/s,30s:0/s")
	fs.Uint64Var(&l.maxRequests, "max-requests", 0, "stop after this many requests (0: no limit)")
	fs.DurationVar(&l.maxDuration, "max-duration", load.DefaultMaxDuration, "upper bound on --duration")
	fs.DurationVar(&l.timeout, "timeout", load.DefaultTimeout, "per-request timeout")
	fs.Uint64Var(&l.workers, "workers", load.DefaultWorkers, "initial attack workers")
	fs.Uint64Var(&l.maxWorkers, "max-workers", load.DefaultMaxWorkers, "cap on concurrent requests")
	fs.Uint64Var(&l.connections, "connections", 0, "idle keep-alive connections (default --max-workers)")
	fs.StringVar(&l.idempotencyHeader, "idempotency-header", "", "send a unique value per request in this header, e.g. Idempotency-Key")
	fs.Float64Var(&l.validateSample, "validate-sample", 1, "fraction of responses validated against the spec (0..1)")
	fs.BoolVar(&l.ignoreRetryAfter, "ignore-retry-after", false, "keep pacing through 429 Retry-After instead of pausing")
	fs.Var(&l.thresholds, "threshold", "pass/fail threshold, e.g. 'p99<800ms' (repeatable)")
	fs.BoolVar(&l.abortOnFail, "abort-on-fail", false, "stop as soon as a threshold can no longer pass")
	fs.BoolVar(&l.noDefaultThresholds, "no-default-thresholds", false, "without --threshold, apply no gate (default: "+strings.Join(load.DefaultThresholds(), ", ")+")")
	fs.Float64Var(&l.maxRate, "max-rate", load.DefaultMaxRate, "ceiling on sends per second to a host that is not loopback, for the whole job: with --shard I/N each shard gets 1/N (above 0, at most 100000)")
	fs.StringVar(&l.shard, "shard", "", "run shard I of N (0-based, e.g. 0/3): 1/N of the rate profile and rows k with k mod N == I of --offers")
	fs.StringVar(&l.shardRate, "shard-rate", "", "this shard's own constant rate instead of 1/N of --rate (with --shard)")
	fs.StringVar(&l.metricsAddr, "metrics-addr", "", "serve live Prometheus metrics on this address, e.g. 127.0.0.1:9464")
	fs.StringVar(&l.cpuProfile, "cpuprofile", "", "write a CPU profile of the load stage to this file, for 'go tool pprof' (where the harness spends its time)")
	if !shared {
		fs.StringVar(&l.offers, "offers", "", "CSV of offer_id,quote_id (header optional), each row used once; required unless the target is the embedded sandbox")
		fs.StringVar(&l.policyholder, "policyholder", "", "JSON file with the policyholder to send (default: a demo policyholder)")
		fs.BoolVar(&l.quiet, "quiet", false, "no progress lines")
		fs.BoolVar(&l.dryRun, "dry-run", false, "print the plan (rate profile, request count, target, offers needed) and send nothing")
	}
}

// plan builds and validates the load plan; errors name the flag.
func (l *loadFlags) plan(fs *flag.FlagSet) (load.Plan, error) {
	p := load.Plan{
		Duration: l.duration, MaxDuration: l.maxDuration, Timeout: l.timeout, MaxRequests: l.maxRequests,
		Workers: l.workers, MaxWorkers: l.maxWorkers, Connections: l.connections,
		ValidateSample: l.validateSample, IdempotencyHeader: l.idempotencyHeader,
		IgnoreRetryAfter: l.ignoreRetryAfter, AbortOnFail: l.abortOnFail, Thresholds: l.thresholds,
	}
	if len(l.thresholds) == 0 && !l.noDefaultThresholds {
		p.Thresholds, p.DefaultThresholds = l.defaultThresholds, true
		if p.Thresholds == nil {
			p.Thresholds = load.DefaultThresholds()
		}
	}
	if err := l.checkMaxRate(); err != nil {
		return p, err
	}
	if l.validateSample < 0 || l.validateSample > 1 {
		return p, usagef("--validate-sample: want a fraction between 0 and 1, got %v", l.validateSample)
	}
	if l.stages != "" {
		st, err := load.ParseStages(l.stages)
		if err != nil {
			return p, usagef("--stages: %v", err)
		}
		p.Stages = st
		if !flagSet(fs, "duration") {
			p.Duration = 0 // the stages' total
		}
	} else {
		if _, err := load.ParseRate(l.rate); err != nil {
			return p, usagef("--rate: %v", err)
		}
		p.Rate = l.rate
	}
	for _, t := range l.thresholds {
		if _, err := load.ParseThreshold(t); err != nil {
			return p, usagef("--threshold: %v", err)
		}
	}
	sh, err := l.parseShard()
	if err != nil {
		return p, err
	}
	if l.shardRate != "" {
		if _, err := load.ParseRate(l.shardRate); err != nil {
			return p, usagef("--shard-rate: %v", err)
		}
		p.Rate, p.Stages = l.shardRate, nil
	} else if p, err = sh.Plan(p); err != nil {
		return p, usagef("--shard: %v", err)
	}
	p = p.WithDefaults()
	if err := p.Validate(); err != nil {
		return p, usageError{err}
	}
	return p, nil
}

// parseShard parses --shard; no flag is shard 0 of 1.
func (l *loadFlags) parseShard() (load.Shard, error) {
	if l.shard == "" {
		if l.shardRate != "" {
			return load.Shard{}, usagef("--shard-rate: needs --shard")
		}
		return load.Shard{Index: 0, Count: 1}, nil
	}
	sh, err := load.ParseShard(l.shard)
	if err != nil {
		return sh, usagef("--shard: %v", err)
	}
	return sh, nil
}

// shardLabel is the report's shard label: "" when not sharded.
func (l *loadFlags) shardLabel() string {
	if sh, err := l.parseShard(); err == nil && sh.Count > 1 {
		return sh.String()
	}
	return ""
}

// flagSet reports whether the named flag was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			found = true
		}
	})
	return found
}

// Feed sizes describePlan knows besides a row count.
const (
	feedGenerated = -1 // generated offers (embedded sandbox)
	feedStream    = -2 // streamed from --offers, size unknown until its end
)

// openFeed returns the offer feed and a release function to call when the
// run ends: generated offers for the embedded sandbox, else a stream over
// --offers (a file, a named pipe, or "-" for standard input), read as the
// attack needs rows so that memory stays flat whatever the feed's size. A
// regular file is locked for the run (a second process over the same file
// is refused, naming this run's report directory), and an offer that an
// earlier run's ledger under the same reports root holds ends the feed
// with an error rather than being confirmed twice.
func (l *loadFlags) openFeed(a *app, tg *target, offersFile, dir string) (load.Feed, func(), error) {
	if offersFile == "" {
		if !tg.Embedded {
			return nil, nil, usagef("--offers: required against %s (a confirmed offer is consumed; the harness cannot invent real offers)", tg.BaseURL)
		}
		return load.GeneratedFeed(time.Now().UnixNano()), func() {}, nil
	}
	sh, err := l.parseShard()
	if err != nil {
		return nil, nil, err
	}
	return openOfferStream(a, offersFile, dir, sh)
}

// countOffers checks a regular offers file row by row, as a run would
// read it (streamed: memory stays flat), and returns this shard's rows; a
// pipe or standard input is not read (that would consume it): feedStream.
func countOffers(a *app, path string, sh load.Shard) (int, error) {
	if path != "-" {
		st, err := os.Stat(path)
		if err != nil {
			return 0, usagef("--offers: %v", err)
		}
		if !st.Mode().IsRegular() {
			return feedStream, nil
		}
	} else {
		return feedStream, nil
	}
	s, err := load.OpenOfferStream(path, a.stdin, load.StreamOptions{Shard: sh})
	if err != nil {
		return 0, usagef("--offers: %v", err)
	}
	defer s.Close()
	n := 0
	for {
		if _, ok := s.Next(); !ok {
			break
		}
		n++
	}
	if err := s.Err(); err != nil {
		return 0, usagef("--offers: %v", err)
	}
	return n, nil
}

// openOfferStream locks and opens an offers stream (see openFeed). A
// regular file is first read through once, streamed, so that a bad row is a
// usage error naming its line before anything is sent; a pipe or standard
// input is checked as it is read, and a bad row ends the run.
func openOfferStream(a *app, path, dir string, sh load.Shard) (*load.OfferStream, func(), error) {
	n, err := countOffers(a, path, sh)
	if err != nil {
		return nil, nil, err
	}
	if n == 0 {
		return nil, nil, usagef("--offers: %s holds no offers for this run (shard %s)", path, sh)
	}
	unlock, err := load.LockOffers(path, dir, sh)
	if err != nil {
		return nil, nil, usagef("--offers: %v", err)
	}
	confirmed, err := load.LedgerOffers(filepath.Dir(filepath.Clean(dir)))
	if err != nil {
		_ = unlock()
		return nil, nil, usagef("--offers: read earlier ledgers: %v", err)
	}
	st, err := load.OpenOfferStream(path, a.stdin, load.StreamOptions{Shard: sh, Confirmed: confirmed})
	if err != nil {
		_ = unlock()
		return nil, nil, usagef("--offers: %v", err)
	}
	return st, func() {
		_ = st.Close()
		_ = unlock()
	}, nil
}

// loadRun is one prepared load stage.
type loadRun struct {
	cfg     load.Config
	offers  int    // rows in the feed; -1 when generated
	release func() // ends the metrics server and the CPU profile
}

// prepare checks safety rules, builds the token source, the feed and the
// metrics server. The caller runs load.Run(ctx, lr.cfg) and then lr.release().
func (l *loadFlags) prepare(a *app, fs *flag.FlagSet, tg *target, s *spec.Spec, dir string, feed load.Feed, n int, policyholder string, allowProduction bool) (*loadRun, error) {
	plan, err := l.plan(fs)
	if err != nil {
		return nil, err
	}
	if err := l.checkTarget(tg, plan, allowProduction); err != nil {
		return nil, err
	}
	ph, err := readPolicyholder(policyholder)
	if err != nil {
		return nil, err
	}
	tokens, err := tg.newTokenSource()
	if err != nil {
		return nil, err
	}
	lr := &loadRun{offers: n, release: func() {}}
	lr.cfg = load.Config{
		Plan: plan, BaseURL: tg.BaseURL, PartnerID: tg.PartnerID, Tokens: tokens, TokenStats: tokens.Stats,
		Feed: feed, Policyholder: ph, Spec: s, Gate: tg.Gate, Transport: tg.Transport, OutDir: dir, Now: a.now,
	}
	if a.interactive && !l.quiet {
		lr.cfg.Progress = a.stderr
	}
	if l.metricsAddr != "" {
		reg := prometheus.NewRegistry()
		ln, err := net.Listen("tcp", l.metricsAddr)
		if err != nil {
			return nil, usagef("--metrics-addr: %v", err)
		}
		srv := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		fmt.Fprintf(a.stderr, "metrics: http://%s/metrics\n", ln.Addr())
		lr.cfg.Registerer = reg
		lr.release = func() { _ = srv.Close() }
	}
	if l.cpuProfile != "" {
		f, err := createProfile(l.cpuProfile)
		if err != nil {
			lr.release()
			return nil, usagef("--cpuprofile: %v", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			lr.release()
			return nil, usagef("--cpuprofile: %v", err)
		}
		prev := lr.release
		lr.release = func() {
			pprof.StopCPUProfile()
			if err := f.Close(); err != nil {
				fmt.Fprintf(a.stderr, "--cpuprofile: %v\n", err)
			}
			prev()
		}
	}
	return lr, nil
}

// describePlan prints what a run will do (also the whole output of --dry-run).
func describePlan(a *app, tg *target, p load.Plan, offers int) {
	profile := p.Rate + " constant"
	if len(p.Stages) > 0 {
		var parts []string
		for _, s := range p.Stages {
			parts = append(parts, fmt.Sprintf("%s to %g/s", s.Duration, s.Target))
		}
		profile = "stages: " + strings.Join(parts, ", ")
	}
	requests := p.Requests()
	fmt.Fprintf(a.stdout, "plan: %s for %s (max %s), about %d requests", profile, p.Duration, p.MaxDuration, requests)
	if p.MaxRequests > 0 {
		fmt.Fprintf(a.stdout, ", capped at %d", p.MaxRequests)
	}
	fmt.Fprintf(a.stdout, "\ntarget: %s\n", tg.Describe())
	switch {
	case offers == feedGenerated:
		fmt.Fprintf(a.stdout, "offers: generated (embedded sandbox); %d needed\n", requests)
	case offers == feedStream:
		fmt.Fprintf(a.stdout, "offers: a stream, read as the attack needs rows; the plan needs %d\n", requests)
	default:
		fmt.Fprintf(a.stdout, "offers: %d in the feed, %d needed", offers, requests)
		if uint64(offers) < requests {
			fmt.Fprint(a.stdout, " (the run will stop when the feed is exhausted)")
		}
		fmt.Fprint(a.stdout, "; streamed as the attack needs them")
		fmt.Fprintln(a.stdout)
	}
	switch {
	case p.DefaultThresholds:
		fmt.Fprintf(a.stdout, "thresholds: %s (defaults; --threshold replaces them, --no-default-thresholds turns them off)\n", strings.Join(p.Thresholds, ", "))
	case len(p.Thresholds) > 0:
		fmt.Fprintf(a.stdout, "thresholds: %s\n", strings.Join(p.Thresholds, ", "))
	default:
		fmt.Fprintln(a.stdout, "thresholds: none (--no-default-thresholds): the verdict rests on completion alone")
	}
}

func cmdLoad(ctx context.Context, a *app, args []string) (err error) {
	fs := newFlagSet(a, "load", loadUsage)
	var tf targetFlags
	var lf loadFlags
	var rf reportFlags
	var bf baselineFlags
	tf.register(fs)
	lf.register(fs, "50/s", 10*time.Second, false)
	rf.register(fs, reports.KindLoad)
	var sf specFlags
	sf.register(fs)
	bf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	plan, err := lf.plan(fs)
	if err != nil {
		return err
	}
	tf.maxRate = lf.processMaxRate()
	base, tol, err := bf.load()
	if err != nil {
		return err
	}
	if lf.dryRun {
		// Resolve without starting anything: a dry run sends nothing.
		tg, err := tf.resolveDry(a)
		if err != nil {
			return err
		}
		// The embedded sandbox is loopback and not started: its BaseURL is a
		// description, not a URL to check.
		if !tg.Embedded {
			if err := lf.checkTarget(tg, plan, tf.allowProduction); err != nil {
				return err
			}
		}
		offers := feedGenerated
		if lf.offers != "" {
			sh, err := lf.parseShard()
			if err != nil {
				return err
			}
			if offers, err = countOffers(a, lf.offers, sh); err != nil {
				return err
			}
		} else if !tg.Embedded {
			return usagef("--offers: required against %s", tg.BaseURL)
		}
		describePlan(a, tg, plan, offers)
		fmt.Fprintln(a.stdout, "dry run: nothing sent")
		return nil
	}
	dir, formats, cleanup, err := rf.prepare(a, reports.KindLoad)
	if err != nil {
		return err
	}
	defer cleanup()
	failure := &failureRecord{a: a, kind: reports.KindLoad, dir: dir, formats: formats, started: a.now()}
	defer func() { err = failure.report(err) }()
	s, err := sf.load(false)
	if err != nil {
		return err
	}
	tg, err := tf.resolve(a)
	if err != nil {
		return err
	}
	defer tg.Close()
	failure.target = reports.Target{URL: tg.BaseURL, Embedded: tg.Embedded}
	feed, closeFeed, err := lf.openFeed(a, tg, lf.offers, dir)
	if err != nil {
		return err
	}
	defer closeFeed()
	n := feedGenerated
	if lf.offers != "" {
		n = feedStream
	}
	lr, err := lf.prepare(a, fs, tg, s, dir, feed, n, lf.policyholder, tf.allowProduction)
	if err != nil {
		return err
	}
	defer lr.release()
	describePlan(a, tg, lr.cfg.Plan, lr.offers)
	started := a.now()
	res, err := load.Run(ctx, lr.cfg)
	if err != nil {
		return loadError(tg, err)
	}
	printLoad(a, res)
	rep := reports.New(reports.KindLoad, version(), reports.Target{URL: tg.BaseURL, Embedded: tg.Embedded})
	rep.StartedAt, rep.FinishedAt = started, a.now()
	rep.Load = res
	rep.Spec = specInfo(s)
	rep.Shard = lf.shardLabel()
	bf.apply(a, rep, base, tol)
	return finishReport(a, dir, formats, rep)
}

// loadError classifies an error from load.Run: token endpoint and target
// failures are infrastructure (exit 3), plan errors are usage (exit 2).
func loadError(tg *target, err error) error {
	var pe *load.PlanError
	switch {
	case errors.As(err, &pe):
		return usageError{err}
	}
	if errors.Is(err, load.ErrFeed) {
		return usagef("--offers: %v", err)
	}
	if refused := credentialsRefused(tg, err); refused != nil {
		return refused
	}
	if errors.Is(err, auth.ErrUnreachable) || errors.Is(err, auth.ErrRejected) {
		return tlsHint(fmt.Errorf("token endpoint %s: %w", tg.TokenURL, err))
	}
	return tlsHint(err)
}

// printLoad prints the final table of a load run.
func printLoad(a *app, r *load.Result) {
	w := a.stdout
	fmt.Fprintf(w, "\nrequests %d in %.1fs  requested %.1f/s  achieved %.1f/s  success %.2f%%  stop: %s\n",
		r.Requests, r.DurationSeconds, r.RateRequested, r.RateAchieved, 100*r.SuccessRatio, r.StopReason)
	fmt.Fprintf(w, "%-22s %8s %8s %8s %8s %8s %8s %8s\n", "latency ms", "min", "p50", "p90", "p95", "p99", "p99.9", "max")
	row := func(name string, l load.Latency) {
		fmt.Fprintf(w, "%-22s %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f\n", name, l.Min, l.P50, l.P90, l.P95, l.P99, l.P999, l.Max)
	}
	row("from intended send", r.Latency)
	row("service time", r.ServiceTime)
	var codes []string
	for code, n := range r.StatusCodes {
		codes = append(codes, fmt.Sprintf("%s×%d", code, n))
	}
	fmt.Fprintf(w, "status: %s (%d undocumented)   late sends: %d (worst %.1fms)   schema: %d validated, %d violations",
		strings.Join(slices.Sorted(slices.Values(codes)), " "), r.StatusUndocumented, r.LateSends.Count, r.LateSends.MaxMs, r.Schema.Validated, r.Schema.Violations)
	if r.Schema.Skipped > 0 {
		// Validation yields to the attack when it falls behind: say how much
		// of the sample was checked.
		fmt.Fprintf(w, " (%.1f%% of the sample validated; the rest yielded to the attack)",
			100*float64(r.Schema.Validated)/float64(r.Schema.Validated+r.Schema.Skipped))
	}
	fmt.Fprintln(w)
	if r.FeedStarved.Waits > 0 {
		fmt.Fprintf(w, "offer feed: starved %.0f ms in all, %d sends waited, %d late (feed starved)\n",
			r.FeedStarved.Ms, r.FeedStarved.Waits, r.FeedStarved.LateSends)
	}
	fmt.Fprintf(w, "offers: %d used, %d confirmed, %d failed", r.Offers.Used, r.Offers.Confirmed, r.Offers.Failed)
	if r.Offers.Left >= 0 {
		fmt.Fprintf(w, ", %d left", r.Offers.Left)
	}
	fmt.Fprintf(w, "   tokens: %d fetched\n", r.Tokens.Fetches)
	for i, e := range r.Errors {
		if i == 5 {
			break
		}
		fmt.Fprintf(w, "error ×%d: %s\n", e.Count, oneLine(e.Message, 160))
	}
	for _, t := range r.Thresholds {
		switch {
		case t.NoData:
			fmt.Fprintf(w, "threshold %-24s no data (%s)\n", t.Expr, t.Note)
		case t.Passed:
			fmt.Fprintf(w, "threshold %-24s observed %g%s  pass\n", t.Expr, t.Observed, t.Unit)
		default:
			fmt.Fprintf(w, "threshold %-24s observed %g%s  FAIL\n", t.Expr, t.Observed, t.Unit)
		}
	}
}
