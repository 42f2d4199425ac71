package load

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"sync/atomic"

	"github.com/xoneharness/xoneharness/internal/xone"
)

// OfferList is a compact, read-only list of offers, as read by ReadOfferList.
// It holds no pointers per offer: an id in the canonical lower-case UUID form
// (the common case) is kept as its 16 bytes, any other id (upper-case UUIDs,
// other ids of up to 128 bytes) in a shared byte arena, so an offer of two
// UUIDs takes 33 bytes instead of the ~112 of an Offer and its strings. At
// renders an offer back exactly as it was written in the file.
//
// An OfferList may be a view of another one (Slice, Shard.OfferList): views
// share the storage, nothing is copied. It is safe for concurrent use. The
// zero OfferList is empty.
type OfferList struct {
	rows   [][]offerRow // chunks of offerChunk rows; only the last may be shorter
	arena  []byte       // ids that are not lower-case canonical UUIDs
	start  int          // row of the view's first offer
	stride int          // rows from one offer of the view to the next, >= 1
	n      int          // offers in the view
}

// offerRow is one offer: ids[0] is the offer id, ids[1] the quote id. Each is a
// UUID's bytes, or, when bit i of arena is set, an arena reference: the offset
// (little-endian uint64) in bytes 0-7 and the length in byte 8.
type offerRow struct {
	ids   [2][16]byte
	arena uint8
}

// offerChunk is the number of rows per chunk (2 MiB): the list grows a chunk
// at a time, without the copy (and twice the memory) of growing one slice.
const offerChunk = 1 << 16

// Len returns the number of offers.
func (l *OfferList) Len() int { return l.n }

// At returns offer i (0 <= i < Len), with its ids exactly as in the file. The
// two ids share one allocation.
func (l *OfferList) At(i int) Offer {
	if i < 0 || i >= l.n {
		panic(fmt.Sprintf("load: OfferList.At(%d) out of range [0:%d]", i, l.n))
	}
	k := l.start + i*l.stride
	r := &l.rows[k/offerChunk][k%offerChunk]
	var buf [2 * maxIDLen]byte
	b := l.appendID(buf[:0], r, 0)
	split := len(b)
	s := string(l.appendID(b, r, 1))
	return Offer{OfferID: s[:split], QuoteID: s[split:]}
}

// appendID appends id j (0: offer, 1: quote) of r to dst.
func (l *OfferList) appendID(dst []byte, r *offerRow, j int) []byte {
	if r.arena&(1<<j) == 0 {
		return xone.AppendUUID(dst, r.ids[j])
	}
	return append(dst, l.arenaID(r.ids[j])...)
}

// arenaID returns the arena bytes an arena reference points to.
func (l *OfferList) arenaID(ref [16]byte) []byte {
	off := binary.LittleEndian.Uint64(ref[:8])
	return l.arena[off : off+uint64(ref[8])]
}

// Slice returns the view of offers i to j-1 (0 <= i <= j <= Len), sharing l's
// storage.
func (l *OfferList) Slice(i, j int) *OfferList {
	if i < 0 || j < i || j > l.n {
		panic(fmt.Sprintf("load: OfferList.Slice(%d, %d) out of range [0:%d]", i, j, l.n))
	}
	v := *l
	v.start, v.n = l.start+i*l.stride, j-i
	return &v
}

// every returns the view of offers first, first+step, first+2*step, ...
// (0 <= first, 1 <= step; empty when first >= Len), sharing l's storage.
func (l *OfferList) every(first, step int) *OfferList {
	v := *l
	v.start, v.stride, v.n = l.start+first*l.stride, l.stride*step, 0
	if first < l.n {
		v.n = (l.n - first + step - 1) / step
	}
	return &v
}

// Expand returns the offers as a slice of Offer, two strings each: for small
// lists. A large feed is what OfferList is for.
func (l *OfferList) Expand() []Offer {
	out := make([]Offer, l.n)
	for i := range out {
		out[i] = l.At(i)
	}
	return out
}

// Feed returns a Feed over the list, in order: each offer is handed out once.
// Every call returns a new feed that starts at the first offer.
func (l *OfferList) Feed() Feed { return &listFeed{list: l} }

type listFeed struct {
	list *OfferList
	next atomic.Int64
}

