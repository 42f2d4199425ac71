package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/xoneharness/xoneharness/contract"
	"github.com/xoneharness/xoneharness/internal/auth"
	"github.com/xoneharness/xoneharness/load"
	"github.com/xoneharness/xoneharness/reports"
)

const runUsage = `
Usage: xoneharness run [flags]

The go-live check, in stages: spec preflight (lint), the contract suite, then
(if the contract passed, or with --continue-on-fail) a load stage. One report
directory with summary.json, report.md, junit.xml and report.html; the last
line says where report.html is.

With no --base-url / XONE_BASE_URL it starts the embedded sandbox and runs
against it (load: 30/s for 20s with p99<500ms, error_rate<1%, schema_violations==0),
so it passes on a fresh machine with no credentials. Against a live target it
needs XONE_CLIENT_ID, XONE_CLIENT_SECRET (or --client-secret-file),
XONE_PARTNER_ID, one offer for the contract suite (XONE_OFFER_ID +
XONE_QUOTE_ID, or the first row of --offers) and --offers for the load stage
(its remaining rows; each offer is confirmed once). Off loopback the load
stage defaults to 2/s and is capped at --max-rate.

The contract stage's confirms and the load stage's share one bookings.csv.
Exit codes: 0 pass, 1 findings, 2 usage or configuration error, 3 target or
token endpoint unreachable, 4 incomplete (interrupted, confirm-ok skipped for
want of an offer, load stopped early, a threshold without data).

Examples:
  xoneharness run
  xoneharness run --rate 100/s --duration 1m --threshold 'p99<300ms' --report-dir out/golive
  XONE_BASE_URL=https://partner-sandbox.example XONE_CLIENT_ID=abc XONE_CLIENT_SECRET=… \
    XONE_PARTNER_ID=P-1 xoneharness run --offers offers.csv --rate 5/s --duration 1m
`

// Defaults of run's load stage.
const (
	runRate         = "30/s"
	runRateLive     = "2/s"
	runDuration     = 20 * time.Second
	runDurationLive = 20 * time.Second
)

// runThresholds are the load stage's thresholds when none are given.
func runThresholds() []string {
	return []string{"p99<500ms", "error_rate<1%", "schema_violations==0"}
}

