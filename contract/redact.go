package contract

import (
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/xoneharness/xoneharness/internal/auth"
)

// sensitiveLeaf reports whether a violation path (JSON path or pointer)
// ends in a member whose value is personal or secret; the observed value of
// such a violation is never stored. The list matches what auth.Redactor.JSON
// redacts in bodies.
func sensitiveLeaf(path string) bool {
	i := strings.LastIndexAny(path, "./:")
	leaf := strings.ToLower(path[i+1:])
	leaf = strings.NewReplacer("_", "", "-", "", "'", "", "]", "", "[", "").Replace(leaf)
	switch leaf {
	case "securitytoken", "accesstoken", "refreshtoken", "idtoken", "token", "clientsecret", "secret",
		"password", "apikey", "authorization", "email", "emailaddress", "phone", "phonenumber", "mobile":
		return true
	}
	return false
}

// addPolicyholderSecrets makes red scrub the policyholder's email and phone
// wherever they appear (violation messages, non-JSON bodies).
func addPolicyholderSecrets(red *auth.Redactor, ph json.RawMessage) {
	var m map[string]any
	if json.Unmarshal(ph, &m) != nil {
		return
	}
	for _, k := range []string{"email", "phone"} {
		if s, ok := m[k].(string); ok && len(s) >= 4 {
			red.Add(s)
		}
	}
}

// addResponseSecrets makes red scrub the booking's security_token and the
// policyholder's email and phone as the target returned them.
func addResponseSecrets(red *auth.Redactor, body []byte) {
	var top struct {
		Data struct {
			SecurityToken any `json:"security_token"`
			Policyholder  any `json:"policyholder"`
		} `json:"data"`
	}
	if json.Unmarshal(body, &top) != nil {
		return
	}
	if s, ok := top.Data.SecurityToken.(string); ok && len(s) >= 4 {
		red.Add(s)
	}
	if ph, ok := top.Data.Policyholder.(map[string]any); ok {
		for _, k := range []string{"email", "phone"} {
			if s, ok := ph[k].(string); ok && len(s) >= 4 {
				red.Add(s)
			}
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
