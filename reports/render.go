package reports

import (
	"bufio"
	"embed"
	"encoding/xml"
	"fmt"
	htmltemplate "html/template"
	"io"
	"strings"
	"text/template"

	"github.com/xoneharness/xoneharness/contract"
)

//go:embed assets/report.css assets/report.html.tmpl assets/report.md.tmpl
var assets embed.FS

// The templates are parsed once; executing one is safe for concurrent use.
var (
	mdTemplate = template.Must(template.New("report.md.tmpl").Funcs(template.FuncMap{
		"cell": mdCell, "code": mdCode, "fence": mdFence, "status": statusText,
	}).ParseFS(assets, "assets/report.md.tmpl"))
	htmlTemplate = htmltemplate.Must(htmltemplate.New("report.html.tmpl").Funcs(htmltemplate.FuncMap{
		"css":          stylesheet,
		"status":       statusText,
		"latencyChart": LatencyChart, "distributionChart": DistributionChart, "throughputChart": ThroughputChart,
	}).ParseFS(assets, "assets/report.html.tmpl"))
)

// stylesheet is the embedded report.css, for the page's <style>.
func stylesheet() htmltemplate.CSS {
	css, _ := assets.ReadFile("assets/report.css") // embedded: it is there
	return htmltemplate.CSS(css)                   //nolint:gosec // our own embedded stylesheet
}

