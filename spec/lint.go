package spec

import (
	"fmt"
	"regexp"
	"sort"
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
	// rejects nothing the document accepted; a fix that narrows is not Handled. "" when not handled.
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

// Lint finds the defects of an OpenAPI 3 document (JSON or YAML): path template variables without
// a declared path parameter, response headers typed integer/number whose real values are not
// numbers (the Cloudflare set CF-RAY, X-XSS-Protection, Cf-Team and other well-known headers), and
// `format` values outside the OpenAPI format registry and JSON Schema. For each it applies the
// overlay (the embedded one, or WithOverlay's; of the other options only Context counts), marks
// the defect Handled when the corrected document no longer has it, and names the overlay action
// that targets it; when the overlay does not apply (an action matches nothing, say), every defect
// is not handled and says why. Defects are sorted by Pointer, Rule; an empty slice means a clean
// document. The document is read as Load reads it, within the same limits. Errors wrap
// ErrUnreadable (and ErrDocument) for input that is not an OpenAPI 3 document, ErrDocument for an
// overlay that is not an Overlay document, and are a *LimitError for input beyond a limit.
func Lint(doc []byte, opts ...Option) ([]Defect, error) {
	o := newOptions(opts)
	out, err := interruptible(o.ctx, func() ([]Defect, error) { return lint(doc, o.overlay) })
	if err != nil {
		return nil, fmt.Errorf("spec: lint: %w", err)
	}
	return out, nil
}

func lint(doc, overlayDoc []byte) ([]Defect, error) {
	c, err := read(doc, overlayDoc, false)
	if err != nil {
		return nil, err
	}
	return c.defects(), nil
}

// defects lints the document as given and says, for each defect, whether and how the overlay
// handles it.
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
		act, idx := matchAction(c.overlay, c.given, df)
		switch {
		case c.notApplied != nil:
			df.Handling = "not handled: overlay does not apply: " + c.notApplied.Error()
		case remaining[df.key()] && act != nil:
			df.Handling = "not handled: " + describeAction(act, idx) + " targets it but the defect remains"
		case remaining[df.key()]:
			df.Handling = "not handled"
		case act != nil:
			effect, widens := actionEffect(act, df)
			if !widens {
				df.Handling = "not handled: " + describeAction(act, idx) + " " + effect
				break
			}
			df.Handled, df.Handling, df.Effect = true, describeAction(act, idx), effect
		default:
			df.Handled, df.Handling = true, "fixed by the overlay (no single action targets it)"
		}
		out = append(out, df.Defect)
	}
	return out
}

