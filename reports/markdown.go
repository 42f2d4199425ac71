package reports

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/xoneharness/xoneharness/contract"
	"github.com/xoneharness/xoneharness/load"
)

// Markdown writes the report as report.md: the verdict first, then tables.
// It fits $GITHUB_STEP_SUMMARY and a pull-request comment; cells have "|"
// escaped and newlines folded. Generated contract cases get a section of
// their own (see markdownGenerated): passing ones are counted, not listed.
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
	if d := r.Spec; d != nil {
		p("Document: %s %s · sha256 `%s`\n\n", mdCell(d.Title), mdCell(d.Version), mdCode(d.SHA256))
	}
	if r.Error != "" {
		p("> **Error:** %s\n\n", mdCell(r.Error))
	}
	if len(r.Incomplete) > 0 {
		p("**Incomplete:** the run lacks the evidence a pass needs:\n\n")
		for _, why := range r.Incomplete {
			p("- %s\n", mdCell(why))
		}
		p("\n")
	}
	for _, n := range r.Notes {
		p("- %s\n", mdCell(n))
	}
	if len(r.Notes) > 0 {
		p("\n")
	}
	if c := r.Contract; c != nil {
		markdownContract(p, r.Kind, c)
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

func markdownContract(p func(string, ...any), kind string, c *contract.Result) {
	p("### Contract\n\n")
	p("%d pass · %d fail · %d drift · %d skip", c.Counts.Pass, c.Counts.Fail, c.Counts.Drift, c.Counts.Skip)
	if c.Counts.Error > 0 {
		p(" · %d error", c.Counts.Error)
	}
	if c.Strict {
		p(" · strict")
	}
	fixed, gen := splitGenerated(c.Cases)
	p("\n\n| case | outcome | status | ms | first finding |\n|---|---|---:|---:|---|\n")
	for _, cs := range fixed {
		first := firstFinding(cs)
		outcome := string(cs.Outcome)
		if cs.Security {
			outcome += " (security)"
		}
		p("| %s | %s | %s | %s | %s |\n", mdCell(cs.Name), outcomeLabel(outcome), statusText(cs.Status),
			fmtMS(ms(cs.Duration)), mdCell(first))
	}
	p("\n")
	if c.Generation != nil || len(gen) > 0 {
		markdownGenerated(p, kind, c.Generation, gen)
	}
}

// mdMaxGenerated is the number of generated cases that did not pass that
// report.md shows in full; the rest are counted (report.html and
// summary.json have them all), so that the page stays within what
// $GITHUB_STEP_SUMMARY accepts.
const mdMaxGenerated = 20

// markdownGenerated writes the generated cases as a group: the seed and the
// flags that replay it, the offers used, why generation stopped early, a
// table of outcomes per kind, then each case that did not pass with its
// minimal body and curl line. Passing cases are only counted.
func markdownGenerated(p func(string, ...any), kind string, g *contract.Generation, gen []contract.CaseResult) {
	p("### Generated cases\n\n")
	if g != nil {
		p("Seed `%d` · %d of %d run · %s · %d requests · replay: `%s`\n\n",
			g.Seed, g.Run, g.Requested, offersText(g), g.Requests, mdCode(replayCommand(kind, g)))
		if g.Stopped != "" {
			p("**Stopped early:** %s\n\n", mdCell(g.Stopped))
		}
	}
	tally := tallyGenerated(gen)
	p("| kind | pass | fail | drift | error |\n|---|---:|---:|---:|---:|\n")
	for _, t := range tally {
		p("| %s | %d | %d | %d | %d |\n", mdCell(t.Kind), t.Pass, t.Fail, t.Drift, t.Error)
	}
	p("\n")
	var pass, skip, shown, hidden int
	for _, cs := range gen {
		if shown == 0 && cs.Outcome != contract.OutcomePass && cs.Outcome != contract.OutcomeSkip {
			p("Each case below that did not pass, with the smallest body found that gets the same verdict; " +
				"the curl lines read the bearer token from `$TOKEN`.\n\n")
		}
		switch cs.Outcome {
		case contract.OutcomePass:
			pass++
			continue
		case contract.OutcomeSkip:
			skip++
			continue
		}
		if shown == mdMaxGenerated {
			hidden++
			continue
		}
		shown++
		gc := generatedOf(cs)
		p("#### `%s` · %s · %s · HTTP %s\n\n", mdCode(cs.Name), mdCell(gc.Kind), outcomeLabel(string(cs.Outcome)),
			statusText(cs.Status))
		if gc.Mutation != "" {
			p("Mutation: `%s`\n\n", mdCode(gc.Mutation))
		}
		if first := firstFinding(cs); first != "" {
			p("%s\n\n", mdCell(first))
		}
		body, curl := minimalOf(cs)
		if body != "" {
			p("%s:\n\n", minimalLabel(cs))
			mdFence(p, "json", prettyBody(body))
		}
		if curl != "" {
			mdFence(p, "sh", curl)
		}
	}
	if hidden > 0 {
		p("%d more generated cases that did not pass are in report.html and summary.json.\n\n", hidden)
	}
	if pass > 0 || skip > 0 {
		p("%d passing generated cases", pass)
		if skip > 0 {
			p(" and %d skipped", skip)
		}
		p(" not listed.\n\n")
	}
}

// mdFence writes text as a fenced code block whose fence is longer than
// any run of backticks inside it.
func mdFence(p func(string, ...any), lang, text string) {
	fence := "```"
	for strings.Contains(text, fence) {
		fence += "`"
	}
	p("%s%s\n%s\n%s\n\n", fence, lang, strings.TrimRight(text, "\r\n"), fence)
}

// firstFinding is the one-line summary of a case: its first violation (and
// how many more), or its reason.
func firstFinding(cs contract.CaseResult) string {
	if len(cs.Violations) == 0 {
		return cs.Reason
	}
	first := violationText(cs.Violations[0])
	if n := len(cs.Violations) - 1; n > 0 {
		first += fmt.Sprintf(" (+%d more)", n)
	}
	return first
}

// splitGenerated separates the fixed cases from the generated ones, each
// in run order.
func splitGenerated(cases []contract.CaseResult) (fixed, gen []contract.CaseResult) {
	for _, cs := range cases {
		if cs.Generated != nil {
			gen = append(gen, cs)
		} else {
			fixed = append(fixed, cs)
		}
	}
	return fixed, gen
}

// generatedOf returns the generation details of a generated case (never
// nil).
func generatedOf(cs contract.CaseResult) contract.GeneratedCase {
	if cs.Generated == nil {
		return contract.GeneratedCase{}
	}
	return *cs.Generated
}

// minimalOf returns the body and the curl line that reproduce a generated
// case: the shrunk ones, or the request as sent when the case was not
// shrunk.
func minimalOf(cs contract.CaseResult) (body, curl string) {
	gc := generatedOf(cs)
	body, curl = gc.MinimalBody, gc.Curl
	if x := cs.Exchange; x != nil {
		if body == "" {
			body = x.RequestBody
		}
		if curl == "" {
			curl = Curl(x)
		}
	}
	return body, curl
}

// minimalLabel names the body minimalOf returns.
func minimalLabel(cs contract.CaseResult) string {
	gc := generatedOf(cs)
	if gc.MinimalBody == "" {
		return "Request body as sent (not shrunk)"
	}
	s := "Minimal body"
	if gc.MinimalStatus != 0 {
		s += fmt.Sprintf(" (HTTP %d", gc.MinimalStatus)
	} else {
		s += " (no answer"
	}
	if gc.ShrinkRequests > 0 {
		s += fmt.Sprintf(", after %d shrink requests", gc.ShrinkRequests)
	}
	return s + ")"
}

// generatedTally is the number of generated cases of one kind per outcome.
type generatedTally struct {
	Kind                           string
	Pass, Fail, Drift, Error, Skip int
}

// tallyGenerated counts generated cases per kind: positive and negative
// always, then any other kind by name.
func tallyGenerated(gen []contract.CaseResult) []generatedTally {
	out := []generatedTally{{Kind: contract.KindPositive}, {Kind: contract.KindNegative}}
	for _, cs := range gen {
		k := generatedOf(cs).Kind
		i := slices.IndexFunc(out, func(t generatedTally) bool { return t.Kind == k })
		if i < 0 {
			out = append(out, generatedTally{Kind: k})
			i = len(out) - 1
		}
		switch cs.Outcome {
		case contract.OutcomePass:
			out[i].Pass++
		case contract.OutcomeFail:
			out[i].Fail++
		case contract.OutcomeDrift:
			out[i].Drift++
		case contract.OutcomeError:
			out[i].Error++
		case contract.OutcomeSkip:
			out[i].Skip++
		}
	}
	return out
}

// replayCommand is the command line that runs the same generated cases
// again (with the same target and options).
func replayCommand(kind string, g *contract.Generation) string {
	if kind != KindRun {
		kind = KindContract
	}
	return fmt.Sprintf("xoneharness %s --generate %d --seed %d", kind, g.Requested, g.Seed)
}

// offersText says how many offers generation consumed, and of what budget.
func offersText(g *contract.Generation) string {
	s := fmt.Sprintf("%d offers used", g.OffersUsed)
	if g.OfferBudget > 0 {
		s += fmt.Sprintf(" of a budget of %d", g.OfferBudget)
	}
	return s
}

func markdownLoad(p func(string, ...any), l *load.Result) {
	p("### Load\n\n")
	p("%d requests in %.1f s · requested %.1f/s · achieved %.1f/s · success %.2f%% · stop: %s",
		l.Requests, l.DurationSeconds, l.RateRequested, l.RateAchieved, 100*l.SuccessRatio, mdCell(l.StopReason))
	if l.StatusUndocumented > 0 {
		p(" · %d undocumented statuses", l.StatusUndocumented)
	}
	p("\n\n")
	if len(l.Thresholds) > 0 {
		p("| threshold | observed | result |\n|---|---:|---|\n")
		for _, t := range l.Thresholds {
			res, obs := "pass", fmtNum(t.Observed)+mdCell(t.Unit)
			switch {
			case t.NoData:
				res, obs = "no data", mdCell(t.Note)
			case !t.Passed:
				res = "**FAIL**"
			}
			p("| `%s` | %s | %s |\n", mdCode(t.Expr), obs, res)
		}
		if l.Plan.DefaultThresholds {
			p("\nDefault gates (no `--threshold` given; `--no-default-thresholds` turns them off).\n")
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
	if l.Schema.Skipped > 0 {
		p("\nValidation yielded to the attack: %.1f%% of the sampled responses validated (%d skipped).\n",
			100*float64(l.Schema.Validated)/float64(l.Schema.Validated+l.Schema.Skipped), l.Schema.Skipped)
	}
	if l.FeedStarved.Waits > 0 {
		p("\nOffer feed starved the attack for %.0f ms: %d sends waited, %d were late for it (feed starved).\n",
			l.FeedStarved.Ms, l.FeedStarved.Waits, l.FeedStarved.LateSends)
	}
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
	case VerdictIncomplete:
		return "⏸️ INCOMPLETE (not a pass)"
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
