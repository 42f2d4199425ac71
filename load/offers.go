package load

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/xoneharness/xoneharness/internal/xone"
	"github.com/xoneharness/xoneharness/ledger"
)

// Offer is one offer to confirm: its id (in the URL path) and the id of the
// quote sent in the body, both passing xone.CheckID.
type Offer struct {
	OfferID string `json:"offer_id"`
	QuoteID string `json:"quote_id"`

	line int // the offer's line in its feed, when the feed records it
}

// Feed hands out offers, each at most once, safe for concurrent use.
type Feed interface {
	// Next returns the next offer and how long it waited for its source;
	// false when the feed has ended.
	Next() (o Offer, waited time.Duration, ok bool)
	// Err is the error that ended the feed ("offers.csv:123: ..."); nil
	// while it is read, after a clean end and after Close.
	Err() error
	// Close ends the feed: Next returns false from then on, waiting
	// callers included.
	Close() error
}

// GeneratedFeed returns an unbounded Feed of random UUID offer and quote ids,
// deterministic for a seed, for the embedded sandbox (they need no claim).
func GeneratedFeed(seed int64) Feed {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], uint64(seed))
	return &genFeed{rng: rand.NewChaCha8(key)}
}

type genFeed struct {
	mu  sync.Mutex
	rng *rand.ChaCha8
}

func (f *genFeed) Next() (Offer, time.Duration, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, q := uuid.Must(uuid.NewRandomFromReader(f.rng)), uuid.Must(uuid.NewRandomFromReader(f.rng))
	return Offer{OfferID: o.String(), QuoteID: q.String()}, 0, true
}

func (f *genFeed) Err() error   { return nil }
func (f *genFeed) Close() error { return nil }

// OfferOptions configure OpenOffers: the rows of one shard (see
// StreamOptions.Shard), the reports root's claims store a regular file is
// checked against, and Waiting, told once if opening takes over a second (a
// named pipe without a writer). The zero value reads every row.
type OfferOptions struct {
	Shard   Shard
	Claims  *ledger.Claims
	Waiting func(msg string)
}

// OpenOffers opens the offers of a run from a CSV file, a named pipe or "-"
// (stdin). A regular file is first read through: a bad or duplicate row, or
// an offer another run under the reports root claimed, is an error naming
// its line, and total is the rows this shard takes (else -1). Cancelling ctx
// ends the wait for a named pipe's writer.
func OpenOffers(ctx context.Context, path string, stdin io.Reader, opt OfferOptions) (s *OfferStream, total int, err error) {
	if path == "-" {
		return NewOfferStream(stdin, "stdin", StreamOptions{Shard: opt.Shard}), -1, nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, 0, fmt.Errorf("offers: %w", err)
	}
	total = -1
	if st.Mode().IsRegular() {
		if total, err = checkOffers(path, opt); err != nil {
			return nil, 0, err
		}
	}
	f, err := openWaiting(ctx, path, opt.Waiting)
	if err != nil {
		return nil, 0, err
	}
	s = NewOfferStream(f, path, StreamOptions{Shard: opt.Shard})
	s.closer, s.total = f, total
	return s, total, nil
}

// checkOffers reads a regular offers file through and returns its shard's rows.
func checkOffers(path string, opt OfferOptions) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("offers: %w", err)
	}
	defer func() { _ = f.Close() }() // read only
	if opt.Claims != nil {
		if err := opt.Claims.Refresh(); err != nil {
			return 0, err
		}
	}
	s := NewOfferStream(f, path, StreamOptions{Shard: opt.Shard, keepLines: true})
	n := 0
	for o, _, ok := s.Next(); ok; o, _, ok = s.Next() {
		if opt.Claims != nil {
			if run, taken := opt.Claims.Holder(o.OfferID); taken {
				_ = s.Close()
				return 0, fmt.Errorf("%s:%d: %w", path, o.line, &ledger.ClaimedError{OfferID: o.OfferID, Run: run})
			}
		}
		n++
	}
	if err := s.Err(); err != nil {
		return 0, err
	}
	return n, nil
}

// openWaiting opens path for reading. Opening a named pipe blocks until a
// writer opens it; cancelling ctx releases the pending open by opening the
// pipe for writing once (an empty stream).
func openWaiting(ctx context.Context, path string, waiting func(string)) (*os.File, error) {
	type opened struct {
		f   *os.File
		err error
	}
	done := make(chan opened, 1)
	go func() { f, err := os.Open(path); done <- opened{f, err} }()
	slow := time.NewTimer(time.Second)
	defer slow.Stop()
	for {
		select {
		case o := <-done:
			if o.err != nil {
				return nil, fmt.Errorf("offers: %w", o.err)
			}
			return o.f, nil
		case <-slow.C:
			if waiting != nil {
				waiting(fmt.Sprintf("offers: waiting for a writer to open the named pipe %s (Ctrl-C to stop)", path))
			}
		case <-ctx.Done():
			if w, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				_ = w.Close()
			}
			if o := <-done; o.f != nil {
				_ = o.f.Close()
			}
			return nil, fmt.Errorf("offers: open %s: %w", path, ctx.Err())
		}
	}
}

