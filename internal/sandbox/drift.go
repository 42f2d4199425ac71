package sandbox

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// DriftMode describes one named way in which the sandbox breaks the Confirm offer contract on
// purpose (Drift(Name)), so that the contract suite can prove it catches the breakage.
type DriftMode struct {
	// Name is the value to pass to Drift.
	Name string
	// Description says what changes, compared with the clean sandbox.
	Description string
	// DriftOnly is true when the contract suite can only report the change as drift (a behaviour
	// the vendor document does not pin down), not fail on it.
	DriftOnly bool
	// Detect names what catches the mode:
	//   "schema"   spec.ValidateResponse (status, Content-Type, body type, empty body);
	//   "format"   spec.ValidateResponse through a format assertion (date-time, email, uri);
	//   "check"    only the suite's own checks beyond the document (offer id echoed, 401
	//              without a valid token, no second booking for one offer);
	//   "strict"   only spec.ValidateResponse with spec.Strict (undocumented properties);
	//   "drift"    nothing can fail it; the suite reports the observed difference;
	//   "generate" only generated cases (contract --generate): fixed cases never trigger it;
	//   "race"     only the race check (simultaneous confirms of one offer released together).
	Detect string
	// Rule is the spec.Violation rule the drifted response produces, when Detect is "schema",
	// "format" or "strict" (exactly one rule per mode); "" otherwise.
	Rule string
}

// driftSet is a bit set of enabled drift modes: mode i of DriftModes is bit 1<<i.
type driftSet uint32

// The modes' bits, in DriftModes' (name) order.
const (
	drift401As403 driftSet = 1 << iota
	drift422As400
	driftAcceptWithoutToken
	driftBadDateTime
	driftBadEmail
	driftBadURI
	driftDataAsArray
	driftDuplicateBooking
	driftEmpty200
	driftHTML401
	driftInsuredRefused
	driftMessageAsNumber
	driftMissingContentType
	driftNonASCII500
	driftNull200
	driftOfferIDNotEchoed
	driftPoliciesAsObject
	driftPriceAsString
	driftRacyDoubleBook
	driftUndocumented500
	driftUndocumentedField
	driftWrongTypesBooked
)

func (d driftSet) has(bit driftSet) bool { return d&bit != 0 }

// DriftModes returns every drift mode the sandbox knows, sorted by name, in a fresh slice.
func DriftModes() []DriftMode {
	return []DriftMode{
		{"401-as-403", "a missing, malformed, expired or under-scoped token is answered 403 instead of the documented 401 (same JSON body); clients that refresh their token on 401 never do", false, "schema", "status-undocumented"},
		{"422-as-400", "an invalid request body is answered 400 instead of 422 (same validation-error body); neither status is documented", true, "drift", ""},
		{"accept-without-token", "confirm does not check the bearer token at all: no, malformed, expired or read-only tokens get a 200 booking (a security hole)", false, "check", ""},
		{"bad-date-time", `data.created_at is "2006-01-02 15:04:05" (space, no zone) instead of an RFC 3339 date-time`, false, "format", "format"},
		{"bad-email", "data.policyholder.email is not an e-mail address (the @ is replaced by \" at \")", false, "format", "format"},
		{"bad-uri", "data.coi.url is a relative reference without scheme and host instead of an absolute https URI", false, "format", "format"},
		{"data-as-array", `the 200 body is {"data":[{...}]}: data is an array holding the booking instead of the booking object`, false, "schema", "schema"},
		{"duplicate-booking", "a second confirm of an already confirmed offer is answered 200 with a new booking id instead of 422 (double booking)", false, "check", ""},
		{"empty-200", "the 200 response has Content-Type application/json but an empty body", false, "schema", "empty-body"},
		{"html-401", "the 401 response is a Cloudflare-style text/html page instead of application/json", false, "schema", "content-type"},
		{"insured-refused", "a valid confirm whose quote carries the optional insured array (even empty) is refused 422 \"The quotes.N.insured field is prohibited.\"", true, "generate", ""},
		{"message-as-number", `the 401 body is {"message":401}: message is a number instead of a string`, false, "schema", "schema"},
		{"missing-content-type", "the 200 response has no Content-Type header (and none is sniffed)", false, "schema", "content-type"},
		{"non-ascii-500", `a valid confirm with a non-ASCII character in any policyholder string is answered 500 {"message":"Server Error"} (a surname like "Łukasiewicz" crashes the booking)`, false, "generate", ""},
		{"null-200", "the 200 response body is the JSON literal null", false, "schema", "empty-body"},
		{"offer-id-not-echoed", "data.offer_id is a different UUID from the offer id in the path", false, "check", ""},
		{"policies-as-object", "data.policies is a single policy object instead of an array of policies", false, "schema", "schema"},
		{"price-as-string", `data.price is a JSON string ("24.95") instead of a number`, false, "schema", "schema"},
		{"racy-double-book", "confirm checks whether the offer is booked and books it " + raceWindow.String() + " later without holding a lock in between, so simultaneous confirms of one offer each book, with their own booking ids; a confirm sent after another was answered is still refused 422", false, "race", ""},
		{"undocumented-500", `every confirm request, valid or not, is answered 500 {"message":"Server Error"}`, false, "schema", "status-undocumented"},
		{"undocumented-field", "the booking has an extra property data.surprise_field that the document does not declare", true, "strict", "undocumented-field"},
		{"wrong-types-booked", "numbers and booleans where the document wants strings (quotes[].id, policyholder members) are coerced to strings and booked with 200 instead of being refused 422", false, "generate", ""},
	}
}

