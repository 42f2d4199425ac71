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

// quotePlaceholder stands for the current offer's quote id in a generated
// body until it is sent (withQuote replaces it), so one body can be sent
// with several offers and a mutation of quotes[].id is kept.
const quotePlaceholder = "\x00quote-id\x00"

// plainString and plainEmail are the unremarkable values a shrunk body
// falls back to: a shrunk body shows only the values that matter.
const (
	plainString = "Ada"
	plainEmail  = "ada@example.com"
	plainPhone  = "+61400000000"
)

// coverageStrings is the deterministic coverage set every string field is
// tried with: plain, empty, very long (255 characters, the longest the real
// API is known to accept), non-ASCII letters, combining marks,
// right-to-left text, emoji, quotes and backslashes, whitespace only,
// digits only, CJK.
func coverageStrings() []string {
	return []string{
		plainString,
		"",
		strings.Repeat("Lorem ipsum ", 22)[:maxFieldRunes],
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

// coverageEmails are the e-mail values tried for members named email: the
// real API is known to check the address, the document does not.
func coverageEmails() []string {
	return []string{plainEmail, "o'brien+tag@mail.example.co.uk", "x@example.org", "0123456789@example.com"}
}

// coveragePhones are the values tried for the other personal members
// (phone): they stay ASCII and distinct from the other pools, because the
// redactor scrubs every value it has seen in such a member wherever it
// appears, and a shrunk body must show its cause.
func coveragePhones() []string {
	return []string{plainPhone, "", "0400 000 000", "+1 (555) 010-9999", "0061 2 9999 0000 ext. 12"}
}

// poolFor returns the coverage values and the plain value of a string
// member at path.
func poolFor(path string) ([]string, string) {
	leaf := path[strings.LastIndexAny(path, ".]")+1:]
	switch {
	case strings.HasSuffix(path, ".email"):
		return coverageEmails(), plainEmail
	case xone.SensitiveKey(leaf):
		return coveragePhones(), plainPhone
	}
	return coverageStrings(), plainString
}

// maxFieldRunes is the longest string the real API is known to accept
// (Laravel's max:255); generated positive bodies stay within it.
const maxFieldRunes = 255

// knownRequired lists the members the real API is known to require although
// the document marks them optional; positive bodies always carry them, with
// a non-empty value. A refusal for another reason is drift.
func knownRequired(path string) bool {
	switch path {
	case "$.policyholder.first_name", "$.policyholder.last_name", "$.policyholder.email":
		return true
	}
	return false
}

func isQuoteIDPath(path string) bool {
	return path == "$.quotes[].id" || (strings.HasPrefix(path, "$.quotes[") && strings.HasSuffix(path, "].id") &&
		strings.Count(path, "[") == 1)
}

// genLimits bounds the generated arrays: quotes holds 1..maxQuotes items
// (an empty quotes array is refused by the real API and covered by the
// empty-quotes case), other arrays 0..maxItems.
type genLimits struct {
	maxQuotes, maxItems int
}

// positiveBody returns a rapid generator of confirm bodies valid against
// the request schema root, honouring the known requirements.
func positiveBody(root *schemaNode, lim genLimits) *rapid.Generator[any] {
	return rapid.Custom(func(t *rapid.T) any { return genValue(t, root, "$", lim) })
}

func genValue(t *rapid.T, n *schemaNode, path string, lim genLimits) any {
	switch n.Type {
	case "object":
		m := map[string]any{}
		for _, k := range n.propertyNames() {
			p := path + "." + k
			if slices.Contains(n.Required, k) || knownRequired(p) || rapid.Bool().Draw(t, p) {
				m[k] = genValue(t, n.Properties[k], p, lim)
			}
		}
		return m
	case "array":
		lo, hi := 0, lim.maxItems
		if path == "$.quotes" {
			lo, hi = 1, lim.maxQuotes
		}
		k := rapid.IntRange(lo, hi).Draw(t, path+"#")
		out := make([]any, k)
		for i := range out {
			out[i] = genValue(t, n.Items, path+"[]", lim)
		}
		return out
	default:
		return genString(t, path)
	}
}

func genString(t *rapid.T, path string) string {
	if isQuoteIDPath(path) {
		return quotePlaceholder
	}
	pool, plain := poolFor(path)
	i := rapid.IntRange(0, len(pool)).Draw(t, path)
	s := ""
	switch {
	case i < len(pool):
		s = pool[i]
	case plain == plainString:
		s = rapid.StringN(1, 24, -1).Draw(t, path+"~")
	default:
		s = plain
	}
	if s == "" && knownRequired(path) {
		s = plain
	}
	return s
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
	if isQuoteIDPath(path) {
		return quotePlaceholder
	}
	pool, plain := poolFor(path)
	s := pool[k%len(pool)]
	if s == "" && knownRequired(path) {
		s = plain
	}
	return s
}

// marshalBody encodes a body without HTML escaping (so a reproducer shows
// the characters sent).
func marshalBody(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil { // only JSON trees built here reach it
		panic("contract: generate: marshal body: " + err.Error())
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// withQuote is marshalBody(v) with every quotePlaceholder replaced by
// quoteID.
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

// String names the mutation: "wrong-type $.quotes[0].id (number)".
func (m mutation) String() string { return m.Kind + " " + renderPath(m.Path) }

func renderPath(p []any) string {
	var sb strings.Builder
	sb.WriteString("$")
	for _, s := range p {
		switch s := s.(type) {
		case int:
			sb.WriteString("[" + strconv.Itoa(s) + "]")
		case string:
			sb.WriteString("." + s)
		}
	}
	return sb.String()
}

// mutations lists every mutation of body (valid against n) the generator
// makes: a wrong type at every node (a number or boolean for a string, a
// string or an array for an object, an object or a string for an array),
// every schema-required member removed, and null for every
// schema-required member and the root. Null on an optional member is not
// tried: APIs of this family read null as absent, which the document does
// not forbid clearly enough to call a booking a failure.
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

// reduce draws a smaller variant of the valid body v (schema n at path):
// every optional member, array item and unusual string is kept or dropped
// (replaced by a plain value) by a draw whose zero value drops it, so
// rapid's shrinker walks towards the smallest body. Members on the paths
// in keep (and their ancestors) are never changed.
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
