package reports

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// RunDir is a run's report directory as PrepareDir claimed it; it is safe for concurrent use.
type RunDir struct {
	*Claim
	created []string // the directories PrepareDir made, innermost first
}

// PrepareDir claims the report directory of a run of kind started at now, before any request is
// sent: dir, or DefaultDir(now, kind) when dir is "". It remembers which of the directory and its
// parents did not exist, so that Release removes them again if the run wrote nothing there. Its
// errors are ClaimDir's.
func PrepareDir(dir string, now time.Time, kind string) (*RunDir, error) {
	if dir == "" {
		dir = DefaultDir(now, kind)
	}
	d := &RunDir{}
	for p := filepath.Clean(dir); ; p = filepath.Dir(p) {
		if _, err := os.Stat(p); err == nil || p == filepath.Dir(p) {
			break
		}
		d.created = append(d.created, p)
	}
	var err error
	if d.Claim, err = ClaimDir(dir); err != nil {
		d.Release()
		return nil, err
	}
	return d, nil
}

// Release releases the claim and removes the directories PrepareDir created that are still empty
// (a run that failed before writing anything leaves no litter), innermost first. It may be called
// more than once.
func (d *RunDir) Release() {
	if d.Claim != nil {
		d.Claim.Release()
	}
	for _, p := range d.created {
		if os.Remove(p) != nil {
			return
		}
	}
}

// ClaimOut claims the directory of a report made from saved results (a re-render or a merge): dir,
// or when dir is "" a new DefaultDir(now, kind), suffixed -2, -3 … (up to -100) while another
// report of the same second holds that name or left results in it. Its errors are ClaimDir's.
func ClaimOut(dir string, now time.Time, kind string) (*Claim, error) {
	if dir != "" {
		return ClaimDir(dir)
	}
	base := DefaultDir(now, kind)
	dir = base
	for i := 2; ; i++ {
		c, err := ClaimDir(dir)
		if err == nil || i > 100 || !(errors.Is(err, ErrHeld) || errors.Is(err, ErrHoldsResults)) {
			return c, err
		}
		dir = fmt.Sprintf("%s-%d", base, i)
	}
}
