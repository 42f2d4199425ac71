package load

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Threshold is a pass/fail criterion on a run's result (ParseThreshold), its
// Value in Unit: "ms" (latencies), "%", "/s" (rates) or "" (counts, ratios).
type Threshold struct {
	Expr   string  `json:"expr"`
	Metric string  `json:"metric"`
	Op     string  `json:"op"`
	Value  float64 `json:"value"`
	Unit   string  `json:"unit,omitempty"`
}

// ThresholdResult is one evaluated threshold, Observed in its Unit. NoData
// marks a metric without enough samples (Note says why): neither passed nor
// failed, it makes the run incomplete.
type ThresholdResult struct {
	Expr     string  `json:"expr"`
	Observed float64 `json:"observed"`
	Unit     string  `json:"unit,omitempty"`
	Passed   bool    `json:"passed"`
	NoData   bool    `json:"no_data,omitempty"`
	Note     string  `json:"note,omitempty"`
}

// ThresholdError is a malformed threshold expression, the problem starting
// at the 1-based byte column Pos.
type ThresholdError struct {
	Expr string
	Pos  int
	Msg  string
}

// Error implements error: `threshold "EXPR": column N: problem`.
func (e *ThresholdError) Error() string {
	return fmt.Sprintf("threshold %q: column %d: %s", e.Expr, e.Pos, e.Msg)
}

// metricKind says how a metric's value is written and compared: a latency
// in ms, a ratio (0..1 or %), a rate per second, a count (or % of a base).
type metricKind int

const (
	kindLatency metricKind = iota
	kindRatio
	kindRate
	kindCount
)

// namedMetrics are the metrics besides percentiles and status_NNN.
var namedMetrics = map[string]metricKind{
	"min": kindLatency, "mean": kindLatency, "max": kindLatency,
	"error_rate": kindRatio, "success_ratio": kindRatio,
	"throughput": kindRate, "rate_achieved": kindRate,
	"requests": kindCount, "schema_violations": kindCount, "late_sends": kindCount,
	"transport_errors": kindCount, "status_2xx": kindCount, "status_4xx": kindCount,
	"status_5xx": kindCount, "status_undocumented": kindCount, "double_bookings": kindCount,
}

const metricList = "pNN (p50, p99, p99.9, p999, p100), min, mean, max, error_rate, success_ratio, throughput, rate_achieved, requests, schema_violations, status_undocumented, late_sends, transport_errors, status_2xx, status_4xx, status_5xx, status_NNN, double_bookings"

