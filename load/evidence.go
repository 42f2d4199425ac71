package load

import (
	"cmp"
	"net/http"
	"slices"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Evidence is what a vendor's support asks for when a run fails or is slow:
// the correlation headers collected (canonical names), the K slowest
// requests by corrected latency (slowest first), the first 200 failing
// requests (non-2xx, transport errors, schema violations) in time order, and
// a count of every failure.
type Evidence struct {
	Headers       []string      `json:"headers"`
	Slowest       []EvidenceRow `json:"slowest"`
	Failures      []EvidenceRow `json:"failures"`
	FailuresTotal uint64        `json:"failures_total"`
}

// EvidenceRow is one request of the evidence: when it left (UTC, ms
// precision), its number in results.bin, its status (0: no answer), its
// latency from the intended send and from the actual send, the transport
// error or status text, the first schema violation, and the correlation
// headers the answer carried.
type EvidenceRow struct {
	SentAt    time.Time         `json:"sent_at"`
	Seq       uint64            `json:"seq"`
	OfferID   string            `json:"offer_id"`
	Status    int               `json:"status"`
	LatencyMs float64           `json:"latency_ms"`
	ServiceMs float64           `json:"service_ms"`
	Error     string            `json:"error,omitempty"`
	Violation string            `json:"violation,omitempty"`
	Headers   map[string]string `json:"headers,omitempty"`
}

// DefaultEvidence is the number of slowest requests kept (Plan.Evidence).
const DefaultEvidence = 20

// maxFailures is the number of failing requests listed.
const maxFailures = 200

// CorrelationHeaders are the headers evidence keeps from every answer,
// besides Plan.EvidenceHeaders.
func CorrelationHeaders() []string {
	return []string{"Cf-Ray", "Server-Timing", "X-Request-Id", "Traceparent"}
}

// evidence collects Evidence; slowest is sorted fastest first.
type evidence struct {
	k       int
	headers []string
	slowest []EvidenceRow
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

// slow offers an answer to the K slowest, building its row only if kept.
func (e *evidence) slow(corrected time.Duration, build func() EvidenceRow) {
	if e.k <= 0 || len(e.slowest) == e.k && ms(corrected) <= e.slowest[0].LatencyMs {
		return
	}
	if len(e.slowest) == e.k {
		e.slowest = slices.Delete(e.slowest, 0, 1)
	}
	r := build()
	i, _ := slices.BinarySearchFunc(e.slowest, r, compareLatency)
	e.slowest = slices.Insert(e.slowest, i, r)
}

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

// Merge adds o's rows to ev (shards of one job), keeping the k slowest and
// the first 200 failures.
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

// compareLatency orders rows by latency, then the later sent first, then by offer id: a total
// order, so shards merge to the same rows in the same order whatever their input order.
func compareLatency(a, b EvidenceRow) int {
	return cmp.Or(cmp.Compare(a.LatencyMs, b.LatencyMs), b.SentAt.Compare(a.SentAt), cmp.Compare(b.OfferID, a.OfferID))
}
