// Package fsx holds the file-system primitive that the packages writing a
// run's files share: exclusive creation that never follows a symbolic link.
//
//	f, err := fsx.CreateExclusive(filepath.Join(dir, "results.bin"), 0o644)
//	if errors.Is(err, fs.ErrExist) { /* another run's file, or a symlink: refuse */ }
package fsx

import "os"

// CreateExclusive creates path for writing with O_CREATE|O_EXCL|O_NOFOLLOW: it
// fails with an error matching fs.ErrExist when anything is at path already,
// a symbolic link (dangling or not) included, so it never writes through a link
// and never truncates a file it did not create.
func CreateExclusive(path string, perm os.FileMode) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|NoFollow, perm)
}
