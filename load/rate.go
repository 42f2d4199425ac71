package load

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// maxRate is the highest rate per second ParseRate and ParseStages accept (a
// typo such as "50000000/s" is refused rather than attempted); maxStages
// bounds the stages.
const (
	maxRate   = 100_000
	maxStages = 100
)

// ParseRate parses a constant request rate in vegeta's syntax:
//
//	rate  = count [ "/" per ]
//	per   = [ number ] unit                 (a Go duration; "s" means "1s")
//	count = digit { digit }                 (requests per period, > 0)
//	unit  = "ns" | "us" | "µs" | "ms" | "s" | "m" | "h"
//
// "50" and "50/s" are 50 requests per second, "3000/1m" 3000 per minute and
// "1/2s" one every two seconds. The rate must be positive (every run is
// paced) and at most 100,000/s; fractions take a longer period ("1/2s").
func ParseRate(s string) (vegeta.Rate, error) {
	countStr, per, err := splitRate(s)
	if err != nil {
		return vegeta.Rate{}, fmt.Errorf("rate %q: %w", s, err)
	}
	n, err := strconv.ParseUint(countStr, 10, 31)
	if err != nil || n == 0 {
		return vegeta.Rate{}, fmt.Errorf("rate %q: count must be a positive whole number of requests (write 0.5/s as 1/2s)", s)
	}
	perSec := float64(n) / per.Seconds()
	if perSec > maxRate {
		return vegeta.Rate{}, fmt.Errorf("rate %q: %.0f/s is above the maximum %d/s", s, perSec, maxRate)
	}
	if per > 24*time.Hour {
		return vegeta.Rate{}, fmt.Errorf("rate %q: period longer than 24h", s)
	}
	return vegeta.Rate{Freq: int(n), Per: per}, nil
}

// splitRate splits "count[/per]" and parses per (default 1s).
func splitRate(s string) (string, time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", 0, errors.New("empty")
	}
	countStr, perStr, hasPer := strings.Cut(s, "/")
	countStr = strings.TrimSpace(countStr)
	if !hasPer {
		return countStr, time.Second, nil
	}
	perStr = strings.TrimSpace(perStr)
	if perStr == "" {
		return "", 0, errors.New("missing period after /")
	}
	if c := perStr[0]; c < '0' || c > '9' {
		if c == '.' || c == '-' || c == '+' {
			return "", 0, fmt.Errorf("bad period %q", perStr)
		}
		perStr = "1" + perStr
	}
	per, err := time.ParseDuration(perStr)
	if err != nil {
		return "", 0, fmt.Errorf("bad period: %w", err)
	}
	if per <= 0 {
		return "", 0, fmt.Errorf("period %q must be positive", perStr)
	}
	return countStr, per, nil
}

// Stage is one segment of a ramp: over Duration the rate moves linearly from
// the previous stage's target (0 for the first) to Target per second.
type Stage struct {
	Duration time.Duration `json:"duration"`
	Target   float64       `json:"target_per_s"`
}

