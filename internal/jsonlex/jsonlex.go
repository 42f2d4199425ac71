// Package jsonlex holds the part of JSON's grammar (RFC 8259) that the project's hand-written
// scanners share. They read response bodies on hot paths (the spec check, the fast path's
// decoder, the booking-id scanner) and must accept exactly what encoding/json accepts.
package jsonlex

// Number scans the number literal at b[i:]: it returns the index just past it, whether it has a
// fraction and whether it has an exponent. ok is false when b[i:] does not start with a number
// encoding/json would accept (a leading zero followed by digits, a bare minus, a dot or exponent
// without digits). It says nothing about range: 1e400 is a literal that does not fit a float64.
func Number(b []byte, i int) (end int, frac, exp, ok bool) {
	j := i
	if j < len(b) && b[j] == '-' {
		j++
	}
	digits := func() bool {
		k := j
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		return j > k
	}
	switch {
	case j < len(b) && b[j] == '0':
		j++
	case j < len(b) && b[j] >= '1' && b[j] <= '9':
		digits()
	default:
		return i, false, false, false
	}
	if j < len(b) && b[j] == '.' {
		j++
		frac = true
		if !digits() {
			return i, false, false, false
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		exp = true
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		if !digits() {
			return i, false, false, false
		}
	}
	return j, frac, exp, true
}
