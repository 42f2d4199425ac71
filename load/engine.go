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
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	vegeta "github.com/tsenart/vegeta/v12/lib"
	"golang.org/x/oauth2"

	"github.com/xoneharness/xoneharness/internal/auth"
	"github.com/xoneharness/xoneharness/internal/egress"
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
	// Gate is the egress gate every request passes (production refused, rate
	// ceiling off loopback, no redirects); Run uses a transport of it with its
	// own connection limits. Default: egress.Default with Transport's TLS
	// settings.
	Gate *egress.Gate
	// Transport, optional, carries TLS settings when Gate is nil; otherwise it
	// is ignored.
	Transport *http.Transport
	// OutDir receives results.bin and bookings.csv (created if missing). Required.
	OutDir string
	// Ledger, when set, receives the run's bookings.csv rows instead of a new
	// ledger in OutDir (a run whose contract stage already wrote rows); Run
	// flushes it but does not close it.
	Ledger *Ledger
	// Progress, when set, receives one progress line per second.
	Progress io.Writer
	// Registerer, when set, gets the run's Prometheus collectors (see Metrics).
	Registerer prometheus.Registerer
	// Now stamps StartedAt, FinishedAt, bookings' confirmed_at and parses
	// Retry-After dates; default time.Now. Pacing uses the monotonic clock.
	Now func() time.Time
}

// InterruptGrace is how long in-flight requests may finish after Run's
// context is cancelled before they are cancelled too (capped at
// Plan.Timeout): short, so that the process exits within a second of the
// signal. A request cut off then is in the ledger as "unknown".
const InterruptGrace = 400 * time.Millisecond

// maxBody is how much of each response body is read (for booking ids and
// validation); longer bodies count as truncated.
const maxBody = 1 << 20

// ErrFeed marks an error from Run about the offer feed's first row (a
// malformed row, an offer an earlier run confirmed): nothing was sent. A bad
// row later in the feed ends the run instead (its stop reason names the
// line). Test with errors.Is; it is the user's input, not the target.
var ErrFeed = errors.New("load: offer feed")

// Run executes the plan against the target and returns its result. It fetches the
// first token before the attack (an error then is returned: nothing was sent),
// streams every result to OutDir/results.bin and every booking to
// OutDir/bookings.csv as it arrives, and never holds all results in memory.
//
// Cancelling ctx stops the attack at once: no new request is sent, in-flight
// requests get InterruptGrace (at most Plan.Timeout) to finish so their
// bookings are recorded, then are cancelled; the files are completed and the
// result has Interrupted set and a nil error. Thresholds from the plan are
// evaluated into the result. A returned error means a bad configuration or an I/O failure.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	e, err := newEngine(cfg)
	if err != nil {
		return nil, err
	}
	return e.run(ctx)
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

	tokenErr     atomic.Pointer[string] // first token error during the attack
	abandoning   atomic.Bool            // the interrupt's grace is over: requests still in flight are cut off
	starvedSends atomic.Uint64          // sends that waited more than lateThreshold for the offer feed
	primed       atomic.Pointer[Offer]  // a stream's first offer, read before the attack started
	stopOnce     sync.Once
	stopCh       chan struct{}
	stopReason   atomic.Pointer[string]
	attacker     *vegeta.Attacker
	pacer        *runPacer

	// Owned by the consumer goroutine.
	stats       *stats
	results     *resultsWriter
	bookings    *Ledger
	ownLedger   bool // bookings was opened by Run, which closes it
	metrics     *Metrics
	invalidated map[string]time.Time // access tokens already invalidated, and when
	invalidN    int64
	rejected    int // tokens rejected in a row
	sampleAcc   float64
	lateEWMA    time.Duration // smoothed lateness of sends, for validation to yield
	pauses      PauseStats
	truncated   uint64
	planned     uint64
	// undocumented counts responses whose status the document does not list.
	undocumented uint64
	// undocumentedStatus[c] is whether the document leaves status c out,
	// looked up once so the per-response check is an index (nil: no spec).
	undocumentedStatus []bool

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
		urlPrefix:   strings.TrimRight(cfg.BaseURL, "/") + xone.ConfirmPrefix(cfg.PartnerID),
		bodyPrefix:  []byte(`{"quotes":[{"id":"`),
		bodySuffix:  append(append([]byte(`"}],"policyholder":`), phc...), '}'),
		inflight:    map[string]flight{},
		stopCh:      make(chan struct{}),
		invalidated: map[string]time.Time{},
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

