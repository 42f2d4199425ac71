package reports

import (
	"bytes"
	"encoding/xml"
	"flag"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pb33f/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xoneharness/xoneharness/contract"
	"github.com/xoneharness/xoneharness/ledger"
	"github.com/xoneharness/xoneharness/load"
	"github.com/xoneharness/xoneharness/spec"
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
// newline), a drift and a skip; and the coverage of its answers.
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
					Reason: "2xx answer to a request without authentication"}},
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
					{Rule: "schema", Path: "$.errors", Reason: "got object | want array\nsecond line of the message"},
					{Rule: contract.RuleServerError, Expected: "422", Observed: "500", Reason: "server error on an invalid request"},
				},
				Exchange: &contract.Exchange{Method: "POST", URL: confirmURL, RequestHeader: reqHeader,
					RequestBody: `{"policyholder":{"first_name":"Ada"}}`, Status: 500,
					ResponseHeader: http.Header{"Content-Type": {"application/json"}},
					ResponseBody:   scriptBody, Duration: 31 * time.Millisecond},
			},
			{
				Name: contract.CaseWrongContentType, Outcome: contract.OutcomeDrift, Status: 400, Duration: 9 * time.Millisecond,
				Violations: []contract.Violation{{Rule: contract.RuleStatusUnexpected, Expected: "415 or 422", Observed: "400",
					Reason: "undocumented 400"}},
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
		Counts:   contract.Counts{Pass: 1, Fail: 2, Drift: 1, Skip: 1},
		Coverage: sampleCoverage(4, 1),
	}
	return c
}

// sampleLoad is a load result with a 20-second timeline (a gap at seconds 8
// and 9, some 429 and 5xx), a distribution, three thresholds, the coverage
// of its 2xx answers and support evidence.
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
		Coverage: sampleCoverage(514, 0),
		Evidence: sampleEvidence(),
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
	r.Baseline = Compare(sampleBaseline(), r, 0.1)
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

// sampleIncomplete is a load interrupted after a few requests whose
// schema gate had no data: Decide calls it incomplete, never pass.
func sampleIncomplete() *Report {
	r := sampleSparse()
	r.Verdict = ""
	r.Load.StopReason, r.Load.Interrupted = "interrupted", true
	r.Load.Plan.Thresholds, r.Load.Plan.DefaultThresholds = load.DefaultThresholds(), true
	r.Load.Thresholds = []load.ThresholdResult{
		{Expr: "error_rate<1%", Observed: 0, Unit: "%", Passed: true},
		{Expr: "schema_violations==0", NoData: true, Note: "no response was validated"},
	}
	r.Decide()
	return r
}

// The generated cases of sampleGenerated: the seed, the drift's minimal
// body (non-ASCII text, a quote, backticks and markup, so that every format
// has to escape it) and the curl lines the contract package wrote for it.
const (
	genSeed      = uint64(8675309)
	genDriftBody = `{"quotes":[{"id":"a1b2c3d4-0000-4000-8000-000000000001"}],"policyholder":{"last_name":"Ñúñez O'Brien ` + "```" + ` </pre><script>x()</script>"}}`
	genFailBody  = `{"quotes":[{"id":42}]}`
	genDriftCurl = `curl -sS -X POST '` + confirmURL + `' -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -H 'Accept: application/json' --data-binary '{"quotes":[{"id":"a1b2c3d4-0000-4000-8000-000000000001"}],"policyholder":{"last_name":"Ñúñez O'\''Brien ` + "```" + ` </pre><script>x()</script>"}}'`
	genFailCurl  = `curl -sS -X POST '` + confirmURL + `' -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -H 'Accept: application/json' --data-binary '{"quotes":[{"id":42}]}'`
)

