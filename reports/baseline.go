package reports

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/xoneharness/xoneharness/contract"
)

// DefaultTolerance is the default regression tolerance: a metric more than
// 10 % worse than in the baseline is a regression.
const DefaultTolerance = 0.10

// Metric names of a [Comparison], with their units in the name as in
// summary.json.
const (
	MetricLatencyP50 = "latency_p50_ms"
	MetricLatencyP95 = "latency_p95_ms"
	MetricLatencyP99 = "latency_p99_ms"
	MetricErrorRate  = "error_rate"
	MetricThroughput = "throughput_per_s"
)

// Noise floors: a change smaller than this, in the metric's unit, is never a
// regression whatever its relative size, so that a loopback p50 moving from
// 0.3 ms to 0.4 ms or an error rate moving from 0 to 0.01 % does not fail a
// nightly run.
const (
	floorLatencyMs  = 1.0   // 1 ms
	floorErrorRate  = 0.001 // 0.1 percentage point
	floorThroughput = 1.0   // 1 response per second
)

// Comparison is a report compared with a baseline report (a previous
// summary.json). It is plain data, written into summary.json as "baseline"
// and shown by every writer.
//
// Metrics are compared only when both reports have a load section; contract
// case outcomes only when both have a contract section (Notes says what was
// not compared and why).
type Comparison struct {
	// Baseline says what the baseline was. Compare fills it with the
	// baseline's kind and start time; a caller that loaded the baseline with
	// LoadBaseline usually replaces it with the path it was given.
	Baseline string `json:"baseline"`
	// BaselineStartedAt is when the baseline run started (UTC).
	BaselineStartedAt time.Time `json:"baseline_started_at"`
	// Tolerance is the relative worsening allowed before a metric is a
	// regression (0.1 = 10 %).
	Tolerance float64 `json:"tolerance"`
	// Metrics are the load figures compared, in a fixed order: p50, p95 and
	// p99 latency, error rate, throughput.
	Metrics []MetricDelta `json:"metrics"`
	// Cases are the contract cases whose outcome differs from the baseline's
	// (cases with the same outcome are left out), in the current report's
	// order, then cases only the baseline has.
	Cases []CaseDelta `json:"cases"`
	// Regressions counts metrics and cases marked Regression. A regression
	// is a finding: Report.Decide turns the verdict to fail when it is above
	// zero.
	Regressions int `json:"regressions"`
	// Notes are one-line remarks: sections that could not be compared, a
	// baseline that itself failed.
	Notes []string `json:"notes,omitempty"`
}

// MetricDelta is one figure in the baseline and now. Change is relative,
// (Current-Baseline)/Baseline: +0.25 is 25 % higher. With a zero baseline
// Change is 0 when Current is 0 too and ±1 otherwise. Regression is true when
// the figure moved in its bad direction (up for latency and error rate, down
// for throughput) by more than the tolerance and by more than the metric's
// noise floor (1 ms, 0.1 percentage point, 1 response/s).
type MetricDelta struct {
	Name       string  `json:"name"`
	Unit       string  `json:"unit"`
	Baseline   float64 `json:"baseline"`
	Current    float64 `json:"current"`
	Change     float64 `json:"change"`
	Regression bool    `json:"regression"`
}

// CaseDelta is a contract case whose outcome changed. An empty outcome means
// the case is missing from that report. Regression is true when the case
// passed (or drifted) in the baseline and fails now.
type CaseDelta struct {
	Name       string           `json:"name"`
	Baseline   contract.Outcome `json:"baseline"`
	Current    contract.Outcome `json:"current"`
	Regression bool             `json:"regression"`
}

