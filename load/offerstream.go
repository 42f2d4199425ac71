package load

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// StreamFeed is a Feed whose offers come from a source that may be slower than
// the attack (OfferStream). The engine takes offers with NextWait, counts a
// send whose NextWait waited as late for the reason "feed starved" (the rate is
// never lowered: the schedule goes on, the send is late), reports Starved at
// the end, and after Next returns false takes Err as the reason the run
// stopped (nil: the source ended cleanly). Implementations are safe for
// concurrent use.
type StreamFeed interface {
	Feed
	// NextWait is Next that also returns how long it waited for the source:
	// 0 when an offer was ready (read ahead) or the feed had ended.
	NextWait() (o Offer, waited time.Duration, ok bool)
	// Starved returns the wall-clock time during which at least one caller
	// of Next or NextWait was waiting for the source (waits that overlap
	// count once, a wait still going on counts up to now), and the number
	// of calls that waited.
	Starved() (total time.Duration, waits uint64)
	// Err returns the error that ended the feed: a malformed or duplicate row
	// ("offers.csv:123: ..."), an offer an earlier run confirmed
	// (*ConfirmedError), a read error. It is nil while the feed is being read,
	// after a clean end of the source and after Close.
	Err() error
	// Close ends the feed: Next returns false from then on, waiting callers
	// included. It closes the source when the feed opened it.
	Close() error
}

// DuplicateWindow is the number of consecutive rows within which an
// OfferStream refuses a repeated offer id (StreamOptions.Window's default).
const DuplicateWindow = 1 << 15

// streamReadAhead is StreamOptions.ReadAhead's default.
const streamReadAhead = 256

// StreamOptions are the optional settings of an OfferStream. The zero value
// reads the whole feed with the defaults.
type StreamOptions struct {
	// Shard keeps the rows of one shard: data row k (counting from 0, in the
	// whole feed) is kept when k mod Count == Index. The zero Shard keeps
	// every row. Every row is still checked, duplicates across shards included.
	Shard Shard
	// ReadAhead is the number of offers read and held ahead of Next, so that
	// the attack is not blocked by I/O while the source keeps up; 0 means 256.
	ReadAhead int
	// Window is the number of consecutive rows within which a repeated offer
	// id is refused; 0 means DuplicateWindow.
	Window int
	// Confirmed, when not nil, holds the offers earlier runs confirmed: a kept
	// row whose offer is in it ends the feed with a *ConfirmedError.
	Confirmed *Confirmed
}

// OfferStream is a Feed read lazily from an io.Reader (standard input, a
// named pipe, a file of any size): a goroutine reads rows as the attack takes
// them, holding at most ReadAhead offers, so memory stays flat in the size of
// the feed. It applies the CSV rules of ReadOfferList (header in either
// column order on the first line only, ids checked, line numbers in errors),
// with two differences that a stream imposes:
//
//   - Duplicates are refused within a window of the last Window rows (32768
//     by default; ~1 MB whatever the length of the feed): an offer id equal,
//     ignoring ASCII case, to one of the previous Window rows' ends the feed
//     with an error naming both lines. A repeat further apart than the window is not seen by the
//     feed; LedgerOffers and the target's own refusal of a second confirm are
//     the rails for those. Ids are kept as 16-byte keys: a UUID's bytes, or
//     the first 16 bytes of the SHA-256 of another id in lower case.
//   - A malformed row ends the feed where it is: the offers before it are
//     handed out, then Next returns false and Err says "NAME:LINE: problem".
//     There is no row limit.
//
// Left is always -1: how many rows a stream holds is unknown until its end.
// An OfferStream is safe for concurrent use.
type OfferStream struct {
	name   string
	rows   chan Offer    // read ahead; closed when reading ends
	closed chan struct{} // closed by Close
	once   sync.Once
	closer io.Closer // the source, when the stream opened it

	mu        sync.Mutex
	err       error
	waiting   int       // callers waiting for the source
	waitStart time.Time // when waiting went from 0 to 1
	starved   time.Duration
	waits     uint64
}

var _ StreamFeed = (*OfferStream)(nil)

// NewOfferStream starts reading offers from r (named name in errors, e.g.
// "offers.csv" or "stdin"). It does not close r; closing r after Close ends
// a read the goroutine is blocked in.
func NewOfferStream(r io.Reader, name string, opt StreamOptions) *OfferStream {
	if opt.ReadAhead <= 0 {
		opt.ReadAhead = streamReadAhead
	}
	if opt.Window <= 0 {
		opt.Window = DuplicateWindow
	}
	if opt.Shard.Count < 1 {
		opt.Shard = Shard{Index: 0, Count: 1}
	}
	s := &OfferStream{name: name, rows: make(chan Offer, opt.ReadAhead), closed: make(chan struct{})}
	go s.read(r, opt)
	return s
}

// OpenOfferStream opens path as an OfferStream: "-" is standard input (named
// "stdin" in errors), anything else is opened as a file (a named pipe
// included) and closed by Close.
func OpenOfferStream(path string, stdin io.Reader, opt StreamOptions) (*OfferStream, error) {
	if path == "-" {
		return NewOfferStream(stdin, "stdin", opt), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("offers: %w", err)
	}
	s := NewOfferStream(f, path, opt)
	s.closer = f
	return s, nil
}

