package contract

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xoneharness/xoneharness/internal/auth"
	"github.com/xoneharness/xoneharness/spec"
)

// outcomeOf is the outcome a case's violations give: pass with none, drift
// when every one is a drift rule, fail otherwise.
func outcomeOf(vs []Violation) Outcome {
	out := OutcomePass
	for _, v := range vs {
		if !isDriftRule(v.Rule) {
			return OutcomeFail
		}
		out = OutcomeDrift
	}
	return out
}

// isDriftRule reports the rules of behaviour the document does not describe,
// as opposed to behaviour it contradicts.
func isDriftRule(rule string) bool {
	return slices.Contains([]string{spec.RuleStatusUndocumented, spec.RuleUndocumentedField, RuleStatusUnexpected, spec.RuleHeaderShape}, rule)
}

func (cr *CaseResult) add(rule, path, expected, observed, reason string) {
	cr.Violations = append(cr.Violations, Violation{Rule: rule, Path: path, Expected: expected, Observed: observed, Reason: reason})
}

// strictly turns drift into fail when strict is set, and says so.
func (cr *CaseResult) strictly(strict bool) {
	if cr.Outcome == OutcomeDrift && strict {
		cr.Outcome, cr.Reason = OutcomeFail, "strict: "+cr.Reason
	}
}

func isRule(rule string) func(Violation) bool {
	return func(v Violation) bool { return v.Rule == rule }
}

// judge validates one exchange against the spec and the case's policy, adds
// the answer to cov, and returns its result (without Exchange) and the
// booking id of a 2xx confirm. Text from the response is redacted with red
// (nil scrubs only what needs no known secret) before it is shortened.
func judge(d caseDef, s *spec.Spec, strict bool, cc caseContext, x rawExchange, red *auth.Redactor, cov *spec.Coverage) (CaseResult, string) {
	cr := CaseResult{Name: d.name, Status: x.status, Duration: x.duration}
	// x was sent, or its method and URL were checked by decodeRecording: it parses.
	req, _ := http.NewRequest(x.method, x.url, bytes.NewReader(x.reqBody))
	req.Header = x.reqHeader.Clone()
	if x.cut { // what was read is not the answer: judging it would blame the target for the cut
		cr.Outcome = OutcomeError
		cr.Reason = fmt.Sprintf("the %d answer's body is longer than this tool's read limit of %d MiB: read that far and not validated",
			x.status, maxResponseRead>>20)
		return cr, ""
	}
	resp := spec.Response{Status: x.status, Header: x.respHeader.Clone(), Body: x.respBody}
	cr.Violations = s.ValidateResponse(req, resp)
	cov.Add(resp, cr.Violations)
	booking, finding, summary := judgeStatus(&cr, d, cc, x, errorMessage(red.JSON(x.respBody)))
	cr.Outcome, cr.Reason = outcomeOf(cr.Violations), finding
	if finding == "" {
		cr.Reason = summary
		// The first violation that makes the outcome: a fail rule for fail, a drift rule for drift.
		if i := slices.IndexFunc(cr.Violations, func(v Violation) bool {
			return isDriftRule(v.Rule) == (cr.Outcome == OutcomeDrift)
		}); i >= 0 {
			cr.Reason = strings.TrimSpace(cr.Violations[i].Rule+" "+cr.Violations[i].Path) + ": " + cr.Violations[i].Reason
		}
	}
	cr.strictly(strict)
	return cr, booking
}

