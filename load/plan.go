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

// Plan is what a load run does: its rate profile, bounds and options, plain
// data written into the report. Zero values take the defaults of WithDefaults.
type Plan struct {
	// Rate (ParseRate, e.g. "50/s") or Stages (ParseStages): exactly one is set.
	Rate   string  `json:"rate,omitempty"`
	Stages []Stage `json:"stages,omitempty"`
	// Duration bounds the attack (wall clock, Retry-After pauses included).
	// Required with Rate; with Stages 0 means the stages' total, and a positive
	// value cuts the profile short.
	Duration time.Duration `json:"duration"`
	// MaxDuration bounds Duration (default 1h); Timeout is per request,
	// connection to last body byte (default 30s).
	MaxDuration time.Duration `json:"max_duration"`
	Timeout     time.Duration `json:"timeout"`
	// MaxRequests stops the attack after that many requests (0: no limit).
	MaxRequests uint64 `json:"max_requests,omitempty"`
	// Workers (default 10) and MaxWorkers (default 256, at most 10000) are
	// the initial and largest number of attack goroutines, hence concurrent
	// requests: when all are busy, sends are late. Connections is the idle
	// keep-alive connections kept per host (default MaxWorkers).
	Workers     uint64 `json:"workers"`
	MaxWorkers  uint64 `json:"max_workers"`
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
	// Evidence is how many of the slowest requests the result lists (0:
	// DefaultEvidence; negative: none); EvidenceHeaders are kept besides
	// CorrelationHeaders.
	Evidence        int      `json:"evidence,omitempty"`
	EvidenceHeaders []string `json:"evidence_headers,omitempty"`
	// Thresholds are ParseThreshold expressions evaluated on the result.
	// DefaultThresholds records that WithGates added safety gates to them,
	// GatesOff that the gates were turned off explicitly.
	Thresholds        []string `json:"thresholds,omitempty"`
	DefaultThresholds bool     `json:"default_thresholds,omitempty"`
	GatesOff          bool     `json:"gates_off,omitempty"`
	// Race makes a fraction of the planned confirms race groups.
	Race RacePlan `json:"race,omitzero"`
}

// DefaultThresholds are the safety gates: a run whose responses are errors
// or break the document must not pass, whatever else it measures.
func DefaultThresholds() []string {
	return []string{"error_rate<1%", "schema_violations==0"}
}

// Gates are the safety gates of p: DefaultThresholds, and double_bookings==0 when p has race
// groups. WithGates adds those whose metric no threshold of p names.
func (p Plan) Gates() []string {
	if p.Race.Fraction > 0 {
		return append(DefaultThresholds(), "double_bookings==0")
	}
	return DefaultThresholds()
}

// WithGates returns p with each safety gate (DefaultThresholds, and
// double_bookings==0 with a race check) added to its thresholds unless one
// names the same metric (error_rate<5% loosens a gate; another metric never
// drops it), or with the gates turned off and recorded when off.
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

// PlanError is an invalid Plan field, named by its JSON name ("duration",
// "race.fraction", ...); Err is the underlying parse error, if any.
type PlanError struct {
	Field string
	Msg   string
	Err   error
}

