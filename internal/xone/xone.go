// Package xone holds the small facts about the XONE Confirm offer API that
// the harness's packages share: the confirm path, id generation, the demo
// policyholder (ReadPolicyholder reads another from a file), the production
// host and the sensitive field names.
//
//	path := xone.ConfirmPath("P-1", xone.NewUUID())
package xone

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
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

// MaxIDLen is the longest id (partner, offer or quote) the harness accepts,
// in bytes.
const MaxIDLen = 128

// CheckID accepts an id that is one clean URL path segment: 1 to MaxIDLen
// bytes of letters, digits and "-._~" (URL-unreserved characters, so it
// needs no escaping in a path, a JSON string or a CSV field), and neither
// "." nor "..", which a URL resolves away. XONE's ids are UUIDs and partner
// codes. The error says what is wrong; the caller names the id's source.
func CheckID[S string | []byte](s S) error {
	switch {
	case len(s) == 0:
		return errors.New("empty")
	case string(s) == "." || string(s) == "..":
		return fmt.Errorf("%q is not a path segment (an id is put in the URL path)", string(s))
	case len(s) > MaxIDLen:
		return fmt.Errorf("longer than %d bytes", MaxIDLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return fmt.Errorf("invalid character %q at byte %d (ids are letters, digits and -._~)", rune(c), i+1)
		}
	}
	return nil
}

// ConfirmBody renders the body of a valid confirm request,
// {"quotes":[{"id":QUOTE}],"policyholder":POLICYHOLDER}, for one
// policyholder and any quote: the one place the harness builds it. Its
// methods are safe for concurrent use.
type ConfirmBody struct {
	prefix, suffix []byte
}

// NewConfirmBody returns the builder for policyholder, a JSON object (nil:
// DemoPolicyholder), which it compacts.
func NewConfirmBody(policyholder json.RawMessage) (ConfirmBody, error) {
	if policyholder == nil {
		policyholder = json.RawMessage(DemoPolicyholder)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(policyholder, &obj); err != nil {
		return ConfirmBody{}, fmt.Errorf("policyholder must be a JSON object: %w", err)
	}
	if obj == nil {
		return ConfirmBody{}, errors.New("policyholder must be a JSON object, not null")
	}
	var ph bytes.Buffer
	if err := json.Compact(&ph, policyholder); err != nil {
		return ConfirmBody{}, fmt.Errorf("policyholder: %w", err)
	}
	return ConfirmBody{prefix: []byte(`{"quotes":[{"id":`), suffix: append(append([]byte(`}],"policyholder":`), ph.Bytes()...), '}')}, nil
}

// For returns the body for quoteID (JSON-escaped as needed), a new slice
// the caller owns.
func (b ConfirmBody) For(quoteID string) []byte {
	q, _ := json.Marshal(quoteID) // a string always marshals
	out := make([]byte, 0, len(b.prefix)+len(q)+len(b.suffix))
	return append(append(append(out, b.prefix...), q...), b.suffix...)
}