// judgeStatus applies the case's policy to the status of x (msg is the
// answer's error message), adding to cr's violations. It returns the booking
// id of a 2xx confirm, the finding that explains a status-level verdict, or
// the summary of a normal answer (replaced by its first violation, if any).
func judgeStatus(cr *CaseResult, d caseDef, cc caseContext, x rawExchange, msg string) (booking, finding, summary string) {
	status, ok2xx := strconv.Itoa(x.status), x.status >= 200 && x.status < 300
	undocumented := slices.ContainsFunc(cr.Violations, isRule(spec.RuleStatusUndocumented))
	if x.status >= 500 || x.status == http.StatusTooManyRequests {
		// An error status is judged once, as a server error or a refusal,
		// not also as drift from the document.
		cr.Violations = slices.DeleteFunc(cr.Violations, isRule(spec.RuleStatusUndocumented))
	}
	switch {
	case x.status >= 500:
		cr.add(RuleServerError, "", "no 5xx", status, "server error")
		return "", fmt.Sprintf("server error %d%s", x.status, withMsg(msg)), ""
	case x.status < 200 || (x.status >= 300 && x.status < 400):
		want := cmp.Or(map[kind]string{kindAuth: "401", kindNegative: "4xx"}[d.kind], "200")
		cr.add(RuleStatus, "", want, status, "unexpected status")
		return "", fmt.Sprintf("unexpected status %d", x.status), ""
	case d.kind == kindConfirm && ok2xx:
		booking, summary = judgeBooking(cr, x.respBody, cc)
		return booking, "", summary
	case d.kind == kindConfirm:
		cr.add(RuleStatus, "", "200", status, "the confirm was rejected")
		return "", fmt.Sprintf("confirm rejected with %d%s", x.status, withMsg(msg)), ""
	case d.kind == kindAuth && ok2xx:
		cr.Security = true
		cr.add(RuleSecurity, "", "401", status, "accepted without valid authentication")
		return "", fmt.Sprintf("accepted without valid authentication (status %d)", x.status), ""
	case d.kind == kindAuth && x.status == http.StatusUnauthorized:
		return "", "", "401" + withMsg(msg)
	case d.kind == kindAuth:
		cr.add(RuleStatus, "", "401", status, "a request without valid authentication must get exactly 401")
		return "", fmt.Sprintf("want 401, got %d%s", x.status, withMsg(msg)), ""
	case d.kind == kindNegative && ok2xx:
		cr.add(RuleStatus, "", "4xx", status, "invalid confirm accepted")
		return "", fmt.Sprintf("invalid confirm accepted (status %d)", x.status), ""
	case d.kind == kindDouble && ok2xx:
		booking, summary = judgeBooking(cr, x.respBody, cc)
		switch first := cc.FirstBookingID; {
		case booking == "":
			cr.add(RuleDuplicateBooking, "$.data.id", first, "absent",
				"the second confirm succeeded without a booking id: cannot rule out a second booking")
			return "", "second confirm answered " + status + " without a booking id", summary
		case booking != first:
			cr.add(RuleDuplicateBooking, "$.data.id", first, booking, "the second confirm of one offer created another booking")
			return booking, fmt.Sprintf("duplicate booking: %s after %s", booking, first), summary
		}
		return booking, "", "idempotent: the second confirm returned the same booking " + booking
	case x.status == http.StatusUnauthorized: // negative or double, with the valid token
		cr.add(RuleStatus, "", "4xx other than 401", status, "the valid token was rejected")
		return "", "the valid token was rejected with 401" + withMsg(msg), ""
	}
	// Negative or double: a 4xx rejection, as intended (undocumented is drift).
	if undocumented {
		cr.unexpected(d, x.status)
		return "", fmt.Sprintf("rejected with undocumented %d%s", x.status, withMsg(msg)), ""
	}
	return "", fmt.Sprintf("rejected with %d%s", x.status, withMsg(msg)), ""
}

// judgeBooking checks a 2xx confirm body beyond the schema: a data object
// is present and the invariants hold. It returns the booking id (data.id)
// and a summary.
func judgeBooking(cr *CaseResult, body []byte, cc caseContext) (string, string) {
	hasEmpty := slices.ContainsFunc(cr.Violations, isRule(spec.RuleEmptyBody))
	trimmed := bytes.TrimSpace(body)
	var top map[string]any
	switch {
	case len(trimmed) == 0 || string(trimmed) == "null":
		if !hasEmpty {
			cr.add(spec.RuleEmptyBody, "$", `{"data": {...}}`, cmp.Or(string(trimmed), "empty body"),
				"a 2xx confirm answer must carry the booking")
		}
		return "", "no booking in the answer"
	case json.Unmarshal(trimmed, &top) != nil:
		return "", "answer is not a JSON object" // the content-type or schema check reports it
	}
	data, isObj := top["data"].(map[string]any)
	if !isObj {
		if top["data"] == nil && !hasEmpty {
			cr.add(spec.RuleEmptyBody, "$.data", "an object", "absent or null", "a 2xx confirm answer must carry the booking")
		}
		return "", "no booking object in the answer"
	}
	booking, _ := data["id"].(string)
	cr.Violations = append(cr.Violations, checkInvariants(data, cc)...)
	if booking == "" {
		return "", "booking without id"
	}
	return booking, "booking " + booking
}

