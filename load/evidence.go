package load

import (
	"cmp"
	"container/heap"
	"net/http"
	"slices"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Evidence is what a vendor's support asks for when a run fails or is slow:
// the slowest requests and the failing ones, each with its send time and the
// correlation headers the target returned. Memory is bounded: the K slowest
// in a heap, the first 200 failures and a count of the rest.
type Evidence struct {
	// Headers are the correlation headers collected, canonical names.
	Headers []string `json:"headers"`
	// Slowest are the K slowest requests by latency from the intended send,
	// slowest first.
	Slowest []EvidenceRow `json:"slowest"`
	// Failures are the first 200 failing requests (every non-2xx,
	// transport error and schema violation), in the order they happened.
	Failures []EvidenceRow `json:"failures"`
	// FailuresTotal counts every failure, those not listed included.
	FailuresTotal uint64 `json:"failures_total"`
}

// EvidenceRow is one request of the evidence.
type EvidenceRow struct {
	// SentAt is when the request left (UTC, millisecond precision).
	SentAt time.Time `json:"sent_at"`
	// Seq is the request's number in its results.bin.
	Seq     uint64 `json:"seq"`
	OfferID string `json:"offer_id"`
	// Status is the HTTP status; 0 when none came back.
	Status int `json:"status"`
	// LatencyMs is from the intended send time; ServiceMs from the actual
	// send.
	LatencyMs float64 `json:"latency_ms"`
	ServiceMs float64 `json:"service_ms"`
	// Error is the transport error or the status text; Violation the first
	// schema violation, for failures.
	Error     string `json:"error,omitempty"`
	Violation string `json:"violation,omitempty"`
	// Headers holds the correlation headers the answer carried.
	Headers map[string]string `json:"headers,omitempty"`
}

// Evidence defaults.
const (
	// DefaultEvidence is the number of slowest requests kept (Plan.Evidence).
	DefaultEvidence = 20
	// maxFailures is the number of failing requests listed.
	maxFailures = 200
)

// CorrelationHeaders are the headers evidence keeps from every answer,
// besides Plan.EvidenceHeaders: Cloudflare's ray id, Server-Timing, request
// ids and the W3C trace context.
func CorrelationHeaders() []string {
	return []string{"Cf-Ray", "Server-Timing", "X-Request-Id", "Traceparent"}
}

// evidence collects Evidence on the collector's goroutine.
type evidence struct {
	k       int
	headers []string
	slowest rowHeap
	failed  []EvidenceRow
	total   uint64
}

func newEvidence(k int, extra []string) *evidence {
	hs := CorrelationHeaders()
	for _, h := range extra {
		if c := http.CanonicalHeaderKey(h); !slices.Contains(hs, c) {
			hs = append(hs, c)
		}
	}
	return &evidence{k: k, headers: hs}
}

// row builds the evidence row of one answer.
func (e *evidence) row(res *vegeta.Result, offerID string, corrected time.Duration) EvidenceRow {
	r := EvidenceRow{SentAt: res.Timestamp.UTC().Truncate(time.Millisecond), Seq: res.Seq, OfferID: offerID, Status: int(res.Code),
		LatencyMs: ms(corrected), ServiceMs: ms(res.Latency)}
	for _, name := range e.headers {
		if v := res.Headers.Get(name); v != "" {
			if r.Headers == nil {
				r.Headers = map[string]string{}
			}
			r.Headers[name] = v
		}
	}
	return r
}

// slow offers an answer to the K slowest; build is called only when it is
// among them.
func (e *evidence) slow(corrected time.Duration, build func() EvidenceRow) {
	switch {
	case e.k <= 0:
	case len(e.slowest) < e.k:
		heap.Push(&e.slowest, build())
	case ms(corrected) > e.slowest[0].LatencyMs:
		e.slowest[0] = build()
		heap.Fix(&e.slowest, 0)
	}
}

// fail records a failing request.
func (e *evidence) fail(r EvidenceRow) {
	e.total++
	if len(e.failed) < maxFailures {
		e.failed = append(e.failed, r)
	}
}

// result returns the evidence: the slowest first, failures in time order.
func (e *evidence) result() Evidence {
	return Evidence{Headers: e.headers, FailuresTotal: e.total}.Merge(Evidence{Slowest: e.slowest, Failures: e.failed}, max(e.k, 0))
}

// Merge adds o's rows to ev (shards of one job): the k slowest of both,
// slowest first, and the failures of both in time order, the first
// 200 listed.
func (ev Evidence) Merge(o Evidence, k int) Evidence {
	for _, h := range o.Headers {
		if !slices.Contains(ev.Headers, h) {
			ev.Headers = append(ev.Headers, h)
		}
	}
	slow := slices.Concat(ev.Slowest, o.Slowest)
	slices.SortFunc(slow, func(a, b EvidenceRow) int { return -compareLatency(a, b) })
	ev.Slowest = slow[:min(len(slow), k)]
	failed := slices.Concat(ev.Failures, o.Failures)
	slices.SortStableFunc(failed, func(a, b EvidenceRow) int { return a.SentAt.Compare(b.SentAt) })
	ev.Failures = failed[:min(len(failed), maxFailures)]
	ev.FailuresTotal += o.FailuresTotal
	return ev
}

// compareLatency orders rows by latency, then by send time (earlier first
// among equals).
func compareLatency(a, b EvidenceRow) int {
	return cmp.Or(cmp.Compare(a.LatencyMs, b.LatencyMs), b.SentAt.Compare(a.SentAt))
}

// rowHeap is a min-heap of rows by latency (container/heap).
type rowHeap []EvidenceRow

func (h rowHeap) Len() int           { return len(h) }
func (h rowHeap) Less(i, j int) bool { return compareLatency(h[i], h[j]) < 0 }
func (h rowHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *rowHeap) Push(x any)        { *h = append(*h, x.(EvidenceRow)) }
func (h *rowHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
