package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/xoneharness/xoneharness/contract"
)

// contractView is the contract section: the counts, the fixed cases and
// the generated ones.
type contractView struct {
	Counts, Target, Started, Duration string
	Timestamp, Secs                   string
	Props                             []field
	Cases                             []caseView
	Generated                         *generatedView
}

// caseView is one contract case as every format shows it.
type caseView struct {
	Name, Outcome, Label, Status, Ms, Secs, First, Reason string
	// Failed marks an outcome shown as a failure; Open an exchange shown
	// unfolded (a failure, a security or an integrity case).
	Security, Integrity, Failed, Open bool
	Violations                        []contract.Violation
	// Text is the outcome, every violation and the race group, one per
	// line (JUnit).
	Text     string
	Exchange *exchangeView
	Race     *raceView
	// Generated cases only: how to reproduce them.
	Kind, Mutation, MinimalLabel, MinimalBody, Curl, Reproduce string
}

// exchangeView is a recorded request and its response, bodies indented.
type exchangeView struct {
	*contract.Exchange
	Open                                bool
	RequestBody, ResponseBody, Ms, Curl string
}

// generatedView is the group of generated cases: how to replay them, a
// tally per kind, the cases that did not pass (Brief: the first
// mdMaxGenerated of them, for report.md) and the others.
type generatedView struct {
	Seed, Replay, Run, Offers, Stopped string
	Intro, Timestamp, Secs             string
	Unlisted, More                     string
	Props                              []field
	Tally                              []generatedTally
	// Cases are all generated cases in run order; Findings those that did
	// not pass, Brief the first mdMaxGenerated of these, Others the rest.
	Cases, Findings, Brief, Others []caseView
}

// mdMaxGenerated is the number of generated cases that did not pass that
// report.md shows in full; the rest are counted (report.html and
// summary.json have them all), so that the page stays within what
// $GITHUB_STEP_SUMMARY accepts.
const mdMaxGenerated = 20

func newContractView(kind string, c *contract.Result) *contractView {
	counts := fmt.Sprintf("%d pass · %d fail · %d drift · %d skip", c.Counts.Pass, c.Counts.Fail, c.Counts.Drift, c.Counts.Skip)
	if c.Counts.Error > 0 {
		counts += fmt.Sprintf(" · %d error", c.Counts.Error)
	}
	if c.Strict {
		counts += " · strict"
	}
	if c.Replay {
		counts += " · replayed"
	}
	cv := &contractView{Counts: counts, Target: c.Target, Started: timeText(c.Started),
		Duration: durationText(c.Started, c.Finished), Timestamp: stamp(c.Started), Secs: secs(c.Finished.Sub(c.Started)),
		Props: []field{{"target", c.Target}, {"strict", strconv.FormatBool(c.Strict)}}}
	var gen []contract.CaseResult
	for _, cs := range c.Cases {
		if cs.Generated != nil {
			gen = append(gen, cs)
			continue
		}
		cv.Cases = append(cv.Cases, newCaseView(cs, cs.Outcome == contract.OutcomeFail || cs.Security || cs.Integrity))
	}
	if c.Generation != nil || len(gen) > 0 {
		cv.Generated = newGeneratedView(kind, c, gen)
	}
	return cv
}

