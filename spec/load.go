package spec

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/pb33f/go-yaml"
	"github.com/pb33f/libopenapi/datamodel"
	v3high "github.com/pb33f/libopenapi/datamodel/high/v3"
	lowbase "github.com/pb33f/libopenapi/datamodel/low/base"
	v3low "github.com/pb33f/libopenapi/datamodel/low/v3"
	"github.com/pb33f/libopenapi/utils"
)

// Limits of the one loader behind ReadDocument, Load, Lint and Diff, for a document and for an
// overlay alike. The vendor document is 7 KB: 718 nodes, 21 levels deep, no alias.
const (
	// MaxDocumentSize is the largest document or overlay, in bytes (8 MiB).
	MaxDocumentSize = 8 << 20
	// MaxAliases is the most YAML alias nodes (*name) one document or overlay may hold.
	MaxAliases = 1000
	// MaxNodes is the most YAML nodes a document may have once every alias is expanded; after the
	// overlay too.
	MaxNodes = 1_000_000
	// MaxDepth is the deepest nesting of mappings and sequences, aliases expanded.
	MaxDepth = 128
)

// Names of the limits, as LimitError.Limit reports them: what each counts.
const (
	LimitSize    = "bytes"
	LimitAliases = "aliases"
	LimitNodes   = "nodes after alias expansion"
	LimitDepth   = "levels of nesting"
)

// LimitError is the error (wrapped) of ReadDocument, Load, Lint and Diff when a document or an
// overlay exceeds a limit of the loader, refused before any parser expands it: a YAML alias bomb of
// a few kilobytes stands for billions of nodes. It wraps ErrDocument, not ErrUnreadable: the input
// may be well formed. Test with errors.As.
type LimitError struct {
	Input string // "document" or "overlay"
	Limit string // LimitSize, LimitAliases, LimitNodes or LimitDepth
	Max   int64  // the limit: MaxDocumentSize, MaxAliases, MaxNodes or MaxDepth
	// Seen is what the loader saw before it stopped: the bytes given (ReadDocument reads no more
	// than MaxDocumentSize+1), the aliases counted, the node count after expansion (exact, up to
	// math.MaxInt64), or the depth reached.
	Seen int64
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%s exceeds a limit: %d %s, at most %d", e.Input, e.Seen, e.Limit, e.Max)
}

// Is makes a LimitError match ErrDocument.
func (e *LimitError) Is(target error) bool { return target == ErrDocument }

// Context makes Load, Lint and Diff return ctx.Err() (wrapped) within milliseconds of ctx's end.
// The parsing and model building that libopenapi cannot cancel finish in the background, bounded
// by the loader's limits. Default: context.Background().
func Context(ctx context.Context) Option { return func(o *options) { o.ctx = ctx } }

// interruptible runs f in a goroutine and returns its result, or ctx's error as soon as ctx ends.
func interruptible[T any](ctx context.Context, f func() (T, error)) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := f()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

// document is a parsed OpenAPI 3 document: its tree, its openapi version and its node count with
// aliases expanded.
type document struct {
	root    *yaml.Node
	version string
	nodes   int64
}

// parseTree parses a document or an overlay (JSON in any valid spelling, or YAML) into a node tree
// and measures it against the limits; input names it in errors. It returns the expanded node count.
func parseTree(input string, b []byte) (*yaml.Node, int64, error) {
	if len(b) > MaxDocumentSize {
		return nil, 0, &LimitError{Input: input, Limit: LimitSize, Max: MaxDocumentSize, Seen: int64(len(b))}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(normalize(b), &root); err != nil {
		return nil, 0, fmt.Errorf("parse %s: %w: %w", input, ErrUnreadable, err)
	}
	nodes, err := measureTree(input, &root)
	if err != nil {
		return nil, 0, err
	}
	return &root, nodes, nil
}

// measureTree checks a tree against MaxAliases, MaxDepth and MaxNodes and returns its node count
// with aliases expanded.
func measureTree(input string, root *yaml.Node) (int64, error) {
	m := measurer{input: input, memo: map[*yaml.Node]extent{}}
	e, err := m.measure(root, 0)
	if err != nil {
		return 0, err
	}
	if e.nodes > MaxNodes {
		return 0, &LimitError{Input: input, Limit: LimitNodes, Max: MaxNodes, Seen: e.nodes}
	}
	return e.nodes, nil
}

// parseDocument parses an OpenAPI 3 document within the limits.
func parseDocument(b []byte) (*document, error) {
	root, nodes, err := parseTree("document", b)
	if err != nil {
		return nil, err
	}
	v := mapGet(root, "openapi")
	if v == nil || v.Kind != yaml.ScalarNode || !strings.HasPrefix(v.Value, "3.") {
		return nil, fmt.Errorf("parse document: no \"openapi: 3.x\" at the top: %w", ErrUnreadable)
	}
	return &document{root: root, version: v.Value, nodes: nodes}, nil
}

// extent is the size of a subtree with its aliases expanded.
type extent struct {
	nodes  int64 // saturated at math.MaxInt64
	height int64
}

// measurer counts aliases and the expanded size and depth of a tree, measuring each anchored
// subtree once (memo), so an alias bomb costs what its text costs.
type measurer struct {
	input   string
	aliases int64
	memo    map[*yaml.Node]extent // anchored nodes; height -1 while being measured
}

func (m *measurer) measure(n *yaml.Node, depth int64) (extent, error) {
	if depth > MaxDepth {
		return extent{}, &LimitError{Input: m.input, Limit: LimitDepth, Max: MaxDepth, Seen: depth}
	}
	if n.Kind == yaml.AliasNode {
		if m.aliases++; m.aliases > MaxAliases {
			return extent{}, &LimitError{Input: m.input, Limit: LimitAliases, Max: MaxAliases, Seen: m.aliases}
		}
		if n.Alias == nil {
			return extent{nodes: 1, height: 1}, nil
		}
		n = n.Alias
	}
	if e, ok := m.memo[n]; ok {
		if e.height < 0 {
			return extent{}, fmt.Errorf("parse %s: %w: an alias refers to a node that contains it", m.input, ErrUnreadable)
		}
		if depth+e.height-1 > MaxDepth {
			return extent{}, &LimitError{Input: m.input, Limit: LimitDepth, Max: MaxDepth, Seen: depth + e.height - 1}
		}
		return e, nil
	}
	if n.Anchor != "" {
		m.memo[n] = extent{height: -1}
	}
	e := extent{nodes: 1, height: 1}
	for _, c := range n.Content {
		ce, err := m.measure(c, depth+1)
		if err != nil {
			return extent{}, err
		}
		e.nodes = min(e.nodes, math.MaxInt64-ce.nodes) + ce.nodes // saturating add
		e.height = max(e.height, ce.height+1)
	}
	if n.Anchor != "" {
		m.memo[n] = e
	}
	return e, nil
}

// newModel builds libopenapi's model of a parsed document (after the overlay), without parsing it
// again as libopenapi.NewDocument would; src is the document as given, for line counts. References
// to files and URLs are not followed.
func (d *document) newModel(src []byte) (*v3low.Document, *v3high.Document, error) {
	root, version := d.root, d.version
	info := &datamodel.SpecInfo{
		SpecType: utils.OpenApi3, Version: version, SpecFormat: datamodel.OAS3, VersionNumeric: 3.0,
		SpecFileType: datamodel.YAMLFileType, SpecBytes: &src, RootNode: root,
		NumLines: strings.Count(string(src), "\n") + 1,
	}
	switch {
	case strings.HasPrefix(version, "3.1"):
		info.SpecFormat, info.VersionNumeric = datamodel.OAS31, 3.1
	case strings.HasPrefix(version, "3.2"):
		info.SpecFormat, info.VersionNumeric = datamodel.OAS32, 3.2
	}
	low, err := v3low.CreateDocumentFromConfig(info, datamodel.NewDocumentConfiguration())
	if low == nil || err != nil {
		return nil, nil, fmt.Errorf("build model: %w: %w", ErrUnreadable, err)
	}
	high := v3high.NewDocument(low)
	lowbase.ClearSchemaQuickHashMap() // as BuildV3Model does: the cache is libopenapi's, process-wide
	return low, high, nil
}