// Markdown writes the report as report.md: the verdict first, then tables.
// It fits $GITHUB_STEP_SUMMARY and a pull-request comment; cells have "|"
// escaped and newlines folded. Generated contract cases get a section of
// their own: the first 20 that did not pass in full, passing ones counted.
func Markdown(w io.Writer, r *Report) error {
	bw := bufio.NewWriter(w)
	if err := mdTemplate.Execute(bw, newView(r)); err != nil {
		return fmt.Errorf("reports: markdown: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("reports: write markdown: %w", err)
	}
	return nil
}

// HTML writes the report as report.html: one self-contained page (the
// stylesheet is embedded, charts are inline SVG, there is no script and no
// reference to anything on the network) that reads on a laptop screen and
// prints. It shows what Markdown shows, plus each contract case's redacted
// request and response with a curl reproducer that takes the token from
// $XONE_TOKEN, every generated case, and the charts. Every value from the
// report is escaped by html/template: a partner's error body is shown, never
// interpreted.
func HTML(w io.Writer, r *Report) error {
	var b strings.Builder
	if err := htmlTemplate.Execute(&b, newView(r)); err != nil {
		return fmt.Errorf("reports: html: %w", err)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("reports: write html: %w", err)
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

// mdFence is text as a fenced code block whose fence is longer than any
// run of backticks inside it, with a newline after the closing fence.
func mdFence(lang, text string) string {
	fence := "```"
	for strings.Contains(text, fence) {
		fence += "`"
	}
	return fence + lang + "\n" + strings.TrimRight(text, "\r\n") + "\n" + fence + "\n"
}

// JUnit writes the report as junit.xml (GitLab artifacts:reports:junit,
// Jenkins junit): one testsuite for the fixed contract cases (fail →
// failure, error → error, skip → skipped, drift → passed with the drift in
// system-out), one "contract-generated" for the generated cases with the
// seed as a property, one for the load thresholds (no data → skipped) with
// the load figures as properties and a "race check" case when the load had
// one (a double booking → failure naming the booking ids; no group
// answered → skipped), one "baseline" (a regression → failure), and a
// "verdict" suite whose one case fails unless the verdict is pass
// (incomplete included) and whose system-out says what was unusual.
func JUnit(w io.Writer, r *Report) error {
	v := newView(r)
	doc := junitSuites{Name: v.Title}
	if c := v.Contract; c != nil {
		doc.add(junitCases("contract", c.Timestamp, c.Secs, c.Props, "xoneharness.contract", c.Cases))
		if g := c.Generated; g != nil {
			doc.add(junitCases("contract-generated", g.Timestamp, g.Secs, g.Props, "", g.Cases))
		}
	}
	if l := v.Load; l != nil {
		s := junitSuite{Name: "load", Timestamp: l.Timestamp, Time: l.Secs, Properties: l.Props}
		for _, t := range l.Thresholds {
			tc := junitCase{Name: t.Expr, Classname: "xoneharness.load.thresholds", Time: "0"}
			switch {
			case t.NoData:
				tc.Skipped = &junitFailure{Message: t.Text}
			case t.Failed:
				tc.Failure = &junitFailure{Message: "threshold failed: " + t.Text, Type: "threshold", Text: t.Text}
			default:
				tc.SystemOut = t.Text
			}
			s.addCase(tc)
		}
		if rc := l.Race; rc != nil {
			s.addCase(junitRace(rc))
		}
		doc.add(s)
	}
	if b := v.Baseline; b != nil {
		s := junitSuite{Name: "baseline", Time: "0", Timestamp: b.Timestamp,
			Properties: []field{{"baseline", b.Against}, {"tolerance", fmtNum(r.Baseline.Tolerance)}, {"result", b.Result}}}
		for _, d := range b.Metrics {
			s.addCase(junitDelta(d.Name, d))
		}
		for _, d := range b.Cases {
			s.addCase(junitDelta("contract case "+d.Name, d))
		}
		doc.add(s)
	}
	doc.add(junitVerdict(v, r.Verdict))
	return writeXML(w, doc)
}

// junitCases is a suite of contract cases: a failure carries its
// violations (and a race check's confirms: the message names its booking
// ids), a drift passes with them in system-out, a generated case that did
// not pass carries how to reproduce it, and a passing one nothing.
func junitCases(name, stamp, secs string, properties []field, class string, cases []caseView) junitSuite {
	s := junitSuite{Name: name, Timestamp: stamp, Time: secs, Properties: properties}
	for _, cs := range cases {
		tc := junitCase{Name: cs.Name, Classname: class, Time: cs.Secs, SystemOut: cs.Reproduce}
		if cs.Kind != "" {
			tc.Classname = "xoneharness.contract.generated." + cs.Kind
		}
		switch contract.Outcome(cs.Outcome) {
		case contract.OutcomeFail:
			tc.Failure = &junitFailure{Message: cs.First, Type: name, Text: cs.Text}
		case contract.OutcomeError:
			tc.Error = &junitFailure{Message: cs.Reason, Type: "transport", Text: cs.Reason}
		case contract.OutcomeSkip:
			tc.Skipped, tc.SystemOut = &junitFailure{Message: cs.Reason}, ""
		case contract.OutcomePass:
			tc.SystemOut = cs.Text
			if cs.Kind != "" {
				tc.SystemOut = ""
			}
		default:
			tc.SystemOut = cs.Text + cs.Reproduce
		}
		s.addCase(tc)
	}
	return s
}

// junitRace is the load's race check as a test case: a double booking
// fails it naming the booking ids, a check no group answered is skipped.
func junitRace(rc *loadRaceView) junitCase {
	tc := junitCase{Name: "race check", Classname: "xoneharness.load.race", Time: "0", SystemOut: rc.Text}
	switch {
	case rc.Double:
		tc.Failure, tc.SystemOut = &junitFailure{Message: rc.Bookings, Type: "integrity", Text: rc.Text}, ""
	case rc.NoData:
		tc.Skipped = &junitFailure{Message: rc.Doubles}
	}
	return tc
}

func junitDelta(name string, d deltaRow) junitCase {
	tc := junitCase{Name: name, Classname: "xoneharness.baseline", Time: "0", SystemOut: d.Text}
	if d.Regression {
		tc.Failure, tc.SystemOut = &junitFailure{Message: "regression: " + d.Text, Type: "regression", Text: d.Text}, ""
	}
	return tc
}

// junitVerdict is the verdict as a test of its own, so that a CI test
// report never shows an incomplete or failed run as all green.
func junitVerdict(v *view, verdict string) junitSuite {
	s := junitSuite{Name: "verdict", Properties: []field{{"verdict", verdict}}}
	out := append([]string{verdict}, v.Unusual...)
	out = append(out, v.Notes...)
	for _, b := range v.Bookings {
		out = append(append(out, "may have booked: "+b.Title), b.Lines...)
	}
	for _, d := range v.Duplicates {
		out = append(out, "offer confirmed by more than one input: "+d)
	}
	tc := junitCase{Name: "verdict", Classname: "xoneharness." + v.Kind, Time: "0", SystemOut: strings.Join(out, "\n")}
	why := v.Verdict.Class + ": " + v.Verdict.Why
	switch v.Verdict.Class {
	case "incomplete":
		tc.Failure = &junitFailure{Message: why, Type: "incomplete", Text: strings.Join(v.Incomplete, "\n")}
	case "fail":
		tc.Failure = &junitFailure{Message: why, Type: "findings", Text: strings.Join(v.Incomplete, "\n")}
	case "error":
		tc.Error = &junitFailure{Message: why, Type: "error", Text: v.Error}
	}
	s.addCase(tc)
	return s
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

func (s *junitSuite) addCase(tc junitCase) {
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