// stop ends the attack with reason (the first reason wins). Unless the plan
// ran to its end, a streamed feed is closed, so that workers waiting for its
// source return at once.
func (e *engine) stop(reason string) {
	e.stopOnce.Do(func() {
		e.stopReason.Store(&reason)
		close(e.stopCh)
		// A plan that ran to its end still hands offers to the sends already
		// ticked; any other stop unblocks workers waiting for a slow source.
		if sf, ok := e.cfg.Feed.(StreamFeed); ok && reason != stopCompleted && reason != stopMaxRequests {
			_ = sf.Close()
		}
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
	// The first token is fetched before anything is written, but an interrupt
	// does not wait for a slow token endpoint: the run ends at once, having
	// sent nothing.
	if err := e.firstToken(ctx); err != nil {
		if ctx.Err() != nil {
			res.StopReason, res.Interrupted = stopInterrupted, true
			res.StartedAt, res.FinishedAt = e.now().UTC(), e.now().UTC()
			EvaluateThresholds(res, e.thresholds)
			return res, nil
		}
		return nil, fmt.Errorf("load: fetch first token: %w", err)
	}
	// A stream's first row may come a moment after the process starts (a
	// generator piped in): wait for it before the clock starts, so that the
	// attack's first sends are not late for want of an offer. A feed whose
	// first row is bad (malformed, already confirmed) sends nothing.
	if sf, ok := e.cfg.Feed.(StreamFeed); ok {
		unwatch := context.AfterFunc(ctx, func() { _ = sf.Close() })
		o, _, ok := sf.NextWait()
		unwatch()
		switch {
		case ok:
			e.primed.Store(&o)
		case sf.Err() != nil:
			return nil, fmt.Errorf("%w: %w", ErrFeed, sf.Err())
		}
	}
	if err := os.MkdirAll(e.cfg.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("load: output directory: %w", err)
	}
	var err error
	if e.results, err = newResultsWriter(e.cfg.OutDir); err != nil {
		return nil, err
	}
	e.bookings = e.cfg.Ledger
	if e.bookings == nil {
		if e.bookings, err = OpenLedger(e.cfg.OutDir); err != nil {
			_ = e.results.close()
			return nil, err
		}
		e.ownLedger = true
	}
	closeFiles := func() error {
		err := e.results.close()
		if e.ownLedger {
			return errors.Join(err, e.bookings.Close())
		}
		return errors.Join(err, e.bookings.Flush())
	}
	if e.cfg.Registerer != nil {
		if e.metrics, err = NewMetrics(e.cfg.Registerer); err != nil {
			_ = closeFiles()
			return nil, err
		}
		e.metrics.rateRequested.Set(e.sched.rate(0))
	}
	e.stats = newStats(5)
	if e.cfg.Spec != nil {
		e.undocumentedStatus = make([]bool, 1000)
		for c := range e.undocumentedStatus {
			e.undocumentedStatus[c] = !e.cfg.Spec.Documents(c)
		}
	}
	e.startValidators()

	feedCap := int64(e.cfg.Feed.Left())
	e.planned = e.sched.count(e.plan.Duration)
	if e.plan.MaxRequests > 0 {
		e.planned = min(e.planned, e.plan.MaxRequests)
	}
	if feedCap >= 0 {
		e.planned = min(e.planned, uint64(feedCap))
	}
	// In-flight requests are cancelled through hardCtx: at once when the run
	// ends, InterruptGrace after ctx is cancelled.
	hardCtx, hardCancel := context.WithCancel(context.Background())
	defer hardCancel()
	runCtx, runCancel := context.WithCancel(ctx)
	defer runCancel()
	// The attacker exists before anything can stop the run: stop reads it.
	e.pacer = newRunPacer(e.sched, e.plan.Duration, e.plan.MaxRequests, feedCap, e.stopCh, e.stop)
	e.attacker = vegeta.NewAttacker(
		vegeta.Client(e.client(hardCtx)),
		vegeta.Workers(e.plan.Workers),
		vegeta.MaxWorkers(e.plan.MaxWorkers),
		vegeta.MaxBody(maxBody),
		vegeta.Redirects(vegeta.NoFollow),
	)
	if pf, ok := e.cfg.Tokens.(interface{ Prefetch(context.Context) }); ok {
		go pf.Prefetch(runCtx)
	}
	var interrupted atomic.Bool
	go func() {
		select {
		case <-ctx.Done():
			interrupted.Store(true)
			e.stop(stopInterrupted)
			t := time.AfterFunc(min(InterruptGrace, e.plan.Timeout), func() {
				e.abandoning.Store(true) // before the connections close
				hardCancel()
			})
			<-hardCtx.Done()
			t.Stop()
		case <-hardCtx.Done():
		}
	}()
	if ctx.Err() != nil {
		interrupted.Store(true)
		e.stop(stopInterrupted)
	}

	res.StartedAt = e.now().UTC()
	began := time.Now()
	e.stats.timeline.origin = began // the timeline counts seconds from the attack's start
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
			// The ledger and results.bin reach the disk on the same cadence:
			// a killed run loses at most this interval of either. Errors are
			// kept and returned at the end.
			_ = e.bookings.Flush()
			_ = e.results.flush()
			e.sendBatch(false)
		case <-tick.C:
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
	res.StatusUndocumented = e.undocumented
	res.Schema.Skipped = e.vSkipped.Load()
	res.Schema.TruncatedBodies = e.truncated
	res.RetryAfterPauses = e.pauses
	if sf, ok := e.cfg.Feed.(StreamFeed); ok {
		total, waits := sf.Starved()
		res.FeedStarved = FeedStarvation{Ms: round(total.Seconds()*1e3, 3), Waits: waits, LateSends: e.starvedSends.Load()}
	}
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
	if err := closeFiles(); err != nil {
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
