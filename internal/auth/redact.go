package auth

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/xoneharness/xoneharness/internal/xone"
)

// Redacted replaces every secret a [Redactor] scrubs: xone.Redacted, the project's one marker.
const Redacted = xone.Redacted

// MinSecretLen is the fewest characters (runes) a configured secret may have ([CheckSecret]); a
// [Redactor] matches shorter literals only as whole tokens.
const MinSecretLen = 8

// maxRecent is how many recent tokens a Redactor keeps (older ones have expired; each slows String).
const maxRecent = 32

// maxPasses bounds the scrub passes over one text; see literal.
const maxPasses = 4

var (
	// bearerRE finds "Bearer <token>" (RFC 6750 b64token).
	bearerRE = regexp.MustCompile(`(?i)\b(bearer)(\s+)[A-Za-z0-9\-._~+/]+=*`)
	// basicRE finds "Basic <word>"; basicCredential decides whether the word is a credential.
	basicRE = regexp.MustCompile(`(?i)\b(basic)(\s+)([A-Za-z0-9+/_\-]+=*)`)
	// userinfoRE finds a URL's userinfo ("scheme://user:pass@"), also after "http:\/\/".
	userinfoRE = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.\-]*:\\?/\\?/)[^\s/\\?#"'<>]*@`)
)

// Redactor scrubs secrets from text, headers and JSON bodies before they are printed, logged or
// written. The zero value is ready to use; a nil *Redactor scrubs like one, but Add panics on it. A
// Redactor is safe for concurrent use.
//
// It always replaces the credential of "Bearer xxx" and "Basic xxx" (when xxx is base64 of
// "user:password") and the userinfo of URLs. Each literal secret of at least [MinSecretLen]
// characters is replaced in each encoding [Forms] lists, the base64 ones for any client id (a match
// on the part that depends on the secret alone, widened to the run of base64 characters around it);
// overlapping matches become one marker. A shorter literal is matched raw and only as a whole token
// (not next to an ASCII letter or digit), so "a" never turns "Unauthenticated" into
// "Un[REDACTED]uthenticated". A text costs about its length times the number of patterns (at most
// 20 per secret).
type Redactor struct {
	mu      sync.Mutex
	secrets []string // added by NewRedactor and Add, kept for good
	recent  []string // tokens added by a Source, the last maxRecent
	snap    atomic.Pointer[redactSnapshot]
}

// pattern is one literal form of a secret.
type pattern struct {
	s     string
	whole bool   // match only where not next to an ASCII letter or digit
	b64   string // base64 alphabet to widen a match over; "" for none
}

// redactSnapshot is an immutable view of the patterns, rebuilt on each change.
type redactSnapshot struct {
	pats    []pattern
	recheck bool // a replacement can form a new match (see literal)
}

// NewRedactor returns a Redactor that scrubs the given secrets; empty strings are ignored.
func NewRedactor(secrets ...string) *Redactor {
	r := &Redactor{}
	for _, s := range secrets {
		r.Add(s)
	}
	return r
}

// Add adds a literal secret to scrub from now on; empty strings and known secrets are ignored.
func (r *Redactor) Add(secret string) {
	if secret == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !slices.Contains(r.secrets, secret) {
		r.secrets = append(r.secrets, secret)
		r.rebuild()
	}
}

// addRecent adds tokens to the bounded list of recent tokens.
func (r *Redactor) addRecent(tokens ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(r.recent)
	for _, t := range tokens {
		if t != "" && !slices.Contains(r.secrets, t) && !slices.Contains(r.recent, t) {
			r.recent = append(r.recent, t)
		}
	}
	if len(r.recent) > n {
		r.recent = r.recent[max(0, len(r.recent)-maxRecent):]
		r.rebuild()
	}
}

