package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// confirmRequest is the parsed confirm body.
type confirmRequest struct {
	quoteID string // id of the first quote
	nQuotes int
	holder  policyholder
}

// policyholder holds the echoed policyholder members ("" when absent or null).
type policyholder struct {
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Email     string `json:"email"`
	Phone     string `json:"phone"`
	Country   string `json:"country"`
	Address1  string `json:"address1"`
	City      string `json:"city"`
	Region    string `json:"region"`
	Postcode  string `json:"postcode"`
}

// member is one echoed policyholder member and its JSON name.
type member struct {
	name string
	v    *string
}

// members returns h's members in document order; the first three are required.
func (h *policyholder) members() []member {
	return []member{{"first_name", &h.FirstName}, {"last_name", &h.LastName}, {"email", &h.Email},
		{"phone", &h.Phone}, {"country", &h.Country}, {"address1", &h.Address1}, {"city", &h.City},
		{"region", &h.Region}, {"postcode", &h.Postcode}}
}

// fieldError is one Laravel-style validation message.
type fieldError struct{ field, msg string }

// decodeBody decodes a confirm body. Like Laravel, a body that is not application/json, not valid
// JSON or not an object counts as empty input: nil. The last duplicate key wins; numbers stay
// json.Number, so any number is valid however large.
func decodeBody(contentType string, body []byte) map[string]any {
	if ct, _, _ := mime.ParseMediaType(contentType); ct != "application/json" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var top map[string]any
	if dec.Decode(&top) != nil || !errors.Is(dec.Decode(new(any)), io.EOF) {
		return nil
	}
	return top
}

// parseConfirm validates a decoded confirm body (nil: empty): null counts as absent; a value of the
// wrong type is a validation error for its field.
func parseConfirm(top map[string]any) (req confirmRequest, errs []fieldError) {
	switch quotes := top["quotes"].(type) {
	case nil:
		errs = append(errs, fieldError{"quotes", "The quotes field is required."})
	case []any:
		errs = parseQuotes(quotes, &req, errs)
	default:
		errs = append(errs, fieldError{"quotes", "The quotes field must be an array."})
	}
	switch holder := top["policyholder"].(type) {
	case nil:
		errs = append(errs, fieldError{"policyholder", "The policyholder field is required."})
	case map[string]any:
		errs = parsePolicyholder(holder, &req.holder, errs)
	default:
		errs = append(errs, fieldError{"policyholder", "The policyholder field must be an object."})
	}
	return req, errs
}

// stringField reads a value that must be a string: "" for absent or null, typeErr for another type.
func stringField(v any) (s string, typeErr bool) {
	s, ok := v.(string)
	return s, !ok && v != nil
}

// parseQuotes reads the quotes array into req: the first quote's id and the number of quotes. An
// empty array fails "required", as in Laravel.
func parseQuotes(quotes []any, req *confirmRequest, errs []fieldError) []fieldError {
	req.nQuotes = len(quotes)
	if len(quotes) == 0 {
		return append(errs, fieldError{"quotes", "The quotes field is required."})
	}
	for n, q := range quotes {
		quote, _ := q.(map[string]any)
		id, typeErr := stringField(quote["id"])
		if n == 0 {
			req.quoteID = id
		}
		msg := ""
		switch {
		case typeErr:
			msg = "must be a string."
		case id == "":
			msg = "is required."
		case utf8.RuneCountInString(id) > maxField:
			msg = "must not be greater than 255 characters."
		}
		if msg != "" {
			f := "quotes." + strconv.Itoa(n) + ".id"
			errs = append(errs, fieldError{f, "The " + f + " field " + msg})
		}
	}
	return errs
}

// parsePolicyholder reads and validates the policyholder object into h.
func parsePolicyholder(obj map[string]any, h *policyholder, errs []fieldError) []fieldError {
	for i, m := range h.members() {
		f := "policyholder." + m.name
		var typeErr bool
		*m.v, typeErr = stringField(obj[m.name])
		switch {
		case typeErr:
			errs = append(errs, fieldError{f, "The " + f + " field must be a string."})
		case *m.v == "" && i < 3: // first_name, last_name and email are required
			errs = append(errs, fieldError{f, "The " + f + " field is required."})
		case m.name == "email" && !validEmail(h.Email):
			errs = append(errs, fieldError{f, "The " + f + " field must be a valid email address."})
		}
		if utf8.RuneCountInString(*m.v) > maxField {
			errs = append(errs, fieldError{f, "The " + f + " field must not be greater than 255 characters."})
		}
	}
	return errs
}

// emailRE matches a conservative subset of what JSON Schema's "email" format accepts: an unquoted
// dot-atom local part and a host name of at least two labels.
var emailRE = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@" +
	`[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$`)

// validEmail reports whether s matches emailRE within RFC 5321's lengths, so that every echoed
// address passes the response validator's format check.
func validEmail(s string) bool {
	return len(s) <= 254 && strings.IndexByte(s, '@') <= 64 && emailRE.MatchString(s)
}

// validationBody renders a Laravel-style 422 body. Messages keep their order within a field; fields
// are sorted by name.
func validationBody(errs []fieldError) []byte {
	byField := map[string][]string{}
	for _, e := range errs {
		byField[e.field] = append(byField[e.field], e.msg)
	}
	return marshal(struct {
		Type    string              `json:"type"`
		Message string              `json:"message"`
		Errors  map[string][]string `json:"errors"`
	}{"validation_error", "The given data was invalid.", byField})
}
