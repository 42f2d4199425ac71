package reports

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/xoneharness/xoneharness/contract"
)

// JUnit writes the report as junit.xml (GitLab artifacts:reports:junit,
// Jenkins junit): one testsuite for the fixed contract cases (fail → failure,
// error → error, skip → skipped, drift → passed with the drift in
// system-out), one "contract-generated" for the generated cases with the seed
// as a property (see junitGeneratedSuite), one
// for the load thresholds (no data → skipped) with the load figures as
// properties, and a "verdict" suite whose one case fails unless the verdict
// is pass (incomplete included).
func JUnit(w io.Writer, r *Report) error {
	doc := junitSuites{Name: "xoneharness " + r.Kind}
	if c := r.Contract; c != nil {
		s := junitSuite{Name: "contract", Timestamp: c.Started.UTC().Format(time.RFC3339),
			Time: secs(c.Finished.Sub(c.Started))}
		s.Properties = []junitProperty{{"target", c.Target}, {"strict", strconv.FormatBool(c.Strict)}}
		fixed, gen := splitGenerated(c.Cases)
		for _, cs := range fixed {
			tc := junitCase{Name: cs.Name, Classname: "xoneharness.contract", Time: secs(cs.Duration)}
			text := caseText(cs)
			switch cs.Outcome {
			case contract.OutcomeFail:
				msg := cs.Reason
				if len(cs.Violations) > 0 {
					msg = violationText(cs.Violations[0])
				}
				tc.Failure = &junitFailure{Message: msg, Type: "contract", Text: text}
				s.Failures++
			case contract.OutcomeSkip:
				tc.Skipped = &junitSkipped{Message: cs.Reason}
				s.Skipped++
			case contract.OutcomeError:
				tc.Error = &junitFailure{Message: cs.Reason, Type: "transport", Text: cs.Reason}
				s.Errors++
			default:
				tc.SystemOut = text
			}
			s.Tests++
			s.Cases = append(s.Cases, tc)
		}
		doc.Suites = append(doc.Suites, s)
		if c.Generation != nil || len(gen) > 0 {
			doc.Suites = append(doc.Suites, junitGeneratedSuite(r.Kind, c, gen))
		}
	}
	if l := r.Load; l != nil {
		s := junitSuite{Name: "load", Timestamp: l.StartedAt.UTC().Format(time.RFC3339),
			Time: strconv.FormatFloat(l.DurationSeconds, 'f', 3, 64)}
		s.Properties = []junitProperty{
			{"requests", strconv.FormatUint(l.Requests, 10)},
			{"rate_requested", fmtNum(l.RateRequested)},
			{"rate_achieved", fmtNum(l.RateAchieved)},
			{"success_ratio", fmtNum(l.SuccessRatio)},
			{"latency_p50_ms", fmtMS(l.Latency.P50)},
			{"latency_p95_ms", fmtMS(l.Latency.P95)},
			{"latency_p99_ms", fmtMS(l.Latency.P99)},
			{"service_time_p99_ms", fmtMS(l.ServiceTime.P99)},
			{"schema_violations", strconv.FormatUint(l.Schema.Violations, 10)},
			{"stop_reason", l.StopReason},
		}
		for _, t := range l.Thresholds {
			tc := junitCase{Name: t.Expr, Classname: "xoneharness.load.thresholds", Time: "0"}
			obs := fmt.Sprintf("observed %s%s", fmtNum(t.Observed), t.Unit)
			if t.Note != "" {
				obs += " (" + t.Note + ")"
			}
			switch {
			case t.NoData:
				tc.Skipped = &junitSkipped{Message: "no data: " + t.Note}
				s.Skipped++
			case !t.Passed:
				tc.Failure = &junitFailure{Message: "threshold failed: " + obs, Type: "threshold", Text: obs}
				s.Failures++
			default:
				tc.SystemOut = obs
			}
			s.Tests++
			s.Cases = append(s.Cases, tc)
		}
		doc.Suites = append(doc.Suites, s)
	}
	if r.Baseline != nil {
		doc.Suites = append(doc.Suites, junitBaselineSuite(r.Baseline))
	}
	// The verdict is a test of its own, so that a CI test report never shows
	// an incomplete or failed run as all green.
	vs := junitSuite{Name: "verdict", Tests: 1, Properties: []junitProperty{{"verdict", r.Verdict}}}
	vc := junitCase{Name: "verdict", Classname: "xoneharness." + r.Kind, Time: "0", SystemOut: r.Verdict}
	switch r.Verdict {
	case VerdictIncomplete:
		text := strings.Join(r.Incomplete, "\n")
		vc.Failure = &junitFailure{Message: "incomplete: the run lacks the evidence a pass needs", Type: "incomplete", Text: text}
		vs.Failures++
	case VerdictFail:
		vc.Failure = &junitFailure{Message: "fail: findings", Type: "findings", Text: strings.Join(r.Incomplete, "\n")}
		vs.Failures++
	case VerdictError:
		vc.Error = &junitFailure{Message: "error: " + r.Error, Type: "error", Text: r.Error}
		vs.Errors++
	}
	vs.Cases = append(vs.Cases, vc)
	doc.Suites = append(doc.Suites, vs)
	for _, s := range doc.Suites {
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Errors += s.Errors
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("reports: write junit: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("reports: write junit: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("reports: write junit: %w", err)
	}
	return nil
}

// junitGeneratedSuite is the "contract-generated" testsuite: the seed, the
// replay command and what generation used as properties, and one testcase
// per generated case, classed by kind. A fail is a failure and a transport
// error an error; a drift passes (it is a warning, as among the fixed cases)
// and, like a fail, carries its minimal body and curl line in system-out. A
// pass carries nothing; only a case that did not run is skipped.
func junitGeneratedSuite(kind string, c *contract.Result, gen []contract.CaseResult) junitSuite {
	s := junitSuite{Name: "contract-generated", Timestamp: c.Started.UTC().Format(time.RFC3339)}
	if g := c.Generation; g != nil {
		s.Properties = []junitProperty{
			{"seed", strconv.FormatUint(g.Seed, 10)},
			{"replay", replayCommand(kind, g)},
			{"requested", strconv.Itoa(g.Requested)},
			{"run", strconv.Itoa(g.Run)},
			{"offers_used", strconv.Itoa(g.OffersUsed)},
			{"offer_budget", strconv.Itoa(g.OfferBudget)},
			{"requests", strconv.Itoa(g.Requests)},
		}
		if g.Stopped != "" {
			s.Properties = append(s.Properties, junitProperty{"stopped", g.Stopped})
		}
	}
	var total time.Duration
	for _, cs := range gen {
		total += cs.Duration
		gc := generatedOf(cs)
		tc := junitCase{Name: cs.Name, Classname: "xoneharness.contract.generated." + orUnknown(gc.Kind), Time: secs(cs.Duration)}
		switch cs.Outcome {
		case contract.OutcomePass:
		case contract.OutcomeSkip:
			tc.Skipped = &junitSkipped{Message: cs.Reason}
			s.Skipped++
		case contract.OutcomeFail:
			msg := firstFinding(cs)
			tc.Failure = &junitFailure{Message: msg, Type: "contract-generated", Text: caseText(cs)}
			tc.SystemOut = generatedText(cs)
			s.Failures++
		case contract.OutcomeError:
			tc.Error = &junitFailure{Message: cs.Reason, Type: "transport", Text: cs.Reason}
			tc.SystemOut = generatedText(cs)
			s.Errors++
		default:
			tc.SystemOut = caseText(cs) + generatedText(cs)
		}
		s.Tests++
		s.Cases = append(s.Cases, tc)
	}
	s.Time = secs(total)
	return s
}

// generatedText is what reproduces a generated case: its mutation, its
// minimal body (indented JSON) and the curl line that sends it.
func generatedText(cs contract.CaseResult) string {
	var b strings.Builder
	gc := generatedOf(cs)
	fmt.Fprintf(&b, "%s case", orUnknown(gc.Kind))
	if gc.Mutation != "" {
		fmt.Fprintf(&b, ", mutation %s", gc.Mutation)
	}
	b.WriteString("\n")
	body, curl := minimalOf(cs)
	if body != "" {
		fmt.Fprintf(&b, "%s:\n%s\n", minimalLabel(cs), prettyBody(body))
	}
	if curl != "" {
		fmt.Fprintf(&b, "reproduce (bearer token from $TOKEN):\n%s\n", curl)
	}
	return b.String()
}

// caseText is a case's violations, one per line, for failure bodies and
// system-out.
func caseText(cs contract.CaseResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "outcome %s, HTTP %d", cs.Outcome, cs.Status)
	if cs.Reason != "" {
		fmt.Fprintf(&b, ": %s", cs.Reason)
	}
	b.WriteString("\n")
	for _, v := range cs.Violations {
		b.WriteString("- " + violationText(v))
		if v.Expected != "" || v.Observed != "" {
			fmt.Fprintf(&b, " (expected %s, observed %s)", v.Expected, v.Observed)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func secs(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Error     *junitFailure `xml:"error,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}