// errorMessage returns the "message" of a JSON error body, followed by the
// first field error of a Laravel-style "errors" object ("The given data was
// invalid. (quotes: The quotes field is required.)"), or the start of a
// non-JSON body; at most 200 bytes.
func errorMessage(body []byte) string {
	var v struct {
		Message any             `json:"message"`
		Errors  json.RawMessage `json:"errors"`
	}
	if json.Unmarshal(body, &v) != nil || (v.Message == nil && v.Errors == nil) {
		return cut(strings.Join(strings.Fields(string(body)), " "), 200, "…")
	}
	msg, ok := v.Message.(string)
	if !ok && v.Message != nil {
		b, _ := json.Marshal(v.Message)
		msg = string(b)
	}
	if field, first := firstFieldError(v.Errors); field != "" {
		if msg != "" {
			msg += " "
		}
		msg += "(" + field + ": " + first + ")"
	}
	return cut(msg, 200, "…")
}

// firstFieldError returns the first member of an errors object and its
// first message (a string, or the first string of an array), in document
// order; "" when errors has another shape.
func firstFieldError(raw json.RawMessage) (string, string) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return "", ""
	}
	t, err := dec.Token()
	field, ok := t.(string)
	var val any
	if err != nil || !ok || dec.Decode(&val) != nil {
		return "", ""
	}
	if a, ok := val.([]any); ok && len(a) > 0 {
		val = a[0]
	}
	if s, ok := val.(string); ok {
		return field, s
	}
	return "", ""
}

func withMsg(msg string) string {
	if msg == "" {
		return ""
	}
	return ": " + msg
}

// unexpected adds RuleStatusUnexpected for an undocumented status the API is not known to send for d.
func (cr *CaseResult) unexpected(d caseDef, status int) {
	if slices.Contains(d.knownStatuses, status) {
		return
	}
	known := make([]string, len(d.knownStatuses))
	for i, s := range d.knownStatuses {
		known[i] = strconv.Itoa(s)
	}
	cr.add(RuleStatusUnexpected, "", strings.Join(known, " or "), strconv.Itoa(status),
		"an undocumented status other than the one the API is known to send")
}

// cut shortens s to at most n bytes on a UTF-8 boundary, and appends mark when it cut.
func cut(s string, n int, mark string) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + mark
}

// judgeRace judges concurrent-confirm from rc alone (so Replay can): one
// booking id and 4xx refusals pass; two booking ids are an integrity failure;
// no booking, a 5xx or another status fail; a confirm without an answer (it
// may have booked) is an error unless something failed; a refusal status the
// document does not list is drift. It returns the result without Race,
// Exchange and Duration, and the attempt whose exchange best shows it.
func judgeRace(d caseDef, rc *Race, documents func(int) bool, strict bool) (CaseResult, int) {
	cr := CaseResult{Name: d.name}
	n, k := len(rc.Attempts), countRace(rc.Attempts)
	finding := raceFinding(&cr, d, n, k, rc.OfferID, documents)
	cr.Outcome = outcomeOf(cr.Violations)
	if k.lost > 0 && cr.Outcome != OutcomeFail {
		cr.Outcome = OutcomeError
		i := slices.IndexFunc(rc.Attempts, func(a RaceAttempt) bool { return a.Status == 0 })
		finding = fmt.Sprintf("no answer to %d of %d simultaneous confirms (they may have booked): %s", k.lost, n, rc.Attempts[i].Error)
	}
	if finding == "" {
		finding = raceSummary(n, k, documents)
	}
	cr.Reason = finding + raceTiming(rc)
	cr.strictly(strict)
	pick := racePick(rc.Attempts, k.ids)
	cr.Status = rc.Attempts[pick].Status
	return cr, pick
}

