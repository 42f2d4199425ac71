package reports

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xoneharness/xoneharness/contract"
	"github.com/xoneharness/xoneharness/load"
	"github.com/xoneharness/xoneharness/spec"
)

// view is everything a reader sees in a report: every label, line of text
// and table row, computed once from a *Report by newView. The Markdown and
// HTML templates and the JUnit writer only lay it out; none computes text of
// its own.
type view struct {
	Title, Tool, ToolVersion, Kind string
	SchemaVersion                  int
	Verdict                        verdictView
	Target                         string
	Started, Finished, Duration    string
	Shard, Document, Error         string
	Incomplete, Notes, Unusual     []string
	// IncompleteWhy heads the list of Incomplete reasons.
	IncompleteWhy string
	// Duplicates are offers confirmed by more than one merged input.
	Duplicates []string
	Bookings   []bookingsView
	Baseline   *baselineView
	Contract   *contractView
	Load       *loadView
	Coverage   *coverageView
	Evidence   *evidenceView
	// Vendor is the block for a vendor ticket (report.md ends with it).
	Vendor string
}

// verdictView is the verdict as shown: a CSS class, a symbol, a label, a
// one-line summary of what failed or is missing, and why (the JUnit
// verdict case's message).
type verdictView struct {
	Class, Symbol, Label, Summary, Why string
}

// field is a named value: a figure, a detail line, a JUnit property.
type field struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// fmtTime is how every format shows a time; a zero time is "unknown".
const fmtTime = "2006-01-02 15:04:05Z"

func newView(r *Report) *view {
	v := &view{
		Title: "xoneharness " + r.Kind, Tool: r.Tool, ToolVersion: r.ToolVersion, Kind: r.Kind,
		SchemaVersion: r.SchemaVersion, Verdict: verdictOf(r), Target: targetText(r.Target),
		Started: timeText(r.StartedAt), Finished: timeText(r.FinishedAt),
		Duration: durationText(r.StartedAt, r.FinishedAt), Shard: r.Shard, Document: documentText(r),
		Error: r.Error, Incomplete: r.Incomplete, IncompleteWhy: incompleteWhy, Notes: r.Notes, Unusual: unusual(r), Duplicates: r.DuplicateOffers,
	}
	for _, b := range r.MayHaveBooked {
		v.Bookings = append(v.Bookings, newBookingsView(b))
	}
	if r.Baseline != nil {
		v.Baseline = newBaselineView(r.Baseline)
	}
	if r.Contract != nil {
		v.Contract = newContractView(r.Kind, r.Contract)
	}
	if r.Load != nil {
		v.Load = newLoadView(r.Load, slices.Contains(r.Notes, mergedRaceNote))
		ev := newEvidenceView(r.Load.Evidence)
		v.Vendor = vendorText(r.Load, ev)
		if hasEvidence(r) {
			v.Evidence = ev
		}
	}
	if c := r.Coverage(); c != nil {
		v.Coverage = newCoverageView(c)
	}
	return v
}

// verdictOf is the one label of each verdict, for every format.
func verdictOf(r *Report) verdictView {
	v := verdictView{Summary: verdictSummary(r)}
	switch r.Verdict {
	case VerdictPass:
		v.Class, v.Symbol, v.Label = "pass", "✔", "PASS"
	case VerdictFail:
		v.Class, v.Symbol, v.Label, v.Why = "fail", "✖", "FAIL", "findings"
	case VerdictIncomplete:
		v.Class, v.Symbol, v.Label, v.Why = "incomplete", "◌", "INCOMPLETE (not a pass)", incompleteWhy
	default:
		v.Class, v.Symbol, v.Label, v.Why = "error", "⚠", strings.ToUpper(orUnknown(r.Verdict)), r.Error
	}
	return v
}

// incompleteWhy says what an incomplete verdict means.
const incompleteWhy = "the run lacks the evidence a pass needs"

