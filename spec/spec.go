package spec

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed" // the vendor document and the overlay are embedded
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/pb33f/go-yaml"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	"github.com/pb33f/libopenapi-validator/helpers"
	"github.com/pb33f/libopenapi/datamodel/high/base"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
	libjson "github.com/pb33f/libopenapi/json"
	"github.com/pb33f/libopenapi/orderedmap"

	"github.com/xoneharness/xoneharness/internal/xone"
)

//go:embed confirm-offer.openapi.json
var vendorDoc string

//go:embed overlay.yaml
var overlayDoc string

// Vendor returns the embedded vendor document (spec/confirm-offer.openapi.json), byte-for-byte as
// published by the vendor. Each call returns a fresh copy the caller may modify.
func Vendor() []byte { return []byte(vendorDoc) }

// Overlay returns the embedded OpenAPI Overlay 1.0 document (spec/overlay.yaml) that fixes the
// vendor document's defects, one action per defect. Each call returns a fresh copy.
func Overlay() []byte { return []byte(overlayDoc) }

// Option configures Load, Lint and Diff.
type Option func(*options)

type options struct {
	ctx       context.Context
	doc       []byte
	overlay   []byte
	noOverlay bool
	strict    bool
}

func newOptions(opts []Option) options {
	o := options{ctx: context.Background()}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if o.doc == nil {
		o.doc = Vendor()
	}
	if o.overlay == nil {
		o.overlay = Overlay()
	}
	return o
}

// WithoutOverlay makes Load use the document as it is, without any overlay.
func WithoutOverlay() Option { return func(o *options) { o.noOverlay = true } }

// FromDocument makes Load use doc (an OpenAPI 3 document, JSON or YAML, such as a newer vendor
// release read with ReadDocument) instead of the embedded vendor document. The overlay is still
// applied unless WithoutOverlay: an action that no longer matches anything makes Load fail.
func FromDocument(doc []byte) Option { return func(o *options) { o.doc = bytes.Clone(doc) } }

// WithOverlay makes Load and Lint apply overlay (an OpenAPI Overlay 1.x document, YAML or JSON)
// instead of the embedded one. An empty overlay is an error.
func WithOverlay(overlay []byte) Option {
	return func(o *options) { o.overlay = append([]byte{}, overlay...) }
}

// Strict makes ValidateResponse also report what the document allows but the real API never sends,
// as drift: body properties the schema does not document (RuleUndocumentedField, from
// libopenapi-validator's strict mode; not inside untyped schemas such as the vendor's `nullable:
// true` cover_amount, which document "anything") and CF-RAY, X-XSS-Protection and Cf-Team values
// off the shape the real API sends (RuleHeaderShape). It costs roughly twice a plain validation.
func Strict() Option { return func(o *options) { o.strict = true } }

// Spec is a loaded, corrected confirm-offer document and its validator. Build it with Load; it is
// immutable afterwards and safe for concurrent use by any number of goroutines.
type Spec struct {
	doc        []byte // corrected document (JSON) or the input as is (WithoutOverlay)
	info       DocInfo
	path       string
	statuses   []int
	version    float32
	val        validator.Validator
	responses  map[string]*responseInfo  // by status key as written: "200", "4XX", "default"
	request    *base.Schema              // confirm request body (JSON), nil when undocumented
	strictOpts *config.ValidationOptions // nil unless Strict
	untyped    map[[2]int]bool           // positions of untyped schemas, whose inside Strict does not report
	defects    func() []Defect           // Lint's answer for the loaded document, computed once
}

// responseInfo is what ValidateResponse needs about one documented response, resolved once.
type responseInfo struct {
	json    bool                  // an application/json (or +json) body is documented
	schema  *base.Schema          // its schema, nil when it declares none
	content []string              // declared media types, for messages
	headers map[string]headerInfo // by lower-case name
}

type headerInfo struct {
	name   string       // as documented
	schema *base.Schema // nil when the header documents none
}

// Load builds the corrected document (the vendor document, or FromDocument's, with the overlay
// applied by libopenapi's overlay engine, unless WithoutOverlay) and one libopenapi-validator
// validator with format assertions on, the judge behind ValidateResponse and ValidateRequest. It
// takes a few milliseconds; build one Spec and share it. Errors wrap ErrDocument when the document
// has no confirm operation, the overlay does not apply or leaves a path parameter of the confirm
// path undeclared; also ErrUnreadable when a document does not parse; a *LimitError when an input
// exceeds a limit.
func Load(opts ...Option) (*Spec, error) {
	o := newOptions(opts)
	return interruptible(o.ctx, "load", func() (*Spec, error) { return load(o) })
}

