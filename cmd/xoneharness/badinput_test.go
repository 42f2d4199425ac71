package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xoneharness/xoneharness/internal/xone"
)

// TestBadInput extends TestUsageErrors: every malformed input is a usage
// error (exit 2) whose message names the input, and for files the line;
// never a panic or a stack trace. Nothing here reaches a network.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
		return p
	}
	row := func() string { return xone.NewUUID() + "," + xone.NewUUID() + "\n" }
	dupID := xone.NewUUID()

	threeCols := write("three.csv", row()+"a1,b1,c1\n")
	blankOnly := write("blank.csv", "\n\n   \n\t\n")
	headerOnly := write("header.csv", "offer_id,quote_id\n")
	long := write("long.csv", strings.Repeat("a", 10<<20)+",b\n")
	badChar := write("badchar.csv", row()+row()+"../etc/passwd,q1\n")
	longID := write("longid.csv", strings.Repeat("x", 129)+",q1\n")
	dupCRLF := write("dupcrlf.csv", "\uFEFFoffer_id,quote_id\r\n"+dupID+",q1\r\n"+dupID+",q2\r\n")
	quoteBad := write("quotebad.csv", "o1,quote id with spaces\n")

	phArray := write("ph-array.json", "[1, 2]\n")
	phNull := write("ph-null.json", "null\n")
	phEmpty := write("ph-empty.json", "")
	phTrailing := write("ph-trailing.json", "{\n  \"first_name\": \"Ada\",\n  \"last_name\": \"Lovelace\",\n  \"email\": \"ada@example.com\",\n}\n")
	phWrongType := write("ph-type.json", "{\n  \"first_name\": \"Ada\"\n}\n{\"again\": 1}\n")

	notJSON := write("notjson.json", "hello, I am not JSON\n")
	notOpenAPI := write("notopenapi.json", `{"swagger_like": true, "paths": {}}`)

	wrongSchema := write("wrong-schema/summary.json", `{"schema_version": 99, "kind": "load"}`)
	junkSummary := write("junk-summary/summary.json", "{\n  \"schema_version\": 1,\n  \"kind\": oops\n}\n")
	emptyDir := filepath.Join(dir, "empty-dir")
	require.NoError(t, os.Mkdir(emptyDir, 0o755))
	junkBin := write("junk/results.bin", "this is not a gob stream")
	emptySecret := write("secret.txt", "  \n")

	live := map[string]string{"XONE_BASE_URL": "http://127.0.0.1:1", "XONE_CLIENT_ID": "id", "XONE_CLIENT_SECRET": "test-secret-4d1e", "XONE_PARTNER_ID": "P"}
	withEnv := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range live {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	rd := func() string { return filepath.Join(t.TempDir(), "r") }
	loadArgs := func(extra ...string) []string {
		return append([]string{"load", "--rate", "2/s", "--duration", "1s", "--report-dir", rd()}, extra...)
	}

	cases := []struct {
		name string
		env  map[string]string
		args []string
		want []string // all in stderr
	}{
		// Environment values.
		{"XONE_BASE_URL not a URL", map[string]string{"XONE_BASE_URL": "://nope"}, []string{"contract", "--report-dir", rd()}, []string{"XONE_BASE_URL", "://nope"}},
		{"XONE_BASE_URL without host", map[string]string{"XONE_BASE_URL": "http://"}, []string{"contract", "--report-dir", rd()}, []string{"XONE_BASE_URL", "no host"}},
		{"XONE_TOKEN_URL not http", withEnv("XONE_TOKEN_URL", "ftp://tokens.example"), []string{"contract", "--report-dir", rd()}, []string{"XONE_TOKEN_URL"}},
		{"--token-style unknown", nil, []string{"contract", "--token-style", "xml", "--report-dir", rd()}, []string{"--token-style"}},
		{"XONE_PARTNER_ID with a slash", withEnv("XONE_PARTNER_ID", "P/../x"), loadArgs("--offers", write("ok.csv", row())), []string{"XONE_PARTNER_ID", "invalid character"}},
		{"XONE_OFFER_ID without quote", withEnv("XONE_OFFER_ID", xone.NewUUID()), []string{"contract", "--report-dir", rd()}, []string{"XONE_QUOTE_ID"}},
		{"--http-timeout zero", nil, []string{"contract", "--http-timeout", "0s", "--report-dir", rd()}, []string{"--http-timeout"}},
		{"--client-secret-file blank", withEnv("XONE_CLIENT_SECRET", ""), []string{"contract", "--client-secret-file", emptySecret, "--report-dir", rd()}, []string{"secret.txt", "empty"}},
		{"--ca-file missing", nil, []string{"contract", "--ca-file", filepath.Join(dir, "no-ca.pem"), "--report-dir", rd()}, []string{"--ca-file", "no-ca.pem"}},

		// Offers CSV: file and line.
		{"offers three columns", live, loadArgs("--offers", threeCols), []string{"three.csv:2", "columns"}},
		{"offers blank lines only", live, loadArgs("--offers", blankOnly), []string{"blank.csv", "no offers"}},
		{"offers header only", live, loadArgs("--offers", headerOnly), []string{"header.csv", "no offers"}},
		{"offers 10 MB line", live, loadArgs("--offers", long), []string{"long.csv:1", "longer than"}},
		{"offers path characters", live, loadArgs("--offers", badChar), []string{"badchar.csv:3", "offer_id"}},
		{"offers id too long", live, loadArgs("--offers", longID), []string{"longid.csv:1", "longer than 128"}},
		{"offers duplicate with BOM and CRLF", live, loadArgs("--offers", dupCRLF), []string{"dupcrlf.csv:3", "duplicate", "line 2"}},
		{"offers bad quote id", live, loadArgs("--offers", quoteBad), []string{"quotebad.csv:1", "quote_id"}},
		{"contract --offers empty", nil, []string{"contract", "--sandbox", "--offers", blankOnly, "--report-dir", rd()}, []string{"blank.csv"}},

		// Thresholds.
		{"threshold unknown metric", nil, []string{"load", "--dry-run", "--threshold", "latency<5ms"}, []string{"--threshold", "latency"}},
		{"threshold wrong unit", nil, []string{"load", "--dry-run", "--threshold", "error_rate<5ms"}, []string{"--threshold"}},
		{"threshold no value", nil, []string{"load", "--dry-run", "--threshold", "p99<"}, []string{"--threshold"}},
		{"report --threshold", nil, []string{"report", "--threshold", "max>>1", emptyDir}, []string{"--threshold"}},

		// Policyholder JSON: file and line.
		{"policyholder array", nil, []string{"contract", "--policyholder", phArray, "--report-dir", rd()}, []string{"ph-array.json:1", "JSON object"}},
		{"policyholder null", nil, []string{"load", "--policyholder", phNull, "--rate", "2/s", "--duration", "1s", "--report-dir", rd()}, []string{"ph-null.json:1", "JSON object"}},
		{"policyholder empty", nil, []string{"contract", "--policyholder", phEmpty, "--report-dir", rd()}, []string{"ph-empty.json"}},
		{"policyholder trailing comma", nil, []string{"load", "--policyholder", phTrailing, "--rate", "2/s", "--duration", "1s", "--report-dir", rd()}, []string{"ph-trailing.json:5"}},
		{"policyholder two objects", nil, []string{"contract", "--policyholder", phWrongType, "--report-dir", rd()}, []string{"ph-type.json:4"}},
		{"policyholder missing", nil, []string{"run", "--policyholder", filepath.Join(dir, "no-ph.json"), "--report-dir", rd()}, []string{"--policyholder", "no-ph.json"}},

		// Spec files.
		{"spec diff not JSON", nil, []string{"spec", "diff", notJSON}, []string{"notjson.json"}},
		{"spec diff not OpenAPI", nil, []string{"spec", "diff", notOpenAPI}, []string{"notopenapi.json", "OpenAPI"}},
		{"spec diff old unreadable", nil, []string{"spec", "diff", notOpenAPI, notJSON}, []string{"notopenapi.json"}},
		{"spec diff three files", nil, []string{"spec", "diff", notJSON, notJSON, notJSON}, []string{"3 arguments"}},
		{"spec lint missing", nil, []string{"spec", "lint", filepath.Join(dir, "no-spec.json")}, []string{"no-spec.json"}},
		{"spec lint not OpenAPI", nil, []string{"spec", "lint", notOpenAPI}, []string{"notopenapi.json"}},

		// Report inputs.
		{"report wrong schema_version", nil, []string{"report", "--out", rd(), filepath.Dir(wrongSchema)}, []string{"summary.json", "schema_version 99"}},
		{"report summary not JSON", nil, []string{"report", "--out", rd(), filepath.Dir(junkSummary)}, []string{"junk-summary/summary.json:3"}},
		{"report empty directory", nil, []string{"report", "--out", rd(), emptyDir}, []string{"empty-dir", "neither"}},
		{"report junk results.bin", nil, []string{"report", "--out", rd(), junkBin}, []string{"results.bin"}},
		{"report no input", nil, []string{"report"}, []string{"INPUT"}},
		{"report baseline wrong schema", nil, []string{"report", "--baseline", wrongSchema, emptyDir}, []string{"--baseline", "schema_version"}},
		{"report baseline not JSON", nil, []string{"report", "--baseline", filepath.Dir(junkSummary), emptyDir}, []string{"--baseline", "summary.json:3"}},
		{"regression tolerance", nil, []string{"load", "--dry-run", "--regression-tolerance", "lots"}, []string{"--regression-tolerance"}},

		// Flags.
		{"max workers over limit", nil, []string{"load", "--dry-run", "--max-workers", "20000"}, []string{"--max-workers"}},
		{"shard out of range", nil, []string{"load", "--dry-run", "--shard", "3/3"}, []string{"--shard"}},
		{"shard rate without shard", nil, []string{"load", "--dry-run", "--shard-rate", "5/s"}, []string{"--shard-rate"}},
		{"rate zero", nil, []string{"load", "--dry-run", "--rate", "0/s"}, []string{"--rate"}},
		{"duration zero", nil, []string{"load", "--dry-run", "--duration", "0s"}, []string{"--duration"}},
		{"duration over --max-duration", nil, []string{"load", "--dry-run", "--duration", "2s", "--max-duration", "1s"}, []string{"--max-duration"}},
		{"stages over --max-duration", nil, []string{"load", "--stages", "2s:10/s,2s:10/s", "--max-duration", "3s", "--dry-run"}, []string{"--max-duration"}},
		{"unexpected argument", nil, []string{"load", "extra"}, []string{"extra"}},
		{"metrics address", nil, []string{"load", "--metrics-addr", "no-port", "--rate", "2/s", "--duration", "1s", "--report-dir", rd()}, []string{"--metrics-addr"}},
		{"cpu profile not writable", nil, []string{"load", "--cpuprofile", "/nonexistent/cpu.prof", "--rate", "2/s", "--duration", "1s", "--report-dir", rd()}, []string{"--cpuprofile"}},
		{"sandbox median without p99", nil, []string{"sandbox", "--latency-median", "10ms"}, []string{"--latency-p99"}},
		{"sandbox token ttl", nil, []string{"sandbox", "--token-ttl", "0s"}, []string{"--token-ttl"}},
		{"sandbox address", nil, []string{"sandbox", "--addr", "no-port"}, []string{"--addr"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := invoke(t, c.env, c.args...)
			assert.Equal(t, exitUsage, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
			for _, w := range c.want {
				assert.Contains(t, r.stderr, w)
			}
			out := r.stdout + r.stderr
			assert.NotContains(t, out, "panic")
			assert.NotContains(t, out, "goroutine ")
			assert.Less(t, len(r.stderr), 64<<10, "an error message, not a dump")
		})
	}
}

// TestBadInputAccepted: what ReadOffers documents as tolerated really is.
func TestBadInputAccepted(t *testing.T) {
	s := newStandIn(t, standInOpts{})
	p := filepath.Join(t.TempDir(), "bom-crlf.csv")
	body := "\uFEFFoffer_id,quote_id\r\n" + xone.NewUUID() + " , " + xone.NewUUID() + "\r\n\r\n" +
		`"` + xone.NewUUID() + `","` + xone.NewUUID() + `"` + "\r\n"
	require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	r := invoke(t, s.env(), "load", "--dry-run", "--rate", "2/s", "--duration", "1s", "--offers", p)
	assert.Equal(t, exitOK, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	assert.Contains(t, r.stdout, "2 in the feed")
	assert.Zero(t, s.hits.Load())
}

// TestGuardrails: the production host, the rate cap off loopback, the
// request and duration bounds, and dry runs.
func TestGuardrails(t *testing.T) {
	offers := writeOffers(t, 60)
	prod := func(base string) map[string]string {
		return map[string]string{"XONE_BASE_URL": base, "XONE_CLIENT_ID": "x", "XONE_CLIENT_SECRET": "test-secret-4d1e", "XONE_PARTNER_ID": "P"}
	}
	partner := prod("https://partner.example")

	t.Run("production refused", func(t *testing.T) {
		for _, base := range []string{"https://api.xone.xcover.com", "https://API.XONE.XCOVER.COM./", "https://api.xone.xcover.com:443/v1"} {
			for _, args := range [][]string{
				{"contract"},
				{"load", "--rate", "2/s", "--duration", "1s", "--offers", offers},
				{"load", "--dry-run", "--rate", "2/s", "--duration", "1s", "--offers", offers},
				{"run", "--rate", "2/s", "--duration", "1s", "--offers", offers},
			} {
				r := invoke(t, prod(base), append(args, "--report-dir", t.TempDir())...)
				assert.Equal(t, exitUsage, r.code, "%s %v: stdout:\n%s\nstderr:\n%s", base, args, r.stdout, r.stderr)
				assert.Contains(t, r.stderr, "--allow-production", "%s %v", base, args)
			}
		}
		// --allow-production lifts the refusal (a dry run sends nothing).
		r := invoke(t, prod("https://api.xone.xcover.com"), "load", "--dry-run", "--allow-production",
			"--rate", "2/s", "--duration", "1s", "--offers", offers)
		assert.Equal(t, exitOK, r.code, r.stderr)
		assert.Contains(t, r.stdout, "target: https://api.xone.xcover.com")
	})

	t.Run("max rate off loopback", func(t *testing.T) {
		r := invoke(t, partner, "load", "--dry-run", "--rate", "21/s", "--duration", "1s", "--offers", offers)
		assert.Equal(t, exitUsage, r.code)
		assert.Contains(t, r.stderr, "--max-rate 20/s")
		r = invoke(t, partner, "load", "--dry-run", "--rate", "50/s", "--duration", "1s", "--offers", offers, "--max-rate", "100")
		assert.Equal(t, exitOK, r.code, r.stderr)
		// A ramp is judged by its peak.
		r = invoke(t, partner, "load", "--dry-run", "--stages", "1s:5/s,1s:30/s,1s:5/s", "--offers", offers)
		assert.Equal(t, exitUsage, r.code)
		assert.Contains(t, r.stderr, "--max-rate")
		// run checks the cap before its contract stage confirms an offer:
		// refused as a usage error, not attempted (which would be exit 3 here).
		r = invoke(t, partner, "run", "--rate", "50/s", "--duration", "1s", "--offers", offers, "--report-dir", t.TempDir())
		assert.Equal(t, exitUsage, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
		assert.Contains(t, r.stderr, "--max-rate")
		assert.NotContains(t, r.stdout, "contract suite against")
		// Loopback is not capped.
		s := newStandIn(t, standInOpts{})
		r = invoke(t, s.env(), "load", "--dry-run", "--rate", "500/s", "--duration", "1s", "--offers", offers)
		assert.Equal(t, exitOK, r.code, r.stderr)
	})

	t.Run("max requests", func(t *testing.T) {
		s := newStandIn(t, standInOpts{})
		dir := t.TempDir()
		r := invoke(t, s.env(), "load", "--rate", "100/s", "--duration", "2s", "--max-requests", "25",
			"--offers", offers, "--report-dir", dir, "--format", "json")
		require.Equal(t, exitOK, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
		assert.Equal(t, int64(25), s.confs.Load(), "exactly 25 confirms sent")
		sum := readLoadSummary(t, dir)
		assert.Equal(t, uint64(25), sum.Load.Requests)
		assert.Equal(t, "max requests reached", sum.Load.StopReason)
	})

	t.Run("max duration", func(t *testing.T) {
		r := invoke(t, nil, "run", "--duration", "2h", "--report-dir", t.TempDir())
		assert.Equal(t, exitUsage, r.code)
		assert.Contains(t, r.stderr, "plan: --max-duration: the plan lasts 2h0m0s, above the maximum duration 1h0m0s")
		r = invoke(t, nil, "load", "--dry-run", "--duration", "90m", "--max-duration", "2h")
		assert.Equal(t, exitOK, r.code, r.stderr)
	})

	t.Run("dry run", func(t *testing.T) {
		// Against the embedded sandbox: nothing is started.
		r := invoke(t, nil, "load", "--dry-run", "--rate", "10/s", "--duration", "5s")
		require.Equal(t, exitOK, r.code, r.stderr)
		assert.Contains(t, r.stdout, "about 50 requests")
		assert.Contains(t, r.stdout, "embedded sandbox")
		assert.Contains(t, r.stdout, "nothing sent")
		// A ramp against a stand-in: the plan, and not one request.
		s := newStandIn(t, standInOpts{})
		r = invoke(t, s.env(), "load", "--dry-run", "--stages", "1s:10/s,2s:10/s,1s:0/s", "--offers", offers,
			"--max-requests", "100", "--threshold", "p99<1s")
		require.Equal(t, exitOK, r.code, r.stderr)
		assert.Contains(t, r.stdout, "about 30 requests")
		assert.Contains(t, r.stdout, "60 in the feed, 30 needed")
		assert.Contains(t, r.stdout, "thresholds: error_rate<1%, schema_violations==0, p99<1s")
		assert.Contains(t, r.stdout, "target: "+s.srv.URL)
		assert.Zero(t, s.hits.Load(), "a dry run sends nothing")
	})
}