// newCaseView formats one case; open says whether its exchange is shown
// unfolded.
func newCaseView(cs contract.CaseResult, open bool) caseView {
	v := caseView{Name: cs.Name, Outcome: string(cs.Outcome), Label: string(cs.Outcome), Status: statusText(cs.Status),
		Ms: fmtMS(ms(cs.Duration)), Secs: secs(cs.Duration), First: firstFinding(cs), Reason: cs.Reason,
		Security: cs.Security, Integrity: cs.Integrity, Failed: cs.Outcome == contract.OutcomeFail, Open: open,
		Violations: cs.Violations, Text: caseText(cs)}
	switch {
	case cs.Security:
		v.Label += " (security)"
	case cs.Integrity:
		v.Label += " (integrity)"
	}
	if cs.Race != nil {
		v.Race = newRaceView(cs.Name, cs.Race, cs.Integrity)
		v.Text += v.Race.Text
		if ids := v.Race.Bookings; v.Failed && len(ids) > 0 {
			v.First += "; booking ids: " + strings.Join(ids, ", ")
		}
	}
	if x := cs.Exchange; x != nil {
		v.Exchange = &exchangeView{Exchange: x, Open: open, RequestBody: prettyBody(x.RequestBody),
			ResponseBody: prettyBody(x.ResponseBody), Ms: fmtMS(ms(x.Duration)), Curl: Curl(x)}
	}
	if g := cs.Generated; g != nil {
		v.Kind, v.Mutation = orUnknown(g.Kind), g.Mutation
		label, body, curl := minimal(cs)
		v.MinimalLabel, v.MinimalBody, v.Curl = label, prettyBody(body), curl
		v.Reproduce = reproduceText(v)
	}
	return v
}