// coerceWrongTypes turns numbers and booleans in quotes[].id and in the policyholder's members into
// strings, in place (PHP-style coercion), so that wrong-types-booked books them.
func coerceWrongTypes(top map[string]any) {
	str := func(m map[string]any, k string) {
		switch t := m[k].(type) {
		case json.Number:
			m[k] = string(t) // 12345 -> "12345"
		case bool:
			m[k] = strconv.FormatBool(t)
		}
	}
	quotes, _ := top["quotes"].([]any)
	for _, q := range quotes {
		quote, _ := q.(map[string]any) // nil for a non-object: str reads it, writes nothing
		str(quote, "id")
	}
	holder, _ := top["policyholder"].(map[string]any)
	for k := range holder {
		str(holder, k)
	}
}

// optionalErrors appends the validation errors of the optional quote members (insured: an array of
// objects of strings; brightwrite_details: an object of strings; null counts as absent), and, under
// insured-refused, an error for every quote that carries insured at all.
func (s *Server) optionalErrors(top map[string]any, errs []fieldError) []fieldError {
	quotes, _ := top["quotes"].([]any)
	for i, q := range quotes {
		quote, _ := q.(map[string]any)
		f := "quotes." + strconv.Itoa(i)
		if ins := quote["insured"]; ins != nil {
			if s.cfg.drift.has(driftInsuredRefused) {
				errs = append(errs, fieldError{f + ".insured", "The " + f + ".insured field is prohibited."})
			}
			people, ok := ins.([]any)
			if !ok {
				errs = append(errs, fieldError{f + ".insured", "The " + f + ".insured field must be an array."})
			}
			for j, p := range people {
				errs = stringMembers(errs, f+".insured."+strconv.Itoa(j), p)
			}
		}
		errs = stringMembers(errs, f+".brightwrite_details", quote["brightwrite_details"])
	}
	return errs
}

// stringMembers checks that v is an object (or null) whose members are strings (or null), in key
// order.
func stringMembers(errs []fieldError, field string, v any) []fieldError {
	if v == nil {
		return errs
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return append(errs, fieldError{field, "The " + field + " field must be an object."})
	}
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		if _, ok := obj[k].(string); !ok && obj[k] != nil {
			f := field + "." + k
			errs = append(errs, fieldError{f, "The " + f + " field must be a string."})
		}
	}
	return errs
}

// serverErrorDrift reports whether non-ascii-500 turns this valid confirm into a server error: a
// policyholder string holds a non-ASCII character.
func (s *Server) serverErrorDrift(top map[string]any) bool {
	if !s.cfg.drift.has(driftNonASCII500) {
		return false
	}
	holder, _ := top["policyholder"].(map[string]any)
	for _, v := range holder {
		if str, ok := v.(string); ok && strings.IndexFunc(str, func(r rune) bool { return r >= utf8.RuneSelf }) >= 0 {
			return true
		}
	}
	return false
}
