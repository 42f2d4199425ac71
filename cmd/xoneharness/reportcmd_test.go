package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReportFlagsAfterInputs: a flag after an input is parsed as a flag,
// not read as an input; after "--" everything is an input.
func TestReportFlagsAfterInputs(t *testing.T) {
	root := t.TempDir()
	in := filepath.Join(root, "in")
	runLoadInto(t, in)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"flags after the input", []string{"report", in, "--threshold", "p50<60s", "--out", filepath.Join(root, "a"), "--format", "json"}},
		{"flags around the input", []string{"report", "--format", "json", in, "--threshold=p50<60s", "--out", filepath.Join(root, "b")}},
		{"double dash", []string{"report", "--threshold", "p50<60s", "--out", filepath.Join(root, "c"), "--format", "json", "--", in}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := invoke(t, nil, tc.args...)
			require.Equal(t, exitOK, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
			out := tc.args[slicesIndex(tc.args, "--out")+1]
			sum := readSummary(t, filepath.Join(out, "summary.json"))
			var exprs []string
			for _, th := range sum["load"].(map[string]any)["thresholds"].([]any) {
				exprs = append(exprs, th.(map[string]any)["expr"].(string))
			}
			assert.Equal(t, []string{"error_rate<1%", "schema_violations==0", "p50<60s"}, exprs, "the threshold given after the input, after the safety gates")
			assert.NoFileExists(t, filepath.Join(out, "report.md"), "--format after the input")
		})
	}
	r := invoke(t, nil, "report", "--out", filepath.Join(root, "d"), "--", "--threshold")
	assert.Equal(t, exitUsage, r.code, "after -- a flag-like argument is an input")
	assert.Contains(t, r.stderr, "--threshold")
}

// TestReportKilledRun: a report directory a killed run left (no
// summary.json) re-renders as incomplete, lists its journal's confirms in
// every format and keeps the run's own times.
func TestReportKilledRun(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "killed")
	files := runLoadInto(t, dir)
	require.Contains(t, files, "bookings.csv")
	require.NoError(t, os.Remove(filepath.Join(dir, "summary.json")))
	require.NoError(t, os.Remove(filepath.Join(dir, "report.md")))
	out := filepath.Join(root, "out")
	r := invoke(t, nil, "report", "--out", out, dir)
	assert.Equal(t, exitIncomplete, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	sum := readSummary(t, filepath.Join(out, "summary.json"))
	assert.Equal(t, "incomplete", sum["verdict"])
	assert.NotContains(t, sum["started_at"], "0001-01-01")
	booked := sum["may_have_booked"].([]any)[0].(map[string]any)
	assert.Greater(t, booked["booked"], 0.0)
	for _, f := range []string{"report.md", "report.html", "junit.xml"} {
		b, err := os.ReadFile(filepath.Join(out, f))
		require.NoError(t, err)
		assert.Contains(t, string(b), "may have booked", f)
		assert.NotContains(t, string(b), "0001-01-01", f)
	}
}

func slicesIndex(s []string, v string) int {
	for i, x := range s {
		if strings.HasPrefix(x, v) {
			return i
		}
	}
	return -1
}
