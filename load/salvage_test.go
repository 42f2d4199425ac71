package load

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// TestMergeSalvagesCutFile cuts a real results.bin at every byte offset: the
// merge recovers exactly the records that end before the cut (the oracle is
// the file size after each record), says the file was cut unless the cut falls
// on a record boundary, and refuses a file cut before its first record ends.
func TestMergeSalvagesCutFile(t *testing.T) {
	dir := t.TempDir()
	w, err := newResultsWriter(dir)
	require.NoError(t, err)
	t0 := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	var ends []int64 // file size after each record
	for i := range 5 {
		r := &vegeta.Result{Seq: uint64(i), Code: 200, Timestamp: t0.Add(time.Duration(i) * 20 * time.Millisecond),
			Latency: time.Duration(i+1) * time.Millisecond, BytesIn: 100, Method: "POST", URL: "http://127.0.0.1/x"}
		if i == 3 {
			r.Code, r.Error = 0, "Post \"http://127.0.0.1/x\": EOF"
		}
		w.write(r, r.Timestamp)
		require.NoError(t, w.flush())
		st, err := w.f.Stat()
		require.NoError(t, err)
		ends = append(ends, st.Size())
	}
	require.NoError(t, w.close())
	full, err := os.ReadFile(filepath.Join(dir, ResultsFile))
	require.NoError(t, err)
	require.Equal(t, ends[len(ends)-1], int64(len(full)))

	cutDir := t.TempDir()
	prev := uint64(0)
	for off := 0; off <= len(full); off++ {
		complete, boundary := 0, off == 0
		for _, e := range ends {
			if e <= int64(off) {
				complete++
			}
			boundary = boundary || e == int64(off)
		}
		name := filepath.Join(cutDir, fmt.Sprintf("cut-%04d.bin", off))
		require.NoError(t, os.WriteFile(name, full[:off], 0o644))
		res, err := MergeResults(name)
		if off > 0 && complete == 0 {
			assert.Error(t, err, "offset %d: got no error for a file without a complete record", off)
			continue
		}
		require.NoError(t, err, "offset %d", off)
		assert.Equal(t, uint64(complete), res.Requests, "offset %d: got %d records, want %d", off, res.Requests, complete)
		assert.GreaterOrEqual(t, res.Requests, prev, "offset %d: recovered count went down", off)
		prev = res.Requests
		if boundary {
			assert.Empty(t, res.Truncated, "offset %d is a record boundary", off)
		} else if assert.Len(t, res.Truncated, 1, "offset %d", off) {
			assert.Contains(t, res.Truncated[0], fmt.Sprintf("%s: %d complete records, cut after the last one", name, complete))
		}
	}
	assert.Equal(t, uint64(5), prev)

	// A cut shard merged with a whole one: every complete record of both.
	whole := filepath.Join(dir, ResultsFile)
	cut := filepath.Join(cutDir, fmt.Sprintf("cut-%04d.bin", ends[2]+3))
	res, err := MergeResults(whole, cut)
	require.NoError(t, err)
	assert.Equal(t, uint64(8), res.Requests)
	assert.Equal(t, uint64(1), res.StatusCodes["0"], "the cut copy ends before its transport error")
	require.Len(t, res.Truncated, 1)
	assert.Contains(t, res.Truncated[0], cut)
}

// TestResultsWriterNeverOverwrites: results.bin is created exclusively, never
// over an earlier file and never through a symbolic link.
func TestResultsWriterNeverOverwrites(t *testing.T) {
	t.Run("existing file", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, ResultsFile), []byte("earlier"), 0o644))
		_, err := newResultsWriter(dir)
		require.ErrorIs(t, err, fs.ErrExist)
		b, err := os.ReadFile(filepath.Join(dir, ResultsFile))
		require.NoError(t, err)
		assert.Equal(t, "earlier", string(b))
	})
	t.Run("dangling symlink", func(t *testing.T) {
		dir := t.TempDir()
		target := filepath.Join(t.TempDir(), "elsewhere.bin")
		require.NoError(t, os.Symlink(target, filepath.Join(dir, ResultsFile)))
		_, err := newResultsWriter(dir)
		require.ErrorIs(t, err, fs.ErrExist)
		assert.NoFileExists(t, target)
	})
}
