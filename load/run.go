package load

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	vegeta "github.com/tsenart/vegeta/v12/lib"
	"golang.org/x/oauth2"

	"github.com/xoneharness/xoneharness/internal/auth"
	"github.com/xoneharness/xoneharness/internal/egress"
	"github.com/xoneharness/xoneharness/internal/race"
	"github.com/xoneharness/xoneharness/internal/xone"
	"github.com/xoneharness/xoneharness/ledger"
	"github.com/xoneharness/xoneharness/spec"
)

// Egress makes the HTTP transport and client of a run, and the connections
// of its race groups (one Admit of N sends each). *egress.Gate implements it
// with the safety rules; a caller that implements it owns those rules.
type Egress interface {
	// Transport returns a new transport the run may tune.
	Transport() *http.Transport
	// ClientFor returns a client that sends through tr with the given
	// timeout; a request waiting to be sent gives up when stop ends.
	ClientFor(tr *http.Transport, timeout time.Duration, stop context.Context) *http.Client
	race.Conns
}

// Config is everything Run needs besides the context.
type Config struct {
	// Plan is the run's plan (Run applies WithDefaults and Validate), BaseURL
	// the target (e.g. https://sandbox.example.com), PartnerID the partner id
	// in the confirm path.
	Plan      Plan
	BaseURL   string
	PartnerID string
	// Tokens supplies cached bearer tokens. Required. Its optional
	// Invalidate(*oauth2.Token) is told of each token the target rejected;
	// its optional Prefetch(context.Context) runs during the attack.
	Tokens oauth2.TokenSource
	// Offers supplies the offers (OpenOffers, GeneratedFeed). Required; Run
	// closes it when the run stops early.
	Offers Feed
	// Policyholder is the policyholder JSON object sent with every confirm;
	// nil sends xone.DemoPolicyholder.
	Policyholder json.RawMessage
	// Spec, when set, validates Plan.ValidateSample of the responses.
	Spec *spec.Spec
	// Egress makes the run's HTTP client and race connections; nil: a gate
	// with the defaults.
	Egress Egress
	// OutDir receives results.bin and, unless Journal is set, bookings.csv
	// (created if missing). Required.
	OutDir string
	// Journal records every confirm before it leaves (a caller may share one
	// between stages). nil: Run opens OutDir/bookings.csv, claiming offers in
	// the claims store of OutDir's parent unless Offers is a GeneratedFeed.
	Journal *ledger.Journal
	// Progress, when set, receives a progress line per second, Events a line
	// per Retry-After pause.
	Progress, Events io.Writer
	// Registerer, when set, gets the run's Prometheus collectors
	// (xoneharness_load_*).
	Registerer prometheus.Registerer
	// Now stamps the result and the journal's rows and parses Retry-After
	// dates (default time.Now); pacing uses the monotonic clock.
	Now func() time.Time
}

// interruptGrace is how long in-flight requests may finish after Run's
// context is cancelled (at most Plan.Timeout): short, so that the process
// exits within a second of the signal. maxBody is how much of each response
// body is read; longer bodies count as truncated.
const (
	interruptGrace = 400 * time.Millisecond
	maxBody        = 1 << 20
)

// ErrFeed marks an error from Run about the feed's first offer: nothing was
// sent (a bad row later ends the run, its stop reason naming the line).
var ErrFeed = errors.New("load: offer feed")

// ErrJournal marks an error from Run, returned with the result so far,
// because the journal could not be written: sending stopped at once.
var ErrJournal = errors.New("load: journal")

// Run executes the plan against the target and returns its result, the
// thresholds evaluated, every confirm in the journal before it leaves and
// every result in OutDir/results.bin. Cancelling ctx stops the attack at
// once: in-flight requests get 400 ms (at most Plan.Timeout) to finish; the
// result has Interrupted set and a nil error. An error means a bad
// configuration, the first token or offer, or an I/O failure.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	r, err := newRun(cfg)
	if err != nil {
		return nil, err
	}
	return r.execute(ctx)
}

// run is one execution of Run: its configuration, its parts and outputs.
type run struct {
	cfg        Config
	plan       Plan
	thresholds []Threshold
	sched      schedule
	now        func() time.Time
	urlPrefix  string
	body       xone.ConfirmBody
	stop       *stopper
	egress     Egress
	bearer     *bearer
	closers    []func() error // the outputs Run opened, closed at the end
	created    []string       // the files Run created

	targeter  *targeter
	collector *collector
	pacer     *runPacer
	race      *raceSender // nil without a race fraction
	attacker  *vegeta.Attacker
	hardStop  context.CancelFunc
	planned   uint64 // requests the plan sends when nothing stops it
	feedCap   int64  // offers the feed holds, -1 when unknown
}

