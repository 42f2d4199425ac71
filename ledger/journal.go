package ledger

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/xoneharness/xoneharness/internal/fsx"
)

// Timings of a Journal's own writer. An outcome row lost with a killed
// process only leaves its confirm pending, which reads as unknown.
const (
	flushEvery = 10 * time.Millisecond // outcome rows wait in memory at most this long
	syncEvery  = time.Second           // what a power loss can lose
)

// ErrClosed is returned by Begin after Close.
var ErrClosed = errors.New("ledger: journal closed")

// Journal is a run's bookings.csv, written ahead (see the package doc):
// Begin claims the offer (when the Journal has a claims store) and records
// the confirm as pending before the caller sends it; Resolve records the
// answer. Begin commits in groups: callers that arrive while a commit is
// being written wait for the next one, which writes all their rows and
// claims at once, so a busy run makes a few system calls per batch, not per
// confirm. Outcome rows are written every 10 ms; the file and the store are
// synced every second and at Close. The first failed write is kept and
// returned by every later Begin. A Journal is safe for concurrent use.
type Journal struct {
	path   string
	claims *Claims
	now    func() time.Time

	mu     sync.Mutex
	cond   *sync.Cond
	f      *os.File
	size   int64 // bytes written: a failed write is cut back to it
	buf    []byte
	queue  []*entry
	leader bool // a Begin is writing a commit
	err    error
	dirty  bool // written since the last sync
	closed bool
	begun  int64 // pending rows written
	stop   chan struct{}
	done   chan struct{}
}

// entry is one Begin waiting for its commit.
type entry struct {
	offerID, quoteID string
	err              error
	done             bool
}

// Options configure Open. The zero value claims nothing and uses time.Now.
type Options struct {
	// Claims, when set, is the reports root's claims store: Begin claims
	// each offer in it before recording it. Leave it nil only for offers that
	// cannot have been confirmed before (fresh ids for the embedded sandbox).
	Claims *Claims
	// Now stamps the rows; nil is time.Now.
	Now func() time.Time
}

// Open creates dir/bookings.csv (exclusively, never through a symbolic
// link: a journal is never overwritten) with its header, and starts its
// writer. Call Close when the run is over.
func Open(dir string, opt Options) (*Journal, error) {
	path := filepath.Join(dir, File)
	f, err := fsx.CreateExclusive(path, 0o644)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	j := &Journal{path: path, claims: opt.Claims, now: opt.Now, f: f, stop: make(chan struct{}), done: make(chan struct{})}
	if j.now == nil {
		j.now = time.Now
	}
	j.cond = sync.NewCond(&j.mu)
	if err := j.write(appendCSV(nil, Header)); err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return nil, err
	}
	go j.background()
	return j, nil
}

// Path is the journal's file.
func (j *Journal) Path() string { return j.path }

// Begin records that a confirm of offerID is about to leave: it claims the
// offer (when the journal has a claims store) and writes its pending row,
// and returns nil once both are in their files. A *ClaimedError means
// another run holds the offer: do not send. Any other error is a failed
// write: the journal is broken and every later Begin fails too; stop
// sending. Begin may be called several times for one offer (several
// confirms of it, each its own row). On a nil Journal it records nothing
// and returns nil.
func (j *Journal) Begin(offerID, quoteID string) error {
	if j == nil {
		return nil
	}
	e := &entry{offerID: offerID, quoteID: quoteID}
	j.mu.Lock()
	defer j.mu.Unlock()
	switch {
	case j.err != nil:
		return j.err
	case j.closed:
		return ErrClosed
	}
	j.queue = append(j.queue, e)
	for !e.done && j.leader {
		j.cond.Wait()
	}
	if e.done {
		return e.err
	}
	// Lead commits until this entry's is written, then hand over.
	j.leader = true
	for !e.done {
		batch, out := j.queue, j.buf
		j.queue, j.buf = nil, nil
		err := ErrClosed
		if !j.closed {
			j.mu.Unlock()
			err = j.commit(batch, out)
			j.mu.Lock()
		}
		if err != nil && err != ErrClosed && j.err == nil {
			j.err = err
		}
		for _, b := range batch {
			b.done = true
			if b.err == nil {
				b.err = err
			}
		}
	}
	j.leader = false
	j.cond.Broadcast()
	return e.err
}

