package ledger

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
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
	// Pending: the confirm was recorded before it left and no answer has been
	// recorded yet. A pending row without an outcome row after it belongs to
	// a process that died with the request in flight: Read reports it as
	// Unknown.
	Pending Outcome = "pending"
	// Booked: the target answered 2xx; the booking id is in the row when the
	// body had one.
	Booked Outcome = "booked"
	// Refused: the target answered 4xx (401 included): no booking.
	Refused Outcome = "refused"
	// Unknown: no refusal came back (a timeout, a reset, an answer abandoned
	// at an interrupt, a 5xx, a 3xx, a 2xx whose body could not be read): it
	// may have booked. Look such offers up before cancelling.
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

// record renders r as CSV fields.
func (r Row) record() []string {
	status := ""
	if r.Status != 0 {
		status = strconv.Itoa(r.Status)
	}
	return []string{r.OfferID, r.QuoteID, string(r.Outcome), r.BookingID, status, oneLine(r.Error), r.At.UTC().Format(time.RFC3339Nano)}
}

// oneLine keeps a message on one line of at most 300 bytes.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}

// orphanNote is the Error of a pending row that no outcome row followed.
const orphanNote = "pending: the run ended before the answer was recorded (process killed?)"

// ReadFile is Read of the file at path (opened without following a
// symbolic link).
func ReadFile(path string) ([]Row, error) {
	f, err := openNoFollow(path)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	defer func() { _ = f.Close() }() // read only
	return Read(f, path)
}

// Read reads a bookings.csv and returns the confirms that booked or may have
// booked, in the order they left: one row per confirm, its last outcome.
// A journal holds a pending row per confirm and, once answered, an outcome
// row: a pending row that no outcome row of the same offer followed is
// returned as Unknown (its process died with the request in flight); refused
// confirms are left out. Columns are found by their header names; a ledger
// written before the outcome column existed reads as booked rows. A last line
// cut short (a full disk, a killed process) is ignored. name is used in
// errors, which give the line.
func Read(r io.Reader, name string) ([]Row, error) {
	rows, err := readRows(r, name)
	if err != nil {
		return nil, err
	}
	return Resolve(rows), nil
}

// Resolve turns journal rows (pending and outcome rows, in file order) into
// one row per confirm with its last outcome, booked and unknown only, in the
// order the confirms left. Outcome rows are matched to the pending rows of
// the same offer in order (several confirms of one offer each have their
// own pair).
func Resolve(rows []Row) []Row {
	open := map[Key][]int{} // offer -> indexes in out of its unanswered confirms
	var out []Row
	for _, r := range rows {
		k := KeyOf(r.OfferID)
		if r.Outcome == Pending {
			open[k] = append(open[k], len(out))
			r.Outcome, r.Error = Unknown, orphanNote
			out = append(out, r)
			continue
		}
		if q := open[k]; len(q) > 0 {
			out[q[0]] = r
			open[k] = q[1:]
			continue
		}
		out = append(out, r) // a ledger without pending rows
	}
	kept := out[:0]
	for _, r := range out {
		if r.Outcome != Refused {
			kept = append(kept, r)
		}
	}
	return kept
}

// readRows reads every row as written, pending rows included.
func readRows(r io.Reader, name string) ([]Row, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	col := map[string]int{}
	hdr := []string{"offer_id", "quote_id", "booking_id", "http_status", "confirmed_at"} // before outcomes
	var out []Row
	var bad error // a malformed line: an error unless it is the last
	for line := 1; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if bad != nil {
			return nil, bad
		}
		if err != nil {
			bad = fmt.Errorf("%s: %w", name, err)
			continue
		}
		if line == 1 && len(rec) > 0 && rec[0] == "offer_id" {
			hdr = rec
			for i, h := range hdr {
				col[h] = i
			}
			continue
		}
		if len(col) == 0 {
			for i, h := range hdr {
				col[h] = i
			}
		}
		row, err := parseRow(rec, hdr, col)
		if err != nil {
			bad = fmt.Errorf("%s:%d: %w", name, line, err)
			continue
		}
		out = append(out, row)
	}
}

// parseRow reads one record by column names.
func parseRow(rec, hdr []string, col map[string]int) (Row, error) {
	if len(rec) != len(hdr) {
		return Row{}, fmt.Errorf("want %d fields, got %d", len(hdr), len(rec))
	}
	get := func(k string) string {
		if i, ok := col[k]; ok {
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
	if _, ok := col["at"]; !ok {
		at = get("confirmed_at")
	}
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return Row{}, fmt.Errorf("at %q is not an RFC 3339 time", at)
	}
	r.At = t
	return r, nil
}

// openNoFollow opens path for reading, refusing a symbolic link.
func openNoFollow(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|fsx.NoFollow, 0)
}
