package spec

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/pb33f/go-yaml"
	"github.com/pb33f/jsonpath/pkg/jsonpath"
	jpconfig "github.com/pb33f/jsonpath/pkg/jsonpath/config"
	highoverlay "github.com/pb33f/libopenapi/datamodel/high/overlay"
)

// Defect rule ids reported by Lint.
const (
	DefectUndeclaredPathParameter = "undeclared-path-parameter" // {name} in a path with no `in: path` parameter
	DefectHeaderTypeMismatch      = "header-type-mismatch"      // header typed number/integer, real values are not
	DefectUnknownFormat           = "unknown-format"            // format outside the OpenAPI/JSON Schema registry
)

// Defect is one defect Lint found in a vendor document, and how the embedded overlay handles it.
type Defect struct {
	Rule     string `json:"rule"`     // DefectUndeclaredPathParameter, DefectHeaderTypeMismatch, DefectUnknownFormat
	Pointer  string `json:"pointer"`  // RFC 6901 JSON pointer into the document ("~1" for "/")
	Found    string `json:"found"`    // what the document says
	Reason   string `json:"reason"`   // why it is a defect (real values etc.)
	Handling string `json:"handling"` // the overlay action that fixes it, or "not handled"
	// Effect says how the fix changes what the document accepts: "widens: ..." for a fix that
	// rejects nothing the document accepted (a fix that narrows is not Handled); "" when not handled.
	Effect  string `json:"effect,omitempty"`
	Handled bool   `json:"handled"` // the overlay fixes it and the corrected document no longer has it
}

// defect is a Defect with what Lint needs to match it to an overlay action.
type defect struct {
	Defect
	subject string       // parameter name, header name or format value: identity within Pointer
	anchors []*yaml.Node // nodes an action may target to fix it
	fixes   func(a *highoverlay.Action) bool
}

func (d *defect) key() string { return d.Rule + "\x00" + d.Pointer + "\x00" + d.subject }

// Lint finds the defects of an OpenAPI 3 document (JSON or YAML, read as Load reads it): path
// template variables without a declared path parameter, response headers typed integer/number
// whose real values are not numbers (CF-RAY, X-XSS-Protection, Cf-Team and other well-known
// headers), and `format` values outside the OpenAPI format registry and JSON Schema. A defect is
// Handled when the overlay (the embedded one or WithOverlay's; of the other options only Context
// counts) removes it, and names the action that targets it. Defects are sorted by Pointer, Rule;
// empty means a clean document. Errors wrap ErrUnreadable, ErrDocument or a *LimitError.
func Lint(doc []byte, opts ...Option) ([]Defect, error) {
	o := newOptions(opts)
	return interruptible(o.ctx, "lint", func() ([]Defect, error) {
		c, err := read(doc, o.overlay, false)
		if err != nil {
			return nil, err
		}
		return c.defects(), nil
	})
}

// Unhandled counts the defects the overlay does not handle (Handled false): spec lint's findings.
func Unhandled(defects []Defect) (n int) {
	for _, d := range defects {
		if !d.Handled {
			n++
		}
	}
	return n
}

// defects lints the document as given and says how the overlay handles each defect.
func (c *corrected) defects() []Defect {
	found := detectDefects(c.given)
	out := make([]Defect, 0, len(found))
	remaining := map[string]bool{}
	if c.notApplied == nil && len(found) > 0 {
		for _, df := range detectDefects(c.doc.GetSpecInfo().RootNode) {
			remaining[df.key()] = true
		}
	}
	for _, df := range found {
		act := matchAction(c.overlay, c.given, df)
		switch {
		case c.notApplied != nil:
			df.Handling = "not handled: overlay does not apply: " + c.notApplied.Error()
		case remaining[df.key()] && act != nil:
			df.Handling = "not handled: " + describeAction(c.overlay, act) + " targets it but the defect remains"
		case remaining[df.key()]:
			df.Handling = "not handled"
		case act == nil:
			df.Handled, df.Handling = true, "fixed by the overlay (no single action targets it)"
		default:
			if effect, widens := actionEffect(act, df); widens {
				df.Handled, df.Handling, df.Effect = true, describeAction(c.overlay, act), effect
			} else {
				df.Handling = "not handled: " + describeAction(c.overlay, act) + " " + effect
			}
		}
		out = append(out, df.Defect)
	}
	return out
}

