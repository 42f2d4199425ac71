package reports

import (
	"cmp"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/xoneharness/xoneharness/contract"
	"github.com/xoneharness/xoneharness/load"
)

// Comparison is a report compared with a baseline report (a previous summary.json), written into
// summary.json as "baseline" and shown by every writer.
type Comparison struct {
	// Baseline says what the baseline was: its kind and start time, or the path a caller sets.
	Baseline string `json:"baseline"`
	// BaselineStartedAt is when the baseline run started (UTC).
	BaselineStartedAt time.Time `json:"baseline_started_at"`
	// Tolerance is the relative worsening allowed before a metric is a regression (0.1 = 10 %).
	Tolerance float64 `json:"tolerance"`
	// Metrics are the load figures compared, in this order: latency_p50_ms, latency_p95_ms,
	// latency_p99_ms, error_rate, throughput_per_s.
	Metrics []MetricDelta `json:"metrics"`
	// Cases are the contract cases whose outcome changed, in the current report's order, then
	// those only the baseline has.
	Cases []CaseDelta `json:"cases"`
	// Regressions counts metrics and cases marked Regression (findings: Decide fails the run).
	Regressions int `json:"regressions"`
	// Notes say what could not be compared and whether the baseline itself failed.
	Notes []string `json:"notes,omitempty"`
	// NothingComparable is true when no figure and no contract case could be compared: Decide then
	// calls the run incomplete.
	NothingComparable bool `json:"nothing_comparable,omitempty"`
}

// MetricDelta is one figure in the baseline and now. Change is (Current-Baseline)/|Baseline| (+0.25
// is 25 % higher; from a zero baseline 0 or ±1). Regression is true when the figure moved in its
// bad direction by more than the tolerance and the metric's noise floor (1 ms, 0.1 percentage
// point, 1 response/s).
type MetricDelta struct {
	Name       string  `json:"name"`
	Unit       string  `json:"unit"`
	Baseline   float64 `json:"baseline"`
	Current    float64 `json:"current"`
	Change     float64 `json:"change"`
	Regression bool    `json:"regression"`
}

// CaseDelta is a contract case whose outcome changed ("" where it did not run). Regression is true
// when it passed (or drifted) in the baseline and fails now.
type CaseDelta struct {
	Name       string           `json:"name"`
	Baseline   contract.Outcome `json:"baseline"`
	Current    contract.Outcome `json:"current"`
	Regression bool             `json:"regression"`
}

// Compare compares current with baseline (nil when either is nil), tolerance a fraction (0.1 = 10
// %; negative or NaN is 0). It modifies neither report: assign the result to current.Baseline and
// call Decide.
func Compare(baseline, current *Report, tolerance float64) *Comparison {
	if baseline == nil || current == nil {
		return nil
	}
	if !(tolerance >= 0) || math.IsInf(tolerance, 0) {
		tolerance = 0
	}
	c := &Comparison{
		Baseline:          fmt.Sprintf("%s report started %s", cmp.Or(baseline.Kind, "unknown"), cmp.Or(utc(time.RFC3339, baseline.StartedAt), "unknown")),
		BaselineStartedAt: baseline.StartedAt.UTC(),
		Tolerance:         tolerance,
		Metrics:           []MetricDelta{},
		Cases:             []CaseDelta{},
	}
	if baseline.Verdict != "" && baseline.Verdict != VerdictPass {
		c.Notes = append(c.Notes, fmt.Sprintf("the baseline's own verdict was %s", baseline.Verdict))
	}
	loads := c.compareLoad(baseline.Load, current.Load)
	cases := c.compareContract(baseline.Contract, current.Contract)
	c.NothingComparable = !loads && !cases
	if c.NothingComparable {
		c.Notes = append(c.Notes, fmt.Sprintf("nothing comparable: a %s report compared with a %s report", cmp.Or(current.Kind, "unknown"), cmp.Or(baseline.Kind, "unknown")))
	}
	for _, cs := range c.Cases {
		c.Regressions += b2i(cs.Regression)
	}
	return c
}

