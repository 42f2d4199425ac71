package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/xoneharness/xoneharness/internal/egress"
	"github.com/xoneharness/xoneharness/load"
	"github.com/xoneharness/xoneharness/reports"
)

const runUsage = `
Usage: xoneharness run [flags]

The go-live check, in stages: spec preflight (lint), the contract suite, then
(if the contract passed, or with --continue-on-fail) a load stage. One report
directory with summary.json, report.md, junit.xml and report.html; the last
line says where report.html is.

With no --base-url / XONE_BASE_URL and no partner setting it starts the
embedded sandbox and runs against it (load: 30/s for 20s with p99<500ms and
the safety gates error_rate<1%, schema_violations==0), so it passes on a fresh
machine with no credentials. A partner setting (XONE_CLIENT_ID, XONE_OFFER_ID,
--offers, ...) without a base URL is an error unless --sandbox says the
embedded sandbox is meant. Against a live target it
needs XONE_CLIENT_ID, XONE_CLIENT_SECRET (or --client-secret-file),
XONE_PARTNER_ID, one offer for the contract suite (XONE_OFFER_ID +
XONE_QUOTE_ID, or the first row of --offers) and --offers for the load stage
(its remaining rows; each offer is confirmed once). Off loopback the load
stage defaults to 2/s and is capped at --max-rate.

The contract stage's confirms and the load stage's share one bookings.csv,
where each is written before it leaves.
Exit codes: 0 pass, 1 findings, 2 usage or configuration error, 3 target or
token endpoint unreachable or the journal cannot be written, 4 incomplete
(interrupted, confirm-ok skipped for want of an offer, the plan cut short, a
threshold without data or with too few samples).

Examples:
  xoneharness run
  xoneharness run --drift racy-double-book        # the embedded sandbox breaking the contract on purpose
  xoneharness run --race-fraction 0.05 --race 3   # and in the load stage, 5% of confirms as groups of 3
  xoneharness run --rate 100/s --duration 1m --threshold 'p99<300ms' --report-dir out/golive
  XONE_BASE_URL=https://partner-sandbox.example XONE_CLIENT_ID=abc XONE_CLIENT_SECRET=… \
    XONE_PARTNER_ID=P-1 xoneharness run --offers offers.csv --rate 5/s --duration 1m
`

// Defaults of run's load stage: against the embedded sandbox, and off it;
// runP99 applies when no --threshold is given, besides the safety gates.
const (
	runRate     = "30/s"
	runRateLive = "2/s"
	runDuration = 20 * time.Second
	runP99      = "p99<500ms"
)

func cmdRun(ctx context.Context, a *app, args []string) (err error) {
	fs := newFlagSet(a, "run", runUsage)
	var (
		tf targetFlags
		cf contractFlags
		lf loadFlags
		rf reportFlags
		bf baselineFlags
		sf specFlags
	)
	tf.register(fs)
	bf.register(fs)
	cf.register(fs)
	lf.register(fs, runRate, runDuration, true)
	rf.register(fs, reports.KindRun)
	sf.register(fs)
	continueOnFail := fs.Bool("continue-on-fail", false, "run the load stage even when the contract suite failed")
	fs.BoolVar(&lf.quiet, "quiet", false, "no progress lines")
	if err := parseOnlyFlags(fs, args); err != nil {
		return err
	}
	// Every flag is checked before anything is sent: a bad --rate must not
	// cost an offer.
	lf.extraDefaults = []string{runP99}
	lf.p.Race.N = cf.cfg.Race // one --race for the contract's race check and the load stage's groups
	if _, err := lf.plan(fs); err != nil {
		return err
	}
	tf.maxRate, tf.shard = lf.maxRate, egress.Shard(lf.sh)
	if err := cf.check(a); err != nil {
		return err
	}
	tf.partnerInputs = map[string]string{"--offer-id": cf.offerID, "--offers": cf.offersFile}
	base, tol, err := bf.load()
	if err != nil {
		return err
	}
	defects, _, source, err := sf.preflight(ctx, cf.strict)
	if err != nil {
		return interruptedSetup(ctx, a, "run", err)
	}
	st, err := openSession(ctx, a, &rf, &tf, &sf, reports.KindRun, cf.strict)
	if err != nil {
		return err
	}
	defer func() { err = st.close(err) }()
	rep := st.report(reports.KindRun)
	note, err := reports.ConsolePreflight(a.stdout, source, defects)
	if err != nil {
		return err
	}
	rep.Notes = append(rep.Notes, note)
	if err := runStages(ctx, a, st, rep, fs, &cf, &lf, tf.allowProduction, *continueOnFail); err != nil {
		return err
	}
	bf.apply(a, rep, base, tol)
	return st.finish(rep)
}

// runStages runs the contract stage, then the load stage, into rep. The
// offers are one stream (a file, a named pipe, or "-"): the contract suite
// takes its first row (of this shard's share) unless an offer is
// configured, generated cases the next ones, and the load stage the rest.
// No row is confirmed twice, and every confirm of both stages is in the
// one journal.
func runStages(ctx context.Context, a *app, st *session, rep *reports.Report, fs *flag.FlagSet, cf *contractFlags, lf *loadFlags, allowProduction, continueOnFail bool) error {
	if !st.tg.Embedded && !flagSet(fs, "rate") && !flagSet(fs, "stages") {
		lf.p.Rate = runRateLive
	}
	// The load stage's safety rules (production host, --max-rate off
	// loopback) are checked before the contract suite confirms an offer.
	plan, err := lf.plan(fs)
	if err != nil {
		return err
	} else if err := lf.checkTarget(st.tg, plan, allowProduction); err != nil {
		return err
	}
	feed, n := load.Feed(nil), load.OffersStream
	if cf.offersFile != "" {
		if feed, _, err = lf.openOffers(ctx, a, st.tg, cf.offersFile, st.run.Claims); err != nil {
			return err
		}
		defer func() { _ = feed.Close() }()
	}
	cres, err := runContract(ctx, a, st, cf, feed)
	if err != nil {
		return err
	}
	rep.Contract = cres
	switch {
	case cres.Failed() && !continueOnFail:
		const skipped = "load stage skipped: the contract suite failed (--continue-on-fail runs it anyway)"
		rep.Notes = append(rep.Notes, skipped)
		fmt.Fprintln(a.stdout, skipped)
		return nil
	case ctx.Err() != nil:
		rep.MarkIncomplete("load stage skipped: interrupted")
		return nil
	}
	if feed == nil {
		if feed, n, err = lf.openOffers(ctx, a, st.tg, "", nil); err != nil {
			return usagef("--offers: required for the load stage against %s (a confirmed offer is consumed)", st.tg.BaseURL)
		}
	}
	lf.policyholder = cf.policyholder // run's --policyholder is the contract's flag; both stages send it
	return lf.runLoad(ctx, a, st, rep, plan, feed, n, allowProduction)
}
