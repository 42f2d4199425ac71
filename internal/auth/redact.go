package auth

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Redacted replaces every secret a [Redactor] scrubs.
const Redacted = "[REDACTED]"

// maxRecent is how many recently seen tokens a Source keeps in its Redactor
// (older tokens have expired; keeping every one would slow String down over a
// long run with short-lived tokens).
const maxRecent = 32

// bearerRE finds "Bearer <token>" (RFC 6750 b64token) in free text. It is
// immutable after init.
var bearerRE = regexp.MustCompile(`(?i)\b(bearer)(\s+)[A-Za-z0-9\-._~+/]+=*`)

// sensitiveKeys are JSON member names whose values JSON replaces, compared
// after lower-casing and dropping '_', '-' and '.', so accessToken,
// access-token and ACCESS_TOKEN all match access_token.
var sensitiveKeys = map[string]bool{
	"securitytoken": true, "accesstoken": true, "refreshtoken": true, "idtoken": true,
	"token": true, "clientsecret": true, "secret": true, "password": true, "apikey": true,
	"authorization": true, "email": true, "emailaddress": true, "phone": true,
	"phonenumber": true, "mobile": true,
}

// sensitiveHeaderWords mark header names whose values Header replaces
// whole (besides Authorization and cookies).
var sensitiveHeaderWords = []string{"token", "secret", "password", "api-key", "apikey"}

// Redactor scrubs secrets from text, headers and JSON bodies before they are
// printed, logged or written to a report. It holds literal secrets (the
// client secret, tokens seen) and also removes any "Bearer xxx" credential.
// The zero value is ready to use and holds no literal secrets; a nil
// *Redactor scrubs like one, but Add panics on it. A Redactor is safe for
// concurrent use.
//
// A secret is replaced by "[REDACTED]" wherever it occurs, so a secret that is
// itself part of "[REDACTED]" (such as "RED") cannot be told apart from the
// marker; real secrets are long random strings.
type Redactor struct {
	mu      sync.Mutex
	secrets []string // added by NewRedactor and Add, kept for good
	recent  []string // tokens added by a Source, the last maxRecent
	snap    atomic.Pointer[redactSnapshot]
}

// redactSnapshot is an immutable view of the secrets, rebuilt on each change.
type redactSnapshot struct {
	all []string // longest first
	rep *strings.Replacer
}

// NewRedactor returns a Redactor that scrubs the given secrets; empty
// strings are ignored.
func NewRedactor(secrets ...string) *Redactor {
	r := &Redactor{}
	for _, s := range secrets {
		if s != "" && !slices.Contains(r.secrets, s) {
			r.secrets = append(r.secrets, s)
		}
	}
	r.rebuild()
	return r
}

// Add adds a literal secret to scrub from now on; empty strings and known
// secrets are ignored. Safe for concurrent use with every other method.
func (r *Redactor) Add(secret string) {
	if secret == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if slices.Contains(r.secrets, secret) {
		return
	}
	r.secrets = append(r.secrets, secret)
	r.rebuild()
}

// addRecent adds a token to the bounded list of recent tokens.
func (r *Redactor) addRecent(secret string) {
	if secret == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if slices.Contains(r.secrets, secret) || slices.Contains(r.recent, secret) {
		return
	}
	r.recent = append(r.recent, secret)
	if len(r.recent) > maxRecent {
		r.recent = slices.Delete(r.recent, 0, len(r.recent)-maxRecent)
	}
	r.rebuild()
}

// rebuild publishes a new snapshot; r.mu must be held (or r unpublished).
func (r *Redactor) rebuild() {
	all := slices.Concat(r.secrets, r.recent)
	// Longest first: strings.Replacer tries pairs in argument order at each
	// position, so a secret that contains another is replaced whole.
	slices.SortStableFunc(all, func(a, b string) int { return len(b) - len(a) })
	pairs := make([]string, 0, 2*len(all))
	for _, s := range all {
		pairs = append(pairs, s, Redacted)
	}
	r.snap.Store(&redactSnapshot{all: all, rep: strings.NewReplacer(pairs...)})
}

// String returns s with every "Bearer xxx" credential turned into
// "Bearer [REDACTED]" and every known secret into "[REDACTED]".
func (r *Redactor) String(s string) string {
	return r.literal(bearerRE.ReplaceAllString(s, "${1}${2}"+Redacted))
}

// literal replaces the known secrets. Replacing can, at a marker's edge, make
// a new occurrence of a secret that contains '[' or ']'; a few more passes
// catch those.
func (r *Redactor) literal(s string) string {
	snap := r.snapshot()
	if len(snap.all) == 0 {
		return s
	}
	for range 4 {
		s = snap.rep.Replace(s)
		if !snap.contains(s) {
			break
		}
	}
	return s
}

// emptySnapshot is the snapshot of a zero or nil Redactor; never modified.
var emptySnapshot = &redactSnapshot{rep: strings.NewReplacer()}

