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
	"github.com/xoneharness/xoneharness/spec"
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
	continueOnFail := fs.Bool("continue-on-fail", false, "run the load stage even when the contract suite failed")
	fs.BoolVar(&lf.quiet, "quiet", false, "no progress lines")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if len(lf.thresholds) == 0 {
		lf.thresholds = runThresholds()
	}
	// Validate the load plan up front: a bad --rate must not cost an offer.
	if _, err := lf.plan(fs); err != nil {
		return err
	}
	base, tol, err := bf.load()
	if err != nil {
		return err
	}
	dir, formats, cleanup, err := rf.prepare(a, reports.KindRun)
	if err != nil {
		return err
	}
	defer cleanup()
	if err := checkFreshLedger(dir); err != nil {
		return err
	}

	started := a.now()
	failure := &failureRecord{a: a, kind: reports.KindRun, dir: dir, formats: formats, started: started}
	defer func() { err = failure.report(err) }()
	// Stage 1: spec preflight.
	defects, err := spec.Lint(spec.Vendor())
	if err != nil {
		return fmt.Errorf("spec preflight: %w", err)
	}
	handled := 0
	for _, d := range defects {
		if d.Handled {
			handled++
		}
	}
	var opts []spec.Option
	if cf.strict {
		opts = append(opts, spec.Strict())
	}
	s, err := spec.Load(opts...)
	if err != nil {
		return fmt.Errorf("load spec: %w", err)
	}
	fmt.Fprintf(a.stdout, "spec: %d vendor defects, %d fixed by the overlay\n", len(defects), handled)

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
	} else if err := load.CheckTarget(tg.BaseURL, plan.PeakRate(), lf.maxRate, tf.allowProduction); err != nil {
		return usageError{err}
	}

	// The offers: the contract suite takes the first row (of this shard's
	// partition) unless an offer is configured; the load stage gets the rest.
	// No row is confirmed twice.
	var rows *load.OfferList
	if cf.offersFile != "" {
		if rows, err = readOffersFile(cf.offersFile); err != nil {
			return err
		}
		// A shard only ever touches its own partition, the contract's offer
		// included.
		sh, err := lf.parseShard()
		if err != nil {
			return err
		}
		rows = sh.OfferList(rows)
		if rows.Len() == 0 {
			return usagef("--offers: %s has no row for shard %s", cf.offersFile, sh)
		}
	}
	contractOffer := cf
	contractOffer.offersFile = ""
	if pickString(cf.offerID, a.getenv("XONE_OFFER_ID")) == "" && rows != nil && rows.Len() > 0 {
		first := rows.At(0)
		contractOffer.offerID, contractOffer.quoteID = first.OfferID, first.QuoteID
		rows = rows.Slice(1, rows.Len())
	}

	// Stage 2: the contract suite.
	red := auth.NewRedactor(tg.Secret)
	ccfg, err := contractOffer.config(a, tg, s, red)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "contract suite against %s\n", tg.Describe())
	cres, err := contract.Run(ctx, ccfg)
	if err != nil {
		return contractError(err)
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
	rep.Notes = append(rep.Notes, fmt.Sprintf("spec preflight: %d vendor defects, %d fixed by the overlay", len(defects), handled))

	// Stage 3: load.
	switch {
	case cres.Failed() && !*continueOnFail:
		rep.Notes = append(rep.Notes, "load stage skipped: the contract suite failed (--continue-on-fail runs it anyway)")
		fmt.Fprintln(a.stdout, "load stage skipped: the contract suite failed (--continue-on-fail runs it anyway)")
	case ctx.Err() != nil:
		rep.Notes = append(rep.Notes, "load stage skipped: interrupted")
	default:
		var (
			feed load.Feed
			n    int
		)
		switch {
		case cf.offersFile != "":
			feed, n = rows.Feed(), rows.Len()
		case tg.Embedded:
			feed, n = load.GeneratedFeed(time.Now().UnixNano()), -1
		default:
			return usagef("--offers: required for the load stage against %s (a confirmed offer is consumed)", tg.BaseURL)
		}
		lr, err := lf.prepare(a, fs, tg, s, dir, feed, n, cf.policyholder, tf.allowProduction)
		if err != nil {
			return err
		}
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
	html := filepath.Join(dir, reports.FileName(reports.FormatHTML))
	verdict := strings.ToUpper(rep.Verdict)
	if slices.Contains(formats, reports.FormatHTML) {
		fmt.Fprintf(a.stdout, "\nverdict: %s against %s; open %s\n", verdict, tg.Describe(), html)
	} else {
		fmt.Fprintf(a.stdout, "\nverdict: %s against %s; reports in %s\n", verdict, tg.Describe(), dir)
	}
	if rep.Verdict != reports.VerdictPass {
		return errFindings
	}
	return nil
}