func describeAction(a *highoverlay.Action, idx int) string {
	verb := "update"
	switch {
	case a.Remove:
		verb = "remove"
	case a.Copy != "":
		verb = "copy"
	}
	desc := strings.Join(strings.Fields(a.Description), " ")
	if i := strings.Index(desc, ": "); i > 0 && i < 120 {
		desc = desc[:i]
	}
	if desc == "" {
		return fmt.Sprintf("overlay action %d (%s %s)", idx+1, verb, a.Target)
	}
	return fmt.Sprintf("overlay action %d (%s %s): %s", idx+1, verb, a.Target, desc)
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
// whether that is a widening: removing an assertion keyword (an unknown format, a type the API
// does not send), or declaring the path parameters a path template uses. Any other change may
// reject values the vendor document accepts.
func actionEffect(a *highoverlay.Action, d *defect) (effect string, widens bool) {
	if a.Remove {
		kw := lastTargetKey(a.Target)
		if !isAssertionKeyword(kw) {
			return fmt.Sprintf("removes %s, which may reject what the document accepts", a.Target), false
		}
		switch d.Rule {
		case DefectUnknownFormat:
			return fmt.Sprintf("widens: drops format %q, which asserted nothing", d.subject), true
		case DefectHeaderTypeMismatch:
			return fmt.Sprintf("widens: drops the type of header %s, which then accepts both the number the "+
				"document allows and the string the API sends", d.subject), true
		}
		return fmt.Sprintf("widens: drops %q", kw), true
	}
	if a.Update == nil {
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

// narrowingKey returns an assertion keyword an update adds outside parameter declarations, "" when
// it adds none.
func narrowingKey(n *yaml.Node) string {
	if n == nil {
		return ""
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			switch {
			case k == "parameters" || k == "description" || k == "summary" || k == "example" ||
				k == "examples" || strings.HasPrefix(k, "x-"):
				continue
			case isAssertionKeyword(k):
				return k
			}
			if nk := narrowingKey(n.Content[i+1]); nk != "" {
				return nk
			}
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			if nk := narrowingKey(c); nk != "" {
				return nk
			}
		}
	}
	return ""
}

// lastTargetKey returns the last member name of a JSONPath target ("format" for
// "$.a['b'].format"), "" when it ends otherwise.
func lastTargetKey(target string) string {
	t := strings.TrimSpace(target)
	if strings.HasSuffix(t, "']") || strings.HasSuffix(t, `"]`) {
		q := t[len(t)-2]
		i := strings.LastIndexByte(t[:len(t)-2], q)
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
// nodes and whose change addresses the defect.
func matchAction(ov *highoverlay.Overlay, root *yaml.Node, d *defect) (*highoverlay.Action, int) {
	if ov == nil {
		return nil, -1
	}
	for i, a := range ov.Actions {
		if a == nil || a.Target == "" {
			continue
		}
		nodes, err := query(root, a.Target)
		if err != nil {
			continue
		}
		for _, n := range nodes {
			if containsNode(d.anchors, n) && (d.fixes == nil || d.fixes(a)) {
				return a, i
			}
		}
	}
	return nil, -1
}

// query selects the nodes a JSONPath target designates, with the options libopenapi's overlay
// engine uses.
func query(root *yaml.Node, target string) ([]*yaml.Node, error) {
	p, err := jsonpath.NewPath(target, jpconfig.WithPropertyNameExtension(), jpconfig.WithLazyContextTracking())
	if err != nil {
		return nil, err
	}
	return p.Query(root), nil
}

func containsNode(ns []*yaml.Node, n *yaml.Node) bool {
	for _, x := range ns {
		if x == n {
			return true
		}
	}
	return false
}

func detectDefects(root *yaml.Node) []*defect {
	top := root
	if top.Kind == yaml.DocumentNode && len(top.Content) > 0 {
		top = top.Content[0]
	}
	var out []*defect
	out = append(out, detectPathParams(top)...)
	out = append(out, detectHeaderTypes(top)...)
	out = append(out, detectFormats(top)...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Pointer != out[j].Pointer {
			return out[i].Pointer < out[j].Pointer
		}
		if out[i].Rule != out[j].Rule {
			return out[i].Rule < out[j].Rule
		}
		return out[i].subject < out[j].subject
	})
	return out
}

// httpMethods are the operation keys of a path item.
func httpMethods() []string {
	return []string{"get", "put", "post", "delete", "options", "head", "patch", "trace", "query"}
}

func detectPathParams(top *yaml.Node) []*defect {
	paths := mapGet(top, "paths")
	if paths == nil || paths.Kind != yaml.MappingNode {
		return nil
	}
	var out []*defect
	for i := 0; i+1 < len(paths.Content); i += 2 {
		tmpl, item := paths.Content[i].Value, paths.Content[i+1]
		if item.Kind != yaml.MappingNode {
			continue
		}
		itemDeclared := declaredPathParams(top, mapGet(item, "parameters"))
		var ops []string
		var opNodes []*yaml.Node
		for _, m := range httpMethods() {
			if op := mapGet(item, m); op != nil && op.Kind == yaml.MappingNode {
				ops = append(ops, m)
				opNodes = append(opNodes, op)
			}
		}
		for _, name := range templateVars(tmpl) {
			var missing []string
			for k, op := range opNodes {
				if !itemDeclared[name] && !declaredPathParams(top, mapGet(op, "parameters"))[name] {
					missing = append(missing, ops[k])
				}
			}
			if len(missing) == 0 && (len(ops) > 0 || itemDeclared[name]) {
				continue
			}
			where := "the path item"
			if len(missing) > 0 {
				where = strings.Join(missing, ", ")
			}
			name := name
			d := &defect{
				Defect: Defect{
					Rule:    DefectUndeclaredPathParameter,
					Pointer: pointer("paths", tmpl),
					Found: fmt.Sprintf("path %s uses {%s} but declares no `in: path` parameter %q (%s)",
						tmpl, name, name, where),
					Reason: "OpenAPI requires every path template variable to be declared as a required path " +
						"parameter; without it validators and generators cannot match, type or check the " +
						"segment" + pathParamNote(name),
				},
				subject: name,
				anchors: append([]*yaml.Node{item}, opNodes...),
				fixes: func(a *highoverlay.Action) bool {
					return !a.Remove && updateDeclaresParam(a.Update, name)
				},
			}
			out = append(out, d)
		}
	}
	return out
}

func pathParamNote(name string) string {
	switch name {
	case "offer_id":
		return " (real offer ids are UUIDs such as 3f6c2a9e-8b1d-4c7a-9e2f-5d4b3a2c1e0f)"
	case "partner_id":
		return " (the partner id Cover Genius issues, an opaque string)"
	}
	return ""
}

// templateVars returns the {name} variables of a path template, in order.
func templateVars(tmpl string) []string {
	var out []string
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(tmpl[i:], '}')
		if j < 0 {
			return out
		}
		if name := tmpl[i+1 : i+j]; name != "" {
			out = append(out, name)
		}
		tmpl = tmpl[i+j+1:]
	}
}

// declaredPathParams returns the names of `in: path` parameters in a parameters list, following
// local $refs.
func declaredPathParams(top, params *yaml.Node) map[string]bool {
	out := map[string]bool{}
	if params == nil || params.Kind != yaml.SequenceNode {
		return out
	}
	for _, p := range params.Content {
		p = resolveRef(top, p)
		if p == nil || p.Kind != yaml.MappingNode {
			continue
		}
		if in, name := mapGet(p, "in"), mapGet(p, "name"); in != nil && name != nil && in.Value == "path" {
			out[name.Value] = true
		}
	}
	return out
}

func updateDeclaresParam(update *yaml.Node, name string) bool {
	if update == nil {
		return false
	}
	if update.Kind == yaml.DocumentNode && len(update.Content) > 0 {
		update = update.Content[0]
	}
	params := mapGet(update, "parameters")
	if params == nil {
		if update.Kind == yaml.SequenceNode { // targeting a parameters list directly
			params = update
		} else if update.Kind == yaml.MappingNode { // appending one parameter object
			params = &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{update}}
		}
	}
	return declaredPathParams(nil, params)[name]
}

// headerFact is what is known of the values a real XONE response sends in one header.
type headerFact struct {
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
	switch strings.ToLower(name) {
	case "cf-ray":
		return headerFact{"8a1b2c3d4e5f6789-SYD", "16 hex digits, '-' and the Cloudflare data-centre code", cfRayPattern}, true
	case "x-xss-protection":
		return headerFact{"1; mode=block", `0, 1 or "1; mode=block"`, xssPattern}, true
	case "cf-team":
		return headerFact{"2b5f9c7e4a1d4c3e8f6a0b1c2d3e4f5a", "32 hex digits", cfTeamPattern}, true
	case "cf-cache-status":
		return headerFact{"DYNAMIC", "a cache status word (HIT, MISS, DYNAMIC...)", nil}, true
	case "server":
		return headerFact{"cloudflare", "a product name", nil}, true
	case "date":
		return headerFact{"Fri, 27 Nov 2026 02:14:09 GMT", "an HTTP date", nil}, true
	case "server-timing":
		return headerFact{`cfL4;desc="?proto=TCP&rtt=1234"`, "a list of metrics", nil}, true
	case "strict-transport-security":
		return headerFact{"max-age=31536000; includeSubDomains", "directives", nil}, true
	case "x-content-type-options":
		return headerFact{"nosniff", "the word nosniff", nil}, true
	case "cache-control":
		return headerFact{"no-cache, private", "directives", nil}, true
	case "vary":
		return headerFact{"Authorization", "header names", nil}, true
	case "connection":
		return headerFact{"keep-alive", "a connection option", nil}, true
	case "transfer-encoding":
		return headerFact{"chunked", "a coding name", nil}, true
	case "content-type":
		return headerFact{"application/json", "a media type", nil}, true
	}
	return headerFact{}, false
}

func detectHeaderTypes(top *yaml.Node) []*defect {
	var out []*defect
	check := func(ptr []string, headers *yaml.Node) {
		if headers == nil || headers.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(headers.Content); i += 2 {
			name, h := headers.Content[i].Value, headers.Content[i+1]
			if mapGet(h, "$ref") != nil {
				continue // the referenced header is checked under components
			}
			sc := mapGet(h, "schema")
			if sc == nil || mapGet(sc, "$ref") != nil {
				continue
			}
			typ := mapGet(sc, "type")
			if typ == nil || !numericType(typ) {
				continue
			}
			fact, ok := knownHeader(name)
			if !ok {
				continue
			}
			hp := append(append([]string{}, ptr...), name, "schema", "type")
			out = append(out, &defect{
				Defect: Defect{
					Rule:    DefectHeaderTypeMismatch,
					Pointer: pointer(hp...),
					Found:   fmt.Sprintf("header %s typed %s", name, typeString(typ)),
					Reason: fmt.Sprintf("real %s values are %s (e.g. %s), not numbers: a real response fails "+
						"validation on this header", name, fact.shape, fact.example),
				},
				subject: name,
				anchors: []*yaml.Node{h, sc, typ},
			})
		}
	}
	responsesOf := func(ptr []string, responses *yaml.Node) {
		if responses == nil || responses.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(responses.Content); i += 2 {
			code, r := responses.Content[i].Value, responses.Content[i+1]
			check(append(append([]string{}, ptr...), code, "headers"), mapGet(r, "headers"))
		}
	}
	if paths := mapGet(top, "paths"); paths != nil && paths.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(paths.Content); i += 2 {
			tmpl, item := paths.Content[i].Value, paths.Content[i+1]
			for _, m := range httpMethods() {
				if op := mapGet(item, m); op != nil {
					responsesOf([]string{"paths", tmpl, m, "responses"}, mapGet(op, "responses"))
				}
			}
		}
	}
	comps := mapGet(top, "components")
	responsesOf([]string{"components", "responses"}, mapGet(comps, "responses"))
	check([]string{"components", "headers"}, mapGet(comps, "headers"))
	return out
}

