package load

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/xoneharness/xoneharness/internal/xone"
)

// Offer is one offer to confirm: its id (in the URL path) and the id of the quote
// sent in the body. ReadOfferList and ReadOffers guarantee both are URL- and
// JSON-safe.
type Offer struct {
	OfferID string `json:"offer_id"`
	QuoteID string `json:"quote_id"`
}

const (
	maxOfferLine = 4 << 10  // bytes per CSV line
	maxIDLen     = 128      // bytes per id
	maxOffers    = 10 << 20 // rows per file
)

// ReadOffers is ReadOfferList returning a slice: the same input, the same
// errors. Each Offer holds two strings (~112 bytes for two UUIDs, against 33 in
// an OfferList): prefer ReadOfferList for a large feed.
func ReadOffers(r io.Reader, name string) ([]Offer, error) {
	l, err := ReadOfferList(r, name)
	if err != nil {
		return nil, err
	}
	return l.Expand(), nil
}

// checkID accepts non-empty ids of URL-unreserved characters that are one
// clean path segment: not "." or "..", which a URL resolves away.
func checkID[S string | []byte](s S) error {
	if len(s) == 0 {
		return errors.New("empty")
	}
	if string(s) == "." || string(s) == ".." {
		return fmt.Errorf("%q is not a path segment (an id is put in the URL path)", string(s))
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
