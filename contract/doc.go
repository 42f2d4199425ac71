// Package contract is the contract suite for XONE's Confirm offer endpoint
// (POST /api/partners/{partner_id}/offers/{offer_id}/confirm): a fixed set
// of named cases, generated cases, a runner, and results as plain data.
//
// The cases, in order:
//
//	confirm-ok            valid token and body (the configured offer): 200, a booking that
//	                      validates (formats included), plus the semantic invariants
//	no-token              \
//	malformed-token        | each must get exactly 401 with a body and headers that
//	expired-token          | validate; a 2xx is a security finding (fail, Security)
//	wrong-scope-token     /  (needs a read-only credential, else skipped)
//	missing-quotes        \
//	missing-policyholder   | invalid bodies with a valid token, each checked to be invalid
//	empty-quotes           | for its intended reason before it is sent, each for a fresh
//	quote-without-id       | random offer: 2xx is fail, 5xx is fail, an undocumented 4xx
//	malformed-json         | is drift
//	wrong-content-type    /
//	double-confirm        the configured offer again: a 2xx with another booking id is
//	                      fail (duplicate booking), a 4xx is drift with its message
//	concurrent-confirm    the race check: Config.Race (default 5) confirms of one fresh
//	                      offer released together by last-byte synchronisation; exactly
//	                      one booking and refusals pass, two booking ids are an
//	                      integrity failure
//
// Generated cases (Config.Generate) follow: bodies drawn from the request
// schema, alternately valid (want 2xx) and with one mutation the document
// rejects (want 4xx); one that does not pass is shrunk with rapid to a
// minimal body and a curl line. Config.Seed replays them.
//
// Policy: a 5xx is always fail; an undocumented status is at least drift;
// schema, format, header and content-type violations are fail; undocumented
// response fields (reported by a strict spec) are drift. With
// Config.Strict every drift becomes fail. Security findings, then integrity
// findings (an offer booked twice), come first in [Result.Cases].
//
// Findings are data: [Run] returns them in a [Result] (no printing; package
// reports formats it). Errors are for when the suite cannot do its job: a bad
// [Config] (wrapping [ErrConfig]), a failing token endpoint, an unreachable
// target. [Record] writes each case's redacted exchange to a directory and
// [Replay] judges such a directory again offline, with any spec.
//
// Use (ExampleRun shows a whole run against the embedded sandbox):
//
//	res, err := contract.Run(ctx, contract.Config{
//		BaseURL: base, PartnerID: partner, OfferID: offer, QuoteID: quote,
//		Tokens: src, Spec: s, Redactor: src.Redactor(), // src an *auth.Source
//	})
//	if err != nil {
//		return err // exit 2 when errors.Is(err, contract.ErrConfig), else 3
//	}
//	failed := res.Failed() // exit 1
//
// A Config filled from a command line, where zero means none (race 0 skips
// the race check), goes through [Config.Explicit], which refuses what a
// default would hide, and [Config.TakeOffers], which takes confirm-ok's offer
// from an offer feed. Run sends one request at a time, except
// concurrent-confirm; it is safe to run several suites concurrently with
// separate Configs.
package contract