func describeAction(ov *highoverlay.Overlay, a *highoverlay.Action) string {
	verb := "update"
	switch {
	case a.Remove:
		verb = "remove"
	case a.Copy != "":
		verb = "copy"
	}
	s := fmt.Sprintf("overlay action %d (%s %s)", slices.Index(ov.Actions, a)+1, verb, a.Target)
	desc := strings.Join(strings.Fields(a.Description), " ")
	if i := strings.Index(desc, ": "); i > 0 && i < 120 {
		desc = desc[:i]
	}
	if desc != "" {
		s += ": " + desc
	}
	return s
}

// isAssertionKeyword reports the schema keywords that restrict the values a schema accepts.
func isAssertionKeyword(k string) bool {
	switch k {
	case "type", "format", "pattern", "enum", "const", "required", "minimum", "maximum", "exclusiveMinimum",
		"exclusiveMaximum", "multipleOf", "minLength", "maxLength", "minItems", "maxItems", "uniqueItems",
		"minProperties", "maxProperties", "additionalProperties", "properties", "items", "not", "allOf",
		"anyOf", "oneOf", "contentEncoding", "contentMediaType", "dependentRequired":
		return true
	}
	return false
}

// actionEffect says how an overlay action that fixes d changes what the document accepts, and
// whether that widens it: removing an assertion keyword, or declaring the path parameters a path
// template uses. Any other change may reject values the vendor document accepts.
func actionEffect(a *highoverlay.Action, d *defect) (effect string, widens bool) {
	switch kw := lastTargetKey(a.Target); {
	case a.Remove && !isAssertionKeyword(kw):
		return fmt.Sprintf("removes %s, which may reject what the document accepts", a.Target), false
	case a.Remove && d.Rule == DefectUnknownFormat:
		return fmt.Sprintf("widens: drops format %q, which asserted nothing", d.subject), true
	case a.Remove && d.Rule == DefectHeaderTypeMismatch:
		return fmt.Sprintf("widens: drops the type of header %s, which then accepts both the number the "+
			"document allows and the string the API sends", d.subject), true
	case a.Remove:
		return fmt.Sprintf("widens: drops %q", kw), true
	case a.Update == nil:
		return "changes nothing", false
	}
	if k := narrowingKey(a.Update); k != "" {
		return fmt.Sprintf("adds %q, which may reject what the document accepts", k), false
	}
	if d.Rule == DefectUndeclaredPathParameter {
		return fmt.Sprintf("widens: declares path parameter {%s}, without which no request matches the path", d.subject), true
	}
	return "widens: adds no assertion", true
}

// narrowingKey returns an assertion keyword an update adds outside parameter declarations, or "".
func narrowingKey(n *yaml.Node) string {
	n = unwrap(n)
	if n == nil {
		return ""
	}
	for i, c := range n.Content {
		if n.Kind == yaml.MappingNode {
			if i%2 == 0 {
				continue
			}
			switch k := n.Content[i-1].Value; {
			case k == "parameters" || k == "description" || k == "summary" || k == "example" ||
				k == "examples" || strings.HasPrefix(k, "x-"):
				continue
			case isAssertionKeyword(k):
				return k
			}
		}
		if nk := narrowingKey(c); nk != "" {
			return nk
		}
	}
	return ""
}

// unwrap returns the content of a document node, n itself otherwise.
func unwrap(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		return n.Content[0]
	}
	return n
}

// lastTargetKey returns the last member name of a JSONPath target ("format" for "$.a['b'].format"),
// "" when it ends otherwise.
func lastTargetKey(target string) string {
	t := strings.TrimSpace(target)
	if strings.HasSuffix(t, "']") || strings.HasSuffix(t, `"]`) {
		i := strings.LastIndexByte(t[:len(t)-2], t[len(t)-2])
		if i < 1 || t[i-1] != '[' {
			return ""
		}
		return t[i+1 : len(t)-2]
	}
	i := strings.LastIndexByte(t, '.')
	if i < 0 || strings.ContainsAny(t[i+1:], "[]*()?@") {
		return ""
	}
	return t[i+1:]
}

// matchAction returns the first overlay action whose target selects one of the defect's anchor
// nodes (queried as libopenapi's overlay engine does) and whose change addresses the defect.
func matchAction(ov *highoverlay.Overlay, root *yaml.Node, d *defect) *highoverlay.Action {
	if ov == nil {
		return nil
	}
	for _, a := range ov.Actions {
		if a == nil || a.Target == "" {
			continue
		}
		p, err := jsonpath.NewPath(a.Target, jpconfig.WithPropertyNameExtension(), jpconfig.WithLazyContextTracking())
		if err != nil {
			continue
		}
		for _, n := range p.Query(root) {
			if slices.Contains(d.anchors, n) && (d.fixes == nil || d.fixes(a)) {
				return a
			}
		}
	}
	return nil
}

