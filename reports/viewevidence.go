package reports

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/xoneharness/xoneharness/internal/xone"
	"github.com/xoneharness/xoneharness/load"
	"github.com/xoneharness/xoneharness/spec"
)

// Coverage is the run's response coverage, the contract's and the load's merged (nil when neither
// judged an answer); summary.json carries it as "coverage".
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

// mergeCoverage is the sum of two coverage reports, either of which may be nil.
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

// neverExercised reports whether a documented path of c was in no response.
func neverExercised(c *spec.CoverageReport) bool {
	return slices.ContainsFunc(c.Schemas, func(s spec.SchemaCoverage) bool { return len(s.NeverExercised) > 0 })
}

// evidenceFile is the file WriteDir writes the support evidence to whenever the run has some.
const evidenceFile = "evidence.csv"

// evidenceView is a load's support evidence as tables; More counts the failures not listed.
type evidenceView struct {
	Slowest, Failures evidenceTable
	More              string
}

// evidenceTable is rows of evidence, with a column per correlation header.
type evidenceTable struct {
	Headers []string
	Rows    []evidenceRow
}

// evidenceRow is one request of the evidence as cells, Headers in evidenceTable.Headers' order.
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
	table := func(kind string, rows []load.EvidenceRow) evidenceTable {
		t := evidenceTable{Headers: hs}
		for _, r := range rows {
			row := evidenceRow{Kind: kind, Time: r.SentAt.UTC().Format(fmtMilli), OfferID: r.OfferID, Status: strconv.Itoa(r.Status),
				Latency: fmtNum(r.LatencyMs), Service: fmtNum(r.ServiceMs), CFRay: r.Headers["Cf-Ray"],
				Error: strings.Join(slices.DeleteFunc([]string{r.Error, r.Violation}, func(s string) bool { return s == "" }), "; ")}
			for _, h := range hs {
				row.Headers = append(row.Headers, r.Headers[h])
			}
			t.Rows = append(t.Rows, row)
		}
		return t
	}
	v := &evidenceView{Slowest: table("slowest", ev.Slowest), Failures: table("failure", ev.Failures)}
	if listed := uint64(len(ev.Failures)); ev.FailuresTotal > listed {
		v.More = fmt.Sprintf("%d more failures not listed (%d in all).", ev.FailuresTotal-listed, ev.FailuresTotal)
	}
	return v
}

// evidenceCSV writes the load's support evidence as evidence.csv: a header row, then the slowest
// requests, then the failures in time order. Columns: kind (slowest or failure), sent_at (UTC, to
// the millisecond), offer_id, status (0: no answer), latency_ms (from the intended send),
// service_ms (from the actual send), error (and the first schema violation), then one per
// correlation header.
func evidenceCSV(w io.Writer, r *Report) error {
	var ev load.Evidence
	if r.Load != nil {
		ev = r.Load.Evidence
	}
	v := newEvidenceView(ev)
	records := [][]string{append([]string{"kind", "sent_at", "offer_id", "status", "latency_ms", "service_ms", "error"}, v.Slowest.Headers...)}
	for _, row := range slices.Concat(v.Slowest.Rows, v.Failures.Rows) {
		records = append(records, append([]string{row.Kind, row.Time, row.OfferID, row.Status, row.Latency, row.Service, row.Error}, row.Headers...))
	}
	if err := csv.NewWriter(w).WriteAll(records); err != nil {
		return fmt.Errorf("reports: write evidence: %w", err)
	}
	return nil
}

// vendorView is the block a vendor's support can act on, ending report.md: the load, its non-2xx
// count, and at most vendorRows requests, failures first, then the slowest, each once.
type vendorView struct {
	*load.Result
	Path   string
	Non2xx uint64
	Rows   []evidenceRow
}

// vendorRows is how many requests the block for a vendor ticket lists.
const vendorRows = 10

func vendorText(l *load.Result) (string, error) {
	v := vendorView{Result: l, Path: xone.ConfirmPathTemplate}
	for code, n := range l.StatusCodes {
		if c, err := strconv.Atoi(code); err == nil && c != 0 && (c < 200 || c > 299) {
			v.Non2xx += n
		}
	}
	ev := newEvidenceView(l.Evidence)
	for _, r := range slices.Concat(ev.Failures.Rows, ev.Slowest.Rows) {
		if len(v.Rows) < vendorRows && !slices.ContainsFunc(v.Rows, func(o evidenceRow) bool { return o.Time == r.Time && o.OfferID == r.OfferID }) {
			v.Rows = append(v.Rows, r)
		}
	}
	return text("vendor", v)
}
