package reports

import (
	"bufio"
	"embed"
	"encoding/xml"
	"fmt"
	htmltemplate "html/template"
	"io"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/xoneharness/xoneharness/contract"
)

//go:embed assets/*.css assets/*.tmpl
var assets embed.FS

// funcs are the helpers every template may call.
var funcs = template.FuncMap{
	"status": statusText, "num": fmtNum, "pct": fmtPct, "milli": milli, "pretty": prettyBody,
	"quote": shellQuote, "lower": strings.ToLower, "ms": func(d time.Duration) string { return fmtMS(ms(d)) },
	"inc": func(i int) int { return i + 1 }, "join": strings.Join, "add": func(a, b int) int { return a + b }, "incompleteWhy": func() string { return incompleteWhy },
	"sub": func(a, b int) int { return a - b }, "addu": func(a, b uint64) uint64 { return a + b },
	"share": func(part, other uint64) float64 { return float64(part) / float64(part+other) },
	"time":  timeText, "duration": durationText, "rate": fmtRate, "finite": finite, "never": neverExercised, "fmtms": fmtMS, "nOf": nOf, "pair": func(a, b any) struct{ A, B any } { return struct{ A, B any }{a, b} },
	"maxBodyKiB": func() int { return contract.MaxExchangeBody >> 10 },
	// The console's.
	"upper": strings.ToUpper, "oneLine": oneLine, "label": consoleLabel, "first": consoleFirst, "codes": consoleCodes,
	"dash": consoleStatus, "trimEnd": func(s string) string { return strings.TrimRight(s, " ") },
	"micros": func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 },
	"mul":    func(a, b float64) float64 { return a * b },
	"div":    func(a, b float64) float64 { return a / b },
	"pctOf":  func(a, b uint64) float64 { return 100 * float64(a) / float64(a+b) },
}

// The templates are parsed once; executing one is safe for concurrent use.
var (
	// textTemplate holds the plain-text templates: the console's parts and the text the other
	// formats take whole (JUnit, the vendor block).
	textTemplate = template.Must(template.New("text").Funcs(funcs).ParseFS(assets, "assets/console.tmpl", "assets/text.tmpl"))
	mdTemplate   = template.Must(template.New("report.md.tmpl").Funcs(funcs).Funcs(template.FuncMap{
		"cell": mdCell, "code": mdCode, "fence": mdFence, "vendor": vendorText, "text": text,
	}).ParseFS(assets, "assets/report.md.tmpl"))
	htmlTemplate = htmltemplate.Must(htmltemplate.New("report.html.tmpl").Funcs(funcs).Funcs(htmltemplate.FuncMap{
		"css": stylesheet, "text": text, "latencyChart": latencyChart, "distributionChart": distributionChart, "throughputChart": throughputChart,
	}).ParseFS(assets, "assets/report.html.tmpl"))
)

// text executes the plain-text template name on data.
func text(name string, data any) (string, error) {
	var b strings.Builder
	err := textTemplate.ExecuteTemplate(&b, name, data)
	return b.String(), err
}

// stylesheet is the embedded report.css, for the page's <style>.
func stylesheet() htmltemplate.CSS {
	css, _ := assets.ReadFile("assets/report.css") // embedded: it is there
	return htmltemplate.CSS(css)                   //nolint:gosec // our own embedded stylesheet
}

// Markdown writes the report as report.md: the verdict first, then tables. It fits
// $GITHUB_STEP_SUMMARY and a pull-request comment; cells have "|" escaped and newlines folded.
// Generated contract cases get a section of their own: the first 20 that did not pass in full,
// passing ones counted.
func Markdown(w io.Writer, r *Report) error {
	return execute(w, mdTemplate.Execute, r, "markdown")
}

// HTML writes the report as report.html: one self-contained page (the stylesheet is embedded,
// charts are inline SVG, there is no script and no reference to anything on the network) that reads
// on a laptop screen and prints. It shows what Markdown shows, plus each contract case's redacted
// request and response with a curl reproducer that takes the token from $XONE_TOKEN, every
// generated case, and the charts. Every value from the report is escaped by html/template: a
// partner's error body is shown, never interpreted.
func HTML(w io.Writer, r *Report) error {
	return execute(w, htmlTemplate.Execute, r, "html")
}

// execute renders the view of r with exec and writes it to w whole: a template that fails writes
// nothing.
func execute(w io.Writer, exec func(io.Writer, any) error, r *Report, what string) error {
	v, err := newView(r)
	var b strings.Builder
	if err == nil {
		err = exec(&b, v)
	}
	if err != nil {
		return fmt.Errorf("reports: %s: %w", what, err)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("reports: write %s: %w", what, err)
	}
	return nil
}