func numericType(t *yaml.Node) bool {
	switch t.Kind {
	case yaml.ScalarNode:
		return t.Value == "integer" || t.Value == "number"
	case yaml.SequenceNode:
		numeric, str := false, false
		for _, c := range t.Content {
			numeric = numeric || c.Value == "integer" || c.Value == "number"
			str = str || c.Value == "string"
		}
		return numeric && !str
	}
	return false
}

func typeString(t *yaml.Node) string {
	if t.Kind == yaml.SequenceNode {
		parts := make([]string, 0, len(t.Content))
		for _, c := range t.Content {
			parts = append(parts, c.Value)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return t.Value
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

func detectFormats(top *yaml.Node) []*defect {
	var out []*defect
	var walk func(n *yaml.Node, ptr []string, depth int)
	walk = func(n *yaml.Node, ptr []string, depth int) {
		if n == nil || depth > 200 {
			return
		}
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i].Value, n.Content[i+1]
				switch {
				case k == "example" || k == "examples" || k == "default" || k == "enum" || k == "const" ||
					strings.HasPrefix(k, "x-"):
					continue // values, not schemas
				case k == "format" && v.Kind == yaml.ScalarNode && !knownFormat(v.Value):
					out = append(out, formatDefect(append(append([]string{}, ptr...), k), ptr, n, v))
					continue
				}
				walk(v, append(append([]string{}, ptr...), k), depth+1)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, append(append([]string{}, ptr...), strconv.Itoa(i)), depth+1)
			}
		}
	}
	walk(top, nil, 0)
	return out
}

