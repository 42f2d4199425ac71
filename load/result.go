package load

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/xoneharness/xoneharness/internal/xone"
	"github.com/xoneharness/xoneharness/spec"
)

// Result is the outcome of a load run or merged runs, summary.json's "load"
// section. Latencies are in ms from each request's intended send time
// (coordinated-omission corrected); ServiceTime is from the actual send.
type Result struct {
	Plan   Plan   `json:"plan"`
	Target string `json:"target,omitempty"`
	// Requests is the number of requests sent.
	Requests uint64 `json:"requests"`
	// RateRequested is the planned mean rate per second; RateAchieved is
	// Requests-1 intervals over the first-to-last send span (0 below two).
	RateRequested float64 `json:"rate_requested"`
	RateAchieved  float64 `json:"rate_achieved"`
	// Throughput is 2xx responses per second, first send to last response.
	Throughput float64 `json:"throughput"`
	// SuccessRatio is the fraction of requests answered 2xx and ErrorRate the
	// rest, both leaving out requests abandoned at an interrupt.
	SuccessRatio float64 `json:"success_ratio"`
	ErrorRate    float64 `json:"error_rate"`
	// Abandoned counts requests an interrupt cut off (outcome unknown).
	Abandoned   uint64  `json:"abandoned,omitempty"`
	Latency     Latency `json:"latency_ms"`
	ServiceTime Latency `json:"service_time_ms"`
	// ByClass holds per-outcome statistics by class ("2xx", "401", "429",
	// "other_4xx", "5xx", "transport_error", "other").
	ByClass map[string]ClassStats `json:"by_class"`
	// StatusCodes counts responses by HTTP status; "0" counts transport errors.
	StatusCodes map[string]uint64 `json:"status_codes"`
	// StatusUndocumented counts responses whose status the document does not
	// list (with a spec): an error class of its own, never a schema violation.
	StatusUndocumented uint64 `json:"status_undocumented"`
	// Errors are the most frequent error messages (at most 20), most frequent first.
	Errors           []ErrorCount      `json:"errors"`
	BytesIn          uint64            `json:"bytes_in"`
	BytesOut         uint64            `json:"bytes_out"`
	Schema           SchemaStats       `json:"schema"`
	LateSends        LateSends         `json:"late_sends"`
	Thresholds       []ThresholdResult `json:"thresholds"`
	Offers           OfferStats        `json:"offers"`
	Tokens           TokenStats        `json:"tokens"`
	RetryAfterPauses PauseStats        `json:"retry_after_pauses"`
	// Coverage says which documented response members the validated
	// responses exercised (vegeta drops Transfer-Encoding: never seen).
	Coverage *spec.CoverageReport `json:"coverage,omitempty"`
	Evidence Evidence             `json:"evidence"`
	// Race is the race check (Plan.Race), absent without one; its groups are
	// in no other figure but Offers.
	Race        *RaceResult    `json:"race,omitempty"`
	FeedStarved FeedStarvation `json:"feed_starved"`
	// StopReason says why the attack ended: "completed", "interrupted",
	// "threshold cannot pass: EXPR", ...
	StopReason  string    `json:"stop_reason"`
	Interrupted bool      `json:"interrupted"`
	StartedAt   time.Time `json:"started_at"`
	FinishedAt  time.Time `json:"finished_at"`
	// DurationSeconds is the attack's wall-clock length.
	DurationSeconds float64 `json:"duration_s"`
	// Truncated lists the results.bin files a merge read only up to a cut
	// (a run killed while writing).
	Truncated []string `json:"truncated,omitempty"`
	// Timeline (a Bucket per second) and Distribution (the corrected
	// latency's percentile curve) are for charts.
	Timeline     []Bucket   `json:"timeline,omitempty"`
	Distribution []Quantile `json:"distribution,omitempty"`

	hist *hdrhistogram.Histogram // overall corrected latency, µs
}

// Latency summarises a latency distribution, in milliseconds (µs precision).
type Latency struct {
	Min  float64 `json:"min"`
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
}

// ClassStats are the statistics of one outcome class.
type ClassStats struct {
	Count       uint64  `json:"count"`
	Latency     Latency `json:"latency_ms"`
	ServiceTime Latency `json:"service_time_ms"`
}