// mdCell makes s safe inside a Markdown table cell or list item.
func mdCell(s string) string {
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	return strings.ReplaceAll(s, "|", `\|`)
}

// mdCode makes s safe inside an inline code span in a table cell.
func mdCode(s string) string { return strings.ReplaceAll(mdCell(s), "`", "'") }

// mdFence is text as a fenced code block whose fence is longer than any run of backticks inside it,
// with a newline after the closing fence.
func mdFence(lang, text string) string {
	fence := "```"
	for strings.Contains(text, fence) {
		fence += "`"
	}
	return fence + lang + "\n" + strings.TrimRight(text, "\r\n") + "\n" + fence + "\n"
}

func milli(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format(fmtMilli)
}

// JUnit writes the report as junit.xml (GitLab artifacts:reports:junit, Jenkins junit): one
// testsuite for the fixed contract cases (fail → failure, error → error, skip → skipped, drift →
// passed with the drift in system-out), one "contract-generated" for the generated cases with the
// seed as a property, one for the load thresholds (no data → skipped) with the load figures as
// properties and a "race check" case when the load had one (a double booking → failure naming the
// booking ids; no group answered → skipped), one "baseline" (a regression → failure), and a
// "verdict" suite whose one case fails unless the verdict is pass (incomplete included) and whose
// system-out says what was unusual.
func JUnit(w io.Writer, r *Report) error {
	v, err := newView(r)
	if err != nil {
		return fmt.Errorf("reports: junit: %w", err)
	}
	j := &junit{doc: junitSuites{Name: "xoneharness " + r.Kind}}
	if c := v.Contract; c != nil {
		j.contract(c)
	}
	if l := v.Load; l != nil {
		j.load(l)
	}
	if b := v.Baseline; b != nil {
		s := junitSuite{Name: "baseline", Time: "0", Timestamp: stamp(b.BaselineStartedAt),
			Properties: []field{{"baseline", b.Baseline}, {"tolerance", fmtNum(b.Tolerance)}, {"result", j.text("baseline result", b)}}}
		for _, d := range b.Metrics {
			s.add(j.outcome(junitCase{Name: d.Name, Classname: "xoneharness.baseline", Time: "0"}, d.Regression, false,
				"regression", "regression: ", j.text("metric delta", d)))
		}
		for _, d := range b.Cases {
			s.add(j.outcome(junitCase{Name: "contract case " + d.Name, Classname: "xoneharness.baseline", Time: "0"}, d.Regression,
				false, "regression", "regression: ", j.text("case delta", d)))
		}
		j.doc.add(s)
	}
	s := junitSuite{Name: "verdict", Properties: []field{{"verdict", r.Verdict}}}
	tc := junitCase{Name: "verdict", Classname: "xoneharness." + r.Kind, Time: "0", SystemOut: j.text("verdict", v)}
	why := v.Verdict.Class + ": " + v.Verdict.Why
	switch typ := map[string]string{"incomplete": "incomplete", "fail": "findings"}[v.Verdict.Class]; {
	case typ != "":
		tc.Failure = &junitFailure{Message: why, Type: typ, Text: strings.Join(r.Incomplete, "\n")}
	case v.Verdict.Class == "error":
		tc.Error = &junitFailure{Message: why, Type: "error", Text: r.Error}
	}
	s.add(tc)
	j.doc.add(s)
	if j.err != nil {
		return fmt.Errorf("reports: junit: %w", j.err)
	}
	return writeXML(w, j.doc)
}

// junit builds junit.xml's document, keeping the first template error.
type junit struct {
	doc junitSuites
	texter
}

// outcome makes tc a failure of typ (the message prefix, then msg) when failed, a skip with msg
// when skipped, and otherwise a pass with msg in system-out.
func (j *junit) outcome(tc junitCase, failed, skipped bool, typ, prefix, msg string) junitCase {
	switch {
	case failed:
		tc.Failure = &junitFailure{Message: prefix + msg, Type: typ, Text: msg}
	case skipped:
		tc.Skipped = &junitFailure{Message: msg}
	default:
		tc.SystemOut = msg
	}
	return tc
}

