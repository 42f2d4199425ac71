package auth

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/oauth2"
)

// maxExpiresIn caps expires_in (seconds), as golang.org/x/oauth2 does: about 68 years.
const maxExpiresIn = math.MaxInt32

// maxTokenValues is the most token-looking values [tokenValues] returns for one response: a Source
// keeps only its recent tokens (maxRecent) anyway.
const maxTokenValues = 16

// parseTokenResponse parses a token endpoint's answer, received at now, whose Content-Type header
// was contentType. The body is read as
//
//	JSON  when it starts with '{' (after white space) or contentType is application/json or
//	      ends in +json: one object, nothing after it;
//	form  when contentType is application/x-www-form-urlencoded or text/plain (RFC 6749's
//	      form body, which GitHub sends as text/plain): the first value of each name counts.
//
// Anything else (HTML, other text) is refused. Both formats carry:
//
//	access_token  string, required, non-empty
//	token_type    string, optional, default "Bearer"
//	expires_in    seconds as a number or a numeric string ("3600"); fractions are cut;
//	              missing, null, "" or 0 mean DefaultLifetime; negative is an error;
//	              capped at 2^31-1
//	refresh_token string, optional
//
// ExpiresIn is the server's value (0 when absent). Every member is kept through Token.WithExtra as
// golang.org/x/oauth2 keeps it (JSON numbers as float64, form values as url.Values), so
// tok.Extra("scope") works. Errors say which rule failed and never quote the body.
func parseTokenResponse(body []byte, contentType string, now time.Time) (*oauth2.Token, error) {
	obj, extra, err := decodeFields(body, contentType)
	if err != nil {
		return nil, err
	}
	var str [3]string // access_token, token_type, refresh_token; null is ""
	for i, key := range []string{"access_token", "token_type", "refresh_token"} {
		var ok bool
		if str[i], ok = obj[key].(string); !ok && obj[key] != nil {
			return nil, fmt.Errorf("parse token response: %s is not a string", key)
		}
	}
	if str[0] == "" {
		return nil, errors.New("parse token response: missing access_token")
	}
	secs, err := expiresIn(obj["expires_in"])
	if err != nil {
		return nil, err
	}
	lifetime := time.Duration(secs) * time.Second
	if secs == 0 {
		lifetime = DefaultLifetime
	}
	tok := &oauth2.Token{AccessToken: str[0], TokenType: cmp.Or(str[1], "Bearer"), RefreshToken: str[2],
		ExpiresIn: secs, Expiry: now.Add(lifetime)}
	return tok.WithExtra(extra), nil
}

// decodeFields decodes a JSON object or a form body (see parseTokenResponse) into its members, JSON
// numbers as json.Number and form values as strings, and the extras a token keeps.
func decodeFields(body []byte, contentType string) (map[string]any, any, error) {
	mt := mediaType(contentType)
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	switch {
	case len(trimmed) > 0 && trimmed[0] == '{' || mt == "application/json" || strings.HasSuffix(mt, "+json"):
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			return nil, nil, fmt.Errorf("parse token response: invalid JSON: %w", jsonCause(err))
		}
		if obj == nil {
			return nil, nil, errors.New("parse token response: not a JSON object")
		}
		if _, err := dec.Token(); err != io.EOF {
			return nil, nil, errors.New("parse token response: invalid JSON: data after the object")
		}
		// The extras are decoded again without UseNumber so they look like golang.org/x/oauth2's
		// (float64 numbers); the body is known valid.
		var raw map[string]any
		_ = json.Unmarshal(body, &raw)
		return obj, raw, nil
	case mt == "application/x-www-form-urlencoded" || mt == "text/plain":
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, nil, errors.New("parse token response: invalid form body")
		}
		obj := make(map[string]any, len(vals))
		for k := range vals {
			obj[k] = vals.Get(k)
		}
		return obj, vals, nil
	}
	return nil, nil, fmt.Errorf("parse token response: content type %q is neither JSON nor a form", cmp.Or(mt, "none"))
}

// mediaType returns the media type of a Content-Type header, lower case and without parameters, cut
// to 64 bytes; "" when there is none or it does not parse. Media types are ASCII tokens, so the cut
// splits no rune.
func mediaType(contentType string) string {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil && !errors.Is(err, mime.ErrInvalidMediaParameter) {
		return ""
	}
	return mt[:min(len(mt), 64)]
}

// expiresIn reads expires_in: a JSON number or a numeric string. Absent, null, "" and 0 give 0.
func expiresIn(v any) (int64, error) {
	var text string
	switch v := v.(type) {
	case nil:
		return 0, nil
	case json.Number:
		text = v.String()
	case string:
		text = strings.TrimSpace(v)
		if text == "" {
			return 0, nil
		}
	default:
		return 0, errors.New("parse token response: expires_in is not a number")
	}
	// Every value in range is exact as a float64; a number too large for one (ErrRange, ±Inf) is
	// still a number, while "Inf" and "NaN" are not.
	f, err := strconv.ParseFloat(text, 64)
	switch {
	case math.IsNaN(f) || err != nil && !errors.Is(err, strconv.ErrRange) || err == nil && math.IsInf(f, 0):
		return 0, errors.New("parse token response: expires_in is not a number")
	case f < 0:
		return 0, errors.New("parse token response: expires_in is negative")
	case f > maxExpiresIn:
		return maxExpiresIn, nil
	}
	return int64(f), nil
}

// jsonCause drops the parts of a JSON decoding error that could echo the input (an
// UnmarshalTypeError names a field path, a SyntaxError one character; both are harmless) and keeps
// the message short.
func jsonCause(err error) error {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Errorf("syntax error at byte %d", syn.Offset)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return fmt.Errorf("want an object, got %s", typ.Value)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("empty or truncated")
	}
	return errors.New("unreadable")
}

// tokenFieldRE finds a token-looking field in any text: a name ending in "token" (access_token,
// refresh_token, id_token, accessToken, …), maybe quoted, then ':', '=' or an HTML value attribute,
// then the value as a JSON string, a single- or &quot;-quoted string, or a bare run of b64token
// characters (RFC 6750), '=' and percent escapes.
var tokenFieldRE = regexp.MustCompile(`(?i)token(?:"|'|&quot;)?(?:\s*[:=]|\s+value\s*=)\s*(?:"((?:[^"\\]|\\.)+)"|'([^']+)'|&quot;(.+?)&quot;|([A-Za-z0-9\-._~+/%=]+))`)

// tokenValues returns the values of the token-looking fields in body, in any format (JSON, form,
// HTML, plain text), as written and decoded (JSON escapes, percent escapes): at most maxTokenValues
// distinct values of at least MinSecretLen characters. Shorter ones would match ordinary text
// ("null", "{"); a Source registers the tokens it accepts whatever their length.
func tokenValues(body []byte) []string {
	if !bytes.Contains(bytes.ToLower(body), []byte("token")) {
		return nil
	}
	var out []string
	add := func(v string) {
		if utf8.RuneCountInString(v) >= MinSecretLen && len(out) < maxTokenValues && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	for _, m := range tokenFieldRE.FindAllSubmatch(body, -1) {
		switch {
		case m[1] != nil:
			add(string(m[1]))
			var s string
			if json.Unmarshal(append(append([]byte{'"'}, m[1]...), '"'), &s) == nil {
				add(s)
			}
		case m[4] != nil:
			add(string(m[4]))
			if s, err := url.PathUnescape(string(m[4])); err == nil {
				add(s)
			}
		default:
			add(string(m[2]) + string(m[3]))
		}
		if len(out) == maxTokenValues {
			break
		}
	}
	return out
}
