package sandbox

import (
	"fmt"
	"math"

	"github.com/google/uuid"
)

// rng is a splitmix64 stream: tiny, lock-free (one per request) and deterministic.
type rng struct{ state uint64 }

const golden = 0x9E3779B97F4A7C15

// newRNG derives an independent stream for request n and purpose salt from seed. Every step is a
// bijection, so the k-th values of the streams of distinct n (same seed and salt) differ.
func newRNG(seed, n, salt uint64) rng {
	r := rng{state: seed ^ (n * golden) ^ (salt * 0xD1B54A32D192ED03)}
	r.next() // decorrelate neighbouring n
	return r
}

func (r *rng) next() uint64 {
	r.state += golden
	z := r.state
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// float returns a uniform value in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// intn returns a value in [0, n) (n > 0; negligible bias for small n).
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// norm returns a standard normal sample (Box-Muller).
func (r *rng) norm() float64 {
	u1 := 1 - r.float() // (0, 1]
	u2 := r.float()
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
}

// Read fills p from the stream, so that uuid.NewRandomFromReader draws seeded UUIDs.
func (r *rng) Read(p []byte) (int, error) {
	var x uint64
	for i := range p {
		if i%8 == 0 {
			x = r.next()
		}
		p[i] = byte(x)
		x >>= 8
	}
	return len(p), nil
}

// uuid returns a version 4 UUID drawn from the stream.
func (r *rng) uuid() string {
	u, _ := uuid.NewRandomFromReader(r) // Read never fails
	return u.String()
}

const mask50 = 1<<50 - 1

// permute50 is a bijection on [0, 2^50) keyed by key: distinct n give distinct booking ids.
func permute50(n, key uint64) uint64 {
	x := (n ^ key) & mask50
	x = (x * 0xBF58476D1CE4E5B9) & mask50 // odd multiplier: bijective mod 2^50
	x ^= x >> 23
	x = (x * 0x94D049BB133111EB) & mask50
	x ^= x >> 25
	x = (x + (key >> 14)) & mask50
	return x
}

const (
	idAlphabet    = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789" // 32 symbols, no I/O/0/1
	tokenAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

// bookingID returns an id like EYYLD-F8LDV-INS encoding the 50 bits of x.
func bookingID(x uint64) string {
	return dashed(10, func(i int) byte { return idAlphabet[(x>>(45-5*i))&31] }) + "-INS"
}

// securityToken returns a value like dXX3S-UglSd-ca604-swAO5.
func securityToken(r *rng) string {
	return dashed(20, func(int) byte { return tokenAlphabet[r.intn(len(tokenAlphabet))] })
}

// dashed returns the n symbols sym gives in order, in groups of five joined by '-'.
func dashed(n int, sym func(i int) byte) string {
	b := make([]byte, 0, n+n/5)
	for i := range n {
		if i > 0 && i%5 == 0 {
			b = append(b, '-')
		}
		b = append(b, sym(i))
	}
	return string(b)
}

// parseOfferID parses an offer id: a canonical 8-4-4-4-12 UUID, any version, either case.
func parseOfferID(s string) (uuid.UUID, bool) {
	if len(s) != 36 { // uuid.Parse also takes the urn:, {braced} and undashed forms
		return uuid.UUID{}, false
	}
	u, err := uuid.Parse(s)
	return u, err == nil
}

// money is an amount in cents (>= 0), written as a JSON number with two decimals (24.95).
type money int64

func (m money) String() string { return fmt.Sprintf("%d.%02d", m/100, m%100) }

// MarshalJSON writes m as a number with two decimals.
func (m money) MarshalJSON() ([]byte, error) { return []byte(m.String()), nil }
