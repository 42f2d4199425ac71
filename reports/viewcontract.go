package reports

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/xoneharness/xoneharness/contract"
)

// contractView is the contract section: the fixed cases and the generated ones.
type contractView struct {
	*contract.Result
	Cases     []caseView
	Generated *generatedView
}

// caseView is one contract case as shown: Ms its latency, First its first finding, Open whether its
// exchange starts unfolded; a generated case has a kind and the body and curl line reproducing it.
type caseView struct {
	contract.CaseResult
	Ms, First               string
	Open                    bool
	Race                    *raceView
	Kind, MinimalBody, Curl string
}

// generatedView is the generated cases: how they were made (Generation, nil in an older summary)
// and replayed, a tally per kind, the cases in run order, those that did not pass (Findings; Brief
// the first mdMaxGenerated, More the rest) and the others (Pass and Skip count them).
type generatedView struct {
	*contract.Generation
	Replay, Secs                   string
	Pass, Skip, More               int
	Tally                          []generatedTally
	Cases, Findings, Brief, Others []caseView
}

// generatedTally is the number of generated cases of one kind per outcome.
type generatedTally struct {
	Kind string
	N    map[string]int
}

// mdMaxGenerated is how many generated cases that did not pass report.md shows (the rest are
// counted), so that it fits $GITHUB_STEP_SUMMARY.
const mdMaxGenerated = 20

func newContractView(kind string, c *contract.Result, t *texter) *contractView {
	cv := &contractView{Result: c}
	var gen []contract.CaseResult
	for _, cs := range c.Cases {
		if cs.Generated != nil {
			gen = append(gen, cs)
			continue
		}
		cv.Cases = append(cv.Cases, newCaseView(cs, cs.Outcome == contract.OutcomeFail || cs.Security || cs.Integrity, t))
	}
	if c.Generation != nil || len(gen) > 0 {
		cv.Generated = newGeneratedView(kind, c.Generation, gen, t)
	}
	return cv
}

func newCaseView(cs contract.CaseResult, open bool, t *texter) caseView {
	v := caseView{CaseResult: cs, Ms: fmtMS(ms(cs.Duration)), First: cs.Reason, Open: open}
	if len(cs.Violations) > 0 {
		v.First = t.text("violation", cs.Violations[0])
		if n := len(cs.Violations) - 1; n > 0 {
			v.First += fmt.Sprintf(" (+%d more)", n)
		}
	}
	if rc := cs.Race; rc != nil {
		v.Race = newRaceView(rc, cs.Integrity)
		if ids := v.Race.Bookings; cs.Outcome == contract.OutcomeFail && len(ids) > 0 {
			v.First += "; booking ids: " + strings.Join(ids, ", ")
		}
	}
	if g := cs.Generated; g != nil {
		v.Kind, v.MinimalBody, v.Curl = cmp.Or(g.Kind, "unknown"), g.MinimalBody, g.Curl
		if x := cs.Exchange; x != nil {
			v.MinimalBody, v.Curl = cmp.Or(v.MinimalBody, x.RequestBody), cmp.Or(v.Curl, t.text("curl", x))
		}
		v.MinimalBody = prettyBody(v.MinimalBody)
	}
	return v
}

// newGeneratedView groups the generated cases, their exchanges folded (the minimal body matters).
func newGeneratedView(kind string, g *contract.Generation, gen []contract.CaseResult, t *texter) *generatedView {
	gv := &generatedView{Generation: g, Tally: []generatedTally{{contract.KindPositive, map[string]int{}},
		{contract.KindNegative, map[string]int{}}}}
	if g != nil {
		if kind != KindRun {
			kind = KindContract
		}
		gv.Replay = fmt.Sprintf("xoneharness %s --generate %d --seed %d", kind, g.Requested, g.Seed)
	}
	var total time.Duration
	for _, cs := range gen {
		total += cs.Duration
		v := newCaseView(cs, false, t)
		gv.Cases = append(gv.Cases, v)
		i := slices.IndexFunc(gv.Tally, func(t generatedTally) bool { return t.Kind == cs.Generated.Kind })
		if i < 0 {
			gv.Tally, i = append(gv.Tally, generatedTally{cs.Generated.Kind, map[string]int{}}), len(gv.Tally)
		}
		gv.Tally[i].N[string(cs.Outcome)]++
		switch cs.Outcome {
		case contract.OutcomePass, contract.OutcomeSkip:
			gv.Pass, gv.Skip = gv.Pass+b2i(cs.Outcome == contract.OutcomePass), gv.Skip+b2i(cs.Outcome == contract.OutcomeSkip)
			gv.Others = append(gv.Others, v)
		default:
			gv.Findings = append(gv.Findings, v)
		}
	}
	gv.Secs = secs(total)
	gv.Brief = gv.Findings[:min(len(gv.Findings), mdMaxGenerated)]
	gv.More = len(gv.Findings) - len(gv.Brief)
	return gv
}

// raceView is a contract race check: Double marks a double booking; Bookings are the distinct
// booking ids, in the order of the attempts.
type raceView struct {
	*contract.Race
	Double   bool
	Bookings []string
}

func newRaceView(rc *contract.Race, double bool) *raceView {
	v := &raceView{Race: rc, Double: double}
	for _, a := range rc.Attempts {
		if a.BookingID != "" && !slices.Contains(v.Bookings, a.BookingID) {
			v.Bookings = append(v.Bookings, a.BookingID)
		}
	}
	return v
}

// prettyBody indents a JSON body for reading; anything else is kept as is.
func prettyBody(s string) string {
	var buf bytes.Buffer
	if s == "" || json.Indent(&buf, []byte(s), "", "  ") != nil {
		return s
	}
	return buf.String()
}
