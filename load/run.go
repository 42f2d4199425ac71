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
	"path/filepath"
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
// of its race groups. The CLI's egress gate (*egress.Gate) implements it:
// production refused, the rate ceiling off loopback, no redirects. A caller
// may implement it to tune transports, and then owns those rules.
type Egress interface {
	// Transport returns a new transport the run may tune (connection limits,
	// its dialer wrapped).
	Transport() *http.Transport
	// ClientFor returns a client that sends through tr with the given
	// timeout; a request waiting to be sent gives up when stop ends.
	ClientFor(tr *http.Transport, timeout time.Duration, stop context.Context) *http.Client
	// Conns opens a race group's connections and counts each group against
	// the rate ceiling with one Admit of its N sends (Plan.Race; unused
	// without a race fraction).
	race.Conns
}

// Config is everything Run needs besides the context.
type Config struct {
	// Plan is the run's plan; Run applies WithDefaults and Validate.
	Plan Plan
	// BaseURL is the target, e.g. https://sandbox.example.com (no trailing path).
	BaseURL string
	// PartnerID is the partner id in the confirm path.
	PartnerID string
	// Tokens supplies bearer tokens, cached (golang.org/x/oauth2). If it
	// also has Invalidate(*oauth2.Token), it is told of each token the
	// target rejected (401); if it has Prefetch(context.Context), that runs
	// for the length of the attack. Required.
	Tokens oauth2.TokenSource
	// Offers supplies the offers (OpenOffers, GeneratedFeed). Required. Run
	// closes it when the run stops early.
	Offers Feed
	// Policyholder is the policyholder JSON object sent with every confirm;
	// nil sends xone.DemoPolicyholder.
	Policyholder json.RawMessage
	// Spec, when set, validates Plan.ValidateSample of the responses.
	Spec *spec.Spec
	// Egress makes the run's HTTP client and race connections; nil: a gate
	// with the defaults (production refused, 20 sends/s off loopback, the
	// environment's proxies, no redirects).
	Egress Egress
	// OutDir receives results.bin and, unless Journal is set, bookings.csv
	// (created if missing). Required.
	OutDir string
	// Journal records every confirm before it leaves. nil: Run opens
	// OutDir/bookings.csv itself, claiming each offer in the claims store of
	// OutDir's parent (the reports root) unless Offers is a GeneratedFeed,
	// and closes it at the end. A caller that shares one journal between
	// stages (contract, then load) opens it and closes it.
	Journal *ledger.Journal
	// Progress, when set, receives one progress line per second.
	Progress io.Writer
	// Events, when set, receives a line per notable event as it happens (a
	// Retry-After pause).
	Events io.Writer
	// Registerer, when set, gets the run's Prometheus collectors (Metrics).
	Registerer prometheus.Registerer
	// Now stamps StartedAt, FinishedAt and the journal's rows and parses
	// Retry-After dates; default time.Now. Pacing uses the monotonic clock.
	Now func() time.Time
}

// InterruptGrace is how long in-flight requests may finish after Run's
// context is cancelled before they are cancelled too (capped at
// Plan.Timeout): short, so that the process exits within a second of the
// signal. A request cut off then is in the journal as "unknown".
const InterruptGrace = 400 * time.Millisecond

// maxBody is how much of each response body is read (for booking ids and
// validation); longer bodies count as truncated.
const maxBody = 1 << 20

// ErrFeed marks an error from Run about the offer feed's first offer (a
// malformed row, an offer another run claimed): nothing was sent. A bad row
// later in the feed ends the run instead (its stop reason names the line).
var ErrFeed = errors.New("load: offer feed")

// ErrJournal marks an error from Run because the journal could not be
// written (a full disk): sending stopped at once, so that no confirm left
// unrecorded. Run returns the result so far with it.
var ErrJournal = errors.New("load: journal")

