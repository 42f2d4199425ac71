package xone

import (
	"regexp"
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

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1": true, "127.1.2.3:8080": true, "[::1]:443": true, "::1": true,
		"localhost": true, "LOCALHOST.": true, "app.localhost": true,
		"10.0.0.1": false, "api.xone.xcover.com": false, "": false, "127.0.0.1.example.com": false,
	} {
		assert.Equal(t, want, IsLoopback(host), "IsLoopback(%q)", host)
	}
}

func TestConfirmPath(t *testing.T) {
	assert.Equal(t, "/api/partners/P-1/offers/abc/confirm", ConfirmPath("P-1", "abc"))
}
