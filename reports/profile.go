package reports

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/xoneharness/xoneharness/internal/fsx"
)

// reportsRoot is where default report directories are made (see
// DefaultDir), relative to the working directory.
const reportsRoot = "reports"

// checkProfilePath refuses a CPU profile path that names anything already
// there (a symbolic link included) or that lies inside a report directory: a
// directory holding a run's lock file or output (summary.json, bookings.csv,
// results.bin, junit.xml, report.*), a directory below one holding a lock or
// a ledger, or anywhere under the reports root. A profile must never replace
// a run's record.
func checkProfilePath(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("cpu profile: %w", err)
	}
	if _, err := os.Lstat(abs); err == nil {
		return fmt.Errorf("cpu profile: %s already exists; name a new file", path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("cpu profile: %w", err)
	}
	if root, err := filepath.Abs(reportsRoot); err == nil && within(abs, root) {
		return fmt.Errorf("cpu profile: %s is under the reports root %s; write the profile elsewhere", path, reportsRoot+string(filepath.Separator))
	}
	dir := filepath.Dir(abs)
	if name, err := profileBlocker(dir, IsRunOutput); err != nil {
		return fmt.Errorf("cpu profile: %w", err)
	} else if name != "" {
		return fmt.Errorf("cpu profile: %s is inside a report directory (it holds %s); write the profile elsewhere", path, name)
	}
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		name, err := profileBlocker(d, isRunMarker)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		if name != "" {
			return fmt.Errorf("cpu profile: %s is inside the report directory %s (it holds %s); write the profile elsewhere", path, d, name)
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

// CreateProfile creates a CPU profile file at path, exclusively and never
// through a symbolic link, after refusing a path checkProfilePath refuses: a
// profile must never replace a run's record.
func CreateProfile(path string) (*os.File, error) {
	if err := checkProfilePath(path); err != nil {
		return nil, err
	}
	f, err := fsx.CreateExclusive(path, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return f, nil
}

// isRunMarker reports the files that mark a directory, at any depth above a
// path, as a run's: its lock and its raw results.
func isRunMarker(name string) bool {
	return name == LockFile || name == "bookings.csv" || name == "results.bin"
}

// profileBlocker returns the first entry of dir that match accepts; "" when
// none does or dir does not exist.
func profileBlocker(dir string, match func(string) bool) (string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		if match(e.Name()) {
			return e.Name(), nil
		}
	}
	return "", nil
}

// within reports whether path is dir or below it.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
