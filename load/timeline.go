package load

import (
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

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

// timeline aggregates responses into one-second buckets keyed by the second in
// which they completed, counted from origin (the attack's start) when it is set,
// else by the Unix second. Open buckets keep a small histogram; close frees it
// after computing the percentiles, so a run holds only the last few.
type timeline struct {
	open   map[int64]*bucketAgg
	closed map[int64]*Bucket
	maxKey int64
	keep   int64 // close buckets this many seconds older than the newest; 0 keeps all open
	origin time.Time
}

// key is the bucket of a response that completed at end.
func (tl *timeline) key(end time.Time) int64 {
	if tl.origin.IsZero() {
		return end.Unix()
	}
	d := end.Sub(tl.origin)
	if d < 0 {
		return 0
	}
	return int64(d / time.Second)
}

type bucketAgg struct {
	h       *hdrhistogram.Histogram
	classes [nClasses]uint64
}

func newTimeline(keep int64) *timeline {
	return &timeline{open: map[int64]*bucketAgg{}, closed: map[int64]*Bucket{}, keep: keep}
}

func (tl *timeline) add(end time.Time, corrected time.Duration, class int) {
	key := tl.key(end)
	if b, ok := tl.closed[key]; ok { // a straggler: counts only
		b.Requests++
		b.Classes[classNames[class]]++
		b.MaxMs = max(b.MaxMs, round(corrected.Seconds()*1e3, 3))
		return
	}
	a := tl.open[key]
	if a == nil {
		a = &bucketAgg{h: hdrhistogram.New(1, histMaxUs, 2)}
		tl.open[key] = a
	}
	record(a.h, corrected)
	a.classes[class]++
	if len(tl.open) == 1 && len(tl.closed) == 0 || key > tl.maxKey {
		tl.maxKey = key
	}
	if tl.keep > 0 {
		for k := range tl.open {
			if k < tl.maxKey-tl.keep {
				tl.close(k)
			}
		}
	}
}

func (tl *timeline) close(key int64) {
	a := tl.open[key]
	delete(tl.open, key)
	b := &Bucket{Requests: uint64(a.h.TotalCount()), Classes: map[string]uint64{}}
	for c, n := range a.classes {
		if n > 0 {
			b.Classes[classNames[c]] = n
		}
	}
	v := a.h.ValueAtPercentilesSlice([]float64{50, 90, 99})
	b.P50Ms, b.P90Ms, b.P99Ms, b.MaxMs = usToMs(v[0]), usToMs(v[1]), usToMs(v[2]), usToMs(a.h.Max())
	tl.closed[key] = b
}

// buckets closes every bucket and returns them in order, one per second from the
// first to the last (seconds without responses included).
func (tl *timeline) buckets() []Bucket {
	for k := range tl.open {
		tl.close(k)
	}
	if len(tl.closed) == 0 {
		return nil
	}
	first := tl.maxKey
	for k := range tl.closed {
		first = min(first, k)
	}
	if !tl.origin.IsZero() {
		first = 0 // seconds count from the attack's start, empty ones included
	}
	out := make([]Bucket, 0, tl.maxKey-first+1)
	for k := first; k <= tl.maxKey; k++ {
		b := Bucket{Second: int(k - first), Classes: map[string]uint64{}}
		if c := tl.closed[k]; c != nil {
			b = *c
			b.Second = int(k - first)
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
