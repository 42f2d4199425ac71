package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// maxExpiresIn caps expires_in (seconds), as golang.org/x/oauth2 does: about
// 68 years, far below time.Duration's range.
const maxExpiresIn = math.MaxInt32

// ParseTokenResponse parses a token endpoint's JSON answer, received at now.
//
// The body must be one JSON object (nothing after it) with:
//
//	access_token  string, required, non-empty
//	token_type    string, optional, default "Bearer"
//	expires_in    seconds as a JSON number or a numeric string ("3600");
//	              fractions are cut; missing, null, "" or 0 mean
//	              defaultLifetime; negative is an error; capped at 2^31-1
//	refresh_token string, optional
//	scope         optional, kept as is
//
// Expiry is now + expires_in (now + defaultLifetime when absent; zero, that
// is never, when defaultLifetime <= 0 too). ExpiresIn is the server's value
// (0 when absent). Every member is kept through Token.WithExtra, decoded as
// golang.org/x/oauth2 does (numbers as float64), so tok.Extra("scope") works.
// Errors say which rule failed and never quote the body.
func ParseTokenResponse(body []byte, now time.Time, defaultLifetime time.Duration) (*oauth2.Token, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return nil, fmt.Errorf("parse token response: invalid JSON: %w", jsonCause(err))
	}
	if obj == nil {
		return nil, errors.New("parse token response: not a JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("parse token response: invalid JSON: data after the object")
	}

	access, err := optString(obj, "access_token")
	if err != nil {
		return nil, err
	}
	if access == "" {
		return nil, errors.New("parse token response: missing access_token")
	}
	tokenType, err := optString(obj, "token_type")
	if err != nil {
		return nil, err
	}
	if tokenType == "" {
		tokenType = "Bearer"
	}
	refresh, err := optString(obj, "refresh_token")
	if err != nil {
		return nil, err
	}
	secs, err := expiresIn(obj["expires_in"])
	if err != nil {
		return nil, err
	}

	tok := &oauth2.Token{
		AccessToken:  access,
		TokenType:    tokenType,
		RefreshToken: refresh,
		ExpiresIn:    secs,
	}
	switch {
	case secs > 0:
		tok.Expiry = now.Add(time.Duration(secs) * time.Second)
	case defaultLifetime > 0:
		tok.Expiry = now.Add(defaultLifetime)
	}

	// The extras are decoded again without UseNumber so they look like
	// golang.org/x/oauth2's (float64 numbers); the body is known valid.
	var raw map[string]any
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("parse token response: invalid JSON: %w", jsonCause(err))
	}
	return tok.WithExtra(raw), nil
}

// optString returns obj[key] as a string; absent and null give "".
func optString(obj map[string]any, key string) (string, error) {
	switch v := obj[key].(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	default:
		return "", fmt.Errorf("parse token response: %s is not a string", key)
	}
}

// expiresIn reads expires_in: a JSON number or a numeric string. Absent,
// null, "" and 0 give 0.
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
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(text, 64)
		if ferr != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			if errors.Is(err, strconv.ErrRange) {
				// An integer too large for int64 is still a number.
				if strings.HasPrefix(text, "-") {
					return 0, errors.New("parse token response: expires_in is negative")
				}
				return maxExpiresIn, nil
			}
			return 0, errors.New("parse token response: expires_in is not a number")
		}
		switch {
		case f < 0:
			return 0, errors.New("parse token response: expires_in is negative")
		case f > maxExpiresIn:
			return maxExpiresIn, nil
		}
		n = int64(f)
	}
	switch {
	case n < 0:
		return 0, errors.New("parse token response: expires_in is negative")
	case n > maxExpiresIn:
		return maxExpiresIn, nil
	}
	return n, nil
}

// jsonCause drops the parts of a JSON decoding error that could echo the
// input (an UnmarshalTypeError names a field path, a SyntaxError one
// character; both are harmless) and keeps the message short.
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
	return err
}
