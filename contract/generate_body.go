package contract

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"pgregory.net/rapid"

	"github.com/xoneharness/xoneharness/internal/xone"
)

// quotePlaceholder stands for the quote id in a generated body until withQuote
// fills in the current offer's, so one body can be sent with several offers.
const quotePlaceholder = "\x00quote-id\x00"

// plainString is the unremarkable value a shrunk body falls back to.
const plainString = "Ada"

// coverageStrings is the coverage set every string field is tried with:
// plain, empty, 255 characters (the most the real API accepts: Laravel's
// max:255), non-ASCII, combining marks, right-to-left, emoji, quotes and
// backslashes, whitespace only, digits only, CJK.
func coverageStrings() []string {
	return []string{
		plainString,
		"",
		strings.Repeat("Lorem ipsum ", 22)[:255],
		"Zoë Ångström-Łukasiewicz",
		"e\u0301a\u0300o\u0308\u0323",
		"שלום עליכם",
		"👩\u200d🚀 🏄🏽",
		`O'Brien "Ace" \ C:\\path`,
		" \t  ",
		"0123456789",
		"李小龍",
	}
}

// poolFor returns the coverage values and the plain value of a string member
// at path. E-mails are valid (the real API checks them). Phones stay ASCII and
// apart from the other pools: the redactor scrubs every value it has seen in
// such a member wherever it appears, and a shrunk body must show its cause.
func poolFor(path string) ([]string, string) {
	switch leaf := path[strings.LastIndexAny(path, ".]")+1:]; {
	case strings.HasSuffix(path, ".email"):
		return []string{"ada@example.com", "o'brien+tag@mail.example.co.uk", "x@example.org", "0123456789@example.com"}, "ada@example.com"
	case xone.SensitiveKey(leaf):
		return []string{"+61400000000", "", "0400 000 000", "+1 (555) 010-9999", "0061 2 9999 0000 ext. 12"}, "+61400000000"
	}
	return coverageStrings(), plainString
}

// knownRequired reports the members the real API is known to require although
// the document marks them optional; positive bodies always carry them, with
// a non-empty value. A refusal for another reason is drift.
func knownRequired(path string) bool {
	return slices.Contains([]string{"$.policyholder.first_name", "$.policyholder.last_name", "$.policyholder.email"}, path)
}

func isQuoteIDPath(path string) bool {
	return path == "$.quotes[].id" || (strings.HasPrefix(path, "$.quotes[") && strings.HasSuffix(path, "].id") &&
		strings.Count(path, "[") == 1)
}

// maxItems bounds the generated arrays: quotes holds 1..maxQuotes items (the
// empty-quotes case covers none), other arrays 0..maxItems.
const maxItems = 2

// positiveBody generates confirm bodies valid against root and the known requirements.
func positiveBody(root *schemaNode, maxQuotes int) *rapid.Generator[any] {
	return rapid.Custom(func(t *rapid.T) any { return genValue(t, root, "$", maxQuotes) })
}

func genValue(t *rapid.T, n *schemaNode, path string, maxQuotes int) any {
	switch n.Type {
	case "object":
		m := map[string]any{}
		for _, k := range n.propertyNames() {
			p := path + "." + k
			if slices.Contains(n.Required, k) || knownRequired(p) || rapid.Bool().Draw(t, p) {
				m[k] = genValue(t, n.Properties[k], p, maxQuotes)
			}
		}
		return m
	case "array":
		lo, hi := 0, maxItems
		if path == "$.quotes" {
			lo, hi = 1, maxQuotes
		}
		k := rapid.IntRange(lo, hi).Draw(t, path+"#")
		out := make([]any, k)
		for i := range out {
			out[i] = genValue(t, n.Items, path+"[]", maxQuotes)
		}
		return out
	default:
		return genString(t, path)
	}
}

// genString draws a pool value of path, or (one more choice) a random
// string for plain members.
func genString(t *rapid.T, path string) string {
	if isQuoteIDPath(path) {
		return quotePlaceholder
	}
	pool, plain := poolFor(path)
	switch i := rapid.IntRange(0, len(pool)).Draw(t, path); {
	case i < len(pool):
		return poolValue(path, i)
	case plain == plainString:
		return rapid.StringN(1, 24, -1).Draw(t, path+"~")
	}
	return plain
}

// poolValue is value i (modulo its size) of path's pool, the plain value
// instead of "" for a member the API requires, the placeholder for a quote id.
func poolValue(path string, i int) string {
	if isQuoteIDPath(path) {
		return quotePlaceholder
	}
	pool, plain := poolFor(path)
	if s := pool[i%len(pool)]; s != "" || !knownRequired(path) {
		return s
	}
	return plain
}

// coverageBody is the deterministic coverage body number k: every optional
// member present, one item in every optional array, and every string (but
// e-mails and quote ids) set to coverage string k.
func coverageBody(n *schemaNode, path string, k int) any {
	switch n.Type {
	case "object":
		m := map[string]any{}
		for _, name := range n.propertyNames() {
			m[name] = coverageBody(n.Properties[name], path+"."+name, k)
		}
		return m
	case "array":
		return []any{coverageBody(n.Items, path+"[]", k)}
	}
	return poolValue(path, k)
}

