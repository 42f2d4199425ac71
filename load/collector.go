package load

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	vegeta "github.com/tsenart/vegeta/v12/lib"
	"golang.org/x/oauth2"

	"github.com/xoneharness/xoneharness/internal/fsx"
	"github.com/xoneharness/xoneharness/ledger"
	"github.com/xoneharness/xoneharness/spec"
)

// collector accounts for every result on the one goroutine that reads
// vegeta's results: no locks.
type collector struct {
	plan       Plan
	now        func() time.Time
	stats      *stats
	results    *resultsWriter
	journal    *ledger.Journal
	metrics    *metrics
	targeter   *targeter
	pacer      *runPacer
	validators *validatorPool
	evidence   *evidence
	rejections rejections
	pauses     PauseStats
	events     io.Writer   // nil: none
	abandoning atomic.Bool // set when an interrupt cuts the requests in flight off

	undocumented  []bool // undocumented[c]: the document leaves status c out (nil: no spec)
	undocumentedN uint64
	truncated     uint64
	sampleAcc     float64
}

// startValidation looks the documented statuses up and starts the validators.
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
	var err error
	c.validators, err = newValidatorPool(s, urlPrefix, c.metrics, c.attackNeedsCPU)
	return err
}

// attackNeedsCPU tells the validator to wait (see validateQueue): while
// goroutines of the process wait for a processor, even with every send on
// time, since at the max rate a validation started then makes the next
// sends late. With a single processor, which the validator always shares
// with the sends (something is nearly always waiting for it under load), it
// waits only while the sends also run late.
func (c *collector) attackNeedsCPU() bool {
	return shortOfCPU() && (runtime.GOMAXPROCS(0) > 1 || c.pacer.late.Load())
}

// authMaxRejected is how many tokens in a row the target may reject (401)
// before the run stops (see rejections.reject).
const authMaxRejected = 3

// add accounts for one result.
func (c *collector) add(r *vegeta.Result) {
	if r.Method == "" {
		return // the targeter failed: no request was sent
	}
	fl := c.targeter.landed(r.URL)
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
	c.journal.Resolve(outcomeRow(fl.offer, int(r.Code), r.Error, r.Body))
	evidence := func() EvidenceRow { return c.evidence.row(r, fl.offer.OfferID, corrected) }
	c.evidence.slow(corrected, evidence)
	if class != class2xx && !strings.HasPrefix(r.Error, abandonedPrefix) { // a cut-off says nothing of the target
		row := evidence()
		row.Error = normaliseError(r.Error)
		c.evidence.fail(row)
	}
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
	case len(r.Body) < maxBody && c.validators != nil: // a truncated body cannot be validated
		if c.sampleAcc += c.plan.ValidateSample; c.sampleAcc >= 1 {
			c.sampleAcc--
			c.validators.submit(validateJob{seq: r.Seq, status: int(r.Code), header: r.Headers, body: r.Body,
				evidence: evidence})
		}
	}
	if class != class401 {
		c.rejections.accepted(fl.tok, r.Timestamp)
	}
}

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

// outcomeRow is the journal row of a confirm of o (status 0: no answer).
func outcomeRow(o Offer, status int, errMsg string, body []byte) ledger.Row {
	row := ledger.Row{OfferID: o.OfferID, QuoteID: o.QuoteID, Outcome: ledger.OutcomeOf(status), Status: status}
	switch row.Outcome {
	case ledger.Booked:
		row.BookingID = ledger.BookingID(body)
	case ledger.Unknown: // sent, and not refused: it may have booked
		row.Error = normaliseError(cmp.Or(errMsg, "HTTP "+strconv.Itoa(status)))
	}
	return row
}

// retryAfter pauses the pacer for a 429's Retry-After and says so.
func (c *collector) retryAfter(r *vegeta.Result) {
	raw := r.Headers.Get("Retry-After")
	d, ok := parseRetryAfter(raw, c.now())
	if !ok || d <= 0 {
		return
	}
	if c.plan.IgnoreRetryAfter {
		c.pauses.Ignored++
		return
	}
	now := time.Now()
	newWindow, added := c.pacer.pause(now, now.Add(d))
	p := &c.pauses
	if added > 0 {
		p.TotalMs = round(p.TotalMs+added.Seconds()*1e3, 3)
		p.MaxMs = max(p.MaxMs, ms(d))
	}
	if !slices.Contains(p.Values, raw) && len(p.Values) < 10 { // PauseStats.Values
		p.Values = append(p.Values, raw)
	}
	if !newWindow {
		return
	}
	p.Count++
	if c.metrics != nil {
		c.metrics.pauses.Inc()
	}
	if c.events != nil {
		fmt.Fprintf(c.events, "pause: 429 with Retry-After %q: sending paused for %s (until %s)\n",
			raw, d, now.Add(d).UTC().Format("15:04:05"))
	}
}

// rejections tracks the tokens the target rejected (401).
type rejections struct {
	invalidated map[string]time.Time // access tokens already invalidated, and when
	count       int64                // invalidations requested
	inARow      int                  // tokens rejected in a row
}

// reject accounts for a 401 to a request sent at sent with tok, invalidating
// it once, and reports whether authMaxRejected tokens in a row were rejected.
// A 401 to a request sent before tok was invalidated says nothing new.
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

func (c *collector) progress(w io.Writer, elapsed time.Duration) {
	if w == nil {
		return
	}
	s, errs := c.stats, c.stats.n-c.stats.classCount[class2xx]
	fmt.Fprintf(w, "load %5s/%s  requests %d  rate %.1f/s  p99 %.1fms  errors %d (%.1f%%)\n",
		elapsed.Round(time.Second), c.plan.Duration, s.n, ratio(float64(s.n), elapsed.Seconds()),
		usToMs(s.lat.ValueAtQuantile(99)), errs, 100*ratio(float64(errs), float64(s.n)))
}

// ratio is a/b, or 0 when b is not positive.
func ratio(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return a / b
}

// ResultsFile is the name of a run's raw results in its output directory.
const ResultsFile = "results.bin"

// resultsWriter streams results to results.bin without bodies or headers.
type resultsWriter struct {
	f   *os.File
	buf *bufio.Writer
	enc vegeta.Encoder
	err error
	hdr http.Header // reused for every result: the encoder does not keep it
	val []string    // hdr[IntendedHeader]
}

// newResultsWriter creates dir/results.bin exclusively (never through a
// symbolic link): an earlier run's results are never truncated.
func newResultsWriter(dir string) (*resultsWriter, error) {
	f, err := fsx.CreateExclusive(filepath.Join(dir, ResultsFile), 0o644)
	if err != nil {
		return nil, fmt.Errorf("load: results: %w", err)
	}
	buf := bufio.NewWriterSize(f, 64<<10)
	val := make([]string, 1)
	return &resultsWriter{f: f, buf: buf, enc: vegeta.NewEncoder(buf), hdr: http.Header{IntendedHeader: val}, val: val}, nil
}

// write encodes r with Headers replaced by the intended send time.
func (w *resultsWriter) write(r *vegeta.Result, intended time.Time) {
	if w.err != nil {
		return
	}
	out := *r
	out.Body = nil
	w.val[0] = strconv.FormatInt(intended.UnixNano(), 10)
	out.Headers = w.hdr
	if err := w.enc.Encode(&out); err != nil {
		w.err = fmt.Errorf("load: write %s: %w", ResultsFile, err)
	}
}

// resultsFlushEvery bounds what a killed run's results.bin lacks (its last
// record may be cut; MergeResults reads up to it).
const resultsFlushEvery = 10 * time.Millisecond

func (w *resultsWriter) flush() error {
	if w.err == nil {
		if err := w.buf.Flush(); err != nil {
			w.err = fmt.Errorf("load: write %s: %w", ResultsFile, err)
		}
	}
	return w.err
}

func (w *resultsWriter) close() error {
	err := w.flush()
	if cerr := w.f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("load: close %s: %w", ResultsFile, cerr)
	}
	return err
}

// metrics are the live Prometheus collectors of a run, labelled by class or
// outcome; a second run on the same registry keeps accumulating them.
type metrics struct {
	requests      [nClasses]prometheus.Counter
	latency       [nClasses]prometheus.Observer
	service       [nClasses]prometheus.Observer
	late          prometheus.Counter
	pauses        prometheus.Counter
	violations    prometheus.Counter
	validations   *prometheus.CounterVec
	rateRequested prometheus.Gauge
}

// newMetrics registers the load collectors on reg:
//
//	xoneharness_load_requests_total{class}                 counter
//	xoneharness_load_latency_seconds{class}                histogram, from the intended send time
//	xoneharness_load_service_time_seconds{class}           histogram, from the actual send
//	xoneharness_load_late_sends_total                      counter, sends > 1 ms behind schedule
//	xoneharness_load_retry_after_pauses_total              counter
//	xoneharness_load_schema_validations_total{outcome}     counter
//	xoneharness_load_schema_violations_total               counter
//	xoneharness_load_rate_requested                        gauge, per second at the start
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	var err error
	counter := func(name, help string) prometheus.Counter {
		return register(reg, prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help}), &err)
	}
	buckets := prometheus.ExponentialBuckets(0.001, 2, 16) // 1 ms … 32 s
	histogram := func(name, help string) *prometheus.HistogramVec {
		return register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, []string{"class"}), &err)
	}
	counterVec := func(name, help, label string) *prometheus.CounterVec {
		return register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{label}), &err)
	}
	reqs := counterVec("xoneharness_load_requests_total", "Confirm requests sent, by outcome class.", "class")
	lat := histogram("xoneharness_load_latency_seconds", "Confirm latency from the intended send time (coordinated-omission corrected), by class.")
	svc := histogram("xoneharness_load_service_time_seconds", "Confirm latency from the actual send, by class.")
	m := &metrics{
		late:        counter("xoneharness_load_late_sends_total", "Requests sent more than 1 ms after their intended time."),
		pauses:      counter("xoneharness_load_retry_after_pauses_total", "Pacer pauses caused by 429 Retry-After."),
		violations:  counter("xoneharness_load_schema_violations_total", "Schema violations found in sampled responses."),
		validations: counterVec("xoneharness_load_schema_validations_total", "Sampled responses validated, by outcome.", "outcome"),
		rateRequested: register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "xoneharness_load_rate_requested", Help: "Requested rate per second at the start of the run.",
		}), &err),
	}
	if err != nil {
		return nil, err
	}
	for c := range nClasses {
		m.requests[c] = reqs.WithLabelValues(classNames[c])
		m.latency[c] = lat.WithLabelValues(classNames[c])
		m.service[c] = svc.WithLabelValues(classNames[c])
	}
	return m, nil
}

// register registers c, or returns the collector already registered in its
// place; after the first error (kept in *errp) it registers nothing.
func register[C prometheus.Collector](reg prometheus.Registerer, c C, errp *error) C {
	if *errp != nil {
		return c
	}
	if err := reg.Register(c); err != nil {
		if are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); ok {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		*errp = fmt.Errorf("load: metrics: %w", err)
	}
	return c
}
