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

// maxTokenValues is the most values tokenValues returns for one response (more than maxRecent).
const maxTokenValues = 16

// parseTokenResponse parses a token endpoint's answer, received at now. The body is read as
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
// x/oauth2 keeps it, so tok.Extra("scope") works. Errors name the rule failed, never quote the body.
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
	tok := &oauth2.Token{AccessToken: str[0], TokenType: cmp.Or(str[1], "Bearer"), RefreshToken: str[2],
		ExpiresIn: secs, Expiry: now.Add(cmp.Or(time.Duration(secs)*time.Second, DefaultLifetime))}
	return tok.WithExtra(extra), nil
}

// decodeFields decodes a JSON or form body (see parseTokenResponse) into members and token extras.
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
		var raw map[string]any // float64 numbers, as x/oauth2's extras have; the body is valid
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

// mediaType returns the media type of a Content-Type header, lower case, without parameters, cut to
// 64 bytes (ASCII, so no rune is split); "" when there is none or it does not parse.
func mediaType(contentType string) string {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil && !errors.Is(err, mime.ErrInvalidMediaParameter) {
		return ""
	}
	return mt[:min(len(mt), 64)]
}

// expiresIn reads expires_in: a JSON number or a numeric string. Absent, null, "" and 0 give 0.
func expiresIn(v any) (int64, error) {
	switch v.(type) {
	case json.Number, string:
	case nil:
		return 0, nil
	default:
		return 0, errors.New("parse token response: expires_in is not a number")
	}
	text := strings.TrimSpace(fmt.Sprint(v))
	if text == "" {
		return 0, nil
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

// jsonCause describes a JSON decoding error briefly, without the parts that could echo the input.
func jsonCause(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("syntax error at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Errorf("want an object, got %s", typ.Value)
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("empty or truncated")
	}
	return errors.New("unreadable")
}

// tokenFieldRE finds a token-looking field in any text: a name ending in "token", maybe quoted, then
// ':', '=' or an HTML value attribute, then the value as a JSON string, a single- or &quot;-quoted
// string, or a bare run of b64token characters (RFC 6750), '=' and percent escapes.
var tokenFieldRE = regexp.MustCompile(`(?i)token(?:"|'|&quot;)?(?:\s*[:=]|\s+value\s*=)\s*(?:"((?:[^"\\]|\\.)+)"|'([^']+)'|&quot;(.+?)&quot;|([A-Za-z0-9\-._~+/%=]+))`)

// tokenValues returns the values of the token-looking fields in body, in any format, as written and
// decoded (JSON or percent escapes): at most maxTokenValues distinct values of at least MinSecretLen
// characters, as shorter ones would match ordinary text ("null"). A Source registers the tokens it
// accepts whatever their length.
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
