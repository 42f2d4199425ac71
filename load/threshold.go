package load

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Threshold is a pass/fail criterion on a run's result, parsed by ParseThreshold.
// Value is in the unit of Unit: "ms" for latencies (any duration unit is
// converted), "%" for percentages, "/s" for rates and "" for counts and bare
// ratios (0..1).
type Threshold struct {
	Expr   string  `json:"expr"`
	Metric string  `json:"metric"`
	Op     string  `json:"op"`
	Value  float64 `json:"value"`
	Unit   string  `json:"unit,omitempty"`
}

// ThresholdResult is one evaluated threshold: Observed is in the threshold's Unit.
// Note explains an observation that could not be made (Passed is then false).
type ThresholdResult struct {
	Expr     string  `json:"expr"`
	Observed float64 `json:"observed"`
	Unit     string  `json:"unit,omitempty"`
	Passed   bool    `json:"passed"`
	Note     string  `json:"note,omitempty"`
}

// ThresholdError is a malformed threshold expression. Pos is the 1-based byte
// column in Expr where the problem starts.
type ThresholdError struct {
	Expr string
	Pos  int
	Msg  string
}

// Error implements error: `threshold "EXPR": column N: problem`.
func (e *ThresholdError) Error() string {
	return fmt.Sprintf("threshold %q: column %d: %s", e.Expr, e.Pos, e.Msg)
}

// metricKind says how a metric's value is written and compared.
type metricKind int

const (
	kindLatency metricKind = iota // duration, reported in ms
	kindRatio                     // fraction 0..1 or percentage
	kindRate                      // per second
	kindCount                     // count, or a percentage of a base count
)

// namedMetrics are the metrics besides percentiles and status_NNN.
var namedMetrics = map[string]metricKind{
	"min": kindLatency, "mean": kindLatency, "max": kindLatency,
	"error_rate": kindRatio, "success_ratio": kindRatio,
	"throughput": kindRate, "rate_achieved": kindRate,
	"requests": kindCount, "schema_violations": kindCount, "late_sends": kindCount,
	"transport_errors": kindCount, "status_2xx": kindCount, "status_4xx": kindCount,
	"status_5xx": kindCount,
}

const metricList = "pNN (p50, p99, p99.9, p999), min, mean, max, error_rate, success_ratio, throughput, rate_achieved, requests, schema_violations, late_sends, transport_errors, status_2xx, status_4xx, status_5xx, status_NNN"

// ParseThreshold parses a threshold expression:
//
//	threshold  = metric op value
//	metric     = percentile | "min" | "mean" | "max"            (latency from the intended send time)
//	           | "error_rate" | "success_ratio"                   (ratio)
//	           | "throughput" | "rate_achieved"                   (per second)
//	           | "requests" | "schema_violations" | "late_sends"
//	           | "transport_errors" | "status_2xx" | "status_4xx"
//	           | "status_5xx" | "status_" digit digit digit       (count)
//	percentile = "p" digit { digit } [ "." digit { digit } ]     (p999 means p99.9, p9999 p99.99)
//	op         = "<" | "<=" | ">" | ">=" | "=="
//	value      = number [ unit ]
//	number     = digit { digit } [ "." digit { digit } ]
//	unit       = "us" | "µs" | "ms" | "s" | "m"                  (latency; bare number = ms)
//	           | "%"                                              (ratio, or count as % of requests;
//	                                                               schema_violations: % of validated)
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
	i := 0
	skip := func() {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
	}
	skip()
	mStart := i
	for i < len(s) && (s[i] == '_' || s[i] == '.' || isAlnum(s[i])) {
		i++
	}
	name := s[mStart:i]
	if name == "" {
		return fail(mStart, "missing metric: want one of %s", metricList)
	}
	kind, metric, ok := lookupMetric(name)
	if !ok {
		return fail(mStart, "unknown metric %q: want one of %s", name, metricList)
	}
	skip()
	opStart := i
	for i < len(s) && strings.IndexByte("<>=!", s[i]) >= 0 {
		i++
	}
	op := s[opStart:i]
	switch op {
	case "<", "<=", ">", ">=", "==":
	case "":
		return fail(opStart, "missing operator after %q: want one of < <= > >= ==", name)
	default:
		return fail(opStart, "unknown operator %q: want one of < <= > >= ==", op)
	}
	skip()
	nStart := i
	for i < len(s) && (s[i] == '.' || (s[i] >= '0' && s[i] <= '9')) {
		i++
	}
	numStr := s[nStart:i]
	if numStr == "" {
		return fail(nStart, "missing number after %q", op)
	}
	if !validNumber(numStr) {
		return fail(nStart, "bad number %q", numStr)
	}
	v, err := strconv.ParseFloat(numStr, 64)
	if err != nil || math.IsInf(v, 0) {
		return fail(nStart, "bad number %q", numStr)
	}
	skip()
	uStart := i
	unit := strings.TrimRight(s[i:], " \t")
	t := Threshold{Expr: strings.TrimSpace(s), Metric: metric, Op: op, Value: v}
	switch kind {
	case kindLatency:
		mult, ok := map[string]float64{"": 1, "ms": 1, "us": 1e-3, "µs": 1e-3, "s": 1e3, "m": 60e3}[unit]
		if !ok {
			return fail(uStart, "unit %q is not a duration unit (us, ms, s, m) for latency metric %s", unit, metric)
		}
		t.Value, t.Unit = v*mult, "ms"
	case kindRatio:
		switch unit {
		case "%":
			if v > 100 {
				return fail(nStart, "percentage %s above 100", numStr)
			}
			t.Unit = "%"
		case "":
			if v > 1 {
				return fail(nStart, "ratio %s above 1: write a percentage with %% (e.g. %s%%)", numStr, numStr)
			}
		default:
			return fail(uStart, "unit %q not valid for %s: want %% or a ratio in [0, 1]", unit, metric)
		}
	case kindRate:
		if unit != "" && unit != "/s" {
			return fail(uStart, "unit %q not valid for %s: want a number per second (e.g. 45 or 45/s)", unit, metric)
		}
		t.Unit = "/s"
	case kindCount:
		switch unit {
		case "":
		case "%":
			if v > 100 {
				return fail(nStart, "percentage %s above 100", numStr)
			}
			t.Unit = "%"
		default:
			return fail(uStart, "unit %q not valid for %s: want a count or a percentage", unit, metric)
		}
	}
	return t, nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// lookupMetric resolves a metric name to its kind and canonical spelling.
