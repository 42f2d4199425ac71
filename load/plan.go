package load

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

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
	// request (e.g. "Idempotency-Key").
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

// PlanError is an invalid Plan field. Field is the flag-style name of the field
// ("duration", "max-workers", "threshold", ...).
type PlanError struct {
	Field string
	Msg   string
	Err   error
}

// Error implements error.
func (e *PlanError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("plan: --%s: %s: %v", e.Field, e.Msg, e.Err)
	}
	return fmt.Sprintf("plan: --%s: %s", e.Field, e.Msg)
}

// Unwrap returns the underlying parse error, if any.
func (e *PlanError) Unwrap() error { return e.Err }

// WithDefaults returns p with zero fields set to their defaults: MaxDuration 1h,
// Timeout 30s, Workers 10, MaxWorkers 256, Connections = MaxWorkers, with
// Stages, Duration = the stages' total, and with a race fraction, Race.N 5.
func (p Plan) WithDefaults() Plan {
	if p.MaxDuration == 0 {
		p.MaxDuration = DefaultMaxDuration
	}
	if p.Timeout == 0 {
		p.Timeout = DefaultTimeout
	}
	if p.Workers == 0 {
		p.Workers = DefaultWorkers
	}
	if p.MaxWorkers == 0 {
		p.MaxWorkers = max(DefaultMaxWorkers, p.Workers)
	}
	if p.Connections == 0 {
		p.Connections = p.MaxWorkers
	}
	if p.Evidence == 0 {
		p.Evidence = DefaultEvidence
	}
	if p.Race.Fraction > 0 && p.Race.N == 0 {
		p.Race.N = race.DefaultN
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
	bad := func(field, format string, args ...any) error {
		return &PlanError{Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	switch {
	case p.Rate != "" && len(p.Stages) > 0:
		return bad("stages", "give either a rate or stages, not both")
	case p.Rate == "" && len(p.Stages) == 0:
		return bad("rate", "a rate (e.g. 50/s) or stages are required")
	case p.Rate != "":
		if _, err := ParseRate(p.Rate); err != nil {
			return &PlanError{Field: "rate", Msg: "invalid", Err: err}
		}
	default:
		if _, err := NewStagesPacer(p.Stages); err != nil {
			return &PlanError{Field: "stages", Msg: "invalid", Err: err}
		}
	}
	if p.MaxDuration < 0 {
		return bad("max-duration", "must be positive")
	}
	if p.Duration <= 0 {
		return bad("duration", "required: a run is always bounded (e.g. --duration 30s)")
	}
	if p.Duration > p.MaxDuration {
		return bad("duration", "%s is above --max-duration %s", p.Duration, p.MaxDuration)
	}
	if p.Timeout < 0 {
		return bad("timeout", "must be positive")
	}
	if p.MaxWorkers > maxWorkersLimit {
		return bad("max-workers", "%d is above %d", p.MaxWorkers, maxWorkersLimit)
	}
	if p.Workers > p.MaxWorkers {
		return bad("workers", "%d is above --max-workers %d", p.Workers, p.MaxWorkers)
	}
	if p.Connections > maxWorkersLimit {
		return bad("connections", "%d is above %d", p.Connections, maxWorkersLimit)
	}
	if math.IsNaN(p.ValidateSample) || p.ValidateSample < 0 || p.ValidateSample > 1 {
		return bad("validate-sample", "%v is not a fraction in [0, 1]", p.ValidateSample)
	}
	for _, h := range p.EvidenceHeaders {
		if !validHeaderName(h) {
			return bad("evidence-header", "%q is not a valid header name", h)
		}
	}
	if h := p.IdempotencyHeader; h != "" && !validHeaderName(h) {
		return bad("idempotency-header", "%q is not a valid header name", h)
	} else if h != "" && reservedHeader(h) {
		return bad("idempotency-header", "%q is a header the harness or HTTP sets itself (hop-by-hop, credentials, content, host): pick another name, e.g. Idempotency-Key", h)
	}
	for _, expr := range p.Thresholds {
		if _, err := ParseThreshold(expr); err != nil {
			return &PlanError{Field: "threshold", Msg: "invalid", Err: err}
		}
	}
	if n := p.Requests(); n < 2 {
		return bad("duration", "the plan sends %d request(s) in %s: a measurement needs at least 2", n, p.Duration)
	}
	return p.Race.validate(p.Requests())
}

// validate checks a race check for a plan of n requests.
func (r RacePlan) validate(n uint64) error {
	bad := func(field, format string, args ...any) error {
		return &PlanError{Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	switch {
	case math.IsNaN(r.Fraction) || r.Fraction < 0 || r.Fraction > 1:
		return bad("race-fraction", "%v is not a fraction in [0, 1]", r.Fraction)
	case r.N != 0 && (r.N < 2 || r.N > race.MaxN):
		return bad("race", "a group of %d simultaneous confirms: want 2 to %d", r.N, race.MaxN)
	case r.Fraction == 0:
		return nil
	case r.groupsIn(n) == 0:
		return bad("race-fraction", "the plan sends %d requests: at a race fraction of %v none is a race group (one needs at least %.0f requests)",
			n, r.Fraction, math.Ceil(1/r.Fraction))
	case n-r.groupsIn(n) < 2:
		return bad("race-fraction", "the plan sends %d requests: at a race fraction of %v, %d are race groups and %d ordinary confirms are left: a measurement needs at least 2",
			n, r.Fraction, r.groupsIn(n), n-r.groupsIn(n))
	}
	return nil
}

// validHeaderName reports whether h is an RFC 9110 token.
func validHeaderName(h string) bool {
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !isAlnum(c) && !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return h != "" && len(h) <= 100
}

// schedule returns the request schedule of a valid plan.
func (p Plan) schedule() (schedule, error) {
	if p.Rate != "" {
		r, err := ParseRate(p.Rate)
		if err != nil {
			return nil, err
		}
		return newConstSchedule(r), nil
	}
	return NewStagesPacer(p.Stages)
}

// Requests is the number of requests a valid plan sends when nothing stops
// it early: what its rate profile schedules within Duration, capped at
// MaxRequests; 0 for an invalid plan. The engine plans with the same count,
// so --dry-run says what the run will send.
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
	sp, err := NewStagesPacer(p.Stages)
	if err != nil {
		return 0
	}
	return sp.Peak()
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
		*durs[i] = 0
		if s == "" {
			continue
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("plan: %w", err)
		}
		*durs[i] = d
	}
	return nil
}
