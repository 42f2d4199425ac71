package spec

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/xoneharness/xoneharness/internal/jsonlex"

	"github.com/pb33f/jsonschema/v6"
)

// A check is a compiled jsonschema.Schema reduced to the keywords the confirm responses use:
// type, format, pattern, properties and items (OpenAPI 3.0's nullable arrives as the type "null"). It
// validates a body straight from its bytes, without building a tree of values, and is the first
// step of the fast path.
//
// Like the fast path, a check only ever answers "the library would accept this" (true) or "let
// the library decide" (false). It is built only when every keyword of every schema it reaches is
// one it implements (compileCheck refuses anything else, including keywords a later library
// version adds), it calls the library's own format functions, and where JSON's decoding or the
// library's typing has a corner (escapes, integer-valued fractions, huge exponents) it decodes
// the way encoding/json does or gives up. TestCheckMatchesLibrary and FuzzCheck hold it to that.
type check struct {
	kinds   kinds              // 0: any kind
	format  *jsonschema.Format // nil: none asserted
	pattern jsonschema.Regexp  // nil: none
	props   map[string]*check  // nil entries and absent keys: any value
	byLen   [][]propEntry      // props by name length: a lookup compares a name or two, no hashing
	items   *check             // nil: any items

	memo *formatMemo // strings accepted recently; shared by the nodes with the same format and pattern
}

// propEntry is one property of a check's object.
type propEntry struct {
	name string
	chk  *check
}

// prop returns the check of property name (nil: any value).
func (c *check) prop(name []byte) *check {
	if len(name) < len(c.byLen) {
		for _, e := range c.byLen[len(name)] {
			if e.name == string(name) {
				return e.chk
			}
		}
	}
	return nil
}

// kinds is a set of JSON Schema types.
type kinds uint8

const (
	kindNull kinds = 1 << iota
	kindBoolean
	kindNumber
	kindInteger
	kindString
	kindArray
	kindObject
)

// allows reports whether c admits a value of kind k (a nil check admits anything).
func (c *check) allows(k kinds) bool { return c == nil || c.kinds == 0 || c.kinds&k != 0 }

// checkKeywords are the exported jsonschema.Schema fields a check implements or that do not
// assert anything. Any other field that is set makes compileCheck refuse the schema.
var checkKeywords = map[string]bool{
	"DraftVersion": true, "Location": true, "ID": true, "Anchor": true, "DynamicAnchor": true,
	"RecursiveAnchor": true, "Bool": true, "Ref": true, "Types": true, "Format": true, "Pattern": true,
	"Properties": true, "AdditionalProperties": true, "Items": true, "Items2020": true,
	"Title": true, "Description": true, "Default": true, "Comment": true, "ReadOnly": true,
	"WriteOnly": true, "Examples": true, "Deprecated": true,
}

// maxCheckDepth bounds the schema nesting compileCheck follows ($ref cycles are refused).
const maxCheckDepth = 64

// compileCheck builds the check for s, or says which keyword it does not implement.
func compileCheck(s *jsonschema.Schema) (*check, error) {
	cc := checkCompiler{memos: map[memoKey]*formatMemo{}}
	return cc.compile(s, 0)
}

// checkCompiler holds what the nodes of one check share.
type checkCompiler struct {
	memos map[memoKey]*formatMemo
}

// memoKey is what a string node asserts: nodes that assert the same share a memo.
type memoKey struct {
	format  *jsonschema.Format
	pattern string
}

