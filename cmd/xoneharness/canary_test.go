package main

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
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
		"--duration", "1s", "--report-dir", filepath.Join(out, "run"), "--record", filepath.Join(out, "run-recordings"))
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
		assert.Equal(t, exitInfra, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
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
