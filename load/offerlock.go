package load

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// OffersLockedError is the error of LockOffers when another live process
// holds the offers file for rows this one would use.
type OffersLockedError struct {
	Path      string // the offers file, as given
	PID       int    // the holder's process id; 0 when unknown
	ReportDir string // the holder's report directory; "" when unknown
	Shard     string // the holder's shard, "I/N" ("0/1" when not sharded); "" when unknown
}

// Error names the holder's report directory, so that the user can find the
// run that is consuming the offers.
func (e *OffersLockedError) Error() string {
	holder := "another process"
	if e.PID > 0 {
		holder = fmt.Sprintf("process %d", e.PID)
	}
	var details []string
	if e.ReportDir != "" {
		details = append(details, "report directory "+e.ReportDir)
	}
	if e.Shard != "" && e.Shard != "0/1" {
		details = append(details, "shard "+e.Shard)
	}
	if len(details) > 0 {
		holder += " (" + strings.Join(details, ", ") + ")"
	}
	return fmt.Sprintf("lock offers: %s is being consumed by %s: an offer is confirmed at most once; wait for that run to end or use other offers", e.Path, holder)
}

// ConfirmedError is the error that ends an OfferStream at an offer an earlier
// run's ledger records as booked or of unknown outcome.
type ConfirmedError struct {
	OfferID string // as written in the feed
	Name    string // the feed's name (e.g. the file name)
	Line    int    // the offer's line in the feed
	Ledger  string // the bookings.csv that records it
}

// Error implements error.
func (e *ConfirmedError) Error() string {
	return fmt.Sprintf("offer %s at %s:%d was already confirmed by an earlier run (%s): an offer is confirmed at most once; remove the confirmed rows or make new offers",
		e.OfferID, e.Name, e.Line, e.Ledger)
}

// Confirmed is the set of offers earlier runs' ledgers record, as read by
// LedgerOffers: 20 bytes per offer (a 16-byte key, as for duplicates in an
// OfferStream, and the ledger's index), sorted. It is read-only and safe for
// concurrent use; a nil *Confirmed is empty.
type Confirmed struct {
	keys    []confirmedKey // sorted by key
	ledgers []string       // the bookings.csv paths
}

type confirmedKey struct {
	key    offerKey
	ledger uint32 // index in ledgers
}

// Len returns the number of offers.
func (c *Confirmed) Len() int {
	if c == nil {
		return 0
	}
	return len(c.keys)
}

// Lookup returns the ledger that records offerID (ignoring ASCII case), if
// any.
func (c *Confirmed) Lookup(offerID []byte) (ledger string, ok bool) {
	if c == nil || len(c.keys) == 0 {
		return "", false
	}
	k := offerKeyOf(offerID)
	i, found := slices.BinarySearchFunc(c.keys, k, func(e confirmedKey, k offerKey) int { return bytes.Compare(e.key[:], k[:]) })
	if !found {
		return "", false
	}
	return c.ledgers[c.keys[i].ledger], true
}

// LedgerOffers reads the ledger of every earlier run under reportsRoot (each
// reportsRoot/*/bookings.csv) and returns the offers they record. Columns are
// found by their header names: offer_id is required; every row counts,
// whatever its outcome column says (booked, unknown, or no such column in
// ledgers written before it existed), since a ledger records only confirms
// that booked or may have. A missing reportsRoot is no ledger at all. A
// ledger that cannot be read or has no offer_id column is an error naming it.
//
// Use it with StreamOptions.Confirmed: a feed that holds an offer already
// confirmed is refused at that row rather than skipped, so that a stale
// offers file is noticed (and fixed) instead of silently shrinking the run.
func LedgerOffers(reportsRoot string) (*Confirmed, error) {
	paths, err := filepath.Glob(filepath.Join(reportsRoot, "*", BookingsFile))
	if err != nil {
		return nil, fmt.Errorf("ledgers: %w", err)
	}
	c := &Confirmed{}
	for _, p := range paths {
		if err := c.readLedger(p); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(c.keys, func(a, b confirmedKey) int { return bytes.Compare(a.key[:], b.key[:]) })
	return c, nil
}

// readLedger adds the offers of the ledger at path.
func (c *Confirmed) readLedger(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("ledgers: %w", err)
	}
	defer func() { _ = f.Close() }() // read only
	cr := csv.NewReader(f)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil // created, never written
	}
	if err != nil {
		return fmt.Errorf("ledgers: %s: %w", path, err)
	}
	col := slices.Index(header, "offer_id")
	if col < 0 {
		return fmt.Errorf("ledgers: %s:1: no offer_id column in the header", path)
	}
	idx := uint32(len(c.ledgers))
	c.ledgers = append(c.ledgers, path)
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("ledgers: %s: %w", path, err)
		}
		if col < len(rec) && rec[col] != "" {
			c.keys = append(c.keys, confirmedKey{key: offerKeyOf([]byte(rec[col])), ledger: idx})
		}
	}
}
