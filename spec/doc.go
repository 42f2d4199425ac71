// Package spec holds the XONE "Confirm offer" OpenAPI document and validates traffic against it.
//
// The vendor document (confirm-offer.openapi.json) is embedded byte-for-byte and never edited.
// Its defects are fixed by an OpenAPI Overlay 1.0 document (overlay.yaml, also embedded), one
// action per defect, each with its reason, applied through libopenapi's overlay support:
//
//   - path parameters partner_id and offer_id are used in the path but not declared;
//   - the 401 headers CF-RAY, X-XSS-Protection and Cf-Team are typed integer, but real values are
//     "8a1b2c3d4e5f6789-SYD", "1; mode=block" and 32 hex digits: their type is removed, so both
//     the integer the document allows and the string the API sends are accepted;
//   - the formats "color" (policyholder.postcode) and "style" (disclaimer_html,
//     policy_start_date_tz_offset) are not formats at all: they are removed.
//
// The overlay widens and never narrows: no value the vendor document accepts is rejected by the
// corrected one. Stricter checks belong to Strict, whose findings a contract suite reports as drift.
//
// Any other document can be tested against: ReadDocument reads one (JSON in any valid spelling,
// escapes and surrogate pairs included, or YAML), FromDocument loads it and WithOverlay replaces
// the embedded overlay. A document without the confirm operation, or one the overlay leaves
// unusable, is an error wrapping ErrDocument that names what is missing; so is an overlay action
// whose target matches nothing, named by its index, target and description. Info names the
// document (title, version, SHA-256) for reports.
//
// One loader reads every document and overlay, for ReadDocument, Load, Lint and Diff alike. Each
// input is first parsed into a YAML node tree and refused, with a *LimitError, when it exceeds
// MaxDocumentSize, MaxAliases, MaxNodes (aliases expanded, so an alias bomb of a few kilobytes is
// refused in milliseconds) or MaxDepth, before libopenapi sees it. libopenapi's overlay engine
// then applies the overlay, and its output is held to the same limits before libopenapi builds a
// model of it: an overlay that multiplies the document is refused too. Context(ctx) makes each
// return as soon as ctx ends.
//
// Load builds the corrected document and one libopenapi-validator validator with format
// assertions on (date-time, email, uri, int32, int64...). The validator is the only judge:
// ValidateResponse and ValidateRequest turn its structured errors into Violations with stable rule
// ids and JSON paths, sorted deterministically, and add what it lets through: an empty or null
// body on a documented JSON response ("empty-body"). With Strict, properties the schema does not
// document are reported too ("undocumented-field"), except inside the vendor's untyped fields such
// as cover_amount, and so are Cloudflare header values off their real shape ("header-shape").
//
// Lint finds the defects of a vendor document (for instance a newer release) and says whether the
// overlay still handles each, and how (every fix must widen); a loaded Spec's Defects answers the
// same without reading the document again. Diff reports what a newer release changed, breaking or
// not, using libopenapi's what-changed.
//
// Coverage records which documented members of the response schemas (each JSON path, array items
// as "[]", and each documented header) the validated responses exercised, how often, and with
// which kinds of values (enum values, null or a value, format matched or not); its
// CoverageReport lists the paths never exercised and merges across shards.
//
// A Spec is immutable after Load and safe for concurrent use; build it once (a few milliseconds)
// and share it. Validation reads the bytes it is given and never reads or modifies the caller's
// request or a network body. Values of sensitive fields (email, phone, security_token, tokens)
// never appear in a Violation.
//
// Usage:
//
//	s, err := spec.Load(spec.Context(ctx)) // spec.Strict() too for drift checks
//	if err != nil {
//		return fmt.Errorf("contract: %w", err)
//	}
//	body, err := io.ReadAll(resp.Body)
//	...
//	for _, v := range s.ValidateResponse(req, spec.Response{Status: resp.StatusCode, Header: resp.Header, Body: body}) {
//		fmt.Printf("%s %s: %s\n", v.Rule, v.Path, v.Reason) // e.g. "schema $.data.price: got string, want number"
//	}
//
//	newVendorDoc, err := spec.ReadDocument("confirm-offer-2027.json")
//	s, err = spec.Load(spec.FromDocument(newVendorDoc)) // test against it; s.Info() names it
//	defects, err := spec.Lint(newVendorDoc) // what is wrong with a vendor document, and is it handled
//	report, err := spec.Diff(spec.Vendor(), newVendorDoc) // what a newer vendor document changed
//
//	cov := s.NewCoverage() // shared by every goroutine that validates
//	resp := spec.Response{Status: r.StatusCode, Header: spec.WireHeader(r), Body: body}
//	cov.Add(resp, s.ValidateResponse(req, resp))
//	rep := cov.Report() // rep.Schemas[i].NeverExercised: what no response had
//	fmt.Printf("%d of %d documented response fields exercised\n", rep.Exercised, rep.Documented)
package spec
