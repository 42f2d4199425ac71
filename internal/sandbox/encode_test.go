package sandbox

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestTimeFormatting(t *testing.T) {
	aest := time.FixedZone("AEST", 10*3600)
	west := time.FixedZone("X", -(3*3600 + 30*60))
	for _, ts := range []time.Time{
		time.Date(2026, 11, 27, 0, 18, 18, 849239123, time.UTC),
		time.Date(1999, 1, 2, 23, 59, 59, 999999999, time.UTC),
		time.Date(2030, 12, 31, 13, 0, 0, 0, aest),
		time.Date(2024, 2, 29, 1, 2, 3, 4000, west),
		time.Unix(0, 0),
	} {
		t.Run(ts.String(), func(t *testing.T) {
			assert.Equal(t, ts.UTC().Format("2006-01-02T15:04:05.000000Z07:00"), string(appendStamp(nil, ts)))
			assert.Equal(t, ts.Format("2006-01-02T15:04:05-07:00"), string(appendOffsetTime(nil, ts)))
			assert.Equal(t, ts.UTC().Format(http.TimeFormat), string(appendHTTPDate(nil, ts)))
		})
	}
}

func TestPermute50Bijective(t *testing.T) {
	seen := make(map[uint64]bool, 1<<16)
	for n := uint64(0); n < 1<<16; n++ {
		x := permute50(n, 0xDEADBEEFCAFEBABE)
		assert.Less(t, x, uint64(1)<<50)
		if seen[x] {
			t.Fatalf("permute50 collision at n=%d", n)
		}
		seen[x] = true
	}
}

func TestParseUUID(t *testing.T) {
	u, ok := parseUUID("5F1D7C8E-3b2a-4c6d-9e0f-1a2b3c4d5e6f")
	assert.True(t, ok)
	assert.Equal(t, "5f1d7c8e-3b2a-4c6d-9e0f-1a2b3c4d5e6f", string(appendUUIDBytes(nil, u)))
	for _, bad := range []string{"", "5f1d7c8e3b2a4c6d9e0f1a2b3c4d5e6f", "5f1d7c8e-3b2a-4c6d-9e0f-1a2b3c4d5e6g", "5f1d7c8e-3b2a-4c6d-9e0f_1a2b3c4d5e6f"} {
		_, ok := parseUUID(bad)
		assert.False(t, ok, bad)
	}
}
