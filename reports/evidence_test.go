package reports

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xoneharness/xoneharness/contract"
	"github.com/xoneharness/xoneharness/load"
	"github.com/xoneharness/xoneharness/spec"
)

// sampleCoverage is the coverage of n confirm answers (200) and n401
// refusals: every 200 body path but $.data.extra_fields exercised, the 401
// CF-RAY header only when there were refusals, X-XSS-Protection never.
func sampleCoverage(n, n401 int64) *spec.CoverageReport {
	raw := spec.CoverageReport{Responses: n + n401, Schemas: []spec.SchemaCoverage{
		{Status: "200", Part: "body", Responses: n, Paths: []spec.PathCoverage{
			{Path: "$.data", Present: n, NonNull: n},
			{Path: "$.data.extra_fields", Kinds: map[string]int64{spec.KindNull: 0, spec.KindValue: 0}},
			{Path: "$.data.id", Present: n, NonNull: n},
			{Path: "$.data.status", Present: n, NonNull: n, Kinds: map[string]int64{"enum:CONFIRMED": n, spec.KindEnumOther: 0}},
		}},
		{Status: "401", Part: "headers", Responses: n401, Paths: []spec.PathCoverage{
			{Path: "header:CF-RAY", Present: n401, NonNull: n401},
			{Path: "header:X-XSS-Protection", Kinds: map[string]int64{spec.KindFormatMatched: 0, spec.KindFormatUnmatched: 0}},
		}},
	}}
	m := spec.CoverageReport{}.Merge(raw) // computes the figures and the never-exercised lists
	return &m
}

