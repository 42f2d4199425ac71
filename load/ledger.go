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
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
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

func newResultsWriter(dir string) (*resultsWriter, error) {
	f, err := os.OpenFile(filepath.Join(dir, ResultsFile), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
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

// bookingsWriter appends one CSV row per booking. The run's consumer flushes it
// every bookingsFlushEvery and it flushes on close, also on interrupt, so an
// interrupted run loses no row; a process killed outright (SIGKILL) loses at most
// the rows of its last bookingsFlushEvery, besides the responses still in flight,
// which it loses in any case. (A write per row cost 3% of a saturated run's CPU.)
type bookingsWriter struct {
	f     *os.File
	csv   *csv.Writer
	err   error
	dirty bool      // rows written since the last flush
	rec   [5]string // reused for every row: csv.Writer does not keep it
}

// bookingsFlushEvery bounds how long a booking row stays in memory.
const bookingsFlushEvery = 10 * time.Millisecond

var bookingsHeader = []string{"offer_id", "quote_id", "booking_id", "http_status", "confirmed_at"}

func newBookingsWriter(dir string) (*bookingsWriter, error) {
	f, err := os.OpenFile(filepath.Join(dir, BookingsFile), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("load: bookings: %w", err)
	}
	w := &bookingsWriter{f: f, csv: csv.NewWriter(f)}
	w.row(bookingsHeader)
	return w, w.flush()
}

func (w *bookingsWriter) row(rec []string) {
	if w.err != nil {
		return
	}
	if err := w.csv.Write(rec); err != nil {
		w.err = fmt.Errorf("load: write %s: %w", BookingsFile, err)
		return
	}
	w.dirty = true
}

// flush writes the rows written since the last flush to the file.
func (w *bookingsWriter) flush() error {
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

func (w *bookingsWriter) add(o Offer, bookingID string, status uint16, at time.Time) {
	w.rec = [5]string{o.OfferID, o.QuoteID, bookingID, strconv.Itoa(int(status)), at.UTC().Format(time.RFC3339Nano)}
	w.row(w.rec[:])
}

func (w *bookingsWriter) close() error {
	err := w.flush()
	if cerr := w.f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("load: close %s: %w", BookingsFile, cerr)
	}
	return err
}

// Booking is one row of bookings.csv.
type Booking struct {
	OfferID, QuoteID, BookingID string
	Status                      int
	ConfirmedAt                 time.Time
}

// ReadBookings reads a bookings.csv as Run writes it. name is used in errors,
// which give the line.
func ReadBookings(r io.Reader, name string) ([]Booking, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = len(bookingsHeader)
	var out []Booking
	for line := 1; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if line == 1 && rec[0] == bookingsHeader[0] {
			continue
		}
		status, err := strconv.Atoi(rec[3])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: http_status %q is not a number", name, line, rec[3])
		}
		at, err := time.Parse(time.RFC3339Nano, rec[4])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: confirmed_at %q is not an RFC 3339 time", name, line, rec[4])
		}
		out = append(out, Booking{OfferID: rec[0], QuoteID: rec[1], BookingID: rec[2], Status: status, ConfirmedAt: at})
	}
}
