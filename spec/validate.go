package spec

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pb33f/go-yaml"
	"github.com/pb33f/jsonschema/v6"
	"github.com/pb33f/jsonschema/v6/kind"
	verrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi-validator/helpers"
	"github.com/pb33f/libopenapi-validator/strict"
	"github.com/pb33f/libopenapi/datamodel/high/base"

	"github.com/xoneharness/xoneharness/internal/xone"
)

// Rule ids of a Violation. They are stable: reports, baselines and tests key on them.
const (
	RuleSchema             = "schema"              // response body does not match its schema
	RuleFormat             = "format"              // a format assertion failed (date-time, email, uri)
	RuleRequired           = "required"            // a required response property is missing
	RuleStatusUndocumented = "status-undocumented" // the operation does not document the status
	RuleContentType        = "content-type"        // response Content-Type wrong or missing
	RuleEmptyBody          = "empty-body"          // empty or null body on a documented JSON response
	RuleHeader             = "header"              // a response header does not match its schema
	RuleRequestBody        = "request-body"        // request content type, JSON or schema is wrong
	RuleRequestPath        = "request-path"        // request method, path or parameters do not match
	RuleUndocumentedField  = "undocumented-field"  // response property the schema does not document (Strict)
	RuleHeaderShape        = "header-shape"        // header value off the shape the real API sends (Strict)
)

// Response is a response as the caller already read it off the wire. ValidateResponse validates
// these bytes and never reads a network body; Header may be nil.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Violation is one finding against the contract, the project's one violation type: ValidateRequest
// and ValidateResponse return them, and callers that judge more report their own rules with it.
//
// Rule is a stable id (the Rule* constants, or the caller's own). Path is where: a JSON path into
// the body ("$.data.policies[0].price"; "$" for the whole body), "header:CF-RAY" for a header,
// "path" for the request line and "path:partner_id" for a path parameter. Keyword is the JSON
// Schema keyword that failed, "" when none did. Reason says what is wrong in one sentence.
// Expected and Observed are short; values of sensitive fields are xone.Redacted, also inside
// Reason. Status is the status of the response judged, 0 for a request.
type Violation struct {
	Rule     string `json:"rule"`
	Path     string `json:"path,omitempty"`
	Keyword  string `json:"keyword,omitempty"`
	Reason   string `json:"reason"`
	Expected string `json:"expected,omitempty"`
	Observed string `json:"observed,omitempty"`
	Status   int    `json:"status"`
}

// String renders a violation on one line, for logs and test failures.
func (v Violation) String() string {
	s := v.Rule + " " + v.Path
	if v.Keyword != "" {
		s += " [" + v.Keyword + "]"
	}
	s += ": " + v.Reason
	if v.Expected != "" || v.Observed != "" {
		s += " (expected " + v.Expected + ", observed " + v.Observed + ")"
	}
	return s
}

// redact hides the value of v's body property or header name, when its values never appear in a
// Violation: Observed, and value (when not "") inside Reason.
func redact(v *Violation, name, value string) {
	if xone.SensitiveKey(name) || xone.SensitiveHeader(name) {
		v.Observed = xone.Redacted
		if value != "" {
			v.Reason = strings.ReplaceAll(v.Reason, value, xone.Redacted)
		}
	}
}

