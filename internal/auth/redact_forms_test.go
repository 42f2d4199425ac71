package auth

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// jsonForm is json.Marshal of s without its quotes.
func jsonForm(t testing.TB, s string) string {
	b, err := json.Marshal(s)
	require.NoError(t, err)
	return string(b[1 : len(b)-1])
}

// basicForms are the four base64 spellings of "id:secret".
func basicForms(id, secret string) map[string]string {
	raw := []byte(id + ":" + secret)
	return map[string]string{
		"std":       base64.StdEncoding.EncodeToString(raw),
		"std-raw":   base64.RawStdEncoding.EncodeToString(raw),
		"url":       base64.URLEncoding.EncodeToString(raw),
		"url-raw":   base64.RawURLEncoding.EncodeToString(raw),
		"std-query": base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id) + ":" + url.QueryEscape(secret))),
	}
}

func TestRedactorBasicCredentials(t *testing.T) {
	secrets := []string{"s3cr3t-Th1s-Must-N3ver-Leak", "hunter22", "p?s/s+w=o&r%d~!", "\u00e9t\u00e9-secret>>\xff?", "ab:cd:ef:gh"}
	ids := []string{"", "a", "ab", "abc", "client-id-42", "id with spaces", "\u00fcser"}
	for _, secret := range secrets {
		r := NewRedactor(secret)
		for _, id := range ids {
			for name, form := range basicForms(id, secret) {
				for _, text := range []string{
					form,
					"Authorization: Basic " + form,
					`{"header":"Basic ` + form + `"}`,
					"x " + form + " y",
				} {
					got := r.String(text)
					assert.NotContains(t, got, form, "id %q secret %q form %s: got %q", id, secret, name, got)
					assert.NotContains(t, got, strings.TrimRight(form, "="), "id %q secret %q form %s: got %q", id, secret, name, got)
					assert.Contains(t, got, Redacted)
				}
			}
		}
	}
}

func TestRedactorBasicHeaderInGeneral(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"header line", "Authorization: Basic dXNlcjpwYXNz", "Authorization: Basic [REDACTED]"},
		{"lower case", "authorization: basic dXNlcjpwYXNz", "authorization: basic [REDACTED]"},
		{"url alphabet no padding", "Basic dXNlcjpwPj4-Pw", "Basic [REDACTED]"},
		{"padding", "Basic YTpi==, next", "Basic [REDACTED], next"},
		{"ordinary words kept", "Basic checks passed; basic auth is off", "Basic checks passed; basic auth is off"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := NewRedactor().String(tt.in)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestRedactorEncodedForms(t *testing.T) {
	secrets := []string{
		"s3cr3t-Th1s-Must-N3ver-Leak",
		"pa ss/w?rd&x=y+z%41",
		"line1\nline2\ttab",
		"<html>&amp;'quote'",
		`q"uo\te"d-secret`,
		"\u00e9l\u00e8ve-\u2603-secret",
		"ctl\x01\x1f-secret",
	}
	for _, secret := range secrets {
		r := NewRedactor(secret)
		var enc strings.Builder
		e := json.NewEncoder(&enc)
		e.SetEscapeHTML(false)
		require.NoError(t, e.Encode(secret))
		noHTML := strings.TrimSuffix(enc.String(), "\n")
		forms := map[string]string{
			"raw":          secret,
			"json":         jsonForm(t, secret),
			"json-no-html": noHTML[1 : len(noHTML)-1],
			"query":        url.QueryEscape(secret),
			"path":         url.PathEscape(secret),
			"form body":    url.Values{"client_secret": {secret}}.Encode(),
		}
		for name, form := range forms {
			text := `grant_type=client_credentials&` + form + `&x=1 {"client_secret":"` + form + `"}`
			got := r.String(text)
			assert.NotContains(t, got, form, "secret %q form %s: got %q", secret, name, got)
			assert.Contains(t, got, Redacted)
		}
	}
}

func TestRedactorURLUserinfo(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"user and password", "GET http://user:pa55word@host.example/x", "GET http://[REDACTED]@host.example/x"},
		{"https, port", "base https://me:s%40cret@127.0.0.1:8080/api", "base https://[REDACTED]@127.0.0.1:8080/api"},
		{"user only", "http://tokenvalue@host/", "http://[REDACTED]@host/"},
		{"in JSON", `{"url":"http://u:p@h/x","email":"[REDACTED]"}`, `{"url":"http://[REDACTED]@h/x","email":"[REDACTED]"}`},
		{"no userinfo", "http://host.example/a@b and a@b.c", "http://host.example/a@b and a@b.c"},
		{"mail address kept apart", "see http://host.example, or mail ops@example.com", "see http://host.example, or mail ops@example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, NewRedactor().String(tt.in))
		})
	}
}

