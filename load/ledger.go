package load

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/xoneharness/xoneharness/internal/fsx"
)

// Output file names in Config.OutDir.
const (
	ResultsFile  = "results.bin"
	BookingsFile = "bookings.csv"
)

// resultsWriter streams results to results.bin (vegeta gob) without bodies or
// response headers.
type resultsWriter struct {
	f   *os.File
	buf *bufio.Writer
	enc vegeta.Encoder
	err error
	hdr http.Header // reused for every result: the encoder does not keep it
	val []string    // hdr[IntendedHeader]
}

// newResultsWriter creates dir/results.bin exclusively (never through a
// symbolic link): an earlier run's results are never truncated.
func newResultsWriter(dir string) (*resultsWriter, error) {
	f, err := fsx.CreateExclusive(filepath.Join(dir, ResultsFile), 0o644)
	if err != nil {
		return nil, fmt.Errorf("load: results: %w", err)
	}
	buf := bufio.NewWriterSize(f, 64<<10)
	val := make([]string, 1)
	return &resultsWriter{f: f, buf: buf, enc: vegeta.NewEncoder(buf), hdr: http.Header{IntendedHeader: val}, val: val}, nil
}

// write encodes r with Body dropped and Headers replaced by the intended send
// time. It does not keep r.
func (w *resultsWriter) write(r *vegeta.Result, intended time.Time) {
	if w.err != nil {
		return
	}
	out := *r
	out.Body = nil
	w.val[0] = strconv.FormatInt(intended.UnixNano(), 10)
	out.Headers = w.hdr
	if err := w.enc.Encode(&out); err != nil {
		w.err = fmt.Errorf("load: write %s: %w", ResultsFile, err)
	}
}

// flush writes the buffered results to the file (nothing when none are
// buffered). The engine calls it on the ledger's cadence, bookingsFlushEvery,
// so a killed run's results.bin lags its ledger by at most that interval; the
// last record may be cut, and MergeResults reads up to it.
func (w *resultsWriter) flush() error {
	if w.err == nil {
		if err := w.buf.Flush(); err != nil {
			w.err = fmt.Errorf("load: write %s: %w", ResultsFile, err)
		}
	}
	return w.err
}

func (w *resultsWriter) close() error {
	err := w.flush()
	if cerr := w.f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("load: close %s: %w", ResultsFile, cerr)
	}
	return err
}

// Ledger outcomes: what a confirm the harness sent may have done.
const (
	// OutcomeBooked: the target answered 2xx; the booking id is in the row
	// when the body had one.
	OutcomeBooked = "booked"
	// OutcomeUnknown: the confirm was sent but no refusal came back (a
	// timeout, a reset, an answer abandoned at an interrupt, a 5xx, a 3xx, a
	// 2xx whose body could not be read): it may have booked. Look such
	// offers up before cancelling.
	OutcomeUnknown = "unknown"
)

// Ledger is bookings.csv: one row per confirm that booked or may have
// booked, so that a run's side effects can be cleaned up. Known refusals (a
// 4xx answer, 401 included) get no row. Rows are buffered and reach the file
// on Flush (the load engine flushes every bookingsFlushEvery) and on Close,
// also on interrupt; a process killed outright (SIGKILL) loses at most the
// rows of its last flush interval. (A write per row cost 3% of a saturated
// run's CPU.) A Ledger is safe for concurrent use: the contract stage and the
// load stage of one run share one.
type Ledger struct {
	mu    sync.Mutex
	path  string
	f     *os.File
	csv   *csv.Writer
	err   error
	dirty bool      // rows written since the last flush
	rec   [7]string // reused for every row: csv.Writer does not keep it
	rows  uint64
}

// bookingsFlushEvery bounds how long a booking row stays in memory.
const bookingsFlushEvery = 10 * time.Millisecond

// LedgerHeader is the first line of bookings.csv.
var LedgerHeader = []string{"offer_id", "quote_id", "outcome", "booking_id", "http_status", "error", "at"}

