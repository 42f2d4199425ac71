package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xoneharness/xoneharness/internal/sandbox"
	"github.com/xoneharness/xoneharness/spec"
)

// result is one invocation of the CLI.
type result struct {
	code           int
	stdout, stderr string
}

// invoke runs the CLI in-process with env as the whole environment.
func invoke(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	return invokeCtx(t, context.Background(), env, args...)
}

func invokeCtx(t *testing.T, ctx context.Context, env map[string]string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(ctx, args, func(k string) string { return env[k] }, &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

func TestVersionAndHelp(t *testing.T) {
	r := invoke(t, nil, "version")
	assert.Equal(t, exitOK, r.code)
	assert.Contains(t, r.stdout, "xoneharness ")

	r = invoke(t, nil, "help")
	assert.Equal(t, exitOK, r.code)
	for _, c := range commands() {
		assert.Contains(t, r.stdout, c.name)
	}

	r = invoke(t, nil)
	assert.Equal(t, exitUsage, r.code)

	// Every subcommand's --help exits 0 and shows at least one example.
	for _, c := range []string{"run", "contract", "load", "sandbox", "version"} {
		t.Run(c, func(t *testing.T) {
			r := invoke(t, nil, c, "--help")
			assert.Equal(t, exitOK, r.code, r.stderr)
			if c != "version" {
				assert.Contains(t, r.stderr, "Examples:")
				assert.Contains(t, r.stderr, "xoneharness "+c)
			}
		})
	}
	r = invoke(t, nil, "spec", "--help")
	assert.Equal(t, exitOK, r.code)
	assert.Contains(t, r.stdout, "xoneharness spec lint")
}

func TestSpecLint(t *testing.T) {
	r := invoke(t, nil, "spec", "lint")
	require.Equal(t, exitOK, r.code, r.stderr)
	for _, want := range []string{"undeclared-path-parameter", "header-type-mismatch", "unknown-format",
		"CF-RAY", "X-XSS-Protection", "Cf-Team", "color", "style", "partner_id", "offer_id"} {
		assert.Contains(t, r.stdout, want)
	}

	r = invoke(t, nil, "spec", "lint", "--json")
	require.Equal(t, exitOK, r.code, r.stderr)
	var defects []spec.Defect
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &defects))
	assert.GreaterOrEqual(t, len(defects), 8)
	for _, d := range defects {
		assert.True(t, d.Handled, "%s %s not handled", d.Rule, d.Pointer)
	}

	// The corrected document has no defect left.
	fixed := filepath.Join(t.TempDir(), "fixed.json")
	s, err := spec.Load()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(fixed, s.Document(), 0o644))
	r = invoke(t, nil, "spec", "lint", fixed)
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "0 defects")
}

func TestSpecDiff(t *testing.T) {
	dir := t.TempDir()
	same := filepath.Join(dir, "same.json")
	require.NoError(t, os.WriteFile(same, spec.Vendor(), 0o644))
	r := invoke(t, nil, "spec", "diff", same)
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "0 changes")

	// Removing a response property is breaking: exit 1.
	var doc map[string]any
	require.NoError(t, json.Unmarshal(spec.Vendor(), &doc))
	props := dig(t, doc, "paths", "/api/partners/{partner_id}/offers/{offer_id}/confirm", "post", "responses",
		"200", "content", "application/json", "schema", "properties", "data", "properties")
	delete(props, "price")
	broken := filepath.Join(dir, "broken.json")
	b, err := json.Marshal(doc)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(broken, b, 0o644))
	r = invoke(t, nil, "spec", "diff", "--json", same, broken)
	assert.Equal(t, exitFindings, r.code, r.stderr)
	assert.Contains(t, r.stdout, `"breaking": true`)

	garbage := filepath.Join(dir, "garbage.json")
	require.NoError(t, os.WriteFile(garbage, []byte("{not openapi"), 0o644))
	r = invoke(t, nil, "spec", "diff", same, garbage)
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "garbage.json")

	r = invoke(t, nil, "spec", "diff", filepath.Join(dir, "missing.json"))
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "missing.json")
}

