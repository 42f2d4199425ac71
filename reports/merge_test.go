package reports

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/xoneharness/xoneharness/ledger"
	"github.com/xoneharness/xoneharness/load"
)

// writeResults writes a results.bin of n requests, 10 ms apart from t0,
// each record written repeat times, into dir (created if needed).
func writeResults(t *testing.T, dir string, n, repeat int) string {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	var buf bytes.Buffer
	enc := vegeta.NewEncoder(&buf)
	for i := range n {
		at := t0.Add(time.Duration(i) * 10 * time.Millisecond)
		r := vegeta.Result{Seq: uint64(i), Code: 200, Timestamp: at, Latency: 5 * time.Millisecond, Method: "POST",
			Headers: http.Header{load.IntendedHeader: {strconv.FormatInt(at.UnixNano(), 10)}}}
		for range repeat {
			require.NoError(t, enc.Encode(&r))
		}
	}
	path := filepath.Join(dir, load.ResultsFile)
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
	return path
}

// writeSummaryOf writes a load summary.json into dir: a run with a shard
// label (none when ""), started at start.
func writeSummaryOf(t *testing.T, dir, shard string, start time.Time) {
	t.Helper()
	r := New(KindLoad, "1.2.3", Target{URL: sampleURL})
	r.StartedAt, r.FinishedAt, r.Shard, r.Verdict = start, start.Add(time.Minute), shard, VerdictPass
	r.Load = &load.Result{Requests: 10, StopReason: "completed", SuccessRatio: 1,
		Plan:             load.Plan{Rate: "10/s", Thresholds: []string{"error_rate<1%"}},
		Schema:           load.SchemaStats{Validated: 10, Skipped: 2, SkipReason: "queue full"},
		Tokens:           load.TokenStats{Fetches: 1, MeanMs: 4, MaxMs: 4},
		RetryAfterPauses: load.PauseStats{Count: 1, TotalMs: 1000, MaxMs: 1000, Values: []string{"1"}}}
	writeSummary(t, dir, r)
}

func render(t *testing.T, r *Report, format string) string {
	t.Helper()
	b, err := Render(r, format)
	require.NoError(t, err)
	return string(b)
}

// TestMergeKilledRun: a directory a SIGKILLed run left (results.bin and a
// journal, no summary.json) is incomplete, keeps the times of its results,
// and lists in every format the confirms that may have booked: booked and
// unknown ones, a pending one as unknown, never a refused one.
func TestMergeKilledRun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "killed")
	writeResults(t, dir, 20, 1)
	at := t0.Format(time.RFC3339Nano)
	journal := "offer_id,quote_id,outcome,booking_id,http_status,error,at\n" +
		"offer-booked,q,pending,,,," + at + "\n" + "offer-booked,q,booked,EYYLD-F8LDV-INS,200,," + at + "\n" +
		"offer-refused,q,pending,,,," + at + "\n" + "offer-refused,q,refused,,422,," + at + "\n" +
		"offer-in-flight,q,pending,,,," + at + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, ledger.File), []byte(journal), 0o644))

	r, err := Merge([]string{dir}, MergeOptions{ToolVersion: "1.2.3"})
	require.NoError(t, err)
	r.Decide()
	assert.Equal(t, VerdictIncomplete, r.Verdict, "got %s, want incomplete", r.Verdict)
	assert.Contains(t, strings.Join(r.Incomplete, "\n"), "no summary.json")
	assert.Equal(t, t0, r.StartedAt, "the first send of results.bin")
	require.Len(t, r.MayHaveBooked, 1)
	b := r.MayHaveBooked[0]
	assert.Equal(t, 1, b.Booked)
	assert.Equal(t, 1, b.Unknown, "the pending row of a killed process")
	require.Len(t, b.First, 2)
	assert.Equal(t, BookingRow{OfferID: "offer-booked", Outcome: ledger.Booked, BookingID: "EYYLD-F8LDV-INS", Status: 200}, b.First[0])
	assert.Equal(t, "offer-in-flight", b.First[1].OfferID)
	assert.Equal(t, ledger.Unknown, b.First[1].Outcome)
	for _, f := range allFormats() {
		out := render(t, r, f)
		for _, want := range []string{"offer-booked", "EYYLD-F8LDV-INS", "offer-in-flight", "unknown"} {
			assert.Contains(t, out, want, "format %s", f)
		}
		if f != FormatJSON {
			assert.Contains(t, out, "2 confirms may have booked (1 booked, 1 unknown)", "format %s", f)
		}
		assert.NotContains(t, out, "offer-refused", "format %s", f)
		assert.NotContains(t, out, "0001-01-01", "format %s: a zero time", f)
	}
}

// TestMergeIncomplete: evidence that measures less than it claims is never
// a pass: a lone shard, a missing shard, a results.bin that repeats its
// records.
func TestMergeIncomplete(t *testing.T) {
	root := t.TempDir()
	shard := func(name, label string, repeat int) string {
		d := filepath.Join(root, name)
		writeResults(t, d, 10, repeat)
		writeSummaryOf(t, d, label, t0)
		return d
	}
	lone, s0, s2, rep := shard("lone", "1/3", 1), shard("s0", "0/3", 1), shard("s2", "2/3", 1), shard("rep", "", 2500)
	tests := []struct {
		name   string
		inputs []string
		want   string
	}{
		{"lone shard", []string{lone}, "missing shards: 0/3, 2/3"},
		{"missing shard", []string{s0, s2}, "missing shards: 1/3"},
		{"repeated records", []string{rep, filepath.Join(rep, load.ResultsFile)}, ""},
		{"repeated records merged", []string{rep, s0}, fmt.Sprintf("%s repeats 24990 records", filepath.Join(rep, load.ResultsFile))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Merge(tt.inputs, MergeOptions{})
			if tt.want == "" {
				require.Error(t, err, "the same input twice")
				return
			}
			require.NoError(t, err)
			r.Decide()
			assert.Equal(t, VerdictIncomplete, r.Verdict, "got %s: %v", r.Verdict, r.Incomplete)
			assert.Contains(t, strings.Join(r.Incomplete, "\n"), tt.want)
		})
	}
}