func TestRedactorShortSecretsOnlyWholeTokens(t *testing.T) {
	tests := []struct {
		name, secret, in, want string
	}{
		{"one letter", "a", "Unauthenticated: a token was refused", "Unauthenticated: [REDACTED] token was refused"},
		{"inside words kept", "ted", "Unauthenticated", "Unauthenticated"},
		{"whole token", "tok42", "Bearer-less tok42, tok420", "Bearer-less [REDACTED], tok420"},
		{"marker not mangled", "RED", "x [REDACTED] RED", "x [REDACTED] [REDACTED]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRedactor()
			r.Add(tt.secret)
			assert.Equal(t, tt.want, r.String(tt.in))
		})
	}
}

func TestRedactorPathologicalSecretIsFast(t *testing.T) {
	tests := []struct {
		name   string
		secret string
		text   string
	}{
		{"repeated letter", strings.Repeat("a", 4096), strings.Repeat("a", 1<<20)},
		{"repeated NUL", strings.Repeat("\x00", 4096), strings.Repeat("\x00", 1<<20)},
		{"near misses", strings.Repeat("a", 4096), strings.Repeat(strings.Repeat("a", 4095)+"b", 256)},
		{"periodic", strings.Repeat("ab", 2048), strings.Repeat("ab", 1<<19)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			r := NewRedactor(tt.secret)
			got := r.String(tt.text)
			elapsed := time.Since(start)
			assert.NotContains(t, got, tt.secret)
			assert.Less(t, elapsed, 500*time.Millisecond, "build and scrub of a 1 MiB text")
		})
	}
	t.Run("1 MiB secret builds", func(t *testing.T) {
		start := time.Now()
		r := NewRedactor(strings.Repeat("z", 1<<20))
		assert.Equal(t, "zz "+Redacted, r.String("zz "+strings.Repeat("z", 1<<20)))
		assert.Less(t, time.Since(start), 2*time.Second)
	})
}

func TestRedactorReadableReports(t *testing.T) {
	r := NewRedactor("s3cr3t-Th1s-Must-N3ver-Leak")
	for _, text := range []string{
		"Unauthenticated: the access token was refused",
		"offer 3f0a1c2e-4b5d-4e6f-8a9b-0c1d2e3f4a5b booked EYYLD-F8LDV-INS",
		"Basic checks passed",
	} {
		assert.Equal(t, text, r.String(text))
	}
}

func TestRedactorUserinfoIdempotent(t *testing.T) {
	r := NewRedactor()
	for _, in := range []string{"http://u:pa[ss@h/x", "http://[::1]:8080/a@b", "x http://user:p@ss@host/"} {
		once := r.String(in)
		assert.Equal(t, once, r.String(once), "scrubbing %q twice", in)
		assert.NotContains(t, once, "pa[ss")
		assert.NotContains(t, once, "p@ss")
	}
	assert.Equal(t, "http://[::1]:8080/a@b", r.String("http://[::1]:8080/a@b"), "an IPv6 host is not userinfo")
}

// refBasic is the reference's list of the base64 forms of "id:secret": the
// four spellings of the pair as given and of the pair query-escaped.
func refBasic(id, secret string) []string {
	var out []string
	for _, raw := range []string{id + ":" + secret, url.QueryEscape(id) + ":" + url.QueryEscape(secret)} {
		for _, e := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
			out = append(out, e.EncodeToString([]byte(raw)))
		}
	}
	return out
}

func TestFormsAgreesWithEncoders(t *testing.T) {
	secrets := []string{"s3cr3t-Th1s-Must-N3ver-Leak", "hunter22", `p/s"s+w<rd \u00e9~~~`, "line1\nline2\ttab", "\u00e9t\u00e9-secret>>\xff?", "abcdefgh"}
	ids := []string{"", "a", "client-id-42", "id with spaces"}
	for _, secret := range secrets {
		for _, id := range ids {
			full, _ := refForms(secret)
			want := slices.Concat(full, refBasic(id, secret))
			slices.Sort(want)
			want = slices.Compact(want)
			got := Forms(id, secret)
			assert.LessOrEqual(t, len(got), 16, "id %q secret %q", id, secret)
			slices.Sort(got)
			assert.Equal(t, want, got, "id %q secret %q: got Forms, want the encoders' forms", id, secret)
		}
	}
}

func TestFormsCount(t *testing.T) {
	tests := []struct {
		name, id, secret string
		want             int
	}{
		{"every encoding differs", testID, "p/s\"s+w<rd \u00e9~~~", 16},
		{"alphanumeric secret and id", "client42", "hunter22hunter22", 3}, // raw; base64 padded and not
		{"short secret", "", "ab/c", 8},                                   // path and query escapes agree
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Forms(tt.id, tt.secret)
			assert.Len(t, got, tt.want, "got %q", got)
			assert.Equal(t, tt.secret, got[0], "the raw secret comes first")
		})
	}
}