// sampleGenerated is a contract report with generated cases after the fixed
// ones: two positive passes, a positive drift (the API refuses a body the
// document accepts) and a negative fail (a forbidden body was booked), with
// generation stopped early by the offer budget.
func sampleGenerated() *Report {
	r := New(KindContract, "1.2.3", Target{URL: sampleURL, Embedded: true})
	r.StartedAt, r.FinishedAt = t0, t0.Add(2*time.Second)
	okBody := `{"quotes":[{"id":"a1b2c3d4-0000-4000-8000-000000000001"}],"policyholder":{"first_name":"Ada","last_name":"Lovelace","email":"[REDACTED]","phone":"[REDACTED]"}}`
	x := func(body string, status int, resp string) *contract.Exchange {
		return &contract.Exchange{Method: "POST", URL: confirmURL,
			RequestHeader: http.Header{"Authorization": {"Bearer [REDACTED]"}, "Content-Type": {"application/json"}},
			RequestBody:   body, Status: status, ResponseHeader: http.Header{"Content-Type": {"application/json"}},
			ResponseBody: resp, Duration: 20 * time.Millisecond}
	}
	booked := `{"data":{"id":"EYYLD-F8LDV-INS","status":"CONFIRMED","security_token":"[REDACTED]"}}`
	refused := `{"type":"validation_error","message":"last_name: <b>invalid</b>"}`
	r.Contract = &contract.Result{
		Target: sampleURL, Embedded: true, Started: t0, Finished: t0.Add(2 * time.Second),
		Cases: []contract.CaseResult{
			{Name: contract.CaseConfirmOK, Outcome: contract.OutcomePass, Status: 200, Duration: 40 * time.Millisecond,
				Exchange: x(okBody, 200, booked)},
			{Name: contract.CaseNoToken, Outcome: contract.OutcomePass, Status: 401, Duration: 5 * time.Millisecond},
			{Name: contract.CaseDoubleConfirm, Outcome: contract.OutcomePass, Status: 409, Duration: 6 * time.Millisecond},
			{Name: "gen-positive-000", Outcome: contract.OutcomePass, Status: 200, Duration: 21 * time.Millisecond,
				Generated: &contract.GeneratedCase{Kind: contract.KindPositive}, Exchange: x(okBody, 200, booked)},
			{Name: "gen-positive-001", Outcome: contract.OutcomePass, Status: 201, Duration: 22 * time.Millisecond,
				Generated: &contract.GeneratedCase{Kind: contract.KindPositive}, Exchange: x(okBody, 201, booked)},
			{Name: "gen-positive-002", Outcome: contract.OutcomeDrift, Status: 400, Duration: 23 * time.Millisecond,
				Reason: "the document accepts this body, the API refuses it",
				Violations: []contract.Violation{{Rule: contract.RuleStatusUnexpected, Expected: "2xx", Observed: "400",
					Reason: "undocumented 400 | refused"}},
				Generated: &contract.GeneratedCase{Kind: contract.KindPositive, MinimalBody: genDriftBody,
					MinimalStatus: 400, Curl: genDriftCurl, ShrinkRequests: 7},
				Exchange: x(genDriftBody, 400, refused)},
			{Name: "gen-negative-003", Outcome: contract.OutcomeFail, Status: 200, Duration: 24 * time.Millisecond,
				Reason: "a body the document forbids was booked",
				Violations: []contract.Violation{{Rule: contract.RuleStatus, Expected: "4xx", Observed: "200",
					Reason: "2xx answer to an invalid request"}},
				Generated: &contract.GeneratedCase{Kind: contract.KindNegative, Mutation: "wrong-type(number) $.quotes[0].id",
					MinimalBody: genFailBody, MinimalStatus: 200, Curl: genFailCurl, ShrinkRequests: 3},
				Exchange: x(genFailBody, 200, booked)},
		},
		Counts: contract.Counts{Pass: 5, Fail: 1, Drift: 1},
		Generation: &contract.Generation{Seed: genSeed, Requested: 6, Run: 4, OffersUsed: 3, OfferBudget: 3,
			Requests: 14, Stopped: "offer budget of 3 offers used up"},
	}
	r.Decide()
	return r
}

