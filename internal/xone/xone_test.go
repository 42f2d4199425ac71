package xone

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNewUUID(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 1000 {
		u := NewUUID()
		assert.Regexp(t, re, u)
		assert.False(t, seen[u], "duplicate %s", u)
		seen[u] = true
	}
}

func TestFormatUUID(t *testing.T) {
	var b [16]byte
	for i := range b {
		b[i] = 0xff
	}
	assert.Equal(t, "ffffffff-ffff-4fff-bfff-ffffffffffff", FormatUUID(b))
}

func TestAppendUUID(t *testing.T) {
	b := [16]byte{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}
	assert.Equal(t, "x00112233-4455-6677-8899-aabbccddeeff", string(AppendUUID([]byte("x"), b)),
		"bytes as is: no version or variant bits set, lower case")
}

func TestConfirmPath(t *testing.T) {
	assert.Equal(t, "/api/partners/P-1/offers/abc/confirm", ConfirmPath("P-1", "abc"))
}

func TestConfirmPathParts(t *testing.T) {
	tests := []struct{ partner, offer string }{
		{"P-1", "abc"},
		{"cg-partner-7", "3f6c2a9e-8b1d-4c7a-9e2f-5d4b3a2c1e0f"},
	}
	for _, tt := range tests {
		t.Run(tt.partner, func(t *testing.T) {
			want := strings.NewReplacer("{partner_id}", tt.partner, "{offer_id}", tt.offer).Replace(ConfirmPathTemplate)
			assert.Equal(t, want, ConfirmPath(tt.partner, tt.offer), "ConfirmPath against the template")
			assert.Equal(t, want, ConfirmPrefix(tt.partner)+tt.offer+ConfirmSuffix, "prefix + offer + suffix")
		})
	}
}
