package load

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"golang.org/x/oauth2"

	"github.com/xoneharness/xoneharness/internal/xone"
	"github.com/xoneharness/xoneharness/ledger"
	"github.com/xoneharness/xoneharness/spec"
)

// collector accounts for every result: statistics, results.bin, metrics,
// the journal's outcome rows, rejected tokens, Retry-After pauses and the
// responses handed to the validators. It runs on the one goroutine that
// reads vegeta's results, and owns its state: no locks.
type collector struct {
	plan       Plan
	urlPrefix  string
	now        func() time.Time
	stats      *stats
	results    *resultsWriter
	journal    *ledger.Journal
	metrics    *Metrics
	targeter   *targeter
	pacer      *runPacer
	validators *validatorPool
	evidence   *evidence
	rejections rejections
	pauses     pauses
	events     io.Writer // one line per pause, as it happens; nil: none
	abandoning *atomic.Bool

	undocumented  []bool // undocumented[c]: the document leaves status c out (nil: no spec)
	undocumentedN uint64
	truncated     uint64
	sampleAcc     float64
}

// startValidation looks the documented statuses up once and starts the
// validators, when there is a spec and a sample to validate.
func (c *collector) startValidation(s *spec.Spec, urlPrefix string) error {
	if s == nil {
		return nil
	}
	c.undocumented = make([]bool, 1000)
	for code := range c.undocumented {
		c.undocumented[code] = !s.Documents(code)
	}
	if c.plan.ValidateSample <= 0 {
		return nil
	}
	v, err := newValidatorPool(s, urlPrefix, c.metrics)
	c.validators = v
	return err
}

// authMaxRejected: stop when this many tokens in a row were rejected (401) by
// the target. A token counts once, on the first 401 to it; a 401 to a request
// sent before its token was invalidated does not count against the
// replacement, whatever the rate. A success resets the count.
const authMaxRejected = 3

// add accounts for one result.
func (c *collector) add(r *vegeta.Result) {
	if r.Method == "" {
		return // the targeter failed: no request was sent
	}
	fl, _ := c.targeter.landed(c.offerOf(r))
	if r.Code == 0 && c.abandoning.Load() {
		r.Error = abandonedPrefix + r.Error // cut off by the interrupt, not failed by the target
	}
	intended := c.pacer.intended(r.Seq, r.Timestamp)
	corrected, class := c.stats.add(r, intended)
	c.results.write(r, intended)
	if len(r.Body) >= maxBody {
		c.truncated++
	}
	c.observe(r, intended, corrected, class)
	c.resolve(r, fl, class)
	c.collect(r, fl.offer.OfferID, corrected, class)
	switch class {
	case class401:
		if c.rejections.reject(fl.tok, r.Timestamp, c.targeter.bearer) {
			c.targeter.stop.end(stopAuth, nil)
		}
	case class429:
		c.retryAfter(r)
	}
	if r.Code == 0 {
		return
	}
	switch {
	case int(r.Code) < len(c.undocumented) && c.undocumented[r.Code]:
		c.undocumentedN++ // an error status, never a schema violation
	case len(r.Body) < maxBody: // a truncated body cannot be validated
		c.sample(r, fl.offer.OfferID, corrected)
	}
	if class != class401 {
		c.rejections.accepted(fl.tok, r.Timestamp)
	}
}

// observe feeds the live metrics.
func (c *collector) observe(r *vegeta.Result, intended time.Time, corrected time.Duration, class int) {
	m := c.metrics
	if m == nil {
		return
	}
	m.requests[class].Inc()
	m.latency[class].Observe(corrected.Seconds())
	m.service[class].Observe(r.Latency.Seconds())
	if r.Timestamp.Sub(intended) > lateThreshold {
		m.late.Inc()
	}
}

// resolve records the confirm's outcome in the journal.
func (c *collector) resolve(r *vegeta.Result, fl flight, class int) {
	row := ledger.Row{OfferID: fl.offer.OfferID, QuoteID: fl.offer.QuoteID, Outcome: ledger.OutcomeOf(int(r.Code)), Status: int(r.Code)}
	switch {
	case row.Outcome == ledger.Booked:
		row.BookingID = ledger.BookingID(r.Body)
	case row.Outcome == ledger.Unknown:
		row.Error = r.Error // sent, and not refused: it may have booked
		if row.Error == "" {
			row.Error = "HTTP " + strconv.Itoa(int(r.Code))
		}
		row.Error = normaliseError(row.Error)
	}
	c.journal.Resolve(row)
}

// sample hands the sampled fraction of responses to the validators.
func (c *collector) sample(r *vegeta.Result, offerID string, corrected time.Duration) {
	if c.validators == nil {
		return
	}
	c.sampleAcc += c.plan.ValidateSample
	if c.sampleAcc < 1 {
		return
	}
	c.sampleAcc--
	c.validators.submit(validateJob{seq: r.Seq, status: int(r.Code), header: r.Headers, body: r.Body,
		evidence: func() EvidenceRow {
			return c.evidence.row(r.Seq, offerID, r.Timestamp, int(r.Code), corrected, r.Latency, r.Headers)
		}})
}