// contract adds the suites of the fixed and the generated cases: a failure carries its violations
// (and a race check's confirms: the message names its booking ids), a drift passes with them in
// system-out, a generated case that did not pass carries how to reproduce it, and a passing one
// nothing.
func (j *junit) contract(c *contractView) {
	suite := func(name, total string, props []field, class string, cases []caseView) {
		s := junitSuite{Name: name, Timestamp: stamp(c.Started), Time: total, Properties: props}
		for _, cs := range cases {
			tc := junitCase{Name: cs.Name, Classname: class, Time: secs(cs.Duration), SystemOut: j.text("reproduce", cs)}
			if cs.Kind != "" {
				tc.Classname = "xoneharness.contract.generated." + cs.Kind
			}
			switch text := j.text("case", cs); cs.Outcome {
			case contract.OutcomeFail:
				tc.Failure = &junitFailure{Message: cs.First, Type: name, Text: text}
			case contract.OutcomeError:
				tc.Error = &junitFailure{Message: cs.Reason, Type: "transport", Text: cs.Reason}
			case contract.OutcomeSkip:
				tc.Skipped, tc.SystemOut = &junitFailure{Message: cs.Reason}, ""
			case contract.OutcomePass:
				tc.SystemOut = text
				if cs.Kind != "" {
					tc.SystemOut = ""
				}
			default:
				tc.SystemOut = text + tc.SystemOut
			}
			s.add(tc)
		}
		j.doc.add(s)
	}
	suite("contract", secs(c.Finished.Sub(c.Started)), []field{{"target", c.Target}, {"strict", strconv.FormatBool(c.Strict)}},
		"xoneharness.contract", c.Cases)
	if g := c.Generated; g != nil {
		var props []field
		if n := c.Generation; n != nil {
			i := strconv.Itoa
			props = []field{{"seed", strconv.FormatUint(n.Seed, 10)}, {"replay", g.Replay}, {"requested", i(n.Requested)}, {"run", i(n.Run)},
				{"offers_used", i(n.OffersUsed)}, {"offer_budget", i(n.OfferBudget)}, {"requests", i(n.Requests)}}
			if n.Stopped != "" {
				props = append(props, field{"stopped", n.Stopped})
			}
		}
		suite("contract-generated", g.Secs, props, "", g.Cases)
	}
}

// load adds the load suite: the figures as properties, a case per threshold (no data → skipped) and
// the race check (a double booking → failure naming the booking ids; no group answered → skipped).
func (j *junit) load(l *loadView) {
	s := junitSuite{Name: "load", Timestamp: stamp(l.StartedAt), Time: strconv.FormatFloat(l.DurationSeconds, 'f', 3, 64),
		Properties: j.fields("property ", []string{"requests", "rate_requested", "rate_achieved", "success_ratio", "latency_p50_ms",
			"latency_p95_ms", "latency_p99_ms", "service_time_p99_ms", "schema_violations"}, l.Result)}
	s.Properties = append(s.Properties, field{"stop_reason", l.StopReason})
	for _, t := range l.Thresholds {
		s.add(j.outcome(junitCase{Name: t.Expr, Classname: "xoneharness.load.thresholds", Time: "0"}, !t.Passed && !t.NoData, t.NoData,
			"threshold", "threshold failed: ", j.text("threshold", t)))
	}
	if rc := l.Race; rc != nil {
		tc := j.outcome(junitCase{Name: "race check", Classname: "xoneharness.load.race", Time: "0"}, rc.Double, false,
			"integrity", "", j.text("loadrace", rc))
		switch {
		case rc.Double:
			tc.Failure.Message = j.text("racebookings", rc)
		case rc.NoData:
			tc.Skipped = &junitFailure{Message: j.text("race doubles", rc)}
		}
		s.add(tc)
	}
	j.doc.add(s)
}

func writeXML(w io.Writer, doc junitSuites) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(xml.Header)
	enc := xml.NewEncoder(bw)
	enc.Indent("", "  ")
	err := enc.Encode(doc)
	if err == nil {
		bw.WriteString("\n")
		err = bw.Flush()
	}
	if err != nil {
		return fmt.Errorf("reports: write junit: %w", err)
	}
	return nil
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

func (d *junitSuites) add(s junitSuite) {
	d.Suites = append(d.Suites, s)
	d.Tests, d.Failures, d.Errors = d.Tests+s.Tests, d.Failures+s.Failures, d.Errors+s.Errors
}

type junitSuite struct {
	Name       string      `xml:"name,attr"`
	Tests      int         `xml:"tests,attr"`
	Failures   int         `xml:"failures,attr"`
	Errors     int         `xml:"errors,attr"`
	Skipped    int         `xml:"skipped,attr"`
	Time       string      `xml:"time,attr"`
	Timestamp  string      `xml:"timestamp,attr"`
	Properties []field     `xml:"properties>property"`
	Cases      []junitCase `xml:"testcase"`
}

func (s *junitSuite) add(tc junitCase) {
	s.Tests++
	s.Failures += b2i(tc.Failure != nil)
	s.Errors += b2i(tc.Error != nil)
	s.Skipped += b2i(tc.Skipped != nil)
	s.Cases = append(s.Cases, tc)
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Error     *junitFailure `xml:"error,omitempty"`
	Skipped   *junitFailure `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

// junitFailure is a failure, an error or (Message only) a skip.
type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}
