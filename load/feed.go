package load

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/xoneharness/xoneharness/internal/xone"
)

// Offer is one offer to confirm: its id (in the URL path) and the id of the quote
// sent in the body. ReadOffers guarantees both are URL- and JSON-safe.
type Offer struct {
	OfferID string `json:"offer_id"`
	QuoteID string `json:"quote_id"`
}

const (
	maxOfferLine = 4 << 10  // bytes per CSV line
	maxIDLen     = 128      // bytes per id
	maxOffers    = 10 << 20 // rows per file
)

// ReadOffers reads an offer feed: CSV lines of offer_id,quote_id. A header line
// "offer_id,quote_id" is optional; a UTF-8 BOM, CRLF line ends, spaces around
// fields, double quotes around fields and blank lines are tolerated. Ids may use
// only letters, digits and "-._~" (UUIDs in practice), at most 128 bytes. A line
// with another number of columns, a duplicate offer_id, a line longer than 4 KiB,
// more than 10 Mi rows or a feed with no offers is an error of the form
// "NAME:LINE: problem", where NAME is name (e.g. the file name).
func ReadOffers(r io.Reader, name string) ([]Offer, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxOfferLine)
	var (
		offers []Offer
		seen   = map[string]int{}
		line   int
	)
	for sc.Scan() {
		line++
		text := sc.Bytes()
		if line == 1 {
			text = bytes.TrimPrefix(text, []byte("\uFEFF"))
		}
		text = bytes.TrimSpace(text)
		if len(text) == 0 {
			continue
		}
		fields := strings.Split(string(text), ",")
		if len(fields) != 2 {
			return nil, fmt.Errorf("%s:%d: want 2 columns (offer_id,quote_id), got %d", name, line, len(fields))
		}
		for i, f := range fields {
			f = strings.TrimSpace(f)
			if len(f) >= 2 && f[0] == '"' && f[len(f)-1] == '"' {
				f = f[1 : len(f)-1]
			}
			fields[i] = f
		}
		if len(offers) == 0 && len(seen) == 0 && strings.EqualFold(fields[0], "offer_id") && strings.EqualFold(fields[1], "quote_id") {
			seen[""] = line // header consumed; "" is never a valid id
			continue
		}
		for i, col := range []string{"offer_id", "quote_id"} {
			if err := checkID(fields[i]); err != nil {
				return nil, fmt.Errorf("%s:%d: %s: %w", name, line, col, err)
			}
		}
		if first, dup := seen[fields[0]]; dup {
			return nil, fmt.Errorf("%s:%d: duplicate offer_id %s (first on line %d): an offer is confirmed at most once", name, line, fields[0], first)
		}
		if len(offers) >= maxOffers {
			return nil, fmt.Errorf("%s:%d: more than %d offers", name, line, maxOffers)
		}
		seen[fields[0]] = line
		offers = append(offers, Offer{OfferID: fields[0], QuoteID: fields[1]})
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("%s:%d: line longer than %d bytes", name, line+1, maxOfferLine)
		}
		return nil, fmt.Errorf("%s:%d: read: %w", name, line+1, err)
	}
	if len(offers) == 0 {
		return nil, fmt.Errorf("%s: no offers (want CSV lines offer_id,quote_id)", name)
	}
	return offers, nil
}

// checkID accepts non-empty ids of URL-unreserved characters.
func checkID(s string) error {
	if s == "" {
		return errors.New("empty")
	}
	if len(s) > maxIDLen {
		return fmt.Errorf("longer than %d bytes", maxIDLen)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '-' && c != '.' && c != '_' && c != '~' {
			return fmt.Errorf("invalid character %q at byte %d (ids are letters, digits and -._~)", rune(c), i+1)
		}
	}
	return nil
}

// Feed hands out offers, each at most once. Implementations are safe for
// concurrent use.
type Feed interface {
	// Next returns the next offer, or false when the feed is exhausted.
	Next() (Offer, bool)
	// Left is the number of offers not yet handed out, or -1 if unbounded.
	Left() int
}

// SliceFeed returns a Feed over offers, in order. It does not copy offers; do not
// modify the slice while the feed is in use.
func SliceFeed(offers []Offer) Feed { return &sliceFeed{offers: offers} }

type sliceFeed struct {
	offers []Offer
	next   atomic.Int64
}

// Next implements Feed.
func (f *sliceFeed) Next() (Offer, bool) {
	i := f.next.Add(1) - 1
	if i >= int64(len(f.offers)) {
		f.next.Store(int64(len(f.offers)))
		return Offer{}, false
	}
	return f.offers[i], true
}

// Left implements Feed.
func (f *sliceFeed) Left() int {
	return max(len(f.offers)-int(f.next.Load()), 0)
}

// GeneratedFeed returns an unbounded Feed of random (version 4 format) UUID
// offer and quote ids, deterministic for a seed. It is meant for the embedded
// sandbox, which accepts any offer id.
func GeneratedFeed(seed int64) Feed {
	return &genFeed{rng: rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))}
}

type genFeed struct {
	mu  sync.Mutex
	rng *rand.Rand
}

// Next implements Feed.
func (f *genFeed) Next() (Offer, bool) {
	f.mu.Lock()
	a, b, c, d := f.rng.Uint64(), f.rng.Uint64(), f.rng.Uint64(), f.rng.Uint64()
	f.mu.Unlock()
	return Offer{OfferID: uuidString(a, b), QuoteID: uuidString(c, d)}, true
}

// Left implements Feed: -1, unbounded.
func (f *genFeed) Left() int { return -1 }

// uuidString formats 128 random bits as a version 4 UUID.
func uuidString(hi, lo uint64) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], hi)
	binary.BigEndian.PutUint64(b[8:], lo)
	return xone.FormatUUID(b)
}
