package load

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	vegeta "github.com/tsenart/vegeta/v12/lib"
	"golang.org/x/oauth2"

	"github.com/xoneharness/xoneharness/internal/auth"
	"github.com/xoneharness/xoneharness/internal/xone"
	"github.com/xoneharness/xoneharness/spec"
)

// TokenSource hands out bearer tokens (cached; *auth.Source implements it).
// Invalidate is called once per token after the target answers 401 to it. If the
// source also has a Prefetch(context.Context) method, Run runs it for the length
// of the attack so that refreshes happen ahead of expiry.
type TokenSource interface {
	Token() (*oauth2.Token, error)
	Invalidate(*oauth2.Token)
}

// Config is everything Run needs besides the context.
type Config struct {
	// Plan is the run's plan; Run applies WithDefaults and Validate.
	Plan Plan
	// BaseURL is the target, e.g. https://sandbox.example.com (no trailing path).
	// Run does not apply CheckTarget: the caller does.
	BaseURL string
	// PartnerID is the partner id in the confirm path.
	PartnerID string
	// Tokens supplies bearer tokens. Required.
	Tokens TokenSource
	// TokenStats, optional, reports token fetch counters; the result holds the
	// difference over the run.
	TokenStats func() auth.Stats
	// Feed supplies the offers. Required.
	Feed Feed
	// Policyholder is the policyholder JSON object sent with every confirm; nil
	// sends a demo one (Ada Lovelace, ada@example.com, Sydney).
	Policyholder json.RawMessage
	// Spec, when set, validates Plan.ValidateSample of the responses.
	Spec *spec.Spec
	// Transport, optional, carries TLS settings; Run uses a clone with its own
	// connection limits. Default: a clone of http.DefaultTransport.
	Transport *http.Transport
	// OutDir receives results.bin and bookings.csv (created if missing). Required.
	OutDir string
	// Progress, when set, receives one progress line per second.
	Progress io.Writer
	// Registerer, when set, gets the run's Prometheus collectors (see Metrics).
	Registerer prometheus.Registerer
	// Now stamps StartedAt, FinishedAt, bookings' confirmed_at and parses
	// Retry-After dates; default time.Now. Pacing uses the monotonic clock.
	Now func() time.Time
}

const (
	// maxBody is how much of each response body is read (for booking ids and
	// validation); longer bodies count as truncated.
	maxBody = 1 << 20
	// interruptGrace is how long in-flight requests may finish after ctx is
	// cancelled before they are cancelled too (their bookings still reach the
	// ledger); capped at Plan.Timeout.
	interruptGrace = 2 * time.Second
	// authWindow and authMaxBad: stop when more than authMaxBad of the last
	// authWindow responses are 401.
	authWindow = 100
	authMaxBad = 5
	// maxSchemaDetails is how many violations the result keeps in detail.
	maxSchemaDetails = 20
)

var (
	errFeedExhausted = errors.New("load: offer feed exhausted")
	errTokenSource   = errors.New("load: token source failing")
	jsonCT           = []string{"application/json"} // read-only: shared by every request's header
)

// Run executes the plan against the target and returns its result. It fetches the
// first token before the attack (an error then is returned: nothing was sent),
// streams every result to OutDir/results.bin and every booking to
// OutDir/bookings.csv as it arrives, and never holds all results in memory.
//
// Cancelling ctx stops the attack at once: no new request is sent, in-flight
// requests get up to 2 s (at most Plan.Timeout) to finish so their bookings are
// recorded, then are cancelled; the files are completed and the result has
// Interrupted set and a nil error. Thresholds from the plan are evaluated into
// the result. A returned error means a bad configuration or an I/O failure.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	e, err := newEngine(cfg)
	if err != nil {
		return nil, err
	}
	return e.run(ctx)
}

type flight struct {
	offer Offer
	tok   *oauth2.Token
}

type authHeader struct {
	tok *oauth2.Token
	hdr []string
}