// OpenLedger creates dir/bookings.csv and writes its header. The file must
// not exist: it is created exclusively and never through a symbolic link,
// so a ledger is never overwritten.
func OpenLedger(dir string) (*Ledger, error) {
	path := filepath.Join(dir, BookingsFile)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY|syscall.O_NOFOLLOW, 0o644)
	if err != nil {
		return nil, fmt.Errorf("load: bookings: %w", err)
	}
	w := &Ledger{path: path, f: f, csv: csv.NewWriter(f)}
	w.row(LedgerHeader)
	return w, w.Flush()
}

// Path is the ledger's file.
func (w *Ledger) Path() string { return w.path }

// Rows is the number of rows added so far.
func (w *Ledger) Rows() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.rows
}

func (w *Ledger) row(rec []string) {
	if w.err != nil {
		return
	}
	if err := w.csv.Write(rec); err != nil {
		w.err = fmt.Errorf("load: write %s: %w", BookingsFile, err)
		return
	}
	w.dirty = true
}

// Flush writes the rows added since the last flush to the file. The first
// error is kept and returned by every later call.
func (w *Ledger) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.flushLocked()
}

func (w *Ledger) flushLocked() error {
	if w.err != nil || !w.dirty {
		return w.err
	}
	w.csv.Flush()
	if err := w.csv.Error(); err != nil {
		w.err = fmt.Errorf("load: write %s: %w", BookingsFile, err)
	}
	w.dirty = false
	return w.err
}

// Add records one confirm. Booked rows need Outcome OutcomeBooked; anything
// else is written as OutcomeUnknown.
func (w *Ledger) Add(b Booking) {
	if b.Outcome != OutcomeBooked {
		b.Outcome = OutcomeUnknown
	}
	status := ""
	if b.Status != 0 {
		status = strconv.Itoa(b.Status)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.rec = [7]string{b.OfferID, b.QuoteID, b.Outcome, b.BookingID, status, oneLineError(b.Error), b.At.UTC().Format(time.RFC3339Nano)}
	w.row(w.rec[:])
	w.rows++
}

// oneLineError keeps an error message on one line of bounded length.
func oneLineError(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}

// Close flushes and closes the file.
func (w *Ledger) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	err := w.flushLocked()
	if cerr := w.f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("load: close %s: %w", BookingsFile, cerr)
	}
	return err
}

// Booking is one row of bookings.csv. Status is 0 when no HTTP status came
// back; Error is the transport error or the reason the outcome is unknown.
type Booking struct {
	OfferID, QuoteID string
	Outcome          string
	BookingID        string
	Status           int
	Error            string
	At               time.Time
}

// ReadBookings reads a bookings.csv as a Ledger writes it, by header names
// (a ledger written before the outcome and error columns existed reads as
// booked rows). name is used in errors, which give the line.
func ReadBookings(r io.Reader, name string) ([]Booking, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	col := map[string]int{}
	hdr := []string{"offer_id", "quote_id", "booking_id", "http_status", "confirmed_at"} // before outcomes
	var out []Booking
	for line := 1; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if line == 1 {
			if rec[0] == "offer_id" {
				hdr = rec
			}
			for i, h := range hdr {
				col[h] = i
			}
			if _, ok := col["at"]; !ok {
				col["at"] = col["confirmed_at"]
			}
			if rec[0] == "offer_id" {
				continue
			}
		}
		if len(rec) != len(hdr) {
			return nil, fmt.Errorf("%s:%d: want %d fields, got %d", name, line, len(hdr), len(rec))
		}
		get := func(k string) string {
			if i, ok := col[k]; ok && i < len(rec) {
				return rec[i]
			}
			return ""
		}
		b := Booking{OfferID: get("offer_id"), QuoteID: get("quote_id"), Outcome: get("outcome"),
			BookingID: get("booking_id"), Error: get("error")}
		if b.Outcome == "" {
			b.Outcome = OutcomeBooked
		}
		if st := get("http_status"); st != "" {
			if b.Status, err = strconv.Atoi(st); err != nil {
				return nil, fmt.Errorf("%s:%d: http_status %q is not a number", name, line, st)
			}
		}
		if b.At, err = time.Parse(time.RFC3339Nano, get("at")); err != nil {
			return nil, fmt.Errorf("%s:%d: at %q is not an RFC 3339 time", name, line, get("at"))
		}
		out = append(out, b)
	}
}
