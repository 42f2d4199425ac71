package spec

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"regexp"
	"strings"

	"github.com/pb33f/go-yaml"
	"github.com/pb33f/libopenapi"
	"github.com/pb33f/libopenapi/datamodel"
	highoverlay "github.com/pb33f/libopenapi/datamodel/high/overlay"
	"github.com/pb33f/libopenapi/overlay"
)

// ErrDocument is wrapped by the errors of Load, Lint, Diff and ReadDocument when a document or an
// overlay cannot be tested against: it does not parse (ErrUnreadable), exceeds a limit (a
// *LimitError), has no confirm operation, or the overlay does not apply. Test with errors.Is.
var ErrDocument = errors.New("unusable document")

// ErrUnreadable is wrapped, with ErrDocument, by the errors of Load, Lint, Diff and ReadDocument
// when a document does not parse as an OpenAPI 3 document. Test with errors.Is.
var ErrUnreadable error = &documentError{"document is not a readable OpenAPI 3 document"}

// documentError is a sentinel that is also ErrDocument.
type documentError struct{ msg string }

func (e *documentError) Error() string        { return e.msg }
func (e *documentError) Is(target error) bool { return target == ErrDocument }

// ReadDocument reads an OpenAPI 3 document (JSON in any valid spelling, or YAML) from path and
// returns its bytes as they are in the file, for FromDocument, Lint and Diff, after checking them
// as Load would. Errors wrap the file system's error (os.ErrNotExist...), ErrUnreadable or a
// *LimitError.
func ReadDocument(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("spec: read document: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxDocumentSize+1))
	if err == nil {
		_, err = parseDocument(b)
	}
	if err != nil {
		return nil, fmt.Errorf("spec: read document: %s: %w", path, err)
	}
	return b, nil
}

// yamlRefused matches the JSON escapes a YAML parser refuses ("\/" and UTF-16 surrogates, paired or
// not), and "\\" so that a match never starts inside an escaped backslash.
var yamlRefused = regexp.MustCompile(`\\(?:\\|/|u[dD][89a-fA-F][0-9a-fA-F]{2}(?:\\u[dD][c-fC-F][0-9a-fA-F]{2})?)`)

// normalize rewrites, in a document that is exactly one JSON value, the escapes libopenapi's
// YAML-based parsers refuse into the characters encoding/json reads them as (a lone surrogate
// becomes U+FFFD). Anything else (YAML, or broken input) is returned unchanged.
func normalize(doc []byte) []byte {
	if !yamlRefused.Match(doc) || !json.Valid(doc) {
		return doc
	}
	return yamlRefused.ReplaceAllFunc(doc, func(m []byte) []byte {
		var s string
		if string(m) == `\\` || json.Unmarshal(append(append([]byte{'"'}, m...), '"'), &s) != nil {
			return m
		}
		return []byte(s)
	})
}

// Limits of the one loader behind ReadDocument, Load, Lint and Diff, for a document, an overlay
// and the overlay's output alike. The vendor document is 7 KB: 718 nodes, 21 levels deep, no alias.
const (
	MaxDocumentSize = 8 << 20   // MaxDocumentSize is the largest input, in bytes (8 MiB)
	MaxAliases      = 1000      // MaxAliases is the most YAML alias nodes (*name) an input may hold
	MaxNodes        = 1_000_000 // MaxNodes is the most YAML nodes once every alias is expanded
	MaxDepth        = 128       // MaxDepth is the deepest nesting of mappings and sequences, aliases expanded
)

// Names of the limits, as LimitError.Limit reports them: what each counts.
const (
	LimitSize    = "bytes"
	LimitAliases = "aliases"
	LimitNodes   = "nodes after alias expansion"
	LimitDepth   = "levels of nesting"
)

// LimitError is the error (wrapped) of ReadDocument, Load, Lint and Diff when an input exceeds a
// limit of the loader, refused before any parser expands it: a YAML alias bomb of a few kilobytes
// stands for billions of nodes. It matches ErrDocument, not ErrUnreadable. Test with errors.As.
type LimitError struct {
	Input string // "document" or "overlay"
	Limit string // LimitSize, LimitAliases, LimitNodes or LimitDepth
	Max   int64  // the limit: MaxDocumentSize, MaxAliases, MaxNodes or MaxDepth
	Seen  int64  // what the loader saw before it stopped (a node count saturates at math.MaxInt64)
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%s exceeds a limit: %d %s, at most %d", e.Input, e.Seen, e.Limit, e.Max)
}

// Is makes a LimitError match ErrDocument.
func (e *LimitError) Is(target error) bool { return target == ErrDocument }

// Context makes Load, Lint and Diff return ctx.Err() (wrapped) within milliseconds of ctx's end;
// what libopenapi cannot cancel finishes in the background, within the limits. Default: Background.
func Context(ctx context.Context) Option { return func(o *options) { o.ctx = ctx } }

// interruptible runs f in a goroutine and returns its result, or ctx's error as soon as ctx ends;
// an error is prefixed with "spec: " and step.
func interruptible[T any](ctx context.Context, step string, f func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	if ctx.Err() == nil {
		go func() { v, err := f(); done <- result{v, err} }()
	}
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		r.err = ctx.Err()
	}
	if r.err != nil {
		r.err = fmt.Errorf("spec: %s: %w", step, r.err)
	}
	return r.v, r.err
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
	given      *yaml.Node           // the document as given, as the pre-check parsed it
	overlay    *highoverlay.Overlay // nil without an overlay
	notApplied error                // why the overlay does not apply to the document; doc is nil then
	doc        libopenapi.Document  // the corrected document (the given one without an overlay)
}

// read pre-checks the document and the overlay (unless noOverlay), has libopenapi apply the
// overlay, and hands the result to libopenapi within the limits (a *LimitError with Input
// "overlay" beyond them). libopenapi takes bytes only, so each input is parsed more than once.
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
// naming the action by index, target and description.
func applyOverlay(doc []byte, ov *highoverlay.Overlay) ([]byte, error) {
	res, err := overlay.Apply(doc, ov)
	var ae *overlay.OverlayError
	switch {
	case errors.As(err, &ae) && ae.Action != nil:
		return nil, fmt.Errorf("apply %s: %w: %w", describeAction(ov, ae.Action), ErrDocument, ae.Cause)
	case err != nil:
		return nil, fmt.Errorf("apply overlay: %w: %w", ErrDocument, err)
	case len(res.Warnings) > 0:
		w := res.Warnings[0]
		return nil, fmt.Errorf("apply %s: %w: the action was not applied: %s",
			describeAction(ov, w.Action), ErrDocument, w.Message)
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
