//go:build unix

package fsx

import (
	"errors"
	"os"
	"syscall"
)

// NoFollow is the open flag that refuses a symbolic link as the last path
// element (O_NOFOLLOW); 0 where the platform has none.
const NoFollow = syscall.O_NOFOLLOW

// TryLock takes an exclusive advisory lock (flock) on f without waiting. It
// returns false when another open file (in this process or another) holds it.
// The kernel drops the lock when the holder closes f or exits, killed or not.
func TryLock(f *os.File) (bool, error) {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EWOULDBLOCK):
			return false, nil
		}
		return false, &os.PathError{Op: "flock", Path: f.Name(), Err: err}
	}
}

// Unlock drops the lock TryLock took on f.
func Unlock(f *os.File) error {
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_UN); err != nil {
		return &os.PathError{Op: "flock", Path: f.Name(), Err: err}
	}
	return nil
}

// ProcessAlive reports whether a process with this id exists on this host.
func ProcessAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
