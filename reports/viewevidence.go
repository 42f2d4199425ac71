package reports

import (
	"encoding/csv"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xoneharness/xoneharness/internal/xone"
	"github.com/xoneharness/xoneharness/load"
	"github.com/xoneharness/xoneharness/spec"
)

// Coverage is the run's response coverage: the merge of the contract's and
// the load's (a run has both stages), nil when neither judged an answer.
// summary.json carries it as the top-level "coverage".
func (r *Report) Coverage() *spec.CoverageReport {
	var c, l *spec.CoverageReport
	if r.Contract != nil {
		c = r.Contract.Coverage
	}
	if r.Load != nil {
		l = r.Load.Coverage
	}
	return mergeCoverage(c, l)
}

// mergeCoverage is the sum of two coverage reports, either of which may be
// nil.
func mergeCoverage(a, b *spec.CoverageReport) *spec.CoverageReport {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	m := a.Merge(*b)
	return &m
}

// coverageView is response coverage: the one-line figure and, per
// documented schema, its paths.
type coverageView struct {
	Figure  string
	Never   bool // some documented path was never exercised
	Schemas []schemaCoverageView
}

// schemaCoverageView is one documented response schema (a status's body or
// headers); Never lists the paths no response had.
type schemaCoverageView struct {
	Name, Figure string
	Never        []string
	Paths        []pathCoverageView
}

// pathCoverageView is one documented path: how many responses had it, with
// a non-null value, and each kind of value.
type pathCoverageView struct {
	Path, Present, NonNull, Kinds string
	Never                         bool
}

func newCoverageView(c *spec.CoverageReport) *coverageView {
	v := &coverageView{Figure: fmt.Sprintf("%d of %d documented response fields exercised by %d responses",
		c.Exercised, c.Documented, c.Responses)}
	for _, sc := range c.Schemas {
		s := schemaCoverageView{Name: sc.Status + " " + sc.Part, Never: sc.NeverExercised,
			Figure: fmt.Sprintf("%d of %d exercised, %d responses", sc.Exercised, sc.Documented, sc.Responses)}
		for _, p := range sc.Paths {
			var kinds []string
			for _, k := range slices.Sorted(maps.Keys(p.Kinds)) {
				kinds = append(kinds, fmt.Sprintf("%s %d", k, p.Kinds[k]))
			}
			s.Paths = append(s.Paths, pathCoverageView{Path: p.Path, Present: strconv.FormatInt(p.Present, 10),
				NonNull: strconv.FormatInt(p.NonNull, 10), Kinds: strings.Join(kinds, " · "), Never: p.Present == 0})
		}
		v.Never = v.Never || len(sc.NeverExercised) > 0
		v.Schemas = append(v.Schemas, s)
	}
	return v
}

// EvidenceFile is the file a report directory holds the support evidence
// in (EvidenceCSV), written beside the formats whenever the run has
// evidence.
const EvidenceFile = "evidence.csv"

// fmtMilli is how evidence shows a send time: UTC, to the millisecond.
const fmtMilli = "2006-01-02T15:04:05.000Z"

// evidenceView is the support evidence of a load: the slowest requests and
// the failing ones, as tables of cells.
type evidenceView struct {
	Slowest, Failures evidenceTable
	// More counts the failures not listed.
	More string
}

// evidenceTable is rows of evidence under their correlation headers, one
// column each.
type evidenceTable struct {
	Headers []string
	Rows    []evidenceRow
}

// evidenceRow is one request of the evidence: its cells, and the values of
// the correlation headers in the order of evidenceTable.Headers.
type evidenceRow struct {
	Kind, Time, OfferID, Status, Latency, Service, Error, CFRay string
	Headers                                                     []string
}

// hasEvidence reports whether the run has support evidence to write.
func hasEvidence(r *Report) bool {
	return r.Load != nil && len(r.Load.Evidence.Slowest)+len(r.Load.Evidence.Failures) > 0
}