// sampleUnusual is a load run that did everything a reader must be told
// of: TLS verification off, a custom document and overlay, validation
// sampled and skipped, bodies cut, Retry-After pauses that left requests
// unsent, the safety gates off; re-rendered after its process was killed,
// with its journal's confirms that may have booked.
func sampleUnusual() *Report {
	r := sampleSparse()
	r.Verdict = ""
	r.InsecureSkipVerify, r.SpecFile, r.OverlayFile = true, "specs/confirm-2027.json", "specs/fixes.yaml"
	r.Spec = &spec.DocInfo{Title: "XCover XONE", Version: "2027-01", SHA256: strings.Repeat("ab", 32), OverlaySHA256: strings.Repeat("cd", 32)}
	l := r.Load
	l.Plan = load.Plan{Rate: "50/s", Duration: 10 * time.Second, ValidateSample: 0.25, GatesOff: true}
	l.Schema = load.SchemaStats{Validated: 90, Skipped: 10, SkipReason: "queue full: the validators were behind", TruncatedBodies: 2}
	l.RetryAfterPauses = load.PauseStats{Count: 3, TotalMs: 3500, MaxMs: 2000, Values: []string{"1", "2"}, Unsent: 40, Ignored: 1}
	r.MayHaveBooked = []Bookings{{Journal: "reports/killed/bookings.csv", Booked: 21, Unknown: 1, First: []BookingRow{
		{OfferID: "6f1c2a3e-0c1d-4b8e-9a5f-2d3c4b5a6e7f", Outcome: ledger.Booked, BookingID: "EYYLD-F8LDV-INS", Status: 200},
		{OfferID: "0d9c3b1e-5a4f-4c7b-9e2d-1f0a3b4c5d6e", Outcome: ledger.Unknown, Error: "pending | killed\nmid-request"},
	}}}
	r.MarkIncomplete("reports/killed: no summary.json: the run did not finish (killed?)")
	r.Decide()
	return r
}

func samples() map[string]func() *Report {
	return map[string]func() *Report{"run": sampleRun, "error": sampleError, "sparse": sampleSparse,
		"incomplete": sampleIncomplete, "generated": sampleGenerated, "unusual": sampleUnusual, "race": sampleRace,
		"loadrace": sampleLoadRace}
}

// TestUnusualEveryFormat: what weakened a run is said in every format.
func TestUnusualEveryFormat(t *testing.T) {
	wants := []string{"--insecure-skip-verify", "specs/confirm-2027.json", strings.Repeat("ab", 32), "specs/fixes.yaml",
		strings.Repeat("cd", 32), "25%", "queue full: the validators were behind", "own read limit", "3 Retry-After pauses",
		"values seen: 1, 2", "40 planned requests left unsent", "--no-default-thresholds", "EYYLD-F8LDV-INS"}
	for _, f := range []string{FormatMarkdown, FormatHTML, FormatJUnit} {
		out, err := Render(sampleUnusual(), f)
		require.NoError(t, err)
		for _, w := range wants {
			assert.Contains(t, string(out), w, "format %s", f)
		}
	}
	var buf bytes.Buffer
	require.NoError(t, JSON(&buf, sampleUnusual()))
	for _, w := range []string{`"insecure_skip_verify": true`, `"spec_file": "specs/confirm-2027.json"`, `"overlay_file": "specs/fixes.yaml"`, `"may_have_booked"`} {
		assert.Contains(t, buf.String(), w)
	}
}

