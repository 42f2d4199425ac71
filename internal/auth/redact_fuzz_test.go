package auth

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

// refForms is the naive reference's list of the forms a secret takes, built
// from the encoders themselves: each full form, and for base64 the part of
// the encoding of "id:secret" that depends on the secret alone, for ids of
// length 0, 1 and 2 (every alignment). Longest first.
func refForms(secret string) (full, cores []string) {
	add := func(list *[]string, f string) {
		if f != "" && !slices.Contains(*list, f) {
			*list = append(*list, f)
		}
	}
	add(&full, secret)
	b, _ := json.Marshal(secret)
	add(&full, string(b[1:len(b)-1]))
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(secret)
	noHTML := strings.TrimSuffix(sb.String(), "\n")
	noHTML = noHTML[1 : len(noHTML)-1]
	add(&full, noHTML)
	if utf8.ValidString(secret) {
		// PHP's json_encode: no HTML escapes, "\/", non-ASCII as \uXXXX.
		var php strings.Builder
		for _, c := range strings.ReplaceAll(noHTML, "/", `\/`) {
			if c < utf8.RuneSelf {
				php.WriteRune(c)
				continue
			}
			for _, u := range utf16.Encode([]rune{c}) {
				fmt.Fprintf(&php, `\u%04x`, u)
			}
		}
		add(&full, php.String())
	}
	q, p := url.QueryEscape(secret), url.PathEscape(secret)
	for _, f := range []string{q, p} {
		add(&full, f)
		add(&full, regexpLowerHex(f))
	}
	for _, src := range []string{secret, q} {
		for k := range 3 {
			id := strings.Repeat("i", k)
			for _, e := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
				encoded := e.EncodeToString([]byte(id + ":" + src))
				from := (k + 1 + 2) / 3 * 4      // first group wholly inside src
				to := (k + 1 + len(src)) / 3 * 4 // end of the last such group
				if to-from >= 8 {
					add(&cores, encoded[from:to])
				}
			}
		}
	}
	byLen := func(a, b string) int { return len(b) - len(a) }
	slices.SortStableFunc(full, byLen)
	slices.SortStableFunc(cores, byLen)
	return full, cores
}

// regexpLowerHex lower-cases the hex digits of %XX escapes, one escape at a
// time.
func regexpLowerHex(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			b.WriteByte('%')
			b.WriteString(strings.ToLower(s[i+1 : i+3]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// naiveRedact replaces each form with the marker, longest first, with
// strings.ReplaceAll.
func naiveRedact(text string, forms []string) string {
	for _, f := range forms {
		text = strings.ReplaceAll(text, f, Redacted)
	}
	return text
}

// triggers reports whether text holds something the Redactor scrubs without
// a known secret (a Bearer or Basic credential, URL userinfo).
func triggers(text string) bool {
	l := strings.ToLower(text)
	return strings.Contains(l, "bearer") || strings.Contains(l, "basic") ||
		(strings.Contains(l, "/") && strings.Contains(l, "@"))
}

func isAlnum(s string) bool {
	return !strings.ContainsFunc(s, func(c rune) bool {
		return !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9')
	})
}

func FuzzRedact(f *testing.F) {
	f.Add("s3cr3t-Th1s-Must-N3ver-Leak", "client-id-42", "pre ", " mid ", " post", uint8(0), uint8(1))
	f.Add("hunter22", "", "", "", "", uint8(2), uint8(3))
	f.Add("line1\nline2<&>", "id", `{"a":"`, `","b":"`, `"}`, uint8(1), uint8(7))
	f.Add("pa ss/w?rd&x=y+z%41", "abc", "a=", "&b=", "", uint8(5), uint8(6))
	f.Add("\u00e9l\u00e8ve-\u2603-secret", "\u00fc", "", " ", "", uint8(4), uint8(9))
	f.Add("aaaaaaaa", "a", "aaaaaaa", "a", "aaaaaaaaa", uint8(0), uint8(12))
	f.Add("]x]x]x]x", "x", "]x]", "[", "]x", uint8(0), uint8(0))
	f.Add("ab:cd:ef:gh", "u:v", "Authorization: Basic ", "\n", "", uint8(13), uint8(14))
	f.Add("Unauthenticated", "", "Unauthenticated ", "", "", uint8(0), uint8(0))
	f.Add("abcdefgh", "", "no secret here", " at all", "", uint8(255), uint8(255))
	f.Fuzz(func(t *testing.T, secret, id, pre, mid, post string, w1, w2 uint8) {
		if utf8.RuneCountInString(secret) < MinSecretLen || strings.Contains(Redacted, secret) || len(secret) > 256 {
			return
		}
		full, cores := refForms(secret)
		basic := []string{}
		for _, e := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
			basic = append(basic, e.EncodeToString([]byte(id+":"+secret)))
		}
		inserts := slices.Concat(full, basic)
		pick := func(w uint8) string {
			if int(w) >= len(inserts) {
				return "" // no secret at this place
			}
			return inserts[w]
		}
		text := pre + pick(w1) + mid + pick(w2) + post
		r := NewRedactor(secret)
		got := r.String(text)

		// 1. No form survives, nor any of the forms Forms lists.
		for _, form := range slices.Concat(full, cores, basic, Forms(id, secret)) {
			if strings.Contains(got, form) {
				t.Fatalf("String(%q) = %q still holds the form %q of secret %q", text, got, form, secret)
			}
		}
		// 2. A text without any form (and nothing else to scrub) is unchanged.
		if naiveRedact(text, slices.Concat(full, cores)) == text && !triggers(text) && got != text {
			t.Fatalf("String(%q) = %q, want it unchanged: it holds no form of secret %q", text, got, secret)
		}
		// 3. For a plain secret, whose forms are all the same string, the
		// Redactor agrees with the naive reference.
		if isAlnum(secret) && !triggers(text) && naiveRedact(text, cores) == text {
			if want := naiveRedact(text, full); got != want {
				t.Fatalf("String(%q) = %q, want %q (naive reference) for secret %q", text, got, want, secret)
			}
		}
		// The same holds for the secret inside a JSON document.
		body, _ := json.Marshal(map[string]string{"message": text})
		out := string(r.JSON(body))
		for _, form := range slices.Concat(full, cores, basic) {
			if strings.Contains(out, form) {
				t.Fatalf("JSON(%s) = %s still holds the form %q of secret %q", body, out, form, secret)
			}
		}
	})
}
