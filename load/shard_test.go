package load

import (
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