// ErrorCount is one error message (the URL replaced by the route template)
// and how often it occurred.
type ErrorCount struct {
	Message string `json:"message"`
	Count   uint64 `json:"count"`
}

// SchemaStats counts schema validation: Skipped, sampled responses the full
// queue left out; TruncatedBodies, bodies cut at 1 MiB; Details, the first 20.
type SchemaStats struct {
	Validated       uint64            `json:"validated"`
	Violations      uint64            `json:"violations"`
	Skipped         uint64            `json:"skipped,omitempty"`
	SkipReason      string            `json:"skip_reason,omitempty"`
	TruncatedBodies uint64            `json:"truncated_bodies,omitempty"`
	Details         []SchemaViolation `json:"details,omitempty"`
}

// SchemaViolation is one response that broke the contract.
type SchemaViolation struct {
	Seq      uint64 `json:"seq"`
	Status   int    `json:"status"`
	Rule     string `json:"rule,omitempty"`
	Path     string `json:"path,omitempty"`
	Expected string `json:"expected,omitempty"`
	Observed string `json:"observed,omitempty"`
	Reason   string `json:"reason"`
}

// LateSends counts requests sent more than 1 ms after their intended time, and
// the worst lateness in milliseconds.
type LateSends struct {
	Count uint64  `json:"count"`
	MaxMs float64 `json:"max_ms"`
}

// OfferStats counts feed rows: used (sent), confirmed (2xx), failed (the rest)
// and left in the feed (-1 for an unbounded generated feed).
type OfferStats struct {
	Used      uint64 `json:"used"`
	Confirmed uint64 `json:"confirmed"`
	Failed    uint64 `json:"failed"`
	Left      int    `json:"left"`
}

// TokenStats counts token endpoint fetches during the run (when the token
// source keeps counters) and the 401-driven invalidations the engine requested.
type TokenStats struct {
	Fetches       int64   `json:"fetches"`
	Failures      int64   `json:"failures"`
	MeanMs        float64 `json:"mean_ms"`
	MaxMs         float64 `json:"max_ms"`
	Invalidations int64   `json:"invalidations"`
}

// FeedStarvation is how long (Ms, wall clock) a streamed offer feed kept
// sends waiting, how many waited, and how many the wait made late.
type FeedStarvation struct {
	Ms        float64 `json:"ms"`
	Waits     uint64  `json:"waits"`
	LateSends uint64  `json:"late_sends"`
}

// PauseStats counts the pacer's Retry-After pause windows, their total and
// longest length, and the 429s Plan.IgnoreRetryAfter did not pause for.
type PauseStats struct {
	Count   uint64  `json:"count"`
	TotalMs float64 `json:"total_ms"`
	MaxMs   float64 `json:"max_ms"`
	Ignored uint64  `json:"ignored,omitempty"`
	// Values are the distinct Retry-After values seen (at most 10).
	Values []string `json:"values,omitempty"`
	// Unsent is the planned requests left unsent when the duration ran out.
	Unsent uint64 `json:"unsent,omitempty"`
}

// Passed reports whether every threshold passed (true when there are none).
// A threshold without data has not passed.
func (r *Result) Passed() bool {
	return !slices.ContainsFunc(r.Thresholds, func(t ThresholdResult) bool { return !t.Passed })
}

// Failed reports whether a threshold failed on data: a finding. A threshold
// without data is not a failure (see Incomplete).
func (r *Result) Failed() bool {
	return r != nil && slices.ContainsFunc(r.Thresholds, func(t ThresholdResult) bool { return !t.Passed && !t.NoData })
}

