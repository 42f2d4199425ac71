// Package spec holds the XONE "Confirm offer" OpenAPI document and validates traffic against it.
//
// The vendor document (confirm-offer.openapi.json) is embedded byte-for-byte and never edited. Its
// defects are fixed by an OpenAPI Overlay 1.0 document (overlay.yaml, also embedded), one action
// per defect, each with its reason, applied through libopenapi's overlay support:
//
//   - path parameters partner_id and offer_id are used in the path but not declared;
//   - the 401 headers CF-RAY, X-XSS-Protection and Cf-Team are typed integer, but real values are
//     "8a1b2c3d4e5f6789-SYD", "1; mode=block" and 32 hex digits: their type is removed, so both
//     the integer the document allows and the string the API sends are accepted;
//   - the formats "color" (policyholder.postcode) and "style" (disclaimer_html,
//     policy_start_date_tz_offset) are not formats at all: they are removed.
//
// The overlay widens and never narrows: no value the vendor document accepts is rejected by the
// corrected one. Stricter checks belong to Strict, whose findings a contract suite reports as
// drift.
//
// One loader reads every document and overlay (ReadDocument, Load, Lint, Diff): JSON in any valid
// spelling or YAML, refused with a *LimitError beyond MaxDocumentSize, MaxAliases, MaxNodes
// (aliases expanded: an alias bomb of a few kilobytes is refused in milliseconds) or MaxDepth
// before libopenapi sees it; the overlay's output is held to the same limits. Context(ctx) makes
// each return as soon as ctx ends. A document without the confirm operation, or an overlay action
// whose target matches nothing, is an error wrapping ErrDocument that names what is missing.
//
// Load builds the corrected document and one libopenapi-validator validator with format assertions
// on; that validator is the only judge. ValidateResponse and ValidateRequest turn its errors into
// Violations with stable rule ids and JSON paths, and add what it lets through (an empty or null
// JSON body). Lint lists a vendor document's defects and whether the overlay handles each; Diff
// reports what a newer release changed, using libopenapi's what-changed. Coverage records which
// documented response members the validated responses exercised.
//
// A Spec is immutable after Load and safe for concurrent use; build it once (a few milliseconds)
// and share it. Values of sensitive fields (email, phone, security_token, tokens) never appear in a
// Violation.
//
// Usage:
//
//	s, err := spec.Load(spec.Context(ctx)) // spec.Strict() too for drift checks
//	if err != nil {
//		return fmt.Errorf("contract: %w", err)
//	}
//	resp := spec.Response{Status: r.StatusCode, Header: spec.WireHeader(r), Body: body}
//	for _, v := range s.ValidateResponse(req, resp) {
//		fmt.Printf("%s %s: %s\n", v.Rule, v.Path, v.Reason) // e.g. "schema $.data.price: got string, want number"
//	}
//	cov := s.NewCoverage() // shared by every goroutine that validates
//	cov.Add(resp, s.ValidateResponse(req, resp))
//	fmt.Printf("%d of %d documented response fields exercised\n", cov.Report().Exercised, cov.Report().Documented)
//
//	newVendorDoc, err := spec.ReadDocument("confirm-offer-2027.json")
//	s, err = spec.Load(spec.FromDocument(newVendorDoc)) // test against it; s.Info() names it
//	defects, err := spec.Lint(newVendorDoc)              // what is wrong with it, and is it handled
//	report, err := spec.Diff(spec.Vendor(), newVendorDoc) // what it changed
package spec
