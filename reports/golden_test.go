package reports

import (
	"bytes"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pb33f/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xoneharness/xoneharness/contract"
	"github.com/xoneharness/xoneharness/load"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// t0 is the fixed clock of every sample report.
var t0 = time.Date(2026, 11, 3, 2, 0, 0, 0, time.UTC)

const (
	sampleURL  = "http://127.0.0.1:41234"
	confirmURL = sampleURL + "/api/partners/PARTNER-1/offers/6f1c2a3e-0c1d-4b8e-9a5f-2d3c4b5a6e7f/confirm"
	scriptBody = `{"type":"validation_error","message":"<script>alert(1)</script>","errors":{"quotes":["required"]}}`
)

// sampleContract is a contract result with every outcome: a security
// finding, a pass, a fail with several violations (one with "|" and a
// newline), a drift and a skip.
func sampleContract() *contract.Result {
	reqHeader := http.Header{
		"Authorization":   {"Bearer [REDACTED]"},
		"Content-Type":    {"application/json"},
		"Accept":          {"application/json"},
		"Idempotency-Key": {"it's-1"},
		"User-Agent":      {"xoneharness/1.2.3"},
	}
	okBody := `{"quotes":[{"id":"a1b2c3d4-0000-4000-8000-000000000001"}],"policyholder":{"first_name":"Ada","last_name":"Lovelace","email":"[REDACTED]","phone":"[REDACTED]"}}`
	c := &contract.Result{
		Target: sampleURL, Embedded: true, Started: t0, Finished: t0.Add(850 * time.Millisecond),
		Cases: []contract.CaseResult{
			{
				Name: contract.CaseNoToken, Outcome: contract.OutcomeFail, Status: 200, Duration: 12500 * time.Microsecond,
				Security: true, Reason: "a request without a token was accepted",
				Violations: []contract.Violation{{Rule: contract.RuleSecurity, Expected: "401", Observed: "200",
					Message: "2xx answer to a request without authentication"}},
				Exchange: &contract.Exchange{Method: "POST", URL: confirmURL,
					RequestHeader: http.Header{"Content-Type": {"application/json"}}, RequestBody: okBody,
					Status: 200, ResponseHeader: http.Header{"Content-Type": {"application/json"}, "Cf-Ray": {"8a1b2c3d4e5f6789-SYD"}},
					ResponseBody: `{"data":{"id":"EYYLD-F8LDV-INS","status":"CONFIRMED","security_token":"[REDACTED]"}}`,
					Duration:     12500 * time.Microsecond},
			},
			{
				Name: contract.CaseConfirmOK, Outcome: contract.OutcomePass, Status: 200, Duration: 48 * time.Millisecond,
				Exchange: &contract.Exchange{Method: "POST", URL: confirmURL, RequestHeader: reqHeader, RequestBody: okBody,
					Status: 200, ResponseHeader: http.Header{"Content-Type": {"application/json"}, "X-Xss-Protection": {"1; mode=block"}},
					ResponseBody: `{"data":{"id":"EYYLD-F8LDV-INS","status":"CONFIRMED","total_price":12.5,"security_token":"[REDACTED]"}}`,
					Duration:     48 * time.Millisecond},
			},
			{
				Name: contract.CaseMissingQuotes, Outcome: contract.OutcomeFail, Status: 500, Duration: 31 * time.Millisecond,
				Violations: []contract.Violation{
					{Rule: "schema", Path: "$.errors", Message: "got object | want array\nsecond line of the message"},
					{Rule: contract.RuleServerError, Expected: "422", Observed: "500", Message: "server error on an invalid request"},
				},
				Exchange: &contract.Exchange{Method: "POST", URL: confirmURL, RequestHeader: reqHeader,
					RequestBody: `{"policyholder":{"first_name":"Ada"}}`, Status: 500,
					ResponseHeader: http.Header{"Content-Type": {"application/json"}},
					ResponseBody:   scriptBody, Duration: 31 * time.Millisecond},
			},
			{
				Name: contract.CaseWrongContentType, Outcome: contract.OutcomeDrift, Status: 400, Duration: 9 * time.Millisecond,
				Violations: []contract.Violation{{Rule: contract.RuleStatusUnexpected, Expected: "415 or 422", Observed: "400",
					Message: "undocumented 400"}},
				Exchange: &contract.Exchange{Method: "POST", URL: confirmURL,
					RequestHeader: http.Header{"Authorization": {"Bearer [REDACTED]"}, "Content-Type": {"text/plain"}},
					RequestBody:   "quotes=1", Status: 400, ResponseHeader: http.Header{"Content-Type": {"text/plain"}},
					ResponseBody: "Bad Request", Duration: 9 * time.Millisecond},
			},
			{
				Name: contract.CaseDoubleConfirm, Outcome: contract.OutcomeSkip,
				Reason: "needs a second offer | set XONE_OFFER_ID\nand XONE_QUOTE_ID",
			},
		},
		Counts: contract.Counts{Pass: 1, Fail: 2, Drift: 1, Skip: 1},
	}
	return c
}

// sampleLoad is a load result with a 20-second timeline (a gap at seconds 8
// and 9, some 429 and 5xx), a distribution and three thresholds.
func sampleLoad() *load.Result {
	var tl []load.Bucket
	for s := range 20 {
		if s == 8 || s == 9 {
			tl = append(tl, load.Bucket{Second: s, Classes: map[string]uint64{}})
			continue
		}
		classes := map[string]uint64{"2xx": uint64(28 + s%3)}
		if s%5 == 0 {
			classes["429"] = 2
		}
		if s == 13 {
			classes["5xx"] = 3
			classes["transport_error"] = 1
		}
		var n uint64
		for _, v := range classes {
			n += v
		}
		f := float64(s)
		tl = append(tl, load.Bucket{Second: s, Requests: n, Classes: classes,
			P50Ms: 40 + f, P90Ms: 80 + 2*f, P99Ms: 150 + 9*f, MaxMs: 220 + 10*f})
	}
	return &load.Result{
		Plan:   load.Plan{Rate: "30/s", Duration: 20 * time.Second, MaxWorkers: 256, Workers: 10, Timeout: 30 * time.Second, ValidateSample: 1, Thresholds: []string{"p99<500ms", "error_rate<1%", "schema_violations==0"}},
		Target: sampleURL, Requests: 540, RateRequested: 30, RateAchieved: 29.98, Throughput: 28.7,
		SuccessRatio: 0.975, ErrorRate: 0.025,
		Latency:     load.Latency{Min: 8.1, Mean: 52.3, P50: 45.2, P90: 98.7, P95: 130.4, P99: 310.9, P999: 402.5, Max: 411},
		ServiceTime: load.Latency{Min: 8, Mean: 49.9, P50: 44.8, P90: 95.1, P95: 120, P99: 280.2, P999: 390.1, Max: 400.3},
		ByClass: map[string]load.ClassStats{
			"2xx":             {Count: 514, Latency: load.Latency{Min: 8.1, Mean: 50, P50: 44, P90: 95, P95: 120, P99: 290, P999: 400, Max: 411}},
			"429":             {Count: 20, Latency: load.Latency{Min: 2, Mean: 3, P50: 3, P90: 4, P95: 4, P99: 5, P999: 5, Max: 5}},
			"5xx":             {Count: 5, Latency: load.Latency{Min: 100, Mean: 150, P50: 150, P90: 190, P95: 195, P99: 199, P999: 200, Max: 200}},
			"transport_error": {Count: 1, Latency: load.Latency{Min: 30000, Mean: 30000, P50: 30000, P90: 30000, P95: 30000, P99: 30000, P999: 30000, Max: 30000}},
		},
		StatusCodes: map[string]uint64{"200": 514, "429": 20, "500": 3, "503": 2, "0": 1},
		Errors: []load.ErrorCount{
			{Message: "429 Too Many Requests", Count: 20},
			{Message: "POST /api/partners/{partner_id}/offers/{offer_id}/confirm: EOF", Count: 1},
		},
		BytesIn: 412345, BytesOut: 98765,
		Schema: load.SchemaStats{Validated: 540, Violations: 1, Details: []load.SchemaViolation{
			{Seq: 77, Status: 500, Rule: "status-undocumented", Reason: "status 500 | not documented\n<b>bold</b>"},
		}},
		LateSends: load.LateSends{Count: 3, MaxMs: 4.2},
		Thresholds: []load.ThresholdResult{
			{Expr: "p99<500ms", Observed: 310.9, Unit: "ms", Passed: true},
			{Expr: "error_rate<1%", Observed: 2.5, Unit: "%", Passed: false},
			{Expr: "schema_violations==0", Observed: 1, Passed: false, Note: "first at seq 77"},
		},
		Offers:           load.OfferStats{Used: 540, Confirmed: 514, Failed: 26, Left: -1},
		Tokens:           load.TokenStats{Fetches: 1, MeanMs: 3.2, MaxMs: 3.2},
		RetryAfterPauses: load.PauseStats{Count: 4, TotalMs: 4000, MaxMs: 1000},
		StopReason:       "completed",
		StartedAt:        t0.Add(time.Second), FinishedAt: t0.Add(21 * time.Second), DurationSeconds: 20.004,
		Timeline: tl,
		Distribution: []load.Quantile{
			{Percentile: 0, LatencyMs: 8.1}, {Percentile: 25, LatencyMs: 30.2}, {Percentile: 50, LatencyMs: 45.2},
			{Percentile: 75, LatencyMs: 70.3}, {Percentile: 90, LatencyMs: 98.7}, {Percentile: 95, LatencyMs: 130.4},
			{Percentile: 99, LatencyMs: 310.9}, {Percentile: 99.5, LatencyMs: 350}, {Percentile: 99.9, LatencyMs: 402.5},
			{Percentile: 100, LatencyMs: 411},
		},
	}
}

// sampleBaseline is the previous night's run: p99 half of today's, every
// contract case passing.
func sampleBaseline() *Report {
	b := New(KindRun, "1.2.2", Target{URL: sampleURL, Embedded: true})
	b.StartedAt, b.FinishedAt, b.Verdict = t0.Add(-24*time.Hour), t0.Add(-24*time.Hour+22*time.Second), VerdictPass
	c := sampleContract()
	for i := range c.Cases {
		if c.Cases[i].Outcome == contract.OutcomeFail {
			c.Cases[i].Outcome = contract.OutcomePass
		}
	}
	b.Contract = c
	l := sampleLoad()
	l.Latency.P50, l.Latency.P95, l.Latency.P99 = 44, 125, 155.4
	l.ErrorRate, l.Throughput = 0.02, 29.1
	b.Load = l
	return b
}

// sampleRun is a full "run" report: contract, load, a baseline comparison
// with regressions.
func sampleRun() *Report {
	r := New(KindRun, "1.2.3", Target{URL: sampleURL, Embedded: true})
	r.StartedAt, r.FinishedAt = t0, t0.Add(22*time.Second+345*time.Millisecond)
	r.Notes = []string{"contract: 1 case drifted (wrong-content-type) | see below", "load stage ran with --continue-on-fail"}
	r.Contract = sampleContract()
	r.Load = sampleLoad()
	r.DuplicateOffers = []string{"0d9c3b1e-5a4f-4c7b-9e2d-1f0a3b4c5d6e"}
	r.Baseline = Compare(sampleBaseline(), r, DefaultTolerance)
	r.Baseline.Baseline = "baseline/summary.json"
	r.Verdict = VerdictFail
	return r
}

// sampleError is a report of a run that could not finish: no sections.
func sampleError() *Report {
	r := New(KindContract, "1.2.3", Target{URL: "https://sandbox.example.invalid"})
	r.StartedAt, r.FinishedAt = t0, t0.Add(1500*time.Millisecond)
	r.Verdict = VerdictError
	r.Error = "auth: fetch token: 401 Unauthorized <html>denied</html>"
	return r
}

// sampleSparse is a passing load report with the least data: an empty
// timeline, a one-point distribution, no thresholds.
func sampleSparse() *Report {
	r := New(KindLoad, "1.2.3", Target{URL: sampleURL, Embedded: true})
	r.StartedAt, r.FinishedAt = t0, t0.Add(time.Second)
	r.Load = &load.Result{Target: sampleURL, Requests: 1, StopReason: "max requests reached", SuccessRatio: 1,
		Latency: load.Latency{Min: 1, Mean: 1, P50: 1, P90: 1, P95: 1, P99: 1, P999: 1, Max: 1},
		ByClass: map[string]load.ClassStats{"2xx": {Count: 1}}, StatusCodes: map[string]uint64{"200": 1},
		Timeline:     []load.Bucket{{Second: 0, Requests: 1, Classes: map[string]uint64{"2xx": 1}, P50Ms: 1, P90Ms: 1, P99Ms: 1, MaxMs: 1}},
		Distribution: []load.Quantile{{Percentile: 100, LatencyMs: 1}},
		StartedAt:    t0, FinishedAt: t0.Add(time.Second), DurationSeconds: 0.001}
	r.Verdict = VerdictPass
	return r
}

func samples() map[string]func() *Report {
	return map[string]func() *Report{"run": sampleRun, "error": sampleError, "sparse": sampleSparse}
}

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "golden file missing: run go test ./reports -run %s -update", t.Name())
	if !bytes.Equal(want, got) {
		// assert.Equal on strings prints a readable diff.
		assert.Equal(t, string(want), string(got), "%s differs from the golden file; rerun with -update if the change is intended", path)
	}
}

