package reports

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/xoneharness/xoneharness/internal/fsx"
)

// LockFile is the file a Claim keeps in its report directory while a run owns
// it: JSON naming the holder's pid, host and start time. The holder also keeps
// an advisory lock (flock) on it, which the kernel drops when the process
// exits, killed or not.
const LockFile = ".xoneharness.lock"

// ErrHeld means a report directory is claimed by a running xoneharness.
var ErrHeld = errors.New("held by a running xoneharness")

// ErrHoldsResults means a report directory already holds the results of a run
// (or a symbolic link, which a run never follows).
var ErrHoldsResults = errors.New("already holds results of a run")

// Holder is what LockFile records about the run that claimed a directory.
type Holder struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Started time.Time `json:"started"`
}

// String names the holder for an error message: "pid N on HOST since TIME".
func (h Holder) String() string {
	if h.PID == 0 {
		return "a run still writing its lock file"
	}
	return fmt.Sprintf("pid %d on %s since %s", h.PID, h.Host, h.Started.UTC().Format(time.RFC3339))
}

// Claim is a run's exclusive ownership of its report directory. Every file the
// run writes there goes through Create or WriteFileAtomic, which never follow
// a symbolic link and never overwrite a file the run did not write. A Claim is
// safe for concurrent use.
type Claim struct {
	dir  string
	root *os.Root
	lock *os.File

	mu       sync.Mutex
	released bool
}

// ClaimDir creates dir (and parents) if needed and claims it for one run
// before anything is written: it publishes LockFile atomically (a hard link of
// a fully written temporary file, so the lock never exists half written) and
// holds an advisory lock on it. It refuses, with an error matching ErrHeld and
// naming the holder's pid, a directory claimed by a live run; and, with an
// error matching ErrHoldsResults, a directory that holds results of a run
// (summary.json, bookings.csv, results.bin, junit.xml, report.*) or any
// symbolic link. A stale LockFile, left by a run that died (its advisory lock
// is gone or, where there are no such locks, its pid is dead on this host),
// is taken over only when the directory holds no results. Call Release when
// the run has written everything.
func ClaimDir(dir string) (*Claim, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("reports: create %s: %w", dir, err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("reports: open %s: %w", dir, err)
	}
	c := &Claim{dir: dir, root: root}
	if err := c.acquire(); err != nil {
		root.Close()
		return nil, err
	}
	if name, err := runOutput(root, true); err != nil || name != "" {
		c.Release()
		if err != nil {
			return nil, fmt.Errorf("reports: claim %s: %w", dir, err)
		}
		return nil, fmt.Errorf("reports: claim %s: %w (%s); choose a new directory", dir, ErrHoldsResults, name)
	}
	return c, nil
}

// acquire publishes LockFile or takes over a stale one.
func (c *Claim) acquire() error {
	me, err := json.Marshal(self())
	if err != nil {
		return fmt.Errorf("reports: claim %s: %w", c.dir, err)
	}
	for range 5 {
		tmp := LockFile + ".tmp-" + randomSuffix()
		f, err := c.root.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL|fsx.NoFollow, 0o644)
		if err != nil {
			return fmt.Errorf("reports: claim %s: %w", c.dir, err)
		}
		_, err = f.Write(me)
		if err == nil {
			err = f.Sync()
		}
		if err == nil {
			if _, lerr := fsx.TryLock(f); lerr != nil && !errors.Is(lerr, fsx.ErrNoLocks) {
				err = lerr
			}
		}
		if err == nil {
			err = c.root.Link(tmp, LockFile)
		}
		_ = c.root.Remove(tmp)
		if err == nil {
			c.lock = f
			return nil
		}
		f.Close()
		if !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("reports: claim %s: %w", c.dir, err)
		}
		ok, err := c.takeOver(me)
		if ok || err != nil {
			return err
		}
		// The lock file changed under us (its holder released it): try again.
	}
	return fmt.Errorf("reports: claim %s: %w (the lock file keeps changing)", c.dir, ErrHeld)
}

// takeOver opens the existing LockFile and makes it ours if its holder is
// gone and the directory holds no results. It returns false, nil when the
// lock file was replaced meanwhile.
func (c *Claim) takeOver(me []byte) (bool, error) {
	st, err := c.root.Lstat(LockFile)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reports: claim %s: %w", c.dir, err)
	}
	if !st.Mode().IsRegular() {
		return false, fmt.Errorf("reports: claim %s: %w (%s is not a regular file)", c.dir, ErrHoldsResults, LockFile)
	}
	f, err := c.root.OpenFile(LockFile, os.O_RDWR|fsx.NoFollow, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reports: claim %s: %w", c.dir, err)
	}
	keep := false
	defer func() {
		if !keep {
			f.Close()
		}
	}()
	holder := readHolder(f)
	locked, err := fsx.TryLock(f)
	switch {
	case errors.Is(err, fsx.ErrNoLocks):
		me := self()
		locked = holder.PID != 0 && (holder.Host != me.Host || !fsx.ProcessAlive(holder.PID))
	case err != nil:
		return false, fmt.Errorf("reports: claim %s: %w", c.dir, err)
	}
	if !locked {
		return false, fmt.Errorf("reports: claim %s: %w (%s)", c.dir, ErrHeld, holder)
	}
	if now, err := c.root.Lstat(LockFile); err != nil || !sameFile(f, now) {
		_ = fsx.Unlock(f)
		return false, nil // released and replaced while we looked
	}
	// The holder is gone: ours only if it left no results behind.
	if name, err := runOutput(c.root, true); err != nil || name != "" {
		_ = fsx.Unlock(f)
		if err != nil {
			return false, fmt.Errorf("reports: claim %s: %w", c.dir, err)
		}
		return false, fmt.Errorf("reports: claim %s: %w (%s, left by %s, which is no longer running); choose a new directory", c.dir, ErrHoldsResults, name, holder)
	}
	err = f.Truncate(0)
	if err == nil {
		_, err = f.WriteAt(me, 0)
	}
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		_ = fsx.Unlock(f)
		return false, fmt.Errorf("reports: claim %s: %w", c.dir, err)
	}
	keep = true
	c.lock = f
	return true, nil
}