// verdictSummary is the one line under the verdict: what failed and what is
// missing, section by section.
func verdictSummary(r *Report) string {
	var parts []string
	if r.Error != "" {
		parts = append(parts, "the harness could not finish")
	}
	if len(r.Incomplete) > 0 {
		parts = append(parts, "not a pass: "+incompleteWhy)
	}
	if c := r.Contract; c != nil {
		parts = append(parts, fmt.Sprintf("contract: %d of %d cases failed", c.Counts.Fail+c.Counts.Error, len(c.Cases)))
	}
	if l := r.Load; l != nil {
		failed, noData := 0, 0
		for _, t := range l.Thresholds {
			switch {
			case t.NoData:
				noData++
			case !t.Passed:
				failed++
			}
		}
		text := fmt.Sprintf("load: %d of %d thresholds failed", failed, len(l.Thresholds))
		if noData > 0 {
			text += fmt.Sprintf(", %d without data", noData)
		}
		parts = append(parts, text)
	}
	if b := r.Baseline; b != nil {
		parts = append(parts, "baseline: "+baselineResult(b))
	}
	if n := len(r.DuplicateOffers); n > 0 {
		parts = append(parts, fmt.Sprintf("%d offer(s) booked twice", n))
	}
	return strings.Join(parts, " · ")
}

func targetText(t Target) string {
	if t.Embedded {
		return t.URL + " (embedded sandbox)"
	}
	return t.URL
}

// documentText names the OpenAPI document: title, version and digest.
func documentText(r *Report) string {
	d := r.Spec
	if d == nil {
		return ""
	}
	return fmt.Sprintf("%s %s · sha256 %s", d.Title, d.Version, d.SHA256)
}

// unusual lists what a reader must know before trusting the figures: a
// choice that weakened the run or changed what it was judged against, and
// what the run measured only in part.
func unusual(r *Report) []string {
	var out []string
	if r.InsecureSkipVerify {
		out = append(out, "TLS certificate verification was off (--insecure-skip-verify): the target was not authenticated")
	}
	d := r.Spec
	if d == nil {
		d = &spec.DocInfo{SHA256: "unknown", OverlaySHA256: "unknown"}
	}
	if r.SpecFile != "" {
		out = append(out, fmt.Sprintf("judged against the document %s (sha256 %s), not the embedded vendor document", r.SpecFile, d.SHA256))
	}
	if r.OverlayFile != "" {
		out = append(out, fmt.Sprintf("corrected by the overlay %s (sha256 %s), not the embedded overlay", r.OverlayFile, d.OverlaySHA256))
	}
	if c := r.Contract; c != nil {
		if n := cutExchanges(c); n > 0 {
			out = append(out, fmt.Sprintf("%d recorded bodies cut at xoneharness's own limit of %d KiB (a limit of this tool, not of the target)", n, contract.MaxExchangeBody>>10))
		}
	}
	if l := r.Load; l != nil {
		out = append(out, loadUnusual(l)...)
	}
	return out
}