// Next implements Feed.
func (f *listFeed) Next() (Offer, bool) {
	n := int64(f.list.Len())
	i := f.next.Add(1) - 1
	if i >= n {
		f.next.Store(n)
		return Offer{}, false
	}
	return f.list.At(int(i)), true
}

// Left implements Feed.
func (f *listFeed) Left() int {
	return max(f.list.Len()-int(f.next.Load()), 0)
}

// ReadOfferList reads a whole offer feed into memory (see OfferStream for a
// feed read as the attack needs it): CSV lines of offer_id,quote_id under the
// rules of offerScanner, which OfferStream applies too. The first non-blank
// line may be a header naming the columns in either order ("offer_id,quote_id"
// or "quote_id,offer_id", any case); a header line anywhere else is an error.
// A UTF-8 BOM, CRLF line ends, spaces around fields, double quotes around
// fields and blank lines are tolerated. Ids may use only letters, digits and
// "-._~" (UUIDs in practice), at most 128 bytes, and are neither "." nor "..".
// Two rows whose offer ids are equal ignoring ASCII case (so the same UUID in
// upper and lower case) are a duplicate. A line with another number of
// columns, a duplicate offer_id, a line longer than 4 KiB, more than 10 Mi
// rows or a feed with no offers is an error of the form "NAME:LINE: problem",
// where NAME is name (e.g. the file name); when a feed has several problems,
// the error is about the first line with one.
//
// Memory: 33 bytes per offer of two lower-case UUIDs (plus the ids' length for
// other ids), and 4 bytes more per offer while reading, for the duplicate check.
func ReadOfferList(r io.Reader, name string) (*OfferList, error) {
	return readOfferList(r, name, maxOffers)
}

// readOfferList is ReadOfferList with limit in place of maxOffers (tests use a
// small one).
//
// Duplicates are found after reading, by sorting the row numbers by offer id,
// not with a map of every id read so far. So that the error is the one of the
// first line with a problem, any error, and the end of the feed, first looks
// for a duplicate among the rows read so far: a duplicate's line is before the
// line of any other error.
func readOfferList(r io.Reader, name string, limit int) (*OfferList, error) {
	sc := newOfferScanner(r, name)
	l := &OfferList{stride: 1}
	var lines lineIndex
	// fail returns the duplicate among the rows read so far, if any, else err.
	fail := func(err error) (*OfferList, error) {
		if dup := l.duplicate(name, &lines); dup != nil {
			return nil, dup
		}
		return nil, err
	}
	for {
		ok, err := sc.scan()
		if err != nil {
			return fail(err)
		}
		if !ok {
			break
		}
		var row offerRow
		for j := range sc.ids {
			if u, ok := parseLowerUUID(sc.ids[j]); ok { // stored as 16 bytes
				row.ids[j] = u
				continue
			}
			row.arena |= 1 << j
		}
		lines.add(l.n, sc.line)
		l.add(row, sc.ids)
		if l.n > limit {
			// A duplicate on this very line comes before the limit.
			return fail(fmt.Errorf("%s:%d: more than %d offers", name, sc.line, limit))
		}
	}
	if l.n == 0 {
		return nil, noOffers(name)
	}
	if dup := l.duplicate(name, &lines); dup != nil {
		return nil, dup
	}
	return l, nil
}

// noOffers is the error of a feed without a row.
func noOffers(name string) error {
	return fmt.Errorf("%s: no offers (want CSV lines offer_id,quote_id)", name)
}

// duplicateError is the error of a row whose offer id (as written on line)
// is on an earlier line, first.
func duplicateError(name string, line int, id []byte, first int) error {
	return fmt.Errorf("%s:%d: duplicate offer_id %s (first on line %d): an offer is confirmed at most once", name, line, id, first)
}

// offerScanner reads the lines of an offer feed and applies every rule that
// needs no memory of earlier rows: columns, the header, the ids. ReadOfferList
// and OfferStream both read through it, so that they accept the same feeds.
//
// It splits lines itself rather than with encoding/csv: a line is bounded
// (maxOfferLine) before it is parsed, so a stream without line ends cannot
// grow the buffer, and no id may hold a comma, a quote or a line end, so the
// only CSV a valid row can use is a field in one pair of double quotes, which
// csvField removes.
type offerScanner struct {
	sc    *bufio.Scanner
	name  string
	line  int       // line of the current row (1-based)
	first bool      // no non-blank line read yet
	cols  [2]int    // fields of the offer id and the quote id in a line
	ids   [2][]byte // the current row: offer id, quote id; valid until the next scan
}

