package load

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xoneharness/xoneharness/internal/race"
)

// TestPlanExplicit: zero means zero. Explicit refuses each value a command
// line may give that WithDefaults would replace or Validate would blame on
// another field, naming the field, and returns the plan as WithDefaults
// reads it.
func TestPlanExplicit(t *testing.T) {
	given := Plan{Rate: "50/s", Duration: 10 * time.Second, MaxDuration: DefaultMaxDuration, Timeout: DefaultTimeout,
		Evidence: DefaultEvidence, Race: RacePlan{N: race.DefaultN}}
	_, rateErr := ParseRate("abc")
	require.Error(t, rateErr)
	tests := []struct {
		name   string
		edit   func(*Plan)
		field  string // "" accepted
		want   string // the error, or with field "" what WithDefaults then reads
		hidden bool   // WithDefaults().Validate() alone accepts it
	}{
		{"max duration zero", func(p *Plan) { p.MaxDuration = 0 }, "max_duration",
			"plan: max_duration: want a positive duration (a run is always bounded), got 0s", true},
		{"max duration negative", func(p *Plan) { p.MaxDuration = -time.Second }, "max_duration",
			"plan: max_duration: want a positive duration (a run is always bounded), got -1s", false},
		{"timeout zero", func(p *Plan) { p.Timeout = 0 }, "timeout", "plan: timeout: want a positive per-request timeout, got 0s", true},
		{"evidence negative", func(p *Plan) { p.Evidence = -1 }, "evidence", "plan: evidence: want a number of requests from 0 to 1000, got -1", true},
		{"evidence above 1000", func(p *Plan) { p.Evidence = 1001 }, "evidence", "plan: evidence: want a number of requests from 0 to 1000, got 1001", true},
		{"race fraction 1", func(p *Plan) { p.Race.Fraction = 1 }, "race.fraction",
			"plan: race.fraction: want a fraction from 0 up to (not including) 1, got 1", false},
		{"race fraction negative", func(p *Plan) { p.Race.Fraction = -0.1 }, "race.fraction",
			"plan: race.fraction: want a fraction from 0 up to (not including) 1, got -0.1", false},
		{"race fraction NaN", func(p *Plan) { p.Race.Fraction = math.NaN() }, "race.fraction",
			"plan: race.fraction: want a fraction from 0 up to (not including) 1, got NaN", false},
		{"race group of 0", func(p *Plan) { p.Race = RacePlan{N: 0, Fraction: 0.2} }, "race.n",
			"plan: race.n: want 2 to 20 simultaneous confirms in each race group, got 0", true},
		{"race group of 1", func(p *Plan) { p.Race = RacePlan{N: 1, Fraction: 0.2} }, "race.n",
			"plan: race.n: want 2 to 20 simultaneous confirms in each race group, got 1", false},
		{"race group above MaxN", func(p *Plan) { p.Race = RacePlan{N: race.MaxN + 1, Fraction: 0.2} }, "race.n",
			"plan: race.n: want 2 to 20 simultaneous confirms in each race group, got 21", false},
		{"rate that does not parse", func(p *Plan) { p.Rate = "abc" }, "rate", "plan: rate: " + rateErr.Error(), false},

		{"the defaults a command line fills in", func(*Plan) {}, "", "evidence 20, race {0 0}", false},
		{"evidence 0 is none", func(p *Plan) { p.Evidence = 0 }, "", "evidence -1, race {0 0}", false},
		{"evidence 1000", func(p *Plan) { p.Evidence = 1000 }, "", "evidence 1000, race {0 0}", false},
		{"a race group size without a fraction is dropped", func(p *Plan) { p.Race.N = 0 }, "", "evidence 20, race {0 0}", false},
		{"race groups of 2", func(p *Plan) { p.Race = RacePlan{N: 2, Fraction: 0.2} }, "", "evidence 20, race {2 0.2}", false},
		{"race groups of MaxN", func(p *Plan) { p.Race = RacePlan{N: race.MaxN, Fraction: 0.5} }, "", "evidence 20, race {20 0.5}", false},
		{"stages without a rate", func(p *Plan) { p.Rate, p.Stages = "", []Stage{{Duration: time.Second, Target: 10}} }, "", "evidence 20, race {0 0}", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := given
			tt.edit(&p)
			got, err := p.Explicit()
			if tt.field == "" {
				require.NoError(t, err)
				assert.Equal(t, tt.want, fmt.Sprintf("evidence %d, race {%d %v}", got.Evidence, got.Race.N, got.Race.Fraction))
				got.Evidence, got.Race = p.Evidence, p.Race
				assert.Equal(t, p, got, "no other field changes")
				return
			}
			var pe *PlanError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tt.field, pe.Field)
			assert.EqualError(t, err, tt.want)
			if tt.hidden {
				assert.NoError(t, p.WithDefaults().Validate(), "what Explicit refuses, WithDefaults would hide")
			}
		})
	}
	t.Run("the rate's parse error is wrapped", func(t *testing.T) {
		p := given
		p.Rate = "abc"
		_, err := p.Explicit()
		var pe *PlanError
		require.ErrorAs(t, err, &pe)
		assert.EqualError(t, pe.Unwrap(), rateErr.Error())
	})
}

