package load

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// errStopped is what a request in flight fails with when the run stops before its response.
var errStopped = errors.New("abandoned: the run stopped before the response")

// connTracker stops requests in flight by closing the connections they use. vegeta's requests
// carry no context; binding each one to the run's context (a child context, an AfterFunc on the
// shared parent, a request copy) cost about 3% of a saturated run's CPU, where the tracker costs
// one map entry per connection.
type connTracker struct {
	stopped atomic.Bool
	mu      sync.Mutex
	conns   map[*trackedConn]struct{}
}

func newConnTracker() *connTracker {
	return &connTracker{conns: map[*trackedConn]struct{}{}}
}

// track makes tr dial through t (plain and, when set, custom TLS dials).
func (t *connTracker) track(tr *http.Transport) {
	dial := tr.DialContext
	if dial == nil {
		// http.DefaultTransport's dialer
		dial = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	tr.DialContext = t.dialer(dial)
	if tr.DialTLSContext != nil {
		tr.DialTLSContext = t.dialer(tr.DialTLSContext)
	}
}

func (t *connTracker) dialer(dial func(context.Context, string, string) (net.Conn, error)) func(context.Context, string, string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		tc := &trackedConn{Conn: c, t: t}
		t.mu.Lock()
		if t.stopped.Load() {
			t.mu.Unlock()
			c.Close()
			return nil, errStopped
		}
		t.conns[tc] = struct{}{}
		t.mu.Unlock()
		return tc, nil
	}
}

// stop closes every connection and refuses new ones: requests in flight fail with errStopped.
func (t *connTracker) stop() {
	t.mu.Lock()
	t.stopped.Store(true)
	conns := t.conns
	t.conns = map[*trackedConn]struct{}{}
	t.mu.Unlock()
	for c := range conns {
		c.Conn.Close()
	}
}

// open is the number of connections open.
func (t *connTracker) open() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.conns)
}

// trackedConn is a connection its tracker can close; once stopped, its errors say so.
type trackedConn struct {
	net.Conn
	t *connTracker
}

func (c *trackedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err != nil && c.t.stopped.Load() {
		err = errStopped
	}
	return n, err
}

func (c *trackedConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if err != nil && c.t.stopped.Load() {
		err = errStopped
	}
	return n, err
}

func (c *trackedConn) Close() error {
	c.t.mu.Lock()
	delete(c.t.conns, c)
	c.t.mu.Unlock()
	return c.Conn.Close()
}