// sampleEvidence is the evidence of sampleLoad: three slowest requests (the
// slowest a transport error, also a failure) and three of its 26 failures,
// with an extra correlation header and text every format must escape.
func sampleEvidence() load.Evidence {
	at := func(ms int) time.Time { return t0.Add(time.Second + time.Duration(ms)*time.Millisecond) }
	eof := load.EvidenceRow{SentAt: at(13_250), Seq: 390, OfferID: "offer-0390", LatencyMs: 30000, ServiceMs: 29999.875,
		Error: "POST /api/partners/{partner_id}/offers/{offer_id}/confirm: EOF"}
	return load.Evidence{
		Headers: append(load.CorrelationHeaders(), "X-Amzn-Trace-Id"),
		Slowest: []load.EvidenceRow{eof,
			{SentAt: at(19_020), Seq: 571, OfferID: "offer-0571", Status: 200, LatencyMs: 411, ServiceMs: 400.25,
				Headers: map[string]string{"Cf-Ray": "8a1b2c3d4e5f6789-SYD", "Server-Timing": "app;dur=398"}},
			{SentAt: at(18_987), Seq: 570, OfferID: "offer-0570", Status: 200, LatencyMs: 402.5, ServiceMs: 390.125,
				Headers: map[string]string{"Cf-Ray": "8a1b2c3d4e5f6790-SYD", "X-Amzn-Trace-Id": "Root=1-67891233-abcdef012345678912345678"}},
		},
		Failures: []load.EvidenceRow{
			{SentAt: at(2_103), Seq: 63, OfferID: "offer-0063", Status: 500, LatencyMs: 150.5, ServiceMs: 149,
				Error: "500 Internal Server Error | <b>upstream</b>", Violation: "status-undocumented: status 500",
				Headers: map[string]string{"Cf-Ray": "8a1b2c3d4e5f6701-SYD", "Traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}},
			eof,
			{SentAt: at(15_500), Seq: 465, OfferID: "offer-0465", Status: 429, LatencyMs: 3, ServiceMs: 2.5,
				Error: "429 Too Many Requests", Headers: map[string]string{"Cf-Ray": "8a1b2c3d4e5f6702-SYD"}},
		},
		FailuresTotal: 26,
	}
}

// The booking ids of sampleRace's double booking.
var raceBookings = []string{"EYYLD-F8LDV-INS", "QWXRT-B7KPL-INS"}

// sampleRace is a contract report whose race check booked one offer twice
// (three confirms through a proxy, released by the barrier fallback), the
// integrity finding first as the contract orders it.
func sampleRace() *Report {
	r := New(KindContract, "1.2.3", Target{URL: sampleURL, Embedded: true})
	r.StartedAt, r.FinishedAt = t0, t0.Add(time.Second)
	race := &contract.Race{N: 3, OfferID: "6f1c2a3e-0c1d-4b8e-9a5f-2d3c4b5a6e7f", Spread: 420 * time.Microsecond,
		ServerSpread: 180 * time.Microsecond, ServerTimed: true, Fallback: "HTTPS_PROXY is set: requests released by a barrier",
		Attempts: []contract.RaceAttempt{
			{Status: 200, BookingID: raceBookings[0], CFRay: "8a1b2c3d4e5f6781-SYD", ServerRecv: 1793671200000100},
			{Status: 200, BookingID: raceBookings[1], CFRay: "8a1b2c3d4e5f6782-SYD", ServerRecv: 1793671200000280},
			{Status: 409, CFRay: "8a1b2c3d4e5f6783-SYD", ServerRecv: 1793671200000200},
		}}
	r.Contract = &contract.Result{
		Target: sampleURL, Embedded: true, Started: t0, Finished: t0.Add(time.Second),
		Cases: []contract.CaseResult{
			{Name: contract.CaseConcurrentConfirm, Outcome: contract.OutcomeFail, Status: 200, Duration: 35 * time.Millisecond,
				Integrity: true, Race: race,
				Reason: "double booking: 3 simultaneous confirms of offer " + race.OfferID + " created 2 bookings: " + strings.Join(raceBookings, ", "),
				Violations: []contract.Violation{{Rule: contract.RuleDuplicateBooking, Path: "$.data.id", Expected: "one booking",
					Observed: strings.Join(raceBookings, ", "), Reason: "3 simultaneous confirms of one offer created 2 bookings"}}},
			{Name: contract.CaseConfirmOK, Outcome: contract.OutcomePass, Status: 200, Duration: 40 * time.Millisecond},
			{Name: contract.CaseDoubleConfirm, Outcome: contract.OutcomePass, Status: 409, Duration: 6 * time.Millisecond},
		},
		Counts:   contract.Counts{Pass: 2, Fail: 1},
		Coverage: sampleCoverage(4, 0),
	}
	r.Decide()
	return r
}

// TestRaceBookingIDsEveryFormat: a double booking names its booking ids and
// each confirm's CF-RAY in every format, and is marked as an integrity
// finding; a race that booked once is not called a double booking.
func TestRaceBookingIDsEveryFormat(t *testing.T) {
	tests := []struct {
		name   string
		double bool
		mutate func(r *Report)
	}{
		{"double booking", true, func(*Report) {}},
		{"one booking", false, func(r *Report) {
			cs := &r.Contract.Cases[0]
			cs.Outcome, cs.Integrity, cs.Violations, cs.Reason = contract.OutcomePass, false, nil, ""
			cs.Race.Attempts[1].Status, cs.Race.Attempts[1].BookingID = 409, ""
		}},
	}
	for _, tt := range tests {
		r := sampleRace()
		tt.mutate(r)
		for _, f := range []string{FormatMarkdown, FormatHTML, FormatJUnit} {
			t.Run(tt.name+"/"+f, func(t *testing.T) {
				out := render(t, r, f)
				for _, ray := range []string{"8a1b2c3d4e5f6781-SYD", "8a1b2c3d4e5f6782-SYD", "8a1b2c3d4e5f6783-SYD"} {
					assert.Contains(t, out, ray)
				}
				assert.Contains(t, out, raceBookings[0])
				assert.Equal(t, tt.double, strings.Contains(out, raceBookings[1]), "second booking id shown: got %v, want %v", !tt.double, tt.double)
				if f != FormatJUnit {
					assert.Equal(t, tt.double, strings.Contains(out, "integrity"), "marked integrity: got %v, want %v", !tt.double, tt.double)
				}
				assert.Contains(t, out, "spread 0.42 ms (0.18 ms as the target saw them arrive)")
				assert.Contains(t, out, "released by a barrier")
			})
		}
	}
	t.Run("junit failure message", func(t *testing.T) {
		var doc junitSuites
		require.NoError(t, xml.Unmarshal([]byte(render(t, sampleRace(), FormatJUnit)), &doc))
		require.NotEmpty(t, doc.Suites)
		require.NotEmpty(t, doc.Suites[0].Cases)
		tc := doc.Suites[0].Cases[0]
		require.Equal(t, contract.CaseConcurrentConfirm, tc.Name)
		require.NotNil(t, tc.Failure, "a double booking fails its test case")
		assert.Contains(t, tc.Failure.Message, "booking ids: "+strings.Join(raceBookings, ", "))
		assert.Contains(t, tc.Failure.Text, "confirm 2: HTTP 200, booking QWXRT-B7KPL-INS, CF-RAY 8a1b2c3d4e5f6782-SYD")
	})
	t.Run("markdown marks and lists it", func(t *testing.T) {
		md := render(t, sampleRace(), FormatMarkdown)
		assert.Contains(t, md, "| concurrent-confirm | **fail (integrity)** |")
		assert.Contains(t, md, "**double booking:** `EYYLD-F8LDV-INS`, `QWXRT-B7KPL-INS`")
		assert.Contains(t, md, "| 2 | 200 | QWXRT-B7KPL-INS | 8a1b2c3d4e5f6782-SYD |  |")
	})
	t.Run("html marks it", func(t *testing.T) {
		page := render(t, sampleRace(), FormatHTML)
		assert.Contains(t, page, `<span class="badge o-security">integrity</span>`)
		assert.Contains(t, page, `<td class="fail"><code>QWXRT-B7KPL-INS</code></td>`)
	})
}

// TestCoverageSummary: summary.json's top-level coverage is the contract's
// and the load's added up (the contract alone saw the 401 header); either
// alone is itself; without any there is none.
func TestCoverageSummary(t *testing.T) {
	tests := []struct {
		name                 string
		build                func() *Report
		responses, exercised int64
		present              map[string]int64
	}{
		{"contract and load", sampleRun, 519, 4, map[string]int64{"$.data.id": 518, "header:CF-RAY": 1, "$.data.extra_fields": 0}},
		{"load only", func() *Report {
			r := sampleRun()
			r.Contract = nil
			return r
		}, 514, 3, map[string]int64{"$.data.id": 514, "header:CF-RAY": 0}},
		{"contract only", sampleRace, 4, 3, map[string]int64{"$.data.id": 4}},
		{"none", sampleError, 0, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, JSON(&buf, tt.build()))
			var doc struct {
				Coverage *spec.CoverageReport `json:"coverage"`
			}
			require.NoError(t, json.Unmarshal(buf.Bytes(), &doc))
			if tt.present == nil {
				assert.Nil(t, doc.Coverage, "got coverage without any section's")
				return
			}
			require.NotNil(t, doc.Coverage, "no top-level coverage")
			c := doc.Coverage
			assert.Equal(t, tt.responses, c.Responses, "responses")
			assert.Equal(t, 6, c.Documented, "documented")
			assert.Equal(t, int(tt.exercised), c.Exercised, "exercised")
			got := map[string]int64{}
			for _, sc := range c.Schemas {
				for _, p := range sc.Paths {
					got[p.Path] = p.Present
				}
			}
			for path, want := range tt.present {
				assert.Equal(t, want, got[path], "present at %s: got %d, want %d", path, got[path], want)
			}
		})
	}
}

