package load

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/xoneharness/xoneharness/internal/egress"
	"github.com/xoneharness/xoneharness/internal/race"
)

// Plan defaults, applied by WithDefaults (and so by Run).
const (
	DefaultMaxDuration = time.Hour
	DefaultTimeout     = 30 * time.Second
	DefaultWorkers     = 10
	DefaultMaxWorkers  = 256
	maxWorkersLimit    = 10_000
)

// Plan is what a load run does: its rate profile, bounds and options. It is plain
// data, written into the report (durations as Go duration strings). Zero values
// take the defaults of WithDefaults.
type Plan struct {
	// Rate is a constant rate (ParseRate syntax, e.g. "50/s"); exactly one of
	// Rate and Stages is set.
	Rate string `json:"rate,omitempty"`
	// Stages is a ramp profile (ParseStages).
	Stages []Stage `json:"stages,omitempty"`
	// Duration bounds the attack (wall clock, Retry-After pauses included).
	// Required with Rate; with Stages 0 means the stages' total, and a positive
	// value cuts the profile short.
	Duration time.Duration `json:"duration"`
	// MaxDuration is the upper bound on Duration (default 1h).
	MaxDuration time.Duration `json:"max_duration"`
	// Timeout is the per-request timeout, connection to last body byte (default 30s).
	Timeout time.Duration `json:"timeout"`
	// MaxRequests stops the attack after that many requests (0: no limit).
	MaxRequests uint64 `json:"max_requests,omitempty"`
	// Workers is the initial number of attack goroutines (default 10).
	Workers uint64 `json:"workers"`
	// MaxWorkers caps the attack goroutines, hence concurrent requests (default
	// 256, at most 10000). When all are busy, sends fall behind schedule and are
	// counted as late; latency is still measured from the schedule.
	MaxWorkers uint64 `json:"max_workers"`
	// Connections is the number of idle keep-alive connections kept per host
	// (default MaxWorkers).
	Connections uint64 `json:"connections"`
	// ValidateSample is the fraction (0..1) of responses validated against the
	// spec when Config.Spec is set. 0 validates none; the CLI's default is 1.
	ValidateSample float64 `json:"validate_sample"`
	// IdempotencyHeader, when set, names a header sent with a unique value per
	// request (e.g. "Idempotency-Key"); a race group's confirms share their hit's.
	IdempotencyHeader string `json:"idempotency_header,omitempty"`
	// IgnoreRetryAfter keeps pacing through 429 responses instead of pausing.
	IgnoreRetryAfter bool `json:"ignore_retry_after,omitempty"`
	// AbortOnFail stops the attack as soon as a threshold can no longer pass.
	AbortOnFail bool `json:"abort_on_fail,omitempty"`
	// Evidence is how many of the slowest requests the result lists with
	// their correlation headers (0: DefaultEvidence; negative: none).
	Evidence int `json:"evidence,omitempty"`
	// EvidenceHeaders are response headers kept as evidence besides
	// CorrelationHeaders.
	EvidenceHeaders []string `json:"evidence_headers,omitempty"`
	// Thresholds are ParseThreshold expressions evaluated on the result,
	// the safety gates included (see WithGates).
	Thresholds []string `json:"thresholds,omitempty"`
	// DefaultThresholds records that Thresholds hold safety gates that
	// WithGates added (reports say so).
	DefaultThresholds bool `json:"default_thresholds,omitempty"`
	// GatesOff records that the safety gates were turned off explicitly
	// (reports print it on the verdict line).
	GatesOff bool `json:"gates_off,omitempty"`
	// Race makes a fraction of the planned confirms race groups (RacePlan);
	// the zero value makes none.
	Race RacePlan `json:"race,omitzero"`
}

// DefaultThresholds are the safety gates: a run whose responses are errors
// or break the document must not pass, whatever else it measures.
func DefaultThresholds() []string {
	return []string{"error_rate<1%", "schema_violations==0"}
}

// Gates are the safety gates of p: DefaultThresholds, and double_bookings==0
// when p has a race check (a double booking is a finding).
func (p Plan) Gates() []string {
	if p.Race.Fraction > 0 {
		return append(DefaultThresholds(), "double_bookings==0")
	}
	return DefaultThresholds()
}

// WithGates returns p with the safety gates added to its thresholds: each
// gate of Gates applies unless a threshold on the same metric
// is given (a user may loosen a gate by naming its metric, e.g.
// error_rate<5%, never drop it by giving another threshold). off turns the
// gates off instead, which the plan records. Thresholds that do not parse
// are left for Validate to refuse.
func (p Plan) WithGates(off bool) Plan {
	p.DefaultThresholds, p.GatesOff = false, off
	if off {
		return p
	}
	named := map[string]bool{}
	for _, expr := range p.Thresholds {
		if t, err := ParseThreshold(expr); err == nil {
			named[t.Metric] = true
		}
	}
	var gates []string
	for _, g := range p.Gates() {
		if t, _ := ParseThreshold(g); !named[t.Metric] {
			gates = append(gates, g)
		}
	}
	p.DefaultThresholds = len(gates) > 0
	p.Thresholds = append(gates, p.Thresholds...)
	return p
}