func newRun(cfg Config) (*run, error) {
	plan := cfg.Plan.WithDefaults()
	if err := plan.Validate(); err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	switch {
	case cfg.Tokens == nil:
		return nil, errors.New("load: config: a token source is required")
	case cfg.Offers == nil:
		return nil, errors.New("load: config: an offer feed is required")
	case cfg.OutDir == "":
		return nil, errors.New("load: config: an output directory is required")
	}
	if err := xone.CheckID(cfg.PartnerID); err != nil {
		return nil, fmt.Errorf("load: config: partner id: %w", err)
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("load: config: base URL %q: want http(s)://host", cfg.BaseURL)
	}
	body, err := xone.NewConfirmBody(cfg.Policyholder)
	if err != nil {
		return nil, fmt.Errorf("load: config: %w", err)
	}
	ts, _ := plan.ParsedThresholds() // Validate parsed them, and the schedule
	sched, _ := plan.schedule()
	r := &run{cfg: cfg, plan: plan, thresholds: ts, sched: sched, now: cfg.Now, body: body,
		urlPrefix: strings.TrimRight(cfg.BaseURL, "/") + xone.ConfirmPrefix(cfg.PartnerID), stop: &stopper{done: make(chan struct{})},
		egress: cfg.Egress}
	if r.now == nil {
		r.now = time.Now
	}
	if r.egress == nil {
		r.egress = egress.Default(nil)
	}
	if err := checkRaceCeiling(r.egress, plan, cfg.BaseURL); err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	r.bearer = &bearer{src: cfg.Tokens, timeout: plan.Timeout, stopped: r.stop.done}
	r.feedCap = -1
	if s, ok := cfg.Offers.(*OfferStream); ok {
		r.feedCap = int64(s.total)
	}
	return r, nil
}

func (r *run) execute(ctx context.Context) (*Result, error) {
	res := &Result{Plan: r.plan, Target: r.cfg.BaseURL}
	tokBefore, _ := tokenStats(r.cfg.Tokens)
	// An interrupt does not wait for a slow token endpoint: the run ends at
	// once, having sent nothing.
	if err := r.bearer.first(ctx); err != nil {
		if ctx.Err() != nil {
			res.StopReason, res.Interrupted = stopInterrupted, true
			res.StartedAt, res.FinishedAt = r.now().UTC(), r.now().UTC()
			EvaluateThresholds(res, r.thresholds)
			return res, nil
		}
		return nil, fmt.Errorf("load: fetch first token: %w", err)
	}
	if err := r.assemble(ctx); err != nil {
		cerr := r.close()
		for _, p := range r.created { // nothing was sent: leave no empty files
			_ = os.Remove(p)
		}
		return nil, errors.Join(err, cerr)
	}
	elapsed := r.attack(ctx, res)
	r.finish(res, elapsed, tokBefore)
	return res, errors.Join(r.stop.err, r.close())
}

func (r *run) close() error {
	var errs []error
	for _, c := range slices.Backward(r.closers) {
		errs = append(errs, c())
	}
	r.closers = nil
	return errors.Join(errs...)
}

// openOutputs creates OutDir, results.bin and, unless given, the journal.
func (r *run) openOutputs() (*resultsWriter, *ledger.Journal, error) {
	if err := os.MkdirAll(r.cfg.OutDir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("load: output directory: %w", err)
	}
	rw, err := newResultsWriter(r.cfg.OutDir)
	if err != nil {
		return nil, nil, err
	}
	r.closers = append(r.closers, rw.close)
	r.created = append(r.created, filepath.Join(r.cfg.OutDir, ResultsFile))
	if r.cfg.Journal != nil {
		return rw, r.cfg.Journal, nil
	}
	opt := ledger.Options{Now: r.now}
	if _, generated := r.cfg.Offers.(*genFeed); !generated {
		dir := filepath.Clean(r.cfg.OutDir)
		c, err := ledger.OpenClaims(filepath.Dir(dir), dir)
		if err != nil {
			return nil, nil, err
		}
		r.closers = append(r.closers, c.Close)
		opt.Claims = c
	}
	j, err := ledger.Open(r.cfg.OutDir, opt)
	if err != nil {
		return nil, nil, err
	}
	r.closers = append(r.closers, j.Close)
	r.created = append(r.created, j.Path())
	return rw, j, nil
}

