package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRedactorString(t *testing.T) {
	tests := []struct {
		name    string
		secrets []string
		in      string
		want    string
	}{
		{"literal secret", []string{"hunter22"}, "pw=hunter22;", "pw=[REDACTED];"},
		{"every occurrence", []string{"hunter22"}, "hunter22 hunter22", "[REDACTED] [REDACTED]"},
		{"longest secret first", []string{"abc123", "abc123xyz"}, "abc123xyz abc123", "[REDACTED] [REDACTED]"},
		{"bearer token without known secret", nil, "Authorization: Bearer eyJhbGciOi.J9x-_~+/=", "Authorization: Bearer [REDACTED]"},
		{"bearer case insensitive", nil, "authorization: bearer abc", "authorization: bearer [REDACTED]"},
		{"already redacted bearer", nil, "Bearer [REDACTED]", "Bearer [REDACTED]"},
		{"empty secret ignored", []string{""}, "nothing here", "nothing here"},
		{"no secrets", nil, "plain text", "plain text"},
		{"secret with brackets at marker edge", []string{"]x]x"}, "]x]x]x]x", "[REDACTED][REDACTED]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRedactor(tt.secrets...)
			assert.Equal(t, tt.want, r.String(tt.in))
		})
	}
}

func TestRedactorWriter(t *testing.T) {
	r := NewRedactor()
	r.Add("s3cret-value-123")
	var buf bytes.Buffer
	w := r.Writer(&buf)
	in := "token s3cret-value-123 and Authorization: Bearer abc.def.ghi\n"
	n, err := w.Write([]byte(in))
	require.NoError(t, err)
	assert.Equal(t, len(in), n, "a write reports the bytes it was given, not the redacted length")
	assert.NotContains(t, buf.String(), "s3cret-value-123")
	assert.NotContains(t, buf.String(), "abc.def.ghi")
	assert.Contains(t, buf.String(), Redacted)

	n, err = r.Writer(failWriter{}).Write([]byte("x"))
	assert.Error(t, err, "the underlying writer's error comes back")
	assert.Zero(t, n)
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestRedactorZeroAndNil(t *testing.T) {
	var zero Redactor
	assert.Equal(t, "Bearer [REDACTED] x", zero.String("Bearer abc x"))
	zero.Add("hunter22")
	assert.Equal(t, "[REDACTED]", zero.String("hunter22"))

	var nilR *Redactor
	assert.Equal(t, "Bearer [REDACTED]", nilR.String("Bearer abc"))
	assert.JSONEq(t, `{"email":"[REDACTED]"}`, string(nilR.JSON([]byte(`{"email":"a@b.c"}`))))
	assert.Equal(t, "Bearer [REDACTED]", nilR.Header(http.Header{"Authorization": {"Bearer abc"}}).Get("Authorization"))
}

func TestRedactorAddConcurrent(t *testing.T) {
	r := NewRedactor()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			s := fmt.Sprintf("secret-%02d-value", i)
			r.Add(s)
			assert.Equal(t, "<"+Redacted+">", r.String("<"+s+">"))
			_ = r.JSON([]byte(`{"a":"` + s + `"}`))
		})
	}
	wg.Wait()
	for i := range 20 {
		assert.NotContains(t, r.String(fmt.Sprintf("x secret-%02d-value x", i)), "secret-")
	}
}

func TestRedactorRecentTokensAreBounded(t *testing.T) {
	r := NewRedactor("client-secret")
	for i := range maxRecent + 10 {
		r.addRecent(fmt.Sprintf("token-%03d", i))
	}
	assert.Len(t, slices.Concat(r.secrets, r.recent), maxRecent+1)
	assert.Equal(t, Redacted, r.String("client-secret"), "permanent secrets stay")
	assert.Equal(t, Redacted, r.String(fmt.Sprintf("token-%03d", maxRecent+9)), "newest token")
	assert.Equal(t, "token-000", r.String("token-000"), "oldest token dropped")
}

func TestRedactorHeader(t *testing.T) {
	orig := http.Header{
		"Authorization":       {"Bearer abc.def"},
		"Proxy-Authorization": {"Basic dXNlcjpwYXNz"},
		"Cookie":              {"session=1"},
		"Set-Cookie":          {"a=1; HttpOnly", "b=2"},
		"X-Api-Key":           {"k-123"},
		"X-Csrf-Token":        {"t-123"},
		"X-Echo":              {"client secret is hunter22"},
		"Cf-Ray":              {"696da19ec8f36a2d-SYD"},
		"Content-Type":        {"application/json"},
	}
	before := orig.Clone()
	r := NewRedactor("hunter22")
	got := r.Header(orig)

	assert.Equal(t, before, orig, "original header modified")
	want := http.Header{
		"Authorization":       {"Bearer [REDACTED]"},
		"Proxy-Authorization": {"Basic [REDACTED]"},
		"Cookie":              {"[REDACTED]"},
		"Set-Cookie":          {"[REDACTED]", "[REDACTED]"},
		"X-Api-Key":           {"[REDACTED]"},
		"X-Csrf-Token":        {"[REDACTED]"},
		"X-Echo":              {"client secret is [REDACTED]"},
		"Cf-Ray":              {"696da19ec8f36a2d-SYD"},
		"Content-Type":        {"application/json"},
	}
	assert.Equal(t, want, got)

	got.Set("Content-Type", "changed")
	assert.Equal(t, "application/json", orig.Get("Content-Type"), "copy shares storage with the original")
	assert.Nil(t, r.Header(nil))
	assert.Equal(t, "[REDACTED]", r.Header(http.Header{"Authorization": {"opaque"}}).Get("Authorization"))
}