func newOfferScanner(r io.Reader, name string) *offerScanner {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxOfferLine)
	return &offerScanner{sc: sc, name: name, first: true, cols: [2]int{0, 1}}
}

// scan advances to the next row: false at the end of the feed (with a nil
// error) or at the first line that breaks a rule, with an error
// "NAME:LINE: problem".
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
		if h, swapped := isHeader(fields); h {
			if !first {
				return false, fmt.Errorf("%s:%d: header line after the first line (a feed has at most one header, on its first line)", s.name, s.line)
			}
			if swapped {
				s.cols = [2]int{1, 0}
			}
			continue
		}
		for j, col := range offerColumns {
			id := fields[s.cols[j]]
			if err := checkID(id); err != nil {
				return false, fmt.Errorf("%s:%d: %s: %w", s.name, s.line, col, err)
			}
			if isColumnName(id) {
				return false, fmt.Errorf("%s:%d: %s: %q is a column name, not an id", s.name, s.line, col, id)
			}
			s.ids[j] = id
		}
		return true, nil
	}
	if err := s.sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return false, fmt.Errorf("%s:%d: line longer than %d bytes", s.name, s.line+1, maxOfferLine)
		}
		return false, fmt.Errorf("%s:%d: read: %w", s.name, s.line+1, err)
	}
	return false, nil
}

// offerColumns are the column names, offer id first.
var offerColumns = [2]string{"offer_id", "quote_id"}

// isHeader reports whether fields name the two columns, in either order
// (ignoring case), and whether the quote id comes first.
func isHeader(fields [2][]byte) (header, swapped bool) {
	o, q := []byte(offerColumns[0]), []byte(offerColumns[1])
	switch {
	case bytes.EqualFold(fields[0], o) && bytes.EqualFold(fields[1], q):
		return true, false
	case bytes.EqualFold(fields[0], q) && bytes.EqualFold(fields[1], o):
		return true, true
	}
	return false, false
}

// isColumnName reports whether id is a column name (ignoring case): a header
// gone wrong, never an offer.
func isColumnName(id []byte) bool {
	return bytes.EqualFold(id, []byte(offerColumns[0])) || bytes.EqualFold(id, []byte(offerColumns[1]))
}

// csvField trims the spaces around a field, then one pair of double quotes.
func csvField(f []byte) []byte {
	f = bytes.TrimSpace(f)
	if len(f) >= 2 && f[0] == '"' && f[len(f)-1] == '"' {
		f = f[1 : len(f)-1]
	}
	return f
}

// add appends row to a list being read (not a view): the ids that are not
// UUIDs (r.arena) are copied from ids into the arena.
func (l *OfferList) add(r offerRow, ids [2][]byte) {
	for j, id := range ids {
		if r.arena&(1<<j) != 0 {
			binary.LittleEndian.PutUint64(r.ids[j][:8], uint64(len(l.arena)))
			r.ids[j][8] = uint8(len(id)) // at most maxIDLen
			l.arena = append(l.arena, id...)
		}
	}
	if len(l.rows) == 0 || len(l.rows[len(l.rows)-1]) == offerChunk {
		// The first chunk starts small (small feeds stay small), the others
		// are allocated whole.
		var c []offerRow
		if len(l.rows) > 0 {
			c = make([]offerRow, 0, offerChunk)
		}
		l.rows = append(l.rows, c)
	}
	last := &l.rows[len(l.rows)-1]
	if len(*last) == cap(*last) && cap(*last) >= offerChunk/64 {
		// Past 1024 rows, straight to a whole chunk rather than append's
		// many 25% steps, each a copy.
		*last = slices.Grow(*last, offerChunk-len(*last))
	}
	*last = append(*last, r)
	l.n++
}

// parseLowerUUID parses the canonical lower-case UUID form
// (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, hex digits 0-9a-f): the ids that
// xone.AppendUUID gives back byte for byte.
func parseLowerUUID(s []byte) (u [16]byte, ok bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, false
	}
	for i, j := 0, 0; j < 16; i, j = i+2, j+1 {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			i++ // the dash, checked above
		}
		hi, lo := lowerHex[s[i]], lowerHex[s[i+1]]
		if hi|lo > 0x0f {
			return u, false
		}
		u[j] = hi<<4 | lo
	}
	return u, true
}

