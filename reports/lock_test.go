package reports

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestClaimExclusive: of several claims raced on one directory exactly one
// wins; the others are refused naming the holder's pid.
func TestClaimExclusive(t *testing.T) {
	for _, existing := range []bool{false, true} {
		t.Run(fmt.Sprintf("existing=%v", existing), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			if existing {
				require.NoError(t, os.Mkdir(dir, 0o755))
			}
			const n = 8
			var (
				wg     sync.WaitGroup
				mu     sync.Mutex
				claims []*Claim
				errs   []error
			)
			start := make(chan struct{})
			for range n {
				wg.Go(func() {
					<-start
					c, err := ClaimDir(dir)
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						errs = append(errs, err)
						return
					}
					claims = append(claims, c)
				})
			}
			close(start)
			wg.Wait()
			require.Len(t, claims, 1, "got %d winners, want 1 (errors: %v)", len(claims), errs)
			for _, err := range errs {
				assert.ErrorIs(t, err, ErrHeld)
				assert.Contains(t, err.Error(), fmt.Sprintf("pid %d", os.Getpid()))
			}
			b, err := os.ReadFile(filepath.Join(dir, LockFile))
			require.NoError(t, err)
			var h holder
			require.NoError(t, json.Unmarshal(b, &h), "lock file %q", b)
			assert.Equal(t, os.Getpid(), h.PID)
			claims[0].Release()
			assert.NoFileExists(t, filepath.Join(dir, LockFile))
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			assert.Empty(t, entries, "no temporary lock file left")
			// Released with nothing written: the directory can be claimed again.
			c, err := ClaimDir(dir)
			require.NoError(t, err)
			c.Release()
		})
	}
}

// TestClaimRefusesRunOutput: a directory holding any result of a run, or any
// symbolic link, is refused, and nothing is created through the link.
func TestClaimRefusesRunOutput(t *testing.T) {
	for _, tc := range []struct {
		name string
		link bool // a dangling symlink of this name
	}{
		{name: "summary.json"}, {name: "bookings.csv"}, {name: "results.bin"}, {name: evidenceFile}, {name: "junit.xml"},
		{name: "report.md"}, {name: "report.html"},
		{name: "bookings.csv", link: true}, {name: "unrelated", link: true},
	} {
		t.Run(fmt.Sprintf("%s/link=%v", tc.name, tc.link), func(t *testing.T) {
			dir := t.TempDir()
			elsewhere := filepath.Join(t.TempDir(), "target")
			if tc.link {
				require.NoError(t, os.Symlink(elsewhere, filepath.Join(dir, tc.name)))
			} else {
				require.NoError(t, os.WriteFile(filepath.Join(dir, tc.name), []byte("earlier run"), 0o644))
			}
			c, err := ClaimDir(dir)
			if c != nil {
				c.Release()
			}
			require.ErrorIs(t, err, ErrHoldsResults)
			assert.Contains(t, err.Error(), tc.name)
			assert.NoFileExists(t, filepath.Join(dir, LockFile), "a refused claim leaves no lock")
			assert.NoFileExists(t, elsewhere)
			if !tc.link {
				b, err := os.ReadFile(filepath.Join(dir, tc.name))
				require.NoError(t, err)
				assert.Equal(t, "earlier run", string(b))
			}
		})
	}
}

// TestClaimStaleLock: a lock whose holder is gone is taken over only when the
// directory holds no results.
func TestClaimStaleLock(t *testing.T) {
	stale, err := json.Marshal(holder{PID: 999999, Host: "elsewhere", Started: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	for _, tc := range []struct {
		name    string
		results bool
		wantErr error
	}{
		{name: "empty directory", wantErr: nil},
		{name: "with results", results: true, wantErr: ErrHoldsResults},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, LockFile), stale, 0o644))
			if tc.results {
				require.NoError(t, os.WriteFile(filepath.Join(dir, "bookings.csv"), []byte("x"), 0o644))
			}
			c, err := ClaimDir(dir)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				assert.Contains(t, err.Error(), "pid 999999")
				b, rerr := os.ReadFile(filepath.Join(dir, LockFile))
				require.NoError(t, rerr)
				assert.Equal(t, stale, b, "a refused claim leaves the stale lock as it was")
				return
			}
			require.NoError(t, err)
			defer c.Release()
			b, err := os.ReadFile(filepath.Join(dir, LockFile))
			require.NoError(t, err)
			var h holder
			require.NoError(t, json.Unmarshal(b, &h), "lock file %q", b)
			assert.Equal(t, os.Getpid(), h.PID, "the lock now names this process")
			_, err = ClaimDir(dir)
			assert.ErrorIs(t, err, ErrHeld, "the taken-over lock is held")
		})
	}
}