// Incomplete lists why the run lacks the evidence a pass needs (an interrupt
// or early stop other than a failing threshold, nothing sent or answered
// 2xx, a starved feed, a threshold without data); empty when complete.
func (r *Result) Incomplete() []string {
	if r == nil {
		return nil
	}
	var out []string
	switch {
	case r.Interrupted:
		out = append(out, "load interrupted by a signal")
	case r.StopReason == stopCompleted, r.StopReason == stopMaxRequests, r.StopReason == "merged":
	case strings.HasPrefix(r.StopReason, stopThreshold):
	default:
		out = append(out, "load stopped before the end of its plan: "+r.StopReason)
	}
	switch {
	case r.Requests == 0:
		out = append(out, "load sent no request")
	case r.SuccessRatio == 0 && r.Abandoned < r.Requests:
		out = append(out, fmt.Sprintf("no confirm succeeded: none of the %d requests was answered 2xx", r.Requests))
	}
	// More than 1% of the sends late for want of offers: the run did not
	// keep its rate.
	if r.FeedStarved.LateSends > 0 && r.FeedStarved.LateSends*100 > r.Requests {
		out = append(out, fmt.Sprintf("the offer feed starved the attack: %d sends late waiting for offers, %.0f ms in all",
			r.FeedStarved.LateSends, r.FeedStarved.Ms))
	}
	for _, t := range r.Thresholds {
		if t.NoData {
			out = append(out, fmt.Sprintf("threshold %s has no data: %s", t.Expr, t.Note))
		}
	}
	return out
}

// latencyAt is the corrected latency percentile q in ms, from the printed
// field if any, so that a threshold is judged on the value the reader sees.
func (r *Result) latencyAt(q float64) (float64, bool) {
	l := r.Latency
	if v, ok := map[float64]float64{50: l.P50, 90: l.P90, 95: l.P95, 99: l.P99, 99.9: l.P999, 100: l.Max}[q]; ok {
		return v, true
	}
	if r.hist != nil {
		return usToMs(r.hist.ValueAtQuantile(q)), true
	}
	return 0, false
}

// IntendedHeader is the one header kept on each result in results.bin: the
// intended send time in Unix nanoseconds (the corrected latency's origin).
const IntendedHeader = "X-Xoneharness-Intended"

// Outcome classes.
const (
	class2xx = iota
	class401
	class429
	classOther4xx
	class5xx
	classTransport
	classOther
	nClasses
)

var classNames = [nClasses]string{"2xx", "401", "429", "other_4xx", "5xx", "transport_error", "other"}

func classOf(code uint16) int {
	switch {
	case code == 0:
		return classTransport
	case code >= 200 && code < 300:
		return class2xx
	case code == 401:
		return class401
	case code == 429:
		return class429
	case code >= 400 && code < 500:
		return classOther4xx
	case code >= 500 && code < 600:
		return class5xx
	}
	return classOther
}

const (
	histMaxUs     = int64(2 * time.Hour / time.Microsecond)
	lateThreshold = time.Millisecond
	maxErrorKinds = 1000
	topErrors     = 20
)

func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(1, histMaxUs, 3) }

func record(h *hdrhistogram.Histogram, d time.Duration) {
	us := min(max(d.Microseconds(), 1), histMaxUs)
	_ = h.RecordValue(us) // in range by construction
}

func usToMs(us int64) float64 { return round(float64(us)/1e3, 3) }

// ms is d in milliseconds, µs precision.
func ms(d time.Duration) float64 { return round(d.Seconds()*1e3, 3) }

func summarise(h *hdrhistogram.Histogram) Latency {
	if h == nil || h.TotalCount() == 0 {
		return Latency{}
	}
	v := h.ValueAtPercentilesSlice([]float64{50, 90, 95, 99, 99.9})
	return Latency{
		Min: usToMs(h.Min()), Mean: round(h.Mean()/1e3, 3), Max: usToMs(h.Max()),
		P50: usToMs(v[0]), P90: usToMs(v[1]), P95: usToMs(v[2]), P99: usToMs(v[3]), P999: usToMs(v[4]),
	}
}

// stats aggregates results; it is not safe for concurrent use.
type stats struct {
	lat, svc   *hdrhistogram.Histogram
	classLat   [nClasses]*hdrhistogram.Histogram
	classSvc   [nClasses]*hdrhistogram.Histogram
	classCount [nClasses]uint64
	codes      map[uint16]uint64
	errors     map[string]uint64
	errOther   uint64
	n          uint64
	abandoned  uint64
	bytesIn    uint64
	bytesOut   uint64
	late       uint64
	maxLate    time.Duration
	timeline   *timeline

	firstSend, lastSend, lastEnd time.Time
}

