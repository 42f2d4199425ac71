package sandbox

import (
	"bytes"
	"errors"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// confirmRequest is the parsed confirm body. Its byte slices point into the request body
// or into the parser's scratch buffer (strings with escapes), so it allocates nothing on
// the happy path.
type confirmRequest struct {
	quoteID   []byte // id of the first quote
	nQuotes   int
	hasHolder bool
	holder    policyholder
}

// policyholder holds the echoed policyholder fields (nil when absent or null).
type policyholder struct {
	FirstName, LastName, Email, Phone, Country, Address1, City, Region, Postcode []byte
}

// fieldError is one Laravel-style validation message.
type fieldError struct{ field, msg string }

// maxDepth bounds nesting, as encoding/json does.
const maxDepth = 10000

var errSyntax = errors.New("invalid json")

// parser is a strict, allocation-free JSON scanner (RFC 8259) that extracts the confirm
// fields while validating the whole document.
type parser struct {
	b       []byte
	i       int
	depth   int
	scratch []byte
}

// parseConfirmJSON parses body. Semantics (documented in doc.go): keys match exactly and
// the last duplicate wins; a body that is not a JSON object counts as empty input; null
// counts as absent; a value of the wrong type is a validation error for that field.
func parseConfirmJSON(body, scratch []byte) (req confirmRequest, errs []fieldError) {
	p := parser{b: body, scratch: scratch}
	var quoteErrs, holderErrs []fieldError
	quotesState, holderState := absent, absent
	ok := func() bool {
		p.ws()
		if p.i >= len(p.b) || p.b[p.i] != '{' {
			return p.value() == nil && p.end() // valid JSON but not an object: empty input
		}
		p.i++
		for first := true; ; first = false {
			key, more, err := p.member(first)
			if err != nil {
				return false
			}
			if !more {
				break
			}
			switch string(key) {
			case "quotes":
				quoteErrs = quoteErrs[:0]
				req.quoteID, req.nQuotes = nil, 0
				quotesState, err = p.quotes(&req, &quoteErrs)
			case "policyholder":
				holderErrs = holderErrs[:0]
				req.holder = policyholder{}
				holderState, err = p.policyholder(&req.holder, &holderErrs)
			default:
				err = p.value()
			}
			if err != nil {
				return false
			}
		}
		return p.end()
	}()
	if !ok {
		return confirmRequest{}, []fieldError{
			{"quotes", "The quotes field is required."},
			{"policyholder", "The policyholder field is required."},
		}
	}
	switch quotesState {
	case absent:
		errs = append(errs, fieldError{"quotes", "The quotes field is required."})
	case wrongType:
		errs = append(errs, fieldError{"quotes", "The quotes field must be an array."})
	default:
		errs = append(errs, quoteErrs...)
	}
	switch holderState {
	case absent:
		errs = append(errs, fieldError{"policyholder", "The policyholder field is required."})
	case wrongType:
		errs = append(errs, fieldError{"policyholder", "The policyholder field must be an object."})
	default:
		req.hasHolder = true
		errs = validatePolicyholder(&req.holder, append(errs, holderErrs...))
	}
	return req, errs
}

// field states
const (
	absent = iota
	present
	wrongType
)

// end reports whether only whitespace is left.
func (p *parser) end() bool {
	p.ws()
	return p.i == len(p.b)
}

func (p *parser) quotes(req *confirmRequest, errs *[]fieldError) (int, error) {
	p.ws()
	if p.i >= len(p.b) {
		return absent, errSyntax
	}
	switch p.b[p.i] {
	case 'n':
		return absent, p.literal("null")
	case '[':
	default:
		return wrongType, p.value()
	}
	if err := p.push(); err != nil {
		return absent, err
	}
	p.i++
	n := 0
	for first := true; ; first = false {
		more, err := p.element(first)
		if err != nil {
			return absent, err
		}
		if !more {
			break
		}
		var id []byte
		typeErr := false
		if p.i < len(p.b) && p.b[p.i] == '{' {
			if err := p.push(); err != nil {
				return absent, err
			}
			p.i++
			for first := true; ; first = false {
				key, more, err := p.member(first)
				if err != nil {
					return absent, err
				}
				if !more {
					break
				}
				if string(key) != "id" {
					if err := p.value(); err != nil {
						return absent, err
					}
					continue
				}
				id, typeErr = nil, false
				switch {
				case p.b[p.i] == '"':
					if id, err = p.str(); err != nil {
						return absent, err
					}
				case p.b[p.i] == 'n':
					if err := p.literal("null"); err != nil {
						return absent, err
					}
				default:
					typeErr = true
					if err := p.value(); err != nil {
						return absent, err
					}
				}
			}
			p.depth--
		} else if err := p.value(); err != nil {
			return absent, err
		}
		if n == 0 {
			req.quoteID = id
		}
		msg := ""
		switch {
		case typeErr:
			msg = "must be a string."
		case len(id) == 0:
			msg = "is required."
		case utf8.RuneCount(id) > maxField:
			msg = "must not be greater than 255 characters."
		}
		if msg != "" {
			f := "quotes." + strconv.Itoa(n) + ".id"
			*errs = append(*errs, fieldError{f, "The " + f + " field " + msg})
		}
		n++
	}
	p.depth--
	req.nQuotes = n
	if n == 0 {
		return absent, nil // an empty array fails "required", as in Laravel
	}
	return present, nil
}

func (p *parser) policyholder(h *policyholder, errs *[]fieldError) (int, error) {
	p.ws()
	if p.i >= len(p.b) {
		return absent, errSyntax
	}
	switch p.b[p.i] {
	case 'n':
		return absent, p.literal("null")
	case '{':
	default:
		return wrongType, p.value()
	}
	if err := p.push(); err != nil {
		return absent, err
	}
	p.i++
	var typeErrs uint16 // bit per field, in holderFields order
	for first := true; ; first = false {
		key, more, err := p.member(first)
		if err != nil {
			return absent, err
		}
		if !more {
			break
		}
		dst, bit := h.field(key)
		if dst == nil {
			if err := p.value(); err != nil {
				return absent, err
			}
			continue
		}
		*dst = nil
		typeErrs &^= bit
		switch p.b[p.i] {
		case '"':
			if *dst, err = p.str(); err != nil {
				return absent, err
			}
		case 'n':
			if err := p.literal("null"); err != nil {
				return absent, err
			}
		default:
			typeErrs |= bit
			if err := p.value(); err != nil {
				return absent, err
			}
		}
	}
	p.depth--
	for i, name := range holderFields {
		if typeErrs&(1<<i) != 0 {
			f := "policyholder." + name
			*errs = append(*errs, fieldError{f, "The " + f + " field must be a string."})
		}
	}
	return present, nil
}

// holderFields lists the echoed policyholder fields; the order matches field's bits.
var holderFields = [...]string{"first_name", "last_name", "email", "phone", "country", "address1", "city", "region", "postcode"}

func (h *policyholder) field(key []byte) (*[]byte, uint16) {
	switch string(key) {
	case "first_name":
		return &h.FirstName, 1 << 0
	case "last_name":
		return &h.LastName, 1 << 1
	case "email":
		return &h.Email, 1 << 2
	case "phone":
		return &h.Phone, 1 << 3
	case "country":
		return &h.Country, 1 << 4
	case "address1":
		return &h.Address1, 1 << 5
	case "city":
		return &h.City, 1 << 6
	case "region":
		return &h.Region, 1 << 7
	case "postcode":
		return &h.Postcode, 1 << 8
	}
	return nil, 0
}

func (h *policyholder) values() [9][]byte {
	return [9][]byte{h.FirstName, h.LastName, h.Email, h.Phone, h.Country, h.Address1, h.City, h.Region, h.Postcode}
}

func validatePolicyholder(h *policyholder, errs []fieldError) []fieldError {
	for _, f := range [...]struct {
		name string
		v    []byte
	}{{"first_name", h.FirstName}, {"last_name", h.LastName}, {"email", h.Email}} {
		if len(f.v) == 0 && !hasField(errs, "policyholder."+f.name) {
			errs = append(errs, fieldError{"policyholder." + f.name, "The policyholder." + f.name + " field is required."})
		}
	}
	if len(h.Email) > 0 && !validEmail(h.Email) {
		errs = append(errs, fieldError{"policyholder.email", "The policyholder.email field must be a valid email address."})
	}
	for i, v := range h.values() {
		if utf8.RuneCount(v) > maxField {
			f := "policyholder." + holderFields[i]
			errs = append(errs, fieldError{f, "The " + f + " field must not be greater than 255 characters."})
		}
	}
	return errs
}

func hasField(errs []fieldError, f string) bool {
	for _, e := range errs {
		if e.field == f {
			return true
		}
	}
	return false
}

func (p *parser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) push() error {
	p.depth++
	if p.depth > maxDepth {
		return errSyntax
	}
	return nil
}

// member advances to the next object member and returns its key, positioned at the
// value; more is false after the closing brace.
func (p *parser) member(first bool) (key []byte, more bool, err error) {
	p.ws()
	if p.i >= len(p.b) {
		return nil, false, errSyntax
	}
	switch c := p.b[p.i]; {
	case c == '}' && first:
		p.i++
		return nil, false, nil
	case first:
	case c == '}':
		p.i++
		return nil, false, nil
	case c == ',':
		p.i++
		p.ws()
	default:
		return nil, false, errSyntax
	}
	if key, err = p.str(); err != nil {
		return nil, false, err
	}
	p.ws()
	if p.i >= len(p.b) || p.b[p.i] != ':' {
		return nil, false, errSyntax
	}
	p.i++
	p.ws()
	if p.i >= len(p.b) {
		return nil, false, errSyntax
	}
	return key, true, nil
}

// element advances to the next array element; more is false after the closing bracket.
func (p *parser) element(first bool) (more bool, err error) {
	p.ws()
	if p.i >= len(p.b) {
		return false, errSyntax
	}
	switch c := p.b[p.i]; {
	case c == ']' && first:
		p.i++
		return false, nil
	case first:
	case c == ']':
		p.i++
		return false, nil
	case c == ',':
		p.i++
		p.ws()
	default:
		return false, errSyntax
	}
	if p.i >= len(p.b) {
		return false, errSyntax
	}
	return true, nil
}

// value skips one JSON value, validating it.
func (p *parser) value() error {
	p.ws()
	if p.i >= len(p.b) {
		return errSyntax
	}
	switch c := p.b[p.i]; {
	case c == '{':
		if err := p.push(); err != nil {
			return err
		}
		p.i++
		for first := true; ; first = false {
			_, more, err := p.member(first)
			if err != nil {
				return err
			}
			if !more {
				break
			}
			if err := p.value(); err != nil {
				return err
			}
		}
		p.depth--
		return nil
	case c == '[':
		if err := p.push(); err != nil {
			return err
		}
		p.i++
		for first := true; ; first = false {
			more, err := p.element(first)
			if err != nil {
				return err
			}
			if !more {
				break
			}
			if err := p.value(); err != nil {
				return err
			}
		}
		p.depth--
		return nil
	case c == '"':
		_, err := p.str()
		return err
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		return p.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		return p.number()
	}
	return errSyntax
}

func (p *parser) literal(lit string) error {
	if !bytes.HasPrefix(p.b[p.i:], []byte(lit)) {
		return errSyntax
	}
	p.i += len(lit)
	return nil
}

func (p *parser) digits() bool {
	start := p.i
	for p.i < len(p.b) && '0' <= p.b[p.i] && p.b[p.i] <= '9' {
		p.i++
	}
	return p.i > start
}

func (p *parser) number() error {
	if p.b[p.i] == '-' {
		p.i++
	}
	if p.i >= len(p.b) {
		return errSyntax
	}
	if p.b[p.i] == '0' {
		p.i++
	} else if !p.digits() {
		return errSyntax
	}
	if p.i < len(p.b) && p.b[p.i] == '.' {
		p.i++
		if !p.digits() {
			return errSyntax
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if !p.digits() {
			return errSyntax
		}
	}
	return nil
}

// str parses a string at p.i and returns its content: a sub-slice of the body when it
// has no escapes, else the unescaped text in the scratch buffer. Invalid UTF-8 is kept as
// is (the response writer replaces it with U+FFFD).
func (p *parser) str() ([]byte, error) {
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return nil, errSyntax
	}
	p.i++
	start := p.i
	for p.i < len(p.b) {
		switch c := p.b[p.i]; {
		case c == '"':
			s := p.b[start:p.i:p.i]
			p.i++
			return s, nil
		case c == '\\':
			return p.strEscaped(start)
		case c < 0x20:
			return nil, errSyntax
		default:
			p.i++
		}
	}
	return nil, errSyntax
}

func (p *parser) strEscaped(start int) ([]byte, error) {
	n0 := len(p.scratch)
	p.scratch = append(p.scratch, p.b[start:p.i]...)
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			return p.scratch[n0:len(p.scratch):len(p.scratch)], nil
		case c < 0x20:
			return nil, errSyntax
		case c != '\\':
			p.scratch = append(p.scratch, c)
			p.i++
			continue
		}
		if p.i+1 >= len(p.b) {
			return nil, errSyntax
		}
		e := p.b[p.i+1]
		p.i += 2
		switch e {
		case '"', '\\', '/':
			p.scratch = append(p.scratch, e)
		case 'b':
			p.scratch = append(p.scratch, '\b')
		case 'f':
			p.scratch = append(p.scratch, '\f')
		case 'n':
			p.scratch = append(p.scratch, '\n')
		case 'r':
			p.scratch = append(p.scratch, '\r')
		case 't':
			p.scratch = append(p.scratch, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return nil, errSyntax
			}
			if utf16.IsSurrogate(r) {
				// A valid pair combines; anything else is U+FFFD, as in encoding/json.
				if p.i+1 < len(p.b) && p.b[p.i] == '\\' && p.b[p.i+1] == 'u' {
					save := p.i
					p.i += 2
					r2, ok := p.hex4()
					if !ok {
						return nil, errSyntax
					}
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						r = dec
					} else {
						p.i = save
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			}
			p.scratch = utf8.AppendRune(p.scratch, r)
		default:
			return nil, errSyntax
		}
	}
	return nil, errSyntax
}

func (p *parser) hex4() (rune, bool) {
	if p.i+4 > len(p.b) {
		return 0, false
	}
	var r rune
	for _, c := range p.b[p.i : p.i+4] {
		d, ok := unhex(c)
		if !ok {
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	p.i += 4
	return r, true
}