// duplicateWindow is how many consecutive rows an OfferStream checks for a
// repeated offer id; streamReadAhead how many offers it reads ahead.
const (
	duplicateWindow = 1 << 15
	streamReadAhead = 256
)

// StreamOptions are the optional settings of an OfferStream.
type StreamOptions struct {
	// Shard keeps data row k (from 0, in the whole feed) when k mod Count ==
	// Index; the zero Shard keeps every row. Every row is still checked.
	Shard     Shard
	window    int  // rows within which a repeated offer id is refused; 0: duplicateWindow
	keepLines bool // record each offer's line (checkOffers)
}

// OfferStream is a Feed read lazily from an io.Reader, at most 256 rows
// ahead, so memory stays flat; it is safe for concurrent use. The format:
// CSV lines of offer_id,quote_id, the first non-blank line optionally (and no
// other) a header naming the columns in either order, any case. A BOM, CRLF,
// blank lines and spaces and double quotes around fields are tolerated. A
// repeated offer id (any case) within the last 32,768 rows is an error naming
// both lines (further apart, the claims store catches it); a malformed row
// ends the feed there, Err saying "NAME:LINE: problem".
type OfferStream struct {
	name   string
	rows   chan Offer    // read ahead; closed when reading ends
	closed chan struct{} // closed by Close
	once   sync.Once
	closer io.Closer // the source, when the stream opened it
	total  int       // rows for its shard when OpenOffers counted them (a regular file), else -1

	mu        sync.Mutex
	err       error
	waiting   int       // callers waiting for the source
	waitStart time.Time // when waiting went from 0 to 1
	starved   time.Duration
	waits     uint64
}

var _ Feed = (*OfferStream)(nil)

// NewOfferStream starts reading offers from r, named name in errors. It does
// not close r; closing r after Close ends a read blocked in it.
func NewOfferStream(r io.Reader, name string, opt StreamOptions) *OfferStream {
	if opt.window <= 0 {
		opt.window = duplicateWindow
	}
	if opt.Shard.Count < 1 {
		opt.Shard = Shard{Index: 0, Count: 1}
	}
	s := &OfferStream{name: name, total: -1, rows: make(chan Offer, streamReadAhead), closed: make(chan struct{})}
	go s.read(r, opt)
	return s
}

// read sends the kept rows to s.rows until the end, an error or Close.
func (s *OfferStream) read(r io.Reader, opt StreamOptions) {
	defer close(s.rows)
	sc := &offerScanner{sc: bufio.NewScanner(r), name: s.name, first: true, cols: [2]int{0, 1}}
	sc.sc.Buffer(make([]byte, 0, 4096), maxOfferLine)
	seen := newRecent(opt.window)
	var k, kept int // data rows read, rows kept
	for {
		ok, err := sc.scan()
		if err != nil {
			s.fail(err)
			return
		}
		if !ok {
			break
		}
		if first, dup := seen.add(ledger.KeyOf(string(sc.ids[0])), sc.line); dup {
			s.fail(fmt.Errorf("%s:%d: duplicate offer_id %s (first on line %d): an offer is confirmed at most once", s.name, sc.line, sc.ids[0], first))
			return
		}
		mine := k%opt.Shard.Count == opt.Shard.Index
		k++
		if !mine {
			continue
		}
		kept++
		o := Offer{OfferID: string(sc.ids[0]), QuoteID: string(sc.ids[1])}
		if opt.keepLines {
			o.line = sc.line
		}
		select {
		case s.rows <- o:
		case <-s.closed:
			return
		}
	}
	switch {
	case k == 0:
		s.fail(fmt.Errorf("%s: no offers (want CSV lines offer_id,quote_id)", s.name))
	case kept == 0:
		s.fail(fmt.Errorf("%s: no offers for shard %s (%d rows in the feed)", s.name, opt.Shard, k))
	}
}

func (s *OfferStream) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.closed: // closed by the caller: the read error is the close's doing
	default:
		s.err = err
	}
}

