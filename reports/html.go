package reports

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/xoneharness/xoneharness/contract"
	"github.com/xoneharness/xoneharness/load"
)

//go:embed assets/report.css assets/report.html.tmpl
var assets embed.FS

// HTML writes the report as report.html: one self-contained page (the
// stylesheet is embedded, charts are inline SVG, there is no script and no
// reference to anything on the network) that reads on a laptop screen and
// prints. It shows the verdict banner, the target and times, the notes, the
// baseline comparison, the contract cases with their violations (each with
// its redacted request and response and a curl reproducer that takes the
// token from $XONE_TOKEN), the generated contract cases as a group of their
// own (seed and replay flags, offers used, stop reason, a tally per kind and
// outcome, each case that did not pass with its minimal body and curl line,
// the passing ones collapsed) and the load figures, thresholds, latency tables,
// status codes, errors, schema violations and charts. Every value from the
// report is escaped by html/template: a partner's error body is shown, never
// interpreted. HTML is safe for concurrent use.
func HTML(w io.Writer, r *Report) error {
	css, err := assets.ReadFile("assets/report.css")
	if err != nil {
		return fmt.Errorf("reports: html: %w", err)
	}
	tmpl, err := template.New("report.html.tmpl").Funcs(template.FuncMap{
		"num":       fmtNum,
		"ms":        fmtMS,
		"pct":       fmtPct,
		"signedPct": fmtSignedPct,
	}).ParseFS(assets, "assets/report.html.tmpl")
	if err != nil {
		return fmt.Errorf("reports: html: parse template: %w", err)
	}
	v := newHTMLView(r)
	v.CSS = template.CSS(css) //nolint:gosec // our own embedded stylesheet
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, v); err != nil {
		return fmt.Errorf("reports: html: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("reports: write html: %w", err)
	}
	return nil
}

// htmlView is what the template reads: the report plus everything
// pre-formatted so the template stays free of logic.
type htmlView struct {
	R                                         *Report
	CSS                                       template.CSS
	VerdictClass, VerdictLabel, VerdictSymbol string
	VerdictText                               string
	Started, Finished, Duration               string
	Baseline                                  *Comparison
	Contract                                  *contractView
	Load                                      *loadView
}

type contractView struct {
	Counts            contract.Counts
	Strict, Replay    bool
	Target            string
	Started, Duration string
	Cases             []caseView
	// Generated is set when the run had generated cases.
	Generated *generatedView
}

// generatedView is the group of generated cases: how to replay them, their
// tally, the cases that did not pass (each with its minimal body and curl
// line) and the others, listed collapsed.
type generatedView struct {
	Generation *contract.Generation
	Replay     string
	Offers     string
	Tally      []generatedTally
	Findings   []genCaseView
	Others     []genCaseView
}

// genCaseView is one generated case.
type genCaseView struct {
	caseView
	Kind, Mutation    string
	MinimalLabel      string
	MinimalBody, Curl string
	ShrinkRequests    int
}

type caseView struct {
	Name       string
	Outcome    contract.Outcome
	Security   bool
	Status     string
	Ms         string
	Reason     string
	Violations []contract.Violation
	Exchange   *exchangeView
}

type exchangeView struct {
	Open                                bool
	RequestLine                         string
	RequestHeaders, ResponseHeaders     []headerLine
	RequestBody, ResponseBody           string
	RequestTruncated, ResponseTruncated bool
	Status                              int
	Ms                                  string
	Curl                                string
}

type headerLine struct{ Name, Value string }

type nameValue struct{ Name, Value string }

type latencyRow struct {
	Name  string
	Count string
	L     load.Latency
}

type statusRow struct {
	Code         string
	Count, Share string
}

type loadView struct {
	Target, Started, StopReason string
	Interrupted                 bool
	Plan                        string
	Figures                     []nameValue
	Thresholds                  []load.ThresholdResult
	LatencyRows                 []latencyRow
	Statuses                    []statusRow
	Errors                      []load.ErrorCount
	Schema                      load.SchemaStats
	Details                     []nameValue
	LatencyChart                template.HTML
	DistributionChart           template.HTML
	ThroughputChart             template.HTML
}