func detectDefects(root *yaml.Node) []*defect {
	top := unwrap(root)
	out := slices.Concat(detectPathParams(top), detectHeaderTypes(top), detectFormats(top))
	slices.SortStableFunc(out, func(a, b *defect) int {
		return cmp.Or(strings.Compare(a.Pointer, b.Pointer), strings.Compare(a.Rule, b.Rule),
			strings.Compare(a.subject, b.subject))
	})
	return out
}

// httpMethods are the operation keys of a path item.
func httpMethods() []string {
	return []string{"get", "put", "post", "delete", "options", "head", "patch", "trace", "query"}
}

func detectPathParams(top *yaml.Node) []*defect {
	var out []*defect
	eachPair(mapGet(top, "paths"), func(tmpl string, item *yaml.Node) {
		if item.Kind != yaml.MappingNode {
			return
		}
		itemDeclared := declaredPathParams(top, mapGet(item, "parameters"))
		var methods []string
		var ops []*yaml.Node
		for _, m := range httpMethods() {
			if op := mapGet(item, m); op != nil && op.Kind == yaml.MappingNode {
				methods, ops = append(methods, m), append(ops, op)
			}
		}
		for _, name := range templateVars(tmpl) {
			var missing []string
			for k, op := range ops {
				if !itemDeclared[name] && !declaredPathParams(top, mapGet(op, "parameters"))[name] {
					missing = append(missing, methods[k])
				}
			}
			if len(missing) == 0 && (len(ops) > 0 || itemDeclared[name]) {
				continue
			}
			where := cmp.Or(strings.Join(missing, ", "), "the path item")
			note := map[string]string{
				"offer_id":   " (real offer ids are UUIDs such as 3f6c2a9e-8b1d-4c7a-9e2f-5d4b3a2c1e0f)",
				"partner_id": " (the partner id Cover Genius issues, an opaque string)",
			}[name]
			out = append(out, &defect{
				Defect: Defect{Rule: DefectUndeclaredPathParameter, Pointer: pointer("paths", tmpl),
					Found: fmt.Sprintf("path %s uses {%s} but declares no `in: path` parameter %q (%s)",
						tmpl, name, name, where),
					Reason: "OpenAPI requires every path template variable to be declared as a required path " +
						"parameter; without it validators and generators cannot match, type or check the " +
						"segment" + note},
				subject: name,
				anchors: append([]*yaml.Node{item}, ops...),
				fixes:   func(a *highoverlay.Action) bool { return !a.Remove && updateDeclaresParam(a.Update, name) },
			})
		}
	})
	return out
}

// eachPair calls f with each key and value of a mapping node; nothing for another node.
func eachPair(n *yaml.Node, f func(key string, v *yaml.Node)) {
	for i := 0; n != nil && n.Kind == yaml.MappingNode && i+1 < len(n.Content); i += 2 {
		f(n.Content[i].Value, n.Content[i+1])
	}
}

// templateVarRE matches the {name} variables of a path template.
var templateVarRE = regexp.MustCompile(`\{([^}]+)\}`)

// templateVars returns the {name} variables of a path template, in order.
func templateVars(tmpl string) []string {
	var out []string
	for _, m := range templateVarRE.FindAllStringSubmatch(tmpl, -1) {
		out = append(out, m[1])
	}
	return out
}

// declaredPathParams returns the names of `in: path` parameters in a list, following local $refs.
func declaredPathParams(top, params *yaml.Node) map[string]bool {
	out := map[string]bool{}
	for _, p := range seqContent(params) {
		if p = resolveRef(top, p); p == nil || p.Kind != yaml.MappingNode {
			continue
		}
		if in, name := mapGet(p, "in"), mapGet(p, "name"); in != nil && name != nil && in.Value == "path" {
			out[name.Value] = true
		}
	}
	return out
}

// seqContent returns the items of a sequence node, nil for another node.
func seqContent(n *yaml.Node) []*yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}

func updateDeclaresParam(update *yaml.Node, name string) bool {
	update = unwrap(update)
	if update == nil {
		return false
	}
	params := mapGet(update, "parameters")
	switch {
	case params != nil:
	case update.Kind == yaml.SequenceNode: // targeting a parameters list directly
		params = update
	case update.Kind == yaml.MappingNode: // appending one parameter object
		params = &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{update}}
	}
	return declaredPathParams(nil, params)[name]
}

