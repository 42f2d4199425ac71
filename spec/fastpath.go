package spec

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/xoneharness/xoneharness/internal/jsonlex"

	"github.com/pb33f/jsonschema/v6"
	"github.com/pb33f/libopenapi-validator/cache"
	"github.com/pb33f/libopenapi-validator/config"
	"github.com/pb33f/libopenapi-validator/helpers"
	"github.com/pb33f/libopenapi-validator/paths"
	"github.com/pb33f/libopenapi-validator/schema_validation"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
	"github.com/pb33f/libopenapi/orderedmap"
)

// fastPath lets ValidateResponse skip libopenapi-validator for a response that certainly
// conforms. It repeats the checks the validator makes for a documented response without headers
// (route, status, Content-Type) and validates the body against the very schema the validator
// compiled (taken from its schema cache), in two steps:
//
//  1. a check compiled from that schema (check.go) reads the body straight from its bytes;
//  2. when the check cannot say yes, the body is decoded once into the same values the
//     validator's decoder would produce and validated by the library's compiled schema.
//
// Whenever both fail or a case is not covered (headers documented, another media type, escapes
// it cannot decode exactly, an empty body, Strict), ValidateResponse takes the validator's path,
// so findings are unchanged: the fast path only ever answers "no violations", and only when the
// validator would.
type fastPath struct {
	model    *v3.Document
	pathOpts *config.ValidationOptions
	cache    cache.SchemaCache
	version  float32
	route    atomic.Pointer[routeMemo]
	compiled map[*v3.MediaType]*atomic.Pointer[bodySchema]
	headers  map[*v3.Response][]*headerCheck // documented headers, but Content-Type
	names    map[string]string               // every key of the document: decoded object keys are shared, not copied
}

// bodySchema is a response body's schema as the validator compiled it, and its check (nil when
// compileCheck refused the schema; checkErr says why).
type bodySchema struct {
	sch      *jsonschema.Schema
	chk      *check
	checkErr error
}

// headerCheck is a documented response header as the validator checks it: present if required,
// and each value (read as the string it is) accepted by the header's compiled schema, taken from
// the validator's schema cache once the validator has compiled it.
type headerCheck struct {
	name      string
	required  bool
	hasSchema bool
	key       uint64 // the validator's schema cache key
	chk       atomic.Pointer[check]
	refused   atomic.Bool // compileCheck refused the schema: the validator decides
}

// routeMemo remembers whether the last request seen routes to the confirm operation.
type routeMemo struct {
	method, scheme, host, path, rawPath string
	ok                                  bool
}

func newFastPath(model *v3.Document, rawDoc any, c cache.SchemaCache, op *v3.Operation) *fastPath {
	f := &fastPath{model: model, pathOpts: config.NewValidationOptions(config.WithFormatAssertions()), cache: c,
		version: helpers.VersionToFloat(model.Version), compiled: map[*v3.MediaType]*atomic.Pointer[bodySchema]{},
		headers: map[*v3.Response][]*headerCheck{}, names: map[string]string{}}
	collectNames(rawDoc, f.names)
	if op != nil && op.Responses != nil {
		add := func(r *v3.Response) {
			if r != nil {
				for _, mt := range r.Content.FromOldest() {
					if mt != nil {
						f.compiled[mt] = &atomic.Pointer[bodySchema]{}
					}
				}
				f.headers[r] = documentedHeaders(r)
			}
		}
		for _, r := range op.Responses.Codes.FromOldest() {
			add(r)
		}
		add(op.Responses.Default)
	}
	return f
}

// fastValid reports whether the validator would find nothing wrong with resp (true), or that the
// validator must decide (false).
func (s *Spec) fastValid(rq *http.Request, resp Response) bool {
	f := s.fast
	if rq == nil {
		rq = s.confirmRequest()
	}
	if f == nil || s.strict || !f.routes(rq, s.operation, s.requestView) {
		return false
	}
	codes := s.operation.Responses
	if codes == nil || codes.Codes == nil {
		return false
	}
	code := strconv.Itoa(resp.Status)
	r := codes.Codes.GetOrZero(code)
	if r == nil && len(code) == 3 {
		r = codes.Codes.GetOrZero(code[:1] + "XX")
	}
	if r == nil {
		r = codes.Default
	}
	if r == nil || orderedmap.Len(r.Content) == 0 {
		return false
	}
	if hs, ok := f.headers[r]; !ok || !f.headersValid(hs, resp.Header) {
		return false // a response newFastPath did not see has headers it does not know
	}
	ct := resp.Header.Get("Content-Type")
	if !strings.EqualFold(ct, "application/json") && !strings.EqualFold(ct, "application/json; charset=utf-8") {
		return false
	}
	mt, ok := helpers.FindMediaType(r.Content, ct)
	if !ok || mt == nil || mt.Schema == nil || isEmptyBody(resp.Body) {
		return false
	}
	slot := f.compiled[mt]
	if slot == nil {
		return false
	}
	bs := slot.Load()
	if bs == nil {
		low := mt.Schema.Schema()
		if low == nil || low.GoLow() == nil {
			return false
		}
		key := schema_validation.SchemaCacheKey(low.GoLow().Hash(), f.version, schema_validation.SchemaValidationPurposeResponseBody)
		e, ok := f.cache.Load(key)
		if !ok || e == nil || e.CompiledSchema == nil {
			return false // the validator compiles it on its first use
		}
		bs = &bodySchema{sch: e.CompiledSchema}
		bs.chk, bs.checkErr = compileCheck(bs.sch)
		slot.Store(bs)
	}
	if bs.chk != nil && bs.chk.valid(resp.Body) {
		return true
	}
	v, ok := decodeJSON(resp.Body, f.names)
	if !ok {
		return false
	}
	return bs.sch.Validate(v) == nil
}