// TestWriteDirScrubs: a secret anywhere in a report reaches no file written
// with Scrub, whatever the format (evidence.csv included); without Scrub it
// would.
func TestWriteDirScrubs(t *testing.T) {
	const secret = "s3cr3t-Zq8x7W"
	r := sampleRun()
	r.Notes = append(r.Notes, "token "+secret)
	r.Contract.Cases[2].Exchange.ResponseBody = `{"access_token":"` + secret + `"}`
	r.Load.Errors = append(r.Load.Errors, load.ErrorCount{Message: "echo " + secret, Count: 1})
	r.Load.Evidence.Slowest[1].Headers["X-Request-Id"] = "req-" + secret
	for _, scrub := range []bool{false, true} {
		dir := t.TempDir()
		var opts []Option
		if scrub {
			opts = append(opts, Scrub(func(s string) string { return strings.ReplaceAll(s, secret, "[REDACTED]") }))
		}
		paths, err := WriteDir(dir, r, allFormats(), opts...)
		require.NoError(t, err)
		require.Len(t, paths, 5, "the formats and evidence.csv")
		for _, p := range paths {
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			assert.Equal(t, !scrub, strings.Contains(string(b), secret), "%s with scrub=%v", p, scrub)
		}
	}
}

// TestGeneratedGrouped: every format shows the generated cases in a group of
// their own, with the seed, the replay flags, the stop reason, and for each
// case that did not pass its minimal body and curl line; the fixed cases keep
// their table.
func TestGeneratedGrouped(t *testing.T) {
	render := func(t *testing.T, w func(io.Writer, *Report) error) string {
		t.Helper()
		var buf bytes.Buffer
		require.NoError(t, w(&buf, sampleGenerated()))
		return buf.String()
	}
	replay := "--generate 6 --seed 8675309"
	stopped := "offer budget of 3 offers used up"

	t.Run("markdown", func(t *testing.T) {
		md := render(t, Markdown)
		require.Contains(t, md, "### Generated cases")
		fixed, gen, _ := strings.Cut(md, "### Generated cases")
		assert.Contains(t, fixed, "| confirm-ok |", "fixed cases keep their table")
		assert.NotContains(t, fixed, "gen-", "generated cases are not in the fixed table")
		assert.Contains(t, gen, "8675309")
		assert.Contains(t, gen, replay)
		assert.Contains(t, gen, stopped)
		assert.Contains(t, gen, "| positive | 2 | 0 | 1 | 0 |")
		assert.Contains(t, gen, "| negative | 0 | 1 | 0 | 0 |")
		assert.Contains(t, gen, genDriftCurl)
		assert.Contains(t, gen, genFailCurl)
		assert.Contains(t, gen, "wrong-type(number) $.quotes[0].id")
		assert.Contains(t, gen, "````json\n{\n  \"quotes\": [", "the drift's body is pretty JSON in a fence longer than its backticks")
		assert.NotContains(t, gen, "gen-positive-000", "passing generated cases are counted, not listed")
		assert.NotContains(t, gen, "gen-positive-001")
		assert.Contains(t, gen, "2 passing generated cases")
	})
	t.Run("html", func(t *testing.T) {
		page := render(t, HTML)
		require.Contains(t, page, `id="generated"`)
		fixed, gen, _ := strings.Cut(page, `id="generated"`)
		assert.Contains(t, fixed, `id="case-confirm-ok"`)
		assert.NotContains(t, fixed, `id="case-gen-`, "generated cases are not in the fixed table")
		assert.Contains(t, gen, "8675309")
		assert.Contains(t, gen, replay)
		assert.Contains(t, gen, stopped)
		esc := template.HTMLEscapeString
		assert.Contains(t, gen, esc(genDriftCurl))
		assert.Contains(t, gen, esc(genFailCurl))
		assert.Contains(t, gen, "<pre class=\"body\">{\n  &#34;quotes&#34;: [", "minimal body as pretty JSON in a <pre>")
		assert.NotContains(t, gen, "<script>x()", "partner-controlled text is escaped")
		assert.Contains(t, gen, "gen-positive-000", "passing generated cases may be listed, collapsed")
	})
	t.Run("junit", func(t *testing.T) {
		var doc junitSuites
		require.NoError(t, xml.Unmarshal([]byte(render(t, JUnit)), &doc))
		suites := map[string]junitSuite{}
		for _, s := range doc.Suites {
			suites[s.Name] = s
		}
		require.Contains(t, suites, "contract-generated")
		for _, tc := range suites["contract"].Cases {
			assert.False(t, strings.HasPrefix(tc.Name, contract.GeneratedPrefix), "got %s in the fixed suite", tc.Name)
		}
		g := suites["contract-generated"]
		assert.Contains(t, g.Properties, field{"seed", "8675309"})
		assert.Contains(t, g.Properties, field{"stopped", stopped})
		assert.Equal(t, 4, g.Tests)
		assert.Equal(t, 1, g.Failures)
		assert.Equal(t, 0, g.Skipped)
		byName := map[string]junitCase{}
		for _, tc := range g.Cases {
			byName[tc.Name] = tc
		}
		require.Len(t, byName, 4)
		drift, fail := byName["gen-positive-002"], byName["gen-negative-003"]
		assert.Nil(t, drift.Failure)
		assert.Nil(t, drift.Skipped)
		assert.Contains(t, drift.SystemOut, genDriftCurl)
		assert.Contains(t, drift.SystemOut, "\"last_name\": \"Ñúñez O'Brien")
		require.NotNil(t, fail.Failure)
		assert.Contains(t, fail.SystemOut, genFailCurl)
		assert.Contains(t, fail.SystemOut, "\"id\": 42")
		pass := byName["gen-positive-000"]
		assert.Nil(t, pass.Failure)
		assert.Nil(t, pass.Skipped)
	})
}

