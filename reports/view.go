package reports

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// view is what every format shows of a report alike, beside it (its fields shadow the Report's of
// the same name); the sentences are assets/text.tmpl's, which the other formats only lay out.
type view struct {
	*Report
	Verdict verdictView
	// Unusual lists what weakened the run, changed its judge or was measured only in part.
	Unusual  []field
	Contract *contractView
	Load     *loadView
	Evidence *evidenceView
}

// verdictView is the verdict as shown: a CSS class, a symbol, a label, and why.
type verdictView struct{ Class, Symbol, Label, Why string }

// field is a named value: a figure, a detail line, a JUnit property.
type field struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// Layouts of the times shown: fmtTime in text, fmtMilli for a send time in the evidence.
const (
	fmtTime  = "2006-01-02 15:04:05Z"
	fmtMilli = "2006-01-02T15:04:05.000Z"
)

// incompleteWhy says what an incomplete verdict means.
const incompleteWhy = "the run lacks the evidence a pass needs"

// texter executes plain-text templates, keeping the first error.
type texter struct{ err error }

func (t *texter) text(name string, data any) string {
	s, err := text(name, data)
	t.err = cmp.Or(t.err, err)
	return s
}

// fields are the non-empty texts of the templates prefix+name on data, one per name, named by it.
func (t *texter) fields(prefix string, names []string, data any) []field {
	var out []field
	for _, name := range names {
		if s := t.text(prefix+name, data); s != "" {
			out = append(out, field{name, s})
		}
	}
	return out
}

func newView(r *Report) (*view, error) {
	var t texter
	v := &view{Report: r, Verdict: verdictOf(r), Unusual: t.fields("unusual ", []string{"tls", "spec", "overlay", "cut", "gates",
		"sampled", "skipped", "truncated", "pauses", "ignored"}, r)}
	if r.Contract != nil {
		v.Contract = newContractView(r.Kind, r.Contract, &t)
	}
	if r.Load != nil {
		v.Load = newLoadView(r.Load, slices.Contains(r.Notes, mergedRaceNote), &t)
		if hasEvidence(r) {
			v.Evidence = newEvidenceView(r.Load.Evidence)
		}
	}
	return v, t.err
}

// verdictOf is the one label of each verdict, for every format.
func verdictOf(r *Report) verdictView {
	if v, ok := map[string]verdictView{VerdictPass: {"pass", "✔", "PASS", ""}, VerdictFail: {"fail", "✖", "FAIL", "findings"},
		VerdictIncomplete: {"incomplete", "◌", "INCOMPLETE (not a pass)", incompleteWhy}}[r.Verdict]; ok {
		return v
	}
	return verdictView{"error", "⚠", strings.ToUpper(cmp.Or(r.Verdict, "unknown")), r.Error}
}

// utc is t in UTC in the layout, "" when t is unknown (zero).
func utc(layout string, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(layout)
}

// durationText is the time from a to b, rounded to milliseconds (seconds above a minute); "–" when
// either is unknown or b is before a.
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

func secs(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func fmtMS(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

func fmtNum(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// fmtPct formats a fraction as a percentage with up to two decimals.
func fmtPct(f float64) string {
	if !finite(f) {
		return "–"
	}
	return fmtNum(math.Round(f*10000)/100) + "%"
}

// statusOr formats an HTTP status, none when there is none (0).
func statusOr(none string) func(int) string {
	return func(s int) string {
		if s == 0 {
			return none
		}
		return strconv.Itoa(s)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// nOf is n and the noun, plural unless n is 1.
func nOf(n uint64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.FormatUint(n, 10) + " " + noun + "s"
}
