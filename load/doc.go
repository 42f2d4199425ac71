// Package load is the load engine: it sends authenticated Confirm offer traffic
// at a planned rate and measures it honestly.
//
// It is built on vegeta's library (attacker, gob results), with
// coordinated-omission-corrected latency: every request's intended send time is
// computed from the plan's schedule (start + the integral of the rate profile up
// to the request, plus any Retry-After pauses), latency is measured from it, and
// the raw service time is reported beside it. Percentiles come from mergeable HDR
// histograms, overall and per outcome class. Workers are capped (Plan.MaxWorkers):
// when they are all busy, sends fall behind schedule, which shows as late sends
// and as latency, not as a silently lower rate.
//
// A run streams every result to results.bin (vegeta gob, bodies and response
// headers dropped; see IntendedHeader) and every booking to bookings.csv as it
// arrives, so an interrupted run loses nothing. MergeResults rebuilds one Result
// from several results.bin files (shards).
//
// The package formats nothing: Result is plain data that package reports renders.
// Grammars (ParseRate, ParseStages, ParseThreshold) are documented in BNF on the
// functions.
//
// Use:
//
//	plan := load.Plan{Rate: "50/s", Duration: 30 * time.Second, ValidateSample: 1,
//		Thresholds: []string{"p99<800ms", "error_rate<1%"}}
//	if err := load.CheckTarget(baseURL, plan.PeakRate(), 0, false); err != nil {
//		return err
//	}
//	offers, err := load.OpenOfferStream("offers.csv", os.Stdin, load.StreamOptions{}) // read as needed
//	if err != nil {
//		return err
//	}
//	defer offers.Close()
//	res, err := load.Run(ctx, load.Config{
//		Plan: plan, BaseURL: baseURL, PartnerID: partnerID,
//		Tokens: src, TokenStats: src.Stats, Feed: offers,
//		Spec: s, OutDir: "reports/20260101T000000Z-load", Progress: os.Stderr,
//	})
//	if err != nil {
//		return err // configuration, first token, first offer or I/O: nothing measured
//	}
//	switch {
//	case res.Failed(): // a threshold failed on data: a finding, exit 1
//	case len(res.Incomplete()) > 0: // cut short, nothing sent, a threshold without data: exit 4
//	}
package load
