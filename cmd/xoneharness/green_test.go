package main

import (
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/xoneharness/xoneharness/internal/sandbox"
)

// TestGreenMeansThePlanRan runs, through the CLI, each way a run used to end
// green (exit 0) without the evidence a pass needs, and checks its verdict
// now: a finding (1), a refusal of the input (2) or incomplete (4).
func TestGreenMeansThePlanRan(t *testing.T) {
	every503 := func(w http.ResponseWriter, _ *http.Request, _ int64) bool {
		writeJSONBody(w, http.StatusServiceUnavailable, `{"message":"Service Unavailable"}`)
		return true
	}
	throttleOnce := func(value string) func(http.ResponseWriter, *http.Request, int64) bool {
		return func(w http.ResponseWriter, _ *http.Request, n int64) bool {
			if n != 150 { // well into the plan: one 429 of 150 is under the error gate
				return false
			}
			w.Header().Set("Retry-After", value)
			writeJSONBody(w, http.StatusTooManyRequests, `{"message":"Request was throttled."}`)
			return true
		}
	}
	partner := map[string]string{"XONE_CLIENT_ID": "abc", "XONE_CLIENT_SECRET": "test-secret-4d1e", "XONE_OFFER_ID": "o-1", "XONE_QUOTE_ID": "q-1"}
	cases := []struct {
		name    string
		standIn *standInOpts // nil: the embedded sandbox
		env     map[string]string
		args    []string
		code    int
		want    string // in stdout or stderr
	}{
		{name: "a Retry-After pause that leaves the plan unsent", standIn: &standInOpts{confirm: throttleOnce("3600")},
			args: []string{"load", "--rate", "100/s", "--duration", "3s"}, code: exitIncomplete, want: "retry-after pauses cut the plan short"},
		{name: "a threshold does not replace the gates: every answer a 503", standIn: &standInOpts{confirm: every503},
			args: []string{"load", "--rate", "20/s", "--duration", "1s", "--threshold", "p90<800ms"}, code: exitFindings, want: "error_rate<1%"},
		{name: "a threshold does not replace the gates: every request times out", standIn: &standInOpts{sandbox: []sandbox.Option{sandbox.Latency(time.Second)}},
			args: []string{"load", "--rate", "20/s", "--duration", "1s", "--timeout", "100ms", "--threshold", "p90<800ms"}, code: exitFindings, want: "error_rate<1%"},
		{name: "gates off and every answer a 503", standIn: &standInOpts{confirm: every503},
			args: []string{"load", "--rate", "20/s", "--duration", "1s", "--no-default-thresholds"}, code: exitIncomplete, want: "no confirm succeeded"},
		{name: "partner settings without a base URL", env: partner, args: []string{"run"}, code: exitUsage, want: "XONE_CLIENT_ID is set but no base URL"},
		{name: "a throughput gate on too few requests", args: []string{"load", "--rate", "20/s", "--duration", "100ms", "--threshold", "throughput>=1"},
			code: exitIncomplete, want: "a rate needs at least 2 requests over at least 1 s"},
		{name: "a plan of one request", args: []string{"run", "--duration", "1ns"}, code: exitUsage, want: "a measurement needs at least 2"},
		{name: "--stages with --rate", args: []string{"load", "--stages", "1s:10/s", "--rate", "10/s"}, code: exitUsage, want: "--stages and --rate"},
		{name: "--max-duration 0s", args: []string{"load", "--max-duration", "0s"}, code: exitUsage, want: "--max-duration"},
		{name: "--format empty", args: []string{"load", "--format", ""}, code: exitUsage, want: "--format"},
		{name: "version with an argument", args: []string{"version", "extra"}, code: exitUsage, want: "unexpected argument"},
		{name: "a count threshold with a fraction", args: []string{"load", "--threshold", "schema_violations==0.5"}, code: exitUsage, want: "not a whole number"},
		{name: "--timeout 0s on load", args: []string{"load", "--timeout", "0s"}, code: exitUsage, want: "--timeout"},
		{name: "--generate-rate NaN", args: []string{"contract", "--generate", "2", "--generate-rate", "NaN"}, code: exitUsage, want: "--generate-rate"},
		{name: "--generate-rate Inf", args: []string{"contract", "--generate", "2", "--generate-rate", "Inf"}, code: exitUsage, want: "--generate-rate"},
		{name: "--generate-rate 1e9", args: []string{"contract", "--generate", "2", "--generate-rate", "1e9"}, code: exitUsage, want: "--generate-rate"},
		{name: "--generate-rate 0", args: []string{"contract", "--generate", "2", "--generate-rate", "0"}, code: exitUsage, want: "--generate-rate"},
		{name: "--generate-rate -1", args: []string{"contract", "--generate", "2", "--generate-rate", "-1"}, code: exitUsage, want: "--generate-rate"},
		{name: "port 99999 in a base URL", env: map[string]string{"XONE_BASE_URL": "http://127.0.0.1:99999"}, args: []string{"contract"}, code: exitUsage, want: "port 99999"},
		{name: "port 0 in a base URL", env: map[string]string{"XONE_BASE_URL": "http://127.0.0.1:0"}, args: []string{"contract"}, code: exitUsage, want: "port 0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := tc.env
			args := append(tc.args, "--report-dir", filepath.Join(t.TempDir(), "r"))
			if tc.args[0] == "version" {
				args = tc.args
			}
			if tc.standIn != nil {
				s := newStandIn(t, *tc.standIn)
				env = s.env()
				args = append(args, "--offers", writeOffers(t, 400))
			}
			r := invoke(t, env, args...)
			assert.Equal(t, tc.code, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
			assert.Contains(t, r.stdout+r.stderr, tc.want)
		})
	}
}

// TestExplicitSandbox: --sandbox runs the embedded sandbox on purpose even
// with partner settings; the bare command (no settings) runs it too.
func TestExplicitSandbox(t *testing.T) {
	partner := map[string]string{"XONE_CLIENT_ID": "abc", "XONE_PARTNER_ID": "P-1"}
	r := invoke(t, partner, "contract", "--sandbox", "--report-dir", filepath.Join(t.TempDir(), "r"))
	assert.Equal(t, exitOK, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	assert.Contains(t, r.stdout, "embedded sandbox")
	r = invoke(t, map[string]string{"XONE_BASE_URL": "https://partner.example"}, "contract", "--sandbox")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "--sandbox")
}