// Error implements error: "plan: FIELD: problem[: parse error]".
func (e *PlanError) Error() string {
	s := "plan: " + e.Field
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying parse error, if any.
func (e *PlanError) Unwrap() error { return e.Err }

func planErr(field, format string, args ...any) error {
	return &PlanError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// WithDefaults returns p with zero fields set to their defaults (the Default
// constants, Connections = MaxWorkers, Race.N race.DefaultN with a race
// fraction) and, with Stages, Duration at most the stages' total.
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

// maxEvidence is the most slowest requests Explicit lets a plan list.
const maxEvidence = 1000

// Explicit reads p with every field set on purpose, as a command line does:
// zero means zero. It refuses what WithDefaults would hide or Validate blame
// on another field (MaxDuration or Timeout not positive, Evidence outside 0
// to 1000, Race.Fraction outside [0, 1), with one Race.N outside 2 to
// race.MaxN, a Rate that does not parse) with a *PlanError, and returns p as
// WithDefaults reads it: Evidence 0 (none) as -1, Race zero without a fraction.
func (p Plan) Explicit() (Plan, error) {
	switch f := p.Race.Fraction; {
	case p.MaxDuration <= 0:
		return p, planErr("max_duration", "want a positive duration (a run is always bounded), got %s", p.MaxDuration)
	case p.Timeout <= 0:
		return p, planErr("timeout", "want a positive per-request timeout, got %s", p.Timeout)
	case p.Evidence < 0 || p.Evidence > maxEvidence:
		return p, planErr("evidence", "want a number of requests from 0 to %d, got %d", maxEvidence, p.Evidence)
	case math.IsNaN(f) || f < 0 || f >= 1:
		return p, planErr("race.fraction", "want a fraction from 0 up to (not including) 1, got %v", f)
	case f > 0 && (p.Race.N < 2 || p.Race.N > race.MaxN):
		return p, planErr("race.n", "want 2 to %d simultaneous confirms in each race group, got %d", race.MaxN, p.Race.N)
	}
	if p.Rate != "" {
		if _, err := ParseRate(p.Rate); err != nil {
			return p, &PlanError{Field: "rate", Err: err}
		}
	}
	if p.Evidence == 0 {
		p.Evidence = -1
	}
	if p.Race.Fraction == 0 {
		p.Race = RacePlan{}
	}
	return p, nil
}

// Validate checks p after WithDefaults (a run is always bounded); the error
// is a *PlanError.
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

func validHeaderName(h string) bool {
	return httpguts.ValidHeaderFieldName(h) && len(h) <= 100
}

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
// it early (the engine's own count, capped at MaxRequests); 0 if invalid.
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
	if p.Rate != "" {
		r, err := ParseRate(p.Rate)
		if err != nil {
			return 0
		}
		return float64(r.Freq) / r.Per.Seconds()
	}
	var peak float64
	if _, err := newRamp(p.Stages); err == nil {
		for _, s := range p.Stages {
			peak = max(peak, s.Target)
		}
	}
	return peak
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

// planJSON is a Plan with its durations as Go duration strings ("30s"); the
// strings shadow the embedded fields of the same JSON name.
type planJSON struct {
	*plainPlan
	Duration    string `json:"duration"`
	MaxDuration string `json:"max_duration"`
	Timeout     string `json:"timeout"`
}

// MarshalJSON writes p with durations as Go duration strings ("30s").
func (p Plan) MarshalJSON() ([]byte, error) {
	return json.Marshal(planJSON{(*plainPlan)(&p), p.Duration.String(), p.MaxDuration.String(), p.Timeout.String()})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (p *Plan) UnmarshalJSON(b []byte) error {
	v := planJSON{plainPlan: (*plainPlan)(p)}
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

// Plan returns p with its rate profile divided by Count: "F/P" becomes
// "F/(P*Count)" (50/s over 3 shards is 50/3s each), stage targets /Count.
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
	// ErrProduction is a target in the production host family, not allowed.
	ErrProduction = egress.ErrProduction
	// ErrMaxRate is a ceiling outside (0, egress.MaxRateLimit] per second.
	ErrMaxRate = errors.New("invalid max rate")
	// ErrAboveCeiling is a rate above the shard's share of the ceiling.
	ErrAboveCeiling = errors.New("rate above the ceiling")
)

// CheckTarget applies the plan-time safety rules to one of shards shards
// sending at most rate per second to baseURL: production is refused unless
// allowProduction, and a host that is not a loopback literal or "localhost"
// gets maxRate/shards (0: DefaultMaxRate). The egress gate enforces the
// ceiling on every send whatever this says.
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

// reservedHeader reports whether Plan.IdempotencyHeader h would replace a
// hop-by-hop, credential, Content-* or engine-set header.
func reservedHeader(h string) bool {
	c := http.CanonicalHeaderKey(h)
	return slices.Contains([]string{"Connection", "Keep-Alive", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
		"Authorization", "Cookie", "Host", "Accept", "User-Agent"}, c) ||
		strings.HasPrefix(c, "Proxy-") || strings.HasPrefix(c, "Content-")
}