func TestGolden(t *testing.T) {
	writers := []struct {
		format string
		ext    string
		write  Writer
	}{
		{FormatJSON, "json", JSON},
		{FormatMarkdown, "md", Markdown},
		{FormatJUnit, "xml", JUnit},
		{FormatHTML, "html", HTML},
	}
	for name, build := range samples() {
		for _, w := range writers {
			t.Run(name+"/"+w.format, func(t *testing.T) {
				var buf bytes.Buffer
				require.NoError(t, w.write(&buf, build()))
				golden(t, name+"."+w.ext, buf.Bytes())
			})
		}
	}
}

// TestMarkdownEscapesCells checks that "|" and newlines inside cells do not
// break the tables: every table row has as many unescaped pipes as its
// header.
func TestMarkdownEscapesCells(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, Markdown(&buf, sampleRun()))
	md := buf.String()
	assert.Contains(t, md, `got object \| want array second line of the message`)
	assert.Contains(t, md, `needs a second offer \| set XONE_OFFER_ID and XONE_QUOTE_ID`)
	assert.NotContains(t, md, "second line of the message\n|", "a newline inside a cell ended the row")
	pipes := regexp.MustCompile(`(^|[^\\])\|`)
	var header int
	for i, line := range strings.Split(md, "\n") {
		if !strings.HasPrefix(line, "|") {
			header = 0
			continue
		}
		n := len(pipes.FindAllStringIndex(line, -1))
		if header == 0 {
			header = n
			continue
		}
		assert.Equal(t, header, n, "line %d has %d cell separators, want %d: %s", i+1, n, header, line)
	}
}

