package spec

import (
	"bytes"
	"context"
	_ "embed" // the vendor document and the overlay are embedded
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/pb33f/go-yaml"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
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

// confirmPath is the path template of the XONE Confirm offer operation.
const confirmPath = xone.ConfirmPathTemplate

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

// WithoutOverlay makes Load use the document as it is, without any overlay: useful to prove that a
// correction is needed.
func WithoutOverlay() Option { return func(o *options) { o.noOverlay = true } }

// FromDocument makes Load use doc (an OpenAPI 3 document, JSON or YAML, for instance a newer vendor
// release read with ReadDocument) instead of the embedded vendor document. The overlay is still
// applied unless WithoutOverlay is given; an overlay action that no longer matches anything (the
// vendor fixed or moved that place) makes Load fail, naming the action.
func FromDocument(doc []byte) Option {
	return func(o *options) { o.doc = bytes.Clone(doc) }
}

// WithOverlay makes Load and Lint apply overlay (an OpenAPI Overlay 1.x document, YAML or JSON)
// instead of the embedded one, for a document whose defects the embedded overlay does not fix. An
// empty overlay is an error.
func WithOverlay(overlay []byte) Option {
	return func(o *options) { o.overlay = append([]byte{}, overlay...) }
}

// Strict makes ValidateResponse also report what the document allows but the real API never sends,
// as findings a contract suite reports as drift: properties of a response body that the schema does
// not document (rule "undocumented-field", libopenapi-validator's strict mode), and values of the
// Cloudflare headers CF-RAY, X-XSS-Protection and Cf-Team off the shape the real API sends (rule
// "header-shape"). Properties inside schemas that declare no type (the vendor's untyped `nullable:
// true` fields such as cover_amount or payment_status, and `items: {}`) are documented as
// "anything" and are not reported: strict mode would otherwise flag every key inside them. Strict
// costs roughly twice a plain validation.
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
	item       *v3.PathItem
	operation  *v3.Operation
	responses  map[string]*responseInfo // by status key as written: "200", "4XX", "default"
	request    *mediaInfo               // confirm request body (JSON), nil when undocumented
	strict     bool
	strictOpts *config.ValidationOptions
	untyped    map[[2]int]bool // positions of untyped schemas, whose inside Strict does not report
	defects    func() []Defect // Lint's answer for the loaded document, computed once
}

// responseInfo is what ValidateResponse needs about one documented response, resolved once.
type responseInfo struct {
	json    *mediaInfo            // application/json content, nil when the response declares none
	content []string              // declared media types, for messages
	headers map[string]headerInfo // by lower-case name
}

type mediaInfo struct {
	schema *base.Schema
	raw    *yaml.Node // the schema as written, to resolve keyword locations into expected values
}

type headerInfo struct {
	name   string       // as documented
	schema *base.Schema // nil when the header documents none
	raw    *yaml.Node   // the header's schema as written
}

