package egress

import (
	"context"
	"math"
	"sync"
	"time"
)

// ceiling is a hard limit on sends: at most n sends in any window of length
// window, wherever the window starts. For a rate r >= 1 per second that is
// floor(r) sends per second; for r < 1 one send per 1/r seconds. The limit
// is on the moments the gate lets requests go; the far side sees them with
// the network's jitter (a new connection's handshake delays a send more than
// a reused connection does).
//
// Each send reserves a slot: the n-th previous reservation plus the window,
// or now if that is past. Reservations are handed out in order, so any
// window holds at most n of them. A waiter that gives up keeps its slot (the
// ceiling only ever errs on the side of fewer sends).
type ceiling struct {
	window time.Duration
	now    func() time.Time

	mu   sync.Mutex
	ring []time.Time // the last n reservations, oldest at next
	next int
}

func newCeiling(rate float64, now func() time.Time) *ceiling {
	n, window := int(math.Floor(rate)), time.Second
	if n < 1 {
		n, window = 1, time.Duration(float64(time.Second)/rate)
	}
	return &ceiling{window: window, now: now, ring: make([]time.Time, n)}
}

// reserve returns the time at which the caller may send.
func (c *ceiling) reserve() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.now()
	if old := c.ring[c.next]; !old.IsZero() {
		if free := old.Add(c.window); free.After(t) {
			t = free
		}
	}
	c.ring[c.next] = t
	c.next++
	if c.next == len(c.ring) {
		c.next = 0
	}
	return t
}

// wait blocks until a send is allowed, or until ctx or stop ends (stop may be
// nil), and returns the cause in that case.
func (c *ceiling) wait(ctx, stop context.Context) error {
	d := c.reserve().Sub(c.now())
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