// rebuild publishes a new snapshot of every secret's patterns; r.mu must be held.
func (r *Redactor) rebuild() {
	snap, seen := &redactSnapshot{}, map[pattern]bool{}
	for _, s := range slices.Concat(r.secrets, r.recent) {
		for _, p := range secretForms(s) {
			if !seen[p] {
				seen[p] = true
				snap.pats = append(snap.pats, p)
				snap.recheck = snap.recheck || p.whole || strings.ContainsAny(p.s, "[]") ||
					strings.Contains(Redacted, p.s)
			}
		}
	}
	r.snap.Store(snap)
}

// Forms returns the strings secret takes on the wire for the client id id: the encodings a
// [Redactor] scrubs, in this order, each once (an alphanumeric secret's first eight coincide), none
// empty:
//
//	1     as is
//	2, 3  JSON-escaped by encoding/json, with and without HTML escaping
//	4     JSON-escaped by PHP's json_encode ("\/", non-ASCII as \uXXXX; none for invalid
//	      UTF-8, which json_encode refuses)
//	5-8   percent-encoded by url.QueryEscape and url.PathEscape, with upper- and lower-case hex
//	9-12  base64 of "id:secret" (HTTP Basic authentication): standard and URL alphabets,
//	      padded and not
//	13-16 the same of "id:secret" with both query-escaped first, as golang.org/x/oauth2 and
//	      RFC 6749 section 2.3.1 send them
func Forms(id, secret string) (forms []string) {
	out := textForms(secret)
	for _, p := range [][2]string{{id, secret}, {url.QueryEscape(id), url.QueryEscape(secret)}} {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			out = append(out, enc.EncodeToString([]byte(p[0]+":"+p[1])))
		}
	}
	for _, f := range out {
		if f != "" && !slices.Contains(forms, f) {
			forms = append(forms, f)
		}
	}
	return forms
}

// textForms returns Forms' first eight encodings of s, empty or repeated ones included.
func textForms(s string) []string {
	q, p := url.QueryEscape(s), url.PathEscape(s)
	return []string{s, jsonEscape(s, true), jsonEscape(s, false), phpJSONEscape(s), q, lowerHexEscapes(q), p, lowerHexEscapes(p)}
}

// secretForms returns the patterns that find s in each of Forms' encodings, for any client id.
func secretForms(s string) []pattern {
	if utf8.RuneCountInString(s) < MinSecretLen {
		return []pattern{{s: s, whole: true}}
	}
	var out []pattern
	add := func(f, b64 string) {
		if f != "" && !slices.ContainsFunc(out, func(q pattern) bool { return q.s == f }) {
			out = append(out, pattern{s: f, b64: b64})
		}
	}
	for _, f := range textForms(s) {
		add(f, "")
	}
	// Base64 of "id:secret": the secret starts at any offset modulo 3, and only whole 3-byte groups
	// inside it encode to characters that depend on it alone: find those, widen the match (over
	// the alphabet given, and '=' to the right).
	for _, src := range []string{s, url.QueryEscape(s)} {
		for j := range 3 {
			g := (len(src) - j) / 3
			if g < 2 {
				continue
			}
			chunk := []byte(src[j : j+3*g])
			std, web := base64.RawStdEncoding.EncodeToString(chunk), base64.RawURLEncoding.EncodeToString(chunk)
			if std == web {
				add(std, "+/-_")
				continue
			}
			add(std, "+/")
			add(web, "-_")
		}
	}
	return out
}

// jsonEscape returns s as encoding/json writes it, without the quotes.
func jsonEscape(s string, escapeHTML bool) string {
	var buf bytes.Buffer
	writeJSONString(&buf, s, escapeHTML)
	return buf.String()[1 : buf.Len()-1]
}

// phpJSONEscape returns s as PHP's json_encode writes it by default, without the quotes: as
// encoding/json without HTML escapes, but "/" as "\/" and every non-ASCII rune as \uXXXX
// (lower-case hex, UTF-16 surrogate pairs). Invalid UTF-8 makes json_encode fail; it gives "".
func phpJSONEscape(s string) string {
	if !utf8.ValidString(s) {
		return ""
	}
	var b strings.Builder
	for _, u := range utf16.Encode([]rune(strings.ReplaceAll(jsonEscape(s, false), "/", `\/`))) {
		if u < utf8.RuneSelf {
			b.WriteByte(byte(u))
		} else {
			fmt.Fprintf(&b, `\u%04x`, u)
		}
	}
	return b.String()
}

