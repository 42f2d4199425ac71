package sandbox

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// confirmRequest is the parsed confirm body.
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

// field states
const (
	absent = iota
	present
	wrongType
)

// parseConfirmJSON parses body with encoding/json, in one pass into generic values (maps keep
// keys exactly as sent, which a struct would match in any case). Semantics (documented in
// doc.go): keys match exactly and the last duplicate wins; a body that is not a JSON object (or
// not JSON) counts as empty input; null counts as absent; a value of the wrong type is a
// validation error for that field. Strings are decoded as encoding/json decodes them (invalid
// UTF-8 becomes U+FFFD). The second argument is unused.
func parseConfirmJSON(body, _ []byte) (req confirmRequest, errs []fieldError) {
	var top map[string]any
	if t := bytes.TrimLeft(body, " \t\r\n"); len(t) > 0 && t[0] == '{' {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber() // any number is valid JSON, however large
		if dec.Decode(&top) != nil || dec.InputOffset() != int64(len(bytes.TrimRight(body, " \t\r\n"))) {
			top = nil
		}
	}
	if top == nil {
		return confirmRequest{}, []fieldError{
			{"quotes", "The quotes field is required."},
			{"policyholder", "The policyholder field is required."},
		}
	}
	switch state, quoteErrs := parseQuotes(top["quotes"], &req); state {
	case absent:
		errs = append(errs, fieldError{"quotes", "The quotes field is required."})
	case wrongType:
		errs = append(errs, fieldError{"quotes", "The quotes field must be an array."})
	default:
		errs = append(errs, quoteErrs...)
	}
	switch state, holderErrs := parsePolicyholder(top["policyholder"], &req.holder); state {
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

// stringField reads a value that must be a string: nil for absent or null, typeErr for another
// type.
func stringField(v any) (s []byte, typeErr bool) {
	switch t := v.(type) {
	case nil:
		return nil, false
	case string:
		return []byte(t), false
	}
	return nil, true
}

// parseQuotes reads the quotes array into req: the first quote's id and the number of quotes.
func parseQuotes(v any, req *confirmRequest) (int, []fieldError) {
	var quotes []any
	switch t := v.(type) {
	case nil:
		return absent, nil
	case []any:
		quotes = t
	default:
		return wrongType, nil
	}
	var errs []fieldError
	for n, q := range quotes {
		var id []byte
		typeErr := false
		if quote, ok := q.(map[string]any); ok {
			id, typeErr = stringField(quote["id"])
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
			errs = append(errs, fieldError{f, "The " + f + " field " + msg})
		}
	}
	req.nQuotes = len(quotes)
	if len(quotes) == 0 {
		return absent, nil // an empty array fails "required", as in Laravel
	}
	return present, errs
}

// parsePolicyholder reads the policyholder object into h.
func parsePolicyholder(v any, h *policyholder) (int, []fieldError) {
	var obj map[string]any
	switch t := v.(type) {
	case nil:
		return absent, nil
	case map[string]any:
		obj = t
	default:
		return wrongType, nil
	}
	var errs []fieldError
	for _, name := range holderFields {
		s, typeErr := stringField(obj[name])
		*h.field(name) = s
		if typeErr {
			f := "policyholder." + name
			errs = append(errs, fieldError{f, "The " + f + " field must be a string."})
		}
	}
	return present, errs
}

// holderFields lists the echoed policyholder fields, in the order of policyholder.values.
var holderFields = [...]string{"first_name", "last_name", "email", "phone", "country", "address1", "city", "region", "postcode"}

// field returns the field named as in holderFields.
func (h *policyholder) field(name string) *[]byte {
	switch name {
	case "first_name":
		return &h.FirstName
	case "last_name":
		return &h.LastName
	case "email":
		return &h.Email
	case "phone":
		return &h.Phone
	case "country":
		return &h.Country
	case "address1":
		return &h.Address1
	case "city":
		return &h.City
	case "region":
		return &h.Region
	}
	return &h.Postcode
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