func formatDefect(ptr, schemaPtr []string, schema, value *yaml.Node) *defect {
	field := "the schema"
	if len(schemaPtr) > 0 {
		field = "property " + schemaPtr[len(schemaPtr)-1]
	}
	reason := fmt.Sprintf("%q is not a format of the OpenAPI format registry or JSON Schema; validators "+
		"ignore unknown formats silently, so it asserts nothing and misleads readers", value.Value)
	switch {
	case value.Value == "color":
		reason += " (a postcode such as 2000 or SW1A 1AA is no colour)"
	case value.Value == "style":
		reason += " (no format describes this value; the field is plain text)"
	}
	return &defect{
		Defect: Defect{
			Rule:    DefectUnknownFormat,
			Pointer: pointer(ptr...),
			Found:   fmt.Sprintf("format %q on %s", value.Value, field),
			Reason:  reason,
		},
		subject: value.Value,
		anchors: []*yaml.Node{value, schema},
		fixes: func(a *highoverlay.Action) bool {
			if a.Remove {
				return true
			}
			u := a.Update
			return u != nil && mapGet(u, "format") != nil
		},
	}
}

// mapGet returns the value of key in a mapping node (or an alias of one), nil when absent or n is
// not a mapping.
func mapGet(n *yaml.Node, key string) *yaml.Node {
	if n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n == nil {
		return nil
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
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
		cur := top
		for _, seg := range strings.Split(ref.Value[2:], "/") {
			seg = strings.ReplaceAll(strings.ReplaceAll(seg, "~1", "/"), "~0", "~")
			cur = mapGet(cur, seg)
		}
		n = cur
	}
	return n
}

// pointer builds an RFC 6901 JSON pointer from segments.
func pointer(segs ...string) string {
	var b strings.Builder
	for _, s := range segs {
		b.WriteByte('/')
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1"))
	}
	return b.String()
}