// pctEscapeRE finds the %XX escapes url.QueryEscape and url.PathEscape write.
var pctEscapeRE = regexp.MustCompile(`%[0-9A-F]{2}`)

// lowerHexEscapes returns s with the hex digits of its %XX escapes in lower case.
func lowerHexEscapes(s string) string { return pctEscapeRE.ReplaceAllStringFunc(s, strings.ToLower) }

// Writer returns a writer that passes each write to w through String, so that a secret never
// reaches a terminal or a CI log, whichever line holds it; a write reports len(p) on success.
func (r *Redactor) Writer(w io.Writer) io.Writer { return redactingWriter{w, r} }

type redactingWriter struct {
	w   io.Writer
	red *Redactor
}

func (r redactingWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(r.w, r.red.String(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// String returns s with the credential of every "Bearer xxx" and "Basic xxx", the userinfo of every
// URL and every form of every known secret replaced by Redacted.
func (r *Redactor) String(s string) string {
	lower := strings.ToLower(s)
	if strings.Contains(lower, "bearer") {
		s = bearerRE.ReplaceAllString(s, "${1}${2}"+Redacted)
	}
	if strings.Contains(lower, "basic") {
		s = basicRE.ReplaceAllStringFunc(s, func(m string) string {
			if g := basicRE.FindStringSubmatch(m); basicCredential(g[3]) {
				return g[1] + g[2] + Redacted
			}
			return m
		})
	}
	if strings.Contains(s, "/") && strings.Contains(s, "@") {
		s = userinfoRE.ReplaceAllString(s, "${1}"+Redacted+"@")
	}
	return r.literal(s)
}

// basicCredential reports whether w, the word after "Basic", is base64 (either alphabet, padded or
// not) of UTF-8 text without control characters that holds a ':', which ordinary words are not.
func basicCredential(w string) bool {
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(strings.TrimRight(w, "="))
		if err == nil && utf8.Valid(b) && bytes.ContainsRune(b, ':') &&
			!bytes.ContainsFunc(b, func(c rune) bool { return c < 0x20 || c == 0x7f }) {
			return true
		}
	}
	return false
}

// literal replaces every form of the known secrets. A replacement can form a new occurrence at a
// marker's edge (a secret with '[' or ']', a short token that becomes whole next to a marker): then
// more passes run, and a text still holding a secret after maxPasses becomes one marker.
func (r *Redactor) literal(s string) string {
	if r == nil || r.snap.Load() == nil {
		return s
	}
	snap := r.snap.Load() // once set, never nil again
	for range maxPasses {
		spans := snap.find(s)
		if len(spans) == 0 {
			return s
		}
		var b strings.Builder
		last := 0
		for _, sp := range spans {
			b.WriteString(s[last:sp.start] + Redacted)
			last = sp.end
		}
		if s = b.String() + s[last:]; !snap.recheck {
			return s
		}
	}
	if len(snap.find(s)) == 0 {
		return s
	}
	return Redacted
}

// span is a half-open byte range [start, end) of a text.
type span struct{ start, end int }

// find returns the ranges of s where a pattern matches, sorted, overlapping (not touching) merged.
func (snap *redactSnapshot) find(s string) []span {
	var spans []span
	for _, p := range snap.pats {
		for i := 0; i+len(p.s) <= len(s); {
			j := strings.Index(s[i:], p.s)
			if j < 0 {
				break
			}
			start, end := i+j, i+j+len(p.s)
			if p.whole && (start > 0 && isWordByte(s[start-1], "") || end < len(s) && isWordByte(s[end], "")) {
				i = start + 1
				continue
			}
			for p.b64 != "" && start > 0 && isWordByte(s[start-1], p.b64) {
				start--
			}
			for p.b64 != "" && end < len(s) && isWordByte(s[end], p.b64+"=") {
				end++
			}
			spans = append(spans, span{start, end})
			i = end
		}
	}
	slices.SortFunc(spans, func(a, b span) int { return a.start - b.start })
	var out []span
	for _, sp := range spans {
		if n := len(out); n > 0 && sp.start < out[n-1].end {
			out[n-1].end = max(out[n-1].end, sp.end)
		} else {
			out = append(out, sp)
		}
	}
	return out
}

// isWordByte reports whether c is an ASCII letter or digit or one of the bytes in extra.
func isWordByte(c byte, extra string) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(extra, c) >= 0
}

// Header returns a redacted copy of h (nil for nil). Authorization and Proxy-Authorization keep
// their scheme ("Bearer [REDACTED]"), the headers xone.SensitiveHeader names become Redacted, and
// every other value gets the String treatment.
func (r *Redactor) Header(h http.Header) http.Header {
	if h == nil {
		return nil
	}
	out := make(http.Header, len(h))
	for k, vs := range h {
		red := make([]string, len(vs))
		lk := strings.ToLower(k)
		authz := lk == "authorization" || lk == "proxy-authorization"
		for i, v := range vs {
			scheme, _, hasScheme := strings.Cut(strings.TrimSpace(v), " ")
			switch {
			case authz && hasScheme:
				red[i] = r.String(scheme) + " " + Redacted
			case authz || xone.SensitiveHeader(k):
				red[i] = Redacted
			default:
				red[i] = r.String(v)
			}
		}
		out[k] = red
	}
	return out
}

// JSON returns a redacted copy of a JSON body, compact, in member order. The values of the members
// xone.SensitiveKey names (at any depth) become Redacted whatever their type; every other string
// and every key gets the String treatment. Input that is not valid JSON is redacted as text.
func (r *Redactor) JSON(body []byte) []byte {
	if !json.Valid(body) {
		return []byte(r.String(string(body)))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var buf bytes.Buffer
	if err := r.walk(dec, &buf); err != nil {
		return []byte(r.String(string(body)))
	}
	// A JSON-escaped secret (\u0041 for A) is caught on the decoded strings; one spread over members
	// or in a number only in the output's text, at the cost of its validity in that odd case.
	return []byte(r.literal(buf.String()))
}

// walk copies one JSON value from dec to buf, redacting as it goes.
func (r *Redactor) walk(dec *json.Decoder, buf *bytes.Buffer) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch v := tok.(type) {
	case json.Delim:
		buf.WriteByte(byte(v))
		for i := 0; dec.More(); i++ {
			if i > 0 {
				buf.WriteByte(',')
			}
			next := r.member
			if v == '[' {
				next = r.walk
			}
			if err := next(dec, buf); err != nil {
				return err
			}
		}
		end, err := dec.Token() // the closing delimiter
		if err == nil {
			buf.WriteByte(byte(end.(json.Delim)))
		}
		return err
	case string:
		writeJSONString(buf, r.String(v), false)
	default: // json.Number, bool or nil: always marshals
		b, _ := json.Marshal(v)
		buf.Write(b)
	}
	return nil
}

// member copies one object member from dec to buf: its key, and its value redacted.
func (r *Redactor) member(dec *json.Decoder, buf *bytes.Buffer) error {
	kt, err := dec.Token()
	if err != nil {
		return err
	}
	key, _ := kt.(string)
	writeJSONString(buf, r.String(key), false)
	buf.WriteByte(':')
	if !xone.SensitiveKey(key) {
		return r.walk(dec, buf)
	}
	buf.WriteString(`"` + Redacted + `"`)
	var skip json.RawMessage
	return dec.Decode(&skip)
}

// writeJSONString writes s as a JSON string, escaping <, > and & when escapeHTML is set.
func writeJSONString(buf *bytes.Buffer, s string, escapeHTML bool) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(escapeHTML)
	_ = enc.Encode(s)           // a string always encodes; writes to a Buffer do not fail
	buf.Truncate(buf.Len() - 1) // Encode's newline
}
