package sandbox

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// rng is a splitmix64 stream: tiny, lock-free (one per request) and deterministic.
type rng struct{ state uint64 }

const golden = 0x9E3779B97F4A7C15

// newRNG derives an independent stream for request n and purpose salt from seed.
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

const mask50 = 1<<50 - 1

// permute50 is a bijection on [0, 2^50) keyed by key: distinct n give distinct booking ids
// for the first 2^50 bookings of a server.
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
	hexDigits     = "0123456789abcdef"
)

// appendBookingID appends an id like EYYLD-F8LDV-INS encoding the 50 bits of x.
func appendBookingID(b []byte, x uint64) []byte {
	for i := 0; i < 10; i++ {
		if i == 5 {
			b = append(b, '-')
		}
		b = append(b, idAlphabet[(x>>(45-5*i))&31])
	}
	return append(b, "-INS"...)
}

// appendSecurityToken appends a value like dXX3S-UglSd-ca604-swAO5.
func appendSecurityToken(b []byte, r *rng) []byte {
	for i := 0; i < 20; i++ {
		if i > 0 && i%5 == 0 {
			b = append(b, '-')
		}
		b = append(b, tokenAlphabet[r.intn(len(tokenAlphabet))])
	}
	return b
}

// appendUUID appends a random version 4 UUID.
func appendUUID(b []byte, r *rng) []byte {
	hi, lo := r.next(), r.next()
	hi = hi&^(0xF<<12) | 4<<12         // version 4
	lo = lo&^(0x3<<62) | uint64(2)<<62 // variant 10
	var u [16]byte
	for i := 0; i < 8; i++ {
		u[i] = byte(hi >> (56 - 8*i))
		u[8+i] = byte(lo >> (56 - 8*i))
	}
	return appendUUIDBytes(b, u)
}

func appendUUIDBytes(b []byte, u [16]byte) []byte {
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hexDigits[c>>4], hexDigits[c&0xF])
	}
	return b
}

func appendHex(b []byte, r *rng, n int) []byte {
	var x uint64
	for i := 0; i < n; i++ {
		if i%16 == 0 {
			x = r.next()
		}
		b = append(b, hexDigits[x&0xF])
		x >>= 4
	}
	return b
}

// uuidHexPos are the offsets of the 16 hex pairs in a canonical UUID string.
var uuidHexPos = [16]uint8{0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34}

// parseUUID parses a canonical 8-4-4-4-12 UUID (any version, either case).
func parseUUID(s string) (u [16]byte, ok bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, false
	}
	for i, p := range uuidHexPos {
		hi, ok1 := unhex(s[p])
		lo, ok2 := unhex(s[p+1])
		if !ok1 || !ok2 {
			return u, false
		}
		u[i] = hi<<4 | lo
	}
	return u, true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// appendCents appends cents/100 as a JSON number with two decimals (cents >= 0).
func appendCents(b []byte, cents int64) []byte {
	b = strconv.AppendInt(b, cents/100, 10)
	c := cents % 100
	return append(b, '.', byte('0'+c/10), byte('0'+c%10))
}

// appendJSONString appends s as a JSON string literal (see appendJSONBytes).
func appendJSONString(b []byte, s string) []byte { return appendJSONBytes(b, []byte(s)) }

// appendJSONBytes appends s as a JSON string literal. Each byte of invalid UTF-8 becomes
// U+FFFD, as in encoding/json.
func appendJSONBytes(b []byte, s []byte) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendPad appends v as exactly n decimal digits (v >= 0, v < 10^n).
func appendPad(b []byte, v, n int) []byte {
	var d [9]byte
	for i := n - 1; i >= 0; i-- {
		d[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, d[:n]...)
}

// appendDateClock appends "2006-01-02T15:04:05" for t in its own location (years 0-9999).
func appendDateClock(b []byte, t time.Time, sep byte) []byte {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	b = appendPad(b, y, 4)
	b = append(b, '-')
	b = appendPad(b, int(mo), 2)
	b = append(b, '-')
	b = appendPad(b, d, 2)
	b = append(b, sep)
	b = appendPad(b, h, 2)
	b = append(b, ':')
	b = appendPad(b, mi, 2)
	b = append(b, ':')
	return appendPad(b, s, 2)
}

// appendStamp appends t in UTC as Laravel does: 2006-01-02T15:04:05.000000Z.
func appendStamp(b []byte, t time.Time) []byte {
	t = t.UTC()
	b = appendDateClock(b, t, 'T')
	b = append(b, '.')
	b = appendPad(b, t.Nanosecond()/1000, 6)
	return append(b, 'Z')
}

// appendOffsetTime appends t (in a whole-minute fixed zone) as 2006-01-02T15:04:05+10:00.
func appendOffsetTime(b []byte, t time.Time) []byte {
	b = appendDateClock(b, t, 'T')
	_, off := t.Zone()
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	b = append(b, sign)
	b = appendPad(b, off/3600, 2)
	b = append(b, ':')
	return appendPad(b, off%3600/60, 2)
}

// appendHTTPDate appends t in http.TimeFormat (Mon, 02 Jan 2006 15:04:05 GMT).
func appendHTTPDate(b []byte, t time.Time) []byte {
	const days, months = "SunMonTueWedThuFriSat", "JanFebMarAprMayJunJulAugSepOctNovDec"
	t = t.UTC()
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	wd := int(t.Weekday())
	b = append(b, days[3*wd:3*wd+3]...)
	b = append(b, ',', ' ')
	b = appendPad(b, d, 2)
	b = append(b, ' ')
	b = append(b, months[3*(mo-1):3*mo]...)
	b = append(b, ' ')
	b = appendPad(b, y, 4)
	b = append(b, ' ')
	b = appendPad(b, h, 2)
	b = append(b, ':')
	b = appendPad(b, mi, 2)
	b = append(b, ':')
	b = appendPad(b, s, 2)
	return append(b, " GMT"...)
}