// TestCoverageNeverExercised: report.md gives the figure and lists, under a
// heading saying so, every documented path no response had, and only
// those; with every path exercised there is no such heading. report.html
// marks the same paths in its tree.
func TestCoverageNeverExercised(t *testing.T) {
	const heading = "#### Documented response fields not checked by this run"
	md := render(t, sampleRun(), FormatMarkdown)
	assert.Contains(t, md, "4 of 6 documented response fields exercised")
	_, list, ok := strings.Cut(md, heading)
	require.True(t, ok, "no heading %q", heading)
	list, _, _ = strings.Cut(list, "###")
	assert.Contains(t, list, "- 200 body: `$.data.extra_fields`\n")
	assert.Contains(t, list, "- 401 headers: `header:X-XSS-Protection`\n")
	for _, seen := range []string{"`$.data.id`", "`header:CF-RAY`", "`$.data`"} {
		assert.NotContains(t, list, seen, "an exercised path listed as not checked")
	}
	_, page, ok := strings.Cut(render(t, sampleRun(), FormatHTML), `<section id="coverage">`)
	require.True(t, ok, "no coverage section")
	page, _, _ = strings.Cut(page, "</section>")
	assert.Equal(t, 2, strings.Count(page, `</code> <span class="badge o-skip">not checked</span>`), "never-exercised paths marked")
	assert.Equal(t, 2, strings.Count(page, "<details open>\n<summary>"), "both schemas with a path not checked start unfolded")

	r := sampleRun()
	r.Contract.Coverage, r.Load.Coverage = nil, sampleCoverage(3, 3)
	for i := range r.Load.Coverage.Schemas {
		for j := range r.Load.Coverage.Schemas[i].Paths {
			r.Load.Coverage.Schemas[i].Paths[j].Present = 1
		}
	}
	*r.Load.Coverage = spec.CoverageReport{}.Merge(*r.Load.Coverage)
	md = render(t, r, FormatMarkdown)
	assert.Contains(t, md, "6 of 6 documented response fields exercised")
	assert.NotContains(t, md, heading)
}