// Load builds the corrected document (the embedded vendor document, or FromDocument's, with the
// embedded overlay or WithOverlay's applied by libopenapi's overlay engine, unless WithoutOverlay)
// and one libopenapi-validator validator with format assertions on; every answer of
// ValidateResponse and ValidateRequest comes from that validator. The document and the overlay are
// checked against the limits of LimitError before libopenapi sees them, and so is the overlay's
// output; one libopenapi document is built from the corrected bytes, and both the model and the
// validator from it. It takes a few milliseconds; build one Spec and share it. With Context, it
// returns ctx.Err() (wrapped) as soon as ctx ends.
//
// Errors wrap ErrDocument when the document has no confirm operation, the overlay does not apply
// (an action that matches nothing included) or leaves a path parameter of the confirm path
// undeclared; also ErrUnreadable when a document does not parse; a *LimitError when an input
// exceeds a limit.
func Load(opts ...Option) (*Spec, error) {
	o := newOptions(opts)
	s, err := interruptible(o.ctx, func() (*Spec, error) { return load(o) })
	if err != nil {
		return nil, fmt.Errorf("spec: load: %w", err)
	}
	return s, nil
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
	s := &Spec{strict: o.strict, doc: bytes.Clone(o.doc), info: DocInfo{SHA256: hexDigest(o.doc)}}
	root := c.doc.GetSpecInfo().RootNode
	if !o.noOverlay {
		s.info.OverlaySHA256 = hexDigest(o.overlay)
		if s.doc, err = libjson.YAMLNodeToJSON(root, "  "); err != nil {
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
	s.version = float32(3.0)
	if strings.HasPrefix(c.doc.GetVersion(), "3.1") {
		s.version = 3.1
	}
	if err := s.resolveOperation(&model.Model, path, mapGet(mapGet(mapGet(root, "paths"), path), "post")); err != nil {
		return nil, err
	}
	if !o.noOverlay {
		if err := s.checkPathParams(); err != nil {
			return nil, err
		}
	}
	val, errs := validator.NewValidator(c.doc, config.WithFormatAssertions())
	if len(errs) > 0 {
		return nil, fmt.Errorf("build validator: %w: %w", ErrDocument, errors.Join(errs...))
	}
	s.val = val
	if s.strict {
		s.untyped = untypedSchemas(s.responses)
		// Findings inside untyped schemas are filtered after the walk (see strictViolations) rather
		// than given as StrictIgnorePaths: the strict validator compiles its ignore patterns on
		// every call, which doubled the cost of a strict validation.
		s.strictOpts = config.NewValidationOptions(config.WithStrictMode(), config.WithFormatAssertions())
	}
	return s, nil
}

// Defects returns what Lint returns for the document and the overlay s was loaded from (with
// WithoutOverlay, every defect not handled), computed on first use from the trees Load parsed: a
// caller that needs both reads the document once. The caller may modify the slice. Safe for
// concurrent use.
func (s *Spec) Defects() []Defect { return slices.Clone(s.defects()) }

// checkPathParams fails when a template variable of the confirm path has no path parameter: the
// validator cannot match such a path, so the overlay must declare it.
func (s *Spec) checkPathParams() error {
	declared := map[string]bool{}
	for _, p := range slices.Concat(s.item.Parameters, s.operation.Parameters) {
		if p != nil && p.In == "path" {
			declared[p.Name] = true
		}
	}
	var missing []string
	for _, name := range templateVars(s.path) {
		if !declared[name] {
			missing = append(missing, "{"+name+"}")
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("check path parameters: %w: path %s declares no path parameter for %s after the overlay "+
			"(give an overlay that declares them)", ErrDocument, s.path, strings.Join(missing, ", "))
	}
	return nil
}

// confirmPathIn returns the path template of the confirm operation in a document's tree: the XONE
// confirm path, else the first path ending in /confirm that has a POST operation.
func confirmPathIn(root *yaml.Node) (string, error) {
	paths := mapGet(root, "paths")
	if mapGet(mapGet(paths, confirmPath), "post") != nil {
		return confirmPath, nil
	}
	for i := 0; paths != nil && i+1 < len(paths.Content); i += 2 {
		if p := paths.Content[i].Value; strings.HasSuffix(p, "/confirm") && mapGet(paths.Content[i+1], "post") != nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("find confirm operation: %w: no POST operation on %s or on any path ending in /confirm",
		ErrDocument, confirmPath)
}

// resolveOperation finds the confirm operation at path and indexes its responses and request body;
// op is the operation as written, for the expected values of violations.
func (s *Spec) resolveOperation(m *v3.Document, path string, op *yaml.Node) error {
	var item *v3.PathItem
	if m.Paths != nil && m.Paths.PathItems != nil {
		item = m.Paths.PathItems.GetOrZero(path)
	}
	if item == nil || item.Post == nil {
		return fmt.Errorf("find confirm operation: %w: the overlay removed POST %s", ErrDocument, path)
	}
	s.path = path
	s.item, s.operation = item, item.Post

	s.responses = map[string]*responseInfo{}
	responses := mapGet(op, "responses")
	if s.operation.Responses != nil {
		for code, r := range s.operation.Responses.Codes.FromOldest() {
			s.responses[code] = newResponseInfo(r, mapGet(responses, code))
			if n, err := strconv.Atoi(code); err == nil {
				s.statuses = append(s.statuses, n)
			}
		}
		if r := s.operation.Responses.Default; r != nil {
			s.responses["default"] = newResponseInfo(r, mapGet(responses, "default"))
		}
	}
	sort.Ints(s.statuses)
	if rb := s.operation.RequestBody; rb != nil {
		if mt := mediaGet(rb.Content, "application/json"); mt != nil && mt.Schema != nil {
			s.request = &mediaInfo{schema: mt.Schema.Schema(),
				raw: mapGet(mapGet(mapGet(mapGet(op, "requestBody"), "content"), "application/json"), "schema")}
		}
	}
	return nil
}

func newResponseInfo(r *v3.Response, raw *yaml.Node) *responseInfo {
	info := &responseInfo{headers: map[string]headerInfo{}}
	for mtName, mt := range r.Content.FromOldest() {
		info.content = append(info.content, mtName)
		if info.json == nil && isJSONMediaType(mtName) && mt != nil {
			mi := &mediaInfo{raw: mapGet(mapGet(mapGet(raw, "content"), mtName), "schema")}
			if mt.Schema != nil {
				mi.schema = mt.Schema.Schema()
			}
			info.json = mi
		}
	}
	for name, h := range r.Headers.FromOldest() {
		hi := headerInfo{name: name, raw: mapGet(mapGet(mapGet(raw, "headers"), name), "schema")}
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
// "4XX", or a default response. A status it does not document is an error class of its own for the
// callers, never a schema violation. Safe for concurrent use.
func (s *Spec) Documents(status int) bool {
	return status >= 100 && status <= 999 && s.responseFor(status) != nil
}

// responseFor returns the documented response for a status: exact code, then "4XX" style range,
// then default; nil when the status is undocumented.
func (s *Spec) responseFor(status int) *responseInfo {
	code := strconv.Itoa(status)
	if r := s.responses[code]; r != nil {
		return r
	}
	if r := s.responses[code[:1]+"XX"]; r != nil && len(code) == 3 {
		return r
	}
	if r := s.responses[strings.ToLower(code[:1])+"xx"]; r != nil && len(code) == 3 {
		return r
	}
	return s.responses["default"]
}

// untypedSchemas returns the positions (line, column) of every schema of a response body that
// declares no type and no structure (e.g. `{"nullable": true}` or `items: {}`): such a schema
// documents "any value", so the properties strict mode finds in it are not undocumented.
func untypedSchemas(responses map[string]*responseInfo) map[[2]int]bool {
	out := map[[2]int]bool{}
	var walk func(sc *base.Schema, depth int)
	walk = func(sc *base.Schema, depth int) {
		switch {
		case sc == nil || depth > 32:
		case isUntyped(sc):
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
		if r.json != nil {
			walk(r.json.schema, 0)
		}
	}
	return out
}

func renderSegments(segs []string) string {
	var b strings.Builder
	b.WriteString("$")
	for _, s := range segs {
		if strings.HasPrefix(s, "[") {
			b.WriteString(s)
			continue
		}
		b.WriteString(joinPath("", s))
	}
	return b.String()
}

func isUntyped(sc *base.Schema) bool {
	return len(sc.Type) == 0 && orderedmap.Len(sc.Properties) == 0 && sc.Items == nil &&
		len(sc.AllOf) == 0 && len(sc.AnyOf) == 0 && len(sc.OneOf) == 0 && sc.Not == nil &&
		sc.AdditionalProperties == nil && orderedmap.Len(sc.PatternProperties) == 0
}

// Document returns the corrected document (vendor document after the overlay) as indented JSON, or
// the input document unchanged when Load was given WithoutOverlay. The caller may modify it.
func (s *Spec) Document() []byte { return bytes.Clone(s.doc) }

// ConfirmPath returns the path template of the confirm operation,
// "/api/partners/{partner_id}/offers/{offer_id}/confirm" for the XONE document.
func (s *Spec) ConfirmPath() string { return s.path }

// confirmRequest builds a minimal request for the confirm path, used when callers pass nil.
func (s *Spec) confirmRequest() *http.Request {
	p := strings.NewReplacer("{partner_id}", "partner", "{offer_id}", "offer").Replace(s.path)
	r, _ := http.NewRequest(http.MethodPost, p, nil) // a path-only URL always parses
	return r
}

func mediaGet(m *orderedmap.Map[string, *v3.MediaType], key string) *v3.MediaType {
	if m == nil {
		return nil
	}
	return m.GetOrZero(key)
}
