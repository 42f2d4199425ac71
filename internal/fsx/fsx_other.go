//go:build !unix

package fsx

import "os"

// NoFollow is the open flag that refuses a symbolic link as the last path
// element (O_NOFOLLOW); 0 where the platform has none.
const NoFollow = 0

// TryLock returns ErrNoLocks: this platform has no advisory file locks.
func TryLock(*os.File) (bool, error) { return false, ErrNoLocks }

// Unlock does nothing on this platform.
func Unlock(*os.File) error { return nil }

// ProcessAlive reports true for any positive pid: this platform cannot tell,
// and a lock must not be taken from a run that may be alive.
func ProcessAlive(pid int) bool { return pid > 0 }