func load(o options) (*Spec, error) {
	c, err := read(o.doc, o.overlay, o.noOverlay)
	if err != nil {
		return nil, err
	}
	path, err := confirmPathIn(c.given)
	if err != nil {
		return nil, err
	}
	if c.notApplied != nil {
		return nil, fmt.Errorf("correct the document (confirm path %s): %w", path, c.notApplied)
	}
	s := &Spec{doc: bytes.Clone(o.doc), info: DocInfo{SHA256: fmt.Sprintf("%x", sha256.Sum256(o.doc))}}
	if !o.noOverlay {
		s.info.OverlaySHA256 = fmt.Sprintf("%x", sha256.Sum256(o.overlay))
		if s.doc, err = libjson.YAMLNodeToJSON(c.doc.GetSpecInfo().RootNode, "  "); err != nil {
			return nil, fmt.Errorf("render the corrected document: %w: %w", ErrDocument, err)
		}
		s.doc = append(s.doc, '\n')
	}
	s.defects = sync.OnceValue(c.defects)
	model, err := c.doc.BuildV3Model()
	if err != nil {
		return nil, fmt.Errorf("build model: %w: %w", ErrUnreadable, err)
	}
	if info := model.Model.Info; info != nil {
		s.info.Title, s.info.Version = info.Title, info.Version
	}
	s.version = helpers.VersionToFloat(c.doc.GetVersion()) // as the validator reads it
	if err := s.resolveOperation(&model.Model, path, !o.noOverlay); err != nil {
		return nil, err
	}
	val, errs := validator.NewValidator(c.doc, config.WithFormatAssertions())
	if len(errs) > 0 {
		return nil, fmt.Errorf("build validator: %w: %w", ErrDocument, errors.Join(errs...))
	}
	s.val = val
	if o.strict {
		s.untyped = untypedSchemas(s.responses)
		// Findings inside untyped schemas are filtered after the walk (see strictViolations) rather
		// than given as StrictIgnorePaths: the strict validator compiles its ignore patterns on
		// every call, which doubled the cost of a strict validation.
		s.strictOpts = config.NewValidationOptions(config.WithStrictMode(), config.WithFormatAssertions())
	}
	return s, nil
}

// Defects returns what Lint returns for the document and the overlay s was loaded from (with
// WithoutOverlay, every defect not handled), computed once from the trees Load parsed. The caller
// may modify the slice. Safe for concurrent use.
func (s *Spec) Defects() []Defect { return slices.Clone(s.defects()) }