func (cc *checkCompiler) compile(s *jsonschema.Schema, depth int) (*check, error) {
	if s == nil {
		return nil, nil
	}
	if depth > maxCheckDepth {
		return nil, fmt.Errorf("%s: nested deeper than %d schemas", s.Location, maxCheckDepth)
	}
	v := reflect.ValueOf(s).Elem()
	var set []string
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if f.IsExported() && !v.Field(i).IsZero() {
			if !checkKeywords[f.Name] {
				return nil, fmt.Errorf("%s: %s is not implemented", s.Location, f.Name)
			}
			set = append(set, f.Name)
		}
	}
	if s.Bool != nil {
		if !*s.Bool {
			return nil, fmt.Errorf("%s: the false schema is not implemented", s.Location)
		}
		return &check{}, nil
	}
	if s.Ref != nil {
		// The library evaluates a $ref's siblings too, in an order that differs by draft: only a
		// bare $ref is taken.
		for _, name := range set {
			switch name {
			case "DraftVersion", "Location", "Ref", "Title", "Description", "Comment":
			default:
				return nil, fmt.Errorf("%s: $ref beside %s is not implemented", s.Location, name)
			}
		}
		return cc.compile(s.Ref, depth+1)
	}
	if a := s.AdditionalProperties; a != nil {
		if b, ok := a.(bool); !ok || !b {
			return nil, fmt.Errorf("%s: additionalProperties other than true is not implemented", s.Location)
		}
	}
	c := &check{}
	if s.Types != nil {
		for _, t := range s.Types.ToStrings() {
			k, ok := map[string]kinds{"null": kindNull, "boolean": kindBoolean, "number": kindNumber,
				"integer": kindInteger, "string": kindString, "array": kindArray, "object": kindObject}[t]
			if !ok {
				return nil, fmt.Errorf("%s: type %q is not implemented", s.Location, t)
			}
			c.kinds |= k
		}
	}
	if s.Format != nil {
		if s.Format.Name == "regex" || s.Format.Validate == nil {
			return nil, fmt.Errorf("%s: format %q is not implemented", s.Location, s.Format.Name)
		}
		c.format = s.Format
	}
	if s.Pattern != nil {
		c.pattern = s.Pattern
	}
	if c.format != nil || c.pattern != nil {
		k := memoKey{format: c.format}
		if c.pattern != nil {
			k.pattern = c.pattern.String()
		}
		if cc.memos[k] == nil {
			cc.memos[k] = &formatMemo{}
		}
		c.memo = cc.memos[k]
	}
	if len(s.Properties) > 0 {
		c.props = make(map[string]*check, len(s.Properties))
		for _, name := range slices.Sorted(maps.Keys(s.Properties)) {
			p, err := cc.compile(s.Properties[name], depth+1)
			if err != nil {
				return nil, err
			}
			c.props[name] = p
			if len(c.byLen) <= len(name) {
				c.byLen = append(c.byLen, make([][]propEntry, len(name)+1-len(c.byLen))...)
			}
			c.byLen[len(name)] = append(c.byLen[len(name)], propEntry{name, p})
		}
	}
	items := s.Items2020
	switch it := s.Items.(type) {
	case nil:
	case *jsonschema.Schema:
		if items != nil {
			return nil, fmt.Errorf("%s: items given twice", s.Location)
		}
		items = it
	default:
		return nil, fmt.Errorf("%s: items as %T is not implemented", s.Location, s.Items)
	}
	if items != nil {
		ic, err := cc.compile(items, depth+1)
		if err != nil {
			return nil, err
		}
		c.items = ic
	}
	return c, nil
}

// valid reports whether b is a JSON document the library would accept against c's schema (true),
// or that the library must decide (false).
func (c *check) valid(b []byte) bool {
	sc := checkScanner{b: b}
	sc.ws()
	if !sc.value(c) {
		return false
	}
	sc.ws()
	return sc.i == len(b)
}

// checkScanner walks one JSON document.
type checkScanner struct {
	b     []byte
	i     int
	depth int
}

func (s *checkScanner) ws() { s.i = jsonlex.Space(s.b, s.i) }

// value checks the value at s.i against c and moves past it.
func (s *checkScanner) value(c *check) bool {
	if s.i >= len(s.b) {
		return false
	}
	switch ch := s.b[s.i]; {
	case ch == '{':
		return c.allows(kindObject) && s.object(c)
	case ch == '[':
		return c.allows(kindArray) && s.array(c)
	case ch == '"':
		return c.allows(kindString) && s.str(c)
	case ch == 't':
		return c.allows(kindBoolean) && s.lit("true")
	case ch == 'f':
		return c.allows(kindBoolean) && s.lit("false")
	case ch == 'n':
		return c.allows(kindNull) && s.lit("null")
	case ch == '-' || ch >= '0' && ch <= '9':
		return s.number(c)
	}
	return false
}

func (s *checkScanner) lit(word string) bool {
	var ok bool
	s.i, ok = jsonlex.Literal(s.b, s.i, word)
	return ok
}

func (s *checkScanner) object(c *check) bool {
	if s.depth++; s.depth > maxDepth {
		return false
	}
	s.i++ // '{'
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		s.depth--
		return true
	}
	for {
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			return false
		}
		start := s.i + 1
		end := start
		for end < len(s.b) && s.b[end] != '"' {
			if ch := s.b[end]; ch == '\\' || ch < 0x20 || ch >= utf8.RuneSelf {
				return false // a key that needs decoding: the library decides
			}
			end++
		}
		if end >= len(s.b) {
			return false
		}
		var p *check
		if c != nil {
			p = c.prop(s.b[start:end]) // every occurrence of a repeated key is checked
		}
		s.i = end + 1
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return false
		}
		s.i++
		s.ws()
		if !s.value(p) {
			return false
		}
		s.ws()
		if s.i >= len(s.b) {
			return false
		}
		switch s.b[s.i] {
		case ',':
			s.i++
			s.ws()
		case '}':
			s.i++
			s.depth--
			return true
		default:
			return false
		}
	}
}