// PlanError is an invalid Plan field. Field is the field's JSON name in the
// plan ("duration", "max_workers", "thresholds", "race.fraction", ...); Err
// is the underlying parse error, if any.
type PlanError struct {
	Field string
	Msg   string
	Err   error
}

// Error implements error: "plan: FIELD: problem".
func (e *PlanError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("plan: %s: %s: %v", e.Field, e.Msg, e.Err)
	}
	return fmt.Sprintf("plan: %s: %s", e.Field, e.Msg)
}

// Unwrap returns the underlying parse error, if any.
func (e *PlanError) Unwrap() error { return e.Err }

// planErr is a *PlanError for field.
func planErr(field, format string, args ...any) error {
	return &PlanError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// WithDefaults returns p with zero fields set to their defaults: MaxDuration 1h,
// Timeout 30s, Workers 10, MaxWorkers 256, Connections = MaxWorkers, with
// Stages, Duration = the stages' total, and with a race fraction, Race.N 5.
func (p Plan) WithDefaults() Plan {
	p.MaxDuration = cmp.Or(p.MaxDuration, DefaultMaxDuration)
	p.Timeout = cmp.Or(p.Timeout, DefaultTimeout)
	p.Workers = cmp.Or(p.Workers, DefaultWorkers)
	p.MaxWorkers = cmp.Or(p.MaxWorkers, max(DefaultMaxWorkers, p.Workers))
	p.Connections = cmp.Or(p.Connections, p.MaxWorkers)
	p.Evidence = cmp.Or(p.Evidence, DefaultEvidence)
	if p.Race.Fraction > 0 {
		p.Race.N = cmp.Or(p.Race.N, race.DefaultN)
	}
	if len(p.Stages) > 0 {
		var total time.Duration
		for _, s := range p.Stages {
			total += s.Duration
		}
		if p.Duration == 0 || p.Duration > total {
			p.Duration = total
		}
	}
	return p
}

// Validate checks p (after WithDefaults): a run is always bounded. The error is a
// *PlanError naming the bad field.
func (p Plan) Validate() error {
	p = p.WithDefaults()
	switch {
	case p.Rate != "" && len(p.Stages) > 0:
		return planErr("stages", "give either a rate or stages, not both")
	case p.Rate == "" && len(p.Stages) == 0:
		return planErr("rate", "a rate (e.g. 50/s) or stages are required")
	}
	if _, err := p.schedule(); err != nil {
		field := map[bool]string{true: "rate", false: "stages"}[p.Rate != ""]
		return &PlanError{Field: field, Msg: "invalid", Err: err}
	}
	switch {
	case p.MaxDuration < 0:
		return planErr("max_duration", "must be positive")
	case p.Duration <= 0:
		return planErr("duration", "required: a run is always bounded (e.g. 30s)")
	case p.Duration > p.MaxDuration:
		return planErr("max_duration", "the plan lasts %s, above the maximum duration %s", p.Duration, p.MaxDuration)
	case p.Timeout < 0:
		return planErr("timeout", "must be positive")
	case p.MaxWorkers > maxWorkersLimit:
		return planErr("max_workers", "%d is above %d", p.MaxWorkers, maxWorkersLimit)
	case p.Workers > p.MaxWorkers:
		return planErr("workers", "%d is above the maximum of %d workers", p.Workers, p.MaxWorkers)
	case p.Connections > maxWorkersLimit:
		return planErr("connections", "%d is above %d", p.Connections, maxWorkersLimit)
	case math.IsNaN(p.ValidateSample) || p.ValidateSample < 0 || p.ValidateSample > 1:
		return planErr("validate_sample", "%v is not a fraction in [0, 1]", p.ValidateSample)
	}
	for _, h := range p.EvidenceHeaders {
		if !validHeaderName(h) {
			return planErr("evidence_headers", "%q is not a valid header name", h)
		}
	}
	if h := p.IdempotencyHeader; h != "" && !validHeaderName(h) {
		return planErr("idempotency_header", "%q is not a valid header name", h)
	} else if h != "" && reservedHeader(h) {
		return planErr("idempotency_header", "%q is a header the harness or HTTP sets itself (hop-by-hop, credentials, content, host): pick another name, e.g. Idempotency-Key", h)
	}
	if _, err := p.ParsedThresholds(); err != nil {
		return &PlanError{Field: "thresholds", Msg: "invalid", Err: err}
	}
	if n := p.Requests(); n < 2 {
		return planErr("duration", "the plan sends %d request(s) in %s: a measurement needs at least 2", n, p.Duration)
	}
	return p.Race.validate(p.Requests())
}

// validate checks a race check for a plan of n requests.
func (r RacePlan) validate(n uint64) error {
	switch groups := r.groupsIn(n); {
	case math.IsNaN(r.Fraction) || r.Fraction < 0 || r.Fraction > 1:
		return planErr("race.fraction", "%v is not a fraction in [0, 1]", r.Fraction)
	case r.N != 0 && (r.N < 2 || r.N > race.MaxN):
		return planErr("race.n", "a group of %d simultaneous confirms: want 2 to %d", r.N, race.MaxN)
	case r.Fraction == 0:
		return nil
	case groups == 0:
		return planErr("race.fraction", "the plan sends %d requests: at a race fraction of %v none is a race group (one needs at least %.0f requests)",
			n, r.Fraction, math.Ceil(1/r.Fraction))
	case n-groups < 2:
		return planErr("race.fraction", "the plan sends %d requests: at a race fraction of %v, %d are race groups and %d ordinary confirms are left: a measurement needs at least 2",
			n, r.Fraction, groups, n-groups)
	}
	return nil
}

// validHeaderName reports whether h is an RFC 9110 token of at most 100 bytes.
func validHeaderName(h string) bool {
	return httpguts.ValidHeaderFieldName(h) && len(h) <= 100
}

// schedule returns the request schedule of a valid plan.
func (p Plan) schedule() (schedule, error) {
	if p.Rate == "" {
		return newRamp(p.Stages)
	}
	r, err := ParseRate(p.Rate)
	if err != nil {
		return nil, err
	}
	return newConstSchedule(r), nil
}

// Requests is the number of requests a valid plan sends when nothing stops
// it early: what its rate profile schedules within Duration, capped at
// MaxRequests; 0 for an invalid plan. The engine plans with the same count,
// so a dry run says what the run will send.
func (p Plan) Requests() uint64 {
	sched, err := p.schedule()
	if err != nil {
		return 0
	}
	n := sched.count(p.Duration)
	if p.MaxRequests > 0 {
		n = min(n, p.MaxRequests)
	}
	return n
}

// PeakRate is the highest rate the plan asks for, per second (for CheckTarget);
// 0 for an invalid plan.
func (p Plan) PeakRate() float64 {
	if p.Rate == "" {
		rp, err := newRamp(p.Stages)
		if err != nil {
			return 0
		}
		return rp.peak()
	}
	r, err := ParseRate(p.Rate)
	if err != nil {
		return 0
	}
	return float64(r.Freq) / r.Per.Seconds()
}

// ParsedThresholds parses p.Thresholds.
func (p Plan) ParsedThresholds() ([]Threshold, error) {
	ts := make([]Threshold, 0, len(p.Thresholds))
	for _, expr := range p.Thresholds {
		t, err := ParseThreshold(expr)
		if err != nil {
			return nil, err
		}
		ts = append(ts, t)
	}
	return ts, nil
}

// plainPlan is Plan without its JSON methods.
type plainPlan Plan

// MarshalJSON writes p with durations as Go duration strings ("30s"). The
// strings shadow the embedded fields of the same JSON name (they are
// shallower), so a field added to Plan appears in summary.json without being
// listed here.
func (p Plan) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		plainPlan
		Duration    string `json:"duration"`
		MaxDuration string `json:"max_duration"`
		Timeout     string `json:"timeout"`
	}{plainPlan(p), p.Duration.String(), p.MaxDuration.String(), p.Timeout.String()})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (p *Plan) UnmarshalJSON(b []byte) error {
	var v struct {
		*plainPlan
		Duration    string `json:"duration"`
		MaxDuration string `json:"max_duration"`
		Timeout     string `json:"timeout"`
	}
	v.plainPlan = (*plainPlan)(p)
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	durs := []*time.Duration{&p.Duration, &p.MaxDuration, &p.Timeout}
	for i, s := range []string{v.Duration, v.MaxDuration, v.Timeout} {
		var err error
		if *durs[i] = 0; s != "" {
			if *durs[i], err = time.ParseDuration(s); err != nil {
				return fmt.Errorf("plan: %w", err)
			}
		}
	}
	return nil
}

