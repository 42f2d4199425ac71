package egress

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/url"
	"sync"
	"time"
)

// MaxClockSkew is the largest difference between two shards' clocks (the
// delay between a send's release and its arrival included) under which a
// sharded ceiling holds exactly; every sharded slot carries it as a guard.
const MaxClockSkew = 25 * time.Millisecond

// maxPeriod bounds a shard's period (the time between two of its slots), so
// that slot instants stay within time.Duration and Unix nanoseconds.
const maxPeriod = float64(1 << 62)

// Shard is one process's part of a job split across Count processes, Index
// in [0, Count). The zero value and Count 1 mean not sharded.
type Shard struct{ Index, Count int }

// ErrGroupTooLarge is returned (wrapped) by Admit for a group of sends the
// rate ceiling can never release together.
var ErrGroupTooLarge = errors.New("group too large for the rate ceiling")

// ceiling is the rate ceiling of the package doc: at most n sends in any
// window of length w ((floor(rate), 1 s), or (1, 1/rate) below 1/s), one per
// slot of (w+guard)/n. Unsharded (guard 0), a slot starts where the previous
// one ended, on the monotonic clock. Sharded over N, slot k of a grid of Unix
// time belongs to shard k mod N and guard = MaxClockSkew: sends in slots d
// apart are then at least d*slot - skew apart in true time, so the sends of
// any window of w lie in n consecutive slots, which hold at least floor(n/N)
// of a shard's: the largest group. A group of m sends reserves 2m-1 of the
// gate's slots, its instant in the middle one.
type ceiling struct {
	period  time.Duration // between two slots of this gate
	phase   int64         // sharded: Unix ns of the shard's slot 0
	sharded bool
	group   int // largest group: slots a window of w holds for this gate
	now     func() time.Time

	mu   sync.Mutex
	last time.Time // the last slot reserved
}

func newCeiling(rate float64, sh Shard, now func() time.Time) (*ceiling, error) {
	n, window := math.Floor(rate), float64(time.Second)
	if n < 1 {
		n, window = 1, float64(time.Second)/rate
	}
	count, guard := max(sh.Count, 1), 0.0
	if count > 1 {
		guard = float64(MaxClockSkew)
	}
	slot := math.Ceil((window + guard) / n)
	if slot*float64(count) > maxPeriod {
		return nil, fmt.Errorf("%g sends per second: one send per %.3g s is too slow to schedule", rate, slot*float64(count)/1e9)
	}
	period := time.Duration(slot) * time.Duration(count)
	return &ceiling{
		period:  period,
		phase:   int64(slot) * int64(sh.Index),
		sharded: count > 1,
		group:   max(1, int(n)/count),
		now:     now,
		last:    now().Add(-period), // as if a slot had just ended: a restarted shard's past counts as used
	}, nil
}

// reserve returns the instant at which a group of m sends (1 <= m <=
// c.group) may leave together.
func (c *ceiling) reserve(m int) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.now()
	// m-1 unused slots before the instant, none of them reserved before.
	if free := c.last.Add(time.Duration(m) * c.period); free.After(t) {
		t = free
	}
	if c.sharded { // the shard's first grid slot at or after t
		p := int64(c.period)
		k := (t.UnixNano() - c.phase) / p
		if c.phase+k*p < t.UnixNano() {
			k++
		}
		t = time.Unix(0, c.phase+k*p)
	}
	c.last = t.Add(time.Duration(m-1) * c.period) // m-1 slots after it
	return t
}

// wait blocks until a group of m sends may leave, or until ctx or stop ends
// (stop may be nil), and returns the cause in that case.
func (c *ceiling) wait(ctx, stop context.Context, m int) error {
	d := c.reserve(m).Sub(c.now())
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	var stopped <-chan struct{}
	if stop != nil {
		stopped = stop.Done()
	}
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-stopped:
		return context.Cause(stop)
	}
}

// MaxGroup is the largest group of sends Admit releases together to a route
// that is not loopback: floor(MaxRate)/Count sends for a gate of shard I/Count
// (floor(MaxRate) unsharded), and at least 1.
func (g *Gate) MaxGroup() int { return g.ceiling.group }

// Admit counts n sends to rawURL's route against the rate ceiling as one
// group (2n-1 slots, see the package doc) and returns when all n may leave at
// the same instant; for a loopback route, at once. It fails for a URL the
// gate refuses, for n < 1, for n above MaxGroup (wrapping ErrGroupTooLarge),
// and when ctx ends first (the slots stay reserved). Safe for concurrent use.
func (g *Gate) Admit(ctx context.Context, rawURL string, n int) error {
	u, err := parseURL(rawURL)
	if err != nil {
		return err
	}
	if n < 1 {
		return fmt.Errorf("egress: admit: want a group of at least 1 send, got %d", n)
	}
	r, err := g.route(ctx, u)
	if err != nil || r.loopback {
		return err
	}
	if n > g.ceiling.group {
		why := fmt.Sprintf("at most %d at %g sends per second", g.ceiling.group, g.cfg.MaxRate)
		if g.ceiling.sharded {
			why += fmt.Sprintf(" shared by %d shards", g.cfg.Shard.Count)
		}
		return fmt.Errorf("egress: admit %d sends at once: %w (%s)", n, ErrGroupTooLarge, why)
	}
	if err := g.ceiling.wait(ctx, nil, n); err != nil {
		return fmt.Errorf("egress: waiting for the rate ceiling: %w", err)
	}
	return nil
}

// parseURL parses an absolute http(s) URL with a host. The error does not
// repeat the URL (it may hold credentials).
func parseURL(rawURL string) (*url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("egress: want an absolute http(s) URL with a host")
	}
	return u, nil
}