// TestClaimWrites: WriteDir into a claimed directory replaces a symbolic
// link rather than writing through it and scrubs every file; release keeps
// what was written, and a finished run's directory is not claimed again.
func TestClaimWrites(t *testing.T) {
	dir := t.TempDir()
	c, err := ClaimDir(dir)
	require.NoError(t, err)

	elsewhere := filepath.Join(t.TempDir(), "target")
	require.NoError(t, os.Symlink(elsewhere, filepath.Join(dir, "summary.json")))
	r := New(KindLoad, "test", Target{URL: "http://secret-host"})
	paths, err := WriteDir(dir, r, []string{FormatJSON, FormatMarkdown}, Scrub(func(s string) string {
		return strings.ReplaceAll(s, "secret-host", "[REDACTED]")
	}))
	require.NoError(t, err)
	assert.Equal(t, []string{filepath.Join(dir, "summary.json"), filepath.Join(dir, "report.md")}, paths)
	assert.NoFileExists(t, elsewhere, "WriteDir wrote through a symlink")
	for _, p := range paths {
		st, err := os.Lstat(p)
		require.NoError(t, err)
		assert.True(t, st.Mode().IsRegular(), "got mode %v, want a regular file", st.Mode())
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		assert.NotContains(t, string(b), "secret-host", "%s was not scrubbed", p)
		assert.Contains(t, string(b), "[REDACTED]")
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 3, "the lock and two reports, no temporary file left: %v", entries)

	c.Release()
	c.Release() // idempotent
	assert.NoFileExists(t, filepath.Join(dir, LockFile))
	assert.FileExists(t, filepath.Join(dir, "summary.json"), "release keeps what was written")

	_, err = ClaimDir(dir)
	assert.ErrorIs(t, err, ErrHoldsResults, "a finished run's directory is not claimed again")
}

// TestClaimAllowsOtherFiles: files that are not a run's output do not make
// a directory a run's.
func TestClaimAllowsOtherFiles(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"notes.txt", "cpu.prof"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), nil, 0o644))
	}
	c, err := ClaimDir(dir)
	require.NoError(t, err)
	c.Release()
	for _, name := range []string{LockFile, "summary.json", "bookings.csv", "results.bin", evidenceFile, "junit.xml", "report.md", "report.html"} {
		assert.True(t, IsRunOutput(name), "IsRunOutput(%q)", name)
	}
	assert.False(t, IsRunOutput("cpu.prof"))
}

// TestClaimAfterKill: a claim held by another process is refused naming that
// process; once the process is killed (SIGKILL, no cleanup) its lock is stale
// and is taken over, unless the directory holds results.
func TestClaimAfterKill(t *testing.T) {
	for _, results := range []bool{false, true} {
		t.Run(fmt.Sprintf("results=%v", results), func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "XONEHARNESS_CLAIM_HELPER="+dir)
			out, err := cmd.StdoutPipe()
			require.NoError(t, err)
			require.NoError(t, cmd.Start())
			t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
			line, err := bufio.NewReader(out).ReadString('\n')
			require.NoError(t, err)
			require.Equal(t, "claimed\n", line)

			_, err = ClaimDir(dir)
			require.ErrorIs(t, err, ErrHeld)
			assert.Contains(t, err.Error(), fmt.Sprintf("pid %d", cmd.Process.Pid))

			if results {
				require.NoError(t, os.WriteFile(filepath.Join(dir, "results.bin"), []byte("x"), 0o644))
			}
			require.NoError(t, cmd.Process.Kill()) // SIGKILL: no cleanup
			_ = cmd.Wait()
			require.FileExists(t, filepath.Join(dir, LockFile), "a killed run leaves its lock file")

			c, err := ClaimDir(dir)
			if results {
				require.ErrorIs(t, err, ErrHoldsResults)
				assert.Contains(t, err.Error(), "no longer running")
				return
			}
			require.NoError(t, err, "a dead run's lock on an empty directory is taken over")
			c.Release()
		})
	}
}

// TestMain runs the claim helper when asked: claim the directory, say so,
// and wait to be killed.
func TestMain(m *testing.M) {
	if dir := os.Getenv("XONEHARNESS_CLAIM_HELPER"); dir != "" {
		if _, err := ClaimDir(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println("claimed")
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	os.Exit(m.Run())
}
