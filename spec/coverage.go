package spec

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/buger/jsonparser"
	"github.com/pb33f/go-yaml"
	"github.com/pb33f/libopenapi/datamodel/high/base"
)

// Kinds of values a PathCoverage counts, besides "enum:" followed by a documented enum value.
const (
	KindNull            = "null"             // a nullable member was null
	KindValue           = "value"            // a nullable member had a value
	KindFormatMatched   = "format:matched"   // a member with a format had a value without a format violation
	KindFormatUnmatched = "format:unmatched" // ... with a format violation
	KindEnumOther       = "enum:(other)"     // an enum member had a value the enum does not list
)

// maxCoveragePaths bounds the paths one Coverage tracks (the vendor document has 98), and
// maxCoverageDepth their nesting: a schema that refers to itself is followed that deep.
const (
	maxCoveragePaths = 10_000
	maxCoverageDepth = 32
)

// Coverage records which documented members of the confirm operation's response schemas (each
// documented JSON body and each documented header set) the validated responses exercised, and with
// which kinds of values. Build it with Spec.NewCoverage, Add every validated response, and read it
// with Report. Memory does not grow with the number of responses: one counter per path and kind.
// Safe for concurrent use.
type Coverage struct {
	spec      *Spec
	schemas   []*covSchema
	index     map[*responseInfo][]int // the schemas of each documented response
	mu        sync.Mutex
	responses int64
	perSchema []int64
	counts    []int64 // by slot
}

// covSchema is one documented response schema: a body (root is "$", itself no path) or a header set
// (root is nil).
type covSchema struct {
	status, part string
	root         *covNode
	paths        []*covNode // every path, sorted
}

// covNode is one documented path: present counts at slot, present non-null at slot+1, and each kind
// of value at kinds[kind].
type covNode struct {
	path  string
	name  string // the property or header name as documented
	slot  int
	kinds map[string]int
	enum  bool
	props map[string]*covNode
	items *covNode
}

// NewCoverage returns an empty Coverage of s's documented response schemas, their paths found by
// walking the schemas (properties, array items as "[]", allOf/anyOf/oneOf merged): each JSON
// property path such as "$.data.policies[].extra_fields", and each documented header as
// "header:CF-RAY", as Violation paths name them.
func (s *Spec) NewCoverage() *Coverage {
	c := &Coverage{spec: s, index: map[*responseInfo][]int{}}
	slots := 0
	for _, k := range slices.Sorted(maps.Keys(s.responses)) {
		r := s.responses[k]
		var parts []*covSchema
		if r.json != nil && r.json.schema != nil {
			b := covBuilder{budget: maxCoveragePaths}
			root := &covNode{path: "$", slot: -1, kinds: map[string]int{}}
			b.merge(root, r.json.schema, 0)
			parts = append(parts, &covSchema{status: k, part: "body", root: root, paths: b.paths})
		}
		if len(r.headers) > 0 {
			hs := &covSchema{status: k, part: "headers"}
			for _, h := range r.headers {
				n := &covNode{path: "header:" + h.name, name: h.name, kinds: map[string]int{}}
				(&covBuilder{}).merge(n, h.schema, maxCoverageDepth) // the header's own kinds only
				delete(n.kinds, KindNull)                            // a header is never null
				delete(n.kinds, KindValue)
				hs.paths = append(hs.paths, n)
			}
			parts = append(parts, hs)
		}
		for _, sc := range parts {
			slices.SortFunc(sc.paths, func(a, b *covNode) int { return strings.Compare(a.path, b.path) })
			for _, n := range sc.paths {
				n.slot, slots = slots, slots+2
				for _, kind := range slices.Sorted(maps.Keys(n.kinds)) {
					n.kinds[kind], slots = slots, slots+1
				}
			}
			c.index[r] = append(c.index[r], len(c.schemas))
			c.schemas = append(c.schemas, sc)
		}
	}
	c.perSchema, c.counts = make([]int64, len(c.schemas)), make([]int64, slots)
	return c
}

// covBuilder builds a path tree from schemas, within a budget of paths.
type covBuilder struct {
	budget int
	paths  []*covNode
}

