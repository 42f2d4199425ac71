// Package xone holds the small facts about the XONE Confirm offer API that
// the harness's packages share: the confirm path, id generation, the demo
// policyholder, the production host and the sensitive field names.
//
//	path := xone.ConfirmPath("P-1", xone.NewUUID())
package xone

import (
	"crypto/rand"
)

// ConfirmPathTemplate is the Confirm offer operation's path in the spec.
const ConfirmPathTemplate = "/api/partners/{partner_id}/offers/{offer_id}/confirm"

// TokenPath is the XONE token endpoint's path.
const TokenPath = "/api/oauth/token"

// ProductionHost is the XONE production API host. It and its subdomains, in
// any spelling that maps to them (see package internal/egress), make up the
// production host family that the harness refuses unless production traffic
// is allowed explicitly.
const ProductionHost = "api.xone.xcover.com"

// ConfirmPath returns the confirm path for a partner and an offer. The ids
// are used as given (XONE ids are UUIDs and partner codes: no escaping needed
// for them, and the caller validates outside input).
func ConfirmPath(partnerID, offerID string) string {
	return ConfirmPrefix(partnerID) + offerID + ConfirmSuffix
}

// ConfirmPrefix returns the part of a partner's confirm paths before the
// offer id, for callers that splice many offer ids into one prefix:
// ConfirmPath(p, o) is ConfirmPrefix(p) + o + ConfirmSuffix. The partner id
// is used as given, as in ConfirmPath.
func ConfirmPrefix(partnerID string) string {
	return "/api/partners/" + partnerID + "/offers/"
}

// ConfirmSuffix is the part of a confirm path after the offer id.
const ConfirmSuffix = "/confirm"

// DemoPolicyholder is the policyholder sent when none is configured. It
// validates against the confirm request schema.
const DemoPolicyholder = `{"first_name":"Ada","last_name":"Lovelace","email":"ada@example.com",` +
	`"phone":"+61400000000","country":"AU","address1":"1 Example St","city":"Sydney",` +
	`"region":"NSW","postcode":"2000"}`

// NewUUID returns a random version 4 UUID in its canonical lower-case form.
func NewUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never returns an error (Go 1.24+)
	return FormatUUID(b)
}

// FormatUUID sets the version 4 and variant bits of b and formats it as
// xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx.
func FormatUUID(b [16]byte) string {
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	return string(AppendUUID(out[:0], b))
}

// AppendUUID appends b to dst in the canonical lower-case UUID form
// (8-4-4-4-12 hex digits, 36 bytes), as is: unlike FormatUUID it leaves the
// version and variant bits alone, so any 16 bytes round-trip.
func AppendUUID(dst []byte, b [16]byte) []byte {
	const hexDigits = "0123456789abcdef"
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hexDigits[c>>4], hexDigits[c&0x0f])
	}
	return dst
}