// ValidateResponse validates a confirm response against the document: status, Content-Type,
// headers, body schema and formats (libopenapi-validator's findings), empty/null bodies, and the
// findings of Strict. req selects the operation and is neither read nor modified; nil means a POST
// to ConfirmPath. It returns nil when the response conforms, otherwise violations sorted by Path,
// Rule, Keyword, Reason. Safe for concurrent use.
func (s *Spec) ValidateResponse(req *http.Request, resp Response) []Violation {
	rq, h := s.requestView(req), resp.Header
	if h == nil {
		h = http.Header{}
	}
	_, errs := s.val.ValidateHttpResponse(rq, &http.Response{StatusCode: resp.Status, Header: h,
		Body: io.NopCloser(bytes.NewReader(resp.Body)), Request: rq})
	info := s.responseFor(resp.Status)
	if info == nil {
		info = &responseInfo{} // undocumented: no content, headers or schema
	}
	var out []Violation
	b := &bodyView{raw: resp.Body}
	for _, e := range errs {
		out = append(out, s.responseViolations(e, resp, info, b)...)
	}
	switch t := bytes.TrimSpace(resp.Body); {
	case info.json && (len(t) == 0 || string(t) == "null"):
		out = append(out, Violation{Rule: RuleEmptyBody, Path: "$",
			Reason:   fmt.Sprintf("the %d response documents a JSON body but the body is empty or null", resp.Status),
			Expected: "a JSON document matching the schema", Observed: cmp.Or(string(t), "empty body")})
	case s.strictOpts != nil && info.json && info.schema != nil:
		out = append(out, s.strictViolations(info, b)...)
	}
	if s.strictOpts != nil {
		out = append(out, headerShapeViolations(resp.Header, info)...)
	}
	for i := range out {
		out[i].Status = resp.Status
	}
	sortViolations(out)
	return out
}

// ValidateRequest validates a confirm request: method and path (with its parameters), Content-Type
// and the JSON body given as body (req.Body is ignored and not read). req is not modified; nil
// means a POST to ConfirmPath with Content-Type application/json. It returns nil when the request
// conforms, otherwise violations sorted by Path, Rule, Keyword, Reason. Safe for concurrent use.
func (s *Spec) ValidateRequest(req *http.Request, body []byte) []Violation {
	rq := s.requestView(req)
	if req == nil {
		rq.Header.Set("Content-Type", "application/json")
	} else if rq.Header = req.Header.Clone(); rq.Header == nil {
		rq.Header = http.Header{}
	}
	rq.Body = io.NopCloser(bytes.NewReader(body))
	rq.ContentLength = int64(len(body))
	_, errs := s.val.ValidateHttpRequestSync(rq)
	var out []Violation
	b := &bodyView{raw: body}
	for _, e := range errs {
		out = append(out, s.requestViolations(e, rq, b)...)
	}
	sortViolations(out)
	return out
}

// requestView returns a shallow request with its own URL, so the validator never touches req; nil
// gives a POST to the confirm path.
func (s *Spec) requestView(req *http.Request) *http.Request {
	if req == nil {
		p := strings.NewReplacer("{partner_id}", "partner", "{offer_id}", "offer").Replace(s.path)
		r, _ := http.NewRequest(http.MethodPost, p, nil) // a path-only URL always parses
		return r
	}
	u := &url.URL{}
	if req.URL != nil {
		*u = *req.URL
	}
	return &http.Request{Method: req.Method, URL: u, Header: req.Header, Host: req.Host, Proto: req.Proto,
		ProtoMajor: req.ProtoMajor, ProtoMinor: req.ProtoMinor}
}

func (s *Spec) responseViolations(e *verrors.ValidationError, resp Response, info *responseInfo, b *bodyView) []Violation {
	switch {
	case e.ValidationType == verrors.StrictValidationType:
		return nil // strict findings come from strictViolations
	case e.ValidationSubType == helpers.ResponseBodyResponseCode:
		return []Violation{{Rule: RuleStatusUndocumented, Path: "$",
			Reason:   fmt.Sprintf("status %d is not documented for POST %s", resp.Status, s.path),
			Expected: "one of " + strings.ReplaceAll(strings.Trim(fmt.Sprint(s.statuses), "[]"), " ", ", "), // 200, 401
			Observed: strconv.Itoa(resp.Status)}}
	case e.ValidationSubType == helpers.RequestBodyContentType:
		ct := resp.Header.Get("Content-Type")
		return []Violation{contentTypeViolation(RuleContentType, ct, strings.Join(info.content, ", "),
			fmt.Sprintf("Content-Type %q is not documented for status %d", ct, resp.Status),
			fmt.Sprintf("Content-Type is missing on a %d response that documents a body", resp.Status))}
	case e.ValidationType == helpers.PathValidation:
		return []Violation{{Rule: RuleRequestPath, Path: "path", Reason: e.Message,
			Expected: "POST " + s.path}}
	case e.ValidationSubType == "headers" || e.ValidationSubType == helpers.ParameterValidationHeader:
		return headerViolations(e, resp.Header, info)
	case e.ValidationSubType == helpers.Schema && len(e.SchemaValidationErrors) > 0:
		return bodyViolations(e, info.schema, b, func(keyword string) string {
			if keyword == RuleFormat || keyword == RuleRequired { // these rule ids are the keywords
				return keyword
			}
			return RuleSchema
		})
	default:
		return []Violation{{Rule: RuleSchema, Path: "$", Reason: cmp.Or(e.Reason, e.Message), Observed: bodySize(b.raw)}}
	}
}

