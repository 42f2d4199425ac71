package auth

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseTokenResponse(t *testing.T) {
	now := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	const def = 5 * time.Minute
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
			tok, err := ParseTokenResponse([]byte(tt.body), now, def)
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
	tok, err := ParseTokenResponse([]byte(`{"access_token":"a","expires_in":3600}`), time.Now(), time.Minute)
	require.NoError(t, err)
	assert.Equal(t, float64(3600), tok.Extra("expires_in"), "extras decode numbers as float64, as x/oauth2 does")
}

func TestParseTokenResponseNoDefaultLifetime(t *testing.T) {
	tok, err := ParseTokenResponse([]byte(`{"access_token":"a"}`), time.Now(), 0)
	require.NoError(t, err)
	assert.True(t, tok.Expiry.IsZero())
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
			tok, err := ParseTokenResponse([]byte(tt.body), time.Now(), time.Minute)
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
		_, err := ParseTokenResponse([]byte(b), time.Now(), time.Minute)
		require.Error(t, err)
		assert.NotContains(t, err.Error(), secretish)
	}
}

func FuzzParseTokenResponse(f *testing.F) {
	for _, s := range []string{
		`{"access_token":"a","token_type":"Bearer","expires_in":3600,"scope":"offers:update"}`,
		`{"access_token":"a","expires_in":"3600"}`,
		`{"access_token":"a","expires_in":1e400}`,
		`{"access_token":"a","expires_in":"-0"}`,
		`{"access_token":"a","expires_in":"0x10"}`,
		`{"access_token":""}`,
		`{"access_token":"a"} x`,
		`null`,
		`[]`,
		``,
	} {
		f.Add([]byte(s))
	}
	now := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		tok, err := ParseTokenResponse(body, now, time.Minute)
		if err != nil {
			if tok != nil {
				t.Errorf("got token %+v with error %v", tok, err)
			}
			if len(err.Error()) > 120 {
				t.Errorf("error is %d bytes long, may echo the body: %q", len(err.Error()), err)
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