// Dir is the claimed directory, as given to ClaimDir.
func (c *Claim) Dir() string { return c.dir }

// Path is the path of name inside the claimed directory.
func (c *Claim) Path(name string) string { return filepath.Join(c.dir, name) }

// Create creates name in the claimed directory for writing with
// O_CREATE|O_EXCL|O_NOFOLLOW: it fails when anything, a symbolic link
// included, is there already. name is a plain file name.
func (c *Claim) Create(name string) (*os.File, error) {
	if err := c.check(name); err != nil {
		return nil, err
	}
	f, err := c.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|fsx.NoFollow, 0o644)
	if err != nil {
		return nil, fmt.Errorf("reports: create %s: %w", c.Path(name), err)
	}
	return f, nil
}

// WriteFileAtomic writes data to a new temporary file in the claimed
// directory, syncs it and renames it to name, so a reader never sees a
// truncated file. A symbolic link at name is replaced, never followed.
func (c *Claim) WriteFileAtomic(name string, data []byte) error {
	if err := c.check(name); err != nil {
		return err
	}
	tmp := "." + name + ".tmp-" + randomSuffix()
	f, err := c.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|fsx.NoFollow, 0o644)
	if err != nil {
		return fmt.Errorf("reports: write %s: %w", c.Path(name), err)
	}
	_, werr := f.Write(data)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = c.root.Rename(tmp, name)
	}
	if werr != nil {
		_ = c.root.Remove(tmp)
		return fmt.Errorf("reports: write %s: %w", c.Path(name), werr)
	}
	return nil
}

// WriteReport writes the report in each format into the claimed directory
// (each file atomically) and returns the paths written.
func (c *Claim) WriteReport(r *Report, formats []string) ([]string, error) {
	return writeFormats(r, formats, c.Path, c.WriteFileAtomic)
}

// Release removes LockFile (if it is still this claim's) and drops the lock.
// It is safe to call more than once; the files written stay.
func (c *Claim) Release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.released {
		return
	}
	c.released = true
	if c.lock != nil {
		if st, err := c.root.Lstat(LockFile); err == nil && sameFile(c.lock, st) {
			_ = c.root.Remove(LockFile)
		}
		_ = fsx.Unlock(c.lock)
		c.lock.Close()
	}
	c.root.Close()
}

func (c *Claim) check(name string) error {
	c.mu.Lock()
	released := c.released
	c.mu.Unlock()
	switch {
	case released:
		return fmt.Errorf("reports: write %s: the claim on %s was released", name, c.dir)
	case name == "" || name == "." || name == ".." || name == LockFile || filepath.Base(name) != name || strings.ContainsAny(name, `/\`):
		return fmt.Errorf("reports: write %q: not a plain file name in %s", name, c.dir)
	}
	return nil
}

// IsRunOutput reports whether a file name in a directory marks it as a run's
// report directory: LockFile, summary.json, bookings.csv, results.bin,
// junit.xml or report.*.
func IsRunOutput(name string) bool {
	switch name {
	case LockFile, "summary.json", "bookings.csv", "results.bin", "junit.xml":
		return true
	}
	return strings.HasPrefix(name, "report.")
}

// RunOutput returns the name of the first entry of dir that marks it as a
// run's report directory (see IsRunOutput) or that is a symbolic link; "" when
// there is none or dir does not exist.
func RunOutput(dir string) (string, error) {
	root, err := os.OpenRoot(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reports: read %s: %w", dir, err)
	}
	defer root.Close()
	return runOutput(root, false)
}

// runOutput scans root; claimed skips the lock file and the temporary lock
// files of concurrent claims.
func runOutput(root *os.Root, claimed bool) (string, error) {
	d, err := root.Open(".")
	if err != nil {
		return "", err
	}
	defer d.Close()
	entries, err := d.ReadDir(-1)
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		name := e.Name()
		if claimed && (name == LockFile || strings.HasPrefix(name, LockFile+".tmp-")) {
			continue
		}
		if e.Type()&fs.ModeSymlink != 0 {
			return name + " is a symbolic link", nil
		}
		if IsRunOutput(name) {
			return name, nil
		}
	}
	return "", nil
}

func readHolder(f *os.File) Holder {
	var h Holder
	b := make([]byte, 4096)
	n, _ := f.ReadAt(b, 0)
	_ = json.Unmarshal(bytes.TrimSpace(b[:n]), &h)
	return h
}

func self() Holder {
	host, _ := os.Hostname()
	return Holder{PID: os.Getpid(), Host: host, Started: time.Now().UTC()}
}

func sameFile(f *os.File, st fs.FileInfo) bool {
	fst, err := f.Stat()
	return err == nil && os.SameFile(fst, st)
}

func randomSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}