// commit claims the batch's offers, then writes the outcome rows out and a
// pending row for each offer claimed. Only the leader calls it.
func (j *Journal) commit(batch []*entry, out []byte) error {
	if j.claims != nil {
		ids := make([]string, len(batch))
		for i, e := range batch {
			ids[i] = e.offerID
		}
		errs, err := j.claims.Claim(ids)
		if err != nil {
			return err
		}
		for i, e := range batch {
			e.err = errs[i]
		}
	}
	at, n := j.now(), 0
	for _, e := range batch {
		if e.err == nil {
			out = Row{OfferID: e.offerID, QuoteID: e.quoteID, Outcome: Pending, At: at}.appendLine(out)
			n++
		}
	}
	if err := j.write(out); err != nil {
		return err
	}
	j.mu.Lock()
	j.begun += int64(n)
	j.mu.Unlock()
	return nil
}

// Begun is the number of confirms recorded so far.
func (j *Journal) Begun() int64 {
	if j == nil {
		return 0
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.begun
}

// Resolve records the outcome of a confirm Begin recorded (r.Outcome is
// Booked, Refused or Unknown; a zero At is now). The row is written within
// 10 ms. After a failed write it is dropped: the confirm stays pending,
// which reads as unknown. On a nil Journal it does nothing.
func (j *Journal) Resolve(r Row) {
	if j == nil {
		return
	}
	if r.At.IsZero() {
		r.At = j.now()
	}
	line := r.appendLine(nil)
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err == nil && !j.closed {
		j.buf = append(j.buf, line...)
	}
}

// flushLocked writes the buffered outcome rows.
func (j *Journal) flushLocked() error {
	for j.leader {
		j.cond.Wait()
	}
	if j.err != nil || len(j.buf) == 0 {
		return j.err
	}
	out := j.buf
	j.buf = nil
	j.err = j.write(out)
	return j.err
}

// syncLocked writes the buffered rows and commits the journal and the
// claims store to stable storage.
func (j *Journal) syncLocked() error {
	if err := j.flushLocked(); err != nil {
		return err
	}
	if j.claims != nil {
		if err := j.claims.Sync(); err != nil {
			j.err = err
			return err
		}
	}
	if !j.dirty {
		return nil
	}
	j.dirty = false
	if err := j.f.Sync(); err != nil {
		j.err = fmt.Errorf("ledger: sync %s: %w", j.path, err)
	}
	return j.err
}

// Close writes and syncs everything, stops the writer and closes the file
// (not the claims store). It returns the journal's first error, if any.
func (j *Journal) Close() error {
	j.mu.Lock()
	if j.closed {
		defer j.mu.Unlock()
		return j.err
	}
	close(j.stop)
	j.mu.Unlock()
	<-j.done
	j.mu.Lock()
	defer j.mu.Unlock()
	err := j.syncLocked()
	j.closed = true
	if cerr := j.f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("ledger: close %s: %w", j.path, cerr)
	}
	return err
}

// background flushes outcome rows every flushEvery and syncs every
// syncEvery until Close.
func (j *Journal) background() {
	defer close(j.done)
	flush, sync := time.NewTicker(flushEvery), time.NewTicker(syncEvery)
	defer flush.Stop()
	defer sync.Stop()
	for {
		do := j.flushLocked
		select {
		case <-j.stop:
			return
		case <-flush.C:
		case <-sync.C:
			do = j.syncLocked
		}
		j.mu.Lock()
		_ = do()
		j.mu.Unlock()
	}
}

// write appends b to the file; a failed write is cut back, so that the file
// ends with a whole row. Callers serialise writes (the leader, or mu with no
// leader).
func (j *Journal) write(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	n, err := j.f.Write(b)
	if err != nil {
		if n > 0 {
			_ = j.f.Truncate(j.size)
			_, _ = j.f.Seek(j.size, 0)
		}
		return fmt.Errorf("ledger: write %s: %w", j.path, err)
	}
	j.size += int64(n)
	j.dirty = true
	return nil
}