const htmlTime = "2006-01-02 15:04:05Z"

func newHTMLView(r *Report) *htmlView {
	v := &htmlView{
		R:        r,
		Started:  r.StartedAt.UTC().Format(htmlTime),
		Finished: r.FinishedAt.UTC().Format(htmlTime),
		Duration: fmtDuration(r.FinishedAt.Sub(r.StartedAt)),
		Baseline: r.Baseline,
	}
	switch r.Verdict {
	case VerdictPass:
		v.VerdictClass, v.VerdictSymbol, v.VerdictLabel = "pass", "✔", "PASS"
	case VerdictFail:
		v.VerdictClass, v.VerdictSymbol, v.VerdictLabel = "fail", "✖", "FAIL"
	case VerdictIncomplete:
		v.VerdictClass, v.VerdictSymbol, v.VerdictLabel = "incomplete", "◌", "INCOMPLETE"
	default:
		v.VerdictClass, v.VerdictSymbol, v.VerdictLabel = "error", "⚠", strings.ToUpper(orUnknown(r.Verdict))
	}
	v.VerdictText = verdictText(r)
	if c := r.Contract; c != nil {
		v.Contract = newContractView(r.Kind, c)
	}
	if l := r.Load; l != nil {
		v.Load = newLoadView(l)
	}
	return v
}

// verdictText is the one-line reason under the verdict.
func verdictText(r *Report) string {
	var parts []string
	if r.Error != "" {
		parts = append(parts, "the harness could not finish")
	}
	if len(r.Incomplete) > 0 {
		parts = append(parts, "not a pass: the run lacks evidence (see below)")
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
		parts = append(parts, fmt.Sprintf("baseline: %d regressions", b.Regressions))
	}
	return strings.Join(parts, " · ")
}

func newContractView(kind string, c *contract.Result) *contractView {
	cv := &contractView{Counts: c.Counts, Strict: c.Strict, Replay: c.Replay, Target: c.Target,
		Started: c.Started.UTC().Format(htmlTime), Duration: fmtDuration(c.Finished.Sub(c.Started))}
	fixed, gen := splitGenerated(c.Cases)
	for _, cs := range fixed {
		cv.Cases = append(cv.Cases, newCaseView(cs, cs.Outcome == contract.OutcomeFail || cs.Security))
	}
	if c.Generation != nil || len(gen) > 0 {
		cv.Generated = newGeneratedView(kind, c.Generation, gen)
	}
	return cv
}

// newGeneratedView groups the generated cases; their exchanges start
// collapsed, since the minimal body is what reproduces the finding.
func newGeneratedView(kind string, g *contract.Generation, gen []contract.CaseResult) *generatedView {
	gv := &generatedView{Generation: g, Tally: tallyGenerated(gen)}
	if g != nil {
		gv.Replay, gv.Offers = replayCommand(kind, g), offersText(g)
	}
	for _, cs := range gen {
		gc := generatedOf(cs)
		v := genCaseView{caseView: newCaseView(cs, false), Kind: gc.Kind, Mutation: gc.Mutation,
			ShrinkRequests: gc.ShrinkRequests}
		if cs.Outcome == contract.OutcomePass || cs.Outcome == contract.OutcomeSkip {
			gv.Others = append(gv.Others, v)
			continue
		}
		body, curl := minimalOf(cs)
		v.MinimalLabel, v.MinimalBody, v.Curl = minimalLabel(cs), prettyBody(body), curl
		gv.Findings = append(gv.Findings, v)
	}
	return gv
}

// newCaseView formats one case; open says whether its exchange is shown
// unfolded.
func newCaseView(cs contract.CaseResult, open bool) caseView {
	view := caseView{Name: cs.Name, Outcome: cs.Outcome, Security: cs.Security, Status: statusText(cs.Status),
		Ms: fmtMS(ms(cs.Duration)), Reason: cs.Reason, Violations: cs.Violations}
	if x := cs.Exchange; x != nil {
		view.Exchange = &exchangeView{
			Open:              open,
			RequestLine:       x.Method + " " + x.URL,
			RequestHeaders:    headerLines(x.RequestHeader),
			ResponseHeaders:   headerLines(x.ResponseHeader),
			RequestBody:       prettyBody(x.RequestBody),
			ResponseBody:      prettyBody(x.ResponseBody),
			RequestTruncated:  x.RequestBodyTruncated,
			ResponseTruncated: x.ResponseBodyTruncated,
			Status:            x.Status,
			Ms:                fmtMS(ms(x.Duration)),
			Curl:              Curl(x),
		}
	}
	return view
}