// TestMergeShards: two shards merge into one report: requests from the raw
// results, the counters only summaries hold added up, the earliest start
// and latest end, the plan's thresholds evaluated again; a complete merge
// passes.
func TestMergeShards(t *testing.T) {
	root := t.TempDir()
	var dirs []string
	for i, label := range []string{"0/2", "1/2"} {
		d := filepath.Join(root, strconv.Itoa(i))
		writeResults(t, d, 10, 1)
		writeSummaryOf(t, d, label, t0.Add(time.Duration(i)*time.Second))
		dirs = append(dirs, d)
	}
	r, err := Merge(dirs, MergeOptions{})
	require.NoError(t, err)
	r.Decide()
	assert.Equal(t, VerdictPass, r.Verdict, "incomplete: %v", r.Incomplete)
	l := r.Load
	assert.Equal(t, uint64(20), l.Requests)
	assert.Equal(t, uint64(20), l.Schema.Validated)
	assert.Equal(t, uint64(4), l.Schema.Skipped)
	assert.Equal(t, "queue full", l.Schema.SkipReason)
	assert.Equal(t, int64(2), l.Tokens.Fetches)
	assert.Equal(t, load.PauseStats{Count: 2, TotalMs: 2000, MaxMs: 1000, Values: []string{"1"}}, l.RetryAfterPauses)
	require.Len(t, l.Thresholds, 1)
	assert.Equal(t, "error_rate<1%", l.Thresholds[0].Expr)
	assert.Equal(t, t0, r.StartedAt)
	assert.Equal(t, t0.Add(time.Second+time.Minute), r.FinishedAt)
	assert.Empty(t, r.Shard)
	assert.Contains(t, r.Notes, "merged from 2 inputs; shards 0/2, 1/2")
}

// TestMergeRerender: one summary is that report again, with its times.
func TestMergeRerender(t *testing.T) {
	dir := t.TempDir()
	writeSummaryOf(t, dir, "", t0)
	r, err := Merge([]string{filepath.Join(dir, "summary.json")}, MergeOptions{})
	require.NoError(t, err)
	assert.Equal(t, t0, r.StartedAt)
	assert.Empty(t, r.Verdict, "decided again by the caller")
	assert.Contains(t, render(t, r, FormatMarkdown), "started 2026-11-03 02:00:00Z")
}

// TestMergeRefuses: bad inputs and an output that is an input are errors
// naming them; ErrOutIsInput is told apart.
func TestMergeRefuses(t *testing.T) {
	root := t.TempDir()
	a := filepath.Join(root, "a")
	writeResults(t, a, 3, 1)
	require.NoError(t, os.Symlink(a, filepath.Join(root, "link")))
	empty := filepath.Join(root, "empty")
	require.NoError(t, os.Mkdir(empty, 0o755))
	junk := filepath.Join(root, "junk.bin")
	require.NoError(t, os.WriteFile(junk, []byte("not gob"), 0o644))
	tests := []struct {
		name   string
		inputs []string
		out    string
		want   string
	}{
		{"none", nil, "", "no input"},
		{"missing", []string{filepath.Join(root, "nope")}, "", "nope"},
		{"neither file", []string{empty}, "", "holds neither"},
		{"junk", []string{junk}, "", "junk.bin"},
		{"trailing slash", []string{a, a + "/"}, "", "same input"},
		{"dir and its results", []string{a, filepath.Join(a, load.ResultsFile)}, "", "same input"},
		{"symbolic link", []string{a, filepath.Join(root, "link")}, "", "same input"},
		{"out is the input", []string{a}, filepath.Join(root, "link"), "never writes over its inputs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Merge(tt.inputs, MergeOptions{Out: tt.out})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Equal(t, tt.out != "", errors.Is(err, ErrOutIsInput), "ErrOutIsInput: got %v", err)
		})
	}
}

// TestMergeDuplicateOffers: an offer two inputs confirmed is a finding.
func TestMergeDuplicateOffers(t *testing.T) {
	root := t.TempDir()
	line := "offer_id,quote_id,outcome,booking_id,http_status,error,at\noffer-1,q,booked,B-1,200,," + t0.Format(time.RFC3339) + "\n"
	var dirs []string
	for _, n := range []string{"a", "b"} {
		d := filepath.Join(root, n)
		writeResults(t, d, 3, 1)
		writeSummaryOf(t, d, "", t0)
		require.NoError(t, os.WriteFile(filepath.Join(d, ledger.File), []byte(line), 0o644))
		dirs = append(dirs, d)
	}
	r, err := Merge(dirs, MergeOptions{})
	require.NoError(t, err)
	r.Decide()
	assert.Equal(t, []string{"offer-1"}, r.DuplicateOffers)
	assert.Equal(t, VerdictFail, r.Verdict)
	assert.Empty(t, r.MayHaveBooked, "both runs wrote their summary")
}
