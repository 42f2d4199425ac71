package reports

import (
	"bytes"
	"encoding/xml"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xoneharness/xoneharness/contract"
	"github.com/xoneharness/xoneharness/load"
)

func loadReport(p50, p95, p99, errRate, throughput float64) *Report {
	r := New(KindLoad, "test", Target{URL: sampleURL})
	r.StartedAt, r.Verdict = t0, VerdictPass
	r.Load = &load.Result{Requests: 100, Latency: load.Latency{P50: p50, P95: p95, P99: p99}, ErrorRate: errRate, Throughput: throughput}
	return r
}

func contractReport(outcomes map[string]contract.Outcome, order ...string) *Report {
	r := New(KindContract, "test", Target{URL: sampleURL})
	r.StartedAt, r.Verdict = t0, VerdictPass
	r.Contract = &contract.Result{}
	for _, name := range order {
		r.Contract.Cases = append(r.Contract.Cases, contract.CaseResult{Name: name, Outcome: outcomes[name]})
	}
	return r
}

func metric(c *Comparison, name string) MetricDelta {
	for _, m := range c.Metrics {
		if m.Name == name {
			return m
		}
	}
	return MetricDelta{Name: "missing " + name}
}

func TestCompareMetrics(t *testing.T) {
	base := loadReport(100, 200, 300, 0.01, 30)
	tests := []struct {
		name        string
		cur         *Report
		tolerance   float64
		regressions []string
	}{
		{"same", loadReport(100, 200, 300, 0.01, 30), 0.1, nil},
		{"2x slower p99", loadReport(100, 200, 600, 0.01, 30), 0.1, []string{"latency_p99_ms"}},
		{"within tolerance", loadReport(109, 219, 329, 0.0109, 27.5), 0.1, nil},
		{"just beyond tolerance", loadReport(111, 221, 331, 0.012, 26.9), 0.1, []string{"latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "error_rate", "throughput_per_s"}},
		{"faster and more throughput", loadReport(50, 100, 150, 0, 60), 0.1, nil},
		{"zero tolerance", loadReport(102, 200, 300, 0.01, 30), 0, []string{"latency_p50_ms"}},
		{"below the noise floor", loadReport(100.9, 200, 300, 0.0109, 29.1), 0, nil},
		{"negative tolerance is zero", loadReport(102, 200, 300, 0.01, 30), -1, []string{"latency_p50_ms"}},
		{"NaN tolerance is zero", loadReport(102, 200, 300, 0.01, 30), math.NaN(), []string{"latency_p50_ms"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Compare(base, tt.cur, tt.tolerance)
			require.NotNil(t, c)
			require.Len(t, c.Metrics, 5)
			var got []string
			for _, m := range c.Metrics {
				if m.Regression {
					got = append(got, m.Name)
				}
			}
			assert.Equal(t, tt.regressions, got)
			assert.Equal(t, len(tt.regressions), c.Regressions)
			assert.Empty(t, c.Cases)
		})
	}
}

func TestCompareChange(t *testing.T) {
	c := Compare(loadReport(100, 200, 300, 0, 0), loadReport(150, 200, 150, 0.05, 0), 0.1)
	require.NotNil(t, c)
	assert.InDelta(t, 0.5, metric(c, "latency_p50_ms").Change, 1e-9)
	assert.InDelta(t, 0, metric(c, "latency_p95_ms").Change, 1e-9)
	assert.InDelta(t, -0.5, metric(c, "latency_p99_ms").Change, 1e-9)
	er := metric(c, "error_rate")
	assert.InDelta(t, 1, er.Change, 1e-9, "zero baseline, non-zero now")
	assert.True(t, er.Regression, "0 → 5 %% errors is a regression")
	assert.InDelta(t, 0, metric(c, "throughput_per_s").Change, 1e-9, "0 → 0")
	assert.Equal(t, "ms", metric(c, "latency_p99_ms").Unit)
	assert.Equal(t, VerdictPass, loadReport(1, 1, 1, 0, 0).Verdict, "Compare does not touch reports")
}

func TestCompareContract(t *testing.T) {
	p, f, d, s := contract.OutcomePass, contract.OutcomeFail, contract.OutcomeDrift, contract.OutcomeSkip
	base := contractReport(map[string]contract.Outcome{"a": p, "b": f, "c": d, "d": p, "gone": p, "e": s}, "a", "b", "c", "d", "gone", "e")
	cur := contractReport(map[string]contract.Outcome{"a": f, "b": p, "c": f, "d": p, "new": f, "e": f}, "a", "b", "c", "d", "new", "e")
	c := Compare(base, cur, 0.1)
	require.NotNil(t, c)
	assert.Equal(t, []CaseDelta{
		{Name: "a", Baseline: p, Current: f, Regression: true},
		{Name: "b", Baseline: f, Current: p},
		{Name: "c", Baseline: d, Current: f, Regression: true},
		{Name: "new", Current: f},
		{Name: "e", Baseline: s, Current: f},
		{Name: "gone", Baseline: p},
	}, c.Cases)
	assert.Equal(t, 2, c.Regressions)
	assert.Empty(t, c.Metrics)
	assert.Empty(t, c.Notes, "neither report has a load section: nothing to say")
}

func TestCompareNotes(t *testing.T) {
	t.Run("nil", func(t *testing.T) {
		assert.Nil(t, Compare(nil, loadReport(1, 1, 1, 0, 1), 0.1))
		assert.Nil(t, Compare(loadReport(1, 1, 1, 0, 1), nil, 0.1))
	})
	t.Run("missing load now", func(t *testing.T) {
		c := Compare(loadReport(1, 1, 1, 0, 1), contractReport(nil), 0.1)
		assert.Contains(t, c.Notes, "load figures not compared: this report has no load section")
		assert.Contains(t, c.Notes, "contract outcomes not compared: the baseline has no contract section")
	})
	t.Run("failed baseline", func(t *testing.T) {
		b := loadReport(1, 1, 1, 0, 1)
		b.Verdict = VerdictFail
		c := Compare(b, loadReport(1, 1, 1, 0, 1), 0.1)
		assert.Contains(t, c.Notes, "the baseline's own verdict was fail")
		assert.Equal(t, "load report started 2026-11-03T02:00:00Z", c.Baseline)
	})
}

func writeSummary(t *testing.T, dir string, r *Report) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, JSON(&buf, r))
	path := filepath.Join(dir, "summary.json")
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
	return path
}

