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

// Result is the outcome of a load run (or of merged runs): plain data that the
// reports package renders. JSON field names are those of summary.json's "load"
// section. Latencies are in milliseconds, measured from each request's intended
// send time (coordinated-omission corrected); ServiceTime is from the actual send.
type Result struct {
	Plan   Plan   `json:"plan"`
	Target string `json:"target,omitempty"`
	// Requests is the number of requests sent.
	Requests uint64 `json:"requests"`
	// RateRequested is the planned mean rate per second; RateAchieved is the
	// intervals between sends (Requests-1) over the span from the first send
	// to the last (0 with fewer than two requests), so a perfectly paced run
	// achieves its requested rate exactly.
	RateRequested float64 `json:"rate_requested"`
	RateAchieved  float64 `json:"rate_achieved"`
	// Throughput is 2xx responses per second, first send to last response.
	Throughput float64 `json:"throughput"`
	// SuccessRatio is the fraction of requests answered 2xx; ErrorRate is 1
	// minus it. Requests abandoned at an interrupt are left out of both.
	SuccessRatio float64 `json:"success_ratio"`
	ErrorRate    float64 `json:"error_rate"`
	// Abandoned counts requests in flight when an interrupt cut them off
	// (their outcome is unknown; the ledger lists them).
	Abandoned   uint64  `json:"abandoned,omitempty"`
	Latency     Latency `json:"latency_ms"`
	ServiceTime Latency `json:"service_time_ms"`
	// ByClass holds per-outcome statistics, keyed by class: "2xx", "401", "429",
	// "other_4xx", "5xx", "transport_error" and "other" (1xx/3xx).
	ByClass map[string]ClassStats `json:"by_class"`
	// StatusCodes counts responses by HTTP status; "0" counts transport errors.
	StatusCodes map[string]uint64 `json:"status_codes"`
	// StatusUndocumented counts responses whose status the document does not
	// list (a 5xx, a 429, a 3xx, an unlisted 4xx): an error class of its own,
	// never a schema violation. Filled when responses are validated.
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
	// responses exercised, and which never (vegeta does not keep
	// Transfer-Encoding, so that header is never seen here).
	Coverage *spec.CoverageReport `json:"coverage,omitempty"`
	// Evidence lists the slowest and the failing requests with the
	// correlation headers the target returned, for a vendor ticket.
	Evidence Evidence `json:"evidence"`
	// Race is the race check (Plan.Race), absent without one. Its groups are
	// not in the figures above, which describe the ordinary confirms
	// (RateRequested leaves the groups' share of the plan out too).
	Race *RaceResult `json:"race,omitempty"`
	// FeedStarved says how long a streamed offer feed kept the attack waiting.
	FeedStarved FeedStarvation `json:"feed_starved"`
	// StopReason says why the attack ended: "completed", "max requests reached",
	// "offer feed exhausted", "interrupted", "threshold cannot pass: EXPR", ...
	StopReason  string    `json:"stop_reason"`
	Interrupted bool      `json:"interrupted"`
	StartedAt   time.Time `json:"started_at"`
	FinishedAt  time.Time `json:"finished_at"`
	// DurationSeconds is the attack's wall-clock length.
	DurationSeconds float64 `json:"duration_s"`
	// Truncated lists the results.bin files a merge read only up to a cut (a
	// run killed while writing): "NAME: N complete records, cut after the
	// last one (ERROR)".
	Truncated []string `json:"truncated,omitempty"`
	// Timeline holds one Bucket per second of the run (charts).
	Timeline []Bucket `json:"timeline,omitempty"`
	// Distribution is the corrected latency's percentile curve (charts).
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

// ErrorCount is one error message and how often it occurred. Transport error
// messages have the request URL replaced by the route template.
type ErrorCount struct {
	Message string `json:"message"`
	Count   uint64 `json:"count"`
}

// SchemaStats counts schema validation during the run. Skipped counts sampled
// responses not validated because the validator's queue was full
// (measurement never slows the attack). TruncatedBodies counts bodies cut at
// the 1 MiB read limit. Details holds the first 20 violations.
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

// FeedStarvation is the time a streamed offer feed could not keep up with
// the rate: Ms of wall-clock time during which a send waited for the source,
// Waits sends that waited at all, and LateSends those whose wait made them
// late (the rate is never lowered to suit the feed).
type FeedStarvation struct {
	Ms        float64 `json:"ms"`
	Waits     uint64  `json:"waits"`
	LateSends uint64  `json:"late_sends"`
}

// PauseStats counts Retry-After pauses of the pacer: distinct pause windows,
// their total and longest length. Ignored counts 429s with a Retry-After that did
// not pause (Plan.IgnoreRetryAfter).
type PauseStats struct {
	Count   uint64  `json:"count"`
	TotalMs float64 `json:"total_ms"`
	MaxMs   float64 `json:"max_ms"`
	Ignored uint64  `json:"ignored,omitempty"`
	// Values are the distinct Retry-After values seen (at most 10).
	Values []string `json:"values,omitempty"`
	// Unsent is the number of planned requests the pauses left unsent: the
	// duration ran out first. Non-zero makes the run incomplete.
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

// Incomplete lists why the run lacks the evidence a pass needs: it was
// interrupted, stopped before its plan's end for a reason other than a
// threshold that could no longer pass (that is a failure), sent nothing, a
// threshold had no data, or its results file was cut. Empty when complete.
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

// latencyAt is the corrected latency percentile q (0..100) in ms: a
// percentile the report prints is read from its field, so that a threshold
// is judged on the value the reader sees; others come from the histogram.
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
// request's intended send time in Unix nanoseconds, from which MergeResults
// rebuilds the corrected latency.
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
		timeline: newTimeline(keep)}
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

// later is the later of a and b.
func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// abandonedPrefix starts the error of a request that an interrupt cut off
// (in results.bin too, so merges leave it out of the error rate as well).
const abandonedPrefix = "abandoned at interrupt: "

// normaliseError replaces the per-offer URL in a transport error ("Post
// \"http://h/api/partners/P/offers/ID/confirm\": EOF") by the route template,
// so that messages aggregate.
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
	if s.n > 0 {
		if judged := s.n - s.abandoned; judged > 0 {
			r.SuccessRatio = round(float64(success)/float64(judged), 6)
			r.ErrorRate = round(1-float64(success)/float64(judged), 6)
		}
		r.RateAchieved = round(achievedRate(s.n, s.lastSend.Sub(s.firstSend)), 3)
		if span := s.lastEnd.Sub(s.firstSend); span > 0 {
			r.Throughput = round(float64(success)/span.Seconds(), 3)
		}
	}
	r.Offers.Used, r.Offers.Confirmed, r.Offers.Failed = s.n, success, s.n-success
	r.Abandoned = s.abandoned
}

