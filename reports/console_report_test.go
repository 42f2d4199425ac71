package reports

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConsoleBaseline: the lines printed after a comparison with a
// baseline: the regressions with each regressed figure (and no other), that
// nothing was comparable, or that nothing regressed.
func TestConsoleBaseline(t *testing.T) {
	p99 := MetricDelta{Name: "latency_p99_ms", Unit: " ms", Baseline: 120, Current: 150.5, Change: 0.25416, Regression: true}
	errRate := MetricDelta{Name: "error_rate", Baseline: 0.01, Current: 0.002, Change: -0.8}
	for _, tc := range []struct {
		name string
		c    Comparison
		want string
	}{
		{"regressions", Comparison{Baseline: "last/summary.json", Regressions: 2, Metrics: []MetricDelta{errRate, p99}},
			"baseline last/summary.json: 2 regression(s) beyond 10%\n  latency_p99_ms: 120 → 150.5 ms (+25.4%)\n"},
		{"nothing comparable", Comparison{Baseline: "last", NothingComparable: true, Notes: []string{"no load result", "no contract result"}},
			"baseline last: nothing comparable (no load result; no contract result)\n"},
		{"no regression", Comparison{Baseline: "last", Metrics: []MetricDelta{errRate}},
			"baseline last: no regression beyond 10%\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			require.NoError(t, ConsoleBaseline(&b, &tc.c, "10%"))
			assert.Equal(t, tc.want, b.String(), "got %q, want %q", b.String(), tc.want)
		})
	}
	err := ConsoleBaseline(failWriter{}, &Comparison{}, "10%")
	assert.ErrorContains(t, err, "reports: write console baseline: ", "a console that cannot be written to")
}

// TestAppendStepSummary: the step summary gets the report's Markdown,
// scrubbed, after what earlier steps wrote (a new file is created); a path
// that cannot be opened is an error naming it.
func TestAppendStepSummary(t *testing.T) {
	const secret = "s3cr3t-Zq8x7W"
	r := sampleRun()
	r.Notes = append(r.Notes, "token "+secret)
	scrub := Scrub(func(s string) string { return strings.ReplaceAll(s, secret, "[REDACTED]") })
	md, err := Render(r, FormatMarkdown, scrub)
	require.NoError(t, err)
	require.Contains(t, string(md), "[REDACTED]", "the secret is in the report")
	for _, tc := range []struct {
		name   string
		before string // "" for no file
		times  int
	}{
		{"new file", "", 1},
		{"after an earlier step", "## lint\nok\n", 1},
		{"twice", "", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "step-summary.md")
			if tc.before != "" {
				require.NoError(t, os.WriteFile(path, []byte(tc.before), 0o644))
			}
			for range tc.times {
				require.NoError(t, AppendStepSummary(path, r, scrub))
			}
			got, err := os.ReadFile(path)
			require.NoError(t, err)
			want := tc.before + strings.Repeat(string(md), tc.times)
			assert.Equal(t, want, string(got), "got %d bytes, want %d", len(got), len(want))
			assert.NotContains(t, string(got), secret)
		})
	}
	missing := filepath.Join(t.TempDir(), "no-such-dir", "summary.md")
	assert.ErrorContains(t, AppendStepSummary(missing, r, scrub), missing)
}