// TestDecideIncomplete: the verdict needs evidence; findings win over
// missing evidence, and the report keeps both.
func TestDecideIncomplete(t *testing.T) {
	r := sampleIncomplete()
	assert.Equal(t, VerdictIncomplete, r.Verdict)
	assert.Equal(t, []string{"load interrupted by a signal",
		"threshold schema_violations==0 has no data: no response was validated"}, r.Incomplete)
	r.Decide()
	assert.Len(t, r.Incomplete, 2, "Decide twice does not repeat reasons")

	r.Load.Thresholds[0].Passed = false // a finding as well
	r.Decide()
	assert.Equal(t, VerdictFail, r.Verdict, "findings win over incomplete")
	assert.NotEmpty(t, r.Incomplete, "and the report says both")

	c := New(KindContract, "1", Target{URL: sampleURL})
	c.Contract = &contract.Result{Cases: []contract.CaseResult{
		{Name: contract.CaseConfirmOK, Outcome: contract.OutcomeSkip, Reason: "no offer configured"},
		{Name: contract.CaseNoToken, Outcome: contract.OutcomePass, Status: 401},
	}}
	c.Decide()
	assert.Equal(t, VerdictIncomplete, c.Verdict, "a skipped confirm-ok is not a pass")

	m := New(KindLoad, "1", Target{URL: sampleURL})
	m.Load = &load.Result{Requests: 10, StopReason: "merged"}
	m.MarkIncomplete("shard 2/3 missing")
	m.Decide()
	assert.Equal(t, VerdictIncomplete, m.Verdict, "a merge with a missing shard")
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
	if bytes.Equal(want, got) {
		return
	}
	wl, gl := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	i := 0
	for i < len(wl) && i < len(gl) && wl[i] == gl[i] {
		i++
	}
	at := func(lines []string) string {
		if i < len(lines) {
			return lines[i]
		}
		return "(end of file)"
	}
	t.Errorf("%s differs from the golden file at line %d:\ngot  %q\nwant %q\nrerun with -update if the change is intended",
		path, i+1, at(gl), at(wl))
}

