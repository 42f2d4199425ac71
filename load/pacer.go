package load

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// runPacer is the vegeta.Pacer of a run: it paces a schedule, shifts the rest
// of it by Retry-After pauses, stops at the run's bounds, and remembers every
// shift for the intended send times. Unlike vegeta's pacers, Pace blocks
// until the next request is due: vegeta's own sleep cannot be interrupted,
// so a long pause or a slow ramp would otherwise delay Stop and Ctrl-C.
type runPacer struct {
	sched    schedule
	duration time.Duration
	maxReq   uint64 // 0: no limit
	feedCap  int64  // -1: unbounded
	stopCh   <-chan struct{}
	onStop   func(reason string)

	start  time.Time // set by the first Pace; read after results arrive
	timer  *time.Timer
	wake   chan struct{}
	shifts atomic.Pointer[[]shiftPoint]
	late   atomic.Bool // the last send due left more than lateThreshold after its time

	mu           sync.Mutex
	shift        time.Duration // current total shift
	pauseStart   time.Duration // offsets from start
	pausedUntil  time.Duration
	appliedUntil time.Duration
}

// shiftPoint: requests from from on are shifted by shift.
type shiftPoint struct {
	from  uint64
	shift time.Duration
}

func newRunPacer(sched schedule, duration time.Duration, maxReq uint64, feedCap int64, stop <-chan struct{}, onStop func(string)) *runPacer {
	p := &runPacer{sched: sched, duration: duration, maxReq: maxReq, feedCap: feedCap, stopCh: stop, onStop: onStop,
		wake: make(chan struct{}, 1)}
	p.shifts.Store(&[]shiftPoint{})
	return p
}

// Pace implements vegeta.Pacer.
func (p *runPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if p.start.IsZero() {
		p.start = time.Now().Add(-elapsed)
	}
	switch {
	case p.maxReq > 0 && hits >= p.maxReq:
		p.onStop(stopMaxRequests)
		return 0, true
	case p.feedCap >= 0 && hits >= uint64(p.feedCap):
		p.onStop(stopExhausted)
		return 0, true
	}
	base, ok := p.sched.offset(hits)
	if !ok {
		p.onStop(stopCompleted)
		return 0, true
	}
	for {
		at := base + p.applyPauses(hits, base)
		now := time.Since(p.start)
		switch {
		case at >= p.duration:
			p.onStop(stopCompleted)
			return 0, true
		case now >= p.duration+min(max(p.duration/10, time.Second), time.Minute):
			// Far behind (a tenth of the duration, 1 s to 1 min, past its end):
			// the rest of the plan is not sent, and the run says so rather than
			// calling itself complete at a lower rate.
			p.onStop(stopBehind)
			return 0, true
		}
		if at <= now {
			p.late.Store(now-at > lateThreshold)
			return 0, false
		}
		p.late.Store(false)
		if p.timer == nil {
			p.timer = time.NewTimer(at - now)
		} else {
			p.timer.Reset(at - now)
		}
		select {
		case <-p.timer.C:
		case <-p.wake: // a pause arrived: recompute
			p.timer.Stop()
		case <-p.stopCh:
			p.timer.Stop()
			return 0, true
		}
	}
}

// applyPauses folds a pending pause into the shift from request hits on.
func (p *runPacer) applyPauses(hits uint64, base time.Duration) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pausedUntil > p.appliedUntil {
		from := max(base+p.shift, p.pauseStart, p.appliedUntil)
		if p.pausedUntil > from {
			p.shift += p.pausedUntil - from
			old := *p.shifts.Load()
			pts := append(old[:len(old):len(old)], shiftPoint{from: hits, shift: p.shift})
			if n := len(pts); n >= 2 && pts[n-2].from == hits {
				pts = append(pts[:n-2], pts[n-1])
			}
			p.shifts.Store(&pts)
		}
		p.appliedUntil = p.pausedUntil
	}
	return p.shift
}

// pause holds the schedule until until (a Retry-After received at now),
// reporting whether this opens a new window and how much it added.
func (p *runPacer) pause(now, until time.Time) (newWindow bool, added time.Duration) {
	if p.start.IsZero() {
		return false, 0
	}
	u, n := until.Sub(p.start), now.Sub(p.start)
	p.mu.Lock()
	switch {
	case u <= p.pausedUntil:
	case p.pausedUntil < n:
		p.pauseStart, p.pausedUntil = n, u
		newWindow, added = true, u-n
	default:
		added = u - p.pausedUntil
		p.pausedUntil = u
	}
	p.mu.Unlock()
	if added > 0 {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
	return newWindow, added
}

func (p *runPacer) intended(seq uint64, fallback time.Time) time.Time {
	base, ok := p.sched.offset(seq)
	if !ok || p.start.IsZero() {
		return fallback
	}
	pts := *p.shifts.Load()
	i := sort.Search(len(pts), func(i int) bool { return pts[i].from > seq }) - 1
	if i >= 0 {
		base += pts[i].shift
	}
	return p.start.Add(base)
}

// Rate implements vegeta.Pacer.
func (p *runPacer) Rate(elapsed time.Duration) float64 { return p.sched.rate(elapsed) }

// maxRetryAfter caps one Retry-After pause: a run stays bounded.
const maxRetryAfter = time.Minute

// parseRetryAfter parses Retry-After delay-seconds or an HTTP-date (RFC 9110
// §10.2.3) into a delay in [0, maxRetryAfter]; false when v is neither.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v != "" && strings.Trim(v, "0123456789") == "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n > uint64(maxRetryAfter/time.Second) {
			return maxRetryAfter, true // all digits but huge: cap
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return min(max(t.Sub(now), 0), maxRetryAfter), true
}