// MarshalJSON writes the duration as a Go duration string ("30s").
func (s Stage) MarshalJSON() ([]byte, error) {
	return fmt.Appendf(nil, `{"duration":%q,"target_per_s":%s}`, s.Duration.String(),
		strconv.FormatFloat(s.Target, 'f', -1, 64)), nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *Stage) UnmarshalJSON(b []byte) error {
	var raw struct {
		Duration string  `json:"duration"`
		Target   float64 `json:"target_per_s"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	d, err := time.ParseDuration(raw.Duration)
	if err != nil {
		return fmt.Errorf("stage duration: %w", err)
	}
	s.Duration, s.Target = d, raw.Target
	return nil
}

// ParseStages parses a k6-style ramp profile:
//
//	stages   = stage { "," stage }
//	stage    = duration ":" target
//	duration = Go duration > 0, e.g. "30s", "1m30s"
//	target   = number [ "/" per ]           (rate at the end of the stage; "/s" by default)
//	number   = digit { digit } [ "." digit { digit } ]
//	per      = [ number ] unit              (as in ParseRate)
//
// "30s:10/s,1m:50/s,30s:0/s" ramps from 0 to 10/s over 30 s, to 50/s over
// the next minute, then down to 0 over 30 s. At most 100 stages of 100,000/s.
func ParseStages(s string) ([]Stage, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("stages: empty")
	}
	items := strings.Split(s, ",")
	if len(items) > maxStages {
		return nil, fmt.Errorf("stages: %d stages, at most %d", len(items), maxStages)
	}
	out := make([]Stage, 0, len(items))
	for i, item := range items {
		item = strings.TrimSpace(item)
		durStr, targetStr, ok := strings.Cut(item, ":")
		if !ok {
			return nil, fmt.Errorf("stages: stage %d %q: want DURATION:RATE, e.g. 30s:10/s", i+1, item)
		}
		d, err := time.ParseDuration(strings.TrimSpace(durStr))
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("stages: stage %d %q: duration must be a positive Go duration such as 30s", i+1, item)
		}
		countStr, per, err := splitRate(targetStr)
		if err != nil {
			return nil, fmt.Errorf("stages: stage %d %q: %w", i+1, item, err)
		}
		n, err := strconv.ParseFloat(countStr, 64)
		if err != nil || !number.MatchString(countStr) {
			return nil, fmt.Errorf("stages: stage %d %q: target must be a number of requests", i+1, item)
		}
		target := n / per.Seconds()
		if math.IsNaN(target) || target < 0 || target > maxRate {
			return nil, fmt.Errorf("stages: stage %d %q: target must be between 0 and %d/s", i+1, item, maxRate)
		}
		out = append(out, Stage{Duration: d, Target: target})
	}
	if !slices.ContainsFunc(out, func(s Stage) bool { return s.Target > 0 }) {
		return nil, errors.New("stages: every target is 0: nothing would be sent")
	}
	if _, err := newRamp(out); err != nil {
		return nil, err
	}
	return out, nil
}

// number is digits with an optional fraction, as the grammars allow
// (strconv.ParseFloat also takes "inf", "1e3", "0x1p3").
var number = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

// schedule gives the intended send offset of request n (0-based; false past
// the profile's end), which the pacer aims at and latency is measured from,
// the requests scheduled before d, and the rate per second at elapsed.
type schedule interface {
	offset(n uint64) (time.Duration, bool)
	count(d time.Duration) uint64
	rate(elapsed time.Duration) float64
}

// constSchedule sends request n at n×interval.
type constSchedule struct{ interval float64 } // nanoseconds

func newConstSchedule(r vegeta.Rate) constSchedule {
	return constSchedule{interval: float64(r.Per) / float64(r.Freq)}
}

func (c constSchedule) offset(n uint64) (time.Duration, bool) {
	v := float64(n) * c.interval
	if v >= math.MaxInt64/2 {
		return 0, false
	}
	return time.Duration(v), true
}

func (c constSchedule) count(d time.Duration) uint64 {
	if d <= 0 {
		return 0
	}
	return uint64(math.Ceil(float64(d) / c.interval))
}

func (c constSchedule) rate(time.Duration) float64 { return 1e9 / c.interval }

// ramp is the immutable schedule of a piecewise-linear profile: request n is
// due when the integral of the rate reaches n.
type ramp struct {
	stages []Stage
	starts []time.Duration // start offset of each stage
	cum    []float64       // requests scheduled before each stage, then in all
	total  time.Duration
}

// newRamp returns the schedule of stages, which must be non-empty with
// positive durations and targets in [0, maxRate].
func newRamp(stages []Stage) (*ramp, error) {
	if len(stages) == 0 {
		return nil, errors.New("stages: empty")
	}
	p := &ramp{stages: slices.Clone(stages), cum: []float64{0}}
	for i, st := range stages {
		if st.Duration <= 0 || math.IsNaN(st.Target) || st.Target < 0 || st.Target > maxRate {
			return nil, fmt.Errorf("stages: stage %d: need a positive duration and a target in [0, %d]", i+1, maxRate)
		}
		if p.total > math.MaxInt64/2-st.Duration {
			return nil, errors.New("stages: total duration too long")
		}
		p.starts = append(p.starts, p.total)
		p.cum = append(p.cum, p.cum[i]+(p.from(i)+st.Target)/2*st.Duration.Seconds())
		p.total += st.Duration
	}
	return p, nil
}

// from is the rate stage i starts from: the previous stage's target.
func (p *ramp) from(i int) float64 {
	if i == 0 {
		return 0
	}
	return p.stages[i-1].Target
}

// stageAt is the stage running at d, within the profile.
func (p *ramp) stageAt(d time.Duration) int {
	return sort.Search(len(p.starts), func(i int) bool { return p.starts[i] > d }) - 1
}

func (p *ramp) rate(elapsed time.Duration) float64 {
	if elapsed < 0 || elapsed >= p.total {
		return 0
	}
	i := p.stageAt(elapsed)
	frac := float64(elapsed-p.starts[i]) / float64(p.stages[i].Duration)
	return p.from(i) + (p.stages[i].Target-p.from(i))*frac
}

func (p *ramp) offset(n uint64) (time.Duration, bool) {
	x := float64(n)
	// First stage whose cumulative count at its end exceeds x.
	i := sort.Search(len(p.stages), func(i int) bool { return p.cum[i+1] > x })
	if i == len(p.stages) {
		return 0, false
	}
	from, st := p.from(i), p.stages[i]
	m := x - p.cum[i] // requests into this stage
	var tau float64   // seconds into this stage
	if m > 0 {
		// Solve a·τ² + b·τ = m with b = from, a = (to-from)/(2D); the form
		// 2m/(b+√(b²+4am)) is stable for a ≈ 0 and for ramps down.
		a := (st.Target - from) / (2 * st.Duration.Seconds())
		den := from + math.Sqrt(max(from*from+4*a*m, 0))
		if den <= 0 {
			return 0, false
		}
		tau = 2 * m / den
	}
	d := p.starts[i] + time.Duration(tau*1e9)
	return min(d, p.starts[i]+st.Duration), true
}

func (p *ramp) count(d time.Duration) uint64 {
	if d <= 0 {
		return 0
	}
	if d >= p.total {
		return uint64(math.Ceil(p.cum[len(p.stages)]))
	}
	i := p.stageAt(d)
	t := (d - p.starts[i]).Seconds()
	return uint64(math.Ceil(p.cum[i] + (p.from(i)+p.rate(d))/2*t))
}