// ParseThreshold parses a threshold expression:
//
//	threshold  = metric op value
//	metric     = percentile | "min" | "mean" | "max"            (latency from the intended send time)
//	           | "error_rate" | "success_ratio"                   (ratio)
//	           | "throughput" | "rate_achieved"                   (per second)
//	           | "requests" | "schema_violations" | "late_sends"
//	           | "transport_errors" | "status_2xx" | "status_4xx"
//	           | "status_5xx" | "status_undocumented"
//	           | "status_" digit digit digit                       (count)
//	           | "double_bookings"                                 (count: race groups, Plan.Race)
//	percentile = "p" pct
//	pct        = digit [ digit ] [ "." digit { digit } ]          (p1 … p99, p99.9, p0.5)
//	           | "99" digit { digit }                             (p999 means p99.9, p9999 p99.99)
//	           | "100"                                            (the maximum)
//	op         = "<" | "<=" | ">" | ">=" | "=="
//	value      = number [ unit ]
//	number     = digit { digit } [ "." digit { digit } ]
//	unit       = "us" | "µs" | "ms" | "s" | "m"                  (latency; bare number = ms)
//	           | "%"                                              (ratio, or count as % of requests;
//	                                                               schema_violations: % of validated;
//	                                                               double_bookings: % of race groups)
//	           | "/s"                                             (rate; optional)
//
// Spaces around the operator and before the unit are allowed. A ratio without %
// must be in [0, 1]. Examples: p99<800ms, p95<=0.5s, error_rate<1%,
// success_ratio>=99%, throughput>=45, schema_violations==0, late_sends<1%,
// status_5xx==0. Errors are *ThresholdError.
func ParseThreshold(s string) (Threshold, error) {
	fail := func(pos int, format string, args ...any) (Threshold, error) {
		return Threshold{}, &ThresholdError{Expr: s, Pos: pos + 1, Msg: fmt.Sprintf(format, args...)}
	}
	if len(s) > 200 {
		return fail(200, "expression longer than 200 bytes")
	}
	m := thresholdSyntax.FindStringSubmatchIndex(s)
	name, op, numStr := s[m[2]:m[3]], s[m[4]:m[5]], s[m[6]:m[7]]
	if name == "" {
		return fail(m[2], "missing metric: want one of %s", metricList)
	}
	kind, metric, ok := lookupMetric(name)
	if !ok {
		return fail(m[2], "unknown metric %q: want one of %s", name, metricList)
	}
	switch op {
	case "<", "<=", ">", ">=", "==":
	case "":
		return fail(m[4], "missing operator after %q: want one of < <= > >= ==", name)
	default:
		return fail(m[4], "unknown operator %q: want one of < <= > >= ==", op)
	}
	if numStr == "" {
		return fail(m[6], "missing number after %q", op)
	}
	v, err := strconv.ParseFloat(numStr, 64)
	if !number.MatchString(numStr) || err != nil || math.IsInf(v, 0) {
		return fail(m[6], "bad number %q", numStr)
	}
	t := Threshold{Expr: strings.TrimSpace(s), Metric: metric, Op: op, Value: v}
	if pos, msg := t.setUnit(kind, strings.TrimRight(s[m[8]:], " \t"), numStr, m[6], m[8]); msg != "" {
		return fail(pos, "%s", msg)
	}
	return t, nil
}

// thresholdSyntax splits an expression into its metric, operator, number
// and unit, each after optional blanks; statusMetric is status_NNN.
var (
	thresholdSyntax = regexp.MustCompile(`(?s)^[ \t]*([_.0-9A-Za-z]*)[ \t]*([<>=!]*)[ \t]*([.0-9]*)[ \t]*(.*)$`)
	statusMetric    = regexp.MustCompile(`^status_[1-5][0-9][0-9]$`)
)

// setUnit checks unit for the metric's kind and converts t.Value; it returns
// where a problem is and what, or "".
func (t *Threshold) setUnit(kind metricKind, unit, numStr string, nStart, uStart int) (int, string) {
	switch {
	case kind == kindLatency:
		mult, ok := map[string]float64{"": 1, "ms": 1, "us": 1e-3, "µs": 1e-3, "s": 1e3, "m": 60e3}[unit]
		if !ok {
			return uStart, fmt.Sprintf("unit %q is not a duration unit (us, ms, s, m) for latency metric %s", unit, t.Metric)
		}
		t.Value, t.Unit = t.Value*mult, "ms"
	case kind == kindRate:
		if unit != "" && unit != "/s" {
			return uStart, fmt.Sprintf("unit %q not valid for %s: want a number per second (e.g. 45 or 45/s)", unit, t.Metric)
		}
		t.Unit = "/s"
	case unit == "%": // a ratio or a count
		if t.Value > 100 {
			return nStart, fmt.Sprintf("percentage %s above 100", numStr)
		}
		t.Unit = "%"
	case unit != "" && kind == kindRatio:
		return uStart, fmt.Sprintf("unit %q not valid for %s: want %% or a ratio in [0, 1]", unit, t.Metric)
	case unit != "":
		return uStart, fmt.Sprintf("unit %q not valid for %s: want a count or a percentage", unit, t.Metric)
	case kind == kindRatio && t.Value > 1:
		return nStart, fmt.Sprintf("ratio %s above 1: write a percentage with %% (e.g. %s%%)", numStr, numStr)
	case kind == kindCount && t.Value != math.Trunc(t.Value):
		return nStart, fmt.Sprintf("%s is not a whole number: %s counts responses (write a share with %%, e.g. %s%%)", numStr, t.Metric, numStr)
	}
	return 0, ""
}