// Shard is one part of a distributed run: shard Index of Count (0-based), as
// run by a Kubernetes Indexed Job's pod with JOB_COMPLETION_INDEX.
type Shard struct {
	Index int
	Count int
}

// maxShards bounds Count.
const maxShards = 1000

// ParseShard parses "I/N" (0 <= I < N <= 1000), e.g. "0/3".
func ParseShard(s string) (Shard, error) {
	is, ns, ok := strings.Cut(strings.TrimSpace(s), "/")
	i, err1 := strconv.Atoi(strings.TrimSpace(is))
	n, err2 := strconv.Atoi(strings.TrimSpace(ns))
	switch {
	case !ok || err1 != nil || err2 != nil:
		return Shard{}, fmt.Errorf("shard %q: want INDEX/COUNT, e.g. 0/3", s)
	case n < 1 || n > maxShards:
		return Shard{}, fmt.Errorf("shard %q: count must be between 1 and %d", s, maxShards)
	case i < 0 || i >= n:
		return Shard{}, fmt.Errorf("shard %q: index must be between 0 and %d", s, n-1)
	}
	return Shard{Index: i, Count: n}, nil
}

// String returns "I/N".
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// Plan returns p with its rate profile divided by Count, so the shards
// together send the whole profile: a constant rate "F/P" becomes
// "F/(P*Count)" (50/s over 3 shards is 50 per 3 s each) and every stage's
// target is divided by Count.
func (s Shard) Plan(p Plan) (Plan, error) {
	if s.Count <= 1 {
		return p, nil
	}
	if p.Rate != "" {
		r, err := ParseRate(p.Rate)
		if err != nil {
			return p, err
		}
		p.Rate = strconv.Itoa(r.Freq) + "/" + (r.Per * time.Duration(s.Count)).String()
	}
	p.Stages = slices.Clone(p.Stages)
	for i := range p.Stages {
		p.Stages[i].Target /= float64(s.Count)
	}
	return p, nil
}

