package load

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckTarget(t *testing.T) {
	tests := []struct {
		name      string
		url       string
		rate, max float64
		shards    int
		allowProd bool
		wantErr   error
	}{
		{name: "full-width dots", url: "https://api．xone．xcover．com", rate: 1, shards: 1, wantErr: ErrProduction},
		{name: "full-width letter", url: "https://ａpi.xone.xcover.com", rate: 1, shards: 1, wantErr: ErrProduction},
		{name: "ideographic stops", url: "https://API。XONE。XCOVER。COM", rate: 1, shards: 1, wantErr: ErrProduction},
		{name: "subdomain", url: "https://eu.api.xone.xcover.com", rate: 1, shards: 1, wantErr: ErrProduction},
		{name: "foo.localhost is not loopback by name", url: "http://foo.localhost:8080", rate: 500, shards: 1, wantErr: ErrAboveCeiling},
		{name: "localhost", url: "http://localhost:8080", rate: 500, shards: 1},
		{name: "shard within its share", url: "https://partner.example", rate: 2, max: 20, shards: 10},
		{name: "shard above its share", url: "https://partner.example", rate: 20, max: 20, shards: 10, wantErr: ErrAboveCeiling},
		{name: "NaN max rate", url: "https://partner.example", rate: 1, max: math.NaN(), shards: 1, wantErr: ErrMaxRate},
		{name: "negative max rate", url: "https://partner.example", rate: 1, max: -1, shards: 1, wantErr: ErrMaxRate},
		{name: "absurd max rate", url: "https://partner.example", rate: 1, max: 1e9, shards: 1, wantErr: ErrMaxRate},
		{name: "NaN max rate on loopback", url: "http://127.0.0.1:1", rate: 1, max: math.NaN(), shards: 1, wantErr: ErrMaxRate},
		{name: "loopback uncapped", url: "http://127.0.0.1:8080", rate: 5000, shards: 1},
		{name: "ipv6 loopback", url: "http://[::1]:8080", rate: 5000, shards: 1},
		{name: "remote under default cap", url: "https://sandbox.example.com", rate: 20, shards: 1},
		{name: "remote over default cap", url: "https://sandbox.example.com", rate: 21, shards: 1, wantErr: ErrAboveCeiling},
		{name: "remote raised cap", url: "https://sandbox.example.com", rate: 50, max: 60, shards: 1},
		{name: "production case and dot", url: "https://API.XONE.xcover.com.:443", rate: 1, shards: 1, wantErr: ErrProduction},
		{name: "production allowed still capped", url: "https://api.xone.xcover.com", rate: 50, allowProd: true, shards: 1, wantErr: ErrAboveCeiling},
		{name: "production allowed", url: "https://api.xone.xcover.com", rate: 2, allowProd: true, shards: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckTarget(tt.url, tt.rate, tt.max, tt.shards, tt.allowProd)
			if tt.wantErr == nil {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, tt.wantErr)
			assert.NotContains(t, err.Error(), "--", "a library error names no flag")
		})
	}
}

func TestIdempotencyHeaderReserved(t *testing.T) {
	for _, h := range []string{"Authorization", "authorization", "Cookie", "Content-Type", "Content-Length", "Host",
		"Accept", "User-Agent", "Connection", "Keep-Alive", "Proxy-Authorization", "Proxy-Connection", "TE",
		"Trailer", "Transfer-Encoding", "Upgrade"} {
		p := Plan{Rate: "1/s", Duration: 2e9, ValidateSample: 1, IdempotencyHeader: h}
		var pe *PlanError
		require.ErrorAs(t, p.Validate(), &pe, "header %q", h)
		assert.Equal(t, "idempotency_header", pe.Field)
	}
	for _, h := range []string{"Idempotency-Key", "X-Request-Id"} {
		p := Plan{Rate: "1/s", Duration: 2e9, ValidateSample: 1, IdempotencyHeader: h}
		assert.NoError(t, p.Validate(), "header %q", h)
	}
}