// compileSummarySchema compiles summary.schema.json; with strict, every
// object schema that lists properties also forbids others, so that a field
// summary.json gains without being documented fails the test.
func compileSummarySchema(t *testing.T, strict bool) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open("summary.schema.json")
	require.NoError(t, err)
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	require.NoError(t, err, "summary.schema.json is not JSON")
	if strict {
		forbidExtra(doc)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	require.NoError(t, c.AddResource("mem://summary.schema.json", doc))
	sch, err := c.Compile("mem://summary.schema.json")
	require.NoError(t, err, "summary.schema.json does not compile")
	return sch
}

func forbidExtra(v any) {
	switch x := v.(type) {
	case map[string]any:
		if _, ok := x["properties"]; ok {
			if _, set := x["additionalProperties"]; !set {
				x["additionalProperties"] = false
			}
		}
		for _, e := range x {
			forbidExtra(e)
		}
	case []any:
		for _, e := range x {
			forbidExtra(e)
		}
	}
}

func summaryInstance(t *testing.T, r *Report) any {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, JSON(&buf, r))
	inst, err := jsonschema.UnmarshalJSON(&buf)
	require.NoError(t, err)
	return inst
}

func TestSummarySchema(t *testing.T) {
	loose, strict := compileSummarySchema(t, false), compileSummarySchema(t, true)
	reports := samples()
	reports["contract only"] = func() *Report {
		r := New(KindContract, "1", Target{URL: sampleURL})
		r.Contract, r.Verdict = sampleContract(), VerdictFail
		return r
	}
	reports["zero load result"] = func() *Report {
		r := New(KindLoad, "1", Target{URL: sampleURL})
		r.Load, r.Verdict = &load.Result{}, VerdictPass
		return r
	}
	for name, build := range reports {
		t.Run("valid "+name, func(t *testing.T) {
			inst := summaryInstance(t, build())
			assert.NoError(t, loose.Validate(inst))
			assert.NoError(t, strict.Validate(inst), "every field of summary.json must be described in summary.schema.json")
		})
	}

	invalid := []struct {
		name   string
		mutate func(r *Report)
	}{
		{"unknown verdict", func(r *Report) { r.Verdict = "maybe" }},
		{"unknown kind", func(r *Report) { r.Kind = "soak" }},
		{"wrong schema version", func(r *Report) { r.SchemaVersion = 2 }},
		{"error verdict without error", func(r *Report) { r.Verdict, r.Error = VerdictError, "" }},
		{"load report without load", func(r *Report) { r.Kind, r.Load = KindLoad, nil }},
		{"negative offers left", func(r *Report) { r.Load.Offers.Left = -2 }},
		{"error rate above 1", func(r *Report) { r.Load.ErrorRate = 2.5 }},
		{"unknown outcome", func(r *Report) { r.Contract.Cases[0].Outcome = "flaky" }},
		{"bad baseline metric", func(r *Report) { r.Baseline.Metrics[0].Name = "latency_p42_ms" }},
	}
	for _, tt := range invalid {
		t.Run("invalid "+tt.name, func(t *testing.T) {
			r := sampleRun()
			tt.mutate(r)
			assert.Error(t, loose.Validate(summaryInstance(t, r)))
		})
	}
	t.Run("invalid undocumented field in strict mode", func(t *testing.T) {
		inst := summaryInstance(t, sampleRun())
		inst.(map[string]any)["surprise"] = true
		assert.NoError(t, loose.Validate(inst), "new fields are allowed to consumers")
		assert.Error(t, strict.Validate(inst))
	})
}