// compareLoad adds the load figures when both reports sent requests, and reports whether it did.
func (c *Comparison) compareLoad(bl, cl *load.Result) bool {
	why := ""
	switch {
	case bl == nil && cl == nil:
		return false
	case bl == nil:
		why = "the baseline has no load section"
	case cl == nil:
		why = "this report has no load section"
	case bl.Requests == 0:
		why = "the baseline sent no request"
	case cl.Requests == 0:
		why = "this report sent no request"
	}
	if why != "" {
		c.Notes = append(c.Notes, "load figures not compared: "+why)
		return false
	}
	// floor is the noise floor: a loopback p50 from 0.3 to 0.4 ms must not fail a nightly run.
	add := func(name, unit string, b, cur, floor float64, higherIsWorse bool) {
		d := MetricDelta{Name: name, Unit: unit, Baseline: b, Current: cur, Change: relChange(b, cur)}
		worse := cur - b
		if !higherIsWorse {
			worse = -worse
		}
		d.Regression = worse > floor && worse > c.Tolerance*math.Abs(b)
		c.Metrics, c.Regressions = append(c.Metrics, d), c.Regressions+b2i(d.Regression)
	}
	add("latency_p50_ms", "ms", bl.Latency.P50, cl.Latency.P50, 1, true)
	add("latency_p95_ms", "ms", bl.Latency.P95, cl.Latency.P95, 1, true)
	add("latency_p99_ms", "ms", bl.Latency.P99, cl.Latency.P99, 1, true)
	add("error_rate", "ratio", bl.ErrorRate, cl.ErrorRate, 0.001, true)
	add("throughput_per_s", "1/s", bl.Throughput, cl.Throughput, 1, false)
	return true
}

// compareContract adds the cases whose outcome changed, and reports whether any ran in both.
func (c *Comparison) compareContract(bc, cc *contract.Result) bool {
	if bc == nil || cc == nil {
		switch {
		case cc != nil:
			c.Notes = append(c.Notes, "contract outcomes not compared: the baseline has no contract section")
		case bc != nil:
			c.Notes = append(c.Notes, "contract outcomes not compared: this report has no contract section")
		}
		return false
	}
	seen := map[string]bool{}
	common := false
	for _, cs := range cc.Cases {
		seen[cs.Name] = true
		var before contract.Outcome
		if b := bc.Case(cs.Name); b != nil {
			before, common = b.Outcome, true
		}
		if before != cs.Outcome {
			c.Cases = append(c.Cases, CaseDelta{Name: cs.Name, Baseline: before, Current: cs.Outcome,
				Regression: cs.Outcome == contract.OutcomeFail && (before == contract.OutcomePass || before == contract.OutcomeDrift)})
		}
	}
	for _, bs := range bc.Cases {
		if !seen[bs.Name] {
			c.Cases = append(c.Cases, CaseDelta{Name: bs.Name, Baseline: bs.Outcome})
		}
	}
	if !common {
		c.Notes = append(c.Notes, "contract outcomes not compared: no case ran in both reports")
	}
	return common
}

func relChange(b, cur float64) float64 {
	if b == 0 {
		return float64(b2i(cur > 0) - b2i(cur < 0))
	}
	return (cur - b) / math.Abs(b)
}

// LoadBaseline reads a baseline report from a summary.json or a report directory holding one.
func LoadBaseline(path string) (*Report, error) {
	file := path
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		if file = filepath.Join(path, FileName(FormatJSON)); !regular(file) {
			return nil, fmt.Errorf("reports: baseline %s: directory has no %s", path, FileName(FormatJSON))
		}
	}
	r, err := readSummary(file)
	if err != nil {
		return nil, fmt.Errorf("reports: baseline %w", err)
	}
	return r, nil
}

// ParseTolerance parses a regression tolerance: a percentage ("10%", "2.5 %") or a fraction
// ("0.1"). Grammar:
//
//	tolerance = number "%" | fraction
//	number    = a non-negative decimal, at most 1000
//	fraction  = a decimal in [0, 1]
//
// A bare number above 1 is refused as ambiguous ("10" could mean 10 % or 1000 %). The result is a
// fraction: "10%" gives 0.1.
func ParseTolerance(s string) (float64, error) {
	num, pct := strings.CutSuffix(strings.TrimSpace(s), "%")
	num = strings.TrimSpace(num)
	if num == "" {
		return 0, fmt.Errorf("tolerance %q: empty, want a percentage such as 10%% or a fraction such as 0.1", s)
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || strings.ContainsAny(num, "xXpP_") {
		return 0, fmt.Errorf("tolerance %q: not a number, want a percentage such as 10%% or a fraction such as 0.1", s)
	}
	if v < 0 {
		return 0, fmt.Errorf("tolerance %q: negative", s)
	}
	if pct {
		if v > 1000 {
			return 0, fmt.Errorf("tolerance %q: above 1000%%", s)
		}
		return v / 100, nil
	}
	if v > 1 {
		return 0, fmt.Errorf("tolerance %q: a bare number is a fraction (0.1 = 10%%); write %s%% for a percentage", s, num)
	}
	return v, nil
}