func TestLoadBaseline(t *testing.T) {
	dir := t.TempDir()
	path := writeSummary(t, dir, sampleRun())
	empty := t.TempDir()
	bad := filepath.Join(t.TempDir(), "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte("{not json"), 0o644))
	noVersion := filepath.Join(t.TempDir(), "nov.json")
	require.NoError(t, os.WriteFile(noVersion, []byte(`{"kind":"run"}`), 0o644))
	future := filepath.Join(t.TempDir(), "future.json")
	require.NoError(t, os.WriteFile(future, []byte(`{"schema_version":99}`), 0o644))

	for _, p := range []string{path, dir} {
		t.Run("ok "+filepath.Base(p), func(t *testing.T) {
			r, err := LoadBaseline(p)
			require.NoError(t, err)
			assert.Equal(t, KindRun, r.Kind)
			require.NotNil(t, r.Load)
			assert.InDelta(t, 310.9, r.Load.Latency.P99, 1e-9)
			require.NotNil(t, r.Contract)
			assert.Equal(t, contract.OutcomeFail, r.Contract.Case(contract.CaseMissingQuotes).Outcome)
			assert.Equal(t, 12500000, int(r.Contract.Cases[0].Duration), "durations survive the round trip")
		})
	}
	errs := []struct {
		name, path, want string
	}{
		{"missing", filepath.Join(dir, "nope.json"), "nope.json"},
		{"dir without summary", empty, "directory has no summary.json"},
		{"not json", bad, "not a summary.json"},
		{"no schema version", noVersion, "no schema_version"},
		{"future schema", future, "schema_version 99"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadBaseline(tt.path)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.path, "errors name the path")
			assert.Contains(t, err.Error(), tt.want)
			assert.True(t, strings.HasPrefix(err.Error(), "reports: baseline "), "got %q", err)
		})
	}
}

// TestBaselineRoundTrip is the nightly loop: today's summary.json is
// tomorrow's baseline, and a 2× slower p99 is a regression.
func TestBaselineRoundTrip(t *testing.T) {
	dir := t.TempDir()
	prev := sampleLoad()
	prevReport := New(KindRun, "1", Target{URL: sampleURL})
	prevReport.SchemaVersion, prevReport.Load, prevReport.Verdict = schemaVersion, prev, VerdictPass
	writeSummary(t, dir, prevReport)
	base, err := LoadBaseline(dir)
	require.NoError(t, err)

	cur := New(KindRun, "1", Target{URL: sampleURL})
	cur.Load = sampleLoad()
	cur.Load.Latency.P99 *= 2
	c := Compare(base, cur, 0.1)
	assert.Equal(t, 1, c.Regressions)
	assert.True(t, metric(c, "latency_p99_ms").Regression)
}

