package ledger

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unique"

	"github.com/gofrs/flock"

	"github.com/xoneharness/xoneharness/internal/fsx"
	"github.com/xoneharness/xoneharness/internal/xone"
)

// ClaimsFile is the claims store's name in a reports root.
const ClaimsFile = ".xoneharness-claims.csv"

// ClaimedError is the refusal of an offer that another run under the same
// reports root has claimed (finished, running or killed).
type ClaimedError struct {
	OfferID string // as the caller gave it
	Run     string // the other run's report directory
}

// Error names the other run, so that the user can find what it did with the
// offer.
func (e *ClaimedError) Error() string {
	return fmt.Sprintf("offer %s was already claimed by the run in %s: an offer is confirmed at most once per reports root; remove it from the offers or make new offers",
		e.OfferID, e.Run)
}

// Claims is the claims store of a reports root: one append-only CSV file
// (ClaimsFile, lines "offer_id,run") shared by every run under the root, in
// any process. An offer another run claimed is refused with a *ClaimedError,
// whichever offers file, copy or pipe it came from. Claims are never
// released: a killed run's offers are not confirmed again before someone has
// looked at its journal.
//
// Every claim takes an exclusive flock on the file, reads what other
// processes appended since the last look, checks and appends, then unlocks.
// Claims of other runs are kept in memory (about 40 bytes each, run names
// interned); this run's own are not, so memory does not grow with the run.
// A Claims is safe for concurrent use.
type Claims struct {
	path string
	root string
	run  string // this run's report directory, relative to root
	tail string // what follows an offer id in this run's claim lines
	lock *flock.Flock

	mu     sync.Mutex
	f      *os.File                      // read and appended (O_APPEND)
	off    int64                         // end of the last complete line read or written
	endsNL bool                          // the file ends with a line feed
	dirty  bool                          // appended since the last Sync
	buf    []byte                        // the claim lines being written
	others map[Key]unique.Handle[string] // offer -> the other run that holds it
	notes  []string
}

// OpenClaims opens (creating it if needed) the claims store of the reports
// root root for the run whose report directory is runDir (a directory
// directly under root). When it creates the store, it first takes in the
// offers of the ledgers already under root (root/*/bookings.csv, found by
// reading the directory, never by a glob); a ledger it cannot read, or a
// bookings.csv that is not a regular file (a dangling symbolic link), is
// skipped with a note (Notes), never an error.
func OpenClaims(root, runDir string) (*Claims, error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("ledger: claims: %w", err)
	}
	path := filepath.Join(root, ClaimsFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND|fsx.NoFollow, 0o644)
	if err != nil {
		return nil, fmt.Errorf("ledger: claims: %w", err)
	}
	run := filepath.Base(filepath.Clean(runDir))
	c := &Claims{
		path: path, root: root, run: run, tail: claimTail(run), f: f, endsNL: true,
		lock:   flock.New(path, flock.SetFlag(os.O_RDONLY|fsx.NoFollow)),
		others: map[Key]unique.Handle[string]{},
	}
	if err := c.locked(c.start); err != nil {
		_ = f.Close()
		return nil, err
	}
	return c, nil
}

// start reads the store, or writes its header and the earlier ledgers'
// offers into a new one. Called under the file lock.
func (c *Claims) start() error {
	size, err := c.catchUp()
	if err != nil || size > 0 {
		return err
	}
	return c.append(size, c.importLedgers([]byte("offer_id,run\n")))
}

// importLedgers writes a claim line for every offer of the ledgers under
// the root to b, in the name of the run that wrote each.
func (c *Claims) importLedgers(b []byte) []byte {
	entries, err := os.ReadDir(c.root)
	if err != nil {
		c.notes = append(c.notes, fmt.Sprintf("earlier ledgers not read: %v", err))
		return b
	}
	for _, e := range entries {
		if !e.IsDir() { // a symbolic link to a directory included
			continue
		}
		p := filepath.Join(c.root, e.Name(), File)
		st, err := os.Lstat(p)
		switch {
		case errors.Is(err, os.ErrNotExist):
			continue
		case err != nil:
			c.notes = append(c.notes, fmt.Sprintf("ignored %s: %v", p, err))
			continue
		case !st.Mode().IsRegular():
			c.notes = append(c.notes, fmt.Sprintf("ignored %s: not a regular file (%s)", p, st.Mode().Type()))
			continue
		}
		rows, err := ReadFile(p)
		if err != nil {
			c.notes = append(c.notes, fmt.Sprintf("ignored %v", err))
			continue
		}
		tail, run := claimTail(e.Name()), unique.Make(e.Name())
		for _, r := range rows {
			b = append(append(b, r.OfferID...), tail...)
			c.others[KeyOf(r.OfferID)] = run
		}
	}
	return b
}