// documentedHeaders lists r's documented headers as the validator checks them (it ignores a
// documented Content-Type), with their schema cache keys. A header whose key cannot be computed
// is refused from the start.
func documentedHeaders(r *v3.Response) []*headerCheck {
	var out []*headerCheck
	for name, h := range r.Headers.FromOldest() {
		if h == nil || strings.EqualFold(name, "Content-Type") {
			continue
		}
		hc := &headerCheck{name: name, required: h.Required}
		if h.Schema != nil {
			if sch := h.Schema.Schema(); sch != nil {
				hc.hasSchema = true
				if low := sch.GoLow(); low != nil {
					version := float32(3.1) // what the validator assumes without an index
					if idx := low.GetIndex(); idx != nil {
						if v, ok := idx.ResolveDocumentVersion(); ok {
							version = v
						}
					}
					hc.key = schema_validation.SchemaCacheKey(low.Hash(), version, schema_validation.SchemaValidationPurposeGeneric)
				} else {
					hc.refused.Store(true)
				}
			}
		}
		out = append(out, hc)
	}
	return out
}

// headersValid reports whether the validator would accept the headers h against the documented
// ones (true), or that it must decide (false). Every value of a documented header present (in any
// case) must pass its check as a string, which is a reading the validator tries for a schema that
// allows strings; a header schema the validator has not compiled yet sends the response to the
// validator, which compiles it.
func (f *fastPath) headersValid(documented []*headerCheck, h http.Header) bool {
	for _, d := range documented {
		found := false
		for name, values := range h {
			if !strings.EqualFold(name, d.name) {
				continue
			}
			found = true
			if !d.hasSchema {
				continue
			}
			c := d.check(f.cache)
			if c == nil {
				return false
			}
			for _, v := range values {
				if !c.validString(v) {
					return false
				}
			}
		}
		if d.required && !found {
			return false
		}
	}
	return true
}

// check returns d's check, or nil while the validator has not compiled its schema or when
// compileCheck refuses it.
func (d *headerCheck) check(c cache.SchemaCache) *check {
	if chk := d.chk.Load(); chk != nil {
		return chk
	}
	if d.refused.Load() {
		return nil
	}
	e, ok := c.Load(d.key)
	if !ok || e == nil || e.CompiledSchema == nil {
		return nil
	}
	chk, err := compileCheck(e.CompiledSchema)
	if err != nil || chk == nil {
		d.refused.Store(true)
		return nil
	}
	d.chk.Store(chk)
	return chk
}

// routes reports whether rq is a POST that the validator routes to the confirm operation,
// remembering the answer for the last request line seen.
func (f *fastPath) routes(rq *http.Request, op *v3.Operation, view func(*http.Request) *http.Request) bool {
	if rq == nil || rq.URL == nil || rq.Method != http.MethodPost {
		return false
	}
	u := rq.URL
	if m := f.route.Load(); m != nil && m.method == rq.Method && m.scheme == u.Scheme && m.host == u.Host &&
		m.path == u.Path && m.rawPath == u.RawPath {
		return m.ok
	}
	item, errs, _ := paths.FindPath(view(rq), f.model, f.pathOpts) // a view: FindPath may annotate it
	ok := item != nil && len(errs) == 0 && item.Post == op
	f.route.Store(&routeMemo{method: rq.Method, scheme: u.Scheme, host: u.Host, path: u.Path, rawPath: u.RawPath, ok: ok})
	return ok
}

// collectNames adds every object key found in v to names.
func collectNames(v any, names map[string]string) {
	switch t := v.(type) {
	case map[string]any:
		for k, c := range t {
			names[k] = k
			collectNames(c, names)
		}
	case []any:
		for _, c := range t {
			collectNames(c, names)
		}
	}
}

// maxDepth bounds the nesting decodeJSON follows (encoding/json allows 10000; deeper bodies take
// the validator's path).
const maxDepth = 1000

// decodeJSON decodes b as encoding/json decodes into an `any` (map[string]any, []any, float64,
// string, bool, nil; the last of duplicate keys wins) and reports false for anything it cannot
// decode exactly the same way: invalid JSON, trailing data, numbers out of range, deep nesting.
// Strings with escapes or bytes that are not valid UTF-8 are unquoted by encoding/json itself.
//
// Object keys found in names are shared with it instead of allocated (names may be nil).
func decodeJSON(b []byte, names map[string]string) (any, bool) {
	d := jsonDecoder{b: b, s: string(b), names: names}
	d.ws()
	v, ok := d.value()
	if !ok {
		return nil, false
	}
	d.ws()
	return v, d.i == len(d.b)
}

