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
// One loader reads every document and overlay (ReadDocument, Load, Lint, Diff), within the limits
// of LimitError and interruptible with Context. Load builds one libopenapi-validator validator
// with format assertions on, the only judge of validity; ValidateResponse and ValidateRequest turn
// its errors into Violations and add what it lets through (an empty or null JSON body). Lint lists
// a vendor document's defects and whether the overlay handles each; Diff reports what a newer
// release changed, using libopenapi's what-changed. Coverage records which documented response
// members the validated responses exercised. Files names a document and an overlay by path and
// loads or lints them, and DiffFiles diffs documents by path, so a caller with file names gets the
// same limits (a *FileError says which input could not be read).
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
//
//	newVendorDoc, err := spec.ReadDocument("confirm-offer-2027.json")
//	s, err = spec.Load(spec.FromDocument(newVendorDoc)) // test against it; s.Info() names it
//	defects, err := spec.Lint(newVendorDoc)              // what is wrong with it, and is it handled
//	report, err := spec.Diff(spec.Vendor(), newVendorDoc) // what it changed
package spec