// DefaultMaxRate is the default cap, per second, on the rate sent to a host that
// is not loopback, for the whole job (all shards together).
const DefaultMaxRate = egress.DefaultMaxRate

// Errors of CheckTarget, to test with errors.Is.
var (
	// ErrProduction: the target is the XONE production API, and production
	// traffic is not allowed.
	ErrProduction = egress.ErrProduction
	// ErrMaxRate: the ceiling is not a finite number of sends per second
	// above 0 and at most egress.MaxRateLimit.
	ErrMaxRate = errors.New("invalid max rate")
	// ErrAboveCeiling: the plan's rate is above the ceiling's share for
	// its shard on a host that is not loopback.
	ErrAboveCeiling = errors.New("rate above the ceiling")
)

// CheckTarget applies the plan-time safety rules to one shard of a load job
// (shards >= 1) against baseURL at rate (the shard's peak requests per
// second): the production host family, in any spelling, is refused unless
// allowProduction; maxRate (per second, the whole job's; 0 means
// DefaultMaxRate) must be valid; and a host that is not loopback gets
// maxRate/shards per shard. Only loopback IP literals and "localhost" count
// as loopback here; the egress gate enforces the ceiling on every send at
// run time whatever this check says. Errors wrap ErrProduction, ErrMaxRate or
// ErrAboveCeiling.
func CheckTarget(baseURL string, rate, maxRate float64, shards int, allowProduction bool) error {
	u, err := url.Parse(baseURL)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("load: target: want an http(s) URL with a host")
	}
	host, err := egress.CanonicalHost(u.Hostname())
	if err != nil {
		return fmt.Errorf("load: target: %w", err)
	}
	if !allowProduction && egress.IsProduction(host) {
		return fmt.Errorf("load: target %s: %w", host, ErrProduction)
	}
	if maxRate == 0 {
		maxRate = DefaultMaxRate
	}
	if err := egress.CheckMaxRate(maxRate); err != nil {
		return fmt.Errorf("load: %w: %w", ErrMaxRate, err)
	}
	if egress.LiteralLoopback(host) {
		return nil
	}
	shards = max(shards, 1)
	if share := maxRate / float64(shards); rate > share {
		if shards == 1 {
			return fmt.Errorf("load: %w: %g/s to non-loopback host %s is above the ceiling of %g/s: raise the ceiling explicitly to send more", ErrAboveCeiling, rate, host, maxRate)
		}
		return fmt.Errorf("load: %w: %g/s per shard to non-loopback host %s is above its share of the job's ceiling of %g/s over %d shards (%g/s each): raise the ceiling explicitly to send more",
			ErrAboveCeiling, rate, host, maxRate, shards, share)
	}
	return nil
}

// reservedHeader reports whether h (any case) is a header Plan.IdempotencyHeader
// must not replace: hop-by-hop headers, credentials, the body's description
// (Content-*) and what the engine or net/http sets itself.
func reservedHeader(h string) bool {
	c := http.CanonicalHeaderKey(h)
	return slices.Contains([]string{"Connection", "Keep-Alive", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
		"Authorization", "Cookie", "Host", "Accept", "User-Agent"}, c) ||
		strings.HasPrefix(c, "Proxy-") || strings.HasPrefix(c, "Content-")
}