// cutExchanges counts the request and response bodies cut in the recorded
// exchanges.
func cutExchanges(c *contract.Result) int {
	n := 0
	for _, cs := range c.Cases {
		if x := cs.Exchange; x != nil {
			n += b2i(x.RequestBodyTruncated) + b2i(x.ResponseBodyTruncated)
		}
	}
	return n
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// loadUnusual is what a load run measured only in part: the safety gates
// off, validation sampled or skipped, bodies cut, Retry-After pauses.
func loadUnusual(l *load.Result) []string {
	var out []string
	if l.Plan.GatesOff {
		g := l.Plan.Gates()
		out = append(out, "the safety gates "+strings.Join(g[:len(g)-1], ", ")+" and "+g[len(g)-1]+" were off (--no-default-thresholds)")
	}
	if s := l.Plan.ValidateSample; s < 1 && (l.Plan.Rate != "" || len(l.Plan.Stages) > 0) {
		out = append(out, fmt.Sprintf("only %s of the responses were sampled for schema validation", fmtPct(s)))
	}
	if sk := l.Schema.Skipped; sk > 0 {
		out = append(out, fmt.Sprintf("schema validation skipped for %d of %d sampled responses (%s validated): %s",
			sk, sk+l.Schema.Validated, fmtPct(float64(l.Schema.Validated)/float64(sk+l.Schema.Validated)),
			orDefault(l.Schema.SkipReason, "the validators were behind")))
	}
	if n := l.Schema.TruncatedBodies; n > 0 {
		out = append(out, fmt.Sprintf("%d response bodies cut at xoneharness's own read limit (a limit of this tool, not of the target) and not validated", n))
	}
	if p := l.RetryAfterPauses; p.Count > 0 || p.Unsent > 0 {
		out = append(out, pausesText(p))
	}
	if n := l.RetryAfterPauses.Ignored; n > 0 {
		out = append(out, fmt.Sprintf("%d answers with Retry-After did not pause the attack (--ignore-retry-after)", n))
	}
	return out
}

// pausesText is the one description of the Retry-After pauses.
func pausesText(p load.PauseStats) string {
	s := fmt.Sprintf("%d Retry-After pauses, %s ms in all, the longest %s ms", p.Count, fmtMS(p.TotalMs), fmtMS(p.MaxMs))
	if len(p.Values) > 0 {
		s += "; Retry-After values seen: " + strings.Join(p.Values, ", ")
	}
	if p.Unsent > 0 {
		s += fmt.Sprintf("; %d planned requests left unsent", p.Unsent)
	}
	return s
}

// bookingsView is one killed run's journal: what may have booked, as a
// title, rows and one line per row.
type bookingsView struct {
	Title string
	Rows  []BookingRow
	Lines []string
}

func newBookingsView(b Bookings) bookingsView {
	v := bookingsView{Title: fmt.Sprintf("%s: %d confirms may have booked (%d booked, %d unknown)", b.Journal,
		b.Booked+b.Unknown, b.Booked, b.Unknown), Rows: b.First}
	if n := b.Booked + b.Unknown - len(b.First); n > 0 {
		v.Title += fmt.Sprintf("; the first %d below, %d more in the file", len(b.First), n)
	}
	for _, r := range b.First {
		v.Lines = append(v.Lines, fmt.Sprintf("offer %s: %s, booking %s, HTTP %s, %s", r.OfferID, r.Outcome,
			orDefault(r.BookingID, "–"), statusText(r.Status), orDefault(r.Error, "no error")))
	}
	return v
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format(fmtTime)
}

// durationText is the time from a to b, rounded to milliseconds (seconds
// above a minute); "–" when either is unknown or b is before a.
func durationText(a, b time.Time) string {
	d := b.Sub(a)
	switch {
	case a.IsZero() || b.IsZero() || d < 0:
		return "–"
	case d >= time.Minute:
		return d.Round(time.Second).String()
	}
	return d.Round(time.Millisecond).String()
}

// stamp is a time for JUnit: RFC 3339, "" when unknown.
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func secs(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func fmtMS(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

func fmtNum(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func fmtRate(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) + "/s" }

// fmtPct formats a fraction as a percentage with up to two decimals.
func fmtPct(f float64) string {
	if !finite(f) {
		return "–"
	}
	return fmtNum(math.Round(f*10000)/100) + "%"
}

// fmtSignedPct formats a relative change: "+12.5%", "-3%", "0%".
func fmtSignedPct(f float64) string {
	if f > 0 && finite(f) {
		return "+" + fmtPct(f)
	}
	return fmtPct(f)
}

func orUnknown(s string) string { return orDefault(s, "unknown") }

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func statusText(s int) string {
	if s == 0 {
		return "–"
	}
	return strconv.Itoa(s)
}
