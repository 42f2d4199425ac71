package contract

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"

	"github.com/xoneharness/xoneharness/internal/egress"
	"github.com/xoneharness/xoneharness/internal/race"
	"github.com/xoneharness/xoneharness/ledger"
	"github.com/xoneharness/xoneharness/spec"
)

// Sizes of the race check (Config.Race).
const (
	DefaultRace = race.DefaultN // DefaultRace is the number of simultaneous confirms when Config.Race is 0.
	MaxRace     = race.MaxN     // MaxRace is the largest Config.Race accepted.
)

// raceSkip is why concurrent-confirm cannot run with cfg, or "".
func raceSkip(cfg *Config, loopback bool) string {
	switch {
	case cfg.Race < 0:
		return "race check disabled (negative race size)"
	case !cfg.Embedded && cfg.NextOffer == nil:
		return "no offer feed for the race check: --offers FILE supplies the offer it confirms several times at once"
	case cfg.Conns == nil && !loopback:
		return "no egress gate to open the race's connections off loopback"
	}
	return ""
}

// race runs concurrent-confirm: N confirms of p's offer on connections
// opened beforehand, admitted by the rate ceiling as one group, journalled,
// and released together by last-byte synchronisation (through a proxy, as
// ordinary requests released by a barrier). An error is the journal's, or a
// group the ceiling can never release (ErrConfig).
func (r *runner) race(ctx context.Context, p planned, res *Result) (CaseResult, error) {
	n := cmp.Or(r.cfg.Race, DefaultRace)
	skip := func(why string) (CaseResult, error) {
		return CaseResult{Name: p.def.name, Outcome: OutcomeSkip, Reason: why}, nil
	}
	conns := r.cfg.Conns
	if conns == nil { // a loopback target (raceSkip)
		var tlsCfg *tls.Config
		if tr, ok := r.sender.client.Transport.(*http.Transport); ok {
			tlsCfg = tr.TLSClientConfig
		}
		conns = race.Direct(tlsCfg)
	}
	g, err := race.Open(ctx, conns, r.sender.client, p.url, n)
	switch {
	case errors.Is(err, egress.ErrGroupTooLarge):
		return CaseResult{}, fmt.Errorf("contract: %s: %d simultaneous confirms: %w: %w", p.def.name, n, err, ErrConfig)
	case err != nil && ctx.Err() != nil:
		res.Interrupted = true
		return skip("interrupted")
	case err != nil:
		return CaseResult{Name: p.def.name, Outcome: OutcomeError,
			Reason: "no connections for the race (nothing sent): " + r.red.String(err.Error())}, nil
	}
	defer g.Close()
	for range n {
		if err := r.sender.journal.Begin(p.context.OfferID, p.context.QuoteID); err != nil {
			var ce *ledger.ClaimedError
			if errors.As(err, &ce) { // another run holds the feed's offer: nothing was sent
				return skip(ce.Error())
			}
			return CaseResult{}, fmt.Errorf("contract: %s: %w", p.def.name, err)
		}
	}
	timeout := cmp.Or(max(r.sender.client.Timeout, 0), defaultTimeout)
	out := g.Send(ctx, race.Request{URL: p.url, Header: p.header, Body: p.body}, timeout)
	xs := make([]rawExchange, len(out.Attempts))
	for i, a := range out.Attempts {
		xs[i] = rawExchange{method: http.MethodPost, url: p.url, reqHeader: p.header.Clone(), reqBody: p.body,
			respBody: a.Body, duration: a.Duration}
		if a.Response != nil {
			xs[i].status, xs[i].respHeader = a.Response.StatusCode, spec.WireHeader(a.Response)
		}
		r.sender.resolve(p, xs[i], a.Err)
	}
	return r.judgeGroup(ctx, p, out, xs, res), nil
}

// judgeGroup turns a group's answers (out, and xs their exchanges) into
// the case's result: the Race section, the verdict, and the exchange that
// best shows it.
func (r *runner) judgeGroup(ctx context.Context, p planned, out race.Outcome, xs []rawExchange, res *Result) CaseResult {
	n := len(out.Attempts)
	rc := &Race{N: n, OfferID: p.context.OfferID, Fallback: out.Fallback, Attempts: make([]RaceAttempt, n),
		Spread: out.Spread, ServerTimed: out.ServerTimed, ServerSpread: out.ServerSpread}
	lost := 0
	for i, a := range out.Attempts {
		ra := &rc.Attempts[i]
		if a.Err != nil {
			lost++
			ra.Error = r.red.String(a.Err.Error())
			r.lastErr = a.Err
			continue
		}
		addSecrets(r.red, a.Body)
		ra.Status, ra.CFRay, ra.ServerRecv = xs[i].status, xs[i].respHeader.Get("CF-RAY"), a.ServerRecv
		if ra.Status >= 200 && ra.Status < 300 {
			ra.BookingID = ledger.BookingID(a.Body)
		}
	}
	r.sent += n
	r.answered += n - lost
	cr, pick := judgeRace(p.def, rc, r.cfg.Spec.Documents, r.cfg.Strict)
	cr.Race, cr.Duration = rc, out.Duration
	cr.Exchange = redactExchange(r.red, xs[pick])
	if lost > 0 && ctx.Err() != nil && !cr.Integrity {
		res.Interrupted = true
		cr.Outcome, cr.Reason = OutcomeSkip, "interrupted while waiting for the answers: "+cr.Reason
	}
	scrubResult(r.red, &cr)
	return cr
}