type validateJob struct {
	seq    uint64
	status int
	header http.Header
	body   []byte
}

type engine struct {
	cfg        Config
	plan       Plan
	thresholds []Threshold
	sched      schedule
	now        func() time.Time

	urlPrefix              string
	bodyPrefix, bodySuffix []byte
	idemHeader, idemPrefix string
	idemSeq                atomic.Uint64
	auth                   atomic.Pointer[authHeader]

	mu       sync.Mutex
	inflight map[string]flight

	tokenErr   atomic.Pointer[string] // first token error during the attack
	stopOnce   sync.Once
	stopCh     chan struct{}
	stopReason atomic.Pointer[string]
	attacker   *vegeta.Attacker
	pacer      *runPacer

	// Owned by the consumer goroutine.
	stats       *stats
	results     *resultsWriter
	bookings    *bookingsWriter
	metrics     *Metrics
	invalidated map[string]struct{} // access tokens already invalidated
	invalidN    int64
	authRing    [authWindow]bool
	authPos     int
	authBad     int
	authSeen    int
	sampleAcc   float64
	pauses      PauseStats
	truncated   uint64
	planned     uint64

	// Validation.
	tmplReq  *http.Request
	jobs     chan []validateJob // batches: one hand-off, and at most one wake-up, per batch
	batch    []validateJob      // the consumer's batch being filled
	vwg      sync.WaitGroup
	vmu      sync.Mutex
	schema   SchemaStats
	vSkipped atomic.Uint64
}