// Run executes the plan against the target and returns its result. It
// fetches the first token before the attack (an error then is returned:
// nothing was sent), records every confirm in the journal before it leaves,
// streams every result to OutDir/results.bin, and never holds all results
// in memory.
//
// Cancelling ctx stops the attack at once: no new request is sent, in-flight
// requests get InterruptGrace (at most Plan.Timeout) to finish so their
// bookings are recorded, then are cancelled; the files are completed and the
// result has Interrupted set and a nil error. Thresholds from the plan are
// evaluated into the result. A returned error means a bad configuration, the
// first token or offer, or an I/O failure; with ErrJournal the partial result
// is returned too.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	r, err := newRun(cfg)
	if err != nil {
		return nil, err
	}
	return r.execute(ctx)
}

// run is one execution of Run: its parts and the outputs it opened.
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
	ts, err := plan.ParsedThresholds()
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	sched, err := plan.schedule()
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	body, err := xone.NewConfirmBody(cfg.Policyholder)
	if err != nil {
		return nil, fmt.Errorf("load: config: %w", err)
	}
	r := &run{cfg: cfg, plan: plan, thresholds: ts, sched: sched, now: cfg.Now, body: body,
		urlPrefix: strings.TrimRight(cfg.BaseURL, "/") + xone.ConfirmPrefix(cfg.PartnerID), stop: newStopper()}
	if r.now == nil {
		r.now = time.Now
	}
	if r.egress = cfg.Egress; r.egress == nil {
		r.egress = egress.Default(nil)
	}
	if err := checkRaceCeiling(r.egress, plan, cfg.BaseURL); err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	r.bearer = newBearer(cfg.Tokens, plan.Timeout, r.stop.done)
	return r, nil
}

// execute runs the attack: the first token, the outputs, the first offer,
// then the parts composed.
func (r *run) execute(ctx context.Context) (*Result, error) {
	res := &Result{Plan: r.plan, Target: r.cfg.BaseURL}
	tokBefore, _ := tokenStats(r.cfg.Tokens)
	// The first token is fetched before anything is written, but an
	// interrupt does not wait for a slow token endpoint: the run ends at
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
	a, err := r.assemble(ctx)
	if err != nil {
		cerr := r.close()
		for _, p := range r.created { // nothing was sent: leave no empty files
			_ = os.Remove(p)
		}
		return nil, errors.Join(err, cerr)
	}
	elapsed := a.attack(ctx, res)
	r.finish(a, res, elapsed, tokBefore)
	cerr := r.close()
	if r.stop.err != nil {
		return res, errors.Join(r.stop.err, cerr)
	}
	return res, cerr
}

// close closes the outputs Run opened.
func (r *run) close() error {
	var errs []error
	for i := len(r.closers) - 1; i >= 0; i-- {
		errs = append(errs, r.closers[i]())
	}
	r.closers = nil
	return errors.Join(errs...)
}

// openOutputs creates OutDir, results.bin and, unless the caller gave one,
// the journal.
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

// assembled is a run's parts, ready to attack.
type assembled struct {
	run       *run
	targeter  *targeter
	collector *collector
	pacer     *runPacer
	race      *raceSender // nil without a race fraction
	attacker  *vegeta.Attacker
	hardStop  context.CancelFunc
	planned   uint64
}