// lowerHex is the value of a lower-case hex digit, 0xff for other bytes. A
// constant table, never written after init.
var lowerHex = func() (t [256]byte) {
	for c := range t {
		switch {
		case '0' <= c && c <= '9':
			t[c] = byte(c - '0')
		case 'a' <= c && c <= 'f':
			t[c] = byte(c - 'a' + 10)
		default:
			t[c] = 0xff
		}
	}
	return t
}()

// duplicate returns the error for the first line (in file order) whose
// offer_id is on an earlier line, or nil. It sorts the rows by offer id (then
// row): O(n log n) time, 4 bytes per row.
func (l *OfferList) duplicate(name string, lines *lineIndex) error {
	idx := make([]uint32, l.n) // l.n <= maxOffers+1 fits
	for i := range idx {
		idx[i] = uint32(i)
	}
	slices.SortFunc(idx, func(a, b uint32) int {
		if c := l.compareOfferID(int(a), int(b)); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	// In each run of equal ids, the rows are in file order: the first two are
	// the first occurrence and the first repeat. The error is the earliest
	// repeat.
	first, second := -1, -1
	for k := 1; k < len(idx); k++ {
		a, b := int(idx[k-1]), int(idx[k])
		if l.compareOfferID(a, b) != 0 || (k >= 2 && l.compareOfferID(int(idx[k-2]), a) == 0) {
			continue
		}
		if second < 0 || b < second {
			first, second = a, b
		}
	}
	if second < 0 {
		return nil
	}
	id := l.Slice(second, second+1).At(0).OfferID
	return fmt.Errorf("%s:%d: duplicate offer_id %s (first on line %d): an offer is confirmed at most once",
		name, lines.line(second), id, lines.line(first))
}

// compareOfferID orders rows a and b of a list being read (not a view) by
// offer id, ignoring ASCII case: UUIDs first (an id that parses as a UUID in
// any case), by their bytes, then the other ids, by their lower-case bytes.
// A UUID and another id are never equal.
func (l *OfferList) compareOfferID(a, b int) int {
	ua, ia, oka := l.offerKey(a)
	ub, ib, okb := l.offerKey(b)
	switch {
	case oka && okb:
		if c := cmp.Compare(binary.BigEndian.Uint64(ua[:8]), binary.BigEndian.Uint64(ub[:8])); c != 0 {
			return c
		}
		return cmp.Compare(binary.BigEndian.Uint64(ua[8:]), binary.BigEndian.Uint64(ub[8:]))
	case oka:
		return -1
	case okb:
		return 1
	}
	return compareFold(ia, ib)
}

// offerKey returns row k's offer id as a UUID (isUUID) or, for another id,
// its bytes as written.
func (l *OfferList) offerKey(k int) (u [16]byte, id []byte, isUUID bool) {
	r := &l.rows[k/offerChunk][k%offerChunk]
	if r.arena&1 == 0 {
		return r.ids[0], nil, true
	}
	id = l.arenaID(r.ids[0])
	if u, ok := parseUUID(id); ok {
		return u, nil, true
	}
	return u, id, false
}

// compareFold compares a and b as if both were in ASCII lower case.
func compareFold(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if c := cmp.Compare(lowerASCII(a[i]), lowerASCII(b[i])); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// parseUUID parses a UUID (8-4-4-4-12 hex digits) in any case.
func parseUUID(s []byte) (u [16]byte, ok bool) {
	if len(s) != 36 {
		return u, false
	}
	var low [36]byte
	for i, c := range s {
		low[i] = lowerASCII(c)
	}
	return parseLowerUUID(low[:])
}

// lineIndex maps rows to their line numbers. Rows are on consecutive lines
// except after a header or blank lines, so it keeps only those jumps: a few
// bytes for most feeds instead of one number per row.
type lineIndex struct {
	rows, lines []int // row rows[k] is on line lines[k], the rows after it on the lines after it
}

// add records that row (the next row) is on line.
func (x *lineIndex) add(row, line int) {
	if k := len(x.rows) - 1; k >= 0 && x.lines[k]+row-x.rows[k] == line {
		return
	}
	x.rows = append(x.rows, row)
	x.lines = append(x.lines, line)
}

// line returns the line of a recorded row.
func (x *lineIndex) line(row int) int {
	k := sort.Search(len(x.rows), func(k int) bool { return x.rows[k] > row }) - 1
	return x.lines[k] + row - x.rows[k]
}
