// Package load is the load engine: it sends authenticated Confirm offer
// traffic at a planned rate, records every confirm before it leaves, and
// measures honestly.
//
// Run composes small parts, in the spirit of vegeta's Targeter/Attacker
// split, each with one locking discipline: the targeter (a fresh offer from
// the Feed per request, recorded in the journal before it leaves, the
// bearer token and the confirm body; atomics and one mutex, for vegeta's
// concurrent workers), the collector (statistics, results.bin, Prometheus
// metrics, the journal's outcome rows, rejected tokens, Retry-After pauses;
// owned by the one goroutine that reads vegeta's results), the validator
// pool (sampled responses checked against the spec behind a bounded queue:
// a response is skipped only when the queue is full, and the result says
// so) and the pacer (the plan's schedule, shifted by Retry-After pauses).
//
// Latency is measured from each request's intended send time, so a stalled
// target cannot hide behind a slowed-down client; the service time (from the
// actual send) is reported beside it. Percentiles come from mergeable HDR
// histograms; MergeResults rebuilds one Result from several results.bin
// files (shards).
//
// Each offer is confirmed at most once per reports root: OpenOffers checks a
// file against the root's claims store before the run, and the journal
// claims each offer before its confirm leaves (package ledger).
//
// A run is never green without the evidence a pass needs: the safety gates
// (Plan.Gates) apply unless turned off explicitly (Plan.WithGates), a
// threshold without enough samples has no data, and a plan cut short is
// incomplete (Result.Incomplete). Result is plain data that package reports
// renders. The grammars of ParseRate, ParseStages and ParseThreshold are in
// BNF on the functions.
//
// Use:
//
//	claims, err := ledger.OpenClaims("reports", "reports/20260101T000000Z-load")
//	if err != nil {
//		return err
//	}
//	defer claims.Close()
//	offers, _, err := load.OpenOffers(ctx, "offers.csv", os.Stdin, load.OfferOptions{Claims: claims})
//	if err != nil {
//		return err // a bad row, or an offer another run claimed: names its line
//	}
//	defer offers.Close()
//	plan := load.Plan{Rate: "50/s", Duration: 30 * time.Second, ValidateSample: 1,
//		Thresholds: []string{"p99<800ms"}}.WithGates(false)
//	res, err := load.Run(ctx, load.Config{
//		Plan: plan, BaseURL: baseURL, PartnerID: partnerID, Tokens: src,
//		Offers: offers, Spec: s, OutDir: "reports/20260101T000000Z-load",
//	})
//	if err != nil {
//		return err // configuration, first token, first offer, or the journal (with the result so far)
//	}
//	switch {
//	case res.Failed(): // a threshold failed on data: a finding
//	case len(res.Incomplete()) > 0: // cut short, nothing sent, too few samples
//	}
//
// # Race groups
//
// With Plan.Race, a fraction of the planned confirms are each a group of N
// simultaneous confirms of one offer (package internal/race: connections
// opened beforehand, released by last-byte synchronisation), so that a
// check-then-act race in the target shows under load as a double booking.
// vegeta keeps pacing every hit; a hit chosen as a group takes its one offer
// from the targeter, records the group's other N-1 confirms in the journal,
// and is handed by the run's client to the race sender instead of its
// transport. The sender opens the N connections through Config.Egress,
// counts the group against the rate ceiling with one Admit of N sends,
// releases it and resolves every confirm in the journal. A group's answers
// are counted in Result.Race only; any double booking fails the safety gate
// double_bookings==0.
package load
