package ledger

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/xoneharness/xoneharness/internal/fsx"
)

// File is the journal's name in a run's report directory.
const File = "bookings.csv"

// Outcome is what a confirm the harness sent did, as far as the harness
// knows.
type Outcome string

// Outcomes of a confirm.
const (
	// Pending: recorded before it left, no answer recorded yet. Without an
	// outcome row after it, its process died with it in flight: Read
	// reports it as Unknown.
	Pending Outcome = "pending"
	// Booked: a 2xx answer; the row holds the booking id when the body had
	// one.
	Booked Outcome = "booked"
	// Refused: a 4xx answer (401 included): no booking.
	Refused Outcome = "refused"
	// Unknown: no refusal came back (a timeout, a reset, an answer abandoned
	// at an interrupt, a 5xx, a 3xx, an unreadable 2xx body): it may have
	// booked. Look such offers up before cancelling.
	Unknown Outcome = "unknown"
)

// OutcomeOf is the outcome of an answer with HTTP status code (0: no answer).
func OutcomeOf(code int) Outcome {
	switch {
	case code >= 200 && code < 300:
		return Booked
	case code >= 400 && code < 500:
		return Refused
	}
	return Unknown
}

// Header is the first line of bookings.csv.
var Header = []string{"offer_id", "quote_id", "outcome", "booking_id", "http_status", "error", "at"}

// Row is one line of bookings.csv: the one ledger row type of the harness,
// written by contract and load alike. Status is 0 when no HTTP status came
// back; Error is the transport error or why the outcome is unknown; At is
// when the row was written (for a pending row: when the confirm left).
type Row struct {
	OfferID, QuoteID string
	Outcome          Outcome
	BookingID        string
	Status           int
	Error            string
	At               time.Time
}

// appendLine appends r to dst as one CSV line, its Error on one line of at
// most 300 bytes.
func (r Row) appendLine(dst []byte) []byte {
	status, msg := "", strings.Join(strings.Fields(r.Error), " ")
	if r.Status != 0 {
		status = strconv.Itoa(r.Status)
	}
	if len(msg) > 300 {
		msg = msg[:300]
	}
	return appendCSV(dst, []string{r.OfferID, r.QuoteID, string(r.Outcome), r.BookingID, status, msg, r.At.UTC().Format(time.RFC3339Nano)})
}

// csvWriters are csv.Writers over a buffer, reused: a new one allocates a
// 4 KiB buffer, and a run writes two rows per confirm.
var csvWriters = sync.Pool{New: func() any {
	w := &csvWriter{}
	w.w = csv.NewWriter(&w.b)
	return w
}}

type csvWriter struct {
	b bytes.Buffer
	w *csv.Writer
}

// appendCSV appends rec to dst as one CSV line.
func appendCSV(dst []byte, rec []string) []byte {
	w := csvWriters.Get().(*csvWriter)
	defer csvWriters.Put(w)
	w.b.Reset()
	_ = w.w.Write(rec) // a bytes.Buffer never fails
	w.w.Flush()
	return append(dst, w.b.Bytes()...)
}

// orphanNote is the Error of a pending row that no outcome row followed.
const orphanNote = "pending: the run ended before the answer was recorded (process killed?)"

// ReadFile is Read of the file at path (opened without following a
// symbolic link).
func ReadFile(path string) ([]Row, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|fsx.NoFollow, 0)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	defer func() { _ = f.Close() }() // read only
	return Read(f, path)
}

// Read reads a bookings.csv and returns the confirms that booked or may have
// booked, one row per confirm with its last outcome, in the order they left.
// Outcome rows are matched in order to the pending rows of the same offer
// (several confirms of one offer each have their own pair); a pending row
// that no outcome row followed is returned as Unknown; refused confirms are
// left out. Columns are found by their header names: a ledger written before
// the outcome column existed reads as booked rows. A last line cut short (a
// full disk, a killed process) is ignored. name is used in errors, which
// give the line.
func Read(r io.Reader, name string) ([]Row, error) {
	rows, err := readRows(r, name)
	if err != nil {
		return nil, err
	}
	open := map[Key][]int{} // offer -> indexes in out of its unanswered confirms
	var out []Row
	for _, r := range rows {
		k := KeyOf(r.OfferID)
		if r.Outcome == Pending {
			open[k] = append(open[k], len(out))
			r.Outcome, r.Error = Unknown, orphanNote
			out = append(out, r)
		} else if q := open[k]; len(q) > 0 {
			out[q[0]] = r
			open[k] = q[1:]
		} else {
			out = append(out, r) // a ledger without pending rows
		}
	}
	return slices.DeleteFunc(out, func(r Row) bool { return r.Outcome == Refused }), nil
}

// readRows reads every row as written, pending rows included.
func readRows(r io.Reader, name string) ([]Row, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	hdr := []string{"offer_id", "quote_id", "booking_id", "http_status", "confirmed_at"} // before outcomes
	var out []Row
	var bad error // a malformed line: an error unless it is the last
	for line := 1; ; line++ {
		rec, err := cr.Read()
		switch {
		case errors.Is(err, io.EOF):
			return out, nil
		case bad != nil:
			return nil, bad
		case err != nil:
			bad = fmt.Errorf("%s: %w", name, err)
			continue
		case line == 1 && len(rec) > 0 && rec[0] == "offer_id":
			hdr = rec
			continue
		}
		row, err := parseRow(rec, hdr)
		if err != nil {
			bad = fmt.Errorf("%s:%d: %w", name, line, err)
			continue
		}
		out = append(out, row)
	}
}

// parseRow reads one record by column names.
func parseRow(rec, hdr []string) (Row, error) {
	if len(rec) != len(hdr) {
		return Row{}, fmt.Errorf("want %d fields, got %d", len(hdr), len(rec))
	}
	get := func(k string) string {
		if i := slices.Index(hdr, k); i >= 0 {
			return rec[i]
		}
		return ""
	}
	r := Row{OfferID: get("offer_id"), QuoteID: get("quote_id"), Outcome: Outcome(get("outcome")),
		BookingID: get("booking_id"), Error: get("error")}
	switch r.Outcome {
	case "":
		r.Outcome = Booked
	case Pending, Booked, Refused, Unknown:
	default:
		return Row{}, fmt.Errorf("outcome %q: want pending, booked, refused or unknown", r.Outcome)
	}
	if st := get("http_status"); st != "" {
		n, err := strconv.Atoi(st)
		if err != nil {
			return Row{}, fmt.Errorf("http_status %q is not a number", st)
		}
		r.Status = n
	}
	at := get("at")
	if !slices.Contains(hdr, "at") {
		at = get("confirmed_at") // written before outcomes
	}
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return Row{}, fmt.Errorf("at %q is not an RFC 3339 time", at)
	}
	r.At = t
	return r, nil
}
