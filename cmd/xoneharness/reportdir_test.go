package main

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xoneharness/xoneharness/ledger"
	"github.com/xoneharness/xoneharness/load"
	"github.com/xoneharness/xoneharness/reports"
)

// TestClaimConcurrentLoads: two loads started together into one --report-dir:
// exactly one runs, the other is refused (exit 2) naming the holder's pid,
// and the winner's ledger and results are whole.
func TestClaimConcurrentLoads(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shared")
	var (
		wg      sync.WaitGroup
		results [2]result
	)
	start := make(chan struct{})
	for i := range results {
		wg.Go(func() {
			<-start
			var out, errOut strings.Builder
			code := run(t.Context(), []string{"load", "--rate", "50/s", "--duration", "1s", "--report-dir", dir, "--format", "json"},
				func(string) string { return "" }, &out, &errOut)
			results[i] = result{code, out.String(), errOut.String()}
		})
	}
	close(start)
	wg.Wait()

	var winners, losers []result
	for _, r := range results {
		if r.code == exitOK {
			winners = append(winners, r)
		} else {
			losers = append(losers, r)
		}
	}
	require.Len(t, winners, 1, "got %d successful runs, want 1: %+v", len(winners), results)
	loser := losers[0]
	assert.Equal(t, exitUsage, loser.code, "stdout:\n%s\nstderr:\n%s", loser.stdout, loser.stderr)
	assert.Contains(t, loser.stderr, fmt.Sprintf("pid %d", os.Getpid()), "the refusal names the holder")
	assert.Contains(t, loser.stderr, "--report-dir")

	sum := readSummary(t, filepath.Join(dir, "summary.json"))
	assert.Equal(t, "pass", sum["verdict"])
	l := sum["load"].(map[string]any)
	f, err := os.Open(filepath.Join(dir, ledger.File))
	require.NoError(t, err)
	defer f.Close()
	rows, err := ledger.Read(f, ledger.File)
	require.NoError(t, err, "the ledger has no malformed row")
	booked := 0
	for _, b := range rows {
		if b.Status >= 200 && b.Status < 300 {
			booked++
		}
	}
	assert.Equal(t, l["offers"].(map[string]any)["confirmed"], float64(booked), "ledger rows = the winner's confirmed offers")
	merged, err := load.MergeResults(filepath.Join(dir, load.ResultsFile))
	require.NoError(t, err)
	assert.Equal(t, l["requests"], float64(merged.Requests), "results.bin holds the winner's requests")
	assert.Empty(t, merged.Truncated)
	assert.NoFileExists(t, filepath.Join(dir, reports.LockFile), "the winner released its claim")
}

// TestClaimRefusesSymlinkedLedger: a dangling symlink named bookings.csv in
// the report directory is refused before anything is written, and nothing is
// created where it points.
func TestClaimRefusesSymlinkedLedger(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(t.TempDir(), "elsewhere.csv")
	require.NoError(t, os.Symlink(target, filepath.Join(dir, ledger.File)))
	r := invoke(t, nil, "load", "--rate", "20/s", "--duration", "1s", "--report-dir", dir)
	assert.Equal(t, exitUsage, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	assert.Contains(t, r.stderr, "--report-dir")
	assert.Contains(t, r.stderr, "symbolic link")
	assert.NoFileExists(t, target)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "nothing written beside the link")
}

// runLoadInto runs a short load into dir and returns the bytes of every file it
// wrote, by name.
func runLoadInto(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	r := invoke(t, nil, "load", "--rate", "30/s", "--duration", "1s", "--report-dir", dir, "--format", "json,md")
	require.Equal(t, exitOK, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	files := map[string][]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		files[e.Name()] = b
	}
	return files
}

// snapshot is the SHA-256 of every file in dir, by name.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	files := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		files[e.Name()] = fmt.Sprintf("%x", sha256.Sum256(b))
	}
	return files
}

