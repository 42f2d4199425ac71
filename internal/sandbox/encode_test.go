package sandbox

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

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

func TestParseOfferID(t *testing.T) {
	u, ok := parseOfferID("5F1D7C8E-3b2a-4c6d-9e0f-1a2b3c4d5e6f")
	assert.True(t, ok)
	assert.Equal(t, "5f1d7c8e-3b2a-4c6d-9e0f-1a2b3c4d5e6f", u.String())
	for _, bad := range []string{"", "5f1d7c8e3b2a4c6d9e0f1a2b3c4d5e6f", "5f1d7c8e-3b2a-4c6d-9e0f-1a2b3c4d5e6g",
		"5f1d7c8e-3b2a-4c6d-9e0f_1a2b3c4d5e6f", "{5f1d7c8e-3b2a-4c6d-9e0f-1a2b3c4d5e6f}",
		"urn:uuid:5f1d7c8e-3b2a-4c6d-9e0f-1a2b3c4d5e6f"} {
		_, ok := parseOfferID(bad)
		assert.False(t, ok, bad)
	}
}

func TestMoney(t *testing.T) {
	for _, tt := range []struct {
		m    money
		want string
	}{{0, "0.00"}, {5, "0.05"}, {2495, "24.95"}, {100000, "1000.00"}} {
		t.Run(tt.want, func(t *testing.T) {
			got, err := tt.m.MarshalJSON()
			assert.NoError(t, err)
			assert.Equal(t, tt.want, string(got), "got %s, want %s", got, tt.want)
		})
	}
}
