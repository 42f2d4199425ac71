// Package load is the load engine: it sends authenticated Confirm offer
// traffic at a planned rate, records every confirm before it leaves, and
// measures honestly.
//
// Run composes small parts, in the spirit of vegeta's Targeter/Attacker
// split, each with one locking discipline:
//
//   - the bearer (bearer.go): the current token and its Authorization header,
//     a failed fetch retried with backoff; atomics only;
//   - the targeter (targeter.go): for each request a fresh offer from the
//     Feed, recorded in the journal (ledger.Journal.Begin: claimed in the
//     reports root's claims store and written as pending) before it leaves,
//     then the header and the confirm body (xone.ConfirmBody); called
//     concurrently by vegeta's workers, its state is atomics and one mutex;
//   - the collector (collector.go): statistics, results.bin (vegeta gob,
//     bodies and response headers dropped; see IntendedHeader), Prometheus
//     metrics, each confirm's outcome row in the journal, rejected tokens
//     and Retry-After pauses; it runs on the one goroutine that reads
//     vegeta's results and owns its state;
//   - the validator pool (validate.go): validates sampled responses against
//     the spec on its own goroutine, fed by a bounded queue
//     (ValidateQueue); a response is skipped only when the queue is full,
//     and the result says so;
//   - the pacer (pacer.go): the plan's schedule, shifted by Retry-After
//     pauses.
//
// Latency is measured from each request's intended send time (the schedule,
// plus any Retry-After pauses), so a stalled target cannot hide behind a
// slowed-down client; the service time (from the actual send) is reported
// beside it. Percentiles come from mergeable HDR histograms. MergeResults
// rebuilds one Result from several results.bin files (shards).
//
// Each offer is confirmed at most once per reports root: OpenOffers checks a
// file against the root's claims store before the run, and the journal
// claims each offer before its confirm leaves, so a second run over a copy
// of the same offers, or the same rows piped in, is refused naming the run
// that holds them. The store is an append-only file under flock rather than
// an embedded database: package ledger says why (cost and guarantees).
//
// A run is never green without the evidence a pass needs: the safety gates
// (DefaultThresholds) apply unless turned off explicitly (Plan.WithGates), a
// threshold without enough samples has no data, and a plan cut short (a
// Retry-After pause that leaves requests unsent, the feed running out, an
// interrupt) is incomplete (Result.Incomplete). The package formats nothing:
// Result is plain data that package reports renders. Grammars (ParseRate,
// ParseStages, ParseThreshold) are documented in BNF on the functions.
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
// vegeta keeps pacing every hit: a hit chosen as a group (hit i when
// floor((i+1)·F) > floor(i·F)) takes its one offer from the targeter as any
// hit does, and the race sender (race.go), wrapping the targeter, records
// the group's other N-1 confirms in the journal and marks the hit. The run's
// client hands a marked request to the race sender instead of its
// transport, so no ordinary request leaves for it: the sender opens the N
// connections through Config.Egress, counts the group against the rate
// ceiling with one Admit of N sends, releases it, resolves every confirm in
// the journal, and answers vegeta with an empty placeholder that the
// collector never sees. A group's answers are counted in Result.Race only:
// latencies, status codes, results.bin and the validators hold the ordinary
// confirms. Any double booking fails the safety gate double_bookings==0.
// With Plan.IdempotencyHeader, a group's confirms carry their hit's one key.
package load