// marshalBody encodes a body without HTML escaping, so a reproducer shows the characters sent.
func marshalBody(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil { // only JSON trees built here reach it
		panic("contract: generate: marshal body: " + err.Error())
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// withQuote is marshalBody(v) with every quotePlaceholder replaced by quoteID.
func withQuote(v any, quoteID string) []byte {
	return bytes.ReplaceAll(marshalBody(v), marshalBody(quotePlaceholder), marshalBody(quoteID))
}

// mutation is one change that makes a valid body invalid: the value at
// Path replaced by Value, or removed when Remove is set.
type mutation struct {
	Path   []any // string keys and int indexes from the root
	Kind   string
	Value  any
	Remove bool
}

// String names the mutation: "wrong-type(number) $.quotes[0].id".
func (m mutation) String() string { return m.Kind + " " + renderPath(m.Path) }

// renderPath writes a mutation's path as a JSON path ("$.quotes[0].id").
func renderPath(p []any) string {
	s := "$"
	for _, k := range p {
		if i, ok := k.(int); ok {
			s += "[" + strconv.Itoa(i) + "]"
		} else {
			s += "." + k.(string)
		}
	}
	return s
}

// mutations lists the mutations of body (valid against n): two wrong types at
// every node, every schema-required member removed, and null for the root and
// every schema-required member. Not null on an optional member: APIs of this
// family read null as absent, which the document does not clearly forbid.
func mutations(n *schemaNode, body any) []mutation {
	var out []mutation
	var walk func(n *schemaNode, v any, path []any, required bool)
	walk = func(n *schemaNode, v any, path []any, required bool) {
		at := slices.Clone(path)
		switch n.Type {
		case "string":
			out = append(out, mutation{Path: at, Kind: "wrong-type(number)", Value: 42},
				mutation{Path: at, Kind: "wrong-type(boolean)", Value: true})
		case "object":
			out = append(out, mutation{Path: at, Kind: "wrong-type(string)", Value: "text"},
				mutation{Path: at, Kind: "array-for-object", Value: []any{}})
		case "array":
			out = append(out, mutation{Path: at, Kind: "object-for-array", Value: map[string]any{}},
				mutation{Path: at, Kind: "wrong-type(string)", Value: "text"})
		}
		if required && !n.Nullable {
			out = append(out, mutation{Path: at, Kind: "null", Value: nil})
		}
		switch v := v.(type) {
		case map[string]any:
			for _, k := range n.propertyNames() {
				req := slices.Contains(n.Required, k)
				if req {
					out = append(out, mutation{Path: append(slices.Clone(path), k), Kind: "missing-required", Remove: true})
				}
				if x, ok := v[k]; ok {
					walk(n.Properties[k], x, append(slices.Clone(path), k), req)
				}
			}
		case []any:
			for i, x := range v {
				walk(n.Items, x, append(slices.Clone(path), i), false)
			}
		}
	}
	walk(n, body, nil, true)
	return out
}

// apply returns a copy of v with m applied.
func (m mutation) apply(v any) any {
	if len(m.Path) == 0 {
		return m.Value
	}
	inner := m
	inner.Path = m.Path[1:]
	switch v := v.(type) {
	case map[string]any:
		k, _ := m.Path[0].(string)
		c := maps.Clone(v)
		if c[k] = inner.apply(c[k]); m.Remove && len(inner.Path) == 0 {
			delete(c, k)
		}
		return c
	case []any:
		c := slices.Clone(v)
		if i, _ := m.Path[0].(int); i < len(c) {
			c[i] = inner.apply(c[i])
		}
		return c
	}
	return v
}

// firstRune returns the first non-ASCII character of s, or its first
// character when s is ASCII; "" for "" and for e-mail-shaped values.
func firstRune(s string) string {
	if strings.Contains(s, "@") {
		return ""
	}
	for _, r := range s {
		if r >= utf8.RuneSelf {
			return string(r)
		}
	}
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 || r == utf8.RuneError {
		return ""
	}
	return string(r)
}

// reduce draws a smaller variant of the valid body v (schema n at path): a
// draw whose zero value drops it decides each optional member, array item
// and unusual string (made plain), so rapid's shrinker walks towards the
// smallest body. The paths in keep and their ancestors are never changed.
func reduce(t *rapid.T, n *schemaNode, v any, path string, keep []string) any {
	kept := func(p string) bool {
		for _, k := range keep {
			if k == p || strings.HasPrefix(k, p+".") || strings.HasPrefix(k, p+"[") {
				return true
			}
		}
		return false
	}
	switch v := v.(type) {
	case map[string]any:
		m := map[string]any{}
		for _, k := range n.propertyNames() {
			x, ok := v[k]
			if !ok {
				continue
			}
			p := path + "." + k
			if !slices.Contains(n.Required, k) && !knownRequired(p) && !kept(p) &&
				rapid.IntRange(0, 9).Draw(t, p) == 0 {
				continue
			}
			m[k] = reduce(t, n.Properties[k], x, p, keep)
		}
		return m
	case []any:
		lo := 0
		if path == "$.quotes" {
			lo = 1
		}
		out := []any{}
		for i, x := range v {
			p := path + "[" + strconv.Itoa(i) + "]"
			if !kept(path) && len(out) >= lo && rapid.IntRange(0, 9).Draw(t, p) == 0 {
				continue
			}
			out = append(out, reduce(t, n.Items, x, p, keep))
		}
		return out
	case string:
		if v == quotePlaceholder || kept(path) {
			return v
		}
		_, plain := poolFor(path)
		if v == plain {
			return v
		}
		switch rapid.IntRange(0, 9).Draw(t, path) {
		case 0:
			return plain
		case 1: // one character: the first non-ASCII one, if any
			if r := firstRune(v); r != "" && r != v && (!knownRequired(path) || strings.TrimSpace(r) != "") {
				return r
			}
		}
		return v
	}
	return v
}
