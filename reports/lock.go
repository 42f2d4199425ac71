package reports

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gofrs/flock"

	"github.com/xoneharness/xoneharness/internal/fsx"
)

// LockFile is the file a Claim keeps in its report directory while a run owns it: JSON naming the
// holder's pid, host and start time, under an advisory lock (flock) the kernel drops when the
// process exits, killed or not.
const LockFile = ".xoneharness.lock"

// ErrHeld means a report directory is claimed by a running xoneharness.
var ErrHeld = errors.New("held by a running xoneharness")

// ErrHoldsResults means a report directory already holds the results of a run or a symbolic link.
var ErrHoldsResults = errors.New("already holds results of a run")

// holder is what LockFile records about the run that claimed a directory.
type holder struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Started time.Time `json:"started"`
}

func (h holder) String() string {
	if h.PID == 0 {
		return "a run whose lock file names no process"
	}
	return fmt.Sprintf("pid %d on %s since %s", h.PID, h.Host, h.Started.UTC().Format(time.RFC3339))
}

// Claim is a run's exclusive ownership of its report directory; it is safe for concurrent use.
type Claim struct {
	dir  string
	root *os.Root
	lock *flock.Flock
	once sync.Once
}

// ClaimDir creates dir (and parents) if needed and claims it for one run before anything is
// written, publishing LockFile as a hard link of a written and locked temporary file. It refuses a
// directory claimed by a live run (ErrHeld, naming its pid) and one that holds a run's output
// (IsRunOutput) or a symbolic link (ErrHoldsResults); a stale LockFile (its holder died) is taken
// over only when there is no output. Without file locks it fails. Call Release when done.
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
		return nil, fmt.Errorf("reports: claim %s: %w", dir, err)
	}
	if name, err := runOutput(root); err != nil || name != "" {
		c.Release()
		if err != nil {
			return nil, fmt.Errorf("reports: claim %s: %w", dir, err)
		}
		return nil, fmt.Errorf("reports: claim %s: %w (%s); choose a new directory", dir, ErrHoldsResults, name)
	}
	return c, nil
}

// acquire publishes LockFile, removing a stale one first.
func (c *Claim) acquire() error {
	host, _ := os.Hostname()
	me, err := json.Marshal(holder{PID: os.Getpid(), Host: host, Started: time.Now().UTC()})
	if err != nil {
		return err
	}
	for range 5 {
		if ok, err := c.publish(me); ok || err != nil {
			return err
		}
		if err := c.clearStale(); err != nil {
			return err
		}
	}
	return fmt.Errorf("%w (the lock file keeps changing)", ErrHeld)
}

// publish links a new, written and locked temporary file to LockFile; false when LockFile exists.
func (c *Claim) publish(me []byte) (bool, error) {
	tmp := LockFile + ".tmp-" + rand.Text()
	f, err := c.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return false, err
	}
	defer func() { _ = c.root.Remove(tmp) }()
	_, err = f.Write(me)
	if err = errors.Join(err, f.Sync(), f.Close()); err != nil {
		return false, err
	}
	lk := flock.New(filepath.Join(c.dir, tmp), flock.SetFlag(os.O_RDONLY|fsx.NoFollow))
	if ok, err := lk.TryLock(); !ok || err != nil {
		return false, errors.Join(fmt.Errorf("lock %s", tmp), err)
	}
	if err := c.root.Link(tmp, LockFile); err != nil {
		_ = lk.Unlock()
		if errors.Is(err, fs.ErrExist) {
			return false, nil
		}
		return false, err
	}
	c.lock = lk
	return true, nil
}

// clearStale removes LockFile when its holder is gone and there are no results; a live one is ErrHeld.
func (c *Claim) clearStale() error {
	st, err := c.root.Lstat(LockFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case !st.Mode().IsRegular():
		return fmt.Errorf("%w (%s is not a regular file)", ErrHoldsResults, LockFile)
	}
	lk := flock.New(filepath.Join(c.dir, LockFile), flock.SetFlag(os.O_RDONLY|fsx.NoFollow))
	locked, err := lk.TryLock()
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	var h holder
	b, _ := c.root.ReadFile(LockFile) // a lock file that cannot be read names no holder
	_ = json.Unmarshal(bytes.TrimSpace(b), &h)
	switch {
	case err != nil:
		return err
	case !locked:
		return fmt.Errorf("%w (%s)", ErrHeld, h)
	}
	defer func() { _ = lk.Unlock() }()
	if !c.current(lk) {
		return nil // released and replaced while we looked
	}
	name, err := runOutput(c.root)
	switch {
	case err != nil:
		return err
	case name != "":
		return fmt.Errorf("%w (%s, left by %s, which is no longer running); choose a new directory", ErrHoldsResults, name, h)
	}
	return c.root.Remove(LockFile)
}

// current reports whether lk is locked on the file now at LockFile.
func (c *Claim) current(lk *flock.Flock) bool {
	held, err := lk.Stat()
	if err != nil {
		return false
	}
	now, err := c.root.Lstat(LockFile)
	return err == nil && os.SameFile(held, now)
}

// Dir is the claimed directory, as given to ClaimDir.
func (c *Claim) Dir() string { return c.dir }

// Release removes LockFile (if still this claim's) and drops the lock; more calls do nothing.
func (c *Claim) Release() {
	c.once.Do(func() {
		if c.current(c.lock) {
			_ = c.root.Remove(LockFile)
		}
		_ = c.lock.Unlock()
		c.root.Close()
	})
}

// IsRunOutput reports whether a file name marks its directory as a run's: LockFile, summary.json,
// bookings.csv, results.bin, evidence.csv, junit.xml or report.*.
func IsRunOutput(name string) bool {
	switch name {
	case LockFile, "summary.json", "bookings.csv", "results.bin", evidenceFile, "junit.xml":
		return true
	}
	return strings.HasPrefix(name, "report.")
}

// runOutput returns the first entry of root but the lock files that IsRunOutput or is a symbolic link.
func runOutput(root *os.Root) (string, error) {
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
		switch name := e.Name(); {
		case name == LockFile || strings.HasPrefix(name, LockFile+".tmp-"):
		case e.Type()&fs.ModeSymlink != 0:
			return name + " is a symbolic link", nil
		case IsRunOutput(name):
			return name, nil
		}
	}
	return "", nil
}