func lookupMetric(name string) (metricKind, string, bool) {
	if k, ok := namedMetrics[name]; ok {
		return k, name, true
	}
	if code, ok := strings.CutPrefix(name, "status_"); ok {
		if len(code) == 3 && allDigits(code) && code[0] >= '1' && code[0] <= '5' {
			return kindCount, name, true
		}
		return 0, "", false
	}
	if q, ok := percentileOf(name); ok {
		return kindLatency, "p" + strconv.FormatFloat(q, 'f', -1, 64), true
	}
	return 0, "", false
}

// percentileOf parses "p99" → 99, "p99.9" and "p999" → 99.9, "p9999" → 99.99.
func percentileOf(name string) (float64, bool) {
	digits, ok := strings.CutPrefix(name, "p")
	if !ok || !validNumber(digits) {
		return 0, false
	}
	if !strings.Contains(digits, ".") && len(digits) > 2 {
		digits = digits[:2] + "." + digits[2:]
	}
	q, err := strconv.ParseFloat(digits, 64)
	if err != nil || q <= 0 || q > 100 {
		return 0, false
	}
	return q, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// compare applies op to observed and want.
func compare(observed float64, op string, want float64) bool {
	const eps = 1e-9
	switch op {
	case "<":
		return observed < want
	case "<=":
		return observed <= want+eps
	case ">":
		return observed > want
	case ">=":
		return observed >= want-eps
	case "==":
		return math.Abs(observed-want) <= eps
	}
	return false
}

// EvaluateThresholds sets r.Thresholds to the evaluation of ts against r, in
// order. It reads only r's reported fields (and r's latency histogram when r
// came from Run or MergeResults, for percentiles other than the reported ones),
// so it also works on a merged result.
func EvaluateThresholds(r *Result, ts []Threshold) {
	r.Thresholds = make([]ThresholdResult, 0, len(ts))
	for _, t := range ts {
		obs, note := observe(r, t)
		tr := ThresholdResult{Expr: t.Expr, Observed: round(obs, 6), Unit: t.Unit, Note: note}
		tr.Passed = note == "" && compare(obs, t.Op, t.Value)
		r.Thresholds = append(r.Thresholds, tr)
	}
}

// observe returns r's value for t's metric, in t's unit, or a note saying why
// there is none.
func observe(r *Result, t Threshold) (float64, string) {
	kind, _, _ := lookupMetric(t.Metric)
	var v float64
	switch t.Metric {
	case "min":
		v = r.Latency.Min
	case "mean":
		v = r.Latency.Mean
	case "max":
		v = r.Latency.Max
	case "error_rate":
		v = 1 - r.SuccessRatio
		if r.Requests == 0 {
			v = 0
		}
	case "success_ratio":
		v = r.SuccessRatio
	case "throughput":
		v = r.Throughput
	case "rate_achieved":
		v = r.RateAchieved
	default:
		if kind == kindLatency { // percentile
			q, _ := percentileOf(t.Metric)
			ms, ok := r.latencyAt(q)
			if !ok {
				return 0, "percentile not available in this result"
			}
			v = ms
		} else {
			n, base := r.countOf(t.Metric)
			v = float64(n)
			if t.Unit == "%" {
				v = 0
				if base > 0 {
					v = float64(n) / float64(base)
				}
			}
		}
	}
	if r.Requests == 0 && kind == kindLatency {
		return 0, "no requests were made"
	}
	if t.Unit == "%" {
		v *= 100
	}
	return v, ""
}

// countOf returns the count behind a count metric and the base a percentage of
// it refers to.
func (r *Result) countOf(metric string) (n, base uint64) {
	switch metric {
	case "requests":
		return r.Requests, r.Requests
	case "schema_violations":
		return r.Schema.Violations, r.Schema.Validated
	case "late_sends":
		return r.LateSends.Count, r.Requests
	case "transport_errors":
		return r.StatusCodes["0"], r.Requests
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