type jsonDecoder struct {
	b       []byte
	s       string // b as one string: decoded strings and numbers are slices of it, not copies
	i       int
	depth   int
	names   map[string]string
	members []member // stack of the members of the objects being decoded
	items   []any    // stack of the items of the arrays being decoded
}

type member struct {
	k string
	v any
}

func (d *jsonDecoder) ws() { d.i = jsonlex.Space(d.b, d.i) }

func (d *jsonDecoder) value() (any, bool) {
	if d.i >= len(d.b) {
		return nil, false
	}
	switch c := d.b[d.i]; {
	case c == '{':
		return d.object()
	case c == '[':
		return d.array()
	case c == '"':
		s, ok := d.str()
		return s, ok
	case c == 't':
		return true, d.lit("true")
	case c == 'f':
		return false, d.lit("false")
	case c == 'n':
		return nil, d.lit("null")
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	}
	return nil, false
}

func (d *jsonDecoder) lit(word string) bool {
	var ok bool
	d.i, ok = jsonlex.Literal(d.b, d.i, word)
	return ok
}

func (d *jsonDecoder) object() (any, bool) {
	if d.depth++; d.depth > maxDepth {
		return nil, false
	}
	d.i++ // '{'
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		d.depth--
		return map[string]any{}, true
	}
	mark := len(d.members) // members are gathered first so the map is made at its size
	for {
		if d.i >= len(d.b) || d.b[d.i] != '"' {
			return nil, false
		}
		k, ok := d.key()
		if !ok {
			return nil, false
		}
		d.ws()
		if d.i >= len(d.b) || d.b[d.i] != ':' {
			return nil, false
		}
		d.i++
		d.ws()
		v, ok := d.value()
		if !ok {
			return nil, false
		}
		d.members = append(d.members, member{k, v})
		d.ws()
		if d.i >= len(d.b) {
			return nil, false
		}
		switch d.b[d.i] {
		case ',':
			d.i++
			d.ws()
		case '}':
			d.i++
			d.depth--
			m := make(map[string]any, len(d.members)-mark)
			for _, kv := range d.members[mark:] {
				m[kv.k] = kv.v // in order: the last of duplicate keys wins
			}
			clear(d.members[mark:])
			d.members = d.members[:mark]
			return m, true
		default:
			return nil, false
		}
	}
}

func (d *jsonDecoder) array() (any, bool) {
	if d.depth++; d.depth > maxDepth {
		return nil, false
	}
	d.i++ // '['
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == ']' {
		d.i++
		d.depth--
		return make([]any, 0), true
	}
	mark := len(d.items) // items are gathered first so the slice is made at its size
	for {
		v, ok := d.value()
		if !ok {
			return nil, false
		}
		d.items = append(d.items, v)
		d.ws()
		if d.i >= len(d.b) {
			return nil, false
		}
		switch d.b[d.i] {
		case ',':
			d.i++
			d.ws()
		case ']':
			d.i++
			d.depth--
			a := make([]any, len(d.items)-mark)
			copy(a, d.items[mark:])
			clear(d.items[mark:])
			d.items = d.items[:mark]
			return a, true
		default:
			return nil, false
		}
	}
}

// key decodes an object key, shared with d.names when it is there.
func (d *jsonDecoder) key() (string, bool) {
	start := d.i + 1
	for j := start; j < len(d.b); j++ {
		if c := d.b[j]; c == '"' {
			if k, ok := d.names[string(d.b[start:j])]; ok { // no allocation
				d.i = j + 1
				return k, true
			}
			break
		} else if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
	}
	return d.str()
}

// str decodes the string starting at d.i (a '"').
func (d *jsonDecoder) str() (string, bool) {
	start := d.i + 1
	plain := true
	for j := start; j < len(d.b); j++ {
		switch c := d.b[j]; {
		case c == '"':
			raw := d.b[start:j]
			if plain || utf8.Valid(raw) {
				d.i = j + 1
				return d.s[start:j], true
			}
			return d.unquote(j + 1)
		case c == '\\':
			for k := j + 2; k < len(d.b); k++ { // find the closing quote; j+1 is escaped
				switch d.b[k] {
				case '\\':
					k++
				case '"':
					return d.unquote(k + 1)
				}
			}
			return "", false
		case c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			plain = false
		}
	}
	return "", false
}

// unquote lets encoding/json decode the string token d.b[d.i:end].
func (d *jsonDecoder) unquote(end int) (string, bool) {
	var s string
	if json.Unmarshal(d.b[d.i:end], &s) != nil {
		return "", false
	}
	d.i = end
	return s, true
}

// number decodes a JSON number as encoding/json does (strconv.ParseFloat).
func (d *jsonDecoder) number() (any, bool) {
	j, _, _, ok := jsonlex.Number(d.b, d.i)
	if !ok {
		return nil, false
	}
	f, err := strconv.ParseFloat(d.s[d.i:j], 64)
	if err != nil {
		return nil, false
	}
	d.i = j
	return f, true
}