// assemble opens the outputs, builds the parts and records the first offer.
func (r *run) assemble(ctx context.Context) error {
	rw, j, err := r.openOutputs()
	if err != nil {
		return err
	}
	var m *metrics
	if r.cfg.Registerer != nil {
		if m, err = newMetrics(r.cfg.Registerer); err != nil {
			return err
		}
		m.rateRequested.Set(r.sched.rate(0))
	}
	t := &targeter{feed: r.cfg.Offers, journal: j, bearer: r.bearer, body: r.body, urlPrefix: r.urlPrefix, stop: r.stop,
		inflight: map[string][]flight{}}
	if r.plan.IdempotencyHeader != "" {
		var b [6]byte
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
		t.idemHeader = http.CanonicalHeaderKey(r.plan.IdempotencyHeader)
		t.idemPrefix = "xoneharness-" + hex.EncodeToString(b[:]) + "-"
	}
	r.targeter, r.planned = t, r.plan.Requests()
	if c := r.feedCap; c >= 0 {
		r.planned = min(r.planned, uint64(c))
	}
	r.pacer = newRunPacer(r.sched, r.plan.Duration, r.plan.MaxRequests, r.feedCap, r.stop.done, func(reason string) { r.stop.end(reason, nil) })
	r.collector = &collector{plan: r.plan, now: r.now, stats: newStats(5), results: rw,
		journal: j, metrics: m, targeter: t, pacer: r.pacer, events: r.cfg.Events,
		evidence: newEvidence(r.plan.Evidence, r.plan.EvidenceHeaders)}
	if err := r.collector.startValidation(r.cfg.Spec, r.urlPrefix); err != nil {
		return err
	}
	if err := t.prime(); err != nil {
		if r.collector.validators != nil {
			r.collector.validators.close()
		}
		return err
	}
	hardCtx, hardStop := context.WithCancel(context.Background())
	r.hardStop = hardStop
	client := r.client(hardCtx)
	if r.plan.Race.Fraction > 0 {
		r.race = newRaceSender(r.plan, t, j, r.stop, r.egress, client, hardCtx)
	}
	r.attacker = vegeta.NewAttacker(vegeta.Client(client), vegeta.Workers(r.plan.Workers),
		vegeta.MaxWorkers(r.plan.MaxWorkers), vegeta.MaxBody(maxBody), vegeta.Redirects(vegeta.NoFollow))
	r.stop.hooks = append(r.stop.hooks, func(string) { r.attacker.Stop() })
	r.watchInterrupt(ctx, hardCtx)
	return nil
}

// client is the attacker's HTTP client, whose connections all close when
// hardCtx ends.
func (r *run) client(hardCtx context.Context) *http.Client {
	tr := r.egress.Transport()
	tr.MaxIdleConnsPerHost, tr.MaxIdleConns = int(r.plan.Connections), int(r.plan.Connections)
	conns := newConnTracker()
	conns.track(tr)
	context.AfterFunc(hardCtx, conns.stop)
	return r.egress.ClientFor(tr, r.plan.Timeout, hardCtx)
}

// watchInterrupt stops the attack when ctx is cancelled, and cuts off the
// requests still in flight interruptGrace later.
func (r *run) watchInterrupt(ctx, hardCtx context.Context) {
	stopInterrupt := context.AfterFunc(ctx, func() {
		r.stop.end(stopInterrupted, nil)
		t := time.AfterFunc(min(interruptGrace, r.plan.Timeout), func() {
			r.collector.abandoning.Store(true) // before the connections close
			r.hardStop()
		})
		context.AfterFunc(hardCtx, func() { t.Stop() })
	})
	context.AfterFunc(hardCtx, func() { stopInterrupt() })
}

// stopper ends the attack once, with the first reason and, for a harness
// failure, err; both are written before done closes and read after.
type stopper struct {
	once   sync.Once
	done   chan struct{}
	reason string
	err    error
	hooks  []func(reason string) // run once when the attack stops (set before it starts)
}

func (s *stopper) end(reason string, err error) {
	s.once.Do(func() {
		s.reason, s.err = reason, err
		close(s.done)
		for _, h := range s.hooks {
			h(reason)
		}
	})
}

