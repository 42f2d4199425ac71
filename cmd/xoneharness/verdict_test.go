package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xoneharness/xoneharness/ledger"
)

// waitFor polls cond every 20 ms until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ledgerRows counts the data rows of dir's bookings.csv (0 while it does
// not exist).
func ledgerRows(dir string) int {
	rows, err := ledger.ReadFile(filepath.Join(dir, ledger.File))
	if err != nil {
		return 0
	}
	return len(rows)
}

// assertVerdictEverywhere checks that summary.json, report.md, junit.xml
// and report.html in dir all carry verdict.
func assertVerdictEverywhere(t *testing.T, dir, verdict string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	require.NoError(t, err)
	var sum map[string]any
	require.NoError(t, json.Unmarshal(b, &sum))
	assert.Equal(t, verdict, sum["verdict"], "summary.json verdict")
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	require.NoError(t, err)
	assert.Contains(t, strings.SplitN(string(md), "\n", 2)[0], strings.ToUpper(verdict), "report.md's first line")
	junit, err := os.ReadFile(filepath.Join(dir, "junit.xml"))
	require.NoError(t, err)
	assert.Contains(t, string(junit), `<property name="verdict" value="`+verdict+`">`, "junit.xml verdict")
	if verdict != "pass" {
		assert.Contains(t, string(junit), `<failure message="`+verdict, "junit.xml has a failing verdict case")
	}
	html, err := os.ReadFile(filepath.Join(dir, "report.html"))
	require.NoError(t, err)
	assert.Contains(t, string(html), `class="verdict verdict-`+verdict+`"`, "report.html banner")
	if verdict == "incomplete" {
		assert.NotContains(t, string(html), "verdict-pass\"", "no green banner")
		assert.NotEmpty(t, sum["incomplete"], "summary.json says why")
	}
	return sum
}