func newEvidenceView(ev load.Evidence) *evidenceView {
	hs := ev.Headers
	if len(hs) == 0 {
		hs = load.CorrelationHeaders()
	}
	v := &evidenceView{Slowest: evidenceTable{Headers: hs}, Failures: evidenceTable{Headers: hs}}
	for _, r := range ev.Slowest {
		v.Slowest.Rows = append(v.Slowest.Rows, evidenceRowOf("slowest", r, hs))
	}
	for _, r := range ev.Failures {
		v.Failures.Rows = append(v.Failures.Rows, evidenceRowOf("failure", r, hs))
	}
	if listed := uint64(len(ev.Failures)); ev.FailuresTotal > listed {
		v.More = fmt.Sprintf("%d more failures not listed (%d in all).", ev.FailuresTotal-listed, ev.FailuresTotal)
	}
	return v
}

func evidenceRowOf(kind string, r load.EvidenceRow, headers []string) evidenceRow {
	e := []string{r.Error, r.Violation}
	row := evidenceRow{Kind: kind, Time: r.SentAt.UTC().Format(fmtMilli), OfferID: r.OfferID, Status: strconv.Itoa(r.Status),
		Latency: fmtNum(r.LatencyMs), Service: fmtNum(r.ServiceMs), Error: strings.Join(slices.DeleteFunc(e, isEmpty), "; "),
		CFRay: r.Headers["Cf-Ray"]}
	for _, h := range headers {
		row.Headers = append(row.Headers, r.Headers[h])
	}
	return row
}

func isEmpty(s string) bool { return s == "" }

// EvidenceCSV writes the load's support evidence as evidence.csv: a header
// row, then one row per request, the slowest first, then the failures in
// the order they happened. Columns: kind (slowest or failure), sent_at (UTC,
// to the millisecond), offer_id, status (0: no answer), latency_ms (from the
// intended send), service_ms (from the actual send), error (the transport
// error or status text, and the first schema violation), then one column per
// correlation header, those the run added included.
func EvidenceCSV(w io.Writer, r *Report) error {
	var ev load.Evidence
	if r.Load != nil {
		ev = r.Load.Evidence
	}
	v := newEvidenceView(ev)
	cw := csv.NewWriter(w)
	_ = cw.Write(append([]string{"kind", "sent_at", "offer_id", "status", "latency_ms", "service_ms", "error"}, v.Slowest.Headers...))
	for _, row := range slices.Concat(v.Slowest.Rows, v.Failures.Rows) {
		_ = cw.Write(append([]string{row.Kind, row.Time, row.OfferID, row.Status, row.Latency, row.Service, row.Error}, row.Headers...))
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("reports: write evidence: %w", err)
	}
	return nil
}

// vendorRows is how many requests the block for a vendor ticket lists.
const vendorRows = 10

// vendorText is the short block a vendor's support can act on: what was
// tested, the window, the counts, and the most relevant requests (failures
// first, then the slowest, each once) with their time, status, latency and
// CF-RAY.
func vendorText(l *load.Result, ev *evidenceView) string {
	var non2xx uint64
	for code, n := range l.StatusCodes {
		if c, err := strconv.Atoi(code); err == nil && c != 0 && (c < 200 || c > 299) {
			non2xx += n
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "load test of POST %s against %s\n", xone.ConfirmPathTemplate, orUnknown(l.Target))
	fmt.Fprintf(&b, "window (UTC): %s – %s\n", milli(l.StartedAt), milli(l.FinishedAt))
	fmt.Fprintf(&b, "requests %d, non-2xx %d, transport errors %d, schema violations %d\n",
		l.Requests, non2xx, l.StatusCodes["0"], l.Schema.Violations)
	seen := map[string]bool{}
	for _, r := range slices.Concat(ev.Failures.Rows, ev.Slowest.Rows) {
		key := r.Time + "\x00" + r.OfferID
		if seen[key] || len(seen) == vendorRows {
			continue
		}
		if len(seen) == 0 {
			b.WriteString("failures, then the slowest (sent at, UTC; status; latency from the intended send; CF-RAY):\n")
		}
		seen[key] = true
		fmt.Fprintf(&b, "%s  %-3s  %10s ms  %s\n", r.Time, r.Status, r.Latency, orDefault(r.CFRay, "–"))
	}
	return b.String()
}

func milli(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format(fmtMilli)
}