func newEngine(cfg Config) (*engine, error) {
	plan := cfg.Plan.WithDefaults()
	if err := plan.Validate(); err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	switch {
	case cfg.Tokens == nil:
		return nil, errors.New("load: config: a token source is required")
	case cfg.Feed == nil:
		return nil, errors.New("load: config: an offer feed is required")
	case cfg.OutDir == "":
		return nil, errors.New("load: config: an output directory is required")
	case cfg.PartnerID == "" || checkID(cfg.PartnerID) != nil:
		return nil, fmt.Errorf("load: config: partner id %q: want letters, digits and -._~", cfg.PartnerID)
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("load: config: base URL %q: want http(s)://host", cfg.BaseURL)
	}
	ts, err := plan.ParsedThresholds()
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	sched, err := plan.schedule()
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	ph := cfg.Policyholder
	if ph == nil {
		ph = json.RawMessage(xone.DemoPolicyholder)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(ph, &obj); err != nil {
		return nil, fmt.Errorf("load: config: policyholder must be a JSON object: %w", err)
	}
	phc, err := json.Marshal(obj) // compact, canonical
	if err != nil {
		return nil, fmt.Errorf("load: config: policyholder: %w", err)
	}
	e := &engine{
		cfg: cfg, plan: plan, thresholds: ts, sched: sched, now: cfg.Now,
		urlPrefix:   strings.TrimRight(cfg.BaseURL, "/") + "/api/partners/" + cfg.PartnerID + "/offers/",
		bodyPrefix:  []byte(`{"quotes":[{"id":"`),
		bodySuffix:  append(append([]byte(`"}],"policyholder":`), phc...), '}'),
		inflight:    map[string]flight{},
		stopCh:      make(chan struct{}),
		invalidated: map[string]struct{}{},
	}
	if e.now == nil {
		e.now = time.Now
	}
	if plan.IdempotencyHeader != "" {
		var b [6]byte
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
		e.idemHeader = http.CanonicalHeaderKey(plan.IdempotencyHeader)
		e.idemPrefix = "xoneharness-" + hex.EncodeToString(b[:]) + "-"
	}
	return e, nil
}

// stop ends the attack with reason (the first reason wins).
func (e *engine) stop(reason string) {
	e.stopOnce.Do(func() {
		e.stopReason.Store(&reason)
		close(e.stopCh)
		if e.attacker != nil {
			e.attacker.Stop()
		}
	})
}

func (e *engine) run(ctx context.Context) (*Result, error) {
	res := &Result{Plan: e.plan, Target: e.cfg.BaseURL}
	var tokBefore auth.Stats
	if e.cfg.TokenStats != nil {
		tokBefore = e.cfg.TokenStats()
	}
	if _, err := e.cfg.Tokens.Token(); err != nil {
		return nil, fmt.Errorf("load: fetch first token: %w", err)
	}
	if err := os.MkdirAll(e.cfg.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("load: output directory: %w", err)
	}
	var err error
	if e.results, err = newResultsWriter(e.cfg.OutDir); err != nil {
		return nil, err
	}
	if e.bookings, err = newBookingsWriter(e.cfg.OutDir); err != nil {
		_ = e.results.close()
		return nil, err
	}
	if e.cfg.Registerer != nil {
		if e.metrics, err = NewMetrics(e.cfg.Registerer); err != nil {
			_ = e.results.close()
			_ = e.bookings.close()
			return nil, err
		}
		e.metrics.rateRequested.Set(e.sched.rate(0))
	}
	e.stats = newStats(5)
	e.startValidators()

	// In-flight requests are cancelled through hardCtx: at once when the run
	// ends, interruptGrace after ctx is cancelled.
	hardCtx, hardCancel := context.WithCancel(context.Background())
	defer hardCancel()
	runCtx, runCancel := context.WithCancel(ctx)
	defer runCancel()
	if pf, ok := e.cfg.Tokens.(interface{ Prefetch(context.Context) }); ok {
		go pf.Prefetch(runCtx)
	}
	var interrupted atomic.Bool
	go func() {
		select {
		case <-ctx.Done():
			interrupted.Store(true)
			e.stop(stopInterrupted)
			t := time.AfterFunc(min(interruptGrace, e.plan.Timeout), hardCancel)
			<-hardCtx.Done()
			t.Stop()
		case <-hardCtx.Done():
		}
	}()

	feedCap := int64(e.cfg.Feed.Left())
	e.planned = e.sched.count(e.plan.Duration)
	if e.plan.MaxRequests > 0 {
		e.planned = min(e.planned, e.plan.MaxRequests)
	}
	if feedCap >= 0 {
		e.planned = min(e.planned, uint64(feedCap))
	}
	e.pacer = newRunPacer(e.sched, e.plan.Duration, e.plan.MaxRequests, feedCap, e.stopCh, e.stop)
	e.attacker = vegeta.NewAttacker(
		vegeta.Client(e.client(hardCtx)),
		vegeta.Workers(e.plan.Workers),
		vegeta.MaxWorkers(e.plan.MaxWorkers),
		vegeta.MaxBody(maxBody),
		vegeta.Redirects(vegeta.NoFollow),
	)
	if ctx.Err() != nil {
		e.stop(stopInterrupted)
		interrupted.Store(true)
	}

	res.StartedAt = e.now().UTC()
	began := time.Now()
	var results <-chan *vegeta.Result
	select {
	case <-e.stopCh: // interrupted before the start
		ch := make(chan *vegeta.Result)
		close(ch)
		results = ch
	default:
		results = e.attacker.Attack(vegeta.Targeter(e.target), e.pacer, 0, "xoneharness")
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	flushBookings := time.NewTicker(bookingsFlushEvery)
	defer flushBookings.Stop()
loop:
	for {
		select {
		case r, ok := <-results:
			if !ok {
				break loop
			}
			e.process(r)
		case <-flushBookings.C:
			_ = e.bookings.flush() // an error is kept and returned by close
			e.sendBatch(false)
		case <-tick.C:
			_ = e.results.flush()
			e.progress(time.Since(began))
			e.checkAbort()
		}
	}
	elapsed := time.Since(began)
	e.stop(stopCompleted) // no-op unless the attacker ended on its own
	hardCancel()
	runCancel()
	e.sendBatch(true)
	close(e.jobs)
	e.vwg.Wait()
	res.FinishedAt = e.now().UTC()
	e.progress(elapsed)

	e.stats.fill(res)
	res.DurationSeconds = round(elapsed.Seconds(), 3)
	res.RateRequested = round(e.requestedRate(), 3)
	res.Offers.Left = e.cfg.Feed.Left()
	res.StopReason = *e.stopReason.Load()
	res.Interrupted = interrupted.Load()
	e.vmu.Lock()
	res.Schema = e.schema
	e.vmu.Unlock()
	res.Schema.Skipped = e.vSkipped.Load()
	res.Schema.TruncatedBodies = e.truncated
	res.RetryAfterPauses = e.pauses
	res.Tokens.Invalidations = e.invalidN
	if msg := e.tokenErr.Load(); msg != nil {
		res.Errors = append(res.Errors, ErrorCount{Message: "token source: " + *msg, Count: 1})
	}
	if e.cfg.TokenStats != nil {
		after := e.cfg.TokenStats()
		res.Tokens.Fetches = after.Fetches - tokBefore.Fetches
		res.Tokens.Failures = after.Failures - tokBefore.Failures
		if res.Tokens.Fetches > 0 {
			res.Tokens.MeanMs = round((after.TotalFetchTime-tokBefore.TotalFetchTime).Seconds()*1e3/float64(res.Tokens.Fetches), 3)
		}
		res.Tokens.MaxMs = round(after.MaxFetchTime.Seconds()*1e3, 3)
	}
	EvaluateThresholds(res, e.thresholds)
	if err := errors.Join(e.results.close(), e.bookings.close()); err != nil {
		return res, err
	}
	return res, nil
}

// requestedRate is the plan's mean rate over its duration.
func (e *engine) requestedRate() float64 {
	if c, ok := e.sched.(constSchedule); ok {
		return c.rate(0)
	}
	return float64(e.sched.count(e.plan.Duration)) / e.plan.Duration.Seconds()
}

// client is the attacker's HTTP client: a clone of the configured transport with
// the run's limits, whose connections all close when hardCtx ends.
func (e *engine) client(hardCtx context.Context) *http.Client {
	var tr *http.Transport
	if e.cfg.Transport != nil {
		tr = e.cfg.Transport.Clone()
	} else {
		tr = http.DefaultTransport.(*http.Transport).Clone()
	}
	tr.MaxIdleConnsPerHost = int(e.plan.Connections)
	tr.MaxIdleConns = int(e.plan.Connections)
	conns := newConnTracker()
	conns.track(tr)
	context.AfterFunc(hardCtx, conns.stop)
	return &http.Client{
		Transport:     tr,
		Timeout:       e.plan.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// target is the vegeta.Targeter: one fresh offer per request, the body spliced
// from pre-rendered bytes, the cached bearer token.
func (e *engine) target(t *vegeta.Target) error {
	tok, err := e.cfg.Tokens.Token()
	if err != nil {
		msg := err.Error()
		e.tokenErr.CompareAndSwap(nil, &msg)
		e.stop(stopTokens)
		return fmt.Errorf("%w: %w", errTokenSource, err)
	}
	o, ok := e.cfg.Feed.Next()
	if !ok {
		e.stop(stopExhausted)
		return errFeedExhausted
	}
	ah := e.auth.Load()
	if ah == nil || ah.tok != tok {
		ah = &authHeader{tok: tok, hdr: []string{tok.Type() + " " + tok.AccessToken}}
		e.auth.Store(ah)
	}
	t.Method = http.MethodPost
	t.URL = e.urlPrefix + o.OfferID + "/confirm"
	body := make([]byte, 0, len(e.bodyPrefix)+len(o.QuoteID)+len(e.bodySuffix))
	body = append(body, e.bodyPrefix...)
	body = append(body, o.QuoteID...)
	t.Body = append(body, e.bodySuffix...)
	h := make(http.Header, 4)
	h["Content-Type"], h["Accept"], h["Authorization"] = jsonCT, jsonCT, ah.hdr
	if e.idemHeader != "" {
		h[e.idemHeader] = []string{e.idemPrefix + strconv.FormatUint(e.idemSeq.Add(1), 10)}
	}
	t.Header = h
	e.mu.Lock()
	e.inflight[o.OfferID] = flight{offer: o, tok: tok}
	e.mu.Unlock()
	return nil
}

// process accounts for one result; it runs on the consumer goroutine only.
func (e *engine) process(r *vegeta.Result) {
	if r.Method == "" {
		return // the targeter failed: no request was sent
	}
	offerID := strings.TrimSuffix(strings.TrimPrefix(r.URL, e.urlPrefix), "/confirm")
	e.mu.Lock()
	fl, ok := e.inflight[offerID]
	delete(e.inflight, offerID)
	e.mu.Unlock()
	if !ok {
		fl.offer.OfferID = offerID
	}
	intended := e.pacer.intended(r.Seq, r.Timestamp)
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
		e.bookings.add(fl.offer, bookingID(r.Body), r.Code, e.now())
	case class401:
		if fl.tok != nil {
			if _, done := e.invalidated[fl.tok.AccessToken]; !done {
				if len(e.invalidated) > 1000 {
					clear(e.invalidated)
				}
				e.invalidated[fl.tok.AccessToken] = struct{}{}
				e.invalidN++
				e.cfg.Tokens.Invalidate(fl.tok)
			}
		}
	case class429:
		e.retryAfter(r)
	}
	if r.Code != 0 {
		if len(r.Body) < maxBody { // a truncated body cannot be validated
			e.sample(r)
		}
		bad := class == class401
		if e.authSeen == authWindow && e.authRing[e.authPos] {
			e.authBad--
		}
		e.authRing[e.authPos] = bad
		if bad {
			e.authBad++
		}
		e.authPos = (e.authPos + 1) % authWindow
		e.authSeen = min(e.authSeen+1, authWindow)
		if e.authBad > authMaxBad {
			e.stop(stopAuth)
		}
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

// sample hands the sampled fraction of responses to the validators in batches
// of validateBatch, sent when full and every bookingsFlushEvery.
func (e *engine) sample(r *vegeta.Result) {
	if e.jobs == nil || e.plan.ValidateSample <= 0 {
		return
	}
	e.sampleAcc += e.plan.ValidateSample
	if e.sampleAcc < 1 {
		return
	}
	e.sampleAcc--
	e.batch = append(e.batch, validateJob{seq: r.Seq, status: int(r.Code), header: r.Headers, body: r.Body})
	if len(e.batch) >= validateBatch {
		e.sendBatch(false)
	}
}

// validateBatch is the most responses handed to a validator at once. Handing
// them over one by one cost a channel send and often a goroutine wake-up each.
const validateBatch = 32

// sendBatch hands the batch to the validators. Unless block is set (and there
// are validators) it never blocks the consumer: when the validators are
// saturated the batch is skipped (and counted).
func (e *engine) sendBatch(block bool) {
	if len(e.batch) == 0 {
		return
	}
	if block && e.tmplReq != nil { // tmplReq is set when the validators start
		e.jobs <- e.batch
	} else {
		select {
		case e.jobs <- e.batch:
		default:
			e.vSkipped.Add(uint64(len(e.batch)))
		}
	}
	e.batch = make([]validateJob, 0, validateBatch) // the validators own the one sent
}

func (e *engine) startValidators() {
	if e.cfg.Spec == nil || e.plan.ValidateSample <= 0 {
		e.jobs = make(chan []validateJob) // closed at the end; never fed
		return
	}
	req, err := http.NewRequest(http.MethodPost, e.urlPrefix+"00000000-0000-4000-8000-000000000000/confirm", nil)
	if err != nil {
		e.jobs = make(chan []validateJob)
		return
	}
	req.Header["Content-Type"], req.Header["Accept"] = jsonCT, jsonCT
	e.tmplReq = req
	e.jobs = make(chan []validateJob, 1024/validateBatch)
	for range validators {
		e.vwg.Add(1)
		go func() {
			defer e.vwg.Done()
			for b := range e.jobs {
				for _, j := range b {
					e.validate(j)
				}
			}
		}()
	}
}

// validators is the number of validation goroutines.
const validators = 2

func (e *engine) validate(j validateJob) {
	vs := e.cfg.Spec.ValidateResponse(e.tmplReq, spec.Response{Status: j.status, Header: j.header, Body: j.body})
	e.vmu.Lock()
	defer e.vmu.Unlock()
	e.schema.Validated++
	e.schema.Violations += uint64(len(vs))
	for _, v := range vs {
		if len(e.schema.Details) >= maxSchemaDetails {
			break
		}
		e.schema.Details = append(e.schema.Details, SchemaViolation{
			Seq: j.seq, Status: j.status, Rule: v.Rule, Path: v.Path, Expected: v.Expected, Observed: v.Observed, Reason: v.Reason,
		})
	}
	if m := e.metrics; m != nil {
		if len(vs) > 0 {
			m.validations.WithLabelValues("violation").Inc()
			m.violations.Add(float64(len(vs)))
		} else {
			m.validations.WithLabelValues("valid").Inc()
		}
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

// checkAbort stops the attack when Plan.AbortOnFail is set and a threshold can
// no longer pass, whatever the remaining requests do.
func (e *engine) checkAbort() {
	if !e.plan.AbortOnFail || e.planned == 0 {
		return
	}
	for _, t := range e.thresholds {
		if e.cannotPass(t) {
			e.stop(stopThreshold + t.Expr)
			return
		}
	}
}

// cannotPass decides, for the metrics where it is possible, that t fails
// whatever the rest of the planned requests do.
func (e *engine) cannotPass(t Threshold) bool {
	s, planned := e.stats, float64(e.planned)
	upperBound := t.Op == "<" || t.Op == "<=" || t.Op == "=="
	exceeds := func(low float64) bool { // the final value is at least low
		return upperBound && (low > t.Value || (t.Op == "<" && low >= t.Value))
	}
	scale := 1.0
	if t.Unit == "%" {
		scale = 100
	}
	failures := float64(s.n - s.success)
	switch t.Metric {
	case "error_rate":
		return exceeds(scale * failures / planned)
	case "success_ratio":
		up := scale * (planned - failures) / planned
		return (t.Op == ">=" || t.Op == "==") && up < t.Value || t.Op == ">" && up <= t.Value
	case "max":
		return exceeds(usToMs(s.lat.Max()))
	case "mean", "min", "throughput", "rate_achieved":
		return false
	}
	kind, _, _ := lookupMetric(t.Metric)
	switch kind {
	case kindLatency:
		if !upperBound || t.Op == "==" {
			return false
		}
		q, _ := percentileOf(t.Metric)
		limitUs := int64(t.Value * 1e3)
		var above int64
		for _, b := range s.lat.Distribution() {
			if b.From >= limitUs {
				above += b.Count
			}
		}
		return float64(above) > (1-q/100)*planned
	case kindCount:
		if t.Metric == "schema_violations" {
			e.vmu.Lock()
			n := e.schema.Violations
			e.vmu.Unlock()
			return t.Unit == "" && exceeds(float64(n))
		}
		r := Result{Requests: s.n, LateSends: LateSends{Count: s.late}, StatusCodes: map[string]uint64{}}
		for code, n := range s.codes {
			r.StatusCodes[strconv.Itoa(int(code))] = n
		}
		n, _ := r.countOf(t.Metric)
		if t.Unit == "%" {
			return t.Metric != "requests" && exceeds(100*float64(n)/planned)
		}
		return t.Metric != "requests" && exceeds(float64(n))
	}
	return false
}
