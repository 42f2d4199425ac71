package contract

import (
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/xoneharness/xoneharness/internal/auth"
	"github.com/xoneharness/xoneharness/internal/xone"
)

// sensitiveLeaf reports whether a violation path (JSON path, bracket
// notation or pointer) ends in a personal or secret member, whose observed
// value is never stored.
func sensitiveLeaf(path string) bool {
	leaf := path[strings.LastIndexAny(path, "./:[")+1:]
	return xone.SensitiveKey(strings.Trim(leaf, `'"]`))
}

// addSecrets makes red scrub, wherever they appear (violation messages,
// non-JSON bodies), the sensitive values of a JSON body at any depth: the
// policyholder's email and phone, the booking's security_token, any token.
// Values shorter than 4 characters are left to the member redaction.
func addSecrets(red *auth.Redactor, body []byte) {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return
	}
	eachString(v, func(_ map[string]any, k, s string) {
		if xone.SensitiveKey(k) && utf8.RuneCountInString(s) >= 4 {
			red.Add(s)
		}
	})
}

// eachString calls f with every member of a JSON object in v, at any depth,
// whose value is a string; f may replace that value.
func eachString(v any, f func(obj map[string]any, key, s string)) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok {
				f(v, k, s)
			} else {
				eachString(x, f)
			}
		}
	case []any:
		for _, x := range v {
			eachString(x, f)
		}
	}
}

// redactExchange returns the stored, redacted form of x, its bodies cut at MaxExchangeBody.
func redactExchange(red *auth.Redactor, x rawExchange) *Exchange {
	req, resp := string(red.JSON(x.reqBody)), string(red.JSON(x.respBody))
	return &Exchange{Method: x.method, URL: red.String(x.url), Status: x.status, Duration: x.duration,
		RequestHeader: red.Header(x.reqHeader), ResponseHeader: red.Header(x.respHeader),
		RequestBody: cut(req, MaxExchangeBody, ""), RequestBodyTruncated: len(req) > MaxExchangeBody,
		ResponseBody: cut(resp, MaxExchangeBody, ""), ResponseBodyTruncated: len(resp) > MaxExchangeBody}
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
		v.Observed, v.Reason = red.String(v.Observed), red.String(v.Reason)
	}
}
