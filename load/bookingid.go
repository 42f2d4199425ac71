package load

import (
	"encoding/json"

	"github.com/xoneharness/xoneharness/internal/jsonlex"
)

// bookingID extracts data.id from a confirm response body ("" if absent). It reads the body
// as json.Unmarshal into struct{ Data struct{ ID string } } would, except that the first data.id
// wins and nothing after it is read: a body that is malformed after the id still yields it (the
// booking exists, and the ledger is there to find it again), and a repeated "data" or "id" key
// after it is not looked for (encoding/json would take the last). A single-pass scanner answers
// the common case without allocating a decode state, and stops at the id (a 5 KB sandbox body
// cost the consumer goroutine 5 µs to the end, 20-50 µs through encoding/json); anything it is
// not sure to read the same way before the id (keys with escapes or non-ASCII bytes, case
// variants of "data" or "id", a non-object data, an id that is not a plain string, deep nesting)
// goes to encoding/json.
func bookingID(body []byte) string {
	if id, ok := scanBookingID(body); ok {
		return id
	}
	var b struct {
		Data struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if json.Unmarshal(body, &b) != nil {
		return ""
	}
	return b.Data.ID
}

// scanBookingID is bookingID's fast path; ok false means "ask encoding/json".
func scanBookingID(body []byte) (id string, ok bool) {
	s := jsonScan{b: body}
	s.ws()
	if !s.peek('{') {
		return "", false
	}
	seenData, found := false, false
	ok = s.object(func(key []byte) bool {
		if string(key) != "data" {
			return !foldEqual(key, "data") && s.value()
		}
		if seenData || !s.peek('{') {
			return false
		}
		seenData = true
		return s.object(func(key []byte) bool {
			if string(key) != "id" {
				return !foldEqual(key, "id") && s.value()
			}
			if !s.peek('"') {
				return false
			}
			raw, plain := s.str()
			if !plain {
				return false
			}
			id, found = string(raw), true
			return false // stop here
		})
	})
	if found {
		return id, true
	}
	if !ok {
		return "", false
	}
	s.ws()
	return "", s.i == len(s.b)
}

// foldEqual reports whether key equals the lower-case ASCII word w, ignoring ASCII case.
func foldEqual(key []byte, w string) bool {
	if len(key) != len(w) {
		return false
	}
	for i := range key {
		if key[i]|0x20 != w[i] {
			return false
		}
	}
	return true
}

// jsonScan validates JSON (RFC 8259, as encoding/json's scanner accepts it) while skipping it.
type jsonScan struct {
	b     []byte
	i     int
	depth int
}

// scanMaxDepth bounds nesting; deeper documents go to encoding/json (which allows 10000).
const scanMaxDepth = 1000

func (s *jsonScan) ws() { s.i = jsonlex.Space(s.b, s.i) }

func (s *jsonScan) peek(c byte) bool { return s.i < len(s.b) && s.b[s.i] == c }

// object scans an object at s.i ('{'); member is called for each key whose bytes are plain
// (printable ASCII without escapes), with s at the value, and must consume the value. A key that
// is not plain ends the scan with false.
func (s *jsonScan) object(member func(key []byte) bool) bool {
	if s.depth++; s.depth > scanMaxDepth {
		return false
	}
	s.i++
	s.ws()
	if s.peek('}') {
		s.i++
		s.depth--
		return true
	}
	for {
		if !s.peek('"') {
			return false
		}
		key, plain := s.str()
		if !plain {
			return false
		}
		s.ws()
		if !s.peek(':') {
			return false
		}
		s.i++
		s.ws()
		if !member(key) {
			return false
		}
		s.ws()
		switch {
		case s.peek(','):
			s.i++
			s.ws()
		case s.peek('}'):
			s.i++
			s.depth--
			return true
		default:
			return false
		}
	}
}

// value validates and skips any value at s.i.
func (s *jsonScan) value() bool {
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '{':
		return s.skipObject()
	case c == '[':
		return s.array()
	case c == '"':
		return s.skipString()
	case c == 't':
		return s.lit("true")
	case c == 'f':
		return s.lit("false")
	case c == 'n':
		return s.lit("null")
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	}
	return false
}

// skipObject validates and skips an object at s.i, whatever its keys.
func (s *jsonScan) skipObject() bool {
	if s.depth++; s.depth > scanMaxDepth {
		return false
	}
	s.i++
	s.ws()
	if s.peek('}') {
		s.i++
		s.depth--
		return true
	}
	for {
		if !s.peek('"') {
			return false
		}
		if !s.skipString() {
			return false
		}
		s.ws()
		if !s.peek(':') {
			return false
		}
		s.i++
		s.ws()
		if !s.value() {
			return false
		}
		s.ws()
		switch {
		case s.peek(','):
			s.i++
			s.ws()
		case s.peek('}'):
			s.i++
			s.depth--
			return true
		default:
			return false
		}
	}
}

func (s *jsonScan) array() bool {
	if s.depth++; s.depth > scanMaxDepth {
		return false
	}
	s.i++
	s.ws()
	if s.peek(']') {
		s.i++
		s.depth--
		return true
	}
	for {
		if !s.value() {
			return false
		}
		s.ws()
		switch {
		case s.peek(','):
			s.i++
			s.ws()
		case s.peek(']'):
			s.i++
			s.depth--
			return true
		default:
			return false
		}
	}
}

func (s *jsonScan) lit(w string) bool {
	var ok bool
	s.i, ok = jsonlex.Literal(s.b, s.i, w)
	return ok
}

func (s *jsonScan) number() bool {
	j, _, _, ok := jsonlex.Number(s.b, s.i)
	if !ok {
		return false
	}
	s.i = j
	return true
}

// str scans a string at s.i and returns its raw bytes; plain is false when it is invalid or
// holds escapes or bytes outside printable ASCII (the caller then gives up).
func (s *jsonScan) str() (raw []byte, plain bool) {
	start := s.i + 1
	for j := start; j < len(s.b); j++ {
		switch c := s.b[j]; {
		case c == '"':
			s.i = j + 1
			return s.b[start:j], true
		case c == '\\' || c < 0x20 || c >= 0x80:
			return nil, false
		}
	}
	return nil, false
}

// plainByte marks the bytes a JSON string holds as they are: not '"', '\\' or a control character.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// skipString validates and skips a string at s.i: escapes must be valid, control characters are
// refused, other bytes (even invalid UTF-8) are accepted, as encoding/json's scanner does.
func (s *jsonScan) skipString() bool {
	for j := s.i + 1; j < len(s.b); j++ {
		for j < len(s.b) && plainByte[s.b[j]] {
			j++
		}
		if j >= len(s.b) {
			return false
		}
		switch c := s.b[j]; {
		case c == '"':
			s.i = j + 1
			return true
		case c < 0x20:
			return false
		case c == '\\':
			var ok bool
			if j, ok = jsonlex.Escape(s.b, j); !ok {
				return false
			}
		}
	}
	return false
}
