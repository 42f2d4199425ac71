package load

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckShardTarget(t *testing.T) {
	tests := []struct {
		name      string
		url       string
		rate, max float64
		shards    int
		allowProd bool
		wantErr   string
	}{
		{name: "full-width dots", url: "https://api．xone．xcover．com", rate: 1, shards: 1, wantErr: "--allow-production"},
		{name: "full-width letter", url: "https://ａpi.xone.xcover.com", rate: 1, shards: 1, wantErr: "--allow-production"},
		{name: "ideographic stops", url: "https://API。XONE。XCOVER。COM", rate: 1, shards: 1, wantErr: "--allow-production"},
		{name: "subdomain", url: "https://eu.api.xone.xcover.com", rate: 1, shards: 1, wantErr: "--allow-production"},
		{name: "foo.localhost is not loopback by name", url: "http://foo.localhost:8080", rate: 500, shards: 1, wantErr: "--max-rate"},
		{name: "localhost", url: "http://localhost:8080", rate: 500, shards: 1},
		{name: "shard within its share", url: "https://partner.example", rate: 2, max: 20, shards: 10},
		{name: "shard above its share", url: "https://partner.example", rate: 20, max: 20, shards: 10, wantErr: "2/s each"},
		{name: "NaN max rate", url: "https://partner.example", rate: 1, max: math.NaN(), shards: 1, wantErr: "--max-rate"},
		{name: "negative max rate", url: "https://partner.example", rate: 1, max: -1, shards: 1, wantErr: "--max-rate"},
		{name: "absurd max rate", url: "https://partner.example", rate: 1, max: 1e9, shards: 1, wantErr: "--max-rate"},
		{name: "NaN max rate on loopback", url: "http://127.0.0.1:1", rate: 1, max: math.NaN(), shards: 1, wantErr: "--max-rate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckShardTarget(tt.url, tt.rate, tt.max, tt.shards, tt.allowProd)
			if tt.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func TestIdempotencyHeaderReserved(t *testing.T) {
	for _, h := range []string{"Authorization", "authorization", "Cookie", "Content-Type", "Content-Length", "Host",
		"Accept", "User-Agent", "Connection", "Keep-Alive", "Proxy-Authorization", "Proxy-Connection", "TE",
		"Trailer", "Transfer-Encoding", "Upgrade"} {
		p := Plan{Rate: "1/s", Duration: 1e9, ValidateSample: 1, IdempotencyHeader: h}
		var pe *PlanError
		require.ErrorAs(t, p.Validate(), &pe, "header %q", h)
		assert.Equal(t, "idempotency-header", pe.Field)
	}
	for _, h := range []string{"Idempotency-Key", "X-Request-Id"} {
		p := Plan{Rate: "1/s", Duration: 1e9, ValidateSample: 1, IdempotencyHeader: h}
		assert.NoError(t, p.Validate(), "header %q", h)
	}
}
