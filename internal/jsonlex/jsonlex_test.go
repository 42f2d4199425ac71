package jsonlex

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNumber(t *testing.T) {
	for _, tt := range []struct {
		in        string
		end       int
		frac, exp bool
		ok        bool
	}{
		{"0", 1, false, false, true},
		{"-0", 2, false, false, true},
		{"123,", 3, false, false, true},
		{"1.5}", 3, true, false, true},
		{"-1.5e-3]", 7, true, true, true},
		{"1E+2", 4, false, true, true},
		{"01", 1, false, false, true}, // the literal is "0"; the caller sees the trailing 1
		{"-", 0, false, false, false},
		{"1.", 0, false, false, false},
		{".5", 0, false, false, false},
		{"1e", 0, false, false, false},
		{"1e+", 0, false, false, false},
		{"+1", 0, false, false, false},
		{"", 0, false, false, false},
	} {
		end, frac, exp, ok := Number([]byte(tt.in), 0)
		assert.Equal(t, tt.ok, ok, "%q", tt.in)
		if tt.ok {
			assert.Equal(t, []any{tt.end, tt.frac, tt.exp}, []any{end, frac, exp}, "%q", tt.in)
		}
	}
	end, _, _, ok := Number([]byte(`[12]`), 1)
	assert.True(t, ok)
	assert.Equal(t, 3, end, "scans from the index given")
}

// FuzzNumber: a literal Number accepts whole is one encoding/json accepts as a document, and the
// other way round.
func FuzzNumber(f *testing.F) {
	for _, s := range []string{"0", "-1.5e3", "01", "1.", "1e+", "-"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		end, _, _, ok := Number(b, 0)
		whole := ok && end == len(b)
		// a document that is one number, without the whitespace json.Valid allows around it
		valid := json.Valid(b) && len(bytes.TrimSpace(b)) == len(b) && (b[0] == '-' || b[0] >= '0' && b[0] <= '9')
		if whole != valid {
			t.Errorf("%q: Number says %v, encoding/json %v", b, whole, valid)
		}
	})
}

func TestSpaceLiteralEscape(t *testing.T) {
	assert.Equal(t, 4, Space([]byte(" \t\r\nx"), 0))
	assert.Equal(t, 2, Space([]byte("ab"), 2), "at the end")
	assert.Equal(t, 1, Space([]byte("a\v"), 1), "\\v is not JSON whitespace")

	end, ok := Literal([]byte("[true]"), 1, "true")
	assert.True(t, ok)
	assert.Equal(t, 5, end)
	_, ok = Literal([]byte("tru"), 0, "true")
	assert.False(t, ok, "truncated")
	_, ok = Literal([]byte("nul1"), 0, "null")
	assert.False(t, ok)

	for _, tt := range []struct {
		in   string
		last int
		ok   bool
	}{
		{`\"`, 1, true}, {`\\`, 1, true}, {`\/`, 1, true}, {`\n`, 1, true}, {`\t`, 1, true},
		{`\u00e9"`, 5, true}, {`\uD83D`, 5, true},
		{`\x`, 0, false}, {`\`, 0, false}, {`\u00e`, 0, false}, {`\u00zz`, 0, false}, {`\U0041`, 0, false},
	} {
		last, ok := Escape([]byte(tt.in), 0)
		assert.Equal(t, tt.ok, ok, "%q", tt.in)
		if tt.ok {
			assert.Equal(t, tt.last, last, "%q", tt.in)
		}
	}
}
