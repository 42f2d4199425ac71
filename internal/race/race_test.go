package race

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xoneharness/xoneharness/internal/egress"
)

// The gate is what callers pass as Conns.
var _ Conns = (*egress.Gate)(nil)

// maxTail bounds the spread of one group on loopback: the median stays well
// under 1 ms, but on a shared 2-core machine under the race detector the
// scheduler sometimes holds the writing goroutine for a few milliseconds.
const maxTail = 50 * time.Millisecond

// arrivals is a loopback server that records, by its own clock, when each
// request's body had fully arrived, and answers with that time in
// Server-Timing recv (timed) or without it.
type arrivals struct {
	timed bool
	hold  chan struct{} // when set, no answer until it closes or the client leaves
	onArr func(n int)   // when set, called with the number of arrivals so far

	mu     sync.Mutex
	at     []time.Time
	bodies []string
}

func (a *arrivals) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	now := time.Now()
	a.mu.Lock()
	a.at, a.bodies = append(a.at, now), append(a.bodies, string(body))
	n := len(a.at)
	a.mu.Unlock()
	if a.onArr != nil {
		a.onArr(n)
	}
	if a.hold != nil {
		select {
		case <-a.hold:
		case <-r.Context().Done():
			return
		}
	}
	if a.timed {
		w.Header().Set("Server-Timing", `recv;desc="`+strconv.FormatInt(now.UnixMicro(), 10)+`", app;dur=0.1`)
	}
	_, _ = io.WriteString(w, `{"data":{"id":"B1"}}`)
}

// spread is the server's own arrival spread.
func (a *arrivals) spread() time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.MaxFunc(a.at, time.Time.Compare).Sub(slices.MinFunc(a.at, time.Time.Compare))
}

func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL + "/confirm"
}

// fakeConns dials directly and records Admit; the dial numbered failAt (from
// 1) fails with connErr.
type fakeConns struct {
	connErr  error
	failAt   int32
	admitErr error

	dials  atomic.Int32
	mu     sync.Mutex
	admits []int
	opened []net.Conn
}

func (f *fakeConns) Conn(ctx context.Context, rawURL string) (net.Conn, error) {
	if n := f.dials.Add(1); f.connErr != nil && (f.failAt == 0 || n == f.failAt) {
		return nil, f.connErr
	}
	c, err := Direct(nil).Conn(ctx, rawURL)
	if err == nil {
		f.mu.Lock()
		f.opened = append(f.opened, c)
		f.mu.Unlock()
	}
	return c, err
}

func (f *fakeConns) Admit(_ context.Context, _ string, n int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.admits = append(f.admits, n)
	return f.admitErr
}

// allClosed reports whether every connection the fake opened is closed: a
// write to it fails.
func (f *fakeConns) allClosed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.opened {
		if _, err := c.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
			return false
		}
	}
	return true
}

