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

// maxCoveragePaths bounds the paths of one response schema (the vendor document has 98), and
// maxCoverageDepth their nesting: a schema that refers to itself is followed that deep.
const (
	maxCoveragePaths = 10_000
	maxCoverageDepth = 32
)

// Coverage records which documented members of the confirm operation's response bodies and header
// sets the validated responses exercised, and with which kinds of values: build it with
// Spec.NewCoverage, Add every validated response, read it with Report. Memory does not grow with
// the number of responses. Safe for concurrent use.
type Coverage struct {
	spec    *Spec
	schemas []*covSchema
	index   map[*responseInfo][]int // the schemas of each documented response
	mu      sync.Mutex
	counts  []int64 // by slot; slot 0 counts every response added
}

// covSchema is one documented response schema: a body (root is "$", itself no path) or a header set
// (root is nil). The responses it documents count at slot.
type covSchema struct {
	status, part string
	slot         int
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

// NewCoverage returns an empty Coverage of s's documented response schemas: each JSON property path
// such as "$.data.policies[].extra_fields" (allOf/anyOf/oneOf merged), and each documented header
// as "header:CF-RAY", as Violation paths name them.
func (s *Spec) NewCoverage() *Coverage {
	c := &Coverage{spec: s, index: map[*responseInfo][]int{}}
	slots := 1
	for _, k := range slices.Sorted(maps.Keys(s.responses)) {
		r := s.responses[k]
		var parts []*covSchema
		if r.schema != nil {
			var b covBuilder
			root := &covNode{path: "$", slot: -1, kinds: map[string]int{}, props: map[string]*covNode{}}
			b.merge(root, r.schema, 0)
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
			sc.slot, slots = slots, slots+1
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
	c.counts = make([]int64, slots)
	return c
}

// covBuilder builds a path tree from schemas, at most maxCoveragePaths paths.
type covBuilder struct{ paths []*covNode }

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

// child returns a new path, nil when maxCoveragePaths are built.
func (b *covBuilder) child(path, name string) *covNode {
	if len(b.paths) >= maxCoveragePaths {
		return nil
	}
	n := &covNode{path: path, name: name, kinds: map[string]int{}, props: map[string]*covNode{}}
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

// WireHeader returns resp's header as the response carried it: a copy with the Transfer-Encoding
// Go's HTTP client moved into resp.TransferEncoding put back (Coverage.Add and ValidateResponse
// would not see it otherwise), or resp.Header itself when there is nothing to put back.
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
// (see WireHeader), and vs, the violations ValidateResponse returned for it, which decide
// KindFormatMatched and KindFormatUnmatched. A response counts once per path and kind, however many
// array elements have it; an undocumented status counts in Responses only; a body that is not JSON
// exercises nothing. Safe for concurrent use.
func (c *Coverage) Add(resp Response, vs []Violation) {
	w := covWalk{marks: make([]bool, len(c.counts))}
	w.marks[0] = true
	if len(vs) > 0 {
		w.violations = make(map[string]bool, len(vs))
	}
	for _, v := range vs {
		w.violations[v.Path] = w.violations[v.Path] || v.Keyword == "format"
	}
	for _, i := range c.index[c.spec.responseFor(resp.Status)] {
		sc := c.schemas[i]
		w.marks[sc.slot] = true
		if sc.root != nil {
			if v, t, _, err := jsonparser.Get(resp.Body); err == nil {
				w.value(sc.root, v, t)
			}
			continue
		}
		for _, n := range sc.paths { // a header set
			if vals := resp.Header.Values(n.name); len(vals) > 0 {
				w.mark(n, n.path, false, func() string { return vals[0] })
			}
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
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
	at         []string // the instance path being walked (array indexes only when violations is not nil)
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
	case t == jsonparser.Object && len(n.props) > 0:
		_ = jsonparser.ObjectEach(v, func(k, cv []byte, ct jsonparser.ValueType, _ int) error {
			if c := n.props[string(k)]; c != nil {
				w.at = append(w.at, c.name)
				w.value(c, cv, ct)
				w.at = w.at[:len(w.at)-1]
			}
			return nil
		})
	case t == jsonparser.Array && n.items != nil:
		i := 0
		_, _ = jsonparser.ArrayEach(v, func(cv []byte, ct jsonparser.ValueType, _ int, _ error) {
			seg := "" // an index is rendered only when a violation may be at it
			if w.violations != nil {
				seg = "[" + strconv.Itoa(i) + "]"
			}
			w.at = append(w.at, seg)
			w.value(n.items, cv, ct)
			w.at = w.at[:len(w.at)-1]
			i++
		})
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
		if path == "" && w.violations != nil {
			path = renderSegments(w.at)
		}
		switch format, found := w.violations[path]; {
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

// CoverageReport is response coverage as plain data, for reports and for summary.json: per
// documented response schema, per documented path, how many validated responses exercised it.
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
// a non-null value, and present with each kind of value the document allows (the Kind* constants
// and "enum:VALUE"), every kind listed, seen or not.
type PathCoverage struct {
	Path    string           `json:"path"` // "$.data.policies[].price", "header:CF-RAY"
	Present int64            `json:"present"`
	NonNull int64            `json:"non_null"`
	Kinds   map[string]int64 `json:"kinds,omitempty"`
}

// Report returns what c has recorded so far. Safe for concurrent use with Add.
func (c *Coverage) Report() CoverageReport {
	c.mu.Lock()
	counts := slices.Clone(c.counts)
	c.mu.Unlock()
	r := CoverageReport{Responses: counts[0], Schemas: make([]SchemaCoverage, 0, len(c.schemas))}
	for _, sc := range c.schemas {
		out := SchemaCoverage{Status: sc.status, Part: sc.part, Responses: counts[sc.slot],
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

// Merge returns the sum of r and o, the reports of two shards, added path by path (a path only one
// of them has is kept as it is). Merge is commutative; r and o are not modified.
func (r CoverageReport) Merge(o CoverageReport) CoverageReport {
	out := CoverageReport{Responses: r.Responses + o.Responses}
	schemas, paths := map[[2]string]int{}, map[[3]string]int{}
	for _, sc := range slices.Concat(r.Schemas, o.Schemas) {
		k := [2]string{sc.Status, sc.Part}
		if _, ok := schemas[k]; !ok {
			schemas[k] = len(out.Schemas)
			out.Schemas = append(out.Schemas, SchemaCoverage{Status: sc.Status, Part: sc.Part})
		}
		m := &out.Schemas[schemas[k]]
		m.Responses += sc.Responses
		for _, p := range sc.Paths {
			pk := [3]string{sc.Status, sc.Part, p.Path}
			if _, ok := paths[pk]; !ok {
				paths[pk] = len(m.Paths)
				m.Paths = append(m.Paths, PathCoverage{Path: p.Path})
			}
			mp := &m.Paths[paths[pk]]
			mp.Present, mp.NonNull = mp.Present+p.Present, mp.NonNull+p.NonNull
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
