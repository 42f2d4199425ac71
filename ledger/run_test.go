package ledger

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOpenRun: with claims the run's journal claims its offers in the store
// of the reports root (dir's parent), so a second run under that root is
// refused the same offer; without claims there is no store and nothing is
// refused. A store created over an unreadable earlier ledger says so in a
// note naming the store.
func TestOpenRun(t *testing.T) {
	for _, tc := range []struct {
		name   string
		claims bool
	}{
		{"with claims", true},
		{"without claims", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			require.NoError(t, os.Mkdir(filepath.Join(root, "old"), 0o755))
			require.NoError(t, os.Symlink("nowhere", filepath.Join(root, "old", File)))
			open := func(name string) *Run {
				dir := filepath.Join(root, name)
				require.NoError(t, os.Mkdir(dir, 0o755))
				r, err := OpenRun(dir+string(filepath.Separator), tc.claims, clock())
				require.NoError(t, err)
				t.Cleanup(func() { assert.NoError(t, r.Close(true)) })
				assert.Equal(t, filepath.Join(dir, File), r.Journal.Path())
				return r
			}
			first, second := open("run-1"), open("run-2")
			store := filepath.Join(root, ClaimsFile)
			require.NoError(t, first.Journal.Begin("offer-1", "quote-1"))
			err := second.Journal.Begin("offer-1", "quote-1")
			if !tc.claims {
				assert.NoError(t, err, "nothing claimed without a store")
				assert.Nil(t, first.Claims)
				assert.Empty(t, first.Notes)
				assert.NoFileExists(t, store)
				return
			}
			var ce *ClaimedError
			require.ErrorAs(t, err, &ce, "got %v, want the offer refused to the second run", err)
			assert.Equal(t, store, first.Claims.Path())
			require.Len(t, first.Notes, 1, "the store's creation skipped the dangling ledger")
			assert.Regexp(t, `^claims store .*`+ClaimsFile+`: ignored .*old/`+File+`: not a regular file`, first.Notes[0])
			assert.Empty(t, second.Notes, "notes only when the store is created")
		})
	}
}

// TestOpenRunJournalError: a report directory that cannot take a new
// journal is ErrNewJournal (never a claims store error), and the journal
// already there is left as it was.
func TestOpenRunJournalError(t *testing.T) {
	for _, claims := range []bool{true, false} {
		t.Run(map[bool]string{true: "with claims", false: "without claims"}[claims], func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			require.NoError(t, os.Mkdir(dir, 0o755))
			path := filepath.Join(dir, File)
			require.NoError(t, os.WriteFile(path, []byte("earlier"), 0o644))
			r, err := OpenRun(dir, claims, clock())
			assert.Nil(t, r)
			assert.ErrorIs(t, err, ErrNewJournal)
			assert.ErrorIs(t, err, os.ErrExist)
			assert.Regexp(t, `^ledger: .*bookings.csv.*: file exists \(a run's journal is never overwritten: choose a new directory\)$`, err.Error())
			b, rerr := os.ReadFile(path)
			require.NoError(t, rerr)
			assert.Equal(t, "earlier", string(b), "got %q, want the earlier journal untouched", b)
		})
	}
}

// TestRunClose: Close removes a journal no confirm was written to unless a
// report was written; a journal with a confirm is always kept. A nil Run
// closes to nothing.
func TestRunClose(t *testing.T) {
	for _, tc := range []struct {
		name     string
		confirms int
		reported bool
		kept     bool
	}{
		{"empty, no report", 0, false, false},
		{"empty, reported", 0, true, true},
		{"a confirm, no report", 1, false, true},
		{"a confirm, reported", 1, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			require.NoError(t, os.Mkdir(dir, 0o755))
			r, err := OpenRun(dir, true, clock())
			require.NoError(t, err)
			for range tc.confirms {
				require.NoError(t, r.Journal.Begin("offer-1", "quote-1"))
			}
			require.NoError(t, r.Close(tc.reported))
			_, err = os.Stat(filepath.Join(dir, File))
			assert.Equal(t, tc.kept, err == nil, "got journal kept=%v (%v), want %v", err == nil, err, tc.kept)
			assert.True(t, err == nil || errors.Is(err, os.ErrNotExist), "stat: %v", err)
			assert.ErrorIs(t, r.Journal.Begin("offer-2", "quote-2"), ErrClosed, "closed")
		})
	}
	assert.NoError(t, (*Run)(nil).Close(false))
}