func TestGolden(t *testing.T) {
	writers := []struct {
		format string
		ext    string
		write  func(io.Writer, *Report) error
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
		{"unknown coverage part", func(r *Report) { r.Load.Coverage.Schemas[0].Part = "trailers" }},
		{"unknown coverage kind", func(r *Report) { r.Contract.Coverage.Schemas[0].Paths[1].Kinds["maybe"] = 1 }},
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

// TestGeneratedMarkdownShort: report.md lists at most mdMaxGenerated cases
// that did not pass and counts the rest, so that a run with many findings
// still fits $GITHUB_STEP_SUMMARY; report.html lists them all.
func TestGeneratedMarkdownShort(t *testing.T) {
	const n = mdMaxGenerated + 5
	r := sampleGenerated()
	for i := range n {
		r.Contract.Cases = append(r.Contract.Cases, contract.CaseResult{
			Name: fmt.Sprintf("gen-negative-%03d", 100+i), Outcome: contract.OutcomeFail, Status: 500,
			Generated: &contract.GeneratedCase{Kind: contract.KindNegative, MinimalBody: genFailBody, MinimalStatus: 500, Curl: genFailCurl}})
	}
	var md, page bytes.Buffer
	require.NoError(t, Markdown(&md, r))
	require.NoError(t, HTML(&page, r))
	listed := strings.Count(md.String(), "\n#### `gen-")
	assert.Equal(t, mdMaxGenerated, listed, "got %d generated cases listed in report.md, want %d", listed, mdMaxGenerated)
	assert.Contains(t, md.String(), "7 more generated cases that did not pass are in report.html and summary.json")
	assert.Contains(t, page.String(), fmt.Sprintf(`id="case-gen-negative-%03d"`, 100+n-1))
}

// TestGeneratedWithoutGeneration: generated cases without a Generation
// record (an older summary.json, a merge) are still grouped, without a seed,
// in every format; a Generation without cases still shows its seed.
func TestGeneratedWithoutGeneration(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *contract.Result)
		seed   bool
		want   string
	}{
		{"no generation record", func(c *contract.Result) { c.Generation = nil }, false, genFailCurl},
		{"no generated case ran", func(c *contract.Result) {
			c.Cases = slices.DeleteFunc(c.Cases, func(cs contract.CaseResult) bool { return cs.Generated != nil })
		}, true, "offer budget of 3 offers used up"},
	}
	writers := []struct {
		name, group string
		write       func(io.Writer, *Report) error
		escape      func(string) string
	}{
		{"md", "### Generated cases", Markdown, func(s string) string { return s }},
		{"html", `id="generated"`, HTML, template.HTMLEscapeString},
		{"junit", `name="contract-generated"`, JUnit, template.HTMLEscapeString}, // encoding/xml escapes one-line text alike
	}
	for _, tt := range tests {
		for _, w := range writers {
			t.Run(tt.name+"/"+w.name, func(t *testing.T) {
				r := sampleGenerated()
				tt.mutate(r.Contract)
				var buf bytes.Buffer
				require.NoError(t, w.write(&buf, r))
				out := buf.String()
				assert.Contains(t, out, w.group)
				assert.Equal(t, tt.seed, strings.Contains(out, "8675309"), "seed shown: got %v, want %v", !tt.seed, tt.seed)
				assert.Contains(t, out, w.escape(tt.want))
			})
		}
	}
}

// TestSummarySchemaGenerated: the schema describes the generated-case
// fields closely enough to reject nonsense in them.
func TestSummarySchemaGenerated(t *testing.T) {
	sch := compileSummarySchema(t, true)
	require.NoError(t, sch.Validate(summaryInstance(t, sampleGenerated())))
	tests := []struct {
		name   string
		mutate func(contract map[string]any)
	}{
		{"unknown kind", func(c map[string]any) {
			c["cases"].([]any)[3].(map[string]any)["generated"].(map[string]any)["kind"] = "fuzzy"
		}},
		{"generated without kind", func(c map[string]any) {
			delete(c["cases"].([]any)[3].(map[string]any)["generated"].(map[string]any), "kind")
		}},
		{"negative requested", func(c map[string]any) { c["generation"].(map[string]any)["requested"] = -1 }},
		{"generation without seed", func(c map[string]any) { delete(c["generation"].(map[string]any), "seed") }},
		{"seed as text", func(c map[string]any) { c["generation"].(map[string]any)["seed"] = "8675309" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inst := summaryInstance(t, sampleGenerated())
			tt.mutate(inst.(map[string]any)["contract"].(map[string]any))
			assert.Error(t, sch.Validate(inst))
		})
	}
}