// Next implements Feed: it waits for the source when no offer is read ahead.
func (s *OfferStream) Next() (Offer, time.Duration, bool) {
	select {
	case <-s.closed:
		return Offer{}, 0, false
	default:
	}
	select {
	case o, ok := <-s.rows:
		return o, 0, ok
	default:
	}
	start := time.Now()
	s.mu.Lock()
	if s.waiting == 0 {
		s.waitStart = start
	}
	s.waiting, s.waits = s.waiting+1, s.waits+1
	s.mu.Unlock()
	o, ok := Offer{}, false
	select {
	case o, ok = <-s.rows:
	case <-s.closed:
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.waiting--; s.waiting == 0 {
		s.starved += now.Sub(s.waitStart)
	}
	return o, now.Sub(start), ok
}

// starvation returns the wall-clock time during which a caller of Next was
// waiting for the source (overlapping waits count once) and how many waited.
func (s *OfferStream) starvation() (total time.Duration, waits uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	total = s.starved
	if s.waiting > 0 {
		total += time.Since(s.waitStart)
	}
	return total, s.waits
}

func (s *OfferStream) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Close implements Feed. It is safe to call more than once.
func (s *OfferStream) Close() error {
	var err error
	s.once.Do(func() {
		s.mu.Lock()
		close(s.closed)
		s.mu.Unlock()
		if s.closer != nil {
			if cerr := s.closer.Close(); cerr != nil {
				err = fmt.Errorf("offers: close %s: %w", s.name, cerr)
			}
		}
	})
	return err
}

// recent remembers the offer keys of the last size rows and their lines.
type recent struct {
	lines map[ledger.Key]int
	ring  []ledger.Key // the keys in the order added, from ring[n%size] on
	n     int
}

func newRecent(size int) *recent {
	return &recent{lines: make(map[ledger.Key]int, size), ring: make([]ledger.Key, size)}
}

// add records key on line, or returns the line of the same key.
func (w *recent) add(key ledger.Key, line int) (first int, dup bool) {
	if first, dup := w.lines[key]; dup {
		return first, true
	}
	i := w.n % len(w.ring)
	if w.n >= len(w.ring) {
		delete(w.lines, w.ring[i])
	}
	w.ring[i], w.n, w.lines[key] = key, w.n+1, line
	return 0, false
}

const maxOfferLine = 4 << 10 // bytes per CSV line

// offerScanner reads the lines of an offer feed and applies every rule that
// needs no memory of earlier rows. It splits lines itself rather than with
// encoding/csv: a line is bounded before it is parsed, so a stream without
// line ends cannot grow the buffer, and as no id may hold a comma, a quote
// or a line end, the only CSV a valid row can use is one pair of quotes.
type offerScanner struct {
	sc    *bufio.Scanner
	name  string
	line  int       // line of the current row (1-based)
	first bool      // no non-blank line read yet
	cols  [2]int    // fields of the offer id and the quote id in a line
	ids   [2][]byte // the current row: offer id, quote id; valid until the next scan
}

// offerColumns are the column names, offer id first.
var offerColumns = [2]string{"offer_id", "quote_id"}

// scan advances to the next row: false at the end of the feed or at the
// first line that breaks a rule ("NAME:LINE: problem").
func (s *offerScanner) scan() (bool, error) {
	for s.sc.Scan() {
		s.line++
		text := s.sc.Bytes()
		if s.line == 1 {
			text = bytes.TrimPrefix(text, []byte("\uFEFF"))
		}
		text = bytes.TrimSpace(text)
		if len(text) == 0 {
			continue
		}
		a, b, ok := bytes.Cut(text, []byte(","))
		if !ok || bytes.IndexByte(b, ',') >= 0 {
			return false, fmt.Errorf("%s:%d: want 2 columns (offer_id,quote_id), got %d", s.name, s.line, bytes.Count(text, []byte(","))+1)
		}
		fields := [2][]byte{csvField(a), csvField(b)}
		first := s.first
		s.first = false
		if c := column(fields[0]); c >= 0 && column(fields[1]) == 1-c { // a header, in either order
			if !first {
				return false, fmt.Errorf("%s:%d: header line after the first line (a feed has at most one header, on its first line)", s.name, s.line)
			}
			s.cols = [2]int{c, 1 - c}
			continue
		}
		return true, s.setIDs(fields)
	}
	if err := s.sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return false, fmt.Errorf("%s:%d: line longer than %d bytes", s.name, s.line+1, maxOfferLine)
		}
		return false, fmt.Errorf("%s:%d: read: %w", s.name, s.line+1, err)
	}
	return false, nil
}

// setIDs checks a row's two fields and keeps them as the current ids.
func (s *offerScanner) setIDs(fields [2][]byte) error {
	for j, col := range offerColumns {
		id := fields[s.cols[j]]
		if err := xone.CheckID(id); err != nil {
			return fmt.Errorf("%s:%d: %s: %w", s.name, s.line, col, err)
		}
		if column(id) >= 0 {
			return fmt.Errorf("%s:%d: %s: %q is a column name, not an id", s.name, s.line, col, id)
		}
		s.ids[j] = id
	}
	return nil
}

// column is the index in offerColumns of the column f names, or -1.
func column(f []byte) int {
	for i, c := range offerColumns {
		if bytes.EqualFold(f, []byte(c)) {
			return i
		}
	}
	return -1
}

// csvField trims the spaces around a field, then one pair of double quotes.
func csvField(f []byte) []byte {
	f = bytes.TrimSpace(f)
	if len(f) >= 2 && f[0] == '"' && f[len(f)-1] == '"' {
		f = f[1 : len(f)-1]
	}
	return f
}