func TestRedactorJSON(t *testing.T) {
	r := NewRedactor("hunter22")
	tests := []struct {
		name string
		in   string
		want string // compared as JSON unless wantText
		text bool
	}{
		{"top-level keys",
			`{"access_token":"a","token_type":"Bearer","expires_in":3600}`,
			`{"access_token":"[REDACTED]","token_type":"Bearer","expires_in":3600}`, false},
		{"nested and any value type",
			`{"data":{"security_token":"dXX3S-UglSd-ca604-swAO5","policyholder":{"email":"jo@example.com","phone":61400000000,"first_name":"Jo","password":{"x":1}}}}`,
			`{"data":{"security_token":"[REDACTED]","policyholder":{"email":"[REDACTED]","phone":"[REDACTED]","first_name":"Jo","password":"[REDACTED]"}}}`, false},
		{"arrays",
			`[{"refresh_token":"r"},{"quotes":[{"id":"q","client_secret":"c"}]},"hunter22",1,true,null]`,
			`[{"refresh_token":"[REDACTED]"},{"quotes":[{"id":"q","client_secret":"[REDACTED]"}]},"[REDACTED]",1,true,null]`, false},
		{"key spellings",
			`{"accessToken":"a","Security-Token":"s","EMAIL":"e","phone_number":"p"}`,
			`{"accessToken":"[REDACTED]","Security-Token":"[REDACTED]","EMAIL":"[REDACTED]","phone_number":"[REDACTED]"}`, false},
		{"literal secrets and bearer in strings",
			`{"message":"bad secret hunter22","authz":"Bearer xyz"}`,
			`{"message":"bad secret [REDACTED]","authz":"Bearer [REDACTED]"}`, false},
		{"escaped secret",
			`{"message":"hunter\u0032\u0032"}`,
			`{"message":"[REDACTED]"}`, false},
		{"secret in a key",
			`{"hunter22":1}`,
			`{"[REDACTED]":1}`, false},
		{"order, numbers and html kept",
			`{"z":1.50,"a":"<b>&","m":[]}`,
			`{"z":1.50,"a":"<b>&","m":[]}`, true},
		{"non-JSON",
			`oops hunter22 Bearer abc`,
			`oops [REDACTED] Bearer [REDACTED]`, true},
		{"truncated JSON",
			`{"access_token":"hunter22`,
			`{"access_token":"[REDACTED]`, true},
		{"empty", ``, ``, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			got := r.JSON(in)
			assert.Equal(t, tt.in, string(in), "input modified")
			if tt.text {
				assert.Equal(t, tt.want, string(got))
			} else {
				assert.JSONEq(t, tt.want, string(got))
			}
		})
	}
}

func TestRedactorJSONDeep(t *testing.T) {
	const depth = 500
	in := strings.Repeat(`{"a":`, depth) + `{"email":"x@y.z"}` + strings.Repeat(`}`, depth)
	got := NewRedactor().JSON([]byte(in))
	require.True(t, json.Valid(got))
	assert.NotContains(t, string(got), "x@y.z")
	assert.Contains(t, string(got), `"email":"[REDACTED]"`)
}

func FuzzRedactJSON(f *testing.F) {
	f.Add([]byte(`{"access_token":"abc","nested":[{"email":"a@b.c"}],"msg":"s3cr3t-value"}`), "s3cr3t-value")
	f.Add([]byte(`"s3cr3t-value"`), "s3cr3t-value")
	f.Add([]byte(`{"a":"s3cr3t\u002dvalue"}`), "s3cr3t-value")
	f.Add([]byte(`not json s3cr3t-value`), "s3cr3t-value")
	f.Add([]byte(`{"a":"x\ny"}`), `x\ny-long`)
	f.Add([]byte(`[1,2,{"k":null}]`), "12345678")
	f.Fuzz(func(t *testing.T, body []byte, secret string) {
		r := NewRedactor(secret)
		out := r.JSON(body)
		// A secret that is part of the marker cannot be told apart from it;
		// a short one would match ordinary text.
		if len(secret) < 8 || strings.ContainsAny(secret, "[]") || strings.Contains(Redacted, secret) {
			return
		}
		if strings.Contains(string(out), secret) {
			t.Errorf("output %q contains the secret %q", out, secret)
		}
		// Valid JSON stays valid unless the secret appears outside string
		// values (in a number, across members): then the last literal pass
		// wins over validity. Secrets with characters JSON escapes can also
		// take that path.
		var compact bytes.Buffer
		plain := !strings.ContainsFunc(secret, func(c rune) bool { return c < 0x20 || c >= 0x7f || c == '\\' || c == '"' })
		if plain && json.Compact(&compact, body) == nil && !strings.Contains(compact.String(), secret) && !json.Valid(out) {
			t.Errorf("valid JSON %q became invalid %q", body, out)
		}
	})
}