// newStats returns an empty aggregate; keep is how many seconds behind the newest
// a timeline bucket stays open (0: all, for merges of out-of-order files).
func newStats(keep int64) *stats {
	return &stats{lat: newHist(), svc: newHist(), codes: map[uint16]uint64{}, errors: map[string]uint64{},
		timeline: &timeline{keep: keep}}
}

// add records one result sent with the given intended time; it returns the
// corrected latency and the class.
func (s *stats) add(r *vegeta.Result, intended time.Time) (time.Duration, int) {
	end := r.Timestamp.Add(r.Latency)
	corrected := max(end.Sub(intended), r.Latency)
	lateness := r.Timestamp.Sub(intended)
	c := classOf(r.Code)
	if s.n == 0 || r.Timestamp.Before(s.firstSend) {
		s.firstSend = r.Timestamp
	}
	s.lastSend, s.lastEnd = later(s.lastSend, r.Timestamp), later(s.lastEnd, end)
	s.n++
	if s.classLat[c] == nil {
		s.classLat[c], s.classSvc[c] = newHist(), newHist()
	}
	record(s.lat, corrected)
	record(s.svc, r.Latency)
	record(s.classLat[c], corrected)
	record(s.classSvc[c], r.Latency)
	s.classCount[c]++
	s.timeline.add(end, corrected, c)
	s.codes[r.Code]++
	if c == classTransport && strings.HasPrefix(r.Error, abandonedPrefix) {
		s.abandoned++
	}
	s.bytesIn += r.BytesIn
	s.bytesOut += r.BytesOut
	if lateness > lateThreshold {
		s.late++
	}
	s.maxLate = max(s.maxLate, lateness)
	if r.Error != "" {
		msg := normaliseError(r.Error)
		if _, ok := s.errors[msg]; ok || len(s.errors) < maxErrorKinds {
			s.errors[msg]++
		} else {
			s.errOther++
		}
	}
	return corrected, c
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// abandonedPrefix starts the error of a request an interrupt cut off (in
// results.bin too, so merges leave it out of the error rate).
const abandonedPrefix = "abandoned at interrupt: "

// normaliseError replaces the per-offer URL in a transport error by the
// route template, so that messages aggregate.
func normaliseError(msg string) string {
	for _, m := range []string{"Post \"", "POST \""} {
		if rest, ok := strings.CutPrefix(msg, m); ok {
			if _, after, ok := strings.Cut(rest, "\": "); ok {
				return "POST " + xone.ConfirmPathTemplate + ": " + after
			}
		}
	}
	return msg
}

// fill writes the aggregated statistics into r.
func (s *stats) fill(r *Result) {
	r.Requests = s.n
	r.Latency, r.ServiceTime = summarise(s.lat), summarise(s.svc)
	r.hist = s.lat
	r.ByClass = map[string]ClassStats{}
	for c := range nClasses {
		if s.classCount[c] > 0 {
			r.ByClass[classNames[c]] = ClassStats{Count: s.classCount[c], Latency: summarise(s.classLat[c]), ServiceTime: summarise(s.classSvc[c])}
		}
	}
	r.StatusCodes = s.statusCodes()
	r.Errors = topErrorList(s.errors, s.errOther)
	r.Timeline = s.timeline.buckets()
	r.Distribution = curve(s.lat)
	r.BytesIn, r.BytesOut = s.bytesIn, s.bytesOut
	r.LateSends = LateSends{Count: s.late, MaxMs: ms(max(s.maxLate, 0))}
	success := s.classCount[class2xx]
	if judged := s.n - s.abandoned; judged > 0 {
		r.SuccessRatio = round(float64(success)/float64(judged), 6)
		r.ErrorRate = round(1-float64(success)/float64(judged), 6)
	}
	r.RateAchieved = round(achievedRate(s.n, s.lastSend.Sub(s.firstSend)), 3)
	r.Throughput = round(ratio(float64(success), s.lastEnd.Sub(s.firstSend).Seconds()), 3)
	r.Offers.Used, r.Offers.Confirmed, r.Offers.Failed = s.n, success, s.n-success
	r.Abandoned = s.abandoned
}

func (s *stats) statusCodes() map[string]uint64 {
	out := make(map[string]uint64, len(s.codes))
	for code, n := range s.codes {
		out[strconv.Itoa(int(code))] = n
	}
	return out
}

// achievedRate is n-1 intervals over span (first to last send), or 0.
func achievedRate(n uint64, span time.Duration) float64 {
	if n < 2 || span <= 0 {
		return 0
	}
	return float64(n-1) / span.Seconds()
}

// topErrorList is the topErrors most frequent messages, most frequent first,
// the rest counted as "(other errors)".
func topErrorList(m map[string]uint64, other uint64) []ErrorCount {
	out := make([]ErrorCount, 0, len(m))
	for msg, n := range m {
		out = append(out, ErrorCount{Message: msg, Count: n})
	}
	slices.SortFunc(out, func(a, b ErrorCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Message, b.Message))
	})
	if len(out) > topErrors {
		for _, e := range out[topErrors:] {
			other += e.Count
		}
		out = out[:topErrors]
	}
	if other > 0 {
		out = append(out, ErrorCount{Message: "(other errors)", Count: other})
	}
	return out
}