// raceFinding adds the violations of a group of n confirms of offer that
// got k, and returns the finding that explains a failure ("" for none).
func raceFinding(cr *CaseResult, d caseDef, n int, k raceCounts, offer string, documents func(int) bool) string {
	var finding string
	switch {
	case len(k.ids) > 1:
		cr.Integrity = true
		cr.add(RuleDuplicateBooking, "$.data.id", "one booking", strings.Join(k.ids, ", "),
			fmt.Sprintf("%d simultaneous confirms of one offer created %d bookings", n, len(k.ids)))
		finding = fmt.Sprintf("double booking: %d simultaneous confirms of offer %s created %d bookings: %s",
			n, offer, len(k.ids), strings.Join(k.ids, ", "))
	case k.booked > 1 && k.noID > 0:
		cr.add(RuleDuplicateBooking, "$.data.id", "one booking", "absent",
			"a simultaneous confirm succeeded without a booking id: cannot rule out a second booking")
		finding = fmt.Sprintf("%d of %d simultaneous confirms answered 2xx, %d without a booking id", k.booked, n, k.noID)
	}
	for _, s := range slices.Sorted(maps.Keys(k.bad)) {
		if s >= 500 {
			cr.add(RuleServerError, "", "no 5xx", strconv.Itoa(s), "server error")
		} else {
			cr.add(RuleStatus, "", "2xx or 4xx", strconv.Itoa(s), "unexpected status")
		}
	}
	if finding == "" && len(k.bad) > 0 {
		finding = fmt.Sprintf("%s among %d simultaneous confirms", tally(k.bad, nil), n)
	}
	if k.booked == 0 && k.lost == 0 {
		cr.add(RuleStatus, "", "one 2xx", "none", "no confirm of the offer booked it")
		if finding == "" {
			finding = fmt.Sprintf("no booking: all %d simultaneous confirms were refused (%s)", n, tally(k.refused, documents))
		}
	}
	for _, s := range slices.Sorted(maps.Keys(k.refused)) {
		if documents(s) {
			continue
		}
		cr.add(spec.RuleStatusUndocumented, "$", "a status the document lists", strconv.Itoa(s), "undocumented refusal status")
		cr.unexpected(d, s)
	}
	return finding
}

// raceCounts is what the answers of a group hold.
type raceCounts struct {
	ids                []string // distinct booking ids, in attempt order
	booked, noID, lost int      // 2xx answers, those without a booking id, no answer
	refused, bad       map[int]int
}

func countRace(at []RaceAttempt) raceCounts {
	k := raceCounts{refused: map[int]int{}, bad: map[int]int{}}
	for _, a := range at {
		switch s := a.Status; {
		case s == 0:
			k.lost++
		case s >= 200 && s < 300:
			k.booked++
			if a.BookingID == "" {
				k.noID++
			} else if !slices.Contains(k.ids, a.BookingID) {
				k.ids = append(k.ids, a.BookingID)
			}
		case s >= 400 && s < 500:
			k.refused[s]++
		default:
			k.bad[s]++
		}
	}
	return k
}

// raceTiming says how close together the group was released and arrived, and any fallback.
func raceTiming(rc *Race) string {
	s := fmt.Sprintf("; final writes within %s", rc.Spread.Round(time.Microsecond))
	if rc.ServerTimed {
		s += fmt.Sprintf(", server arrivals within %s", rc.ServerSpread.Round(time.Microsecond))
	}
	if rc.Fallback != "" {
		s += "; " + rc.Fallback
	}
	return s
}

// raceSummary describes a group of n that booked the offer once.
func raceSummary(n int, k raceCounts, documents func(int) bool) string {
	id := "without an id"
	if len(k.ids) > 0 {
		id = k.ids[0]
	}
	s := fmt.Sprintf("one booking %s from %d simultaneous confirms", id, n)
	if k.booked > 1 {
		s = fmt.Sprintf("idempotent: %d of %d simultaneous confirms answered with the same booking %s", k.booked, n, id)
	}
	if n > k.booked {
		s += fmt.Sprintf(", %d refused (%s)", n-k.booked, tally(k.refused, documents))
	}
	return s
}

// racePick is the attempt whose exchange best shows a group's verdict: the
// second booking, else the first unexpected status, the first booking, the
// first answer, the first attempt.
func racePick(at []RaceAttempt, ids []string) int {
	tests := []func(RaceAttempt) bool{
		func(a RaceAttempt) bool { return len(ids) > 1 && a.BookingID == ids[1] },
		func(a RaceAttempt) bool {
			return a.Status != 0 && (a.Status < 200 || a.Status >= 500 || a.Status/100 == 3)
		},
		func(a RaceAttempt) bool { return a.Status >= 200 && a.Status < 300 },
		func(a RaceAttempt) bool { return a.Status != 0 },
	}
	for _, t := range tests {
		if i := slices.IndexFunc(at, t); i >= 0 {
			return i
		}
	}
	return 0
}

// tally writes status counts as "422×4, 429×1", in status order; with
// documents, a status it does not list is marked undocumented.
func tally(counts map[int]int, documents func(int) bool) string {
	var parts []string
	for _, s := range slices.Sorted(maps.Keys(counts)) {
		p := fmt.Sprintf("%d×%d", s, counts[s])
		if documents != nil && !documents(s) {
			p = "undocumented " + p
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ", ")
}