// assemble opens the outputs, builds the parts and, last, records the first
// offer.
func (r *run) assemble(ctx context.Context) (*assembled, error) {
	rw, j, err := r.openOutputs()
	if err != nil {
		return nil, err
	}
	var metrics *Metrics
	if r.cfg.Registerer != nil {
		if metrics, err = NewMetrics(r.cfg.Registerer); err != nil {
			return nil, err
		}
		metrics.rateRequested.Set(r.sched.rate(0))
	}
	t := newTargeter(r.cfg.Offers, j, r.bearer, r.body, r.urlPrefix, r.stop)
	if r.plan.IdempotencyHeader != "" {
		var b [6]byte
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
		t.idem.header = http.CanonicalHeaderKey(r.plan.IdempotencyHeader)
		t.idem.prefix = "xoneharness-" + hex.EncodeToString(b[:]) + "-"
	}
	a := &assembled{run: r, targeter: t, planned: r.planned()}
	a.pacer = newRunPacer(r.sched, r.plan.Duration, r.plan.MaxRequests, r.feedCap(), r.stop.done, func(reason string) { r.stop.end(reason, nil) })
	a.collector = &collector{plan: r.plan, urlPrefix: r.urlPrefix, now: r.now, stats: newStats(5), results: rw,
		journal: j, metrics: metrics, targeter: t, pacer: a.pacer, events: r.cfg.Events, abandoning: &atomic.Bool{},
		evidence: newEvidence(r.plan.Evidence, r.plan.EvidenceHeaders)}
	if err := a.collector.startValidation(r.cfg.Spec, r.urlPrefix); err != nil {
		return nil, err
	}
	if err := t.prime(); err != nil {
		if a.collector.validators != nil {
			a.collector.validators.close()
		}
		return nil, err
	}
	hardCtx, hardCancel := context.WithCancel(context.Background())
	a.hardStop = hardCancel
	client := r.client(hardCtx)
	if r.plan.Race.Fraction > 0 {
		a.race = newRaceSender(r.plan, t, j, r.stop, r.egress, client, hardCtx)
	}
	a.attacker = vegeta.NewAttacker(vegeta.Client(client), vegeta.Workers(r.plan.Workers),
		vegeta.MaxWorkers(r.plan.MaxWorkers), vegeta.MaxBody(maxBody), vegeta.Redirects(vegeta.NoFollow))
	r.stop.hooks = append(r.stop.hooks, func(string) { a.attacker.Stop() })
	r.watchInterrupt(ctx, hardCtx, hardCancel, a.collector.abandoning)
	return a, nil
}

// planned is the number of requests the plan sends when nothing stops it.
func (r *run) planned() uint64 {
	n := r.sched.count(r.plan.Duration)
	if r.plan.MaxRequests > 0 {
		n = min(n, r.plan.MaxRequests)
	}
	if c := r.feedCap(); c >= 0 {
		n = min(n, uint64(c))
	}
	return n
}

// feedCap is the number of offers the feed holds, or -1 when unknown.
func (r *run) feedCap() int64 {
	if t, ok := r.cfg.Offers.(interface{ Total() int }); ok && t.Total() >= 0 {
		return int64(t.Total())
	}
	return -1
}

// client is the attacker's HTTP client: a transport of the egress with the
// run's connection limits, whose connections all close when hardCtx ends.
func (r *run) client(hardCtx context.Context) *http.Client {
	eg := r.egress
	tr := eg.Transport()
	tr.MaxIdleConnsPerHost = int(r.plan.Connections)
	tr.MaxIdleConns = int(r.plan.Connections)
	conns := newConnTracker()
	conns.track(tr)
	context.AfterFunc(hardCtx, conns.stop)
	return eg.ClientFor(tr, r.plan.Timeout, hardCtx)
}

// watchInterrupt stops the attack when ctx is cancelled, and cuts off the
// requests still in flight InterruptGrace later.
func (r *run) watchInterrupt(ctx, hardCtx context.Context, hardCancel context.CancelFunc, abandoning *atomic.Bool) {
	stopInterrupt := context.AfterFunc(ctx, func() {
		r.stop.end(stopInterrupted, nil)
		t := time.AfterFunc(min(InterruptGrace, r.plan.Timeout), func() {
			abandoning.Store(true) // before the connections close
			hardCancel()
		})
		context.AfterFunc(hardCtx, func() { t.Stop() })
	})
	context.AfterFunc(hardCtx, func() { stopInterrupt() })
}

// stopper ends the attack once, with the first reason; err is set when the
// reason is a harness failure (the journal). reason and err are written
// before done closes and read after.
type stopper struct {
	once   sync.Once
	done   chan struct{}
	reason string
	err    error
	hooks  []func(reason string) // run once when the attack stops (set before it starts)
}

func newStopper() *stopper { return &stopper{done: make(chan struct{})} }

// end stops the attack with reason (the first reason wins).
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
)

// tokenStats reads the source's counters, when it keeps them.
func tokenStats(src oauth2.TokenSource) (auth.Stats, bool) {
	if s, ok := src.(interface{ Stats() auth.Stats }); ok {
		return s.Stats(), true
	}
	return auth.Stats{}, false
}