func cmdRun(ctx context.Context, a *app, args []string) (err error) {
	fs := newFlagSet(a, "run", runUsage)
	var tf targetFlags
	var cf contractFlags
	var lf loadFlags
	var rf reportFlags
	var bf baselineFlags
	tf.register(fs)
	bf.register(fs)
	cf.register(fs)
	lf.register(fs, runRate, runDuration, true)
	rf.register(fs, reports.KindRun)
	var sf specFlags
	sf.register(fs)
	continueOnFail := fs.Bool("continue-on-fail", false, "run the load stage even when the contract suite failed")
	fs.BoolVar(&lf.quiet, "quiet", false, "no progress lines")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	lf.defaultThresholds = runThresholds()
	// Validate the load plan up front: a bad --rate must not cost an offer.
	if _, err := lf.plan(fs); err != nil {
		return err
	}
	tf.maxRate = lf.processMaxRate()
	base, tol, err := bf.load()
	if err != nil {
		return err
	}
	dir, formats, cleanup, err := rf.prepare(a, reports.KindRun)
	if err != nil {
		return err
	}
	defer cleanup()

	started := a.now()
	failure := &failureRecord{a: a, kind: reports.KindRun, dir: dir, formats: formats, started: started}
	defer func() { err = failure.report(err) }()
	// Stage 1: spec preflight.
	defects, source, err := sf.lint("spec preflight")
	if err != nil {
		return err
	}
	handled := 0
	for _, d := range defects {
		if d.Handled {
			handled++
		}
	}
	s, err := sf.load(cf.strict)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "spec: %s: %d defects, %d fixed by the overlay\n", source, len(defects), handled)

	tg, err := tf.resolve(a)
	if err != nil {
		return err
	}
	defer tg.Close()
	failure.target = reports.Target{URL: tg.BaseURL, Embedded: tg.Embedded}
	if !tg.Embedded && !flagSet(fs, "rate") && !flagSet(fs, "stages") {
		lf.rate = runRateLive
		if !flagSet(fs, "duration") {
			lf.duration = runDurationLive
		}
	}
	// The load stage's safety rules (production host, --max-rate off
	// loopback) are checked before the contract suite confirms an offer.
	if plan, err := lf.plan(fs); err != nil {
		return err
	} else if err := lf.checkTarget(tg, plan, tf.allowProduction); err != nil {
		return err
	}

	// The offers: one stream (a file, a named pipe, or "-" for standard
	// input). The contract suite takes its first row (of this shard's share)
	// unless an offer is configured; the load stage reads the rest as it
	// needs them. No row is confirmed twice.
	var stream *load.OfferStream
	if cf.offersFile != "" {
		sh, err := lf.parseShard()
		if err != nil {
			return err
		}
		var closeStream func()
		if stream, closeStream, err = openOfferStream(a, cf.offersFile, dir, sh); err != nil {
			return err
		}
		defer closeStream()
	}
	contractOffer := cf
	contractOffer.offersFile = ""
	if pickString(cf.offerID, a.getenv("XONE_OFFER_ID")) == "" && stream != nil {
		first, ok := stream.Next()
		if !ok {
			if err := stream.Err(); err != nil {
				return usagef("--offers: %v", err)
			}
			return usagef("--offers: %s has no row for this run (shard %s)", cf.offersFile, lf.shard)
		}
		contractOffer.offerID, contractOffer.quoteID = first.OfferID, first.QuoteID
	}
	if stream != nil {
		contractOffer.nextOffer = stream.Next // generated cases draw from the same stream
	}

	// Stage 2: the contract suite. Its confirms and the load stage's share
	// one ledger.
	red := auth.NewRedactor(tg.Secret)
	ccfg, err := contractOffer.config(a, tg, s, red)
	if err != nil {
		return err
	}
	ledger, err := openLedger(dir)
	if err != nil {
		return err
	}
	defer closeLedger(a, ledger)
	ccfg.OnBooking = ledgerSink(ledger)
	fmt.Fprintf(a.stdout, "contract suite against %s\n", tg.Describe())
	cres, err := contract.Run(ctx, ccfg)
	if err != nil {
		return contractError(tg, err)
	}
	if cf.record != "" {
		if err := contract.Record(cf.record, cres); err != nil {
			return usagef("--record: %v", err)
		}
	}
	printContract(a, cres)
	rep := reports.New(reports.KindRun, version(), reports.Target{URL: tg.BaseURL, Embedded: tg.Embedded})
	rep.StartedAt = started
	rep.Contract = cres
	rep.Spec = specInfo(s)
	rep.Notes = append(rep.Notes, fmt.Sprintf("spec preflight: %d vendor defects, %d fixed by the overlay", len(defects), handled))

	// Stage 3: load.
	switch {
	case cres.Failed() && !*continueOnFail:
		rep.Notes = append(rep.Notes, "load stage skipped: the contract suite failed (--continue-on-fail runs it anyway)")
		fmt.Fprintln(a.stdout, "load stage skipped: the contract suite failed (--continue-on-fail runs it anyway)")
	case ctx.Err() != nil:
		rep.MarkIncomplete("load stage skipped: interrupted")
	default:
		var (
			feed load.Feed
			n    int
		)
		switch {
		case stream != nil:
			feed, n = stream, feedStream
		case tg.Embedded:
			feed, n = load.GeneratedFeed(time.Now().UnixNano()), feedGenerated
		default:
			return usagef("--offers: required for the load stage against %s (a confirmed offer is consumed)", tg.BaseURL)
		}
		lr, err := lf.prepare(a, fs, tg, s, dir, feed, n, cf.policyholder, tf.allowProduction)
		if err != nil {
			return err
		}
		lr.cfg.Ledger = ledger
		defer lr.release()
		fmt.Fprintln(a.stdout)
		describePlan(a, tg, lr.cfg.Plan, n)
		lres, err := load.Run(ctx, lr.cfg)
		if err != nil {
			return loadError(tg, err)
		}
		printLoad(a, lres)
		rep.Load = lres
		rep.Shard = lf.shardLabel()
	}
	rep.FinishedAt = a.now()
	bf.apply(a, rep, base, tol)
	if err := writeReport(a, dir, formats, rep); err != nil {
		return err
	}
	printIncomplete(a, rep)
	html := filepath.Join(dir, reports.FileName(reports.FormatHTML))
	verdict := strings.ToUpper(rep.Verdict)
	if slices.Contains(formats, reports.FormatHTML) {
		fmt.Fprintf(a.stdout, "\nverdict: %s against %s; open %s\n", verdict, tg.Describe(), html)
	} else {
		fmt.Fprintf(a.stdout, "\nverdict: %s against %s; reports in %s\n", verdict, tg.Describe(), dir)
	}
	return verdictError(rep)
}