// merge adds what sc documents about n's value to n: its kinds and its members.
func (b *covBuilder) merge(n *covNode, sc *base.Schema, depth int) {
	if sc == nil {
		return
	}
	if (sc.Nullable != nil && *sc.Nullable) || slices.Contains(sc.Type, "null") {
		n.kinds[KindNull], n.kinds[KindValue] = 0, 0
	}
	if sc.Format != "" {
		n.kinds[KindFormatMatched], n.kinds[KindFormatUnmatched] = 0, 0
	}
	for _, e := range sc.Enum {
		if e != nil && e.Kind == yaml.ScalarNode {
			n.enum, n.kinds["enum:"+canonicalScalar(e.Value)], n.kinds[KindEnumOther] = true, 0, 0
		}
	}
	if depth >= maxCoverageDepth {
		return
	}
	for name, p := range sc.Properties.FromOldest() {
		if n.props == nil {
			n.props = map[string]*covNode{}
		}
		if n.props[name] == nil {
			if n.props[name] = b.child(joinPath(n.path, name), name); n.props[name] == nil {
				return
			}
		}
		b.merge(n.props[name], p.Schema(), depth+1)
	}
	if sc.Items != nil && sc.Items.IsA() && sc.Items.A != nil {
		if n.items == nil {
			if n.items = b.child(n.path+"[]", ""); n.items == nil {
				return
			}
		}
		b.merge(n.items, sc.Items.A.Schema(), depth+1)
	}
	for _, sub := range slices.Concat(sc.AllOf, sc.AnyOf, sc.OneOf) {
		b.merge(n, sub.Schema(), depth+1)
	}
}

// child returns a new path, nil when the budget is spent.
func (b *covBuilder) child(path, name string) *covNode {
	if len(b.paths) >= b.budget {
		return nil
	}
	n := &covNode{path: path, name: name, kinds: map[string]int{}}
	b.paths = append(b.paths, n)
	return n
}

// canonicalScalar spells a scalar one way: a number by its value, anything else as it is. An enum
// value is counted by its text: the string "1" and the number 1 are one kind.
func canonicalScalar(s string) string {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return s
}

// WireHeader returns resp's header as the response carried it: Go's HTTP client moves
// Transfer-Encoding out of resp.Header into resp.TransferEncoding, where Coverage.Add (and
// ValidateResponse) would not see a header the document lists. WireHeader returns a copy with
// Transfer-Encoding put back, or resp.Header itself when there is nothing to put back.
func WireHeader(resp *http.Response) http.Header {
	if len(resp.TransferEncoding) == 0 || resp.Header.Get("Transfer-Encoding") != "" {
		return resp.Header
	}
	h := resp.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set("Transfer-Encoding", strings.Join(resp.TransferEncoding, ", "))
	return h
}