func request(url string) Request {
	return Request{URL: url, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{"quotes":[{"id":"Q"}]}`)}
}

// TestSendLastByte: every send of a group arrives whole, by the server's own
// clock within maxTail of the others, its final writes within 1 ms (the
// median of 10 groups), is admitted as one group, and the outcome's figures agree with the server's:
// Server-Timing spread when the server sends it, none otherwise.
func TestSendLastByte(t *testing.T) {
	for _, timed := range []bool{true, false} {
		t.Run(fmt.Sprintf("server-timing=%v", timed), func(t *testing.T) {
			var spreads, server []time.Duration
			for range 10 {
				a := &arrivals{timed: timed}
				url := serve(t, a)
				conns := &fakeConns{}
				g, err := Open(context.Background(), conns, nil, url, 5)
				require.NoError(t, err)
				assert.Empty(t, g.fallback)
				out := g.Send(context.Background(), request(url), 5*time.Second)
				require.Len(t, out.Attempts, 5)
				for i, at := range out.Attempts {
					require.NoError(t, at.Err, "attempt %d", i)
					assert.Equal(t, http.StatusOK, at.Response.StatusCode)
					assert.JSONEq(t, `{"data":{"id":"B1"}}`, string(at.Body))
					assert.False(t, at.Sent.IsZero())
					assert.Equal(t, timed, at.ServerRecv != 0)
				}
				assert.Equal(t, []int{5}, conns.admits, "one admission for the group")
				assert.Equal(t, slices.Repeat([]string{`{"quotes":[{"id":"Q"}]}`}, 5), a.bodies, "every body arrived whole")
				assert.Less(t, a.spread(), maxTail, "server arrival spread")
				assert.Less(t, out.Spread, maxTail)
				assert.GreaterOrEqual(t, out.Duration, out.Spread)
				assert.Equal(t, timed, out.ServerTimed)
				if timed {
					assert.InDelta(t, a.spread().Microseconds(), out.ServerSpread.Microseconds(), 1, "got %s, want the server's %s", out.ServerSpread, a.spread())
				}
				assert.True(t, conns.allClosed(), "Send closes the group's connections")
				spreads, server = append(spreads, out.Spread), append(server, a.spread())
			}
			slices.Sort(spreads)
			slices.Sort(server)
			t.Logf("final writes: median %s, max %s; server arrivals: median %s, max %s",
				spreads[len(spreads)/2], spreads[len(spreads)-1], server[len(server)/2], server[len(server)-1])
			assert.Less(t, spreads[len(spreads)/2], time.Millisecond, "median spread of the final writes")
		})
	}
}

// TestOpen: a proxy in the way makes a barrier group of ordinary requests
// through the client (no admission: the client's ceiling paces them); a
// failed connection or a refused admission leaves nothing open and nothing
// sent, and says why.
func TestOpen(t *testing.T) {
	t.Run("proxied", func(t *testing.T) {
		a := &arrivals{timed: true}
		url := serve(t, a)
		conns := &fakeConns{connErr: fmt.Errorf("egress: connect 127.0.0.1: %w", egress.ErrProxied)}
		g, err := Open(context.Background(), conns, http.DefaultClient, url, 4)
		require.NoError(t, err)
		assert.Contains(t, g.fallback, "4 ordinary requests released by a barrier")
		out := g.Send(context.Background(), request(url), time.Second)
		assert.Equal(t, g.fallback, out.Fallback)
		require.Len(t, out.Attempts, 4)
		for _, at := range out.Attempts {
			require.NoError(t, at.Err)
			assert.Equal(t, http.StatusOK, at.Response.StatusCode)
		}
		assert.Len(t, a.bodies, 4)
		assert.True(t, out.ServerTimed)
		assert.Empty(t, conns.admits)
	})
	tests := []struct {
		name  string
		conns *fakeConns
		is    error
		says  string
	}{
		{"connection-refused", &fakeConns{connErr: errors.New("connect: connection refused"), failAt: 3}, nil, "race: open 5 connections: connect: connection refused"},
		{"group-too-large", &fakeConns{admitErr: fmt.Errorf("egress: admit 5 sends at once: %w (at most 2)", egress.ErrGroupTooLarge)}, egress.ErrGroupTooLarge, "race: rate ceiling: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &arrivals{}
			url := serve(t, a)
			g, err := Open(context.Background(), tt.conns, http.DefaultClient, url, 5)
			require.Error(t, err)
			assert.Nil(t, g)
			assert.Contains(t, err.Error(), tt.says)
			if tt.is != nil {
				assert.ErrorIs(t, err, tt.is)
			}
			assert.True(t, tt.conns.allClosed(), "no connection left open")
			assert.Empty(t, a.bodies, "nothing sent")
		})
	}
}

// TestSendCancelled: ctx ending while the target holds its answers cuts
// every read short; each send was written (it may have reached the target)
// and has an error instead of an answer.
func TestSendCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := &arrivals{hold: make(chan struct{}), onArr: func(n int) {
		if n == 3 {
			cancel() // once the whole group has arrived
		}
	}}
	defer close(a.hold)
	url := serve(t, a)
	g, err := Open(context.Background(), Direct(nil), nil, url, 3)
	require.NoError(t, err)
	began := time.Now()
	out := g.Send(ctx, request(url), 30*time.Second)
	assert.Less(t, time.Since(began), 10*time.Second, "the cancellation, not the timeout, ended the wait")
	for i, at := range out.Attempts {
		assert.Error(t, at.Err, "attempt %d", i)
		assert.Nil(t, at.Response)
		assert.False(t, at.Sent.IsZero(), "attempt %d was written", i)
	}
	assert.False(t, out.ServerTimed)
}

func TestServerRecv(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		want   int64
	}{
		{"sandbox", []string{`recv;desc="1733523296123456", app;dur=0.412`}, 1733523296123456},
		{"second-metric", []string{`cfL4;desc="?proto=TCP&rtt=1", recv;desc="17"`}, 17},
		{"second-header", []string{`app;dur=1`, `recv;desc=42`}, 42},
		{"cloudflare-recv-inside-desc", []string{`cfL4;desc="?proto=TCP&rtt=10374&sent=5&recv=6&lost=0"`}, 0},
		{"other-metric", []string{`received;desc="5"`}, 0},
		{"absent", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tt.values {
				h.Add("Server-Timing", v)
			}
			assert.Equal(t, tt.want, ServerRecv(h))
		})
	}
}
