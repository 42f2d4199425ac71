// Package jsonlex holds the pieces of JSON's grammar (RFC 8259) that the project's hand-written
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

// Space returns the index of the first byte at or after i that is not JSON whitespace.
func Space(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// Literal reports whether b[i:] starts with word (true, false or null) and returns the index
// just past it.
func Literal(b []byte, i int, word string) (end int, ok bool) {
	if len(b)-i < len(word) || string(b[i:i+len(word)]) != word {
		return i, false
	}
	return i + len(word), true
}

// Escape checks the escape whose backslash is at b[i]: one of \" \\ \/ \b \f \n \r \t, or \u and
// four hex digits. It returns the index of the escape's last byte.
func Escape(b []byte, i int) (last int, ok bool) {
	i++
	if i >= len(b) {
		return i, false
	}
	switch b[i] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return i, true
	case 'u':
		if i+4 >= len(b) || !isHex(b[i+1]) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) {
			return i, false
		}
		return i + 4, true
	}
	return i, false
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }
