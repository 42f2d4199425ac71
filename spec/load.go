package spec

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"

	"github.com/pb33f/go-yaml"
	"github.com/pb33f/libopenapi"
	"github.com/pb33f/libopenapi/datamodel"
	highoverlay "github.com/pb33f/libopenapi/datamodel/high/overlay"
	"github.com/pb33f/libopenapi/overlay"
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
// The parsing and model building that libopenapi cannot cancel finish in the background, bounded by
// the loader's limits. Default: context.Background().
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

// parseTree parses a document or an overlay (JSON in any valid spelling, or YAML) into a node tree
// and measures it against the limits, before libopenapi sees it; input names it in errors.
func parseTree(input string, b []byte) (*yaml.Node, error) {
	if len(b) > MaxDocumentSize {
		return nil, &LimitError{Input: input, Limit: LimitSize, Max: MaxDocumentSize, Seen: int64(len(b))}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(normalize(b), &root); err != nil {
		return nil, fmt.Errorf("parse %s: %w: %w", input, ErrUnreadable, err)
	}
	return &root, measureTree(input, &root)
}

// measureTree checks a tree against MaxAliases, MaxDepth and MaxNodes, aliases expanded.
func measureTree(input string, root *yaml.Node) error {
	m := measurer{input: input, memo: map[*yaml.Node]extent{}}
	e, err := m.measure(root, 0)
	if err == nil && e.nodes > MaxNodes {
		err = &LimitError{Input: input, Limit: LimitNodes, Max: MaxNodes, Seen: e.nodes}
	}
	return err
}

// parseDocument pre-checks an OpenAPI 3 document within the limits.
func parseDocument(b []byte) (*yaml.Node, error) {
	root, err := parseTree("document", b)
	if err != nil {
		return nil, err
	}
	if v := mapGet(root, "openapi"); v == nil || v.Kind != yaml.ScalarNode || !strings.HasPrefix(v.Value, "3.") {
		return nil, fmt.Errorf("parse document: no \"openapi: 3.x\" at the top: %w", ErrUnreadable)
	}
	return root, nil
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

// corrected is a document read within the limits and corrected by libopenapi's overlay engine.
type corrected struct {
	given   *yaml.Node           // the document as given, as the pre-check parsed it
	overlay *highoverlay.Overlay // nil without an overlay
	// notApplied says why the overlay does not apply to the document (an action that matches
	// nothing, conflicts or fails); doc is nil then.
	notApplied error
	doc        libopenapi.Document // the corrected document (the given one without an overlay)
}

// read pre-checks the document and the overlay (unless noOverlay), has libopenapi apply the
// overlay, and hands the result to libopenapi within the limits: the overlay's output is refused
// with a *LimitError (Input "overlay") when it exceeds a limit. libopenapi's overlay engine and
// document take bytes only, so with an overlay the document is parsed three times (pre-check,
// overlay engine, corrected document) and the overlay twice (pre-check, libopenapi); without, the
// document twice (pre-check, libopenapi).
func read(doc, overlayDoc []byte, noOverlay bool) (*corrected, error) {
	norm := normalize(doc) // the overlay engine's parser refuses what normalize rewrites
	given, err := parseDocument(norm)
	if err != nil {
		return nil, err
	}
	c := &corrected{given: given}
	if noOverlay {
		c.doc, err = newDocument("document", norm)
		return c, err
	}
	if _, err := parseTree("overlay", overlayDoc); err != nil {
		return nil, err
	}
	if c.overlay, err = libopenapi.NewOverlayDocument(normalize(overlayDoc)); err != nil {
		return nil, fmt.Errorf("read overlay: %w: not an OpenAPI Overlay document: %w", ErrDocument, err)
	}
	src, err := applyOverlay(norm, c.overlay)
	if c.notApplied = err; err != nil {
		return c, nil
	}
	if len(src) > MaxDocumentSize {
		return nil, &LimitError{Input: "overlay", Limit: LimitSize, Max: MaxDocumentSize, Seen: int64(len(src))}
	}
	if c.doc, err = newDocument("the corrected document", src); err != nil {
		return nil, err
	}
	// Parsing expands no alias: the tree is measured before any model is built from it.
	return c, measureTree("overlay", c.doc.GetSpecInfo().RootNode)
}

// applyOverlay applies ov to doc with libopenapi's overlay engine. An action the engine fails, and
// one it only warns about (a target that matches nothing, copy and update both set), is an error
// naming the action by index, target and description. The engine's own work is bounded by the
// limits of its inputs only: an update of u nodes made at t targets costs u×t before the output is
// measured.
func applyOverlay(doc []byte, ov *highoverlay.Overlay) ([]byte, error) {
	res, err := overlay.Apply(doc, ov)
	var ae *overlay.OverlayError
	switch {
	case errors.As(err, &ae) && ae.Action != nil:
		a := describeAction(ae.Action, slices.Index(ov.Actions, ae.Action))
		return nil, fmt.Errorf("apply %s: %w: %w", a, ErrDocument, ae.Cause)
	case err != nil:
		return nil, fmt.Errorf("apply overlay: %w: %w", ErrDocument, err)
	case len(res.Warnings) > 0:
		w := res.Warnings[0]
		a := describeAction(w.Action, slices.Index(ov.Actions, w.Action))
		return nil, fmt.Errorf("apply %s: %w: the action was not applied: %s", a, ErrDocument, w.Message)
	}
	return res.Bytes, nil
}

// newDocument hands b (what names it in errors) to libopenapi; references to files and URLs are not
// followed.
func newDocument(what string, b []byte) (libopenapi.Document, error) {
	cfg := datamodel.NewDocumentConfiguration()
	cfg.Logger = slog.New(slog.DiscardHandler)
	doc, err := libopenapi.NewDocumentWithConfiguration(b, cfg)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w: %w", what, ErrUnreadable, err)
	}
	return doc, nil
}
