package ledger

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)

func clock() func() time.Time {
	var mu sync.Mutex
	n := 0
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		n++
		return t0.Add(time.Duration(n) * time.Millisecond)
	}
}

func TestBeginIsInTheFileWhenItReturns(t *testing.T) {
	dir := t.TempDir()
	j, err := Open(dir, Options{Now: clock()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = j.Close() })

	require.NoError(t, j.Begin("offer-1", "quote-1"))
	// Read through another descriptor, as a process reading after a
	// SIGKILL would: the pending row is there, and reads as unknown.
	rows, err := ReadFile(filepath.Join(dir, File))
	require.NoError(t, err)
	require.Len(t, rows, 1)
	assert.Equal(t, "offer-1", rows[0].OfferID)
	assert.Equal(t, Unknown, rows[0].Outcome)
	assert.Contains(t, rows[0].Error, "pending")
}

// TestResolveWrittenWhileOpen: the journal's writer puts an outcome row in
// the file within its flush interval (well before the first sync), before
// Close.
func TestResolveWrittenWhileOpen(t *testing.T) {
	dir := t.TempDir()
	j, err := Open(dir, Options{Now: clock()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = j.Close() })
	require.NoError(t, j.Begin("offer-1", "quote-1"))
	j.Resolve(Row{OfferID: "offer-1", QuoteID: "quote-1", Outcome: Booked, Status: 200})
	assert.Eventually(t, func() bool {
		rows, err := ReadFile(filepath.Join(dir, File))
		return err == nil && len(rows) == 1 && rows[0].Outcome == Booked
	}, syncEvery/2, 5*time.Millisecond, "got no booked row in the file, want one well before the first sync")
}

func TestOutcomes(t *testing.T) {
	dir := t.TempDir()
	j, err := Open(dir, Options{Now: clock()})
	require.NoError(t, err)
	for _, id := range []string{"a", "b", "c", "d", "a"} {
		require.NoError(t, j.Begin(id, "q-"+id))
	}
	j.Resolve(Row{OfferID: "a", QuoteID: "q-a", Outcome: Booked, BookingID: "B-1", Status: 200})
	j.Resolve(Row{OfferID: "b", QuoteID: "q-b", Outcome: Refused, Status: 422})
	j.Resolve(Row{OfferID: "c", QuoteID: "q-c", Outcome: Unknown, Status: 503, Error: "HTTP 503"})
	j.Resolve(Row{OfferID: "a", QuoteID: "q-a", Outcome: Refused, Status: 422}) // the second confirm of a
	// d was never answered: its process "died".
	require.NoError(t, j.Close())

	rows, err := ReadFile(filepath.Join(dir, File))
	require.NoError(t, err)
	var got []string
	for _, r := range rows {
		got = append(got, fmt.Sprintf("%s %s %s %d", r.OfferID, r.Outcome, r.BookingID, r.Status))
	}
	assert.Equal(t, []string{"a booked B-1 200", "c unknown  503", "d unknown  0"}, got)

	_, err = Open(dir, Options{})
	assert.ErrorIs(t, err, os.ErrExist, "a journal is never overwritten")

	raw, err := os.ReadFile(filepath.Join(dir, File))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(raw), strings.Join(Header, ",")+"\n"), "got %q", raw)
	assert.Equal(t, 5, strings.Count(string(raw), ",pending,"), "one pending row per confirm")
}