// intendedOf is a decoded result's intended send time, else its actual one.
func intendedOf(r *vegeta.Result) time.Time {
	if ns, err := strconv.ParseInt(r.Headers.Get(IntendedHeader), 10, 64); err == nil {
		return time.Unix(0, ns)
	}
	return r.Timestamp
}

// MergeResults rebuilds one Result from results.bin files of shards run
// concurrently. Fields results.bin does not carry (Plan, Schema, Thresholds,
// ...) are left zero. A file cut short is read up to its last complete
// record and listed in Truncated; one without a complete record is an error.
func MergeResults(files ...string) (*Result, error) {
	if len(files) == 0 {
		return nil, errors.New("load: merge: no files")
	}
	s := newStats(0)
	// The timeline counts seconds from the earliest intended send of all
	// the files (the attack's start), as a run's own timeline does.
	for _, name := range files {
		if t, ok := firstIntended(name); ok && (s.timeline.origin.IsZero() || t.Before(s.timeline.origin)) {
			s.timeline.origin = t
		}
	}
	r := &Result{StopReason: "merged"}
	var requested float64
	for _, name := range files {
		rate, err := mergeFile(s, r, name)
		if err != nil {
			return nil, err
		}
		requested += rate
	}
	s.fill(r)
	r.Offers.Left = -1
	r.RateRequested = round(requested, 3)
	r.StartedAt, r.FinishedAt = s.firstSend.UTC(), s.lastEnd.UTC() // zero when no record came
	r.DurationSeconds = round(s.lastEnd.Sub(s.firstSend).Seconds(), 3)
	return r, nil
}

// firstIntended is the intended send time of a results.bin's first result.
func firstIntended(name string) (time.Time, bool) {
	f, err := os.Open(name)
	if err != nil {
		return time.Time{}, false
	}
	defer f.Close()
	var r vegeta.Result
	if err := vegeta.NewDecoder(f).Decode(&r); err != nil {
		return time.Time{}, false
	}
	return intendedOf(&r), true
}

// mergeFile adds the records of one results.bin to s and returns its rate.
// gob messages are length-prefixed, so a file cut anywhere decodes up to the
// last record before the cut and then fails: a salvage, if a record came.
func mergeFile(s *stats, res *Result, name string) (float64, error) {
	f, err := os.Open(name)
	if err != nil {
		return 0, fmt.Errorf("load: merge: %w", err)
	}
	defer f.Close()
	dec := vegeta.NewDecoder(f)
	var (
		records     uint64
		first, last time.Time
	)
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); errors.Is(err, io.EOF) {
			break
		} else if err != nil && records == 0 {
			return 0, fmt.Errorf("load: merge %s: result 1: %w", name, err)
		} else if err != nil {
			res.Truncated = append(res.Truncated, fmt.Sprintf("%s: %d complete records, cut after the last one (%v)", name, records, err))
			break
		}
		it := intendedOf(&r)
		if records == 0 || it.Before(first) {
			first = it
		}
		last = later(last, it)
		records++
		s.add(&r, it)
	}
	return achievedRate(records, last.Sub(first)), nil
}

