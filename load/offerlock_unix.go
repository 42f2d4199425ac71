//go:build unix

package load

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// LockOffers takes the advisory lock (flock) that makes an offers file
// consumed by one process at a time, for the rows of shard sh (the zero Shard
// is the whole file), and records this process's pid and reportDir for the
// next one to read. It fails with *OffersLockedError while a live process
// holds rows this one would use: any other holder when not sharded, and
// among shards another holder of the same index or of another count (shards
// I/N and J/N with I != J read disjoint rows and may run side by side).
// release gives the lock back; it is safe to call more than once. A process
// that dies loses its lock with it.
//
// "-" (standard input), named pipes and devices need no lock: what one
// reader reads, no other reader gets. For a regular file (its symlinks
// resolved), the locks live beside it: ".NAME.lock", held briefly while a
// process checks and takes its slot, and ".NAME.lock.I-of-N", held for the
// run and holding the record; a slot file is removed on release, and a stale
// one (its holder died) by the next process. When the directory is read-only
// the offers file itself is locked instead, whole, with no record (shards
// then exclude one another too).
func LockOffers(path, reportDir string, sh Shard) (release func() error, err error) {
	noop := func() error { return nil }
	if path == "-" {
		return noop, nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("lock offers: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return noop, nil
	}
	if sh.Count < 1 {
		sh = Shard{Index: 0, Count: 1}
	}
	real, err := filepath.EvalSymlinks(path)
	if err == nil {
		real, err = filepath.Abs(real)
	}
	if err != nil {
		return nil, fmt.Errorf("lock offers: %w", err)
	}
	dir, base := filepath.Split(real)
	mutexPath := filepath.Join(dir, "."+base+".lock")
	mutex, err := lockFile(mutexPath, os.O_RDWR|os.O_CREATE, syscall.LOCK_EX)
	if errors.Is(err, syscall.EROFS) || errors.Is(err, fs.ErrPermission) {
		return lockWhole(path, real)
	}
	if err != nil {
		return nil, fmt.Errorf("lock offers: %w", err)
	}
	defer func() { _ = mutex.Close() }() // closing releases the flock

	slotPrefix := "." + base + ".lock."
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("lock offers: %w", err)
	}
	for _, e := range entries {
		other, ok := parseSlot(strings.TrimPrefix(e.Name(), slotPrefix))
		if !ok || !strings.HasPrefix(e.Name(), slotPrefix) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		f, err := lockFile(p, os.O_RDWR, syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err == nil: // stale: its holder died without releasing
			_ = os.Remove(p)
			_ = f.Close()
			continue
		case !errors.Is(err, syscall.EWOULDBLOCK):
			return nil, fmt.Errorf("lock offers: %w", err)
		}
		if other.Count != sh.Count || other.Index == sh.Index {
			e := readHolder(p)
			e.Path = path
			return nil, e
		}
	}

	own := filepath.Join(dir, fmt.Sprintf("%s%d-of-%d", slotPrefix, sh.Index, sh.Count))
	f, err := lockFile(own, os.O_RDWR|os.O_CREATE|os.O_EXCL, syscall.LOCK_EX|syscall.LOCK_NB)
	if err != nil {
		return nil, fmt.Errorf("lock offers: %w", err)
	}
	rec := fmt.Sprintf("pid %d\nreport_dir %s\nshard %s\n", os.Getpid(), strconv.Quote(reportDir), sh)
	if _, err := f.WriteString(rec); err != nil {
		_ = os.Remove(own)
		_ = f.Close()
		return nil, fmt.Errorf("lock offers: write %s: %w", own, err)
	}
	var once sync.Once
	return func() error {
		var err error
		once.Do(func() {
			// Under the mutex, so that no process opens the slot between its
			// removal and its unlock.
			m, merr := lockFile(mutexPath, os.O_RDWR|os.O_CREATE, syscall.LOCK_EX)
			if rerr := os.Remove(own); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
				err = fmt.Errorf("lock offers: release: %w", rerr)
			}
			if cerr := f.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("lock offers: release: %w", cerr)
			}
			if merr == nil {
				_ = m.Close()
			}
		})
		return err
	}, nil
}

// lockFile opens path (never through a symlink) and flocks it with how.
func lockFile(path string, flag int, how int) (*os.File, error) {
	f, err := os.OpenFile(path, flag|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, err
	}
	if err := flock(f, how); err != nil {
		_ = f.Close()
		return nil, &fs.PathError{Op: "flock", Path: path, Err: err}
	}
	return f, nil
}

func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// lockWhole locks the offers file itself (real, the resolved path), for a
// directory where no lock file can be created.
func lockWhole(path, real string) (func() error, error) {
	f, err := lockFile(real, os.O_RDONLY, syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return nil, &OffersLockedError{Path: path}
	}
	if err != nil {
		return nil, fmt.Errorf("lock offers: %w", err)
	}
	var once sync.Once
	return func() error {
		var err error
		once.Do(func() {
			if cerr := f.Close(); cerr != nil {
				err = fmt.Errorf("lock offers: release: %w", cerr)
			}
		})
		return err
	}, nil
}

// parseSlot parses a slot file's suffix, "I-of-N".
func parseSlot(s string) (Shard, bool) {
	is, ns, ok := strings.Cut(s, "-of-")
	i, err1 := strconv.Atoi(is)
	n, err2 := strconv.Atoi(ns)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return Shard{}, false
	}
	return Shard{Index: i, Count: n}, true
}

// readHolder reads the record of a live slot file; what it cannot read stays
// unknown.
func readHolder(path string) *OffersLockedError {
	e := &OffersLockedError{}
	f, err := os.Open(path)
	if err != nil {
		return e
	}
	defer func() { _ = f.Close() }() // read only
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), " ")
		switch k {
		case "pid":
			e.PID, _ = strconv.Atoi(v)
		case "report_dir":
			e.ReportDir, _ = strconv.Unquote(v)
		case "shard":
			e.Shard = v
		}
	}
	return e
}
