package egress

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// job is a simulated job: one Gate per shard, each with its own clock
// (true time plus an offset), started at its own moment, with one greedy
// sender and pausing senders; each sender reserves, waits for its instant,
// sends (a group counts as many sends) and reserves again.
type job struct {
	rate    float64
	offsets []time.Duration // per shard: its clock minus true time
	starts  []time.Duration // per shard: its start after the job's base
	senders []int           // per shard: how many (at least 1)
	groups  bool            // reserve groups of 1..MaxGroup sends
	seed    uint64          // pauses and group sizes
	run     time.Duration   // after the last start
}

// jobSends is a job's sends in true Unix nanoseconds, per shard, and the
// span [from, to) in which every shard ran.
type jobSends struct {
	perShard [][]int64
	from, to int64
}

type simSender struct {
	shard  int
	ready  time.Time
	greedy bool
}

func simulate(t require.TestingT, base time.Time, j job) jobSends {
	n := len(j.offsets)
	rng := rand.New(rand.NewPCG(j.seed, 1))
	var now time.Time // true time
	gates := make([]*Gate, n)
	var queue []*simSender // by ready time
	enqueue := func(s *simSender) {
		i, _ := slices.BinarySearchFunc(queue, s, func(a, b *simSender) int { return a.ready.Compare(b.ready) })
		queue = slices.Insert(queue, i, s)
	}
	for i := range n {
		off := j.offsets[i]
		g, err := New(Config{MaxRate: j.rate, Shard: Shard{Index: i, Count: n}, Now: func() time.Time { return now.Add(off) }})
		require.NoError(t, err)
		gates[i] = g
		for k := range j.senders[i] {
			enqueue(&simSender{shard: i, ready: base.Add(j.starts[i]), greedy: k == 0})
		}
	}
	from := base.Add(slices.Max(j.starts))
	end := from.Add(j.run)
	res := jobSends{perShard: make([][]int64, n), from: from.UnixNano(), to: end.UnixNano()}
	for queue[0].ready.Before(end) {
		s := queue[0]
		queue = queue[1:]
		now = s.ready
		g, m := gates[s.shard], 1
		if j.groups {
			m = 1 + rng.IntN(g.MaxGroup())
		}
		at := g.ceiling.reserve(m).Add(-j.offsets[s.shard])
		require.False(t, at.Before(now), "shard %d: sends at %v before it asked at %v", s.shard, at, now)
		for range m {
			res.perShard[s.shard] = append(res.perShard[s.shard], at.UnixNano())
		}
		s.ready = at
		if !s.greedy && rng.IntN(2) == 0 {
			s.ready = at.Add(time.Duration(rng.Int64N(int64(3 * g.ceiling.period))))
		}
		enqueue(s)
	}
	return res
}

// limit is the ceiling's promise for rate: at most n sends in any window of
// w nanoseconds.
func limit(rate float64) (n int, w int64) {
	if rate < 1 {
		return 1, int64(math.Ceil(1e9 / rate))
	}
	return int(rate), int64(time.Second)
}

// busiestWindow is the most sends any window [t, t+w) holds, and its start.
func busiestWindow(perShard [][]int64, w int64) (int, time.Time) {
	all := slices.Concat(perShard...)
	slices.Sort(all)
	best, at := 0, int64(0)
	for i, k := 0, 0; i < len(all); i++ {
		for k < len(all) && all[k] < all[i]+w {
			k++
		}
		if k-i > best {
			best, at = k-i, all[i]
		}
	}
	return best, time.Unix(0, at)
}

// checkJob asserts the ceiling over the merged sends and, for a job of
// single sends, that each shard got at least 90% of its share floor(rate)/N
// (below 1/s: rate/N) over the span in which all shards ran.
func checkJob(t require.TestingT, j job, got jobSends) {
	n, w := limit(j.rate)
	busiest, at := busiestWindow(got.perShard, w)
	require.LessOrEqual(t, busiest, n, "got %d sends in the window of %s from %v, want at most %d (rate %g, %d shards)",
		busiest, time.Duration(w), at, n, j.rate, len(j.offsets))
	for i, sends := range got.perShard {
		require.NotEmpty(t, sends, "shard %d never sent", i)
		if j.groups {
			continue
		}
		in := 0
		for _, s := range sends {
			if s >= got.from && s < got.to {
				in++
			}
		}
		want := 0.9 * float64(n) / float64(len(j.offsets)) * float64(got.to-got.from) / float64(w)
		require.GreaterOrEqual(t, float64(in), want, "shard %d of %d: got %d sends in %s, want at least %.1f",
			i, len(j.offsets), in, time.Duration(got.to-got.from), want)
	}
}