func headerLines(h http.Header) []headerLine {
	var out []headerLine
	for _, k := range sortedKeys(h) {
		for _, v := range h[k] {
			out = append(out, headerLine{k, v})
		}
	}
	return out
}

// prettyBody indents a JSON body for reading; anything else is kept as is.
func prettyBody(s string) string {
	if s == "" || !json.Valid([]byte(s)) {
		return s
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, []byte(s), "", "  "); err != nil {
		return s
	}
	return buf.String()
}

// curlSkip are request headers a reproducer leaves to curl.
func curlSkip(name string) bool {
	switch strings.ToLower(name) {
	case "content-length", "host", "accept-encoding", "connection", "user-agent":
		return true
	}
	return false
}

// Curl returns a shell command that sends the exchange's request again with
// curl. It never contains a credential: an Authorization header becomes
// "Authorization: Bearer $XONE_TOKEN" (expanded by the shell), and the body
// and other headers are the redacted ones of the exchange, so values shown
// as [REDACTED] must be filled in by hand. Everything else is single-quoted.
func Curl(x *contract.Exchange) string {
	if x == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString("curl -sS -i -X " + shellQuote(x.Method) + " " + shellQuote(x.URL))
	for _, k := range sortedKeys(x.RequestHeader) {
		if curlSkip(k) {
			continue
		}
		for _, v := range x.RequestHeader[k] {
			switch strings.ToLower(k) {
			case "authorization", "proxy-authorization":
				b.WriteString(" \\\n  -H \"" + k + `: Bearer $XONE_TOKEN"`)
			default:
				b.WriteString(" \\\n  -H " + shellQuote(k+": "+v))
			}
		}
	}
	if x.RequestBody != "" {
		b.WriteString(" \\\n  --data-raw " + shellQuote(x.RequestBody))
	}
	return b.String()
}

