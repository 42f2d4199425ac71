//go:build unix

package load

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// offersFile writes a small offers file in a new directory.
func offersFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "offers.csv")
	require.NoError(t, os.WriteFile(p, []byte("a,1\nb,2\n"), 0o644))
	return p
}

func TestLockOffers(t *testing.T) {
	t.Run("a second holder is refused with the first one's report directory", func(t *testing.T) {
		p := offersFile(t)
		release, err := LockOffers(p, "reports/2026-11-30T01-load", Shard{})
		require.NoError(t, err)
		_, err = LockOffers(p, "reports/other", Shard{})
		var le *OffersLockedError
		require.ErrorAs(t, err, &le)
		assert.Equal(t, OffersLockedError{Path: p, PID: os.Getpid(), ReportDir: "reports/2026-11-30T01-load", Shard: "0/1"}, *le)
		assert.Contains(t, err.Error(), "report directory reports/2026-11-30T01-load")

		// Through a symlink too: the lock is on the file, not on its name.
		link := filepath.Join(t.TempDir(), "link.csv")
		require.NoError(t, os.Symlink(p, link))
		_, err = LockOffers(link, "reports/third", Shard{})
		require.ErrorAs(t, err, &le)

		require.NoError(t, release())
		require.NoError(t, release(), "release twice")
		again, err := LockOffers(p, "reports/other", Shard{})
		require.NoError(t, err, "free again after release")
		require.NoError(t, again())
		entries, err := os.ReadDir(filepath.Dir(p))
		require.NoError(t, err)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		assert.ElementsMatch(t, []string{"offers.csv", ".offers.csv.lock"}, names, "no slot file left")
	})

	t.Run("shards", func(t *testing.T) {
		tests := []struct {
			name     string
			held     Shard
			next     Shard
			conflict bool
		}{
			{"other index, same count", Shard{0, 2}, Shard{1, 2}, false},
			{"same index", Shard{1, 3}, Shard{1, 3}, true},
			{"other count", Shard{0, 2}, Shard{1, 3}, true},
			{"whole file held", Shard{}, Shard{1, 2}, true},
			{"a shard held, then the whole file", Shard{1, 2}, Shard{}, true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				p := offersFile(t)
				release, err := LockOffers(p, "reports/held", tt.held)
				require.NoError(t, err)
				defer func() { assert.NoError(t, release()) }()
				r2, err := LockOffers(p, "reports/next", tt.next)
				if tt.conflict {
					var le *OffersLockedError
					require.ErrorAs(t, err, &le, "got no error, want the holder of %s refusing %s", tt.held, tt.next)
					assert.Equal(t, "reports/held", le.ReportDir)
					return
				}
				require.NoError(t, err)
				assert.NoError(t, r2())
			})
		}
	})

	t.Run("a stale slot is taken over", func(t *testing.T) {
		p := offersFile(t)
		stale := filepath.Join(filepath.Dir(p), ".offers.csv.lock.0-of-1")
		require.NoError(t, os.WriteFile(stale, []byte("pid 1\nreport_dir \"reports/dead\"\nshard 0/1\n"), 0o644))
		release, err := LockOffers(p, "reports/new", Shard{})
		require.NoError(t, err, "nobody holds the slot")
		b, err := os.ReadFile(stale)
		require.NoError(t, err)
		assert.Contains(t, string(b), `report_dir "reports/new"`)
		assert.NoError(t, release())
	})

	t.Run("stdin needs no lock", func(t *testing.T) {
		r1, err := LockOffers("-", "a", Shard{})
		require.NoError(t, err)
		r2, err := LockOffers("-", "b", Shard{})
		require.NoError(t, err)
		assert.NoError(t, r1())
		assert.NoError(t, r2())
	})

	t.Run("read-only directory: the file itself is locked", func(t *testing.T) {
		p := offersFile(t)
		dir := filepath.Dir(p)
		require.NoError(t, os.Chmod(dir, 0o555))
		if f, err := os.Create(filepath.Join(dir, "probe")); err == nil {
			_ = f.Close()
			t.Skip("the directory stays writable (root): see the whole-file lock case")
		}
		t.Cleanup(func() { _ = os.Chmod(dir, 0o755) })
		release, err := LockOffers(p, "reports/a", Shard{})
		require.NoError(t, err)
		_, err = LockOffers(p, "reports/b", Shard{})
		var le *OffersLockedError
		require.ErrorAs(t, err, &le)
		assert.Equal(t, p, le.Path)
		assert.NoError(t, release())
	})
}

func TestLockWhole(t *testing.T) {
	// The lock LockOffers falls back to in a read-only directory.
	p := offersFile(t)
	release, err := lockWhole(p, p)
	require.NoError(t, err)
	_, err = lockWhole(p, p)
	var le *OffersLockedError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, OffersLockedError{Path: p}, *le)
	assert.Contains(t, err.Error(), "being consumed by another process")
	require.NoError(t, release())
	again, err := lockWhole(p, p)
	require.NoError(t, err)
	assert.NoError(t, again())
}

// TestLockOffersHelper holds the lock of LOAD_LOCK_HELPER_OFFERS for
// TestLockOffersAcrossProcesses until its standard input ends.
func TestLockOffersHelper(t *testing.T) {
	p := os.Getenv("LOAD_LOCK_HELPER_OFFERS")
	if p == "" {
		t.Skip("run by TestLockOffersAcrossProcesses")
	}
	release, err := LockOffers(p, "reports/child", Shard{})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = os.Stdout.WriteString("locked\n")
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	if err := release(); err != nil {
		t.Fatal(err)
	}
}

func TestLockOffersAcrossProcesses(t *testing.T) {
	for _, kill := range []bool{false, true} {
		t.Run("killed="+strconv.FormatBool(kill), func(t *testing.T) {
			p := offersFile(t)
			cmd := exec.Command(os.Args[0], "-test.run=^TestLockOffersHelper$")
			cmd.Env = append(os.Environ(), "LOAD_LOCK_HELPER_OFFERS="+p)
			stdin, err := cmd.StdinPipe()
			require.NoError(t, err)
			stdout, err := cmd.StdoutPipe()
			require.NoError(t, err)
			require.NoError(t, cmd.Start())
			t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
			line, err := bufio.NewReader(stdout).ReadString('\n')
			require.NoError(t, err)
			require.Equal(t, "locked\n", line)

			_, err = LockOffers(p, "reports/parent", Shard{})
			var le *OffersLockedError
			require.ErrorAs(t, err, &le, "the child holds the offers")
			assert.Equal(t, cmd.Process.Pid, le.PID)
			assert.Equal(t, "reports/child", le.ReportDir)

			if kill {
				require.NoError(t, cmd.Process.Kill())
			} else {
				require.NoError(t, stdin.Close())
			}
			_ = cmd.Wait()
			release, err := LockOffers(p, "reports/parent", Shard{})
			require.NoError(t, err, "the lock ends with its holder")
			assert.NoError(t, release())
		})
	}
}
