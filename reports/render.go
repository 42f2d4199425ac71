package reports

import (
	"cmp"
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
	"add": func(a, b int) int { return a + b }, "sub": func(a, b int) int { return a - b }, "inc": func(i int) int { return i + 1 },
	"addu": func(a, b uint64) uint64 { return a + b }, "mul": func(a, b float64) float64 { return a * b },
	"div": func(a, b float64) float64 { return a / b }, "pctOf": func(a, b uint64) float64 { return 100 * float64(a) / float64(a+b) },
	"share":  func(part, other uint64) float64 { return float64(part) / float64(part+other) },
	"pair":   func(a, b any) struct{ A, B any } { return struct{ A, B any }{a, b} },
	"status": statusOr("–"), "num": fmtNum, "pct": fmtPct, "fmtms": fmtMS, "nOf": nOf, "finite": finite,
	"rate":     func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) + "/s" },
	"ms":       func(d time.Duration) string { return fmtMS(ms(d)) },
	"micros":   func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 },
	"time":     func(t time.Time) string { return cmp.Or(utc(fmtTime, t), "unknown") },
	"milli":    func(t time.Time) string { return cmp.Or(utc(fmtMilli, t), "unknown") },
	"duration": durationText, "pretty": prettyBody, "never": neverExercised,
	"quote": func(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }, // for a POSIX shell
	"join":  strings.Join, "lower": strings.ToLower, "upper": strings.ToUpper, "oneLine": oneLine,
	"trimEnd":       func(s string) string { return strings.TrimRight(s, " ") },
	"incompleteWhy": func() string { return incompleteWhy },
	"maxBodyKiB":    func() int { return contract.MaxExchangeBody >> 10 },
	// The console's.
	"label": consoleLabel, "first": consoleFirst, "codes": consoleCodes, "dash": statusOr("-"),
}

// The templates are parsed once; executing one is safe for concurrent use.
var (
	// textTemplate holds the plain-text templates: the console's, and sentences other formats use.
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

// Markdown writes the report as report.md, the verdict first, then tables (cells escaped, newlines
// folded); it fits $GITHUB_STEP_SUMMARY and a pull-request comment.
func Markdown(w io.Writer, r *Report) error {
	return execute(w, mdTemplate.Execute, r, "markdown")
}

// HTML writes the report as report.html: one self-contained page (embedded stylesheet, inline SVG
// charts, no script, nothing from the network) showing what Markdown shows plus every case's
// redacted exchange with a curl reproducer, and the charts. html/template escapes every value: a
// partner's error body is shown, never interpreted.
func HTML(w io.Writer, r *Report) error {
	return execute(w, htmlTemplate.Execute, r, "html")
}

// execute writes the view of r rendered by exec to w whole: a failing template writes nothing.
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

// mdFence is text as a fenced code block, its fence longer than any run of backticks inside.
func mdFence(lang, text string) string {
	fence := "```"
	for strings.Contains(text, fence) {
		fence += "`"
	}
	return fence + lang + "\n" + strings.TrimRight(text, "\r\n") + "\n" + fence + "\n"
}

// JUnit writes the report as junit.xml (GitLab, Jenkins): suites for the fixed and the generated
// contract cases, the load (thresholds and race check; no data is skipped), the baseline, and a
// "verdict" suite whose one case fails unless the verdict is pass, saying what was unusual.
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
		s := junitSuite{Name: "baseline", Time: "0", Timestamp: utc(time.RFC3339, b.BaselineStartedAt),
			Properties: []field{{"baseline", b.Baseline}, {"tolerance", fmtNum(b.Tolerance)}, {"result", j.text("baseline result", b)}}}
		for _, d := range b.Metrics {
			s.add(j.outcome(d.Name, "xoneharness.baseline", d.Regression, false, "regression", "regression: ", j.text("metric delta", d)))
		}
		for _, d := range b.Cases {
			s.add(j.outcome("contract case "+d.Name, "xoneharness.baseline", d.Regression, false, "regression", "regression: ", j.text("case delta", d)))
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
	out, err := xml.MarshalIndent(j.doc, "", "  ")
	if err == nil {
		_, err = io.WriteString(w, xml.Header+string(out)+"\n")
	}
	if err != nil {
		return fmt.Errorf("reports: write junit: %w", err)
	}
	return nil
}

// junit builds junit.xml's document, keeping the first template error.
type junit struct {
	doc junitSuites
	texter
}

// outcome is a case that took no time: a failure of typ (message prefix+msg), a skip, or a pass
// with msg in system-out.
func (j *junit) outcome(name, class string, failed, skipped bool, typ, prefix, msg string) junitCase {
	tc := junitCase{Name: name, Classname: class, Time: "0"}
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

// contract adds the suites of the fixed and the generated cases: a failure carries its violations,
// a drift passes with them in system-out, a generated case that did not pass how to reproduce it.
func (j *junit) contract(c *contractView) {
	suite := func(name, total string, props []field, class string, cases []caseView) {
		s := junitSuite{Name: name, Timestamp: utc(time.RFC3339, c.Started), Time: total, Properties: props}
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

// load adds the load suite: the figures as properties, a case per threshold and the race check.
func (j *junit) load(l *loadView) {
	s := junitSuite{Name: "load", Timestamp: utc(time.RFC3339, l.StartedAt), Time: strconv.FormatFloat(l.DurationSeconds, 'f', 3, 64),
		Properties: j.fields("property ", []string{"requests", "rate_requested", "rate_achieved", "success_ratio", "latency_p50_ms",
			"latency_p95_ms", "latency_p99_ms", "service_time_p99_ms", "schema_violations"}, l.Result)}
	s.Properties = append(s.Properties, field{"stop_reason", l.StopReason})
	for _, t := range l.Thresholds {
		s.add(j.outcome(t.Expr, "xoneharness.load.thresholds", !t.Passed && !t.NoData, t.NoData, "threshold", "threshold failed: ", j.text("threshold", t)))
	}
	if rc := l.Race; rc != nil {
		tc := j.outcome("race check", "xoneharness.load.race", rc.Double, false, "integrity", "", j.text("loadrace", rc))
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
