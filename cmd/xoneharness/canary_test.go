package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xoneharness/xoneharness/internal/auth"
	"github.com/xoneharness/xoneharness/internal/xone"
)

// Canary values: each is unique, so finding one anywhere in an output is a leak.
const (
	canarySecret        = "canary-client-secret-Q7Zk2vR1"
	canaryToken         = "canary-access-token-Xw91pL0d"
	canarySecurityToken = "cnRy1-SecTk-9f3a2-M4pLq"
	canaryEmail         = "canary.email.r8t5@example.com"
	canaryPhone         = "+61455501234"
)

func canaries() map[string]string {
	return map[string]string{
		"client secret": canarySecret, "access token": canaryToken, "security_token": canarySecurityToken,
		"policyholder email": canaryEmail, "policyholder phone": canaryPhone,
	}
}

// TestCanariesNeverWritten runs contract (recording), load and run against a
// stand-in that accepts a canary client secret, issues a canary access token
// and returns a canary security_token, with a policyholder whose email and
// phone are canaries; then it reads every file written and every byte of
// output: no canary may appear anywhere.
func TestCanariesNeverWritten(t *testing.T) {
	var rewritten atomic.Int64 // 200s that carried the canary security_token
	s := newStandIn(t, standInOpts{
		secret: canarySecret,
		issue:  func(int64) string { return canaryToken },
		rewrite: func(body []byte) []byte {
			var m map[string]any
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.UseNumber()
			if dec.Decode(&m) != nil {
				return body
			}
			if data, ok := m["data"].(map[string]any); ok {
				if _, ok := data["security_token"]; ok {
					data["security_token"] = canarySecurityToken
					rewritten.Add(1)
				}
			}
			out, err := json.Marshal(m)
			if err != nil {
				return body
			}
			return out
		},
	})
	env := s.env()
	env["XONE_CLIENT_SECRET"] = canarySecret
	root := t.TempDir()
	env["GITHUB_STEP_SUMMARY"] = filepath.Join(root, "step-summary.md")
	ph := filepath.Join(root, "policyholder.json")
	require.NoError(t, os.WriteFile(ph, []byte(`{
  "first_name": "Ada", "last_name": "Lovelace",
  "email": "`+canaryEmail+`", "phone": "`+canaryPhone+`",
  "country": "AU", "address1": "1 Example Street", "city": "Sydney", "region": "NSW", "postcode": "2000"
}`), 0o644))
	out := filepath.Join(root, "out")
	var outputs []string

	// contract, recording every exchange.
	cenv := map[string]string{"XONE_OFFER_ID": xone.NewUUID(), "XONE_QUOTE_ID": xone.NewUUID()}
	for k, v := range env {
		cenv[k] = v
	}
	r := invoke(t, cenv, "contract", "--policyholder", ph, "--report-dir", filepath.Join(out, "contract"),
		"--record", filepath.Join(out, "recordings"))
	require.Equal(t, exitOK, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	outputs = append(outputs, r.stdout, r.stderr)
	assert.Contains(t, r.stdout, "PASS")

	// load.
	r = invoke(t, env, "load", "--policyholder", ph, "--offers", writeOffers(t, 40), "--rate", "20/s",
		"--duration", "1s", "--report-dir", filepath.Join(out, "load"))
	require.Equal(t, exitOK, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	outputs = append(outputs, r.stdout, r.stderr)

	// run: contract (first offer), then load.
	r = invoke(t, env, "run", "--policyholder", ph, "--offers", writeOffers(t, 40), "--rate", "20/s",
		"--duration", "1s", "--threshold", "p90<1s", "--report-dir", filepath.Join(out, "run"), "--record", filepath.Join(out, "run-recordings"))
	require.Equal(t, exitOK, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	outputs = append(outputs, r.stdout, r.stderr)

	// A token endpoint that echoes the secret and a token in its error body.
	echo := newStandIn(t, standInOpts{token: func(w http.ResponseWriter, _ *http.Request, _ int64) {
		writeJSONBody(w, http.StatusBadRequest, `{"message":"bad client_secret `+canarySecret+`","client_secret":"`+canarySecret+
			`","access_token":"`+canaryToken+`","hint":"Bearer `+canaryToken+`"}`)
	}})
	eenv := echo.env()
	eenv["XONE_CLIENT_SECRET"] = canarySecret
	for _, cmd := range [][]string{
		{"contract", "--report-dir", filepath.Join(out, "echo-contract")},
		{"load", "--offers", writeOffers(t, 5), "--rate", "5/s", "--duration", "1s", "--report-dir", filepath.Join(out, "echo-load")},
	} {
		r = invoke(t, eenv, cmd...)
		assert.Equal(t, exitUsage, r.code, "credentials refused; stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
		assert.Contains(t, r.stderr, "status 400", "the failure is still explained")
		outputs = append(outputs, r.stdout, r.stderr)
	}

	// Every file written, every output stream.
	files := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path == ph {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		for what, c := range canaries() {
			assert.NotContains(t, string(b), c, "%s leaked into %s", what, path)
		}
		return nil
	})
	require.NoError(t, err)
	assert.GreaterOrEqual(t, files, 20, "reports, ledgers, results and recordings were all read")
	for i, o := range outputs {
		for what, c := range canaries() {
			assert.NotContains(t, o, c, "%s leaked into output %d", what, i)
		}
	}

	// The stand-in really saw the canaries: the test is not vacuous.
	assert.GreaterOrEqual(t, s.tokenHits.Load(), int64(3))
	assert.Positive(t, s.sb.Stats().Confirmed)
	assert.Greater(t, rewritten.Load(), int64(20), "contract, load and run all received the canary security_token")

	// Redacted recordings still show that each value was there.
	b, err := os.ReadFile(filepath.Join(out, "recordings", "confirm-ok.json"))
	require.NoError(t, err)
	rec := string(b)
	unescaped := strings.ReplaceAll(rec, `\"`, `"`)
	for _, key := range []string{"security_token", "email", "phone"} {
		assert.Regexp(t, `"`+key+`":\s*"`+regexp.QuoteMeta(auth.Redacted)+`"`, unescaped)
	}
	assert.Contains(t, rec, "Authorization")
	assert.Contains(t, rec, auth.Redacted)
}

// secretSpellings are the forms a client secret takes on the wire and in
// text: raw, JSON-escaped (with and without HTML escapes), percent-encoded,
// and base64 of "id:secret" (both alphabets, padded or not, also of the
// query-escaped pair as golang.org/x/oauth2 sends Basic credentials).
func secretSpellings(id, secret string) map[string]string {
	quoted, _ := json.Marshal(secret)
	var noHTML bytes.Buffer
	enc := json.NewEncoder(&noHTML)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(secret)
	nh := strings.TrimSpace(noHTML.String())
	out := map[string]string{
		"raw": secret, "json": string(quoted[1 : len(quoted)-1]), "json-no-html": nh[1 : len(nh)-1],
		"query": url.QueryEscape(secret), "path": url.PathEscape(secret),
	}
	for _, pair := range []string{id + ":" + secret, url.QueryEscape(id) + ":" + url.QueryEscape(secret)} {
		for name, e := range map[string]*base64.Encoding{"std": base64.StdEncoding, "url": base64.URLEncoding,
			"std-raw": base64.RawStdEncoding, "url-raw": base64.RawURLEncoding} {
			out["base64-"+name+"-"+pair[:2]] = e.EncodeToString([]byte(pair))
		}
	}
	return out
}

// mangledRE finds the marker glued inside a word ("Un[REDACTED]uthentic").
var mangledRE = regexp.MustCompile(`[A-Za-z]` + regexp.QuoteMeta(auth.Redacted) + `[a-z]`)

// TestCanaryEncodedSecretsNeverWritten sends a canary secret in each token
// style to a token endpoint that echoes everything it received (the
// Authorization header, the raw body, the secret JSON-escaped) in its error,
// and runs the contract suite against a target that echoes a long
// policyholder e-mail past the message cut: no spelling of the secret, and
// no prefix of the e-mail, may appear in any output or file, and the marker
// never lands inside a word.
func TestCanaryEncodedSecretsNeverWritten(t *testing.T) {
	const (
		email    = "canary.pii.7788@example.com"
		pwCanary = "canary-userinfo-pw-5Tq9"
	)
	echoToken := func(w http.ResponseWriter, r *http.Request, _ int64) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		msg, _ := json.Marshal(map[string]string{
			"message":  "Unauthenticated: bad credentials",
			"received": string(body),
			"header":   r.Header.Get("Authorization"),
		})
		writeJSONBody(w, http.StatusBadRequest, string(msg)+"\nraw: "+string(body)+"\nauth: "+r.Header.Get("Authorization"))
	}
	tests := []struct {
		name, style, secret string
	}{
		{"basic", "basic", "canary-Basic-s3cr3t/+?=&Zq"},
		{"form", "form", "canary form s3cr3t %41+&=Zq"},
		{"json special characters", "json", `canary"<json>&\s3cr3t` + "\u00e9\u2028Zq"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStandIn(t, standInOpts{token: echoToken})
			env := s.env()
			env["XONE_CLIENT_SECRET"] = tt.secret
			env["XONE_TOKEN_STYLE"] = tt.style
			root := t.TempDir()
			r := invoke(t, env, "contract", "--report-dir", filepath.Join(root, "out"))
			assert.NotEqual(t, exitOK, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
			require.Positive(t, s.tokenHits.Load(), "the token endpoint saw the secret")
			assert.Contains(t, r.stderr, "400", "the failure is still explained")
			checkNoLeak(t, root, secretSpellings(standInClientID, tt.secret), r.stdout, r.stderr)
		})
	}

	t.Run("userinfo in the base URL", func(t *testing.T) {
		s := newStandIn(t, standInOpts{})
		env := s.env()
		env["XONE_BASE_URL"] = strings.Replace(s.srv.URL, "http://", "http://canary-user:"+pwCanary+"@", 1)
		root := t.TempDir()
		r := invoke(t, env, "contract", "--report-dir", filepath.Join(root, "out"))
		assert.Equal(t, exitUsage, r.code, "a URL with userinfo is refused; stderr:\n%s", r.stderr)
		checkNoLeak(t, root, map[string]string{"password": pwCanary, "userinfo": "canary-user:"}, r.stdout, r.stderr)
	})

	t.Run("PII past the message cut", func(t *testing.T) {
		s := newStandIn(t, standInOpts{confirm: func(w http.ResponseWriter, _ *http.Request, _ int64) bool {
			writeJSONBody(w, http.StatusUnprocessableEntity, fmt.Sprintf(`{"message":%q}`, strings.Repeat("m", 190)+" "+email))
			return true
		}})
		root := t.TempDir()
		ph := filepath.Join(root, "policyholder.json")
		require.NoError(t, os.WriteFile(ph, []byte(`{"first_name":"Ada","last_name":"Lovelace","email":"`+email+
			`","phone":"+61455501234","country":"AU","address1":"1 Example St","city":"Sydney","region":"NSW","postcode":"2000"}`), 0o644))
		env := s.env()
		env["XONE_OFFER_ID"], env["XONE_QUOTE_ID"] = xone.NewUUID(), xone.NewUUID()
		r := invoke(t, env, "contract", "--policyholder", ph, "--report-dir", filepath.Join(root, "out"),
			"--record", filepath.Join(root, "recordings"))
		assert.Equal(t, exitFindings, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
		prefixes := map[string]string{}
		for n := 8; n <= len(email); n++ {
			prefixes[fmt.Sprintf("e-mail prefix %d", n)] = email[:n]
		}
		checkNoLeak(t, root, prefixes, r.stdout, r.stderr, ph)
	})
}

// checkNoLeak fails if any value appears in outputs or in a file under root
// (except those in skip), or if the marker sits inside a word.
func checkNoLeak(t *testing.T, root string, values map[string]string, outputs ...string) {
	t.Helper()
	var skip []string
	texts := map[string]string{}
	for i, o := range outputs {
		if filepath.IsAbs(o) && strings.HasPrefix(o, root) {
			skip = append(skip, o)
			continue
		}
		texts[fmt.Sprintf("output %d", i)] = o
	}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || slices.Contains(skip, path) {
			return err
		}
		b, err := os.ReadFile(path)
		texts[path] = string(b)
		return err
	})
	require.NoError(t, err)
	for where, text := range texts {
		for what, v := range values {
			if strings.Contains(text, v) {
				t.Errorf("%s (%q) leaked into %s", what, v, where)
			}
		}
		if m := mangledRE.FindString(text); m != "" {
			t.Errorf("%s: the marker sits inside a word: %q", where, m)
		}
	}
}

// TestCanaryTokenNeverWritten: whatever format the token endpoint answers
// in (JSON, a form body, HTML, plain text, 2 MiB of it), the token it hands
// out appears in no output and no file, in none of the 16 encodings the
// redactor knows. The target echoes the bearer token it received in its
// error bodies, so a token the CLI learned is everywhere it could leak.
func TestCanaryTokenNeverWritten(t *testing.T) {
	const canary = "canary-token-Zq8x7Wv6Ut5Sr4"
	answers := []struct{ name, ctype, body string }{
		{"json", "application/json", `{"token_type":"Bearer","expires_in":3600,"access_token":"` + canary + `"}`},
		{"form", "application/x-www-form-urlencoded", "access_token=" + canary + "&token_type=Bearer&expires_in=3600"},
		{"html", "text/html", `<html><body><p>access_token=` + canary + `</p></body></html>`},
		{"plain text", "text/plain; charset=utf-8", "your token: access_token: " + canary + "\n"},
		{"2 MiB", "application/json", `{"access_token":"` + canary + `","padding":"` + strings.Repeat("x", 2<<20) + `"}`},
	}
	for _, a := range answers {
		t.Run(a.name, func(t *testing.T) {
			s := newStandIn(t, standInOpts{
				issue: func(int64) string { return canary },
				token: func(w http.ResponseWriter, _ *http.Request, _ int64) {
					w.Header().Set("Content-Type", a.ctype)
					_, _ = io.WriteString(w, a.body)
				},
				confirm: func(w http.ResponseWriter, r *http.Request, _ int64) bool {
					writeJSONBody(w, http.StatusUnprocessableEntity, fmt.Sprintf(`{"message":"bad token %s"}`, r.Header.Get("Authorization")))
					return true
				},
			})
			root := t.TempDir()
			var outputs []string
			for _, args := range [][]string{
				{"contract", "--report-dir", filepath.Join(root, "contract")},
				{"load", "--offers", writeOffers(t, 20), "--rate", "10/s", "--duration", "1s", "--report-dir", filepath.Join(root, "load")},
			} {
				r := invoke(t, s.env(), args...)
				assert.NotEqual(t, exitUsage, r.code, "%v\nstdout:\n%s\nstderr:\n%s", args, r.stdout, r.stderr)
				outputs = append(outputs, r.stdout, r.stderr)
			}
			forms := map[string]string{}
			for i, f := range auth.Forms(standInClientID, canary) {
				forms[fmt.Sprintf("encoding %d", i+1)] = f
			}
			checkNoLeak(t, root, forms, outputs...)
		})
	}
}