// headerFact is what is known of the values a real XONE response sends in one header.
type headerFact struct {
	name    string         // lower case
	example string         // a real value
	shape   string         // the values in words
	pattern *regexp.Regexp // the exact shape, checked by Strict; nil when not pinned down
}

// Patterns of the Cloudflare headers whose real values the vendor document types integer.
var (
	cfRayPattern  = regexp.MustCompile(`^[0-9a-f]{16}-[A-Z]{3}$`)
	xssPattern    = regexp.MustCompile(`^(0|1|1; ?mode=block)$`)
	cfTeamPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)
)

// knownHeader describes headers whose real values are known; ok is false for others.
func knownHeader(name string) (fact headerFact, ok bool) {
	name = strings.ToLower(name)
	for _, f := range [...]headerFact{
		{"cf-ray", "8a1b2c3d4e5f6789-SYD", "16 hex digits, '-' and the Cloudflare data-centre code", cfRayPattern},
		{"x-xss-protection", "1; mode=block", `0, 1 or "1; mode=block"`, xssPattern},
		{"cf-team", "2b5f9c7e4a1d4c3e8f6a0b1c2d3e4f5a", "32 hex digits", cfTeamPattern},
		{"cf-cache-status", "DYNAMIC", "a cache status word (HIT, MISS, DYNAMIC...)", nil},
		{"server", "cloudflare", "a product name", nil},
		{"date", "Fri, 27 Nov 2026 02:14:09 GMT", "an HTTP date", nil},
		{"server-timing", `cfL4;desc="?proto=TCP&rtt=1234"`, "a list of metrics", nil},
		{"strict-transport-security", "max-age=31536000; includeSubDomains", "directives", nil},
		{"x-content-type-options", "nosniff", "the word nosniff", nil},
		{"cache-control", "no-cache, private", "directives", nil},
		{"vary", "Authorization", "header names", nil},
		{"connection", "keep-alive", "a connection option", nil},
		{"transfer-encoding", "chunked", "a coding name", nil},
		{"content-type", "application/json", "a media type", nil},
	} {
		if f.name == name {
			return f, true
		}
	}
	return headerFact{}, false
}

func detectHeaderTypes(top *yaml.Node) []*defect {
	var out []*defect
	check := func(ptr string, headers *yaml.Node) {
		eachPair(headers, func(name string, h *yaml.Node) {
			sc := mapGet(h, "schema")
			typ := mapGet(sc, "type")
			fact, ok := knownHeader(name)
			// A $ref'd header is checked under components; a $ref'd schema is not inspected.
			if mapGet(h, "$ref") != nil || mapGet(sc, "$ref") != nil || typ == nil || !ok {
				return
			}
			typName, numeric := numericType(typ)
			if !numeric {
				return
			}
			out = append(out, &defect{
				Defect: Defect{Rule: DefectHeaderTypeMismatch, Pointer: ptr + pointer(name, "schema", "type"),
					Found: fmt.Sprintf("header %s typed %s", name, typName),
					Reason: fmt.Sprintf("real %s values are %s (e.g. %s), not numbers: a real response fails "+
						"validation on this header", name, fact.shape, fact.example)},
				subject: name,
				anchors: []*yaml.Node{h, sc, typ},
			})
		})
	}
	responsesOf := func(ptr string, responses *yaml.Node) {
		eachPair(responses, func(code string, r *yaml.Node) { check(ptr+pointer(code, "headers"), mapGet(r, "headers")) })
	}
	eachPair(mapGet(top, "paths"), func(tmpl string, item *yaml.Node) {
		for _, m := range httpMethods() {
			if op := mapGet(item, m); op != nil {
				responsesOf(pointer("paths", tmpl, m, "responses"), mapGet(op, "responses"))
			}
		}
	})
	comps := mapGet(top, "components")
	responsesOf(pointer("components", "responses"), mapGet(comps, "responses"))
	check(pointer("components", "headers"), mapGet(comps, "headers"))
	return out
}

// numericType renders a schema type (a name or a list) and reports whether it admits numbers and
// not strings.
func numericType(t *yaml.Node) (string, bool) {
	names, s := []string{t.Value}, t.Value
	if t.Kind == yaml.SequenceNode {
		names = contentValues(t)
		s = "[" + strings.Join(names, ", ") + "]"
	}
	return s, t.Kind != yaml.MappingNode && !slices.Contains(names, "string") &&
		(slices.Contains(names, "integer") || slices.Contains(names, "number"))
}

