package reports

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/xoneharness/xoneharness/contract"
	"github.com/xoneharness/xoneharness/load"
)

// Markdown writes the report as report.md: the verdict first, then tables.
// It fits $GITHUB_STEP_SUMMARY and a pull-request comment; cells have "|"
// escaped and newlines folded.
func Markdown(w io.Writer, r *Report) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }

	p("## xoneharness %s: %s\n\n", r.Kind, verdictLabel(r.Verdict))
	target := r.Target.URL
	if r.Target.Embedded {
		target += " (embedded sandbox)"
	}
	p("Target: `%s` · started %s · %s · xoneharness %s\n\n",
		mdCode(target), r.StartedAt.UTC().Format("2006-01-02 15:04:05Z"),
		r.FinishedAt.Sub(r.StartedAt).Round(1e6), r.ToolVersion)
	if r.Shard != "" {
		p("Shard: %s\n\n", mdCell(r.Shard))
	}
	if r.Error != "" {
		p("> **Error:** %s\n\n", mdCell(r.Error))
	}
	for _, n := range r.Notes {
		p("- %s\n", mdCell(n))
	}
	if len(r.Notes) > 0 {
		p("\n")
	}
	if c := r.Contract; c != nil {
		markdownContract(p, c)
	}
	if l := r.Load; l != nil {
		markdownLoad(p, l)
	}
	if r.Baseline != nil {
		markdownBaseline(p, r.Baseline)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("reports: write markdown: %w", err)
	}
	return nil
}

func markdownContract(p func(string, ...any), c *contract.Result) {
	p("### Contract\n\n")
	p("%d pass · %d fail · %d drift · %d skip", c.Counts.Pass, c.Counts.Fail, c.Counts.Drift, c.Counts.Skip)
	if c.Strict {
		p(" · strict")
	}
	p("\n\n| case | outcome | status | ms | first finding |\n|---|---|---:|---:|---|\n")
	for _, cs := range c.Cases {
		first := cs.Reason
		if len(cs.Violations) > 0 {
			first = violationText(cs.Violations[0])
			if n := len(cs.Violations) - 1; n > 0 {
				first += fmt.Sprintf(" (+%d more)", n)
			}
		}
		outcome := string(cs.Outcome)
		if cs.Security {
			outcome += " (security)"
		}
		p("| %s | %s | %s | %s | %s |\n", mdCell(cs.Name), outcomeLabel(outcome), statusText(cs.Status),
			fmtMS(ms(cs.Duration)), mdCell(first))
	}
	p("\n")
}

func markdownLoad(p func(string, ...any), l *load.Result) {
	p("### Load\n\n")
	p("%d requests in %.1f s · requested %.1f/s · achieved %.1f/s · success %.2f%% · stop: %s",
		l.Requests, l.DurationSeconds, l.RateRequested, l.RateAchieved, 100*l.SuccessRatio, mdCell(l.StopReason))
	if l.Interrupted {
		p(" · **interrupted**")
	}
	p("\n\n")
	if len(l.Thresholds) > 0 {
		p("| threshold | observed | result |\n|---|---:|---|\n")
		for _, t := range l.Thresholds {
			res := "pass"
			if !t.Passed {
				res = "**FAIL**"
			}
			p("| `%s` | %s%s | %s |\n", mdCode(t.Expr), fmtNum(t.Observed), mdCell(t.Unit), res)
		}
		p("\n")
	}
	p("| latency (ms) | min | mean | p50 | p90 | p95 | p99 | p99.9 | max |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	row := func(name string, x load.Latency) {
		p("| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", name, fmtMS(x.Min), fmtMS(x.Mean), fmtMS(x.P50),
			fmtMS(x.P90), fmtMS(x.P95), fmtMS(x.P99), fmtMS(x.P999), fmtMS(x.Max))
	}
	row("from intended send", l.Latency)
	row("service time", l.ServiceTime)
	for _, class := range sortedKeys(l.ByClass) {
		row("class "+mdCell(class)+" (from intended)", l.ByClass[class].Latency)
	}
	p("\n| status | count |\n|---|---:|\n")
	for _, code := range sortedKeys(l.StatusCodes) {
		p("| %s | %d |\n", mdCell(code), l.StatusCodes[code])
	}
	p("\nLate sends: %d (worst %s ms) · schema: %d validated, %d violations · offers: %d used, %d confirmed, %d failed · tokens: %d fetched\n",
		l.LateSends.Count, fmtMS(l.LateSends.MaxMs), l.Schema.Validated, l.Schema.Violations,
		l.Offers.Used, l.Offers.Confirmed, l.Offers.Failed, l.Tokens.Fetches)
	if len(l.Errors) > 0 {
		p("\n| error | count |\n|---|---:|\n")
		for _, e := range l.Errors {
			p("| %s | %d |\n", mdCell(e.Message), e.Count)
		}
	}
	if len(l.Schema.Details) > 0 {
		p("\n| schema violation | status | path | reason |\n|---|---:|---|---|\n")
		for _, v := range l.Schema.Details {
			p("| %s | %d | %s | %s |\n", mdCell(v.Rule), v.Status, mdCell(v.Path), mdCell(v.Reason))
		}
	}
	p("\n")
}

func verdictLabel(v string) string {
	switch v {
	case VerdictPass:
		return "✅ PASS"
	case VerdictFail:
		return "❌ FAIL"
	default:
		return "⚠️ " + strings.ToUpper(v)
	}
}

func outcomeLabel(o string) string {
	if strings.HasPrefix(o, "fail") {
		return "**" + o + "**"
	}
	return o
}

func violationText(v contract.Violation) string {
	s := v.Rule
	if v.Path != "" {
		s += " " + v.Path
	}
	if v.Message != "" {
		s += ": " + v.Message
	}
	return s
}

func statusText(s int) string {
	if s == 0 {
		return "–"
	}
	return strconv.Itoa(s)
}

// mdCell makes s safe inside a Markdown table cell.
func mdCell(s string) string {
	s = strings.ReplaceAll(s, "\r\n", " ")
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.ReplaceAll(s, "\r", " ")
	return strings.ReplaceAll(s, "|", `\|`)
}

// mdCode makes s safe inside an inline code span in a table cell.
func mdCode(s string) string {
	return strings.ReplaceAll(mdCell(s), "`", "'")
}

func fmtMS(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

func fmtNum(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