func dig(t *testing.T, m map[string]any, keys ...string) map[string]any {
	t.Helper()
	for _, k := range keys {
		next, ok := m[k].(map[string]any)
		require.True(t, ok, "no object at %q", k)
		m = next
	}
	return m
}

func TestRunEmbedded(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	summary := filepath.Join(t.TempDir(), "step-summary.md")
	r := invoke(t, map[string]string{"GITHUB_STEP_SUMMARY": summary},
		"run", "--rate", "100/s", "--duration", "1s", "--report-dir", dir, "--quiet")
	require.Equal(t, exitOK, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	assert.Contains(t, r.stdout, "verdict: PASS against embedded sandbox")
	assert.Contains(t, r.stdout, filepath.Join(dir, "report.html"))
	for _, f := range []string{"summary.json", "report.md", "junit.xml", "report.html", "results.bin", "bookings.csv"} {
		assert.FileExists(t, filepath.Join(dir, f))
	}
	var sum struct {
		SchemaVersion int    `json:"schema_version"`
		Kind          string `json:"kind"`
		Verdict       string `json:"verdict"`
		Target        struct {
			Embedded bool `json:"embedded"`
		} `json:"target"`
		Contract struct {
			Counts struct{ Fail int } `json:"counts"`
		} `json:"contract"`
		Load struct {
			Requests int `json:"requests"`
		} `json:"load"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &sum))
	assert.Equal(t, 1, sum.SchemaVersion)
	assert.Equal(t, "run", sum.Kind)
	assert.Equal(t, "pass", sum.Verdict)
	assert.True(t, sum.Target.Embedded)
	assert.Zero(t, sum.Contract.Counts.Fail)
	assert.InDelta(t, 100, sum.Load.Requests, 4)
	md, err := os.ReadFile(summary)
	require.NoError(t, err)
	assert.Contains(t, string(md), "PASS")
}

func TestContractEmbedded(t *testing.T) {
	dir := t.TempDir()
	rec := filepath.Join(t.TempDir(), "rec")
	r := invoke(t, nil, "contract", "--report-dir", dir, "--format", "json,junit", "--record", rec)
	require.Equal(t, exitOK, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	for _, c := range []string{"confirm-ok", "no-token", "malformed-token", "expired-token", "wrong-scope-token", "double-confirm"} {
		assert.Contains(t, r.stdout, c)
	}
	assert.FileExists(t, filepath.Join(dir, "summary.json"))
	assert.FileExists(t, filepath.Join(dir, "junit.xml"))
	assert.NoFileExists(t, filepath.Join(dir, "report.html"))

	// Offline replay of what was recorded: same verdict, no network.
	r = invoke(t, nil, "contract", "--replay", rec, "--report-dir", t.TempDir())
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "confirm-ok")

	// Strict turns the sandbox's undocumented 422s into failures.
	r = invoke(t, nil, "contract", "--strict", "--report-dir", t.TempDir())
	assert.Equal(t, exitFindings, r.code, r.stdout)
}

func TestContractCatchesDrift(t *testing.T) {
	srv := sandbox.StartTB(t, sandbox.Drift("price-as-string"))
	env := map[string]string{
		"XONE_BASE_URL": srv.URL(), "XONE_CLIENT_ID": sandbox.ClientID, "XONE_CLIENT_SECRET": sandbox.ClientSecret,
		"XONE_PARTNER_ID": sandbox.PartnerID, "XONE_OFFER_ID": "6f1c2a7e-3b4d-4c5e-8f90-a1b2c3d4e5f6",
		"XONE_QUOTE_ID": "0b7c2f4e-8f7a-4c9e-b1a4-5d6e7f809a1b",
	}
	r := invoke(t, env, "contract", "--report-dir", t.TempDir())
	assert.Equal(t, exitFindings, r.code, r.stdout)
	assert.Contains(t, r.stdout, "FAIL")
	assert.Contains(t, r.stdout, "price")
}

func TestLoadEmbedded(t *testing.T) {
	dir := t.TempDir()
	r := invoke(t, nil, "load", "--rate", "50/s", "--duration", "1s", "--report-dir", dir,
		"--threshold", "error_rate<1%", "--format", "json,md")
	require.Equal(t, exitOK, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	assert.Contains(t, r.stdout, "threshold error_rate<1%")
	for _, f := range []string{"summary.json", "report.md", "results.bin", "bookings.csv"} {
		assert.FileExists(t, filepath.Join(dir, f))
	}

	// The directory now holds a ledger: a second run must not overwrite it.
	r = invoke(t, nil, "load", "--rate", "5/s", "--duration", "1s", "--report-dir", dir)
	assert.Equal(t, exitUsage, r.code, r.stdout)
	assert.Contains(t, r.stderr, "bookings.csv")

	// A threshold that cannot pass is a finding.
	r = invoke(t, nil, "load", "--rate", "20/s", "--duration", "1s", "--report-dir", t.TempDir(),
		"--threshold", "p50<0.001ms")
	assert.Equal(t, exitFindings, r.code, r.stdout)
	assert.Contains(t, r.stdout, "FAIL")
}

// TestLoadCPUProfile: --cpuprofile writes a pprof profile of the load stage.
func TestLoadCPUProfile(t *testing.T) {
	prof := filepath.Join(t.TempDir(), "cpu.prof")
	r := invoke(t, nil, "load", "--rate", "50/s", "--duration", "1s", "--report-dir", t.TempDir(), "--cpuprofile", prof)
	require.Equal(t, exitOK, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	b, err := os.ReadFile(prof)
	require.NoError(t, err)
	require.Greater(t, len(b), 2)
	assert.Equal(t, []byte{0x1f, 0x8b}, b[:2], "a pprof profile is gzipped protobuf")
}

func TestLoadDryRun(t *testing.T) {
	offers := filepath.Join(t.TempDir(), "offers.csv")
	require.NoError(t, os.WriteFile(offers, []byte("offer_id,quote_id\n"+
		"6f1c2a7e-3b4d-4c5e-8f90-a1b2c3d4e5f6,0b7c2f4e-8f7a-4c9e-b1a4-5d6e7f809a1b\n"), 0o644))
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++ }))
	t.Cleanup(srv.Close)
	env := map[string]string{"XONE_BASE_URL": srv.URL, "XONE_CLIENT_ID": "id", "XONE_CLIENT_SECRET": "test-secret-4d1e", "XONE_PARTNER_ID": "P"}
	r := invoke(t, env, "load", "--dry-run", "--rate", "10/s", "--duration", "30s", "--offers", offers)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "about 300 requests")
	assert.Contains(t, r.stdout, "1 in the feed, 300 needed")
	assert.Contains(t, r.stdout, "nothing sent")
	assert.Zero(t, hits, "a dry run sends nothing")
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
		return p
	}
	badCSV := write("bad.csv", "offer_id,quote_id\n6f1c2a7e-3b4d-4c5e-8f90-a1b2c3d4e5f6\n")
	dupCSV := write("dup.csv", "a1111111-1111-4111-8111-111111111111,b1111111-1111-4111-8111-111111111111\n"+
		"a1111111-1111-4111-8111-111111111111,b2222222-2222-4222-8222-222222222222\n")
	emptyCSV := write("empty.csv", "")
	badPH := write("ph.json", "{\n  \"first_name\": \"Ada\",\n  oops\n}")
	live := map[string]string{"XONE_BASE_URL": "http://127.0.0.1:1", "XONE_CLIENT_ID": "id", "XONE_CLIENT_SECRET": "test-secret-4d1e", "XONE_PARTNER_ID": "P"}
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want string // in stderr
	}{
		{"unknown command", nil, []string{"frobnicate"}, "unknown command"},
		{"unknown flag", nil, []string{"load", "--frob"}, "frob"},
		{"rate not a number", nil, []string{"load", "--rate", "abc"}, "--rate"},
		{"negative duration", nil, []string{"load", "--duration", "-1s"}, "duration"},
		{"stages garbage", nil, []string{"load", "--stages", "30s:10/s,garbage"}, "--stages"},
		{"bad threshold", nil, []string{"load", "--threshold", "p99<<5ms"}, "--threshold"},
		{"validate sample", nil, []string{"load", "--validate-sample", "1.5"}, "--validate-sample"},
		{"duration over max", nil, []string{"load", "--duration", "2h"}, "duration"},
		{"bad format", nil, []string{"contract", "--format", "pdf"}, "--format"},
		{"unknown invariant", nil, []string{"contract", "--skip-invariant", "nope"}, "--skip-invariant"},
		{"record and replay", nil, []string{"contract", "--record", dir, "--replay", dir}, "--record"},
		{"replay missing dir", nil, []string{"contract", "--replay", filepath.Join(dir, "nope")}, "--replay"},
		{"bad base url env", map[string]string{"XONE_BASE_URL": "ftp://x"}, []string{"contract"}, "XONE_BASE_URL"},
		{"missing client id", map[string]string{"XONE_BASE_URL": "https://partner.example"}, []string{"contract"}, "XONE_CLIENT_ID"},
		{"missing secret", map[string]string{"XONE_BASE_URL": "https://partner.example", "XONE_CLIENT_ID": "x"}, []string{"contract"}, "XONE_CLIENT_SECRET"},
		{"missing partner", map[string]string{"XONE_BASE_URL": "https://partner.example", "XONE_CLIENT_ID": "x", "XONE_CLIENT_SECRET": "test-secret-4d1e"}, []string{"contract"}, "XONE_PARTNER_ID"},
		{"bad token style", map[string]string{"XONE_TOKEN_STYLE": "xml"}, []string{"contract"}, "XONE_TOKEN_STYLE"},
		{"production refused", map[string]string{"XONE_BASE_URL": "https://api.xone.xcover.com", "XONE_CLIENT_ID": "x", "XONE_CLIENT_SECRET": "test-secret-4d1e", "XONE_PARTNER_ID": "P"}, []string{"contract"}, "--allow-production"},
		{"load needs offers off sandbox", live, []string{"load", "--rate", "2/s", "--duration", "1s"}, "--offers"},
		{"off-loopback rate cap", map[string]string{"XONE_BASE_URL": "https://partner.example", "XONE_CLIENT_ID": "x", "XONE_CLIENT_SECRET": "test-secret-4d1e", "XONE_PARTNER_ID": "P"}, []string{"load", "--dry-run", "--rate", "50/s", "--offers", dupCSV}, "--max-rate"},
		{"offers wrong columns", live, []string{"load", "--offers", badCSV}, "bad.csv:2"},
		{"offers duplicate", live, []string{"load", "--offers", dupCSV}, "dup.csv:2"},
		{"offers empty", live, []string{"load", "--offers", emptyCSV}, "empty.csv"},
		{"offers missing file", live, []string{"load", "--offers", filepath.Join(dir, "none.csv")}, "--offers"},
		{"policyholder syntax", nil, []string{"contract", "--policyholder", badPH}, "ph.json:3"},
		{"sandbox bad ratio", nil, []string{"sandbox", "--error-rate", "2"}, "--error-rate"},
		{"sandbox unknown drift", nil, []string{"sandbox", "--addr", "127.0.0.1:0", "--drift", "nope"}, "nope"},
		{"sandbox bad stall", nil, []string{"sandbox", "--stall", "3s-2s"}, "--stall"},
		{"spec unknown sub", nil, []string{"spec", "frob"}, "frob"},
		{"secret file missing", map[string]string{"XONE_BASE_URL": "https://partner.example", "XONE_CLIENT_ID": "x"}, []string{"contract", "--client-secret-file", filepath.Join(dir, "nosecret")}, "--client-secret-file"},
		{"report dir not writable", nil, []string{"contract", "--report-dir", filepath.Join(badCSV, "sub")}, "--report-dir"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := invoke(t, c.env, c.args...)
			assert.Equal(t, exitUsage, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
			assert.Contains(t, r.stderr, c.want)
			assert.NotContains(t, r.stderr, "panic")
			assert.NotContains(t, r.stderr, "goroutine ")
		})
	}
}

func TestInfrastructureErrors(t *testing.T) {
	// A closed port: the token endpoint refuses connections.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	env := map[string]string{"XONE_BASE_URL": "http://" + addr, "XONE_CLIENT_ID": "id",
		"XONE_CLIENT_SECRET": "canary-secret-value", "XONE_PARTNER_ID": "P"}
	dir := t.TempDir()
	r := invoke(t, env, "contract", "--report-dir", dir)
	assert.Equal(t, exitInfra, r.code, r.stderr)
	assert.Contains(t, r.stderr, addr+"/api/oauth/token")
	assert.NotContains(t, r.stderr+r.stdout, "canary-secret-value")
	// The failure is still a report a CI gate can read.
	sum := readSummary(t, filepath.Join(dir, "summary.json"))
	assert.Equal(t, "error", sum["verdict"])
	assert.Contains(t, sum["error"], "/api/oauth/token")
	assert.Equal(t, "http://"+addr, sum["target"].(map[string]any)["url"])
	b, err := os.ReadFile(filepath.Join(dir, "report.md"))
	require.NoError(t, err)
	assert.Contains(t, string(b), "ERROR")
	assert.NotContains(t, string(b), "canary-secret-value")
}

// TestInterruptedWhileTheSpecLoads: an interrupt before the spec has loaded ends the run
// incomplete, with nothing sent and no report directory left behind (it once panicked building an
// error report without a document).
func TestInterruptedWhileTheSpecLoads(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, args := range [][]string{{"contract"}, {"load", "--duration", "1s"}, {"run", "--duration", "1s"}} {
		t.Run(args[0], func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "r")
			r := invokeCtx(t, ctx, nil, append(args, "--report-dir", dir)...)
			assert.Equal(t, exitIncomplete, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
			assert.Contains(t, r.stderr, "xoneharness "+args[0]+": interrupted before anything was sent (")
			assert.Contains(t, r.stderr, "embedded vendor document: spec: load: context canceled)")
			assert.NoDirExists(t, dir, "a run interrupted before its first request leaves no report directory")
		})
	}
}

func TestSandboxServes(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan result, 1)
	go func() {
		var out, errOut bytes.Buffer
		code := run(ctx, []string{"sandbox", "--addr", addr}, func(string) string { return "" }, &out, &errOut)
		done <- result{code, out.String(), errOut.String()}
	}()
	var resp *http.Response
	require.Eventually(t, func() bool {
		resp, err = http.Post("http://"+addr+"/api/partners/P/offers/6f1c2a7e-3b4d-4c5e-8f90-a1b2c3d4e5f6/confirm", "application/json", strings.NewReader("{}"))
		return err == nil
	}, 5*time.Second, 20*time.Millisecond)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	cancel()
	select {
	case r := <-done:
		assert.Equal(t, exitOK, r.code, r.stderr)
		assert.Contains(t, r.stdout, "http://"+addr)
		assert.Contains(t, r.stdout, sandbox.ClientID)
	case <-time.After(5 * time.Second):
		t.Fatal("sandbox did not stop on cancel")
	}
}

// readSummary decodes a summary.json into a generic map.
func readSummary(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

func TestReportMergeAndBaseline(t *testing.T) {
	root := t.TempDir()
	var requests float64
	var dirs []string
	for _, name := range []string{"a", "b"} {
		dir := filepath.Join(root, name)
		r := invoke(t, nil, "load", "--rate", "30/s", "--duration", "1s", "--report-dir", dir,
			"--format", "json", "--threshold", "p90<2s")
		require.Equal(t, exitOK, r.code, r.stdout+r.stderr)
		requests += readSummary(t, filepath.Join(dir, "summary.json"))["load"].(map[string]any)["requests"].(float64)
		dirs = append(dirs, dir)
	}

	merged := filepath.Join(root, "merged")
	r := invoke(t, nil, append([]string{"report", "--out", merged}, dirs...)...)
	require.Equal(t, exitOK, r.code, r.stdout+r.stderr)
	m := readSummary(t, filepath.Join(merged, "summary.json"))
	assert.Equal(t, requests, m["load"].(map[string]any)["requests"], "merged requests = sum of inputs")
	for _, f := range []string{"report.md", "junit.xml", "report.html"} {
		assert.FileExists(t, filepath.Join(merged, f))
	}
	// Thresholds are evaluated again on the merged result.
	th := m["load"].(map[string]any)["thresholds"].([]any)
	require.Len(t, th, 3, "the safety gates, then p90<2s")
	assert.Equal(t, "p90<2s", th[2].(map[string]any)["expr"])

	// A baseline whose throughput was ten times today's plus 100/s: a
	// regression far above the 1 response/s noise floor (latency on
	// loopback is often below the 1 ms floor, so it cannot be the lever).
	base := readSummary(t, filepath.Join(dirs[0], "summary.json"))
	bl := base["load"].(map[string]any)
	cur := bl["throughput"].(float64)
	bl["throughput"] = 10*cur + 100
	b, err := json.Marshal(base)
	require.NoError(t, err)
	basePath := filepath.Join(root, "baseline.json")
	require.NoError(t, os.WriteFile(basePath, b, 0o644))
	r = invoke(t, nil, "report", "--baseline", basePath, "--out", filepath.Join(root, "cmp"), dirs[0])
	assert.Equal(t, exitFindings, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "regression")
	cmp := readSummary(t, filepath.Join(root, "cmp", "summary.json"))
	assert.Equal(t, "fail", cmp["verdict"])
	assert.Greater(t, cur, 0.0)

	// The same summary as its own baseline: no regression.
	r = invoke(t, nil, "report", "--baseline", dirs[0], "--out", filepath.Join(root, "same"), dirs[0])
	assert.Equal(t, exitOK, r.code, r.stdout+r.stderr)

	// Two shards that confirmed the same offer: flagged, and a finding.
	ledger, err := os.ReadFile(filepath.Join(dirs[0], "bookings.csv"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dirs[1], "bookings.csv"), ledger, 0o644))
	r = invoke(t, nil, append([]string{"report", "--out", filepath.Join(root, "dup")}, dirs...)...)
	assert.Equal(t, exitFindings, r.code, r.stdout+r.stderr)
	dup := readSummary(t, filepath.Join(root, "dup", "summary.json"))
	assert.Len(t, dup["duplicate_offers"], strings.Count(string(ledger), ",booked,"), "every offer booked twice")

	// Bad inputs are usage errors naming the input.
	r = invoke(t, nil, "report", filepath.Join(root, "nope"))
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "nope")
	junk := filepath.Join(root, "junk.bin")
	require.NoError(t, os.WriteFile(junk, []byte("not gob"), 0o644))
	r = invoke(t, nil, "report", "--out", filepath.Join(root, "j"), junk, dirs[0])
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "junk.bin")
	r = invoke(t, nil, "report", "--baseline", filepath.Join(root, "missing.json"), dirs[0])
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "--baseline")
}