// shellQuote single-quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func newLoadView(l *load.Result) *loadView {
	lv := &loadView{
		Target:            l.Target,
		Started:           l.StartedAt.UTC().Format(htmlTime),
		StopReason:        l.StopReason,
		Interrupted:       l.Interrupted,
		Plan:              planText(l.Plan),
		Thresholds:        l.Thresholds,
		Errors:            l.Errors,
		Schema:            l.Schema,
		LatencyChart:      LatencyChart(l.Timeline),
		DistributionChart: DistributionChart(l.Distribution),
		ThroughputChart:   ThroughputChart(l.Timeline),
	}
	lv.Figures = []nameValue{
		{"requests", strconv.FormatUint(l.Requests, 10)},
		{"duration", fmtNum(l.DurationSeconds) + " s"},
		{"rate requested", fmtRate(l.RateRequested)},
		{"rate achieved", fmtRate(l.RateAchieved)},
		{"throughput (2xx)", fmtRate(l.Throughput)},
		{"success", fmtPct(l.SuccessRatio)},
		{"error rate", fmtPct(l.ErrorRate)},
		{"p50 latency", fmtMS(l.Latency.P50) + " ms"},
		{"p99 latency", fmtMS(l.Latency.P99) + " ms"},
		{"schema violations", strconv.FormatUint(l.Schema.Violations, 10)},
	}
	lv.LatencyRows = []latencyRow{
		{"overall, from intended send", strconv.FormatUint(l.Requests, 10), l.Latency},
		{"service time, from actual send", strconv.FormatUint(l.Requests, 10), l.ServiceTime},
	}
	for _, class := range classNamesOrdered(l.ByClass) {
		cs := l.ByClass[class]
		lv.LatencyRows = append(lv.LatencyRows, latencyRow{"class " + class, strconv.FormatUint(cs.Count, 10), cs.Latency})
	}
	var total uint64
	for _, c := range l.StatusCodes {
		total += c
	}
	codes := sortedKeys(l.StatusCodes)
	sort.SliceStable(codes, func(i, j int) bool {
		a, ea := strconv.Atoi(codes[i])
		b, eb := strconv.Atoi(codes[j])
		if ea == nil && eb == nil {
			return a < b
		}
		return ea == nil && eb != nil
	})
	for _, code := range codes {
		label := code
		if code == "0" {
			label = "0 (transport error)"
		}
		share := "–"
		if total > 0 {
			share = fmtPct(float64(l.StatusCodes[code]) / float64(total))
		}
		lv.Statuses = append(lv.Statuses, statusRow{label, strconv.FormatUint(l.StatusCodes[code], 10), share})
	}
	lv.Details = []nameValue{
		{"started", l.StartedAt.UTC().Format(htmlTime)},
		{"finished", l.FinishedAt.UTC().Format(htmlTime)},
		{"bytes in / out", fmt.Sprintf("%d / %d", l.BytesIn, l.BytesOut)},
		{"late sends", fmt.Sprintf("%d (worst %s ms)", l.LateSends.Count, fmtMS(l.LateSends.MaxMs))},
		{"offers", fmt.Sprintf("%d used, %d confirmed, %d failed, %s left", l.Offers.Used, l.Offers.Confirmed, l.Offers.Failed, offersLeft(l.Offers.Left))},
		{"tokens", fmt.Sprintf("%d fetched, %d failed, mean %s ms, max %s ms, %d invalidated",
			l.Tokens.Fetches, l.Tokens.Failures, fmtMS(l.Tokens.MeanMs), fmtMS(l.Tokens.MaxMs), l.Tokens.Invalidations)},
		{"Retry-After pauses", fmt.Sprintf("%d (total %s ms, longest %s ms, %d ignored)",
			l.RetryAfterPauses.Count, fmtMS(l.RetryAfterPauses.TotalMs), fmtMS(l.RetryAfterPauses.MaxMs), l.RetryAfterPauses.Ignored)},
	}
	return lv
}

// classNamesOrdered lists the classes of m in the charts' order, then any
// others by name.
func classNamesOrdered[V any](m map[string]V) []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range classOrder() {
		if _, ok := m[c.name]; ok {
			out = append(out, c.name)
			seen[c.name] = true
		}
	}
	for _, k := range sortedKeys(m) {
		if !seen[k] {
			out = append(out, k)
		}
	}
	return out
}

func offersLeft(n int) string {
	if n < 0 {
		return "unbounded"
	}
	return strconv.Itoa(n)
}

// planText is a one-line description of a plan: rate or stages, duration,
// thresholds.
func planText(p load.Plan) string {
	var parts []string
	if p.Rate != "" {
		parts = append(parts, "rate "+p.Rate)
	}
	if len(p.Stages) > 0 {
		parts = append(parts, fmt.Sprintf("%d stages", len(p.Stages)))
	}
	if p.Duration > 0 {
		parts = append(parts, "for "+p.Duration.String())
	}
	if p.MaxRequests > 0 {
		parts = append(parts, fmt.Sprintf("at most %d requests", p.MaxRequests))
	}
	if p.MaxWorkers > 0 {
		parts = append(parts, fmt.Sprintf("max %d workers", p.MaxWorkers))
	}
	return strings.Join(parts, ", ")
}

func fmtRate(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) + "/s" }

// fmtPct formats a fraction as a percentage with up to two decimals.
func fmtPct(f float64) string {
	if !finite(f) {
		return "–"
	}
	return strconv.FormatFloat(math.Round(f*10000)/100, 'f', -1, 64) + "%"
}

// fmtSignedPct formats a relative change: "+12.5%", "-3%", "0%".
func fmtSignedPct(f float64) string {
	s := fmtPct(f)
	if f > 0 && finite(f) {
		return "+" + s
	}
	return s
}

// fmtDuration rounds d to milliseconds (or seconds above a minute).
func fmtDuration(d time.Duration) string {
	if d < 0 {
		return "–"
	}
	if d >= time.Minute {
		return d.Round(time.Second).String()
	}
	return d.Round(time.Millisecond).String()
}
