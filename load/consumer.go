package load

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"golang.org/x/oauth2"

	"github.com/xoneharness/xoneharness/internal/xone"
)

// authMaxRejected: stop when this many tokens in a row were rejected (401) by
// the target. A token counts once, on the first 401 to it; a 401 to a request
// sent before its token was invalidated does not count against the
// replacement, whatever the rate. A success resets the count.
const authMaxRejected = 3

// process accounts for one result; it runs on the consumer goroutine only.
func (e *engine) process(r *vegeta.Result) {
	if r.Method == "" {
		return // the targeter failed: no request was sent
	}
	offerID := strings.TrimSuffix(strings.TrimPrefix(r.URL, e.urlPrefix), xone.ConfirmSuffix)
	e.mu.Lock()
	fl, ok := e.inflight[offerID]
	delete(e.inflight, offerID)
	e.mu.Unlock()
	if !ok {
		fl.offer.OfferID = offerID
	}
	if r.Code == 0 && e.abandoning.Load() {
		r.Error = abandonedPrefix + r.Error // cut off by the interrupt, not failed by the target
	}
	intended := e.pacer.intended(r.Seq, r.Timestamp)
	// Smoothed lateness of the sends (about the last 20): validation yields
	// when it grows.
	e.lateEWMA += (max(r.Timestamp.Sub(intended), 0) - e.lateEWMA) / 20
	corrected, class := e.stats.add(r, intended)
	e.results.write(r, intended)
	if len(r.Body) >= maxBody {
		e.truncated++
	}
	if m := e.metrics; m != nil {
		m.requests[class].Inc()
		m.latency[class].Observe(corrected.Seconds())
		m.service[class].Observe(r.Latency.Seconds())
		if r.Timestamp.Sub(intended) > lateThreshold {
			m.late.Inc()
		}
	}
	switch class {
	case class2xx:
		e.bookings.Add(Booking{OfferID: fl.offer.OfferID, QuoteID: fl.offer.QuoteID, Outcome: OutcomeBooked,
			BookingID: bookingID(r.Body), Status: int(r.Code), At: e.now()})
	case classTransport, class5xx, classOther:
		// Sent, and not refused: it may have booked.
		why := r.Error
		if why == "" {
			why = "HTTP " + strconv.Itoa(int(r.Code))
		}
		e.bookings.Add(Booking{OfferID: fl.offer.OfferID, QuoteID: fl.offer.QuoteID, Outcome: OutcomeUnknown,
			Status: int(r.Code), Error: normaliseError(why), At: e.now()})
	case class401:
		e.rejectedToken(fl.tok, r.Timestamp)
	case class429:
		e.retryAfter(r)
	}
	if r.Code != 0 {
		switch {
		case int(r.Code) < len(e.undocumentedStatus) && e.undocumentedStatus[r.Code]:
			e.undocumented++ // an error status, never a schema violation
		case len(r.Body) < maxBody: // a truncated body cannot be validated
			e.sample(r)
		}
		if class != class401 && fl.tok != nil {
			if at, done := e.invalidated[fl.tok.AccessToken]; !done || r.Timestamp.After(at) {
				e.rejected = 0 // the target accepts a current token
			}
		}
	}
}

// rejectedToken accounts for a 401 to a request sent at sent with tok: the
// token is invalidated (once) so the source fetches another, and the run
// stops when authMaxRejected tokens in a row were rejected. A 401 to a
// request sent before its token was invalidated is stale: it says nothing of
// the replacement. A 401 to a request sent after (the source handed out the
// same token again) counts.
func (e *engine) rejectedToken(tok *oauth2.Token, sent time.Time) {
	if tok == nil {
		return
	}
	if at, done := e.invalidated[tok.AccessToken]; done && !sent.After(at) {
		return
	}
	if len(e.invalidated) > 1000 {
		clear(e.invalidated)
	}
	e.invalidated[tok.AccessToken] = time.Now()
	e.invalidN++
	e.cfg.Tokens.Invalidate(tok)
	e.rejected++
	if e.rejected >= authMaxRejected {
		e.stop(stopAuth)
	}
}

// retryAfter pauses the pacer for a 429's Retry-After.
func (e *engine) retryAfter(r *vegeta.Result) {
	d, ok := ParseRetryAfter(r.Headers.Get("Retry-After"), e.now())
	if !ok || d <= 0 {
		return
	}
	if e.plan.IgnoreRetryAfter {
		e.pauses.Ignored++
		return
	}
	now := time.Now()
	newWindow, added := e.pacer.pause(now, now.Add(d))
	if newWindow {
		e.pauses.Count++
		if m := e.metrics; m != nil {
			m.pauses.Inc()
		}
	}
	if added > 0 {
		e.pauses.TotalMs = round(e.pauses.TotalMs+added.Seconds()*1e3, 3)
		e.pauses.MaxMs = max(e.pauses.MaxMs, round(d.Seconds()*1e3, 3))
	}
}

// progress writes one progress line.
func (e *engine) progress(elapsed time.Duration) {
	if e.cfg.Progress == nil {
		return
	}
	s := e.stats
	rate := 0.0
	if elapsed > 0 {
		rate = float64(s.n) / elapsed.Seconds()
	}
	errs := s.n - s.success
	pct := 0.0
	if s.n > 0 {
		pct = 100 * float64(errs) / float64(s.n)
	}
	fmt.Fprintf(e.cfg.Progress, "load %5s/%s  requests %d  rate %.1f/s  p99 %.1fms  errors %d (%.1f%%)\n",
		elapsed.Round(time.Second), e.plan.Duration, s.n, rate, usToMs(s.lat.ValueAtQuantile(99)), errs, pct)
}
