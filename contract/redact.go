package contract

import (
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/xoneharness/xoneharness/internal/auth"
	"github.com/xoneharness/xoneharness/internal/xone"
)

// sensitiveLeaf reports whether a violation path (JSON path, bracket
// notation or pointer) ends in a member whose value is personal or secret
// (xone.SensitiveKey); the observed value of such a violation is never
// stored.
func sensitiveLeaf(path string) bool {
	leaf := path[strings.LastIndexAny(path, "./:[")+1:]
	return xone.SensitiveKey(strings.Trim(leaf, `'"]`))
}

// minContactLen is the shortest contact detail or token value added to the
// redactor as a literal; shorter ones are left to the member redaction.
const minContactLen = 4

// addPolicyholderSecrets makes red scrub the policyholder's sensitive
// values (email, phone, …) wherever they appear (violation messages,
// non-JSON bodies).
func addPolicyholderSecrets(red *auth.Redactor, ph json.RawMessage) {
	var v any
	if json.Unmarshal(ph, &v) != nil {
		return
	}
	addSensitiveValues(red, v)
}

// addResponseSecrets makes red scrub the sensitive values the target
// returned (the booking's security_token, the policyholder's email and
// phone, any token), at any depth.
func addResponseSecrets(red *auth.Redactor, body []byte) {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return
	}
	addSensitiveValues(red, v)
}

// addSensitiveValues adds every string value of a member xone.SensitiveKey
// names, at any depth of v, to red.
func addSensitiveValues(red *auth.Redactor, v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && xone.SensitiveKey(k) {
				if utf8.RuneCountInString(s) >= minContactLen {
					red.Add(s)
				}
				continue
			}
			addSensitiveValues(red, x)
		}
	case []any:
		for _, x := range v {
			addSensitiveValues(red, x)
		}
	}
}

// redactExchange returns the stored, redacted form of x.
func redactExchange(red *auth.Redactor, x rawExchange) *Exchange {
	e := &Exchange{
		Method:         x.method,
		URL:            red.String(x.url),
		RequestHeader:  red.Header(x.reqHeader),
		Status:         x.status,
		ResponseHeader: red.Header(x.respHeader),
		Duration:       x.duration,
	}
	e.RequestBody, e.RequestBodyTruncated = truncateBody(string(red.JSON(x.reqBody)))
	e.ResponseBody, e.ResponseBodyTruncated = truncateBody(string(red.JSON(x.respBody)))
	return e
}

// scrubResult redacts the text of a case's reason and violations.
func scrubResult(red *auth.Redactor, cr *CaseResult) {
	cr.Reason = red.String(cr.Reason)
	for i := range cr.Violations {
		v := &cr.Violations[i]
		if sensitiveLeaf(v.Path) && v.Observed != "" {
			v.Observed = auth.Redacted
		}
		v.Path, v.Expected = red.String(v.Path), red.String(v.Expected)
		v.Observed, v.Message = red.String(v.Observed), red.String(v.Message)
	}
}

// truncateBody cuts s to MaxExchangeBody bytes on a UTF-8 boundary.
func truncateBody(s string) (string, bool) {
	if len(s) <= MaxExchangeBody {
		return s, false
	}
	n := MaxExchangeBody
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n], true
}
