package reports

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var runStart = time.Date(2026, 12, 6, 10, 0, 0, 0, time.FixedZone("AEDT", 11*3600))

// TestPrepareDir: PrepareDir claims the directory (the default one when
// none is given) and Release removes only the directories PrepareDir
// created, and only while they are empty; a refused directory is left as
// it was.
func TestPrepareDir(t *testing.T) {
	for _, tc := range []struct {
		name    string
		dir     string             // relative to a new working directory; "" is the default
		setup   func(t *testing.T) // before PrepareDir
		write   []string           // files the run writes, relative to the working directory
		wantDir string
		wantErr error
		gone    []string // removed by Release
		kept    []string // still there after Release
	}{
		{name: "new nested, nothing written", dir: "a/b/run", wantDir: "a/b/run", gone: []string{"a/b/run", "a/b", "a"}},
		{name: "new nested, report written", dir: "a/b/run", write: []string{"a/b/run/summary.json"}, wantDir: "a/b/run",
			kept: []string{"a/b/run/summary.json"}},
		{name: "parent shared with another run", dir: "a/run", write: []string{"a/other/report.md"}, wantDir: "a/run",
			gone: []string{"a/run"}, kept: []string{"a/other/report.md"}},
		{name: "existing directory kept", dir: "a/run", setup: func(t *testing.T) { require.NoError(t, os.MkdirAll("a/run", 0o755)) },
			wantDir: "a/run", gone: []string{"a/run/" + LockFile}, kept: []string{"a/run"}},
		{name: "default directory", wantDir: "reports/20261205T230000Z-load", gone: []string{"reports"}},
		{name: "refused, left as it was", dir: "a/run", setup: func(t *testing.T) {
			require.NoError(t, os.MkdirAll("a/run", 0o755))
			require.NoError(t, os.WriteFile("a/run/summary.json", []byte("{}"), 0o644))
		}, wantErr: ErrHoldsResults, kept: []string{"a/run/summary.json"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			if tc.setup != nil {
				tc.setup(t)
			}
			d, err := PrepareDir(tc.dir, runStart, KindLoad)
			if tc.wantErr != nil {
				assert.ErrorIs(t, err, tc.wantErr)
			} else {
				require.NoError(t, err)
				assert.Equal(t, tc.wantDir, d.Dir(), "got dir %q, want %q", d.Dir(), tc.wantDir)
				assert.FileExists(t, filepath.Join(tc.wantDir, LockFile), "claimed")
				_, err := ClaimDir(tc.wantDir)
				assert.ErrorIs(t, err, ErrHeld, "a second claim while the run holds it")
				for _, f := range tc.write {
					require.NoError(t, os.MkdirAll(filepath.Dir(f), 0o755))
					require.NoError(t, os.WriteFile(f, []byte("x"), 0o644))
				}
				d.Release()
				d.Release() // a second call is harmless
			}
			for _, p := range tc.gone {
				assert.NoFileExists(t, p, "removed")
				assert.NoDirExists(t, p, "removed")
			}
			for _, p := range tc.kept {
				_, err := os.Stat(p)
				assert.NoError(t, err, "got %s gone, want it kept", p)
			}
		})
	}
}

// TestClaimOut: an explicit directory is claimed as given and refused when
// it holds results; the default directory takes the suffixes -2, -3 … past
// those another report holds or wrote into, and gives up after -100.
func TestClaimOut(t *testing.T) {
	base := "reports/20261205T230000Z-report"
	held := func(t *testing.T, dir string) {
		c, err := ClaimDir(dir)
		require.NoError(t, err)
		t.Cleanup(c.Release)
	}
	written := func(t *testing.T, dir string) {
		require.NoError(t, os.MkdirAll(dir, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "summary.json"), []byte("{}"), 0o644))
	}
	writtenUpTo := func(t *testing.T, n int) {
		written(t, base)
		for i := 2; i <= n; i++ {
			written(t, fmt.Sprintf("%s-%d", base, i))
		}
	}
	for _, tc := range []struct {
		name    string
		out     string
		setup   func(t *testing.T)
		want    string
		wantErr error
	}{
		{name: "out given", out: "merged", want: "merged"},
		{name: "out holds results", out: "merged", setup: func(t *testing.T) { written(t, "merged") }, wantErr: ErrHoldsResults},
		{name: "out held", out: "merged", setup: func(t *testing.T) { held(t, "merged") }, wantErr: ErrHeld},
		{name: "default", want: base},
		{name: "default held", setup: func(t *testing.T) { held(t, base) }, want: base + "-2"},
		{name: "default written and -2 held", setup: func(t *testing.T) { written(t, base); held(t, base+"-2") }, want: base + "-3"},
		{name: "only -100 left", setup: func(t *testing.T) { writtenUpTo(t, 99) }, want: base + "-100"},
		{name: "every suffix taken", setup: func(t *testing.T) { writtenUpTo(t, 100) }, wantErr: ErrHoldsResults},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			if tc.setup != nil {
				tc.setup(t)
			}
			c, err := ClaimOut(tc.out, runStart, "report")
			if tc.wantErr != nil {
				assert.ErrorIs(t, err, tc.wantErr)
				assert.NoDirExists(t, base+"-101", "no claim past -100")
				return
			}
			require.NoError(t, err)
			defer c.Release()
			assert.Equal(t, tc.want, c.Dir(), "got %q, want %q", c.Dir(), tc.want)
			assert.FileExists(t, filepath.Join(tc.want, LockFile))
		})
	}
}

// TestParseFormats: names and aliases, deduplicated in the order given;
// "all" is every format; an empty list and an unknown name are errors that
// name no flag.
func TestParseFormats(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    []string
		wantErr string
	}{
		{in: "all", want: []string{FormatJSON, FormatMarkdown, FormatJUnit, FormatHTML}},
		{in: " json, Markdown ,xml,json", want: []string{FormatJSON, FormatMarkdown, FormatJUnit}},
		{in: "html", want: []string{FormatHTML}},
		{in: "", wantErr: "empty: want json, md, junit, html or all (comma-separated)"},
		{in: "  ", wantErr: "empty: want json, md, junit, html or all (comma-separated)"},
		{in: "json,pdf", wantErr: `unknown format "pdf" (want json, md, junit, html or all)`},
		{in: "json,", wantErr: `unknown format "" (want json, md, junit, html or all)`},
	} {
		t.Run(fmt.Sprintf("%q", tc.in), func(t *testing.T) {
			got, err := ParseFormats(tc.in)
			if tc.wantErr != "" {
				assert.EqualError(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got, "got %v, want %v", got, tc.want)
		})
	}
}
