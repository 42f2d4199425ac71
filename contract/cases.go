package contract

import (
	"encoding/json"
	"fmt"

	"github.com/xoneharness/xoneharness/spec"
)

// Names of the cases, in suite order (see doc.go).
const (
	CaseConfirmOK           = "confirm-ok"
	CaseNoToken             = "no-token"
	CaseMalformedToken      = "malformed-token"
	CaseExpiredToken        = "expired-token"
	CaseWrongScopeToken     = "wrong-scope-token"
	CaseMissingQuotes       = "missing-quotes"
	CaseMissingPolicyholder = "missing-policyholder"
	CaseEmptyQuotes         = "empty-quotes"
	CaseQuoteWithoutID      = "quote-without-id"
	CaseMalformedJSON       = "malformed-json"
	CaseWrongContentType    = "wrong-content-type"
	CaseDoubleConfirm       = "double-confirm"
	CaseConcurrentConfirm   = "concurrent-confirm"
)

type kind int

const (
	kindConfirm  kind = iota // confirm-ok: the happy path
	kindAuth                 // must get exactly 401
	kindNegative             // invalid request with a valid token: must be rejected with a 4xx
	kindDouble               // second confirm of the confirm-ok offer
	kindRace                 // simultaneous confirms of one offer: must book it once
)

type credential int

const (
	credWrite credential = iota
	credNone
	credMalformed
	credExpired
	credReadOnly
)

const malformedToken = "not-a-token" // malformed-token's bearer token

// caseDef describes one case: how to build its request and judge the answer.
type caseDef struct {
	name        string
	kind        kind
	cred        credential
	body        func(quoteID string, policyholder json.RawMessage) []byte
	contentType string
	// invalidFor checks, for negative cases, that the spec rejects the
	// request for the intended reason; it returns "" when it does.
	invalidFor func(vs []spec.Violation) string
	// knownStatuses are the undocumented statuses the real API is known to
	// send for this case; another undocumented 4xx adds RuleStatusUnexpected.
	knownStatuses []int
}

// suite returns the case definitions in order (a function, so the package
// has no mutable state).
func suite() []caseDef {
	valid := confirmBody
	fixed := func(name string, k kind, c credential, known ...int) caseDef {
		return caseDef{name: name, kind: k, cred: c, body: valid, contentType: "application/json", knownStatuses: known}
	}
	neg := func(name string, body func(string, json.RawMessage) []byte, ct string,
		invalidFor func([]spec.Violation) string, known ...int) caseDef {
		return caseDef{name: name, kind: kindNegative, cred: credWrite, body: body, contentType: ct,
			invalidFor: invalidFor, knownStatuses: known}
	}
	return []caseDef{
		fixed(CaseConfirmOK, kindConfirm, credWrite),
		fixed(CaseNoToken, kindAuth, credNone),
		fixed(CaseMalformedToken, kindAuth, credMalformed),
		fixed(CaseExpiredToken, kindAuth, credExpired),
		fixed(CaseWrongScopeToken, kindAuth, credReadOnly),
		neg(CaseMissingQuotes, func(_ string, ph json.RawMessage) []byte {
			return mustJSON(body{Policyholder: ph})
		}, "application/json", invalidAt("$.quotes", "required"), 422),
		neg(CaseMissingPolicyholder, func(q string, _ json.RawMessage) []byte {
			return mustJSON(body{Quotes: &[]quote{{ID: &q}}})
		}, "application/json", invalidAt("$.policyholder", "required"), 422),
		neg(CaseEmptyQuotes, func(_ string, ph json.RawMessage) []byte {
			return mustJSON(body{Quotes: &[]quote{}, Policyholder: ph})
		}, "application/json", validOrInvalidAt("$.quotes", "minItems"), 422),
		neg(CaseQuoteWithoutID, func(_ string, ph json.RawMessage) []byte {
			return mustJSON(body{Quotes: &[]quote{{}}, Policyholder: ph})
		}, "application/json", invalidAt("$.quotes[0].id", "required"), 422),
		neg(CaseMalformedJSON, func(q string, ph json.RawMessage) []byte {
			b := confirmBody(q, ph)
			return b[:len(b)-1] // drop the closing brace
		}, "application/json", invalidAt("$", ""), 400, 422),
		neg(CaseWrongContentType, valid, "text/plain", invalidAt("header:Content-Type", ""), 415, 422, 400),
		fixed(CaseDoubleConfirm, kindDouble, credWrite, 422, 409),
		fixed(CaseConcurrentConfirm, kindRace, credWrite, 422, 409),
	}
}

func lookup(name string) (caseDef, bool) {
	for _, d := range suite() {
		if d.name == name {
			return d, true
		}
	}
	return caseDef{}, false
}

// body is a confirm request body; nil members are left out (negative cases).
type body struct {
	Quotes       *[]quote        `json:"quotes,omitempty"`
	Policyholder json.RawMessage `json:"policyholder,omitempty"`
}

type quote struct {
	ID *string `json:"id,omitempty"`
}

func confirmBody(quoteID string, policyholder json.RawMessage) []byte {
	return mustJSON(body{Quotes: &[]quote{{ID: &quoteID}}, Policyholder: policyholder})
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil { // only strings and valid JSON (checked by Config.check) reach here
		panic("contract: marshal request body: " + err.Error())
	}
	return b
}

// invalidAt returns a check that the spec rejects a request at path (a JSON
// path, or "header:Content-Type"), for keyword unless it is "", and nowhere else.
func invalidAt(path, keyword string) func([]spec.Violation) string {
	return func(vs []spec.Violation) string {
		if len(vs) == 0 {
			return "the request validates; want a violation at " + path
		}
		for _, v := range vs {
			if v.Rule != spec.RuleRequestBody || v.Path != path || (keyword != "" && v.Keyword != keyword) {
				return fmt.Sprintf("unintended violation %s %s [%s]: %s; want only %s at %s",
					v.Rule, v.Path, v.Keyword, v.Reason, keyword, path)
			}
		}
		return ""
	}
}

// validOrInvalidAt is invalidAt that also accepts a valid request: the vendor
// document sets no minItems on quotes, so an empty quotes array validates
// although it cannot book anything.
func validOrInvalidAt(path, keyword string) func([]spec.Violation) string {
	at := invalidAt(path, keyword)
	return func(vs []spec.Violation) string {
		if len(vs) == 0 {
			return ""
		}
		return at(vs)
	}
}
