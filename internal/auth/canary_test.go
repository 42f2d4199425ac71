package auth

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// canaryToken is the token the canary endpoints issue: b64token characters
// whose JSON, PHP, percent and base64 forms all differ from the raw one.
const canaryToken = "cAnArY+t0k/3n=9f8e7d6c5b4a"

// canaryBodies are token responses in every format a token endpoint was
// seen to use, each holding canaryToken; usable says whether the Source
// must accept it.
func canaryBodies() []struct {
	name, ctype string
	status      int
	body        string
	usable      bool
} {
	form := url.Values{"access_token": {canaryToken}, "token_type": {"bearer"}, "expires_in": {"3600"}}.Encode()
	js, _ := json.Marshal(map[string]any{"access_token": canaryToken, "token_type": "Bearer", "expires_in": 3600})
	quoted := strings.ReplaceAll(string(js), `"`, "&quot;")
	html := `<html><body><h1>Signed in</h1><pre>` + quoted + `</pre>` +
		`<form method="post"><input type="hidden" name="access_token" value="` + canaryToken + `"></form></body></html>`
	return []struct {
		name, ctype string
		status      int
		body        string
		usable      bool
	}{
		{"json", "application/json", 200, string(js), true},
		{"form", "application/x-www-form-urlencoded", 200, form, true},
		{"form as text/plain", "text/plain; charset=utf-8", 200, form, true},
		{"html", "text/html; charset=utf-8", 200, html, false},
		{"plain text", "text/plain", 200, "access_token: " + canaryToken + "\nexpires_in: 3600\n", false},
		{"json with a bad expiry", "application/json", 200, `{"access_token":"` + strings.ReplaceAll(canaryToken, "/", `\/`) + `","expires_in":-1}`, false},
		{"2 MiB json", "application/json", 200, `{"access_token":"` + canaryToken + `","pad":"` + strings.Repeat("x", 2<<20) + `"}`, false},
		{"error page echoing the request", "text/html", 502, "<p>upstream said: client_secret=" + url.QueryEscape(testSecret) + "&access_token=" + canaryToken + "</p>", false},
	}
}

// TestCanaryTokenNeverShown runs a Source against endpoints answering in
// each format and checks that no output a caller can see holds the canary
// token (or the client secret) in any of the forms Forms lists.
func TestCanaryTokenNeverShown(t *testing.T) {
	canaryForms := Forms(testID, canaryToken)
	secretForms := Forms(testID, testSecret)
	require.GreaterOrEqual(t, len(canaryForms), 8, "precondition: the canary takes many forms")
	for _, tt := range canaryBodies() {
		for _, style := range []Style{StyleJSON, StyleForm, StyleBasic} {
			t.Run(tt.name+"/"+string(style), func(t *testing.T) {
				ts := newTokenServer(t, func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", tt.ctype)
					w.WriteHeader(tt.status)
					_, _ = io.WriteString(w, tt.body)
				})
				red := NewRedactor()
				src := newSource(t, ts.URL, Config{Style: style, Redactor: red})
				require.Same(t, red, src.Redactor(), "precondition: the Source uses the given Redactor")

				tok, err := src.Token()
				var outputs []string
				if tt.usable {
					require.NoError(t, err)
					assert.Equal(t, canaryToken, tok.AccessToken, "the token is usable")
				} else {
					require.Error(t, err, "token %+v", tok)
					assert.ErrorIs(t, err, ErrRejected)
					var fe *FetchError
					require.ErrorAs(t, err, &fe)
					assert.Equal(t, tt.status, fe.Status)
					assert.Equal(t, min(len(tt.body), maxResponseBytes+1), fe.Length)
					outputs = append(outputs, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", fe),
						fe.URL, strconv.Itoa(fe.Status), fe.ContentType, strconv.Itoa(fe.Length), fe.Err.Error())
				}
				for _, f := range canaryForms {
					for _, text := range []string{f, "x " + f + " y", "a=" + f + "&b=1", `"` + f + `"`} {
						outputs = append(outputs, red.String(text), string(red.JSON([]byte(text))))
					}
					body, _ := json.Marshal(map[string]string{"message": "got " + f})
					outputs = append(outputs, string(red.JSON(body)), red.Header(http.Header{"X-Echo": {f}}).Get("X-Echo"))
				}
				for i, out := range outputs {
					for _, f := range append(canaryForms, secretForms...) {
						assert.NotContains(t, out, f, "output %d holds a form of the canary or the secret", i)
					}
				}
			})
		}
	}
}

func TestSharedRedactor(t *testing.T) {
	red := NewRedactor()
	ts := newIssuer(t, 3600, 0)
	a := newSource(t, ts.URL, Config{Redactor: red})
	b := newSource(t, ts.URL, Config{ClientID: "other-client", ClientSecret: "an0ther-s3cret-value", Redactor: red})
	ta, err := a.Token()
	require.NoError(t, err)
	tb, err := b.Token()
	require.NoError(t, err)
	got := red.String(strings.Join([]string{testSecret, "an0ther-s3cret-value", ta.AccessToken, tb.AccessToken}, " "))
	assert.Equal(t, strings.Repeat(Redacted+" ", 3)+Redacted, got)
	assert.Same(t, red, a.Redactor())
	assert.Same(t, red, b.Redactor())
}