// newGeneratedView groups the generated cases; their exchanges start
// collapsed, since the minimal body is what reproduces the finding.
func newGeneratedView(kind string, c *contract.Result, gen []contract.CaseResult) *generatedView {
	gv := &generatedView{Timestamp: stamp(c.Started), Tally: tallyGenerated(gen)}
	if g := c.Generation; g != nil {
		if kind != KindRun {
			kind = KindContract
		}
		gv.Seed = strconv.FormatUint(g.Seed, 10)
		gv.Replay = fmt.Sprintf("xoneharness %s --generate %d --seed %d", kind, g.Requested, g.Seed)
		gv.Run = fmt.Sprintf("%d of %d cases, %d requests", g.Run, g.Requested, g.Requests)
		gv.Offers, gv.Stopped = fmt.Sprintf("%d offers used", g.OffersUsed), g.Stopped
		if g.OfferBudget > 0 {
			gv.Offers += fmt.Sprintf(" of a budget of %d", g.OfferBudget)
		}
		gv.Props = []field{{"seed", gv.Seed}, {"replay", gv.Replay}, {"requested", strconv.Itoa(g.Requested)},
			{"run", strconv.Itoa(g.Run)}, {"offers_used", strconv.Itoa(g.OffersUsed)},
			{"offer_budget", strconv.Itoa(g.OfferBudget)}, {"requests", strconv.Itoa(g.Requests)}}
		if g.Stopped != "" {
			gv.Props = append(gv.Props, field{"stopped", g.Stopped})
		}
	}
	var total time.Duration
	pass, skip := 0, 0
	for _, cs := range gen {
		total += cs.Duration
		v := newCaseView(cs, false)
		gv.Cases = append(gv.Cases, v)
		switch cs.Outcome {
		case contract.OutcomePass:
			pass++
			gv.Others = append(gv.Others, v)
		case contract.OutcomeSkip:
			skip++
			gv.Others = append(gv.Others, v)
		default:
			gv.Findings = append(gv.Findings, v)
		}
	}
	gv.Secs = secs(total)
	if len(gv.Findings) > 0 {
		gv.Intro = "Each case below that did not pass, with the smallest body found that gets the same verdict; " +
			"the curl lines read the bearer token from $TOKEN."
	}
	gv.Brief = gv.Findings[:min(len(gv.Findings), mdMaxGenerated)]
	if n := len(gv.Findings) - len(gv.Brief); n > 0 {
		gv.More = fmt.Sprintf("%d more generated cases that did not pass are in report.html and summary.json.", n)
	}
	if pass > 0 || skip > 0 {
		gv.Unlisted = fmt.Sprintf("%d passing generated cases", pass)
		if skip > 0 {
			gv.Unlisted += fmt.Sprintf(" and %d skipped", skip)
		}
		gv.Unlisted += " not listed."
	}
	return gv
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

// caseText is a case's outcome and violations, one per line.
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

// reproduceText is what reproduces a generated case: its kind and
// mutation, its minimal body and the curl line that sends it.
func reproduceText(v caseView) string {
	var b strings.Builder
	b.WriteString(v.Kind + " case")
	if v.Mutation != "" {
		b.WriteString(", mutation " + v.Mutation)
	}
	b.WriteString("\n")
	if v.MinimalBody != "" {
		fmt.Fprintf(&b, "%s:\n%s\n", v.MinimalLabel, v.MinimalBody)
	}
	if v.Curl != "" {
		fmt.Fprintf(&b, "reproduce (bearer token from $TOKEN):\n%s\n", v.Curl)
	}
	return b.String()
}

// minimal returns the body and the curl line that reproduce a generated
// case, and a label naming the body: the shrunk ones, or the request as
// sent when the case was not shrunk.
func minimal(cs contract.CaseResult) (label, body, curl string) {
	g := cs.Generated
	body, curl, label = g.MinimalBody, g.Curl, "Request body as sent (not shrunk)"
	if x := cs.Exchange; x != nil {
		body, curl = orDefault(body, x.RequestBody), orDefault(curl, Curl(x))
	}
	if g.MinimalBody != "" {
		label = "Minimal body (no answer"
		if g.MinimalStatus != 0 {
			label = fmt.Sprintf("Minimal body (HTTP %d", g.MinimalStatus)
		}
		if g.ShrinkRequests > 0 {
			label += fmt.Sprintf(", after %d shrink requests", g.ShrinkRequests)
		}
		label += ")"
	}
	return label, body, curl
}

// raceView is the race check's group: what was released and what each
// confirm got back. Double marks a double booking.
type raceView struct {
	Case, Summary, Fallback, Text string
	Double                        bool
	// Bookings are the distinct booking ids, in the order of the attempts.
	Bookings []string
	Attempts []raceAttempt
}

// raceAttempt is one confirm of the race, numbered from 1.
type raceAttempt struct {
	N int
	contract.RaceAttempt
}

func newRaceView(name string, rc *contract.Race, double bool) *raceView {
	v := &raceView{Case: name, Summary: fmt.Sprintf("%d confirms of offer %s released together, spread %s ms", rc.N, rc.OfferID,
		fmtMS(ms(rc.Spread))), Fallback: rc.Fallback, Double: double}
	if rc.ServerTimed {
		v.Summary += fmt.Sprintf(" (%s ms as the target saw them arrive)", fmtMS(ms(rc.ServerSpread)))
	}
	v.Text = "race: " + v.Summary + "\n"
	if rc.Fallback != "" {
		v.Text += "fallback: " + rc.Fallback + "\n"
	}
	for i, a := range rc.Attempts {
		v.Attempts = append(v.Attempts, raceAttempt{N: i + 1, RaceAttempt: a})
		if a.BookingID != "" && !slices.Contains(v.Bookings, a.BookingID) {
			v.Bookings = append(v.Bookings, a.BookingID)
		}
		v.Text += fmt.Sprintf("confirm %d: HTTP %s, booking %s, CF-RAY %s", i+1, statusText(a.Status),
			orDefault(a.BookingID, "–"), orDefault(a.CFRay, "–"))
		if a.Error != "" {
			v.Text += ", " + a.Error
		}
		v.Text += "\n"
	}
	return v
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
		i := slices.IndexFunc(out, func(t generatedTally) bool { return t.Kind == cs.Generated.Kind })
		if i < 0 {
			out = append(out, generatedTally{Kind: cs.Generated.Kind})
			i = len(out) - 1
		}
		t := &out[i]
		switch cs.Outcome {
		case contract.OutcomePass:
			t.Pass++
		case contract.OutcomeFail:
			t.Fail++
		case contract.OutcomeDrift:
			t.Drift++
		case contract.OutcomeError:
			t.Error++
		case contract.OutcomeSkip:
			t.Skip++
		}
	}
	return out
}

// prettyBody indents a JSON body for reading; anything else is kept as is.
func prettyBody(s string) string {
	var buf bytes.Buffer
	if s == "" || json.Indent(&buf, []byte(s), "", "  ") != nil {
		return s
	}
	return buf.String()
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
		switch strings.ToLower(k) {
		case "content-length", "host", "accept-encoding", "connection", "user-agent":
			continue // left to curl
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

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
