package reports

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"

	"github.com/xoneharness/xoneharness/internal/fsx"
)

// reportsRoot is where DefaultDir makes report directories, relative to the working directory.
const reportsRoot = "reports"

// StartCPUProfile starts a CPU profile (runtime/pprof) into a new file at path, created
// exclusively and never through a symbolic link; stop ends the profile and closes the file.
// It refuses a path that exists or lies inside a report directory (one holding a run's output, a
// directory below one holding a lock, a journal or results.bin, anywhere under the reports root): a
// profile must never replace a run's record.
func StartCPUProfile(path string) (stop func() error, err error) {
	if err := checkProfilePath(path); err != nil {
		return nil, err
	}
	f, err := fsx.CreateExclusive(path, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		return nil, errors.Join(fmt.Errorf("cpu profile: %w", err), f.Close())
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}

// checkProfilePath is StartCPUProfile's refusal of path.
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
	// Above dir, a lock, a journal or raw results mark a run's directory.
	isRunMarker := func(name string) bool { return name == LockFile || name == "bookings.csv" || name == "results.bin" }
	for d, match := dir, IsRunOutput; ; d, match = filepath.Dir(d), isRunMarker {
		name, err := profileBlocker(d, match)
		switch {
		case err != nil:
			return fmt.Errorf("cpu profile: %w", err)
		case name != "" && d == dir:
			return fmt.Errorf("cpu profile: %s is inside a report directory (it holds %s); write the profile elsewhere", path, name)
		case name != "":
			return fmt.Errorf("cpu profile: %s is inside the report directory %s (it holds %s); write the profile elsewhere", path, d, name)
		case d == filepath.Dir(d):
			return nil
		}
	}
}

// profileBlocker returns the first entry of dir that match accepts ("" if none or dir is unreadable).
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