// drawJob draws N in [1, 64] shards, each with a clock offset within
// +-MaxClockSkew/2 of true time, a start within 3 s and 1 to 6 senders, and
// a run of at least 40 of a shard's turns (and 3 windows).
func drawJob(t *rapid.T, rates *rapid.Generator[float64], groups bool) job {
	n := rapid.IntRange(1, 64).Draw(t, "shards")
	j := job{rate: rates.Draw(t, "rate"), groups: groups, seed: rapid.Uint64().Draw(t, "seed")}
	half := int64(MaxClockSkew / 2)
	for range n {
		j.offsets = append(j.offsets, time.Duration(rapid.Int64Range(-half, half).Draw(t, "offset")))
		j.starts = append(j.starts, time.Duration(rapid.Int64Range(0, int64(3*time.Second)).Draw(t, "start")))
		j.senders = append(j.senders, rapid.IntRange(1, 6).Draw(t, "senders"))
	}
	j.run = runFor(t, j.rate, n)
	return j
}

// runFor is how long a job of shards at rate runs after its last start: 40
// of a shard's turns, and at least 3 windows of the ceiling.
func runFor(t require.TestingT, rate float64, shards int) time.Duration {
	_, w := limit(rate)
	c, err := newCeiling(rate, Shard{Count: shards}, time.Now)
	require.NoError(t, err)
	return max(3*time.Duration(w), 40*c.period)
}

// TestCeilingJobProperty merges the sends of N shards' gates in true time:
// no window holds more than the ceiling, whatever the shards' start moments
// and clock offsets within MaxClockSkew, with single sends (each shard also
// getting its share), groups, and rates below 1/s.
func TestCeilingJobProperty(t *testing.T) {
	tests := []struct {
		name   string
		rates  *rapid.Generator[float64]
		groups bool
	}{
		{"single sends", rapid.Float64Range(1, 1000), false},
		{"groups", rapid.Float64Range(1, 1000), true},
		{"below one per second", rapid.Float64Range(0.05, 0.999), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rapid.Check(t, func(rt *rapid.T) {
				j := drawJob(rt, tt.rates, tt.groups)
				base := time.Unix(1_750_000_000, rapid.Int64Range(0, int64(time.Hour)).Draw(rt, "base"))
				checkJob(rt, j, simulate(rt, base, j))
			})
		})
	}
}

// TestCeilingShardsStartedTogether reproduces what was seen with one
// ceiling per process: shards of an Indexed Job started at one moment burst
// (4 shards at --max-rate 2 sent 4 within 23 ms, 30 at 20/s sent 30 within
// 0.5 s). Half the shards' clocks run MaxClockSkew/2 early, half late.
func TestCeilingShardsStartedTogether(t *testing.T) {
	tests := []struct {
		shards int
		rate   float64
		groups bool
	}{
		{4, 2, false}, {30, 20, false}, {3, 15, false}, {64, MaxRateLimit, false}, {1, 20, true}, {2, 40, true}, {8, 0.5, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d shards at %g/s groups=%v", tt.shards, tt.rate, tt.groups), func(t *testing.T) {
			j := job{rate: tt.rate, groups: tt.groups, run: runFor(t, tt.rate, tt.shards)}
			for i := range tt.shards {
				off := MaxClockSkew / 2
				if i >= tt.shards/2 {
					off = -off
				}
				j.offsets, j.starts, j.senders = append(j.offsets, off), append(j.starts, 0), append(j.senders, 3)
			}
			checkJob(t, j, simulate(t, time.Unix(1_750_000_000, 123_456_789), j))
		})
	}
}

// TestCeilingSlots checks the slot arithmetic on a fixed clock: unsharded
// sends are spaced 1/floor(rate) apart, a sharded gate sends only on its own
// slots of the Unix grid, a group sits in the middle of its 2n-1 slots, and
// what one caller reserved (and perhaps gave up) is never handed out again.
func TestCeilingSlots(t *testing.T) {
	now := time.Unix(1_000, 0)
	clock := func() time.Time { return now }

	un, err := newCeiling(4.5, Shard{}, clock)
	require.NoError(t, err)
	got := []time.Time{un.reserve(1), un.reserve(1), un.reserve(3), un.reserve(1)}
	want := []time.Time{now, now.Add(250 * time.Millisecond), now.Add(time.Second), now.Add(1750 * time.Millisecond)}
	assert.Equal(t, want, got, "unsharded: got %v, want %v", got, want)

	sh, err := newCeiling(20, Shard{Index: 2, Count: 3}, clock)
	require.NoError(t, err)
	slot := int64(math.Ceil(float64(time.Second+MaxClockSkew) / 20))
	for range 5 {
		at := sh.reserve(1).UnixNano()
		assert.Equal(t, int64(2), (at/slot)%3, "slot %d of shard 2/3", at/slot)
		assert.Zero(t, at%slot, "at %d, want the start of a slot", at)
	}
	a, b := sh.reserve(1), sh.reserve(2)
	assert.Equal(t, 2*sh.period, b.Sub(a), "a group of 2 leaves one free slot of its own before its instant")
	assert.Equal(t, 2*sh.period, sh.reserve(1).Sub(b), "and keeps one after it")
	assert.Equal(t, 6, sh.group)
}