// confirmPathIn returns the path template of the confirm operation in a document's tree: the XONE
// confirm path, else the first path ending in /confirm that has a POST operation.
func confirmPathIn(root *yaml.Node) (string, error) {
	paths := mapGet(root, "paths")
	if mapGet(mapGet(paths, xone.ConfirmPathTemplate), "post") != nil {
		return xone.ConfirmPathTemplate, nil
	}
	for i := 0; paths != nil && i+1 < len(paths.Content); i += 2 {
		if p := paths.Content[i].Value; strings.HasSuffix(p, "/confirm") && mapGet(paths.Content[i+1], "post") != nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("find confirm operation: %w: no POST operation on %s or on any path ending in /confirm",
		ErrDocument, xone.ConfirmPathTemplate)
}

// resolveOperation finds the confirm operation at path and indexes its responses and request body.
// With checkParams, a template variable of the path without a path parameter is an error: the
// validator cannot match such a path, so the overlay must declare it.
func (s *Spec) resolveOperation(m *v3.Document, path string, checkParams bool) error {
	var item *v3.PathItem
	if m.Paths != nil && m.Paths.PathItems != nil {
		item = m.Paths.PathItems.GetOrZero(path)
	}
	if item == nil || item.Post == nil {
		return fmt.Errorf("find confirm operation: %w: the overlay removed POST %s", ErrDocument, path)
	}
	op := item.Post
	s.path, s.responses = path, map[string]*responseInfo{}
	if rs := op.Responses; rs != nil {
		for code, r := range rs.Codes.FromOldest() {
			s.responses[code] = newResponseInfo(r)
			if n, err := strconv.Atoi(code); err == nil {
				s.statuses = append(s.statuses, n)
			}
		}
		if rs.Default != nil {
			s.responses["default"] = newResponseInfo(rs.Default)
		}
	}
	sort.Ints(s.statuses)
	if rb := op.RequestBody; rb != nil {
		for name, mt := range rb.Content.FromOldest() {
			if name == "application/json" && mt != nil && mt.Schema != nil {
				s.request = mt.Schema.Schema()
			}
		}
	}
	declared := map[string]bool{}
	for _, p := range slices.Concat(item.Parameters, op.Parameters) {
		if p != nil && p.In == "path" {
			declared[p.Name] = true
		}
	}
	var missing []string
	for _, name := range templateVars(path) {
		if !declared[name] {
			missing = append(missing, "{"+name+"}")
		}
	}
	if checkParams && len(missing) > 0 {
		return fmt.Errorf("check path parameters: %w: path %s declares no path parameter for %s after the overlay "+
			"(give an overlay that declares them)", ErrDocument, path, strings.Join(missing, ", "))
	}
	return nil
}

func newResponseInfo(r *v3.Response) *responseInfo {
	info := &responseInfo{headers: map[string]headerInfo{}}
	for name, mt := range r.Content.FromOldest() {
		info.content = append(info.content, name)
		if !info.json && isJSONMediaType(name) && mt != nil {
			info.json = true
			if mt.Schema != nil {
				info.schema = mt.Schema.Schema()
			}
		}
	}
	for name, h := range r.Headers.FromOldest() {
		hi := headerInfo{name: name}
		if h != nil && h.Schema != nil {
			hi.schema = h.Schema.Schema()
		}
		info.headers[strings.ToLower(name)] = hi
	}
	return info
}

func isJSONMediaType(mt string) bool {
	mt, _, _ = strings.Cut(strings.ToLower(mt), ";")
	mt = strings.TrimSpace(mt)
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// Documents reports whether the confirm operation documents status: an exact code, a range such as
// "4XX", or a default response. Safe for concurrent use.
func (s *Spec) Documents(status int) bool {
	return status >= 100 && status <= 999 && s.responseFor(status) != nil
}

// responseFor returns the documented response for a status: exact code, then "4XX" style range,
// then default; nil when the status is undocumented.
func (s *Spec) responseFor(status int) *responseInfo {
	code := strconv.Itoa(status)
	keys := []string{code}
	if len(code) == 3 {
		keys = append(keys, code[:1]+"XX", code[:1]+"xx")
	}
	for _, k := range append(keys, "default") {
		if r := s.responses[k]; r != nil {
			return r
		}
	}
	return nil
}

// untypedSchemas returns the positions (line, column) of the response body schemas that declare no
// type and no structure (`{"nullable": true}`, `items: {}`): they document any value.
func untypedSchemas(responses map[string]*responseInfo) map[[2]int]bool {
	out := map[[2]int]bool{}
	var walk func(sc *base.Schema, depth int)
	walk = func(sc *base.Schema, depth int) {
		switch {
		case sc == nil || depth > 32:
		case len(sc.Type) == 0 && orderedmap.Len(sc.Properties) == 0 && sc.Items == nil &&
			len(sc.AllOf) == 0 && len(sc.AnyOf) == 0 && len(sc.OneOf) == 0 && sc.Not == nil &&
			sc.AdditionalProperties == nil && orderedmap.Len(sc.PatternProperties) == 0:
			if low := sc.GoLow(); low != nil && low.RootNode != nil {
				out[[2]int{low.RootNode.Line, low.RootNode.Column}] = true
			}
		default:
			for _, p := range sc.Properties.FromOldest() {
				if p != nil {
					walk(p.Schema(), depth+1)
				}
			}
			if sc.Items != nil && sc.Items.IsA() && sc.Items.A != nil {
				walk(sc.Items.A.Schema(), depth+1)
			}
		}
	}
	for _, r := range responses {
		walk(r.schema, 0)
	}
	return out
}

// renderSegments renders an instance path ("[0]" for an array index) as a JSON path.
func renderSegments(segs []string) string {
	p := "$"
	for _, seg := range segs {
		if strings.HasPrefix(seg, "[") {
			p += seg
		} else {
			p = joinPath(p, seg)
		}
	}
	return p
}

// Document returns the corrected document (vendor document after the overlay) as indented JSON, or
// the input document unchanged when Load was given WithoutOverlay. The caller may modify it.
func (s *Spec) Document() []byte { return bytes.Clone(s.doc) }

// ConfirmPath returns the path template of the confirm operation,
// "/api/partners/{partner_id}/offers/{offer_id}/confirm" for the XONE document.
func (s *Spec) ConfirmPath() string { return s.path }

// DocInfo identifies the document a Spec was loaded from, for reports.
type DocInfo struct {
	Title         string `json:"title"`                    // info.title of the document
	Version       string `json:"version"`                  // info.version of the document
	SHA256        string `json:"sha256"`                   // hex SHA-256 of the bytes given to Load
	OverlaySHA256 string `json:"overlay_sha256,omitempty"` // of the overlay applied; "" WithoutOverlay
}

// Info returns the title, version and SHA-256 of the document the Spec was loaded from.
func (s *Spec) Info() DocInfo { return s.info }