// contentValues returns the values of a node's children (a sequence's scalars).
func contentValues(t *yaml.Node) []string {
	names := make([]string, 0, len(t.Content))
	for _, c := range t.Content {
		names = append(names, c.Value)
	}
	return names
}

// knownFormat reports formats of the OpenAPI format registry and of JSON Schema (2020-12).
func knownFormat(f string) bool {
	switch f {
	case "int8", "int16", "int32", "int64", "uint8", "float", "double", "decimal", "decimal128",
		"byte", "binary", "base64url", "char", "commonmark", "html", "password",
		"date", "date-time", "time", "duration", "http-date", "unixtime",
		"email", "idn-email", "hostname", "idn-hostname", "ipv4", "ipv6",
		"uri", "uri-reference", "iri", "iri-reference", "uri-template", "uuid",
		"json-pointer", "relative-json-pointer", "regex", "media-range",
		"sf-binary", "sf-boolean", "sf-decimal", "sf-integer", "sf-string", "sf-token":
		return true
	}
	return false
}

// detectFormats walks the document for unknown format values, skipping values that are not schemas.
func detectFormats(top *yaml.Node) []*defect {
	var out []*defect
	var walk func(n *yaml.Node, ptr string, field string, depth int)
	walk = func(n *yaml.Node, ptr, field string, depth int) {
		if n == nil || depth > 200 {
			return
		}
		eachPair(n, func(k string, v *yaml.Node) {
			switch {
			case k == "example" || k == "examples" || k == "default" || k == "enum" || k == "const" ||
				strings.HasPrefix(k, "x-"):
			case k == "format" && v.Kind == yaml.ScalarNode && !knownFormat(v.Value):
				out = append(out, formatDefect(ptr+pointer(k), field, n, v))
			default:
				walk(v, ptr+pointer(k), k, depth+1)
			}
		})
		for i, c := range seqContent(n) {
			walk(c, ptr+pointer(strconv.Itoa(i)), strconv.Itoa(i), depth+1)
		}
	}
	walk(top, "", "", 0)
	return out
}

// formatDefect is the defect of format value on schema, the value of member field ("" at the top).
func formatDefect(ptr, field string, schema, value *yaml.Node) *defect {
	reason := fmt.Sprintf("%q is not a format of the OpenAPI format registry or JSON Schema; validators "+
		"ignore unknown formats silently, so it asserts nothing and misleads readers", value.Value)
	switch value.Value {
	case "color":
		reason += " (a postcode such as 2000 or SW1A 1AA is no colour)"
	case "style":
		reason += " (no format describes this value; the field is plain text)"
	}
	on := "the schema"
	if field != "" {
		on = "property " + field
	}
	return &defect{
		Defect: Defect{Rule: DefectUnknownFormat, Pointer: ptr, Reason: reason,
			Found: fmt.Sprintf("format %q on %s", value.Value, on)},
		subject: value.Value,
		anchors: []*yaml.Node{value, schema},
		fixes: func(a *highoverlay.Action) bool {
			return a.Remove || a.Update != nil && mapGet(a.Update, "format") != nil
		},
	}
}

// mapGet returns the value of key in a mapping node (or an alias of one, or a document holding
// one), nil when absent.
func mapGet(n *yaml.Node, key string) *yaml.Node {
	if n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	var v *yaml.Node
	eachPair(unwrap(n), func(k string, val *yaml.Node) {
		if v == nil && k == key {
			v = val
		}
	})
	return v
}

// resolveRef follows a local "#/..." $ref (one level, then recursively up to a bound).
func resolveRef(top, n *yaml.Node) *yaml.Node {
	for i := 0; i < 8 && n != nil; i++ {
		ref := mapGet(n, "$ref")
		if ref == nil || top == nil {
			return n
		}
		if !strings.HasPrefix(ref.Value, "#/") {
			return nil
		}
		n = top
		for _, seg := range strings.Split(ref.Value[2:], "/") {
			n = mapGet(n, strings.ReplaceAll(strings.ReplaceAll(seg, "~1", "/"), "~0", "~"))
		}
	}
	return n
}

// pointer builds an RFC 6901 JSON pointer from segments.
func pointer(segs ...string) string {
	var b strings.Builder
	for _, s := range segs {
		b.WriteString("/" + strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1"))
	}
	return b.String()
}