func TestRead(t *testing.T) {
	const hdr = "offer_id,quote_id,outcome,booking_id,http_status,error,at\n"
	at := "2026-12-06T10:00:00Z"
	tests := []struct {
		name, in string
		want     []string // offer outcome
		err      string
	}{
		{"before outcomes", "offer_id,quote_id,booking_id,http_status,confirmed_at\no1,q1,B1,200," + at + "\n", []string{"o1 booked"}, ""},
		{"resolved only", hdr + "o1,q1,booked,B1,200,," + at + "\no2,q2,unknown,,,timeout," + at + "\n", []string{"o1 booked", "o2 unknown"}, ""},
		{"cut last line", hdr + "o1,q1,pending,,,," + at + "\no1,q1,booked,B1,200,," + at + "\no2,q2,pend", []string{"o1 booked"}, ""},
		{"bad line inside", hdr + "o1,q1,pending,,,," + at + "\nbroken\no2,q2,pending,,,," + at + "\n", nil, "x.csv:3: want 7 fields, got 1"},
		{"bad outcome", hdr + "o1,q1,maybe,,,," + at + "\no2,q2,pending,,,," + at + "\n", nil, `x.csv:2: outcome "maybe"`},
		{"empty", "", nil, ""},
		{"bad status", "o1,q1,B-1,abc," + at + "\no2,q2,B-2,200," + at + "\n", nil, `x.csv:1: http_status "abc" is not a number`},
		{"bad time", hdr + "o1,q1,booked,B1,200,,yesterday\no2,q2,pending,,,," + at + "\n", nil, `x.csv:2: at "yesterday"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := Read(strings.NewReader(tt.in), "x.csv")
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			var got []string
			for _, r := range rows {
				got = append(got, r.OfferID+" "+string(r.Outcome))
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestFailedWriteStopsEveryBegin(t *testing.T) {
	dir := t.TempDir()
	j, err := Open(dir, Options{})
	require.NoError(t, err)
	require.NoError(t, j.Begin("o1", "q1"))
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("no /dev/full here: %v", err)
	}
	good := j.f
	j.mu.Lock()
	j.f = full
	j.mu.Unlock()
	err = j.Begin("o2", "q2")
	require.Error(t, err)
	assert.ErrorIs(t, err, syscall.ENOSPC)
	assert.ErrorIs(t, j.Begin("o3", "q3"), syscall.ENOSPC, "a broken journal refuses every later confirm")
	j.mu.Lock()
	j.f = good
	j.mu.Unlock()
	_ = full.Close()
	assert.Error(t, j.Close())
	rows, err := ReadFile(filepath.Join(dir, File))
	require.NoError(t, err)
	require.Len(t, rows, 1)
	assert.Equal(t, "o1", rows[0].OfferID)
}

// TestFullDisk fills a small tmpfs: every Begin that returned nil is in the
// file, the file ends with a whole row, and the first failure is sticky.
func TestFullDisk(t *testing.T) {
	dir := smallTmpfs(t, "64k")
	j, err := Open(dir, Options{})
	require.NoError(t, err)
	var begun []string
	var failed error
	for i := 0; i < 10000 && failed == nil; i++ {
		id := fmt.Sprintf("offer-%05d", i)
		if failed = j.Begin(id, "quote"); failed == nil {
			begun = append(begun, id)
			j.Resolve(Row{OfferID: id, QuoteID: "quote", Outcome: Booked, Status: 200})
		}
	}
	require.Error(t, failed, "a 64 KiB disk must fill")
	assert.ErrorIs(t, j.Begin("late", "quote"), syscall.ENOSPC)
	_ = j.Close()
	rows, err := ReadFile(filepath.Join(dir, File))
	require.NoError(t, err, "the file ends with a whole row")
	got := map[string]bool{}
	for _, r := range rows {
		got[r.OfferID] = true
	}
	for _, id := range begun {
		assert.True(t, got[id], "offer %s was begun but is not in the journal", id)
	}
}

// smallTmpfs mounts a tmpfs of size for the test, or skips.
func smallTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

func TestClaimsAcrossRuns(t *testing.T) {
	for _, rootName := range []string{"reports", "ci[1]", "a<b>*?"} {
		t.Run(rootName, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), rootName)
			a, err := OpenClaims(root, filepath.Join(root, "run-a"))
			require.NoError(t, err)
			t.Cleanup(func() { _ = a.Close() })
			b, err := OpenClaims(root, filepath.Join(root, "run-b"))
			require.NoError(t, err)
			t.Cleanup(func() { _ = b.Close() })

			errs, err := a.Claim([]string{"x", "y"})
			require.NoError(t, err)
			assert.Equal(t, []error{nil, nil}, errs)
			errs, err = b.Claim([]string{"X", "z", "y"})
			require.NoError(t, err)
			var ce *ClaimedError
			require.ErrorAs(t, errs[0], &ce, "ids are compared ignoring case")
			assert.Equal(t, filepath.Join(root, "run-a"), ce.Run)
			assert.NoError(t, errs[1])
			assert.ErrorAs(t, errs[2], &ce)

			errs, err = a.Claim([]string{"x", "z"})
			require.NoError(t, err)
			assert.NoError(t, errs[0], "a run may confirm its own offer again")
			assert.ErrorAs(t, errs[1], &ce)
			assert.Equal(t, filepath.Join(root, "run-b"), ce.Run)
		})
	}
}

// TestClaimsAfterALineCutShort: another process's claim line cut short (its
// disk filled) stays a line of its own: the next claim starts on a new line,
// and both runs read the store alike.
func TestClaimsAfterALineCutShort(t *testing.T) {
	root := t.TempDir()
	a, err := OpenClaims(root, filepath.Join(root, "run-a"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	errs, err := a.Claim([]string{"x"})
	require.NoError(t, err)
	require.NoError(t, errs[0])

	f, err := os.OpenFile(a.Path(), os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.WriteString("y,run-") // another run's line, cut short
	require.NoError(t, err)
	require.NoError(t, f.Close())

	errs, err = a.Claim([]string{"y"})
	require.NoError(t, err)
	require.NoError(t, errs[0], "a line cut short claims nothing")
	errs, err = a.Claim([]string{"z"})
	require.NoError(t, err)
	require.NoError(t, errs[0])

	data, err := os.ReadFile(a.Path())
	require.NoError(t, err)
	assert.Equal(t, "offer_id,run\nx,run-a\ny,run-\ny,run-a\nz,run-a\n", string(data))
	b, err := OpenClaims(root, filepath.Join(root, "run-b"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	for _, id := range []string{"x", "y", "z"} {
		run, ok := b.Holder(id)
		assert.True(t, ok, id)
		assert.Equal(t, filepath.Join(root, "run-a"), run, id)
	}
}

func TestClaimsImportEarlierLedgers(t *testing.T) {
	root := t.TempDir()
	old := filepath.Join(root, "20261101T000000Z-load")
	require.NoError(t, os.MkdirAll(old, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(old, File),
		[]byte("offer_id,quote_id,booking_id,http_status,confirmed_at\no1,q1,B1,200,2026-11-01T00:00:00Z\n"), 0o644))
	dangling := filepath.Join(root, "20261102T000000Z-load")
	require.NoError(t, os.MkdirAll(dangling, 0o755))
	require.NoError(t, os.Symlink(filepath.Join(root, "gone.csv"), filepath.Join(dangling, File)))
	require.NoError(t, os.WriteFile(filepath.Join(root, "notes.txt"), []byte("foreign file"), 0o644))

	c, err := OpenClaims(root, filepath.Join(root, "new-run"))
	require.NoError(t, err, "a dangling link or a foreign file under the root is never fatal")
	t.Cleanup(func() { _ = c.Close() })
	run, ok := c.Holder("o1")
	assert.True(t, ok)
	assert.Equal(t, old, run)
	require.Len(t, c.Notes(), 1)
	assert.Contains(t, c.Notes()[0], "20261102T000000Z-load")
}

func TestJournalClaims(t *testing.T) {
	root := t.TempDir()
	runs := make([]*Journal, 2)
	for i := range runs {
		dir := filepath.Join(root, fmt.Sprintf("run-%d", i))
		require.NoError(t, os.Mkdir(dir, 0o755))
		c, err := OpenClaims(root, dir)
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close() })
		runs[i], err = Open(dir, Options{Claims: c})
		require.NoError(t, err)
	}
	// Both runs try the same 200 offers from many goroutines at once.
	var mu sync.Mutex
	owner := map[string]int{}
	var wg sync.WaitGroup
	for r, j := range runs {
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := g; k < 200; k += 8 {
					id := fmt.Sprintf("offer-%03d", k)
					err := j.Begin(id, "q")
					var ce *ClaimedError
					switch {
					case err == nil:
						mu.Lock()
						if prev, dup := owner[id]; dup {
							t.Errorf("offer %s begun by runs %d and %d", id, prev, r)
						}
						owner[id] = r
						mu.Unlock()
					case !errors.As(err, &ce):
						t.Errorf("Begin(%s): %v", id, err)
					}
				}
			}()
		}
	}
	wg.Wait()
	assert.Len(t, owner, 200, "every offer is claimed by exactly one run")
	for _, j := range runs {
		require.NoError(t, j.Close())
	}
}

// TestClaimsAcrossProcesses starts two processes over the same offers at
// once: each offer is claimed by exactly one of them.
func TestClaimsAcrossProcesses(t *testing.T) {
	if os.Getenv("LEDGER_CLAIM_CHILD") != "" {
		claimChild()
		return
	}
	root := t.TempDir()
	cmds := make([]*exec.Cmd, 2)
	outs := make([]*strings.Builder, 2)
	for i := range cmds {
		cmds[i] = exec.Command(os.Args[0], "-test.run=^TestClaimsAcrossProcesses$")
		cmds[i].Env = append(os.Environ(), "LEDGER_CLAIM_CHILD="+filepath.Join(root, fmt.Sprintf("run-%d", i)))
		outs[i] = &strings.Builder{}
		cmds[i].Stdout = outs[i]
		require.NoError(t, cmds[i].Start())
	}
	for i, c := range cmds {
		require.NoError(t, c.Wait(), "child %d: %s", i, outs[i])
	}
	owner := map[string]int{}
	for i, o := range outs {
		sc := bufio.NewScanner(strings.NewReader(o.String()))
		for sc.Scan() {
			id, ok := strings.CutPrefix(sc.Text(), "claimed ")
			if !ok {
				continue
			}
			prev, dup := owner[id]
			assert.False(t, dup, "offer %s claimed by processes %d and %d", id, prev, i)
			owner[id] = i
		}
	}
	assert.Len(t, owner, 500)
}

// claimChild claims offer-000..offer-499 one by one for the run in
// $LEDGER_CLAIM_CHILD and prints each it got.
func claimChild() {
	dir := os.Getenv("LEDGER_CLAIM_CHILD")
	c, err := OpenClaims(filepath.Dir(dir), dir)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	for k := range 500 {
		id := fmt.Sprintf("offer-%03d", k)
		errs, err := c.Claim([]string{id})
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		if errs[0] == nil {
			fmt.Println("claimed", id)
		}
	}
	_ = c.Close()
}