// lookupMetric resolves a metric name to its kind and canonical spelling.
func lookupMetric(name string) (metricKind, string, bool) {
	if k, ok := namedMetrics[name]; ok {
		return k, name, true
	}
	if statusMetric.MatchString(name) {
		return kindCount, name, true
	}
	if q, ok := percentileOf(name); ok {
		return kindLatency, "p" + strconv.FormatFloat(q, 'f', -1, 64), true
	}
	return 0, "", false
}

// percentileOf parses "p99" → 99, "p99.9" and "p999" → 99.9, "p100" → 100;
// other digits without a point ("p500") are refused rather than guessed.
func percentileOf(name string) (float64, bool) {
	digits, ok := strings.CutPrefix(name, "p")
	if !ok || !number.MatchString(digits) {
		return 0, false
	}
	if !strings.Contains(digits, ".") && len(digits) > 2 && digits != "100" {
		if !strings.HasPrefix(digits, "99") {
			return 0, false
		}
		digits = digits[:2] + "." + digits[2:]
	}
	q, err := strconv.ParseFloat(digits, 64)
	if err != nil || q <= 0 || q > 100 {
		return 0, false
	}
	return q, true
}

// compare applies op to observed and want, with a tolerance for equality.
func compare(observed float64, op string, want float64) bool {
	const eps = 1e-9
	return map[string]bool{"<": observed < want, "<=": observed <= want+eps, ">": observed > want,
		">=": observed >= want-eps, "==": math.Abs(observed-want) <= eps}[op]
}

// EvaluateThresholds sets r.Thresholds to the evaluation of ts against r's
// reported fields, in order, so it also works on a merged result.
func EvaluateThresholds(r *Result, ts []Threshold) {
	r.Thresholds = make([]ThresholdResult, 0, len(ts))
	for _, t := range ts {
		obs, note := observe(r, t)
		tr := ThresholdResult{Expr: t.Expr, Observed: round(obs, 6), Unit: t.Unit, Note: note}
		tr.NoData = note != ""
		tr.Passed = !tr.NoData && compare(obs, t.Op, t.Value)
		r.Thresholds = append(r.Thresholds, tr)
	}
}

// noData says why t's metric has no sample in r, or too few to mean
// anything, or "" when it has enough.
func noData(r *Result, t Threshold) string {
	kind, _, _ := lookupMetric(t.Metric)
	switch {
	case t.Metric == "double_bookings" && (r.Race == nil || r.Race.Attempts == r.Race.Statuses["0"]):
		return "no confirm of a race group was answered"
	case t.Metric == "requests" || t.Metric == "double_bookings":
		return ""
	case r.Requests == 0:
		return "no requests were made"
	case t.Metric == "schema_violations" && r.Schema.Validated == 0:
		return "no response was validated"
	case kind == kindRatio && r.Requests == r.Abandoned:
		return "every request was abandoned at the interrupt"
	case kind == kindRate && (r.Requests < 2 || r.DurationSeconds < 1):
		return fmt.Sprintf("%d request(s) over %.3f s: a rate needs at least 2 requests over at least 1 s", r.Requests, r.DurationSeconds)
	case kind == kindLatency:
		if need := minSamples(t.Metric); r.Requests < need {
			return fmt.Sprintf("%d request(s): %s needs at least %d to mean anything", r.Requests, t.Metric, need)
		}
	}
	return ""
}