// Stop reasons.
const (
	stopCompleted   = "completed"
	stopMaxRequests = "max requests reached"
	stopExhausted   = "offer feed exhausted"
	stopAuth        = "authentication failing"
	stopTokens      = "token source failing"
	stopInterrupted = "interrupted"
	stopThreshold   = "threshold cannot pass: "
	stopFeedError   = "offer feed: "
	stopJournal     = "journal write failed: no confirm is sent unrecorded"
	stopBehind      = "could not keep the planned rate: requests still unsent at the end of the duration"
	stopOutput      = "results.bin write failed"
	stopPausedOut   = "retry-after pauses cut the plan short"
)

func tokenStats(src oauth2.TokenSource) (auth.Stats, bool) {
	if s, ok := src.(interface{ Stats() auth.Stats }); ok {
		return s.Stats(), true
	}
	return auth.Stats{}, false
}

// attack sends the plan, accounts for every result until the attacker
// ends, and returns how long it ran.
func (r *run) attack(ctx context.Context, res *Result) time.Duration {
	r.stop.hooks = append(r.stop.hooks, func(reason string) {
		// A plan that ran to its end (or to its feed's) still hands offers to
		// the sends already ticked; any other stop unblocks workers waiting
		// for a slow source.
		if reason != stopCompleted && reason != stopMaxRequests && reason != stopExhausted {
			_ = r.cfg.Offers.Close()
		}
	})
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	r.bearer.prefetch(runCtx)
	if ctx.Err() != nil {
		r.stop.end(stopInterrupted, nil)
	}
	res.StartedAt = r.now().UTC()
	began := time.Now()
	r.collector.stats.timeline.origin = began // the timeline counts seconds from the attack's start
	select {
	case <-r.stop.done: // interrupted before the start
		return time.Since(began)
	default:
	}
	tr := vegeta.Targeter(r.targeter.target)
	if r.race != nil {
		tr = r.race.target
	}
	results := r.attacker.Attack(tr, r.pacer, 0, "xoneharness")
	tick, flush := time.NewTicker(time.Second), time.NewTicker(resultsFlushEvery)
	defer tick.Stop()
	defer flush.Stop()
	for {
		select {
		case res, ok := <-results:
			if !ok {
				return time.Since(began)
			}
			if !r.race.owns(res) {
				r.collector.add(res)
			}
		case <-flush.C:
			// results.bin reaches the disk on the journal's cadence: a
			// killed run loses at most this interval of it.
			if err := r.collector.results.flush(); err != nil {
				r.stop.end(stopOutput, err)
			}
		case <-tick.C:
			r.collector.progress(r.cfg.Progress, time.Since(began))
			r.checkAbort()
		}
	}
}

func (r *run) finish(res *Result, elapsed time.Duration, tokBefore auth.Stats) {
	r.stop.end(stopCompleted, nil) // a no-op unless the attacker ended on its own
	r.hardStop()
	c := r.collector
	if v := c.validators; v != nil {
		res.Schema = v.close()
		cov := v.cov.Report()
		res.Coverage = &cov
		for _, row := range v.violations {
			c.evidence.fail(row)
		}
		c.evidence.total += v.broken - uint64(len(v.violations))
	}
	res.Evidence = c.evidence.result()
	r.settle()
	res.FinishedAt = r.now().UTC()
	c.progress(r.cfg.Progress, elapsed)
	c.stats.fill(res)
	res.DurationSeconds = round(elapsed.Seconds(), 3)
	res.RateRequested = round(r.requestedRate(), 3)
	sent := res.Requests + r.race.fill(res, r.planned, r.requestedRate()) // hits sent, race groups included
	res.Offers.Left = -1
	if n := r.feedCap; n >= 0 {
		res.Offers.Left = max(int(n)-int(sent), 0)
	}
	res.StopReason, res.Interrupted = r.stop.reason, r.stop.reason == stopInterrupted
	res.StatusUndocumented, res.Schema.TruncatedBodies = c.undocumentedN, c.truncated
	res.RetryAfterPauses = c.pauses
	if res.StopReason == stopCompleted && sent < r.planned {
		// The schedule went on past the pauses, and the duration ran out
		// before the plan was sent.
		res.RetryAfterPauses.Unsent = r.planned - sent
		res.StopReason = fmt.Sprintf("%s: %d of %d planned requests unsent after %d Retry-After pause(s), %.1f s in all",
			stopPausedOut, r.planned-sent, r.planned, c.pauses.Count, c.pauses.TotalMs/1e3)
	}
	if s, ok := r.cfg.Offers.(*OfferStream); ok {
		total, waits := s.starvation()
		res.FeedStarved = FeedStarvation{Ms: ms(total), Waits: waits, LateSends: r.targeter.starved.Load()}
	}
	res.Tokens.Invalidations = c.rejections.count
	if after, ok := tokenStats(r.cfg.Tokens); ok {
		t := &res.Tokens
		t.Fetches, t.Failures = after.Fetches-tokBefore.Fetches, after.Failures-tokBefore.Failures
		if t.Fetches > 0 {
			t.MeanMs = round((after.TotalFetchTime-tokBefore.TotalFetchTime).Seconds()*1e3/float64(t.Fetches), 3)
		}
		t.MaxMs = ms(after.MaxFetchTime)
	}
	EvaluateThresholds(res, r.thresholds)
}

