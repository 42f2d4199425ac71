package load

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseShard(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Shard
		err  string
	}{
		{"0/3", Shard{0, 3}, ""},
		{" 2 / 3 ", Shard{2, 3}, ""},
		{"0/1", Shard{0, 1}, ""},
		{"3/3", Shard{}, "index"},
		{"-1/3", Shard{}, "index"},
		{"0/0", Shard{}, "count"},
		{"0/1001", Shard{}, "count"},
		{"1", Shard{}, "INDEX/COUNT"},
		{"a/b", Shard{}, "INDEX/COUNT"},
		{"", Shard{}, "INDEX/COUNT"},
	} {
		t.Run(c.in, func(t *testing.T) {
			got, err := ParseShard(c.in)
			if c.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), c.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
			assert.Equal(t, got, mustShard(t, got.String()))
		})
	}
}

func mustShard(t *testing.T, s string) Shard {
	sh, err := ParseShard(s)
	require.NoError(t, err)
	return sh
}

func TestShardOffersPartition(t *testing.T) {
	var all []Offer
	for i := range 10 {
		all = append(all, Offer{OfferID: string(rune('a' + i))})
	}
	seen := map[string]int{}
	total := 0
	for i := range 3 {
		part := Shard{i, 3}.Offers(all)
		total += len(part)
		for _, o := range part {
			seen[o.OfferID]++
		}
	}
	assert.Equal(t, len(all), total, "every row goes to a shard")
	for id, n := range seen {
		assert.Equal(t, 1, n, "offer %s in %d shards", id, n)
	}
	assert.Equal(t, []Offer{all[1], all[4], all[7]}, Shard{1, 3}.Offers(all))
}

func TestShardPlan(t *testing.T) {
	p, err := Shard{0, 3}.Plan(Plan{Rate: "50/s", Duration: time.Minute})
	require.NoError(t, err)
	r, err := ParseRate(p.Rate)
	require.NoError(t, err)
	assert.InDelta(t, 50.0/3, float64(r.Freq)/r.Per.Seconds(), 1e-9)
	assert.Equal(t, time.Minute, p.Duration)

	p, err = Shard{1, 4}.Plan(Plan{Stages: []Stage{{30 * time.Second, 40}, {time.Minute, 80}}})
	require.NoError(t, err)
	assert.Equal(t, []Stage{{30 * time.Second, 10}, {time.Minute, 20}}, p.Stages)

	p, err = Shard{0, 1}.Plan(Plan{Rate: "7/s"})
	require.NoError(t, err)
	assert.Equal(t, "7/s", p.Rate)
}

func FuzzParseShard(f *testing.F) {
	for _, s := range []string{"0/3", "2/3", "x", "1/0", "999/1000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sh, err := ParseShard(s)
		if err != nil {
			return
		}
		if sh.Index < 0 || sh.Index >= sh.Count || sh.Count > maxShards {
			t.Fatalf("ParseShard(%q) = %+v", s, sh)
		}
	})
}

func TestReadBookings(t *testing.T) {
	in := "offer_id,quote_id,booking_id,http_status,confirmed_at\n" +
		"o1,q1,B-1,200,2026-11-27T01:00:00.5Z\n" +
		"o2,q2,B-2,200,2026-11-27T01:00:01Z\n"
	got, err := ReadBookings(strings.NewReader(in), "bookings.csv")
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, Booking{OfferID: "o1", QuoteID: "q1", Outcome: OutcomeBooked, BookingID: "B-1", Status: 200,
		At: time.Date(2026, 11, 27, 1, 0, 0, 5e8, time.UTC)}, got[0])

	// The current format, with outcomes, as a Ledger writes it.
	dir := t.TempDir()
	l, err := OpenLedger(dir)
	require.NoError(t, err)
	at := time.Date(2026, 11, 27, 1, 0, 2, 0, time.UTC)
	l.Add(Booking{OfferID: "o3", QuoteID: "q3", Outcome: OutcomeBooked, BookingID: "B-3", Status: 200, At: at})
	l.Add(Booking{OfferID: "o4", QuoteID: "q4", Error: "context deadline exceeded\n(Client.Timeout)", At: at})
	require.NoError(t, l.Close())
	f, err := os.Open(filepath.Join(dir, BookingsFile))
	require.NoError(t, err)
	defer f.Close()
	got, err = ReadBookings(f, BookingsFile)
	require.NoError(t, err)
	assert.Equal(t, []Booking{
		{OfferID: "o3", QuoteID: "q3", Outcome: OutcomeBooked, BookingID: "B-3", Status: 200, At: at},
		{OfferID: "o4", QuoteID: "q4", Outcome: OutcomeUnknown, Error: "context deadline exceeded (Client.Timeout)", At: at},
	}, got)
	// A ledger is never overwritten.
	_, err = OpenLedger(dir)
	assert.ErrorIs(t, err, os.ErrExist)

	_, err = ReadBookings(strings.NewReader("o1,q1,B-1,abc,2026-11-27T01:00:00Z\n"), "b.csv")
	assert.ErrorContains(t, err, "b.csv:1: http_status")
	_, err = ReadBookings(strings.NewReader("o1,q1\n"), "b.csv")
	assert.ErrorContains(t, err, "b.csv")
}