// offerOf is the offer id in a result's URL.
func (c *collector) offerOf(r *vegeta.Result) string {
	return strings.TrimSuffix(strings.TrimPrefix(r.URL, c.urlPrefix), xone.ConfirmSuffix)
}

// collect offers the answer to the evidence: among the slowest, and as a
// failure when it is not a 2xx (requests abandoned at an interrupt say
// nothing of the target and are left out).
func (c *collector) collect(r *vegeta.Result, offerID string, corrected time.Duration, class int) {
	build := func() EvidenceRow {
		return c.evidence.row(r.Seq, offerID, r.Timestamp, int(r.Code), corrected, r.Latency, r.Headers)
	}
	c.evidence.slow(corrected, build)
	if class != class2xx && !strings.HasPrefix(r.Error, abandonedPrefix) {
		row := build()
		row.Error = normaliseError(r.Error)
		c.evidence.fail(row)
	}
}

// retryAfter pauses the pacer for a 429's Retry-After and says so.
func (c *collector) retryAfter(r *vegeta.Result) {
	raw := r.Headers.Get("Retry-After")
	d, ok := ParseRetryAfter(raw, c.now())
	if !ok || d <= 0 {
		return
	}
	if c.plan.IgnoreRetryAfter {
		c.pauses.Ignored++
		return
	}
	now := time.Now()
	newWindow, added := c.pacer.pause(now, now.Add(d))
	c.pauses.add(raw, d, newWindow, added)
	if newWindow && c.metrics != nil {
		c.metrics.pauses.Inc()
	}
	if newWindow && c.events != nil {
		fmt.Fprintf(c.events, "pause: 429 with Retry-After %q: sending paused for %s (until %s)\n",
			raw, d, now.Add(d).UTC().Format("15:04:05"))
	}
}

// pauses accumulates Retry-After pauses.
type pauses struct {
	PauseStats
}

// maxRetryAfterValues bounds the distinct Retry-After values a result lists.
const maxRetryAfterValues = 10

func (p *pauses) add(raw string, d time.Duration, newWindow bool, added time.Duration) {
	if newWindow {
		p.Count++
	}
	if added > 0 {
		p.TotalMs = round(p.TotalMs+added.Seconds()*1e3, 3)
		p.MaxMs = max(p.MaxMs, round(d.Seconds()*1e3, 3))
	}
	if !slices.Contains(p.Values, raw) && len(p.Values) < maxRetryAfterValues {
		p.Values = append(p.Values, raw)
	}
}

// rejections tracks the tokens the target rejected (401).
type rejections struct {
	invalidated map[string]time.Time // access tokens already invalidated, and when
	count       int64                // invalidations requested
	inARow      int                  // tokens rejected in a row
}

// reject accounts for a 401 to a request sent at sent with tok: the token is
// invalidated (once) so the source fetches another; it reports whether
// authMaxRejected tokens in a row were rejected. A 401 to a request sent
// before its token was invalidated is stale: it says nothing of the
// replacement. A 401 to a request sent after (the source handed out the same
// token again) counts.
func (rj *rejections) reject(tok *oauth2.Token, sent time.Time, b *bearer) bool {
	if tok == nil {
		return false
	}
	if at, done := rj.invalidated[tok.AccessToken]; done && !sent.After(at) {
		return false
	}
	if rj.invalidated == nil || len(rj.invalidated) > 1000 {
		rj.invalidated = map[string]time.Time{}
	}
	rj.invalidated[tok.AccessToken] = time.Now()
	rj.count++
	b.invalidate(tok)
	rj.inARow++
	return rj.inARow >= authMaxRejected
}

// accepted resets the count when the target accepted a current token.
func (rj *rejections) accepted(tok *oauth2.Token, sent time.Time) {
	if tok == nil {
		return
	}
	if at, done := rj.invalidated[tok.AccessToken]; !done || sent.After(at) {
		rj.inARow = 0
	}
}

// progress writes one progress line to w.
func (c *collector) progress(w io.Writer, elapsed time.Duration) {
	if w == nil {
		return
	}
	s := c.stats
	rate := 0.0
	if elapsed > 0 {
		rate = float64(s.n) / elapsed.Seconds()
	}
	errs := s.n - s.success
	pct := 0.0
	if s.n > 0 {
		pct = 100 * float64(errs) / float64(s.n)
	}
	fmt.Fprintf(w, "load %5s/%s  requests %d  rate %.1f/s  p99 %.1fms  errors %d (%.1f%%)\n",
		elapsed.Round(time.Second), c.plan.Duration, s.n, rate, usToMs(s.lat.ValueAtQuantile(99)), errs, pct)
}