func (s *checkScanner) array(c *check) bool {
	if s.depth++; s.depth > maxDepth {
		return false
	}
	var items *check
	if c != nil {
		items = c.items
	}
	s.i++ // '['
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		s.depth--
		return true
	}
	for {
		if !s.value(items) {
			return false
		}
		s.ws()
		if s.i >= len(s.b) {
			return false
		}
		switch s.b[s.i] {
		case ',':
			s.i++
			s.ws()
		case ']':
			s.i++
			s.depth--
			return true
		default:
			return false
		}
	}
}

// str checks the string at s.i (a '"'). Only a string with a format is materialised; one with
// escapes or bytes that are not UTF-8 is decoded by encoding/json, as the library's input is.
func (s *checkScanner) str(c *check) bool {
	start := s.i + 1
	plain, escaped := true, false
	for j := start; j < len(s.b); j++ {
		for j < len(s.b) && asciiText[s.b[j]] {
			j++
		}
		if j >= len(s.b) {
			return false
		}
		switch ch := s.b[j]; {
		case ch == '"':
			s.i = j + 1
			if c == nil || c.memo == nil {
				return true // only the type matters; encoding/json replaces bytes that are not UTF-8
			}
			raw := s.b[start:j]
			if escaped || !plain && !utf8.Valid(raw) {
				var v string
				if json.Unmarshal(s.b[start-1:j+1], &v) != nil {
					return false
				}
				raw = []byte(v)
			}
			return stringValid(c, raw)
		case ch == '\\':
			var ok bool
			if j, ok = jsonlex.Escape(s.b, j); !ok {
				return false
			}
			escaped = true
		case ch < 0x20:
			return false
		case ch >= utf8.RuneSelf:
			plain = false
		}
	}
	return false
}

// asciiText marks the ASCII bytes a JSON string holds as they are: not '"', '\\' or a control
// character.
var asciiText = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// stringValid reports whether the library accepts the string v for c's format and pattern.
// Format functions and patterns are pure, and a response repeats most of its URLs and timestamps
// (created_at, updated_at and confirmed_at are one instant), so the strings accepted recently are
// remembered.
func stringValid[S string | []byte](c *check, v S) bool {
	if memoHas(c.memo, v) {
		return true
	}
	str := string(v)
	if c.format != nil && c.format.Validate(str) != nil {
		return false
	}
	if c.pattern != nil && !c.pattern.MatchString(str) {
		return false
	}
	c.memo.add(str)
	return true
}

// validString reports whether the library would accept the string v against c (true), or that
// it must decide (false).
func (c *check) validString(v string) bool {
	if c == nil {
		return true
	}
	if !c.allows(kindString) {
		return false
	}
	return c.memo == nil || stringValid(c, v)
}

// formatMemo is a small ring of strings one format function accepted, safe for concurrent use.
type formatMemo struct {
	slots [8]atomic.Pointer[string]
	next  atomic.Uint32
}

// memoHas reports whether m holds v.
func memoHas[S string | []byte](m *formatMemo, v S) bool {
	for i := range m.slots {
		if p := m.slots[i].Load(); p != nil && *p == string(v) {
			return true
		}
	}
	return false
}

func (m *formatMemo) add(s string) {
	m.slots[m.next.Add(1)%uint32(len(m.slots))].Store(&s)
}

// number checks the number at s.i. The library types every JSON number as "number"; for
// "integer" it accepts an integral value, which a literal without fraction or exponent always is.
// Other literals are left to the library when only "integer" is allowed.
func (s *checkScanner) number(c *check) bool {
	j, frac, exp, ok := jsonlex.Number(s.b, s.i)
	if !ok {
		return false
	}
	integral := !frac && !exp
	lit := s.b[s.i:j]
	if len(lit) > 300 || exp {
		// beyond float64's range encoding/json fails; without an exponent, 300 bytes cannot get there
		if _, err := strconv.ParseFloat(string(lit), 64); err != nil {
			return false
		}
	}
	s.i = j
	return c.allows(kindNumber) || integral && c.kinds&kindInteger != 0
}

// describeCheck renders c for tests and debugging.
func describeCheck(c *check) string {
	var sb strings.Builder
	var walk func(c *check, indent string)
	walk = func(c *check, indent string) {
		if c == nil {
			sb.WriteString("any\n")
			return
		}
		fmt.Fprintf(&sb, "kinds=%07b", c.kinds)
		if c.format != nil {
			fmt.Fprintf(&sb, " format=%s", c.format.Name)
		}
		if c.pattern != nil {
			fmt.Fprintf(&sb, " pattern=%s", c.pattern)
		}
		sb.WriteString("\n")
		for _, k := range slices.Sorted(maps.Keys(c.props)) {
			sb.WriteString(indent + "  ." + k + ": ")
			walk(c.props[k], indent+"  ")
		}
		if c.items != nil {
			sb.WriteString(indent + "  []: ")
			walk(c.items, indent+"  ")
		}
	}
	walk(c, "")
	return sb.String()
}
