package reports

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestProfilePath: a CPU profile never replaces a file and never writes into a
// report directory or the reports root.
func TestProfilePath(t *testing.T) {
	work := t.TempDir()
	t.Chdir(work)
	runDir := filepath.Join(work, "run")
	require.NoError(t, os.Mkdir(runDir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(runDir, "bookings.csv"), []byte("offer_id\n"), 0o644))
	held := filepath.Join(work, "held")
	require.NoError(t, os.MkdirAll(filepath.Join(held, "sub"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(held, LockFile), []byte("{}"), 0o644))
	plain := filepath.Join(work, "plain")
	require.NoError(t, os.Mkdir(plain, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(plain, "old.prof"), []byte("keep"), 0o644))
	require.NoError(t, os.Symlink(filepath.Join(work, "nowhere"), filepath.Join(plain, "link.prof")))

	for _, tc := range []struct {
		path string
		want string // "" when allowed
	}{
		{filepath.Join(plain, "cpu.prof"), ""},
		{"relative.prof", ""},
		{filepath.Join(plain, "old.prof"), "already exists"},
		{filepath.Join(plain, "link.prof"), "already exists"},
		{filepath.Join(runDir, "bookings.csv"), "already exists"},
		{filepath.Join(runDir, "cpu.prof"), "report directory"},
		{filepath.Join(held, "cpu.prof"), "report directory"},
		{filepath.Join(held, "sub", "cpu.prof"), "report directory"},
		{filepath.Join("reports", "x-load", "cpu.prof"), "reports root"},
		{filepath.Join(work, "reports", "cpu.prof"), "reports root"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			err := checkProfilePath(tc.path)
			if tc.want != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.want)
				_, cerr := StartCPUProfile(tc.path)
				assert.Error(t, cerr)
				return
			}
			require.NoError(t, err)
			stop, err := StartCPUProfile(tc.path)
			require.NoError(t, err)
			require.NoError(t, stop())
			assert.FileExists(t, tc.path)
			_, err = StartCPUProfile(tc.path)
			assert.Error(t, err, "a second profile at the same path")
		})
	}
	b, err := os.ReadFile(filepath.Join(plain, "old.prof"))
	require.NoError(t, err)
	assert.Equal(t, "keep", string(b))
	assert.NoFileExists(t, filepath.Join(work, "nowhere"))
	b, err = os.ReadFile(filepath.Join(runDir, "bookings.csv"))
	require.NoError(t, err)
	assert.Equal(t, "offer_id\n", string(b))
}