// minSamples is the fewest requests a latency metric needs: 100/(100-Q) for
// pQ (so that it lies between two samples: p99 needs 100), else 2.
func minSamples(metric string) uint64 {
	q, ok := percentileOf(metric)
	if !ok || q >= 100 {
		return 2
	}
	return max(2, uint64(math.Ceil(100/(100-q)-1e-9)))
}

// observe returns r's value for t's metric in t's unit, or why there is none.
func observe(r *Result, t Threshold) (float64, string) {
	if why := noData(r, t); why != "" {
		return 0, why
	}
	v, ok := map[string]float64{"min": r.Latency.Min, "mean": r.Latency.Mean, "max": r.Latency.Max,
		"error_rate": 1 - r.SuccessRatio, "success_ratio": r.SuccessRatio,
		"throughput": r.Throughput, "rate_achieved": r.RateAchieved}[t.Metric]
	if q, percentile := percentileOf(t.Metric); !ok && percentile {
		if v, ok = r.latencyAt(q); !ok {
			return 0, "percentile not available in this result"
		}
	} else if !ok {
		n, base := r.countOf(t.Metric)
		if v = float64(n); t.Unit == "%" {
			v = ratio(v, float64(base))
		}
	}
	if t.Unit == "%" {
		v *= 100
	}
	return v, ""
}

// countOf returns a count metric and the base a percentage of it refers to.
func (r *Result) countOf(metric string) (n, base uint64) {
	switch metric {
	case "requests":
		return r.Requests, r.Requests
	case "schema_violations":
		return r.Schema.Violations, r.Schema.Validated
	case "status_undocumented":
		return r.StatusUndocumented, r.Requests
	case "late_sends":
		return r.LateSends.Count, r.Requests
	case "transport_errors":
		return r.StatusCodes["0"], r.Requests
	case "double_bookings":
		if r.Race == nil {
			return 0, 0
		}
		return r.Race.DoubleBookings, r.Race.Groups
	case "status_2xx", "status_4xx", "status_5xx":
		c := metric[len("status_")]
		for code, k := range r.StatusCodes {
			if len(code) == 3 && code[0] == c {
				n += k
			}
		}
		return n, r.Requests
	}
	return r.StatusCodes[strings.TrimPrefix(metric, "status_")], r.Requests
}

// round rounds v to d decimals (for stable JSON).
func round(v float64, d int) float64 {
	p := math.Pow(10, float64(d))
	return math.Round(v*p) / p
}

// cannotPass reports that t fails whatever the rest of the planned requests
// do, given the figures so far, for the metrics where that can be known.
func cannotPass(t Threshold, s *stats, violations, doubles, planned uint64) bool {
	p := float64(planned)
	upperBound := t.Op == "<" || t.Op == "<=" || t.Op == "=="
	exceeds := func(low float64) bool { // the final value is at least low
		return upperBound && (low > t.Value || (t.Op == "<" && low >= t.Value))
	}
	scale := 1.0
	if t.Unit == "%" {
		scale = 100
	}
	failures := float64(s.n - s.classCount[class2xx])
	switch t.Metric {
	case "error_rate":
		return exceeds(scale * failures / p)
	case "success_ratio":
		up := scale * (p - failures) / p
		return (t.Op == ">=" || t.Op == "==") && up < t.Value || t.Op == ">" && up <= t.Value
	case "max":
		return exceeds(usToMs(s.lat.Max()))
	case "schema_violations":
		return t.Unit == "" && exceeds(float64(violations))
	case "double_bookings":
		return t.Unit == "" && exceeds(float64(doubles))
	case "mean", "min", "throughput", "rate_achieved", "requests":
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
		return float64(above) > (1-q/100)*p
	case kindCount:
		r := Result{Requests: s.n, LateSends: LateSends{Count: s.late}, StatusCodes: s.statusCodes()}
		n, _ := r.countOf(t.Metric)
		if t.Unit == "%" {
			return exceeds(100 * float64(n) / p)
		}
		return exceeds(float64(n))
	}
	return false
}
