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

// TestStepSummary: the step summary gets the report's Markdown,
// scrubbed, after what earlier steps wrote (a new file is created); a path
// that cannot be opened is an error naming it.
func TestStepSummary(t *testing.T) {
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
				require.NoError(t, appendStepSummary(path, r, scrub))
			}
			got, err := os.ReadFile(path)
			require.NoError(t, err)
			want := tc.before + strings.Repeat(string(md), tc.times)
			assert.Equal(t, want, string(got), "got %d bytes, want %d", len(got), len(want))
			assert.NotContains(t, string(got), secret)
		})
	}
	missing := filepath.Join(t.TempDir(), "no-such-dir", "summary.md")
	assert.ErrorContains(t, appendStepSummary(missing, r, scrub), missing)
}

// TestPublish: Publish decides the verdict (an "error" one kept), writes each format into the
// directory through the options, and appends to a named step summary the Markdown it wrote as
// report.md; a step summary that cannot be written is an error apart from a written report, and
// after a directory that cannot be written nothing is appended.
func TestPublish(t *testing.T) {
	const secret = "s3cr3t-Zq8x7W"
	scrub := Scrub(func(s string) string { return strings.ReplaceAll(s, secret, "[REDACTED]") })
	undecided := func(r *Report) *Report {
		r.Verdict = ""
		r.Notes = append(r.Notes, "token "+secret)
		return r
	}
	incomplete := New(KindLoad, "1.2.3", Target{URL: sampleURL})
	incomplete.MarkIncomplete("interrupted")
	tests := []struct {
		name        string
		r           *Report
		dir         string // "missing": a directory that does not exist
		summary     string // "": none; "file": a new file; "missing": in a directory that does not exist
		wantVerdict string
	}{
		{"findings, no step summary", undecided(sampleRun()), "", "", VerdictFail},
		{"findings and a step summary", undecided(sampleRun()), "", "file", VerdictFail},
		{"incomplete", undecided(incomplete), "", "file", VerdictIncomplete},
		{"error kept", sampleError(), "", "file", VerdictError},
		{"step summary cannot be written", undecided(sampleRun()), "", "missing", VerdictFail},
		{"directory cannot be written", undecided(sampleRun()), "missing", "file", VerdictFail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			dir, summary := tmp, map[string]string{"": "", "file": filepath.Join(tmp, "step-summary.md"),
				"missing": filepath.Join(tmp, "no-such-dir", "step-summary.md")}[tt.summary]
			if tt.dir == "missing" {
				dir = filepath.Join(tmp, "no-such-dir")
			}
			formats := []string{FormatJSON, FormatMarkdown}
			paths, summaryErr, err := Publish(dir, tt.r, formats, summary, scrub)
			assert.Equal(t, tt.wantVerdict, tt.r.Verdict)
			if tt.dir == "missing" {
				assert.Error(t, err)
				assert.NoError(t, summaryErr)
				assert.NoFileExists(t, summary, "nothing appended after WriteDir failed")
				return
			}
			require.NoError(t, err)
			require.GreaterOrEqual(t, len(paths), 2, "got %q", paths)
			assert.Equal(t, []string{filepath.Join(dir, "summary.json"), filepath.Join(dir, "report.md")}, paths[:2])
			for _, p := range paths {
				assert.FileExists(t, p)
			}
			md, err := os.ReadFile(filepath.Join(dir, "report.md"))
			require.NoError(t, err)
			assert.NotContains(t, string(md), secret, "report.md is scrubbed")
			switch tt.summary {
			case "file":
				assert.NoError(t, summaryErr)
				got, err := os.ReadFile(summary)
				require.NoError(t, err)
				assert.Equal(t, string(md), string(got), "got %d bytes, want report.md's %d", len(got), len(md))
			case "missing":
				assert.ErrorContains(t, summaryErr, summary)
			default:
				assert.NoError(t, summaryErr)
			}
		})
	}
}