func (s *Spec) requestViolations(e *verrors.ValidationError, rq *http.Request, b *bodyView) []Violation {
	switch {
	case e.ValidationType == helpers.PathValidation:
		return []Violation{{Rule: RuleRequestPath, Path: "path", Reason: e.Message,
			Expected: "POST " + s.path, Observed: shorten(rq.Method + " " + rq.URL.Path)}}
	case e.ValidationType == helpers.ParameterValidation:
		kw := ""
		if len(e.SchemaValidationErrors) > 0 {
			kw = lastSegment(e.SchemaValidationErrors[0].KeywordLocation)
		}
		return []Violation{{Rule: RuleRequestPath, Path: e.ValidationSubType + ":" + e.ParameterName, Keyword: kw,
			Reason: e.Reason}}
	case e.ValidationType == helpers.SecurityValidation:
		return []Violation{{Rule: RuleRequestPath, Path: "header:Authorization", Reason: e.Reason}}
	case e.ValidationSubType == helpers.RequestBodyContentType:
		ct := rq.Header.Get("Content-Type")
		return []Violation{contentTypeViolation(RuleRequestBody, ct, "application/json",
			fmt.Sprintf("request Content-Type %q is not documented", ct), "request Content-Type is missing")}
	case len(e.SchemaValidationErrors) > 0:
		return bodyViolations(e, s.request, b, func(string) string { return RuleRequestBody })
	default:
		return []Violation{{Rule: RuleRequestBody, Path: "$", Reason: cmp.Or(e.Reason, e.Message), Observed: bodySize(b.raw)}}
	}
}

// contentTypeViolation reports Content-Type ct as undocumented (reason), or as missing when empty.
func contentTypeViolation(rule, ct, expected, reason, missing string) Violation {
	v := Violation{Rule: rule, Path: "header:Content-Type", Reason: reason, Expected: expected, Observed: shorten(ct)}
	if ct == "" {
		v.Reason, v.Observed = missing, "(missing)"
	}
	return v
}

func bodySize(b []byte) string {
	if len(bytes.TrimSpace(b)) == 0 {
		return "empty body"
	}
	return strconv.Itoa(len(b)) + " bytes"
}

// bodyViolations maps the schema failures of one validator error to violations.
func bodyViolations(e *verrors.ValidationError, schema *base.Schema, b *bodyView, rule func(keyword string) string) []Violation {
	var out []Violation
	var units []jsonschema.OutputUnit // the flattened jsonschema error, read once for required failures
	for _, f := range e.SchemaValidationErrors {
		kw := lastSegment(f.KeywordLocation)
		base := cmp.Or(f.FieldPath, "$")
		if kw == "required" {
			if units == nil && f.OriginalJsonSchemaError != nil {
				units = helpers.FlattenSchemaOutputErrors(f.OriginalJsonSchemaError.DetailedOutput())
			}
			names := missingProperties(units, f)
			for _, name := range names {
				out = append(out, Violation{Rule: rule(kw), Path: joinPath(base, name), Keyword: kw,
					Reason: fmt.Sprintf("required property %q is missing", name), Expected: "present", Observed: "missing"})
			}
			if len(names) == 0 { // the library did not say which: still a finding, at the object
				out = append(out, Violation{Rule: rule(kw), Path: base, Keyword: kw, Reason: f.Reason,
					Expected: expectedAt(schema, f.KeywordLocation), Observed: "missing"})
			}
			continue
		}
		v := Violation{Rule: rule(kw), Path: base, Keyword: kw, Reason: f.Reason,
			Expected: expectedAt(schema, f.KeywordLocation)}
		if val, ok := b.at(f.InstancePath); ok {
			v.Observed = describe(val)
			if len(f.InstancePath) > 0 {
				str, _ := val.(string)
				redact(&v, f.InstancePath[len(f.InstancePath)-1], str)
			}
		}
		out = append(out, v)
	}
	return out
}

