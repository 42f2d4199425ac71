package contract

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/xoneharness/xoneharness/spec"
)

// Outcome is the verdict of one case.
type Outcome string

// The outcomes of a case. [OutcomeFail] and [OutcomeError] make
// [Result.Failed] true; [OutcomeDrift] is a warning, fail with [Config.Strict].
const (
	OutcomePass  Outcome = "pass"  // the target behaved as the contract says
	OutcomeFail  Outcome = "fail"  // a contract violation, a security finding or a server error
	OutcomeDrift Outcome = "drift" // behaviour the document does not describe (undocumented 4xx, undocumented field)
	OutcomeSkip  Outcome = "skip"  // not run; Reason says why
	OutcomeError Outcome = "error" // no answer (timeout, reset, malformed HTTP); Reason says why and after how long
)

// Rules the contract package adds to those of package spec, which pass
// through unchanged ("schema", "format", "status-undocumented", ...).
const (
	RuleStatus           = "status"            // not the status the case requires (403 where only 401 will do, a 2xx to an invalid request)
	RuleStatusUnexpected = "status-unexpected" // an undocumented 4xx other than the one the API is known to send (drift)
	RuleServerError      = "server-error"      // a 5xx answer
	RuleSecurity         = "security"          // a 2xx answer to a request without valid authentication
	RuleDuplicateBooking = "duplicate-booking" // one offer booked twice, or a 2xx without a booking id that could rule it out
)

// Violation is one finding inside a case, the project's one violation type,
// its values redacted. A [CaseResult] writes each as {rule, path, expected,
// observed, message}: Reason as "message", without Keyword and Status.
type Violation = spec.Violation

// violationJSON is a Violation as a CaseResult writes it.
type violationJSON struct {
	Rule     string `json:"rule"`
	Path     string `json:"path,omitempty"`
	Expected string `json:"expected,omitempty"`
	Observed string `json:"observed,omitempty"`
	Message  string `json:"message,omitempty"`
}

// MaxExchangeBody is the number of bytes of a request or response body kept
// in an [Exchange] (64 KiB); longer bodies are cut and flagged truncated.
const MaxExchangeBody = 64 << 10

// Exchange is one request and its response, redacted (the Authorization
// header, secrets, tokens, security_token and contact details scrubbed from
// headers and bodies), bodies as text cut at [MaxExchangeBody] bytes.
type Exchange struct {
	Method                string        `json:"method"`
	URL                   string        `json:"url"`
	RequestHeader         http.Header   `json:"request_headers,omitempty"`
	RequestBody           string        `json:"request_body,omitempty"`
	RequestBodyTruncated  bool          `json:"request_body_truncated,omitempty"`
	Status                int           `json:"status"`
	ResponseHeader        http.Header   `json:"response_headers,omitempty"`
	ResponseBody          string        `json:"response_body,omitempty"`
	ResponseBodyTruncated bool          `json:"response_body_truncated,omitempty"`
	Duration              time.Duration `json:"-"` // from sending the request to reading the whole body
}

type exchangeJSON Exchange

type exchangeWire struct {
	exchangeJSON
	DurationMS float64 `json:"duration_ms"`
}

