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
// Jenkins junit): one testsuite for the contract cases (fail → failure, skip
// → skipped, drift → passed with the drift in system-out) and one for the
// load thresholds, with the load figures as properties.
func JUnit(w io.Writer, r *Report) error {
	doc := junitSuites{Name: "xoneharness " + r.Kind}
	if c := r.Contract; c != nil {
		s := junitSuite{Name: "contract", Timestamp: c.Started.UTC().Format(time.RFC3339),
			Time: secs(c.Finished.Sub(c.Started))}
		s.Properties = []junitProperty{{"target", c.Target}, {"strict", strconv.FormatBool(c.Strict)}}
		for _, cs := range c.Cases {
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
			default:
				tc.SystemOut = text
			}
			s.Tests++
			s.Cases = append(s.Cases, tc)
		}
		doc.Suites = append(doc.Suites, s)
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
			if !t.Passed {
				tc.Failure = &junitFailure{Message: "threshold failed: " + obs, Type: "threshold", Text: obs}
				s.Failures++
			} else {
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
	for _, s := range doc.Suites {
		doc.Tests += s.Tests
		doc.Failures += s.Failures
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
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
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
