package auth

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseTokenResponse(t *testing.T) {
	now := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	const def = DefaultLifetime
	tests := []struct {
		name       string
		body       string
		wantType   string
		wantExpiry time.Duration // after now; 0 means Expiry is zero
		wantIn     int64
		wantScope  any
	}{
		{"integer expires_in", `{"access_token":"a","token_type":"Bearer","expires_in":3600,"scope":"offers:update"}`, "Bearer", time.Hour, 3600, "offers:update"},
		{"string expires_in", `{"access_token":"a","expires_in":"3600"}`, "Bearer", time.Hour, 3600, nil},
		{"string expires_in with spaces", `{"access_token":"a","expires_in":" 60 "}`, "Bearer", time.Minute, 60, nil},
		{"fractional expires_in", `{"access_token":"a","expires_in":59.9}`, "Bearer", 59 * time.Second, 59, nil},
		{"exponent expires_in", `{"access_token":"a","expires_in":3.6e3}`, "Bearer", time.Hour, 3600, nil},
		{"missing expires_in", `{"access_token":"a"}`, "Bearer", def, 0, nil},
		{"null expires_in", `{"access_token":"a","expires_in":null}`, "Bearer", def, 0, nil},
		{"empty string expires_in", `{"access_token":"a","expires_in":""}`, "Bearer", def, 0, nil},
		{"zero expires_in", `{"access_token":"a","expires_in":0}`, "Bearer", def, 0, nil},
		{"huge expires_in is capped", `{"access_token":"a","expires_in":99999999999999999999}`, "Bearer", math.MaxInt32 * time.Second, math.MaxInt32, nil},
		{"lower case type kept", `{"access_token":"a","token_type":"bearer"}`, "bearer", def, 0, nil},
		{"empty type defaults", `{"access_token":"a","token_type":""}`, "Bearer", def, 0, nil},
		{"unknown members kept", `{"access_token":"a","scope":["x","y"],"partner":"p"}`, "Bearer", def, 0, []any{"x", "y"}},
		{"surrounding space", " \n{\"access_token\":\"a\"}\n ", "Bearer", def, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := parseTokenResponse([]byte(tt.body), "application/json", now)
			require.NoError(t, err)
			assert.Equal(t, "a", tok.AccessToken)
			assert.Equal(t, tt.wantType, tok.TokenType)
			assert.Equal(t, tt.wantIn, tok.ExpiresIn)
			assert.Equal(t, now.Add(tt.wantExpiry), tok.Expiry)
			assert.Equal(t, tt.wantScope, tok.Extra("scope"))
		})
	}
}

func TestParseTokenResponseNumbersLikeOAuth2(t *testing.T) {
	tok, err := parseTokenResponse([]byte(`{"access_token":"a","expires_in":3600}`), "application/json", time.Now())
	require.NoError(t, err)
	assert.Equal(t, float64(3600), tok.Extra("expires_in"), "extras decode numbers as float64, as x/oauth2 does")
}

func TestParseTokenResponseErrors(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		wantIn string
	}{
		{"empty", ``, "invalid JSON"},
		{"truncated", `{"access_token":"a"`, "invalid JSON"},
		{"array", `["a"]`, "invalid JSON"},
		{"string", `"a"`, "invalid JSON"},
		{"null", `null`, "not a JSON object"},
		{"trailing data", `{"access_token":"a"} {}`, "data after"},
		{"html", `<html>oops</html>`, "invalid JSON"},
		{"missing access_token", `{"token_type":"Bearer"}`, "missing access_token"},
		{"null access_token", `{"access_token":null}`, "missing access_token"},
		{"empty access_token", `{"access_token":""}`, "missing access_token"},
		{"numeric access_token", `{"access_token":12}`, "access_token is not a string"},
		{"object token_type", `{"access_token":"a","token_type":{}}`, "token_type is not a string"},
		{"array refresh_token", `{"access_token":"a","refresh_token":[]}`, "refresh_token is not a string"},
		{"negative expires_in", `{"access_token":"a","expires_in":-1}`, "negative"},
		{"negative string expires_in", `{"access_token":"a","expires_in":"-30"}`, "negative"},
		{"huge negative expires_in", `{"access_token":"a","expires_in":-99999999999999999999}`, "negative"},
		{"word expires_in", `{"access_token":"a","expires_in":"an hour"}`, "expires_in is not a number"},
		{"NaN expires_in", `{"access_token":"a","expires_in":"NaN"}`, "expires_in is not a number"},
		{"bool expires_in", `{"access_token":"a","expires_in":true}`, "expires_in is not a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := parseTokenResponse([]byte(tt.body), "application/json", time.Now())
			require.Error(t, err, "token %+v", tok)
			assert.Contains(t, err.Error(), tt.wantIn)
			assert.True(t, strings.HasPrefix(err.Error(), "parse token response: "), "error %q", err)
		})
	}
}