// MarshalJSON writes Duration as "duration_ms" (float milliseconds).
func (e Exchange) MarshalJSON() ([]byte, error) {
	return json.Marshal(exchangeWire{exchangeJSON(e), ms(e.Duration)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (e *Exchange) UnmarshalJSON(b []byte) error {
	var w exchangeWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*e = Exchange(w.exchangeJSON)
	e.Duration = fromMS(w.DurationMS)
	return nil
}

// CaseResult is the outcome of one case. Status is the HTTP status received
// (0 when skipped); Duration the request's latency; Reason the skip reason or
// a one-line summary; Security marks a request without valid authentication
// that was accepted; Integrity marks an offer booked more than once.
// Exchange is nil for skipped cases.
type CaseResult struct {
	Name       string         `json:"name"`
	Outcome    Outcome        `json:"outcome"`
	Status     int            `json:"status"`
	Duration   time.Duration  `json:"-"`
	Violations []Violation    `json:"-"` // written by MarshalJSON
	Reason     string         `json:"reason,omitempty"`
	Security   bool           `json:"security"`
	Integrity  bool           `json:"integrity,omitempty"`
	Exchange   *Exchange      `json:"exchange,omitempty"`
	Race       *Race          `json:"race,omitempty"`      // concurrent-confirm's group, once its confirms were sent
	Generated  *GeneratedCase `json:"generated,omitempty"` // set on generated cases (names starting "gen-")
}

type caseResultJSON CaseResult

type caseResultWire struct {
	caseResultJSON
	Violations []violationJSON `json:"violations"`
	DurationMS float64         `json:"duration_ms"`
}

// MarshalJSON writes Duration as "duration_ms" (float milliseconds) and
// Violations as [] rather than null when there are none.
func (c CaseResult) MarshalJSON() ([]byte, error) {
	w := caseResultWire{caseResultJSON(c), make([]violationJSON, len(c.Violations)), ms(c.Duration)}
	for i, v := range c.Violations {
		w.Violations[i] = violationJSON{v.Rule, v.Path, v.Expected, v.Observed, v.Reason}
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (c *CaseResult) UnmarshalJSON(b []byte) error {
	var w caseResultWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*c = CaseResult(w.caseResultJSON)
	c.Duration = fromMS(w.DurationMS)
	if w.Violations != nil {
		c.Violations = make([]Violation, len(w.Violations))
	}
	for i, v := range w.Violations {
		c.Violations[i] = Violation{Rule: v.Rule, Path: v.Path, Expected: v.Expected, Observed: v.Observed, Reason: v.Message}
	}
	return nil
}

// Counts is the number of cases per outcome.
type Counts struct {
	Pass  int `json:"pass"`
	Fail  int `json:"fail"`
	Drift int `json:"drift"`
	Skip  int `json:"skip"`
	Error int `json:"error"`
}

// Result is one run of the suite, plain data that package reports formats:
// the target (base URL, or the recording directory of a replay) and one
// [CaseResult] per case, security and integrity findings first, then the rest
// in suite order.
type Result struct {
	Target   string       `json:"target"`
	Embedded bool         `json:"embedded"`
	Strict   bool         `json:"strict"`
	Replay   bool         `json:"replay,omitempty"`
	Started  time.Time    `json:"started"`
	Finished time.Time    `json:"finished"`
	Cases    []CaseResult `json:"cases"`
	Counts   Counts       `json:"counts"`
	// Interrupted: the context was cancelled; the cases not run are skipped ("interrupted").
	Interrupted bool        `json:"interrupted,omitempty"`
	Generation  *Generation `json:"generation,omitempty"` // set when Config.Generate > 0
	// Coverage says which documented response members the judged answers
	// exercised (not the race check's, counted by status only); nil when none.
	Coverage *spec.CoverageReport `json:"coverage,omitempty"`

	// contexts holds, per case name, what Record stores for Replay.
	contexts map[string]caseContext
}

// Failed reports whether any case failed (drift alone does not fail a run).
func (r *Result) Failed() bool {
	return r != nil && slices.ContainsFunc(r.Cases, func(c CaseResult) bool {
		return c.Outcome == OutcomeFail || c.Outcome == OutcomeError
	})
}

// Incomplete lists why the suite lacks the evidence a pass needs: it was
// interrupted, generation stopped early, confirm-ok did not run, or
// double-confirm did not although confirm-ok booked. Empty otherwise.
func (r *Result) Incomplete() []string {
	if r == nil {
		return nil
	}
	var out []string
	if r.Interrupted {
		out = append(out, "contract suite interrupted by a signal")
	}
	if g := r.Generation; g != nil && g.Stopped != "" {
		out = append(out, fmt.Sprintf("generated cases stopped after %d of %d: %s", g.Run, g.Requested, g.Stopped))
	}
	ok := r.Case(CaseConfirmOK)
	switch {
	case ok == nil && !r.Replay:
		out = append(out, "contract case confirm-ok did not run")
	case ok != nil && ok.Outcome == OutcomeSkip:
		out = append(out, "contract case confirm-ok skipped: "+ok.Reason)
	case ok != nil && ok.Status >= 200 && ok.Status < 300:
		if d := r.Case(CaseDoubleConfirm); d == nil {
			out = append(out, "contract case double-confirm skipped after confirm-ok booked: not run")
		} else if d.Outcome == OutcomeSkip {
			out = append(out, "contract case double-confirm skipped after confirm-ok booked: "+d.Reason)
		}
	}
	return out
}

// Case returns the result of the named case, or nil.
func (r *Result) Case(name string) *CaseResult {
	if r == nil {
		return nil
	}
	if i := slices.IndexFunc(r.Cases, func(c CaseResult) bool { return c.Name == name }); i >= 0 {
		return &r.Cases[i]
	}
	return nil
}

// finish sorts security, then integrity findings first (stable) and fills Counts.
func (r *Result) finish() {
	rank := func(c CaseResult) int {
		switch {
		case c.Security:
			return 0
		case c.Integrity:
			return 1
		}
		return 2
	}
	slices.SortStableFunc(r.Cases, func(a, b CaseResult) int { return cmp.Compare(rank(a), rank(b)) })
	r.Counts = Counts{}
	count := map[Outcome]*int{OutcomePass: &r.Counts.Pass, OutcomeFail: &r.Counts.Fail,
		OutcomeDrift: &r.Counts.Drift, OutcomeSkip: &r.Counts.Skip, OutcomeError: &r.Counts.Error}
	for _, c := range r.Cases {
		if n := count[c.Outcome]; n != nil {
			*n++
		}
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func fromMS(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }

// Race is what concurrent-confirm did: N confirms of one offer released
// together and what each got back (Attempts, in connection order). Spread
// spans the final writes (the requests handed to the client with Fallback,
// which says why a barrier released ordinary requests instead); ServerSpread
// the arrivals the target reported in Server-Timing, if all did (ServerTimed).
type Race struct {
	N            int           `json:"n"`
	OfferID      string        `json:"offer_id"`
	Spread       time.Duration `json:"-"`
	ServerSpread time.Duration `json:"-"`
	ServerTimed  bool          `json:"-"`
	Fallback     string        `json:"fallback,omitempty"`
	Attempts     []RaceAttempt `json:"attempts"`
}

// RaceAttempt is one confirm of the race check: its status (0: no answer,
// Error says why), a 2xx's booking id, the CF-RAY header and the arrival the
// target reported in Server-Timing (recv, Unix microseconds; 0 when absent).
type RaceAttempt struct {
	Status     int    `json:"status"`
	BookingID  string `json:"booking_id,omitempty"`
	CFRay      string `json:"cf_ray,omitempty"`
	ServerRecv int64  `json:"server_recv_us,omitempty"`
	Error      string `json:"error,omitempty"`
}

type raceJSON Race

type raceWire struct {
	raceJSON
	SpreadMS       float64  `json:"spread_ms"`
	ServerSpreadMS *float64 `json:"server_spread_ms,omitempty"`
}

// MarshalJSON writes the spreads as float milliseconds: spread_ms, and
// server_spread_ms only when known.
func (r Race) MarshalJSON() ([]byte, error) {
	w := raceWire{raceJSON: raceJSON(r), SpreadMS: ms(r.Spread)}
	if r.ServerTimed {
		s := ms(r.ServerSpread)
		w.ServerSpreadMS = &s
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (r *Race) UnmarshalJSON(b []byte) error {
	var w raceWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*r = Race(w.raceJSON)
	r.Spread = fromMS(w.SpreadMS)
	if w.ServerSpreadMS != nil {
		r.ServerTimed, r.ServerSpread = true, fromMS(*w.ServerSpreadMS)
	}
	return nil
}