// missingProperties returns the properties a "required" failure reports missing, from the
// jsonschema error it came from (kind.Required), matched by keyword and instance location.
func missingProperties(units []jsonschema.OutputUnit, f *verrors.SchemaValidationFailure) []string {
	var names []string
	for _, u := range units {
		if u.Error == nil || u.KeywordLocation != f.KeywordLocation ||
			!slices.Equal(helpers.ConvertStringLocationToPathSegments(u.InstanceLocation), f.InstancePath) {
			continue
		}
		if req, ok := u.Error.Kind.(*kind.Required); ok {
			for _, n := range req.Missing {
				if !slices.Contains(names, n) {
					names = append(names, n)
				}
			}
		}
	}
	return names
}

func headerViolations(e *verrors.ValidationError, h http.Header, info *responseInfo) []Violation {
	name := e.ParameterName
	if name == "" && len(e.SchemaValidationErrors) > 0 {
		name = e.SchemaValidationErrors[0].FieldName
	}
	var schema *base.Schema
	if hi, ok := info.headers[strings.ToLower(name)]; ok {
		name, schema = hi.name, hi.schema
	}
	value := h.Get(name)
	if len(e.SchemaValidationErrors) == 0 {
		v := Violation{Rule: RuleHeader, Path: "header:" + name, Reason: e.Reason, Observed: shorten(value)}
		redact(&v, name, "")
		return []Violation{v}
	}
	var out []Violation
	for _, f := range e.SchemaValidationErrors {
		kw := lastSegment(f.KeywordLocation)
		v := Violation{Rule: RuleHeader, Path: "header:" + name, Keyword: kw, Reason: f.Reason, Observed: shorten(value)}
		redact(&v, name, value)
		if kw == "required" {
			v.Expected, v.Observed = "present", "missing"
		} else {
			v.Expected = expectedAt(schema, "/"+kw)
		}
		out = append(out, v)
	}
	return out
}

// headerShapeViolations (Strict) reports documented headers whose value is off the shape the real
// API sends (knownHeader): values the document accepts, but no real server sends.
func headerShapeViolations(h http.Header, info *responseInfo) []Violation {
	var out []Violation
	for key, values := range h {
		hi, documented := info.headers[strings.ToLower(key)]
		fact, known := knownHeader(hi.name)
		if !documented || !known || fact.pattern == nil {
			continue
		}
		for _, value := range values {
			if fact.pattern.MatchString(value) {
				continue
			}
			out = append(out, Violation{Rule: RuleHeaderShape, Path: "header:" + hi.name, Keyword: "pattern",
				Reason:   fmt.Sprintf("%s is not %s (e.g. %s), the shape the real API sends", hi.name, fact.shape, fact.example),
				Expected: fact.pattern.String(), Observed: shorten(value)})
		}
	}
	return out
}

// strictViolations reports body properties the schema does not document (Strict).
func (s *Spec) strictViolations(info *responseInfo, b *bodyView) []Violation {
	var data any
	if err := json.Unmarshal(b.raw, &data); err != nil {
		return nil // the schema check already reported the undecodable body
	}
	sv := strict.NewValidator(s.strictOpts, s.version)
	res := sv.Validate(strict.Input{Schema: info.schema, Data: data, Direction: strict.DirectionResponse,
		Options: s.strictOpts, BasePath: "$", Version: s.version})
	if res == nil || res.Valid {
		return nil
	}
	out := make([]Violation, 0, len(res.UndeclaredValues))
	for _, u := range res.UndeclaredValues {
		if s.untyped[[2]int{u.SpecLine, u.SpecCol}] {
			continue // a false positive: the schema there documents any value
		}
		v := Violation{Rule: RuleUndocumentedField, Path: u.Path, Keyword: "additionalProperties",
			Reason:   fmt.Sprintf("property %q is not documented by the schema", u.Name),
			Expected: "one of " + shortList(u.DeclaredProperties), Observed: describe(u.Value)}
		redact(&v, u.Name, "")
		out = append(out, v)
	}
	return out
}