// evidenceReport is a load report holding only ev.
func evidenceReport(ev load.Evidence) *Report {
	r := New(KindLoad, "1.2.3", Target{URL: sampleURL})
	r.Load = &load.Result{Evidence: ev}
	return r
}

// TestEvidenceCSV: evidence.csv holds, for a known Evidence, exactly the
// slowest rows then the failures, one column per correlation header (the
// run's extra one included), quoted as CSV; it is written whatever the
// formats, through Scrub, and not at all for a run without evidence.
func TestEvidenceCSV(t *testing.T) {
	const secret = "s3cr3t-Zq8x7W"
	ev := load.Evidence{
		Headers: append(load.CorrelationHeaders(), "X-Debug"),
		Slowest: []load.EvidenceRow{{SentAt: t0.Add(1234567 * time.Microsecond), OfferID: "offer-1", Status: 200,
			LatencyMs: 812.5, ServiceMs: 790.125, Headers: map[string]string{"Cf-Ray": "8a1b2c3d4e5f6789-SYD", "X-Debug": "token=" + secret}}},
		Failures: []load.EvidenceRow{
			{SentAt: t0.Add(2500 * time.Millisecond), OfferID: "offer-2", Status: 500, LatencyMs: 120, ServiceMs: 118.5,
				Error: "500 Internal Server Error", Violation: "schema $.data: got null",
				Headers: map[string]string{"Cf-Ray": "8a1b2c3d4e5f6790-SYD", "Traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}},
			{SentAt: t0.Add(3 * time.Second), OfferID: "offer-3", LatencyMs: 30000, ServiceMs: 30000, Error: `dial tcp: "refused", again`},
		},
		FailuresTotal: 2,
	}
	want := func(debug string) string {
		return "kind,sent_at,offer_id,status,latency_ms,service_ms,error,Cf-Ray,Server-Timing,X-Request-Id,Traceparent,X-Debug\n" +
			"slowest,2026-11-03T02:00:01.234Z,offer-1,200,812.5,790.125,,8a1b2c3d4e5f6789-SYD,,,,token=" + debug + "\n" +
			"failure,2026-11-03T02:00:02.500Z,offer-2,500,120,118.5,500 Internal Server Error; schema $.data: got null,8a1b2c3d4e5f6790-SYD,,,00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01,\n" +
			`failure,2026-11-03T02:00:03.000Z,offer-3,0,30000,30000,"dial tcp: ""refused"", again",,,,,` + "\n"
	}
	tests := []struct {
		name  string
		opts  []Option
		debug string
	}{
		{"as rendered", nil, secret},
		{"scrubbed", []Option{Scrub(func(s string) string { return strings.ReplaceAll(s, secret, "[REDACTED]") })}, "[REDACTED]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			paths, err := WriteDir(dir, evidenceReport(ev), []string{FormatJSON}, tt.opts...)
			require.NoError(t, err)
			assert.Equal(t, []string{filepath.Join(dir, "summary.json"), filepath.Join(dir, evidenceFile)}, paths)
			got, err := os.ReadFile(filepath.Join(dir, evidenceFile))
			require.NoError(t, err)
			assert.Equal(t, want(tt.debug), string(got))
			sum, err := os.ReadFile(filepath.Join(dir, "summary.json"))
			require.NoError(t, err)
			assert.Equal(t, tt.debug == secret, strings.Contains(string(sum), secret), "summary.json goes through the same scrub")
		})
	}
	t.Run("no evidence, no file", func(t *testing.T) {
		dir := t.TempDir()
		paths, err := WriteDir(dir, sampleSparse(), allFormats())
		require.NoError(t, err)
		assert.Len(t, paths, len(allFormats()))
		assert.NoFileExists(t, filepath.Join(dir, evidenceFile))
	})
}

// TestEvidenceSections: report.md and report.html show the slowest
// requests, the failures and how many were not listed; report.md ends with
// the block for a vendor ticket: the window, the counts, and ten rows at
// most, failures first, each request once.
func TestEvidenceSections(t *testing.T) {
	r := sampleRun()
	for _, f := range []string{FormatMarkdown, FormatHTML} {
		out := render(t, r, f)
		for _, want := range []string{"The 3 slowest requests", "2026-11-03T02:00:20.020Z", "Root=1-67891233-abcdef012345678912345678",
			"X-Amzn-Trace-Id", "23 more failures not listed (26 in all)."} {
			assert.Contains(t, out, want, "format %s", f)
		}
	}
	md := render(t, r, FormatMarkdown)
	_, block, ok := strings.Cut(md, "### For the vendor\n\n```text\n")
	require.True(t, ok, "no vendor block")
	block, rest, ok := strings.Cut(block, "```\n")
	require.True(t, ok, "the vendor block is not closed")
	assert.Equal(t, "\n", rest, "report.md ends with the vendor block")
	lines := strings.Split(strings.TrimSuffix(block, "\n"), "\n")
	require.Len(t, lines, 9, "3 lines, a legend and 5 distinct requests: %q", lines)
	assert.Equal(t, "window (UTC): 2026-11-03T02:00:01.000Z – 2026-11-03T02:00:21.000Z", lines[1])
	assert.Equal(t, "requests 540, non-2xx 25, transport errors 1, schema violations 1", lines[2])
	assert.Equal(t, "2026-11-03T02:00:03.103Z  500       150.5 ms  8a1b2c3d4e5f6701-SYD", lines[4], "the first failure first")
	assert.Equal(t, "2026-11-03T02:00:20.020Z  200         411 ms  8a1b2c3d4e5f6789-SYD", lines[7], "then the slowest not already listed")

	r.Load.Evidence.Failures = nil
	for i := range 30 {
		r.Load.Evidence.Failures = append(r.Load.Evidence.Failures, load.EvidenceRow{SentAt: t0.Add(time.Duration(i) * time.Second),
			OfferID: fmt.Sprintf("offer-%d", i), Status: 503})
	}
	_, block, _ = strings.Cut(render(t, r, FormatMarkdown), "### For the vendor")
	assert.Equal(t, vendorRows, strings.Count(block, "  503  "), "got %d rows, want %d", strings.Count(block, "  503  "), vendorRows)
}

// evidenceOf is the evidence of rows as one process would have kept it, by
// a plain sort: the k slowest, slowest first, and the failures (not 2xx) in
// time order.
func evidenceOf(rows []load.EvidenceRow, k int) load.Evidence {
	slow := slices.Clone(rows)
	slices.SortFunc(slow, func(a, b load.EvidenceRow) int { return int(b.LatencyMs*1000 - a.LatencyMs*1000) })
	var failed []load.EvidenceRow
	for _, r := range rows {
		if r.Status != 200 {
			failed = append(failed, r)
		}
	}
	slices.SortFunc(failed, func(a, b load.EvidenceRow) int { return a.SentAt.Compare(b.SentAt) })
	return load.Evidence{Headers: load.CorrelationHeaders(), Slowest: slow[:min(k, len(slow))], Failures: failed,
		FailuresTotal: uint64(len(failed))}
}

// TestMergeEvidenceShards: three shards merged by Merge give the evidence,
// evidence.csv and coverage of the whole job: the rows one Evidence of all
// requests holds, the coverage counts added up.
func TestMergeEvidenceShards(t *testing.T) {
	const k = 4
	var all []load.EvidenceRow
	for i := range 30 {
		row := load.EvidenceRow{SentAt: t0.Add(time.Duration(i) * 100 * time.Millisecond), Seq: uint64(i / 3),
			OfferID: fmt.Sprintf("offer-%02d", i), Status: 200, LatencyMs: float64(i*37%101) + 0.5, ServiceMs: float64(i*37%101) - 0.25,
			Headers: map[string]string{"Cf-Ray": fmt.Sprintf("%016x-SYD", i)}}
		if i%4 == 0 {
			row.Status, row.Error = 503, "503 Service Unavailable"
		}
		all = append(all, row)
	}
	root := t.TempDir()
	var dirs []string
	for s := range 3 {
		var rows []load.EvidenceRow
		for i, row := range all {
			if i%3 == s {
				rows = append(rows, row)
			}
		}
		d := filepath.Join(root, strconv.Itoa(s))
		writeResults(t, d, 10, 1)
		r := New(KindLoad, "1.2.3", Target{URL: sampleURL})
		r.StartedAt, r.FinishedAt, r.Shard, r.Verdict = t0, t0.Add(time.Minute), fmt.Sprintf("%d/3", s), VerdictPass
		r.Load = &load.Result{Requests: 10, StopReason: "completed", Plan: load.Plan{Rate: "10/s", Evidence: k},
			Evidence: evidenceOf(rows, k), Coverage: sampleCoverage(10, int64(1-min(s, 1)))}
		writeSummary(t, d, r)
		dirs = append(dirs, d)
	}
	r, err := Merge(dirs, MergeOptions{})
	require.NoError(t, err)
	want := evidenceOf(all, k)
	assert.Equal(t, want, r.Load.Evidence)

	var got, one bytes.Buffer
	require.NoError(t, evidenceCSV(&got, r))
	require.NoError(t, evidenceCSV(&one, evidenceReport(want)))
	assert.Equal(t, one.String(), got.String(), "evidence.csv of the merge")
	assert.Equal(t, 1+k+len(want.Failures), strings.Count(got.String(), "\n"), "header, %d slowest, %d failures", k, len(want.Failures))

	require.NotNil(t, r.Load.Coverage)
	assert.Equal(t, int64(31), r.Load.Coverage.Responses, "30 answers and one refusal")
	assert.Equal(t, 4, r.Load.Coverage.Exercised, "the refusal of shard 0 exercised the 401 header")
}