func TestParseTolerance(t *testing.T) {
	ok := []struct {
		in   string
		want float64
	}{
		{"10%", 0.1}, {" 10 % ", 0.1}, {"0.1", 0.1}, {"0", 0}, {"0%", 0}, {"2.5%", 0.025}, {"1", 1}, {"150%", 1.5}, {"1000%", 10},
	}
	for _, tt := range ok {
		t.Run("ok "+tt.in, func(t *testing.T) {
			got, err := ParseTolerance(tt.in)
			require.NoError(t, err)
			assert.InDelta(t, tt.want, got, 1e-12)
		})
	}
	bad := []struct{ in, want string }{
		{"", "empty"}, {"%", "empty"}, {"ten", "not a number"}, {"-5%", "negative"}, {"-0.1", "negative"},
		{"10", "write 10% for a percentage"}, {"1001%", "above 1000%"}, {"NaN", "not a number"}, {"Inf%", "not a number"},
		{"0x1p-3", "not a number"}, {"10%%", "not a number"},
	}
	for _, tt := range bad {
		t.Run("bad "+tt.in, func(t *testing.T) {
			_, err := ParseTolerance(tt.in)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), "tolerance ")
		})
	}
}

func FuzzParseTolerance(f *testing.F) {
	for _, s := range []string{"10%", "0.1", "", "1e-3", "999.9%", "-0", "0x10"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseTolerance(s)
		if err != nil {
			return
		}
		if !(v >= 0 && v <= 10) {
			t.Errorf("ParseTolerance(%q) = %v, want a finite value in [0, 10]", s, v)
		}
	})
}

func FuzzParseBaseline(f *testing.F) {
	var buf bytes.Buffer
	if err := JSON(&buf, sampleRun()); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte(`{"schema_version":1}`))
	f.Add([]byte(`{"schema_version":1,"load":{"latency_ms":{"p99":"x"}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := parseSummary(b)
		if err != nil {
			return
		}
		// Whatever parsed must compare and render without panicking.
		c := Compare(r, sampleRun(), 0.1)
		if c == nil {
			t.Error("Compare returned nil for two reports")
		}
		r.Baseline = c
		if err := HTML(&bytes.Buffer{}, r); err != nil {
			t.Errorf("HTML: %v", err)
		}
	})
}

// TestBaselineWriters: every format shows the comparison, a regression as
// such, from the same rows.
func TestBaselineWriters(t *testing.T) {
	r := sampleRun()
	require.NotNil(t, r.Baseline)
	t.Run("markdown", func(t *testing.T) {
		var b bytes.Buffer
		require.NoError(t, Markdown(&b, r))
		md := b.String()
		assert.Contains(t, md, "**4 regression(s)**")
		assert.Contains(t, md, "| latency_p99_ms | 155.4 ms | 310.9 ms | +100.06% | **regression** |")
		assert.Contains(t, md, "| no-token | pass | fail | **regression** |")
	})
	t.Run("junit", func(t *testing.T) {
		var b bytes.Buffer
		require.NoError(t, JUnit(&b, r))
		var doc junitSuites
		require.NoError(t, xml.Unmarshal(b.Bytes(), &doc))
		i := slices.IndexFunc(doc.Suites, func(s junitSuite) bool { return s.Name == "baseline" })
		require.GreaterOrEqual(t, i, 0, "got no baseline suite")
		s := doc.Suites[i]
		assert.Equal(t, 7, s.Tests, "5 metrics + 2 changed cases")
		assert.Equal(t, 4, s.Failures)
		assert.Contains(t, b.String(), `<failure message="regression: baseline 155.4 ms, current 310.9 ms (+100.06%)" type="regression">`)
	})
}

// TestNothingComparable: a baseline with nothing in common is never "no
// regression": the run is incomplete and every format says why.
func TestNothingComparable(t *testing.T) {
	empty := loadReport(1, 1, 1, 0, 1)
	empty.Load.Requests = 0
	tests := []struct {
		name     string
		baseline *Report
		current  *Report
	}{
		{"contract run against a load run", loadReport(1, 1, 1, 0, 1), contractReport(map[string]contract.Outcome{"a": contract.OutcomePass}, "a")},
		{"load run against a contract run", contractReport(map[string]contract.Outcome{"a": contract.OutcomePass}, "a"), loadReport(1, 1, 1, 0, 1)},
		{"baseline sent nothing", empty, loadReport(1, 1, 1, 0, 1)},
		{"no common case", contractReport(map[string]contract.Outcome{"a": contract.OutcomePass}, "a"),
			contractReport(map[string]contract.Outcome{"b": contract.OutcomePass}, "b")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur := tt.current
			cur.Verdict = ""
			cur.Baseline = Compare(tt.baseline, cur, 0.1)
			require.NotNil(t, cur.Baseline)
			assert.True(t, cur.Baseline.NothingComparable)
			assert.Zero(t, cur.Baseline.Regressions)
			cur.Decide()
			assert.Equal(t, VerdictIncomplete, cur.Verdict, "got %s, want incomplete: %v", cur.Verdict, cur.Incomplete)
			for _, f := range allFormats() {
				out, err := Render(cur, f)
				require.NoError(t, err)
				assert.Contains(t, string(out), "nothing comparable", "format %s", f)
				assert.NotContains(t, string(out), "no regression", "format %s", f)
			}
		})
	}
}