// Add records one validated response: resp as given to ValidateResponse, its Header as received
// (see WireHeader: put Transfer-Encoding back first), and vs, the violations ValidateResponse
// returned for it, which decide KindFormatMatched and KindFormatUnmatched. A response counts once
// per path and kind, however many array elements have it. A status the operation does not document
// counts in Responses only. The body is walked along the path tree with jsonparser, without
// decoding it into values; a body that is not JSON exercises nothing. Safe for concurrent use.
func (c *Coverage) Add(resp Response, vs []Violation) {
	w := covWalk{marks: make([]bool, len(c.counts))}
	for _, v := range vs {
		if w.violations == nil {
			w.violations = map[string]bool{}
		}
		w.violations[v.Path] = w.violations[v.Path] || v.Keyword == "format"
	}
	schemas := c.index[c.spec.responseFor(resp.Status)]
	for _, i := range schemas {
		if sc := c.schemas[i]; sc.root != nil {
			if v, t, _, err := jsonparser.Get(resp.Body); err == nil {
				w.value(sc.root, v, t)
			}
		} else {
			w.headers(sc.paths, resp.Header)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.responses++
	for _, i := range schemas {
		c.perSchema[i]++
	}
	for i, m := range w.marks {
		if m {
			c.counts[i]++
		}
	}
}

// covWalk marks the slots one response exercises.
type covWalk struct {
	marks []bool
	// violations holds the paths of the response's violations, true where one is a format
	// violation; nil when there is none.
	violations map[string]bool
	at         []string // the instance path being walked, kept only when violations is not nil
}

// value marks what a JSON value exercises at n, then walks its members.
func (w *covWalk) value(n *covNode, v []byte, t jsonparser.ValueType) {
	if n.slot >= 0 {
		w.mark(n, "", t == jsonparser.Null, func() string {
			if s, err := jsonparser.ParseString(v); err == nil && t == jsonparser.String {
				return s // unescaped
			}
			return string(v)
		})
	}
	switch {
	case t == jsonparser.Object && n.props != nil:
		_ = jsonparser.ObjectEach(v, func(k, cv []byte, ct jsonparser.ValueType, _ int) error {
			if c := n.props[string(k)]; c != nil {
				w.push(c.name)
				w.value(c, cv, ct)
				w.pop()
			}
			return nil
		})
	case t == jsonparser.Array && n.items != nil:
		i := 0
		_, _ = jsonparser.ArrayEach(v, func(cv []byte, ct jsonparser.ValueType, _ int, _ error) {
			if w.violations != nil {
				w.push("[" + strconv.Itoa(i) + "]")
			}
			w.value(n.items, cv, ct)
			w.pop()
			i++
		})
	}
}

// headers marks what a response's headers exercise.
func (w *covWalk) headers(ns []*covNode, h http.Header) {
	for _, n := range ns {
		if vals := h.Values(n.name); len(vals) > 0 {
			w.mark(n, n.path, false, func() string { return vals[0] })
		}
	}
}

// mark marks n present and the kinds of its value. path is n's instance path, "" for the one being
// walked; text returns the value as text, for an enum.
func (w *covWalk) mark(n *covNode, path string, null bool, text func() string) {
	w.marks[n.slot] = true
	if null {
		w.kind(n, KindNull)
		return
	}
	w.marks[n.slot+1] = true
	w.kind(n, KindValue)
	if _, ok := n.kinds[KindFormatMatched]; ok {
		switch format, found := w.violation(path); {
		case !found:
			w.kind(n, KindFormatMatched)
		case format:
			w.kind(n, KindFormatUnmatched)
		}
	}
	if n.enum && !w.kind(n, "enum:"+canonicalScalar(text())) {
		w.kind(n, KindEnumOther)
	}
}

// kind marks n's kind k, and reports whether n has it.
func (w *covWalk) kind(n *covNode, k string) bool {
	slot, ok := n.kinds[k]
	if ok {
		w.marks[slot] = true
	}
	return ok
}

// violation reports whether the response has a violation at path ("" for the instance being
// walked), and whether one of those is a format violation.
func (w *covWalk) violation(path string) (format, found bool) {
	if w.violations == nil {
		return false, false
	}
	if path == "" {
		path = renderSegments(w.at)
	}
	format, found = w.violations[path]
	return format, found
}

func (w *covWalk) push(seg string) {
	if w.violations != nil {
		w.at = append(w.at, seg)
	}
}

func (w *covWalk) pop() {
	if w.violations != nil {
		w.at = w.at[:len(w.at)-1]
	}
}

// CoverageReport is response coverage as plain data, for reports and for summary.json: per
// documented response schema, per documented path, how many validated responses exercised it.
// Documented and Exercised give "Exercised of Documented documented response fields exercised".
// Merge adds the reports of shards, read back from JSON or not.
type CoverageReport struct {
	Responses  int64            `json:"responses"`  // responses added
	Documented int              `json:"documented"` // paths the schemas document
	Exercised  int              `json:"exercised"`  // paths present in at least one response
	Schemas    []SchemaCoverage `json:"schemas"`    // sorted by Status, Part
}

// SchemaCoverage is the coverage of one documented response schema: the JSON body or the headers of
// one documented status.
type SchemaCoverage struct {
	Status     string         `json:"status"`    // the status as documented: "200", "4XX", "default"
	Part       string         `json:"part"`      // "body" or "headers"
	Responses  int64          `json:"responses"` // responses added that this schema documents
	Documented int            `json:"documented"`
	Exercised  int            `json:"exercised"`
	Paths      []PathCoverage `json:"paths"` // sorted by Path
	// NeverExercised lists the paths no response had, in Path order; empty, not null, when every
	// path was exercised.
	NeverExercised []string `json:"never_exercised"`
}

// PathCoverage counts, for one documented path, the responses in which it was present, present with
// a non-null value, and present with each kind of value: KindNull and KindValue for a nullable
// member, KindFormatMatched and KindFormatUnmatched for a member with a format, and "enum:VALUE"
// for each documented enum value (KindEnumOther for values it does not list). Every kind the
// document allows is listed, seen or not.
type PathCoverage struct {
	Path    string           `json:"path"` // "$.data.policies[].price", "header:CF-RAY"
	Present int64            `json:"present"`
	NonNull int64            `json:"non_null"`
	Kinds   map[string]int64 `json:"kinds,omitempty"`
}

// Report returns what c has recorded so far. Safe for concurrent use with Add.
func (c *Coverage) Report() CoverageReport {
	c.mu.Lock()
	counts, perSchema, responses := slices.Clone(c.counts), slices.Clone(c.perSchema), c.responses
	c.mu.Unlock()
	r := CoverageReport{Responses: responses, Schemas: make([]SchemaCoverage, 0, len(c.schemas))}
	for i, sc := range c.schemas {
		out := SchemaCoverage{Status: sc.status, Part: sc.part, Responses: perSchema[i],
			Paths: make([]PathCoverage, 0, len(sc.paths))}
		for _, n := range sc.paths {
			p := PathCoverage{Path: n.path, Present: counts[n.slot], NonNull: counts[n.slot+1]}
			for kind, slot := range n.kinds {
				if p.Kinds == nil {
					p.Kinds = map[string]int64{}
				}
				p.Kinds[kind] = counts[slot]
			}
			out.Paths = append(out.Paths, p)
		}
		r.Schemas = append(r.Schemas, out)
	}
	r.tally()
	return r
}

// Merge returns the sum of r and o, the reports of two shards: responses and counts are added path
// by path (a schema or a path only one of them has is kept as it is) and the figures recomputed.
// Merge is commutative; r and o are not modified.
func (r CoverageReport) Merge(o CoverageReport) CoverageReport {
	out := CoverageReport{Responses: r.Responses + o.Responses}
	schemas := map[[2]string]int{}
	paths := map[[3]string]int{}
	for _, sc := range slices.Concat(r.Schemas, o.Schemas) {
		i, ok := schemas[[2]string{sc.Status, sc.Part}]
		if !ok {
			i = len(out.Schemas)
			schemas[[2]string{sc.Status, sc.Part}] = i
			out.Schemas = append(out.Schemas, SchemaCoverage{Status: sc.Status, Part: sc.Part})
		}
		m := &out.Schemas[i]
		m.Responses += sc.Responses
		for _, p := range sc.Paths {
			j, ok := paths[[3]string{sc.Status, sc.Part, p.Path}]
			if !ok {
				j = len(m.Paths)
				paths[[3]string{sc.Status, sc.Part, p.Path}] = j
				m.Paths = append(m.Paths, PathCoverage{Path: p.Path})
			}
			mp := &m.Paths[j]
			mp.Present += p.Present
			mp.NonNull += p.NonNull
			for k, n := range p.Kinds {
				if mp.Kinds == nil {
					mp.Kinds = map[string]int64{}
				}
				mp.Kinds[k] += n
			}
		}
	}
	slices.SortFunc(out.Schemas, func(a, b SchemaCoverage) int {
		return strings.Compare(a.Status+"\x00"+a.Part, b.Status+"\x00"+b.Part)
	})
	for _, sc := range out.Schemas {
		slices.SortFunc(sc.Paths, func(a, b PathCoverage) int { return strings.Compare(a.Path, b.Path) })
	}
	out.tally()
	return out
}

// tally computes the figures and the never-exercised lists from the counts.
func (r *CoverageReport) tally() {
	r.Documented, r.Exercised = 0, 0
	for i := range r.Schemas {
		sc := &r.Schemas[i]
		sc.Documented, sc.Exercised, sc.NeverExercised = len(sc.Paths), 0, []string{}
		for _, p := range sc.Paths {
			if p.Present > 0 {
				sc.Exercised++
			} else {
				sc.NeverExercised = append(sc.NeverExercised, p.Path)
			}
		}
		r.Documented += sc.Documented
		r.Exercised += sc.Exercised
	}
}