// bodyView decodes a body at most once, and only when a violation needs an observed value.
type bodyView struct {
	raw     []byte
	decoded bool
	ok      bool
	value   any
}

func (b *bodyView) at(segments []string) (any, bool) {
	if !b.decoded {
		b.decoded = true
		d := json.NewDecoder(bytes.NewReader(b.raw))
		d.UseNumber()
		b.ok = d.Decode(&b.value) == nil
	}
	if !b.ok {
		return nil, false
	}
	v := b.value
	for _, seg := range segments {
		switch t := v.(type) {
		case map[string]any:
			next, ok := t[seg]
			if !ok {
				return nil, false
			}
			v = next
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(t) {
				return nil, false
			}
			v = t[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// describe renders a value briefly: scalars as JSON (shortened), containers by kind.
func describe(v any) string {
	switch t := v.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(shorten(t))
	case map[string]any:
		return fmt.Sprintf("object (%d keys)", len(t))
	case []any:
		return fmt.Sprintf("array (%d items)", len(t))
	default:
		return shorten(fmt.Sprint(t))
	}
}

// shorten cuts s to at most 48 bytes, for Violation fields.
func shorten(s string) string { return truncate(s, 48) }

// truncate cuts s to at most max bytes on a rune boundary, ending in "..." when cut.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max - 3
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

func shortList(names []string) string {
	switch sorted := slices.Sorted(slices.Values(names)); {
	case len(sorted) == 0:
		return "(none)"
	case len(sorted) > 8:
		return strings.Join(sorted[:8], ", ") + fmt.Sprintf(", ... (%d)", len(sorted))
	default:
		return strings.Join(sorted, ", ")
	}
}

// expectedAt renders the value of the keyword at keywordLocation in the schema as written (the
// expected type, format or pattern; a list joined by "|"), "" when it cannot be resolved.
func expectedAt(schema *base.Schema, keywordLocation string) string {
	if schema == nil || schema.GoLow() == nil || keywordLocation == "" {
		return ""
	}
	n := schema.GoLow().RootNode
	for _, seg := range strings.Split(strings.TrimPrefix(keywordLocation, "/"), "/") {
		seg = strings.ReplaceAll(strings.ReplaceAll(seg, "~1", "/"), "~0", "~")
		if n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
			n = n.Alias
		}
		switch i, err := strconv.Atoi(seg); {
		case n == nil:
			return ""
		case n.Kind == yaml.SequenceNode && err == nil && i >= 0 && i < len(n.Content):
			n = n.Content[i]
		default:
			n = mapGet(n, seg)
		}
	}
	switch {
	case n == nil:
	case n.Kind == yaml.ScalarNode:
		return n.Value
	case n.Kind == yaml.SequenceNode:
		return strings.Join(contentValues(n), "|")
	}
	return ""
}

func lastSegment(p string) string { return p[strings.LastIndexByte(p, '/')+1:] }

// isPlainName reports the names a JSON path writes after a dot (no regexp: coverage calls it often).
func isPlainName(name string) bool {
	for i, c := range name {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return name != ""
}

func joinPath(base, name string) string {
	if isPlainName(name) {
		return base + "." + name
	}
	return base + "['" + strings.ReplaceAll(name, "'", `\'`) + "']"
}

func sortViolations(vs []Violation) {
	slices.SortStableFunc(vs, func(a, b Violation) int {
		return cmp.Or(strings.Compare(a.Path, b.Path), strings.Compare(a.Rule, b.Rule),
			strings.Compare(a.Keyword, b.Keyword), strings.Compare(a.Reason, b.Reason),
			strings.Compare(a.Expected, b.Expected), strings.Compare(a.Observed, b.Observed))
	})
}