func TestParseTokenResponseErrorDoesNotEchoBody(t *testing.T) {
	const secretish = "very-secret-token-value-0123456789"
	bodies := []string{
		`{"access_token":"` + secretish + `","expires_in":"` + secretish + `"}`,
		`{"access_token":` + secretish + `}`,
		`{"token":"` + secretish + `"}`,
	}
	for _, b := range bodies {
		_, err := parseTokenResponse([]byte(b), "application/json", time.Now())
		require.Error(t, err)
		assert.NotContains(t, err.Error(), secretish)
	}
}

func TestParseTokenResponseFormats(t *testing.T) {
	now := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	const form = "access_token=a%2Bb&token_type=bearer&expires_in=3600&scope=offers%3Aupdate"
	tests := []struct {
		name, ctype, body string
		wantToken         string
		wantType          string
		wantIn            int64
		wantScope         any
	}{
		{"form", "application/x-www-form-urlencoded", form, "a+b", "bearer", 3600, "offers:update"},
		{"form as text/plain", "text/plain; charset=utf-8", form, "a+b", "bearer", 3600, "offers:update"},
		{"form, first value counts", "application/x-www-form-urlencoded", "access_token=x&access_token=y", "x", "Bearer", 0, ""},
		{"JSON as text/plain", "text/plain", `{"access_token":"a","scope":"s"}`, "a", "Bearer", 0, "s"},
		{"JSON without content type", "", ` {"access_token":"a","expires_in":60}`, "a", "Bearer", 60, nil},
		{"JSON with a vendor type", "application/vnd.xone+json", `{"access_token":"a"}`, "a", "Bearer", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := parseTokenResponse([]byte(tt.body), tt.ctype, now)
			require.NoError(t, err)
			assert.Equal(t, tt.wantToken, tok.AccessToken)
			assert.Equal(t, tt.wantType, tok.TokenType)
			assert.Equal(t, tt.wantIn, tok.ExpiresIn)
			assert.Equal(t, tt.wantScope, tok.Extra("scope"))
		})
	}
}

func TestParseTokenResponseFormatErrors(t *testing.T) {
	tests := []struct{ name, ctype, body, wantIn string }{
		{"html", "text/html", `<html>access_token=abc</html>`, `content type "text/html" is neither JSON nor a form`},
		{"no content type, form body", "", `access_token=abc`, `content type "none"`},
		{"colon text as text/plain", "text/plain", "access_token: abc\nexpires_in: 60", "missing access_token"},
		{"bad escape in form", "application/x-www-form-urlencoded", "access_token=abc&x=%zz", "invalid form body"},
		{"form negative expires_in", "application/x-www-form-urlencoded", "access_token=abc&expires_in=-5", "negative"},
		{"form body as JSON", "application/json", "access_token=abc", "invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := parseTokenResponse([]byte(tt.body), tt.ctype, time.Now())
			require.Error(t, err, "token %+v", tok)
			assert.Contains(t, err.Error(), tt.wantIn)
			assert.NotContains(t, err.Error(), "abc", "the error quotes the body")
		})
	}
}