// settle resolves the confirms that never got a result: the first offer
// when the attack stopped before sending it, and any still in flight.
func (r *run) settle() {
	j := r.collector.journal
	if p := r.targeter.primed.Swap(nil); p != nil {
		j.Resolve(ledger.Row{OfferID: p.OfferID, QuoteID: p.QuoteID, Outcome: ledger.Refused,
			Error: "not sent: the run stopped before it left"})
	}
	for _, fl := range r.targeter.unanswered() {
		j.Resolve(ledger.Row{OfferID: fl.offer.OfferID, QuoteID: fl.offer.QuoteID, Outcome: ledger.Unknown,
			Error: "sent, and no result came back"})
	}
}

// requestedRate is the plan's mean rate over its duration.
func (r *run) requestedRate() float64 {
	if c, ok := r.sched.(constSchedule); ok {
		return c.rate(0)
	}
	return float64(r.sched.count(r.plan.Duration)) / r.plan.Duration.Seconds()
}

// checkAbort stops the attack when Plan.AbortOnFail is set and a threshold
// can no longer pass.
func (r *run) checkAbort() {
	if !r.plan.AbortOnFail || r.planned == 0 {
		return
	}
	violations := uint64(0)
	if v := r.collector.validators; v != nil {
		violations = v.violationCount()
	}
	for _, t := range r.thresholds {
		if cannotPass(t, r.collector.stats, violations, r.race.doubleBookings(), r.planned-r.plan.Race.groupsIn(r.planned)) {
			r.stop.end(stopThreshold+t.Expr, nil)
			return
		}
	}
}

// errStopped fails a request whose response the run stopped before.
var errStopped = errors.New("abandoned: the run stopped before the response")

// connTracker stops requests in flight by closing their connections: binding
// vegeta's context-free requests to the run's context cost 3% of the CPU.
type connTracker struct {
	stopped atomic.Bool
	mu      sync.Mutex
	conns   map[*trackedConn]struct{}
}

func newConnTracker() *connTracker {
	return &connTracker{conns: map[*trackedConn]struct{}{}}
}

// track makes tr dial through t (plain and, when set, custom TLS dials).
func (t *connTracker) track(tr *http.Transport) {
	dial := tr.DialContext
	if dial == nil {
		// http.DefaultTransport's dialer
		dial = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	tr.DialContext = t.dialer(dial)
	if tr.DialTLSContext != nil {
		tr.DialTLSContext = t.dialer(tr.DialTLSContext)
	}
}

func (t *connTracker) dialer(dial func(context.Context, string, string) (net.Conn, error)) func(context.Context, string, string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		tc := &trackedConn{Conn: c, t: t}
		t.mu.Lock()
		if t.stopped.Load() {
			t.mu.Unlock()
			c.Close()
			return nil, errStopped
		}
		t.conns[tc] = struct{}{}
		t.mu.Unlock()
		return tc, nil
	}
}

// stop closes every connection and refuses new ones: requests in flight
// fail with errStopped.
func (t *connTracker) stop() {
	t.mu.Lock()
	t.stopped.Store(true)
	conns := t.conns
	t.conns = map[*trackedConn]struct{}{}
	t.mu.Unlock()
	for c := range conns {
		c.Conn.Close()
	}
}

// trackedConn is a connection its tracker can close; once stopped, its
// errors say so.
type trackedConn struct {
	net.Conn
	t *connTracker
}

func (c *trackedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	return n, c.stopped(err)
}

func (c *trackedConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	return n, c.stopped(err)
}

func (c *trackedConn) stopped(err error) error {
	if err != nil && c.t.stopped.Load() {
		return errStopped
	}
	return err
}

func (c *trackedConn) Close() error {
	c.t.mu.Lock()
	delete(c.t.conns, c)
	c.t.mu.Unlock()
	return c.Conn.Close()
}