// Compare compares current with baseline. It returns nil when either is nil.
// tolerance is a fraction (0.1 = 10 %); a negative or NaN tolerance is taken
// as 0. Compare does not modify either report: assign the result to
// current.Baseline and call Decide.
func Compare(baseline, current *Report, tolerance float64) *Comparison {
	if baseline == nil || current == nil {
		return nil
	}
	if !(tolerance >= 0) || math.IsInf(tolerance, 0) {
		tolerance = 0
	}
	c := &Comparison{
		Baseline:          fmt.Sprintf("%s report started %s", orUnknown(baseline.Kind), baseline.StartedAt.UTC().Format(time.RFC3339)),
		BaselineStartedAt: baseline.StartedAt.UTC(),
		Tolerance:         tolerance,
		Metrics:           []MetricDelta{},
		Cases:             []CaseDelta{},
	}
	if baseline.Verdict != "" && baseline.Verdict != VerdictPass {
		c.Notes = append(c.Notes, fmt.Sprintf("the baseline's own verdict was %s", baseline.Verdict))
	}
	switch bl, cl := baseline.Load, current.Load; {
	case bl != nil && cl != nil:
		add := func(name, unit string, b, cur, floor float64, higherIsWorse bool) {
			d := MetricDelta{Name: name, Unit: unit, Baseline: b, Current: cur, Change: relChange(b, cur)}
			worse := cur - b
			if !higherIsWorse {
				worse = -worse
			}
			d.Regression = worse > floor && worse > tolerance*math.Abs(b)
			c.Metrics = append(c.Metrics, d)
		}
		add(MetricLatencyP50, "ms", bl.Latency.P50, cl.Latency.P50, floorLatencyMs, true)
		add(MetricLatencyP95, "ms", bl.Latency.P95, cl.Latency.P95, floorLatencyMs, true)
		add(MetricLatencyP99, "ms", bl.Latency.P99, cl.Latency.P99, floorLatencyMs, true)
		add(MetricErrorRate, "ratio", bl.ErrorRate, cl.ErrorRate, floorErrorRate, true)
		add(MetricThroughput, "1/s", bl.Throughput, cl.Throughput, floorThroughput, false)
	case cl != nil:
		c.Notes = append(c.Notes, "load figures not compared: the baseline has no load section")
	case bl != nil:
		c.Notes = append(c.Notes, "load figures not compared: this report has no load section")
	}
	switch bc, cc := baseline.Contract, current.Contract; {
	case bc != nil && cc != nil:
		seen := map[string]bool{}
		for _, cs := range cc.Cases {
			seen[cs.Name] = true
			var before contract.Outcome
			if b := bc.Case(cs.Name); b != nil {
				before = b.Outcome
			}
			if before == cs.Outcome {
				continue
			}
			c.Cases = append(c.Cases, CaseDelta{Name: cs.Name, Baseline: before, Current: cs.Outcome,
				Regression: cs.Outcome == contract.OutcomeFail && (before == contract.OutcomePass || before == contract.OutcomeDrift)})
		}
		for _, bs := range bc.Cases {
			if !seen[bs.Name] {
				c.Cases = append(c.Cases, CaseDelta{Name: bs.Name, Baseline: bs.Outcome})
			}
		}
	case cc != nil:
		c.Notes = append(c.Notes, "contract outcomes not compared: the baseline has no contract section")
	case bc != nil:
		c.Notes = append(c.Notes, "contract outcomes not compared: this report has no contract section")
	}
	for _, m := range c.Metrics {
		if m.Regression {
			c.Regressions++
		}
	}
	for _, cs := range c.Cases {
		if cs.Regression {
			c.Regressions++
		}
	}
	return c
}

func relChange(b, cur float64) float64 {
	switch {
	case b != 0:
		return (cur - b) / math.Abs(b)
	case cur > 0:
		return 1
	case cur < 0:
		return -1
	}
	return 0
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// LoadBaseline reads a baseline report: path is a summary.json or a report
// directory that contains one. Errors name the path.
func LoadBaseline(path string) (*Report, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("reports: baseline %s: %w", path, err)
	}
	file := path
	if fi.IsDir() {
		file = filepath.Join(path, FileName(FormatJSON))
		if _, err := os.Stat(file); err != nil {
			return nil, fmt.Errorf("reports: baseline %s: directory has no %s: %w", path, FileName(FormatJSON), err)
		}
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reports: baseline %s: %w", file, err)
	}
	r, err := parseBaseline(b)
	if err != nil {
		return nil, fmt.Errorf("reports: baseline %s:%d: %w", file, jsonErrorLine(b, err), err)
	}
	return r, nil
}