// snapshot returns the current secrets; nil-safe.
func (r *Redactor) snapshot() *redactSnapshot {
	if r == nil {
		return emptySnapshot
	}
	if snap := r.snap.Load(); snap != nil {
		return snap
	}
	return emptySnapshot
}

// contains reports whether s holds any known secret.
func (snap *redactSnapshot) contains(s string) bool {
	for _, secret := range snap.all {
		if strings.Contains(s, secret) {
			return true
		}
	}
	return false
}

// Header returns a redacted copy of h; h is not modified. Authorization and
// Proxy-Authorization keep their scheme ("Bearer [REDACTED]", so a reader
// sees a value was there); Cookie, Set-Cookie and headers whose name contains
// token, secret, password or api-key become "[REDACTED]"; every other value
// gets the String treatment. A nil h gives nil.
func (r *Redactor) Header(h http.Header) http.Header {
	if h == nil {
		return nil
	}
	out := make(http.Header, len(h))
	for k, vs := range h {
		red := make([]string, len(vs))
		lk := strings.ToLower(k)
		for i, v := range vs {
			switch {
			case lk == "authorization" || lk == "proxy-authorization":
				if scheme, _, ok := strings.Cut(strings.TrimSpace(v), " "); ok {
					red[i] = scheme + " " + Redacted
				} else {
					red[i] = Redacted
				}
			case lk == "cookie" || lk == "set-cookie" || containsAny(lk, sensitiveHeaderWords):
				red[i] = Redacted
			default:
				red[i] = r.String(v)
			}
		}
		out[k] = red
	}
	return out
}

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// JSON returns a redacted copy of a JSON body; body is not modified. The
// values of security_token, access_token, refresh_token, id_token, token,
// client_secret, secret, password, api_key, authorization, email,
// email_address, phone, phone_number and mobile (any depth, any case, '_',
// '-' and '.' ignored, so accessToken matches) become "[REDACTED]" whatever
// their type, keeping the key; every other string, and every key, gets the
// String treatment. Member order is kept; the output is compact JSON. Input
// that is not valid JSON gets the String treatment as text.
func (r *Redactor) JSON(body []byte) []byte {
	if !json.Valid(body) {
		return []byte(r.String(string(body)))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var buf bytes.Buffer
	buf.Grow(len(body))
	if err := r.walk(dec, &buf); err != nil {
		return []byte(r.String(string(body)))
	}
	out := buf.Bytes()
	// A secret written with JSON escapes in the input (\u0041 for A) is
	// caught above on the decoded string; one whose literal text only forms
	// after re-encoding (a secret containing `\n`) is caught here, at the
	// cost of the output's validity in that odd case.
	if r.snapshot().contains(string(out)) {
		return []byte(r.literal(string(out)))
	}
	return out
}

// walk copies one JSON value from dec to buf, redacting as it goes.
func (r *Redactor) walk(dec *json.Decoder, buf *bytes.Buffer) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch v := tok.(type) {
	case json.Delim:
		switch v {
		case '{':
			buf.WriteByte('{')
			for i := 0; dec.More(); i++ {
				if i > 0 {
					buf.WriteByte(',')
				}
				kt, err := dec.Token()
				if err != nil {
					return err
				}
				key, _ := kt.(string)
				writeJSONString(buf, r.String(key))
				buf.WriteByte(':')
				if sensitiveKey(key) {
					var skip json.RawMessage
					if err := dec.Decode(&skip); err != nil {
						return err
					}
					writeJSONString(buf, Redacted)
					continue
				}
				if err := r.walk(dec, buf); err != nil {
					return err
				}
			}
			buf.WriteByte('}')
		case '[':
			buf.WriteByte('[')
			for i := 0; dec.More(); i++ {
				if i > 0 {
					buf.WriteByte(',')
				}
				if err := r.walk(dec, buf); err != nil {
					return err
				}
			}
			buf.WriteByte(']')
		}
		_, err := dec.Token() // the closing delimiter
		return err
	case string:
		writeJSONString(buf, r.String(v))
	case json.Number:
		buf.WriteString(v.String())
	case bool:
		if v {
			buf.WriteString("true")
		} else {
			buf.WriteString("false")
		}
	case nil:
		buf.WriteString("null")
	}
	return nil
}

// writeJSONString writes s as a JSON string without HTML escaping.
func writeJSONString(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)           // a string always encodes; writes to a Buffer do not fail
	buf.Truncate(buf.Len() - 1) // Encode's newline
}

// sensitiveKey reports whether a JSON member name is in sensitiveKeys.
func sensitiveKey(key string) bool {
	k := strings.Map(func(c rune) rune {
		switch c {
		case '_', '-', '.':
			return -1
		}
		return c
	}, strings.ToLower(key))
	return sensitiveKeys[k]
}