func TestAdmit(t *testing.T) {
	res := fakeResolver{"partner.test": {"192.0.2.10"}}
	newGate := func(t *testing.T, rate float64, sh Shard) *Gate {
		g, err := New(Config{MaxRate: rate, Shard: sh, Resolver: res})
		require.NoError(t, err)
		return g
	}
	ctx := context.Background()
	t.Run("too large", func(t *testing.T) {
		for _, tt := range []struct {
			rate     float64
			sh       Shard
			maxGroup int
		}{{5, Shard{}, 5}, {20, Shard{Index: 3, Count: 4}, 5}, {20, Shard{Count: 30}, 1}, {0.5, Shard{}, 1}, {2.9, Shard{Count: 1}, 2}} {
			g := newGate(t, tt.rate, tt.sh)
			assert.Equal(t, tt.maxGroup, g.MaxGroup(), "%g/s %v: got MaxGroup %d, want %d", tt.rate, tt.sh, g.MaxGroup(), tt.maxGroup)
			err := g.Admit(ctx, "http://partner.test/confirm", tt.maxGroup+1)
			assert.ErrorIs(t, err, ErrGroupTooLarge)
			assert.ErrorContains(t, err, fmt.Sprintf("at most %d", tt.maxGroup))
		}
	})
	t.Run("bad group or URL", func(t *testing.T) {
		g := newGate(t, 5, Shard{})
		assert.Error(t, g.Admit(ctx, "http://partner.test", 0))
		assert.Error(t, g.Admit(ctx, "ftp://partner.test", 1))
		assert.ErrorIs(t, g.Admit(ctx, "https://api．xone．xcover．com", 1), ErrProduction)
	})
	t.Run("loopback is not held", func(t *testing.T) {
		g := newGate(t, 1, Shard{})
		start := time.Now()
		for range 3 {
			require.NoError(t, g.Admit(ctx, "http://127.0.0.1:1/x", 1000))
		}
		assert.Less(t, time.Since(start), 500*time.Millisecond)
	})
	t.Run("waits for the group's slots", func(t *testing.T) {
		g := newGate(t, 10, Shard{})
		require.NoError(t, g.Admit(ctx, "http://partner.test", 3))
		start := time.Now()
		require.NoError(t, g.Admit(ctx, "http://partner.test", 2))
		// 2 slots after the first group's instant, 1 before the second's.
		assert.InDelta(t, 400*time.Millisecond, time.Since(start), float64(250*time.Millisecond))
	})
	t.Run("sharded waits for its own slots", func(t *testing.T) {
		g := newGate(t, 50, Shard{Index: 1, Count: 2}) // a slot every 40.4 ms
		start := time.Now()
		for range 5 {
			require.NoError(t, g.Admit(ctx, "http://partner.test", 1))
		}
		assert.GreaterOrEqual(t, time.Since(start), 4*g.ceiling.period, "5 slots are 4 periods apart")
	})
	t.Run("ends with the context, the slot kept", func(t *testing.T) {
		g := newGate(t, 1, Shard{})
		require.NoError(t, g.Admit(ctx, "http://partner.test", 1))
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		assert.ErrorIs(t, g.Admit(short, "http://partner.test", 1), context.DeadlineExceeded)
		assert.Less(t, time.Since(start), 900*time.Millisecond, "the wait ends with the context")
		next := g.ceiling.reserve(1)
		assert.GreaterOrEqual(t, time.Until(next), 1500*time.Millisecond, "the abandoned slot is not handed out again")
	})
}

// TestErrorsNameNoFlag: the package says what is wrong; the command line
// adds the flag's name.
func TestErrorsNameNoFlag(t *testing.T) {
	g, err := New(Config{MaxRate: 2, Resolver: fakeResolver{"partner.test": {"192.0.2.10"}}})
	require.NoError(t, err)
	var errs []error
	for _, cfg := range []Config{{MaxRate: math.NaN()}, {MaxRate: 1e-300}, {Shard: Shard{Index: 2, Count: 2}}} {
		_, err := New(cfg)
		errs = append(errs, err)
	}
	errs = append(errs, g.Check("https://api.xone.xcover.com"), g.Admit(context.Background(), "http://partner.test", 3),
		CheckMaxRate(0), ErrProduction, ErrProxied, ErrGroupTooLarge, ErrBadHost)
	for _, err := range errs {
		require.Error(t, err)
		assert.False(t, strings.Contains(err.Error(), "--"), "got %q, want no flag named", err)
	}
}

func TestNewRefusesShard(t *testing.T) {
	for _, sh := range []Shard{{Index: 2, Count: 2}, {Index: -1, Count: 2}, {Count: -1}, {Index: 1}, {Index: 1, Count: 1}} {
		_, err := New(Config{Shard: sh})
		assert.Error(t, err, "shard %v", sh)
	}
	for _, sh := range []Shard{{}, {Count: 1}, {Index: 999, Count: 1000}} {
		_, err := New(Config{Shard: sh})
		assert.NoError(t, err, "shard %v", sh)
	}
}