// Notes are remarks about the store's creation (earlier ledgers skipped).
func (c *Claims) Notes() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.notes...)
}

// Path is the store's file.
func (c *Claims) Path() string { return c.path }

// Claim claims offerIDs for this run. errs[i] is nil when offerIDs[i] is
// now this run's (already being this run's included), a *ClaimedError when
// another run holds it; err is an I/O failure of the store, in which case
// nothing was claimed.
func (c *Claims) Claim(offerIDs []string) (errs []error, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	errs = make([]error, len(offerIDs))
	err = c.locked(func() error {
		size, err := c.catchUp()
		if err != nil {
			return err
		}
		b := c.buf[:0]
		for i, id := range offerIDs {
			if err := xone.CheckID(id); err != nil {
				errs[i] = fmt.Errorf("offer id: %w", err)
				continue
			}
			if r, taken := c.others[KeyOf(id)]; taken {
				errs[i] = &ClaimedError{OfferID: id, Run: filepath.Join(c.root, r.Value())}
				continue
			}
			b = append(append(b, id...), c.tail...)
		}
		c.buf = b
		return c.append(size, b)
	})
	return errs, err
}

// Holder returns the report directory of the other run that holds offerID,
// as of the last look at the store (Refresh looks again).
func (c *Claims) Holder(offerID string) (runDir string, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.others[KeyOf(offerID)]
	if !ok {
		return "", false
	}
	return filepath.Join(c.root, r.Value()), true
}

// Refresh reads what other runs claimed since the last look.
func (c *Claims) Refresh() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.locked(func() error {
		_, err := c.catchUp()
		return err
	})
}

// Sync commits the store to stable storage (a power loss keeps every claim
// made before it).
func (c *Claims) Sync() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.dirty {
		return nil
	}
	c.dirty = false
	if err := c.f.Sync(); err != nil {
		return fmt.Errorf("ledger: sync %s: %w", c.path, err)
	}
	return nil
}

// Close syncs and closes the store.
func (c *Claims) Close() error {
	err := c.Sync()
	c.mu.Lock()
	defer c.mu.Unlock()
	if cerr := c.f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("ledger: close %s: %w", c.path, cerr)
	}
	return err
}

// locked runs fn holding the store's file lock.
func (c *Claims) locked(fn func() error) error {
	if err := c.lock.Lock(); err != nil {
		return fmt.Errorf("ledger: lock %s: %w", c.path, err)
	}
	err := fn()
	if uerr := c.lock.Unlock(); uerr != nil && err == nil {
		err = fmt.Errorf("ledger: unlock %s: %w", c.path, uerr)
	}
	return err
}

// catchUp reads the lines appended since off and returns the store's size.
// A line cut short (a full disk) stays unread until a later writer ends it;
// a line that is not "offer_id,run" is skipped. Called under the file lock,
// so the size holds until the lock is released.
func (c *Claims) catchUp() (size int64, err error) {
	size, err = c.f.Seek(0, io.SeekEnd) // cheaper than Stat; writes append anyway
	if err != nil {
		return 0, fmt.Errorf("ledger: claims: %w", err)
	}
	if size <= c.off {
		return size, nil // nobody appended since the last look
	}
	data := make([]byte, size-c.off)
	if _, err := c.f.ReadAt(data, c.off); err != nil {
		return 0, fmt.Errorf("ledger: read %s: %w", c.path, err)
	}
	c.endsNL = data[len(data)-1] == '\n'
	end := bytes.LastIndexByte(data, '\n') + 1
	for _, line := range strings.Split(string(data[:end]), "\n") {
		id, run, ok := strings.Cut(line, ",")
		if !ok || id == "" || id == "offer_id" {
			continue
		}
		if r, err := url.QueryUnescape(run); err == nil && r != c.run {
			c.others[KeyOf(id)] = unique.Make(r)
		}
	}
	c.off += int64(end)
	return size, nil
}

// append writes b at the end of the store, whose size is size (read under
// the lock), after a line feed if the file does not end with one (a line
// cut short stays a line of its own). A failed write is cut off again, so
// no half line is left for the next writer's line to join.
func (c *Claims) append(size int64, b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if !c.endsNL {
		b = append([]byte{'\n'}, b...)
	}
	if _, err := c.f.Write(b); err != nil {
		if c.f.Truncate(size) != nil {
			c.endsNL = false
		}
		return fmt.Errorf("ledger: write %s: %w", c.path, err)
	}
	c.off, c.endsNL, c.dirty = size+int64(len(b)), true, true
	return nil
}

// claimTail is what follows an offer id in a claim line of run.
func claimTail(run string) string {
	return "," + url.QueryEscape(run) + "\n"
}