// TestServeMetrics: a bare :PORT binds 127.0.0.1, a spelled-out loopback
// host is loopback, a bad address is net.Listen's error; the registry is
// served until Close.
func TestServeMetrics(t *testing.T) {
	tests := []struct {
		addr       string
		wantPrefix string // "" an error
	}{
		{":0", "127.0.0.1:"},
		{"127.0.0.1:0", "127.0.0.1:"},
		{"no-port", ""},
		{"127.0.0.1:99999", ""},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			m, err := ServeMetrics(tt.addr)
			if tt.wantPrefix == "" {
				assert.Error(t, err, "got a server on %v, want an error", m)
				return
			}
			require.NoError(t, err)
			t.Cleanup(func() { _ = m.Close() })
			assert.True(t, strings.HasPrefix(m.Addr.String(), tt.wantPrefix), "got %s, want %s...", m.Addr, tt.wantPrefix)
			assert.True(t, m.Loopback())
			c := prometheus.NewCounter(prometheus.CounterOpts{Name: "xoneharness_test_total", Help: "a test counter"})
			require.NoError(t, m.Registry.Register(c))
			c.Add(3)
			resp, err := http.Get("http://" + m.Addr.String() + "/metrics")
			require.NoError(t, err)
			body, err := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			require.NoError(t, err)
			assert.Contains(t, string(body), "xoneharness_test_total 3")
			require.NoError(t, m.Close())
			_, err = http.Get("http://" + m.Addr.String() + "/metrics")
			assert.Error(t, err, "served after Close")
		})
	}
}

// TestOffersFor: without a path, generated offers when the target takes
// any, else ErrOffersRequired; with one, the shard's rows, a stream's size
// unknown, a shard without rows an error.
func TestOffersFor(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "offers.csv")
	require.NoError(t, os.WriteFile(path, []byte("offer_id,quote_id\na,1\nb,2\nc,3\n"), 0o644))
	one := filepath.Join(dir, "one.csv")
	require.NoError(t, os.WriteFile(one, []byte("a,1\n"), 0o644))
	empty := filepath.Join(dir, "empty.csv")
	require.NoError(t, os.WriteFile(empty, []byte("offer_id,quote_id\n"), 0o644))
	tests := []struct {
		name     string
		path     string
		generate bool
		shard    Shard
		wantSize int
		wantErr  string
	}{
		{name: "no path, a target that takes any offer", generate: true, wantSize: OffersGenerated},
		{name: "no path, a target that needs real offers", wantErr: ErrOffersRequired.Error()},
		{name: "a file", path: path, wantSize: 3},
		{name: "a file's shard", path: path, shard: Shard{1, 2}, wantSize: 1},
		{name: "a file, generate ignored", path: path, generate: true, wantSize: 3},
		{name: "stdin", path: "-", wantSize: OffersStream},
		{name: "a shard without rows", path: one, shard: Shard{1, 2}, wantErr: one + ": no offers for shard 1/2 (1 rows in the feed)"},
		{name: "a file without rows", path: empty, wantErr: empty + ": no offers (want CSV lines offer_id,quote_id)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			feed, size, err := OffersFor(context.Background(), tt.path, strings.NewReader("x,1\n"), tt.generate, OfferOptions{Shard: tt.shard})
			if tt.wantErr != "" {
				assert.EqualError(t, err, tt.wantErr)
				if tt.path == "" {
					assert.ErrorIs(t, err, ErrOffersRequired)
				}
				assert.Nil(t, feed)
				return
			}
			require.NoError(t, err)
			t.Cleanup(func() { _ = feed.Close() })
			assert.Equal(t, tt.wantSize, size)
			o, _, ok := feed.Next()
			require.True(t, ok, "got no offer, want one")
			assert.NotEmpty(t, o.OfferID)
		})
	}
	t.Run("an ended context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		for _, p := range []string{path, "-"} {
			feed, _, err := OffersFor(ctx, p, strings.NewReader("x,1\n"), false, OfferOptions{})
			assert.ErrorIs(t, err, context.Canceled, "path %s", p)
			assert.Nil(t, feed, "path %s", p)
		}
	})
}