// TestReportNeverRewritesInputs: report writes a new directory, never an
// input's; refuses --out naming an input or another run's directory; and
// refuses one input given twice under any spelling.
func TestReportNeverRewritesInputs(t *testing.T) {
	work := t.TempDir()
	t.Chdir(work) // the default report directory is relative: keep it here
	a := filepath.Join(work, "a")
	b := filepath.Join(work, "b")
	runLoadInto(t, a)
	runLoadInto(t, b)
	before, beforeB := snapshot(t, a), snapshot(t, b)
	require.NoError(t, os.Symlink(a, filepath.Join(work, "a-link")))

	// --baseline with no --out: a fresh report directory, the input untouched.
	r := invoke(t, nil, "report", "--baseline", b, a)
	assert.Contains(t, []int{exitOK, exitFindings}, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	assert.Equal(t, before, snapshot(t, a), "report changed its input")
	made, err := filepath.Glob(filepath.Join(work, "reports", "*-report", "summary.json"))
	require.NoError(t, err)
	assert.Len(t, made, 1, "got %v, want one new report directory", made)
	// A second report in the same second gets a directory of its own.
	r = invoke(t, nil, "report", a)
	assert.Contains(t, []int{exitOK, exitFindings}, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	assert.Equal(t, before, snapshot(t, a))

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"same dir twice", []string{"report", "--out", "o1", a, a}, "same input"},
		{"trailing slash", []string{"report", "--out", "o2", a, a + "/"}, "same input"},
		{"dir and its results.bin", []string{"report", "--out", "o3", a, filepath.Join(a, "results.bin")}, "same input"},
		{"dir and its summary", []string{"report", "--out", "o4", filepath.Join(a, "summary.json"), a}, "same input"},
		{"symlink to the dir", []string{"report", "--out", "o5", a, filepath.Join(work, "a-link")}, "same input"},
		{"out is the input", []string{"report", "--out", a, a}, "--out"},
		{"out is the input via a link", []string{"report", "--out", filepath.Join(work, "a-link"), a}, "--out"},
		{"out is another run", []string{"report", "--out", b, a}, "--out"},
		{"baseline and out into the input", []string{"report", "--baseline", b, "--out", a, a}, "--out"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := invoke(t, nil, tc.args...)
			assert.Equal(t, exitUsage, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
			assert.Contains(t, r.stderr, tc.want)
			assert.Equal(t, before, snapshot(t, a), "input a changed")
			assert.Equal(t, beforeB, snapshot(t, b), "input b changed")
		})
	}
	for _, o := range []string{"o1", "o2", "o3", "o4", "o5"} {
		assert.NoDirExists(t, filepath.Join(work, o), "a refused report creates nothing")
	}
}

// TestReportIncompleteInputs: a cut results.bin is salvaged up to its last
// complete record, said in a note, and never renders pass; neither does a
// merge with a shard missing nor a re-render of an interrupted run.
func TestReportIncompleteInputs(t *testing.T) {
	root := t.TempDir()
	src := filepath.Join(root, "src")
	files := runLoadInto(t, src)
	var sum map[string]any
	require.NoError(t, json.Unmarshal(files["summary.json"], &sum))
	requests := sum["load"].(map[string]any)["requests"].(float64)
	require.Greater(t, requests, 2.0)
	bin := files[load.ResultsFile]

	mkdir := func(name string, content map[string][]byte) string {
		d := filepath.Join(root, name)
		require.NoError(t, os.Mkdir(d, 0o755))
		for n, b := range content {
			require.NoError(t, os.WriteFile(filepath.Join(d, n), b, 0o644))
		}
		return d
	}
	withShard := func(label string, edit func(map[string]any)) []byte {
		var m map[string]any
		require.NoError(t, json.Unmarshal(files["summary.json"], &m))
		if label != "" {
			m["shard"] = label
		}
		if edit != nil {
			edit(m)
		}
		b, err := json.Marshal(m)
		require.NoError(t, err)
		return b
	}

	killed := mkdir("killed", map[string][]byte{load.ResultsFile: bin[:len(bin)-5]})
	shard0 := mkdir("shard0", map[string][]byte{load.ResultsFile: bin, "summary.json": withShard("0/3", nil)})
	shard1 := mkdir("shard1", map[string][]byte{load.ResultsFile: bin, "summary.json": withShard("1/3", nil)})
	interrupted := mkdir("interrupted", map[string][]byte{load.ResultsFile: bin, "summary.json": withShard("", func(m map[string]any) {
		m["load"].(map[string]any)["interrupted"] = true
		m["load"].(map[string]any)["stop_reason"] = "interrupted"
	})})

	for _, tc := range []struct {
		name   string
		inputs []string
		note   string // in notes or incomplete reasons
	}{
		{"killed shard alone", []string{killed}, "cut after the last one"},
		{"killed shard merged", []string{killed, shard0}, "cut after the last one"},
		{"missing shard", []string{shard0, shard1}, "missing shards: 2/3"},
		{"interrupted run re-rendered", []string{interrupted}, "interrupt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			r := invoke(t, nil, append([]string{"report", "--out", out, "--format", "json"}, tc.inputs...)...)
			assert.NotEqual(t, exitOK, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
			assert.NotEqual(t, exitUsage, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
			got := readSummary(t, filepath.Join(out, "summary.json"))
			assert.Equal(t, reports.VerdictIncomplete, got["verdict"])
			text, err := json.Marshal([]any{got["notes"], got["incomplete"]})
			require.NoError(t, err)
			assert.Contains(t, string(text), tc.note)
			assert.NotEmpty(t, got["incomplete"])
		})
	}

	// The salvage keeps every complete record: all but the cut last one.
	out := filepath.Join(root, "salvaged")
	invoke(t, nil, "report", "--out", out, "--format", "json", killed)
	got := readSummary(t, filepath.Join(out, "summary.json"))
	assert.Equal(t, requests-1, got["load"].(map[string]any)["requests"])
	assert.Contains(t, fmt.Sprint(got["notes"]), fmt.Sprintf("%d complete records", int(requests-1)))
}
