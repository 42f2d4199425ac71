package load

import (
	"context"
	"fmt"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/xoneharness/xoneharness/internal/auth"
	"github.com/xoneharness/xoneharness/ledger"
)

// attack sends the plan and accounts for every result until the attacker
// ends, and returns how long it ran.
func (a *assembled) attack(ctx context.Context, res *Result) time.Duration {
	r := a.run
	r.stop.hooks = append(r.stop.hooks, func(reason string) {
		// A plan that ran to its end (or to its feed's) still hands offers to
		// the sends already ticked; any other stop unblocks workers waiting
		// for a slow source.
		if reason != stopCompleted && reason != stopMaxRequests && reason != stopExhausted {
			_ = r.cfg.Offers.Close()
		}
	})
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	r.bearer.prefetch(runCtx)
	if ctx.Err() != nil {
		r.stop.end(stopInterrupted, nil)
	}
	res.StartedAt = r.now().UTC()
	began := time.Now()
	a.collector.stats.timeline.origin = began // the timeline counts seconds from the attack's start
	var results <-chan *vegeta.Result
	select {
	case <-r.stop.done: // interrupted before the start
		ch := make(chan *vegeta.Result)
		close(ch)
		results = ch
	default:
		tr := vegeta.Targeter(a.targeter.target)
		if a.race != nil {
			tr = a.race.target(tr)
		}
		results = a.attacker.Attack(tr, a.pacer, 0, "xoneharness")
	}
	tick, flush := time.NewTicker(time.Second), time.NewTicker(resultsFlushEvery)
	defer tick.Stop()
	defer flush.Stop()
	for {
		select {
		case res, ok := <-results:
			if !ok {
				return time.Since(began)
			}
			if !a.race.owns(res) {
				a.collector.add(res)
			}
		case <-flush.C:
			// results.bin reaches the disk on the journal's cadence: a
			// killed run loses at most this interval of it.
			if err := a.collector.results.flush(); err != nil {
				r.stop.end(stopOutput, err)
			}
		case <-tick.C:
			a.collector.progress(r.cfg.Progress, time.Since(began))
			a.checkAbort()
		}
	}
}

// stopOutput is the stop reason of a results.bin that cannot be written.
const stopOutput = "results.bin write failed"

// finish completes the result once the attacker has ended.
func (r *run) finish(a *assembled, res *Result, elapsed time.Duration, tokBefore auth.Stats) {
	r.stop.end(stopCompleted, nil) // a no-op unless the attacker ended on its own
	a.hardStop()
	c := a.collector
	if v := c.validators; v != nil {
		res.Schema = v.close()
		cov := v.cov.Report()
		res.Coverage = &cov
		for _, row := range v.violations {
			c.evidence.fail(row)
		}
		c.evidence.total += v.broken - uint64(len(v.violations))
	}
	res.Evidence = c.evidence.result()
	r.settle(a)
	res.FinishedAt = r.now().UTC()
	c.progress(r.cfg.Progress, elapsed)
	c.stats.fill(res)
	res.DurationSeconds = round(elapsed.Seconds(), 3)
	res.RateRequested = round(r.requestedRate(), 3)
	sent := res.Requests + a.race.fill(res, a.planned, r.requestedRate()) // hits sent, race groups included
	res.Offers.Left = -1
	if n := r.feedCap(); n >= 0 {
		res.Offers.Left = max(int(n)-int(sent), 0)
	}
	res.StopReason = r.stop.reason
	res.Interrupted = r.stop.reason == stopInterrupted
	res.StatusUndocumented = c.undocumentedN
	res.Schema.TruncatedBodies = c.truncated
	res.RetryAfterPauses = c.pauses.PauseStats
	if res.StopReason == stopCompleted && sent < a.planned {
		// The schedule went on past the pauses, and the duration ran out
		// before the plan was sent.
		res.RetryAfterPauses.Unsent = a.planned - sent
		res.StopReason = fmt.Sprintf("%s: %d of %d planned requests unsent after %d Retry-After pause(s), %.1f s in all",
			stopPausedOut, a.planned-sent, a.planned, c.pauses.Count, c.pauses.TotalMs/1e3)
	}
	if s, ok := r.cfg.Offers.(interface {
		Starved() (time.Duration, uint64)
	}); ok {
		total, waits := s.Starved()
		res.FeedStarved = FeedStarvation{Ms: round(total.Seconds()*1e3, 3), Waits: waits, LateSends: a.targeter.starved.Load()}
	}
	res.Tokens.Invalidations = c.rejections.count
	if tok, ok := tokenStats(r.cfg.Tokens); ok {
		res.Tokens.fill(tokBefore, tok)
	}
	EvaluateThresholds(res, r.thresholds)
}

// stopPausedOut starts the stop reason of a plan that Retry-After pauses
// cut short.
const stopPausedOut = "retry-after pauses cut the plan short"

// settle resolves the confirms that never got a result: the first offer,
// begun before the attack, when the attack stopped before sending it, and
// any confirm still in flight (none when vegeta returned every result).
func (r *run) settle(a *assembled) {
	j := a.collector.journal
	if p := a.targeter.primed.Swap(nil); p != nil {
		j.Resolve(ledger.Row{OfferID: p.OfferID, QuoteID: p.QuoteID, Outcome: ledger.Refused,
			Error: "not sent: the run stopped before it left"})
	}
	for _, fl := range a.targeter.unanswered() {
		j.Resolve(ledger.Row{OfferID: fl.offer.OfferID, QuoteID: fl.offer.QuoteID, Outcome: ledger.Unknown,
			Error: "sent, and no result came back"})
	}
}

// fill sets the token counters of a run from the source's counters before
// and after it.
func (t *TokenStats) fill(before, after auth.Stats) {
	t.Fetches = after.Fetches - before.Fetches
	t.Failures = after.Failures - before.Failures
	if t.Fetches > 0 {
		t.MeanMs = round((after.TotalFetchTime-before.TotalFetchTime).Seconds()*1e3/float64(t.Fetches), 3)
	}
	t.MaxMs = round(after.MaxFetchTime.Seconds()*1e3, 3)
}

// requestedRate is the plan's mean rate over its duration.
func (r *run) requestedRate() float64 {
	if c, ok := r.sched.(constSchedule); ok {
		return c.rate(0)
	}
	return float64(r.sched.count(r.plan.Duration)) / r.plan.Duration.Seconds()
}

// checkAbort stops the attack when Plan.AbortOnFail is set and a threshold
// can no longer pass, whatever the remaining requests do.
func (a *assembled) checkAbort() {
	if !a.run.plan.AbortOnFail || a.planned == 0 {
		return
	}
	violations := uint64(0)
	if v := a.collector.validators; v != nil {
		violations = v.violationCount()
	}
	for _, t := range a.run.thresholds {
		if cannotPass(t, a.collector.stats, violations, a.race.doubleBookings(), a.planned-a.run.plan.Race.groupsIn(a.planned)) {
			a.run.stop.end(stopThreshold+t.Expr, nil)
			return
		}
	}
}
