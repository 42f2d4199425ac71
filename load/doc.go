// Package load is the load engine: it sends authenticated Confirm offer
// traffic at a planned rate, records every confirm before it leaves, and
// measures honestly.
//
// Run composes small parts, in the spirit of vegeta's Targeter/Attacker
// split, each with one locking discipline: the targeter (offer, journal row,
// token, body; called by vegeta's concurrent workers), the collector
// (statistics, results.bin, metrics, outcome rows; the one goroutine that
// reads vegeta's results), the validator pool (sampled responses behind a
// bounded queue, skipped only when it is full; it waits while the process
// is short of CPU) and the pacer (the plan's schedule, shifted by
// Retry-After pauses).
//
// Latency is measured from each request's intended send time, so a stalled
// target cannot hide behind a slowed-down client. Percentiles come from
// mergeable HDR histograms; MergeResults rebuilds one Result from several
// results.bin files (shards). Each offer is confirmed at most once per
// reports root (OpenOffers and package ledger's claims).
//
// A run is never green without evidence: the safety gates apply unless
// turned off explicitly (Plan.WithGates), a threshold without enough samples
// has no data, and a plan cut short is incomplete (Result.Incomplete).
//
// What a command line needs is here too, for Go callers: Plan.Explicit reads
// a plan whose zero values were given on purpose and refuses what defaults
// would hide, OffersFor chooses between an offers file and generated offers,
// and ServeMetrics serves the live metrics (a bare ":PORT" on loopback).
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
// simultaneous confirms of one offer (package internal/race, last-byte
// synchronisation), so that a check-then-act race in the target shows under
// load as a double booking. vegeta keeps pacing every hit; a hit chosen as a
// group records N confirms in the journal and is handed by the run's client
// to the race sender, which opens N connections through Config.Egress (one
// Admit of N sends against the ceiling) and releases them together. Groups
// are counted in Result.Race only; a double booking fails the gate
// double_bookings==0.
package load