// Bucket is one second of a run, for charts: the responses that completed in
// it by class, and their corrected latency percentiles in ms.
type Bucket struct {
	// Second is the bucket's start in whole seconds since the attack began.
	Second   int               `json:"t_s"`
	Requests uint64            `json:"requests"`
	Classes  map[string]uint64 `json:"classes"`
	P50Ms    float64           `json:"p50_ms"`
	P90Ms    float64           `json:"p90_ms"`
	P99Ms    float64           `json:"p99_ms"`
	MaxMs    float64           `json:"max_ms"`
}

// Quantile is one point of the latency distribution curve: the latency in ms
// below which Percentile percent of the requests completed.
type Quantile struct {
	Percentile float64 `json:"percentile"`
	LatencyMs  float64 `json:"latency_ms"`
}

// timeline aggregates responses into one-second buckets by completion from
// origin; only the few open buckets keep a histogram.
type timeline struct {
	origin time.Time
	keep   int64  // close buckets this many seconds older than the newest; 0 keeps all open
	slots  []slot // by second
	done   int64  // with keep, the slots below it were closed
}

// slot is one second of a timeline: open while h is set, closed once its
// Bucket has classes.
type slot struct {
	Bucket
	h       *hdrhistogram.Histogram
	classes [nClasses]uint64
}

func (tl *timeline) add(end time.Time, corrected time.Duration, class int) {
	if tl.origin.IsZero() {
		tl.origin = end.Truncate(time.Second)
	}
	k := max(int64(end.Sub(tl.origin)/time.Second), 0)
	for int64(len(tl.slots)) <= k {
		tl.slots = append(tl.slots, slot{})
	}
	s := &tl.slots[k]
	if s.Classes != nil { // closed: a straggler counts only
		s.Requests++
		s.Classes[classNames[class]]++
		s.MaxMs = max(s.MaxMs, ms(corrected))
		return
	}
	if s.h == nil {
		s.h = hdrhistogram.New(1, histMaxUs, 2)
	}
	record(s.h, corrected)
	s.classes[class]++
	if limit := int64(len(tl.slots)) - 1 - tl.keep; tl.keep > 0 {
		for ; tl.done < limit; tl.done++ {
			tl.close(tl.done)
		}
		if k < limit { // a straggler to a second that had no response
			tl.close(k)
		}
	}
}

// close computes slot k's bucket and frees its histogram; a slot that never
// opened stays open to a straggler.
func (tl *timeline) close(k int64) {
	s := &tl.slots[k]
	if s.h == nil {
		return
	}
	s.Requests, s.Classes = uint64(s.h.TotalCount()), map[string]uint64{}
	for c, n := range s.classes {
		if n > 0 {
			s.Classes[classNames[c]] = n
		}
	}
	v := s.h.ValueAtPercentilesSlice([]float64{50, 90, 99})
	s.P50Ms, s.P90Ms, s.P99Ms, s.MaxMs = usToMs(v[0]), usToMs(v[1]), usToMs(v[2]), usToMs(s.h.Max())
	s.h = nil
}

// buckets closes every bucket and returns one per second from the origin.
func (tl *timeline) buckets() []Bucket {
	var out []Bucket
	for k := range tl.slots {
		tl.close(int64(k))
		b := tl.slots[k].Bucket
		b.Second = k
		if b.Classes == nil {
			b.Classes = map[string]uint64{}
		}
		out = append(out, b)
	}
	return out
}

// curvePercentiles are the points of Result.Distribution.
var curvePercentiles = []float64{0, 10, 20, 30, 40, 50, 60, 70, 75, 80, 85, 90, 95, 97.5, 99, 99.5, 99.9, 99.95, 99.99, 99.999, 100}

func curve(h *hdrhistogram.Histogram) []Quantile {
	if h == nil || h.TotalCount() == 0 {
		return nil
	}
	v := h.ValueAtPercentilesSlice(curvePercentiles)
	out := make([]Quantile, len(v))
	for i, us := range v {
		out[i] = Quantile{Percentile: curvePercentiles[i], LatencyMs: usToMs(us)}
	}
	return out
}