// parseBaseline decodes a summary.json and checks it is one.
func parseBaseline(b []byte) (*Report, error) {
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("not a summary.json: %w", err)
	}
	switch {
	case r.SchemaVersion == 0:
		return nil, errors.New("not a summary.json: no schema_version")
	case r.SchemaVersion != SchemaVersion:
		return nil, fmt.Errorf("schema_version %d, this tool reads %d", r.SchemaVersion, SchemaVersion)
	}
	return &r, nil
}

// ParseTolerance parses a regression tolerance: a percentage ("10%",
// "2.5 %") or a fraction ("0.1"). Grammar:
//
//	tolerance = number "%" | fraction
//	number    = a non-negative decimal, at most 1000
//	fraction  = a decimal in [0, 1]
//
// A bare number above 1 is refused as ambiguous ("10" could mean 10 % or
// 1000 %). The result is a fraction: "10%" gives 0.1.
func ParseTolerance(s string) (float64, error) {
	in := strings.TrimSpace(s)
	num, pct := strings.CutSuffix(in, "%")
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

// markdownBaseline writes the comparison as a report.md section (a table of
// the metrics, then the changed contract cases). Markdown calls it after the
// load section when Report.Baseline is set.
func markdownBaseline(p func(string, ...any), c *Comparison) {
	p("### Baseline comparison\n\n")
	verdict := "no regression"
	if c.Regressions > 0 {
		verdict = fmt.Sprintf("**%d regression(s)**", c.Regressions)
	}
	p("Compared with %s · tolerance %s · %s\n\n", mdCell(c.Baseline), fmtPct(c.Tolerance), verdict)
	for _, n := range c.Notes {
		p("- %s\n", mdCell(n))
	}
	if len(c.Notes) > 0 {
		p("\n")
	}
	if len(c.Metrics) > 0 {
		p("| metric | baseline | current | change | result |\n|---|---:|---:|---:|---|\n")
		for _, m := range c.Metrics {
			p("| %s | %s %s | %s %s | %s | %s |\n", mdCell(m.Name), fmtNum(m.Baseline), mdCell(m.Unit),
				fmtNum(m.Current), mdCell(m.Unit), fmtSignedPct(m.Change), regressionLabel(m.Regression))
		}
		p("\n")
	}
	if len(c.Cases) > 0 {
		p("| contract case | baseline | current | result |\n|---|---|---|---|\n")
		for _, cs := range c.Cases {
			p("| %s | %s | %s | %s |\n", mdCell(cs.Name), outcomeOrDash(cs.Baseline), outcomeOrDash(cs.Current),
				regressionLabel(cs.Regression))
		}
		p("\n")
	}
}

func regressionLabel(r bool) string {
	if r {
		return "**REGRESSION**"
	}
	return "ok"
}

func outcomeOrDash(o contract.Outcome) string {
	if o == "" {
		return "–"
	}
	return mdCell(string(o))
}

// junitBaselineSuite returns the comparison as a junit.xml testsuite named
// "baseline": one testcase per metric and per changed contract case, a
// regression being a failure. JUnit appends it when Report.Baseline is set.
func junitBaselineSuite(c *Comparison) junitSuite {
	s := junitSuite{Name: "baseline", Time: "0", Timestamp: c.BaselineStartedAt.UTC().Format(time.RFC3339),
		Properties: []junitProperty{{"baseline", c.Baseline}, {"tolerance", fmtNum(c.Tolerance)}}}
	add := func(name, text string, regression bool) {
		tc := junitCase{Name: name, Classname: "xoneharness.baseline", Time: "0"}
		if regression {
			tc.Failure = &junitFailure{Message: "regression: " + text, Type: "regression", Text: text}
			s.Failures++
		} else {
			tc.SystemOut = text
		}
		s.Tests++
		s.Cases = append(s.Cases, tc)
	}
	for _, m := range c.Metrics {
		add(m.Name, fmt.Sprintf("baseline %s %s, current %s %s (%s)", fmtNum(m.Baseline), m.Unit,
			fmtNum(m.Current), m.Unit, fmtSignedPct(m.Change)), m.Regression)
	}
	for _, cs := range c.Cases {
		add("contract case "+cs.Name, fmt.Sprintf("baseline %s, current %s", outcomeOrDash(cs.Baseline),
			outcomeOrDash(cs.Current)), cs.Regression)
	}
	return s
}