// runSubprocess starts the CLI as a process, calls signal (if any) when
// ready says so, and returns the exit code, the output and how long the
// process took after the signal.
func runSubprocess(t *testing.T, env []string, ready func() bool, args ...string) (code int, stdout, stderr string, afterSignal time.Duration) {
	t.Helper()
	cmd := command(t, args...)
	cmd.Env = append(cmd.Env, env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var sent time.Time
	if ready != nil {
		waitFor(t, 60*time.Second, "the run to get going", ready)
		sent = time.Now()
		require.NoError(t, cmd.Process.Signal(os.Interrupt))
	}
	var err error
	select {
	case err = <-done:
	case <-time.After(90 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("no exit\nstdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	}
	if !sent.IsZero() {
		afterSignal = time.Since(sent)
	}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		code = exitErr.ExitCode()
	default:
		t.Fatalf("wait: %v", err)
	}
	return code, out.String(), errOut.String(), afterSignal
}

// TestIncompleteEndToEnd: runs that end without the evidence a pass needs
// exit 4 with the verdict "incomplete" in every report format, through the
// real CLI process.
func TestIncompleteEndToEnd(t *testing.T) {
	t.Run("interrupted load", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "report")
		code, stdout, stderr, after := runSubprocess(t, nil, func() bool { return ledgerRows(dir) >= 20 },
			"load", "--rate", "100/s", "--duration", "20s", "--report-dir", dir)
		require.Equal(t, exitIncomplete, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
		assert.Less(t, after, 3*time.Second, "the process exits promptly after the signal")
		assert.Contains(t, stdout, "verdict: INCOMPLETE")
		assert.Contains(t, stdout, "stop: interrupted\n", "the word once")
		sum := assertVerdictEverywhere(t, dir, "incomplete")
		assert.Contains(t, sum["incomplete"], "load interrupted by a signal")
	})
	t.Run("nothing sent: interrupted during a slow first token fetch", func(t *testing.T) {
		s := newStandIn(t, standInOpts{token: func(w http.ResponseWriter, r *http.Request, _ int64) {
			select { // a token endpoint that does not answer
			case <-r.Context().Done():
			case <-time.After(30 * time.Second):
			}
		}})
		dir := filepath.Join(t.TempDir(), "report")
		var env []string
		for k, v := range s.env() {
			env = append(env, k+"="+v)
		}
		code, stdout, stderr, after := runSubprocess(t, env, func() bool { return s.tokenHits.Load() >= 1 },
			"load", "--offers", writeOffers(t, 20), "--rate", "5/s", "--duration", "2s", "--report-dir", dir)
		require.Equal(t, exitIncomplete, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
		assert.Less(t, after, 3*time.Second, "a slow token endpoint does not hold the interrupt")
		sum := assertVerdictEverywhere(t, dir, "incomplete")
		assert.Contains(t, sum["incomplete"], "load sent no request")
		assert.Zero(t, s.confs.Load(), "no confirm was sent")
	})
	t.Run("missing offer", func(t *testing.T) {
		s := newStandIn(t, standInOpts{})
		dir := filepath.Join(t.TempDir(), "report")
		var env []string
		for k, v := range s.env() {
			env = append(env, k+"="+v)
		}
		code, stdout, stderr, _ := runSubprocess(t, env, nil, "contract", "--report-dir", dir)
		require.Equal(t, exitIncomplete, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
		sum := assertVerdictEverywhere(t, dir, "incomplete")
		assert.Contains(t, strings.Join(toStrings(sum["incomplete"]), "\n"), "confirm-ok skipped")
	})
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// TestDefaultGates: without --threshold, load applies error_rate<1% and
// schema_violations==0, so a run of 503s, or of bodies that break the
// document, fails.
func TestDefaultGates(t *testing.T) {
	t.Run("every response a 503", func(t *testing.T) {
		s := newStandIn(t, standInOpts{confirm: func(w http.ResponseWriter, _ *http.Request, _ int64) bool {
			writeJSONBody(w, http.StatusServiceUnavailable, `{"message":"Service Unavailable"}`)
			return true
		}})
		dir := filepath.Join(t.TempDir(), "r")
		r := invoke(t, s.env(), "load", "--offers", writeOffers(t, 30), "--rate", "20/s", "--duration", "1s", "--report-dir", dir)
		require.Equal(t, exitFindings, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
		assert.Contains(t, r.stdout, "thresholds: error_rate<1%, schema_violations==0 (the safety gates always apply")
		sum := readLoadSummary(t, dir)
		assert.Equal(t, "fail", sum.Verdict)
		assert.Zero(t, sum.Load.Schema.Violations, "a 503 is an error status, not a schema violation")
		// Every 503 may have booked: the ledger lists them as unknown.
		assert.Equal(t, int(sum.Load.Requests), ledgerRows(dir))
	})
	t.Run("every body breaks the document", func(t *testing.T) {
		s := newStandIn(t, standInOpts{rewrite: func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"status":"`), []byte(`"status":7,"x":"`), 1)
		}})
		dir := filepath.Join(t.TempDir(), "r")
		r := invoke(t, s.env(), "load", "--offers", writeOffers(t, 30), "--rate", "20/s", "--duration", "1s", "--report-dir", dir)
		require.Equal(t, exitFindings, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
		sum := readLoadSummary(t, dir)
		assert.Positive(t, sum.Load.Schema.Violations)
		assert.Equal(t, "fail", sum.Verdict)
	})
	t.Run("turned off", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "r")
		r := invoke(t, nil, "load", "--no-default-thresholds", "--rate", "20/s", "--duration", "500ms", "--quiet", "--report-dir", dir)
		require.Equal(t, exitOK, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
		assert.Contains(t, r.stdout, "thresholds: none")
	})
}

// TestCredentialsRefused: a wrong client secret is a configuration error
// (exit 2) naming the client id and the token URL, never the secret.
func TestCredentialsRefused(t *testing.T) {
	s := newStandIn(t, standInOpts{secret: "the-right-secret-123"})
	for _, cmd := range []string{"contract", "load"} {
		t.Run(cmd, func(t *testing.T) {
			args := []string{cmd, "--report-dir", filepath.Join(t.TempDir(), "r")}
			if cmd == "load" {
				args = append(args, "--offers", writeOffers(t, 5), "--rate", "5/s", "--duration", "1s")
			}
			r := invoke(t, s.env(), args...)
			assert.Equal(t, exitUsage, r.code, "stderr:\n%s", r.stderr)
			assert.Contains(t, r.stderr, "credentials refused")
			assert.Contains(t, r.stderr, standInClientID)
			assert.Contains(t, r.stderr, s.srv.URL+"/api/oauth/token")
			assert.NotContains(t, r.stderr+r.stdout, standInSecret)
			assert.Equal(t, 1, strings.Count(r.stderr, "xoneharness "+cmd+":"), "the command is named once")
			assert.NotContains(t, r.stderr, cmd+": "+cmd+":")
		})
	}
}

// TestContractCaseTimeout: a target that never answers one malformed body
// fails that case with outcome error; the other cases are all in the report
// and the run fails (exit 1), not "infrastructure".
func TestContractCaseTimeout(t *testing.T) {
	s := newStandIn(t, standInOpts{confirm: func(w http.ResponseWriter, r *http.Request, _ int64) bool {
		var v any
		if err := json.NewDecoder(r.Body).Decode(&v); err != nil {
			<-r.Context().Done() // never answers a malformed body
			return true
		}
		return false
	}})
	env := s.env()
	env["XONE_OFFER_ID"], env["XONE_QUOTE_ID"] = "0b7e6a8e-3f65-4a53-9a0c-7f3f0a1c2d11", "5d2a0c1e-8b5f-4c1a-9e3d-2f1b0a9c8d7e"
	dir := filepath.Join(t.TempDir(), "r")
	r := invoke(t, env, "contract", "--http-timeout", "500ms", "--report-dir", dir)
	require.Equal(t, exitFindings, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	require.NoError(t, err)
	var sum struct {
		Verdict  string `json:"verdict"`
		Contract struct {
			Cases []struct {
				Name, Outcome, Reason string
			} `json:"cases"`
		} `json:"contract"`
	}
	require.NoError(t, json.Unmarshal(b, &sum))
	assert.Equal(t, "fail", sum.Verdict)
	assert.GreaterOrEqual(t, len(sum.Contract.Cases), 11, "every case is in the report")
	var errored []string
	for _, c := range sum.Contract.Cases {
		if c.Outcome == "error" {
			errored = append(errored, c.Name)
			assert.Contains(t, c.Reason, "no answer after")
		}
	}
	assert.Contains(t, errored, "malformed-json")
}

// TestDryRunCountsWhatRunSends: --dry-run's "about N requests" is the count
// the engine plans (a request at 0, 300, 600 and 900 ms).
func TestDryRunCountsWhatRunSends(t *testing.T) {
	r := invoke(t, nil, "load", "--dry-run", "--rate", "1/300ms", "--duration", "1s")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "about 4 requests")
}