// read is the reading goroutine: it sends the kept rows to s.rows and closes
// it at the end of the source, at the first error or at Close.
func (s *OfferStream) read(r io.Reader, opt StreamOptions) {
	defer close(s.rows)
	sc := newOfferScanner(r, s.name)
	win := newDupWindow(opt.Window)
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
		if first, dup := win.add(offerKeyOf(sc.ids[0]), sc.line); dup {
			s.fail(duplicateError(s.name, sc.line, sc.ids[0], first))
			return
		}
		mine := k%opt.Shard.Count == opt.Shard.Index
		k++
		if !mine {
			continue
		}
		kept++
		if ledger, ok := opt.Confirmed.Lookup(sc.ids[0]); ok {
			s.fail(&ConfirmedError{OfferID: string(sc.ids[0]), Name: s.name, Line: sc.line, Ledger: ledger})
			return
		}
		both := string(sc.ids[0]) + string(sc.ids[1]) // one allocation for the two ids
		o := Offer{OfferID: both[:len(sc.ids[0])], QuoteID: both[len(sc.ids[0]):]}
		select {
		case s.rows <- o:
		case <-s.closed:
			return
		}
	}
	switch {
	case k == 0:
		s.fail(noOffers(s.name))
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
func (s *OfferStream) Next() (Offer, bool) {
	o, _, ok := s.NextWait()
	return o, ok
}

// NextWait implements StreamFeed.
func (s *OfferStream) NextWait() (Offer, time.Duration, bool) {
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
	start := s.beginWait()
	var (
		o  Offer
		ok bool
	)
	select {
	case o, ok = <-s.rows:
	case <-s.closed:
	}
	return o, s.endWait(start), ok
}

func (s *OfferStream) beginWait() time.Time {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.waiting == 0 {
		s.waitStart = now
	}
	s.waiting++
	s.waits++
	return now
}

func (s *OfferStream) endWait(start time.Time) time.Duration {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waiting--
	if s.waiting == 0 {
		s.starved += now.Sub(s.waitStart)
	}
	return now.Sub(start)
}

// Starved implements StreamFeed.
func (s *OfferStream) Starved() (time.Duration, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	total := s.starved
	if s.waiting > 0 {
		total += time.Since(s.waitStart)
	}
	return total, s.waits
}

// Left implements Feed: -1, unknown until the source ends.
func (s *OfferStream) Left() int { return -1 }

// Err implements StreamFeed.
func (s *OfferStream) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Close implements StreamFeed. It is safe to call more than once.
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

// offerKey is an offer id as compared for duplicates: a UUID's 16 bytes (in
// any case), or the first 16 bytes of the SHA-256 of another id in ASCII
// lower case. Two different ids share a key with probability 2^-128.
type offerKey [16]byte

// offerKeyOf returns id's key.
func offerKeyOf(id []byte) offerKey {
	if u, ok := parseUUID(id); ok {
		return u
	}
	var buf [maxIDLen]byte
	low := buf[:0]
	for _, c := range id {
		low = append(low, lowerASCII(c)) // on the stack up to maxIDLen bytes
	}
	sum := sha256.Sum256(low)
	return offerKey(sum[:16])
}

// dupWindow remembers the offer keys of the last size rows, with their
// lines: a ring of the entries, in the order added, and an open-addressing
// table (linear probing) of ring indexes, twice the size rounded up to a power
// of two. When full it holds 24 bytes per entry and 8 or fewer per table
// slot, whatever the length of the feed: ~1 MB for DuplicateWindow.
type dupWindow struct {
	ring  []dupEntry // oldest at next once len(ring) == size
	next  int
	size  int
	table []int32 // ring index + 1; 0 is an empty slot
	mask  uint64
}

type dupEntry struct {
	key  offerKey
	line int
}

func newDupWindow(size int) *dupWindow {
	slots := 2
	for slots < 2*size {
		slots <<= 1
	}
	return &dupWindow{ring: make([]dupEntry, 0, size), size: size, table: make([]int32, slots), mask: uint64(slots - 1)}
}

// home is key's first slot. Keys are UUIDs or SHA-256 prefixes, but UUIDs
// may be sequential: the halves are mixed first.
func (w *dupWindow) home(key offerKey) uint64 {
	h := binary.LittleEndian.Uint64(key[:8]) ^ binary.LittleEndian.Uint64(key[8:])*0x9e3779b97f4a7c15
	h ^= h >> 29
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 32
	return h & w.mask
}

// find returns the slot that holds key or, if none does, the empty slot
// where it goes.
func (w *dupWindow) find(key offerKey) uint64 {
	i := w.home(key)
	for w.table[i] != 0 && w.ring[w.table[i]-1].key != key {
		i = (i + 1) & w.mask
	}
	return i
}

// add records key on line, forgetting the oldest key past the window's size,
// or returns the line of the same key within the window.
func (w *dupWindow) add(key offerKey, line int) (first int, dup bool) {
	if i := w.find(key); w.table[i] != 0 {
		return w.ring[w.table[i]-1].line, true
	}
	if len(w.ring) < w.size {
		w.ring = append(w.ring, dupEntry{key, line})
		w.table[w.find(key)] = int32(len(w.ring))
		return 0, false
	}
	w.remove(w.find(w.ring[w.next].key))
	w.ring[w.next] = dupEntry{key, line}
	w.table[w.find(key)] = int32(w.next + 1)
	w.next = (w.next + 1) % w.size
	return 0, false
}

// remove empties slot i and shifts back the entries after it that probing
// would no longer reach (backward-shift deletion).
func (w *dupWindow) remove(i uint64) {
	w.table[i] = 0
	for j := (i + 1) & w.mask; w.table[j] != 0; j = (j + 1) & w.mask {
		k := w.home(w.ring[w.table[j]-1].key)
		// The entry at j may stay when its home k is cyclically in (i, j].
		if (i < j && i < k && k <= j) || (i > j && (i < k || k <= j)) {
			continue
		}
		w.table[i], w.table[j] = w.table[j], 0
		i = j
	}
}
