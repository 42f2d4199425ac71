package load

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xoneharness/xoneharness/internal/auth"
	"github.com/xoneharness/xoneharness/internal/sandbox"
)

// TestEvidence: against a server that stalls 10 known offers and fails 5
// others with known CF-RAY values, the evidence lists exactly those 10 as
// the slowest and those 5 as the failures with their rays; three shards'
// evidence merged gives the same rows.
func TestEvidence(t *testing.T) {
	offers := genOffers(90, 21)
	rows := strings.Split(strings.TrimSpace(offers), "\n")[1:]
	stalled, failing := map[string]bool{}, map[string]string{}
	for i, row := range rows {
		id := strings.ToLower(strings.Split(row, ",")[0])
		switch {
		case i%9 == 4:
			stalled[id] = true
		case i%18 == 7:
			failing[id] = fmt.Sprintf("%016x-SYD", i+0xabc000)
		}
	}
	require.Len(t, stalled, 10)
	require.Len(t, failing, 5)
	// newFront is a target with its own sandbox behind it (a booked offer
	// stays booked: the whole run and the shards each get one).
	newFront := func(t *testing.T) (*httptest.Server, *sandbox.Server) {
		sb := sandbox.StartTB(t)
		front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rest := r.URL.Path[strings.Index(r.URL.Path, "/offers/")+len("/offers/"):]
			id := strings.ToLower(strings.TrimSuffix(rest, "/confirm"))
			switch {
			case stalled[id]:
				time.Sleep(time.Second)
			case failing[id] != "":
				w.Header().Set("CF-RAY", failing[id])
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = w.Write([]byte(`{"message":"Service Unavailable"}`))
				return
			}
			sb.Handler().ServeHTTP(w, r)
		}))
		t.Cleanup(front.Close)
		return front, sb
	}
	path := filepath.Join(t.TempDir(), "offers.csv")
	require.NoError(t, os.WriteFile(path, []byte(offers), 0o644))

	run := func(t *testing.T, front *httptest.Server, sb *sandbox.Server, sh Shard) Evidence {
		src, err := auth.New(auth.Config{TokenURL: sb.TokenURL(), ClientID: sandbox.ClientID, ClientSecret: sandbox.ClientSecret})
		require.NoError(t, err)
		cfg := Config{Plan: sh.mustPlan(t, Plan{Rate: "90/s", Duration: time.Second, Evidence: 10}), BaseURL: front.URL,
			PartnerID: sandbox.PartnerID, Tokens: src, OutDir: filepath.Join(t.TempDir(), fmt.Sprint(sh.Index))}
		feed, _, err := OpenOffers(context.Background(), path, nil, OfferOptions{Shard: sh})
		require.NoError(t, err)
		cfg.Offers = feed
		res, err := Run(context.Background(), cfg)
		require.NoError(t, err)
		return res.Evidence
	}
	check := func(t *testing.T, ev Evidence) {
		var slow []string
		for _, r := range ev.Slowest {
			slow = append(slow, strings.ToLower(r.OfferID))
			assert.GreaterOrEqual(t, r.LatencyMs, 1000.0)
			assert.NotEmpty(t, r.Headers["Cf-Ray"], "the sandbox's CF-RAY is kept")
		}
		assert.ElementsMatch(t, keysOf(stalled), slow, "the 10 stalled requests are the slowest")
		got := map[string]string{}
		for _, r := range ev.Failures {
			got[strings.ToLower(r.OfferID)] = r.Headers["Cf-Ray"]
			assert.Equal(t, 503, r.Status)
			assert.False(t, r.SentAt.IsZero())
		}
		assert.Equal(t, failing, got, "the 5 failures with their CF-RAY")
		assert.Equal(t, uint64(5), ev.FailuresTotal)
	}
	front, sb := newFront(t)
	check(t, run(t, front, sb, Shard{Index: 0, Count: 1}))
	front, sb = newFront(t)
	var merged Evidence
	for i := range 3 {
		merged = merged.Merge(run(t, front, sb, Shard{Index: i, Count: 3}), 10)
	}
	check(t, merged)
}

// mustPlan is Plan for tests.
func (s Shard) mustPlan(t *testing.T, p Plan) Plan {
	t.Helper()
	p, err := s.Plan(p)
	require.NoError(t, err)
	return p
}

func keysOf[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