func TestTokenValues(t *testing.T) {
	const tok = "tok+en/VALUE=42xyz"
	tests := []struct {
		name, body string
		want       []string
	}{
		{"json", `{"access_token": "tok+en\/VALUE=42xyz","token_type":"Bearer"}`, []string{`tok+en\/VALUE=42xyz`, tok}},
		{"form", "access_token=tok%2Ben%2FVALUE%3D42xyz&expires_in=3600", []string{"tok%2Ben%2FVALUE%3D42xyz", tok}},
		{"colon text", "Refresh-Token: " + tok + "\nexpires: soon", []string{tok}},
		{"html with escaped json", `<pre>{&quot;access_token&quot;: &quot;` + tok + `&quot;}</pre>`, []string{tok}},
		{"html form post", `<input type="hidden" name="id_token" value="` + tok + `"/>`, []string{tok}},
		{"single quotes", `{'accessToken': '` + tok + `'}`, []string{tok}},
		{"several fields", `access_token=` + tok + `&refresh_token=another-long-one`, []string{tok, "another-long-one"}},
		{"short values ignored", `{"access_token":null,"id_token":"short","token":{"a":1}}`, nil},
		{"no token field", `{"token_type":"Bearer","expires_in":3600}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tokenValues([]byte(tt.body)))
		})
	}
	t.Run("at most maxTokenValues", func(t *testing.T) {
		var b strings.Builder
		for i := range 3 * maxTokenValues {
			fmt.Fprintf(&b, "token=value-%04d ", i)
		}
		got := tokenValues([]byte(b.String()))
		assert.Len(t, got, maxTokenValues)
		assert.Equal(t, "value-0000", got[0])
	})
}

// fuzzCanary replaces "@@" in fuzzed bodies: a value that must never show
// in an error.
const fuzzCanary = "Qz7Xw9Kp3Vb2Lm8Rt"

func FuzzParseTokenResponse(f *testing.F) {
	for _, s := range []struct{ body, ctype string }{
		{`{"access_token":"@@","token_type":"Bearer","expires_in":3600,"scope":"offers:update"}`, "application/json"},
		{`{"access_token":"a","expires_in":"@@"}`, "application/json"},
		{`{"access_token":"a","expires_in":1e400}`, "application/json"},
		{`{"access_token":"a","expires_in":"-0"}`, ""},
		{`{"access_token":"a","expires_in":"0x10"}`, "text/plain"},
		{`{"access_token":""}`, "application/json"},
		{`{"access_token":@@}`, "application/json"},
		{`{"access_token":"a"} @@`, "application/json"},
		{`{"@@":"a"}`, "application/json"},
		{`access_token=@@&expires_in=3600`, "application/x-www-form-urlencoded"},
		{`access_token=a&expires_in=@@`, "text/plain; charset=utf-8"},
		{`access_token=a&@@=%zz`, "application/x-www-form-urlencoded"},
		{`<html><p>access_token=@@</p></html>`, "text/html"},
		{`access_token: @@`, "text/plain"},
		{`null`, "application/json"},
		{`[]`, "application/json"},
		{``, ""},
	} {
		f.Add([]byte(s.body), s.ctype)
	}
	now := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte, ctype string) {
		body = bytes.ReplaceAll(body, []byte("@@"), []byte(fuzzCanary))
		for _, v := range tokenValues(body) {
			if utf8.RuneCountInString(v) < MinSecretLen {
				t.Errorf("tokenValues gave %q, shorter than %d", v, MinSecretLen)
			}
		}
		tok, err := parseTokenResponse(body, ctype, now)
		if err != nil {
			msg := err.Error()
			if tok != nil {
				t.Errorf("got token %+v with error %v", tok, err)
			}
			if strings.Contains(msg, fuzzCanary) {
				t.Errorf("error %q holds the body's value %q", msg, fuzzCanary)
			}
			if len(msg) > 120+len(ctype) {
				t.Errorf("error is %d bytes long, may echo the body: %q", len(msg), msg)
			}
			if !strings.HasPrefix(msg, "parse token response: ") {
				t.Errorf("got error %q, want the prefix %q", msg, "parse token response: ")
			}
			return
		}
		if tok.AccessToken == "" {
			t.Error("got an empty access token without error")
		}
		if tok.Type() == "" {
			t.Error("got an empty token type")
		}
		if !tok.Expiry.After(now) {
			t.Errorf("got Expiry %v, want after %v", tok.Expiry, now)
		}
		if tok.ExpiresIn < 0 || tok.ExpiresIn > math.MaxInt32 {
			t.Errorf("got ExpiresIn %d, want 0..2^31-1", tok.ExpiresIn)
		}
	})
}
