package ledger

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Run is what one run records its confirms in: its Journal and, unless its offers are fresh ids,
// the Claims store of its reports root. Close it when the run is over.
type Run struct {
	Journal *Journal
	Claims  *Claims // nil when OpenRun was told not to claim
	// Notes are remarks about the claims store's creation, each naming the store's file.
	Notes []string
}

// ErrNewJournal marks OpenRun's failure to create the run's journal, as opposed to opening the
// claims store.
var ErrNewJournal = errors.New("a run's journal is never overwritten: choose a new directory")

// OpenRun opens the records of the run whose report directory is dir: when claims is set, first
// the claims store of its reports root (dir's parent; leave it unset only for offers that cannot
// have been confirmed before, such as the embedded sandbox's fresh ids), then its journal (Open,
// stamped by now; a failure wraps ErrNewJournal too).
func OpenRun(dir string, claims bool, now func() time.Time) (*Run, error) {
	r := &Run{}
	if claims {
		dir := filepath.Clean(dir)
		c, err := OpenClaims(filepath.Dir(dir), dir)
		if err != nil {
			return nil, err
		}
		r.Claims = c
		for _, n := range c.Notes() {
			r.Notes = append(r.Notes, fmt.Sprintf("claims store %s: %s", c.Path(), n))
		}
	}
	j, err := Open(dir, Options{Claims: r.Claims, Now: now})
	if err != nil {
		err = fmt.Errorf("%w (%w)", err, ErrNewJournal)
		if r.Claims != nil {
			err = errors.Join(err, r.Claims.Close())
		}
		return nil, err
	}
	r.Journal = j
	return r, nil
}

// Close closes the journal, then the claims store. Unless reported (a report of the run was
// written, which names the journal) it removes a journal that no confirm was written to: a run
// that failed before its first confirm leaves none. Close of a nil *Run does nothing.
func (r *Run) Close(reported bool) error {
	if r == nil {
		return nil
	}
	err := r.Journal.Close()
	if !reported && r.Journal.Begun() == 0 {
		_ = os.Remove(r.Journal.Path())
	}
	if r.Claims != nil {
		err = errors.Join(err, r.Claims.Close())
	}
	return err
}