// statusCodes counts the responses by status, as Result.StatusCodes.
func (s *stats) statusCodes() map[string]uint64 {
	out := make(map[string]uint64, len(s.codes))
	for code, n := range s.codes {
		out[strconv.Itoa(int(code))] = n
	}
	return out
}

// achievedRate is the rate of n sends spread over span (first to last send):
// n-1 intervals over span; 0 when it is undefined.
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

// intendedOf reads the intended send time MergeResults needs from a decoded
// result, falling back to the actual send time.
func intendedOf(r *vegeta.Result) time.Time {
	if ns, err := strconv.ParseInt(r.Headers.Get(IntendedHeader), 10, 64); err == nil {
		return time.Unix(0, ns)
	}
	return r.Timestamp
}

// MergeResults decodes the results.bin files (e.g. one per shard) and
// rebuilds one Result from the raw results. Shards are taken to run
// concurrently: RateAchieved is over the overall send span and RateRequested
// sums each file's rate estimated from its intended send times. Fields
// results.bin does not carry (Plan, Schema, Tokens, RetryAfterPauses,
// Thresholds, ...) are left zero; Offers.Left is -1; the caller evaluates
// thresholds with EvaluateThresholds. A file cut short (a run killed while
// writing it) is read up to its last complete record and listed in
// Truncated; a file with no complete record, or not a results file, is an
// error.
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
		m, err := mergeFile(s, name)
		if err != nil {
			return nil, err
		}
		requested += m.rate
		if m.cut != nil {
			r.Truncated = append(r.Truncated, fmt.Sprintf("%s: %d complete records, cut after the last one (%v)", name, m.records, m.cut))
		}
	}
	s.fill(r)
	r.Offers.Left = -1
	r.RateRequested = round(requested, 3)
	if s.n > 0 {
		r.StartedAt, r.FinishedAt = s.firstSend.UTC(), s.lastEnd.UTC()
		r.DurationSeconds = round(s.lastEnd.Sub(s.firstSend).Seconds(), 3)
	}
	return r, nil
}

// firstIntended is the intended send time of the first result in a
// results.bin, or false when it has none that can be read.
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

// merged is what mergeFile read from one file: the rate estimated from its
// intended send times, its complete records, and why it ended early.
type merged struct {
	rate    float64
	records uint64
	cut     error
}

// mergeFile adds the complete records of one results.bin to s. gob writes the
// type definition once, before the first record, and every message is
// length-prefixed, so a file cut anywhere decodes cleanly up to the last record
// before the cut and then fails (io.ErrUnexpectedEOF, or a decode error for a
// cut that left garbage): that is a salvage, unless no record came before it.
func mergeFile(s *stats, name string) (merged, error) {
	f, err := os.Open(name)
	if err != nil {
		return merged{}, fmt.Errorf("load: merge: %w", err)
	}
	defer f.Close()
	dec := vegeta.NewDecoder(f)
	var (
		m           merged
		first, last time.Time
	)
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); errors.Is(err, io.EOF) {
			break
		} else if err != nil && m.records == 0 {
			return merged{}, fmt.Errorf("load: merge %s: result 1: %w", name, err)
		} else if err != nil {
			m.cut = err
			break
		}
		it := intendedOf(&r)
		if m.records == 0 || it.Before(first) {
			first = it
		}
		last = later(last, it)
		m.records++
		s.add(&r, it)
	}
	if last.After(first) {
		m.rate = achievedRate(m.records, last.Sub(first))
	}
	return m, nil
}

// Bucket is one second of a run, for charts: the responses that completed in
// that second, by outcome class, and their latency percentiles (from the
// intended send time, in milliseconds).
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

// Quantile is one point of the latency distribution curve (HDR percentile
// plot): the latency, in milliseconds, below which Percentile percent of the
// requests completed.
type Quantile struct {
	Percentile float64 `json:"percentile"`
	LatencyMs  float64 `json:"latency_ms"`
}

// timeline aggregates responses into one-second buckets by the second in
// which they completed, counted from origin (the attack's start; when unset,
// the second of the first response). Open buckets keep a small histogram
// until they close, so a run holds only the last few.
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

func newTimeline(keep int64) *timeline { return &timeline{keep: keep} }

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

// buckets closes every bucket and returns them in order, one per second from
// the origin to the last (seconds without responses included).
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

// curvePercentiles are the points of Result.LatencyDistribution.
var curvePercentiles = []float64{0, 10, 20, 30, 40, 50, 60, 70, 75, 80, 85, 90, 95, 97.5, 99, 99.5, 99.9, 99.95, 99.99, 99.999, 100}

// curve returns the latency distribution curve of h.
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
